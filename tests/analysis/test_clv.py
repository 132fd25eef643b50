"""CLV models: published CDNOW results through the project's pipeline, hand-checked helpers."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.analysis import clv
from helpers.analysis.clv_data import compress, read_cdnow_transactions, rfm_summary
from helpers.analysis.concentration import top_share
from helpers.config import ClvSettings, ReportConfig
from helpers.dataset import from_transactions
from helpers.narrative import clv as clv_text

CDNOW_DIR = Path(__import__("lifetimes").__file__).parent / "datasets"
CAL_END = pd.Timestamp("1997-09-30")


@pytest.fixture(scope="module")
def cdnow_purchases() -> pd.DataFrame:
    return read_cdnow_transactions(CDNOW_DIR / "CDNOW_sample.txt")


@pytest.fixture(scope="module")
def cdnow_summary(cdnow_purchases) -> pd.DataFrame:
    return rfm_summary(cdnow_purchases, CAL_END)


@pytest.fixture(scope="module")
def cdnow_fit(cdnow_summary):
    return clv.fit_bgnbd(cdnow_summary)


def rel(a, b):
    return abs(a - b) / abs(b)


# ---------------------------------------------------------------- literature

def test_cdnow_summary_matches_published_counts(cdnow_summary):
    assert len(cdnow_summary) == 2357
    assert int((cdnow_summary["frequency"] > 0).sum()) == 946
    # customer 1 of the paper (id 00004): x = 2, t_x = 30.43, T = 38.86 weeks
    row = cdnow_summary.loc["00004"]
    assert row["frequency"] == 2
    assert row["recency"] == pytest.approx(30.43, abs=0.005)
    assert row["T"] == pytest.approx(38.86, abs=0.005)
    # repeat purchases 18.01. (29.73) and 02.08.1997 (14.96); the first purchase is excluded
    assert row["monetary_value"] == pytest.approx((29.73 + 14.96) / 2)


def test_bgnbd_reproduces_fader_hardie_lee_2005(cdnow_fit):
    assert cdnow_fit.converged and cdnow_fit.penalizer == 0.0
    for name, published in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
        assert rel(cdnow_fit.params[name], published) < 0.01, name
    assert cdnow_fit.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    assert cdnow_fit.n_customers == 2357 and cdnow_fit.n_repeat == 946


def test_full_log_likelihood_at_published_parameters(cdnow_summary):
    params = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    ll = clv.bgnbd_log_likelihood(params, cdnow_summary)
    assert ll == pytest.approx(-9582.4, abs=1.0)
    # the weighted form over unique triples gives the same value
    unique, _ = compress(cdnow_summary)
    assert clv.bgnbd_log_likelihood(params, unique, unique["weights"]) == pytest.approx(ll, rel=1e-12)


def test_conditional_expectation_published_example(cdnow_fit):
    one = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]}, index=["k"])
    assert clv.expected_purchases(cdnow_fit, one, 39).iloc[0] == pytest.approx(1.226, rel=0.01)


def test_gamma_gamma_reproduces_fader_hardie_2013(cdnow_summary):
    gg = clv.fit_gamma_gamma(cdnow_summary)
    assert gg.converged and gg.n_customers == 946
    for name, published in {"p": 6.25, "q": 3.74, "v": 15.44}.items():
        assert rel(gg.params[name], published) < 0.01, name


def test_chapter_path_reproduces_published_parameters(cdnow_purchases):
    """The same published values through ``analyze`` (the chapter's path), read from the key figures."""
    res = clv.analyze(cdnow_purchases, CAL_END, ClvSettings(), 0.3, holdout=False)
    assert res.ok and res.has_clv and res.validation is None
    k = res.key
    published = {"bgnbd_r": 0.2426, "bgnbd_alpha": 4.4136, "bgnbd_a": 0.7929, "bgnbd_b": 2.4259,
                 "gg_p": 6.25, "gg_q": 3.74, "gg_v": 15.44}
    for name, value in published.items():
        assert rel(getattr(k, name), value) < 0.01, name
    assert res.fit.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    assert (k.n_customers, k.n_repeat, k.n_gg) == (2357, 946, 946)
    assert k.purchase_rate_weekly == pytest.approx(k.bgnbd_r / k.bgnbd_alpha)


def test_fitter_rebuilt_from_params_predicts_like_the_fitted_one(cdnow_summary, cdnow_fit):
    from lifetimes import BetaGeoFitter

    fitted = BetaGeoFitter().fit(cdnow_summary["frequency"], cdnow_summary["recency"], cdnow_summary["T"])
    rebuilt = dataclasses.replace(cdnow_fit, params={k: float(v) for k, v in fitted.params_.items()}).fitter()
    x, tx, T = (cdnow_summary[c] for c in ("frequency", "recency", "T"))
    np.testing.assert_allclose(rebuilt.conditional_probability_alive(x, tx, T),
                               fitted.conditional_probability_alive(x, tx, T), rtol=1e-12)
    np.testing.assert_allclose(rebuilt.conditional_expected_number_of_purchases_up_to_time(39, x, tx, T),
                               fitted.conditional_expected_number_of_purchases_up_to_time(39, x, tx, T), rtol=1e-12)
    assert pickle.loads(pickle.dumps(cdnow_fit)) == cdnow_fit


def test_predictions_mapped_back_per_customer(cdnow_summary, cdnow_fit):
    alive = clv.p_alive(cdnow_fit, cdnow_summary)
    assert alive.index.equals(cdnow_summary.index)
    assert ((alive >= 0) & (alive <= 1)).all()
    # one-time buyers are alive with certainty in BG/NBD
    assert (alive[cdnow_summary["frequency"] == 0] == 1).all()
    # customers with the same (x, t_x, T) get the same value
    dup = cdnow_summary.duplicated(["frequency", "recency", "T"], keep=False)
    assert dup.any()


# ---------------------------------------------------------------- rfm_summary / compress

def _tiny_purchases() -> pd.DataFrame:
    d0 = pd.Timestamp("2026-01-01")
    rows = [("A", 0, 10.0), ("A", 0, 5.0), ("A", 14, 20.0), ("A", 28, 30.0), ("B", 21, 40.0)]
    return pd.DataFrame({"customer_id": [r[0] for r in rows],
                         "order_date": [d0 + pd.Timedelta(days=r[1]) for r in rows],
                         "revenue": [r[2] for r in rows]})


def test_rfm_summary_hand_computed():
    s = rfm_summary(_tiny_purchases(), pd.Timestamp("2026-02-05"))  # day 35
    a, b = s.loc["A"], s.loc["B"]
    assert (a["frequency"], a["recency"], a["T"], a["monetary_value"]) == (2, 4.0, 5.0, 25.0)
    assert (b["frequency"], b["recency"], b["T"], b["monetary_value"]) == (0, 0.0, 2.0, 0.0)


def test_rfm_summary_window_and_days():
    s = rfm_summary(_tiny_purchases(), pd.Timestamp("2026-02-05"), start=pd.Timestamp("2026-01-08"), freq_days=1)
    a = s.loc["A"]  # first purchase now day 14
    assert (a["frequency"], a["recency"], a["T"], a["monetary_value"]) == (1, 14.0, 21.0, 30.0)
    # end before B's purchase: B disappears
    s2 = rfm_summary(_tiny_purchases(), pd.Timestamp("2026-01-20"))
    assert list(s2.index) == ["A"] and s2.loc["A", "frequency"] == 1


def test_compress_roundtrip():
    s = pd.DataFrame({"frequency": [1, 0, 1, 1], "recency": [2.0, 0.0, 2.0, 3.0], "T": [5.0, 4.0, 5.0, 5.0]})
    unique, codes = compress(s)
    assert unique["weights"].sum() == 4 and len(unique) == 3
    back = unique.iloc[codes][["frequency", "recency", "T"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(back, s)


# ---------------------------------------------------------------- spend and discounting

def test_expected_spend_population_mean_for_non_repeat_and_nonpositive():
    gg = clv.FitResult(kind="gamma_gamma", params={"p": 6.0, "q": 4.0, "v": 15.0}, converged=True)
    s = pd.DataFrame({"frequency": [0, 2, 3], "monetary_value": [0.0, -5.0, 20.0]})
    e = clv.expected_spend(gg, s).to_numpy()
    pop = 6 * 15 / 3  # p v / (q - 1) = 30
    w = 6 * 3 / (6 * 3 + 3)  # p x / (p x + q - 1)
    assert e == pytest.approx([pop, pop, (1 - w) * pop + w * 20.0])


def test_monthly_discount_rate_compounds_to_yearly():
    assert (1 + clv.monthly_discount_rate(0.10)) ** 12 == pytest.approx(1.10)


def test_discounted_clv_hand_calculation():
    s = pd.DataFrame({"frequency": [1, 0], "recency": [1.0, 0.0], "T": [2.0, 2.0]}, index=["a", "b"])
    spend = pd.Series([100.0, 50.0], index=s.index)
    rate = 0.5  # purchases per week, constant

    def cumulative(t, x, tx, T):
        return rate * t * np.ones_like(x)

    out = clv.discounted_clv(cumulative, s, spend, horizon_months=2, discount_rate_yearly=0.10, gross_margin=0.3)
    month_weeks = 365.25 / 12 / 7  # 4.348 weeks
    d = 1.1 ** (1 / 12) - 1
    per_month = rate * month_weeks  # 2.174 purchases
    expected_a = 0.3 * 100 * per_month * (1 / (1 + d) + 1 / (1 + d) ** 2)
    assert out["a"] == pytest.approx(expected_a)
    assert out["a"] == pytest.approx(128.90, abs=0.01)
    assert out["b"] == pytest.approx(expected_a / 2)
    # no discounting over 12 months = margin * spend * purchases in one year
    flat = clv.discounted_clv(cumulative, s, spend, 12, 0.0, 0.3)
    assert flat["a"] == pytest.approx(0.3 * 100 * rate * 365.25 / 7)


def test_top_share():
    """The CLV top-10 % share is ``concentration.top_share`` (one definition, NaN ignored)."""
    v = pd.Series([50.0] + [5.0] * 9 + [np.nan])
    assert top_share(v, 0.10) == pytest.approx(50 / 95)
    assert np.isnan(top_share(pd.Series([0.0, 0.0]), 0.10))


# ---------------------------------------------------------------- degradation

def test_fit_without_repeat_buyers_is_not_usable():
    s = pd.DataFrame({"frequency": [0, 0], "recency": [0.0, 0.0], "T": [3.0, 5.0]}, index=["a", "b"])
    fit = clv.fit_bgnbd(s)
    assert not fit.usable and fit.skip == "no_repeat"
    assert clv_text.fit_warnings(fit) == ["Das BG/NBD-Modell braucht Wiederholungskäufe; in den Daten gibt es keine."]
    with pytest.raises(clv.AnalysisError):
        clv.p_alive(fit, s)
    with pytest.raises(clv.AnalysisError):
        fit.fitter()


def test_penalizer_retry_is_reported(monkeypatch, cdnow_summary):
    from lifetimes import BetaGeoFitter
    from lifetimes.utils import ConvergenceError

    original = BetaGeoFitter.fit

    def flaky(self, *args, **kwargs):
        if self.penalizer_coef == 0:
            raise ConvergenceError("no")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(BetaGeoFitter, "fit", flaky)
    fit = clv.fit_bgnbd(cdnow_summary)
    assert fit.usable and fit.penalizer == clv.RETRY_PENALIZERS[0] and fit.retried
    assert fit.problems == (clv.FitProblem(0.0, "no_convergence"),)
    w = clv_text.fit_warnings(fit)
    assert "Strafterm" in w[0] and "keine Konvergenz" in w[0] and "penalizer = 0.001" in w[0]


def test_absurd_parameters_are_rejected(monkeypatch, cdnow_summary):
    from lifetimes import BetaGeoFitter

    original = BetaGeoFitter.fit

    def huge(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        self.params_ = self.params_.copy()
        self.params_["r"] = 1e6
        return out

    monkeypatch.setattr(BetaGeoFitter, "fit", huge)
    fit = clv.fit_bgnbd(cdnow_summary)
    assert not fit.usable and fit.skip == "failed"
    assert fit.problems[0] == clv.FitProblem(0.0, "implausible", ("r",))
    assert len(fit.problems) == 1 + len(clv.RETRY_PENALIZERS)
    assert "unplausible Parameter (r)" in clv_text.fit_warnings(fit)[-1]


def _synthetic_purchases(n: int, weeks: int, dropout: float = 0.25, seed: int = 1) -> pd.DataFrame:
    """BG/NBD-like customers: gamma-distributed weekly buying rate, dropout after each purchase."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2025-01-06")
    first = rng.integers(0, weeks // 2, n)
    rate = np.minimum(rng.gamma(1.0, 0.25, n), 0.9)
    alive = np.ones(n, dtype=bool)
    rows = []
    for w in range(weeks):  # loop over weeks, vectorized over customers
        buy = (w == first) | ((w > first) & alive & (rng.random(n) < rate))
        alive &= ~(buy & (rng.random(n) < dropout))
        ids = np.flatnonzero(buy)
        rows.append(pd.DataFrame({"customer_id": ids.astype(str),
                                  "order_date": start + pd.Timedelta(weeks=w),
                                  "revenue": rng.gamma(2.0, 20.0, len(ids)) + 1}))
    return pd.concat(rows, ignore_index=True)


def test_analyze_degenerate_fit_without_dropout_degrades():
    p = _synthetic_purchases(400, 40, dropout=0.0)  # nobody ever leaves: a/b run off to the limits
    res = clv.analyze(p, p["order_date"].max(), ClvSettings(), 0.3)
    assert res.skip == "no_fit" and res.customers is None and not res.key.model_ok
    assert res.fit.skip == "failed" and res.key.clv_total is None
    assert any("fehlgeschlagen" in w for w in clv_text.model_warnings(res))
    assert "fehlgeschlagen" in clv_text.skip_text(res)


def test_analyze_too_few_repeat_buyers_degrades():
    p = _synthetic_purchases(40, 30)
    res = clv.analyze(p, p["order_date"].max(), ClvSettings(min_repeat_buyers=1000), 0.3)
    assert res.skip == "too_few_repeat" and res.customers is None and res.validation is None
    assert res.key.model_ok is False and res.key.n_repeat == res.n_repeat and res.key.mean_p_alive is None


def test_analyze_short_history_skips_only_validation():
    p = _synthetic_purchases(400, 30)  # 30 weeks < 2 x 26 weeks holdout
    res = clv.analyze(p, p["order_date"].max(), ClvSettings(min_repeat_buyers=30), 0.3)
    assert res.ok and res.validation.skip == "short_history" and res.validation.groups is None
    assert res.key.verdict == "unknown" and res.key.holdout_pct_error is None
    c = res.customers
    assert set(["p_alive", "expected_purchases", "clv"]) <= set(c.columns)
    assert c["clv"].notna().all() and (c["clv"] >= 0).all()


def test_analyze_with_holdout_and_without_revenue():
    p = _synthetic_purchases(600, 60)
    res = clv.analyze(p, p["order_date"].max(), ClvSettings(holdout_weeks=20), 0.3)
    v = res.validation
    assert res.ok and v.skip is None and v.ran
    assert list(v.groups["group"]) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert v.groups["customers"].sum() == v.metrics["customers"]
    assert set(v.comparison.index) == {"BG/NBD", "MBG/NBD"}
    assert v.verdict in {"good", "usable", "weak"} and res.key.verdict == v.verdict
    assert res.key.holdout_pct_error == pytest.approx(v.metrics["pct_error"])
    no_rev = clv.analyze(p.drop(columns="revenue"), p["order_date"].max(), ClvSettings(holdout_weeks=20),
                         0.3, has_revenue=False)
    assert no_rev.ok and no_rev.clv_skip == "no_revenue" and no_rev.customers["clv"].isna().all()
    assert not no_rev.has_clv and no_rev.deciles is None and no_rev.key.clv_total is None
    assert no_rev.key.n_gg is None and no_rev.key.mean_p_alive is not None


def test_rfm_summary_unsorted_input_and_categorical_ids():
    p = _tiny_purchases()
    ref = rfm_summary(p, pd.Timestamp("2026-02-05")).sort_index()
    shuffled = p.iloc[[4, 2, 0, 3, 1]].assign(customer_id=lambda d: d["customer_id"].astype("category"))
    out = rfm_summary(shuffled, pd.Timestamp("2026-02-05")).sort_index()
    pd.testing.assert_frame_equal(out, ref, check_index_type=False)


def test_rfm_summary_empty_window():
    s = rfm_summary(_tiny_purchases(), pd.Timestamp("2025-01-01"))
    assert len(s) == 0 and list(s.columns) == ["frequency", "recency", "T", "monetary_value"]
    res = clv.analyze(_tiny_purchases().iloc[:0], pd.Timestamp("2026-01-01"), ClvSettings(), 0.3)
    assert res.skip == "no_data" and not res.ok and res.key.n_customers == 0


# ---------------------------------------------------------------- the chapter's compute

@pytest.fixture(scope="module")
def synthetic_ds():
    p = _synthetic_purchases(600, 60)
    return from_transactions(p)


@pytest.fixture(scope="module")
def chapter_result(synthetic_ds):
    cfg = ReportConfig.from_settings(None, {"clv": {"holdout_weeks": 20}})
    return clv.compute(synthetic_ds, cfg, {})


def test_compute_does_not_change_the_dataset():
    ds = from_transactions(_synthetic_purchases(600, 60))
    purchases = ds.purchases
    before = purchases.copy()
    cfg = ReportConfig.from_settings(None, {"clv": {"holdout_weeks": 20}})
    res = clv.compute(ds, cfg, {})
    assert res.ok and ds.purchases is purchases
    pd.testing.assert_frame_equal(ds.purchases, before)
    assert res.customers is not ds.purchases


def test_result_is_frozen_and_survives_pickle(chapter_result):
    res = chapter_result
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.skip = "no_fit"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.key.clv_total = 0.0  # type: ignore[misc]
    back = pickle.loads(pickle.dumps(res, protocol=pickle.HIGHEST_PROTOCOL))
    assert type(back) is clv.ClvResult and back.key == res.key and back.ok
    pd.testing.assert_frame_equal(back.customers, res.customers)
    pd.testing.assert_frame_equal(back.validation.comparison, res.validation.comparison)
    pd.testing.assert_frame_equal(back.grids.p_alive, res.grids.p_alive)
    assert back.fit == res.fit and back.gamma_gamma == res.gamma_gamma
    # the rebuilt fitter of the unpickled result predicts what the result holds
    c = back.customers
    np.testing.assert_allclose(clv.p_alive(back.fit, c).to_numpy(), c["p_alive"].to_numpy())


def test_result_contract_and_key_figures(chapter_result):
    res = chapter_result
    c, k = res.customers, res.key
    assert {"frequency", "recency", "T", "monetary_value", "p_alive", "expected_purchases",
            "expected_spend", "clv"} <= set(c.columns)
    assert c.index.name == "customer_id" and k.model_ok and k.n_customers == len(c)
    assert k.clv_total == pytest.approx(c["clv"].sum()) and k.clv_median == pytest.approx(c["clv"].median())
    assert k.clv_top10_share == pytest.approx(top_share(c["clv"], 0.10))
    assert k.expected_purchases_total == pytest.approx(c["expected_purchases"].sum())
    assert k.mean_expected_spend == pytest.approx(c["expected_spend"].mean())
    assert k.n_likely_inactive == int((c["p_alive"] < 0.5).sum())
    assert (k.prediction_days, k.holdout_weeks, k.horizon_months) == (90, 20, 12)
    assert res.deciles["total"].sum() == pytest.approx(k.clv_total)
    assert res.deciles["share"].iloc[0] == pytest.approx(k.clv_top10_share)
    g = res.grids
    assert g.T_max == pytest.approx(c["T"].max()) and list(g.p_alive.index) == list(range(g.max_frequency + 1))
    assert g.expected_purchases.shape == g.p_alive.shape
