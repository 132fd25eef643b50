"""Renderer: pandoc + Lua cross-reference filter + Typst template -> PDF."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import fmt
from helpers.exceptions import RenderError
from helpers.report import render
from helpers.report.assemble import ReportMeta, front_matter

BODY = """
# Einleitung {#sec-einleitung}

Siehe @fig-test-a, @tbl-test-b und @sec-einleitung sowie @fig-gibt-es-nicht.

![Umsatz je Monat](figures/fig-test-a.png){#fig-test-a width="100%"}

| Segment | Umsatz |
|:---|---:|
| Champions | 1.234,56 € |
| Verloren | 12 € |

: Umsatz je Segment {#tbl-test-b}

## Unterabschnitt

Ende.
"""


def _doc(tmp_path: Path, png: bytes, client: str = "Müller & Söhne GmbH") -> Path:
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "fig-test-a.png").write_bytes(png)
    meta = ReportMeta(client=client, period="01.01.2024 – 30.06.2026", report_date=fmt.date(dt.date.today()),
                      consultant="Beratung Ölsen", pseudonymized=True)
    md = tmp_path / "bericht.md"
    md.write_text(front_matter(meta) + "\n" + BODY, "utf-8")
    render.prepare_build_dir(tmp_path)
    return md


def test_lua_filter_turns_citations_into_typst_references(tmp_path, png_bytes):
    md = _doc(tmp_path, png_bytes)
    typ = tmp_path / "bericht.typ"
    render.markdown_to_typst(md, typ)
    text = typ.read_text("utf-8")
    assert "#cite(" not in text
    assert "@fig-test-a" in text and "@tbl-test-b" in text and "@sec-einleitung" in text
    assert "<tbl-test-b>" in text and "<fig-test-a>" in text
    assert "@fig-gibt-es-nicht" not in text and "Verweis nicht verfügbar" in text


def test_short_tables_stay_on_one_page_long_tables_may_break(tmp_path):
    def table(n: int, label: str) -> str:
        rows = "\n".join(f"| z{i} | {i} |" for i in range(n))
        return f"| A | B |\n|---|---:|\n{rows}\n\n: Tabelle {label} {{#tbl-{label}}}\n"

    md = tmp_path / "t.md"
    md.write_text(table(3, "kurz") + "\n" + table(40, "lang"), "utf-8")
    typ = tmp_path / "t.typ"
    render.markdown_to_typst(md, typ)
    text = typ.read_text("utf-8")
    short, long = text.split("<tbl-kurz>")
    assert "#block(breakable: false)[" in short
    assert "breakable: false" not in long


def test_auto_columns_only_replaces_equal_widths():
    src = "table(\n    columns: (12.5%, 12.5%, 12.5%, 12.5%, 12.5%, 12.5%, 12.5%, 12.5%),\n" \
          "table(\n    columns: (30%, 70%),\n"
    out = render.auto_columns(src)
    assert "columns: 8," in out and "columns: (30%, 70%)," in out


def test_layouts_share_the_brand_file(tmp_path):
    render.prepare_build_dir(tmp_path)
    copied = {p.name for p in (tmp_path / render.BUILD_TEMPLATE_DIR).iterdir()}
    assert {"kundenwert.typ", "handout.typ", "brand.yml"} <= copied
    handout_typ = (tmp_path / render.BUILD_TEMPLATE_DIR / "handout.typ").read_text("utf-8")
    assert '#import "kundenwert.typ": brand, brand-style' in handout_typ and "rgb(\"#" not in handout_typ
    with pytest.raises(RenderError, match="Unbekanntes Layout"):
        render.markdown_to_typst(tmp_path / "x.md", tmp_path / "x.typ", layout="poster")


def test_brand_fonts_are_resolved_to_available_families():
    from helpers.report.brand import available_families, resolved_brand

    fonts = resolved_brand()["fonts"]
    assert all(fonts[k].lower() in available_families() for k in ("body", "heading"))


def test_choose_engine():
    assert render.choose_engine("typst") == "typst"
    assert render.choose_engine("auto") == ("quarto" if shutil.which("quarto") else "typst")
    with pytest.raises(RenderError, match="Unbekannte PDF-Erzeugung"):
        render.choose_engine("latex")


@pytest.mark.slow
def test_typst_pdf_is_german_and_numbered(tmp_path, png_bytes, pdf_text):
    md = _doc(tmp_path, png_bytes)
    pdf, warnings = render.render(md, tmp_path / "bericht.pdf", "typst")
    assert warnings == []
    text = pdf_text(pdf)
    for expected in ("Inhaltsverzeichnis", "Abbildung 1", "Tabelle 1", "Kapitel 1", "Müller & Söhne GmbH",
                     "Beratung Ölsen", fmt.date(dt.date.today()), "Seite 1 von", "1.234,56 €",
                     "Kundenwert-Analyse", "Verweis nicht verfügbar",
                     "Müller & Söhne GmbH. Kundennummern sind in diesem Bericht"):
        assert expected in text, expected
    for banned in ("Figure", "Table of Contents", "Contents", "@fig", "@tbl"):
        assert banned not in text, banned
    assert not list(tmp_path.glob("*.tmp"))


def test_failed_render_leaves_no_pdf(tmp_path, png_bytes, monkeypatch):
    md = _doc(tmp_path, png_bytes)

    def broken(typ, out, root):
        Path(out).write_bytes(b"%PDF-1.7 half written")
        raise RenderError("Typst konnte das PDF nicht erstellen: kaputt")

    monkeypatch.setattr(render, "typst_to_pdf", broken)
    with pytest.raises(RenderError, match="kaputt"):
        render.render(md, tmp_path / "bericht.pdf", "typst")
    assert not (tmp_path / "bericht.pdf").exists()
    assert not list(tmp_path.glob("*.pdf*"))


def test_missing_logo_is_a_german_error(tmp_path):
    with pytest.raises(RenderError, match="Logo-Datei"):
        render.prepare_build_dir(tmp_path, tmp_path / "fehlt.png")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("quarto") is None, reason="Quarto ist nicht installiert")
def test_quarto_engine_renders(tmp_path, png_bytes, pdf_text):  # pragma: no cover - needs quarto
    md = _doc(tmp_path, png_bytes)
    pdf, _ = render.render(md, tmp_path / "bericht.pdf", "quarto")
    text = pdf_text(pdf)
    assert "Abbildung 1" in text and "Tabelle 1" in text and "Figure" not in text
    subprocess.run(["quarto", "--version"], check=True)


def test_os_errors_of_the_tools_are_recognized():
    """Typst reports OSError("… (os error 28)") without errno; pandoc writes the C library's text."""
    import errno

    typst_err = render.os_error_in("No space left on device (os error 28)", "/o/b.pdf")
    assert typst_err.errno == errno.ENOSPC and typst_err.filename == "/o/b.pdf"
    pandoc_err = render.os_error_in("pandoc: /o/b.typ: hPutBuf: resource exhausted (No space left on device)", "/o/b.typ")
    assert pandoc_err.errno == errno.ENOSPC
    assert render.os_error_in("pandoc: withFile: permission denied (Read-only file system)", "x").errno == errno.EROFS
    assert render.os_error_in("error: unknown variable: foo", "x") is None


def test_typst_os_error_is_an_os_error_not_a_render_error(tmp_path):
    """Real Typst writing below a file: "Not a directory (os error 20)" -> OSError(ENOTDIR), so the
    pipeline gives the German exit-2 message instead of exit 1."""
    import errno

    typ = tmp_path / "a.typ"
    typ.write_text("= Hallo\n", "utf-8")
    (tmp_path / "datei").write_text("x")
    with pytest.raises(OSError) as err:
        render.typst_to_pdf(typ, tmp_path / "datei" / "a.pdf", tmp_path)
    assert err.value.errno == errno.ENOTDIR and not isinstance(err.value, RenderError)


@pytest.mark.slow
def test_rendered_pdf_passes_document_checks(tmp_path, png_bytes):
    from helpers.report import checks

    md = _doc(tmp_path, png_bytes, client="Müller & Söhne " + "Feinkost und Delikatessen " * 5 + "GmbH")
    pdf, _ = render.render(md, tmp_path / "bericht.pdf", "typst")
    found = checks.check_pdf(pdf)
    assert [f.rule for f in checks.errors(found)] == ["reference"]  # the deliberate @fig-gibt-es-nicht
    header = checks.pdf_page_texts(pdf)[1].splitlines()[0]
    assert header.endswith("Kundenwert-Analyse") and "…" in header
