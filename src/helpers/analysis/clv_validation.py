"""Holdout validation of the purchase-count models, model choice and the data-support rules.

The data are split by date: each model is fitted on the calibration period
(start .. end - holdout) and predicts the number of purchase days of every calibration
customer in the holdout period (end - holdout, end]; predictions are compared with what
actually happened. The model with the smallest holdout error is chosen (:func:`rank_models`).

Model-free rules about what the data can support live here too: the effective holdout length
(:func:`effective_holdout_weeks`) and the longest CLV horizon (:func:`supported_horizon_months`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

VERDICT_THRESHOLDS = (0.10, 0.25)
"""Absolute percentage error of the holdout total: <= 10 % ``good``, <= 25 % ``usable``, else ``weak``."""
MAX_GROUP = 6
"""Calibration-frequency groups 0..6 and "7+"."""
INDEPENDENCE_LIMIT = 0.3
"""|Pearson r| between frequency and mean spend above which Gamma-Gamma's assumption is doubtful."""


DAYS_PER_MONTH = 365.25 / 12
"""Length of one CLV month in days (30,44)."""
HORIZON_TOLERANCE_DAYS = 7
"""A month of history counts as covered when at most this many days of it are missing."""
MAE_TOLERANCE = 0.02
"""Holdout MAEs within this relative distance of the best count as equal (then the smaller bias wins)."""
MODEL_ORDER = ("pareto", "mbgnbd", "bgnbd")
"""Order of the purchase models when two are equal on every criterion of :func:`rank_models`."""


def history_days(first_date, end) -> int:
    """Days covered by the data: first purchase day to the observation end, both included."""
    return int((pd.Timestamp(end).normalize() - pd.Timestamp(first_date).normalize()).days) + 1


def supported_horizon_months(days: int) -> int:
    """Longest CLV horizon (months) the data support: the full months of history (at least 1).

    Rule: a forecast never reaches further into the future than the data reach into the past.
    A month (365,25/12 days) counts as covered when at most :data:`HORIZON_TOLERANCE_DAYS` of it
    are missing, so an export of 1 January to 30 April supports 4 months, not 3.
    """
    return max(1, int(np.floor((int(days) + HORIZON_TOLERANCE_DAYS) / DAYS_PER_MONTH)))


def effective_holdout_weeks(first_date, end, wanted: int, minimum: int) -> int | None:
    """Holdout length (weeks) used: ``wanted``, shortened to half the history when the history is
    shorter than two holdouts (the calibration period must be at least as long as the holdout);
    ``None`` when that leaves fewer than ``minimum`` weeks (then there is no holdout test)."""
    if wanted <= 0:
        return None
    half = history_days(first_date, end) // 14  # full weeks in half the history
    weeks = min(int(wanted), int(half))
    return weeks if weeks >= max(int(minimum), 1) else None


def rank_models(comparison: pd.DataFrame) -> list[str]:
    """Purchase-model ids, best first, by the holdout (the chapter's model choice).

    ``comparison``: index model id, columns ``usable`` (bool), ``mae`` and ``pct_error``.
    Rule: only usable models with a finite MAE take part; the smallest mean absolute error per
    customer wins; models whose MAE is within :data:`MAE_TOLERANCE` (2 %) of the best count as
    equal, and among those the smallest absolute bias of the total (``|pct_error|``) wins; then
    :data:`MODEL_ORDER`. The rest follow by MAE.
    """
    c = comparison[comparison["usable"].astype(bool) & np.isfinite(comparison["mae"].astype(float))]
    if c.empty:
        return []
    order = {k: i for i, k in enumerate(MODEL_ORDER)}
    best = float(c["mae"].min())
    near = c["mae"] <= best * (1 + MAE_TOLERANCE) + 1e-12
    bias = c["pct_error"].astype(float).abs().fillna(np.inf)
    key = pd.DataFrame({"near": ~near, "bias": bias.where(near, 0.0), "mae": c["mae"],
                        "order": [order.get(k, len(order)) for k in c.index]}, index=c.index)
    return list(key.sort_values(["near", "bias", "mae", "order"]).index)


def calibration_end(first_date: pd.Timestamp, end: pd.Timestamp, holdout_weeks: int) -> pd.Timestamp | None:
    """Last day of the calibration period, or ``None`` when the history is too short.

    A holdout needs a calibration period at least as long as the holdout itself
    (history >= 2 x ``holdout_weeks``; days counted inclusively, so 01.01.–30.09.1997 is a
    calibration period of 273 days = 39 weeks).
    """
    end = pd.Timestamp(end).normalize()
    cal_end = end - pd.Timedelta(days=7 * int(holdout_weeks))
    if holdout_weeks <= 0 or history_days(first_date, cal_end) < 7 * holdout_weeks:
        return None
    return cal_end


def holdout_frame(predicted: pd.Series, frequency: pd.Series, actual: pd.Series) -> pd.DataFrame:
    """Per calibration customer: ``frequency`` (calibration), ``predicted`` and ``actual`` holdout purchases."""
    df = pd.DataFrame({"frequency": frequency, "predicted": predicted})
    df["actual"] = actual.reindex(df.index).fillna(0).astype(float)
    return df


def by_frequency_group(hf: pd.DataFrame, max_group: int = MAX_GROUP) -> pd.DataFrame:
    """Mean predicted and actual holdout purchases per calibration-frequency group ``0..max_group``, ``7+``.

    Columns ``group`` (str), ``customers``, ``predicted``, ``actual`` (means per customer).
    """
    g = np.minimum(hf["frequency"].to_numpy(), max_group + 1)
    out = hf.assign(g=g).groupby("g").agg(
        customers=("actual", "size"), predicted=("predicted", "mean"), actual=("actual", "mean"))
    out = out.reindex(range(max_group + 2))
    out["customers"] = out["customers"].fillna(0).astype(int)
    out.insert(0, "group", [str(i) for i in range(max_group + 1)] + [f"{max_group + 1}+"])
    return out.reset_index(drop=True)


def holdout_metrics(hf: pd.DataFrame) -> dict[str, float]:
    """Totals and errors of the holdout comparison.

    ``predicted_total``, ``actual_total`` (purchase days), ``pct_error`` = (predicted - actual)
    / actual (NaN when no actual purchase), ``mae`` = mean |predicted - actual| per customer.
    """
    pred, act = hf["predicted"].to_numpy(), hf["actual"].to_numpy()
    total_a = float(act.sum())
    return {
        "customers": int(len(hf)),
        "predicted_total": float(pred.sum()),
        "actual_total": total_a,
        "pct_error": (float(pred.sum()) - total_a) / total_a if total_a > 0 else float("nan"),
        "mae": float(np.mean(np.abs(pred - act))) if len(hf) else float("nan"),
    }


def verdict(pct_error: float) -> str:
    """Verdict id from the holdout total error: ``"good"``, ``"usable"``, ``"weak"``; ``"unknown"``
    if NaN (German labels: ``helpers.labels.verdict``)."""
    if not np.isfinite(pct_error):
        return "unknown"
    a = abs(pct_error)
    if a <= VERDICT_THRESHOLDS[0]:
        return "good"
    if a <= VERDICT_THRESHOLDS[1]:
        return "usable"
    return "weak"


def spend_frequency_correlation(summary: pd.DataFrame) -> tuple[float, int]:
    """Pearson r between ``frequency`` and ``monetary_value`` of repeat buyers with positive spend, and their count."""
    rb = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    if len(rb) < 3 or rb["frequency"].nunique() < 2 or rb["monetary_value"].nunique() < 2:
        return float("nan"), int(len(rb))
    return float(np.corrcoef(rb["frequency"], rb["monetary_value"])[0, 1]), int(len(rb))
