"""BG/NBD, MBG/NBD and Gamma-Gamma models (``lifetimes``) and the discounted CLV.

Time unit of all summaries: weeks (``freq_days=7``), fractional. Models are fitted on the
unique (frequency, recency, T) triples with customer counts as weights; predictions are
computed per unique triple and mapped back to the customers, so the cost does not grow with
the number of customers beyond a ``groupby``.

The chapter's entry point is :func:`compute` (``Dataset`` in, frozen :class:`ClvResult` out);
:func:`analyze` does the same on a purchases frame. A :class:`FitResult` keeps the fitted
parameters, never the ``lifetimes`` fitter (it holds local lambdas and cannot be pickled);
:meth:`FitResult.fitter` rebuilds one from the parameters when a library call needs it.

Public API used by other chapters (stable): :func:`rfm_summary`, :func:`fit_bgnbd`,
:func:`p_alive`, :func:`expected_purchases`, :class:`FitResult`, :class:`ClvResult`
(``customers`` columns ``p_alive``, ``expected_purchases``, ``clv``; ``ok``; ``key``).
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import pandas as pd
from scipy.special import betaln, gammaln

from ..exceptions import AnalysisError
from ..results import ChapterResult
from .clv_data import compress, holdout_counts, rfm_summary
from .clv_validation import (by_frequency_group, calibration_end, holdout_frame, holdout_metrics,
                             spend_frequency_correlation, verdict)
from .concentration import top_share

if TYPE_CHECKING:  # pragma: no cover
    from ..config import ClvSettings, ReportConfig
    from ..dataset import Dataset

__all__ = [
    "FitResult", "FitProblem", "rfm_summary", "fit_bgnbd", "fit_mbgnbd", "fit_gamma_gamma", "p_alive",
    "expected_purchases", "bgnbd_log_likelihood", "expected_spend", "discounted_clv",
    "monthly_discount_rate", "DAYS_PER_MONTH", "RETRY_PENALIZERS", "MODEL_NAMES",
    "frequency_recency_grid", "clv_deciles", "Validation", "validate", "HeatmapGrids",
    "heatmap_grids", "ClvKeyFigures", "key_figures", "ClvResult", "analyze", "compute",
]

DAYS_PER_MONTH = 365.25 / 12
"""Length of one CLV month in days (30,44)."""
RETRY_PENALIZERS = (0.001, 0.01, 0.1)
"""Penalizers tried in this order when the first fit fails or gives absurd parameters."""
MODEL_NAMES: Mapping[str, str] = {"bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD", "gamma_gamma": "Gamma-Gamma"}
"""Model kind id -> the model's published name (also the index of ``Validation.comparison``)."""

# Plausibility limits (time in weeks). Outside them the fit is called degenerate.
_LIMITS = {"r": (1e-4, 50.0), "alpha": (1e-4, 1e5), "a": (1e-4, 1e3), "b": (1e-4, 1e4),
           "p": (1e-3, 1e3), "q": (1e-3, 1e3), "v": (1e-6, 1e7)}


@dataclass(frozen=True)
class FitProblem:
    """One failed fit attempt."""

    penalizer: float
    reason: str
    """``"no_convergence"`` or ``"implausible"``."""
    params: tuple[str, ...] = ()
    """Implausible parameters (names; ``"q<=1"`` = Gamma-Gamma's q ≤ 1, where the mean spend is infinite)."""


@dataclass(frozen=True, kw_only=True)
class FitResult:
    """Fitted parameters of one model and how the fit went (no fitter object, picklable).

    ``params``: model parameters (BG/NBD: r, alpha [weeks], a, b; Gamma-Gamma: p, q, v [EUR]).
    ``log_likelihood``: full log-likelihood of the data in the model's time unit.
    ``converged``: the optimizer succeeded and the parameters are plausible; only then may
    predictions be used. ``problems``: the failed attempts before (or instead of) success.
    ``skip``: why there are no parameters (``"no_repeat"``: no repeat buyers; ``"too_few_repeat"``:
    fewer than 2 repeat buyers with positive spend (Gamma-Gamma); ``"failed"``: all attempts
    failed); ``None`` when converged. :func:`helpers.narrative.clv.fit_warnings` words it in German.
    """

    kind: str
    """``"bgnbd"``, ``"mbgnbd"`` or ``"gamma_gamma"``."""
    params: Mapping[str, float] = field(default_factory=dict)
    log_likelihood: float = float("nan")
    converged: bool = False
    penalizer: float = 0.0
    """Penalizer of the successful attempt (or the requested one when none succeeded)."""
    problems: tuple[FitProblem, ...] = ()
    skip: str | None = None
    n_customers: int = 0
    n_repeat: int = 0

    @property
    def name(self) -> str:
        return MODEL_NAMES[self.kind]

    @property
    def usable(self) -> bool:
        return self.converged and bool(self.params)

    @property
    def retried(self) -> bool:
        """Converged only after a failed first attempt (with a larger penalizer)."""
        return self.converged and bool(self.problems)

    def fitter(self):
        """A ``lifetimes`` fitter with these parameters (its predictions use only ``params_``)."""
        from lifetimes import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter

        _require(self)
        cls = {"bgnbd": BetaGeoFitter, "mbgnbd": ModifiedBetaGeoFitter, "gamma_gamma": GammaGammaFitter}[self.kind]
        model = cls(penalizer_coef=self.penalizer)
        model.params_ = pd.Series(dict(self.params), dtype=float)
        return model


def _quiet_fit(model, *args, **kwargs):
    """Call ``model.fit`` without lifetimes' prints and numeric warnings."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            return model.fit(*args, **kwargs)


def _implausible(params: Mapping[str, float]) -> list[str]:
    bad = []
    for k, v in params.items():
        lo, hi = _LIMITS.get(k, (0, np.inf))
        if not np.isfinite(v) or v < lo or v > hi:
            bad.append(k)
    return bad


def _penalizers(penalizer: float, retry: bool) -> list[float]:
    return [penalizer] + ([p for p in RETRY_PENALIZERS if p > penalizer] if retry else [])


def bgnbd_log_likelihood(params: Mapping[str, float], summary: pd.DataFrame, weights=None) -> float:
    """Full BG/NBD log-likelihood (Fader, Hardie & Lee 2005, eq. 6) in the summary's time unit.

    L(r, alpha, a, b | x, t_x, T) = B(a, b+x)/B(a, b) * Γ(r+x) α^r / Γ(r) * [(α+T)^-(r+x)
    + 1{x>0} a/(b+x-1) * (α+t_x)^-(r+x)] · ``weights`` = customers per row (default 1).
    """
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    x = summary["frequency"].to_numpy(dtype=float)
    tx = summary["recency"].to_numpy(dtype=float)
    T = summary["T"].to_numpy(dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    base = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    l1 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore"):
        l2 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + tx), -np.inf)
    return float(np.sum(w * (base + np.logaddexp(l1, l2))))


def _fit_counting(kind: str, summary: pd.DataFrame, penalizer: float, retry: bool) -> FitResult:
    from lifetimes import BetaGeoFitter, ModifiedBetaGeoFitter
    from lifetimes.utils import ConvergenceError

    cls = {"bgnbd": BetaGeoFitter, "mbgnbd": ModifiedBetaGeoFitter}[kind]
    base = dict(kind=kind, n_customers=len(summary), n_repeat=int((summary["frequency"] > 0).sum()))
    if len(summary) == 0 or base["n_repeat"] == 0:
        return FitResult(**base, penalizer=penalizer, skip="no_repeat")
    unique, _ = compress(summary)
    problems: list[FitProblem] = []
    for pen in _penalizers(penalizer, retry):
        model = cls(penalizer_coef=pen)
        try:
            _quiet_fit(model, unique["frequency"], unique["recency"], unique["T"], weights=unique["weights"])
        except (ConvergenceError, ValueError, FloatingPointError, np.linalg.LinAlgError):
            problems.append(FitProblem(pen, "no_convergence"))
            continue
        params = {k: float(v) for k, v in model.params_.items()}
        bad = _implausible(params)
        if bad:
            problems.append(FitProblem(pen, "implausible", tuple(bad)))
            continue
        if kind == "bgnbd":
            ll = bgnbd_log_likelihood(params, unique, unique["weights"])
        else:
            nll = model._negative_log_likelihood(
                np.log([params[k] for k in ("r", "alpha", "a", "b")]), unique["frequency"].to_numpy(),
                unique["recency"].to_numpy(), unique["T"].to_numpy(), unique["weights"].to_numpy(), 0.0)
            ll = float(-nll * unique["weights"].sum())
        return FitResult(**base, params=params, log_likelihood=ll, converged=True, penalizer=pen,
                         problems=tuple(problems))
    return FitResult(**base, penalizer=penalizer, problems=tuple(problems), skip="failed")


def fit_bgnbd(summary: pd.DataFrame, penalizer: float = 0.0, retry: bool = True) -> FitResult:
    """Fit BG/NBD on ``summary`` (frequency, recency, T in weeks) via unique triples.

    On non-convergence or implausible parameters the fit is retried with the penalizers in
    :data:`RETRY_PENALIZERS` (recorded in ``problems``); ``converged`` is False when all fail.
    """
    return _fit_counting("bgnbd", summary, penalizer, retry)


def fit_mbgnbd(summary: pd.DataFrame, penalizer: float = 0.0, retry: bool = True) -> FitResult:
    """Fit the MBG/NBD comparison model (Batislam et al. 2007), same conventions as :func:`fit_bgnbd`."""
    return _fit_counting("mbgnbd", summary, penalizer, retry)


def _require(fit: FitResult) -> None:
    if not fit.usable:
        raise AnalysisError(f"Das {fit.name}-Modell ist nicht geschätzt; keine Prognose möglich.")


def _per_triple(summary: pd.DataFrame, func) -> pd.Series:
    unique, codes = compress(summary)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vals = np.asarray(func(unique["frequency"].to_numpy(), unique["recency"].to_numpy(),
                               unique["T"].to_numpy()), dtype=float)
    return pd.Series(vals[codes], index=summary.index)


def p_alive(fit: FitResult, summary: pd.DataFrame) -> pd.Series:
    """P(customer still active at the end of the summary period), 0..1, index ``customer_id``."""
    _require(fit)
    out = _per_triple(summary, fit.fitter().conditional_probability_alive)
    return out.clip(0.0, 1.0).rename("p_alive")


def expected_purchases(fit: FitResult, summary: pd.DataFrame, weeks: float) -> pd.Series:
    """Expected number of purchase days in the next ``weeks`` weeks after the summary end."""
    _require(fit)
    f = fit.fitter().conditional_expected_number_of_purchases_up_to_time
    out = _per_triple(summary, lambda x, tx, T: f(weeks, x, tx, T))
    return out.clip(lower=0.0).rename("expected_purchases")


def fit_gamma_gamma(summary: pd.DataFrame, penalizer: float = 0.0, retry: bool = True) -> FitResult:
    """Fit Gamma-Gamma (Fader & Hardie 2013) on repeat buyers with ``monetary_value > 0``.

    Customers with zero or negative mean spend cannot enter the Gamma likelihood and are
    excluded from the fit (their expected spend is the population mean, see :func:`expected_spend`).
    Parameters p, q, v (v in EUR).
    """
    from lifetimes import GammaGammaFitter
    from lifetimes.utils import ConvergenceError

    rb = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    base = dict(kind="gamma_gamma", n_customers=len(rb), n_repeat=len(rb))
    if len(rb) < 2:
        return FitResult(**base, penalizer=penalizer, skip="too_few_repeat")
    unique, _ = compress(rb, ("frequency", "monetary_value"))
    problems: list[FitProblem] = []
    for pen in _penalizers(penalizer, retry):
        model = GammaGammaFitter(penalizer_coef=pen)
        try:
            _quiet_fit(model, unique["frequency"], unique["monetary_value"], weights=unique["weights"])
        except (ConvergenceError, ValueError, FloatingPointError, np.linalg.LinAlgError):
            problems.append(FitProblem(pen, "no_convergence"))
            continue
        params = {k: float(v) for k, v in model.params_.items()}
        bad = _implausible(params)
        if params.get("q", 0) <= 1:
            bad.append("q<=1")
        if bad:
            problems.append(FitProblem(pen, "implausible", tuple(bad)))
            continue
        nll = model._negative_log_likelihood(
            np.log([params["p"], params["q"], params["v"]]), unique["frequency"].to_numpy(),
            unique["monetary_value"].to_numpy(), unique["weights"].to_numpy(), 0.0)
        return FitResult(**base, params=params, log_likelihood=float(-nll * unique["weights"].sum()),
                         converged=True, penalizer=pen, problems=tuple(problems))
    return FitResult(**base, penalizer=penalizer, problems=tuple(problems), skip="failed")


def expected_spend(gg: FitResult, summary: pd.DataFrame) -> pd.Series:
    """Expected revenue per future purchase (EUR) from Gamma-Gamma.

    Repeat buyers with positive mean spend m over x repeat purchases:
    E[M | x, m] = (1 - w) · p v/(q - 1) + w · m with w = p x/(p x + q - 1) (Fader & Hardie 2013).
    Everybody else (one-time buyers, zero/negative mean spend) gets the population mean p v/(q-1).
    """
    _require(gg)
    p, q, v = gg.params["p"], gg.params["q"], gg.params["v"]
    x = summary["frequency"].to_numpy(dtype=float)
    m = summary["monetary_value"].to_numpy(dtype=float)
    ok = (x > 0) & (m > 0)
    pop = p * v / (q - 1)
    xs = np.where(ok, x, 0.0)
    ms = np.where(ok, m, 0.0)
    w = p * xs / (p * xs + q - 1)
    return pd.Series((1 - w) * pop + w * ms, index=summary.index, name="expected_spend")


def monthly_discount_rate(yearly: float) -> float:
    """Monthly rate equivalent to a yearly rate: (1 + yearly)^(1/12) - 1."""
    return (1.0 + yearly) ** (1.0 / 12.0) - 1.0


def discounted_clv(
    cumulative_purchases,
    summary: pd.DataFrame,
    spend: pd.Series,
    horizon_months: int,
    discount_rate_yearly: float,
    gross_margin: float,
    freq_days: int = 7,
) -> pd.Series:
    """Discounted contribution-margin CLV in EUR over ``horizon_months`` months.

    CLV_i = margin · E[spend_i] · Σ_{k=1..H} (N_i(k) - N_i(k-1)) / (1 + d_m)^k, where N_i(k) is
    the expected number of purchases within k months (1 month = 365,25/12 days, converted to
    the summary's periods of ``freq_days`` days) and d_m the monthly rate equivalent to
    ``discount_rate_yearly``. Purchases of month k are discounted to the end of month k.
    ``cumulative_purchases(t, x, t_x, T)`` is vectorized over unique triples (e.g.
    ``fit.fitter().conditional_expected_number_of_purchases_up_to_time``).
    """
    unique, codes = compress(summary)
    x, tx, T = (unique[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    d = monthly_discount_rate(discount_rate_yearly)
    month = DAYS_PER_MONTH / freq_days
    factor = np.zeros(len(unique))
    prev = np.zeros(len(unique))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(1, int(horizon_months) + 1):
            cur = np.asarray(cumulative_purchases(k * month, x, tx, T), dtype=float)
            factor += np.clip(cur - prev, 0.0, None) / (1.0 + d) ** k
            prev = cur
    return pd.Series(gross_margin * spend.to_numpy(dtype=float) * factor[codes], index=summary.index, name="clv")


# ---------------------------------------------------------------- grids and deciles for the charts

def frequency_recency_grid(fit: FitResult, T: float, max_frequency: int, weeks: float | None = None,
                           n_recency: int = 20) -> pd.DataFrame:
    """Model values on a grid of frequency 0..``max_frequency`` × recency (weeks) for customers of age ``T``.

    ``weeks=None``: P(alive); otherwise expected purchases in the next ``weeks`` weeks.
    Index ``frequency``; columns recency in weeks (evenly spaced from 0 to T). For
    frequency 0 the recency is 0 by definition, so that row is constant.
    """
    _require(fit)
    rec = np.linspace(0.0, T, n_recency)
    xs = np.arange(0, max_frequency + 1)
    X, R = np.meshgrid(xs, rec, indexing="ij")
    grid = pd.DataFrame({"frequency": X.ravel(), "recency": R.ravel(), "T": T})
    # a one-time buyer has recency 0 by definition
    grid.loc[grid["frequency"] == 0, "recency"] = 0.0
    vals = p_alive(fit, grid) if weeks is None else expected_purchases(fit, grid, weeks)
    return pd.DataFrame(vals.to_numpy().reshape(X.shape), index=pd.Index(xs, name="frequency"),
                        columns=pd.Index(np.round(rec, 1), name="recency"))


@dataclass(frozen=True, kw_only=True)
class HeatmapGrids:
    """Model values for the two heatmaps, for customers as old as the oldest customer."""

    T_max: float
    """Age (weeks since first purchase) of the oldest customer, the ``T`` of both grids."""
    max_frequency: int
    """Largest frequency row: the 99 % quantile of the frequencies, at least 3, at most 30."""
    expected_purchases: pd.DataFrame
    """Expected purchases in the next ``prediction_days`` days (see :func:`frequency_recency_grid`)."""
    p_alive: pd.DataFrame
    """P(alive), 0..1."""


def heatmap_grids(fit: FitResult, summary: pd.DataFrame, prediction_days: int) -> HeatmapGrids:
    """The grids of the two heatmaps for the customers in ``summary``."""
    T_max = float(summary["T"].max())
    max_x = int(min(max(summary["frequency"].quantile(0.99), 3), 30))
    return HeatmapGrids(
        T_max=T_max, max_frequency=max_x,
        expected_purchases=frequency_recency_grid(fit, T_max, max_x, weeks=prediction_days / 7),
        p_alive=frequency_recency_grid(fit, T_max, max_x),
    )


def clv_deciles(values: pd.Series) -> pd.DataFrame:
    """Customers ranked by value, cut into 10 equal groups (1 = top 10 %).

    Columns ``decile`` (1..10), ``customers``, ``total`` (EUR), ``mean`` (EUR), ``share`` of the
    overall total, ``cum_share``. NaN values are ignored.
    """
    v = values.dropna().sort_values(ascending=False, kind="stable").to_numpy(dtype=float)
    n = len(v)
    dec = (np.arange(n) * 10 // max(n, 1)) + 1
    df = pd.DataFrame({"decile": dec, "value": v}).groupby("decile")["value"].agg(
        customers="size", total="sum", mean="mean").reset_index()
    total = v.sum()
    df["share"] = df["total"] / total if total > 0 else np.nan
    df["cum_share"] = df["share"].cumsum()
    return df


# ---------------------------------------------------------------- holdout validation

@dataclass(frozen=True, kw_only=True)
class Validation:
    """Result of the holdout test (:func:`validate`).

    ``skip``: ``None`` = test ran; else ``"short_history"``, ``"too_few_repeat_calibration"``,
    ``"no_fit_calibration"`` or ``"no_holdout_purchases"`` (the test ran but nobody bought in
    the holdout, so groups/metrics exist but the percentage error is undefined).
    """

    calibration_end: pd.Timestamp | None = None
    """Last day of the calibration period (``None`` with ``short_history``)."""
    skip: str | None = None
    groups: pd.DataFrame | None = None
    """BG/NBD per calibration-frequency group (``clv_validation.by_frequency_group``)."""
    metrics: Mapping[str, float] = field(default_factory=dict)
    """BG/NBD: ``customers``, ``predicted_total``, ``actual_total`` (purchase days), ``pct_error``
    ((predicted − actual)/actual), ``mae`` (purchases per customer); empty when not run."""
    verdict: str = "unknown"
    """``good``, ``usable``, ``weak`` or ``unknown`` (see ``clv_validation.verdict``)."""
    comparison: pd.DataFrame | None = None
    """Index model name; ``log_likelihood`` (calibration), ``pct_error``, ``mae`` (holdout)."""

    @property
    def ran(self) -> bool:
        """Groups and metrics exist (the test ran, possibly without holdout purchases)."""
        return self.groups is not None


def validate(purchases: pd.DataFrame, first_date, observation_end, settings: "ClvSettings") -> Validation:
    """Holdout test: fit BG/NBD and MBG/NBD up to ``end - holdout_weeks``, compare with actual purchases.

    ``purchases``: one row per customer-day (``Dataset.purchases``); ``settings``: ``cfg.clv``.
    """
    end = pd.Timestamp(observation_end).normalize()
    cal_end = calibration_end(first_date, end, settings.holdout_weeks)
    if cal_end is None:
        return Validation(skip="short_history")
    cal = rfm_summary(purchases, cal_end)
    if int((cal["frequency"] > 0).sum()) < settings.min_repeat_buyers:
        return Validation(calibration_end=cal_end, skip="too_few_repeat_calibration")
    actual = holdout_counts(purchases, cal_end, end)
    rows: dict[str, dict[str, float]] = {}
    main: dict[str, Any] = {}
    for fitter in (fit_bgnbd, fit_mbgnbd):
        f = fitter(cal, settings.penalizer)
        if not f.usable:
            if fitter is fit_bgnbd:
                return Validation(calibration_end=cal_end, skip="no_fit_calibration")
            continue
        hf = holdout_frame(expected_purchases(f, cal, settings.holdout_weeks), cal["frequency"], actual)
        m = holdout_metrics(hf)
        rows[f.name] = {"log_likelihood": f.log_likelihood, "pct_error": m["pct_error"], "mae": m["mae"]}
        if fitter is fit_bgnbd:
            main = {"groups": by_frequency_group(hf), "metrics": m, "verdict": verdict(m["pct_error"]),
                    "skip": "no_holdout_purchases" if m["actual_total"] == 0 else None}
    return Validation(calibration_end=cal_end, comparison=pd.DataFrame.from_dict(rows, orient="index"), **main)


# ---------------------------------------------------------------- key figures

@dataclass(frozen=True)
class ClvKeyFigures:
    """The numbers the chapter prints and the management summary quotes (``None`` = not available)."""

    model_ok: bool
    """The purchase model (BG/NBD) ran; without it all model numbers are ``None``."""
    n_customers: int
    """Customers with at least one purchase day up to the observation end."""
    n_repeat: int
    """Repeat buyers (customers with >= 2 purchase days)."""
    prediction_days: int
    """Window of ``expected_purchases_total``, in days (setting ``clv.prediction_days``)."""
    holdout_weeks: int
    """Length of the holdout period, in weeks (setting ``clv.holdout_weeks``)."""
    horizon_months: int
    """CLV horizon, in months (setting ``clv.horizon_months``)."""
    discount_rate_yearly: float
    """Yearly discount rate of the CLV (0.10 = 10 % p. a.)."""
    gross_margin: float
    """Contribution margin as share of net revenue (0..1) used for the CLV."""
    mean_p_alive: float | None = None
    """Mean P(alive) over all customers, 0..1."""
    n_likely_inactive: int | None = None
    """Customers with P(alive) < 0.5."""
    share_likely_inactive: float | None = None
    """``n_likely_inactive / n_customers``, 0..1."""
    expected_purchases_total: float | None = None
    """Expected purchase days of all current customers in the next ``prediction_days`` days."""
    bgnbd_r: float | None = None
    """BG/NBD r (shape of the purchase-rate distribution)."""
    bgnbd_alpha: float | None = None
    """BG/NBD alpha (scale of the purchase rates, weeks)."""
    bgnbd_a: float | None = None
    """BG/NBD a (dropout Beta parameter)."""
    bgnbd_b: float | None = None
    """BG/NBD b (dropout Beta parameter)."""
    purchase_rate_weekly: float | None = None
    """r/alpha: mean purchase rate of active customers, purchases per week."""
    dropout_per_purchase: float | None = None
    """a/(a+b): mean probability of becoming inactive after a purchase, 0..1."""
    verdict: str = "unknown"
    """Holdout verdict id (``good``/``usable``/``weak``/``unknown``; German: ``labels.verdict``)."""
    holdout_predicted_total: float | None = None
    """Purchase days predicted for the holdout period (calibration customers)."""
    holdout_actual_total: float | None = None
    """Purchase days that actually happened in the holdout period (calibration customers)."""
    holdout_pct_error: float | None = None
    """(predicted − actual) / actual of the holdout total (0.16 = 16 % too many)."""
    holdout_mae: float | None = None
    """Mean absolute error of the holdout purchases per customer (purchases)."""
    n_gg: int | None = None
    """Repeat buyers with positive mean spend (the Gamma-Gamma fitting set)."""
    spend_frequency_correlation: float | None = None
    """Pearson r between frequency and mean spend of those ``n_gg`` customers."""
    mean_expected_spend: float | None = None
    """Mean expected revenue per future purchase (EUR, Gamma-Gamma)."""
    clv_total: float | None = None
    """Sum of the CLV over all customers (EUR, discounted contribution margin over ``horizon_months``)."""
    clv_mean: float | None = None
    """Mean CLV per customer (EUR)."""
    clv_median: float | None = None
    """Median CLV per customer (EUR)."""
    clv_top10_share: float | None = None
    """Share of ``clv_total`` held by the most valuable 10 % of customers (0..1;
    ``concentration.top_share``)."""
    gg_p: float | None = None
    """Gamma-Gamma p."""
    gg_q: float | None = None
    """Gamma-Gamma q."""
    gg_v: float | None = None
    """Gamma-Gamma v (EUR)."""


def _num(value) -> float | None:
    """A finite float, else ``None``."""
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def key_figures(*, settings: "ClvSettings", gross_margin: float, n_customers: int, n_repeat: int,
                customers: pd.DataFrame | None = None, fit: FitResult | None = None,
                gamma_gamma: FitResult | None = None, validation: Validation | None = None,
                n_gg: int | None = None, correlation: float | None = None) -> ClvKeyFigures:
    """The chapter's :class:`ClvKeyFigures` from its parts (``customers`` ``None`` = model skipped)."""
    kf: dict[str, Any] = dict(
        model_ok=customers is not None, n_customers=int(n_customers), n_repeat=int(n_repeat),
        prediction_days=int(settings.prediction_days), holdout_weeks=int(settings.holdout_weeks),
        horizon_months=int(settings.horizon_months),
        discount_rate_yearly=float(settings.discount_rate_yearly), gross_margin=float(gross_margin),
    )
    if customers is None:
        return ClvKeyFigures(**kf)
    c = customers
    inactive = int((c["p_alive"] < 0.5).sum())
    kf.update(
        mean_p_alive=_num(c["p_alive"].mean()),
        n_likely_inactive=inactive,
        share_likely_inactive=inactive / len(c) if len(c) else None,
        expected_purchases_total=_num(c["expected_purchases"].sum()),
    )
    if fit is not None and fit.usable:
        p = fit.params
        kf.update(bgnbd_r=p["r"], bgnbd_alpha=p["alpha"], bgnbd_a=p["a"], bgnbd_b=p["b"],
                  purchase_rate_weekly=p["r"] / p["alpha"], dropout_per_purchase=p["a"] / (p["a"] + p["b"]))
    if validation is not None and validation.metrics:
        m = validation.metrics
        kf.update(verdict=validation.verdict, holdout_predicted_total=_num(m["predicted_total"]),
                  holdout_actual_total=_num(m["actual_total"]), holdout_pct_error=_num(m["pct_error"]),
                  holdout_mae=_num(m["mae"]))
    if n_gg is not None:
        kf.update(n_gg=int(n_gg), spend_frequency_correlation=_num(correlation))
    if gamma_gamma is not None and gamma_gamma.usable and c["clv"].notna().any():
        g = gamma_gamma.params
        kf.update(
            gg_p=g["p"], gg_q=g["q"], gg_v=g["v"],
            mean_expected_spend=_num(c["expected_spend"].mean()) if "expected_spend" in c else None,
            clv_total=_num(c["clv"].sum()), clv_mean=_num(c["clv"].mean()), clv_median=_num(c["clv"].median()),
            clv_top10_share=_num(top_share(c["clv"], 0.10)),
        )
    return ClvKeyFigures(**kf)


# ---------------------------------------------------------------- chapter result

@dataclass(frozen=True, kw_only=True)
class ClvResult(ChapterResult):
    """Everything the chapter shows (frozen, picklable). ``skip`` set = no model predictions.

    ``skip``: ``"no_data"`` (no purchases), ``"too_few_repeat"`` (fewer repeat buyers than
    ``min_repeat_buyers``), ``"no_fit"`` (BG/NBD did not converge or gave absurd parameters).
    ``customers`` (``None`` when skipped): index customer_id; ``frequency``, ``recency``, ``T``
    (weeks), ``monetary_value`` (EUR), ``p_alive`` (0..1), ``expected_purchases`` (next
    ``prediction_days`` days), ``expected_spend`` (EUR per purchase, when Gamma-Gamma ran),
    ``clv`` (EUR contribution margin, discounted over ``horizon_months``; NaN without
    revenue/Gamma-Gamma).
    """

    observation_end: pd.Timestamp
    first_date: pd.Timestamp
    settings: "ClvSettings"
    """``cfg.clv`` used for this result."""
    gross_margin: float
    key: ClvKeyFigures
    n_customers: int = 0
    n_repeat: int = 0
    fit: FitResult | None = None
    """Final BG/NBD on all data up to ``observation_end``."""
    gamma_gamma: FitResult | None = None
    clv_skip: str | None = None
    """Why there is no CLV in EUR although the model ran: ``"no_revenue"``, ``"gg_failed"``, ``None``."""
    correlation: float = float("nan")
    """Pearson r between frequency and mean spend (Gamma-Gamma's independence check)."""
    n_gg: int = 0
    n_nonpositive_spend: int = 0
    """Repeat buyers with zero or negative mean spend (valued with the population mean)."""
    customers: pd.DataFrame | None = None
    validation: Validation | None = None
    """Holdout test; ``None`` when not run (model skipped for lack of data, or ``holdout=False``)."""
    grids: HeatmapGrids | None = None
    deciles: pd.DataFrame | None = None
    """:func:`clv_deciles` of the CLV (when ``has_clv``)."""

    @property
    def has_clv(self) -> bool:
        return self.ok and self.clv_skip is None


def analyze(purchases: pd.DataFrame, observation_end, settings: "ClvSettings", gross_margin: float,
            has_revenue: bool = True, first_date=None, holdout: bool = True) -> ClvResult:
    """Run the chapter on a purchases frame: holdout validation (:func:`validate`, unless
    ``holdout=False``), final BG/NBD + Gamma-Gamma on all data up to ``observation_end``, CLV per
    customer, grids, deciles and key figures.

    ``settings`` is ``cfg.clv``; ``purchases`` one row per customer-day (``Dataset.purchases``,
    not changed). Never raises for data reasons: problems end up in the skip ids.
    """
    end = pd.Timestamp(observation_end).normalize()
    first = pd.Timestamp(first_date) if first_date is not None else (
        purchases["order_date"].min() if len(purchases) else end)
    common = dict(observation_end=end, first_date=first, settings=settings, gross_margin=float(gross_margin))

    def skipped(reason: str, n_customers: int = 0, n_repeat: int = 0, **kw) -> ClvResult:
        key = key_figures(settings=settings, gross_margin=gross_margin, n_customers=n_customers, n_repeat=n_repeat)
        return ClvResult(skip=reason, key=key, n_customers=n_customers, n_repeat=n_repeat, **common, **kw)

    if len(purchases) == 0:
        return skipped("no_data")
    summ = rfm_summary(purchases, end)
    if not has_revenue:
        summ["monetary_value"] = np.nan
    n_customers, n_repeat = len(summ), int((summ["frequency"] > 0).sum())
    if n_repeat < settings.min_repeat_buyers:
        return skipped("too_few_repeat", n_customers, n_repeat)
    val = validate(purchases, first, end, settings) if holdout else None
    fit = fit_bgnbd(summ, settings.penalizer)
    if not fit.usable:
        return skipped("no_fit", n_customers, n_repeat, fit=fit, validation=val)

    out = summ.copy()
    out["p_alive"] = p_alive(fit, summ)
    out["expected_purchases"] = expected_purchases(fit, summ, settings.prediction_days / 7.0)
    out["clv"] = np.nan
    gg: FitResult | None = None
    clv_skip: str | None = None
    correlation, n_gg, n_nonpositive = float("nan"), None, 0
    if not has_revenue:
        clv_skip = "no_revenue"
    else:
        correlation, n_gg = spend_frequency_correlation(summ)
        n_nonpositive = int(((summ["frequency"] > 0) & ~(summ["monetary_value"] > 0)).sum())
        gg = fit_gamma_gamma(summ, settings.penalizer)
        if not gg.usable:
            clv_skip = "gg_failed"
        else:
            spend = expected_spend(gg, summ)
            out["expected_spend"] = spend
            out["clv"] = discounted_clv(
                fit.fitter().conditional_expected_number_of_purchases_up_to_time, summ, spend,
                settings.horizon_months, settings.discount_rate_yearly, gross_margin)
    key = key_figures(settings=settings, gross_margin=gross_margin, n_customers=n_customers, n_repeat=n_repeat,
                      customers=out, fit=fit, gamma_gamma=gg, validation=val, n_gg=n_gg, correlation=correlation)
    return ClvResult(
        **common, key=key, n_customers=n_customers, n_repeat=n_repeat, fit=fit, gamma_gamma=gg,
        clv_skip=clv_skip, correlation=correlation, n_gg=int(n_gg or 0), n_nonpositive_spend=n_nonpositive,
        customers=out, validation=val, grids=heatmap_grids(fit, summ, settings.prediction_days),
        deciles=clv_deciles(out["clv"]) if clv_skip is None else None,
    )


def compute(ds: "Dataset", cfg: "ReportConfig", upstream: Mapping[str, ChapterResult] | None = None) -> ClvResult:
    """The chapter "Kaufprognose und Kundenwert" (registry entry ``clv``); pure, ``ds`` is not changed."""
    return analyze(ds.purchases, ds.observation_end, cfg.clv, cfg.gross_margin,
                   has_revenue=ds.has_revenue, first_date=ds.first_date)
