"""What the setup cell of every chapter notebook calls: ``ctx = session.open(...)``.

A :class:`Session` holds the config, the cleaned dataset and the chapter results. A notebook asks
``ctx.result("actions")`` and gets the same immutable result in both modes:

- **Report** (``work_dir`` set by the pipeline): the dataset and the results were computed once by
  the pipeline (:func:`helpers.chapters.compute_all`) and stored in the client's work folder; the
  session reads them.
- **JupyterLab** (``work_dir=None``): the session loads the client file and computes the requested
  result and its dependencies with the same compute functions, once per session.

No notebook branches on the mode.

**Lab cache.** In JupyterLab mode the cleaned dataset and every computed result are also kept on
disk (:class:`LabCache`, folder ``.kundenwert-cache/`` in the working directory, i.e. next to the
notebooks; git-ignored – it holds client data). The entry's key is the SHA-256 of the data file's
bytes, the effective settings, the run date and the code (a hash of the ``helpers`` sources and the
versions of Python and the analysis libraries), so a second notebook or a restarted kernel loads in
a fraction of a second what took seconds to compute, and any change recomputes. Results are stored
with the id of the dataset they were computed on (pseudonyms are random per loaded dataset), so a
result is only used together with its dataset. Unreadable or old entries are ignored and rebuilt.
``python -m helpers.session warm`` fills the cache for the notebooks' default parameters
(``make lab`` runs it before JupyterLab starts). ``KUNDENWERT_CACHE`` sets another folder, ``0``
switches the cache off. The report (``work_dir`` set) never uses it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import pickle
import shutil
import sys
import tempfile
import time
import uuid
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from . import chapters
from .config import ReportConfig
from .dataset import Dataset

RESULTS_SUBDIR = "results"
CACHE_DIR_NAME = ".kundenwert-cache"
CACHE_ENV = "KUNDENWERT_CACHE"
"""Environment variable: folder of the lab cache, or ``0``/``aus``/``off`` to switch it off."""
CACHE_FORMAT = 1
CACHE_KEEP_DAYS = 14
"""Cache entries not used for this many days are deleted (client data is not kept longer than needed)."""
_CACHE_LIBRARIES = ("numpy", "pandas", "scipy", "scikit-learn", "lifetimes", "pyarrow")
log = logging.getLogger(__name__)


class Session:
    """Config, dataset and chapter results of one client (see module docstring)."""

    def __init__(self, cfg: ReportConfig, ds: Dataset, work_dir: Path | None = None,
                 cache: "LabCache | None" = None) -> None:
        self.cfg = cfg
        self.ds = ds
        self.work_dir = Path(work_dir) if work_dir is not None else None
        self.cache = cache if work_dir is None else None
        self._results: dict[str, Any] = {}

    def result(self, slug: str) -> Any:
        """The chapter result ``slug`` (stored by the report, from the lab cache, or computed once with
        its dependencies)."""
        if slug not in self._results:
            stored = _result_path(self.work_dir, slug) if self.work_dir is not None else None
            cached = self.cache.load_result(slug) if self.cache is not None else None
            if stored is not None and stored.exists():
                self._results[slug] = read_result(self.work_dir, slug)
            elif cached is not None:
                self._results[slug] = cached
            else:
                for dep in chapters.by_slug(slug).depends:
                    self.result(dep)
                self._results[slug] = chapters.compute_chapter(slug, self.ds, self.cfg, self._results)
                if self.cache is not None:
                    self.cache.store_result(slug, self._results[slug])
        return self._results[slug]

    @cached_property
    def audience(self) -> str:
        """``"b2c"`` or ``"b2b"``: who the report speaks to (setting or detected from the data, the same
        decision the action plan makes; no chapter is computed for it). In the report it was decided
        once by the pipeline (:func:`write_audience`), so no chapter reads the lines for it."""
        stored = self.work_dir / AUDIENCE_FILE if self.work_dir is not None else None
        if stored is not None and stored.exists():
            return json.loads(stored.read_text("utf-8"))["audience"]
        from .analysis.actions import decide_audience

        return decide_audience(self.ds, self.cfg).audience

    def __repr__(self) -> str:
        mode = f"Bericht ({self.work_dir})" if self.work_dir else "interaktiv"
        return f"Session({self.cfg.client_name!r}, {mode}, Ergebnisse: {sorted(self._results)})"


def open(  # noqa: A001 - the natural name for "open a client's session"
    data_path: str | Path,
    client_name: str | None = None,
    settings: Mapping[str, Any] | None = None,
    *,
    work_dir: str | Path | None = None,
) -> Session:
    """Build the config from the notebook parameters, apply the chart style, return the session.

    ``settings`` are the client's overrides in the form :meth:`ReportConfig.from_settings` takes
    (flat ``"section.field"`` keys or nested sections). ``work_dir`` is set by the report pipeline.
    Sets the session's money format to the data's currency (``fmt.set_currency(ds.currency)``), so
    every ``fmt.money``/``fmt.eur``, chart axis and table of the notebook shows it.
    """
    from . import fmt
    from .plotting import use_style

    cfg = ReportConfig.from_settings(client_name, settings)
    use_style()
    cache = None
    if work_dir is not None:
        ds = read_prepared(Path(work_dir))
    else:
        limit_threads()
        cache = LabCache.open(Path(data_path), cfg)
        ds = cache.load_dataset() if cache is not None else None
        if ds is None:
            from .data import load_dataset

            ds = load_dataset(Path(data_path), cfg)
            if cache is not None:
                cache.store_dataset(ds)
    fmt.set_currency(ds.currency)
    return Session(cfg, ds, work_dir, cache=cache)


NOTEBOOK_THREADS = 1
"""OpenMP/BLAS threads in a JupyterLab session (as ``helpers.analysis.churn.THREADS``): the course's
models are small, and on a laptop or shared machine more threads make scikit-learn's gradient
boosting many times slower (threads spin-waiting for each other), not faster."""


def limit_threads(threads: int = NOTEBOOK_THREADS) -> None:
    """Limit OpenMP/BLAS threads for the models students fit in the notebook: the environment for
    libraries loaded later (scikit-learn's OpenMP), threadpoolctl for those already loaded. An
    explicit ``OMP_NUM_THREADS`` of the user is kept."""
    if "OMP_NUM_THREADS" in os.environ:
        return
    os.environ["OMP_NUM_THREADS"] = str(threads)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
    except Exception:  # pragma: no cover - threadpoolctl ships with scikit-learn
        pass


# --------------------------------------------------------------------------- lab cache


def cache_dir() -> Path | None:
    """Folder of the lab cache (``KUNDENWERT_CACHE`` or ``./.kundenwert-cache``); ``None`` = off."""
    value = os.environ.get(CACHE_ENV, "").strip()
    if value.lower() in ("0", "aus", "off", "false", "nein"):
        return None
    return Path(value) if value else Path.cwd() / CACHE_DIR_NAME


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_CODE_VERSION: str | None = None


def code_version() -> str:
    """Hash of everything that changes a result besides data and settings: the ``helpers`` sources,
    the Python version and the versions of the analysis libraries."""
    global _CODE_VERSION
    if _CODE_VERSION is None:
        from importlib import metadata

        digest = hashlib.sha256(f"{CACHE_FORMAT} {sys.version}".encode())
        for lib in _CACHE_LIBRARIES:
            try:
                digest.update(f"{lib}={metadata.version(lib)}".encode())
            except metadata.PackageNotFoundError:
                digest.update(f"{lib}=-".encode())
        package = Path(__file__).resolve().parent
        for file in sorted(package.rglob("*.py")):
            digest.update(str(file.relative_to(package)).encode() + b"\0" + file.read_bytes())
        _CODE_VERSION = digest.hexdigest()
    return _CODE_VERSION


def settings_fingerprint(cfg: ReportConfig) -> str:
    """The effective settings (the whole config, defaults included) as stable text."""
    try:
        return json.dumps(dataclasses.asdict(cfg), sort_keys=True, default=repr, ensure_ascii=False)
    except Exception:  # pragma: no cover - a config field asdict cannot copy
        return repr(cfg)


class LabCache:
    """Dataset and chapter results of one (data file, settings, run date, code) on disk (module docstring).

    Every file holds ``(dataset id, object)``; a result is only returned when its dataset id is the
    one of the dataset this cache entry handed out or stored. Reading and writing never fail the
    notebook: a broken or foreign file is ignored (and overwritten), a write error is logged.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.dataset_id: str | None = None

    @classmethod
    def open(cls, data_path: Path, cfg: ReportConfig, root: Path | None = None) -> "LabCache | None":
        """The cache entry for ``data_path`` read with ``cfg`` (``None`` when off or not a file)."""
        root = root if root is not None else cache_dir()
        if root is None or not data_path.is_file():
            return None
        try:
            today = getattr(cfg, "report_date", None) or dt.date.today()
            key = hashlib.sha256("\n".join([
                _file_sha256(data_path), settings_fingerprint(cfg), str(today), code_version(),
            ]).encode()).hexdigest()
        except OSError:
            return None
        return cls(root / key[:32])

    def _path(self, name: str) -> Path:
        return self.folder / f"{name}.pkl"

    def _read(self, name: str) -> tuple[str, Any] | None:
        path = self._path(name)
        try:
            with path.open("rb") as fh:
                entry = pickle.load(fh)
            if isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], str):
                os.utime(self.folder)  # last use, for clean-up
                return entry
        except FileNotFoundError:
            return None
        except Exception as exc:  # corrupt, truncated, from other code: recompute
            log.info("Zwischenspeicher %s unbrauchbar (%s), wird neu berechnet", path, exc)
        return None

    def _write(self, name: str, obj: Any) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _clean_up(self.folder.parent, keep=self.folder)
            with tempfile.NamedTemporaryFile("wb", dir=self.folder, suffix=".tmp", delete=False) as fh:
                pickle.dump((self.dataset_id, obj), fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(fh.name, self._path(name))
        except Exception as exc:  # a full disk or an unpicklable object must not stop the notebook
            log.warning("Zwischenspeicher %s nicht geschrieben: %s", self._path(name), exc)
            try:
                os.unlink(fh.name)
            except Exception:
                pass

    def load_dataset(self) -> Dataset | None:
        entry = self._read("dataset")
        if entry is None or not isinstance(entry[1], Dataset):
            return None
        self.dataset_id = entry[0]
        return entry[1]

    def store_dataset(self, ds: Dataset) -> None:
        """Store a freshly loaded dataset; results of any other dataset are no longer used."""
        self.dataset_id = uuid.uuid4().hex
        self._write("dataset", ds)

    def load_result(self, slug: str) -> Any | None:
        entry = self._read(slug)
        if entry is None or self.dataset_id is None or entry[0] != self.dataset_id:
            return None
        return entry[1]

    def store_result(self, slug: str, result: Any) -> None:
        if self.dataset_id is not None:
            self._write(slug, result)


def _clean_up(root: Path, keep: Path, days: int = CACHE_KEEP_DAYS) -> None:
    """Delete cache entries under ``root`` not used for ``days`` days (never ``keep``)."""
    limit = time.time() - days * 86400
    for entry in root.iterdir():
        try:
            if entry.is_dir() and entry != keep and entry.stat().st_mtime < limit:
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            pass


def default_parameters(notebook_dir: Path) -> list[dict[str, Any]]:
    """The distinct default parameters (``data_path``, ``client_name``, ``settings``) of the chapter
    notebooks in ``notebook_dir``."""
    import nbformat

    from .course import parameter_values

    found: list[dict[str, Any]] = []
    for chapter in chapters.CHAPTERS:
        path = notebook_dir / chapter.notebook
        if not path.is_file():
            continue
        values = parameter_values(nbformat.read(path, as_version=4))
        params = {k: values.get(k) for k in ("data_path", "client_name", "settings")}
        if isinstance(params["data_path"], str) and params not in found:
            found.append(params)
    return found


def warm(notebook_dir: Path, slugs: Iterable[str] | None = None, progress=print) -> int:
    """Fill the lab cache for the notebooks' default parameters, as JupyterLab will run them
    (working directory ``notebook_dir``). Returns the number of parameter sets warmed."""
    notebook_dir = Path(notebook_dir).resolve()
    previous = Path.cwd()
    os.chdir(notebook_dir)
    try:
        if cache_dir() is None:
            progress("Zwischenspeicher ausgeschaltet (KUNDENWERT_CACHE=0).")
            return 0
        sets = default_parameters(notebook_dir)
        for params in sets:
            start = time.monotonic()
            ctx = open(params["data_path"], params["client_name"], params["settings"] or {})
            for slug in chapters.dependency_order(slugs):
                ctx.result(slug)
            progress(f"Zwischenspeicher für {params['data_path']} bereit "
                     f"({time.monotonic() - start:.0f} s, {ctx.cache.folder if ctx.cache else 'aus'}).")
        return len(sets)
    finally:
        os.chdir(previous)


def main(argv: Iterable[str] | None = None) -> int:
    import argparse

    from .config import NOTEBOOK_DIR
    from .exceptions import KundenwertError

    parser = argparse.ArgumentParser(prog="python -m helpers.session",
                                     description="Zwischenspeicher der Kapitel-Ergebnisse für JupyterLab.")
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("warm", help="alle Kapitel mit den Standardparametern der Notebooks vorab berechnen")
    w.add_argument("--dir", type=Path, default=NOTEBOOK_DIR, help="Ordner der Notebooks (Standard: notebooks/)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        warm(args.dir)
    except (KundenwertError, OSError) as exc:  # never block the start of JupyterLab
        print(f"Zwischenspeicher nicht gefüllt: {exc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def _result_path(work_dir: Path, slug: str) -> Path:
    return work_dir / RESULTS_SUBDIR / f"{slug}.pkl"


def read_result(work_dir: Path, slug: str) -> Any:
    """A chapter result stored by :func:`write_results`."""
    with _result_path(work_dir, slug).open("rb") as fh:
        return pickle.load(fh)


def write_results(results: Mapping[str, Any], work_dir: Path) -> None:
    """Store chapter results (pickle, trusted local files of this run) for the notebooks."""
    out = work_dir / RESULTS_SUBDIR
    out.mkdir(parents=True, exist_ok=True)
    for slug, res in results.items():  # atomically: a running notebook never reads half a file
        target = _result_path(work_dir, slug)
        tmp = target.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            pickle.dump(res, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, target)


def write_prepared(ds: Dataset, work_dir: Path) -> None:
    """Store the cleaned dataset for the chapter notebooks (Parquet + JSON)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    ds.transactions.to_parquet(work_dir / "transactions.parquet", index=False)
    # Derived tables are computed once here, not again in every chapter.
    ds.purchases.to_parquet(work_dir / "purchases.parquet", index=False)
    ds.customers.to_parquet(work_dir / "customers.parquet")
    meta = {
        "observation_end": ds.observation_end.date().isoformat(),
        "source_name": ds.source_name,
        "notes": list(ds.notes),
        "sources": dict(ds.sources),
        "currency": ds.currency,
        "currency_source": dict(ds.currency_source),
    }
    (work_dir / "dataset.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), "utf-8")
    if ds.ledger is not None:
        (work_dir / "ledger.json").write_text(
            json.dumps(ds.ledger.to_dict(), ensure_ascii=False, indent=2, default=str), "utf-8"
        )


class StoredDataset(Dataset):
    """A :class:`Dataset` read from a report's work folder (:func:`read_prepared`): the lines, the
    purchases and the customers are read from their Parquet files on first use, so a chapter that
    only shows stored results never holds the lines in memory (they are the largest table)."""

    def __init__(self, work_dir: Path, **kwargs: Any) -> None:
        self.__dict__["_work_dir"] = Path(work_dir)
        super().__init__(transactions=None, **kwargs)  # type: ignore[arg-type]

    def _table(self, name: str) -> pd.DataFrame:
        table = self.__dict__.get(f"_{name}")
        if table is None:
            table = pd.read_parquet(self.__dict__["_work_dir"] / f"{name}.parquet")
            self.__dict__[f"_{name}"] = table
        return table

    @property  # type: ignore[override]
    def transactions(self) -> pd.DataFrame:
        return self._table("transactions")

    @transactions.setter
    def transactions(self, value: pd.DataFrame | None) -> None:
        self.__dict__["_transactions"] = value

    @property
    def has_revenue(self) -> bool:
        if self.__dict__.get("_transactions") is not None:
            return "revenue" in self.__dict__["_transactions"].columns
        import pyarrow.parquet as pq

        return "revenue" in pq.read_schema(self.__dict__["_work_dir"] / "transactions.parquet").names

    @property  # type: ignore[override]
    def purchases(self) -> pd.DataFrame:
        return self._table("purchases")

    @property  # type: ignore[override]
    def customers(self) -> pd.DataFrame:
        return self._table("customers")


AUDIENCE_FILE = "audience.json"


def write_audience(audience: str, work_dir: Path) -> None:
    """Store the report's audience (``"b2c"``/``"b2b"``, :func:`helpers.analysis.actions.decide_audience`)
    for the chapter notebooks (:attr:`Session.audience`)."""
    (Path(work_dir) / AUDIENCE_FILE).write_text(json.dumps({"audience": audience}), "utf-8")


def read_prepared(work_dir: Path) -> Dataset:
    """Inverse of :func:`write_prepared` (tables are read on first use, :class:`StoredDataset`)."""
    work_dir = Path(work_dir)
    meta = json.loads((work_dir / "dataset.json").read_text("utf-8"))
    ledger = None
    ledger_file = work_dir / "ledger.json"
    if ledger_file.exists():
        from .validation import Ledger

        ledger = Ledger.from_dict(json.loads(ledger_file.read_text("utf-8")))
    return StoredDataset(
        work_dir,
        observation_end=pd.Timestamp(meta["observation_end"]),
        ledger=ledger,
        source_name=meta.get("source_name", ""),
        notes=list(meta.get("notes", [])),
        sources=dict(meta.get("sources", {})),
        currency=meta.get("currency", "EUR"),
        currency_source=dict(meta.get("currency_source", {})),
    )
