"""One client report end to end: load -> execute chapters -> assemble -> render PDF.

Output folder ``<out_dir>/<slug>/``: ``pseudonym.key``, ``work/`` (prepared data and chapter
results), ``notebooks/`` (executed chapters), ``figures/``, ``bericht.md``/``bericht.typ``
(intermediate files) and ``<slug>.pdf``.

Stale output: the PDF of an earlier run is deleted at the start, and the new PDF appears
(atomically) only after a successful render. A failed run therefore leaves no PDF at all.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import warnings
from pathlib import Path
from typing import Callable

from .. import chapters as chapter_registry
from .. import fmt
from ..config import REPORTS_DIR, ReportConfig
from ..exceptions import RenderError
from .assemble import ReportMeta, assemble
from .execute import execute_chapters
from .render import choose_engine, prepare_build_dir, render
from .slug import client_slug

log = logging.getLogger(__name__)
Progress = Callable[[str, str, int, int], None]
MARKDOWN_NAME = "bericht.md"

__all__ = ["build_report", "client_slug", "client_dir"]


def client_dir(out_dir: Path, client_name: str) -> Path:
    """``<out_dir>/<slug>``, guaranteed to lie inside ``out_dir``."""
    out = Path(out_dir).resolve()
    target = (out / client_slug(client_name)).resolve()
    if target.parent != out:
        raise RenderError(f"Ungültiger Ausgabeordner für „{client_name}“.")
    return target


def _parameters(data_path: Path, cfg: ReportConfig, ds, prepared: Path) -> dict:
    return {
        "data_path": str(data_path),
        "client_name": cfg.client_name,
        "observation_end": ds.observation_end.date().isoformat(),
        "currency": cfg.currency,
        "column_map": dict(cfg.data.column_map),
        "settings": cfg.as_settings(),
        "prepared_dir": str(prepared),
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


def build_report(
    data_path: str | Path,
    cfg: ReportConfig,
    out_dir: str | Path = REPORTS_DIR,
    engine: str = "auto",
    progress: Progress | None = None,
) -> Path:
    """Build the PDF report of one client and return its absolute path.

    Raises :class:`~helpers.exceptions.DataValidationError` for unusable data and
    :class:`RenderError` when a chapter or the PDF rendering fails (German messages).
    """
    from .. import privacy, session
    from ..data import load_dataset

    engine = choose_engine(engine)
    data_path = Path(data_path).resolve()
    target = client_dir(Path(out_dir), cfg.client_name)
    slug = target.name
    target.mkdir(parents=True, exist_ok=True)
    pdf = target / f"{slug}.pdf"
    pdf.unlink(missing_ok=True)  # never leave an old PDF that could pass for this run's result

    key = privacy.load_or_create_key(target / privacy.KEY_FILE) if cfg.pseudonymize else None
    ds = load_dataset(data_path, cfg, key=key)
    prepared = target / "work"
    if prepared.exists():
        shutil.rmtree(prepared)
    session.write_prepared(ds, prepared)

    nb_out = target / "notebooks"
    figures = target / "figures"
    for folder in (nb_out, figures):
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)

    params = _parameters(data_path, cfg, ds, prepared)
    n = len(chapter_registry.CHAPTERS)
    todo = []
    for i, ch in enumerate(chapter_registry.CHAPTERS, start=1):
        if ch.path.exists():
            todo.append((i, ch))
        else:
            warnings.warn(f"Kapitel „{ch.title}“ fehlt ({ch.notebook}) und wird übersprungen.", stacklevel=2)

    def on_chapter(k: int) -> None:
        if progress is not None:
            i, ch = todo[k]
            progress(cfg.client_name, ch.title, i, n)

    executed: dict[str, Path] = {}
    if todo:
        executed = execute_chapters(
            [(ch.slug, ch.title, ch.path, nb_out / ch.notebook) for _, ch in todo],
            params, cwd=todo[0][1].path.parent, on_chapter=on_chapter,
        )
    if not executed:
        raise RenderError("Es wurde kein Kapitel-Notebook gefunden; der Bericht wäre leer.")

    logo_name = prepare_build_dir(target, cfg.logo_path)
    md = assemble(
        [(slug_, executed[slug_]) for slug_ in chapter_registry.REPORT_ORDER if slug_ in executed],
        _meta(cfg, ds, logo_name),
        figures,
    )
    md_path = target / MARKDOWN_NAME
    md_path.write_text(md, "utf-8")
    _, warns = render(md_path, pdf, engine)
    for w in warns:
        log.warning("Typst: %s", w)
    return pdf.resolve()
