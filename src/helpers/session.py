"""What the setup cell of every chapter notebook calls: ``ctx = session.open(...)``.

A :class:`Session` holds the config, the cleaned dataset and the chapter results. A notebook asks
``ctx.result("actions")`` and gets the same immutable result in both modes:

- **Report** (``work_dir`` set by the pipeline): the dataset and the results were computed once by
  the pipeline (:func:`helpers.chapters.compute_all`) and stored in the client's work folder; the
  session reads them.
- **JupyterLab** (``work_dir=None``): the session loads the client file and computes the requested
  result and its dependencies with the same compute functions, once per session.

No notebook branches on the mode.
"""

from __future__ import annotations

import json
import pickle
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from . import chapters
from .config import ReportConfig
from .dataset import Dataset

RESULTS_SUBDIR = "results"


class Session:
    """Config, dataset and chapter results of one client (see module docstring)."""

    def __init__(self, cfg: ReportConfig, ds: Dataset, work_dir: Path | None = None) -> None:
        self.cfg = cfg
        self.ds = ds
        self.work_dir = Path(work_dir) if work_dir is not None else None
        self._results: dict[str, Any] = {}

    def result(self, slug: str) -> Any:
        """The chapter result ``slug`` (stored by the report, or computed once with its dependencies)."""
        if slug not in self._results:
            stored = _result_path(self.work_dir, slug) if self.work_dir is not None else None
            if stored is not None and stored.exists():
                with stored.open("rb") as fh:
                    self._results[slug] = pickle.load(fh)
            else:
                for dep in chapters.by_slug(slug).depends:
                    self.result(dep)
                self._results[slug] = chapters.compute_chapter(slug, self.ds, self.cfg, self._results)
        return self._results[slug]

    @cached_property
    def audience(self) -> str:
        """``"b2c"`` or ``"b2b"``: who the report speaks to (setting or detected from the data, the same
        decision the action plan makes; cheap, no chapter is computed for it)."""
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
    if work_dir is not None:
        ds = read_prepared(Path(work_dir))
    else:
        from .data import load_dataset

        ds = load_dataset(Path(data_path), cfg)
    fmt.set_currency(ds.currency)
    return Session(cfg, ds, work_dir)


def _result_path(work_dir: Path, slug: str) -> Path:
    return work_dir / RESULTS_SUBDIR / f"{slug}.pkl"


def write_results(results: Mapping[str, Any], work_dir: Path) -> None:
    """Store chapter results (pickle, trusted local files of this run) for the notebooks."""
    out = work_dir / RESULTS_SUBDIR
    out.mkdir(parents=True, exist_ok=True)
    for slug, res in results.items():
        with _result_path(work_dir, slug).open("wb") as fh:
            pickle.dump(res, fh, protocol=pickle.HIGHEST_PROTOCOL)


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


def read_prepared(work_dir: Path) -> Dataset:
    """Inverse of :func:`write_prepared`."""
    meta = json.loads((work_dir / "dataset.json").read_text("utf-8"))
    tx = pd.read_parquet(work_dir / "transactions.parquet")
    ledger = None
    ledger_file = work_dir / "ledger.json"
    if ledger_file.exists():
        from .validation import Ledger

        ledger = Ledger.from_dict(json.loads(ledger_file.read_text("utf-8")))
    ds = Dataset(
        transactions=tx,
        observation_end=pd.Timestamp(meta["observation_end"]),
        ledger=ledger,
        source_name=meta.get("source_name", ""),
        notes=list(meta.get("notes", [])),
        sources=dict(meta.get("sources", {})),
        currency=meta.get("currency", "EUR"),
        currency_source=dict(meta.get("currency_source", {})),
    )
    for name in ("purchases", "customers"):  # fill the cached properties
        path = work_dir / f"{name}.parquet"
        if path.exists():
            ds.__dict__[name] = pd.read_parquet(path)
    return ds
