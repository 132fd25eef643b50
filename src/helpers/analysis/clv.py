"""Purchase models (BG/NBD, MBG/NBD, Pareto/NBD; ``lifetimes``), Gamma-Gamma and the discounted CLV.

Time unit of all summaries: weeks (``freq_days=7``), fractional. Models are fitted on the
unique (frequency, recency, T) triples with customer counts as weights; predictions are
computed per unique triple and mapped back to the customers, so the cost does not grow with
the number of customers beyond a ``groupby``.

**Model choice.** All three purchase models are fitted on the calibration period and predict the
holdout period (:func:`validate`); the chapter uses the model with the smallest holdout error
(:func:`helpers.analysis.clv_validation.rank_models`: smallest mean absolute error per customer,
within 2 % the smaller bias of the total) and refits it on all data. Without a holdout test (short
history) the model with the highest log-likelihood on all data is used (all have 4 parameters).

**Data gate.** All three purchase models need ``clv.min_repeat_buyers`` repeat buyers,
``clv.min_customers`` customers and ``clv.min_history_days`` days of history (:func:`data_gate`);
Gamma-Gamma needs ``clv.min_repeat_buyers`` repeat buyers with positive mean spend; the holdout test
needs a holdout of at least ``clv.min_holdout_weeks`` weeks and a calibration period as long.
A failed minimum is a skip id with the numbers, never a fit on too little data.

**Horizon.** The CLV horizon is the configured one, shortened to the months of history the data
cover (:func:`helpers.analysis.clv_validation.supported_horizon_months`): a forecast never reaches
further into the future than the data reach into the past.

**Value if retained.** ``clv_if_active`` = the CLV if the customer is still active today =
``clv / p_alive``. It is computed without dividing by a tiny P(aktiv): in all three models the
purchases expected of an active customer depend on (x, T) only, so it is the CLV of the same
customer with recency = T divided by that customer's P(aktiv), which does not depend on how long ago
the last purchase was: 1/(1 + a/(b+x-1)) for BG/NBD repeat buyers, 1/(1 + a/(b+x)) for MBG/NBD, 1 for
Pareto/NBD and for BG/NBD one-time buyers.

**Ranges (80 %).** Parametric bootstrap: ``range_draws`` draws of the log-parameters from the
normal approximation of the maximum-likelihood estimate (covariance = inverse Hessian of the
negative log-likelihood; ``lifetimes``' autograd Hessian for BG/NBD, MBG/NBD and Gamma-Gamma, a
numerical one for Pareto/NBD), independently for the purchase and the spend model; the totals are
recomputed per draw (vectorized; above :data:`RANGE_SAMPLE` unique triples on a seeded sample drawn
proportional to each triple's contribution, ratio estimator anchored at the exact point total), the
10 % and 90 % quantiles form the range, which is then widened to include the holdout-bias-corrected
point ``point / (1 + holdout bias)`` (:func:`widen`). The range covers the uncertainty of the model
estimate and the known bias, not the chance variation of individual purchases.

The chapter's entry point is :func:`compute` (``Dataset`` in, frozen :class:`ClvResult` out);
:func:`analyze` does the same on a purchases frame. A :class:`FitResult` keeps the fitted
parameters, never the ``lifetimes`` fitter (it holds local lambdas and cannot be pickled);
:meth:`FitResult.fitter` rebuilds one from the parameters when a library call needs it.

Public API used by other chapters (stable): :func:`rfm_summary`, :func:`fit_bgnbd`,
:func:`fit_mbgnbd`, :func:`fit_pareto`, :func:`fit_model`, :func:`p_alive`,
:func:`expected_purchases`, :class:`FitResult`, :class:`ClvResult` (``customers`` columns
``p_alive``, ``expected_purchases``, ``clv``, ``clv_if_active``; ``ok``; ``key``).
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

import numpy as np
import pandas as pd
from scipy.special import betaln, expit, gammaln, hyp2f1, logsumexp

from ..exceptions import AnalysisError
from ..results import ChapterResult
from .clv_data import compress, holdout_counts, rfm_summary
from .clv_validation import (DAYS_PER_MONTH, by_frequency_group, calibration_end, effective_holdout_weeks,
                             history_days, holdout_frame, holdout_metrics, rank_models,
                             spend_frequency_correlation, supported_horizon_months, verdict)
from .concentration import top_share

if TYPE_CHECKING:  # pragma: no cover
    from ..config import ClvSettings, ReportConfig
    from ..dataset import Dataset

__all__ = [
    "FitResult", "FitProblem", "rfm_summary", "fit_bgnbd", "fit_mbgnbd", "fit_pareto", "fit_model",
    "fit_gamma_gamma", "p_alive", "expected_purchases", "alive_summary", "bgnbd_log_likelihood",
    "log_likelihood", "numerical_hessian", "expected_spend", "discounted_clv", "clv_if_active",
    "monthly_discount_rate", "DAYS_PER_MONTH", "RETRY_PENALIZERS", "MODEL_KINDS", "MODEL_NAMES",
    "PARAM_NAMES", "RANGE_LEVEL", "RANGE_SAMPLE", "frequency_recency_grid", "clv_deciles", "Validation",
    "validate", "DataGate", "data_gate", "Ranges", "bootstrap_ranges", "widen", "HeatmapGrids",
    "heatmap_grids", "ClvKeyFigures", "key_figures", "ClvResult", "analyze", "compute",
]

RETRY_PENALIZERS = (0.001, 0.01, 0.1)
"""Penalizers tried in this order when the first fit fails or gives absurd parameters."""
MODEL_KINDS = ("bgnbd", "mbgnbd", "pareto")
"""Ids of the purchase models compared on the holdout (``key.model`` is one of them)."""
MODEL_NAMES: Mapping[str, str] = {"bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD", "pareto": "Pareto/NBD",
                                  "gamma_gamma": "Gamma-Gamma"}
"""Model kind id -> the model's published name."""
PARAM_NAMES: Mapping[str, tuple[str, ...]] = {
    "bgnbd": ("r", "alpha", "a", "b"), "mbgnbd": ("r", "alpha", "a", "b"),
    "pareto": ("r", "alpha", "s", "beta"), "gamma_gamma": ("p", "q", "v")}
"""Parameter names per model, in the order of ``FitResult.cov_log`` (time parameters in weeks)."""
RANGE_LEVEL = 0.80
"""Coverage of the ranges of the totals (10 % and 90 % quantiles of the bootstrap draws)."""
RANGE_SAMPLE = 300
"""At most this many unique (frequency, recency, T) triples are evaluated per bootstrap draw."""
MIN_VALID_DRAWS = 0.9
"""Share of bootstrap draws that must give finite totals; otherwise no range is given."""

# Plausibility limits (time in weeks). Outside them the fit is called degenerate.
_LIMITS = {"r": (1e-4, 50.0), "alpha": (1e-4, 1e5), "a": (1e-4, 1e3), "b": (1e-4, 1e4),
           "s": (1e-4, 1e3), "beta": (1e-4, 1e7), "p": (1e-3, 1e3), "q": (1e-3, 1e3), "v": (1e-6, 1e7)}
_WALL = 1e6
"""Objective value returned for parameters where the Pareto/NBD likelihood is not finite."""


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

    ``params``: model parameters (BG/NBD, MBG/NBD: r, alpha [weeks], a, b; Pareto/NBD: r,
    alpha [weeks], s, beta [weeks]; Gamma-Gamma: p, q, v [EUR]).
    ``log_likelihood``: full log-likelihood of the data in the model's time unit.
    ``converged``: the optimizer succeeded and the parameters are plausible; only then may
    predictions be used. ``problems``: the failed attempts before (or instead of) success.
    ``skip``: why there are no parameters (``"no_repeat"``: no repeat buyers; ``"too_few_repeat"``:
    fewer repeat buyers with positive spend than required (Gamma-Gamma); ``"failed"``: all attempts
    failed); ``None`` when converged. :func:`helpers.narrative.clv.fit_warnings` words it in German.
    """

    kind: str
    """``"bgnbd"``, ``"mbgnbd"``, ``"pareto"`` or ``"gamma_gamma"``."""
    params: Mapping[str, float] = field(default_factory=dict)
    log_likelihood: float = float("nan")
    converged: bool = False
    penalizer: float = 0.0
    """Penalizer of the successful attempt (or the requested one when none succeeded)."""
    problems: tuple[FitProblem, ...] = ()
    skip: str | None = None
    n_customers: int = 0
    n_repeat: int = 0
    cov_log: tuple[tuple[float, ...], ...] | None = None
    """Covariance matrix of the log-parameters (order :data:`PARAM_NAMES`): inverse Hessian of the
    negative log-likelihood at the estimate; ``None`` when the Hessian is not positive definite."""

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
        from lifetimes import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter, ParetoNBDFitter

        _require(self)
        cls = {"bgnbd": BetaGeoFitter, "mbgnbd": ModifiedBetaGeoFitter, "pareto": ParetoNBDFitter,
               "gamma_gamma": GammaGammaFitter}[self.kind]
        model = cls(penalizer_coef=self.penalizer)
        model.params_ = pd.Series({k: float(self.params[k]) for k in PARAM_NAMES[self.kind]}, dtype=float)
        return model


def _quiet(func: Callable, *args, **kwargs):
    """Call ``func`` without lifetimes' prints and numeric warnings."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            return func(*args, **kwargs)


def _quiet_fit(model, *args, **kwargs):
    """Call ``model.fit`` without lifetimes' prints and numeric warnings."""
    return _quiet(model.fit, *args, **kwargs)


def _implausible(params: Mapping[str, float]) -> list[str]:
    bad = []
    for k, v in params.items():
        lo, hi = _LIMITS.get(k, (0, np.inf))
        if not np.isfinite(v) or v < lo or v > hi:
            bad.append(k)
    return bad


def _penalizers(penalizer: float, retry: bool) -> list[float]:
    return [penalizer] + ([p for p in RETRY_PENALIZERS if p > penalizer] if retry else [])


def _cov_from_hessian(hessian, n: float) -> tuple[tuple[float, ...], ...] | None:
    """Covariance of the log-parameters from the Hessian of the *mean* negative log-likelihood over
    ``n`` customers (``inv(H) / n``); ``None`` unless finite and positive definite."""
    if hessian is None:
        return None
    h = np.asarray(hessian, dtype=float)
    if h.ndim != 2 or not np.isfinite(h).all() or n <= 0:
        return None
    h = (h + h.T) / 2
    try:
        np.linalg.cholesky(h)
    except np.linalg.LinAlgError:
        return None
    cov = np.linalg.inv(h) / float(n)
    return tuple(tuple(float(v) for v in row) for row in cov)


def numerical_hessian(func: Callable[[np.ndarray], float], x0, step: float = 1e-3) -> np.ndarray:
    """Hessian of ``func`` at ``x0`` by central differences (33 evaluations for 4 parameters)."""
    x0 = np.asarray(x0, dtype=float)
    n = len(x0)
    f0 = func(x0)
    e = np.eye(n) * step
    h = np.empty((n, n))
    for i in range(n):
        h[i, i] = (func(x0 + e[i]) - 2 * f0 + func(x0 - e[i])) / step ** 2
        for j in range(i + 1, n):
            h[i, j] = h[j, i] = (func(x0 + e[i] + e[j]) - func(x0 + e[i] - e[j]) - func(x0 - e[i] + e[j])
                                 + func(x0 - e[i] - e[j])) / (4 * step ** 2)
    return h


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


class _ParetoTerms:
    """Pareto/NBD log-likelihood terms of (x, t_x, T) rows with the expensive Gauss hypergeometric
    functions evaluated once per unique (x, t_x) and (x, T) pair (far fewer than triples: 10.711 and
    11.431 pairs for 101.779 triples at 1 Mio. lines) and the log-gamma once per unique x. The
    arithmetic is ``lifetimes``' (``ParetoNBDFitter._log_A_0`` and ``_conditional_log_likelihood``,
    eq. 18-20 of Fader & Hardie's 2005 note) element by element, so the values are the same."""

    def __init__(self, x, tx, T) -> None:
        self.x, self.tx, self.T = (np.asarray(v, dtype=float) for v in (x, tx, T))
        self.ux, self.ix = np.unique(self.x, return_inverse=True)
        pairs_r = np.unique(np.stack([self.x, self.tx]), axis=1, return_inverse=True)
        pairs_T = np.unique(np.stack([self.x, self.T]), axis=1, return_inverse=True)
        (self.xr, self.r_u), self.ir = pairs_r[0], pairs_r[1].ravel()
        (self.xT, self.T_u), self.iT = pairs_T[0], pairs_T[1].ravel()

    def log_a0(self, params) -> np.ndarray:
        """``ParetoNBDFitter._log_A_0(params, x, tx, T)``."""
        r, alpha, s, beta = params
        lo, hi = (alpha, beta) if alpha < beta else (beta, alpha)
        diff = hi - lo
        x = self.x
        rsf = r + s + x

        def f21(xu, age_u, inv):
            rsf_u = r + s + xu
            t_u = r + xu if alpha < beta else s + 1
            return hyp2f1(rsf_u, t_u, rsf_u + 1.0, diff / (hi + age_u))[inv]

        p_1, p_2 = f21(self.xr, self.r_u, self.ir), f21(self.xT, self.T_u, self.iT)
        q_1, q_2 = hi + self.tx, hi + self.T
        sign = np.ones(len(x))
        return logsumexp([np.log(p_1) + rsf * np.log(q_2), np.log(p_2) + rsf * np.log(q_1)], axis=0,
                         b=[sign, -sign]) - rsf * np.log(q_1 * q_2)

    def log_likelihood(self, params) -> np.ndarray:
        """``ParetoNBDFitter._conditional_log_likelihood(params, x, tx, T)`` per row."""
        r, alpha, s, beta = params
        x, T = self.x, self.T
        a_1 = (gammaln(r + self.ux) - gammaln(r))[self.ix] + r * np.log(alpha) + s * np.log(beta)
        a_2 = np.logaddexp(-(r + x) * np.log(alpha + T) - s * np.log(beta + T),
                           np.log(s) + self.log_a0(params) - np.log(r + s + x))
        return a_1 + a_2


def _pareto_mean_nll(log_params, x, tx, T, w, penalizer: float = 0.0, terms: _ParetoTerms | None = None) -> float:
    """Mean negative Pareto/NBD log-likelihood per customer (``lifetimes``' formula, eq. 18 of
    Fader & Hardie's 2005 note) at ``exp(log_params)`` = (r, alpha, s, beta) in the data's time unit.
    ``terms``: the precomputed :class:`_ParetoTerms` of (x, tx, T) (built here when missing)."""
    p = np.exp(np.asarray(log_params, dtype=float))
    if terms is None:
        terms = _ParetoTerms(x, tx, T)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ll = terms.log_likelihood(p)
    value = -float(np.sum(w * ll)) / float(np.sum(w)) + penalizer * float(np.sum(p ** 2))
    return value if np.isfinite(value) else _WALL


def log_likelihood(kind: str, params: Mapping[str, float], summary: pd.DataFrame, weights=None) -> float:
    """Full log-likelihood of a purchase model (time unit of the summary); ``weights`` = customers per row."""
    x = summary["frequency"].to_numpy(dtype=float)
    tx = summary["recency"].to_numpy(dtype=float)
    T = summary["T"].to_numpy(dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    logp = np.log([params[k] for k in PARAM_NAMES[kind]])
    if kind == "bgnbd":
        return bgnbd_log_likelihood(params, summary, w)
    if kind == "mbgnbd":
        from lifetimes import ModifiedBetaGeoFitter

        return float(-_quiet(ModifiedBetaGeoFitter._negative_log_likelihood, logp, x, tx, T, w, 0.0) * w.sum())
    return float(-_pareto_mean_nll(logp, x, tx, T, w) * w.sum())


def _base(kind: str, summary: pd.DataFrame) -> dict[str, Any]:
    return dict(kind=kind, n_customers=len(summary), n_repeat=int((summary["frequency"] > 0).sum()))


def _lifetimes_counting_fit(cls, unique: pd.DataFrame, penalizer: float, with_hessian: bool):
    """``cls(penalizer_coef=penalizer).fit(frequency, recency, T, weights=...)`` of ``lifetimes``
    (``BetaGeoFitter`` / ``ModifiedBetaGeoFitter``) step by step – the same input checks, time
    scaling, start (0.1), objective, autograd gradient, optimizer and tolerance, hence the same
    parameters – but the autograd Hessian (about a third of the fit's time) only ``with_hessian``.
    Returns ``(params, hessian or None)``; raises like ``fit``."""
    from autograd import hessian, value_and_grad
    from lifetimes.utils import ConvergenceError, _check_inputs
    from scipy.optimize import minimize

    frequency = np.asarray(unique["frequency"]).astype(int)
    recency, T = np.asarray(unique["recency"]), np.asarray(unique["T"])
    weights = np.asarray(unique["weights"])
    _check_inputs(frequency, recency, T)
    scale = 1.0 / T.max()
    args = (frequency, recency * scale, T * scale, weights, penalizer)
    nll = cls._negative_log_likelihood
    out = minimize(value_and_grad(nll), jac=True, method=None, tol=1e-7, x0=0.1 * np.ones(4), args=args,
                   options={"disp": False})
    if not out.success:
        raise ConvergenceError("no convergence")
    hess = hessian(nll)(out.x, *args) if with_hessian else None
    params = dict(zip(("r", "alpha", "a", "b"), (float(v) for v in np.exp(out.x))))
    params["alpha"] /= scale
    return params, hess


def _fit_counting(kind: str, summary: pd.DataFrame, penalizer: float, retry: bool,
                  with_cov: bool = True) -> FitResult:
    from lifetimes import BetaGeoFitter, ModifiedBetaGeoFitter
    from lifetimes.utils import ConvergenceError

    cls = {"bgnbd": BetaGeoFitter, "mbgnbd": ModifiedBetaGeoFitter}[kind]
    base = _base(kind, summary)
    if len(summary) == 0 or base["n_repeat"] == 0:
        return FitResult(**base, penalizer=penalizer, skip="no_repeat")
    unique, _ = compress(summary)
    problems: list[FitProblem] = []
    for pen in _penalizers(penalizer, retry):
        try:
            if with_cov:
                model = cls(penalizer_coef=pen)
                _quiet_fit(model, unique["frequency"], unique["recency"], unique["T"], weights=unique["weights"])
                params, hess = {k: float(v) for k, v in model.params_.items()}, getattr(model, "_hessian_", None)
            else:
                params, hess = _quiet(_lifetimes_counting_fit, cls, unique, pen, False)
        except (ConvergenceError, ValueError, FloatingPointError, np.linalg.LinAlgError):
            problems.append(FitProblem(pen, "no_convergence"))
            continue
        bad = _implausible(params)
        if bad:
            problems.append(FitProblem(pen, "implausible", tuple(bad)))
            continue
        return FitResult(**base, params=params, log_likelihood=log_likelihood(kind, params, unique, unique["weights"]),
                         converged=True, penalizer=pen, problems=tuple(problems),
                         cov_log=_cov_from_hessian(hess, unique["weights"].sum()))
    return FitResult(**base, penalizer=penalizer, problems=tuple(problems), skip="failed")


def fit_bgnbd(summary: pd.DataFrame, penalizer: float = 0.0, retry: bool = True, with_cov: bool = True) -> FitResult:
    """Fit BG/NBD (Fader, Hardie & Lee 2005) on ``summary`` (frequency, recency, T in weeks) via unique triples.

    On non-convergence or implausible parameters the fit is retried with the penalizers in
    :data:`RETRY_PENALIZERS` (recorded in ``problems``); ``converged`` is False when all fail.
    One-time buyers get P(aktiv) = 1 in this model (dropout only after a repeat purchase).
    """
    return _fit_counting("bgnbd", summary, penalizer, retry, with_cov)


def fit_mbgnbd(summary: pd.DataFrame, penalizer: float = 0.0, retry: bool = True, with_cov: bool = True) -> FitResult:
    """Fit MBG/NBD (Batislam et al. 2007; dropout possible right after the first purchase, too),
    same conventions as :func:`fit_bgnbd`."""
    return _fit_counting("mbgnbd", summary, penalizer, retry, with_cov)


def fit_pareto(summary: pd.DataFrame, penalizer: float = 0.0, retry: bool = True,
               start: Mapping[str, float] | None = None, with_cov: bool = True) -> FitResult:
    """Fit Pareto/NBD (Schmittlein, Morrison & Colombo 1987) on ``summary`` via unique triples.

    The likelihood is ``lifetimes``' (``ParetoNBDFitter._conditional_log_likelihood``, weighted by
    the customers per triple, time scaled to the oldest customer as ``lifetimes`` does); the
    optimizer is L-BFGS-B on the log-parameters from a fixed start, because ``ParetoNBDFitter.fit``
    (Nelder-Mead from a random start of the global NumPy generator, no convergence check, no
    variance matrix) is neither reproducible nor fast (2,6 s instead of about 0,3 s on the sample).
    ``start``: parameters (weeks) to start from, e.g. the calibration fit. Same retry rules and
    result as :func:`fit_bgnbd`; ``cov_log`` from a numerical Hessian (skipped with ``with_cov=False``,
    e.g. for the calibration fits, which need no ranges).
    """
    from scipy.optimize import minimize

    base = _base("pareto", summary)
    if len(summary) == 0 or base["n_repeat"] == 0:
        return FitResult(**base, penalizer=penalizer, skip="no_repeat")
    unique, _ = compress(summary)
    x, tx, T, w = (unique[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T", "weights"))
    scale = 1.0 / T.max()
    starts = [np.zeros(4)]
    if start is not None:
        warm = np.log([start["r"], start["alpha"] * scale, start["s"], start["beta"] * scale])
        if np.isfinite(warm).all():
            starts.insert(0, warm)
    problems: list[FitProblem] = []
    terms = _ParetoTerms(x, tx * scale, T * scale)
    for pen in _penalizers(penalizer, retry):
        args = (x, tx * scale, T * scale, w, pen, terms)
        res = None
        for x0 in starts:
            res = _quiet(minimize, _pareto_mean_nll, x0, args=args, method="L-BFGS-B")
            if res.success and np.isfinite(res.x).all() and res.fun < _WALL:
                break
        if res is None or not (res.success and np.isfinite(res.x).all() and res.fun < _WALL):
            problems.append(FitProblem(pen, "no_convergence"))
            continue
        r, alpha, s, beta = np.exp(res.x)
        params = {"r": float(r), "alpha": float(alpha / scale), "s": float(s), "beta": float(beta / scale)}
        bad = _implausible(params)
        if bad:
            problems.append(FitProblem(pen, "implausible", tuple(bad)))
            continue
        hess = numerical_hessian(lambda lp: _pareto_mean_nll(lp, *args), res.x) if with_cov else None
        return FitResult(**base, params=params, log_likelihood=log_likelihood("pareto", params, unique, w),
                         converged=True, penalizer=pen, problems=tuple(problems), cov_log=_cov_from_hessian(hess, w.sum()))
    return FitResult(**base, penalizer=penalizer, problems=tuple(problems), skip="failed")


def fit_model(kind: str, summary: pd.DataFrame, penalizer: float = 0.0, retry: bool = True,
              start: Mapping[str, float] | None = None, with_cov: bool = True) -> FitResult:
    """Fit the purchase model ``kind`` (one of :data:`MODEL_KINDS`); ``start`` is used by Pareto/NBD
    only; ``with_cov=False`` skips the Hessian (``cov_log`` is then ``None``; no ranges need it)."""
    if kind == "pareto":
        return fit_pareto(summary, penalizer, retry, start, with_cov)
    if kind in ("bgnbd", "mbgnbd"):
        return _fit_counting(kind, summary, penalizer, retry, with_cov)
    raise ValueError(f"unknown purchase model {kind!r}")


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
    """P(customer still active at the end of the summary period), 0..1, index ``customer_id``.

    A customer whose last purchase is at the end of the period (recency = T) is alive with
    certainty in Pareto/NBD; where the library's formula gives no finite value there, 1 is used.
    """
    _require(fit)
    out = _per_triple(summary, fit.fitter().conditional_probability_alive)
    if fit.kind == "pareto":
        out = out.where(np.isfinite(out) | (summary["recency"] < summary["T"]), 1.0)
    return out.clip(0.0, 1.0).rename("p_alive")


def expected_purchases(fit: FitResult, summary: pd.DataFrame, weeks: float) -> pd.Series:
    """Expected number of purchase days in the next ``weeks`` weeks after the summary end."""
    _require(fit)
    f = fit.fitter().conditional_expected_number_of_purchases_up_to_time
    out = _per_triple(summary, lambda x, tx, T: f(weeks, x, tx, T))
    return out.clip(lower=0.0).rename("expected_purchases")


def alive_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """``summary`` (frequency, recency, T) with recency = T: the same customers as if they had just bought.

    In BG/NBD, MBG/NBD and Pareto/NBD the purchases expected of a customer who is active at T depend
    on (x, T) only, so predictions for this frame divided by its P(aktiv) are the "if active" values.
    """
    out = summary.loc[:, ["frequency", "recency", "T"]].copy()
    out["recency"] = out["T"]
    return out


def fit_gamma_gamma(summary: pd.DataFrame, penalizer: float = 0.0, retry: bool = True,
                    min_repeat: int = 2) -> FitResult:
    """Fit Gamma-Gamma (Fader & Hardie 2013) on repeat buyers with ``monetary_value > 0``.

    Customers with zero or negative mean spend cannot enter the Gamma likelihood and are
    excluded from the fit (their expected spend is the population mean, see :func:`expected_spend`).
    Fewer than ``min_repeat`` (at least 2) such customers: ``skip="too_few_repeat"``.
    Parameters p, q, v (v in EUR).
    """
    from lifetimes import GammaGammaFitter
    from lifetimes.utils import ConvergenceError

    rb = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    base = dict(kind="gamma_gamma", n_customers=len(rb), n_repeat=len(rb))
    if len(rb) < max(2, int(min_repeat)):
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
                         converged=True, penalizer=pen, problems=tuple(problems),
                         cov_log=_cov_from_hessian(getattr(model, "_hessian_", None), unique["weights"].sum()))
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


def clv_if_active(fit: FitResult, summary: pd.DataFrame, spend: pd.Series, horizon_months: int,
                  discount_rate_yearly: float, gross_margin: float) -> pd.Series:
    """Value if retained (EUR): the discounted contribution margin over ``horizon_months`` if the
    customer is still active today, = ``clv / p_alive`` (see the module docstring).

    Computed as the CLV of :func:`alive_summary` divided by its P(aktiv), which is never tiny, so
    customers with P(aktiv) near 0 get a finite value (that of an active customer with their x and T).
    """
    alive = alive_summary(summary)
    value = discounted_clv(fit.fitter().conditional_expected_number_of_purchases_up_to_time, alive, spend,
                           horizon_months, discount_rate_yearly, gross_margin)
    p = p_alive(fit, alive).clip(lower=1e-12)
    return (value / p).rename("clv_if_active")


# ---------------------------------------------------------------- ranges (parametric bootstrap)

def _n_alive(kind: str, P: tuple, t, x, T):
    """Expected purchases in (T, T+t] of a customer active at T with x repeat purchases (vectorized:
    ``P`` = parameter arrays, e.g. of shape (draws, 1, 1); equals ``lifetimes``' conditional
    expectation divided by P(aktiv), see the tests)."""
    with np.errstate(all="ignore"):
        if kind == "pareto":
            r, alpha, s, beta = P
            log_y = np.log((beta + T) / (beta + T + t))
            sm1 = s - 1.0
            tail = np.where(np.abs(sm1) < 1e-9, -log_y, -np.expm1(sm1 * log_y) / np.where(sm1 == 0, 1.0, sm1))
            return (r + x) * (beta + T) / (alpha + T) * tail
        r, alpha, a, b = P
        if kind == "bgnbd":
            c, bb = a + b + x - 1.0, b + x
        else:  # mbgnbd
            c, bb = a + b + x, b + x + 1.0
        z = t / (alpha + T + t)
        h = hyp2f1(r + x, bb, c, z)
        bad = ~np.isfinite(h)
        if bad.any():  # the equivalent Euler transform, as lifetimes does for BG/NBD
            h = np.where(bad, hyp2f1(c - r - x, c - bb, c, z) * (1.0 - z) ** (c - r - x - bb), h)
        return c / (a - 1.0) * (1.0 - h * ((alpha + T) / (alpha + T + t)) ** (r + x))


def _p_alive_draws(kind: str, P: tuple, x, tx, T) -> np.ndarray:
    """P(aktiv) for every draw (rows) and triple (columns); ``P`` arrays of shape (draws, 1)."""
    with np.errstate(all="ignore"):
        if kind == "bgnbd":
            r, alpha, a, b = P
            log_div = (r + x) * np.log((alpha + T) / (alpha + tx)) + np.log(a / (b + np.maximum(x, 1) - 1))
            return np.where(x == 0, 1.0, expit(-log_div))
        if kind == "mbgnbd":
            r, alpha, a, b = P
            return expit(-((r + x) * np.log((alpha + T) / (alpha + tx)) + np.log(a / (b + x))))
        from lifetimes import ParetoNBDFitter

        out = np.empty((len(P[0]), len(x)))
        for i, (r, alpha, s, beta) in enumerate(zip(*(np.ravel(p) for p in P))):
            a0 = _quiet(ParetoNBDFitter._log_A_0, [r, alpha, s, beta], x, tx, T)
            out[i] = 1.0 / (1.0 + np.exp(np.log(s) - np.log(r + s + x) + (r + x) * np.log(alpha + T)
                                         + s * np.log(beta + T) + a0))
        return np.where(np.isfinite(out) | (tx < T), out, 1.0)


@dataclass(frozen=True, kw_only=True)
class Ranges:
    """Result of :func:`bootstrap_ranges`: 10 %/90 % quantiles of the totals over the parameter draws
    (before the widening by the holdout bias, :func:`widen`). ``None`` = not computable."""

    draws: int = 0
    """Draws with finite totals (of ``range_draws``)."""
    triples: int = 0
    """Unique (frequency, recency, T) triples evaluated per draw (all, or the sample)."""
    skip: str | None = None
    """``None``; ``"off"`` (``range_draws`` = 0), ``"no_variance"`` (the Hessian of the purchase
    model is not positive definite) or ``"failed_draws"`` (too many draws without finite totals)."""
    expected_purchases: tuple[float, float] | None = None
    """Expected purchases in the prediction window (purchase days)."""
    clv: tuple[float, float] | None = None
    """CLV total (EUR)."""
    clv_if_active: tuple[float, float] | None = None
    """Total value if retained (EUR)."""


def _draw_params(fit: FitResult, n: int, rng: np.random.Generator) -> tuple[np.ndarray, ...] | None:
    if fit.cov_log is None:
        return None
    names = PARAM_NAMES[fit.kind]
    mean = np.log([fit.params[k] for k in names])
    draws = np.exp(rng.multivariate_normal(mean, np.asarray(fit.cov_log), size=n, method="cholesky"))
    return tuple(draws[:, i] for i in range(len(names)))


def bootstrap_ranges(fit: FitResult, gamma_gamma: FitResult | None, summary: pd.DataFrame, *,
                     points: Mapping[str, float | None], prediction_weeks: float, horizon_months: int,
                     discount_rate_yearly: float, gross_margin: float, draws: int, seed: int,
                     freq_days: int = 7) -> Ranges:
    """80 % ranges of the totals by parametric bootstrap (method in the module docstring).

    ``points``: the exact point totals ``expected_purchases``, ``clv``, ``clv_if_active`` (``None``
    = not computed; then no range either). Deterministic for a given ``seed``.
    """
    if draws <= 0:
        return Ranges(skip="off")
    rng = np.random.default_rng(seed)
    theta = _draw_params(fit, draws, rng)
    if theta is None:
        return Ranges(skip="no_variance")
    has_value = (gamma_gamma is not None and gamma_gamma.usable and points.get("clv") is not None
                 and "monetary_value" in summary)
    spend_draws = _draw_params(gamma_gamma, draws, rng) if has_value else None

    unique, codes = compress(summary)
    # triples in a fixed order, so the seeded sample does not depend on the order of the customers
    order = np.lexsort((unique["T"].to_numpy(), unique["recency"].to_numpy(), unique["frequency"].to_numpy()))
    unique = unique.iloc[order].reset_index(drop=True)
    codes = np.argsort(order)[codes]
    x, tx, T = (unique[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    n = unique["weights"].to_numpy(dtype=float)
    if has_value:  # per triple: customers valued with their own mean spend (k, sum M) and the others
        xc = summary["frequency"].to_numpy(dtype=float)
        mc = summary["monetary_value"].to_numpy(dtype=float)
        ok = (xc > 0) & (mc > 0)
        k = np.bincount(codes, weights=ok.astype(float), minlength=len(unique))
        msum = np.bincount(codes, weights=np.where(ok, mc, 0.0), minlength=len(unique))

    month = DAYS_PER_MONTH / freq_days
    times = np.r_[prediction_weeks, month * np.arange(1, int(horizon_months) + 1)]
    disc = (1.0 + monthly_discount_rate(discount_rate_yearly)) ** -np.arange(1, int(horizon_months) + 1)

    def totals(P: tuple, G: tuple | None, idx: np.ndarray) -> dict[str, np.ndarray]:
        """Per draw (rows) and triple of ``idx`` (columns): the three per-triple contributions."""
        P3 = tuple(np.asarray(p, dtype=float).reshape(-1, 1, 1) for p in P)
        na = _n_alive(fit.kind, P3, times.reshape(1, -1, 1), x[idx], T[idx])  # (draws, times, triples)
        p = _p_alive_draws(fit.kind, tuple(q.reshape(-1, 1) for q in P3), x[idx], tx[idx], T[idx])
        steps = np.clip(np.diff(na[:, 1:, :], axis=1, prepend=0.0), 0.0, None)
        factor = np.einsum("sht,h->st", steps, disc)
        out = {"expected_purchases": n[idx] * p * na[:, 0, :]}
        if G is not None:
            gp, gq, gv = (np.asarray(g, dtype=float).reshape(-1, 1) for g in G)
            pop = gp * gv / (gq - 1.0)
            w = gp * x[idx] / (gp * x[idx] + gq - 1.0)
            spend = pop * (n[idx] - w * k[idx]) + w * msum[idx]
            spend = np.where(gq > 1.0, spend, np.nan)
            out["clv_if_active"] = gross_margin * spend * factor
            out["clv"] = out["clv_if_active"] * p
        return out

    point_params = tuple(np.array([fit.params[k]]) for k in PARAM_NAMES[fit.kind])
    point_gg = tuple(np.array([gamma_gamma.params[k]]) for k in PARAM_NAMES["gamma_gamma"]) if has_value else None
    names = ["expected_purchases"] + (["clv", "clv_if_active"] if has_value else [])
    if len(unique) <= RANGE_SAMPLE:
        idx, mult = np.arange(len(unique)), np.ones(len(unique))
    else:  # sample triples proportional to their share in the totals (mixture over the quantities)
        base = totals(point_params, point_gg, np.arange(len(unique)))
        prob = sum(np.abs(base[q][0]) / max(np.abs(base[q][0]).sum(), 1e-300) for q in names) / len(names)
        prob = np.where(np.isfinite(prob), prob, 0.0) + 1e-12
        prob /= prob.sum()
        picked = rng.choice(len(unique), size=RANGE_SAMPLE, replace=True, p=prob)
        idx, mult = np.unique(picked, return_counts=True)
        mult = mult / prob[idx]
    at_point = totals(point_params, point_gg, idx)
    at_draws = totals(theta, spend_draws, idx)
    est = {q: (at_draws[q] * mult).sum(axis=1) / (at_point[q][0] * mult).sum() * float(points[q]) for q in names}
    valid = np.all([np.isfinite(est[q]) & (est[q] >= 0) for q in names], axis=0)
    if valid.sum() < MIN_VALID_DRAWS * draws:
        return Ranges(skip="failed_draws", triples=len(idx))
    lo, hi = (1 - RANGE_LEVEL) / 2, 1 - (1 - RANGE_LEVEL) / 2
    out = {q: tuple(float(v) for v in np.quantile(est[q][valid], [lo, hi])) for q in names}
    return Ranges(draws=int(valid.sum()), triples=len(idx), **out)


def widen(low: float | None, high: float | None, point: float | None,
          bias: float | None) -> tuple[float | None, float | None]:
    """Range widened to include the point and the holdout-bias-corrected point ``point / (1 + bias)``
    (``bias`` = (predicted − actual)/actual of the holdout; ``None`` = no correction)."""
    if low is None or high is None or point is None:
        return None, None
    low, high = min(low, point), max(high, point)
    if bias is not None and np.isfinite(bias) and 1.0 + bias > 0:
        corrected = point / (1.0 + bias)
        low, high = min(low, corrected), max(high, corrected)
    return float(low), float(high)


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


# ---------------------------------------------------------------- holdout validation and model choice

@dataclass(frozen=True, kw_only=True)
class Validation:
    """Result of the holdout test (:func:`validate`): the three purchase models on the calibration
    period, their holdout errors and the model choice.

    ``skip``: ``None`` = test ran; else ``"short_history"``, ``"too_few_repeat_calibration"``,
    ``"no_fit_calibration"`` (no model could be fitted) or ``"no_holdout_purchases"`` (the test
    ran but nobody bought in the holdout, so the percentage error is undefined).
    """

    calibration_end: pd.Timestamp | None = None
    """Last day of the calibration period (``None`` with ``short_history``)."""
    holdout_weeks: int | None = None
    """Length of the holdout used, in weeks (the setting, shortened for a short history)."""
    skip: str | None = None
    groups: pd.DataFrame | None = None
    """Chosen model per calibration-frequency group (``clv_validation.by_frequency_group``)."""
    metrics: Mapping[str, float] = field(default_factory=dict)
    """Chosen model: ``customers``, ``predicted_total``, ``actual_total`` (purchase days), ``pct_error``
    ((predicted − actual)/actual), ``mae`` (purchases per customer); empty when not run."""
    verdict: str = "unknown"
    """``good``, ``usable``, ``weak`` or ``unknown`` (see ``clv_validation.verdict``)."""
    comparison: pd.DataFrame | None = None
    """Index model id (:data:`MODEL_KINDS`); ``model`` (name), ``usable``, ``log_likelihood``
    (calibration), ``predicted_total``, ``actual_total``, ``pct_error``, ``mae`` (holdout; NaN when
    the model could not be fitted), ``chosen`` (bool)."""
    ranking: tuple[str, ...] = ()
    """Model ids by holdout error, best first (``clv_validation.rank_models``)."""
    fits: Mapping[str, FitResult] = field(default_factory=dict)
    """Calibration fits per model id."""

    @property
    def ran(self) -> bool:
        """Groups and metrics exist (the test ran, possibly without holdout purchases)."""
        return self.groups is not None

    @property
    def chosen(self) -> str | None:
        """Id of the model with the smallest holdout error (``None`` when the test did not run)."""
        return self.ranking[0] if self.ranking else None


def validate(purchases: pd.DataFrame, first_date, observation_end, settings: "ClvSettings") -> Validation:
    """Holdout test: fit BG/NBD, MBG/NBD and Pareto/NBD up to ``end - holdout``, compare their
    predictions with the actual purchases and rank them (:func:`clv_validation.rank_models`).

    ``purchases``: one row per customer-day (``Dataset.purchases``); ``settings``: ``cfg.clv``.
    """
    end = pd.Timestamp(observation_end).normalize()
    weeks = effective_holdout_weeks(first_date, end, settings.holdout_weeks, settings.min_holdout_weeks)
    cal_end = calibration_end(first_date, end, weeks) if weeks is not None else None
    if cal_end is None:
        return Validation(skip="short_history")
    common = dict(calibration_end=cal_end, holdout_weeks=weeks)
    cal = rfm_summary(purchases, cal_end)
    if int((cal["frequency"] > 0).sum()) < settings.min_repeat_buyers:
        return Validation(**common, skip="too_few_repeat_calibration")
    actual = holdout_counts(purchases, cal_end, end)
    rows: dict[str, dict[str, Any]] = {}
    frames: dict[str, pd.DataFrame] = {}
    fits: dict[str, FitResult] = {}
    for kind in MODEL_KINDS:
        f = fits[kind] = fit_model(kind, cal, settings.penalizer, with_cov=False)
        row: dict[str, Any] = {"model": MODEL_NAMES[kind], "usable": f.usable, "log_likelihood": f.log_likelihood,
                               "predicted_total": np.nan, "actual_total": np.nan, "pct_error": np.nan, "mae": np.nan}
        if f.usable:
            frames[kind] = holdout_frame(expected_purchases(f, cal, weeks), cal["frequency"], actual)
            m = holdout_metrics(frames[kind])
            row.update({k: m[k] for k in ("predicted_total", "actual_total", "pct_error", "mae")})
        rows[kind] = row
    comparison = pd.DataFrame.from_dict(rows, orient="index")
    ranking = tuple(rank_models(comparison))
    comparison["chosen"] = [bool(ranking) and k == ranking[0] for k in comparison.index]
    if not ranking:
        return Validation(**common, skip="no_fit_calibration", comparison=comparison, fits=fits)
    hf = frames[ranking[0]]
    m = holdout_metrics(hf)
    return Validation(**common, comparison=comparison, ranking=ranking, fits=fits, groups=by_frequency_group(hf),
                      metrics=m, verdict=verdict(m["pct_error"]),
                      skip="no_holdout_purchases" if m["actual_total"] == 0 else None)


# ---------------------------------------------------------------- data sufficiency

@dataclass(frozen=True)
class DataGate:
    """What the purchase models need and what the data have (:func:`data_gate`)."""

    n_customers: int
    """Customers with at least one purchase day."""
    n_repeat: int
    """Repeat buyers (>= 2 purchase days)."""
    history_days: int
    """Days from the first purchase day to the observation end (both included)."""
    min_customers: int
    min_repeat_buyers: int
    min_history_days: int
    failed: tuple[str, ...] = ()
    """Minimums not met, in this order: ``"repeat_buyers"``, ``"customers"``, ``"history"`` (the
    first gives the skip id; the German text names all)."""

    @property
    def skip(self) -> str | None:
        """The chapter's skip id for the first failed minimum (``None`` when all are met)."""
        ids = {"customers": "too_few_customers", "repeat_buyers": "too_few_repeat", "history": "short_history"}
        return ids[self.failed[0]] if self.failed else None


def data_gate(n_customers: int, n_repeat: int, days: int, settings: "ClvSettings") -> DataGate:
    """Check the minimums of the purchase models (all three need the same: ``clv.min_customers``
    customers, ``clv.min_repeat_buyers`` repeat buyers, ``clv.min_history_days`` days of history)."""
    checks = (("repeat_buyers", n_repeat, settings.min_repeat_buyers),
              ("customers", n_customers, settings.min_customers),
              ("history", days, settings.min_history_days))
    return DataGate(int(n_customers), int(n_repeat), int(days), int(settings.min_customers),
                    int(settings.min_repeat_buyers), int(settings.min_history_days),
                    tuple(name for name, have, need in checks if have < need))


# ---------------------------------------------------------------- key figures

@dataclass(frozen=True)
class ClvKeyFigures:
    """The numbers the chapter prints and the management summary quotes (``None`` = not available)."""

    model_ok: bool
    """A purchase model ran; without it all model numbers are ``None``."""
    n_customers: int
    """Customers with at least one purchase day up to the observation end."""
    n_repeat: int
    """Repeat buyers (customers with >= 2 purchase days)."""
    prediction_days: int
    """Window of ``expected_purchases_total``, in days (setting ``clv.prediction_days``)."""
    holdout_weeks: int
    """Length of the holdout period, in weeks (setting ``clv.holdout_weeks``, shortened for a short history)."""
    horizon_months: int
    """EFFECTIVE CLV horizon, in months: ``clv.horizon_months``, shortened to the months of history the
    data cover (``clv_validation.supported_horizon_months``). All CLV numbers refer to it."""
    horizon_months_configured: int
    """CLV horizon asked for (setting ``clv.horizon_months``), in months."""
    horizon_capped: bool
    """``horizon_months`` is shorter than asked for because the data cover less history."""
    history_days: int
    """Days from the first purchase day to the observation end (both included)."""
    discount_rate_yearly: float
    """Yearly discount rate of the CLV (0.10 = 10 % p. a.)."""
    gross_margin: float
    """Contribution margin as share of net revenue (0..1) used for the CLV."""
    model: str | None = None
    """Id of the purchase model used (``"bgnbd"``, ``"mbgnbd"`` or ``"pareto"``)."""
    model_choice: str | None = None
    """How it was chosen: ``"holdout"`` (smallest holdout error), ``"likelihood"`` (no holdout test:
    highest log-likelihood on all data) or ``"fallback"`` (the better model could not be fitted on all data)."""
    mean_p_alive: float | None = None
    """Mean P(alive) over all customers, 0..1 (chosen model)."""
    n_likely_inactive: int | None = None
    """Customers with P(alive) < 0.5."""
    share_likely_inactive: float | None = None
    """``n_likely_inactive / n_customers``, 0..1."""
    expected_purchases_total: float | None = None
    """Expected purchase days of all current customers in the next ``prediction_days`` days."""
    expected_purchases_total_low: float | None = None
    """Lower end of the 80 % range of ``expected_purchases_total`` (purchase days)."""
    expected_purchases_total_high: float | None = None
    """Upper end of the 80 % range of ``expected_purchases_total`` (purchase days)."""
    purchase_rate_weekly: float | None = None
    """r/alpha: mean purchase rate of active customers, purchases per week (all three models)."""
    dropout_per_purchase: float | None = None
    """a/(a+b): mean probability of becoming inactive after a purchase, 0..1 (BG/NBD, MBG/NBD)."""
    dropout_rate_weekly: float | None = None
    """s/beta: mean dropout rate of active customers per week (Pareto/NBD)."""
    verdict: str = "unknown"
    """Holdout verdict id of the chosen model (``good``/``usable``/``weak``/``unknown``; German: ``labels.verdict``)."""
    holdout_predicted_total: float | None = None
    """Purchase days predicted for the holdout period by the chosen model (calibration customers)."""
    holdout_actual_total: float | None = None
    """Purchase days that actually happened in the holdout period (calibration customers)."""
    holdout_pct_error: float | None = None
    """Bias of the chosen model: (predicted − actual) / actual of the holdout total (0.16 = 16 % too many)."""
    holdout_mae: float | None = None
    """Mean absolute error of the chosen model's holdout purchases per customer (purchases)."""
    n_gg: int | None = None
    """Repeat buyers with positive mean spend (the Gamma-Gamma fitting set)."""
    spend_frequency_correlation: float | None = None
    """Pearson r between frequency and mean spend of those ``n_gg`` customers."""
    mean_expected_spend: float | None = None
    """Mean expected revenue per future purchase (EUR, Gamma-Gamma)."""
    clv_total: float | None = None
    """Sum of the CLV over all customers (EUR, discounted contribution margin over ``horizon_months``)."""
    clv_total_low: float | None = None
    """Lower end of the 80 % range of ``clv_total`` (EUR)."""
    clv_total_high: float | None = None
    """Upper end of the 80 % range of ``clv_total`` (EUR)."""
    clv_if_active_total: float | None = None
    """Sum of the value if retained over all customers (EUR, ``customers.clv_if_active``: discounted
    contribution margin over ``horizon_months`` if the customer is still active today)."""
    clv_if_active_total_low: float | None = None
    """Lower end of the 80 % range of ``clv_if_active_total`` (EUR)."""
    clv_if_active_total_high: float | None = None
    """Upper end of the 80 % range of ``clv_if_active_total`` (EUR)."""
    range_draws: int | None = None
    """Parameter draws behind the ranges (``None`` = no ranges; the reason is ``ClvResult.ranges.skip``)."""
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
                history_days: int = 0, horizon_months: int | None = None,
                customers: pd.DataFrame | None = None, fit: FitResult | None = None,
                gamma_gamma: FitResult | None = None, validation: Validation | None = None,
                n_gg: int | None = None, correlation: float | None = None, ranges: Ranges | None = None,
                model_choice: str | None = None) -> ClvKeyFigures:
    """The chapter's :class:`ClvKeyFigures` from its parts (``customers`` ``None`` = model skipped;
    ``horizon_months`` = effective horizon, default the setting)."""
    horizon = int(settings.horizon_months if horizon_months is None else horizon_months)
    holdout = validation.holdout_weeks if validation is not None and validation.holdout_weeks else settings.holdout_weeks
    kf: dict[str, Any] = dict(
        model_ok=customers is not None, n_customers=int(n_customers), n_repeat=int(n_repeat),
        prediction_days=int(settings.prediction_days), holdout_weeks=int(holdout),
        horizon_months=horizon, horizon_months_configured=int(settings.horizon_months),
        horizon_capped=horizon < int(settings.horizon_months), history_days=int(history_days),
        discount_rate_yearly=float(settings.discount_rate_yearly), gross_margin=float(gross_margin),
    )
    if customers is None:
        return ClvKeyFigures(**kf)
    c = customers
    inactive = int((c["p_alive"] < 0.5).sum())
    kf.update(
        model_choice=model_choice,
        mean_p_alive=_num(c["p_alive"].mean()),
        n_likely_inactive=inactive,
        share_likely_inactive=inactive / len(c) if len(c) else None,
        expected_purchases_total=_num(c["expected_purchases"].sum()),
    )
    if fit is not None and fit.usable:
        p = fit.params
        kf.update(model=fit.kind, purchase_rate_weekly=p["r"] / p["alpha"])
        if fit.kind == "pareto":
            kf.update(dropout_rate_weekly=p["s"] / p["beta"])
        else:
            kf.update(dropout_per_purchase=p["a"] / (p["a"] + p["b"]))
    bias = None
    if validation is not None and validation.metrics:
        m = validation.metrics
        bias = _num(m["pct_error"])
        kf.update(verdict=validation.verdict, holdout_predicted_total=_num(m["predicted_total"]),
                  holdout_actual_total=_num(m["actual_total"]), holdout_pct_error=bias,
                  holdout_mae=_num(m["mae"]))
    if n_gg is not None:
        kf.update(n_gg=int(n_gg), spend_frequency_correlation=_num(correlation))
    has_clv = gamma_gamma is not None and gamma_gamma.usable and c["clv"].notna().any()
    if has_clv:
        g = gamma_gamma.params
        kf.update(
            gg_p=g["p"], gg_q=g["q"], gg_v=g["v"],
            mean_expected_spend=_num(c["expected_spend"].mean()) if "expected_spend" in c else None,
            clv_total=_num(c["clv"].sum()), clv_mean=_num(c["clv"].mean()), clv_median=_num(c["clv"].median()),
            clv_top10_share=_num(top_share(c["clv"], 0.10)),
            clv_if_active_total=_num(c["clv_if_active"].sum()) if "clv_if_active" in c else None,
        )
    if ranges is not None and ranges.skip is None:
        kf["range_draws"] = ranges.draws
        for name, attr in (("expected_purchases", "expected_purchases_total"), ("clv", "clv_total"),
                           ("clv_if_active", "clv_if_active_total")):
            rng = getattr(ranges, name)
            if rng is not None and kf.get(attr) is not None:
                kf[attr + "_low"], kf[attr + "_high"] = widen(rng[0], rng[1], kf[attr], bias)
    return ClvKeyFigures(**kf)


# ---------------------------------------------------------------- chapter result

@dataclass(frozen=True, kw_only=True)
class ClvResult(ChapterResult):
    """Everything the chapter shows (frozen, picklable). ``skip`` set = no model predictions.

    ``skip``: ``"no_data"`` (no purchases); a failed data minimum (``gate``): ``"too_few_customers"``,
    ``"too_few_repeat"``, ``"short_history"``; ``"no_fit"`` (no purchase model converged with
    plausible parameters).
    ``customers`` (``None`` when skipped): index customer_id; ``frequency``, ``recency``, ``T``
    (weeks), ``monetary_value`` (EUR), ``p_alive`` (0..1, chosen model), ``expected_purchases``
    (next ``prediction_days`` days), ``expected_spend`` (EUR per purchase, when Gamma-Gamma ran),
    ``clv`` (EUR contribution margin, discounted over the effective ``key.horizon_months``) and
    ``clv_if_active`` (EUR, the same if the customer is still active today = ``clv / p_alive``);
    both NaN without revenue/Gamma-Gamma.
    """

    observation_end: pd.Timestamp
    first_date: pd.Timestamp
    settings: "ClvSettings"
    """``cfg.clv`` used for this result."""
    gross_margin: float
    key: ClvKeyFigures
    n_customers: int = 0
    n_repeat: int = 0
    gate: DataGate | None = None
    """The data minimums and what the data have (``None`` without purchases)."""
    fit: FitResult | None = None
    """Final fit of the chosen purchase model on all data up to ``observation_end``."""
    fits: Mapping[str, FitResult] = field(default_factory=dict)
    """All purchase models fitted on all data (the chosen one; all three without a holdout test)."""
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
    ranges: Ranges | None = None
    """Bootstrap ranges before the widening by the holdout bias (the key figures hold the final ones)."""
    grids: HeatmapGrids | None = None
    deciles: pd.DataFrame | None = None
    """:func:`clv_deciles` of the CLV (when ``has_clv``)."""

    @property
    def has_clv(self) -> bool:
        return self.ok and self.clv_skip is None


def _final_fit(summary: pd.DataFrame, settings: "ClvSettings", val: Validation | None,
               fits: dict[str, FitResult]) -> tuple[FitResult | None, str | None, list[str]]:
    """Fit the chosen model on all data (``fits`` is filled); returns the fit, how it was chosen and
    the order tried."""
    if val is not None and val.ranking:
        order, choice = list(val.ranking), "holdout"
    else:
        for kind in MODEL_KINDS:
            fits[kind] = fit_model(kind, summary, settings.penalizer)
        usable = [k for k in MODEL_KINDS if fits[k].usable]
        order, choice = sorted(usable, key=lambda k: -fits[k].log_likelihood), "likelihood"
    for i, kind in enumerate(order):
        if kind not in fits:
            start = val.fits[kind].params if val is not None and kind in val.fits and val.fits[kind].usable else None
            fits[kind] = fit_model(kind, summary, settings.penalizer, start=start)
        if fits[kind].usable:
            return fits[kind], (choice if i == 0 else "fallback"), order
    return None, None, order


def analyze(purchases: pd.DataFrame, observation_end, settings: "ClvSettings", gross_margin: float,
            has_revenue: bool = True, first_date=None, holdout: bool = True) -> ClvResult:
    """Run the chapter on a purchases frame: data gate (:func:`data_gate`), holdout test and model
    choice (:func:`validate`, unless ``holdout=False``), final fit of the chosen model + Gamma-Gamma on
    all data up to ``observation_end``, CLV and value if retained per customer over the effective
    horizon, 80 % ranges, grids, deciles and key figures.

    ``settings`` is ``cfg.clv``; ``purchases`` one row per customer-day (``Dataset.purchases``,
    not changed). Never raises for data reasons: problems end up in the skip ids.
    """
    end = pd.Timestamp(observation_end).normalize()
    first = pd.Timestamp(first_date) if first_date is not None else (
        purchases["order_date"].min() if len(purchases) else end)
    days = history_days(first, end) if len(purchases) else 0
    horizon = min(int(settings.horizon_months), supported_horizon_months(days)) if days > 0 else int(settings.horizon_months)
    common = dict(observation_end=end, first_date=first, settings=settings, gross_margin=float(gross_margin))
    figures = dict(settings=settings, gross_margin=gross_margin, history_days=days, horizon_months=horizon)

    def skipped(reason: str, n_customers: int = 0, n_repeat: int = 0, **kw) -> ClvResult:
        key = key_figures(**figures, n_customers=n_customers, n_repeat=n_repeat, validation=kw.get("validation"))
        return ClvResult(skip=reason, key=key, n_customers=n_customers, n_repeat=n_repeat, **common, **kw)

    if len(purchases) == 0:
        return skipped("no_data")
    summ = rfm_summary(purchases, end)
    if not has_revenue:
        summ["monetary_value"] = np.nan
    n_customers, n_repeat = len(summ), int((summ["frequency"] > 0).sum())
    gate = data_gate(n_customers, n_repeat, days, settings)
    if gate.failed:
        return skipped(gate.skip, n_customers, n_repeat, gate=gate)
    val = validate(purchases, first, end, settings) if holdout else None
    fits: dict[str, FitResult] = {}
    fit, choice, order = _final_fit(summ, settings, val, fits)
    if fit is None:
        failed = fits.get(order[0]) if order else fits.get("bgnbd")
        return skipped("no_fit", n_customers, n_repeat, gate=gate, fit=failed, fits=fits, validation=val)

    out = summ.copy()
    out["p_alive"] = p_alive(fit, summ)
    out["expected_purchases"] = expected_purchases(fit, summ, settings.prediction_days / 7.0)
    out["clv"] = np.nan
    out["clv_if_active"] = np.nan
    gg: FitResult | None = None
    clv_skip: str | None = None
    correlation, n_gg, n_nonpositive = float("nan"), None, 0
    if not has_revenue:
        clv_skip = "no_revenue"
    else:
        correlation, n_gg = spend_frequency_correlation(summ)
        n_nonpositive = int(((summ["frequency"] > 0) & ~(summ["monetary_value"] > 0)).sum())
        gg = fit_gamma_gamma(summ, settings.penalizer, min_repeat=settings.min_repeat_buyers)
        if not gg.usable:
            clv_skip = "gg_failed"
        else:
            spend = expected_spend(gg, summ)
            out["expected_spend"] = spend
            value = dict(horizon_months=horizon, discount_rate_yearly=settings.discount_rate_yearly,
                         gross_margin=gross_margin)
            out["clv"] = discounted_clv(fit.fitter().conditional_expected_number_of_purchases_up_to_time,
                                        summ, spend, **value)
            out["clv_if_active"] = clv_if_active(fit, summ, spend, **value)
    points = {"expected_purchases": _num(out["expected_purchases"].sum()),
              "clv": _num(out["clv"].sum()) if clv_skip is None else None,
              "clv_if_active": _num(out["clv_if_active"].sum()) if clv_skip is None else None}
    ranges = bootstrap_ranges(fit, gg, summ, points=points, prediction_weeks=settings.prediction_days / 7.0,
                              horizon_months=horizon, discount_rate_yearly=settings.discount_rate_yearly,
                              gross_margin=gross_margin, draws=int(settings.range_draws), seed=int(settings.random_state))
    key = key_figures(**figures, n_customers=n_customers, n_repeat=n_repeat, customers=out, fit=fit,
                      gamma_gamma=gg, validation=val, n_gg=n_gg, correlation=correlation, ranges=ranges,
                      model_choice=choice)
    return ClvResult(
        **common, key=key, n_customers=n_customers, n_repeat=n_repeat, gate=gate, fit=fit, fits=fits,
        gamma_gamma=gg, clv_skip=clv_skip, correlation=correlation, n_gg=int(n_gg or 0),
        n_nonpositive_spend=n_nonpositive, customers=out, validation=val, ranges=ranges,
        grids=heatmap_grids(fit, summ, settings.prediction_days),
        deciles=clv_deciles(out["clv"]) if clv_skip is None else None,
    )


def compute(ds: "Dataset", cfg: "ReportConfig", upstream: Mapping[str, ChapterResult] | None = None) -> ClvResult:
    """The chapter "Kaufprognose und Kundenwert" (registry entry ``clv``); pure, ``ds`` is not changed."""
    return analyze(ds.purchases, ds.observation_end, cfg.clv, cfg.gross_margin,
                   has_revenue=ds.has_revenue, first_date=ds.first_date)
