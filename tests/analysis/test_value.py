"""The one definition of customer value, churn risk and value at risk, on hand-computed cases."""

import numpy as np
import pandas as pd
import pytest

from helpers.analysis.value import customer_risk, customer_value, revenue_last_12m, value_at_risk

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


def test_value_prefers_clv_and_falls_back_to_the_margin():
    idx = pd.Index(["a", "b", "c", "d"], name="customer_id")
    clv = pd.Series([120.0, np.nan, np.nan, -7.0], index=idx)
    revenue = pd.Series({"b": 200.0, "d": 50.0})  # c bought nothing in the last 12 months
    out = customer_value(idx, clv, revenue, 0.25)
    assert out["value"].tolist() == [120.0, 50.0, 0.0, 0.0]  # d: CLV -7 clipped at 0
    assert out["value_source"].tolist() == ["clv", "margin_12m", "margin_12m", "clv"]


def test_margin_stand_in_is_clipped_at_zero():
    idx = pd.Index(["a", "b"])
    out = customer_value(idx, None, pd.Series({"a": -40.0, "b": 10.0}), 0.3)
    assert out["value"].tolist() == pytest.approx([0.0, 3.0])  # returns exceed purchases: nothing to lose
    assert (out["value_source"] == "margin_12m").all()


def test_value_without_clv_and_revenue_is_missing():
    idx = pd.Index(["a", "b"])
    out = customer_value(idx, pd.Series({"a": 5.0}), None, 0.3)
    assert out.loc["a", "value"] == 5.0 and out.loc["a", "value_source"] == "clv"
    assert np.isnan(out.loc["b", "value"]) and out.loc["b", "value_source"] == "none"
    none = customer_value(idx, None, None, 0.3)
    assert none["value"].isna().all() and (none["value_source"] == "none").all()


def test_risk_falls_back_to_one_minus_p_alive():
    idx = pd.Index(["a", "b", "c", "d"])
    churn = pd.Series({"a": 0.8, "b": np.nan})  # c, d not scored
    alive = pd.Series({"a": 0.1, "b": 0.75, "c": 0.4})
    out = customer_risk(idx, churn, alive)
    assert out["risk"].iloc[:3].tolist() == pytest.approx([0.8, 0.25, 0.6])
    assert np.isnan(out.loc["d", "risk"])
    assert out["risk_source"].tolist() == ["churn", "p_alive", "p_alive", "none"]
    assert customer_risk(idx, None, None)["risk_source"].eq("none").all()


def test_value_at_risk_is_risk_times_value_with_nan_where_unknown():
    risk = pd.Series([0.5, 0.2, np.nan, 1.0], index=list("abcd"))
    value = pd.Series([100.0, 0.0, 30.0, np.nan], index=list("abcd"))
    var = value_at_risk(risk, value)
    assert var.name == "value_at_risk"
    assert var.iloc[:2].tolist() == [50.0, 0.0] and var.iloc[2:].isna().all()
    assert var.sum() == 50.0  # NaN is skipped in the total
