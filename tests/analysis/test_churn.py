"""Churn risk: metrics on known answers, cut-off plans, candidate choice, recency fallback, degradation,
value at risk, end to end."""

import copy
import pickle
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from helpers.analysis import churn as ch
from helpers.analysis import value as vd
from helpers.analysis.churn_features import WindowChoice
from helpers.config import ReportConfig
from helpers.dataset import from_transactions


def simulate_shop(n=1200, days=900, seed=0):
    """BG/NBD-like synthetic shop: gamma purchase rates, dropout after each purchase."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01")
    lam = rng.gamma(2.0, 1 / 60.0, n)
    p_drop = rng.beta(1.5, 6.0, n)
    t = rng.uniform(0, days * 0.6, n)
    alive = np.ones(n, bool)
    cust = np.arange(n)
    out_c, out_t = [], []
    while True:
        idx = cust[alive & (t < days)]
        if idx.size == 0:
            break
        out_c.append(idx)
        out_t.append(t[idx].copy())
        alive[idx[rng.random(idx.size) < p_drop[idx]]] = False
        t[idx] += rng.exponential(1 / lam[idx])
    c, tt = np.concatenate(out_c), np.concatenate(out_t)
    df = pd.DataFrame({
        "customer_id": ["K" + str(i) for i in c],
        "order_date": start + pd.to_timedelta(np.floor(tt), unit="D"),
        "revenue": np.round(rng.gamma(3, 20, c.size), 2),
        "category": rng.choice(["A", "B", "C"], c.size),
        "channel": rng.choice(["Online", "Filiale", "App"], c.size, p=[0.6, 0.3, 0.1]),
    })
    return from_transactions(df, start + pd.Timedelta(days=days - 1))


# ---------------------------------------------------------------- metrics

def test_perfect_scores():
    y = np.r_[np.zeros(90, int), np.ones(10, int)]
    m = ch.score_metrics(y, y * 0.8 + 0.1)
    assert m["roc_auc"] == 1.0 and m["pr_auc"] == 1.0
    assert m["base_rate"] == pytest.approx(0.1)
    assert m["top_decile_lift"] == pytest.approx(10.0)  # all churners in the top 10 %


def test_inverted_and_random_scores():
    y = np.r_[np.zeros(50, int), np.ones(50, int)]
    assert ch.score_metrics(y, -y)["roc_auc"] == 0.0
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 20000)
    m = ch.score_metrics(y, rng.random(20000))
    assert m["roc_auc"] == pytest.approx(0.5, abs=0.02)
    assert m["pr_auc"] == pytest.approx(y.mean(), abs=0.02)
    assert m["top_decile_lift"] == pytest.approx(1.0, abs=0.1)


def test_lift_table_by_hand():
    # 10 customers, scores descending; churners at ranks 1, 2, 4 and 7
    y = [1, 1, 0, 1, 0, 0, 1, 0, 0, 0]
    score = np.linspace(1, 0.1, 10)
    t = ch.lift_table(y, score, n_bins=5)
    assert t["customers"].tolist() == [2] * 5
    assert t["churners"].tolist() == [2, 1, 0, 1, 0]
    assert t["lift"].tolist() == pytest.approx([1 / 0.4, 0.5 / 0.4, 0, 0.5 / 0.4, 0])
    assert t["cum_share_churners"].tolist() == pytest.approx([0.5, 0.75, 0.75, 1.0, 1.0])
    assert t["cum_share_customers"].iloc[-1] == 1.0


def test_calibration_table():
    y = [0, 0, 0, 1, 0, 1, 1, 1]
    p = [0.1, 0.1, 0.1, 0.1, 0.9, 0.9, 0.9, 0.9]
    t = ch.calibration_table(y, p, n_bins=2)
    assert t["mean_predicted"].tolist() == pytest.approx([0.1, 0.9])
    assert t["observed_rate"].tolist() == pytest.approx([0.25, 0.75])


# ---------------------------------------------------------------- plan and checks

def test_plan_cutoffs():
    p = ch.plan_cutoffs("2024-01-01", "2025-12-31", 90)
    assert p.t2 == pd.Timestamp("2025-10-02") and p.t1 == pd.Timestamp("2025-07-04")
    assert p.t2 + pd.Timedelta(days=90) == p.end
    skip = ch.plan_cutoffs("2025-06-01", "2025-12-31", 90)
    assert isinstance(skip, ch.Skip) and skip.code == "short_history"
    assert skip.details == {"available_days": 214, "needed_days": 270, "window_days": 90}
    # exactly 270 days (first day and end included) are enough
    assert isinstance(ch.plan_cutoffs("2025-01-01", pd.Timestamp("2025-01-01") + pd.Timedelta(days=269), 90),
                      ch.CutoffPlan)


def test_plan_holdout_needs_only_one_window_and_the_history():
    # 214 days: too short for training (270) but enough for the comparison at t2 (90 + 90 = 180)
    p = ch.plan_holdout("2025-06-01", "2025-12-31", 90)
    assert p.t1 is None and p.t2 == pd.Timestamp("2025-10-02") and p.window_days == 90
    skip = ch.plan_holdout("2025-08-01", "2025-12-31", 90)
    assert skip.code == "short_history" and skip.details == {"available_days": 153, "needed_days": 180,
                                                             "window_days": 90}


def test_check_sample():
    y = pd.Series([0] * 190 + [1] * 10)
    assert ch.check_sample(y, 200, 0.05, "2025-01-01") is None
    assert ch.check_sample(y, 201, 0.05, "2025-01-01").code == "too_few_customers"
    assert ch.check_sample(y, 100, 0.06, "2025-01-01").code == "class_imbalance"


# ---------------------------------------------------------------- candidate scores and choice

def _metrics(**auc):
    rows = {k: {"roc_auc": v, "pr_auc": 0.5, "base_rate": 0.5, "top_decile_lift": 1.0, "kind": ch.CANDIDATES[k]}
            for k, v in auc.items()}
    return pd.DataFrame.from_dict(rows, orient="index")


def test_choice_prefers_simple_scores_unless_ml_wins_clearly():
    c = ch.choose_score(_metrics(recency=0.77, frequency=0.76, bgnbd_purchases=0.772, bgnbd_alive=0.9,
                                 logit=0.775, hgb=0.78))
    # the BG/NBD P(aktiv) reference is never used, however high its AUC; boosting must beat the
    # regression by 0.01, the ML candidate must beat the best simple score by 0.01
    assert (c.best, c.best_baseline, c.best_simple, c.best_ml) == ("bgnbd_purchases", "recency", "bgnbd_purchases", "logit")
    c = ch.choose_score(_metrics(recency=0.70, frequency=0.71, pareto_alive=0.69, logit=0.72, hgb=0.74))
    assert (c.best, c.best_baseline, c.best_ml) == ("hgb", "frequency", "hgb")
    c = ch.choose_score(_metrics(recency=0.70, frequency=0.70))
    assert c.best == "recency" and c.best_ml is None  # ties: the earlier (simpler) candidate


def test_isotonic_curve_by_hand():
    curve = ch.isotonic_curve([1, 2, 3, 4], [0, 1, 0, 1], min_bin=1, prior=0)
    # 2 and 3 are pooled to 0.5: a non-decreasing step function of the observed rates
    assert ch.apply_curve(curve, [1, 2, 3, 4]).tolist() == pytest.approx([0, 0.5, 0.5, 1])
    assert ch.apply_curve(curve, [-5, 99]).tolist() == pytest.approx([0, 1])  # flat outside
    # defaults: bins of >= 30 customers, one pseudo-customer at the overall rate (0.5) per bin,
    # so 40 customers without a single churner still get a risk above 0
    curve = ch.isotonic_curve([1] * 40 + [2] * 40, [0] * 40 + [1] * 40)
    assert ch.apply_curve(curve, [1, 2]).tolist() == pytest.approx([0.5 / 41, 40.5 / 41])
    # equal scores are never split: 25 + 25 customers form one bin (25 is below the minimum)
    curve = ch.isotonic_curve([1] * 25 + [2] * 25, [0] * 25 + [1] * 25)
    assert ch.apply_curve(curve, [1, 2]).tolist() == pytest.approx([25.5 / 51] * 2)


def _hand_purchases():
    rows = [("A", "2025-01-01"), ("A", "2025-03-01"), ("A", "2025-04-10"),  # repeat buyer, last 20 days before
            ("B", "2024-11-30"),                                            # one-time buyer, 151 days before
            ("C", "2025-02-01"), ("C", "2025-05-05")]                       # C's 2nd purchase is after the cut-off
    df = pd.DataFrame(rows, columns=["customer_id", "order_date"]).assign(revenue=10.0)
    return from_transactions(df, "2025-06-30").purchases


def test_score_frame_by_hand_and_without_leakage():
    cutoff = pd.Timestamp("2025-04-30")
    p = _hand_purchases()
    scores, status = ch.score_frame(p, cutoff, 60, only=("recency", "frequency"))
    assert status == {} and list(scores.index) == ["A", "B", "C"]
    assert scores["recency"].to_dict() == {"A": 20.0, "B": 151.0, "C": 88.0}
    assert scores["frequency"].to_dict() == {"A": -3.0, "B": -1.0, "C": -1.0}
    later = p[p["order_date"] <= cutoff]
    pd.testing.assert_frame_equal(ch.score_frame(later, cutoff, 60, only=("recency", "frequency"))[0], scores)
    ev = ch.holdout_evaluation(p, cutoff, 60, population=["A", "C"])
    assert ev.predictions["churned"].to_dict() == {"A": 1, "C": 0}  # C buys on 05.05.
    assert list(ev.metrics.index)[:2] == ["recency", "frequency"]


# ---------------------------------------------------------------- recency fallback

def _recency_shop(n_per_band=60):
    """At t2 = 2025-04-02 (N = 90): one-time buyers with last purchase 10/200/500 days before t2 and
    repeat buyers 10 days before; who buys again in (t2, end] is fixed by hand."""
    t2, rows = pd.Timestamp("2025-04-02"), []
    plan = {("one", 10): 0.5, ("one", 200): 0.75, ("one", 500): 1.0, ("rep", 10): 0.25}
    for (group, days), churn_share in plan.items():
        for i in range(n_per_band):
            cid = f"{group}{days}-{i}"
            last = t2 - pd.Timedelta(days=days)
            if group == "rep":
                rows.append((cid, last - pd.Timedelta(days=30)))
            rows.append((cid, last))
            if i >= churn_share * n_per_band:  # the rest buys again
                rows.append((cid, t2 + pd.Timedelta(days=30)))
    rows.append(("old", pd.Timestamp("2023-01-01")))
    df = pd.DataFrame(rows, columns=["customer_id", "order_date"]).assign(revenue=20.0)
    return from_transactions(df, t2 + pd.Timedelta(days=90))


def test_recency_calibration_by_hand():
    ds = _recency_shop()
    fb = ch.fit_recency_calibration(ds.purchases, ds.first_date, ds.observation_end, 90, 100)
    assert fb.ok and fb.split and fb.cutoff == pd.Timestamp("2025-04-02") and fb.n_customers == 241
    # one-time buyers: bins 10 d (60, 30 churned), 200 d (60, 45), 500 d + "old" at 822 d (61, 61);
    # each shrunk by one pseudo-customer at the group's rate 136/181
    p = 136 / 181
    last_x = (500 * 60 + 822) / 61
    one = fb.predict([10, 200, last_x], [True, True, True])
    assert one.tolist() == pytest.approx([(30 + p) / 61, (45 + p) / 61, (61 + p) / 62])
    assert fb.predict([10], [False])[0] == pytest.approx(0.25)  # repeat buyers: 15 of 60, rate 0.25
    assert fb.predict([5000], [True])[0] == pytest.approx((61 + p) / 62)  # flat beyond the longest pause
    t = fb.table.set_index(["band_start", "group"])
    assert t.loc[(180, "one_time"), "customers"] == 60 and t.loc[(180, "one_time"), "churn_rate"] == pytest.approx(0.75)
    # "old" (822 days) churned as well: the open band holds 1 customer with rate 1
    assert t.loc[(730, "one_time"), "customers"] == 1 and t.loc[(730, "one_time"), "churn_rate"] == 1.0


def test_recency_calibration_states_the_failed_minimum():
    ds = _recency_shop()
    few = ch.fit_recency_calibration(ds.purchases, ds.first_date, ds.observation_end, 90, 500)
    assert not few.ok and few.skip.code == "too_few_customers" and few.skip.details["n"] == 241
    assert few.skip.details["min"] == 500
    short = ch.fit_recency_calibration(ds.purchases, ds.observation_end - pd.Timedelta(days=100),
                                       ds.observation_end, 90, 10)
    assert short.skip.code == "short_history" and short.skip.details["needed_days"] == 180
    assert ch.fit_recency_calibration(ds.purchases, ds.first_date, ds.observation_end, None, 10).skip.code == "no_window"


def test_pooled_curve_when_a_group_is_small():
    ds = _recency_shop(n_per_band=20)  # 60 one-time, 20 repeat buyers: below CALIBRATION_MIN_GROUP
    fb = ch.fit_recency_calibration(ds.purchases, ds.first_date, ds.observation_end, 90, 50)
    assert fb.ok and not fb.split and set(fb.curves) == {"all"}
    # at 10 days one-time (10 of 20 churned) and repeat buyers (5 of 20) are pooled, overall rate 51/81
    assert fb.predict([10], [True])[0] == pytest.approx((15 + 51 / 81) / 41)


# ---------------------------------------------------------------- degradation

def test_too_few_customers_is_skipped_and_risk_is_unknown():
    ds = simulate_shop(n=60, seed=2)
    r = ch.compute(ds, ReportConfig(), {})
    assert not r.ok and r.skip == "too_few_customers" and r.skip_info.code == "too_few_customers"
    assert r.evaluation is None and r.customers["churn_risk"].isna().all() and r.key.n_scored == 0
    # fewer than 100 customers for the recency-based estimate: the risk is unknown, never a guess
    assert r.fallback.skip.code == "too_few_customers" and r.fallback.skip.details["min"] == 100
    assert (r.customers["risk_source"] == "none").all() and r.key.value_at_risk is None
    assert r.key.n_risk_none == len(ds.customers)


def test_skipped_comparison_still_gives_a_recency_based_risk():
    ds = simulate_shop(n=60, seed=2)
    cfg = ReportConfig.from_settings(None, {"churn.min_calibration_customers": 20})
    ids = ds.customers.index
    clv = SimpleNamespace(ok=True, key=None, customers=pd.DataFrame({"p_alive": 1.0, "clv": 40.0}, index=ids))
    r = ch.compute(ds, cfg, {"clv": clv})
    assert not r.ok and r.fallback.ok
    assert (r.customers["risk_source"] == "recency_by_group").all()
    assert (r.customers["value_source"] == "clv_if_active").all() and (r.customers["value"] == 40.0).all()
    # P(aktiv) = 1 is never turned into a risk of 0
    assert (r.customers["risk"] > 0).all() and r.key.value_at_risk == pytest.approx(r.customers["value_at_risk"].sum())
    assert r.key.n_risk_fallback == len(ids) and r.key.value_at_risk_scored is None


def test_one_class_is_skipped():
    # everybody buys every 10 days until the end: nobody churns
    dates = pd.date_range("2023-01-01", "2025-12-31", freq="10D")
    df = pd.DataFrame([(f"K{i}", d, 20.0) for i in range(30) for d in dates],
                      columns=["customer_id", "order_date", "revenue"])
    cfg = ReportConfig.from_settings(None, {"churn.min_customers": 10})
    r = ch.compute(from_transactions(df), cfg, {})
    assert r.skip == "class_imbalance" and r.skip_info.details["churn_share"] == 0.0


def test_short_history_and_single_buyers_are_skipped():
    df = pd.DataFrame({"customer_id": ["a", "a", "b"], "order_date": ["2025-01-01", "2025-03-01", "2025-02-01"],
                       "revenue": [1.0, 2.0, 3.0]})
    r = ch.compute(from_transactions(df), ReportConfig(), {})
    assert r.skip == "short_history" and r.fallback.skip.code == "short_history"
    single = df.drop(index=1)
    r = ch.compute(from_transactions(single), ReportConfig(), {})
    assert r.skip == "no_window" and r.window.days is None and r.key.window_days is None
    assert r.fallback.skip.code == "no_window" and r.key.n_risk_none == 2


def test_short_history_for_training_keeps_the_comparison():
    ds = simulate_shop(n=1500, days=500, seed=3)
    cfg = ReportConfig.from_settings(None, {"churn.window_days": 220})
    r = ch.compute(ds, cfg, {})
    # 500 days: enough for the comparison at t2 (220 + 90), not for training at t1 (2 x 220 + 90)
    assert r.ok and r.ml_skip.code == "short_history" and r.ml_skip.details["needed_days"] == 530
    assert r.plan.t1 is None and r.drivers is None and r.final_model is None
    m = r.evaluation.metrics
    assert "logit" not in m.index and {"recency", "frequency", "bgnbd_purchases", "bgnbd_alive"} <= set(m.index)
    assert r.key.best_kind in ("baseline", "model") and r.key.ml_beats_baseline is None
    assert (r.customers.loc[r.customers["churn_risk"].notna(), "risk_source"] == r.key.best_model).all()


# ---------------------------------------------------------------- value at risk

def _value_frame(risk: pd.Series, value: pd.Series) -> pd.DataFrame:
    """Customer frame as :func:`ch.customer_frame` builds it, from a model risk and a value if retained."""
    idx = risk.index
    out = vd.customer_risk(idx, model_risk=risk, model_source="logit", fallback_risk=None).join(
        vd.customer_value(idx, clv_if_active=value, standin=None))
    out["value_at_risk"] = vd.value_at_risk(out["risk"], out["value"])
    return out


def test_expected_loss_and_matrix():
    risk = pd.Series([0.9, 0.5, 0.1, 0.8, 0.2, 0.6], index=list("abcdef"))
    value = pd.Series([100.0, 50.0, 200.0, 10.0, -5.0, np.nan], index=list("abcdef"))
    loss = ch.expected_loss(_value_frame(risk, value))
    assert list(loss.index) == ["a", "b", "c", "d", "e"]  # f has no value, e clipped to 0
    assert loss["value_at_risk"].tolist() == pytest.approx([90.0, 25.0, 20.0, 8.0, 0.0])
    m = ch.risk_value_matrix(loss)
    assert len(m) == 9 and m["customers"].sum() == 5
    assert m["value_at_risk"].sum() == pytest.approx(143.0)
    # a: highest risk third (0.9, 0.8 -> ranks 5, 4 of 5) and highest value third (100, 200)
    cell = m[(m.risk_group == 3) & (m.value_group == 3)]
    assert cell["customers"].item() == 1 and cell["value_at_risk"].item() == pytest.approx(90.0)


def test_terciles_keep_ties_together():
    g = ch.terciles(pd.Series([0.0, 0.0, 0.0, 0.0, 5.0, 9.0]))
    assert g.tolist()[:4] == [2, 2, 2, 2] and g.iloc[-1] == 3


def test_key_figures_from_the_value_columns():
    risk = pd.Series([0.9, 0.5, 0.1, 0.8, 0.2, 0.6], index=list("abcdef"))
    value = pd.Series([100.0, 50.0, 200.0, 10.0, -5.0, np.nan], index=list("abcdef"))
    frame = _value_frame(risk, value)
    matrix = ch.risk_value_matrix(ch.expected_loss(frame))
    recency = pd.Series([10, 400, 20, 366, 30, 500], index=list("abcdef"))
    clv_key = SimpleNamespace(clv_if_active_total=1000.0, clv_if_active_total_low=900.0,
                              clv_if_active_total_high=1200.0)
    k = ch.key_figures(window=WindowChoice(90, "config"), customers=frame, matrix=matrix, horizon_months=6,
                       recency_days=recency, clv_key=clv_key)
    assert k.value_at_risk == pytest.approx(143.0) and k.n_value_at_risk == 5 and k.n_without_value == 1
    assert k.value_at_risk_low == pytest.approx(143.0 * 0.9) and k.value_at_risk_high == pytest.approx(143.0 * 1.2)
    assert k.value_horizon_months == 6 and k.n_value_clv == 5 and k.n_value_none == 1
    assert k.n_high_risk_high_value == 1 and k.value_at_risk_high_risk_high_value == pytest.approx(90.0)
    assert k.share_top_risk_third == pytest.approx(98.0 / 143.0)  # a (90) and d (8)
    assert k.n_over_365 == 3 and k.n_over_365_at_risk == 2 and k.value_at_risk_over_365 == pytest.approx(33.0)
    assert k.best_model is None and k.roc_auc is None and k.n_risk_model == 6


# ---------------------------------------------------------------- end to end

@pytest.fixture(scope="module")
def shop():
    return simulate_shop()


@pytest.fixture(scope="module")
def result(shop):
    return ch.compute(shop, ReportConfig(), {})


def test_compute_end_to_end(result):
    r = result
    e = r.evaluation
    assert r.ok and r.ml_skip is None and r.plan.t2 - r.plan.t1 == pd.Timedelta(days=r.window.days)
    assert r.plan.end == pd.Timestamp("2024-01-01") + pd.Timedelta(days=899)
    # every candidate on the same customers and labels
    assert list(e.metrics.index) == list(ch.CANDIDATES)
    assert e.predictions.notna().all().all() and len(e.predictions) == r.key.n_test
    # the simulated dropout process is predictable out of time
    assert e.metrics.loc["logit", "roc_auc"] > 0.75 and e.metrics.loc["recency", "roc_auc"] > 0.7
    assert e.choice == ch.choose_score(e.metrics) and r.key.best_model == e.best_model != "bgnbd_alive"
    assert r.key.roc_auc == e.metrics.loc[e.best_model, "roc_auc"]
    assert r.key.baseline_roc_auc == e.metrics.loc[["recency", "frequency"], "roc_auc"].max()
    scores = r.customers["churn_risk"].dropna()
    assert scores.between(0, 1).all()
    assert e.predictions["churned"].mean() == pytest.approx(r.key.churn_rate_test)
    assert scores.index.is_unique and len(scores) > 0 and len(scores) == r.key.n_scored
    assert r.key.n_risk_50 == int((scores >= 0.5).sum())
    assert set(r.drivers.coefficients["feature"]) == set(r.feature_names)
    row = r.drivers.coefficients.set_index("feature").loc["recency_ratio"]
    assert row["univariate"] > 0  # recency-based features drive churn upwards in the data


def test_a_simple_score_is_calibrated_on_the_observed_churn(result):
    r = result
    if r.key.best_kind == "ml":  # force a simple score by hand: the calibration is the same function
        pred = r.evaluation.predictions
        curve = ch.isotonic_curve(pred["recency"], pred["churned"])
    else:
        curve, pred = r.scoring.curve, r.evaluation.predictions
    # the calibrated risks at t2 average to the observed churn rate (isotonic keeps the mean; the
    # shrinkage of small bins moves it by at most a point)
    column = r.key.best_model if r.key.best_kind != "ml" else "recency"
    assert ch.apply_curve(curve, pred[column]).mean() == pytest.approx(pred["churned"].mean(), abs=0.01)


def test_customers_cover_everyone_and_value_at_risk_reconciles(result, shop):
    c = result.customers
    assert c.index.equals(shop.customers.index)
    # without a CLV result: the chosen score, the recency fallback and the run-rate stand-in
    assert set(c["risk_source"]) == {result.key.best_model, "recency_by_group"}
    assert set(c["value_source"]) == {"run_rate"} and (c["value"] >= 0).all()
    assert c["risk"].notna().all()
    old = shop.customers["recency_days"] > 365
    covered = c["churn_risk"].notna()
    assert not (old & covered).any() and (c.loc[~covered, "risk_source"] == "recency_by_group").all()
    # a customer whose last purchase is more than a year back keeps a value and a risk > 0
    assert (c.loc[old & (c["value"] > 0), "value_at_risk"] > 0).all()
    assert result.key.n_over_365 == int(old.sum()) > 0
    assert result.key.value_at_risk == pytest.approx(c["value_at_risk"].sum())
    assert result.key.value_at_risk == pytest.approx(result.matrix["value_at_risk"].sum())
    assert result.key.value_at_risk == pytest.approx(result.key.value_at_risk_scored + result.key.value_at_risk_fallback)
    assert result.key.value_horizon_months == 12 and result.key.value_at_risk_low is None
    top = result.top
    assert len(top) == ch.TOP_N and top["value_at_risk"].is_monotonic_decreasing
    assert top["value_at_risk"].iloc[0] == pytest.approx(c["value_at_risk"].max())


def test_run_rate_stand_in_by_hand(result, shop):
    c, cust = result.customers, shop.customers
    cid = cust.index[cust["tenure_days"] > 800][0]
    rate = cust.loc[cid, "revenue"] * 0.3 / (cust.loc[cid, "tenure_days"] / 365.25)
    assert c.loc[cid, "value"] == pytest.approx(max(rate, 0) / 12 * vd.discounted_months(12, 0.10))


def test_compute_uses_the_clv_result(result, shop):
    ids = shop.customers.index
    clv_frame = pd.DataFrame({"p_alive": 1.0, "clv": 10.0, "clv_if_active": 20.0}, index=ids)
    clv_frame.loc[ids[0], "clv_if_active"] = np.nan
    key = SimpleNamespace(horizon_months=6, clv_if_active_total=100.0, clv_if_active_total_low=80.0,
                          clv_if_active_total_high=150.0)
    clv = SimpleNamespace(ok=True, customers=clv_frame, key=key)
    r = ch.compute(shop, ReportConfig(), {"clv": clv})
    c = r.customers
    assert c.loc[ids[0], "value_source"] == "run_rate" and (c["value_source"] == "clv_if_active").sum() == len(ids) - 1
    assert (c.loc[ids[1:], "value"] == 20.0).all() and r.key.value_horizon_months == 6
    # P(aktiv) = 1 everywhere (BG/NBD for one-time buyers) never makes a risk of 0
    assert (c["risk"] > 0).all() and not c["risk_source"].isin(["p_alive", "bgnbd_alive"]).any()
    # the comparison is the same with or without the CLV result
    pd.testing.assert_frame_equal(r.evaluation.metrics, result.evaluation.metrics)
    assert r.key.value_at_risk == pytest.approx(c["value_at_risk"].sum())
    assert r.key.value_at_risk_low == pytest.approx(0.8 * r.key.value_at_risk)
    assert r.key.value_at_risk_high == pytest.approx(1.5 * r.key.value_at_risk)
    assert r.key.n_value_run_rate == 1


def test_compute_does_not_mutate_its_inputs_and_pickles(shop):
    ds = shop
    tx = ds.transactions.copy(deep=True)
    customers = ds.customers.copy(deep=True)
    cfg = ReportConfig()
    cfg_before = copy.deepcopy(cfg)
    clv_frame = pd.DataFrame({"p_alive": 0.6, "clv": 25.0}, index=customers.index)
    clv = SimpleNamespace(ok=True, customers=clv_frame)
    clv_before = clv_frame.copy(deep=True)
    r = ch.compute(ds, cfg, {"clv": clv})
    pd.testing.assert_frame_equal(ds.transactions, tx)
    pd.testing.assert_frame_equal(ds.customers, customers)
    pd.testing.assert_frame_equal(clv.customers, clv_before)
    assert cfg == cfg_before
    assert r.ok and r.scoring is not None
    back = pickle.loads(pickle.dumps(r))
    assert repr(back.key) == repr(r.key) and back.skip == r.skip
    pd.testing.assert_frame_equal(back.evaluation.metrics, r.evaluation.metrics)
    pd.testing.assert_frame_equal(back.customers, r.customers)
    with pytest.raises(AttributeError):
        r.skip = "x"  # frozen


def test_charts_render(result):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.plotting import churn as pc

    e, d = result.evaluation, result.drivers
    assert pc.shown_models(e)[0] == e.best_model and "bgnbd_alive" in pc.shown_models(e)
    figs = [pc.roc_pr(e), pc.gains_lift(e), pc.calibration(e.calibration), pc.drivers(d.coefficients, d.importance),
            pc.risk_value_matrix(result.matrix), pc.risk_distribution(result.customers)]
    for fig in figs:
        assert fig.axes and fig.axes[0].has_data()
        plt.close(fig)


def test_fit_sample_caps_rows_and_keeps_alignment():
    from helpers.analysis.churn import fit_sample

    X = pd.DataFrame({"a": np.arange(10)}, index=[f"K{i}" for i in range(10)])
    y = pd.Series(np.arange(10) % 2, index=X.index)
    same_X, same_y = fit_sample(X, y, 20)
    assert same_X is X and same_y is y
    Xs, ys = fit_sample(X, y, 4, random_state=1)
    assert len(Xs) == 4 and list(Xs.index) == list(ys.index)
    assert (ys.to_numpy() == Xs["a"].to_numpy() % 2).all()
