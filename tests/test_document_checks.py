"""Document checks (helpers.report.checks), layout safeguards and the chart style's tidying.

Known-bad snippets are the defects found in real reports (issue 15); the rendered test document
goes through the real pandoc + Typst engine with a 120-character client name, long German
compound headers in narrow columns, an emoji in a table cell and a caret in the text.
"""

from __future__ import annotations

import datetime as dt
import shutil

import pandas as pd
import pytest

from helpers import fmt
from helpers.report import checks
from helpers.report.assemble import ReportMeta, fix_carets, front_matter, short_name
from helpers.report.brand import drawable_codepoints, replace_undrawable, undrawable
from helpers.report.display import TABLE_LINE_CHARS, Table, column_widths

NBSP = "\u00a0"


def rules(findings) -> set[str]:
    return {f.rule for f in findings}


# ---------------------------------------------------------------- text rules on Markdown
BAD_MARKDOWN = {
    "caret": "Kunden × Wiederkaufquote^*t*; Kunden mit Verbesserung.",
    "missing-value": f"Der Durchschnitt beträgt nan{NBSP}% und der Median None.",
    "english": "Siehe Figure 3 und das Table of Contents.",
    "reference": "Wie @fig-churn-roc zeigt, ist das Modell gut.",
    "zero-claim": f"Das Segment „Nicht verlieren“ umfasst 0{NBSP}% der Kundinnen und Kunden.",
    "lowercase-start": "Das ist der Stand. die Zahl der Käufe steigt.",
    "lowercase-noun": "Insgesamt. 74 kundinnen und kunden haben gekauft.",
    "grammar-one": "Nur 1 Kundinnen und Kunden kauften zweimal.",
    "doubled-skip": "Abwanderung entfällt: Die Abwanderungsprognose entfällt, weil Daten fehlen.",
    "glyph": "Die Kategorie „Raketen 🚀“ wächst.",
    "announced-missing": "Die folgenden Heatmaps zeigen den Umsatz.\n\nDiese Auswertung entfällt.",
    "latex": r"Die Rate ist \frac{a}{b} pro Monat.",
}


@pytest.mark.parametrize("rule", sorted(BAD_MARKDOWN))
def test_known_bad_markdown_is_found(rule):
    md = "# Kapitel {#sec-x}\n\n" + BAD_MARKDOWN[rule] + "\n"
    found = checks.check_markdown(md)
    assert rule in rules(found), checks.format_findings(found)
    assert all(f.severity == "error" for f in found)
    assert all("Zeile" in f.where or f.rule == "glyph" for f in found)


GOOD_MARKDOWN = f"""---
client: "Beispiel GmbH"
---

# Management Summary {{#sec-summary}}

Die Quote steigt z. B. bei Stammkunden, d. h. die Bindung wächst. Ca. die Hälfte kauft wieder.
Rechenweg: Kunden × Wiederkaufquote^*t*^ und ein escaptes a\\^b. Der Anteil liegt bei 10{NBSP}% bzw.
0,5{NBSP}% und 100{NBSP}%. Bei 1 Kunden fehlt die Adresse; 1 Kundin kaufte zweimal. Vom 3. bis 5. Monat.
Die Analyse umfasst 1.234 Kundinnen und Kunden. Siehe @fig-x und @tbl-y. Der Abschnitt „Was kostet
Abwanderung?“ rechnet mit Annahmen.

Die folgende Abbildung zeigt den Umsatz.

![Umsatz je Monat](figures/fig-x.png){{#fig-x width="100%"}}

| Segment | Anteil | Notiz |
|:---|---:|:---|
| Champions | 0{NBSP}% | ja |

: Segmente {{#tbl-y}}

```python
x = float("nan")  # NaN in code is no text
```

Inline `None` und Mathematik $x^2$ bleiben unberücksichtigt.
"""


def test_good_markdown_has_no_findings():
    found = checks.check_markdown(GOOD_MARKDOWN)
    assert found == [], checks.format_findings(found)


def test_mask_markdown_keeps_offsets_and_blanks_non_prose():
    md = '---\nclient: "x^y"\n---\n\nText `a^b` und $x^2$.\n\n```\nNaN\n```\n![c](figures/a-b.png){#fig-a width="50%"}\n'
    masked = checks.mask_markdown(md)
    assert len(masked) == len(md) and masked.count("\n") == md.count("\n")
    for gone in ("x^y", "a^b", "x^2", "NaN", "figures/a-b.png", "#fig-a"):
        assert gone not in masked, gone
    assert "Text" in masked and "![c" in masked


def test_pdf_text_rules_use_claim_context_and_ignore_hyphenation():
    page = (f"Kopf\nDas Segment umfasst 0{NBSP}% der Kundinnen, bringt aber 0 % des Umsatzes.\n"
            "Potenzielle Stamm-\nkunden und Stamm\u00adkunden. Quote^ t\n0 € gefährdet\n")
    found = checks.check_pdf_text([page])
    assert [f.rule for f in found].count("zero-claim") == 3
    assert "caret" in rules(found) and "lowercase-noun" not in rules(found)
    assert all(f.where == "PDF, Seite 1" for f in found)
    # table cells with 0 % (no claim) and dates are fine in the PDF
    assert checks.check_pdf_text(["Champions 0 % 12 €\nStand: 01.12.2026 Seite 3 von 30"]) == []


def test_check_report_logs_markdown_and_pdf_findings(tmp_path, caplog):
    md = tmp_path / "bericht.md"
    md.write_text("Nur 1 Kundinnen kauften.\n", "utf-8")
    with caplog.at_level("WARNING"):
        found = checks.check_report(md, tmp_path / "fehlt.pdf")
    assert rules(found) == {"grammar-one"} and "Dokumentprüfung" in caplog.text
    assert "nicht möglich" in caplog.text  # a missing PDF is logged, never raised


def test_findings_helpers(caplog):
    found = checks.check_markdown("Text mit NaN.\n")
    assert checks.errors(found) == found
    assert "NaN" in checks.format_findings(found)
    with caplog.at_level("WARNING"):
        assert checks.log_findings(found, source="bericht.md") == 1
    assert "Dokumentprüfung (bericht.md)" in caplog.text


def test_overlap_detection_from_bbox_words():
    bbox = ('<page width="595" height="842">'
            '<word xMin="10.0" yMin="100.0" xMax="80.0" yMax="110.0">davon</word>'
            '<word xMin="70.0" yMin="100.5" xMax="150.0" yMax="110.5">Vorjahresumsatz</word>'
            '<word xMin="160.0" yMin="100.0" xMax="200.0" yMax="110.0">frei</word>'
            '<word xMin="10.0" yMin="111.0" xMax="80.0" yMax="121.0">darunter</word></page>')
    assert checks._overlaps_from_bbox(bbox) == [(1, "davon", "Vorjahresumsatz")]


# ---------------------------------------------------------------- assembler safeguards
def test_fix_carets_raises_exponents_and_escapes_lone_carets():
    assert fix_carets("Kunden × Wiederkaufquote^*t*; x") == "Kunden × Wiederkaufquote^*t*^; x"
    assert fix_carets("d = (1 + z)^(1/12) − 1") == "d = (1 + z)^(1/12)^ − 1"
    assert fix_carets("x^2.") == "x^2^."
    assert fix_carets("ein ^ allein und am Ende^") == "ein \\^ allein und am Ende\\^"
    for unchanged in ("schon x^2^ hoch", "escaped a\\^b", "`a^b` und $x^2$", "```\na^b\n```"):
        assert fix_carets(unchanged) == unchanged
    assert checks.check_markdown(fix_carets(BAD_MARKDOWN["caret"])) == []


def test_short_name_for_the_running_header():
    name = "Müller & Söhne Feinkost und Delikatessen Großhandel für Gastronomie, Hotellerie und Einzelhandel " \
           "Norddeutschland GmbH & Co. KG"
    assert len(name) > 100
    short = short_name(name)
    assert short.endswith("…") and len(short) <= 61 and name.startswith(short[:-1])
    assert not short[:-1].endswith((" ", ","))
    assert short_name("Beispiel Onlineshop GmbH") == "Beispiel Onlineshop GmbH"
    assert short_name("Zeile\neins  zwei") == "Zeile eins zwei"
    fm = front_matter(ReportMeta(client=name))
    assert '"client-short": ' not in fm and "client-short: " in fm and name.split()[0] in fm


def test_undrawable_characters_are_dropped_or_replaced():
    assert 0x1F680 not in drawable_codepoints() and ord("€") in drawable_codepoints()
    assert undrawable("Preis 5 € „gut“ – 1.234,56 × 2 → ok") == []
    assert replace_undrawable("Rakete 🚀 GmbH") == ("Rakete GmbH", ["🚀"])
    assert replace_undrawable("🚀 Start | 👍🏽!") == ("Start |!", ["🚀", "👍", "🏽"])
    text, missing = replace_undrawable("東京 Handel")
    assert text == "?? Handel" and missing == ["東", "京"]


def test_column_widths_from_content():
    cells = pd.DataFrame({"Segment": ["Potenzielle Stammkunden"], "Kunden": ["1.234"]})
    assert column_widths(cells, {"Segment": "left", "Kunden": "right"}) is None  # narrow: natural widths
    wide = pd.DataFrame({
        "Zeitraum": ["01.10.2025 – 30.09.2026"], "Kunden im Vorjahr": ["3.062"],
        "davon wieder gekauft": ["37 %"], "Vorjahresumsatz": ["424.436 €"], "Umsatz im Jahr": ["220.761 €"],
        "Aktion": ["Persönlich ansprechen, Gutschein anbieten und Zufriedenheit erfragen"],
    })
    align = {c: "right" for c in wide.columns} | {"Zeitraum": "left", "Aktion": "left"}
    widths = column_widths(wide, align)
    assert widths is not None and TABLE_LINE_CHARS - len(widths) <= sum(widths) <= TABLE_LINE_CHARS
    # every column at least its longest word (+ padding); the long text column gets the most
    assert widths[wide.columns.get_loc("Vorjahresumsatz")] >= len("Vorjahresumsatz") + 3
    assert widths[wide.columns.get_loc("Zeitraum")] >= len("30.09.2026") + 3
    assert widths[wide.columns.get_loc("Aktion")] == max(widths)
    md = Table(wide, "Breite Tabelle", "tbl-breit", align=align)._repr_markdown_()
    rule = md.splitlines()[1]
    assert [len(c.strip(":")) for c in rule.strip("|").split("|")] == widths


# ---------------------------------------------------------------- rendered through Typst
LONG_CLIENT = ("Norddeutsche Feinkost- und Delikatessen-Handelsgesellschaft für Gastronomie, Hotellerie "
               "und Einzelhandel in Hamburg mbH & Co. KG 🚀")
COMPOUNDS = ["Wiederholungskäuferinnen", "Nettoumsatzveränderung", "Deckungsbeitragsveränderung",
             "Abwanderungswahrscheinlichkeit", "Reaktivierungsquote", "Kundenwertprognose"]


def _narrow_table() -> str:
    df = pd.DataFrame({c: [1234 + i, 56 + i] for i, c in enumerate(COMPOUNDS)})
    df.insert(0, "Segment", ["Champions 🚀", "Treue Kunden"])
    return Table(df, caption="Lange Spaltenköpfe", label="tbl-lang")._repr_markdown_()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """A synthetic report rendered with pandoc + Typst: (pdf path, page texts, assembled Markdown)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    from helpers.report import render
    from helpers.report.assemble import assemble

    assert len(LONG_CLIENT) >= 120
    tmp = tmp_path_factory.mktemp("doc")
    cells = [
        new_markdown_cell("# Bestandskunden {#sec-bestand}"),
        new_markdown_cell("Rechenweg je Jahr *t*: Kunden ohne Verbesserung = heutige Kunden × Wiederkaufquote^*t*; "
                          "Kunden mit Verbesserung = heutige Kunden × (Wiederkaufquote + Steigerung)^*t*."),
        new_code_cell("show_table(...)", outputs=[new_output("display_data", data={"text/markdown": _narrow_table()})]),
        new_markdown_cell("## Nächster Abschnitt\n\nSiehe @tbl-lang: lange Wörter in schmalen Spalten."),
    ]
    nb_path = tmp / "02.ipynb"
    nbformat.write(new_notebook(cells=cells), str(nb_path))
    meta = ReportMeta(client=LONG_CLIENT, period="01.01.2024 – 30.06.2026", report_date=fmt.date(dt.date.today()))
    md = assemble([("economics", nb_path)], meta, tmp / "figures")
    md_path = tmp / "bericht.md"
    md_path.write_text(md, "utf-8")
    render.prepare_build_dir(tmp)
    pdf, warnings = render.render(md_path, tmp / "bericht.pdf", "typst")
    assert warnings == []
    return pdf, checks.pdf_page_texts(pdf), md


@pytest.mark.slow
def test_rendered_document_passes_all_checks(rendered):
    pdf, _, md = rendered
    assert checks.check_markdown(md) == [], checks.format_findings(checks.check_markdown(md))
    found = checks.check_pdf(pdf)
    assert checks.errors(found) == [], checks.format_findings(found)


@pytest.mark.slow
def test_long_client_name_is_short_in_the_header_and_full_on_the_title_page(rendered):
    _, pages, _ = rendered
    full = LONG_CLIENT.replace(" 🚀", "")
    assert full in " ".join(pages[0].split())  # title page (wrapped lines joined)
    for text in pages[1:]:
        header = text.splitlines()[0]
        assert "…" in header and full not in header and header.startswith("Norddeutsche Feinkost")
        assert len(header) < 100


@pytest.mark.slow
def test_compound_headers_hyphenate_in_narrow_columns_without_overlap(rendered):
    pdf, pages, _ = rendered
    body = "\n".join(pages[2:])
    # the columns are narrower than the words: Typst breaks them at German syllables ("-" at line end)
    assert any(line.rstrip().endswith("-") for line in body.splitlines()), body
    overlaps = checks.word_overlaps(pdf)
    if overlaps is None:
        pytest.skip("pdftotext (poppler) ist nicht installiert")
    assert overlaps == []
    # short body words keep whole ("Champions"); every number is its own word, not merged with a neighbour
    words = body.split()
    assert "Champions" in words
    for value in ("1.234", "1.239", "56", "61"):
        assert value in words, value


@pytest.mark.slow
def test_no_tofu_and_carets_are_superscripts(rendered):
    pdf, pages, md = rendered
    assert "🚀" not in md and "Champions" in md
    assert not any("lastresort" in f.lower() for f in checks.pdf_fonts(pdf))
    text = "\n".join(pages)
    assert "^" not in text and "Wiederkaufquote" in text


# ---------------------------------------------------------------- chart style
@pytest.fixture
def styled():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.plotting.style import HOOK, use_style

    saved = matplotlib.rcParams.copy()
    use_style()
    yield plt
    plt.close("all")
    matplotlib.rcParams.update(saved)
    assert HOOK not in matplotlib.rcParams["figure.hooks"] or HOOK in saved["figure.hooks"]


def _draw(fig):
    import io

    fig.savefig(io.BytesIO(), format="png")
    return fig.canvas.get_renderer()


def test_german_tick_labels(styled):
    from helpers.plotting.style import german_number_text

    assert german_number_text("1234567") == "1.234.567"
    assert german_number_text("−0.25") == "−0,25"
    assert german_number_text("1000") == "1.000" and german_number_text("2024") == "2.024"
    assert german_number_text("12.5") == "12,5"
    fig, ax = styled.subplots()
    ax.plot([0, 0.5, 1.5], [1000, 250000, 1200000])
    _draw(fig)
    ys = [t.get_text() for t in ax.get_yticklabels()]
    xs = [t.get_text() for t in ax.get_xticklabels()]
    assert "1.000.000" in ys and not any("e" in y for y in ys)
    assert "0,2" in xs and not any("." in x for x in xs)
    fig, ax = styled.subplots()
    ax.plot([2021, 2022, 2023, 2024], [1.5, 2.5, 2.0, 3.0])
    _draw(fig)
    assert "2022" in [t.get_text() for t in ax.get_xticklabels()]  # years keep their digits


def test_category_labels_do_not_overlap(styled):
    from helpers.plotting.style import _overlapping, _visible_ticks, new_figure

    cats = ["Wiederholungskäuferinnen", "Erstkäuferinnen", "Potenzielle Stammkunden", "Aufmerksamkeit nötig",
            "Nicht verlieren", "Verloren", "Champions", "Treue Kunden"]
    fig, (ax, _) = new_figure(height=3.0, ncols=2)
    ax.bar(cats, range(8))
    renderer = _draw(fig)
    labels = [t.label1 for t in _visible_ticks(ax.xaxis)]
    assert len(labels) == len(cats)  # every category keeps its name
    assert labels[0].get_rotation() > 0
    assert not _overlapping(labels, renderer, horizontal=True)


def test_many_date_ticks_are_thinned(styled):
    import matplotlib.dates as mdates

    from helpers.plotting.style import _overlapping, _visible_ticks, new_figure

    fig, ax = new_figure()
    days = pd.date_range("2020-01-01", periods=60, freq="MS")
    ax.plot(days, range(60))
    ax.xaxis.set_major_locator(mdates.MonthLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m/%Y"))
    renderer = _draw(fig)
    labels = [t.label1 for t in _visible_ticks(ax.xaxis)]
    assert 2 <= len(labels) < 30
    assert not _overlapping(labels, renderer, horizontal=True)


def test_legend_moves_off_the_curves(styled):
    import numpy as np

    from helpers.plotting.style import _covers_data, new_figure

    fig, ax = new_figure(height=3.0, width=3.2)
    x = np.linspace(0, 1, 100)
    for p, name in ((0.2, "Logistische Regression"), (0.35, "Gradient Boosting"), (0.6, "BG/NBD (1 − P(aktiv))")):
        ax.plot(x, x ** p, label=name)
    ax.plot([0, 1], [0, 1], ls="--", label="Zufall")
    legend = ax.legend(loc="upper left")  # right on top of the steep curves
    renderer = _draw(fig)
    assert not _covers_data(ax, legend.get_window_extent(renderer), guides=False)


def test_chart_text_without_tofu(styled):
    import warnings

    from helpers.plotting.style import new_figure

    fig, ax = new_figure()
    ax.bar(["Raketen 🚀", "東京 Tee", "Kaffee"], [1, 2, 3], label="Umsatz 👍")
    ax.set_title("Kategorien 🚀", loc="left")
    ax.legend()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph … missing from font(s)" for tofu
        _draw(fig)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Raketen", "?? Tee", "Kaffee"]
    assert ax.get_title(loc="left") == "Kategorien"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Umsatz"]
