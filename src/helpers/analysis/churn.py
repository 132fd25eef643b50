"""Churn prediction with scikit-learn: time-based validation, metrics, drivers, value at risk.

Workflow (:func:`run_churn`), with churn window N days and observation end E:

1. Cut-offs: ``t2 = E - N`` and ``t1 = t2 - N``. Train on features at ``t1`` with labels
   in ``(t1, t1 + N]``; evaluate on features at ``t2`` with labels in ``(t2, E]``.
   The out-of-time evaluation at ``t2`` is the headline figure (never a random split).
2. Models: logistic regression (signed log, median imputation, scaling) as the
   interpretable baseline and ``HistGradientBoostingClassifier``. The BG/NBD model
   (``1 - P(alive)`` at ``t2``) is scored on the same customers and window.
3. The better model is refit at ``t2`` (the latest cut-off with a complete window) and
   scores every active customer at ``E``: ``churn_risk`` = probability of no purchase
   in the next N days.

Metrics: ROC AUC, PR AUC (average precision), top-decile lift (churn rate in the 10 %
highest scores / overall churn rate). Money is EUR.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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

from .churn_features import (
    WindowChoice,
    active_at,
    build_features,
    build_labels,
    choose_window,
    encode_customers,
    margin_last_12_months,
    top_channels,
)

MIN_HISTORY_DAYS = 90
"""Days of history required before the training cut-off t1."""
PREFER_BASELINE_MARGIN = 0.01
"""Boosting must beat the baseline's ROC AUC by this much to become the final model."""
THREADS = 1
"""OpenMP/BLAS threads for fitting and scoring. The models are small; on a shared machine
more threads make HistGradientBoosting many times slower (spin-waiting), not faster."""


@dataclass(frozen=True)
class Skip:
    """Why the model part cannot run. ``code`` is one of ``no_window``, ``short_history``,
    ``too_few_customers``, ``class_imbalance``; ``details`` holds the numbers for the text."""

    code: str
    details: dict[str, Any] = field(default_factory=dict)


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


def permutation_drivers(pipeline: Pipeline, X: pd.DataFrame, y: pd.Series, *, n_repeats: int = 3,
                        max_rows: int = 2000, random_state: int = 42) -> pd.DataFrame:
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
    ``(score, None)`` or ``(None, reason_code)`` when the model is unavailable or fails.
    """
    try:
        from . import clv
        rfm_summary, fit_bgnbd, p_alive = clv.rfm_summary, clv.fit_bgnbd, clv.p_alive
    except (ImportError, AttributeError):
        return None, "unavailable"
    cutoff = pd.Timestamp(cutoff).normalize()
    try:
        summary = rfm_summary(purchases[purchases["order_date"] <= cutoff], cutoff)
        fit = fit_bgnbd(summary)
        alive = p_alive(fit, summary)
    except Exception:  # noqa: BLE001 - any fitting failure only removes the comparison
        return None, "failed"
    if alive is None:
        return None, "failed"
    alive = pd.Series(np.asarray(alive, dtype=float), index=summary.index) if not isinstance(alive, pd.Series) else alive
    score = (1.0 - alive.astype(float)).reindex(customers)
    if score.isna().any() or len(score) == 0:
        return None, "failed"
    return score.rename("bgnbd_score"), None


# ---------------------------------------------------------------- orchestration

@dataclass
class ChurnResult:
    """Everything the chapter shows. ``skip`` is set when the model part could not run."""

    window: WindowChoice
    skip: Skip | None = None
    plan: CutoffPlan | None = None
    n_train: int = 0
    n_test: int = 0
    churn_rate_train: float = float("nan")
    churn_rate_test: float = float("nan")
    metrics: pd.DataFrame | None = None
    """Index model (``logit``, ``hgb``, ``bgnbd``); columns ``roc_auc``, ``pr_auc``, ``base_rate``, ``top_decile_lift``."""
    lift: dict[str, pd.DataFrame] = field(default_factory=dict)
    calibration: dict[str, pd.DataFrame] = field(default_factory=dict)
    coefficients: pd.DataFrame | None = None
    importance: pd.DataFrame | None = None
    best_model: str | None = None
    bgnbd_status: str | None = None
    """``None`` when the BG/NBD comparison ran, else ``unavailable`` / ``failed``."""
    scores: pd.DataFrame | None = None
    """Index ``customer_id``: ``churn_risk`` (0-1) of active customers at the observation end."""
    feature_names: list[str] = field(default_factory=list)
    n_inactive_excluded: int = 0
    channels: list[str] = field(default_factory=list)
    """Channels with a share feature (chosen at t1, reused at t2 and at the end)."""
    frames: dict[str, Any] = field(default_factory=dict, repr=False)
    """``X_train``/``y_train`` (cut-off t1) and ``X_test``/``y_test`` (cut-off t2)."""
    coded: tuple | None = field(default=None, repr=False)
    """``(transactions, purchases, ids)`` with integer customer codes (:func:`encode_customers`)."""
    models: dict[str, Pipeline] = field(default_factory=dict, repr=False)
    """Fitted validation models (trained at t1)."""
    """Customers with a purchase before the end but no purchase within ``active_days``."""
    single_buyer_churn_rate: float = float("nan")
    """Churn rate at t2 among customers with exactly one purchase day before t2 (NaN if none)."""
    predictions: pd.DataFrame | None = None
    """Evaluation set at ``t2`` (index ``customer_id``): ``churned`` (0/1) and one score column per model."""

    @property
    def ok(self) -> bool:
        return self.skip is None


def training_frame(coded, cutoff, window_days: int | None, channels, active_days):
    """``(X, y)`` at ``cutoff``: features of active customers and their labels (``y`` is ``None``
    without ``window_days``). ``coded`` = :func:`encode_customers` output; the index of ``X``
    and ``y`` holds the original customer ids."""
    tx, purchases, ids = coded
    X = active_at(build_features(tx, purchases, cutoff, channels=channels), active_days)
    y = build_labels(purchases, X.index, cutoff, window_days) if window_days else None
    index = pd.Index(ids[X.index.to_numpy()], name="customer_id").astype(str)
    X.index = index
    if y is not None:
        y.index = index
    return X, y


def prepare(ds, cfg) -> ChurnResult:
    """Step 1: window, cut-offs, training (t1) and evaluation (t2) frames, data checks.

    The frames are stored in ``result.frames`` (``X_train``, ``y_train``, ``X_test``, ``y_test``).
    """
    c = cfg.churn
    result = ChurnResult(window=choose_window(ds.purchases, c.window_days))
    if ds.purchases.empty:
        result.skip = Skip("too_few_customers", {"n": 0, "min": int(c.min_customers), "cutoff": ds.observation_end})
        return result
    if result.window.days is None:
        result.skip = Skip("no_window", {})
        return result
    plan = plan_cutoffs(ds.purchases["order_date"].min(), ds.observation_end, result.window.days)
    if isinstance(plan, Skip):
        result.skip = plan
        return result
    result.plan = plan
    result.channels = top_channels(ds.transactions, plan.t1)
    result.coded = encode_customers(ds.transactions, ds.purchases)
    X1, y1 = training_frame(result.coded, plan.t1, plan.window_days, result.channels, c.active_days)
    X2, y2 = training_frame(result.coded, plan.t2, plan.window_days, result.channels, c.active_days)
    result.n_train, result.n_test = len(y1), len(y2)
    result.churn_rate_train = float(y1.mean()) if len(y1) else float("nan")
    result.churn_rate_test = float(y2.mean()) if len(y2) else float("nan")
    for y, cutoff in ((y1, plan.t1), (y2, plan.t2)):
        skip = check_sample(y, c.min_customers, c.min_class_share, cutoff)
        if skip is not None:
            result.skip = skip
            return result
    # Drop features without information at the training cut-off (all missing or constant).
    keep = [col for col in X1.columns if X1[col].nunique(dropna=True) > 1]
    result.feature_names = keep
    result.frames = {"X_train": X1[keep], "y_train": y1, "X_test": X2[keep], "y_test": y2}
    return result


def fit_sample(X: pd.DataFrame, y: pd.Series, max_rows: int | None, random_state: int = 42):
    """``(X, y)`` or a random sample of ``max_rows`` customers of it (fitting cost is capped,
    evaluation and scoring still use every customer)."""
    if max_rows is None or len(X) <= max_rows:
        return X, y
    idx = np.random.default_rng(random_state).choice(len(X), size=max_rows, replace=False)
    idx.sort()
    return X.iloc[idx], y.iloc[idx]


def evaluate(result: ChurnResult, ds, random_state: int = 42, max_fit_rows: int | None = 200_000) -> ChurnResult:
    """Step 2: fit both models at t1, score at t2, compare with BG/NBD, choose the final model."""
    if not result.ok:
        return result
    with threadpool_limits(THREADS):
        f = result.frames
        X1, y1, X2, y2 = f["X_train"], f["y_train"], f["X_test"], f["y_test"]
        rows, probs = {}, {}
        X1_fit, y1_fit = fit_sample(X1, y1, max_fit_rows, random_state)
        for name, model in make_models(random_state).items():
            model.fit(X1_fit, y1_fit)
            result.models[name] = model
            probs[name] = model.predict_proba(X2)[:, 1]
            rows[name] = score_metrics(y2, probs[name])
            result.lift[name] = lift_table(y2, probs[name])
            result.calibration[name] = calibration_table(y2, probs[name])
        result.predictions = pd.DataFrame({"churned": y2, **probs}, index=X2.index)
        if "frequency" in X2.columns and (X2["frequency"] == 1).any():
            result.single_buyer_churn_rate = float(y2[X2["frequency"] == 1].mean())
        bg, result.bgnbd_status = bgnbd_churn_score(ds.purchases, result.plan.t2, X2.index)
        if bg is not None:
            rows["bgnbd"] = score_metrics(y2, bg.to_numpy())
            result.lift["bgnbd"] = lift_table(y2, bg.to_numpy())
            result.predictions["bgnbd"] = bg.to_numpy()
        result.metrics = pd.DataFrame.from_dict(rows, orient="index")
        m = result.metrics
        better = m.loc["hgb", "roc_auc"] >= m.loc["logit", "roc_auc"] + PREFER_BASELINE_MARGIN
        result.best_model = "hgb" if better else "logit"
        return result


def explain(result: ChurnResult, *, n_repeats: int = 3, max_rows: int = 2000, random_state: int = 42) -> ChurnResult:
    """Step 3: standardized coefficients (baseline, at t1) and permutation importance (boosting, at t2)."""
    if not result.ok:
        return result
    with threadpool_limits(THREADS):
        f = result.frames
        result.coefficients = logit_coefficients(result.models["logit"], f["X_train"], f["y_train"])
        result.importance = permutation_drivers(result.models["hgb"], f["X_test"], f["y_test"],
                                                n_repeats=n_repeats, max_rows=max_rows, random_state=random_state)
        return result


def score_current(result: ChurnResult, ds, cfg) -> ChurnResult:
    """Step 4: refit the chosen model at t2 (latest cut-off with a complete window) and score
    every active customer at the observation end (``result.scores``, column ``churn_risk``)."""
    if not result.ok:
        return result
    with threadpool_limits(THREADS):
        f = result.frames
        final = clone(result.models[result.best_model]).fit(
            *fit_sample(f["X_test"], f["y_test"], cfg.churn.max_fit_rows, cfg.churn.random_state)
        )
        end = result.plan.end
        X_now, _ = training_frame(result.coded, end, None, result.channels, cfg.churn.active_days)
        purchases = result.coded[1]
        n_all = int(purchases.loc[purchases["order_date"] <= end, "customer_id"].nunique())
        result.n_inactive_excluded = n_all - len(X_now)
        risk = final.predict_proba(X_now[result.feature_names])[:, 1] if len(X_now) else np.array([], dtype=float)
        result.scores = pd.DataFrame({"churn_risk": risk}, index=X_now.index)
        return result


def run_churn(ds, cfg, *, n_repeats: int = 3, max_importance_rows: int = 2000) -> ChurnResult:
    """Full chapter analysis (steps :func:`prepare`, :func:`evaluate`, :func:`explain`,
    :func:`score_current`). Never raises for data reasons: sets ``skip`` instead."""
    result = prepare(ds, cfg)
    evaluate(result, ds, cfg.churn.random_state, cfg.churn.max_fit_rows)
    explain(result, n_repeats=n_repeats, max_rows=max_importance_rows, random_state=cfg.churn.random_state)
    return score_current(result, ds, cfg)


# ---------------------------------------------------------------- value at risk

def customer_value(ds, gross_margin: float, clv: pd.DataFrame | None) -> tuple[pd.Series | None, str]:
    """Value per customer (EUR) for the value-at-risk view, and its source.

    ``clv`` column of the CLV chapter's result when given (source ``"clv"``); otherwise the
    contribution margin of the last 12 months = net revenue x ``gross_margin`` (source
    ``"margin12"``); ``(None, "none")`` without revenue data.
    """
    if clv is not None and "clv" in clv.columns and clv["clv"].notna().any():
        return clv["clv"].astype(float).rename("value"), "clv"
    if not ds.has_revenue:
        return None, "none"
    return margin_last_12_months(ds.transactions, ds.observation_end, gross_margin), "margin12"


def expected_loss(risk: pd.Series, value: pd.Series) -> pd.DataFrame:
    """Per customer: ``churn_risk``, ``value`` (EUR, missing = 0 for margin, dropped for NaN CLV)
    and ``expected_loss = churn_risk * value`` (EUR), sorted by expected loss, largest first."""
    df = pd.DataFrame({"churn_risk": risk})
    df["value"] = value.reindex(df.index)
    df = df[df["value"].notna()]
    df["value"] = df["value"].clip(lower=0)
    df["expected_loss"] = df["churn_risk"] * df["value"]
    return df.sort_values("expected_loss", ascending=False)


def terciles(values: pd.Series) -> pd.Series:
    """Group 1/2/3 = lower/middle/upper third by percentile rank; tied values share a group."""
    pct = values.rank(method="average", pct=True)
    return np.ceil(pct * 3 - 1e-9).clip(1, 3).astype(int)


def risk_value_matrix(loss: pd.DataFrame) -> pd.DataFrame:
    """3 x 3 matrix of risk tercile x value tercile (1 = low, 3 = high).

    Long format: ``risk_group``, ``value_group``, ``customers``, ``value`` (EUR sum),
    ``expected_loss`` (EUR sum). All nine cells are present (zeros where empty).
    """
    df = pd.DataFrame({
        "risk_group": terciles(loss["churn_risk"]),
        "value_group": terciles(loss["value"]),
        "value": loss["value"],
        "expected_loss": loss["expected_loss"],
    })
    agg = df.groupby(["risk_group", "value_group"]).agg(
        customers=("value", "size"), value=("value", "sum"), expected_loss=("expected_loss", "sum"))
    full = pd.MultiIndex.from_product([[1, 2, 3], [1, 2, 3]], names=["risk_group", "value_group"])
    return agg.reindex(full, fill_value=0).reset_index()
