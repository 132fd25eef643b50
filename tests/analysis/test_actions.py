"""Action plan: inputs from the upstream results, the one priority rule, the budget on incremental
gain (by hand), ROI plausibility, audience detection, segment sanity check, target-list plan,
cross-selling, and the contract of ``compute`` (no recomputation, no mutation, picklable, value at
risk = the churn chapter's). Upstream results are small hand-made frames (``SimpleNamespace``)."""

from __future__ import annotations

import math
import pickle
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from helpers import labels
from helpers.analysis import actions as act
from helpers.analysis import value
from helpers.config import AUDIENCE_DEFAULTS, SAMPLE_DIR, ReportConfig
from helpers.dataset import from_transactions
from helpers.exceptions import ConfigError

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


def _rfm(segments=("S1", "S1", "S2"), scores=True, actions=None, index=IDX):
    frame = pd.DataFrame({"segment": list(segments)}, index=index)
    if scores:
        frame = frame.assign(r_score=[5, 3, 1], f_score=[3, 2, 1], m_score=[4, 3, 2])
    order = tuple(dict.fromkeys(segments))
    return SimpleNamespace(ok=True, skip=None, customers=frame, order=order,
                           actions=actions if actions is not None else {s: f"Maßnahme {s}" for s in order})


def _clv(p_alive, clv, index=IDX, horizon=12):
    frame = pd.DataFrame({"p_alive": p_alive, "clv": clv}, index=index)
    return SimpleNamespace(ok=True, skip=None, customers=frame, key=SimpleNamespace(horizon_months=horizon))


def _churn(risk, val, index=IDX, source="model", var_range=None, horizon=12):
    """A churn result as the contract describes it: ``risk`` and ``value`` (EUR margin if retained)
    for every customer, ``value_at_risk = risk × value``, the total and its range in ``key``."""
    frame = pd.DataFrame({"risk": list(risk), "value": list(val)}, index=index, dtype=float)
    frame["churn_risk"] = frame["risk"]
    frame["risk_source"] = np.where(frame["risk"].notna(), source, "none")
    frame["value_source"] = np.where(frame["value"].notna(), "clv", "none")
    frame["value_at_risk"] = frame["risk"] * frame["value"]
    total = float(frame["value_at_risk"].sum())
    low, high = var_range or (None, None)
    return SimpleNamespace(ok=True, skip=None, customers=frame, key=SimpleNamespace(
        value_at_risk=total, value_at_risk_low=low, value_at_risk_high=high, value_horizon_months=horizon))


def _no_result():
    return SimpleNamespace(ok=False, skip="skipped", customers=None, actions={}, order=(), key=None)


def _cfg(audience="auto", **actions):
    settings = {"gross_margin": 0.3, "audience": audience}
    if actions:
        settings["actions"] = actions
    return ReportConfig.from_settings(None, settings)


# ---------------------------------------------------------------- inputs


def test_revenue_last_12m_window_excludes_day_365():
    ds = _ds()
    rev = value.revenue_last_12m(ds.transactions, ds.observation_end)
    # (end-365, end]: a = 20 + 5 (the 100 on end-365 is outside), b = 30, c none
    assert rev.to_dict() == {"a": 25.0, "b": 30.0}


def test_customer_table_and_matrix_from_upstream():
    ds = _ds()
    clv = _clv([0.9, 0.6, 0.2], [100.0, 40.0, 10.0])
    churn = _churn([0.25, 0.4, 0.8], [100.0, 9.0, 10.0])
    res = act.compute(ds, _cfg(), {"rfm": _rfm(), "clv": clv, "churn": churn})
    t = res.customers
    assert t.loc["a", "value_at_risk"] == pytest.approx(25.0)
    assert t.loc["b", "value_at_risk"] == pytest.approx(3.6)
    assert t["reachable"].to_dict() == {"a": True, "b": True, "c": False}  # c: 900 days ago
    assert t.loc["a", "revenue_12m"] == 25.0 and t.loc["c", "revenue_12m"] == 0.0
    # revenue per year since the first purchase, at least one year: a 125 € over 365 days, c 70 € over 900
    assert t.loc["a", "revenue_per_year"] == pytest.approx(125.0)
    assert t.loc["c", "revenue_per_year"] == pytest.approx(70.0 / (900 / 365.25))
    assert t.loc["b", "n_purchases"] == 2 and t.loc["a", "r_score"] == 5

    # default uplift 8 % for own segment ids, b2c cost 0,50 €:
    # a: 0.08 × 25 − 0.5 = 1.5 (eligible); b: 0.08 × 3.6 − 0.5 < 0; c: unreachable
    assert t.loc["a", "expected_gain"] == pytest.approx(1.5)
    assert t["excluded"].to_dict() == {"a": "", "b": act.EXCLUDED_BELOW_COST, "c": act.EXCLUDED_UNREACHABLE}
    m = res.matrix.set_index("segment")
    assert m.loc["S1", "customers"] == 2 and m.loc["S1", "value_at_risk"] == pytest.approx(28.6)
    assert m.loc["S1", "potential_gain"] == pytest.approx(1.5) and m.loc["S1", "priority"] == "high"
    assert m.loc["S2", "potential_gain"] == 0 and m.loc["S2", "priority"] == "low"
    assert res.key.priority_basis == act.BASIS_GAIN


def test_without_any_model_priority_follows_the_value():
    ds = _ds()
    churn = _churn([np.nan] * 3, [10.0, 20.0, 5.0])
    res = act.compute(ds, _cfg(), {"rfm": _no_result(), "clv": _no_result(), "churn": churn})
    t = res.customers
    assert (t["segment"] == act.NO_SEGMENT).all() and t["value_at_risk"].isna().all()
    assert not res.has_risk and res.has_value and res.key.value_at_risk is None
    assert (t["excluded"] == act.EXCLUDED_NO_VALUE).all() and res.key.contacts == 0
    assert res.key.priority_basis == act.BASIS_VALUE and res.matrix.loc[0, "priority"] == "high"
    assert list(res.lists["segment"]) == [act.NO_SEGMENT]  # the only segment gets the list
    # no value in EUR at all: segments are ranked by reachable customers
    t = _matrix_table({"S1": 0.0, "S2": 0.0}).assign(value=np.nan, risk=np.nan, clv=np.nan)
    t = pd.concat([t, t.iloc[[0]].rename(index={"S1": "S1b"})])
    m = act.segment_matrix(t).set_index("segment")
    assert m["priority"].to_dict() == {"S1": "high", "S2": "medium"}  # 2 of 3 customers, then 1
    assert (m["priority_basis"] == act.BASIS_CUSTOMERS).all()


def test_churn_columns_are_taken_as_they_are():
    ds = _ds()
    clv = _clv([0.9, 0.6, 0.2], [100.0, 40.0, 10.0])
    churn = _churn([0.1, 0.2, 0.3], [100.0, 40.0, 10.0])
    frame = churn.customers.copy()
    frame["value_at_risk"] = [1.0, 2.0, 4.0]  # deliberately not risk x value
    frame["value_source"] = ["clv", "history", "none"]
    churn = SimpleNamespace(ok=True, customers=frame, key=SimpleNamespace(value_at_risk=7.0))
    res = act.compute(ds, _cfg(), {"rfm": _rfm(), "clv": clv, "churn": churn})
    for col in ("churn_risk", "risk", "risk_source", "value", "value_source", "value_at_risk"):
        pd.testing.assert_series_equal(res.customers[col], frame[col].reindex(res.customers.index),
                                       check_dtype=False)
    assert res.key.value_at_risk == 7.0 and res.matrix["value_at_risk"].sum() == pytest.approx(7.0)
    assert res.key.value_basis == "clv" and res.key.risk_basis == "model"


def test_value_at_risk_per_segment_sums_to_churn_total_with_its_range():
    ds = _ds()
    churn = _churn([0.25, np.nan, 0.8], [100.0, 30.0, 10.0], var_range=(20.0, 45.0))
    res = act.compute(ds, _cfg(), {"rfm": _rfm(), "clv": _no_result(), "churn": churn})
    assert res.matrix["value_at_risk"].sum() == pytest.approx(churn.key.value_at_risk)
    k = res.key
    assert (k.value_at_risk, k.value_at_risk_low, k.value_at_risk_high) == (33.0, 20.0, 45.0)
    assert k.value_horizon_months == 12


# ---------------------------------------------------------------- budget by hand


def _alloc_table():
    # id, segment, risk, value, reachable
    rows = [("a1", "A", 0.5, 200.0, True), ("a2", "A", 0.2, 100.0, True), ("a3", "A", 0.04, 1000.0, True),
            ("b1", "B", 0.8, 100.0, True), ("b2", "B", 0.9, 1.5, True), ("b3", "B", 0.9, 300.0, False),
            ("n1", "B", np.nan, 50.0, True),
            ("l1", "lost", 1.0, 1000.0, True), ("l2", "lost", 0.5, 100.0, True)]
    return pd.DataFrame({"segment": [r[1] for r in rows], "risk": [r[2] for r in rows],
                         "value": [r[3] for r in rows], "reachable": [r[4] for r in rows]},
                        index=pd.Index([r[0] for r in rows], name="customer_id"))


UPLIFT = {"A": 0.10, "B": 0.20, "lost": 0.05}
# cost 2: saved = uplift × risk × value, gain = saved − 2
#   a1 0.1·0.5·200 = 10 -> 8 | a2 0.1·0.2·100 = 2 -> 0 (below cost) | a3 risk 4 % < 5 % (low risk)
#   b1 0.2·0.8·100 = 16 -> 14 | b2 value 1,50 € < cost (low value) | b3 unreachable | n1 risk unknown
#   l1 0.05·1·1000 = 50 -> 48 | l2 0.05·0.5·100 = 2.5 -> 0.5   (lost: bought only after all others)
KW = dict(min_risk=0.05, low_factor=0.5, high_factor=1.5)


def test_allocation_by_hand_lost_only_after_all_others():
    cust, seg = act.allocate_budget(_alloc_table(), budget=6.0, cost_per_contact=2.0, uplift=UPLIFT, **KW)
    assert cust["excluded"].to_dict() == {
        "a1": "", "a2": act.EXCLUDED_BELOW_COST, "a3": act.EXCLUDED_LOW_RISK, "b1": "",
        "b2": act.EXCLUDED_LOW_VALUE, "b3": act.EXCLUDED_UNREACHABLE, "n1": act.EXCLUDED_NO_VALUE,
        "l1": "", "l2": ""}
    # 3 contacts: b1 and a1 first, then the best of "lost" although l1 has the highest gain
    assert sorted(cust.index[cust["contact"]]) == ["a1", "b1", "l1"]
    assert cust.loc["l1", "expected_gain"] == pytest.approx(48.0)
    assert cust.loc["a1", "expected_gain_low"] == pytest.approx(0.05 * 100 - 2)
    assert cust.loc["a1", "expected_gain_high"] == pytest.approx(0.15 * 100 - 2)
    assert list(seg["segment"]) == ["B", "A", "lost"]  # priority order: potential gain, lost last
    s = seg.set_index("segment")
    assert s.loc["A", "potential_gain"] == pytest.approx(8.0) and s.loc["B", "potential_gain"] == pytest.approx(14.0)
    assert s.loc["lost", "potential_gain"] == pytest.approx(48.5)
    assert (s.loc["A", "low_risk"], s.loc["B", "low_value"], s.loc["B", "unreachable"]) == (1, 1, 1)
    assert s.loc["A", "roi"] == pytest.approx(8 / 2) and s.loc["B", "roi"] == pytest.approx(14 / 2)
    assert s.loc["A", "status"] == act.STATUS_TOP and s.loc["lost", "status"] == act.STATUS_TOP
    tot = act.allocation_totals(seg, 6.0)
    assert tot == pytest.approx({"budget": 6.0, "contacts": 3, "cost": 6.0, "unspent": 0.0, "saved": 76.0,
                                 "expected_gain": 70.0, "expected_gain_low": 38.0 - 6, "expected_gain_high": 114.0 - 6,
                                 "roi": 70 / 6})

    # budget for two contacts: "lost" gets nothing although its customer is worth most
    cust, seg = act.allocate_budget(_alloc_table(), budget=5.0, cost_per_contact=2.0, uplift=UPLIFT, **KW)
    assert sorted(cust.index[cust["contact"]]) == ["a1", "b1"]
    assert seg.set_index("segment").loc["lost", "status"] == act.STATUS_BUDGET


def test_allocation_statuses_cap_and_default_uplift():
    t = _alloc_table()
    cust, seg = act.allocate_budget(t, budget=100.0, cost_per_contact=60.0, uplift=UPLIFT, **KW)
    assert not cust["contact"].any()
    s = seg.set_index("segment")["status"].to_dict()
    # A: a1/a2 pass the thresholds but save less than 60 €; lost likewise (l1 saves 50 €)
    assert s == {"A": act.STATUS_BELOW_COST, "B": act.STATUS_BELOW_COST, "lost": act.STATUS_BELOW_COST}
    only_unreachable = t.loc[["b3"]]
    assert act.allocate_budget(only_unreachable, 10, 1, UPLIFT)[1]["status"].tolist() == [act.STATUS_UNREACHABLE]
    assert act.allocate_budget(t.loc[["a3"]], 10, 1, UPLIFT, min_risk=0.05)[1]["status"].tolist() == [
        act.STATUS_NEGLIGIBLE]
    assert act.allocate_budget(t.loc[["n1"]], 10, 1, UPLIFT)[1]["status"].tolist() == [act.STATUS_EMPTY]
    # segments missing from the uplift table get the default; the high case is capped at 100 %
    cust, _ = act.allocate_budget(t, budget=100.0, cost_per_contact=1.0, uplift={}, default_uplift=0.8,
                                  low_factor=0.5, high_factor=1.5)
    assert cust.loc["b1", "expected_gain"] == pytest.approx(0.8 * 80 - 1)
    assert cust.loc["b1", "expected_gain_high"] == pytest.approx(1.0 * 80 - 1)


def test_effective_uplift_merges_defaults():
    up = act.effective_uplift({"champions": 0.2, "own_segment": 0.07})
    assert up["champions"] == 0.2 and up["own_segment"] == 0.07
    assert up["lost"] == pytest.approx(0.03)


# ---------------------------------------------------------------- the one priority rule


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
    table = _matrix_table(scores)
    potential = pd.DataFrame({"segment": list(scores), "potential_gain": list(scores.values())})
    for per_segment in (None, potential):  # on the value at risk (fallback) and on the potential gain
        m = act.segment_matrix(table, per_segment).set_index("segment")
        assert m["priority"].to_dict() == expected
        assert list(m.index) == sorted(scores, key=lambda s: -scores[s])
    assert act.segment_matrix(table, potential)["priority_basis"].eq(act.BASIS_GAIN).all()


def test_lost_is_low_and_last_even_with_the_largest_gain():
    scores = {"S1": 60, "S2": 30, "S3": 10, "lost": 500}
    potential = pd.DataFrame({"segment": list(scores), "potential_gain": list(scores.values())})
    m = act.segment_matrix(_matrix_table(scores), potential)
    assert list(m["segment"]) == ["S1", "S2", "S3", "lost"]
    # the rule runs over the other segments; lost is always low
    assert m.set_index("segment")["priority"].to_dict() == {"S1": "high", "S2": "medium", "S3": "low", "lost": "low"}


def _random_dataset(rng, n):
    ids = [f"k{i:03d}" for i in range(n)]
    days = rng.integers(0, 900, size=n)
    tx = pd.DataFrame({"customer_id": ids, "order_date": END - pd.to_timedelta(days, unit="D"),
                       "revenue": rng.uniform(5, 500, size=n)})
    return from_transactions(tx, END), pd.Index(ids, name="customer_id")


@pytest.mark.parametrize("seed", range(25))
def test_lost_is_never_first_on_any_input(seed):
    rng = np.random.default_rng(seed)
    ds, idx = _random_dataset(rng, 40)
    segs = rng.choice(["lost", "champions", "at_risk", "new", "own"], size=len(idx), p=[0.5, 0.2, 0.1, 0.1, 0.1])
    risk = np.where(segs == "lost", 1.0, rng.uniform(0, 1, size=len(idx)))
    val = np.where(segs == "lost", rng.uniform(1_000, 10_000, size=len(idx)), rng.uniform(0, 200, size=len(idx)))
    cfg = _cfg(budget=float(rng.choice([1.0, 50.0, 1e6])), cost_per_contact=float(rng.choice([0.0, 0.5, 5.0])),
               segment_uplift={"lost": float(rng.choice([0.03, 0.5, 1.0]))})
    up = {"rfm": SimpleNamespace(customers=pd.DataFrame({"segment": segs}, index=idx), actions={}),
          "clv": _no_result(), "churn": _churn(risk, val, index=idx)}
    res = act.compute(ds, cfg, up)
    m = res.matrix.set_index("segment")
    if "lost" in m.index:
        assert m.loc["lost", "priority"] == act.LOW
        assert res.matrix["segment"].iloc[0] != "lost" or len(m) == 1
    assert res.key.first_priority_segment != "lost" and res.key.first_budget_segment != "lost"
    assert "lost" not in res.key.high_priority_segments
    if res.key.budget_segments:
        assert res.key.budget_segments[0] != "lost" or set(res.key.budget_segments) == {"lost"}
    # lost is bought only when every eligible customer of the other segments is contacted
    c = res.customers
    if (c["contact"] & (c["segment"] == "lost")).any():
        assert c.loc[c["eligible"] & (c["segment"] != "lost"), "contact"].all()


def test_no_segment_action_text_carries_urgency():
    for seg_id, (_, action) in labels.SEGMENTS.items():
        assert "sofort" not in action.lower(), seg_id
    assert "kein Schwerpunkt des Budgets" in labels.segment_action("lost")
    assert labels.NO_BUDGET_FOCUS_SEGMENTS == ("lost",)


# ---------------------------------------------------------------- ROI plausibility


def _roi_inputs(uplift, saved, contacts, cost, flagged=False):
    cust = pd.DataFrame({"segment": ["X"] * contacts, "uplift": uplift, "saved": saved / max(contacts, 1),
                         "contact": True})
    matrix = pd.DataFrame({"segment": ["X"], "forecast_flag": [flagged]})
    totals = {"contacts": contacts, "cost": contacts * cost, "saved": saved,
              "roi": (saved - contacts * cost) / (contacts * cost) if contacts else float("nan")}
    return cust, matrix, totals


def test_roi_check_by_hand():
    # 10 contacts at 1 € saving 110 €: ROI (110 − 10) / 10 = 10 = the bound -> still a result
    r = act.roi_check(*_roi_inputs(0.1, 110.0, 10, 1.0), cost_per_contact=1.0, bound=10.0)
    assert r.roi == pytest.approx(10.0) and r.driver is None
    # saving 1.000 €: ROI 99 -> not a result; cheap contacts drive it; break-even by hand
    r = act.roi_check(*_roi_inputs(0.1, 1000.0, 10, 1.0), cost_per_contact=1.0, bound=10.0)
    assert r.roi is None and r.computed == pytest.approx(99.0) and r.driver == act.DRIVER_COST
    assert r.breakeven_cost == pytest.approx(1000 / (10 * 11))   # (1000 − 10 c) / (10 c) = 10
    assert r.breakeven_uplift_factor == pytest.approx(10 * 1 * 11 / 1000)
    assert act.roi_check(*_roi_inputs(0.4, 1000.0, 10, 1.0), 1.0, 10.0).driver == act.DRIVER_UPLIFT
    assert act.roi_check(*_roi_inputs(0.4, 1000.0, 10, 1.0, flagged=True), 1.0, 10.0).driver == act.DRIVER_VALUE
    assert act.roi_check(*_roi_inputs(0.1, 0.0, 0, 1.0), 1.0, 10.0).computed is None


def test_implausible_roi_is_not_printed():
    from helpers.narrative import actions as text

    ds = _ds()
    churn = _churn([0.9, 0.9, 0.9], [10_000.0, 10_000.0, 10.0])
    cfg = _cfg(budget=10.0, cost_per_contact=0.5, segment_uplift={"champions": 0.1})
    res = act.compute(ds, cfg, {"rfm": _rfm(("champions", "champions", "lost")), "clv": _no_result(),
                                "churn": churn})
    k = res.key
    # a and b: 0.1 × 0.9 × 10.000 = 900 € saved each at 0,50 €: ROI (1800 − 1) / 1 ≈ 1.799 = 179.900 %
    assert k.contacts == 2 and k.roi_computed == pytest.approx(1799.0)
    assert k.roi is None and k.roi_driver == act.DRIVER_COST
    summary = text.budget_summary(res, cfg.actions)
    assert "nicht als Ergebnis ausgewiesen" in summary and "Kontaktkosten" in summary
    assert "179.900" not in summary and "(ROI" not in summary
    table, _ = text.allocation_table(res.allocation, k.roi_plausible_max)
    assert table.set_index("Segment").loc["Champions", "ROI"] == "nicht ausgewiesen"


# ---------------------------------------------------------------- segment sanity check


def test_forecast_check_by_hand():
    t = pd.DataFrame({
        "segment": ["X", "Y", "Z", "W"],
        "clv": [60.0, 30.0, 30.0, np.nan],            # margin 0.3 -> forecast revenue 200, 100, 100
        "revenue_12m": [100.0, 100.0, 0.0, 10.0],
        "revenue_per_year": [100.0, 100.0, 50.0, 10.0],
    }, index=pd.Index(list("xyzw"), name="customer_id"))
    year = 365.25 / 365  # 12 months (of 365,25/12 days) against the 365-day window
    c = act.forecast_check(t, 0.3, 12, 1.5).set_index("segment")
    assert c.loc["X", "forecast_revenue"] == pytest.approx(200.0)
    assert c.loc["X", "history_revenue"] == pytest.approx(100.0 * year)
    assert c.loc["X", "forecast_ratio"] == pytest.approx(2.0 / year)
    assert c.loc["Y", "forecast_ratio"] == pytest.approx(1.0 / year)
    # Z bought nothing in the last 12 months: compared with its yearly revenue since the first purchase
    assert c.loc["Z", "history_basis"] == "per_year" and c.loc["Z", "forecast_ratio"] == pytest.approx(2.0)
    assert c["forecast_flag"].to_dict() == {"W": False, "X": True, "Y": False, "Z": True}
    assert math.isnan(c.loc["W", "forecast_ratio"]) and c.loc["W", "history_basis"] == ""
    # 6-month horizon: history 100 × 182,625 / 365 ≈ 50 -> Y now about 2 as well
    c6 = act.forecast_check(t, 0.3, 6, 1.5).set_index("segment")
    assert c6.loc["Y", "history_revenue"] == pytest.approx(50.0 * year) and bool(c6.loc["Y", "forecast_flag"])
    # data of only 4 months (122 days): the "last 12 months" hold 4 months of revenue, so Y's history
    # over a 4-month horizon is its whole 100 € (not 100 × 4/12): ratio (10 / 0.3) / 100 = 1/3
    c4 = act.forecast_check(t.assign(clv=[20.0, 10.0, 10.0, np.nan]), 0.3, 4, 1.5, history_days=4 * 365.25 / 12)
    assert c4.set_index("segment").loc["Y", "forecast_ratio"] == pytest.approx(1 / 3)
    # no past revenue at all and a positive forecast: flagged without a ratio
    t0 = t.loc[["z"]].assign(revenue_per_year=0.0)
    c0 = act.forecast_check(t0, 0.3, 12, 1.5).set_index("segment")
    assert bool(c0.loc["Z", "forecast_flag"]) and math.isnan(c0.loc["Z", "forecast_ratio"])


def test_value_at_risk_unknown_without_value_is_not_zero():
    ds = _ds()
    churn = _churn([0.5, 0.5, 0.5], [np.nan] * 3)  # risk known, no value (no revenue column)
    res = act.compute(ds, _cfg(), {"rfm": _rfm(), "clv": _no_result(), "churn": churn})
    assert res.matrix["value_at_risk"].isna().all() and res.key.priority_basis == act.BASIS_CUSTOMERS
    from helpers.narrative import actions as text

    table, _ = text.matrix_table(res.matrix)
    assert "Gefährdeter DB" not in table.columns
    assert res.key.value_at_risk is None and res.key.top_risk_segment is None
    said = text.matrix_summary(res)
    assert "0 €" not in said and "nennenswert" not in said


def test_flagged_segment_is_named_in_table_and_text():
    from helpers.narrative import actions as text

    ds = _ds()
    # a: CLV 300 € margin -> 1.000 € revenue in 12 months vs 25 € in the last 12 months
    clv = _clv([0.9, 0.6, 0.2], [300.0, 2.0, 1.0])
    res = act.compute(ds, _cfg(), {"rfm": _rfm(("champions", "loyal", "lost")), "clv": clv,
                                   "churn": _churn([0.3, 0.3, 0.3], [300.0, 2.0, 1.0])})
    assert res.key.flagged_segments == ("champions",) and res.key.forecast_horizon_months == 12
    out = text.forecast_check_text(res, 1.5)
    assert "Prognose für das Segment „Champions“ auffällig hoch" in out and "mit Vorsicht lesen" in out
    assert f"das {text._times(1000 / 25)}" in out
    table, _ = text.matrix_table(res.matrix)
    assert table.set_index("Segment").loc["Champions", "Prognose/Vorjahr"].endswith("auffällig")


# ---------------------------------------------------------------- audience


def test_detect_audience_rules():
    b2c = act.detect_audience(7000, 63.1, 88.8, {"Online-Shop": 0.5, "Filiale": 0.5}, ["K-1A2B3C4D", "10387"])
    assert (b2c.audience, b2c.source, b2c.reasons) == ("b2c", "detected", ())
    assert b2c.company_share == 0.0 and b2c.channel is None
    channel = act.detect_audience(7000, 63.1, 88.8, {"Webshop": 0.64, "Außendienst": 0.36})
    assert channel.audience == "b2b" and channel.reasons == ("sales_channel",)
    assert channel.channel == "Außendienst" and channel.channel_share == pytest.approx(0.36)
    assert act.detect_audience(7000, 63.1, 88.8, {"Shop": 0.95, "Key Account": 0.05}).audience == "b2c"
    names = ["Beispielbetrieb 0320 GmbH", "Müller KG", "Hans Maier", "Agentur Süd", "Schmidt e. K."]
    firms = act.detect_audience(7000, 63.1, 88.8, None, names)
    assert firms.reasons == ("company_names",) and firms.company_share == pytest.approx(3 / 5)
    assert act.detect_audience(7000, 63.1, 88.8, None, ["Hans Maier", "AGATHE", "Kongo"]).audience == "b2c"
    # few large accounts: all three conditions at their bounds
    assert act.detect_audience(5000, 250.0, 1000.0).reasons == ("large_accounts",)
    for args in ((5001, 250.0, 1000.0), (5000, 249.0, 1000.0), (5000, 250.0, 999.0), (100, None, None)):
        assert act.detect_audience(*args).audience == "b2c"


def test_audience_of_the_samples_and_its_defaults():
    from helpers.data import load_dataset

    cfg = ReportConfig.from_settings(None, {"pseudonymize": False})
    shop = act.detect_audience(**act.audience_evidence(load_dataset(SAMPLE_DIR / "onlineshop_transaktionen.csv", cfg)))
    b2b = act.detect_audience(**act.audience_evidence(load_dataset(SAMPLE_DIR / "grosshandel_export.csv", cfg)))
    assert shop.audience == "b2c" and shop.reasons == ()
    assert b2b.audience == "b2b" and "sales_channel" in b2b.reasons and b2b.channel == "Außendienst"
    assert b2b.n_customers == 450  # README: 450 Geschäftskunden


def test_audience_setting_switches_budget_defaults_and_an_explicit_setting_wins():
    from helpers.narrative import actions as text

    ds, up = _ds(), {"rfm": _rfm(), "clv": _no_result(), "churn": _churn([0.5] * 3, [100.0] * 3)}
    auto = act.compute(ds, _cfg(), up)
    assert auto.audience.source == "detected" and auto.key.audience == "b2c"
    assert (auto.key.budget, auto.key.cost_per_contact) == (AUDIENCE_DEFAULTS["b2c"]["budget"],
                                                            AUDIENCE_DEFAULTS["b2c"]["cost_per_contact"])
    b2b = act.compute(ds, _cfg(audience="b2b"), up)
    assert b2b.audience.source == "setting" and b2b.key.audience == "b2b"
    # a personal sales contact costs far more than an e-mail; the budget is larger
    assert b2b.key.cost_per_contact == AUDIENCE_DEFAULTS["b2b"]["cost_per_contact"]
    assert b2b.key.cost_per_contact >= 10 * AUDIENCE_DEFAULTS["b2c"]["cost_per_contact"]
    assert b2b.key.budget == AUDIENCE_DEFAULTS["b2b"]["budget"] > AUDIENCE_DEFAULTS["b2c"]["budget"]
    assert b2b.key.cost_source == b2b.key.budget_source == "audience_default"
    own = act.compute(ds, _cfg(audience="b2b", cost_per_contact=12.0), up)
    assert own.key.cost_per_contact == 12.0 and own.key.cost_source == "setting"
    assert own.key.budget_source == "audience_default" and own.key.min_value == 12.0
    said = text.audience_text(b2b)
    assert "Firmenkunden (B2B)" in said and "laut Einstellung" in said
    assert "kein Hinweis auf Firmenkunden" in said and "50,00\u00a0€ je Kontakt" in said
    assert "Privatkundschaft (B2C)" in text.audience_text(auto) and "aus den Daten erkannt" in text.audience_text(auto)


@pytest.mark.parametrize(
    "settings, fragment",
    [
        ({"audience": "firmen"}, "audience='firmen'"),
        ({"actions.segment_uplift": {"lost": 1.5}}, "actions.segment_uplift['lost']=1.5"),
        ({"actions.uplift_low_factor": 0}, "actions.uplift_low_factor"),
        ({"actions.uplift_high_factor": 0.9}, "actions.uplift_high_factor"),
        ({"actions.min_risk": -0.1}, "actions.min_risk"),
        ({"actions.forecast_ratio_max": 0.5}, "actions.forecast_ratio_max"),
        ({"actions.roi_plausible_max": 0}, "actions.roi_plausible_max"),
    ],
)
def test_action_settings_are_validated_in_german(settings, fragment):
    with pytest.raises(ConfigError) as err:
        ReportConfig.from_settings("X", settings)
    assert fragment in str(err.value) and "Ungültige Einstellung" in str(err.value)
    cfg = ReportConfig.from_settings("X", {"audience": "b2b", "actions.budget": 500})
    assert ReportConfig.from_settings(None, cfg.as_settings()) == cfg


# ---------------------------------------------------------------- lists, contract, cross-selling


def test_actionable_segments_and_key_figures():
    ds = _ds()
    clv = _clv([0.5, 0.5, 0.5], [100.0, 50.0, 10.0])
    cfg = _cfg(budget=100.0, cost_per_contact=1.0, reach_days=1000,
               segment_uplift={"loyal": 0.1, "lost": 0.5})
    rfm = _rfm(segments=("loyal", "loyal", "lost"), scores=False)
    res = act.compute(ds, cfg, {"rfm": rfm, "clv": clv, "churn": _churn([0.5] * 3, [100.0, 50.0, 10.0])})
    # gains: a 0.1·50 − 1 = 4, b 0.1·25 − 1 = 1.5, c (lost) 0.5·5 − 1 = 1.5 (after all others)
    assert res.customers["contact"].all()
    assert act.actionable_segments(res.matrix, res.allocation) == ["loyal", "lost"]
    assert list(res.lists["segment"]) == ["loyal", "lost"] and list(res.lists["customers"]) == [2, 1]
    kf = res.key
    assert kf.value_at_risk == pytest.approx(0.5 * 160)
    assert kf.top_risk_segment == "loyal" and kf.top_risk_value == pytest.approx(75.0)
    assert kf.contacts == 3 and kf.cost == pytest.approx(3.0)
    assert kf.saved_margin == pytest.approx(5 + 2.5 + 2.5) and kf.expected_gain == pytest.approx(7.0)
    assert kf.expected_gain_low == pytest.approx(2.5 + 1.25 + 1.25 - 3)
    assert kf.expected_gain_high == pytest.approx(7.5 + 3.75 + 3.75 - 3)
    assert kf.roi == pytest.approx(7 / 3) and kf.roi_driver is None
    assert kf.high_priority_segments == ("loyal",) and kf.first_priority_segment == "loyal"
    assert kf.budget_segments == ("loyal", "lost") and kf.first_budget_segment == "loyal"
    assert kf.lists_planned == 2 and kf.list_customers == 3 and kf.crosssell is False
    assert res.uplift["lost"] == 0.5


def test_compute_does_not_mutate_inputs_and_pickles():
    ds = _ds(category=True)
    clv = _clv([0.9, 0.6, 0.2], [100.0, np.nan, 10.0])
    up = {"rfm": _rfm(), "clv": clv, "churn": _churn([0.25, np.nan, 0.8], [100.0, 9.0, 10.0])}
    before = {k: v.customers.copy(deep=True) for k, v in up.items()}
    tx, cust = ds.transactions.copy(deep=True), ds.customers.copy(deep=True)
    res = act.compute(ds, _cfg(), up)
    for k, frame in before.items():
        pd.testing.assert_frame_equal(up[k].customers, frame)
    pd.testing.assert_frame_equal(ds.transactions, tx)
    pd.testing.assert_frame_equal(ds.customers, cust)

    back = pickle.loads(pickle.dumps(res))
    assert back.key == res.key and back.ok and back.audience == res.audience
    pd.testing.assert_frame_equal(back.customers, res.customers)
    pd.testing.assert_frame_equal(back.lists, res.lists)
    assert back.crosssell.categories == res.crosssell.categories == ("Schuhe", "Sport")
    pd.testing.assert_frame_equal(back.crosssell.pairs, res.crosssell.pairs)


def test_crosssell_runs_inside_compute():
    ds = _ds(category=True)
    churn = _churn([0.5] * 3, [10.0] * 3)
    res = act.compute(ds, _cfg(), {"rfm": _rfm(), "clv": _no_result(), "churn": churn})
    assert res.crosssell.ok and res.key.crosssell
    assert res.crosssell.categories == ("Schuhe", "Sport") and res.crosssell.n_customers == 3
    assert set(res.customers["next_categories"]) <= {"", "Schuhe", "Sport"}
    no_cat = act.compute(_ds(), _cfg(), {"rfm": _rfm(), "clv": _no_result(), "churn": churn})
    assert no_cat.crosssell.skip == "no_category" and no_cat.customers["next_categories"].isna().all()


def test_list_plan_names_use_german_labels():
    ds = _ds()
    rfm = _rfm(segments=("champions", "champions", "at_risk"))
    cfg = _cfg(budget=100.0, cost_per_contact=1.0, max_list_rows=1, reach_days=1000,
               segment_uplift={"champions": 0.1, "at_risk": 0.2})
    # gains: a 0.1·0.5·100 − 1 = 4, b 0.1·0.5·50 − 1 = 1.5 (champions 5.5), c 0.2·0.5·30 − 1 = 2
    res = act.compute(ds, cfg, {"rfm": rfm, "clv": _no_result(), "churn": _churn([0.5] * 3, [100.0, 50.0, 30.0])})
    assert res.matrix["priority"].tolist() == ["high", "medium"]
    assert res.lists.to_dict("records") == [
        {"segment": "champions", "customers": 2, "truncated": True, "sheet_rows": 1},
        {"segment": "at_risk", "customers": 1, "truncated": False, "sheet_rows": 1},
    ]
    from helpers.narrative import actions as text

    said = text.export_text(res.lists, pseudonymized=True)
    assert "zeigt das Tabellenblatt nur die erste Zeile der Liste" in said and "CSV-Dateien enthalten alle" in said
    from helpers import export

    named = export.action_list_plan(res)
    assert list(named["sheet"]) == ["Champions", "Gefährdet"]
    assert list(named["csv"]) == ["zielgruppe-champions.csv", "zielgruppe-gefaehrdet.csv"]
    assert res.segment_actions == {"champions": "Maßnahme champions", "at_risk": "Maßnahme at_risk"}


def test_budget_text_names_segments_without_spend_and_with_exhausted_budget():
    from helpers.narrative import actions as text

    per_segment = pd.DataFrame({
        "segment": ["champions", "lost", "at_risk", "new"],
        "status": ["all", act.STATUS_BELOW_COST, act.STATUS_NEGLIGIBLE, act.STATUS_BUDGET],
        "eligible": [10, 0, 0, 5],
        "contacts": [10, 0, 0, 0],
    })
    totals = {"contacts": 10, "budget": 10.0, "unspent": 0.0, "cost": 10.0,
              "expected_gain": 20.0, "expected_gain_low": 5.0, "expected_gain_high": 35.0, "roi": 2.0}
    out = text.budget_text(per_segment, totals, 1.0, roi_max=10.0, horizon_months=12)
    assert "Kein Geld fließt in die Segmente „Verloren“ und „Gefährdet“" in out
    assert "Für das Segment „Neukunden“ reicht das Budget nicht mehr" in out
    assert "Für weitere 5 Kontakte" in out and "ROI 200" in out
    assert f"{text.fmt.eur(5)} bis {text.fmt.eur(35)}" in out and "über 12 Monate" in out


def test_audience_is_detected_once_per_dataset(monkeypatch):
    """The pipeline decides the audience before the chapters; the action plan reuses that detection
    (it reads every line) and still applies its own setting."""
    calls = []
    evidence = act.audience_evidence
    monkeypatch.setattr(act, "audience_evidence", lambda ds: calls.append(1) or evidence(ds))
    ds = _ds()
    first = act.decide_audience(ds, _cfg())
    assert act.decide_audience(ds, _cfg(audience="b2b")).audience == "b2b"
    assert act.decide_audience(ds, _cfg()) == first and len(calls) == 1
    act.decide_audience(_ds(), _cfg())  # another dataset is detected anew
    assert len(calls) == 2
