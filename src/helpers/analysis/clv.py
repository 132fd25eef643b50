"""BG/NBD, MBG/NBD and Gamma-Gamma models (``lifetimes``) and the discounted CLV.

Time unit of all summaries: weeks (``freq_days=7``), fractional. Models are fitted on the
unique (frequency, recency, T) triples with customer counts as weights; predictions are
computed per unique triple and mapped back to the customers, so the cost does not grow with
the number of customers beyond a ``groupby``.

Public API used by other chapters (stable): :func:`rfm_summary`, :func:`fit_bgnbd`,
:func:`p_alive`, :func:`expected_purchases`, :class:`FitResult`.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import betaln, gammaln

from ..exceptions import AnalysisError
from .clv_data import compress, rfm_summary

__all__ = [
    "FitResult", "rfm_summary", "fit_bgnbd", "fit_mbgnbd", "fit_gamma_gamma", "p_alive",
    "expected_purchases", "bgnbd_log_likelihood", "expected_spend", "discounted_clv",
    "monthly_discount_rate", "DAYS_PER_MONTH", "RETRY_PENALIZERS",
]

DAYS_PER_MONTH = 365.25 / 12
"""Length of one CLV month in days (30,44)."""
RETRY_PENALIZERS = (0.001, 0.01, 0.1)
"""Penalizers tried in this order when the first fit fails or gives absurd parameters."""

# Plausibility limits (time in weeks). Outside them the fit is called degenerate.
_LIMITS = {"r": (1e-4, 50.0), "alpha": (1e-4, 1e5), "a": (1e-4, 1e3), "b": (1e-4, 1e4),
           "p": (1e-3, 1e3), "q": (1e-3, 1e3), "v": (1e-6, 1e7)}


@dataclass
class FitResult:
    """A fitted model and how the fit went.

    ``params``: model parameters (BG/NBD: r, alpha [weeks], a, b; Gamma-Gamma: p, q, v).
    ``log_likelihood``: full log-likelihood of the data in the model's time unit.
    ``converged``: the optimizer succeeded and the parameters are plausible; only then
    may predictions be used. ``warnings``: German sentences for the report.
    """

    name: str
    model: Any = None
    params: dict[str, float] = field(default_factory=dict)
    log_likelihood: float = float("nan")
    converged: bool = False
    penalizer: float = 0.0
    warnings: list[str] = field(default_factory=list)
    n_customers: int = 0
    n_repeat: int = 0

    @property
    def usable(self) -> bool:
        return self.converged and self.model is not None


def _quiet_fit(model, *args, **kwargs):
    """Call ``model.fit`` without lifetimes' prints and numeric warnings."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            return model.fit(*args, **kwargs)


def _implausible(params: dict[str, float]) -> list[str]:
    bad = []
    for k, v in params.items():
        lo, hi = _LIMITS.get(k, (0, np.inf))
        if not np.isfinite(v) or v < lo or v > hi:
            bad.append(k)
    return bad


def bgnbd_log_likelihood(params: dict[str, float], summary: pd.DataFrame, weights=None) -> float:
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
    label = {"bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD"}[kind]
    res = FitResult(name=label, penalizer=penalizer, n_customers=len(summary),
                    n_repeat=int((summary["frequency"] > 0).sum()))
    if len(summary) == 0 or res.n_repeat == 0:
        res.warnings.append(f"Das {label}-Modell braucht Wiederholungskäufe; in den Daten gibt es keine.")
        return res
    unique, _ = compress(summary)
    attempts = [penalizer] + ([p for p in RETRY_PENALIZERS if p > penalizer] if retry else [])
    problems: list[str] = []
    for pen in attempts:
        model = cls(penalizer_coef=pen)
        try:
            _quiet_fit(model, unique["frequency"], unique["recency"], unique["T"], weights=unique["weights"])
        except (ConvergenceError, ValueError, FloatingPointError, np.linalg.LinAlgError):
            problems.append("keine Konvergenz")
            continue
        params = {k: float(v) for k, v in model.params_.items()}
        bad = _implausible(params)
        if bad:
            problems.append("unplausible Parameter (" + ", ".join(bad) + ")")
            continue
        res.model, res.params, res.penalizer, res.converged = model, params, pen, True
        if kind == "bgnbd":
            res.log_likelihood = bgnbd_log_likelihood(params, unique, unique["weights"])
        else:
            nll = model._negative_log_likelihood(
                np.log([params[k] for k in ("r", "alpha", "a", "b")]), unique["frequency"].to_numpy(),
                unique["recency"].to_numpy(), unique["T"].to_numpy(), unique["weights"].to_numpy(), 0.0)
            res.log_likelihood = float(-nll * unique["weights"].sum())
        if pen != penalizer:
            res.warnings.append(
                f"Die Schätzung des {label}-Modells gelang erst mit einem Strafterm (penalizer = "
                f"{pen:g}) nach {'; '.join(problems)} im ersten Versuch; die Parameter sind dadurch "
                "leicht in Richtung kleinerer Werte verzerrt."
            )
        return res
    res.warnings.append(
        f"Die Schätzung des {label}-Modells ist fehlgeschlagen ({'; '.join(dict.fromkeys(problems))}), "
        "auch mit Strafterm. Für diese Daten werden keine Modellprognosen ausgewiesen."
    )
    return res


def fit_bgnbd(summary: pd.DataFrame, penalizer: float = 0.0, retry: bool = True) -> FitResult:
    """Fit BG/NBD on ``summary`` (frequency, recency, T in weeks) via unique triples.

    On non-convergence or implausible parameters the fit is retried with the penalizers in
    :data:`RETRY_PENALIZERS` (reported in ``warnings``); ``converged`` is False when all fail.
    """
    return _fit_counting("bgnbd", summary, penalizer, retry)


def fit_mbgnbd(summary: pd.DataFrame, penalizer: float = 0.0, retry: bool = True) -> FitResult:
    """Fit the MBG/NBD comparison model (Batislam et al. 2007), same conventions as :func:`fit_bgnbd`."""
    return _fit_counting("mbgnbd", summary, penalizer, retry)


def _require(fit: FitResult) -> None:
    if not fit.usable:
        raise AnalysisError(f"Das {fit.name}-Modell ist nicht geschätzt; keine Prognose möglich.")


def _per_triple(fit: FitResult, summary: pd.DataFrame, func) -> pd.Series:
    unique, codes = compress(summary)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vals = np.asarray(func(unique["frequency"].to_numpy(), unique["recency"].to_numpy(),
                               unique["T"].to_numpy()), dtype=float)
    return pd.Series(vals[codes], index=summary.index)


def p_alive(fit: FitResult, summary: pd.DataFrame) -> pd.Series:
    """P(customer still active at the end of the summary period), 0..1, index ``customer_id``."""
    _require(fit)
    out = _per_triple(fit, summary, fit.model.conditional_probability_alive)
    return out.clip(0.0, 1.0).rename("p_alive")


def expected_purchases(fit: FitResult, summary: pd.DataFrame, weeks: float) -> pd.Series:
    """Expected number of purchase days in the next ``weeks`` weeks after the summary end."""
    _require(fit)
    f = fit.model.conditional_expected_number_of_purchases_up_to_time
    out = _per_triple(fit, summary, lambda x, tx, T: f(weeks, x, tx, T))
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
    res = FitResult(name="Gamma-Gamma", penalizer=penalizer, n_customers=len(rb), n_repeat=len(rb))
    if len(rb) < 2:
        res.warnings.append("Für das Gamma-Gamma-Modell gibt es zu wenige Wiederholungskäufer mit Umsatz.")
        return res
    unique, _ = compress(rb, ("frequency", "monetary_value"))
    problems: list[str] = []
    for pen in [penalizer] + ([p for p in RETRY_PENALIZERS if p > penalizer] if retry else []):
        model = GammaGammaFitter(penalizer_coef=pen)
        try:
            _quiet_fit(model, unique["frequency"], unique["monetary_value"], weights=unique["weights"])
        except (ConvergenceError, ValueError, FloatingPointError, np.linalg.LinAlgError):
            problems.append("keine Konvergenz")
            continue
        params = {k: float(v) for k, v in model.params_.items()}
        bad = _implausible(params)
        if params.get("q", 0) <= 1:
            bad.append("q ≤ 1")
        if bad:
            problems.append("unplausible Parameter (" + ", ".join(bad) + ")")
            continue
        res.model, res.params, res.penalizer, res.converged = model, params, pen, True
        nll = model._negative_log_likelihood(
            np.log([params["p"], params["q"], params["v"]]), unique["frequency"].to_numpy(),
            unique["monetary_value"].to_numpy(), unique["weights"].to_numpy(), 0.0)
        res.log_likelihood = float(-nll * unique["weights"].sum())
        if pen != penalizer:
            res.warnings.append(
                f"Das Gamma-Gamma-Modell wurde mit Strafterm (penalizer = {pen:g}) geschätzt, "
                "weil der erste Versuch scheiterte."
            )
        return res
    res.warnings.append(
        "Die Schätzung des Gamma-Gamma-Modells ist fehlgeschlagen ("
        + "; ".join(dict.fromkeys(problems)) + "); ein Kundenwert in Euro wird nicht berechnet."
    )
    return res


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
    ``cumulative_purchases(t, x, t_x, T)`` is vectorized over unique triples.
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


# ---------------------------------------------------------------- grids for the charts

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


def top_share(values: pd.Series, share: float = 0.10) -> float:
    """Share of the total held by the top ``share`` of customers (by value); NaN if total <= 0."""
    v = np.sort(values.dropna().to_numpy(dtype=float))[::-1]
    total = v.sum()
    if len(v) == 0 or total <= 0:
        return float("nan")
    k = max(1, int(np.ceil(share * len(v))))
    return float(v[:k].sum() / total)


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


# ---------------------------------------------------------------- chapter orchestration

@dataclass
class ClvResult:
    """Everything the chapter shows. ``skip_reason`` set = no model predictions.

    ``customers``: index customer_id; ``frequency``, ``recency``, ``T`` (weeks),
    ``monetary_value`` (EUR), ``p_alive``, ``expected_purchases`` (next ``prediction_days``
    days), ``clv`` (EUR contribution margin, discounted; NaN without revenue/Gamma-Gamma).
    """

    observation_end: pd.Timestamp
    first_date: pd.Timestamp
    settings: Any
    gross_margin: float
    n_customers: int = 0
    n_repeat: int = 0
    skip_reason: str | None = None
    """``no_data``, ``too_few_repeat``, ``no_fit`` (no convergence or absurd parameters)."""
    fit: FitResult | None = None
    gamma_gamma: FitResult | None = None
    clv_skip_reason: str | None = None
    """``no_revenue``, ``gg_failed``, ``None``."""
    correlation: float = float("nan")
    n_gg: int = 0
    n_nonpositive_spend: int = 0
    customers: pd.DataFrame | None = None
    calibration_end: pd.Timestamp | None = None
    validation_skip_reason: str | None = None
    """``short_history``, ``too_few_repeat_calibration``, ``no_fit_calibration``, ``no_holdout_purchases``."""
    groups: pd.DataFrame | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    verdict: str = "unbekannt"
    comparison: pd.DataFrame | None = None
    """Index model name; ``log_likelihood`` (calibration), ``pct_error``, ``mae`` (holdout)."""
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.skip_reason is None

    @property
    def has_clv(self) -> bool:
        return self.ok and self.clv_skip_reason is None

    def key_figures(self) -> dict[str, Any]:
        """JSON-able key figures for the management summary."""
        kf: dict[str, Any] = {"model_ok": self.ok, "skip_reason": self.skip_reason,
                              "n_customers": self.n_customers, "n_repeat": self.n_repeat}
        if self.ok and self.customers is not None:
            c = self.customers
            kf.update({
                "mean_p_alive": float(c["p_alive"].mean()),
                "expected_purchases_total": float(c["expected_purchases"].sum()),
                "prediction_days": int(self.settings.prediction_days),
                "verdict": self.verdict,
                "holdout_weeks": int(self.settings.holdout_weeks),
                "validation_skip_reason": self.validation_skip_reason,
                "holdout_pct_error": self.metrics.get("pct_error"),
                "holdout_mae": self.metrics.get("mae"),
            })
            if self.has_clv:
                kf.update({"clv_total": float(c["clv"].sum()), "clv_mean": float(c["clv"].mean()),
                           "clv_top10_share": top_share(c["clv"]),
                           "horizon_months": int(self.settings.horizon_months)})
        return kf


def validate(res: ClvResult, purchases: pd.DataFrame) -> ClvResult:
    """Holdout test: fit BG/NBD and MBG/NBD up to ``end - holdout_weeks``, compare with actual purchases.

    Fills ``calibration_end``, ``groups``, ``metrics``, ``verdict``, ``comparison`` of ``res``
    or sets ``validation_skip_reason``. Returns ``res``.
    """
    from .clv_data import holdout_counts
    from .clv_validation import (by_frequency_group, calibration_end, holdout_frame,
                                 holdout_metrics, verdict)

    s = res.settings
    if res.skip_reason in ("no_data", "too_few_repeat"):
        return res
    cal_end = calibration_end(res.first_date, res.observation_end, s.holdout_weeks)
    if cal_end is None:
        res.validation_skip_reason = "short_history"
        return res
    res.calibration_end = cal_end
    cal = rfm_summary(purchases, cal_end)
    if int((cal["frequency"] > 0).sum()) < s.min_repeat_buyers:
        res.validation_skip_reason = "too_few_repeat_calibration"
        return res
    actual = holdout_counts(purchases, cal_end, res.observation_end)
    rows = {}
    for fitter in (fit_bgnbd, fit_mbgnbd):
        f = fitter(cal, s.penalizer)
        if not f.usable:
            if fitter is fit_bgnbd:
                res.validation_skip_reason = "no_fit_calibration"
                return res
            continue
        hf = holdout_frame(expected_purchases(f, cal, s.holdout_weeks), cal["frequency"], actual)
        m = holdout_metrics(hf)
        rows[f.name] = {"log_likelihood": f.log_likelihood, "pct_error": m["pct_error"], "mae": m["mae"]}
        if fitter is fit_bgnbd:
            res.groups, res.metrics = by_frequency_group(hf), m
            res.verdict = verdict(m["pct_error"])
            if m["actual_total"] == 0:
                res.validation_skip_reason = "no_holdout_purchases"
    res.comparison = pd.DataFrame.from_dict(rows, orient="index")
    return res


def analyze(purchases: pd.DataFrame, observation_end, settings, gross_margin: float,
            has_revenue: bool = True, first_date=None, holdout: bool = True) -> ClvResult:
    """Run the chapter: holdout validation (:func:`validate`, unless ``holdout=False``), final
    BG/NBD + Gamma-Gamma on all data up to ``observation_end``, CLV per customer.

    ``settings`` is ``cfg.clv``; ``purchases`` one row per customer-day (``Dataset.purchases``).
    Never raises for data reasons: problems end up in the ``*_reason`` fields.
    """
    from .clv_validation import spend_frequency_correlation

    end = pd.Timestamp(observation_end).normalize()
    first = pd.Timestamp(first_date) if first_date is not None else (
        purchases["order_date"].min() if len(purchases) else end)
    res = ClvResult(observation_end=end, first_date=first, settings=settings, gross_margin=gross_margin)
    if len(purchases) == 0:
        res.skip_reason = "no_data"
        return res
    summ = rfm_summary(purchases, end)
    if not has_revenue:
        summ["monetary_value"] = np.nan
    res.n_customers, res.n_repeat = len(summ), int((summ["frequency"] > 0).sum())
    if res.n_repeat < settings.min_repeat_buyers:
        res.skip_reason = "too_few_repeat"
        return res
    if holdout:
        validate(res, purchases)
    fit = fit_bgnbd(summ, settings.penalizer)
    res.fit = fit
    res.warnings += fit.warnings
    if not fit.usable:
        res.skip_reason = "no_fit"
        return res
    out = summ.copy()
    out["p_alive"] = p_alive(fit, summ)
    out["expected_purchases"] = expected_purchases(fit, summ, settings.prediction_days / 7.0)
    out["clv"] = np.nan
    if not has_revenue:
        res.clv_skip_reason = "no_revenue"
    else:
        res.correlation, res.n_gg = spend_frequency_correlation(summ)
        res.n_nonpositive_spend = int(((summ["frequency"] > 0) & ~(summ["monetary_value"] > 0)).sum())
        gg = fit_gamma_gamma(summ, settings.penalizer)
        res.gamma_gamma = gg
        res.warnings += gg.warnings
        if not gg.usable:
            res.clv_skip_reason = "gg_failed"
        else:
            spend = expected_spend(gg, summ)
            out["expected_spend"] = spend
            out["clv"] = discounted_clv(
                fit.model.conditional_expected_number_of_purchases_up_to_time, summ, spend,
                settings.horizon_months, settings.discount_rate_yearly, gross_margin)
    res.customers = out
    return res
