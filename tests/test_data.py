"""Loading the sample files and column recognition (expected values computed independently)."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from helpers import session
from helpers.config import SAMPLE_DIR, ReportConfig
from helpers.data import load_dataset, map_columns, normalize_header, parse_amounts
from helpers.exceptions import DataValidationError

B2B = SAMPLE_DIR / "grosshandel_export.csv"
SHOP = SAMPLE_DIR / "onlineshop_transaktionen.csv"
PLAIN = ReportConfig.from_settings(None, {"pseudonymize": False})


def _de_decimal(text: str) -> Decimal:
    return Decimal(text.replace(".", "").replace(",", "."))


def test_b2b_german_excel_dialect_against_csv_module():
    with open(B2B, encoding="cp1252", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    header, body = rows[0], rows[1:]
    unique, seen = [], set()
    for r in body:  # drop exact duplicates, keep first
        if tuple(r) not in seen:
            seen.add(tuple(r))
            unique.append(r)
    i_cust, i_rev = header.index("Kundennummer"), header.index("Nettoumsatz (€)")
    expected_revenue = sum(_de_decimal(r[i_rev]) for r in unique)
    expected_customers = len({r[i_cust] for r in unique})

    ds = load_dataset(B2B, PLAIN)
    assert ds.ledger.rows_read == len(body)
    assert ds.ledger.dropped["duplicate"] == len(body) - len(unique)
    assert ds.transactions["customer_id"].nunique() == expected_customers
    assert Decimal(str(round(ds.transactions["revenue"].sum(), 2))) == expected_revenue
    assert "Firmenname" not in ds.transactions.columns  # free text never carried
    assert ds.observation_end == pd.Timestamp("2026-06-30")
    assert "Außendienst" in set(ds.transactions["channel"].astype(str))
    assert any("cp1252" in n for n in ds.notes) and any("Semikolon" in n for n in ds.notes)


def test_shop_sample_against_plain_pandas():
    raw = pd.read_csv(SHOP, dtype={"customer_id": str, "order_id": str})
    dedup = raw.drop_duplicates()
    ds = load_dataset(SHOP, PLAIN)
    assert ds.ledger.rows_kept == len(dedup)
    assert ds.transactions["revenue"].sum() == pytest.approx(dedup["net_revenue_eur"].sum(), abs=0.005)
    assert set(ds.transactions["customer_id"]) == set(dedup["customer_id"])
    assert ds.ledger.flags["returns_netted"] == (dedup["net_revenue_eur"] < 0).sum()
    assert list(ds.transactions.columns) == ["customer_id", "order_date", "revenue", "order_id",
                                             "category", "channel", "quantity"]
    # purchases: customer-days with net revenue > 0
    day = dedup.groupby(["customer_id", "order_date"])["net_revenue_eur"].sum()
    assert len(ds.purchases) == (day > 0).sum()


def test_pseudonymized_ids_with_given_key_are_stable():
    cfg = ReportConfig()
    a = load_dataset(B2B, cfg, key=b"k" * 32)
    b = load_dataset(B2B, cfg, key=b"k" * 32)
    c = load_dataset(B2B, cfg)  # random per-run key
    assert a.transactions["customer_id"].str.fullmatch(r"PS-[0-9A-F]{8,}").all()
    assert a.transactions["customer_id"].equals(b.transactions["customer_id"])
    assert not a.transactions["customer_id"].equals(c.transactions["customer_id"])
    assert a.transactions["customer_id"].nunique() == c.transactions["customer_id"].nunique()


@pytest.mark.parametrize(
    "header, expected",
    [("Umsatz (€)", "umsatz"), ("Betrag in EUR", "betrag"), ("Kunden-Nr.", "kundennr"),
     ("net_revenue_eur", "netrevenue"), ("Stückzahl", "stueckzahl"), ("\ufeffKundennummer", "kundennummer"),
     ("Umsatz [EUR]", "umsatz"), ("Netto", "netto"),
     # currency units of other currencies (issue 14), but never inside a word
     ("amount_usd", "amount"), ("USD Amount", "amount"), ("Revenue ($)", "revenue"), ("Preis CHF", "preis"),
     ("Umsatz€", "umsatz"), ("Betrag EUR/USD", "betrag"), ("Friseur", "friseur"), ("Entry", "entry")],
)
def test_normalize_header(header, expected):
    assert normalize_header(header) == expected


def test_mapping_recognizes_german_and_english_names():
    m = map_columns(["Belegnummer", "Kunde", "Buchungsdatum", "Nettoumsatz (€)", "Kategorie", "Kanal", "Menge"], {},
                    Path("x.csv"))
    assert m == {"customer_id": "Kunde", "order_date": "Buchungsdatum", "revenue": "Nettoumsatz (€)",
                 "order_id": "Belegnummer", "category": "Kategorie", "channel": "Kanal", "quantity": "Menge"}
    m = map_columns(["customer", "date", "sales"], {}, Path("x.csv"))
    assert m == {"customer_id": "customer", "order_date": "date", "revenue": "sales"}


def test_explicit_map_wins_over_recognition():
    m = map_columns(["Kundennummer", "Debitor", "Datum"], {"customer_id": "Debitor"}, Path("x.csv"))
    assert m["customer_id"] == "Debitor"


def test_ambiguous_revenue_names_both_columns():
    with pytest.raises(DataValidationError, match="„Umsatz“ und „Betrag“"):
        map_columns(["Kunde", "Datum", "Umsatz", "Betrag"], {}, Path("x.csv"))


@pytest.mark.parametrize(
    "values, expected",
    [(["1.234,56", "-12,5", "7"], [1234.56, -12.5, 7.0]),
     (["1,234.56", "0.5"], [1234.56, 0.5]),
     (["12,50 €", "3,00-", "abc"], [12.5, -3.0, float("nan")])],
)
def test_parse_amounts(values, expected):
    got = parse_amounts(pd.Series(values, dtype=object), None).tolist()
    assert got == pytest.approx(expected, nan_ok=True)


@pytest.mark.slow  # imports the chart stack (seaborn), several seconds
def test_session_setup_loads_sample():
    ctx = session.open(str(B2B), "Test GmbH", {"pseudonymize": False})
    cfg, ds = ctx.cfg, ctx.ds
    assert cfg.client_name == "Test GmbH" and ds.source_name == "grosshandel_export.csv"
    assert ds.ledger.rows_read == ds.ledger.rows_kept + ds.ledger.rows_dropped


def test_prepared_roundtrip_keeps_ledger(tmp_path):
    ds = load_dataset(B2B, PLAIN)
    session.write_prepared(ds, tmp_path)
    back = session.read_prepared(tmp_path)
    assert back.ledger == ds.ledger
    assert len(back.transactions) == len(ds.transactions)


@pytest.mark.slow
@pytest.mark.parametrize("data", [SHOP, B2B, Path(__file__).parent / "corpus" / "files" / "no_revenue_column.csv",
                                  Path(__file__).parent / "corpus" / "files" / "implausible_dates.csv"])
def test_chapter_notebook_runs(tmp_path, data):
    """Notebook 01 in JupyterLab mode (no ``work_dir``) shows the numbers of the chapter's result."""
    import papermill as pm

    from helpers import fmt
    from helpers.analysis import overview
    from helpers.config import NOTEBOOK_DIR

    settings = {"min_customers": 1}
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(str(NOTEBOOK_DIR / "01-datengrundlage.ipynb"), str(out), cwd=str(NOTEBOOK_DIR),
                        kernel_name="kundenwert", parameters={"data_path": str(data), "settings": settings},
                        progress_bar=False)
    cfg = ReportConfig.from_settings(None, settings)
    ds = load_dataset(data, cfg)
    key = overview.compute(ds, cfg, {}).key
    assert key.customers == ds.customers.shape[0] and key.lines == len(ds.transactions)
    text = out.read_text("utf-8")
    from helpers.analysis.actions import decide_audience
    from helpers.narrative import common

    people = common.terms(decide_audience(ds, cfg).audience).people   # the B2B export speaks of firms
    assert f"{fmt.integer(key.lines)} Zeilen von {fmt.integer(key.customers)} {people}" in text
    if ds.has_revenue:
        assert key.revenue == pytest.approx(ds.transactions["revenue"].sum(), abs=0.01)
        assert f"Nettoumsatz von insgesamt {fmt.eur(key.revenue)}" in text
    else:
        assert key.revenue is None and key.revenue_12m is None and "enthält keine Umsätze" in text


@pytest.mark.slow
def test_chapter_notebook_report_mode_reads_stored_result(tmp_path):
    """With ``work_dir`` the notebook shows the stored result (same numbers as JupyterLab mode)."""
    import dataclasses

    import papermill as pm

    from helpers import fmt
    from helpers.analysis import overview
    from helpers.config import NOTEBOOK_DIR

    cfg = ReportConfig()
    ds = load_dataset(SHOP, cfg)
    res = overview.compute(ds, cfg, {})
    # a marker value proves the notebook reads the stored result instead of computing again
    stored = dataclasses.replace(res, key=dataclasses.replace(res.key, lines=123_456))
    session.write_prepared(ds, tmp_path)
    session.write_results({"data": stored}, tmp_path)
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(str(NOTEBOOK_DIR / "01-datengrundlage.ipynb"), str(out), cwd=str(NOTEBOOK_DIR),
                        kernel_name="kundenwert", parameters={"work_dir": str(tmp_path)}, progress_bar=False)
    text = out.read_text("utf-8")
    assert f"{fmt.integer(123_456)} Zeilen von {fmt.integer(res.key.customers)} Kundinnen und Kunden" in text


def _tiny():
    from helpers.dataset import from_transactions

    df = pd.DataFrame({
        "customer_id": ["A", "A", "A", "B", "C"],
        "order_date": pd.to_datetime(["2024-01-05", "2024-01-05", "2024-03-01", "2024-01-20", "2024-03-02"]),
        "revenue": [10.0, 5.0, 20.0, 7.5, -3.0],
        "category": ["Schuhe", "Sport", "Schuhe", "Sport", "Sport"],
    })
    return from_transactions(df, observation_end="2024-03-31", source_name="mini.csv")


def test_overview_key_figures_by_hand():
    import datetime as dt

    from helpers.analysis import overview

    k = overview.compute(_tiny(), ReportConfig(), {}).key
    # purchases: A on 05.01. (15 EUR) and 01.03., B on 20.01.; C only returns -> no purchase
    assert (k.customers_in_file, k.lines, k.purchases) == (3, 5, 3)
    assert k.customers == 2  # customers with a purchase day (C has only a return)
    assert k.revenue == 39.5
    assert (k.period_start, k.period_end, k.observation_end, k.months) == (
        dt.date(2024, 1, 5), dt.date(2024, 3, 2), dt.date(2024, 3, 31), 3)
    # 12-month window (31.03.2023, 31.03.2024] holds everything
    assert k.active_customers_12m == 2 and k.revenue_12m == 39.5


def test_twelve_month_window_on_sample_equals_pandas():
    """Data key figures against plain pandas on the sample file (the one 12-month window)."""
    from helpers.analysis import overview

    ds = load_dataset(SHOP, PLAIN)
    res = overview.compute(ds, PLAIN, {})
    k = res.key
    tx, p, end = ds.transactions, ds.purchases, ds.observation_end
    assert k.lines == len(tx) and k.purchases == len(p)
    assert k.customers == p["customer_id"].nunique()
    assert k.revenue == pytest.approx(tx["revenue"].sum(), abs=0.005)
    start = end - pd.Timedelta(days=365)
    assert k.revenue_12m == pytest.approx(
        tx.loc[(tx["order_date"] > start) & (tx["order_date"] <= end), "revenue"].sum(), abs=0.005)
    assert k.active_customers_12m == p.loc[(p["order_date"] > start) & (p["order_date"] <= end),
                                           "customer_id"].nunique()
    assert res.ledger == ds.ledger and res.ledger is not ds.ledger
    assert res.monthly["purchases"].sum() == len(p)


def test_ledger_text_is_complete():
    from helpers import fmt
    from helpers.narrative import data as text
    from helpers.validation import Ledger

    led = Ledger(rows_read=100, rows_kept=90, dropped={"duplicate": 10})
    s = text.ledger_text(led)
    assert "100 Zeilen gelesen" in s and "Behalten wurden 90" in s and "verworfen 10 (10,0\u00a0%)" in s
    assert "genau einem Grund" in s
    assert "kein Prüfprotokoll" in text.ledger_text(None)
    led = Ledger(rows_read=50, rows_kept=50, dropped={}, flags={"outliers": 2, "nonpositive_customers": 1},
                 outlier_threshold=120.0)
    s = text.ledger_text(led)
    assert "alle wurden behalten" in s
    assert f"2 Zeilen mit mehr als {fmt.eur(120.0, 2)}" in s and "@tbl-data-outliers" in s
    assert "Bei einer Kundin oder einem Kunden ist der Nettoumsatz" in s
    assert "@tbl" not in text.ledger_text(led, outlier_table_label=None)
    assert text.ledger_table(None).empty and text.outlier_table(None).empty


def test_monthly_summary_by_hand():
    from helpers.analysis import overview

    m = overview.monthly_summary(_tiny())
    assert list(m.index.strftime("%Y-%m")) == ["2024-01", "2024-02", "2024-03"]
    assert list(m["customers"]) == [2, 0, 1]
    assert list(m["purchases"]) == [2, 0, 1]
    assert list(m["revenue"]) == [22.5, 0.0, 17.0]  # net incl. C's return in March


def test_german_texts_and_chart():
    import matplotlib

    matplotlib.use("Agg")
    from helpers.analysis import overview
    from helpers.narrative import data as text
    from helpers.plotting import data as plots

    ds = _tiny()
    res = overview.compute(ds, ReportConfig(), {})
    k = res.key
    s = text.summary_text(k)
    from helpers import fmt

    assert "05.01.2024" in s and f"Nettoumsatz von insgesamt {fmt.eur(39.5)}" in s
    assert "Als Ende des Beobachtungszeitraums gilt der 31.03.2024" in s
    assert "5 Zeilen von 2 Kundinnen und Kunden" in s and "Eine weitere Kundennummer hat nur Retouren" in s
    table = text.overview_table(k).set_index("Kennzahl")["Wert"]
    assert table["Nettoumsatz der letzten 12 Monate"] == fmt.eur(39.5)
    assert table["Kunden mit Kauf in den letzten 12 Monaten"] == "2"
    avail = res.available
    assert avail == {"revenue": True, "order_id": False, "category": True, "channel": False, "quantity": False}
    c = text.columns_text(avail)
    assert "Nettoumsätze und Warengruppen" in c and "keine Angabe zum Verkaufskanal" in c
    fig = plots.monthly(res.monthly)
    titles = [ax.get_title(loc="left") or ax.get_title() for ax in fig.axes]
    assert titles == ["Nettoumsatz je Monat", "Kundinnen und Kunden mit Kauf je Monat"]
    no_rev = overview.monthly_summary(ds).drop(columns="revenue")
    assert len(plots.monthly(no_rev).axes) == 1


# --------------------------------------------------------------------------- issue 14

CORPUS_FILES = Path(__file__).parent / "corpus" / "files"
CDNOW_MASTER = Path(__import__("lifetimes").__file__).parent / "datasets" / "CDNOW_master.txt"


def test_mixed_decimal_formats_stop_with_rows_and_fix(tmp_path):
    """The issue's export: "29,73" next to "2.648,00" next to "12.5" must not be read as 2.973 and 2,65."""
    path = tmp_path / "export.csv"
    rows = ["Kundennummer;Datum;Nettoumsatz (€)"] + [
        f"K{i};{1 + i % 28:02d}.0{1 + i % 9}.2024;{v}" for i, v in enumerate(["29,73", "2.648,00"] * 50 + ["12.5"])]
    path.write_text("\n".join(rows) + "\n", "utf-8")
    with pytest.raises(DataValidationError) as err:
        load_dataset(path, PLAIN)
    msg = str(err.value)
    assert "„export.csv“" in msg and "Spalte „Nettoumsatz (€)“" in msg
    assert "mit Dezimalkomma (100 Werte, z. B. Zeile 2: '29,73', Zeile 3: '2.648,00'" in msg
    assert "mit Dezimalpunkt (1 Wert, z. B. Zeile 102: '12.5')" in msg
    assert '--set data.decimal=","' in msg and err.value.exit_code == 2


def test_unambiguous_german_column_hand_total(tmp_path):
    """All values decide: 1.234 is 1234 because other values prove the decimal comma."""
    values = ["1.234", "29,73", "2.648,00", "7", "0,5", "1.000.000", "12.345,6-", "(3,00)"]
    # by hand: 1234 + 29.73 + 2648 + 7 + 0.5 + 1000000 - 12345.6 - 3 = 991570.63
    path = tmp_path / "de.csv"
    path.write_text("Kunde;Datum;Betrag\n" + "".join(
        f"K{i % 3};{1 + i:02d}.01.2024;{v}\n" for i, v in enumerate(values)), "utf-8")
    ds = load_dataset(path, ReportConfig.from_settings(None, {"min_customers": 1}))
    assert ds.transactions["revenue"].sum() == pytest.approx(991570.63, abs=1e-6)
    assert any("Dezimalkomma" in n for n in ds.notes)


def test_cdnow_master_through_the_loader(tmp_path):
    """The published CDNOW master file (23.570 customers): numbers against the csv module."""
    lines = CDNOW_MASTER.read_text("ascii").split("\n")[1:]
    rows = [ln.split() for ln in lines if ln.strip()]
    path = tmp_path / "cdnow.csv"
    path.write_text("customer_id,date,number_of_cds,dollar_value\n" + "\n".join(",".join(r) for r in rows) + "\n")
    cfg = ReportConfig.from_settings(None, {"pseudonymize": False, "data.column_map": {"revenue": "dollar_value"}})
    ds = load_dataset(path, cfg, today=pd.Timestamp("2026-12-01").date())
    # by hand with the rules: amount 0 dropped first, then exact duplicates of earlier lines
    seen, kept = set(), []
    zero = dup = 0
    for r in rows:
        if Decimal(r[3]) == 0:
            zero += 1
        elif tuple(r) in seen:
            dup += 1
        else:
            seen.add(tuple(r))
            kept.append(r)
    led = ds.ledger
    assert led.rows_read == len(rows) == 69_659
    assert (led.dropped["zero_amount"], led.dropped["duplicate"], led.rows_kept) == (zero, dup, len(kept))
    assert Decimal(str(round(ds.transactions["revenue"].sum(), 2))) == sum(Decimal(r[3]) for r in kept)
    in_file = {r[0] for r in rows}
    buyers = {r[0] for r in kept}  # all kept amounts are positive: every kept customer has a purchase day
    assert len(in_file) == 23_570 and led.customers_read == len(in_file)
    assert len(ds.customers) == led.customers_with_purchase == len(buyers)
    assert led.customers_all_dropped == len(in_file - buyers) > 0  # only zero lines: in the ledger
    assert "00001" in set(ds.transactions["customer_id"])  # leading zeros kept
    assert ds.first_date == pd.Timestamp("1997-01-01") and ds.observation_end == pd.Timestamp("1998-06-30")


def test_observation_end_never_after_the_run_date(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("customer_id,order_date,revenue\n" + "".join(
        f"K{m},2024-{m:02d}-15,10.00\n" for m in range(1, 13)), "utf-8")
    cfg = ReportConfig.from_settings(None, {"min_customers": 1, "data.max_implausible_date_share": 0.1})
    ds = load_dataset(path, cfg, today=pd.Timestamp("2024-11-30").date())
    assert ds.observation_end == pd.Timestamp("2024-11-15")
    assert ds.ledger.dropped["after_run_date"] == 1  # 15.12.2024 is after the run date
    with pytest.raises(DataValidationError, match="1 liegt nach dem heutigen Auswertungstag"):
        load_dataset(path, ReportConfig.from_settings(None, {"min_customers": 1}),
                     today=pd.Timestamp("2024-11-30").date())  # 1 of 12 lines is more than 2 %
    dated = ReportConfig.from_settings(None, {"min_customers": 1, "data.max_implausible_date_share": 0.1,
                                              "report_date": "2024-11-30"})
    assert load_dataset(path, dated).observation_end == pd.Timestamp("2024-11-15")  # the report date is the run date
    explicit = ReportConfig.from_settings(None, {"min_customers": 1, "observation_end": "2024-12-31"})
    ds = load_dataset(path, explicit, today=pd.Timestamp("2024-11-30").date())
    assert ds.observation_end == pd.Timestamp("2024-12-31") and ds.ledger.rows_dropped == 0


class _Counting:
    """Wraps a binary file and counts the bytes handed to the reader."""

    def __init__(self, fh):
        self.fh, self.read_bytes = fh, 0

    def read(self, n=-1):
        data = self.fh.read(n)
        self.read_bytes += len(data)
        return data

    def close(self):
        self.fh.close()


def test_gz_bomb_stops_while_streaming(tmp_path, monkeypatch):
    """60 MB of valid rows in a small .gz: refused after reading the limit, not after loading it all."""
    import gzip

    from helpers import data

    path = tmp_path / "bomb.csv.gz"
    block = "".join(f"K{i},2024-01-{1 + i % 28:02d},{i}.50\n" for i in range(40)).encode()  # < 32 KB window
    with gzip.open(path, "wb", compresslevel=9) as fh:
        fh.write(b"customer_id,order_date,revenue\n")
        for _ in range(60_000_000 // len(block) + 1):
            fh.write(block)
    assert path.stat().st_size < 2_000_000
    opened = []
    original = data._open_raw
    monkeypatch.setattr(data, "_open_raw", lambda p: opened.append(_Counting(original(p))) or opened[-1])
    cfg = ReportConfig.from_settings(None, {"data.max_text_mb": 5})
    with pytest.raises(DataValidationError, match="größer als 5 MB") as err:
        load_dataset(path, cfg)
    assert "--set data.max_text_mb=20 (Einstellung data.max_text_mb)" in str(err.value)
    assert max(c.read_bytes for c in opened) <= 5_000_000 + 2 * (1 << 20)  # the limit plus one read block


def test_ten_megabyte_header_line_stops_at_once(tmp_path):
    path = tmp_path / "header.csv"
    path.write_bytes(b"customer_id,order_date," + b"x" * 10_000_000 + b"\nA,2024-01-01,1\n")
    with pytest.raises(DataValidationError, match=r"Eine Zeile \(ab etwa Zeile 1\) ist länger als 1\.000\.000 Bytes"):
        load_dataset(path, PLAIN)


def test_large_cell_stops_with_the_setting_to_raise(tmp_path):
    path = tmp_path / "cell.csv"
    path.write_text("customer_id,order_date,revenue,category\nA,2024-01-01,1.00,Sport\n"
                    "B,2024-01-02,2.00," + "y" * 200_000 + "\n", "utf-8")
    with pytest.raises(DataValidationError,
                       match=r"Ein Feld \(ab etwa Zeile 3\) ist länger als 100\.000 Bytes") as err:
        load_dataset(path, PLAIN)
    assert "--set data.max_field_bytes=1000000" in str(err.value)
    ds = load_dataset(path, ReportConfig.from_settings(None, {"min_customers": 1, "data.max_field_bytes": 300_000}))
    assert len(ds.transactions) == 2


def test_sources_name_the_file_columns_and_survive_the_work_folder(tmp_path):
    ds = load_dataset(B2B, PLAIN)
    assert ds.sources == {"customer_id": "Kundennummer", "order_date": "Rechnungsdatum", "revenue": "Nettoumsatz (€)",
                          "order_id": "Rechnungsnummer", "category": "Warengruppe", "channel": "Vertriebsweg",
                          "quantity": "Menge"}
    session.write_prepared(ds, tmp_path)
    back = session.read_prepared(tmp_path)
    assert back.sources == ds.sources and back.ledger == ds.ledger
    from helpers.analysis import overview
    from helpers.narrative import data as text

    res = overview.compute(back, PLAIN, {})
    s = text.sources_text(res.sources, res.notes)
    assert "Umsatz aus Spalte „Nettoumsatz \\(€\\)“" in s and "Kundennummer aus Spalte „Kundennummer“" in s
    assert "cp1252" in s and "Dezimalkomma" in s


def test_one_customer_count_in_sentence_table_and_ledger():
    """The first sentence, Table 1 and the ledger name the same number of customers (≥ 1 purchase day)."""
    from helpers import fmt
    from helpers.analysis import overview
    from helpers.narrative import data as text

    cfg = ReportConfig.from_settings(None, {"min_customers": 1, "pseudonymize": False})
    ds = load_dataset(CORPUS_FILES / "customers_only_dropped.csv", cfg)
    res = overview.compute(ds, cfg, {})
    k = res.key
    assert k.customers == 2 and k.customers_in_file == 3
    assert f"Zeilen von {fmt.integer(k.customers)} Kundinnen und Kunden" in text.summary_text(k)
    table = text.overview_table(k).set_index("Kennzahl")["Wert"]
    assert table["Kunden (mit mindestens einem Kauf)"] == fmt.integer(k.customers)
    ledger = text.ledger_table(res.ledger).set_index("Prüfschritt")["Kunden"]
    assert ledger["Kunden mit mindestens einem Kauf (ausgewertet)"] == k.customers
    assert ledger["Kunden ohne verbleibenden Kauf: alle Zeilen verworfen"] == 2  # C, D
    assert ledger["Gelesene Zeilen"] == 5
    s = text.ledger_text(res.ledger)
    assert ("Die Datei enthält 5 Kundennummern. Ausgewertet werden die 2 mit mindestens einem Kauf; ohne "
            "verbleibenden Kauf sind 2, weil alle ihre Zeilen verworfen wurden und 1, weil ihnen nur Retouren") in s


def test_implausible_dates_in_the_chapter_text():
    from helpers.analysis import overview
    from helpers.narrative import data as text

    cfg = ReportConfig.from_settings(None, {"min_customers": 1})
    ds = load_dataset(CORPUS_FILES / "implausible_dates.csv", cfg)
    res = overview.compute(ds, cfg, {})
    s = text.ledger_text(res.ledger)
    assert "5 Zeilen mit einem Datum weit außerhalb des übrigen Zeitraums und 5 Zeilen mit einem Datum nach dem " \
           "Auswertungstag" in s
    assert ", z. B. 01.01.1900, 01.01.1900, 31.12.2099, 31.12.2099;" in s and "(@tbl-data-dates)" in s
    dates = text.date_table(res.ledger)
    assert list(dates["Zeile"]) == [102, 103, 104, 105, 106, 2002, 2003, 2004, 2005, 2006]
    assert res.key.observation_end.isoformat() == "2024-12-31"


@pytest.mark.parametrize("name, fragment", [
    ("one_day_export.csv", "an einem einzigen Tag"),
    ("credit_notes_only.csv", "keinen einzigen Kauf"),
    ("mixed_decimal_conflict.csv", "zwei Zahlenformaten"),
])
def test_cli_exit_code_two_with_german_message(tmp_path, capsys, name, fragment):
    from helpers import cli

    code = cli.main(["report", "--data", str(CORPUS_FILES / name), "--client", "Test GmbH",
                     "--out", str(tmp_path), "--set", "min_customers=1"])
    err = capsys.readouterr().err
    assert code == 2 and fragment in err and "Traceback" not in err and "AssertionError" not in err
