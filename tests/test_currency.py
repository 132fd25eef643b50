"""The report's currency (issue 14): detected by the loader, set once per run, shown everywhere.

- ``helpers.fmt`` formats money with babel ``de_DE`` in the currency of a ``use_currency`` block or
  of the session (``set_currency``); the expected strings are CLDR's German patterns.
- A US-dollar export (the published CDNOW master file shipped with ``lifetimes``, written as a CSV
  with the header „Umsatz ($)“) shows „$“ and never „€“/„Euro“ in the data chapter's text, in a
  chart's axis and in the CRM list headers.
- Conflicting evidence stops the CLI with exit code 2.
- ``kundenwert zuordnen`` maps the pseudonyms of a target list back to the original customer numbers,
  checked against an HMAC computed here by hand.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path

import lifetimes
import openpyxl
import pandas as pd
import pytest

from helpers import chapters, cli, export, fmt, privacy, session
from helpers.config import ReportConfig
from helpers.data import header_currencies, load_dataset
from helpers.exceptions import ConfigError, DataValidationError
from helpers.narrative import data as data_text

CDNOW = Path(lifetimes.__file__).parent / "datasets" / "CDNOW_master.txt"
NBSP = "\u00a0"


def _plain(md: str) -> str:
    """Generated Markdown as the reader sees it (backslash escapes removed)."""
    return re.sub(r"\\(.)", r"\1", md)


@pytest.fixture(autouse=True)
def _session_currency_restored():
    yield
    fmt.set_currency(None)


# ---------------------------------------------------------------- fmt


def test_money_follows_the_currency_block_and_is_the_eur_alias():
    assert fmt.eur is fmt.money
    assert fmt.money(1234.56, 2) == f"1.234,56{NBSP}€"  # default: EUR
    with fmt.use_currency("USD") as code:
        assert code == "USD" and fmt.currency_code() == "USD"
        assert fmt.money(1234.56, 2) == f"1.234,56{NBSP}$"
        assert fmt.eur(1234.56) == f"1.235{NBSP}$"
        assert fmt.money(-5, 2) == f"-5,00{NBSP}$"
        with fmt.use_currency("chf"):
            assert fmt.money(1234.56, 2) == f"1.234,56{NBSP}CHF"
        assert fmt.money(1234.56, 2, currency="GBP") == f"1.234,56{NBSP}£"  # explicit override
        assert fmt.currency_symbol() == "$" and fmt.currency_name() == "US-Dollar"
        assert fmt.money_label("Umsatz") == "Umsatz ($)"
        assert fmt.money_label("Umsatz", unit="code") == "Umsatz (USD)"
    assert fmt.currency_code() == "EUR" and fmt.money(None) == fmt.MISSING


def test_session_currency_and_block_precedence():
    fmt.set_currency("GBP")
    assert fmt.money(3) == f"3{NBSP}£" and fmt.currency_name() == "Britisches Pfund"
    with fmt.use_currency("USD"):
        assert fmt.currency_code() == "USD"
    assert fmt.currency_code() == "GBP"
    with pytest.raises(RuntimeError), fmt.use_currency("CHF"):
        raise RuntimeError  # the block is left even on an error
    assert fmt.currency_code() == "GBP"
    assert fmt.currency_name("CHF") == "Schweizer Franken" and fmt.currency_name("EUR") == "Euro"
    with pytest.raises(ValueError):
        fmt.set_currency("XYZ")


def test_currency_setting_is_validated():
    assert ReportConfig.from_settings(None, {"currency": "usd"}).currency == "USD"
    assert ReportConfig.from_settings(None, {"currency": "auto"}).currency is None
    assert ReportConfig().currency is None
    with pytest.raises(ConfigError, match="ISO-Währungscode"):
        ReportConfig.from_settings(None, {"currency": "Dollar"})


@pytest.mark.parametrize("header, codes", [
    ("Umsatz (€)", ["EUR"]), ("Betrag EUR", ["EUR"]), ("amount_usd", ["USD"]), ("Revenue ($)", ["USD"]),
    ("Preis CHF", ["CHF"]), ("Umsatz in Euro", ["EUR"]), ("Sales US$", ["USD"]), ("Umsatz (CA$)", ["CAD"]),
    ("Betrag", []), ("Kundennummer", []), ("Betrag EUR/USD", ["EUR", "USD"]),
])
def test_header_currencies(header, codes):
    assert header_currencies(header) == codes


def _csv(tmp_path: Path, name: str, header: str, values: list[str]) -> Path:
    rows = [f"K{i % 7};{1 + i % 28:02d}.{1 + i % 12:02d}.2024;{v}" for i, v in enumerate(values)]
    path = tmp_path / name
    path.write_text("\n".join([f"Kunde;Datum;{header}", *rows]) + "\n", "utf-8")
    return path


def test_mapped_price_column_names_the_currency(tmp_path):
    path = _csv(tmp_path, "preise.csv", "Preis CHF", ["10.00", "2.50"] * 4)
    ds = load_dataset(path, ReportConfig.from_settings(None, {"min_customers": 1,
                                                              "data.column_map": {"revenue": "Preis CHF"}}))
    assert ds.currency == "CHF" and ds.currency_source["source"] == "header"
    assert ds.transactions["revenue"].sum() == pytest.approx(50.0)


def test_no_evidence_is_euro_with_a_note(tmp_path):
    ds = load_dataset(_csv(tmp_path, "x.csv", "Betrag", ["10,00", "2,50"] * 4),
                      ReportConfig.from_settings(None, {"min_customers": 1}))
    assert ds.currency == "EUR" and ds.currency_source == {"source": "assumed"}
    text = _plain(data_text.currency_text(ds.currency, ds.currency_source))
    assert text.startswith("Keine Währung erkennbar; angenommen: Euro.")


def test_setting_wins_and_the_data_chapter_says_so(tmp_path):
    path = _csv(tmp_path, "y.csv", "Umsatz (€)", ["10,00", "2,50"] * 4)
    ds = load_dataset(path, ReportConfig.from_settings(None, {"min_customers": 1, "currency": "USD"}))
    assert ds.currency == "USD"
    assert ds.currency_source["file_hint"] == "EUR"
    text = _plain(data_text.currency_text(ds.currency, ds.currency_source))
    assert "so festgelegt in den Einstellungen (currency=USD)" in text
    assert "Die Datei selbst deutet auf Euro (EUR, €) hin (Spaltenkopf „Umsatz (€)“)" in text


def test_conflicting_currencies_give_exit_2_from_the_cli(tmp_path, capsys):
    path = _csv(tmp_path, "export.csv", "Umsatz (€)", ["$12.50", "$3.00"] * 20)
    code = cli.main(["report", "--data", str(path), "--client", "Währungstest", "--out", str(tmp_path / "out"),
                     "--engine", "typst"])
    assert code == 2
    err = capsys.readouterr().err
    assert "Datei „export.csv“" in err and "Die Währung ist widersprüchlich" in err
    assert "Spaltenkopf „Umsatz (€)“ nennt Euro (EUR)" in err
    assert "Zeile 2: '$12.50'" in err and "--set currency=EUR oder --set currency=USD" in err
    assert "Traceback" not in err


def test_mixed_amounts_stop_even_with_a_setting(tmp_path):
    path = _csv(tmp_path, "mix.csv", "Betrag", ["$12.50", "12,50 €", "£3"] * 3)
    with pytest.raises(DataValidationError, match="verschiedenen Währungen") as err:
        load_dataset(path, ReportConfig.from_settings(None, {"min_customers": 1, "currency": "USD"}))
    assert err.value.exit_code == 2
    msg = str(err.value)
    assert "US-Dollar (USD)" in msg and "Euro (EUR)" in msg and "Britisches Pfund (GBP)" in msg


def test_dollar_amounts_never_become_math_in_the_pdf_text():
    """Two amounts in one paragraph (``12 $, … 5 $``) would open and close TeX math in pandoc."""
    import pypandoc

    from helpers.report.pipeline import escape_money_dollars

    with fmt.use_currency("USD"):
        para = f"Zwischen {fmt.money(1289)} und {fmt.money(7866)}, im Mittel ({fmt.money(4000)})."
    raw = pypandoc.convert_text(para, "typst", format="markdown")
    assert "im Mittel" not in raw  # unescaped: pandoc made a formula of ", im Mittel (4.000"
    md = escape_money_dollars(para + "\n\n$$x^2$$\n")
    typst = pypandoc.convert_text(md, "typst", format="markdown")
    assert "1.289~\\$ und 7.866~\\$, im Mittel (4.000~\\$)." in typst
    assert "$ x^2 $" in typst  # intended math untouched (a Typst formula)


def test_currency_is_kept_through_the_work_folder_and_set_by_the_session(tmp_path):
    path = _csv(tmp_path, "pfund.csv", "Betrag", ["£10.00", "£2.50"] * 20)
    cfg = ReportConfig.from_settings("Pfund", {"min_customers": 1})
    ds = load_dataset(path, cfg)
    assert ds.currency == "GBP"
    session.write_prepared(ds, tmp_path / "work")
    back = session.read_prepared(tmp_path / "work")
    assert back.currency == "GBP" and back.currency_source == ds.currency_source
    assert fmt.currency_code() == "EUR"
    ctx = session.open(path, "Pfund", {"min_customers": 1}, work_dir=tmp_path / "work")
    assert ctx.ds.currency == "GBP" and fmt.currency_code() == "GBP"  # the notebook's money format
    assert fmt.money(10) == f"10{NBSP}£"


# ---------------------------------------------------------------- CDNOW in US dollars


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory):
    """CDNOW master (69.659 lines, dollar amounts) as a client CSV with the header „Umsatz ($)“, the
    client key, the dataset and all chapter results computed in the data's currency."""
    folder = tmp_path_factory.mktemp("cdnow")
    raw = pd.read_csv(CDNOW, sep=r"\s+", dtype={"customer_id": str, "date": str})
    path = folder / "cdnow.csv"
    pd.DataFrame({"Kundennummer": raw["customer_id"], "Datum": raw["date"],
                  "Umsatz ($)": raw["dollar_value"].map(lambda v: f"{v:.2f}")}).to_csv(path, sep=";", index=False)
    key_file = folder / "kunde" / privacy.KEY_FILE
    key = privacy.load_or_create_key(key_file)
    cfg = ReportConfig.from_settings("CDNOW")
    ds = load_dataset(path, cfg, key=key)
    with fmt.use_currency(ds.currency):
        results = chapters.compute_all(ds, cfg)
        lists = folder / "zielgruppen"
        written = export.write_action_lists(results["actions"], lists, cfg)
    return {"path": path, "raw": raw, "key": key, "key_file": key_file, "cfg": cfg, "ds": ds,
            "results": results, "lists": lists, "written": written}


def test_cdnow_is_read_as_us_dollars(cdnow):
    ds, raw = cdnow["ds"], cdnow["raw"]
    assert ds.currency == "USD"
    assert ds.currency_source["source"] == "header" and ds.currency_source["column"] == "Umsatz ($)"
    # the published file's dollar amounts summed here (cents as integers), without the lines the
    # ledger drops: 255 exact repeats of a line and 80 lines of 0 $
    assert {k: v for k, v in ds.ledger.dropped.items() if v} == {"duplicate": 255, "zero_amount": 80}
    kept = raw[~raw.duplicated(keep="first")]
    cents = int((kept["dollar_value"] * 100).round().sum())
    assert round(ds.transactions["revenue"].sum() * 100) == cents
    assert cdnow["results"]["data"].key.currency == "USD"


def test_data_chapter_text_shows_dollars_only(cdnow):
    res = cdnow["results"]["data"]
    k = res.key
    with fmt.use_currency(k.currency):
        parts = [
            data_text.summary_text(k),
            data_text.overview_table(k).to_string(),
            data_text.ledger_text(res.ledger),
            data_text.sources_text(res.sources, res.notes),
            data_text.currency_text(k.currency, res.currency_source, k.revenue is not None),
            data_text.outlier_table(res.ledger).to_string(),
        ]
        total = fmt.money(k.revenue)
    text = _plain("\n".join(parts))
    assert f"Nettoumsatz von insgesamt {total}." in text and total.endswith(f"{NBSP}$")
    assert "US-Dollar (USD, $)" in text and "erkannt an: Spaltenkopf „Umsatz ($)“" in text
    assert "Ein Dollarzeichen ohne Landeskennung wird als US-Dollar gelesen" in text
    assert "€" not in text and "Euro" not in text and "EUR" not in text
    units = re.findall(r"\d" + NBSP + r"(\S+)", text)  # what follows a formatted number
    amounts = [u for u in units if not u.startswith("%")]
    assert amounts and all(u.startswith("$") for u in amounts)


def test_chart_axis_and_colorbar_use_the_dollar(cdnow):
    from helpers.plotting import data as data_plots
    from helpers.plotting import rfm as rfm_plots

    import matplotlib.pyplot as plt

    with fmt.use_currency("USD"):
        fig = data_plots.monthly(cdnow["results"]["data"].monthly)
    ax = fig.axes[0]
    fig.canvas.draw()  # drawn after the block: the formatter keeps the currency it was made with
    assert ax.get_ylabel().replace("\\", "") == "Nettoumsatz ($)"
    ticks = [t.get_text().replace("\\", "") for t in ax.get_yticklabels() if t.get_text()]
    assert ticks and all(t.endswith(f"{NBSP}$") for t in ticks)
    plt.close(fig)
    grid = pd.DataFrame([[10.0, 20.0], [30.0, 40.0]], index=[2, 1], columns=[1, 2])
    with fmt.use_currency("USD"):
        fig = rfm_plots.rf_heatmap(grid, kind="eur")
    fig.canvas.draw()
    cbar = fig.axes[-1]
    assert cbar.get_ylabel().replace("\\", "") == "Durchschnittlicher Umsatz je Kunde ($)"
    cells = [t.get_text().replace("\\", "") for t in fig.axes[0].texts]
    assert f"10{NBSP}$" in cells and not any("€" in c for c in cells)
    plt.close(fig)


def test_crm_lists_name_the_currency_percent_and_pseudonyms(cdnow):
    written, lists = cdnow["written"], cdnow["lists"]
    assert len(written)
    first = lists / written["csv"].iloc[0]
    lines = first.read_bytes().decode("utf-8-sig").split("\r\n")
    header = lines[0].split(";")
    assert header[0] == "Pseudonym"
    assert "Umsatz gesamt (USD)" in header and "€" not in lines[0] and "EUR" not in lines[0]
    row = lines[1].split(";")
    assert re.fullmatch(r"PS-[0-9A-F]{8,}", row[0])  # 8 hex digits, more if 8 would collide
    # the churn risk as the PDF shows it: percent with one decimal, decimal comma
    risk = cdnow["results"]["churn"].customers.loc[row[0], "risk"]
    shown = row[header.index("Abwanderungsrisiko (%)")]
    assert float(shown.replace(",", ".")) == pytest.approx(round(risk * 100, 1))
    wb = openpyxl.load_workbook(lists / export.WORKBOOK_NAME)
    ws = wb[written["sheet"].iloc[0]]
    heads = [c.value for c in ws[1]]
    assert heads[0] == "Pseudonym" and "Umsatz gesamt (USD)" in heads
    cell = ws.cell(2, heads.index("Umsatz gesamt (USD)") + 1)
    assert '"$"' in cell.number_format and "€" not in cell.number_format
    assert ws.cell(2, heads.index("Abwanderungsrisiko (%)") + 1).value == pytest.approx(float(shown.replace(",", ".")))


# ---------------------------------------------------------------- kundenwert zuordnen


def _by_hand(key: bytes, customer_id: str, digits: int) -> str:
    return "PS-" + hmac.new(key, customer_id.encode(), hashlib.sha256).hexdigest().upper()[:digits]


def test_zuordnen_maps_pseudonyms_back_to_the_customer_numbers(cdnow, capsys):
    lists, key = cdnow["lists"], cdnow["key"]
    name = cdnow["written"]["csv"].iloc[0]
    code = cli.main(["zuordnen", "--liste", str(lists / name), "--schluessel", str(cdnow["key_file"]),
                     "--daten", str(cdnow["path"])])
    out = capsys.readouterr()
    assert code == 0, out.err
    result = Path(out.out.strip().splitlines()[-1])
    assert result == (lists / name.replace(".csv", "-kundennummern.csv")).resolve()
    before = pd.read_csv(lists / name, sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    after = pd.read_csv(result, sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert list(after.columns[:3]) == ["Pseudonym", "Kundennummer", before.columns[1]]
    assert after.drop(columns="Kundennummer").equals(before)  # the list itself is unchanged
    ids = set(cdnow["raw"]["customer_id"])
    assert after["Kundennummer"].isin(ids).all()  # leading zeros kept: "00001"
    digits = len(after["Pseudonym"].iloc[0]) - 3
    assert all(_by_hand(key, c, digits) == p for p, c in zip(after["Pseudonym"], after["Kundennummer"]))
    assert "zugeordnet" in out.err and "echte Kundennummern" in out.err


def test_zuordnen_workbook_and_explicit_column(cdnow, tmp_path, capsys):
    out_file = tmp_path / "mit-nummern.xlsx"
    code = cli.main(["zuordnen", "--liste", str(cdnow["lists"] / export.WORKBOOK_NAME), "--schluessel",
                     str(cdnow["key_file"]), "--daten", str(cdnow["path"]), "--spalte", "Kundennummer",
                     "--aus", str(out_file)])
    assert code == 0, capsys.readouterr().err
    wb = openpyxl.load_workbook(out_file)
    assert wb.sheetnames == list(cdnow["written"]["sheet"])
    key = cdnow["key"]
    for ws in wb:
        rows = list(ws.iter_rows(values_only=True))
        assert rows[0][:2] == ("Pseudonym", "Kundennummer")
        assert len(rows) - 1 == int(cdnow["written"].set_index("sheet").loc[ws.title, "customers"])
        for p, c, *_ in rows[1:6]:
            assert _by_hand(key, c, len(p) - 3) == p


def test_zuordnen_with_the_wrong_key_or_no_pseudonyms_is_exit_2(cdnow, tmp_path, capsys):
    other = tmp_path / "fremd.key"
    other.write_text("ab" * 32 + "\n", "ascii")
    name = cdnow["written"]["csv"].iloc[0]
    args = ["zuordnen", "--liste", str(cdnow["lists"] / name), "--daten", str(cdnow["path"])]
    assert cli.main([*args, "--schluessel", str(other)]) == 2
    err = capsys.readouterr().err  # a chance match of an 8-digit pseudonym is possible, never written
    assert "Keines der" in err or ("Nur " in err and "nichts geschrieben" in err)
    assert cli.main([*args, "--schluessel", str(tmp_path / "fehlt.key")]) == 2
    assert "wurde nicht gefunden" in capsys.readouterr().err
    plain = tmp_path / "liste.csv"
    plain.write_text("Kundennummer;Segment\n10001;Champions\n", "utf-8")
    assert cli.main(["zuordnen", "--liste", str(plain), "--daten", str(cdnow["path"]),
                     "--schluessel", str(cdnow["key_file"])]) == 2
    assert "enthält keine Pseudonyme" in capsys.readouterr().err


def test_zuordnen_writes_nothing_when_few_pseudonyms_match(tmp_path):
    """Chance matches of a wrong key must never become customer numbers: below half, nothing is written."""
    key = bytes(range(32))
    key_file = tmp_path / "pseudonym.key"
    key_file.write_text(key.hex() + "\n", "ascii")
    data = tmp_path / "original.csv"
    data.write_text("Kundennummer;Datum;Umsatz\n" + "".join(f"{1000 + i};01.01.2024;5,00\n" for i in range(3)), "utf-8")
    right = [_by_hand(key, str(1000 + i), 8) for i in range(3)]
    wrong = [f"PS-{i:08X}" for i in range(7)]
    lst = tmp_path / "zielgruppe-test.csv"
    lst.write_text("Pseudonym;Segment\n" + "".join(f"{p};Champions\n" for p in right + wrong), "utf-8")
    with pytest.raises(DataValidationError, match="Nur 3 von 10 Pseudonymen") as err:
        export.reidentify_list(lst, key_file, data)
    assert "nichts geschrieben" in str(err.value) and err.value.exit_code == 2
    assert not (tmp_path / "zielgruppe-test-kundennummern.csv").exists()
    lst.write_text("Pseudonym;Segment\n" + "".join(f"{p};Champions\n" for p in right + wrong[:2]), "utf-8")
    out, counts = export.reidentify_list(lst, key_file, data)
    assert counts == {"rows": 5, "found": 3, "missing": 2}
    back = pd.read_csv(out, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(back["Kundennummer"]) == ["1000", "1001", "1002", "", ""]
