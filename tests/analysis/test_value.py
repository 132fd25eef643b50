"""The one definition of customer value if retained, churn risk and value at risk, on hand-computed cases."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from helpers.analysis import value as vd
from helpers.analysis.value import (customer_risk, customer_value, discounted_months, margin_run_rate,
                                    revenue_last_12m, standin_value, value_at_risk, value_at_risk_range,
                                    value_horizon_months, value_if_retained)

END = pd.Timestamp("2025-12-31")


def _tx(rows):
    return pd.DataFrame(rows, columns=["customer_id", "order_date", "revenue"]).assign(
        order_date=lambda d: pd.to_datetime(d["order_date"]))


def test_revenue_last_12m_window_and_returns():
    tx = _tx([
        ("A", "2024-12-31", 500.0),  # exactly 365 days before the end: outside (window is open on the left)
        ("A", "2025-01-01", 100.0),  # first day inside
        ("A", "2025-06-01", -30.0),  # returns are netted
        ("B", "2025-12-31", 40.0),   # the end day is inside
        ("B", "2026-01-01", 999.0),  # after the end: outside
        ("C", "2024-05-01", 80.0),   # only old lines: missing
    ])
    rev = revenue_last_12m(tx, END)
    assert rev.to_dict() == {"A": 70.0, "B": 40.0}


def test_margin_run_rate_divides_by_at_least_one_year():
    customers = pd.DataFrame({"revenue": [900.0, 900.0, -50.0], "tenure_days": [3 * 365.25, 100, 800]},
                             index=["long", "short", "returns"])
    rate = margin_run_rate(customers, 0.3)
    # 900 * 0.3 = 270 EUR margin: over three years 90 per year; a 100-day history counts as one year
    assert rate["long"] == pytest.approx(90.0) and rate["short"] == pytest.approx(270.0)
    assert rate["returns"] == pytest.approx(-15.0 / (800 / 365.25))  # clipped later by customer_value


def test_discounted_months_by_hand():
    assert discounted_months(12, 0.0) == pytest.approx(12.0)
    # the 12th month is discounted by exactly one year: 1 / 1.1
    assert discounted_months(12, 0.10) - discounted_months(11, 0.10) == pytest.approx(1 / 1.1)
    assert discounted_months(1, 0.10) == pytest.approx(1.1 ** (-1 / 12))
    # 120 EUR per year, no discounting, 6 months -> 60 EUR
    assert standin_value(pd.Series({"a": 120.0}), 6, 0.0)["a"] == pytest.approx(60.0)


def test_value_if_retained_prefers_the_column_and_derives_it_robustly():
    assert value_if_retained(None) is None
    frame = pd.DataFrame({"clv": [10.0, 10.0, 5.0], "p_alive": [0.5, 0.005, 1.0]}, index=list("abc"))
    derived = value_if_retained(frame)
    assert derived["a"] == pytest.approx(20.0) and np.isnan(derived["b"]) and derived["c"] == 5.0
    with_column = frame.assign(clv_if_active=[30.0, 40.0, 5.0])
    assert value_if_retained(with_column).tolist() == [30.0, 40.0, 5.0]
    assert value_if_retained(frame[["clv"]]) is None


def test_value_prefers_clv_if_active_and_falls_back_to_the_run_rate():
    idx = pd.Index(["a", "b", "c", "d"], name="customer_id")
    clv = pd.Series([120.0, np.nan, np.nan, -7.0], index=idx)
    standin = pd.Series({"a": 1.0, "b": 50.0, "c": -3.0})  # d has no stand-in
    out = customer_value(idx, clv_if_active=clv, standin=standin)
    assert out["value"].tolist() == [120.0, 50.0, 0.0, 0.0]  # c: returns exceed purchases, d: CLV clipped
    assert out["value_source"].tolist() == ["clv_if_active", "run_rate", "run_rate", "clv_if_active"]
    none = customer_value(idx, clv_if_active=None, standin=None)
    assert none["value"].isna().all() and (none["value_source"] == "none").all()


def test_risk_uses_the_model_then_the_recency_fallback_never_p_alive():
    idx = pd.Index(["a", "b", "c", "d"])
    model = pd.Series({"a": 0.8, "b": np.nan})  # c, d not covered
    fallback = pd.Series({"a": 0.1, "b": 0.75, "c": 0.9})
    out = customer_risk(idx, model_risk=model, model_source="recency", fallback_risk=fallback)
    assert out["risk"].iloc[:3].tolist() == pytest.approx([0.8, 0.75, 0.9])
    assert np.isnan(out.loc["d", "risk"])
    assert out["risk_source"].tolist() == ["recency", vd.FALLBACK_SOURCE, vd.FALLBACK_SOURCE, "none"]
    unknown = customer_risk(idx, model_risk=None, model_source=None, fallback_risk=None)
    assert unknown["risk_source"].eq("none").all() and unknown["risk"].isna().all()
    with pytest.raises(TypeError):  # the old signature (risk from 1 − P(aktiv)) is gone on purpose
        customer_risk(idx, model, pd.Series({"a": 0.1}))


def test_value_at_risk_is_risk_times_value_with_nan_where_unknown():
    risk = pd.Series([0.5, 0.2, np.nan, 1.0], index=list("abcd"))
    value = pd.Series([100.0, 0.0, 30.0, np.nan], index=list("abcd"))
    var = value_at_risk(risk, value)
    assert var.name == "value_at_risk"
    assert var.iloc[:2].tolist() == [50.0, 0.0] and var.iloc[2:].isna().all()
    assert var.sum() == 50.0  # NaN is skipped in the total


def test_value_at_risk_range_scales_the_clv_range():
    key = SimpleNamespace(clv_if_active_total=1000.0, clv_if_active_total_low=800.0, clv_if_active_total_high=1300.0)
    assert value_at_risk_range(100.0, key) == pytest.approx((80.0, 130.0))
    assert value_at_risk_range(None, key) == (None, None)
    assert value_at_risk_range(100.0, None) == (None, None)
    assert value_at_risk_range(100.0, SimpleNamespace(clv_if_active_total=0.0, clv_if_active_total_low=0.0,
                                                      clv_if_active_total_high=1.0)) == (None, None)


def test_value_horizon_is_the_clv_chapters_effective_one():
    assert value_horizon_months(SimpleNamespace(key=SimpleNamespace(horizon_months=4)), 12) == 4
    assert value_horizon_months(None, 12) == 12
    assert value_horizon_months(SimpleNamespace(key=None), 6) == 6
