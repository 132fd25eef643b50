"""Data-quality rules and the ledger (hand-made canonical frames)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from helpers.validation import (
    DROP_LABELS, Ledger, LedgerError, apply_rules, flags_table, ledger_table, outlier_table,
)


def frame(rows, cols=("customer_id", "order_date", "revenue")):
    df = pd.DataFrame(rows, columns=list(cols))
    df["order_date"] = pd.to_datetime(df["order_date"])
    return df


def test_every_rule_and_first_failing_reason_wins():
    df = frame([
        ("A", "2024-01-01", 10.0),      # kept
        (None, "2024-01-02", 5.0),      # missing customer
        (None, None, np.nan),           # missing customer (first rule wins)
        ("B", None, 5.0),               # bad date
        ("B", "2024-12-31", 5.0),       # future
        ("B", "2024-01-03", np.nan),    # bad amount
        ("B", "2024-01-04", 0.0),       # zero
        ("C", "2024-01-05", -4.0),      # return, kept (net)
        ("A", "2024-01-01", 10.0),      # exact duplicate of row 0
    ])
    out, led, end = apply_rules(df, df, pd.Timestamp("2024-06-30"))
    assert led.rows_read == 9 and led.rows_kept == 2
    assert {k: v for k, v in led.dropped.items() if v} == {
        "missing_customer": 2, "bad_date": 1, "future_date": 1, "bad_amount": 1, "zero_amount": 1, "duplicate": 1}
    # customers: A kept; B lost every line (bad date, future, bad amount, zero); C only a return
    assert (led.customers_read, led.customers_kept, led.customers_all_dropped) == (3, 2, 1)
    assert led.dropped_customers["bad_date"] == 1 and led.dropped_customers["duplicate"] == 1
    assert led.dropped_customers["missing_customer"] == 0
    assert led.flags["returns_netted"] == 1
    assert end == pd.Timestamp("2024-06-30")
    assert list(out["revenue"]) == [10.0, -4.0]


def test_observation_end_defaults_to_last_valid_date():
    df = frame([("A", "2024-01-01", 1.0), ("B", "2024-03-05", 2.0), (None, "2025-01-01", 3.0)])
    _, led, end = apply_rules(df, None, None)
    assert end == pd.Timestamp("2024-03-05")
    assert led.dropped["future_date"] == 0 and led.dropped["missing_customer"] == 1


def test_returns_drop_and_cancellation_prefix_makes_amount_negative():
    df = frame([("A", "2024-01-01", 10.0, "100"), ("A", "2024-01-02", 4.0, "S-100"),
                ("B", "2024-01-01", 8.0, "C200"), ("B", "2024-01-03", -2.0, "201")],
               cols=("customer_id", "order_date", "revenue", "order_id"))
    out, led, _ = apply_rules(df, df, None, returns="net")
    assert list(out["revenue"]) == [10.0, -4.0, -8.0, -2.0]
    assert led.flags["returns_netted"] == 3
    out, led, _ = apply_rules(df, df, None, returns="drop")
    assert list(out["revenue"]) == [10.0] and led.dropped["returns"] == 3


def test_outlier_threshold_by_hand_and_listing():
    # positive lines 1..8 and 100: median 5, IQR = 7 - 3 = 4 -> threshold 5 + 2 * 4 = 13
    df = frame([(f"K{i}", "2024-01-01", float(v)) for i, v in enumerate([1, 2, 3, 4, 5, 6, 7, 8, 100])])
    _, led, _ = apply_rules(df, None, None, outlier_factor=2.0)
    assert led.outlier_threshold == 13.0
    assert led.flags["outliers"] == 1
    assert led.outliers == [{"row": 10, "customer_id": "K8", "order_date": "2024-01-01", "revenue": 100.0}]
    t = outlier_table(led)
    assert list(t.columns) == ["Zeile", "Kunde", "Datum", "Umsatz"] and t["Umsatz"].iloc[0] == 100.0


def test_same_day_orders_and_nonpositive_customers():
    df = frame([("A", "2024-01-01", 10.0, "1"), ("A", "2024-01-01", 5.0, "2"), ("A", "2024-01-01", 1.0, "2"),
                ("B", "2024-01-01", 3.0, "3"), ("B", "2024-01-09", -3.0, "3"),
                ("C", "2024-01-02", 2.0, "4"), ("C", "2024-01-05", -5.0, "4")],
               cols=("customer_id", "order_date", "revenue", "order_id"))
    _, led, _ = apply_rules(df, df, None)
    assert led.flags["same_day_orders"] == 1
    assert led.flags["nonpositive_customers"] == 2  # B nets to 0, C to -3


def test_without_revenue_marked_cancellations_are_dropped():
    df = frame([("A", "2024-01-01", "1"), ("A", "2024-01-02", "S-1"), ("B", "2024-01-02", "2")],
               cols=("customer_id", "order_date", "order_id"))
    out, led, _ = apply_rules(df, df, None)
    assert led.rows_kept == 2 and led.dropped["returns"] == 1
    assert "revenue" not in out.columns


def test_ledger_roundtrip_and_invariant():
    df = frame([("A", "2024-01-01", 10.0), ("A", "2024-01-01", 10.0), ("B", "2024-01-02", 0.0)])
    _, led, _ = apply_rules(df, df, None)
    d = json.loads(json.dumps(led.to_dict()))
    back = Ledger.from_dict(d)
    assert back == led
    d["rows_kept"] += 1
    with pytest.raises(LedgerError):
        Ledger.from_dict(d)


def test_german_ledger_table_adds_up():
    df = frame([("A", "2024-01-01", 10.0), (None, "2024-01-01", 3.0), ("B", None, 1.0), ("B", "2024-01-02", -1.0)])
    _, led, _ = apply_rules(df, df, None, returns="drop")
    t = ledger_table(led).set_index("Prüfschritt")["Zeilen"]
    assert t["Gelesene Zeilen"] == 4 and t["Übernommene Zeilen"] == 1
    assert t["Verworfen: fehlende Kundennummer"] == 1
    assert t["Verworfen: Retoure oder Storno"] == 1
    drops = t[[label for label in DROP_LABELS.values() if label in t.index]].sum()
    assert t["Gelesene Zeilen"] == t["Übernommene Zeilen"] + drops == t["Übernommene Zeilen"] + t["Verworfen insgesamt"]
    f = flags_table(led)
    assert "Retouren/Stornos verrechnet (Zeilen, behalten)" not in set(f["Hinweis"])  # dropped, not netted


def test_dates_outside_bulk_by_hand():
    from helpers.validation import dates_outside_bulk

    day = pd.Timestamp("2024-01-01")
    days = pd.to_datetime([day + pd.Timedelta(days=i) for i in range(0, 360, 3)]
                          + ["1900-01-01", "1900-01-01", "2019-06-01"])
    n = days.to_numpy().astype("datetime64[D]").astype(np.int64)
    out = dates_outside_bulk(n)
    # IQR of the 2024 dates is about 180 days -> the gap limit is 365 days: 1900 and 2019 (more than
    # 4 years before the first 2024 date) are outside, every 2024 date inside
    assert out.tolist() == [False] * 120 + [True, True, True]
    # a business growing over ten years without a year-long pause keeps all its dates
    years = np.concatenate([np.full(2 ** k, k * 300) for k in range(10)])
    assert not dates_outside_bulk(years).any()
    assert not dates_outside_bulk(np.array([5])).any()


def test_implausible_and_future_dates_go_to_the_ledger():
    rows = [("A", f"2024-0{m}-10", 10.0) for m in range(1, 10)]
    rows += [("B", "1900-01-01", 5.0), ("C", "2099-12-31", 7.0), ("A", "2026-12-02", 3.0)]
    df = frame(rows)
    out, led, end = apply_rules(df, df, None, today=pd.Timestamp("2026-12-01").date())
    assert led.dropped["implausible_date"] == 1 and led.dropped["after_run_date"] == 2
    assert end == pd.Timestamp("2024-09-10")  # never after the run date, and 1900 does not count
    assert led.customers_read == 3 and led.customers_all_dropped == 2  # B and C had only these lines
    assert [d["row"] for d in led.dates] == [11, 13, 12]  # sorted by date: 1900, 02.12.2026, 2099
    assert [d["reason"] for d in led.dates] == ["implausible_date", "after_run_date", "after_run_date"]
    assert led.run_date == "2026-12-01"
    # an explicit observation end: later lines are "future", and no run-date rule applies
    _, led2, end2 = apply_rules(df, df, pd.Timestamp("2030-01-01"), today=pd.Timestamp("2026-12-01").date())
    assert led2.dropped["future_date"] == 1 and led2.dropped["after_run_date"] == 0
    assert end2 == pd.Timestamp("2030-01-01")


def test_structural_lines_are_not_customers():
    df = frame([("A", "2024-01-01", 10.0), ("Summe", None, 10.0), ("customer_id", None, np.nan)])
    masks = {"total_row": np.array([False, True, False]), "header_row": np.array([False, False, True])}
    _, led, _ = apply_rules(df, df, None, structural=masks)
    assert led.dropped["total_row"] == 1 and led.dropped["header_row"] == 1
    assert led.customers_read == 1  # "Summe" and "customer_id" are no customers
    t = ledger_table(led, customers=True).set_index("Prüfschritt")
    assert t.loc["Verworfen: Summen- oder Zwischensummenzeile", "Zeilen"] == 1
    assert pd.isna(t.loc["Verworfen: Summen- oder Zwischensummenzeile", "Kunden"])


def test_customer_ledger_table_adds_up():
    df = frame([("A", "2024-01-01", 10.0), ("B", "2024-01-02", 0.0), ("C", "2024-01-03", -2.0),
                ("A", "2024-01-04", 0.0)])
    _, led, _ = apply_rules(df, df, None)
    led.customers_with_purchase = 1  # A (the loader sets it from ds.customers)
    led.check()
    t = ledger_table(led, customers=True).set_index("Prüfschritt")["Kunden"]
    assert t["Gelesene Zeilen"] == 3
    assert t["Verworfen: Betrag 0"] == 2  # A and B each lost a line
    assert t["Übernommene Zeilen"] == 2  # A and C
    lost = [label for label in t.index if label.startswith("Kunden ohne verbleibenden Kauf")]
    assert [t[label] for label in lost] == [1, 1]  # B: all lines dropped; C: only a return
    assert t["Gelesene Zeilen"] == sum(t[label] for label in lost) + t[
        "Kunden mit mindestens einem Kauf (ausgewertet)"]
    back = Ledger.from_dict(json.loads(json.dumps(led.to_dict())))
    assert back == led and back.customers_no_purchase == 1
    led.customers_with_purchase = 3
    with pytest.raises(LedgerError):
        led.check()
