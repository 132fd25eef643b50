"""One client report end to end: load -> compute -> execute chapters -> assemble -> render PDF.

1. load and validate the client file once (:func:`helpers.data.load_dataset`) and store the
   cleaned dataset in ``work/`` (:func:`helpers.session.write_prepared`);
2. compute every chapter's result once (:func:`helpers.chapters.compute_all`) and store them in
   ``work/results/`` (:func:`helpers.session.write_results`);
3. write the CRM target lists of the action plan to ``zielgruppen/``
   (:func:`helpers.export.write_action_lists`, in a thread while steps 4 and 5 finish; the run
   fails if it fails, and the folder is committed only after it); steps 2, 3 and 5 run inside
   ``fmt.use_currency(ds.currency)`` (the notebooks' sessions set it themselves), so money is
   formatted in the data's currency everywhere;
4. execute the chapter notebooks (:data:`helpers.chapters.CHAPTERS`) with the parameters
   ``data_path``, ``client_name``, ``settings``, ``work_dir`` in two Jupyter kernels: they start
   before step 1 and import their modules, and each chapter runs as soon as step 2 has stored its
   result (:func:`helpers.report.execute.start_chapters`). Each notebook's session reads the stored
   dataset and results, so every number is the one computed in step 2;
5. assemble the executed notebooks to Markdown (:data:`helpers.report.assemble.REPORT` policy)
   and render the PDF.

Output folder ``<out_dir>/<slug>/`` (:mod:`helpers.report.outdir`): ``kunde.json`` (whose folder it
is), ``pseudonym.key`` (kept across runs), ``work/`` (prepared data and chapter results),
``zielgruppen/`` (target lists), ``notebooks/`` (executed chapters), ``figures/``,
``bericht.md``/``bericht.typ`` (intermediate files) and ``<slug>.pdf``.

One run at a time, replaced only on success: the run locks the folder (a second run exits 2 with
„läuft bereits“), refuses a folder that belongs to a different client name with the same slug,
builds into a temporary folder next to it and swaps it in atomically after the PDF was rendered.
A failed run leaves the previous complete result untouched; its partial output goes to
``<slug>/fehlgeschlagener-lauf/`` and the exception names that place (``kundenwert_note``).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, Callable

from .. import chapters as chapter_registry
from .. import fmt
from ..config import NOTEBOOK_DIR, REPORTS_DIR, ReportConfig
from ..exceptions import ConfigError, RenderError, translate_error
from . import checks, sidecar
from .assemble import ReportMeta, assemble
from .execute import REPORT_SKIP_TAGS, ChapterRun, start_chapters
from .outdir import CLI_HINT, ClientFolder, client_dir
from .render import choose_engine, prepare_build_dir, render
from .slug import client_slug

log = logging.getLogger(__name__)
Progress = Callable[[str, str, int, int], None]
"""``progress(client_name, step_title, i, n)``: called before each step (``i`` 1-based)."""
MARKDOWN_NAME = "bericht.md"
COMPUTE_STEP = "Kennzahlen aller Kapitel berechnen"
"""Progress title of the compute step (before the chapters are executed)."""
TARGET_LIST_DIR = "zielgruppen"
LOGO_SUFFIXES = (".png", ".jpg", ".jpeg", ".svg")

__all__ = ["build_report", "client_slug", "client_dir", "notebook_parameters"]


def notebook_parameters(data_path: Path, cfg: ReportConfig, work_dir: Path) -> dict[str, Any]:
    """The four parameters every chapter notebook declares (docs/chapter-contract.md)."""
    return {
        "data_path": str(data_path),
        "client_name": cfg.client_name,
        "settings": cfg.as_settings(),
        "work_dir": str(work_dir),
    }


def _meta(cfg: ReportConfig, ds, logo_name: str | None) -> ReportMeta:
    return ReportMeta(
        client=cfg.client_name,
        period=f"{fmt.date(ds.first_date)} – {fmt.date(ds.observation_end)}",
        report_date=fmt.date(cfg.report_date or dt.date.today()),
        consultant=cfg.consultant or None,
        logo=logo_name,
        pseudonymized=cfg.pseudonymize,
    )


_MONEY_DOLLAR = re.compile("(\u00a0[A-Z]{0,3})\\$")


def escape_money_dollars(md: str) -> str:
    """Write the ``$`` of amounts formatted by :func:`helpers.fmt.money` (``"12\u00a0$"``,
    ``"5\u00a0CA$"``) as the entity ``&#36;``: two of them in one paragraph would otherwise open and
    close TeX math in pandoc (an entity is a literal ``$`` for pandoc and no ``\\$`` that the
    document checks could mistake for a formula). Only a ``$`` right after the amount's no-break
    space (and an optional code prefix) is touched, so intended math of teaching cells is unaffected."""
    return _MONEY_DOLLAR.sub(lambda m: m.group(1) + "&#36;", md)


def check_inputs(cfg: ReportConfig, engine: str) -> str:
    """Everything a user can get wrong that is checkable before a folder is touched: the PDF engine
    (unknown or not installed) and the logo file. Returns the resolved engine; German ConfigError."""
    try:
        engine = choose_engine(engine)
    except RenderError as exc:
        raise ConfigError(str(exc)) from None
    if cfg.logo_path:
        logo = Path(cfg.logo_path)
        if not logo.is_file():
            raise ConfigError(f"Die Logo-Datei „{logo}“ wurde nicht gefunden (Einstellung logo_path).")
        if logo.suffix.lower() not in LOGO_SUFFIXES:
            raise ConfigError(f"Das Logo „{logo.name}“ muss eine PNG-, JPG- oder SVG-Datei sein.")
    return engine


def _point_notebooks_at(nb_dir: Path, build: Path, final: Path) -> None:
    """Executed notebooks name the build folder in ``work_dir``; make them name the final folder."""
    import nbformat

    for nb_path in nb_dir.glob("*.ipynb"):
        nb = nbformat.read(str(nb_path), as_version=4)
        changed = False
        for cell in nb.cells:
            if "injected-parameters" in cell.get("metadata", {}).get("tags", []) and str(build) in cell.source:
                cell.source = cell.source.replace(str(build), str(final))
                changed = True
        params = nb.metadata.get("papermill", {}).get("parameters", {})
        if isinstance(params.get("work_dir"), str) and str(build) in params["work_dir"]:
            params["work_dir"] = params["work_dir"].replace(str(build), str(final))
            changed = True
        if changed:
            nbformat.write(nb, str(nb_path))


def build_report(
    data_path: str | Path,
    cfg: ReportConfig,
    out_dir: str | Path = REPORTS_DIR,
    engine: str = "auto",
    progress: Progress | None = None,
    *,
    slug: str | None = None,
    folder: ClientFolder | None = None,
    hint: str = CLI_HINT,
    kernels: int | None = None,
) -> Path:
    """Build the PDF report of one client and return the absolute path of ``<out>/<slug>/<slug>.pdf``.

    ``slug``: folder name (default :func:`client_slug` of the client name). ``folder``: an entered
    :class:`ClientFolder` of the caller (the batch, which writes its log and state into it); then
    the report is built into ``folder.path`` and the caller commits; otherwise this function locks,
    builds and commits itself. ``hint``: German advice appended to folder collisions.

    Raises :class:`~helpers.exceptions.DataValidationError` for unusable data,
    :class:`~helpers.exceptions.ConfigError` for an unavailable engine or a missing logo,
    :class:`~helpers.exceptions.OutputFolderError` when the folder is locked or belongs to another
    client, :class:`~helpers.exceptions.FileSystemError` for operating-system errors a user can fix
    (all exit 2), and :class:`RenderError` when a chapter notebook is missing, a chapter fails or
    the PDF rendering fails (German messages).

    ``kernels``: Jupyter kernels executing the chapters side by side (default: two on a machine with
    at least two cores, else one; batch workers get the cores shared out through the environment
    variable ``KUNDENWERT_KERNELS``).
    """
    engine = check_inputs(cfg, engine)
    kernels = kernels or int(os.environ.get("KUNDENWERT_KERNELS", "0") or 0) or min(2, os.cpu_count() or 1)
    chapters = chapter_registry.CHAPTERS
    data_path = Path(data_path).resolve()
    missing = [ch for ch in chapters if not ch.path.is_file()]
    if missing:
        raise RenderError("Kapitel-Notebook fehlt: " + ", ".join(
            f"„{ch.title}“ ({ch.path})" for ch in missing) + ".")
    if folder is not None:
        return _translated(lambda: _build(folder, data_path, cfg, engine, progress, kernels))
    with ClientFolder(out_dir, cfg.client_name, slug, hint=hint) as own:
        pdf = _translated(lambda: _build(own, data_path, cfg, engine, progress, kernels))
        _translated(own.commit)
    return pdf


def _translated(fn: Callable[[], Any]) -> Any:
    """Run ``fn``; operating-system errors a user can cause become German FileSystemErrors (exit 2)."""
    try:
        return fn()
    except OSError as exc:
        german = translate_error(exc)
        if german is None:
            raise
        raise german from exc


def _write_lists(actions: Any, folder: Path, cfg: ReportConfig, currency: str) -> None:
    """The CRM target lists of the action plan (in a thread: the data's currency is set here)."""
    from .. import export

    with fmt.use_currency(currency):
        export.write_action_lists(actions, folder, cfg)


def _load(data_path: Path, cfg: ReportConfig, key: bytes | None):
    from ..data import load_dataset

    try:
        return load_dataset(data_path, cfg, key=key)
    except Exception as exc:
        german = translate_error(exc, data_path)
        if german is None or german is exc:
            raise
        raise german from exc


def _build(folder: ClientFolder, data_path: Path, cfg: ReportConfig, engine: str,
           progress: Progress | None, kernels: int) -> Path:
    """Steps 1-5 into ``folder.path``; returns the PDF's final path (after the commit)."""
    from .. import privacy, session
    from ..analysis.actions import decide_audience

    chapters = chapter_registry.CHAPTERS
    build = folder.path
    assert build is not None, "ClientFolder not entered"
    pdf = build / f"{folder.slug}.pdf"

    n = len(chapters) + 1
    started = iter(range(2, n + 1))
    lock = threading.Lock()

    def on_chapter(k: int) -> None:  # called from the kernels' threads, in start order
        if progress is not None:
            with lock:
                progress(cfg.client_name, chapters[k].title, next(started), n)

    # The kernels start now and import their modules while this process loads and computes.
    work, nb_out, figures = build / "work", build / "notebooks", build / "figures"
    for d in (work, nb_out, figures):
        d.mkdir()
    job = start_chapters(
        [ChapterRun(ch.slug, ch.title, ch.path, nb_out / ch.notebook) for ch in chapters],
        notebook_parameters(data_path, cfg, work), cwd=NOTEBOOK_DIR, on_chapter=on_chapter,
        kernels=kernels, order=chapter_registry.dependency_order(), skip_tags=REPORT_SKIP_TAGS,
    )  # course cells never reach the PDF (skip_tags)

    def stored(slug: str, result: Any) -> None:  # a chapter's notebook starts once its result is stored
        session.write_results({slug: result}, work)
        job.ready(slug)

    side = None
    background = ThreadPoolExecutor(2, thread_name_prefix="kundenwert")  # target lists, Markdown checks
    try:
        try:
            key = privacy.load_or_create_key(build / privacy.KEY_FILE) if cfg.pseudonymize else None
            ds = _load(data_path, cfg, key)
            session.write_prepared(ds, work)
            session.write_audience(decide_audience(ds, cfg).audience, work)  # read by every chapter
            if sidecar.wanted(ds.n_lines, kernels):  # data, economics, RFM beside the model chapters
                side = sidecar.start(work, cfg.as_settings(), cfg.client_name, on_done=job.ready)
            if progress is not None:
                progress(cfg.client_name, COMPUTE_STEP, 1, n)
            elsewhere = {slug: partial(side.result, slug) for slug in side.slugs} if side is not None else None
            with fmt.use_currency(ds.currency):  # money in compute, lists and checks: the data's currency
                results = chapter_registry.compute_all(ds, cfg, on_result=stored, elsewhere=elsewhere)
            lists = build / TARGET_LIST_DIR
            lists.mkdir()
            # The lists are written while the last notebooks run and the PDF is rendered.
            listed = background.submit(_write_lists, results["actions"], lists, cfg, ds.currency)
        except BaseException:
            job.cancel()
            raise
        finally:
            if side is not None:
                side.stop()
        executed = job.wait()

        logo_name = prepare_build_dir(build, cfg.logo_path)
        with fmt.use_currency(ds.currency):
            md = assemble([(ch.slug, executed[ch.slug]) for ch in chapters], _meta(cfg, ds, logo_name), figures)
            md = escape_money_dollars(md)
            md_path = build / MARKDOWN_NAME
            md_path.write_text(md, "utf-8")
            md_findings = background.submit(checks.check_markdown_file, md_path)  # while Typst renders
            _, warns = render(md_path, pdf, engine)
            for w in warns:
                log.warning("Typst: %s", w)
            checks.check_report(md_path, pdf, log, markdown=md_findings)  # German warnings for text no client should read
        listed.result()  # the target lists belong to the result: their failure fails the run
    finally:
        background.shutdown(wait=True)  # nothing writes into the folder once it is committed or set aside
    _point_notebooks_at(nb_out, build, folder.target)
    return folder.final(pdf)
