"""Display objects: Quarto markup for the PDF in ``text/markdown``, readable German HTML for JupyterLab."""

from __future__ import annotations

import pandas as pd
from IPython.core.formatters import DisplayFormatter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from helpers.report.assemble import chapter_markdown
from helpers.report.display import Markdown, Table, lab_markdown

TEXT = ("@fig-clv-holdout zeigt den Vergleich, @tbl-clv-models die Kennzahlen aller drei Modelle "
        "(siehe @sec-churn). Kontakt: info\\@beispiel\\.de\n")


def _bundle(obj) -> dict:
    """The MIME bundle IPython stores in the notebook for ``display(obj)``."""
    data, _ = DisplayFormatter().format(obj)
    return data


def _table() -> Table:
    df = pd.DataFrame({"Segment": ["Champions", "Gefährdet"], "Kunden": [1234, 56]})
    return Table(df, caption="Kunden je Segment", label="tbl-rfm-segmente", note="Vgl. @fig-rfm-heatmap.")


def test_lab_html_reads_as_german_text():
    html = _bundle(Markdown(TEXT))["text/html"]
    assert "Abbildung zeigt den Vergleich" in html
    assert "Tabelle die Kennzahlen" in html
    assert "Kapitel „Abwanderungsprognose“" in html.replace("\n", " ")
    assert "info@beispiel.de" in html  # escaped client data stays literal, not a reference
    assert "@fig" not in html and "@tbl" not in html and "@sec" not in html


def test_table_html_has_caption_without_label():
    html = _bundle(_table())["text/html"]
    assert "Kunden je Segment" in html and "Champions" in html
    assert "{#" not in html and html.count("tbl-rfm-segmente") == 1  # only as the anchor for links
    assert html.startswith('<div id="tbl-rfm-segmente">')
    assert "Vgl. Abbildung." in html


def test_lab_markdown_removes_label_attributes():
    assert lab_markdown("# Kundensegmentierung nach RFM {#sec-rfm}") == "# Kundensegmentierung nach RFM"
    assert lab_markdown(": Kunden je Segment {#tbl-rfm-segmente}") == ": Kunden je Segment"
    assert lab_markdown("@sec-unbekannt und -@fig-a") == "Kapitel und Abbildung"


def test_markdown_output_for_the_report_is_unchanged(tmp_path):
    """The assembler reads ``text/markdown`` only: the HTML for the lab changes nothing in the PDF."""
    text, table = Markdown(TEXT), _table()
    assert _bundle(text)["text/markdown"] == TEXT
    assert _bundle(table)["text/markdown"] == table._repr_markdown_()
    assert ": Kunden je Segment {#tbl-rfm-segmente}" in table._repr_markdown_()

    def notebook(full: bool):
        def out(obj):
            data = _bundle(obj) if full else {"text/markdown": _bundle(obj)["text/markdown"]}
            return new_output("display_data", data=data)
        return new_notebook(cells=[
            new_markdown_cell("# Kundenwert {#sec-clv}"),
            new_code_cell("show_text(...)", outputs=[out(text)]),
            new_code_cell("show_table(...)", outputs=[out(table)]),
        ])

    with_html = chapter_markdown(notebook(True), "clv", tmp_path / "a")
    markdown_only = chapter_markdown(notebook(False), "clv", tmp_path / "b")
    assert with_html == markdown_only
    assert "@fig-clv-holdout" in with_html and "{#tbl-rfm-segmente}" in with_html
    assert "Abbildung" not in with_html
