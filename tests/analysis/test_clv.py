"""CLV models: published CDNOW results through the project's pipeline, the holdout model choice,
value if retained, horizon, data gate and ranges, hand-checked helpers."""

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


def test_pareto_reproduces_fader_hardie_2005(cdnow_summary):
    """Pareto/NBD on the CDNOW sample: r = 0.553, alpha = 10.578, s = 0.606, beta = 11.669,
    LL = -9595.0 (Fader & Hardie 2005, "A Note on Implementing the Pareto/NBD Model in MATLAB";
    the same values are in lifetimes' test suite)."""
    fit = clv.fit_pareto(cdnow_summary)
    assert fit.converged and fit.penalizer == 0.0 and fit.cov_log is not None
    for name, published in {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}.items():
        assert rel(fit.params[name], published) < 0.01, name
    assert fit.log_likelihood == pytest.approx(-9595.0, abs=0.1)
    # deterministic (no random start) and the warm start finds the same optimum
    assert clv.fit_pareto(cdnow_summary).params == fit.params
    warm = clv.fit_pareto(cdnow_summary, start={"r": 1.0, "alpha": 5.0, "s": 1.0, "beta": 20.0})
    for name in fit.params:
        assert rel(warm.params[name], fit.params[name]) < 1e-3, name


def test_mbgnbd_matches_lifetimes_reference(cdnow_summary):
    """MBG/NBD on the CDNOW sample: r = 0.525, alpha = 6.183, a = 0.891, b = 1.614 (lifetimes'
    test suite, ``test_estimation.py``)."""
    fit = clv.fit_mbgnbd(cdnow_summary)
    assert fit.converged and fit.cov_log is not None
    for name, published in {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}.items():
        assert rel(fit.params[name], published) < 0.01, name


def test_chapter_path_reproduces_published_parameters(cdnow_purchases):
    """The published values through ``analyze`` (the chapter's path). Without a holdout all three
    purchase models are fitted on all data and the one with the highest log-likelihood is used."""
    res = clv.analyze(cdnow_purchases, CAL_END, ClvSettings(), 0.3, holdout=False)
    assert res.ok and res.has_clv and res.validation is None
    assert set(res.fits) == set(clv.MODEL_KINDS)
    for kind, published in {"bgnbd": {"r": 0.2426, "alpha": 4.4136, "a": 0.7929, "b": 2.4259},
                            "pareto": {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}}.items():
        for name, value in published.items():
            assert rel(res.fits[kind].params[name], value) < 0.01, (kind, name)
    assert res.fits["bgnbd"].log_likelihood == pytest.approx(-9582.4, abs=0.1)
    k = res.key
    for name, value in {"gg_p": 6.25, "gg_q": 3.74, "gg_v": 15.44}.items():
        assert rel(getattr(k, name), value) < 0.01, name
    best = max(res.fits, key=lambda m: res.fits[m].log_likelihood)
    assert k.model == best == res.fit.kind and k.model_choice == "likelihood"
    assert (k.n_customers, k.n_repeat, k.n_gg) == (2357, 946, 946)
    assert k.purchase_rate_weekly == pytest.approx(res.fit.params["r"] / res.fit.params["alpha"])


HOLDOUT_REFERENCE = {  # issue 13: lifetimes 0.11.3, CDNOW_sample, calibration to 1997-09-30, 39 weeks
    "bgnbd": (1653, -0.121, 0.786), "pareto": (1666, -0.115, 0.755), "mbgnbd": (1577, -0.162, 0.765)}


def test_holdout_model_comparison_reproduces_cdnow_reference(cdnow_purchases):
    """Transaction file -> Dataset -> chapter compute: the holdout numbers of the issue within 2 %."""
    ds = from_transactions(cdnow_purchases, pd.Timestamp("1998-06-30"))
    res = clv.compute(ds, ReportConfig.from_settings(None, {"clv.holdout_weeks": 39}), {})
    v = res.validation
    assert v.skip is None and v.calibration_end == CAL_END and v.holdout_weeks == 39
    c = v.comparison
    assert c["actual_total"].eq(1882).all()
    for kind, (predicted, bias, mae) in HOLDOUT_REFERENCE.items():
        assert rel(c.loc[kind, "predicted_total"], predicted) < 0.02, kind
        assert rel(c.loc[kind, "pct_error"], bias) < 0.02, kind
        assert rel(c.loc[kind, "mae"], mae) < 0.02, kind
    # Pareto/NBD has the smallest MAE and, among the models within 2 % of it, the smallest bias
    assert v.chosen == "pareto" and c["chosen"].sum() == 1 and c.loc["pareto", "chosen"]
    k = res.key
    assert k.model == "pareto" == res.fit.kind and k.model_choice == "holdout"
    assert k.holdout_pct_error == pytest.approx(c.loc["pareto", "pct_error"])
    assert k.holdout_mae == pytest.approx(c.loc["pareto", "mae"])
    # the final fit uses all data up to the observation end
    assert res.fit.n_customers == len(res.customers) == 2349


def test_one_time_buyers_are_not_certainly_alive_in_pareto_and_mbgnbd(cdnow_summary, cdnow_fit):
    once = cdnow_summary[cdnow_summary["frequency"] == 0]
    assert (clv.p_alive(cdnow_fit, once) == 1).all()
    for fit in (clv.fit_pareto(cdnow_summary), clv.fit_mbgnbd(cdnow_summary)):
        alive = clv.p_alive(fit, once)
        assert (alive < 1).all() and alive.mean() < 0.8, fit.kind
        # the longer ago the single purchase, the less likely alive
        old, recent = once["T"] > once["T"].median(), once["T"] < once["T"].median()
        assert alive[old].mean() < alive[recent].mean(), fit.kind


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


# ---------------------------------------------------------------- value if retained, formulas, ranges

@pytest.fixture(scope="module")
def cdnow_fits(cdnow_summary, cdnow_fit):
    return {"bgnbd": cdnow_fit, "mbgnbd": clv.fit_mbgnbd(cdnow_summary), "pareto": clv.fit_pareto(cdnow_summary)}


@pytest.mark.parametrize("kind", clv.MODEL_KINDS)
def test_clv_if_active_is_clv_over_p_alive_and_finite(kind, cdnow_summary, cdnow_fits):
    fit = cdnow_fits[kind]
    spend = pd.Series(30.0, index=cdnow_summary.index)
    cum = fit.fitter().conditional_expected_number_of_purchases_up_to_time
    value = clv.discounted_clv(cum, cdnow_summary, spend, 12, 0.1, 0.3)
    alive = clv.p_alive(fit, cdnow_summary)
    retained = clv.clv_if_active(fit, cdnow_summary, spend, 12, 0.1, 0.3)
    assert np.isfinite(retained).all() and (retained >= value - 1e-9).all()
    ok = alive > 1e-3
    np.testing.assert_allclose(retained[ok], (value / alive)[ok], rtol=1e-8)
    # customers with P(aktiv) ~ 0 keep the value of an active customer with their x and T
    gone = alive < 1e-6
    if gone.any():
        assert (retained[gone] > 0).all()
    if kind == "bgnbd":  # one-time buyers are alive with certainty in BG/NBD
        once = cdnow_summary["frequency"] == 0
        np.testing.assert_allclose(retained[once], value[once], rtol=1e-10)


@pytest.mark.parametrize("kind", clv.MODEL_KINDS)
def test_vectorized_formulas_equal_lifetimes(kind, cdnow_summary, cdnow_fits):
    """The bootstrap's own vectorized formulas give lifetimes' predictions at the estimate."""
    fit = cdnow_fits[kind]
    model = fit.fitter()
    x, tx, T = (cdnow_summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    P = tuple(np.array([fit.params[n]]) for n in clv.PARAM_NAMES[kind])
    p = clv._p_alive_draws(kind, tuple(q.reshape(1, 1) for q in P), x, tx, T)[0]
    np.testing.assert_allclose(p, np.asarray(model.conditional_probability_alive(x, tx, T), dtype=float), rtol=1e-10)
    t = np.array([1.0, 13.0, 52.0])
    na = clv._n_alive(kind, tuple(q.reshape(1, 1, 1) for q in P), t.reshape(1, -1, 1), x, T)[0]
    for i, ti in enumerate(t):
        np.testing.assert_allclose(na[i] * p, model.conditional_expected_number_of_purchases_up_to_time(ti, x, tx, T),
                                   rtol=1e-9)


def test_numerical_hessian_equals_lifetimes_autograd(cdnow_summary):
    """The numerical Hessian used for Pareto/NBD agrees with lifetimes' exact (autograd) Hessian of BG/NBD."""
    from lifetimes import BetaGeoFitter

    unique, _ = compress(cdnow_summary)
    x, tx, T, w = (unique[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T", "weights"))
    bg = BetaGeoFitter().fit(x, tx, T, weights=w)
    s = bg._scale
    at = np.log([bg.params_["r"], bg.params_["alpha"] * s, bg.params_["a"], bg.params_["b"]])
    h = clv.numerical_hessian(lambda lp: BetaGeoFitter._negative_log_likelihood(lp, x, tx * s, T * s, w, 0.0), at)
    np.testing.assert_allclose(h, bg._hessian_, rtol=1e-4, atol=1e-6)
    # covariance of the log-parameters: the fitted result carries inv(H) / customers
    fit = clv.fit_bgnbd(cdnow_summary)
    np.testing.assert_allclose(np.asarray(fit.cov_log), np.linalg.inv(bg._hessian_) / w.sum(), rtol=1e-3)


def test_widen_includes_point_and_bias_corrected_point():
    assert clv.widen(90.0, 110.0, 100.0, -0.2) == (90.0, 125.0)  # 20 % too low: 100 / 0.8 = 125
    assert clv.widen(90.0, 110.0, 100.0, 0.25) == (80.0, 110.0)  # 25 % too high: 100 / 1.25 = 80
    assert clv.widen(90.0, 110.0, 100.0, None) == (90.0, 110.0)
    assert clv.widen(101.0, 110.0, 100.0, 0.0) == (100.0, 110.0)  # always contains the point
    assert clv.widen(None, 110.0, 100.0, 0.1) == (None, None)


@pytest.fixture(scope="module")
def cdnow_value(cdnow_summary, cdnow_fits):
    """Pareto/NBD + Gamma-Gamma on the CDNOW calibration data with their point totals."""
    fit = cdnow_fits["pareto"]
    gg = clv.fit_gamma_gamma(cdnow_summary)
    spend = clv.expected_spend(gg, cdnow_summary)
    cum = fit.fitter().conditional_expected_number_of_purchases_up_to_time
    points = {"expected_purchases": clv.expected_purchases(fit, cdnow_summary, 90 / 7).sum(),
              "clv": clv.discounted_clv(cum, cdnow_summary, spend, 12, 0.1, 0.3).sum(),
              "clv_if_active": clv.clv_if_active(fit, cdnow_summary, spend, 12, 0.1, 0.3).sum()}
    return fit, gg, points


def _ranges(fit, gg, summary, points, **kw):
    args = dict(points=points, prediction_weeks=90 / 7, horizon_months=12, discount_rate_yearly=0.1,
                gross_margin=0.3, draws=200, seed=7)
    return clv.bootstrap_ranges(fit, gg, summary, **{**args, **kw})


def test_bootstrap_ranges_contain_the_point_and_are_reproducible(cdnow_summary, cdnow_value):
    fit, gg, points = cdnow_value
    r = _ranges(fit, gg, cdnow_summary, points)
    assert r.skip is None and r.draws >= 180 and r.triples <= clv.RANGE_SAMPLE
    for q in ("expected_purchases", "clv", "clv_if_active"):
        lo, hi = getattr(r, q)
        assert lo < points[q] < hi, q
        assert hi / lo < 1.5, q  # 2.357 customers: a few per cent, not a factor
    assert _ranges(fit, gg, cdnow_summary, points) == r  # seeded
    shuffled = _ranges(fit, gg, cdnow_summary.sample(frac=1.0, random_state=1), points)  # customer order
    for q in ("expected_purchases", "clv", "clv_if_active"):
        assert getattr(shuffled, q) == pytest.approx(getattr(r, q), rel=1e-9), q
    # with no parameter uncertainty the range collapses to the point
    tiny = tuple(tuple(v * 1e-12 for v in row) for row in fit.cov_log)
    gg_tiny = tuple(tuple(v * 1e-12 for v in row) for row in gg.cov_log)
    r0 = _ranges(dataclasses.replace(fit, cov_log=tiny), dataclasses.replace(gg, cov_log=gg_tiny), cdnow_summary, points)
    for q in ("expected_purchases", "clv", "clv_if_active"):
        assert getattr(r0, q) == pytest.approx((points[q], points[q]), rel=1e-4), q


def test_bootstrap_sample_estimator_agrees_with_all_triples(monkeypatch, cdnow_summary, cdnow_value):
    """Above RANGE_SAMPLE triples a weighted sample is evaluated per draw; the quantiles agree with
    the evaluation of all triples (same parameter draws) to well within the range's width."""
    fit, gg, points = cdnow_value
    sampled = _ranges(fit, gg, cdnow_summary, points)
    monkeypatch.setattr(clv, "RANGE_SAMPLE", 10 ** 9)
    exact = _ranges(fit, gg, cdnow_summary, points)
    assert exact.triples == len(compress(cdnow_summary)[0]) > sampled.triples
    for q in ("expected_purchases", "clv", "clv_if_active"):
        (lo, hi), (elo, ehi) = getattr(sampled, q), getattr(exact, q)
        assert abs(lo - elo) < 0.05 * (ehi - elo) + 1e-9 and abs(hi - ehi) < 0.05 * (ehi - elo) + 1e-9, q


def test_bootstrap_without_variance_or_draws_gives_no_range(cdnow_summary, cdnow_value):
    fit, gg, points = cdnow_value
    assert _ranges(dataclasses.replace(fit, cov_log=None), gg, cdnow_summary, points).skip == "no_variance"
    off = _ranges(fit, gg, cdnow_summary, points, draws=0)
    assert off.skip == "off" and off.clv is None
    no_value = _ranges(fit, None, cdnow_summary, {**points, "clv": None, "clv_if_active": None})
    assert no_value.expected_purchases is not None and no_value.clv is None and no_value.clv_if_active is None


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


def test_without_dropout_only_pareto_fits_and_no_range_is_claimed():
    """Nobody ever leaves: BG/NBD and MBG/NBD run off to absurd dropout parameters and are rejected;
    Pareto/NBD estimates (almost) no dropout; its dropout parameters are not identified, so there is
    no range – and the text says so instead of printing one."""
    p = _synthetic_purchases(400, 40, dropout=0.0)
    res = clv.analyze(p, p["order_date"].max(), ClvSettings(), 0.3)
    c = res.validation.comparison
    assert not c.loc["bgnbd", "usable"] and not c.loc["mbgnbd", "usable"]
    assert res.ok and res.key.model == "pareto" and res.key.dropout_rate_weekly < 1e-3
    assert res.fit.cov_log is None and res.ranges.skip == "no_variance"
    assert res.key.range_draws is None and res.key.clv_total_low is None and res.key.clv_total is not None
    assert "keine verlässliche Spanne" in clv_text.range_text(res)
    assert "Spanne" not in clv_text.summary(res)


def test_all_fits_failing_degrades_with_german_reasons(monkeypatch):
    p = _synthetic_purchases(400, 40)
    monkeypatch.setattr(clv, "fit_model", lambda kind, summary, *a, **kw: clv.FitResult(
        kind=kind, skip="failed", problems=(clv.FitProblem(0.0, "no_convergence"),)))
    res = clv.analyze(p, p["order_date"].max(), ClvSettings(holdout_weeks=10), 0.3)
    assert res.skip == "no_fit" and res.customers is None and not res.key.model_ok
    assert res.validation.skip == "no_fit_calibration" and set(res.fits) == set(clv.MODEL_KINDS)
    text = clv_text.skip_text(res)
    assert "Keines der Kaufmodelle" in text and text.count("fehlgeschlagen") == 3


def test_analyze_too_few_repeat_buyers_degrades():
    p = _synthetic_purchases(40, 30)
    res = clv.analyze(p, p["order_date"].max(), ClvSettings(min_repeat_buyers=1000, min_customers=10), 0.3)
    assert res.skip == "too_few_repeat" and res.customers is None and res.validation is None
    assert res.gate.failed == ("repeat_buyers",)
    assert res.key.model_ok is False and res.key.n_repeat == res.n_repeat and res.key.mean_p_alive is None
    text = clv_text.skip_text(res)
    assert f"Von 40 Kundinnen und Kunden haben nur {res.n_repeat} mehr als einmal gekauft" in text and "mindestens 1.000 Wiederholungskäufer" in text


def test_data_gate_names_every_failed_minimum_with_numbers():
    p = _synthetic_purchases(40, 8)  # 40 customers, 8 weeks of history
    end = p["order_date"].max()
    res = clv.analyze(p, end, ClvSettings(), 0.3)
    g = res.gate
    days = (end - p["order_date"].min()).days + 1
    assert (g.n_customers, g.history_days) == (40, days) and g.n_repeat == res.n_repeat
    assert {"customers", "history"} <= set(g.failed) and res.skip == g.skip
    assert res.skip == ("too_few_repeat" if g.n_repeat < 30 else "too_few_customers")
    text = clv_text.skip_text(res)
    assert "nur 40 Kundinnen und Kunden" in text and "mindestens 100" in text
    assert f"nur {days} Tage" in text and "mindestens 90 Tage" in text
    assert res.key.horizon_months == 1 and res.key.horizon_capped  # known even without a model
    ok = clv.data_gate(100, 30, 90, ClvSettings())
    assert ok.failed == () and ok.skip is None
    assert clv.data_gate(100, 29, 90, ClvSettings()).skip == "too_few_repeat"
    assert clv.data_gate(100, 30, 89, ClvSettings()).skip == "short_history"
    assert clv.data_gate(99, 30, 90, ClvSettings()).skip == "too_few_customers"
    assert clv.data_gate(3, 1, 500, ClvSettings()).failed == ("repeat_buyers", "customers")


def test_analyze_short_history_caps_horizon_and_skips_only_validation():
    p = _synthetic_purchases(500, 14)  # 14 weeks: holdout would be 7 weeks < 8; horizon 3 months
    end = p["order_date"].max()
    res = clv.analyze(p, end, ClvSettings(), 0.3)
    days = (end - p["order_date"].min()).days + 1
    assert res.ok and res.validation.skip == "short_history" and res.validation.groups is None
    assert res.key.verdict == "unknown" and res.key.holdout_pct_error is None
    k = res.key
    assert k.model_choice == "likelihood" and set(res.fits) == set(clv.MODEL_KINDS)
    assert k.model == max((m for m in res.fits if res.fits[m].usable), key=lambda m: res.fits[m].log_likelihood)
    assert k.history_days == days and k.horizon_months == int((days + 7) // (365.25 / 12)) == 3
    assert k.horizon_capped and k.horizon_months_configured == 12
    c = res.customers
    assert {"p_alive", "expected_purchases", "clv", "clv_if_active"} <= set(c.columns)
    assert c["clv"].notna().all() and (c["clv"] >= 0).all()
    # the CLV is the one over the capped horizon
    spend = c["expected_spend"]
    three = clv.discounted_clv(res.fit.fitter().conditional_expected_number_of_purchases_up_to_time,
                               c, spend, 3, 0.10, 0.3)
    np.testing.assert_allclose(c["clv"], three)
    text = clv_text.summary(res)
    assert f"nur {days} Tage" in text and "3 statt 12 Monate" in text
    assert "3 statt 12 Monate" in clv_text.horizon_text(res)


def test_analyze_with_holdout_and_without_revenue():
    p = _synthetic_purchases(600, 60)
    res = clv.analyze(p, p["order_date"].max(), ClvSettings(holdout_weeks=20), 0.3)
    v = res.validation
    assert res.ok and v.skip is None and v.ran and v.holdout_weeks == 20
    assert list(v.groups["group"]) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert v.groups["customers"].sum() == v.metrics["customers"]
    assert list(v.comparison.index) == list(clv.MODEL_KINDS) and v.comparison["chosen"].sum() == 1
    assert res.key.model == v.chosen == res.fit.kind and set(res.fits) == {v.chosen}
    assert v.metrics["mae"] == pytest.approx(v.comparison.loc[v.chosen, "mae"])
    assert v.verdict in {"good", "usable", "weak"} and res.key.verdict == v.verdict
    assert res.key.holdout_pct_error == pytest.approx(v.metrics["pct_error"])
    no_rev = clv.analyze(p.drop(columns="revenue"), p["order_date"].max(), ClvSettings(holdout_weeks=20),
                         0.3, has_revenue=False)
    assert no_rev.ok and no_rev.clv_skip == "no_revenue" and no_rev.customers["clv"].isna().all()
    assert no_rev.customers["clv_if_active"].isna().all()
    assert not no_rev.has_clv and no_rev.deciles is None and no_rev.key.clv_total is None
    assert no_rev.key.clv_total_low is None and no_rev.key.clv_if_active_total is None
    assert no_rev.key.expected_purchases_total_low is not None  # purchases still get their range
    assert no_rev.key.n_gg is None and no_rev.key.mean_p_alive is not None


def test_holdout_is_shortened_to_half_the_history():
    p = _synthetic_purchases(500, 30)  # 30 weeks of data: 26-week holdout impossible, 15 weeks fit
    end = p["order_date"].max()
    res = clv.analyze(p, end, ClvSettings(), 0.3)
    days = (end - p["order_date"].min()).days + 1
    v = res.validation
    assert v.holdout_weeks == days // 14 and v.calibration_end == end - pd.Timedelta(weeks=v.holdout_weeks)
    assert res.key.holdout_weeks == v.holdout_weeks and res.key.model_choice in ("holdout", "fallback")
    assert f"verkürzt von 26 Wochen" in clv_text.validation_text(res)


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
    assert back.fit == res.fit and back.gamma_gamma == res.gamma_gamma and back.fits == res.fits
    assert back.ranges == res.ranges and back.gate == res.gate
    # the rebuilt fitter of the unpickled result predicts what the result holds
    c = back.customers
    np.testing.assert_allclose(clv.p_alive(back.fit, c).to_numpy(), c["p_alive"].to_numpy())


def test_result_contract_and_key_figures(chapter_result):
    res = chapter_result
    c, k = res.customers, res.key
    assert {"frequency", "recency", "T", "monetary_value", "p_alive", "expected_purchases",
            "expected_spend", "clv", "clv_if_active"} <= set(c.columns)
    assert c.index.name == "customer_id" and k.model_ok and k.n_customers == len(c)
    assert k.clv_total == pytest.approx(c["clv"].sum()) and k.clv_median == pytest.approx(c["clv"].median())
    assert k.clv_top10_share == pytest.approx(top_share(c["clv"], 0.10))
    assert k.expected_purchases_total == pytest.approx(c["expected_purchases"].sum())
    assert k.mean_expected_spend == pytest.approx(c["expected_spend"].mean())
    assert k.n_likely_inactive == int((c["p_alive"] < 0.5).sum())
    assert (k.prediction_days, k.holdout_weeks, k.horizon_months) == (90, 20, 12) and not k.horizon_capped
    assert k.clv_if_active_total == pytest.approx(c["clv_if_active"].sum()) and k.clv_if_active_total > k.clv_total
    assert k.model in clv.MODEL_KINDS and k.range_draws is not None and k.range_draws >= 180
    bias = k.holdout_pct_error
    for name in ("expected_purchases_total", "clv_total", "clv_if_active_total"):
        point, lo, hi = getattr(k, name), getattr(k, name + "_low"), getattr(k, name + "_high")
        assert lo <= point <= hi, name
        assert lo <= point / (1 + bias) <= hi, name  # widened by the holdout bias
    assert res.deciles["total"].sum() == pytest.approx(k.clv_total)
    assert res.deciles["share"].iloc[0] == pytest.approx(k.clv_top10_share)
    g = res.grids
    assert g.T_max == pytest.approx(c["T"].max()) and list(g.p_alive.index) == list(range(g.max_frequency + 1))
    assert g.expected_purchases.shape == g.p_alive.shape
