"""Churn prediction with scikit-learn: time-based validation, metrics, drivers, value at risk.

Entry point :func:`compute` (chapter ``churn``, see :mod:`helpers.chapters`). It runs small pure
steps, each returning a new frozen object, with churn window N days and observation end E:

1. :func:`prepare` – window (:func:`~helpers.analysis.churn_features.choose_window`), cut-offs
   ``t2 = E - N`` and ``t1 = t2 - N``, features of active customers at ``t1`` (labels in
   ``(t1, t1 + N]``) and at ``t2`` (labels in ``(t2, E]``), data checks → :class:`Prepared`.
   The out-of-time evaluation at ``t2`` is the headline figure (never a random split).
2. :func:`evaluate` – logistic regression (signed log, median imputation, scaling) as the
   interpretable baseline and ``HistGradientBoostingClassifier``, both fitted at ``t1`` and scored
   at ``t2``; the BG/NBD model (``1 - P(alive)`` at ``t2``) is scored on the same customers and
   window; the better model is chosen → :class:`Evaluation`.
3. :func:`explain` – standardized coefficients and permutation importance → :class:`Drivers`.
4. :func:`score_current` – the chosen model is refit at ``t2`` (the latest cut-off with a complete
   window) and scores every active customer at ``E``: ``churn_risk`` = probability of no purchase
   in the next N days → :class:`Scoring`.
5. Value at risk for ALL customers with :mod:`helpers.analysis.value` (the one definition):
   ``risk`` (model score, else ``1 − P(aktiv)``), ``value`` (CLV, else 12-month margin),
   ``value_at_risk = risk × value``; :func:`expected_loss` (view), :func:`risk_value_matrix`,
   :func:`top_customers` and the typed :class:`ChurnKeyFigures`.

Metrics: ROC AUC, PR AUC (average precision), top-decile lift (churn rate in the 10 %
highest scores / overall churn rate). Money is EUR. Model ids: ``logit``, ``hgb``, ``bgnbd``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from ..results import ChapterResult
from . import value as value_def
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
"""Days of history required before the training cut-off t1."""
PREFER_BASELINE_MARGIN = 0.01
"""Boosting must beat the baseline's ROC AUC by this much to become the final model."""
THREADS = 1
"""OpenMP/BLAS threads for fitting and scoring. The models are small; on a shared machine
more threads make HistGradientBoosting many times slower (spin-waiting), not faster."""
MARGIN_HORIZON_MONTHS = 12
"""Horizon (months) of the value stand-in "contribution margin of the last 12 months"."""
TOP_N = 15
"""Rows of the table of customers with the largest value at risk."""
N_REPEATS = 3
"""Permutation-importance repeats."""
MAX_IMPORTANCE_ROWS = 2000
"""Permutation importance is computed on a stratified sample of at most this many customers."""


@dataclass(frozen=True)
class Skip:
    """Why the model part cannot run. ``code`` is one of ``no_window``, ``short_history``,
    ``too_few_customers``, ``class_imbalance``; ``details`` holds the numbers for the text."""

    code: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CutoffPlan:
    """Training cut-off ``t1``, evaluation cut-off ``t2 = t1 + N``, observation end ``end = t2 + N``."""

    t1: pd.Timestamp
    t2: pd.Timestamp
    end: pd.Timestamp
    window_days: int


def plan_cutoffs(first_date, end, window_days: int, min_history_days: int = MIN_HISTORY_DAYS) -> CutoffPlan | Skip:
    """Two cut-offs N days apart that end at ``end``; :class:`Skip` when the history is too short.

    Needs at least ``min_history_days`` days of history up to ``t1`` (first day and ``t1``
    included), i.e. ``end - first_date + 1 >= 2 * window_days + min_history_days`` days.
    """
    end = pd.Timestamp(end).normalize()
    first_date = pd.Timestamp(first_date).normalize()
    n = pd.Timedelta(days=int(window_days))
    t2 = end - n
    t1 = t2 - n
    available = int((end - first_date).days) + 1
    needed = int(2 * window_days + min_history_days)
    if available < needed:
        return Skip("short_history", {"available_days": available, "needed_days": needed,
                                      "window_days": int(window_days)})
    return CutoffPlan(t1=t1, t2=t2, end=end, window_days=int(window_days))


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


# ---------------------------------------------------------------- BG/NBD comparison

def bgnbd_churn_score(purchases: pd.DataFrame, cutoff, customers: pd.Index) -> tuple[pd.Series | None, str | None]:
    """``1 - P(alive)`` at ``cutoff`` from a BG/NBD model fitted on purchases up to ``cutoff``.

    Uses ``helpers.analysis.clv`` (``rfm_summary``, ``fit_bgnbd``, ``p_alive``). Returns
    ``(score, None)`` or ``(None, "failed")`` when the model fails.
    """
    from . import clv

    cutoff = pd.Timestamp(cutoff).normalize()
    try:
        summary = clv.rfm_summary(purchases[purchases["order_date"] <= cutoff], cutoff)
        fit = clv.fit_bgnbd(summary)
        alive = clv.p_alive(fit, summary)
    except Exception:  # noqa: BLE001 - any fitting failure only removes the comparison
        return None, "failed"
    if alive is None:
        return None, "failed"
    alive = pd.Series(np.asarray(alive, dtype=float), index=summary.index) if not isinstance(alive, pd.Series) else alive
    score = (1.0 - alive.astype(float)).reindex(customers)
    if score.isna().any() or len(score) == 0:
        return None, "failed"
    return score.rename("bgnbd_score"), None


# ---------------------------------------------------------------- step 1: data

@dataclass(frozen=True, kw_only=True)
class Prepared:
    """Output of :func:`prepare`: window, cut-offs and the training/evaluation frames.

    ``skip`` is set when the data cannot support the model; the frames are then ``None``.
    Not part of the chapter result (the frames can be large).
    """

    window: WindowChoice
    skip: Skip | None = None
    plan: CutoffPlan | None = None
    n_train: int = 0
    """Active customers at ``t1``."""
    n_test: int = 0
    """Active customers at ``t2``."""
    churn_rate_train: float = math.nan
    """Share (0–1) of customers at ``t1`` without a purchase in ``(t1, t1 + N]``."""
    churn_rate_test: float = math.nan
    """Share (0–1) of customers at ``t2`` without a purchase in ``(t2, end]``."""
    channels: tuple[str, ...] = ()
    """Channels with a share feature (chosen at t1, reused at t2 and at the end)."""
    feature_names: tuple[str, ...] = ()
    """Features with information at ``t1`` (not all missing, not constant)."""
    X_train: pd.DataFrame | None = None
    y_train: pd.Series | None = None
    X_test: pd.DataFrame | None = None
    y_test: pd.Series | None = None
    coded: tuple | None = field(default=None, repr=False)
    """``(transactions, purchases, ids)`` with integer customer codes (:func:`encode_customers`)."""

    @property
    def ok(self) -> bool:
        return self.skip is None


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
    """Step 1: window, cut-offs, training (t1) and evaluation (t2) frames, data checks."""
    c = cfg.churn
    window = choose_window(ds.purchases, c.window_days)
    if ds.purchases.empty:
        return Prepared(window=window, skip=Skip("too_few_customers", {
            "n": 0, "min": int(c.min_customers), "cutoff": ds.observation_end}))
    if window.days is None:
        return Prepared(window=window, skip=Skip("no_window", {}))
    plan = plan_cutoffs(ds.purchases["order_date"].min(), ds.observation_end, window.days)
    if isinstance(plan, Skip):
        return Prepared(window=window, skip=plan)
    channels = tuple(top_channels(ds.transactions, plan.t1))
    coded = encode_customers(ds.transactions, ds.purchases)
    X1, y1 = training_frame(coded, plan.t1, plan.window_days, channels, c.active_days)
    X2, y2 = training_frame(coded, plan.t2, plan.window_days, channels, c.active_days)
    sample = dict(
        window=window, plan=plan, channels=channels,
        n_train=len(y1), n_test=len(y2),
        churn_rate_train=float(y1.mean()) if len(y1) else math.nan,
        churn_rate_test=float(y2.mean()) if len(y2) else math.nan,
    )
    for y, cutoff in ((y1, plan.t1), (y2, plan.t2)):
        skip = check_sample(y, c.min_customers, c.min_class_share, cutoff)
        if skip is not None:
            return Prepared(skip=skip, **sample)
    # Drop features without information at the training cut-off (all missing or constant).
    keep = [col for col in X1.columns if X1[col].nunique(dropna=True) > 1]
    return Prepared(feature_names=tuple(keep), X_train=X1[keep], y_train=y1, X_test=X2[keep], y_test=y2,
                    coded=coded, **sample)


# ---------------------------------------------------------------- step 2: validation

@dataclass(frozen=True, kw_only=True)
class Evaluation:
    """Out-of-time validation at ``t2`` of the models fitted at ``t1`` (:func:`evaluate`)."""

    metrics: pd.DataFrame
    """Index model id (``logit``, ``hgb``, ``bgnbd``); columns ``roc_auc``, ``pr_auc``, ``base_rate``,
    ``top_decile_lift``."""
    best_model: str
    """Id of the chosen model (``logit`` or ``hgb``)."""
    lift: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    """Model id -> :func:`lift_table` at ``t2``."""
    calibration: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    """Model id -> :func:`calibration_table` at ``t2`` (``logit``, ``hgb``)."""
    predictions: pd.DataFrame | None = None
    """Evaluation set at ``t2`` (index ``customer_id``): ``churned`` (0/1) and one score column per model."""
    bgnbd_status: str | None = None
    """``None`` when the BG/NBD comparison ran, else ``failed``."""
    single_buyer_churn_rate: float = math.nan
    """Churn rate (0–1) at t2 among customers with exactly one purchase day before t2 (NaN if none)."""
    models: Mapping[str, Pipeline] = field(default_factory=dict, repr=False)
    """Fitted validation models (trained at t1)."""


def fit_sample(X: pd.DataFrame, y: pd.Series, max_rows: int | None, random_state: int = 42):
    """``(X, y)`` or a random sample of ``max_rows`` customers of it (fitting cost is capped,
    evaluation and scoring still use every customer)."""
    if max_rows is None or len(X) <= max_rows:
        return X, y
    idx = np.random.default_rng(random_state).choice(len(X), size=max_rows, replace=False)
    idx.sort()
    return X.iloc[idx], y.iloc[idx]


def evaluate(prep: Prepared, purchases: pd.DataFrame, random_state: int = 42,
             max_fit_rows: int | None = 200_000) -> Evaluation:
    """Step 2: fit both models at t1, score at t2, compare with BG/NBD, choose the final model.

    ``purchases``: ``Dataset.purchases`` (for the BG/NBD comparison). ``prep`` must be ok.
    """
    X1, y1, X2, y2 = prep.X_train, prep.y_train, prep.X_test, prep.y_test
    rows, probs, models, lift, calib = {}, {}, {}, {}, {}
    with threadpool_limits(THREADS):
        X1_fit, y1_fit = fit_sample(X1, y1, max_fit_rows, random_state)
        for name, model in make_models(random_state).items():
            model.fit(X1_fit, y1_fit)
            models[name] = model
            probs[name] = model.predict_proba(X2)[:, 1]
            rows[name] = score_metrics(y2, probs[name])
            lift[name] = lift_table(y2, probs[name])
            calib[name] = calibration_table(y2, probs[name])
    predictions = pd.DataFrame({"churned": y2, **probs}, index=X2.index)
    single = math.nan
    if "frequency" in X2.columns and (X2["frequency"] == 1).any():
        single = float(y2[X2["frequency"] == 1].mean())
    bg, bg_status = bgnbd_churn_score(purchases, prep.plan.t2, X2.index)
    if bg is not None:
        rows["bgnbd"] = score_metrics(y2, bg.to_numpy())
        lift["bgnbd"] = lift_table(y2, bg.to_numpy())
        predictions["bgnbd"] = bg.to_numpy()
    metrics = pd.DataFrame.from_dict(rows, orient="index")
    better = metrics.loc["hgb", "roc_auc"] >= metrics.loc["logit", "roc_auc"] + PREFER_BASELINE_MARGIN
    return Evaluation(metrics=metrics, best_model="hgb" if better else "logit", lift=lift, calibration=calib,
                      predictions=predictions, bgnbd_status=bg_status, single_buyer_churn_rate=single,
                      models=models)


# ---------------------------------------------------------------- step 3: drivers

@dataclass(frozen=True, kw_only=True)
class Drivers:
    """What the models rely on (:func:`explain`)."""

    coefficients: pd.DataFrame
    """Baseline at t1: ``feature``, ``coefficient`` (standardized), ``univariate`` (Spearman with the label)."""
    importance: pd.DataFrame
    """Boosting at t2: ``feature``, ``importance`` (mean ROC AUC drop), ``importance_std``, ``direction``."""


def explain(prep: Prepared, evaluation: Evaluation, *, n_repeats: int = N_REPEATS,
            max_rows: int = MAX_IMPORTANCE_ROWS, random_state: int = 42) -> Drivers:
    """Step 3: standardized coefficients (baseline, at t1) and permutation importance (boosting, at t2)."""
    with threadpool_limits(THREADS):
        coefficients = logit_coefficients(evaluation.models["logit"], prep.X_train, prep.y_train)
        importance = permutation_drivers(evaluation.models["hgb"], prep.X_test, prep.y_test,
                                         n_repeats=n_repeats, max_rows=max_rows, random_state=random_state)
    return Drivers(coefficients=coefficients, importance=importance)


# ---------------------------------------------------------------- step 4: current scores

@dataclass(frozen=True, kw_only=True)
class Scoring:
    """Churn risk of the active customers at the observation end (:func:`score_current`)."""

    churn_risk: pd.Series
    """Index ``customer_id`` (active customers): probability (0–1) of no purchase in the next N days."""
    n_inactive_excluded: int
    """Customers with a purchase before the end but none within ``churn.active_days`` (not scored)."""
    model: Pipeline = field(repr=False)
    """The chosen model refitted at ``t2``."""


def score_current(prep: Prepared, evaluation: Evaluation, cfg) -> Scoring:
    """Step 4: refit the chosen model at t2 (latest cut-off with a complete window) and score
    every active customer at the observation end."""
    with threadpool_limits(THREADS):
        final = clone(evaluation.models[evaluation.best_model]).fit(
            *fit_sample(prep.X_test, prep.y_test, cfg.churn.max_fit_rows, cfg.churn.random_state)
        )
        end = prep.plan.end
        X_now, _ = training_frame(prep.coded, end, None, prep.channels, cfg.churn.active_days)
        purchases = prep.coded[1]
        n_all = int(purchases.loc[purchases["order_date"] <= end, "customer_id"].nunique())
        features = list(prep.feature_names)
        risk = final.predict_proba(X_now[features])[:, 1] if len(X_now) else np.array([], dtype=float)
    return Scoring(churn_risk=pd.Series(risk, index=X_now.index, name="churn_risk"),
                   n_inactive_excluded=n_all - len(X_now), model=final)


# ---------------------------------------------------------------- step 5: value at risk

def customer_frame(ds, cfg, clv_customers: pd.DataFrame | None, churn_risk: pd.Series | None) -> pd.DataFrame:
    """All customers of ``ds.customers`` (index ``customer_id``) with ``churn_risk`` (NaN where not
    scored), ``risk``, ``risk_source``, ``value``, ``value_source``, ``value_at_risk`` – computed
    with :mod:`helpers.analysis.value` only (see there for the definitions)."""
    index = ds.customers.index
    clv = p_alive = None
    if clv_customers is not None:
        clv = clv_customers["clv"] if "clv" in clv_customers.columns else None
        p_alive = clv_customers["p_alive"] if "p_alive" in clv_customers.columns else None
    revenue = value_def.revenue_last_12m(ds.transactions, ds.observation_end) if ds.has_revenue else None
    scores = (churn_risk.reindex(index).astype(float) if churn_risk is not None
              else pd.Series(np.nan, index=index, dtype=float))
    out = pd.DataFrame({"churn_risk": scores.to_numpy()}, index=index)
    out = out.join(value_def.customer_risk(index, churn_risk, p_alive))
    out = out.join(value_def.customer_value(index, clv, revenue, cfg.gross_margin))
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
    """The numbers the chapter prints and other chapters quote (``None``/NaN = not computable)."""

    window_days: int | None = None
    """Churn window N in days (churned = no purchase in the N days after a cut-off); ``None``
    without repeat purchases."""
    window_source: str = "config"
    """``"config"`` (set in the settings) or ``"data"`` (P90 of inter-purchase times)."""
    n_train: int = 0
    """Active customers at the training cut-off t1 (count)."""
    n_test: int = 0
    """Active customers at the evaluation cut-off t2 (count)."""
    churn_rate_train: float | None = None
    """Base rate at t1: share (0–1) without a purchase in the window after t1."""
    churn_rate_test: float | None = None
    """Base rate at t2: share (0–1) without a purchase in the window after t2."""
    single_buyer_churn_rate: float | None = None
    """Base rate (0–1) at t2 among customers with exactly one purchase day."""
    best_model: str | None = None
    """Id of the chosen model (``logit``/``hgb``); ``None`` when the model part was skipped."""
    roc_auc: float | None = None
    """ROC AUC (0.5 = chance, 1 = perfect) of the chosen model at t2."""
    pr_auc: float | None = None
    """PR AUC (average precision, 0–1) of the chosen model at t2."""
    top_decile_lift: float | None = None
    """Churn rate among the 10 % highest scores / overall churn rate (factor) of the chosen model."""
    logit_roc_auc: float | None = None
    """ROC AUC of the logistic regression at t2."""
    hgb_roc_auc: float | None = None
    """ROC AUC of gradient boosting at t2."""
    bgnbd_roc_auc: float | None = None
    """ROC AUC of ``1 − P(alive)`` (BG/NBD) at t2; ``None`` when the comparison failed."""
    n_customers: int = 0
    """All customers (``Dataset.customers``), count."""
    n_scored: int = 0
    """Active customers with a model churn risk at the observation end (count)."""
    n_risk_50: int = 0
    """Scored customers with churn risk >= 50 % (count)."""
    n_inactive_excluded: int = 0
    """Customers not scored because their last purchase is ``churn.active_days`` or more days old."""
    value_at_risk: float | None = None
    """Value at risk (EUR): sum of ``value_at_risk`` over all customers (the one
    number quoted everywhere); NaN when no customer has both a risk and a value."""
    value_at_risk_scored: float | None = None
    """Part of :attr:`value_at_risk` (EUR) of the customers scored by the churn model."""
    value_horizon_months: int | None = None
    """Horizon (months) of ``value``: ``cfg.clv.horizon_months`` when CLV values are used, 12 for the
    margin stand-in only, ``None`` without values."""
    n_value_at_risk: int = 0
    """Customers with a known value at risk (count)."""
    n_without_value: int = 0
    """Customers with a risk but without a value (count)."""
    n_value_clv: int = 0
    """Customers whose value is the CLV (``value_source == "clv"``)."""
    n_value_margin_12m: int = 0
    """Customers whose value is the 12-month contribution margin stand-in."""
    n_value_none: int = 0
    """Customers without a value."""
    n_risk_churn: int = 0
    """Customers whose risk is the churn model's score."""
    n_risk_p_alive: int = 0
    """Customers whose risk is ``1 − P(aktiv)`` from the CLV chapter."""
    n_risk_none: int = 0
    """Customers without a risk."""
    share_top_risk_third: float | None = None
    """Share (0–1) of :attr:`value_at_risk` in the upper risk third of the risk × value matrix."""
    n_high_risk_high_value: int = 0
    """Customers in the upper third of both risk and value (count)."""
    value_at_risk_high_risk_high_value: float | None = None
    """Value at risk (EUR) of those customers."""


def _number(value: float) -> float | None:
    """``None`` for NaN/inf: key figures say "not computable" with ``None``, never NaN."""
    return float(value) if value is not None and math.isfinite(value) else None


def key_figures(*, window: WindowChoice, customers: pd.DataFrame, matrix: pd.DataFrame | None,
                clv_horizon_months: int, prep: Prepared | None = None, evaluation: Evaluation | None = None,
                scoring: Scoring | None = None) -> ChurnKeyFigures:
    """The typed key figures from the step outputs (pure)."""
    out: dict[str, Any] = {"window_days": window.days, "window_source": window.source}
    if prep is not None:
        out.update(n_train=prep.n_train, n_test=prep.n_test, churn_rate_train=_number(prep.churn_rate_train),
                   churn_rate_test=_number(prep.churn_rate_test))
    if evaluation is not None:
        m, best = evaluation.metrics, evaluation.best_model
        out.update(
            single_buyer_churn_rate=_number(evaluation.single_buyer_churn_rate), best_model=best,
            roc_auc=float(m.loc[best, "roc_auc"]), pr_auc=float(m.loc[best, "pr_auc"]),
            top_decile_lift=float(m.loc[best, "top_decile_lift"]),
            logit_roc_auc=float(m.loc["logit", "roc_auc"]), hgb_roc_auc=float(m.loc["hgb", "roc_auc"]),
            bgnbd_roc_auc=float(m.loc["bgnbd", "roc_auc"]) if "bgnbd" in m.index else None,
        )
    if scoring is not None:
        out.update(n_scored=int(len(scoring.churn_risk)), n_risk_50=int((scoring.churn_risk >= 0.5).sum()),
                   n_inactive_excluded=int(scoring.n_inactive_excluded))
    var = customers["value_at_risk"]
    known = var.notna()
    vsrc = customers["value_source"].value_counts()
    rsrc = customers["risk_source"].value_counts()
    total = float(var[known].sum()) if known.any() else None
    n_clv = int(vsrc.get("clv", 0))
    n_margin = int(vsrc.get("margin_12m", 0))
    horizon = int(clv_horizon_months) if n_clv else (MARGIN_HORIZON_MONTHS if n_margin else None)
    out.update(
        n_customers=int(len(customers)), value_at_risk=total,
        value_at_risk_scored=(float(var[known & (customers["risk_source"] == "churn")].sum())
                              if scoring is not None and known.any() else None),
        value_horizon_months=horizon, n_value_at_risk=int(known.sum()),
        n_without_value=int((customers["risk"].notna() & customers["value"].isna()).sum()),
        n_value_clv=n_clv, n_value_margin_12m=n_margin, n_value_none=int(vsrc.get("none", 0)),
        n_risk_churn=int(rsrc.get("churn", 0)), n_risk_p_alive=int(rsrc.get("p_alive", 0)),
        n_risk_none=int(rsrc.get("none", 0)),
    )
    if matrix is not None:
        hh = matrix[(matrix["risk_group"] == 3) & (matrix["value_group"] == 3)].iloc[0]
        top_risk = float(matrix.loc[matrix["risk_group"] == 3, "value_at_risk"].sum())
        out.update(share_top_risk_third=top_risk / total if total else None,
                   n_high_risk_high_value=int(hh["customers"]),
                   value_at_risk_high_risk_high_value=float(hh["value_at_risk"]))
    return ChurnKeyFigures(**out)


@dataclass(frozen=True, kw_only=True)
class ChurnResult(ChapterResult):
    """Everything the chapter shows. ``skip`` (reason id) is set when the model part could not run;
    the value at risk (``customers``, ``key.value_at_risk``) is computed in any case."""

    key: ChurnKeyFigures
    """Typed key figures (see :class:`ChurnKeyFigures`)."""
    window: WindowChoice
    """The churn window and where it came from."""
    skip_info: Skip | None = None
    """The skip reason with the numbers for the German text (``skip_info.code == skip``)."""
    plan: CutoffPlan | None = None
    """Cut-offs t1, t2 and the observation end; ``None`` when skipped before planning."""
    channels: tuple[str, ...] = ()
    """Channels with a share feature."""
    feature_names: tuple[str, ...] = ()
    """Features used by the models."""
    evaluation: Evaluation | None = None
    """Out-of-time validation (metrics, lift, calibration, predictions); ``None`` when skipped."""
    drivers: Drivers | None = None
    """Coefficients and permutation importance; ``None`` when skipped."""
    final_model: Pipeline | None = field(default=None, repr=False)
    """The chosen model refitted at t2 that produced ``churn_risk``."""
    customers: pd.DataFrame | None = None
    """ALL customers (index ``customer_id``): ``churn_risk`` (0–1, NaN where not scored), ``risk`` (0–1),
    ``risk_source`` (``churn``/``p_alive``/``none``), ``value`` (EUR), ``value_source``
    (``clv``/``margin_12m``/``none``), ``value_at_risk`` (EUR) – see :mod:`helpers.analysis.value`."""
    matrix: pd.DataFrame | None = None
    """:func:`risk_value_matrix` over all customers with a known value at risk; ``None`` when there are none."""
    top: pd.DataFrame | None = None
    """:func:`top_customers`: the 15 customers with the largest value at risk."""


def compute(ds, cfg, upstream: Mapping[str, ChapterResult]) -> ChurnResult:
    """The chapter's pure entry point (see module docstring). ``upstream["clv"]``: the CLV result
    (its ``customers`` give ``clv`` and ``p_alive``; may be ``None``). Never raises for data
    reasons; never mutates ``ds``, ``cfg`` or ``upstream``."""
    c = cfg.churn
    prep = prepare(ds, cfg)
    evaluation = drivers = scoring = None
    if prep.ok:
        evaluation = evaluate(prep, ds.purchases, c.random_state, c.max_fit_rows)
        drivers = explain(prep, evaluation, random_state=c.random_state)
        scoring = score_current(prep, evaluation, cfg)
    clv_result = upstream.get("clv")
    clv_customers = getattr(clv_result, "customers", None)
    customers = customer_frame(ds, cfg, clv_customers, scoring.churn_risk if scoring is not None else None)
    loss = expected_loss(customers)
    matrix = risk_value_matrix(loss) if len(loss) else None
    key = key_figures(window=prep.window, customers=customers, matrix=matrix,
                      clv_horizon_months=cfg.clv.horizon_months, prep=prep, evaluation=evaluation,
                      scoring=scoring)
    return ChurnResult(
        skip=prep.skip.code if prep.skip is not None else None,
        skip_info=prep.skip, key=key, window=prep.window, plan=prep.plan, channels=prep.channels,
        feature_names=prep.feature_names, evaluation=evaluation, drivers=drivers,
        final_model=scoring.model if scoring is not None else None, customers=customers, matrix=matrix,
        top=top_customers(loss, ds.customers) if len(loss) else None,
    )
