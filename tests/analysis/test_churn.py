"""Churn models: metrics on known answers, cut-off plan, degradation, value at risk, end to end."""

import numpy as np
import pandas as pd
import pytest

from helpers.analysis import churn as ch
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
    r = ch.run_churn(ds, ReportConfig())
    assert not r.ok and r.skip.code == "too_few_customers" and r.scores is None


def test_one_class_is_skipped():
    # everybody buys every 10 days until the end: nobody churns
    dates = pd.date_range("2023-01-01", "2025-12-31", freq="10D")
    df = pd.DataFrame([(f"K{i}", d, 20.0) for i in range(30) for d in dates],
                      columns=["customer_id", "order_date", "revenue"])
    cfg = ReportConfig.from_settings(None, {"churn.min_customers": 10})
    r = ch.run_churn(from_transactions(df), cfg)
    assert r.skip.code == "class_imbalance" and r.skip.details["churn_share"] == 0.0


def test_short_history_and_single_buyers_are_skipped():
    df = pd.DataFrame({"customer_id": ["a", "a", "b"], "order_date": ["2025-01-01", "2025-03-01", "2025-02-01"],
                       "revenue": [1.0, 2.0, 3.0]})
    assert ch.run_churn(from_transactions(df), ReportConfig()).skip.code == "short_history"
    single = df.drop(index=1)
    r = ch.run_churn(from_transactions(single), ReportConfig())
    assert r.skip.code == "no_window" and r.window.days is None


# ---------------------------------------------------------------- value at risk

def test_expected_loss_and_matrix():
    risk = pd.Series([0.9, 0.5, 0.1, 0.8, 0.2, 0.6], index=list("abcdef"))
    value = pd.Series([100.0, 50.0, 200.0, 10.0, -5.0, np.nan], index=list("abcdef"))
    loss = ch.expected_loss(risk, value)
    assert list(loss.index) == ["a", "b", "c", "d", "e"]  # f has no value, e clipped to 0
    assert loss["expected_loss"].tolist() == pytest.approx([90.0, 25.0, 20.0, 8.0, 0.0])
    m = ch.risk_value_matrix(loss)
    assert len(m) == 9 and m["customers"].sum() == 5
    assert m["expected_loss"].sum() == pytest.approx(143.0)
    # a: highest risk third (0.9, 0.8 -> ranks 5, 4 of 5) and highest value third (100, 200)
    cell = m[(m.risk_group == 3) & (m.value_group == 3)]
    assert cell["customers"].item() == 1 and cell["expected_loss"].item() == pytest.approx(90.0)


def test_terciles_keep_ties_together():
    g = ch.terciles(pd.Series([0.0, 0.0, 0.0, 0.0, 5.0, 9.0]))
    assert g.tolist()[:4] == [2, 2, 2, 2] and g.iloc[-1] == 3


# ---------------------------------------------------------------- end to end

@pytest.fixture(scope="module")
def result():
    return ch.run_churn(simulate_shop(), ReportConfig())


def test_run_churn_end_to_end(result):
    r = result
    assert r.ok and r.plan.t2 - r.plan.t1 == pd.Timedelta(days=r.window.days)
    assert r.plan.end == pd.Timestamp("2024-01-01") + pd.Timedelta(days=899)
    assert set(r.metrics.index) >= {"logit", "hgb"}
    # the simulated dropout process is predictable out of time
    assert r.metrics.loc["logit", "roc_auc"] > 0.75 and r.metrics.loc["hgb", "roc_auc"] > 0.75
    assert r.best_model in ("logit", "hgb")
    assert r.scores["churn_risk"].between(0, 1).all()
    assert r.predictions["churned"].mean() == pytest.approx(r.churn_rate_test)
    assert r.scores.index.is_unique and len(r.scores) > 0
    assert set(r.coefficients["feature"]) == set(r.feature_names)
    # recency-based features drive churn upwards in the data
    row = r.coefficients.set_index("feature").loc["recency_ratio"]
    assert row["univariate"] > 0


def test_customer_value_fallback(result):
    ds = simulate_shop()
    value, source = ch.customer_value(ds, 0.3, None)
    assert source == "margin12" and (value >= 0).all()
    clv = pd.DataFrame({"clv": [1.0, np.nan]}, index=["K1", "K2"])
    value, source = ch.customer_value(ds, 0.3, clv)
    assert source == "clv" and value["K1"] == 1.0


def test_charts_render(result):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.plotting import churn as pc

    ds = simulate_shop()
    value, _ = ch.customer_value(ds, 0.3, None)
    loss = ch.expected_loss(result.scores["churn_risk"], value)
    figs = [pc.roc_pr(result.predictions), pc.gains_lift(result.lift, result.best_model),
            pc.calibration(result.calibration), pc.drivers(result.coefficients, result.importance),
            pc.risk_value_matrix(ch.risk_value_matrix(loss)), pc.risk_distribution(result.scores)]
    for fig in figs:
        assert fig.axes and fig.axes[0].has_data()
        plt.close(fig)


def test_fit_sample_caps_rows_and_keeps_alignment():
    import numpy as np
    import pandas as pd

    from helpers.analysis.churn import fit_sample

    X = pd.DataFrame({"a": np.arange(10)}, index=[f"K{i}" for i in range(10)])
    y = pd.Series(np.arange(10) % 2, index=X.index)
    same_X, same_y = fit_sample(X, y, 20)
    assert same_X is X and same_y is y
    Xs, ys = fit_sample(X, y, 4, random_state=1)
    assert len(Xs) == 4 and list(Xs.index) == list(ys.index)
    assert (ys.to_numpy() == Xs["a"].to_numpy() % 2).all()
