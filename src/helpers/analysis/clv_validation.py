"""Holdout validation of the purchase-count model and model checks.

The data are split by date: the model is fitted on the calibration period
(start .. end - holdout) and predicts the number of purchase days of every calibration
customer in the holdout period (end - holdout, end]; predictions are compared with what
actually happened.
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


def calibration_end(first_date: pd.Timestamp, end: pd.Timestamp, holdout_weeks: int) -> pd.Timestamp | None:
    """Last day of the calibration period, or ``None`` when the history is too short.

    A holdout needs a calibration period at least as long as the holdout itself
    (history >= 2 x ``holdout_weeks``).
    """
    end = pd.Timestamp(end).normalize()
    cal_end = end - pd.Timedelta(days=7 * int(holdout_weeks))
    if holdout_weeks <= 0 or (cal_end - pd.Timestamp(first_date).normalize()).days < 7 * holdout_weeks:
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
