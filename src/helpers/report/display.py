"""Client-facing outputs of notebook cells.

A chapter notebook shows report content in exactly three ways (see docs/architecture.md):

- :func:`show_text` – generated German sentences (``text/markdown`` output plus HTML for JupyterLab);
- :func:`show_table` – a captioned table (``text/markdown`` pipe table plus HTML for JupyterLab);
- a matplotlib figure in a cell with ``#| label: fig-...`` and ``#| fig-cap: "..."`` options.

Everything that comes from the client's data (names, categories) must pass
through :func:`md_escape` before it becomes Markdown; :func:`show_table` does that
for every cell.

The report assembler reads only ``text/markdown`` (with Quarto cross-references such as
``@fig-rfm-heatmap`` and labels ``{#tbl-x}``). JupyterLab prefers ``text/html`` over Markdown, so
both display objects also carry an HTML version for the lab in which references read as German
words („Abbildung“, „Tabelle“, „Kapitel „Abwanderungsprognose““) and label attributes are removed
(:func:`lab_markdown`).
"""

from __future__ import annotations

import html
import re
import string
from typing import Callable, Mapping

import pandas as pd

_PUNCT = set(string.punctuation)
_LABEL = re.compile(r"^(tbl|fig|sec)-[a-z0-9][a-z0-9-]*$")
TABLE_LINE_CHARS = 105
"""About this many characters of 9 pt table text fit the report's text width (16,4 cm)."""
CELL_PAD_CHARS = 3
"""Cell padding (2 x 6 pt) in characters."""


def column_widths(cells: pd.DataFrame, align: Mapping[str, str]) -> list[int] | None:
    """Relative column widths (in characters) from the content, or ``None`` for a table narrow
    enough to be set at its natural widths.

    Every column first gets what its body needs unbroken (text: the longest word; right-aligned
    number columns: the longest cell, numbers never wrap); the rest of the line goes first to
    header words that would otherwise be hyphenated, then to cells that would wrap, each in
    proportion to the need. Headers may wrap between words and hyphenate when space is short.
    """
    natural: list[int] = []
    body_min: list[int] = []
    head_min: list[int] = []
    for col in cells.columns:
        texts = [str(v) for v in cells[col]]
        head = str(col)
        longest_cell = max((len(t) for t in texts), default=0)
        longest_word = max((len(w) for t in texts for w in t.split()), default=1)
        body = longest_cell if align.get(col) == "right" else longest_word
        body_min.append(body + CELL_PAD_CHARS)
        head_min.append(max(body, max((len(w) for w in head.split()), default=1)) + CELL_PAD_CHARS)
        natural.append(max(len(head), longest_cell) + CELL_PAD_CHARS)
    if sum(natural) <= TABLE_LINE_CHARS:
        return None
    widths = list(body_min)
    for target in (head_min, natural):
        spare = TABLE_LINE_CHARS - sum(widths)
        need = [max(0, t - w) for t, w in zip(target, widths)]
        if spare <= 0 or sum(need) == 0:
            continue
        share = min(1.0, spare / sum(need))
        widths = [w + int(n * share) for w, n in zip(widths, need)]
    return widths


_XREF = re.compile(r"(?<![\w@\\])-?@(fig|tbl|sec)-([a-z0-9]+(?:-[a-z0-9]+)*)")
_ATTR = re.compile(r"[ \t]*\{#(?:fig|tbl|sec)-[a-z0-9-]+[^}\n]*\}")
_XREF_WORD = {"fig": "Abbildung", "tbl": "Tabelle", "sec": "Kapitel"}


def _xref_word(kind: str, name: str) -> str:
    if kind == "sec":
        from ..labels import CHAPTER_TITLES

        title = CHAPTER_TITLES.get(name)
        if title:
            return f"Kapitel „{title}“"
    return _XREF_WORD[kind]


def lab_markdown(text: str) -> str:
    """``text`` as a reader of the notebook in JupyterLab should see it: Quarto cross-references
    (``@fig-…``, ``@tbl-…``, ``@sec-…``) become „Abbildung“, „Tabelle“ and „Kapitel „Titel““, label
    attributes (``{#tbl-x}``, ``{#sec-x}``) are removed. Escaped ``\\@`` (client data) is kept.
    """
    text = _ATTR.sub("", text)
    return _XREF.sub(lambda m: _xref_word(m.group(1), m.group(2)), text)


def lab_html(text: str) -> str:
    """HTML of :func:`lab_markdown` ``(text)`` for JupyterLab (pandoc; plain text if pandoc fails)."""
    md = lab_markdown(text)
    try:
        import pypandoc

        return pypandoc.convert_text(md, "html", format="markdown-citations", extra_args=["--mathjax"])
    except Exception:  # pragma: no cover - pandoc ships with pypandoc-binary
        return f'<div style="white-space: pre-wrap">{html.escape(md)}</div>'


def md_escape(text: object) -> str:
    """Escape ``text`` so pandoc Markdown (and Quarto) print it literally.

    Every ASCII punctuation character is backslash-escaped; pandoc then escapes
    it again for Typst/LaTeX. Newlines become spaces.
    """
    s = str(text).replace("\r", " ").replace("\n", " ")
    return "".join("\\" + ch if ch in _PUNCT else ch for ch in s)


class Markdown:
    """A ``text/markdown`` display object (what the report assembler picks up)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def _repr_markdown_(self) -> str:
        return self.text

    def _repr_html_(self) -> str:  # JupyterLab only; the assembler reads text/markdown
        return lab_html(self.text)

    def __repr__(self) -> str:  # shown as text/plain; never used in the report
        return self.text


def show_text(text: str) -> None:
    """Display generated German Markdown text as the cell's ``text/markdown`` output.

    Returns ``None`` so a call on the last line of a cell is not displayed twice.
    """
    from IPython.display import display

    display(Markdown(text.strip() + "\n"))


class Table:
    """A captioned table rendered as a pandoc pipe table (report) and HTML (JupyterLab)."""

    def __init__(
        self,
        df: pd.DataFrame,
        caption: str,
        label: str,
        formats: Mapping[str, Callable[[object], str]] | None = None,
        max_rows: int | None = 25,
        note: str | None = None,
        align: Mapping[str, str] | None = None,
    ) -> None:
        if not _LABEL.match(label) or not label.startswith("tbl-"):
            raise ValueError(f"table label must look like 'tbl-name', got {label!r}")
        self.caption = caption
        self.label = label
        self.note = note
        self.total_rows = len(df)
        shown = df if max_rows is None else df.head(max_rows)
        formats = dict(formats or {})
        cells = pd.DataFrame(index=shown.index)
        for col in shown.columns:
            f = formats.get(col)
            cells[col] = [(f(v) if f is not None else _default_format(v)) for v in shown[col]]
        self.cells = cells
        self.align = dict(align or {})
        for col in shown.columns:
            if col not in self.align:
                numeric = pd.api.types.is_numeric_dtype(shown[col])
                self.align[col] = "right" if numeric else "left"
        if max_rows is not None and self.total_rows > max_rows:
            from .. import fmt

            extra = (
                f"Gekürzt: gezeigt werden die ersten {fmt.integer(max_rows)} von "
                f"{fmt.integer(self.total_rows)} Zeilen."
            )
            self.note = f"{self.note} {extra}" if self.note else extra

    def _repr_markdown_(self) -> str:
        cols = list(self.cells.columns)
        head = "| " + " | ".join(md_escape(c) for c in cols) + " |"
        # pandoc sets a table wider than its line limit with relative widths = dashes per column
        widths = column_widths(self.cells, self.align) or [3] * len(cols)
        rule = "|" + "|".join(
            ("-" * w + ":" if self.align[c] == "right" else ":" + "-" * w if self.align[c] == "left"
             else ":" + "-" * w + ":")
            for c, w in zip(cols, widths)
        ) + "|"
        rows = ["| " + " | ".join(md_escape(v) for v in row) + " |" for row in self.cells.itertuples(index=False)]
        out = [head, rule, *rows, "", f": {self.caption} {{#{self.label}}}", ""]
        if self.note:
            out += [f"*{self.note}*", ""]
        return "\n".join(out)

    def _repr_html_(self) -> str:
        body = self.cells.to_html(index=False, escape=True)
        cap = f"<p><b>{html.escape(lab_markdown(self.caption))}</b></p>"
        note = f"<p><i>{html.escape(lab_markdown(self.note))}</i></p>" if self.note else ""
        # the id lets a notebook link ``[Prüfprotokoll](#tbl-data-ledger)`` jump to the table in the lab
        return f'<div id="{html.escape(self.label)}">{cap}{body}{note}</div>'

    def __repr__(self) -> str:
        return f"{self.caption}\n{self.cells.to_string(index=False)}"


def show_table(df: pd.DataFrame, caption: str, label: str, **kwargs) -> None:
    """Display ``df`` as a captioned report table; cells are formatted with ``formats``.

    Returns ``None`` so a call on the last line of a cell is not displayed twice.
    """
    from IPython.display import display

    display(Table(df, caption, label, **kwargs))


def _default_format(value: object) -> str:
    from .. import fmt

    if value is None or (isinstance(value, float) and pd.isna(value)):
        return fmt.MISSING
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, int) or (hasattr(value, "is_integer") and float(value).is_integer() and not isinstance(value, float)):
        return fmt.integer(value)
    if isinstance(value, float):
        return fmt.number(value, 2)
    if isinstance(value, pd.Timestamp):
        return fmt.date(value)
    return str(value)
