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


def test_yearly_nrr_grr_by_hand():
    ds = _ds(YEAR_ROWS, "2025-12-31")
    yr = co.yearly_retention(ds.purchases, ds.first_date, ds.observation_end)
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
    yr = co.yearly_retention(ds.purchases, ds.first_date, ds.observation_end)
    assert yr.empty
    assert len(co.window_bounds(ds.first_date, ds.observation_end)) == 2


def test_window_tolerance():
    end = pd.Timestamp("2025-12-31")
    assert len(co.window_bounds(pd.Timestamp("2024-01-10"), end)) == 3  # 9 days late: still a full year
    assert len(co.window_bounds(pd.Timestamp("2024-02-15"), end)) == 2


def test_customer_retention_without_revenue():
    df = pd.DataFrame(YEAR_ROWS, columns=["customer_id", "order_date", "revenue"]).drop(columns="revenue")
    ds = from_transactions(df, "2025-12-31")
    yr = co.yearly_retention(ds.purchases, ds.first_date, ds.observation_end)
    assert yr.iloc[0]["customer_retention"] == pytest.approx(2 / 3)
    assert np.isnan(yr.iloc[0]["nrr"])
    res = co.cohort_matrix(ds.purchases, ds.observation_end)
    assert res.revenue_retention is None
