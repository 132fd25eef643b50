"""Action plan: 12-month revenue window, risk/value sources, priority rule and budget allocation by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers.analysis import actions as act
from helpers.dataset import from_transactions

END = pd.Timestamp("2026-06-30")


def _ds():
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "b", "c"],
            "order_date": [END - pd.Timedelta(days=365), END - pd.Timedelta(days=364), END,
                           END - pd.Timedelta(days=800), END - pd.Timedelta(days=10), END - pd.Timedelta(days=900)],
            "revenue": [100.0, 20.0, 5.0, 50.0, 30.0, 70.0],
        }
    )
    return from_transactions(tx, END)


def test_revenue_last_12m_window_excludes_day_365():
    ds = _ds()
    rev = act.revenue_last_12m(ds.purchases, ds.observation_end)
    # (end-365, end]: a = 20 + 5 (the 100 on end-365 is outside), b = 30, c none
    assert rev.to_dict() == {"a": 25.0, "b": 30.0}


def test_customer_table_sources_and_value_at_risk():
    ds = _ds()
    rfm = pd.DataFrame({"segment": ["S1", "S1", "S2"], "action": ["x", "x", "y"],
                        "r_score": [5, 3, 1], "f_score": [3, 2, 1], "m_score": [4, 3, 2]},
                       index=pd.Index(["a", "b", "c"], name="customer_id"))
    clv = pd.DataFrame({"p_alive": [0.9, 0.6, 0.2], "clv": [100.0, np.nan, 10.0]},
                       index=pd.Index(["a", "b", "c"], name="customer_id"))
    churn = pd.DataFrame({"churn_risk": [0.25]}, index=pd.Index(["a"], name="customer_id"))
    t = act.customer_table(ds.customers, ds.purchases, ds.observation_end, 0.3, rfm, clv, churn,
                           reach_days=730)
    assert t.loc["a", "risk_source"] == "churn" and t.loc["a", "risk"] == pytest.approx(0.25)
    assert t.loc["c", "risk_source"] == "p_alive" and t.loc["c", "risk"] == pytest.approx(0.8)
    # b has no CLV -> value = 12-month margin = 30 * 0.3
    assert t.loc["b", "value_source"] == "margin_12m" and t.loc["b", "value"] == pytest.approx(9.0)
    assert t.loc["a", "value_at_risk"] == pytest.approx(25.0)             # 0.25 * 100
    assert t.loc["b", "value_at_risk"] == pytest.approx(0.4 * 9.0)
    assert t.loc["c", "value_at_risk"] == pytest.approx(0.8 * 10.0)
    assert t["reachable"].to_dict() == {"a": True, "b": True, "c": False}  # c: 900 days ago
    assert t.loc["a", "revenue_12m"] == 25.0 and t.loc["c", "revenue_12m"] == 0.0
    assert t.loc["b", "n_purchases"] == 2

    m = act.segment_matrix(t).set_index("segment")
    assert m.loc["S1", "customers"] == 2
    assert m.loc["S1", "value_at_risk"] == pytest.approx(25.0 + 3.6)
    assert m.loc["S2", "reachable_share"] == 0.0 and m.loc["S2", "priority"] == "niedrig"
    assert m.loc["S1", "priority"] == "hoch"


def test_customer_table_without_any_model():
    ds = _ds()
    t = act.customer_table(ds.customers, ds.purchases, ds.observation_end, 0.5)
    assert (t["segment"] == act.NO_SEGMENT).all()
    assert (t["risk_source"] == "none").all() and (t["value_at_risk"] == 0).all()
    m = act.segment_matrix(t)
    assert math.isnan(m.loc[0, "value_at_risk"])
    assert m.loc[0, "priority"] == "hoch"  # priority then follows the value
    # no revenue and no CLV at all: segments are ranked by reachable customers
    t = _matrix_table({"S1": 0.0, "S2": 0.0}).assign(value=np.nan, risk=np.nan, clv=np.nan)
    t = pd.concat([t, t.iloc[[0]].rename(index={"S1": "S1b"})])
    m = act.segment_matrix(t).set_index("segment")
    assert m["priority"].to_dict() == {"S1": "hoch", "S2": "mittel"}  # 2 of 3 customers, then 1


def _matrix_table(scores: dict[str, float]) -> pd.DataFrame:
    """One reachable customer per segment with value_at_risk = score."""
    idx = pd.Index(list(scores), name="customer_id")
    return pd.DataFrame({"segment": list(scores), "action": "", "revenue_12m": 0.0, "clv": 1.0,
                         "value": 1.0, "risk": 0.5, "value_at_risk": list(scores.values()),
                         "reachable": True}, index=idx)


@pytest.mark.parametrize(
    "scores, expected",
    [
        # shares before each segment: 0 -> hoch, 0.6 -> mittel, 0.9 -> niedrig
        ({"S1": 60, "S2": 30, "S3": 10}, {"S1": "hoch", "S2": "mittel", "S3": "niedrig"}),
        # 0 -> hoch, 0.40 -> hoch, 0.75 -> mittel, zero score -> niedrig
        ({"S1": 40, "S2": 35, "S3": 25, "S4": 0}, {"S1": "hoch", "S2": "hoch", "S3": "mittel", "S4": "niedrig"}),
    ],
)
def test_priority_rule_by_hand(scores, expected):
    m = act.segment_matrix(_matrix_table(scores)).set_index("segment")
    assert m["priority"].to_dict() == expected
    assert list(m.index) == sorted(scores, key=lambda s: -scores[s])


def _alloc_table():
    rows = [("a1", "A", 100.0), ("a2", "A", 50.0), ("a3", "A", 20.0), ("b1", "B", 200.0),
            ("b2", "B", 40.0), ("c1", "C", 100.0), ("d1", "D", 40.0)]
    return pd.DataFrame({"segment": [r[1] for r in rows], "value": [r[2] for r in rows]},
                        index=pd.Index([r[0] for r in rows], name="customer_id"))


UPLIFT = {"A": 0.10, "B": 0.05, "C": 0.01, "D": 0.10}
# expected gains: a1 10, a2 5, a3 2, b1 10, b2 2, c1 1, d1 4 ; cost 3 -> eligible a1, a2, b1, d1


def test_allocation_enough_budget_by_hand():
    cust, seg = act.allocate_budget(_alloc_table(), budget=20.0, cost_per_contact=3.0, uplift=UPLIFT)
    assert sorted(cust.index[cust["contact"]]) == ["a1", "a2", "b1", "d1"]
    s = seg.set_index("segment")
    assert s.loc["A", "contacts"] == 2 and s.loc["A", "cost"] == 6.0
    assert s.loc["A", "expected_gain"] == pytest.approx(15.0)
    assert s.loc["A", "roi"] == pytest.approx((15 - 6) / 6)
    assert s.loc["A", "status"] == act.STATUS_TOP
    assert s.loc["B", "expected_gain"] == pytest.approx(10.0) and s.loc["B", "roi"] == pytest.approx(7 / 3)
    assert s.loc["D", "status"] == act.STATUS_ALL
    assert s.loc["C", "status"] == act.STATUS_BELOW_COST and s.loc["C", "contacts"] == 0
    assert math.isnan(s.loc["C", "roi"])
    tot = act.allocation_totals(seg, 20.0)
    assert tot == pytest.approx({"budget": 20.0, "contacts": 4, "cost": 12.0, "unspent": 8.0,
                                 "expected_gain": 29.0, "net_gain": 17.0, "roi": 17 / 12})


def test_allocation_budget_limit_greedy_order():
    # budget 6 -> 2 contacts: a1 and b1 (gain 10 each, tie broken by id), not a2 (5) or d1 (4)
    cust, seg = act.allocate_budget(_alloc_table(), budget=6.0, cost_per_contact=3.0, uplift=UPLIFT)
    assert sorted(cust.index[cust["contact"]]) == ["a1", "b1"]
    s = seg.set_index("segment")
    assert s.loc["D", "status"] == act.STATUS_BUDGET  # worth it, but no money left
    assert s.loc["A", "eligible"] == 2 and s.loc["A", "contacts"] == 1
    assert act.allocation_totals(seg, 6.0)["expected_gain"] == pytest.approx(20.0)


def test_allocation_nothing_worth_it_and_default_uplift():
    t = _alloc_table()
    cust, seg = act.allocate_budget(t, budget=100.0, cost_per_contact=50.0, uplift=UPLIFT)
    assert not cust["contact"].any()
    assert set(seg["status"]) == {act.STATUS_BELOW_COST}
    # segments missing from the table get the default uplift
    cust, _ = act.allocate_budget(t, budget=100.0, cost_per_contact=3.0, uplift={}, default_uplift=0.1)
    assert cust.loc["b1", "expected_gain"] == pytest.approx(20.0)


def test_effective_uplift_merges_defaults():
    up = act.effective_uplift({"Champions": 0.2, "Eigenes Segment": 0.07})
    assert up["Champions"] == 0.2 and up["Eigenes Segment"] == 0.07
    assert up["Verloren"] == pytest.approx(0.02)


def test_actionable_segments_and_key_figures():
    ds = _ds()
    rfm = pd.DataFrame({"segment": ["S1", "S1", "S2"], "action": "x"},
                       index=pd.Index(["a", "b", "c"], name="customer_id"))
    clv = pd.DataFrame({"p_alive": [0.5, 0.5, 0.5], "clv": [100.0, 50.0, 10.0]},
                       index=pd.Index(["a", "b", "c"], name="customer_id"))
    t = act.customer_table(ds.customers, ds.purchases, ds.observation_end, 0.3, rfm, clv)
    m = act.segment_matrix(t)
    _, seg = act.allocate_budget(t, 100.0, 1.0, {"S1": 0.1, "S2": 0.2})
    # S2 (c, not reachable) has priority "niedrig" but gets budget (0.2 * 10 = 2 > 1)
    assert act.actionable_segments(m, seg) == ["S1", "S2"]
    kf = act.key_figures(m, seg, act.allocation_totals(seg, 100.0), t, 1.0)
    assert kf["risk_basis"] == "p_alive" and kf["value_basis"] == "clv"
    assert kf["value_at_risk"] == pytest.approx(0.5 * 160)
    assert kf["top_risk_segment"] == "S1" and kf["top_risk_value"] == pytest.approx(75.0)
    assert kf["contacts"] == 3 and kf["expected_gain"] == pytest.approx(10 + 5 + 2)


def test_budget_text_names_segments_without_spend_and_with_exhausted_budget():
    import pandas as pd

    from helpers.analysis import actions as act_mod
    from helpers.narrative import actions as text

    per_segment = pd.DataFrame({
        "segment": ["Champions", "Verloren", "Gefährdet", "Neukunden"],
        "status": ["all", act_mod.STATUS_BELOW_COST, act_mod.STATUS_BELOW_COST, act_mod.STATUS_BUDGET],
        "eligible": [10, 0, 0, 5],
        "contacts": [10, 0, 0, 0],
    })
    totals = {"contacts": 10, "budget": 10.0, "unspent": 0.0, "cost": 10.0,
              "expected_gain": 30.0, "net_gain": 20.0, "roi": 2.0}
    out = text.budget_text(per_segment, totals, 1.0, value_is_clv=True)
    assert "Kein Geld fließt in die Segmente „Verloren“ und „Gefährdet“" in out
    assert "Für das Segment „Neukunden“ reicht das Budget nicht mehr" in out
    assert "Für weitere 5 Kontakte" in out
