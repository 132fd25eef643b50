"""Assembler: executed notebooks -> pandoc Markdown (inclusion rules, figures, tables, front matter)."""

from __future__ import annotations

import base64

import nbformat
import pandas as pd
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from helpers.report.assemble import ReportMeta, assemble, cell_options, chapter_markdown, front_matter
from helpers.report.display import Table


def _md_out(text):
    return new_output("display_data", data={"text/markdown": text, "text/plain": "PLAIN-" + text})


def _executed_notebook(png: bytes) -> nbformat.NotebookNode:
    b64 = base64.b64encode(png).decode()
    table = Table(pd.DataFrame({"Segment": ["A*B"], "Kunden": [1234]}), caption="Kunden je Segment",
                  label="tbl-rfm-segmente")
    cells = [
        new_raw_cell("---\ntitle: \"X\"\nlang: de\n---"),
        new_code_cell("client_name = 'x'", metadata={"tags": ["parameters"]},
                      outputs=[_md_out("PARAMS-OUT")]),
        new_code_cell("client_name = 'y'", metadata={"tags": ["injected-parameters"]},
                      outputs=[_md_out("INJECTED-OUT")]),
        new_markdown_cell("# Kapitel {#sec-rfm}"),
        new_markdown_cell("Für Studierende", metadata={"tags": ["teaching"]}),
        new_markdown_cell("Aufgabe", metadata={"tags": ["exercise"]}),
        new_markdown_cell("Lösung", metadata={"tags": ["solution"]}),
        new_markdown_cell("Weg damit", metadata={"tags": ["remove-cell"]}),
        new_code_cell("print(1)", outputs=[
            new_output("stream", name="stdout", text="STREAM-OUT"),
            new_output("execute_result", data={"text/plain": "PLAIN-ONLY"}, execution_count=1),
            new_output("display_data", data={"text/html": "<b>HTML-ONLY</b>", "text/plain": "x"}),
            new_output("error", ename="ValueError", evalue="ERROR-OUT", traceback=[]),
        ]),
        new_code_cell("show_text(...)", outputs=[_md_out("Es gibt **7.000** Kunden (siehe @fig-rfm-heat).")]),
        new_code_cell("show_table(...)", outputs=[_md_out(table._repr_markdown_())]),
        new_code_cell('#| label: fig-rfm-heat\n#| fig-cap: "Kunden nach Score: R und F"\nplt.show()',
                      outputs=[new_output("display_data", data={"image/png": b64, "text/plain": "<Figure>"})]),
        new_code_cell("show_text('geheim')", metadata={"tags": ["remove-output"]}, outputs=[_md_out("REMOVED-OUT")]),
        new_code_cell("x", metadata={"tags": ["solution"]}, outputs=[_md_out("SOLUTION-OUT")]),
        new_code_cell("x", metadata={"tags": ["exercise"]}, outputs=[_md_out("EXERCISE-OUT")]),
        new_code_cell("plt.show()", outputs=[new_output("display_data", data={"image/png": b64})]),
    ]
    return new_notebook(cells=cells)


def test_cell_options_parses_quarto_yaml():
    src = '#| label: fig-a\n#| fig-cap: "Umsatz: je Monat"\n#| echo: false\nx = 1\n#| label: ignored'
    assert cell_options(src) == {"label": "fig-a", "fig-cap": "Umsatz: je Monat", "echo": False}
    assert cell_options("x = 1") == {}


def test_inclusion_rules(tmp_path, png_bytes):
    md = chapter_markdown(_executed_notebook(png_bytes), "rfm", tmp_path / "figures")
    assert md.startswith("# Kapitel {#sec-rfm}")
    assert "Es gibt **7.000** Kunden (siehe @fig-rfm-heat)." in md
    for banned in ("PARAMS-OUT", "INJECTED-OUT", "Für Studierende", "Aufgabe", "Lösung", "Weg damit",
                   "STREAM-OUT", "PLAIN-", "HTML-ONLY", "ERROR-OUT", "REMOVED-OUT", "SOLUTION-OUT",
                   "EXERCISE-OUT", "title:", "print(1)", "show_text"):
        assert banned not in md, banned


def test_figure_written_with_caption_and_label(tmp_path, png_bytes):
    md = chapter_markdown(_executed_notebook(png_bytes), "rfm", tmp_path / "figures")
    # the 3 x 2 in fixture is 10.9 cm high at full width: shrunk to 10 / 10.93 = 91 %
    assert '![Kunden nach Score: R und F](figures/fig-rfm-heat.png){#fig-rfm-heat width="91%"}' in md
    assert (tmp_path / "figures" / "fig-rfm-heat.png").read_bytes() == png_bytes
    # an unlabelled figure gets a file named after chapter and cell, no identifier
    assert '![](figures/rfm-zelle015-1.png){width="91%"}' in md
    assert (tmp_path / "figures" / "rfm-zelle015-1.png").exists()


def test_table_caption_and_escaped_cells(tmp_path, png_bytes):
    md = chapter_markdown(_executed_notebook(png_bytes), "rfm", tmp_path / "figures")
    assert ": Kunden je Segment {#tbl-rfm-segmente}" in md
    assert "| A\\*B | 1\\.234 |" in md


def test_front_matter_values_and_escaping():
    meta = ReportMeta(client='Müller "&" Söhne #set page(width: 1cm)\nGmbH', period="01.01.2024 – 30.06.2026",
                      report_date="27.11.2026", consultant="Dr. Ä \\ B", logo=None)
    fm = front_matter(meta)
    assert fm.startswith("---\n") and fm.endswith("\n---")
    data = yaml.safe_load(fm.strip("-\n"))
    assert data["client"] == 'Müller \\"\\&\\" Söhne \\#set page\\(width\\: 1cm\\) GmbH'
    assert data["report-date"] == "27\\.11\\.2026"
    assert data["consultant"] == "Dr\\. Ä \\\\ B"
    assert "logo" not in data and "pseudonymized" not in data and data["lang"] == "de-DE"
    assert yaml.safe_load(front_matter(ReportMeta(client="K", pseudonymized=True)).strip("-\n"))["pseudonymized"] is True


def test_assemble_orders_chapters_and_skips_empty(tmp_path):
    paths = []
    for slug, text in (("summary", "# Management Summary"), ("data", "# Datengrundlage"), ("empty", "")):
        nb = new_notebook(cells=[new_markdown_cell(text)] if text else [])
        p = tmp_path / f"{slug}.ipynb"
        nbformat.write(nb, str(p))
        paths.append((slug, p))
    md = assemble([paths[1], paths[0], paths[2]], ReportMeta(client="K"), tmp_path / "figures")
    assert md.index("# Datengrundlage {#sec-data}") < md.index("# Management Summary {#sec-summary}")
    assert md.endswith("# Management Summary {#sec-summary}\n")


def test_tall_figures_are_shrunk():
    from helpers.report.assemble import figure_width_pct, png_size

    def header(w, h):
        return b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + w.to_bytes(4, "big") + h.to_bytes(4, "big")

    assert png_size(header(800, 600)) == (800, 600)
    assert figure_width_pct(header(800, 400)) == 100  # 8.2 cm high at 16.4 cm width
    # 1000 x 1000 px: 16.4 cm high at full width -> 10 / 16.4 = 61 % (rounded down: 60)
    assert figure_width_pct(header(1000, 1000)) == 60
    assert figure_width_pct(header(100, 1000)) == 40  # never narrower than 40 %
    assert figure_width_pct(b"not a png") == 100


def test_assemble_raises_carets_and_replaces_undrawable_characters(tmp_path, caplog):
    from helpers.report import checks

    nb = new_notebook(cells=[
        new_markdown_cell("# Bestand {#sec-bestand}"),
        new_markdown_cell("Kunden × Wiederkaufquote^*t*; Segment „Raketen 🚀“."),
    ])
    path = tmp_path / "02.ipynb"
    nbformat.write(nb, str(path))
    with caplog.at_level("WARNING"):
        md = assemble([("economics", path)], ReportMeta(client="Start 🚀 GmbH"), tmp_path / "figures")
    assert "Wiederkaufquote^*t*^;" in md and "🚀" not in md
    assert '"Start GmbH"' in md and "client-short:" in md
    assert "🚀" in caplog.text
    assert checks.check_markdown(md) == []
