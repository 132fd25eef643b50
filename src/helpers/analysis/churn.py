"""Churn risk for every customer: candidate scores compared on one time split, the best one used,
a recency-based estimate for everybody else, and the value at risk.

Entry point :func:`compute` (chapter ``churn``, see :mod:`helpers.chapters`). With churn window
N days and observation end E: evaluation cut-off ``t2 = E − N`` (label: no purchase in
``(t2, E]``) and training cut-off ``t1 = t2 − N`` (label: no purchase in ``(t1, t2]``). Small pure
steps, each returning a new frozen object:

1. :func:`prepare` – window (:func:`~helpers.analysis.churn_features.choose_window`), cut-offs,
   features and labels of the active customers at t2 (and t1), data checks → :class:`Prepared`.
   Minimums (stated in the German text): at a cut-off at least ``churn.min_customers`` active
   customers, the rarer class (churners or stayers) at least ``churn.min_class_share`` and
   :data:`MIN_HISTORY_DAYS` days of history before it. Failing them at t2 skips the comparison
   (the chapter's ``skip``); failing them at t1 (or a history shorter than ``2N + 90`` days) only
   skips the machine-learning models (``ml_skip``) – the other candidates are still compared.
2. :func:`evaluate` – every candidate scored on the SAME customers (active at t2) and labels:
   the baselines ``recency`` (days since the last purchase) and ``frequency`` (number of purchase
   days, negated); CLV-model scores from models fitted on the purchases up to t2
   (``bgnbd_purchases``: BG/NBD expected purchases in the next N days, negated; ``pareto_alive`` and
   ``mbgnbd_alive``: 1 − P(aktiv) of Pareto/NBD and MBG/NBD; ``bgnbd_alive``: 1 − P(aktiv) of
   BG/NBD, the known-bad reference – exactly 0 for every one-time buyer – that is never used); and,
   when they could be trained at t1, logistic regression ``logit`` and gradient boosting ``hgb``.
   :func:`choose_score` picks the score that is used (rule in its docstring) → :class:`Evaluation`.
   The same evaluation for one cut-off over any population: :func:`holdout_evaluation`.
3. :func:`explain` – coefficients and permutation importance of the ML models (when trained).
4. :func:`score_current` – the chosen score for the customers active at E (last purchase less
   than ``churn.active_days`` days ago): an ML model is refit at t2 and predicts probabilities;
   any other score is computed at E (CLV models refit on the purchases up to E) and turned into a
   probability by isotonic regression of the observed churn at t2 on the score at t2 → :class:`Scoring`.
5. :func:`fit_recency_calibration` – for every other customer the observed churn rate at t2 by days
   since the last purchase, one-time and repeat buyers separately (isotonic, non-decreasing in the
   days), fitted on ALL customers at t2 → :class:`RecencyCalibration`. Never 1 − P(aktiv) of BG/NBD.
6. Value at risk for ALL customers with :mod:`helpers.analysis.value` (the one definition),
   :func:`risk_value_matrix`, :func:`top_customers` and the typed :class:`ChurnKeyFigures`.

Every score is oriented "higher = more likely to churn" (so ROC AUC 0.5 = chance for all).
Metrics: ROC AUC, PR AUC (average precision), top-decile lift (churn rate in the 10 % highest
scores / overall churn rate). Money is EUR; ``risk`` is the probability (0–1) of no purchase in
the next N days.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ..results import ChapterResult

if TYPE_CHECKING:  # pragma: no cover - scikit-learn is imported where it is used (1-2 s)
    from sklearn.pipeline import Pipeline
from . import clv as clv_models
from . import value as value_def
from .clv_data import rfm_summary
from .churn_features import (
    WindowChoice,
    active_at,
    build_features,
    build_labels,
    choose_window,
    encode_customers,
    top_channels,
)

MIN_HISTORY_DAYS = 90
"""Days of history required before a cut-off (t2 for the comparison, t1 for training)."""
PREFER_BASELINE_MARGIN = 0.01
"""Gradient boosting must beat the logistic regression's ROC AUC by this much to be the ML candidate."""
PREFER_SIMPLE_MARGIN = 0.01
"""An ML model must beat the best simple score (baseline or CLV-model score) by this much ROC AUC
to be used; otherwise the simpler, more robust score is used."""
THREADS = 1
"""OpenMP/BLAS threads for fitting and scoring. The models are small; on a shared machine
more threads make HistGradientBoosting many times slower (spin-waiting), not faster."""
TOP_N = 15
"""Rows of the table of customers with the largest value at risk."""
N_REPEATS = 3
"""Permutation-importance repeats."""
MAX_IMPORTANCE_ROWS = 2000
"""Permutation importance is computed on a stratified sample of at most this many customers."""
CALIBRATION_MIN_GROUP = 50
"""The recency-based risk is fitted separately for one-time and repeat buyers only when both groups
have at least this many customers at t2; otherwise one curve for all."""
CURVE_MIN_BIN = 30
"""Minimum customers per bin of a calibration curve (:func:`isotonic_curve`)."""
CURVE_PRIOR = 1.0
"""Pseudo-customers at the overall churn rate added to every bin of a calibration curve."""
RECENCY_BANDS = (0, 90, 180, 365, 730)
"""Lower bounds (days since the last purchase) of the bands of :attr:`RecencyCalibration.table`."""
ACTIVE_YEAR_DAYS = 365
"""Customers whose last purchase is more than this many days back are counted in
``ChurnKeyFigures.n_over_365`` (the acceptance check: they must have a value at risk > 0)."""

CANDIDATES: Mapping[str, str] = {
    "recency": "baseline",
    "frequency": "baseline",
    "bgnbd_purchases": "model",
    "pareto_alive": "model",
    "mbgnbd_alive": "model",
    "bgnbd_alive": "reference",
    "logit": "ml",
    "hgb": "ml",
}
"""Candidate score id -> kind (``baseline``, ``model`` = CLV model, ``reference`` = shown, never
used, ``ml`` = machine learning). Order = table order; among equal ROC AUC the earlier is used."""
SCORE_IDS = tuple(k for k, v in CANDIDATES.items() if v != "ml")
"""Label-free scores computed by :func:`score_frame`."""
ML_IDS = ("logit", "hgb")
BASELINE_IDS = ("recency", "frequency")


@dataclass(frozen=True)
class Skip:
    """Why a part cannot run. ``code`` is one of ``no_window``, ``short_history``,
    ``too_few_customers``, ``class_imbalance``; ``details`` holds the numbers for the text
    (``short_history``: ``available_days``, ``needed_days``, ``window_days``; the others: ``n``,
    ``min`` or ``churn_share``/``min_share``, ``cutoff``)."""

    code: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CutoffPlan:
    """Evaluation cut-off ``t2``, observation end ``end = t2 + N`` and the training cut-off
    ``t1 = t2 − N`` (``None`` when the history is too short for training)."""

    t1: pd.Timestamp | None
    t2: pd.Timestamp
    end: pd.Timestamp
    window_days: int


def _history(first_date, end, needed: int, window_days: int) -> Skip | None:
    available = int((pd.Timestamp(end).normalize() - pd.Timestamp(first_date).normalize()).days) + 1
    if available < needed:
        return Skip("short_history", {"available_days": available, "needed_days": int(needed),
                                      "window_days": int(window_days)})
    return None


def plan_holdout(first_date, end, window_days: int, min_history_days: int = MIN_HISTORY_DAYS) -> CutoffPlan | Skip:
    """The evaluation cut-off ``t2 = end − N`` (``t1`` left ``None``); :class:`Skip` when fewer than
    ``N + min_history_days`` days of history (first day and end included) are available."""
    skip = _history(first_date, end, int(window_days) + min_history_days, window_days)
    if skip is not None:
        return skip
    end = pd.Timestamp(end).normalize()
    return CutoffPlan(t1=None, t2=end - pd.Timedelta(days=int(window_days)), end=end, window_days=int(window_days))


def plan_cutoffs(first_date, end, window_days: int, min_history_days: int = MIN_HISTORY_DAYS) -> CutoffPlan | Skip:
    """Two cut-offs N days apart that end at ``end``; :class:`Skip` when the history is too short.

    Needs at least ``min_history_days`` days of history up to ``t1`` (first day and ``t1``
    included), i.e. ``end - first_date + 1 >= 2 * window_days + min_history_days`` days.
    """
    skip = _history(first_date, end, 2 * int(window_days) + min_history_days, window_days)
    if skip is not None:
        return skip
    end = pd.Timestamp(end).normalize()
    n = pd.Timedelta(days=int(window_days))
    return CutoffPlan(t1=end - 2 * n, t2=end - n, end=end, window_days=int(window_days))


def check_sample(y: pd.Series, min_customers: int, min_class_share: float, cutoff) -> Skip | None:
    """:class:`Skip` when ``y`` has too few customers or a too rare class, else ``None``."""
    n = int(len(y))
    if n < min_customers:
        return Skip("too_few_customers", {"n": n, "min": int(min_customers), "cutoff": pd.Timestamp(cutoff)})
    share = float(y.mean())
    if min(share, 1 - share) < min_class_share:
        return Skip("class_imbalance", {"n": n, "churn_share": share, "min_share": float(min_class_share),
                                        "cutoff": pd.Timestamp(cutoff)})
    return None



def signed_log1p(x):
    """``sign(x) * log(1 + |x|)``: monotone, tames heavy tails, keeps the sign."""
    x = np.asarray(x, dtype=float)
    return np.sign(x) * np.log1p(np.abs(x))


def make_models(random_state: int = 42) -> dict[str, Pipeline]:
    """Unfitted pipelines: ``logit`` (interpretable baseline) and ``hgb`` (gradient boosting)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    logit = Pipeline([
        ("log", FunctionTransformer(signed_log1p, feature_names_out="one-to-one")),
        ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
        ("scale", StandardScaler()),
        ("model", LogisticRegression(C=1.0, max_iter=1000)),
    ])
    hgb = Pipeline([
        ("model", HistGradientBoostingClassifier(
            max_iter=120, learning_rate=0.08, max_leaf_nodes=15, min_samples_leaf=40,
            l2_regularization=1.0, early_stopping=False, random_state=random_state)),
    ])
    return {"logit": logit, "hgb": hgb}


# ---------------------------------------------------------------- metrics

def score_metrics(y, score) -> dict[str, float]:
    """ROC AUC, PR AUC (average precision), base rate and top-decile lift of a churn score."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    y = np.asarray(y, dtype=int)
    score = np.asarray(score, dtype=float)
    return {
        "roc_auc": float(roc_auc_score(y, score)),
        "pr_auc": float(average_precision_score(y, score)),
        "base_rate": float(y.mean()),
        "top_decile_lift": top_decile_lift(y, score),
    }


def _ranked_bins(score, n_bins: int) -> np.ndarray:
    """Bin 1 = highest scores; equal-size bins by rank (ties broken by position)."""
    score = np.asarray(score, dtype=float)
    order = np.argsort(-score, kind="stable")
    bins = np.empty(len(score), dtype=int)
    bins[order] = np.arange(len(score)) * n_bins // max(len(score), 1) + 1
    return bins


def lift_table(y, score, n_bins: int = 10) -> pd.DataFrame:
    """Gains/lift by score decile (bin 1 = the 10 % highest scores).

    Columns: ``customers``, ``churners``, ``churn_rate``, ``lift`` (rate / overall rate),
    ``cum_share_customers``, ``cum_share_churners`` (gains: share of all churners caught).
    """
    y = np.asarray(y, dtype=int)
    bins = _ranked_bins(score, n_bins)
    df = pd.DataFrame({"bin": bins, "y": y}).groupby("bin")["y"].agg(customers="size", churners="sum")
    df["churn_rate"] = df["churners"] / df["customers"]
    overall = y.mean()
    df["lift"] = df["churn_rate"] / overall if overall > 0 else np.nan
    df["cum_share_customers"] = df["customers"].cumsum() / len(y)
    df["cum_share_churners"] = df["churners"].cumsum() / max(int(y.sum()), 1)
    return df


def top_decile_lift(y, score) -> float:
    """Churn rate among the 10 % highest scores divided by the overall churn rate."""
    return float(lift_table(y, score, 10)["lift"].iloc[0])


def calibration_table(y, prob, n_bins: int = 10) -> pd.DataFrame:
    """Mean predicted probability vs observed churn rate in equal-size bins of ``prob``."""
    y = np.asarray(y, dtype=int)
    bins = _ranked_bins(prob, n_bins)
    df = pd.DataFrame({"bin": bins, "y": y, "p": np.asarray(prob, dtype=float)})
    out = df.groupby("bin").agg(mean_predicted=("p", "mean"), observed_rate=("y", "mean"), customers=("y", "size"))
    return out.sort_values("mean_predicted")


# ---------------------------------------------------------------- drivers

def logit_coefficients(pipeline: Pipeline, X: pd.DataFrame, y: pd.Series) -> pd.DataFrame:
    """Standardized coefficients of the baseline fitted on ``(X, y)`` (log-odds per standard
    deviation of the signed-log feature), sorted by absolute size. Positive = higher value,
    higher churn risk with the other features held fixed. ``univariate``: Spearman correlation
    of the feature alone with the label in ``(X, y)`` (its sign may differ from the coefficient)."""
    coef = pipeline.named_steps["model"].coef_[0]
    uni = X.corrwith(y.astype(float), method="spearman").reindex(X.columns)
    df = pd.DataFrame({"feature": list(X.columns), "coefficient": coef, "univariate": uni.to_numpy()})
    return df.reindex(df["coefficient"].abs().sort_values(ascending=False).index).reset_index(drop=True)


def permutation_drivers(pipeline: Pipeline, X: pd.DataFrame, y: pd.Series, *, n_repeats: int = N_REPEATS,
                        max_rows: int = MAX_IMPORTANCE_ROWS, random_state: int = 42) -> pd.DataFrame:
    """Permutation importance (mean drop of ROC AUC) on at most ``max_rows`` rows, plus the
    direction: Spearman correlation between the feature and the predicted churn probability."""
    if len(X) > max_rows:  # stratified sample keeps both classes
        X = X.groupby(y, group_keys=False).sample(frac=max_rows / len(X), random_state=random_state)
        y = y.loc[X.index]
    from sklearn.inspection import permutation_importance

    res = permutation_importance(pipeline, X, y, scoring="roc_auc", n_repeats=n_repeats,
                                 random_state=random_state)
    prob = pd.Series(pipeline.predict_proba(X)[:, 1], index=X.index)
    direction = X.corrwith(prob, method="spearman")
    df = pd.DataFrame({
        "feature": list(X.columns),
        "importance": res.importances_mean,
        "importance_std": res.importances_std,
        "direction": direction.reindex(X.columns).to_numpy(),
    })
    return df.sort_values("importance", ascending=False).reset_index(drop=True)


# ---------------------------------------------------------------- label-free candidate scores

def pareto_p_alive(summary: pd.DataFrame, penalizer: float = 0.0) -> pd.Series | None:
    """P(aktiv) of the Pareto/NBD model (Schmittlein, Morrison & Colombo 1987) fitted on ``summary``
    (frequency, recency, T in weeks) with the CLV chapter's :func:`helpers.analysis.clv.fit_pareto`;
    ``None`` when the fit fails (no repeat buyer, no convergence, implausible parameters)."""
    fit = clv_models.fit_pareto(summary, penalizer, with_cov=False)  # no ranges: no Hessian
    return clv_models.p_alive(fit, summary) if fit.usable else None


def score_frame(purchases: pd.DataFrame, cutoff, window_days: int, population=None, *,
                only=None, penalizer: float = 0.0) -> tuple[pd.DataFrame, dict[str, str]]:
    """Label-free candidate scores at ``cutoff`` from purchases up to ``cutoff`` only (no leakage).

    Returns ``(scores, status)``: ``scores`` indexed by ``population`` (default: every customer with
    a purchase day up to ``cutoff``), one column per id of :data:`SCORE_IDS` (or ``only``), each
    oriented "higher = more likely to churn": ``recency`` = days since the last purchase day,
    ``frequency`` = −(purchase days), ``bgnbd_purchases`` = −(BG/NBD expected purchase days in the
    next ``window_days`` days), ``pareto_alive`` / ``mbgnbd_alive`` / ``bgnbd_alive`` = 1 − P(aktiv).
    The CLV models are fitted on ALL customers up to ``cutoff`` (time in weeks, like the CLV
    chapter). ``status``: score id -> ``"failed"`` for a model that could not be fitted or gave a
    non-finite score for a customer of ``population`` (its column is then missing).
    """
    cutoff = pd.Timestamp(cutoff).normalize()
    wanted = tuple(SCORE_IDS if only is None else only)
    summary = rfm_summary(purchases, cutoff)
    summary.index = summary.index.astype(str)
    ids = summary.index if population is None else pd.Index(population).astype(str)
    cols: dict[str, pd.Series] = {}
    status: dict[str, str] = {}
    if "recency" in wanted:
        cols["recency"] = ((summary["T"] - summary["recency"]) * 7).round()
    if "frequency" in wanted:
        cols["frequency"] = -(summary["frequency"] + 1).astype(float)
    if {"bgnbd_purchases", "bgnbd_alive"} & set(wanted):
        fit = clv_models.fit_bgnbd(summary, penalizer, with_cov=False)
        for sid in ("bgnbd_purchases", "bgnbd_alive"):
            if sid not in wanted:
                continue
            if not fit.usable:
                status[sid] = "failed"
            elif sid == "bgnbd_purchases":
                cols[sid] = -clv_models.expected_purchases(fit, summary, window_days / 7.0)
            else:
                cols[sid] = 1.0 - clv_models.p_alive(fit, summary)
    if "mbgnbd_alive" in wanted:
        fit = clv_models.fit_mbgnbd(summary, penalizer, with_cov=False)
        if fit.usable:
            cols["mbgnbd_alive"] = 1.0 - clv_models.p_alive(fit, summary)
        else:
            status["mbgnbd_alive"] = "failed"
    if "pareto_alive" in wanted:
        alive = pareto_p_alive(summary, penalizer)
        if alive is not None:
            cols["pareto_alive"] = 1.0 - alive
        else:
            status["pareto_alive"] = "failed"
    for sid in [k for k in cols if k not in BASELINE_IDS]:
        if not np.isfinite(cols[sid].reindex(ids).to_numpy(dtype=float)).all():
            status[sid] = "failed"  # a model that gives no finite score for someone is not comparable
            del cols[sid]
    frame = pd.DataFrame({k: cols[k].astype(float) for k in wanted if k in cols}, index=summary.index)
    frame = frame.reindex(ids)
    frame.index.name = "customer_id"
    return frame, status


def metrics_frame(predictions: pd.DataFrame) -> pd.DataFrame:
    """:func:`score_metrics` of every score column of ``predictions`` (column ``churned`` = label),
    index candidate id in :data:`CANDIDATES` order; column ``kind`` from :data:`CANDIDATES`."""
    y = predictions["churned"].to_numpy(dtype=int)
    rows = {}
    for sid in [c for c in CANDIDATES if c in predictions.columns]:
        rows[sid] = {**score_metrics(y, predictions[sid].to_numpy(dtype=float)), "kind": CANDIDATES[sid]}
    return pd.DataFrame.from_dict(rows, orient="index")


@dataclass(frozen=True, kw_only=True)
class HoldoutEvaluation:
    """One calibration/holdout split (:func:`holdout_evaluation`)."""

    cutoff: pd.Timestamp
    window_days: int
    predictions: pd.DataFrame
    """Index ``customer_id``: ``churned`` (1 = no purchase in ``(cutoff, cutoff + N]``) and the scores."""
    metrics: pd.DataFrame
    """:func:`metrics_frame` of ``predictions``."""
    status: Mapping[str, str] = field(default_factory=dict)
    """Scores that could not be computed (id -> ``"failed"``)."""


def holdout_evaluation(purchases: pd.DataFrame, cutoff, window_days: int, population=None, *,
                       penalizer: float = 0.0) -> HoldoutEvaluation:
    """The candidate comparison on one calibration/holdout split: scores from the purchases up to
    ``cutoff`` (:func:`score_frame`), label "no purchase in the next ``window_days`` days"
    (:func:`~helpers.analysis.churn_features.build_labels`), metrics per score.

    ``population``: the customers to evaluate (default ALL customers with a purchase up to
    ``cutoff``; the chapter passes the active customers at t2). E.g. CDNOW: cut-off 1997-09-30,
    273 days (39 weeks), all customers.
    """
    cutoff = pd.Timestamp(cutoff).normalize()
    scores, status = score_frame(purchases, cutoff, window_days, population, penalizer=penalizer)
    y = build_labels(purchases, scores.index, cutoff, window_days)
    predictions = pd.concat([y.rename("churned"), scores], axis=1).sort_index()
    return HoldoutEvaluation(cutoff=cutoff, window_days=int(window_days), predictions=predictions,
                             metrics=metrics_frame(predictions), status=status)


@dataclass(frozen=True)
class Choice:
    """Which candidate is used and the reference points of the German text (ids; ``None`` = absent)."""

    best: str
    """The score used (never ``bgnbd_alive``)."""
    best_baseline: str
    """The better of ``recency`` and ``frequency``."""
    best_simple: str
    """The best non-ML candidate (baseline or CLV-model score)."""
    best_ml: str | None = None
    """``logit`` or ``hgb`` (boosting only when it beats the regression by ``PREFER_BASELINE_MARGIN``)."""


def _argmax(metrics: pd.DataFrame, ids) -> str | None:
    present = [i for i in ids if i in metrics.index]
    if not present:
        return None
    auc = metrics.loc[present, "roc_auc"].astype(float)
    return str(auc.idxmax())  # first of equal values = earlier in CANDIDATES order


def choose_score(metrics: pd.DataFrame) -> Choice:
    """The rule: the best simple score (baselines and CLV-model scores, highest ROC AUC; the BG/NBD
    P(aktiv) reference is never eligible) is used unless the ML candidate beats it by at least
    :data:`PREFER_SIMPLE_MARGIN` ROC AUC (then the ML model is used)."""
    baseline = _argmax(metrics, BASELINE_IDS)
    simple = _argmax(metrics, [k for k, v in CANDIDATES.items() if v in ("baseline", "model")])
    ml = None
    if "logit" in metrics.index:
        ml = "logit"
        if "hgb" in metrics.index and metrics.loc["hgb", "roc_auc"] >= metrics.loc["logit", "roc_auc"] + PREFER_BASELINE_MARGIN:
            ml = "hgb"
    best = simple
    if ml is not None and metrics.loc[ml, "roc_auc"] >= metrics.loc[simple, "roc_auc"] + PREFER_SIMPLE_MARGIN:
        best = ml
    return Choice(best=best, best_baseline=baseline, best_simple=simple, best_ml=ml)


def isotonic_curve(score, y, min_bin: int = CURVE_MIN_BIN, prior: float = CURVE_PRIOR) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Non-decreasing step curve (thresholds, probabilities) of the observed churn rate ``y`` (0/1)
    on ``score``; apply with :func:`apply_curve`.

    Customers are sorted by score and grouped into bins of at least ``min_bin`` customers (equal scores
    are never split); each bin's rate is shrunk towards the overall rate p by ``prior`` pseudo-customers,
    ``(churners + prior · p) / (customers + prior)``, so a small bin never gives a risk of exactly 0 or
    1; isotonic regression (weighted by customers) on the bins' mean scores makes the curve monotone.
    """
    s = np.asarray(score, dtype=float)
    yy = np.asarray(y, dtype=float)
    order = np.argsort(s, kind="stable")
    s, yy = s[order], yy[order]
    values, starts = np.unique(s, return_index=True)
    counts = np.diff(np.r_[starts, len(s)])
    churners = np.add.reduceat(yy, starts)
    bins: list[list[float]] = []  # [sum of scores, customers, churners]
    cur = [0.0, 0, 0.0]
    for v, n, k in zip(values, counts, churners):
        cur = [cur[0] + v * n, cur[1] + n, cur[2] + k]
        if cur[1] >= min_bin:
            bins.append(cur)
            cur = [0.0, 0, 0.0]
    if cur[1]:
        if bins:
            bins[-1] = [bins[-1][0] + cur[0], bins[-1][1] + cur[1], bins[-1][2] + cur[2]]
        else:
            bins.append(cur)
    b = np.asarray(bins, dtype=float)
    x, n, k = b[:, 0] / b[:, 1], b[:, 1], b[:, 2]
    rate = (k + prior * yy.mean()) / (n + prior)
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(increasing=True, y_min=0.0, y_max=1.0, out_of_bounds="clip")
    iso.fit(x, rate, sample_weight=n)
    return tuple(map(float, iso.X_thresholds_)), tuple(map(float, iso.y_thresholds_))


def apply_curve(curve, score) -> np.ndarray:
    """Probability for ``score`` on an :func:`isotonic_curve` (linear between thresholds, flat outside)."""
    x, y = curve
    return np.interp(np.asarray(score, dtype=float), np.asarray(x), np.asarray(y))


# ---------------------------------------------------------------- step 1: data

@dataclass(frozen=True, kw_only=True)
class Prepared:
    """Output of :func:`prepare`: window, cut-offs and the evaluation (t2) and training (t1) frames.

    ``skip`` is set when not even the comparison at t2 can run (frames ``None``); ``ml_skip`` when
    only the ML models cannot be trained (``X_train``/``y_train`` ``None``). Not part of the chapter
    result (the frames can be large).
    """

    window: WindowChoice
    skip: Skip | None = None
    ml_skip: Skip | None = None
    plan: CutoffPlan | None = None
    n_train: int = 0
    """Active customers at ``t1`` (0 without a training cut-off)."""
    n_test: int = 0
    """Active customers at ``t2``."""
    churn_rate_train: float = math.nan
    """Share (0–1) of customers at ``t1`` without a purchase in ``(t1, t2]``."""
    churn_rate_test: float = math.nan
    """Share (0–1) of customers at ``t2`` without a purchase in ``(t2, end]``."""
    channels: tuple[str, ...] = ()
    """Channels with a share feature (chosen at t1, reused at t2 and at the end)."""
    feature_names: tuple[str, ...] = ()
    """Features with information at ``t1`` (not all missing, not constant); empty without ML."""
    X_train: pd.DataFrame | None = None
    y_train: pd.Series | None = None
    X_test: pd.DataFrame | None = None
    y_test: pd.Series | None = None
    coded: tuple | None = field(default=None, repr=False)
    """``(transactions, purchases, ids)`` with integer customer codes (:func:`encode_customers`)."""

    @property
    def ok(self) -> bool:
        return self.skip is None

    @property
    def ml_ok(self) -> bool:
        return self.skip is None and self.ml_skip is None


def training_frame(coded, cutoff, window_days: int | None, channels, active_days):
    """``(X, y)`` at ``cutoff``: features of active customers and their labels (``y`` is ``None``
    without ``window_days``). ``coded`` = :func:`encode_customers` output; the index of ``X``
    and ``y`` holds the original customer ids."""
    tx, purchases, ids = coded
    X = active_at(build_features(tx, purchases, cutoff, channels=list(channels)), active_days)
    y = build_labels(purchases, X.index, cutoff, window_days) if window_days else None
    index = pd.Index(ids[X.index.to_numpy()], name="customer_id").astype(str)
    X.index = index
    if y is not None:
        y.index = index
    return X, y


def prepare(ds, cfg) -> Prepared:
    """Step 1: window, cut-offs, evaluation (t2) and training (t1) frames, data checks."""
    c = cfg.churn
    window = choose_window(ds.purchases, c.window_days)
    if ds.purchases.empty:
        return Prepared(window=window, skip=Skip("too_few_customers", {
            "n": 0, "min": int(c.min_customers), "cutoff": ds.observation_end}))
    if window.days is None:
        return Prepared(window=window, skip=Skip("no_window", {}))
    first = ds.purchases["order_date"].min()
    plan = plan_holdout(first, ds.observation_end, window.days)
    if isinstance(plan, Skip):
        return Prepared(window=window, skip=plan)
    two = plan_cutoffs(first, ds.observation_end, window.days)
    ml_skip = two if isinstance(two, Skip) else None
    if ml_skip is None:
        plan = two
    channels = tuple(top_channels(ds.transactions, plan.t1)) if plan.t1 is not None else ()
    coded = encode_customers(ds.transactions, ds.purchases)
    X2, y2 = training_frame(coded, plan.t2, plan.window_days, channels, c.active_days)
    sample: dict[str, Any] = dict(window=window, plan=plan, channels=channels, n_test=len(y2),
                                  churn_rate_test=float(y2.mean()) if len(y2) else math.nan)
    skip = check_sample(y2, c.min_customers, c.min_class_share, plan.t2)
    if skip is not None:
        return Prepared(skip=skip, **sample)
    if ml_skip is None:
        X1, y1 = training_frame(coded, plan.t1, plan.window_days, channels, c.active_days)
        sample.update(n_train=len(y1), churn_rate_train=float(y1.mean()) if len(y1) else math.nan)
        ml_skip = check_sample(y1, c.min_customers, c.min_class_share, plan.t1)
    if ml_skip is not None:
        return Prepared(ml_skip=ml_skip, X_test=X2, y_test=y2, coded=coded, **sample)
    # Drop features without information at the training cut-off (all missing or constant).
    keep = [col for col in X1.columns if X1[col].nunique(dropna=True) > 1]
    return Prepared(feature_names=tuple(keep), X_train=X1[keep], y_train=y1, X_test=X2[keep], y_test=y2,
                    coded=coded, **sample)


# ---------------------------------------------------------------- step 2: validation

class _ModelsNotPickled:
    """Fitted scikit-learn models (fields ``_MODELS``) are left out when a result is pickled: stored
    results are read by the chapter notebooks, which never use them, and loading them would import
    scikit-learn (1–2 s in every kernel and notebook that reads the churn chapter)."""

    _MODELS: tuple[str, ...] = ()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for name in self._MODELS:
            state[name] = {} if isinstance(state.get(name), Mapping) else None
        return state


@dataclass(frozen=True, kw_only=True)
class Evaluation(_ModelsNotPickled):
    """Out-of-time comparison of all candidates at ``t2`` (:func:`evaluate`)."""

    metrics: pd.DataFrame
    """Index candidate id (:data:`CANDIDATES` order, only those computed); columns ``roc_auc``,
    ``pr_auc``, ``base_rate``, ``top_decile_lift``, ``kind``."""
    choice: Choice
    """Which candidate is used (:func:`choose_score`)."""
    lift: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    """Candidate id -> :func:`lift_table` at ``t2``."""
    calibration: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    """ML model id -> :func:`calibration_table` at ``t2`` (only the ML models give probabilities)."""
    predictions: pd.DataFrame | None = None
    """Evaluation set at ``t2`` (index ``customer_id``, sorted, so that the lift of scores with ties –
    e.g. the number of purchases – does not depend on the input order): ``churned`` (0/1) and one
    score column per candidate (higher = more likely to churn)."""
    score_status: Mapping[str, str] = field(default_factory=dict)
    """CLV-model scores that could not be computed at t2 (id -> ``"failed"``)."""
    single_buyer_churn_rate: float = math.nan
    """Churn rate (0–1) at t2 among customers with exactly one purchase day before t2 (NaN if none)."""
    models: Mapping[str, Pipeline] = field(default_factory=dict, repr=False)
    """Fitted ML models (trained at t1); empty without ML and in a stored result."""
    _MODELS = ("models",)

    @property
    def best_model(self) -> str:
        """Id of the score used."""
        return self.choice.best


def fit_sample(X: pd.DataFrame, y: pd.Series, max_rows: int | None, random_state: int = 42):
    """``(X, y)`` or a random sample of ``max_rows`` customers of it (fitting cost is capped,
    evaluation and scoring still use every customer)."""
    if max_rows is None or len(X) <= max_rows:
        return X, y
    idx = np.random.default_rng(random_state).choice(len(X), size=max_rows, replace=False)
    idx.sort()
    return X.iloc[idx], y.iloc[idx]


def evaluate(prep: Prepared, purchases: pd.DataFrame, random_state: int = 42,
             max_fit_rows: int | None = 200_000, penalizer: float = 0.0) -> Evaluation:
    """Step 2: score every candidate on the active customers at t2, choose the one to use.

    ``purchases``: ``Dataset.purchases`` (for the label-free scores). ``prep`` must be ok; the ML
    models are fitted at t1 only when ``prep.ml_ok``.
    """
    y2 = prep.y_test
    scores, status = score_frame(purchases, prep.plan.t2, prep.plan.window_days, y2.index, penalizer=penalizer)
    predictions = pd.concat([y2.rename("churned"), scores], axis=1).sort_index()
    models, calib = {}, {}
    if prep.ml_ok:
        X2 = prep.X_test
        with threadpool_limits(THREADS):
            X1_fit, y1_fit = fit_sample(prep.X_train, prep.y_train, max_fit_rows, random_state)
            for name, model in make_models(random_state).items():
                model.fit(X1_fit, y1_fit)
                models[name] = model
                predictions[name] = pd.Series(model.predict_proba(X2)[:, 1], index=X2.index)
                calib[name] = calibration_table(predictions["churned"], predictions[name])
    metrics = metrics_frame(predictions)
    lift = {sid: lift_table(predictions["churned"], predictions[sid]) for sid in metrics.index}
    single = math.nan
    if "frequency" in prep.X_test.columns and (prep.X_test["frequency"] == 1).any():
        single = float(y2[prep.X_test["frequency"] == 1].mean())
    return Evaluation(metrics=metrics, choice=choose_score(metrics), lift=lift, calibration=calib,
                      predictions=predictions, score_status=status, single_buyer_churn_rate=single,
                      models=models)


# ---------------------------------------------------------------- step 3: drivers

@dataclass(frozen=True, kw_only=True)
class Drivers:
    """What the ML models rely on (:func:`explain`)."""

    coefficients: pd.DataFrame
    """Regression at t1: ``feature``, ``coefficient`` (standardized), ``univariate`` (Spearman with the label)."""
    importance: pd.DataFrame
    """Boosting at t2: ``feature``, ``importance`` (mean ROC AUC drop), ``importance_std``, ``direction``."""


def explain(prep: Prepared, evaluation: Evaluation, *, n_repeats: int = N_REPEATS,
            max_rows: int = MAX_IMPORTANCE_ROWS, random_state: int = 42) -> Drivers | None:
    """Step 3: standardized coefficients (regression, at t1) and permutation importance (boosting,
    at t2); ``None`` without trained ML models."""
    if not evaluation.models:
        return None
    with threadpool_limits(THREADS):
        coefficients = logit_coefficients(evaluation.models["logit"], prep.X_train, prep.y_train)
        importance = permutation_drivers(evaluation.models["hgb"], prep.X_test, prep.y_test,
                                         n_repeats=n_repeats, max_rows=max_rows, random_state=random_state)
    return Drivers(coefficients=coefficients, importance=importance)


# ---------------------------------------------------------------- step 4: current scores

@dataclass(frozen=True, kw_only=True)
class Scoring(_ModelsNotPickled):
    """Churn risk of the active customers at the observation end from the chosen score (:func:`score_current`)."""

    source: str
    """Id of the score actually used (= ``Evaluation.best_model`` unless its model could not be refit
    at the end; then the best baseline, see ``refit_failed``)."""
    churn_risk: pd.Series
    """Index ``customer_id`` (active customers): probability (0–1) of no purchase in the next N days."""
    n_inactive_excluded: int
    """Customers with a purchase before the end but none within ``churn.active_days`` (not covered)."""
    curve: tuple | None = None
    """Non-ML score: the :func:`isotonic_curve` (score at t2 -> observed churn) that made it a probability."""
    refit_failed: str | None = None
    """Id of the chosen CLV-model score whose refit at the end failed (then ``source`` is the best baseline)."""
    model: Pipeline | None = field(default=None, repr=False)
    """The chosen ML model refitted at ``t2`` (``None`` for other scores and in a stored result)."""
    _MODELS = ("model",)


def score_current(prep: Prepared, evaluation: Evaluation, ds, cfg) -> Scoring:
    """Step 4: the chosen score for every active customer at the observation end (see module doc)."""
    c = cfg.churn
    end, window = prep.plan.end, prep.plan.window_days
    recency = ds.customers["recency_days"]
    active = recency.index[recency < c.active_days] if c.active_days is not None else recency.index
    n_excluded = int(len(recency) - len(active))
    chosen = evaluation.best_model
    if CANDIDATES[chosen] == "ml":
        from sklearn.base import clone

        with threadpool_limits(THREADS):
            final = clone(evaluation.models[chosen]).fit(
                *fit_sample(prep.X_test, prep.y_test, c.max_fit_rows, c.random_state))
            X_now, _ = training_frame(prep.coded, end, None, prep.channels, c.active_days)
            features = list(prep.feature_names)
            risk = final.predict_proba(X_now[features])[:, 1] if len(X_now) else np.array([], dtype=float)
        return Scoring(source=chosen, churn_risk=pd.Series(risk, index=X_now.index, name="churn_risk"),
                       n_inactive_excluded=n_excluded, model=final)
    refit_failed = None
    now, status = score_frame(ds.purchases, end, window, active, only=(chosen,), penalizer=cfg.clv.penalizer)
    if chosen in status:
        refit_failed, chosen = chosen, evaluation.choice.best_baseline
        now, _ = score_frame(ds.purchases, end, window, active, only=(chosen,))
    pred = evaluation.predictions
    curve = isotonic_curve(pred[chosen], pred["churned"])
    risk = pd.Series(apply_curve(curve, now[chosen]), index=now.index, name="churn_risk")
    return Scoring(source=chosen, churn_risk=risk, n_inactive_excluded=n_excluded, curve=curve,
                   refit_failed=refit_failed)


# ---------------------------------------------------------------- step 5: recency-based risk for everybody else

@dataclass(frozen=True, kw_only=True)
class RecencyCalibration:
    """Observed churn at t2 by days since the last purchase (:func:`fit_recency_calibration`): the risk
    of every customer the chosen score does not cover (``risk_source = "recency_by_group"``)."""

    cutoff: pd.Timestamp | None = None
    """The calibration cut-off t2 = end − N (labels: no purchase in the following N days)."""
    window_days: int | None = None
    skip: Skip | None = None
    """Why no calibration is possible (then every uncovered customer's risk is unknown)."""
    n_customers: int = 0
    """Customers (active or not) with a purchase up to the cut-off."""
    split: bool = False
    """Separate curves for one-time and repeat buyers (both groups had >= ``CALIBRATION_MIN_GROUP``)."""
    curves: Mapping[str, tuple] = field(default_factory=dict)
    """``"one_time"``/``"repeat"`` (or ``"all"``) -> :func:`isotonic_curve` on days since the last purchase."""
    table: pd.DataFrame | None = None
    """Observed churn by band of :data:`RECENCY_BANDS` and group: ``band_start``, ``band_end`` (days,
    ``None`` = open), ``group`` (``one_time``/``repeat``), ``customers``, ``churn_rate`` (0–1, NaN if empty)."""
    max_recency: Mapping[str, float] = field(default_factory=dict)
    """Curve id -> the longest pause (days since the last purchase) observed at the cut-off; a longer
    pause gets the rate of the longest observed one (flat extrapolation, see :meth:`beyond`)."""

    @property
    def ok(self) -> bool:
        return self.skip is None

    def predict(self, recency_days, one_time) -> np.ndarray:
        """Probability (0–1) of no purchase in the next N days for days since the last purchase and
        a one-time-buyer flag (arrays of equal length)."""
        r = np.asarray(recency_days, dtype=float)
        if not self.split:
            return apply_curve(self.curves["all"], r)
        one = np.asarray(one_time, dtype=bool)
        return np.where(one, apply_curve(self.curves["one_time"], r), apply_curve(self.curves["repeat"], r))

    def beyond(self, recency_days, one_time) -> np.ndarray:
        """True where the pause is longer than any observed at the cut-off in the customer's group
        (the risk there is extrapolated flat)."""
        r = np.asarray(recency_days, dtype=float)
        if not self.split:
            return r > self.max_recency["all"]
        one = np.asarray(one_time, dtype=bool)
        return np.where(one, r > self.max_recency["one_time"], r > self.max_recency["repeat"])


def recency_table(recency: pd.Series, one_time: pd.Series, y: pd.Series) -> pd.DataFrame:
    """Observed churn rate by :data:`RECENCY_BANDS` band and group (see :attr:`RecencyCalibration.table`)."""
    edges = [*RECENCY_BANDS, np.inf]
    band = pd.cut(recency, edges, right=False, labels=False)
    rows = []
    for i, start in enumerate(RECENCY_BANDS):
        for group, mask in (("one_time", one_time), ("repeat", ~one_time)):
            sel = (band == i) & mask
            n = int(sel.sum())
            rows.append({"band_start": int(start), "band_end": int(edges[i + 1]) if i + 1 < len(RECENCY_BANDS) else None,
                         "group": group, "customers": n, "churn_rate": float(y[sel].mean()) if n else math.nan})
    return pd.DataFrame(rows)


def fit_recency_calibration(purchases: pd.DataFrame, first_date, end, window_days: int | None,
                            min_customers: int) -> RecencyCalibration:
    """Step 5: isotonic (non-decreasing) churn rate on days since the last purchase at t2 = end − N,
    fitted on ALL customers with a purchase up to t2, per one-time / repeat buyer group when both
    have at least :data:`CALIBRATION_MIN_GROUP` customers.

    Minimums: a churn window, ``N + MIN_HISTORY_DAYS`` days of history and ``min_customers``
    customers at t2 (``cfg.churn.min_calibration_customers``); otherwise ``skip`` says which failed.
    """
    if window_days is None:
        return RecencyCalibration(skip=Skip("no_window", {}))
    plan = plan_holdout(first_date, end, window_days)
    if isinstance(plan, Skip):
        return RecencyCalibration(window_days=int(window_days), skip=plan)
    t2 = plan.t2
    p = purchases.loc[purchases["order_date"] <= t2, ["customer_id", "order_date"]]
    g = p.groupby("customer_id", observed=True)["order_date"]
    last, count = g.max(), g.size()
    base = dict(cutoff=t2, window_days=int(window_days), n_customers=int(len(last)))
    if len(last) < min_customers:
        return RecencyCalibration(**base, skip=Skip("too_few_customers", {
            "n": int(len(last)), "min": int(min_customers), "cutoff": t2}))
    recency = (t2 - last).dt.days.astype(float)
    one_time = count == 1
    y = build_labels(purchases, last.index, t2, window_days)
    split = bool(one_time.sum() >= CALIBRATION_MIN_GROUP and (~one_time).sum() >= CALIBRATION_MIN_GROUP)
    if split:
        curves = {"one_time": isotonic_curve(recency[one_time], y[one_time]),
                  "repeat": isotonic_curve(recency[~one_time], y[~one_time])}
        longest = {"one_time": float(recency[one_time].max()), "repeat": float(recency[~one_time].max())}
    else:
        curves = {"all": isotonic_curve(recency, y)}
        longest = {"all": float(recency.max())}
    return RecencyCalibration(**base, split=split, curves=curves, table=recency_table(recency, one_time, y),
                              max_recency=longest)


# ---------------------------------------------------------------- step 6: value at risk

def customer_frame(ds, cfg, clv_result, scoring: Scoring | None, fallback: RecencyCalibration | None) -> pd.DataFrame:
    """All customers of ``ds.customers`` (index ``customer_id``) with ``churn_risk`` (the chosen
    score's risk, NaN where it does not cover the customer), ``risk``, ``risk_source``, ``value``,
    ``value_source``, ``value_at_risk`` – computed with :mod:`helpers.analysis.value` only (see
    there for the definitions). ``clv_result``: the CLV chapter's result or ``None``."""
    customers = ds.customers
    index = customers.index
    model_risk = scoring.churn_risk if scoring is not None else None
    fallback_risk = None
    if fallback is not None and fallback.ok:
        fallback_risk = pd.Series(fallback.predict(customers["recency_days"], customers["n_purchases"] == 1),
                                  index=index)
    risk = value_def.customer_risk(index, model_risk=model_risk,
                                   model_source=scoring.source if scoring is not None else None,
                                   fallback_risk=fallback_risk)
    horizon = value_def.value_horizon_months(clv_result, cfg.clv.horizon_months)
    standin = None
    if ds.has_revenue:
        standin = value_def.standin_value(value_def.margin_run_rate(customers, cfg.gross_margin), horizon,
                                          cfg.clv.discount_rate_yearly)
    clv_active = value_def.value_if_retained(getattr(clv_result, "customers", None))
    val = value_def.customer_value(index, clv_if_active=clv_active, standin=standin)
    scores = (model_risk.reindex(index).astype(float) if model_risk is not None
              else pd.Series(np.nan, index=index, dtype=float))
    out = pd.DataFrame({"churn_risk": scores.to_numpy()}, index=index).join(risk).join(val)
    out["value_at_risk"] = value_def.value_at_risk(out["risk"], out["value"])
    return out


def expected_loss(customers: pd.DataFrame) -> pd.DataFrame:
    """View on :func:`customer_frame`: the customers with a known ``value_at_risk`` (EUR), largest first."""
    known = customers[customers["value_at_risk"].notna()]
    return known.sort_values("value_at_risk", ascending=False, kind="stable")


def terciles(values: pd.Series) -> pd.Series:
    """Group 1/2/3 = lower/middle/upper third by percentile rank; tied values share a group."""
    pct = values.rank(method="average", pct=True)
    return np.ceil(pct * 3 - 1e-9).clip(1, 3).astype(int)


def risk_value_matrix(loss: pd.DataFrame) -> pd.DataFrame:
    """3 x 3 matrix of risk tercile x value tercile (1 = low, 3 = high) of :func:`expected_loss`.

    Long format: ``risk_group``, ``value_group``, ``customers``, ``value`` (EUR sum),
    ``value_at_risk`` (EUR sum). All nine cells are present (zeros where empty).
    """
    df = pd.DataFrame({
        "risk_group": terciles(loss["risk"]),
        "value_group": terciles(loss["value"]),
        "value": loss["value"],
        "value_at_risk": loss["value_at_risk"],
    })
    agg = df.groupby(["risk_group", "value_group"]).agg(
        customers=("value", "size"), value=("value", "sum"), value_at_risk=("value_at_risk", "sum"))
    full = pd.MultiIndex.from_product([[1, 2, 3], [1, 2, 3]], names=["risk_group", "value_group"])
    return agg.reindex(full, fill_value=0).reset_index()


def top_customers(loss: pd.DataFrame, customers: pd.DataFrame, n: int = TOP_N) -> pd.DataFrame:
    """The ``n`` customers with the largest value at risk: ``risk``, ``risk_source``, ``value``,
    ``value_source``, ``value_at_risk`` (from ``loss``) and ``recency_days``, ``n_purchases``
    (from ``customers`` = ``Dataset.customers``)."""
    top = loss.head(n)[["risk", "risk_source", "value", "value_source", "value_at_risk"]].copy()
    info = customers.reindex(top.index)
    top["recency_days"] = info["recency_days"].to_numpy()
    top["n_purchases"] = info["n_purchases"].to_numpy()
    return top



# ---------------------------------------------------------------- result

@dataclass(frozen=True, kw_only=True)
class ChurnKeyFigures:
    """The numbers the chapter prints and other chapters quote (``None`` = not computable, never NaN)."""

    window_days: int | None = None
    """Churn window N in days (churned = no purchase in the N days after a cut-off); ``None``
    without repeat purchases."""
    window_source: str = "config"
    """``"config"`` (set in the settings) or ``"data"`` (P90 of inter-purchase times)."""
    n_train: int = 0
    """Active customers at the training cut-off t1 (count; 0 without ML training)."""
    n_test: int = 0
    """Active customers at the evaluation cut-off t2 (count)."""
    churn_rate_train: float | None = None
    """Base rate at t1: share (0–1) without a purchase in the window after t1."""
    churn_rate_test: float | None = None
    """Base rate at t2: share (0–1) without a purchase in the window after t2."""
    single_buyer_churn_rate: float | None = None
    """Base rate (0–1) at t2 among customers with exactly one purchase day."""
    best_model: str | None = None
    """Id of the score used for the covered customers (a :data:`CANDIDATES` id); ``None`` when the
    comparison was skipped."""
    best_kind: str | None = None
    """Its kind: ``baseline``, ``model`` (CLV-model score) or ``ml``."""
    roc_auc: float | None = None
    """ROC AUC (0.5 = chance, 1 = perfect) of the score used, at t2."""
    pr_auc: float | None = None
    """PR AUC (average precision, 0–1) of the score used, at t2."""
    top_decile_lift: float | None = None
    """Churn rate among the 10 % highest scores / overall churn rate (factor) of the score used."""
    baseline_model: str | None = None
    """The better baseline (``recency`` or ``frequency``)."""
    baseline_roc_auc: float | None = None
    """ROC AUC of that baseline at t2 (the number every model is compared with)."""
    ml_model: str | None = None
    """The ML candidate (``logit``/``hgb``); ``None`` when the ML models could not be trained."""
    ml_roc_auc: float | None = None
    """ROC AUC of the ML candidate at t2."""
    ml_beats_baseline: bool | None = None
    """The ML candidate's ROC AUC exceeds the best baseline's by at least ``PREFER_SIMPLE_MARGIN``;
    ``None`` without ML."""
    recency_roc_auc: float | None = None
    """ROC AUC of "days since the last purchase" alone at t2."""
    frequency_roc_auc: float | None = None
    """ROC AUC of "number of purchases" alone at t2."""
    bgnbd_purchases_roc_auc: float | None = None
    """ROC AUC of the BG/NBD expected purchases in the window (negated) at t2."""
    pareto_roc_auc: float | None = None
    """ROC AUC of 1 − P(aktiv) of Pareto/NBD at t2."""
    mbgnbd_roc_auc: float | None = None
    """ROC AUC of 1 − P(aktiv) of MBG/NBD at t2."""
    bgnbd_roc_auc: float | None = None
    """ROC AUC of 1 − P(aktiv) of BG/NBD at t2 (the known-bad reference, never used)."""
    logit_roc_auc: float | None = None
    """ROC AUC of the logistic regression at t2."""
    hgb_roc_auc: float | None = None
    """ROC AUC of gradient boosting at t2."""
    n_customers: int = 0
    """All customers (``Dataset.customers``), count."""
    n_scored: int = 0
    """Customers covered by the score used (active at the observation end), count."""
    n_risk_50: int | None = None
    """Of those, customers with churn risk >= 50 % (count)."""
    n_inactive_excluded: int = 0
    """Customers not covered by the score used because their last purchase is ``churn.active_days``
    or more days old (they get the recency-based risk)."""
    n_risk_model: int = 0
    """Customers whose risk is the score used (``risk_source == best_model``)."""
    n_risk_fallback: int = 0
    """Customers whose risk is the recency-based estimate (``risk_source == "recency_by_group"``)."""
    n_risk_none: int = 0
    """Customers without a risk (count)."""
    fallback_ok: bool = False
    """The recency-based estimate could be calibrated."""
    n_risk_extrapolated: int = 0
    """Customers with the recency-based risk whose pause is longer than any observed at the
    calibration cut-off in their group (they get the rate of the longest observed pause)."""
    value_at_risk: float | None = None
    """Value at risk (EUR over ``value_horizon_months``): sum of ``value_at_risk`` over all customers
    (the one number quoted everywhere); ``None`` when no customer has both a risk and a value."""
    value_at_risk_low: float | None = None
    """Lower end (EUR) of the 80 % range of :attr:`value_at_risk` (``value.value_at_risk_range``:
    the CLV chapter's relative range of the value if retained); ``None`` without that range."""
    value_at_risk_high: float | None = None
    """Upper end (EUR) of the 80 % range of :attr:`value_at_risk`."""
    value_at_risk_scored: float | None = None
    """Part of :attr:`value_at_risk` (EUR) of the customers covered by the score used."""
    value_at_risk_fallback: float | None = None
    """Part of :attr:`value_at_risk` (EUR) of the customers with the recency-based risk."""
    value_horizon_months: int | None = None
    """Horizon H (months) of ``value`` and so of the value at risk (the CLV chapter's effective
    horizon, else ``clv.horizon_months``); ``None`` without values."""
    n_value_at_risk: int = 0
    """Customers with a known value at risk (count)."""
    n_without_value: int = 0
    """Customers with a risk but without a value (count)."""
    n_value_clv: int = 0
    """Customers whose value is the CLV chapter's value if retained (``value_source == "clv_if_active"``)."""
    n_value_run_rate: int = 0
    """Customers whose value is the stand-in from their margin run-rate (``"run_rate"``)."""
    n_value_none: int = 0
    """Customers without a value."""
    n_over_365: int = 0
    """Customers whose last purchase is more than 365 days before the observation end (count)."""
    n_over_365_at_risk: int = 0
    """Of those, customers with a value at risk > 0 (count)."""
    value_at_risk_over_365: float | None = None
    """Value at risk (EUR) of those customers."""
    share_top_risk_third: float | None = None
    """Share (0–1) of :attr:`value_at_risk` in the upper risk third of the risk × value matrix."""
    n_high_risk_high_value: int = 0
    """Customers in the upper third of both risk and value (count)."""
    value_at_risk_high_risk_high_value: float | None = None
    """Value at risk (EUR) of those customers."""


def _number(value) -> float | None:
    """``None`` for None/NaN/inf: key figures say "not computable" with ``None``, never NaN."""
    return float(value) if value is not None and math.isfinite(float(value)) else None


def key_figures(*, window: WindowChoice, customers: pd.DataFrame, matrix: pd.DataFrame | None,
                horizon_months: int, prep: Prepared | None = None, evaluation: Evaluation | None = None,
                scoring: Scoring | None = None, fallback: RecencyCalibration | None = None,
                recency_days: pd.Series | None = None, one_time: pd.Series | None = None,
                clv_key=None) -> ChurnKeyFigures:
    """The typed key figures from the step outputs (pure). ``recency_days``: ``Dataset.customers``'
    days since the last purchase (for the > 365 days figures), ``one_time``: its one-time-buyer flag
    (for the extrapolated fallback risks); ``clv_key``: the CLV chapter's key figures (for the 80 % range)."""
    out: dict[str, Any] = {"window_days": window.days, "window_source": window.source}
    if prep is not None:
        out.update(n_train=prep.n_train, n_test=prep.n_test, churn_rate_train=_number(prep.churn_rate_train),
                   churn_rate_test=_number(prep.churn_rate_test))
    if evaluation is not None:
        m, ch = evaluation.metrics, evaluation.choice
        auc = {sid: float(m.loc[sid, "roc_auc"]) for sid in m.index}
        used = scoring.source if scoring is not None else ch.best
        out.update(
            single_buyer_churn_rate=_number(evaluation.single_buyer_churn_rate), best_model=used,
            best_kind=CANDIDATES[used], roc_auc=auc[used], pr_auc=float(m.loc[used, "pr_auc"]),
            top_decile_lift=float(m.loc[used, "top_decile_lift"]),
            baseline_model=ch.best_baseline, baseline_roc_auc=auc[ch.best_baseline],
            ml_model=ch.best_ml, ml_roc_auc=auc.get(ch.best_ml) if ch.best_ml else None,
            ml_beats_baseline=(bool(auc[ch.best_ml] >= auc[ch.best_baseline] + PREFER_SIMPLE_MARGIN)
                               if ch.best_ml else None),
            recency_roc_auc=auc.get("recency"), frequency_roc_auc=auc.get("frequency"),
            bgnbd_purchases_roc_auc=auc.get("bgnbd_purchases"), pareto_roc_auc=auc.get("pareto_alive"),
            mbgnbd_roc_auc=auc.get("mbgnbd_alive"), bgnbd_roc_auc=auc.get("bgnbd_alive"),
            logit_roc_auc=auc.get("logit"), hgb_roc_auc=auc.get("hgb"),
        )
    if scoring is not None:
        out.update(n_scored=int(len(scoring.churn_risk)), n_risk_50=int((scoring.churn_risk >= 0.5).sum()),
                   n_inactive_excluded=int(scoring.n_inactive_excluded))
    var = customers["value_at_risk"]
    known = var.notna()
    vsrc = customers["value_source"].value_counts()
    rsrc = customers["risk_source"]
    total = float(var[known].sum()) if known.any() else None
    low, high = value_def.value_at_risk_range(total, clv_key)
    from_model = (rsrc != value_def.FALLBACK_SOURCE) & (rsrc != "none")
    from_fallback = rsrc == value_def.FALLBACK_SOURCE
    has_value = int(vsrc.get("clv_if_active", 0) + vsrc.get("run_rate", 0)) > 0
    out.update(
        n_customers=int(len(customers)), value_at_risk=total, value_at_risk_low=low, value_at_risk_high=high,
        value_at_risk_scored=float(var[known & from_model].sum()) if (known & from_model).any() else None,
        value_at_risk_fallback=float(var[known & from_fallback].sum()) if (known & from_fallback).any() else None,
        value_horizon_months=int(horizon_months) if has_value else None, n_value_at_risk=int(known.sum()),
        n_without_value=int((customers["risk"].notna() & customers["value"].isna()).sum()),
        n_value_clv=int(vsrc.get("clv_if_active", 0)), n_value_run_rate=int(vsrc.get("run_rate", 0)),
        n_value_none=int(vsrc.get("none", 0)),
        n_risk_model=int(from_model.sum()), n_risk_fallback=int(from_fallback.sum()),
        n_risk_none=int((rsrc == "none").sum()), fallback_ok=bool(fallback is not None and fallback.ok),
    )
    if recency_days is not None and one_time is not None and fallback is not None and fallback.ok:
        r, o = recency_days.reindex(customers.index), one_time.reindex(customers.index)
        out["n_risk_extrapolated"] = int((from_fallback.to_numpy() & fallback.beyond(r, o)).sum())
    if recency_days is not None:
        old = recency_days.reindex(customers.index) > ACTIVE_YEAR_DAYS
        old_var = var[old]
        out.update(n_over_365=int(old.sum()), n_over_365_at_risk=int((old_var > 0).sum()),
                   value_at_risk_over_365=float(old_var.sum()) if old_var.notna().any() else None)
    if matrix is not None and total:
        hh = matrix[(matrix["risk_group"] == 3) & (matrix["value_group"] == 3)].iloc[0]
        top_risk = float(matrix.loc[matrix["risk_group"] == 3, "value_at_risk"].sum())
        out.update(share_top_risk_third=top_risk / total, n_high_risk_high_value=int(hh["customers"]),
                   value_at_risk_high_risk_high_value=float(hh["value_at_risk"]))
    return ChurnKeyFigures(**out)


@dataclass(frozen=True, kw_only=True)
class ChurnResult(_ModelsNotPickled, ChapterResult):
    """Everything the chapter shows. ``skip`` (reason id) is set when the candidate comparison could
    not run; ``ml_skip`` when only the ML models could not be trained. The risk and the value at risk
    (``customers``, ``key.value_at_risk``) are computed in any case (as far as the data allow)."""

    key: ChurnKeyFigures
    """Typed key figures (see :class:`ChurnKeyFigures`)."""
    window: WindowChoice
    """The churn window and where it came from."""
    skip_info: Skip | None = None
    """The skip reason with the numbers for the German text (``skip_info.code == skip``)."""
    ml_skip: Skip | None = None
    """Why the ML models were not trained (the comparison of the other candidates still ran)."""
    plan: CutoffPlan | None = None
    """Cut-offs t1 (``None`` without ML training), t2 and the observation end; ``None`` when skipped
    before planning."""
    channels: tuple[str, ...] = ()
    """Channels with a share feature."""
    feature_names: tuple[str, ...] = ()
    """Features used by the ML models."""
    evaluation: Evaluation | None = None
    """Out-of-time comparison (metrics, lift, calibration, predictions); ``None`` when skipped."""
    drivers: Drivers | None = None
    """Coefficients and permutation importance; ``None`` without ML models."""
    scoring: Scoring | None = None
    """The chosen score at the observation end (source, calibration curve); ``None`` when skipped."""
    fallback: RecencyCalibration | None = None
    """The recency-based risk of the customers the chosen score does not cover."""
    final_model: Pipeline | None = field(default=None, repr=False)
    """The chosen ML model refitted at t2 (``None`` when another score is used and in a stored result)."""
    _MODELS = ("final_model",)
    customers: pd.DataFrame | None = None
    """ALL customers (index ``customer_id``): ``churn_risk`` (0–1, the score used; NaN where it does
    not cover the customer), ``risk`` (0–1), ``risk_source`` (a :data:`CANDIDATES` id,
    ``recency_by_group`` or ``none``), ``value`` (EUR over ``key.value_horizon_months`` if retained),
    ``value_source`` (``clv_if_active``/``run_rate``/``none``), ``value_at_risk`` (EUR) – see
    :mod:`helpers.analysis.value`."""
    matrix: pd.DataFrame | None = None
    """:func:`risk_value_matrix` over all customers with a known value at risk; ``None`` when there are none."""
    top: pd.DataFrame | None = None
    """:func:`top_customers`: the 15 customers with the largest value at risk."""


def compute(ds, cfg, upstream: Mapping[str, ChapterResult]) -> ChurnResult:
    """The chapter's pure entry point (see module doc). ``upstream["clv"]``: the CLV result (its
    ``customers`` give ``clv_if_active``, its ``key`` the horizon and the range; may be missing or
    skipped). Never raises for data reasons; never mutates ``ds``, ``cfg`` or ``upstream``."""
    c = cfg.churn
    prep = prepare(ds, cfg)
    evaluation = drivers = scoring = None
    if prep.ok:
        evaluation = evaluate(prep, ds.purchases, c.random_state, c.max_fit_rows, cfg.clv.penalizer)
        drivers = explain(prep, evaluation, random_state=c.random_state)
        scoring = score_current(prep, evaluation, ds, cfg)
    if ds.purchases.empty:
        fallback = RecencyCalibration(skip=Skip("too_few_customers", {
            "n": 0, "min": int(c.min_calibration_customers), "cutoff": ds.observation_end}))
    else:
        fallback = fit_recency_calibration(ds.purchases, ds.purchases["order_date"].min(), ds.observation_end,
                                           prep.window.days, c.min_calibration_customers)
    clv_result = upstream.get("clv")
    customers = customer_frame(ds, cfg, clv_result, scoring, fallback)
    loss = expected_loss(customers)
    matrix = risk_value_matrix(loss) if len(loss) else None
    key = key_figures(window=prep.window, customers=customers, matrix=matrix,
                      horizon_months=value_def.value_horizon_months(clv_result, cfg.clv.horizon_months),
                      prep=prep, evaluation=evaluation, scoring=scoring, fallback=fallback,
                      recency_days=ds.customers["recency_days"], one_time=ds.customers["n_purchases"] == 1,
                      clv_key=getattr(clv_result, "key", None))
    return ChurnResult(
        skip=prep.skip.code if prep.skip is not None else None, skip_info=prep.skip, ml_skip=prep.ml_skip,
        key=key, window=prep.window, plan=prep.plan, channels=prep.channels,
        feature_names=prep.feature_names, evaluation=evaluation, drivers=drivers, scoring=scoring,
        fallback=fallback, final_model=scoring.model if scoring is not None else None, customers=customers,
        matrix=matrix, top=top_customers(loss, ds.customers) if len(loss) else None,
    )
