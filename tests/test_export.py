"""CRM target lists: workbook contents per segment, formats, formula-injection guard, German CSV."""

from __future__ import annotations

import numpy as np
import openpyxl
import pandas as pd
import pytest

from helpers import export

LONG = "Sehr wertvolle Kunden: [Region/Nord] mit langem Namen"


@pytest.fixture()
def table():
    ids = [f"K-{i:04d}" for i in range(9)]
    seg = ["Champions"] * 4 + ["=HYPERLINK(\"x\")"] * 2 + [LONG] * 3
    return pd.DataFrame(
        {
            "segment": seg,
            "action": ["-Gutschein senden", "+49 anrufen", "@team", "\tTab", "\rCR", "normal", "x", "y", "z"],
            "r_score": [5, 5, 4, 4, 1, 2, 3, 3, 3],
            "f_score": 3, "m_score": 2,
            "last_purchase": pd.to_datetime(["2026-06-30"] * 9),
            "revenue": [1234.5, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0],
            "revenue_12m": 5.0,
            "clv": [300.0, 100.0, 200.0, np.nan, 5.0, 6.0, 7.0, 8.0, 9.0],
            "p_alive": 0.5,
            "churn_risk": np.nan,  # no churn model -> column left out
            "next_categories": ["Schuhe, Sport", "", "=1+1", "", "", "", "", "", ""],
            "contact": [True, False, True, False, False, False, True, True, True],
            "value": [300.0, 100.0, 200.0, 0.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        },
        index=pd.Index(ids, name="customer_id"),
    )


@pytest.fixture()
def written(table, tmp_path):
    segs = ["Champions", "=HYPERLINK(\"x\")", LONG]
    return export.write_target_lists(table, segs, tmp_path), tmp_path


def test_workbook_has_exactly_each_segments_customers(table, written):
    result, folder = written
    wb = openpyxl.load_workbook(folder / "zielgruppen.xlsx")
    assert wb.sheetnames == list(result["sheet"])
    for seg, sheet in zip(result["segment"], result["sheet"]):
        ws = wb[sheet]
        rows = list(ws.iter_rows(values_only=True))
        header = rows[0]
        ids = [r[header.index("Kundennummer")] for r in rows[1:]]
        assert sorted(ids) == sorted(table.index[table["segment"] == seg])
        assert ws.freeze_panes == "A2"
        assert ws.calculate_dimension() == f"A1:{ws.cell(1, ws.max_column).column_letter}{len(ids) + 1}"
    assert result["customers"].tolist() == [4, 2, 3]


def test_sheet_names_are_valid_and_short(written):
    result, _ = written
    for name in result["sheet"]:
        assert len(name) <= 31 and not set(name) & set("[]:*?/\\")
    assert result.loc[2, "sheet"] == "Sehr wertvolle Kunden_ _Region_"
    assert export.sheet_name("Champions", ["champions"]) == "Champions (2)"
    assert export.sheet_name("x" * 40, ["x" * 31]) == "x" * 27 + " (2)"
    assert export.sheet_name("::") == "__"


def test_headers_order_sorting_and_number_formats(written):
    _, folder = written
    ws = openpyxl.load_workbook(folder / "zielgruppen.xlsx")["Champions"]
    header = [c.value for c in ws[1]]
    assert header == ["Kundennummer", "Segment", "R-Score", "F-Score", "M-Score", "Letzter Kauf",
                      "Umsatz gesamt (EUR)", "Umsatz 12 Monate (EUR)", "CLV (EUR)", "P(aktiv) (%)",
                      "Empfohlene Maßnahme", "Nächste Warengruppen", "Im Budget kontaktieren"]
    col = {h: i + 1 for i, h in enumerate(header)}
    # sorted by value, highest first
    assert [ws.cell(r, 1).value for r in range(2, 6)] == ["K-0000", "K-0002", "K-0001", "K-0003"]
    rev = ws.cell(2, col["Umsatz gesamt (EUR)"])
    assert rev.value == pytest.approx(1234.5) and "€" in rev.number_format and "#,##0.00" in rev.number_format
    # shares in percent as the PDF shows them (0,5 -> 50,0), the same number in the CSV
    assert ws.cell(2, col["P(aktiv) (%)"]).value == pytest.approx(50.0)
    assert ws.cell(2, col["P(aktiv) (%)"]).number_format == "0.0"
    assert ws.cell(2, col["Letzter Kauf"]).number_format == "DD.MM.YYYY"
    assert ws.cell(2, col["Letzter Kauf"]).value.date().isoformat() == "2026-06-30"
    assert ws.cell(5, col["CLV (EUR)"]).value is None  # missing CLV stays empty, not NaN
    assert ws.cell(2, col["Im Budget kontaktieren"]).value == "ja"


def test_formula_injection_neutralized_in_xlsx(written):
    _, folder = written
    wb = openpyxl.load_workbook(folder / "zielgruppen.xlsx")
    texts = [c.value for ws in wb for row in ws.iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
    dangerous = [t for t in texts if t[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert dangerous == []
    ws = wb["Champions"]
    values = {c.value for row in ws.iter_rows(min_row=2) for c in row}
    assert {"'-Gutschein senden", "'+49 anrufen", "'@team", "'\tTab", "'=1+1"} <= values
    seg_sheet = wb[wb.sheetnames[1]]
    assert seg_sheet.cell(2, 2).value == "'=HYPERLINK(\"x\")"
    assert all(c.data_type != "f" for ws in wb for row in ws.iter_rows() for c in row)


def test_csv_is_german_excel_friendly(table, written):
    result, folder = written
    raw = (folder / result.loc[0, "csv"]).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM
    text = raw.decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0].split(";")[0] == "Kundennummer" and "Empfohlene Maßnahme" in lines[0]
    first = lines[1].split(";")
    assert first[0] == "K-0000" and "1234,5" in first and "30.06.2026" in first
    assert "'-Gutschein senden" in first
    back = pd.read_csv(folder / result.loc[0, "csv"], sep=";", decimal=",", encoding="utf-8-sig",
                       dtype={"Kundennummer": str})
    assert sorted(back["Kundennummer"]) == sorted(table.index[table["segment"] == "Champions"])
    assert back["Umsatz gesamt (EUR)"].max() == pytest.approx(1234.5)
    assert first[lines[0].split(";").index("P(aktiv) (%)")] == "50"  # 0,5 -> 50 (percent, as in the PDF)
    assert list(result["csv"]) == ["zielgruppe-champions.csv", "zielgruppe-hyperlink-x.csv",
                                   "zielgruppe-sehr-wertvolle-kunden-region-nord-mit-langem-namen.csv"]
    assert "'=1+1" in (folder / result.loc[0, "csv"]).read_text("utf-8-sig")


def test_atomic_writes_leave_no_temp_files(written):
    _, folder = written
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []


def test_neutralize_leaves_numbers_alone():
    s = pd.Series(["=A1", "ok", 5.0, None, "-3"], dtype=object)
    out = export.neutralize(s)
    assert out.tolist()[:3] == ["'=A1", "ok", 5.0] and out[3] is None and out[4] == "'-3"
    assert export.neutralize(pd.Series([1.0, 2.0])).tolist() == [1.0, 2.0]


def test_file_slug_transliterates_umlauts():
    assert export.file_slug("Drohen einzuschlafen") == "drohen-einzuschlafen"
    assert export.file_slug("Aufmerksamkeit nötig") == "aufmerksamkeit-noetig"
    assert export.file_slug("///") == "segment"


# --- the action plan's lists ------------------------------------------------------------------


@pytest.fixture()
def plan():
    """An action plan computed from hand-made upstream results (segment ids, German labels)."""
    from types import SimpleNamespace

    from helpers.analysis import actions as act
    from helpers.config import ReportConfig
    from helpers.dataset import from_transactions

    end = pd.Timestamp("2026-06-30")
    ids = [f"K{i}" for i in range(6)]
    tx = pd.DataFrame({"customer_id": ids,
                       "order_date": [end - pd.Timedelta(days=d) for d in (0, 5, 10, 20, 40, 900)],
                       "revenue": [100.0, 80.0, 60.0, 40.0, 20.0, 10.0],
                       "category": ["A", "B", "A", "B", "A", "B"]})
    ds = from_transactions(tx, end)
    idx = ds.customers.index
    segs = ["champions", "champions", "at_risk", "at_risk", "=evil", "lost"]
    rfm = SimpleNamespace(ok=True, customers=pd.DataFrame({"segment": segs}, index=idx),
                          order=("champions", "at_risk", "=evil", "lost"),
                          actions={"champions": "Belohnen", "at_risk": "-Rückgewinnen"})
    value = pd.Series([300.0, 200.0, 150.0, 100.0, 50.0, 10.0], index=idx)
    churn_frame = pd.DataFrame({"churn_risk": 0.5, "risk": 0.5, "risk_source": "churn", "value": value,
                                "value_source": "clv", "value_at_risk": 0.5 * value}, index=idx)
    churn = SimpleNamespace(ok=True, customers=churn_frame,
                            key=SimpleNamespace(value_at_risk=float(churn_frame["value_at_risk"].sum())))
    clv = SimpleNamespace(ok=True, customers=pd.DataFrame({"clv": value, "p_alive": 0.6}, index=idx))
    cfg = ReportConfig()
    return act.compute(ds, cfg, {"rfm": rfm, "clv": clv, "churn": churn}), cfg


def test_write_action_lists_writes_exactly_the_plan(plan, tmp_path):
    res, cfg = plan
    folder = tmp_path / export.LISTS_FOLDER
    written = export.write_action_lists(res, folder, cfg)
    cols = ["segment", "sheet", "csv", "customers"]
    planned = export.action_list_plan(res)
    assert written[cols].to_dict("records") == planned[cols].to_dict("records")
    # priority by possible gain (uplift × risk × value − 0,50 €): at_risk 0.15·0.5·(150 + 100) − 1 = 17.75,
    # champions 0.05·0.5·(300 + 200) − 1 = 11.5, =evil 0.08·0.5·50 − 0.5 = 1.5 (low, but budgeted);
    # lost (last purchase 900 days ago) is not reachable
    assert list(res.lists["segment"]) == ["at_risk", "champions", "=evil"]
    assert list(written["customers"]) == list(res.lists["customers"])
    assert sorted(p.name for p in folder.iterdir()) == sorted([export.WORKBOOK_NAME, *planned["csv"]])
    wb = openpyxl.load_workbook(folder / export.WORKBOOK_NAME)
    assert wb.sheetnames == ["Gefährdet", "Champions", "=evil"]
    rows = list(wb["Gefährdet"].iter_rows(values_only=True))
    header = rows[0]
    assert [r[header.index("Segment")] for r in rows[1:]] == ["Gefährdet", "Gefährdet"]
    assert [r[header.index("Kundennummer")] for r in rows[1:]] == ["K2", "K3"]  # by expected gain, highest first
    assert rows[1][header.index("Abwanderungsrisiko (%)")] == 50.0  # risk 0,5 in percent
    assert rows[1][header.index("Empfohlene Maßnahme")] == "'-Rückgewinnen"  # injection guard kept
    assert wb["=evil"].cell(2, 2).value == "'=evil"
    assert "zielgruppe-gefaehrdet.csv" in set(written["csv"])


def test_write_action_lists_writes_nothing_without_a_plan(plan, tmp_path):
    import dataclasses

    res, cfg = plan
    empty = dataclasses.replace(res, lists=res.lists.iloc[0:0])
    written = export.write_action_lists(empty, tmp_path / "zielgruppen", cfg)
    assert written.empty and not (tmp_path / "zielgruppen").exists()


def test_list_names_are_unique():
    names = export.list_names(["a", "b"], {"a": "Gleich", "b": "Gleich"})
    assert names.to_dict("records") == [
        {"segment": "a", "sheet": "Gleich", "csv": "zielgruppe-gleich.csv"},
        {"segment": "b", "sheet": "Gleich (2)", "csv": "zielgruppe-gleich-2.csv"},
    ]
