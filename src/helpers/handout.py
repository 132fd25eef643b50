"""Course handouts: one German PDF per chapter with code, teaching text and outputs.

A handout is the client report's stack with another policy and layout:

- **execute**: the course version of the chapter runs in the report's executor
  (:func:`helpers.report.execute.execute_chapters`) with its default parameters, i.e. exactly as
  in JupyterLab after "Run All" (exercise scaffolds skipped);
- **assemble**: the report's assembler with :data:`STUDENT` or :data:`INSTRUCTOR` policy –
  Markdown cells including ``teaching`` and ``exercise`` text, the code of every code cell
  (Quarto ``#|`` option lines removed), its outputs (Markdown from ``show_text``/``show_table``,
  figures, printed text shortened); solutions only in the instructor variant;
- **render**: the report's renderer with layout ``"handout"`` (``reports/template/handout.typ``,
  same ``brand.yml`` as the report).

A handout covers one chapter, so references to other chapters become German text
(:func:`resolve_references`).

Usage::

    python -m helpers.handout [--out build/handouts] [--loesungen] [--executed DIR] [SLUG ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import nbformat
from nbformat import NotebookNode

from . import course
from .chapters import CHAPTERS, Chapter
from .config import NOTEBOOK_DIR, PROJECT_ROOT
from .exceptions import RenderError
from .report.assemble import AssemblyPolicy, chapter_markdown, front_matter
from .report.execute import ChapterRun, execute_chapters
from .report.render import prepare_build_dir, render

HANDOUT_DIR = PROJECT_ROOT / "build" / "handouts"

INSTRUCTOR = AssemblyPolicy(
    drop_tags=frozenset({"remove-cell", "injected-parameters"}),
    show_code=True,
    text_outputs=True,
    boxed_tags=(course.EXERCISE, course.SOLUTION),
    code_intros={
        course.PARAMETERS: "**Parameter des Notebooks** (für eigene Daten hier anpassen):",
        course.EXERCISE: "**Ihr Code** (Gerüst zum Ausfüllen):",
        course.SOLUTION: "**Musterlösung:**",
    },
)
"""Handout with model solutions: everything a student sees in JupyterLab, plus the solutions."""
STUDENT = dataclasses.replace(INSTRUCTOR, drop_tags=INSTRUCTOR.drop_tags | {course.SOLUTION})
"""Handout for students: like :data:`INSTRUCTOR` without the cells tagged ``solution``."""

_REF = re.compile(r"(?<![\w@])@((fig|tbl|sec)-[a-z0-9][a-z0-9-]*[a-z0-9])")
_LABEL_DEF = re.compile(r"\{#((?:fig|tbl|sec)-[a-z0-9][a-z0-9-]*[a-z0-9])")
_HEADING = re.compile(r"^#+\s+(.+?)\s*\{#(sec-[a-z0-9][a-z0-9-]*[a-z0-9])[^}]*\}\s*$", re.MULTILINE)
_KIND = {"fig": "eine Abbildung", "tbl": "eine Tabelle"}


@dataclass(frozen=True)
class HandoutMeta:
    """Front matter of a handout (plain text; escaped when written)."""

    title: str
    subtitle: str
    chapter_number: int | None = None
    """Heading number of the chapter (notebook prefix); ``None`` = unnumbered."""


@dataclass(frozen=True)
class Handout:
    chapter: Chapter
    pdf: Path
    pages: int


# --------------------------------------------------------------------------- references


def defined_labels(markdown: str) -> set[str]:
    """Cross-reference targets (``fig-…``, ``tbl-…``, ``sec-…``) defined in ``markdown``."""
    return set(_LABEL_DEF.findall(markdown))


def section_titles(markdown: str) -> dict[str, str]:
    """``sec-…`` label -> heading text, from Markdown headings ``## Text {#sec-…}``."""
    return {m.group(2): m.group(1).strip() for m in _HEADING.finditer(markdown)}


def resolve_references(markdown: str, labels: set[str], unnumbered: dict[str, str] | None = None) -> str:
    """``@fig-x`` stays a reference when ``x`` is in this handout, becomes German text otherwise.

    Handouts cover one chapter, so references to other chapters become e.g.
    „eine Abbildung im Kapitel „Kundensegmentierung nach RFM““. Typst can only reference
    numbered headings: for an unnumbered handout pass ``unnumbered`` (label -> heading text)
    and section references become „Abschnitt „…““.
    """
    titles = {ch.slug: ch.title for ch in CHAPTERS}

    def replace(m: re.Match) -> str:
        label, kind = m.group(1), m.group(2)
        if unnumbered and label in unnumbered:
            return f"Abschnitt „{unnumbered[label]}“"
        if label in labels:
            return m.group(0)
        rest = label[len(kind) + 1:]
        slug = next((s for s in sorted(titles, key=len, reverse=True) if rest == s or rest.startswith(s + "-")), None)
        where = f"Kapitel „{titles[slug]}“" if slug else "im Bericht"
        if kind == "sec":
            return where
        return f"{_KIND[kind]} im {where}" if slug else f"{_KIND[kind]} im Bericht"

    return _REF.sub(replace, markdown)


def handout_markdown(nb: NotebookNode, figures_dir: Path, slug: str = "abb", numbered: bool = True,
                     solutions: bool = False) -> str:
    """Pandoc Markdown body of an executed course notebook (code, text and outputs).

    Figures are written as PNG files into ``figures_dir``; the Markdown refers to them relative
    to ``figures_dir.parent``.
    """
    policy = INSTRUCTOR if solutions else STUDENT
    markdown = chapter_markdown(nb, slug, figures_dir, figures_dir.name, policy) + "\n"
    unnumbered = None if numbered else section_titles(markdown)
    return resolve_references(markdown, defined_labels(markdown), unnumbered)


# --------------------------------------------------------------------------- chapters


def _chapter_number(chapter: Chapter) -> int | None:
    prefix = chapter.notebook[:2]
    return int(prefix) if prefix.isdigit() and int(prefix) > 0 else None


def _stem(chapter: Chapter, solutions: bool) -> str:
    return chapter.notebook.removesuffix(".ipynb") + ("-loesungen" if solutions else "")


def render_handout(
    nb: NotebookNode,
    chapter: Chapter,
    out_dir: Path = HANDOUT_DIR,
    solutions: bool = False,
) -> Handout:
    """Render an *executed* notebook of ``chapter`` to ``out_dir/<notebook>[-loesungen].pdf``."""
    from pypdf import PdfReader

    stem = _stem(chapter, solutions)
    build = out_dir / "_work" / stem
    if build.exists():
        shutil.rmtree(build)
    build.mkdir(parents=True)
    prepare_build_dir(build)
    number = _chapter_number(chapter)
    body = handout_markdown(nb, build / "figures", chapter.slug, numbered=number is not None, solutions=solutions)
    variant = "Lehrendenversion mit Musterlösungen" if solutions else "Handout für Studierende"
    meta = HandoutMeta(
        title=chapter.title,
        subtitle=f"kundenwert-Kurs · {variant} · Stand {dt.date.today().strftime('%d.%m.%Y')}",
        chapter_number=number,
    )
    md_path = build / "handout.md"
    md_path.write_text(front_matter(meta) + "\n\n" + body, "utf-8")
    pdf = out_dir / f"{stem}.pdf"
    render(md_path, pdf, "typst", layout="handout")
    return Handout(chapter, pdf, len(PdfReader(pdf).pages))


def build_handouts(
    out_dir: Path = HANDOUT_DIR,
    slugs: Iterable[str] | None = None,
    solutions: bool = False,
    executed_dir: Path | None = None,
    progress=print,
) -> list[Handout]:
    """Execute (or read from ``executed_dir``) and render the handout of each chapter.

    All chapters run in one kernel, in report order, as the course version (student or
    instructor). A missing notebook is an error.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = set(slugs) if slugs else None
    selected = [ch for ch in CHAPTERS if wanted is None or ch.slug in wanted]
    sources = {ch.slug: (Path(executed_dir) / ch.notebook if executed_dir is not None else ch.path)
               for ch in selected}
    missing = [str(p) for p in sources.values() if not p.exists()]
    if missing:
        raise RenderError(f"Kapitel-Notebook nicht gefunden: {', '.join(missing)}.")
    if executed_dir is None:
        variant_dir = out_dir / "_executed" / ("lehrende" if solutions else "studierende")
        runs = [ChapterRun(ch.slug, ch.title, course.version(nbformat.read(sources[ch.slug], as_version=4),
                                                             instructor=solutions),
                           variant_dir / ch.notebook) for ch in selected]
        sources = execute_chapters(runs, None, cwd=NOTEBOOK_DIR,
                                   on_chapter=lambda i: progress(f"Ausführen: {selected[i].notebook}"))
    handouts = []
    for ch in selected:
        handout = render_handout(nbformat.read(sources[ch.slug], as_version=4), ch, out_dir, solutions)
        progress(f"{handout.pdf.name}: {handout.pages} Seiten")
        handouts.append(handout)
    return handouts


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.handout",
                                     description="Kapitel als PDF-Handouts mit Code und Ausgaben setzen.")
    parser.add_argument("slugs", nargs="*", help="Kapitel-Kürzel (z. B. rfm churn); Standard: alle")
    parser.add_argument("--out", type=Path, default=HANDOUT_DIR, help="Zielordner (Standard: build/handouts)")
    parser.add_argument("--loesungen", action="store_true", help="Musterlösungen aufnehmen (Lehrendenversion)")
    parser.add_argument("--executed", type=Path, default=None,
                        help="Ordner mit bereits ausgeführten Notebooks (sonst werden sie hier ausgeführt)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    unknown = set(args.slugs) - {ch.slug for ch in CHAPTERS}
    if unknown:
        print(f"Unbekannte Kapitel: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    try:
        handouts = build_handouts(args.out, args.slugs or None, args.loesungen, args.executed)
    except RenderError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"{len(handouts)} Handouts in {args.out.resolve()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
