"""Churn models: metrics on known answers, cut-off plan, degradation, value at risk, end to end."""

import copy
import pickle
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from helpers.analysis import churn as ch
from helpers.analysis import value as vd
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


def test_check_sample():
    y = pd.Series([0] * 190 + [1] * 10)
    assert ch.check_sample(y, 200, 0.05, "2025-01-01") is None
    assert ch.check_sample(y, 201, 0.05, "2025-01-01").code == "too_few_customers"
    assert ch.check_sample(y, 100, 0.06, "2025-01-01").code == "class_imbalance"


# ---------------------------------------------------------------- degradation

def test_too_few_customers_is_skipped():
    ds = simulate_shop(n=60, seed=2)
    r = ch.compute(ds, ReportConfig(), {})
    assert not r.ok and r.skip == "too_few_customers" and r.skip_info.code == "too_few_customers"
    assert r.evaluation is None and r.customers["churn_risk"].isna().all() and r.key.n_scored == 0


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
    assert ch.compute(from_transactions(df), ReportConfig(), {}).skip == "short_history"
    single = df.drop(index=1)
    r = ch.compute(from_transactions(single), ReportConfig(), {})
    assert r.skip == "no_window" and r.window.days is None and r.key.window_days is None


def test_skipped_model_still_gives_value_at_risk_from_p_alive():
    """Without the model the risk is 1 − P(aktiv) from the CLV chapter; the value at risk is still computed."""
    ds = simulate_shop(n=60, seed=2)
    ids = ds.customers.index
    clv = SimpleNamespace(ok=True, customers=pd.DataFrame({"p_alive": 0.75, "clv": 40.0}, index=ids))
    r = ch.compute(ds, ReportConfig(), {"clv": clv})
    assert not r.ok
    assert (r.customers["risk_source"] == "p_alive").all() and (r.customers["value_source"] == "clv").all()
    assert r.key.value_at_risk == pytest.approx(0.25 * 40.0 * len(ids))
    assert r.key.n_risk_p_alive == len(ids) and r.key.value_horizon_months == 12
    assert r.key.value_at_risk_scored is None


# ---------------------------------------------------------------- value at risk

def _value_frame(risk: pd.Series, value: pd.Series) -> pd.DataFrame:
    """Customer frame as :func:`ch.customer_frame` builds it, from a model risk and a CLV."""
    idx = risk.index
    out = vd.customer_risk(idx, risk, None).join(vd.customer_value(idx, value, None, 0.3))
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
    from helpers.analysis.churn_features import WindowChoice

    k = ch.key_figures(window=WindowChoice(90, "config"), customers=frame, matrix=matrix, clv_horizon_months=6)
    assert k.value_at_risk == pytest.approx(143.0) and k.n_value_at_risk == 5 and k.n_without_value == 1
    assert k.value_horizon_months == 6 and k.n_value_clv == 5 and k.n_value_none == 1
    assert k.n_high_risk_high_value == 1 and k.value_at_risk_high_risk_high_value == pytest.approx(90.0)
    assert k.share_top_risk_third == pytest.approx(98.0 / 143.0)  # a (90) and d (8)
    assert k.best_model is None and k.roc_auc is None


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
    assert r.ok and r.plan.t2 - r.plan.t1 == pd.Timedelta(days=r.window.days)
    assert r.plan.end == pd.Timestamp("2024-01-01") + pd.Timedelta(days=899)
    assert set(e.metrics.index) >= {"logit", "hgb"}
    # the simulated dropout process is predictable out of time
    assert e.metrics.loc["logit", "roc_auc"] > 0.75 and e.metrics.loc["hgb", "roc_auc"] > 0.75
    assert e.best_model in ("logit", "hgb") and r.key.best_model == e.best_model
    assert r.key.roc_auc == e.metrics.loc[e.best_model, "roc_auc"]
    scores = r.customers["churn_risk"].dropna()
    assert scores.between(0, 1).all()
    assert e.predictions["churned"].mean() == pytest.approx(r.key.churn_rate_test)
    assert scores.index.is_unique and len(scores) > 0 and len(scores) == r.key.n_scored
    assert r.key.n_risk_50 == int((scores >= 0.5).sum())
    assert set(r.drivers.coefficients["feature"]) == set(r.feature_names)
    # recency-based features drive churn upwards in the data
    row = r.drivers.coefficients.set_index("feature").loc["recency_ratio"]
    assert row["univariate"] > 0


def test_customers_cover_everyone_and_value_at_risk_reconciles(result, shop):
    c = result.customers
    assert c.index.equals(shop.customers.index)
    # without a CLV result: the model risk and the 12-month margin stand-in
    assert set(c["risk_source"]) == {"churn", "none"} and set(c["value_source"]) == {"margin_12m"}
    assert (c["value"] >= 0).all()
    assert result.key.value_at_risk == pytest.approx(c["value_at_risk"].sum())
    assert result.key.value_at_risk == pytest.approx(result.matrix["value_at_risk"].sum())
    assert result.key.value_at_risk_scored == pytest.approx(result.key.value_at_risk)
    assert result.key.value_horizon_months == 12
    top = result.top
    assert len(top) == ch.TOP_N and top["value_at_risk"].is_monotonic_decreasing
    assert top["value_at_risk"].iloc[0] == pytest.approx(c["value_at_risk"].max())


def test_compute_uses_the_clv_result(result, shop):
    ids = shop.customers.index
    clv_frame = pd.DataFrame({"p_alive": 0.5, "clv": 10.0}, index=ids)
    clv_frame.loc[ids[0], "clv"] = np.nan
    clv = SimpleNamespace(ok=True, customers=clv_frame)
    r = ch.compute(shop, ReportConfig(), {"clv": clv})
    c = r.customers
    scored = c["churn_risk"].notna()
    assert (c.loc[scored, "risk_source"] == "churn").all() and (c.loc[~scored, "risk"] == 0.5).all()
    assert c.loc[ids[0], "value_source"] == "margin_12m" and (c["value_source"] == "clv").sum() == len(ids) - 1
    # the model part is the same with or without the CLV result
    pd.testing.assert_frame_equal(r.evaluation.metrics, result.evaluation.metrics)
    assert r.key.value_at_risk == pytest.approx(c["value_at_risk"].sum())
    assert r.key.value_at_risk_scored == pytest.approx(c.loc[scored, "value_at_risk"].sum())
    assert r.key.n_value_margin_12m == 1


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
    assert r.ok and r.final_model is not None
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
    figs = [pc.roc_pr(e.predictions), pc.gains_lift(e.lift, e.best_model),
            pc.calibration(e.calibration), pc.drivers(d.coefficients, d.importance),
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
