"""Chapter handouts (helpers.handout): the report's assembler with the handout policy (fast),
the report's renderer with the handout layout (slow)."""

from __future__ import annotations

import base64
import struct
import zlib

import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from helpers import handout
from helpers.chapters import Chapter
from helpers.report.assemble import front_matter, split_options


def _png(width: int = 4, height: int = 3) -> str:
    """A valid grey RGB PNG, base64-encoded like a notebook output."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x80" * (3 * width) for _ in range(height))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return base64.b64encode(png).decode()


PNG = _png()


def _tagged(cell, *tags):
    cell.metadata["tags"] = list(tags)
    return cell


def executed_notebook():
    """A hand-made 'executed' chapter notebook with every kind of output."""
    fig_cell = new_code_cell('#| label: fig-rfm-test\n#| fig-cap: "Kunden, nach Score"\nfig = plot()\nplt.show()')
    fig_cell.outputs = [new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})]
    text_cell = new_code_cell("show_text(satz)")
    text_cell.outputs = [new_output("display_data", data={"text/markdown": "Es gibt **12** Segmente.",
                                                          "text/plain": "x"})]
    long_cell = new_code_cell("for i in range(50): print(i)")
    long_cell.outputs = [new_output("stream", name="stdout", text="".join(f"{i}\n" for i in range(50)))]
    html_cell = new_code_cell("df")
    html_cell.outputs = [new_output("execute_result", data={"text/html": "<table/>", "text/plain": "   a\n0  1"},
                                    execution_count=1)]
    err_cell = new_code_cell("import warnings")
    err_cell.outputs = [new_output("stream", name="stderr", text="Warnung\n")]
    nb = new_notebook()
    nb.cells = [
        new_raw_cell("---\ntitle: x\nlang: de\n---"),
        _tagged(new_code_cell('data_path = "../data/x.csv"'), "parameters"),
        new_code_cell("from helpers import session"),
        new_markdown_cell("# Kundensegmentierung nach RFM {#sec-rfm}\n\nSiehe @fig-rfm-test und @sec-churn."),
        fig_cell, text_cell, long_cell, html_cell, err_cell,
        _tagged(new_markdown_cell("## Übung: Zählen"), "exercise"),
        _tagged(new_code_cell("n = ...  # Ihre Lösung"), "exercise", "skip-execution"),
        _tagged(new_code_cell("n = len(df)"), "solution"),
    ]
    return nb


def test_cell_options_are_split_off():
    opts, code = split_options('#| label: fig-x\n#| fig-cap: "Umsatz: je Monat"\nfig = f()\n#| not an option')
    assert opts == {"label": "fig-x", "fig-cap": "Umsatz: je Monat"}
    assert code == "fig = f()\n#| not an option"


def test_resolve_references():
    md = "Vgl. @fig-rfm-heatmap, @tbl-clv-top, @sec-churn und @fig-unbekannt-x; Mail a@sec-rfm.de"
    out = handout.resolve_references(md, {"fig-rfm-heatmap"})
    assert out.startswith("Vgl. @fig-rfm-heatmap, ")  # in this handout: the renderer's cross-reference
    assert "eine Tabelle im Kapitel „Kaufprognose und Kundenwert“" in out
    assert "Kapitel „Abwanderungsprognose“ und" in out
    assert "eine Abbildung im Bericht" in out
    assert "a@sec-rfm.de" in out  # not a reference


@pytest.mark.parametrize("solutions", [False, True])
def test_handout_markdown(tmp_path, solutions):
    md = handout.handout_markdown(executed_notebook(), tmp_path / "abb", "rfm", solutions=solutions)
    blocks = md.split("\n\n")
    assert blocks[0].startswith("# Kundensegmentierung nach RFM {#sec-rfm}")  # heading before setup code
    assert "Parameter des Notebooks" in md and 'data_path = "../data/x.csv"' in md
    assert "#|" not in md and "fig = plot()" in md  # options removed, code kept
    assert "title: x" not in md  # raw front matter dropped
    images = list((tmp_path / "abb").glob("*.png"))
    assert [p.name for p in images] == ["fig-rfm-test.png"] and images[0].read_bytes().startswith(b"\x89PNG")
    assert '![Kunden, nach Score](abb/fig-rfm-test.png){#fig-rfm-test width="81%"}' in md  # 4 x 3 px: 12,3 cm high at full width, shrunk to 10 / 12,3 = 81 % like in the report
    assert "Siehe @fig-rfm-test und Kapitel „Abwanderungsprognose“." in md
    assert "Es gibt **12** Segmente." in md
    assert "29\n… (20 weitere Zeilen gekürzt)" in md and "\n30\n" not in md
    assert "   a\n0  1" in md and "<table/>" not in md  # plain text instead of HTML
    assert "Warnung" not in md  # stderr is not part of the handout
    assert md.count("#exercise-box[") == 2 and "Ihr Code" in md
    assert (md.count("#solution-box[") == 1 and "Musterlösung" in md and "n = len(df)" in md) is solutions
    if not solutions:
        assert "solution-box" not in md and "n = len(df)" not in md


def test_handout_front_matter():
    meta = handout.HandoutMeta(title="Kundensegmentierung nach RFM", subtitle="Kurs · Stand 01.02.2026",
                               chapter_number=3)
    data = yaml.safe_load(front_matter(meta).strip("-\n"))
    assert data == {"title": "Kundensegmentierung nach RFM", "subtitle": "Kurs · Stand 01\\.02\\.2026",
                    "chapter-number": 3, "lang": "de-DE"}
    assert "chapter-number" not in front_matter(handout.HandoutMeta(title="Management Summary", subtitle="x"))


@pytest.mark.slow
def test_render_pdf(tmp_path):
    from pypdf import PdfReader

    chapter = Chapter("rfm", "03-rfm-segmentierung.ipynb", "helpers.analysis.rfm:compute")
    result = handout.render_handout(executed_notebook(), chapter, tmp_path, solutions=True)
    assert result.pdf == tmp_path / "03-rfm-segmentierung-loesungen.pdf" and result.pages >= 1
    text = " ".join(p.extract_text() for p in PdfReader(result.pdf).pages).replace("\xa0", " ")
    assert "3 Kundensegmentierung nach RFM" in text  # numbered like the chapter
    assert "Abbildung 1" in text and "Musterlösung" in text and "Seite 1 von" in text
    assert "Lehrendenversion mit Musterlösungen" in text
    assert "n = len(df)" in text and "Kapitel „Abwanderungsprognose“" in text
    assert "Verweis nicht verfügbar" not in text


def test_unnumbered_handout_names_sections_instead_of_referencing():
    md = "# Management Summary {#sec-summary}\n\n## Empfehlungen {#sec-summary-recs}\n\nSiehe @sec-summary-recs."
    titles = handout.section_titles(md)
    assert titles == {"sec-summary": "Management Summary", "sec-summary-recs": "Empfehlungen"}
    out = handout.resolve_references(md, handout.defined_labels(md), titles)
    assert out.endswith("Siehe Abschnitt „Empfehlungen“.")
    assert handout.resolve_references(md, handout.defined_labels(md)).endswith("Siehe @sec-summary-recs.")


@pytest.mark.slow
def test_long_code_line_wraps_with_hanging_indent(tmp_path):
    """A code line wider than the page continues indented under its own start, not at the margin."""
    from pypdf import PdfReader

    long_line = ("    ergebnis = berechne_kennzahlen(kunden, transaktionen, stichtag=stichtag, horizont_monate=12, "
                 "marge=0.35, abzinsung=0.1)")  # 118 characters: wider than the page
    nb = executed_notebook()
    nb.cells.insert(4, new_code_cell(f"def f(kunden, transaktionen, stichtag):\n{long_line}\n\n    return ergebnis"))
    chapter = Chapter("rfm", "03-rfm-segmentierung.ipynb", "helpers.analysis.rfm:compute")
    pdf = handout.render_handout(nb, chapter, tmp_path, solutions=False).pdf
    rows: dict[float, list[tuple[float, str]]] = {}  # baseline -> (x, token) of the first page

    def visit(text, cm, tm, font, size):
        if text.strip():
            rows.setdefault(round(cm[5] + tm[5], 1), []).append((cm[4] + tm[4], text.strip()))

    PdfReader(pdf).pages[0].extract_text(visitor_text=visit)
    lines = [sorted(tokens) for _, tokens in sorted(rows.items(), reverse=True)]  # top to bottom
    starts = [(line[0][0], " ".join(t for _, t in line)) for line in lines]
    i = next(k for k, (_, text) in enumerate(starts) if text.startswith("def f ("))
    (x_def, _), (x_body, body), (x_cont, cont) = starts[i:i + 3]
    x_return = next(x for x, text in starts[i + 3:] if text.startswith("return"))
    assert body.startswith("ergebnis = berechne_kennzahlen") and "abzinsung" not in body
    assert "abzinsung" in cont or "abzinsung" in starts[i + 3][1]
    char = (x_body - x_def) / 4  # the body is indented by four spaces
    assert char > 3
    assert x_return == pytest.approx(x_body, abs=0.5)
    # the wrapped rest of the long line: 4 + 4 columns from the margin, i.e. 4 columns right of its line
    assert x_cont == pytest.approx(x_def + 8 * char, abs=1.0)
