"""Executed chapter notebooks -> one pandoc Markdown document (client report or course handout).

One assembler, two policies (:class:`AssemblyPolicy`): what reaches the document is decided by
the policy, everything else (cell options, figures, tables, front matter) is shared.

:data:`REPORT` – the client report (docs/architecture.md, "What reaches the client PDF"):

- markdown cells, except those tagged ``teaching``, ``exercise``, ``solution``, ``remove-cell``;
- code is never shown; of code-cell outputs only ``text/markdown`` and ``image/png`` are used
  (PNG written to ``figures_dir``, caption and label from the ``#| fig-cap`` / ``#| label``
  cell options); ``stream``, plain-text, HTML and error outputs are dropped;
- raw cells (per-notebook Quarto front matter) are dropped;
- code cells tagged ``parameters``, ``injected-parameters`` or ``remove-output`` (and the
  markdown exclusion tags) contribute nothing.

Course handouts (:mod:`helpers.handout`) use a policy that shows the code (``#|`` option lines
removed), printed text (shortened), teaching and exercise cells, solutions only for instructors.
In both, the chapter heading comes first (before the setup code).

**Notebook Markdown vs. document Markdown.** Markdown cells are written for JupyterLab, which shows
Quarto/pandoc markup literally; the assembler adds what the PDF needs (:func:`document_markdown`):

- the chapter's first level-1 heading gets the id ``{#sec-<chapter slug>}`` (notebooks carry none);
- a Markdown link to another chapter's notebook, ``[Anhang](07-anhang.ipynb)`` (opens that notebook
  in the lab), becomes ``Anhang (@sec-appendix)``;
- a link to a label, ``[Prüfprotokoll](#tbl-data-ledger)`` (jumps to the table in the lab, see
  :class:`helpers.report.display.Table`), becomes ``Prüfprotokoll (@tbl-data-ledger)``.

Both reach Typst as numbered cross-references („Kapitel 8“, „Tabelle 2“; ``crossref.lua``).
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import nbformat
import yaml

from .escape import yaml_md_string

log = logging.getLogger(__name__)
HIDE_OUTPUT_TAG = "remove-output"
"""Quarto convention: the cell's outputs are hidden (its code is still shown where code is shown)."""
_OPTION = re.compile(r"^\s*#\|\s?(.*)$")
_SAFE_NAME = re.compile(r"[^a-z0-9-]+")
_LINK = re.compile(r"(?<![!\\\]])\[([^\[\]\n]+)\]\(\s*([^()\s]+?)\s*\)")
"""A Markdown inline link ``[text](target)`` (not an image, no nested brackets)."""
_LABEL_TARGET = re.compile(r"^#((?:fig|tbl|sec)-[a-z0-9][a-z0-9-]*)$")
_ATTRS = re.compile(r"\{[^{}]*\}\s*$")
TEXT_WIDTH_CM = 16.4
"""Text width of the A4 templates (21 cm minus 2 x 2.3 cm margins)."""
MAX_FIGURE_HEIGHT_CM = 10.0
"""Tall figures are shrunk so they never take more than this height: two fit on one page and a
figure that does not fit below the text leaves at most about 40 % of a page empty."""
HEADER_CLIENT_CHARS = 60
"""The running header shows the client name shortened to this many characters (title page: in full)."""


@dataclass(frozen=True)
class AssemblyPolicy:
    """What of an executed notebook reaches the document."""

    drop_tags: frozenset[str]
    """Cells with any of these tags contribute nothing (raw cells never do)."""
    show_code: bool = False
    """Show the code of code cells as Python blocks (Quarto ``#|`` option lines removed)."""
    text_outputs: bool = False
    """Also show printed text (stdout), plain-text results and errors, shortened to ``max_text_lines``."""
    max_text_lines: int = 30
    boxed_tags: tuple[str, ...] = ()
    """Cells with one of these tags are set in a Typst box ``#<tag>-box[...]`` (the layout defines it)."""
    code_intros: Mapping[str, str] = field(default_factory=dict)
    """Tag -> Markdown line shown before the code of a cell with that tag."""


REPORT = AssemblyPolicy(
    drop_tags=frozenset({"teaching", "exercise", "solution", "remove-cell", "parameters", "injected-parameters"}),
)
"""The client report: no code, no course material, only Markdown text, tables and figures."""


@dataclass(frozen=True)
class ReportMeta:
    """Title-page values (plain text; escaped when written)."""

    client: str
    period: str | None = None
    report_date: str | None = None
    consultant: str | None = None
    logo: str | None = None
    """File name of the logo inside the template folder of the build (not user text)."""
    title: str = "Kundenwert-Analyse"
    pseudonymized: bool = False
    """Customer IDs in the report are pseudonyms (printed as a note on the title page)."""
    client_short: str | None = None
    """Client name for the running header; default :func:`short_name` of ``client``."""

    def __post_init__(self) -> None:
        if self.client_short is None:
            object.__setattr__(self, "client_short", short_name(self.client))


def short_name(name: str, limit: int = HEADER_CLIENT_CHARS) -> str:
    """``name`` on one line, cut at a word boundary to at most ``limit`` characters plus „…“."""
    name = " ".join(str(name).split())
    if len(name) <= limit:
        return name
    cut = name[:limit]
    if " " in cut[limit // 2:]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:–-/&") + "…"


def cell_tags(cell) -> list[str]:
    """Tags of a notebook cell (empty list when none)."""
    return list(cell.get("metadata", {}).get("tags", []) or [])


def split_options(source: str) -> tuple[dict, str]:
    """Quarto ``#| key: value`` options at the top of a code cell (YAML values) and the remaining code."""
    lines = source.splitlines()
    option_lines: list[str] = []
    i = 0
    while i < len(lines):
        m = _OPTION.match(lines[i])
        if m:
            option_lines.append(m.group(1))
        elif lines[i].strip():
            break
        i += 1
    code = "\n".join(lines[i:]).strip("\n")
    if not option_lines:
        return {}, code
    try:
        opts = yaml.safe_load("\n".join(option_lines))
    except yaml.YAMLError:
        opts = None
    if isinstance(opts, dict):
        return {str(k): v for k, v in opts.items()}, code
    out = {}
    for line in option_lines:  # tolerant fallback: "key: value" per line, value as text
        key, _, value = line.partition(":")
        out[key.strip()] = value.strip().strip('"')
    return out, code


def cell_options(source: str) -> dict:
    """Quarto ``#| key: value`` options at the top of a code cell (YAML values)."""
    return split_options(source)[0]


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def png_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` in pixels from the PNG header, ``None`` if not a PNG."""
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def figure_width_pct(data: bytes) -> int:
    """Width in % of the text width: 100, or less for tall figures (height <= MAX_FIGURE_HEIGHT_CM)."""
    size = png_size(data)
    if not size or size[0] == 0:
        return 100
    height_at_full_width = TEXT_WIDTH_CM * size[1] / size[0]
    return max(40, min(100, int(100 * MAX_FIGURE_HEIGHT_CM / height_at_full_width)))


def _figure(png_b64: str, figures_dir: Path, rel_dir: str, name: str, caption: str | None, label: str | None) -> str:
    figures_dir.mkdir(parents=True, exist_ok=True)
    file = figures_dir / f"{name}.png"
    data = base64.b64decode(png_b64)
    file.write_bytes(data)
    attrs = [f"#{label}"] if label else []
    attrs.append(f'width="{figure_width_pct(data)}%"')
    return f"![{_one_line(caption) if caption else ''}]({rel_dir}/{file.name}){{{' '.join(attrs)}}}"


def fence(text: str, lang: str = "") -> str:
    """A fenced code block long enough not to collide with backticks inside ``text``."""
    ticks = "`" * max(3, max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}"


def shorten(text: str, max_lines: int) -> str:
    """At most ``max_lines`` lines of ``text`` plus a German note on how many were cut."""
    lines = text.rstrip("\n").splitlines()
    if len(lines) <= max_lines:
        return "\n".join(lines)
    return "\n".join(lines[:max_lines] + [f"… ({len(lines) - max_lines} weitere Zeilen gekürzt)"])


def typst_box(kind: str, body: str) -> str:
    """Wrap Markdown ``body`` in the layout's Typst box ``#<kind>-box[...]``."""
    return f"```{{=typst}}\n#{kind}-box[\n```\n\n{body}\n\n```{{=typst}}\n]\n```"


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def cell_outputs(cell, options: Mapping, policy: AssemblyPolicy, figures_dir: Path, rel_dir: str,
                 name: str) -> list[str]:
    """Markdown blocks of a code cell's outputs under ``policy``."""
    label = options.get("label")
    label = str(label) if label and str(label).startswith("fig-") else None
    caption = options.get("fig-cap")
    blocks: list[str] = []
    n_images = 0
    stdout: list[str] = []

    def flush_stdout() -> None:
        text = "".join(stdout)
        stdout.clear()
        if text.strip():
            blocks.append(fence(shorten(text, policy.max_text_lines), "txt"))

    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "stream":
            if policy.text_outputs and out.get("name") == "stdout":
                stdout.append(_text(out.get("text", "")))
            continue
        flush_stdout()
        if kind == "error":
            if policy.text_outputs:
                blocks.append(fence(f"{out.get('ename')}: {out.get('evalue')}", "txt"))
            continue
        if kind not in ("display_data", "execute_result"):
            continue
        data = out.get("data", {})
        if "text/markdown" in data:
            blocks.append(_text(data["text/markdown"]).strip())
        elif "image/png" in data:
            n_images += 1
            lab = label if n_images == 1 else (f"{label}-{n_images}" if label else None)
            cap = caption[n_images - 1] if isinstance(caption, list) and n_images <= len(caption) else caption
            if isinstance(cap, list):
                cap = None
            fname = _SAFE_NAME.sub("-", (lab or f"{name}-{n_images}").lower())
            blocks.append(_figure(_text(data["image/png"]), figures_dir, rel_dir, fname, cap, lab))
        elif policy.text_outputs and kind == "execute_result" and "text/plain" in data:
            blocks.append(fence(shorten(_text(data["text/plain"]), policy.max_text_lines), "txt"))
    flush_stdout()
    return [b for b in blocks if b]


def cell_blocks(cell, figures_dir: Path, rel_dir: str, name: str, policy: AssemblyPolicy = REPORT) -> list[str]:
    """Markdown blocks one cell contributes to the document (possibly none)."""
    tags = set(cell_tags(cell))
    if cell.cell_type not in ("markdown", "code") or tags & policy.drop_tags:
        return []
    box = next((t for t in policy.boxed_tags if t in tags), None)
    if cell.cell_type == "markdown":
        text = cell.source.strip()
        return [typst_box(box, text) if box else text] if text else []
    options, code = split_options(cell.source)
    blocks: list[str] = []
    if policy.show_code and code:
        intro = next((text for tag, text in policy.code_intros.items() if tag in tags), None)
        shown = [intro, fence(code, "python")] if intro else [fence(code, "python")]
        blocks += [typst_box(box, "\n\n".join(shown))] if box else shown
    if HIDE_OUTPUT_TAG not in tags:
        blocks += cell_outputs(cell, options, policy, figures_dir, rel_dir, name)
    return [b for b in blocks if b]


def _heading_first(cells: list) -> list[tuple[int, object]]:
    """``(index, cell)`` with the chapter heading (first ``# …`` Markdown cell) moved before the setup code."""
    indexed = list(enumerate(cells))
    for pos, (_, cell) in enumerate(indexed):
        if _is_chapter_heading(cell):
            return [indexed[pos]] + indexed[:pos] + indexed[pos + 1:]
    return indexed


def _chapter_notebooks() -> dict[str, str]:
    """Notebook file name -> chapter slug (the chapter registry)."""
    from ..chapters import CHAPTERS

    return {ch.notebook: ch.slug for ch in CHAPTERS}


def link_reference(target: str) -> str | None:
    """The cross-reference (``sec-…``, ``tbl-…``, ``fig-…``) a notebook link ``target`` stands for:
    ``07-anhang.ipynb`` (also ``./07-anhang.ipynb``, ``07-anhang.ipynb#…``) -> ``sec-appendix``,
    ``#tbl-data-ledger`` -> ``tbl-data-ledger``; ``None`` for any other link (kept as a link)."""
    label = _LABEL_TARGET.match(target)
    if label:
        return label.group(1)
    path = target.split("#", 1)[0]
    if "://" in path or not path.endswith(".ipynb"):
        return None
    slug = _chapter_notebooks().get(path.rsplit("/", 1)[-1])
    return f"sec-{slug}" if slug else None


def document_markdown(text: str) -> str:
    """A notebook Markdown cell as the document needs it: links to chapter notebooks and to labels
    become ``text (@ref)`` (see module docstring); code spans and code blocks are left alone."""
    from .checks import mask_markdown

    masked = mask_markdown(text)
    out: list[str] = []
    pos = 0
    for m in _LINK.finditer(text):
        ref = link_reference(m.group(2))
        if ref is None or masked[m.start():m.end(1)] != text[m.start():m.end(1)]:  # in code
            continue
        out += [text[pos:m.start()], f"{m.group(1)} (@{ref})"]
        pos = m.end()
    return "".join(out) + text[pos:]


def with_section_id(heading: str, chapter_slug: str) -> str:
    """``# Titel`` -> ``# Titel {#sec-<chapter_slug>}`` (first line; a heading with attributes is kept)."""
    first, _, rest = heading.strip().partition("\n")
    if _ATTRS.search(first) or not _SAFE_NAME.sub("", chapter_slug) == chapter_slug:
        return heading.strip()
    return f"{first.rstrip()} {{#sec-{chapter_slug}}}" + (f"\n{rest}" if rest else "")


def _is_chapter_heading(cell) -> bool:
    return cell.cell_type == "markdown" and cell.source.lstrip().startswith("# ")


def chapter_markdown(nb, chapter_slug: str, figures_dir: Path, rel_dir: str = "figures",
                     policy: AssemblyPolicy = REPORT) -> str:
    """Markdown of one executed chapter notebook under ``policy`` (chapter heading first, with the id
    ``sec-<chapter_slug>``; notebook links turned into cross-references, :func:`document_markdown`)."""
    blocks: list[str] = []
    heading_done = False
    for i, cell in _heading_first(nb.cells):
        if cell.cell_type == "markdown":
            cell = copy.copy(cell)
            cell.source = document_markdown(cell.source)
            if not heading_done and _is_chapter_heading(cell):
                cell.source = with_section_id(cell.source.lstrip(), chapter_slug)
                heading_done = True
        blocks += cell_blocks(cell, figures_dir, rel_dir, f"{chapter_slug}-zelle{i:03d}", policy)
    return "\n\n".join(blocks)


def front_matter(meta) -> str:
    """YAML metadata block for the pandoc template from a meta dataclass; all text is escaped.

    Field ``report_date`` becomes key ``report-date``; ``None`` and ``False`` are left out.
    """
    lines = ["---"]
    for f in dataclasses.fields(meta):
        value = getattr(meta, f.name)
        key = f.name.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            lines.append(f"{key}: true")
        elif isinstance(value, int):
            lines.append(f"{key}: {value}")
        else:
            lines.append(f"{key}: {yaml_md_string(value)}")
    lines += ["lang: de-DE", "---"]
    return "\n".join(lines)


_CARET_TOKEN = re.compile(r"\*[^*\s]+\*|\([^()\s]+\)|[\w]+(?:[.,]\w+)*")


def fix_carets(md: str) -> str:
    """Make every caret in prose print as intended: ``Quote^*t*`` or ``(1 + z)^(1/12)`` (an exponent
    written without pandoc's closing caret, which pandoc would print as a raw „^“) becomes the
    superscript ``^*t*^``; a caret followed by nothing that can be raised is escaped (``\\^``).
    Pandoc superscripts ``^x^``, escaped carets, code and math are left alone."""
    from .checks import mask_markdown

    masked = mask_markdown(md)
    out: list[str] = []
    pos = 0
    i = 0
    while i < len(md):
        if md[i] != "^" or masked[i] != "^" or (i > 0 and md[i - 1] == "\\"):
            i += 1
            continue
        line_end = md.find("\n", i)
        rest = md[i + 1: len(md) if line_end == -1 else line_end]
        pair = re.match(r"[^\s^]+(?<!\\)\^", rest)
        if pair:  # ^x^ already a superscript: skip past its closing caret
            i += 1 + pair.end()
            continue
        token = _CARET_TOKEN.match(rest)
        out.append(md[pos:i])
        if token:
            out.append("^" + token.group(0) + "^")
            pos = i = i + 1 + token.end()
        else:
            out.append("\\^")
            pos = i = i + 1
    out.append(md[pos:])
    return "".join(out)


def assemble(
    notebooks: Iterable[tuple[str, Path]], meta, figures_dir: Path, rel_dir: str = "figures",
    policy: AssemblyPolicy = REPORT,
) -> str:
    """``(chapter_slug, executed_notebook_path)`` pairs in document order -> full Markdown text.

    Carets in prose are made superscripts or escaped (:func:`fix_carets`); characters no font of the
    report can draw (emoji, CJK in client data) are dropped or replaced and logged
    (:func:`helpers.report.brand.replace_undrawable`), so the PDF never shows tofu.
    """
    from .brand import replace_undrawable

    parts = [front_matter(meta)]
    for slug, path in notebooks:
        nb = nbformat.read(str(path), as_version=4)
        md = chapter_markdown(nb, slug, figures_dir, rel_dir, policy)
        if md:
            parts.append(fix_carets(md))
    text, replaced = replace_undrawable("\n\n".join(parts) + "\n")
    if replaced:
        log.warning("Zeichen ohne passende Schrift im Bericht ersetzt oder entfernt: %s", " ".join(replaced[:30]))
    return text
