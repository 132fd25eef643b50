"""Cohort matrices and yearly NRR/GRR against hand computation."""

import math

import numpy as np
import pandas as pd
import pytest

from helpers.analysis import cohorts as co
from helpers.dataset import from_transactions

from .fixtures import YEAR_ROWS, dataset


_ds = dataset


COHORT_ROWS = [
    ("A", "2026-01-05", 100.0), ("A", "2026-02-10", 50.0), ("A", "2026-03-03", 30.0),
    ("B", "2026-01-20", 100.0),
    ("C", "2026-02-02", 80.0),  # February cohort: never returns (zero retention)
    ("D", "2026-03-15", 40.0),
]


def test_monthly_retention_matrix_by_hand():
    ds = _ds(COHORT_ROWS, "2026-03-31")
    res = co.cohort_matrix(ds.purchases, ds.observation_end, "M")
    assert res.sizes.tolist() == [2, 1, 1]
    assert [str(p) for p in res.retention.index] == ["2026-01", "2026-02", "2026-03"]
    jan, feb, mar = (res.retention.iloc[i] for i in range(3))
    assert jan.tolist() == pytest.approx([1.0, 0.5, 0.5])
    assert feb[0] == 1.0 and feb[1] == 0.0  # observed, nobody came back
    assert math.isnan(feb[2])  # April not observed yet
    assert math.isnan(mar[1])
    rr = res.revenue_retention
    assert rr.iloc[0].tolist() == pytest.approx([1.0, 50 / 200, 30 / 200])
    assert rr.iloc[1][1] == 0.0
    # weighted mean at k = 1: (2 * 0.5 + 1 * 0) / 3
    assert res.mean_retention()[1] == pytest.approx(1 / 3)
    assert res.mean_retention()[2] == pytest.approx(0.5)


def test_incomplete_last_month_is_left_out():
    ds = _ds(COHORT_ROWS, "2026-03-20")
    res = co.cohort_matrix(ds.purchases, ds.observation_end, "M")
    assert [str(p) for p in res.retention.index] == ["2026-01", "2026-02"]
    assert res.retention.iloc[0][1] == 0.5  # A's March purchase is not counted
    assert list(res.retention.columns) == [0, 1]
    assert math.isnan(res.retention.iloc[1][1])


def test_quarterly_cohorts():
    ds = _ds(COHORT_ROWS, "2026-03-31")
    res = co.cohort_matrix(ds.purchases, ds.observation_end, "Q")
    assert res.sizes.tolist() == [4]
    assert res.retention.shape == (1, 1)


def test_last_complete_period():
    assert co.last_complete_period(pd.Timestamp("2026-03-31"), "M") == 2026 * 12 + 2
    assert co.last_complete_period(pd.Timestamp("2026-03-30"), "M") == 2026 * 12 + 1
    assert co.last_complete_period(pd.Timestamp("2026-06-30"), "Q") == 2026 * 4 + 1


def _yearly(ds):
    return co.yearly_retention(ds.purchases, ds.transactions, ds.first_date, ds.observation_end)


def test_yearly_nrr_grr_by_hand():
    ds = _ds(YEAR_ROWS, "2025-12-31")
    yr = _yearly(ds)
    assert len(yr) == 2
    latest = yr.iloc[0]
    assert latest["year_start"] == pd.Timestamp("2025-01-01")
    assert latest["year_end"] == pd.Timestamp("2025-12-31")
    assert latest["base_customers"] == 3 and latest["retained_customers"] == 2
    assert latest["customer_retention"] == pytest.approx(2 / 3)
    assert latest["nrr"] == pytest.approx((150 + 50 + 0) / 400)
    assert latest["grr"] == pytest.approx((100 + 50 + 0) / 400)  # P capped at 100
    assert latest["new_revenue"] == pytest.approx(300)
    before = yr.iloc[1]  # 2024 vs 2023: T did not come back
    assert before["nrr"] == 0 and before["grr"] == 0 and before["new_revenue"] == pytest.approx(400)


def test_single_year_dataset_has_no_nrr():
    rows = [("A", "2025-01-03", 10.0), ("A", "2025-06-01", 20.0), ("B", "2025-12-01", 5.0)]
    ds = _ds(rows, "2025-12-31")
    yr = _yearly(ds)
    assert yr.empty
    assert len(co.window_bounds(ds.first_date, ds.observation_end)) == 2


def test_window_tolerance():
    end = pd.Timestamp("2025-12-31")
    assert len(co.window_bounds(pd.Timestamp("2024-01-10"), end)) == 3  # 9 days late: still a full year
    assert len(co.window_bounds(pd.Timestamp("2024-02-15"), end)) == 2


def test_customer_retention_without_revenue():
    df = pd.DataFrame(YEAR_ROWS, columns=["customer_id", "order_date", "revenue"]).drop(columns="revenue")
    ds = from_transactions(df, "2025-12-31")
    yr = _yearly(ds)
    assert yr.iloc[0]["customer_retention"] == pytest.approx(2 / 3)
    assert np.isnan(yr.iloc[0]["nrr"])
    res = co.cohort_matrix(ds.purchases, ds.observation_end)
    assert res.revenue_retention is None


NET_ROWS = [
    ("T", "2024-01-02", 10.0),                                                   # bought once, lost
    ("A", "2024-03-01", 100.0), ("A", "2025-02-01", 150.0), ("A", "2025-03-01", -20.0),  # return-only day
    ("B", "2024-05-01", 200.0), ("B", "2024-06-01", -50.0), ("B", "2025-01-15", -30.0),  # returns only in 2025
    ("C", "2025-04-01", 80.0),                                                   # new in 2025
]
"""Returns booked on days without a purchase, in both years."""


def test_nrr_is_net_of_returns_on_days_without_purchase():
    ds = _ds(NET_ROWS, "2025-12-31")
    latest = _yearly(ds).iloc[0]
    # base 2024 = A, B, T (purchase days); net 2024 revenue: A 100, B 200 - 50, T 10
    assert latest["base_customers"] == 3 and latest["retained_customers"] == 1  # A
    assert latest["base_revenue"] == pytest.approx(260)
    # 2025 net: A 150 - 20 = 130, B -30 (return only), T 0
    assert latest["next_revenue"] == pytest.approx(100)
    assert latest["retained_revenue"] == pytest.approx(130)
    assert latest["nrr"] == pytest.approx(100 / 260)
    assert latest["grr"] == pytest.approx((100 - 30 + 0) / 260)  # min(130, 100), min(-30, 150), min(0, 10)
    assert latest["new_revenue"] == pytest.approx(80)
    # purchase days alone would have said (150) / (100 + 200 + 10)
    assert latest["nrr"] != pytest.approx(150 / 310)


def test_window_revenue_uses_all_lines_and_activity_uses_purchase_days():
    ds = _ds(NET_ROWS, "2025-12-31")
    bounds = co.window_bounds(ds.first_date, ds.observation_end)
    revenue = co.customer_window_revenue(ds.transactions, bounds)
    active = co.customer_window_activity(ds.purchases, bounds)
    assert revenue.loc["B", 0] == pytest.approx(-30) and not active.loc["B", 0]
    assert revenue.loc["A", 0] == pytest.approx(130) and active.loc["A", 0]


def test_quarter_bounds_follow_month_ends():
    bounds = co.window_bounds(pd.Timestamp("2025-01-01"), pd.Timestamp("2026-06-30"), months=3, tolerance_days=7)
    assert [b.strftime("%Y-%m-%d") for b in bounds] == [
        "2026-06-30", "2026-03-31", "2025-12-31", "2025-09-30", "2025-06-30", "2025-03-31", "2024-12-31"]


FLOW_ROWS = [
    ("W", "2023-01-02", 10.0),                                                       # lost 2024 (data start)
    ("P", "2023-03-01", 10.0), ("P", "2024-05-01", 10.0), ("P", "2025-06-01", 10.0),  # retained twice
    ("Q", "2023-02-01", 10.0), ("Q", "2025-03-01", 10.0),                            # lost 2024, back 2025
    ("R", "2024-02-01", 10.0),                                                       # new 2024, lost 2025
    ("S", "2025-07-01", 10.0),                                                       # new 2025
    ("T", "2023-05-01", 10.0),                                                       # lost 2024
    ("U", "2024-08-01", 10.0), ("U", "2024-09-01", 10.0), ("U", "2025-01-10", 10.0),  # new 2024, retained
    ("V", "2024-03-01", 50.0), ("V", "2025-02-01", -50.0),                           # return only: lost 2025
]


def test_customer_flow_by_hand():
    ds = _ds(FLOW_ROWS, "2025-12-31")
    flow = co.customer_flow(ds.purchases, ds.first_date, ds.observation_end)
    assert flow.period == "year" and flow.ok
    t = flow.table.set_index("period_end")
    y24, y25 = t.loc[pd.Timestamp("2024-12-31")], t.loc[pd.Timestamp("2025-12-31")]
    # 2024: before P, Q, T, W; now P, R, U, V
    assert (y24["active_previous"], y24["new"], y24["retained"], y24["reactivated"], y24["lost"], y24["active"]) == (
        4, 3, 1, 0, 3, 4)
    # 2025: before P, R, U, V; now P, Q, S, U (V only returned goods)
    assert (y25["active_previous"], y25["new"], y25["retained"], y25["reactivated"], y25["lost"], y25["active"]) == (
        4, 1, 2, 1, 2, 4)
    assert flow.latest["period_start"] == pd.Timestamp("2025-01-01")
    for _, row in flow.table.iterrows():
        assert row["active_previous"] - row["lost"] + row["new"] + row["reactivated"] == row["active"]
        assert row["retained"] + row["new"] + row["reactivated"] == row["active"]


def test_customer_flow_in_quarters_for_short_data_and_none_for_four_months():
    rows = [("A", "2025-12-20", 10.0), ("A", "2026-02-01", 10.0), ("B", "2026-05-01", 10.0), ("C", "2026-01-05", 5.0)]
    flow = co.customer_flow(*_args(_ds(rows, "2026-06-30")))
    assert flow.period == "quarter" and len(flow.table) == 1  # Q1 2026 is complete, Q4 2025 is not
    q2 = flow.latest
    assert q2["period_start"] == pd.Timestamp("2026-04-01")
    assert (q2["active_previous"], q2["new"], q2["lost"], q2["active"]) == (2, 1, 2, 1)
    short = co.customer_flow(*_args(_ds([("A", "2026-03-01", 1.0), ("B", "2026-06-28", 1.0)], "2026-06-30")))
    assert not short.ok and short.period is None and short.latest is None


def _args(ds):
    return ds.purchases, ds.first_date, ds.observation_end


def test_cohort_revenue_retention_is_net_of_later_returns():
    rows = [("A", "2026-01-05", 100.0), ("A", "2026-02-10", 50.0), ("A", "2026-02-20", -30.0)]
    ds = _ds(rows, "2026-03-31")
    res = co.cohort_matrix(ds.purchases, ds.observation_end, "M", ds.transactions)
    assert res.revenue_retention.iloc[0].tolist()[:2] == pytest.approx([1.0, 20 / 100])
    assert res.observed_customers().tolist() == [1, 1, 1]


def test_cohort_activity_of_one_group():
    rows = [("A", "2026-01-05", 10.0), ("B", "2026-01-20", 10.0), ("A", "2026-03-03", 5.0), ("B", "2026-03-09", -2.0)]
    ds = _ds(rows, "2026-03-31")
    act = co.cohort_activity(ds.purchases, ds.transactions, ds.observation_end)
    assert [str(p) for p in act.index] == ["2026-01", "2026-02", "2026-03"]
    assert act["active"].tolist() == [2, 0, 1] and act["share"].tolist() == pytest.approx([1.0, 0.0, 0.5])
    assert act["revenue"].tolist() == pytest.approx([20.0, 0.0, 3.0])
