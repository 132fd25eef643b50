"""Action plan: inputs from the upstream results, priority rule, budget allocation by hand,
target-list plan, cross-selling, and the contract of ``compute`` (no recomputation, no mutation,
picklable, value at risk = the churn chapter's)."""

from __future__ import annotations

import math
import pickle
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from helpers.analysis import actions as act
from helpers.analysis import value
from helpers.config import ReportConfig
from helpers.dataset import from_transactions

END = pd.Timestamp("2026-06-30")
IDX = pd.Index(["a", "b", "c"], name="customer_id")


def _ds(category: bool = False):
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "b", "c"],
            "order_date": [END - pd.Timedelta(days=365), END - pd.Timedelta(days=364), END,
                           END - pd.Timedelta(days=800), END - pd.Timedelta(days=10), END - pd.Timedelta(days=900)],
            "revenue": [100.0, 20.0, 5.0, 50.0, 30.0, 70.0],
        }
    )
    if category:
        tx["category"] = ["Schuhe", "Sport", "Schuhe", "Schuhe", "Sport", "Schuhe"]
    return from_transactions(tx, END)


def _rfm(segments=("S1", "S1", "S2"), scores=True, actions=None):
    frame = pd.DataFrame({"segment": list(segments)}, index=IDX)
    if scores:
        frame = frame.assign(r_score=[5, 3, 1], f_score=[3, 2, 1], m_score=[4, 3, 2])
    order = tuple(dict.fromkeys(segments))
    return SimpleNamespace(ok=True, skip=None, customers=frame, order=order,
                           actions=actions if actions is not None else {s: f"Maßnahme {s}" for s in order})


def _clv(p_alive, clv):
    frame = pd.DataFrame({"p_alive": p_alive, "clv": clv}, index=IDX)
    return SimpleNamespace(ok=True, skip=None, customers=frame)


def _churn(ds, clv=None, churn_risk=None, margin=0.3):
    """A churn result as the churn chapter builds it (with the one definition in ``value``)."""
    idx = ds.customers.index
    cf = clv.customers if clv is not None and clv.customers is not None else None
    val = value.customer_value(idx, cf["clv"] if cf is not None else None,
                               value.revenue_last_12m(ds.transactions, ds.observation_end), margin)
    risk = value.customer_risk(idx, churn_risk, cf["p_alive"] if cf is not None else None)
    frame = pd.concat([pd.Series(churn_risk, dtype=float).reindex(idx).rename("churn_risk")
                       if churn_risk is not None else pd.Series(np.nan, index=idx, name="churn_risk"),
                       risk, val], axis=1)
    frame["value_at_risk"] = value.value_at_risk(frame["risk"], frame["value"])
    total = float(frame["value_at_risk"].sum())
    return SimpleNamespace(ok=True, skip=None, customers=frame, key=SimpleNamespace(value_at_risk=total))


def _no_result():
    return SimpleNamespace(ok=False, skip="skipped", customers=None, actions={}, order=())


def _cfg(**actions):
    return ReportConfig.from_settings(None, {"gross_margin": 0.3, "actions": actions} if actions else None)


def test_revenue_last_12m_window_excludes_day_365():
    ds = _ds()
    rev = value.revenue_last_12m(ds.transactions, ds.observation_end)
    # (end-365, end]: a = 20 + 5 (the 100 on end-365 is outside), b = 30, c none
    assert rev.to_dict() == {"a": 25.0, "b": 30.0}


def test_customer_table_sources_and_value_at_risk():
    ds = _ds()
    clv = _clv([0.9, 0.6, 0.2], [100.0, np.nan, 10.0])
    churn = _churn(ds, clv, pd.Series({"a": 0.25}))
    res = act.compute(ds, _cfg(), {"rfm": _rfm(), "clv": clv, "churn": churn})
    t = res.customers
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
    assert t.loc["a", "r_score"] == 5 and t.loc["c", "m_score"] == 2

    m = res.matrix.set_index("segment")
    assert m.loc["S1", "customers"] == 2
    assert m.loc["S1", "value_at_risk"] == pytest.approx(25.0 + 3.6)
    assert m.loc["S2", "reachable_share"] == 0.0 and m.loc["S2", "priority"] == "low"
    assert m.loc["S1", "priority"] == "high"


def test_customer_table_without_any_model():
    ds = _ds()
    churn = _churn(ds, None, None, margin=0.5)
    res = act.compute(ds, _cfg(), {"rfm": _no_result(), "clv": _no_result(), "churn": churn})
    t = res.customers
    assert (t["segment"] == act.NO_SEGMENT).all()
    assert (t["risk_source"] == "none").all() and t["value_at_risk"].isna().all()
    assert not res.has_risk and res.has_value and res.key.value_at_risk is None
    m = res.matrix
    assert math.isnan(m.loc[0, "value_at_risk"])
    assert m.loc[0, "priority"] == "high"  # priority then follows the value
    assert list(res.lists["segment"]) == [act.NO_SEGMENT]  # the only segment gets the list
    # no revenue and no CLV at all: segments are ranked by reachable customers
    t = _matrix_table({"S1": 0.0, "S2": 0.0}).assign(value=np.nan, risk=np.nan, clv=np.nan)
    t = pd.concat([t, t.iloc[[0]].rename(index={"S1": "S1b"})])
    m = act.segment_matrix(t).set_index("segment")
    assert m["priority"].to_dict() == {"S1": "high", "S2": "medium"}  # 2 of 3 customers, then 1


def _matrix_table(scores: dict[str, float]) -> pd.DataFrame:
    """One reachable customer per segment with value_at_risk = score."""
    idx = pd.Index(list(scores), name="customer_id")
    return pd.DataFrame({"segment": list(scores), "revenue_12m": 0.0, "clv": 1.0,
                         "value": 1.0, "risk": 0.5, "value_at_risk": list(scores.values()),
                         "reachable": True}, index=idx)


@pytest.mark.parametrize(
    "scores, expected",
    [
        # shares before each segment: 0 -> high, 0.6 -> medium, 0.9 -> low
        ({"S1": 60, "S2": 30, "S3": 10}, {"S1": "high", "S2": "medium", "S3": "low"}),
        # 0 -> high, 0.40 -> high, 0.75 -> medium, zero score -> low
        ({"S1": 40, "S2": 35, "S3": 25, "S4": 0}, {"S1": "high", "S2": "high", "S3": "medium", "S4": "low"}),
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
    up = act.effective_uplift({"champions": 0.2, "own_segment": 0.07})
    assert up["champions"] == 0.2 and up["own_segment"] == 0.07
    assert up["lost"] == pytest.approx(0.02)


def test_actionable_segments_and_key_figures():
    ds = _ds()
    clv = _clv([0.5, 0.5, 0.5], [100.0, 50.0, 10.0])
    cfg = _cfg(budget=100.0, cost_per_contact=1.0, segment_uplift={"loyal": 0.1, "lost": 0.2})
    rfm = _rfm(segments=("loyal", "loyal", "lost"), scores=False)
    res = act.compute(ds, cfg, {"rfm": rfm, "clv": clv, "churn": _churn(ds, clv)})
    # lost (c, not reachable) has priority "low" but gets budget (0.2 * 10 = 2 > 1)
    assert act.actionable_segments(res.matrix, res.allocation) == ["loyal", "lost"]
    assert list(res.lists["segment"]) == ["loyal", "lost"] and list(res.lists["customers"]) == [2, 1]
    kf = res.key
    assert kf.risk_basis == "p_alive" and kf.value_basis == "clv"
    assert kf.value_at_risk == pytest.approx(0.5 * 160)
    assert kf.top_risk_segment == "loyal" and kf.top_risk_value == pytest.approx(75.0)
    assert kf.contacts == 3 and kf.expected_gain == pytest.approx(10 + 5 + 2)
    assert kf.cost == pytest.approx(3.0) and kf.roi == pytest.approx(14 / 3)
    assert kf.high_priority_segments == ("loyal",) and kf.budget_segments == ("loyal", "lost")
    assert kf.lists_planned == 2 and kf.list_customers == 3 and kf.crosssell is False
    assert res.customers["contact"].all() and res.uplift["lost"] == 0.2


def test_value_at_risk_per_segment_sums_to_churn_total():
    ds = _ds()
    clv = _clv([0.9, np.nan, 0.2], [100.0, np.nan, 10.0])  # b: no CLV and no risk -> NaN at risk
    churn = _churn(ds, clv, pd.Series({"a": 0.25}))
    assert churn.customers["value_at_risk"].isna().sum() == 1
    res = act.compute(ds, _cfg(), {"rfm": _rfm(), "clv": clv, "churn": churn})
    assert res.matrix["value_at_risk"].sum() == pytest.approx(churn.key.value_at_risk, abs=0.005)
    assert res.key.value_at_risk == churn.key.value_at_risk


def test_churn_columns_are_taken_as_they_are():
    ds = _ds()
    clv = _clv([0.9, 0.6, 0.2], [100.0, 40.0, 10.0])
    churn = _churn(ds, clv)
    frame = churn.customers.copy()
    frame["value_at_risk"] = [1.0, 2.0, 4.0]  # deliberately not risk x value
    frame["value_source"] = ["clv", "margin_12m", "none"]
    churn = SimpleNamespace(ok=True, customers=frame, key=SimpleNamespace(value_at_risk=7.0))
    res = act.compute(ds, _cfg(), {"rfm": _rfm(), "clv": clv, "churn": churn})
    for col in ("churn_risk", "risk", "risk_source", "value", "value_source", "value_at_risk"):
        pd.testing.assert_series_equal(res.customers[col], frame[col].reindex(res.customers.index),
                                       check_dtype=False)
    assert res.key.value_at_risk == 7.0 and res.matrix["value_at_risk"].sum() == pytest.approx(7.0)


def test_compute_does_not_mutate_inputs_and_pickles():
    ds = _ds(category=True)
    clv = _clv([0.9, 0.6, 0.2], [100.0, np.nan, 10.0])
    up = {"rfm": _rfm(), "clv": clv, "churn": _churn(ds, clv, pd.Series({"a": 0.25}))}
    before = {k: v.customers.copy(deep=True) for k, v in up.items()}
    tx, cust = ds.transactions.copy(deep=True), ds.customers.copy(deep=True)
    res = act.compute(ds, _cfg(), up)
    for k, frame in before.items():
        pd.testing.assert_frame_equal(up[k].customers, frame)
    pd.testing.assert_frame_equal(ds.transactions, tx)
    pd.testing.assert_frame_equal(ds.customers, cust)

    back = pickle.loads(pickle.dumps(res))
    assert back.key == res.key and back.ok
    pd.testing.assert_frame_equal(back.customers, res.customers)
    pd.testing.assert_frame_equal(back.lists, res.lists)
    assert back.crosssell.categories == res.crosssell.categories == ("Schuhe", "Sport")
    pd.testing.assert_frame_equal(back.crosssell.pairs, res.crosssell.pairs)


def test_crosssell_runs_inside_compute():
    ds = _ds(category=True)
    churn = _churn(ds)
    res = act.compute(ds, _cfg(), {"rfm": _rfm(), "clv": _no_result(), "churn": churn})
    assert res.crosssell.ok and res.key.crosssell
    assert res.crosssell.categories == ("Schuhe", "Sport") and res.crosssell.n_customers == 3
    assert set(res.customers["next_categories"]) <= {"", "Schuhe", "Sport"}
    no_cat = act.compute(_ds(), _cfg(), {"rfm": _rfm(), "clv": _no_result(), "churn": _churn(_ds())})
    assert no_cat.crosssell.skip == "no_category" and no_cat.customers["next_categories"].isna().all()


def test_list_plan_names_use_german_labels():
    ds = _ds()
    clv = _clv([0.5, 0.5, 0.5], [100.0, 50.0, 10.0])
    rfm = _rfm(segments=("champions", "champions", "at_risk"))
    cfg = _cfg(budget=100.0, cost_per_contact=1.0, max_list_rows=1,
               segment_uplift={"champions": 0.1, "at_risk": 0.2})
    res = act.compute(ds, cfg, {"rfm": rfm, "clv": clv, "churn": _churn(ds, clv)})
    assert res.lists.to_dict("records") == [
        {"segment": "champions", "customers": 2, "truncated": True},
        {"segment": "at_risk", "customers": 1, "truncated": False},
    ]
    from helpers import export

    named = export.action_list_plan(res)
    assert list(named["sheet"]) == ["Champions", "Gefährdet"]
    assert list(named["csv"]) == ["zielgruppe-champions.csv", "zielgruppe-gefaehrdet.csv"]
    assert res.segment_actions == {"champions": "Maßnahme champions", "at_risk": "Maßnahme at_risk"}


def test_budget_text_names_segments_without_spend_and_with_exhausted_budget():
    from helpers.narrative import actions as text

    per_segment = pd.DataFrame({
        "segment": ["champions", "lost", "at_risk", "new"],
        "status": ["all", act.STATUS_BELOW_COST, act.STATUS_BELOW_COST, act.STATUS_BUDGET],
        "eligible": [10, 0, 0, 5],
        "contacts": [10, 0, 0, 0],
    })
    totals = {"contacts": 10, "budget": 10.0, "unspent": 0.0, "cost": 10.0,
              "expected_gain": 30.0, "net_gain": 20.0, "roi": 2.0}
    out = text.budget_text(per_segment, totals, 1.0, value_is_clv=True)
    assert "Kein Geld fließt in die Segmente „Verloren“ und „Gefährdet“" in out
    assert "Für das Segment „Neukunden“ reicht das Budget nicht mehr" in out
    assert "Für weitere 5 Kontakte" in out
