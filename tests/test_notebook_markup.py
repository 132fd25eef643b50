"""Notebook Markdown reads well in JupyterLab, and the assembled PDF Markdown still has its
cross-references (issue 16).

JupyterLab shows pandoc/Quarto markup literally, so Markdown cells carry no ``{#sec-…}`` ids and no
``@sec-…``/``@tbl-…``/``@fig-…`` citations. A reference is an ordinary link – to a chapter notebook
(``[Anhang](07-anhang.ipynb)``) or to a label (``[Prüfprotokoll](#tbl-data-ledger)``) – and the
assembler turns it into a numbered cross-reference; it also gives each chapter heading its id.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from helpers.chapters import CHAPTERS
from helpers.report import assemble
from helpers.report.assemble import chapter_markdown, document_markdown, link_reference
from helpers.report.display import Table, lab_markdown

RAW_MARKUP = re.compile(r"\{#(?:sec|tbl|fig)-|(?<![\w\\])@(?:sec|tbl|fig)-")
NB_LINK = re.compile(r"\]\(([^()\s]*\.ipynb[^()\s]*|#[^()\s]+)\)")


def _notebook(chapter):
    return nbformat.read(chapter.path, as_version=4)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda ch: ch.slug)
def test_markdown_cells_have_no_raw_quarto_markup(chapter):
    nb = _notebook(chapter)
    raw = [(i, line.strip()) for i, c in enumerate(nb.cells) if c.cell_type == "markdown"
           for line in c.source.splitlines() if RAW_MARKUP.search(line)]
    assert not raw, (f"{chapter.notebook}: Quarto-Markup wird in JupyterLab wörtlich angezeigt – "
                     f"stattdessen einen Link schreiben ([Anhang](07-anhang.ipynb), [Tabelle](#tbl-x)): {raw}")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda ch: ch.slug)
def test_notebook_links_resolve_to_references(chapter):
    """Every link to a notebook or a label in a Markdown cell is one the assembler understands, and a
    label link points to a table or figure of the same chapter."""
    nb = _notebook(chapter)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for target in NB_LINK.findall(cell.source):
            ref = link_reference(target)
            assert ref, f"{chapter.notebook}, Zelle {i}: Link {target!r} zeigt auf kein Kapitel und kein Label"
            if not ref.startswith("sec-"):
                assert f'"{ref}"' in code or f"label: {ref}" in code, \
                    f"{chapter.notebook}, Zelle {i}: Label {ref} gibt es in diesem Kapitel nicht"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda ch: ch.slug)
def test_assembled_chapter_has_section_id(chapter, tmp_path):
    md = chapter_markdown(_notebook(chapter), chapter.slug, tmp_path)
    assert md.splitlines()[0] == f"# {chapter.title} {{#sec-{chapter.slug}}}"
    assert md.count("{#sec-") == 1


def test_assembled_references_of_the_course_notebooks(tmp_path):
    by_slug = {ch.slug: ch for ch in CHAPTERS}
    summary = chapter_markdown(_notebook(by_slug["summary"]), "summary", tmp_path)
    assert "stehen im Anhang (@sec-appendix)." in summary
    data = chapter_markdown(_notebook(by_slug["data"]), "data", tmp_path)
    assert "Das Prüfprotokoll (@tbl-data-ledger) zeigt" in data
    assert "](#" not in summary + data and ".ipynb)" not in summary + data


def test_document_markdown_rewrites_only_reference_links():
    text = ("im [Anhang](07-anhang.ipynb), siehe [RFM](./03-rfm-segmentierung.ipynb#segmente) und "
            "[Tabelle](#tbl-data-ledger); [Web](https://example.org/07-anhang.ipynb), "
            "[fremd](08-unbekannt.ipynb), ![Bild](07-anhang.ipynb), `[Code](07-anhang.ipynb)`")
    assert document_markdown(text) == (
        "im Anhang (@sec-appendix), siehe RFM (@sec-rfm) und Tabelle (@tbl-data-ledger); "
        "[Web](https://example.org/07-anhang.ipynb), [fremd](08-unbekannt.ipynb), "
        "![Bild](07-anhang.ipynb), `[Code](07-anhang.ipynb)`")
    fenced = "```python\nprint('[Anhang](07-anhang.ipynb)')\n```"
    assert document_markdown(fenced) == fenced


def test_heading_id_added_once_and_existing_ids_kept(tmp_path):
    nb = new_notebook(cells=[
        new_code_cell("x = 1"),
        new_markdown_cell("# Anhang\n\nText mit [Kapitel](03-rfm-segmentierung.ipynb)."),
        new_markdown_cell("# Noch eine Überschrift"),
    ])
    md = chapter_markdown(nb, "appendix", tmp_path)
    assert md.startswith("# Anhang {#sec-appendix}\n\nText mit Kapitel (@sec-rfm).")
    assert "# Noch eine Überschrift\n" in md + "\n" and md.count("{#sec-") == 1
    assert assemble.with_section_id("# Titel {#sec-eigen}", "appendix") == "# Titel {#sec-eigen}"


def test_lab_html_of_a_table_carries_its_label_as_anchor():
    import pandas as pd

    html = Table(pd.DataFrame({"a": [1]}), "Prüfprotokoll", "tbl-data-ledger")._repr_html_()
    assert html.startswith('<div id="tbl-data-ledger">')
    assert lab_markdown("siehe @sec-appendix") == "siehe Kapitel „Anhang“"
