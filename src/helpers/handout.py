"""Course handouts: one German PDF per chapter with code, teaching text and outputs.

Unlike the client report, a handout shows *everything* a student sees in JupyterLab:
Markdown cells (including ``teaching`` and ``exercise`` text), the code of every code cell
(syntax-highlighted; Quarto ``#|`` option lines removed) and its outputs (Markdown from
``show_text``/``show_table``, figures, printed text). Solutions appear only in the
instructor variant.

Pipeline: execute the course version of the chapter (:func:`helpers.course.execute`), turn
it into pandoc Markdown (:func:`handout_markdown`), convert with pandoc to Typst and compile
with the ``typst`` Python package (:func:`render_pdf`), using the brand colours and fonts of
``reports/template/brand.yml``.

Usage::

    python -m helpers.handout [--out build/handouts] [--loesungen] [--executed DIR] [SLUG ...]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import nbformat
import yaml
from nbformat import NotebookNode

from . import course
from .chapters import CHAPTERS, Chapter
from .config import NOTEBOOK_DIR, PROJECT_ROOT, TEMPLATE_DIR
from .exceptions import RenderError

HANDOUT_DIR = PROJECT_ROOT / "build" / "handouts"
MAX_TEXT_LINES = 30
"""Printed text (``print``, plain ``repr``) longer than this is shortened in the handout."""

_REF = re.compile(r"(?<![\w@])@((fig|tbl|sec)-[a-z0-9][a-z0-9-]*[a-z0-9])")
_LABEL_DEF = re.compile(r"\{#((?:fig|tbl|sec)-[a-z0-9][a-z0-9-]*[a-z0-9])")
_HEADING = re.compile(r"^#+\s+(.+?)\s*\{#(sec-[a-z0-9][a-z0-9-]*[a-z0-9])[^}]*\}\s*$", re.MULTILINE)
_OPTION = re.compile(r"^#\|\s*([\w-]+)\s*:\s*(.*)$")
_KIND = {"fig": "eine Abbildung", "tbl": "eine Tabelle"}


@dataclass(frozen=True)
class Handout:
    chapter: Chapter
    pdf: Path
    pages: int


# --------------------------------------------------------------------------- Markdown


def cell_options(source: str) -> tuple[dict[str, str], str]:
    """Split Quarto ``#| key: value`` lines off a code cell: ``(options, remaining code)``."""
    options: dict[str, str] = {}
    lines = source.splitlines()
    i = 0
    while i < len(lines) and (m := _OPTION.match(lines[i].strip())):
        value = m.group(2).strip()
        try:
            value = str(yaml.safe_load(value)) if value else ""
        except yaml.YAMLError:
            value = value.strip("\"'")
        options[m.group(1)] = value
        i += 1
    return options, "\n".join(lines[i:]).strip("\n")


def _fence(text: str, lang: str = "") -> str:
    """A fenced code block long enough not to collide with backticks inside ``text``."""
    ticks = "`" * max(3, max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}"


def _shorten(text: str) -> str:
    lines = text.rstrip("\n").splitlines()
    if len(lines) <= MAX_TEXT_LINES:
        return "\n".join(lines)
    return "\n".join(lines[:MAX_TEXT_LINES] + [f"… ({len(lines) - MAX_TEXT_LINES} weitere Zeilen gekürzt)"])


def _typst_box(kind: str, body: str) -> str:
    """Wrap Markdown ``body`` in a coloured Typst box (``exercise``/``solution``/``teaching``)."""
    return f"```{{=typst}}\n#{kind}-box[\n```\n\n{body}\n\n```{{=typst}}\n]\n```"


def _outputs(cell: NotebookNode, options: dict[str, str], image_dir: Path, stem: str) -> list[str]:
    parts: list[str] = []
    figure_no = 0
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "stream":
            if out.get("name") == "stdout" and out.get("text", "").strip():
                parts.append(_fence(_shorten(out["text"]), "txt"))
            continue
        if kind == "error":
            parts.append(_fence(f"{out.get('ename')}: {out.get('evalue')}", "txt"))
            continue
        data = out.get("data", {})
        if "image/png" in data:
            figure_no += 1
            name = f"{stem}-{cell.get('id', 'x')}-{figure_no}.png"
            (image_dir / name).write_bytes(base64.b64decode(data["image/png"]))
            caption = options.get("fig-cap", "")
            label = options.get("label", "") if figure_no == 1 else ""
            attrs = f"#{label} " if label.startswith("fig-") else ""
            parts.append(f"![{caption}]({image_dir.name}/{name}){{{attrs}width=100%}}")
        elif "text/markdown" in data:
            parts.append(data["text/markdown"].strip())
        elif "text/plain" in data and kind == "execute_result":
            parts.append(_fence(_shorten(data["text/plain"]), "txt"))
    return parts


def _heading_first(cells: list[NotebookNode]) -> list[NotebookNode]:
    """Cells with the chapter heading (first ``# …`` Markdown cell) moved before the setup code."""
    for i, cell in enumerate(cells):
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("# "):
            return [cell] + cells[:i] + cells[i + 1:]
    return list(cells)


def defined_labels(markdown: str) -> set[str]:
    """Cross-reference targets (``fig-…``, ``tbl-…``, ``sec-…``) defined in ``markdown``."""
    return set(_LABEL_DEF.findall(markdown))


def section_titles(markdown: str) -> dict[str, str]:
    """``sec-…`` label -> heading text, from Markdown headings ``## Text {#sec-…}``."""
    return {m.group(2): m.group(1).strip() for m in _HEADING.finditer(markdown)}


def resolve_references(markdown: str, labels: set[str], unnumbered: dict[str, str] | None = None) -> str:
    """``@fig-x`` → a Typst reference when ``x`` is in this handout, German text otherwise.

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
            return f"`@{label}`{{=typst}}"
        rest = label[len(kind) + 1:]
        slug = next((s for s in sorted(titles, key=len, reverse=True) if rest == s or rest.startswith(s + "-")), None)
        where = f"Kapitel „{titles[slug]}“" if slug else "im Bericht"
        if kind == "sec":
            return where
        return f"{_KIND[kind]} im {where}" if slug else f"{_KIND[kind]} im Bericht"

    return _REF.sub(replace, markdown)


def handout_markdown(nb: NotebookNode, image_dir: Path, stem: str = "abb", numbered: bool = True) -> str:
    """Pandoc Markdown of an executed course notebook (code, text and outputs).

    Figures are written as PNG files into ``image_dir``; the Markdown refers to them relative
    to ``image_dir.parent``.
    """
    image_dir.mkdir(parents=True, exist_ok=True)
    blocks: list[str] = []
    for cell in _heading_first(nb.cells):
        tags = course.tags(cell)
        if cell.cell_type == "raw" or "injected-parameters" in tags:
            continue
        if cell.cell_type == "markdown":
            text = cell.source.strip()
            if "exercise" in tags:
                text = _typst_box("exercise", text)
            elif "solution" in tags:
                text = _typst_box("solution", text)
            blocks.append(text)
            continue
        options, code = cell_options(cell.source)
        if not code:
            continue
        if "parameters" in tags:
            blocks.append("**Parameter des Notebooks** (für eigene Daten hier anpassen):")
        code_block = _fence(code, "python")
        if "exercise" in tags:
            code_block = _typst_box("exercise", "**Ihr Code** (Gerüst zum Ausfüllen):\n\n" + code_block)
        elif "solution" in tags:
            code_block = _typst_box("solution", "**Musterlösung:**\n\n" + code_block)
        blocks.append(code_block)
        blocks += _outputs(cell, options, image_dir, stem)
    markdown = "\n\n".join(blocks) + "\n"
    unnumbered = None if numbered else section_titles(markdown)
    return resolve_references(markdown, defined_labels(markdown), unnumbered)


# --------------------------------------------------------------------------- Typst


def _brand() -> dict:
    path = TEMPLATE_DIR / "brand.yml"
    return yaml.safe_load(path.read_text("utf-8")) if path.exists() else {}


def _font_list(wanted: Sequence[str]) -> str:
    """Typst font list of the ``wanted`` families that are available (plus a safe fallback)."""
    try:
        import typst

        available = {f.lower() for f in typst.Fonts(include_system_fonts=True).families()}
    except Exception:  # pragma: no cover - older typst bindings
        available = set()
    fonts = [f for f in wanted if not available or f.lower() in available]
    fonts += [f for f in ("Libertinus Serif", "DejaVu Sans") if f not in fonts]
    return "(" + ", ".join(f'"{f}"' for f in fonts) + ",)"


def typst_preamble(title: str, subtitle: str, chapter_number: int | None) -> str:
    """Page setup, colours and boxes of the handout (brand colours from ``brand.yml``)."""
    brand = _brand()
    colors = {"primary": "#1B4F72", "accent": "#F18F01", "positive": "#3B8B5A", "light": "#EEF3F7",
              "text": "#1F2933", "neutral": "#8A8F98", **brand.get("colors", {})}
    fonts = brand.get("fonts", {})
    body = _font_list([fonts.get("body", "Libertinus Serif")])
    heading = _font_list([fonts.get("heading", "Libertinus Sans"), "DejaVu Sans"])
    counter = (f"#set heading(numbering: \"1.1\")\n#counter(heading).update({chapter_number - 1})"
               if chapter_number else "")
    esc = lambda s: s.replace("\\", "\\\\").replace('"', '\\"')  # noqa: E731
    return f"""
#let primary = rgb("{colors['primary']}")
#let accent = rgb("{colors['accent']}")
#let positive = rgb("{colors['positive']}")
#let light = rgb("{colors['light']}")
#let neutral = rgb("{colors['neutral']}")
#set document(title: "{esc(title)}")
#set page(paper: "a4", margin: (x: 2.2cm, top: 2.4cm, bottom: 2.2cm),
  header: context {{ if counter(page).get().first() > 1 [
    #set text(size: 8pt, fill: neutral)
    {esc(subtitle)} #h(1fr) {esc(title)}
  ] }},
  footer: context [
    #set text(size: 8pt, fill: neutral)
    #h(1fr) Seite #counter(page).display() von #counter(page).final().first()
  ])
#set text(font: {body}, size: 10.5pt, lang: "de", region: "de", fill: rgb("{colors['text']}"))
#set par(justify: true, leading: 0.6em)
#show heading: set text(font: {heading}, fill: primary)
#show heading.where(level: 1): it => {{ v(0.4em); text(size: 18pt, it); v(0.3em) }}
#show raw: set text(font: ("DejaVu Sans Mono",), size: 8.2pt)
#show raw.where(block: true): it => if it.lang == "txt" {{
  block(inset: (left: 9pt, y: 4pt), width: 100%, stroke: (left: 0.8pt + neutral), it)
}} else {{
  block(fill: light, inset: 7pt, radius: 3pt, width: 100%, stroke: (left: 2pt + primary), it)
}}
#show figure.where(kind: table): set figure.caption(position: top)
#show figure.where(kind: table): set block(breakable: true)
#set table(stroke: 0.5pt + neutral, inset: 4pt, fill: (x, y) => if y == 0 {{ light }})
#show table: set text(size: 8.5pt, hyphenate: true)
#show table: set par(justify: false)
#show link: set text(fill: primary)
#let exercise-box(body) = block(fill: accent.lighten(88%), stroke: (left: 3pt + accent),
  inset: 9pt, radius: 3pt, width: 100%, body)
#let solution-box(body) = block(fill: positive.lighten(88%), stroke: (left: 3pt + positive),
  inset: 9pt, radius: 3pt, width: 100%, body)
#block(width: 100%, inset: (bottom: 6pt), stroke: (bottom: 1pt + primary))[
  #text(size: 9pt, fill: neutral)[{esc(subtitle)}]
]
{counter}
"""


_EQUAL_COLUMNS = re.compile(r"columns: \(((?:[0-9.]+%, )+[0-9.]+%)\),")


def auto_columns(typst_source: str) -> str:
    """Let Typst size table columns by content where pandoc fell back to equal widths.

    Pandoc gives wide pipe tables equal column widths, which squeezes text columns next to
    short number columns; ``columns: n`` (auto widths) fits the content instead.
    """

    def replace(m: re.Match) -> str:
        widths = [w.strip() for w in m.group(1).split(",")]
        return f"columns: {len(widths)}," if len(set(widths)) == 1 else m.group(0)

    return _EQUAL_COLUMNS.sub(replace, typst_source)


def render_pdf(markdown: str, workdir: Path, pdf: Path, preamble: str) -> int:
    """Convert ``markdown`` (images relative to ``workdir``) to ``pdf``; returns the page count."""
    import pypandoc
    import typst
    from pypdf import PdfReader

    try:
        body = pypandoc.convert_text(markdown, "typst", format="markdown-citations",
                                     extra_args=["--wrap=preserve"])
    except RuntimeError as exc:
        raise RenderError(f"pandoc konnte das Handout nicht umwandeln: {exc}") from exc
    body = auto_columns(body)
    source = workdir / "handout.typ"
    source.write_text(preamble + "\n" + body, "utf-8")
    tmp = pdf.with_suffix(".pdf.part")
    try:
        typst.compile(str(source), output=str(tmp), root=str(workdir))
    except Exception as exc:  # typst.TypstError and friends
        raise RenderError(f"Typst konnte das Handout {pdf.name} nicht setzen: {exc}") from exc
    tmp.replace(pdf)
    return len(PdfReader(pdf).pages)


# --------------------------------------------------------------------------- chapters


def _chapter_number(chapter: Chapter) -> int | None:
    prefix = chapter.notebook[:2]
    return int(prefix) if prefix.isdigit() and int(prefix) > 0 else None


def render_handout(
    nb: NotebookNode,
    chapter: Chapter,
    out_dir: Path = HANDOUT_DIR,
    solutions: bool = False,
) -> Handout:
    """Render an *executed* notebook of ``chapter`` to ``out_dir/<notebook>[-loesungen].pdf``."""
    stem = chapter.notebook.removesuffix(".ipynb") + ("-loesungen" if solutions else "")
    workdir = out_dir / "_work" / stem
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    number = _chapter_number(chapter)
    markdown = handout_markdown(nb, workdir / "abbildungen", stem, numbered=number is not None)
    (workdir / "handout.md").write_text(markdown, "utf-8")
    variant = "Lehrendenversion mit Musterlösungen" if solutions else "Handout für Studierende"
    subtitle = f"kundenwert-Kurs · {variant} · Stand {dt.date.today().strftime('%d.%m.%Y')}"
    pdf = out_dir / f"{stem}.pdf"
    pages = render_pdf(markdown, workdir, pdf, typst_preamble(chapter.title, subtitle, number))
    return Handout(chapter, pdf, pages)


def _execute(nb: NotebookNode, name: str) -> NotebookNode:
    from nbclient.exceptions import CellExecutionError

    try:
        return course.execute(nb, cwd=NOTEBOOK_DIR)[0]
    except CellExecutionError as exc:
        raise RenderError(f"Das Notebook {name} bricht bei der Ausführung ab: {str(exc)[-400:]}") from exc


def build_handouts(
    out_dir: Path = HANDOUT_DIR,
    slugs: Iterable[str] | None = None,
    solutions: bool = False,
    executed_dir: Path | None = None,
    progress=print,
) -> list[Handout]:
    """Execute (or read from ``executed_dir``) and render the handout of each chapter.

    Chapters whose notebook does not exist are skipped with a German message.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = set(slugs) if slugs else None
    handouts = []
    for chapter in CHAPTERS:
        if wanted is not None and chapter.slug not in wanted:
            continue
        if executed_dir is not None:
            source = Path(executed_dir) / chapter.notebook
        else:
            source = chapter.path
        if not source.exists():
            progress(f"übersprungen: {source.name} fehlt")
            continue
        nb = nbformat.read(source, as_version=4)
        if executed_dir is None:
            nb = _execute(course.version(nb, instructor=solutions), source.name)
        elif not solutions:
            nb.cells = [c for c in nb.cells if not course.has_tag(c, course.SOLUTION)]
        handout = render_handout(nb, chapter, out_dir, solutions)
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
    if not handouts:
        print("Keine Handouts erzeugt: keine Kapitel-Notebooks gefunden.", file=sys.stderr)
        return 1
    print(f"{len(handouts)} Handouts in {args.out.resolve()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
