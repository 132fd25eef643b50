"""One client report end to end: load -> compute -> execute chapters -> assemble -> render PDF.

1. load and validate the client file once (:func:`helpers.data.load_dataset`) and store the
   cleaned dataset in ``work/`` (:func:`helpers.session.write_prepared`);
2. compute every chapter's result once (:func:`helpers.chapters.compute_all`) and store them in
   ``work/results/`` (:func:`helpers.session.write_results`);
3. write the CRM target lists of the action plan to ``zielgruppen/``
   (:func:`helpers.export.write_action_lists`);
4. execute the chapter notebooks in report order (:data:`helpers.chapters.CHAPTERS`) with the
   parameters ``data_path``, ``client_name``, ``settings``, ``work_dir``: each notebook's session
   reads the stored dataset and results, so every number is the one computed in step 2;
5. assemble the executed notebooks to Markdown (:data:`helpers.report.assemble.REPORT` policy)
   and render the PDF.

Output folder ``<out_dir>/<slug>/``: ``pseudonym.key``, ``work/`` (prepared data and chapter
results), ``zielgruppen/`` (target lists), ``notebooks/`` (executed chapters), ``figures/``,
``bericht.md``/``bericht.typ`` (intermediate files) and ``<slug>.pdf``.

Stale output: the PDF of an earlier run is deleted at the start, and the new PDF appears
(atomically) only after a successful render. A failed run therefore leaves no PDF at all.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from pathlib import Path
from typing import Any, Callable

from .. import chapters as chapter_registry
from .. import fmt
from ..config import NOTEBOOK_DIR, REPORTS_DIR, ReportConfig
from ..exceptions import RenderError
from .assemble import ReportMeta, assemble
from .execute import ChapterRun, execute_chapters
from .render import choose_engine, prepare_build_dir, render
from .slug import client_slug

log = logging.getLogger(__name__)
Progress = Callable[[str, str, int, int], None]
"""``progress(client_name, step_title, i, n)``: called before each step (``i`` 1-based)."""
MARKDOWN_NAME = "bericht.md"
COMPUTE_STEP = "Kennzahlen aller Kapitel berechnen"
"""Progress title of the compute step (before the chapters are executed)."""
TARGET_LIST_DIR = "zielgruppen"

__all__ = ["build_report", "client_slug", "client_dir", "notebook_parameters"]


def client_dir(out_dir: Path, client_name: str) -> Path:
    """``<out_dir>/<slug>``, guaranteed to lie inside ``out_dir``."""
    out = Path(out_dir).resolve()
    target = (out / client_slug(client_name)).resolve()
    if target.parent != out:
        raise RenderError(f"Ungültiger Ausgabeordner für „{client_name}“.")
    return target


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
        report_date=fmt.date(dt.date.today()),
        consultant=cfg.consultant or None,
        logo=logo_name,
        pseudonymized=cfg.pseudonymize,
    )


def _fresh(folder: Path) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def build_report(
    data_path: str | Path,
    cfg: ReportConfig,
    out_dir: str | Path = REPORTS_DIR,
    engine: str = "auto",
    progress: Progress | None = None,
) -> Path:
    """Build the PDF report of one client and return its absolute path.

    Raises :class:`~helpers.exceptions.DataValidationError` for unusable data and
    :class:`RenderError` when a chapter notebook is missing, a chapter fails or the PDF
    rendering fails (German messages).
    """
    from .. import export, privacy, session
    from ..data import load_dataset

    engine = choose_engine(engine)
    chapters = chapter_registry.CHAPTERS
    data_path = Path(data_path).resolve()
    target = client_dir(Path(out_dir), cfg.client_name)
    slug = target.name
    target.mkdir(parents=True, exist_ok=True)
    pdf = target / f"{slug}.pdf"
    pdf.unlink(missing_ok=True)  # never leave an old PDF that could pass for this run's result
    missing = [ch for ch in chapters if not ch.path.is_file()]
    if missing:
        raise RenderError("Kapitel-Notebook fehlt: " + ", ".join(
            f"„{ch.title}“ ({ch.path})" for ch in missing) + ".")

    key = privacy.load_or_create_key(target / privacy.KEY_FILE) if cfg.pseudonymize else None
    ds = load_dataset(data_path, cfg, key=key)
    work = _fresh(target / "work")
    session.write_prepared(ds, work)

    n = len(chapters) + 1
    if progress is not None:
        progress(cfg.client_name, COMPUTE_STEP, 1, n)
    results = chapter_registry.compute_all(ds, cfg)
    session.write_results(results, work)
    export.write_action_lists(results["actions"], _fresh(target / TARGET_LIST_DIR), cfg)

    nb_out = _fresh(target / "notebooks")
    figures = _fresh(target / "figures")

    def on_chapter(k: int) -> None:
        if progress is not None:
            progress(cfg.client_name, chapters[k].title, k + 2, n)

    executed = execute_chapters(
        [ChapterRun(ch.slug, ch.title, ch.path, nb_out / ch.notebook) for ch in chapters],
        notebook_parameters(data_path, cfg, work), cwd=NOTEBOOK_DIR, on_chapter=on_chapter,
    )

    logo_name = prepare_build_dir(target, cfg.logo_path)
    md = assemble([(ch.slug, executed[ch.slug]) for ch in chapters], _meta(cfg, ds, logo_name), figures)
    md_path = target / MARKDOWN_NAME
    md_path.write_text(md, "utf-8")
    _, warns = render(md_path, pdf, engine)
    for w in warns:
        log.warning("Typst: %s", w)
    return pdf.resolve()
