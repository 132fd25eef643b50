"""Executed chapter notebooks -> one pandoc Markdown document (the client report).

Inclusion rules (docs/architecture.md, "What reaches the client PDF"):

- markdown cells, except those tagged ``teaching``, ``exercise``, ``solution``, ``remove-cell``;
- code is never shown; of code-cell outputs only ``text/markdown`` and ``image/png`` are used
  (PNG written to ``figures_dir``, caption and label from the ``#| fig-cap`` / ``#| label``
  cell options); ``stream``, plain-text, HTML and error outputs are dropped;
- raw cells (per-notebook Quarto front matter) are dropped;
- code cells tagged ``parameters``, ``injected-parameters`` or ``remove-output`` (and the
  markdown exclusion tags) contribute nothing.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import nbformat
import yaml

from .escape import yaml_md_string

SKIP_MARKDOWN_TAGS = frozenset({"teaching", "exercise", "solution", "remove-cell"})
SKIP_CODE_TAGS = SKIP_MARKDOWN_TAGS | {"remove-output", "parameters", "injected-parameters"}
_OPTION = re.compile(r"^\s*#\|\s?(.*)$")
_SAFE_NAME = re.compile(r"[^a-z0-9-]+")
TEXT_WIDTH_CM = 16.4
"""Text width of the A4 template (21 cm minus 2 x 2.3 cm margins)."""
MAX_FIGURE_HEIGHT_CM = 11.0
"""Tall figures are shrunk so they never take more than this height (and never a whole page)."""


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


def cell_tags(cell) -> set[str]:
    """Tags of a notebook cell."""
    return set(cell.get("metadata", {}).get("tags", []) or [])


def cell_options(source: str) -> dict:
    """Quarto ``#| key: value`` options at the top of a code cell (YAML values)."""
    lines = []
    for line in source.splitlines():
        m = _OPTION.match(line)
        if not m:
            if line.strip() == "":
                continue
            break
        lines.append(m.group(1))
    if not lines:
        return {}
    try:
        opts = yaml.safe_load("\n".join(lines))
    except yaml.YAMLError:
        opts = None
    if isinstance(opts, dict):
        return {str(k): v for k, v in opts.items()}
    out = {}
    for line in lines:  # tolerant fallback: "key: value" per line, value as text
        key, _, value = line.partition(":")
        out[key.strip()] = value.strip().strip('"')
    return out


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


def cell_blocks(cell, figures_dir: Path, rel_dir: str, name: str) -> list[str]:
    """Markdown blocks one cell contributes to the report (possibly none)."""
    tags = cell_tags(cell)
    if cell.cell_type == "markdown":
        return [] if tags & SKIP_MARKDOWN_TAGS else [cell.source.strip()]
    if cell.cell_type != "code" or tags & SKIP_CODE_TAGS:
        return []
    opts = cell_options(cell.source)
    label = opts.get("label")
    label = str(label) if label and str(label).startswith("fig-") else None
    caption = opts.get("fig-cap")
    blocks: list[str] = []
    n_images = 0
    for out in cell.get("outputs", []):
        if out.get("output_type") not in ("display_data", "execute_result"):
            continue
        data = out.get("data", {})
        if "text/markdown" in data:
            md = data["text/markdown"]
            blocks.append(("".join(md) if isinstance(md, list) else md).strip())
        elif "image/png" in data:
            n_images += 1
            lab = label if n_images == 1 else (f"{label}-{n_images}" if label else None)
            cap = caption[n_images - 1] if isinstance(caption, list) and n_images <= len(caption) else caption
            if isinstance(cap, list):
                cap = None
            png = data["image/png"]
            png = "".join(png) if isinstance(png, list) else png
            fname = _SAFE_NAME.sub("-", (lab or f"{name}-{n_images}").lower())
            blocks.append(_figure(png, figures_dir, rel_dir, fname, cap, lab))
    return [b for b in blocks if b]


def chapter_markdown(nb, chapter_slug: str, figures_dir: Path, rel_dir: str = "figures") -> str:
    """Markdown of one executed chapter notebook."""
    blocks: list[str] = []
    for i, cell in enumerate(nb.cells):
        blocks += cell_blocks(cell, figures_dir, rel_dir, f"{chapter_slug}-zelle{i:03d}")
    return "\n\n".join(blocks)


def front_matter(meta: ReportMeta) -> str:
    """YAML metadata block for the pandoc template; all values are escaped."""
    lines = ["---", f"title: {yaml_md_string(meta.title)}", f"client: {yaml_md_string(meta.client)}"]
    if meta.period:
        lines.append(f"period: {yaml_md_string(meta.period)}")
    if meta.report_date:
        lines.append(f"report-date: {yaml_md_string(meta.report_date)}")
    if meta.consultant:
        lines.append(f"consultant: {yaml_md_string(meta.consultant)}")
    if meta.logo:
        lines.append(f"logo: {yaml_md_string(meta.logo)}")
    if meta.pseudonymized:
        lines.append("pseudonymized: true")
    lines += ["lang: de-DE", "---"]
    return "\n".join(lines)


def assemble(
    notebooks: Iterable[tuple[str, Path]], meta: ReportMeta, figures_dir: Path, rel_dir: str = "figures"
) -> str:
    """``(chapter_slug, executed_notebook_path)`` pairs in report order -> full Markdown text."""
    parts = [front_matter(meta)]
    for slug, path in notebooks:
        nb = nbformat.read(str(path), as_version=4)
        md = chapter_markdown(nb, slug, figures_dir, rel_dir)
        if md:
            parts.append(md)
    return "\n\n".join(parts) + "\n"
