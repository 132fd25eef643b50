"""Reports for many clients in one run: ``kundenwert batch KUNDEN.yaml``.

The batch file (YAML) has shared ``defaults:`` and a ``clients:`` list::

    defaults:
      out: ../reports            # output folder, relative to the YAML file
      engine: auto               # auto | typst | quarto
      map: {}                    # column mapping for all clients
      settings: {gross_margin: 0.3}
    clients:
      - name: Beispiel Onlineshop GmbH
        data: ../data/sample/onlineshop_transaktionen.csv   # relative to the YAML file
        map: {revenue: net_revenue_eur}
        settings: {clv.horizon_months: 6}

``settings`` are read like everywhere else (:func:`helpers.config.client_settings`, nested
sections or ``section.field`` keys); ``map`` (column mapping, like ``--map`` on the command line)
becomes ``data.column_map``. Engines: :data:`helpers.report.render.ENGINES`; folder names:
:func:`helpers.report.slug.client_slug`.

``slug:`` (optional) names the client's folder below ``out``; it must look like a folder name
the program would choose itself (``[a-z0-9-]``, no ``/``, no ``..``), so everything a client
writes stays in ``<out>/<slug>/``. Two entries with the same folder are refused before any run
starts, and so is an entry whose folder already belongs to a different client
(:func:`helpers.report.outdir.check_owner`).

Every client is rendered by :func:`helpers.report.pipeline.build_report` in its own worker
process (``ProcessPoolExecutor``, spawn context), so one client's bad data or a crash fails only
that client. Each client's run holds its folder (:class:`helpers.report.outdir.ClientFolder`:
lock, build into a temporary folder, atomic swap on success). The log goes to
``<out>/<slug>/batch.log``; for a failed client the previous complete result stays untouched
and the log and partial notebooks are in ``<out>/<slug>/fehlgeschlagener-lauf/``.
A client is skipped when its data file content, settings, mapping, engine and the code are
unchanged since its last successful build and the PDF still exists
(``<out>/<slug>/.batch-state.json``); ``--force`` re-renders.

Exit code: 0 when every client is OK or skipped, 2 when clients failed only for reasons the
user can fix (data, settings, folders, disk), 1 when at least one failure is a bug.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import queue as queue_mod
import sys
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from .config import NOTEBOOK_DIR, PROJECT_ROOT, REPORTS_DIR, TEMPLATE_DIR, ReportConfig, client_settings
from .exceptions import ConfigError, KundenwertError, read_yaml, translate_error
from .progress import STATUS_FAILED, STATUS_OK, STATUS_SKIPPED, ProgressDisplay, format_duration
from .report.outdir import FAILED_DIR, ClientFolder, check_out_dir, check_owner, client_dir
from .report.render import ENGINES
from .report.slug import SLUG_PATTERN, client_slug

STATE_FILE = ".batch-state.json"
LOG_FILE = "batch.log"
_DEFAULT_KEYS = {"out", "engine", "map", "settings"}
_CLIENT_KEYS = {"name", "data", "map", "settings", "engine", "slug"}
BATCH_HINT = ("Bitte in der Batch-Datei für diesen Kunden mit „slug:“ einen eigenen Ordnernamen "
              "angeben (z. B. „slug: mueller-soehne-gmbh-berlin“), den Namen eindeutig machen oder "
              "mit --out einen anderen Ausgabeordner wählen.")

BuildFn = Callable[..., Path]
"""``build(data_path, cfg, out_dir, engine=..., progress=..., folder=...) -> pdf_path`` (the pipeline's
contract): build into ``folder.path`` of the entered :class:`ClientFolder` and return the PDF's
final path (``folder.final(...)``); the batch writes its state and commits."""


# ------------------------------------------------------------------------- batch file


@dataclass(frozen=True)
class ClientJob:
    """One client of a batch: everything a worker needs to build its report."""

    name: str
    slug: str
    data_path: Path
    settings: Mapping[str, Any]
    """Flat settings incl. ``data.column_map`` (see :meth:`ReportConfig.from_settings`)."""
    engine: str
    out_dir: Path
    entry: int
    """1-based position in the ``clients:`` list (for messages)."""

    @property
    def client_dir(self) -> Path:
        return self.out_dir / self.slug

    @property
    def log_path(self) -> Path:
        """The log of the last successful run (a failed run's log: ``failed_log_path``)."""
        return self.client_dir / LOG_FILE

    @property
    def failed_log_path(self) -> Path:
        return self.client_dir / FAILED_DIR / LOG_FILE

    @property
    def state_path(self) -> Path:
        return self.client_dir / STATE_FILE


@dataclass
class ClientResult:
    """Outcome of one client: ``status`` is ``OK``, ``Fehler`` or ``übersprungen``; ``duration`` in s."""

    name: str
    slug: str
    status: str
    duration: float | None = None
    pdf: str | None = None
    message: str = ""
    log: str | None = None
    exit_code: int = 0
    """0 for OK/skipped; for ``Fehler`` 2 (the user can fix it) or 1 (a bug)."""


def as_mapping(value: Any, where: str, what: str) -> dict:
    """``value`` as a dict (``None`` -> ``{}``); else a German ConfigError naming ``where`` and ``what``."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: „{what}“ muss eine Zuordnung (Schlüssel: Wert) sein, "
                          f"gefunden wurde {type(value).__name__}.")
    return dict(value)


def _engine(value: Any, where: str) -> str:
    if value not in ENGINES:
        raise ConfigError(f"{where}: unbekannte Engine {value!r}; erlaubt sind {', '.join(ENGINES)}.")
    return str(value)


def load_batch_file(path: str | Path, out_dir: str | Path | None = None,
                    engine: str | None = None) -> list[ClientJob]:
    """Read and validate a batch YAML file; raises :class:`ConfigError` (German, names the entry).

    ``out_dir`` / ``engine`` (command line) override ``defaults:``. Data paths and
    ``defaults.out`` are relative to the YAML file; ``out_dir`` to the working directory.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"Die Batch-Datei „{path}“ wurde nicht gefunden.")
    doc = read_yaml(path, "Batch-Datei")
    if not isinstance(doc, Mapping):
        raise ConfigError(f"Die Batch-Datei „{path.name}“ muss die Abschnitte „defaults:“ und "
                          "„clients:“ enthalten.")
    unknown = set(map(str, doc)) - {"defaults", "clients"}
    if unknown:
        raise ConfigError(f"Die Batch-Datei „{path.name}“ enthält unbekannte Abschnitte: "
                          f"{', '.join(sorted(unknown))} (erlaubt: defaults, clients).")
    base = path.resolve().parent
    defaults = as_mapping(doc.get("defaults"), f"{path.name}, Abschnitt „defaults“", "defaults")
    bad = set(map(str, defaults)) - _DEFAULT_KEYS
    if bad:
        raise ConfigError(f"{path.name}, Abschnitt „defaults“: unbekannte Angabe(n) "
                          f"{', '.join(sorted(bad))} (erlaubt: {', '.join(sorted(_DEFAULT_KEYS))}).")
    d_where = f"{path.name}, Abschnitt „defaults“"
    d_map = as_mapping(defaults.get("map"), d_where, "map")
    d_settings = client_settings(as_mapping(defaults.get("settings"), d_where, "settings"))
    d_engine = _engine(engine or defaults.get("engine", "auto"), d_where)
    if out_dir is not None:
        out = Path(out_dir).expanduser().resolve()
    elif defaults.get("out") is not None:
        out = (base / Path(str(defaults["out"])).expanduser()).resolve()
    else:
        out = REPORTS_DIR

    clients = doc.get("clients")
    if not isinstance(clients, list) or not clients:
        raise ConfigError(f"Die Batch-Datei „{path.name}“ braucht unter „clients:“ eine Liste mit "
                          "mindestens einem Kunden.")
    jobs: list[ClientJob] = []
    seen: dict[Path, tuple[int, str]] = {}
    for i, entry in enumerate(clients, start=1):
        where = f"{path.name}, Kunde {i}"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}: der Eintrag muss Angaben wie „name:“ und „data:“ enthalten.")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{where}: „name“ fehlt oder ist leer.")
        name = name.strip()
        where = f"{path.name}, Kunde {i} („{name}“)"
        bad = set(map(str, entry)) - _CLIENT_KEYS
        if bad:
            raise ConfigError(f"{where}: unbekannte Angabe(n) {', '.join(sorted(bad))} "
                              f"(erlaubt: {', '.join(sorted(_CLIENT_KEYS))}).")
        data = entry.get("data")
        if not isinstance(data, str) or not data.strip():
            raise ConfigError(f"{where}: „data“ (Pfad der Datendatei) fehlt.")
        col_map = {**d_map, **as_mapping(entry.get("map"), where, "map")}
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in col_map.items()):
            raise ConfigError(f"{where}: in „map“ müssen Spaltennamen als Text stehen "
                              "(z. B. revenue: \"Umsatz (€)\").")
        settings = client_settings(d_settings, as_mapping(entry.get("settings"), where, "settings"),
                                   column_map=col_map)
        try:
            ReportConfig.from_settings(name, settings)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from exc
        slug = _slug(entry.get("slug"), name, where)
        folder = client_dir(out, name, slug)
        if folder in seen:
            j, other = seen[folder]
            raise ConfigError(f"{where}: gleicher Ausgabeordner „{folder}“ wie Kunde {j} („{other}“); "
                              "zwei Einträge würden sich gegenseitig Bericht und Pseudonym-Schlüssel "
                              "überschreiben. Bitte die Namen eindeutig machen oder für einen der beiden "
                              "„slug:“ mit einem eigenen Ordnernamen angeben.")
        seen[folder] = (i, name)
        eng = _engine(entry.get("engine"), where) if entry.get("engine") is not None else d_engine
        if engine is not None:
            eng = d_engine
        jobs.append(ClientJob(
            name=name, slug=slug, data_path=(base / Path(data).expanduser()).resolve(),
            settings=settings, engine=eng, out_dir=out, entry=i,
        ))
    return jobs


def _slug(value: Any, name: str, where: str) -> str:
    """The folder name of an entry: ``slug:`` if given (validated like generated names), else the name's."""
    if value is None or value == "":
        return client_slug(name)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not SLUG_PATTERN.fullmatch(value):
        suggestion = client_slug(str(value)) if isinstance(value, str) else client_slug(name)
        raise ConfigError(
            f"{where}: „slug“ {value!r} ist kein gültiger Ordnername. Erlaubt sind Kleinbuchstaben a–z, "
            "Ziffern und Bindestriche (höchstens 60 Zeichen, ohne „/“, „..“ und absolute Pfade), "
            f"z. B. „{suggestion}“.")
    return value


def check_folders(jobs: list[ClientJob], batch_file: str | Path | None = None) -> None:
    """Before any run starts: the output folder is usable and no client's folder belongs to a
    different client. Raises one German :class:`ConfigError` listing every problem (exit 2)."""
    problems: list[str] = []
    prefix = f"{Path(batch_file).name}, " if batch_file is not None else ""
    for out in dict.fromkeys(j.out_dir for j in jobs):
        try:
            check_out_dir(out)
        except KundenwertError as exc:
            problems.append(str(exc))
    if not problems:
        for job in jobs:
            try:
                check_owner(job.client_dir, job.name, BATCH_HINT)
            except KundenwertError as exc:
                problems.append(f"{prefix}Kunde {job.entry} („{job.name}“): {exc}")
    if problems:
        raise ConfigError("\n".join(problems) + ("\nEs wurde kein Bericht erstellt." if len(jobs) > 1 else ""))


# ------------------------------------------------------------------------- skip logic


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's content (hex); for a folder of Parquet files (``--data`` folder) of the
    names and contents of its ``*.parquet`` files, in name order."""
    h = hashlib.sha256()
    files = sorted(Path(path).glob("*.parquet")) if Path(path).is_dir() else [Path(path)]
    for file in files:
        if len(files) > 1 or file != Path(path):
            h.update(file.name.encode() + b"\0")
        with open(file, "rb") as fh:
            while block := fh.read(chunk):
                h.update(block)
    return h.hexdigest()


def code_version() -> str:
    """Hash of everything that shapes a report: package code, chapter notebooks, template."""
    from . import __version__

    h = hashlib.sha256(__version__.encode())
    files = sorted((PROJECT_ROOT / "src" / "helpers").rglob("*.py"))
    files += sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    files += sorted(p for p in TEMPLATE_DIR.rglob("*") if p.is_file()) if TEMPLATE_DIR.is_dir() else []
    for p in files:
        if "__pycache__" in p.parts:
            continue
        h.update(str(p.relative_to(PROJECT_ROOT)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def fingerprint(job: ClientJob, data_hash: str, code: str) -> str:
    """Hash of all inputs of a client's report (data content, settings, engine, code)."""
    payload = {"name": job.name, "data_sha256": data_hash, "settings": dict(job.settings),
               "engine": job.engine, "code": code}
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_state(job: ClientJob) -> dict | None:
    try:
        return json.loads(job.state_path.read_text("utf-8"))
    except (OSError, ValueError):
        return None


def is_up_to_date(job: ClientJob, fp: str) -> str | None:
    """PDF path of the last successful build when it matches ``fp`` and still exists, else ``None``."""
    state = read_state(job)
    if not state or state.get("fingerprint") != fp:
        return None
    pdf = state.get("pdf")
    return pdf if pdf and Path(pdf).is_file() else None


def write_state(folder: Path, fp: str, pdf: Path, duration: float) -> None:
    """Record a successful build in ``folder/.batch-state.json`` (the build folder before the commit;
    ``pdf`` is the PDF's final path)."""
    state = {"fingerprint": fp, "pdf": str(pdf), "duration_s": round(duration, 3),
             "finished": dt.datetime.now().isoformat(timespec="seconds")}
    path = Path(folder) / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, ensure_ascii=False, indent=2), "utf-8")
    os.replace(tmp, path)


# ------------------------------------------------------------------------- worker


def _default_build(data_path, cfg, out_dir, engine="auto", progress=None, folder=None) -> Path:
    from .report.pipeline import build_report

    return build_report(data_path, cfg, out_dir, engine=engine, progress=progress, folder=folder)


@contextlib.contextmanager
def _client_log(path: Path, redirect_fds: bool):
    """Send logging, warnings, prints (and in worker processes fd 1/2 of kernels) to ``path``."""
    fh = open(path, "w", encoding="utf-8", buffering=1)  # noqa: SIM115
    handler = logging.StreamHandler(fh)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    saved: list[tuple[int, int]] = []
    try:
        if redirect_fds:
            sys.stdout.flush(), sys.stderr.flush()
            for fd in (1, 2):
                saved.append((fd, os.dup(fd)))
                os.dup2(fh.fileno(), fd)
        with contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
            yield fh
    finally:
        for fd, copy in saved:
            os.dup2(copy, fd)
            os.close(copy)
        logging.captureWarnings(False)
        root.removeHandler(handler)
        root.setLevel(old_level)
        fh.close()


def run_client(job: ClientJob, fp: str, events: Any = None, build: BuildFn | None = None,
               redirect_fds: bool = False) -> ClientResult:
    """Build one client's report; never raises (failures become a ``Fehler`` result).

    ``events``: a queue-like object (``put``) receiving ``("start", slug)`` and
    ``("chapter", slug, title, i, n)`` tuples (``i`` 1-based) for the progress display.
    The client's folder is held for the whole run (:class:`ClientFolder`): log and state are
    written into the build folder and appear in ``<out>/<slug>/`` only with a successful report.
    """
    build = build or _default_build
    t0 = time.monotonic()

    def emit(*event: Any) -> None:
        if events is not None:
            with contextlib.suppress(Exception):
                events.put(event)

    def progress(_client: Any, title: str, i: int, n: int) -> None:
        logging.getLogger("kundenwert.batch").info("Kapitel %d/%d: %s", i, n, title)
        emit("chapter", job.slug, title, i, n)

    emit("start", job.slug)
    log = logging.getLogger("kundenwert.batch")
    try:
        if not job.data_path.exists():
            raise ConfigError(f"Die Datendatei „{job.data_path}“ wurde nicht gefunden.")
        cfg = ReportConfig.from_settings(job.name, dict(job.settings))
        with ClientFolder(job.out_dir, job.name, job.slug, hint=BATCH_HINT) as folder:
            assert folder.path is not None
            with _client_log(folder.path / LOG_FILE, redirect_fds) as fh:
                log.info("Bericht für %s aus %s (Engine %s)", job.name, job.data_path, job.engine)
                try:
                    pdf = Path(build(job.data_path, cfg, job.out_dir, engine=job.engine,
                                     progress=progress, folder=folder))
                    duration = time.monotonic() - t0
                    write_state(folder.path, fp, pdf, duration)
                    log.info("Fertig nach %.1f s: %s", duration, pdf)
                except BaseException as exc:
                    fh.write(traceback.format_exc())
                    log.error("Abgebrochen: %s", _message(exc)[0])
                    raise
            folder.commit()
        return ClientResult(job.name, job.slug, STATUS_OK, duration, str(pdf), "", str(job.log_path))
    except Exception as exc:  # noqa: BLE001 - isolate every client
        message, code = _message(exc)
        failed_log = job.failed_log_path
        return ClientResult(job.name, job.slug, STATUS_FAILED, time.monotonic() - t0, None, message,
                            str(failed_log) if failed_log.is_file() else None, code)


def _message(exc: BaseException) -> tuple[str, int]:
    """German message and exit code of a client's failure (2: the user can fix it, 1: a bug)."""
    german = translate_error(exc)
    if german is not None:
        return str(german), int(german.exit_code)
    return f"Unerwarteter Fehler ({type(exc).__name__}): {exc}", 1


def _worker(job: ClientJob, fp: str, events: Any, build: BuildFn | None) -> ClientResult:
    return run_client(job, fp, events, build, redirect_fds=True)


# ------------------------------------------------------------------------- orchestration


class _DirectEvents:
    """In-process stand-in for the Manager queue: forwards events to the display at once."""

    def __init__(self, handle: Callable[[tuple], None]) -> None:
        self._handle = handle

    def put(self, event: tuple) -> None:
        self._handle(event)


KERNELS_ENV = "KUNDENWERT_KERNELS"
"""Environment variable: Jupyter kernels per report (set in batch workers, see ``build_report``)."""


def default_workers() -> int:
    """Number of usable CPU cores."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def run_batch(
    jobs: list[ClientJob],
    workers: int | None = None,
    force: bool = False,
    build: BuildFn | None = None,
    stream=None,
    tty: bool | None = None,
    in_process: bool = False,
) -> list[ClientResult]:
    """Build all ``jobs`` (skipping unchanged ones unless ``force``); results in input order.

    ``workers``: parallel worker processes (default: CPU cores). ``in_process=True`` runs
    the clients one after another in this process (tests, debugging). ``build`` must be a
    module-level function when worker processes are used (it is pickled by reference).
    """
    stream = stream if stream is not None else sys.stderr
    workers = max(1, workers or default_workers())
    code = code_version()
    results: dict[str, ClientResult] = {}
    todo: list[tuple[ClientJob, str]] = []
    display = ProgressDisplay(total=len(jobs), workers=workers, stream=stream, tty=tty)
    names = {j.slug: j.name for j in jobs}

    for job in jobs:
        if not job.data_path.exists():
            todo.append((job, ""))  # the worker reports the missing file and writes the log
            continue
        fp = fingerprint(job, file_sha256(job.data_path), code)
        pdf = None if force else is_up_to_date(job, fp)
        if pdf:
            results[job.slug] = ClientResult(job.name, job.slug, STATUS_SKIPPED, None, pdf,
                                             "unverändert seit dem letzten Lauf")
            display.client_finished(job.slug, job.name, STATUS_SKIPPED)
        else:
            todo.append((job, fp))

    def handle(event: tuple) -> None:
        kind, slug = event[0], event[1]
        if kind == "start":
            display.client_started(slug, names[slug])
        elif kind == "chapter":
            display.chapter(slug, *event[2:5])

    def finish(res: ClientResult) -> None:
        results[res.slug] = res
        display.client_finished(res.slug, res.name, res.status, res.duration, res.message)

    try:
        if in_process or not todo:
            events = _DirectEvents(handle)
            for job, fp in todo:
                finish(run_client(job, fp, events, build))
        else:
            _run_pool(todo, min(workers, len(todo)), build, handle, finish, display)
    finally:
        display.close()
    return [results[j.slug] for j in jobs]


def _set_kernels(kernels: int) -> None:
    """Worker initializer: chapter kernels per report (read by ``build_report``)."""
    os.environ[KERNELS_ENV] = str(kernels)


def _run_pool(todo, workers, build, handle, finish, display) -> None:
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager:
        events = manager.Queue()

        def drain() -> None:
            while True:
                try:
                    handle(events.get_nowait())
                except queue_mod.Empty:
                    return

        kernels = max(1, default_workers() // workers)  # the cores shared out: no oversubscription
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_set_kernels,
                                 initargs=(kernels,)) as pool:
            futures = {pool.submit(_worker, job, fp, events, build): job for job, fp in todo}
            pending = set(futures)
            try:
                while pending:
                    done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                    drain()
                    for fut in done:
                        job = futures[fut]
                        try:
                            res = fut.result()
                        except BrokenProcessPool:
                            res = ClientResult(job.name, job.slug, STATUS_FAILED, None, None,
                                               "Der Arbeitsprozess wurde unerwartet beendet "
                                               "(z. B. Speichermangel).", None, 1)
                        except Exception as exc:  # noqa: BLE001 - e.g. unpicklable result
                            res = ClientResult(job.name, job.slug, STATUS_FAILED, None, None,
                                               f"Unerwarteter Fehler ({type(exc).__name__}): {exc}",
                                               None, 1)
                        finish(res)
                    display.refresh()
            except KeyboardInterrupt:
                pool.shutdown(wait=False, cancel_futures=True)
                raise


# ------------------------------------------------------------------------- summary


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def summary_table(results: list[ClientResult], max_message: int = 120) -> str:
    """German summary as an aligned Markdown pipe table (Kunde, Status, Dauer, PDF-Pfad, Fehlermeldung)."""
    header = ["Kunde", "Status", "Dauer", "PDF-Pfad", "Fehlermeldung"]
    rows = []
    for r in results:
        msg = r.message.strip().splitlines()[0] if r.status == STATUS_FAILED and r.message.strip() else ""
        if len(msg) > max_message:
            msg = msg[: max_message - 1] + "…"
        rows.append([r.name, r.status, format_duration(r.duration) if r.duration is not None else "–",
                     r.pdf or "–", msg or "–"])
    cells = [[_cell(c) for c in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def summary_text(results: list[ClientResult], wall: float | None = None) -> str:
    """Table plus one line with the counts and the log paths of failed clients."""
    n_ok = sum(r.status == STATUS_OK for r in results)
    n_fail = sum(r.status == STATUS_FAILED for r in results)
    n_skip = sum(r.status == STATUS_SKIPPED for r in results)
    text = summary_table(results) + "\n\n"
    text += f"{n_ok} erstellt, {n_fail} mit Fehler, {n_skip} übersprungen"
    if wall is not None:
        text += f" – Gesamtdauer {format_duration(wall)}"
    text += ".\n"
    failed = [r for r in results if r.status == STATUS_FAILED and r.log]
    if failed:
        text += "Protokolle der fehlgeschlagenen Berichte:\n"
        text += "".join(f"  {r.name}: {r.log}\n" for r in failed)
    return text


def exit_code(results: list[ClientResult]) -> int:
    """0 when every client is OK or skipped; 1 when a failure is a bug (exit code 1 or unknown);
    2 when clients failed only for reasons the user can fix (bad data, settings, folders, disk)."""
    failed = [r for r in results if r.status == STATUS_FAILED]
    if not failed:
        return 0
    return 2 if all(r.exit_code == 2 for r in failed) else 1


# ------------------------------------------------------------------------- CLI


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"keine ganze Zahl: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("mindestens 1")
    return value


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``kundenwert batch`` (German help)."""
    parser.add_argument("batch_file", type=Path, metavar="KUNDEN.yaml",
                        help="Batch-Datei mit „defaults:“ und der Liste „clients:“ "
                             "(Beispiel: docs/beispiel-batch.yaml)")
    parser.add_argument("--jobs", "-j", type=_positive_int, default=None, metavar="N",
                        help="Anzahl paralleler Berichte (Standard: Anzahl der Prozessorkerne)")
    parser.add_argument("--force", action="store_true",
                        help="Alle Berichte neu erstellen, auch wenn sich nichts geändert hat")
    parser.add_argument("--out", type=Path, default=None, metavar="ORDNER",
                        help="Ausgabeordner (überschreibt „out“ aus der Batch-Datei)")
    parser.add_argument("--engine", choices=ENGINES, default=None,
                        help="PDF-Erzeugung für alle Kunden (überschreibt die Batch-Datei)")


def run(args: argparse.Namespace, build: BuildFn | None = None) -> int:
    """Run ``kundenwert batch``: progress on stderr, summary table on stdout; returns the exit code."""
    try:
        jobs = load_batch_file(args.batch_file, out_dir=args.out, engine=args.engine)
        check_folders(jobs, args.batch_file)
    except ConfigError as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return exc.exit_code
    t0 = time.monotonic()
    try:
        results = run_batch(jobs, workers=args.jobs, force=args.force, build=build)
    except KeyboardInterrupt:
        print("Abgebrochen.", file=sys.stderr)
        return 130
    print(summary_text(results, time.monotonic() - t0), end="")
    return exit_code(results)
