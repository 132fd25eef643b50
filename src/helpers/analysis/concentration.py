"""Revenue concentration: top-customer shares, Lorenz curve and Gini coefficient.

Input is one net revenue value per customer (EUR, e.g. ``ds.customers["revenue"]``).
Customers with negative net revenue (more returns than purchases) are counted with 0 EUR,
so shares stay between 0 and 1.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def _clean(revenue: pd.Series) -> np.ndarray:
    values = pd.to_numeric(revenue, errors="coerce").dropna().to_numpy(dtype=float)
    return np.clip(values, 0.0, None)


def top_share(revenue: pd.Series, share: float) -> float:
    """Share of total revenue (0..1) earned by the top ``share`` of customers.

    The top group has ``ceil(share * n)`` customers (at least one), ranked by net
    revenue. Returns NaN when there is no customer or no positive revenue.
    """
    values = _clean(revenue)
    total = values.sum()
    if len(values) == 0 or total <= 0:
        return float("nan")
    k = max(1, math.ceil(share * len(values) - 1e-9))
    top = np.sort(values)[::-1][:k].sum()
    return float(top / total)


def lorenz_curve(revenue: pd.Series) -> pd.DataFrame:
    """Lorenz curve: customers sorted by ascending revenue.

    Columns ``customer_share`` (cumulative share of customers, 0..1) and ``revenue_share``
    (cumulative share of revenue, 0..1); the first row is (0, 0).
    """
    values = np.sort(_clean(revenue))
    total = values.sum()
    n = len(values)
    if n == 0 or total <= 0:
        return pd.DataFrame({"customer_share": [0.0, 1.0], "revenue_share": [0.0, 1.0]})
    x = np.concatenate([[0.0], np.arange(1, n + 1) / n])
    y = np.concatenate([[0.0], np.cumsum(values) / total])
    return pd.DataFrame({"customer_share": x, "revenue_share": y})


def gini(revenue: pd.Series) -> float:
    """Gini coefficient of customer revenue (0 = all equal, towards 1 = one customer has all).

    ``1 - 2 * area under the Lorenz curve`` (trapezoids), equal to
    ``sum |x_i - x_j| / (2 n^2 mean)``.
    """
    curve = lorenz_curve(revenue)
    if len(_clean(revenue)) == 0 or _clean(revenue).sum() <= 0:
        return float("nan")
    x = curve["customer_share"].to_numpy()
    y = curve["revenue_share"].to_numpy()
    area = float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2))
    return 1.0 - 2.0 * area


def concentration_summary(revenue: pd.Series, shares: tuple[float, ...] = (0.1, 0.2)) -> dict[str, float]:
    """``{"top_10": 0.47, "top_20": 0.63, "gini": 0.55, "n_customers": 4213}`` for the given shares."""
    out: dict[str, float] = {f"top_{round(s * 100)}": top_share(revenue, s) for s in shares}
    out["gini"] = gini(revenue)
    out["n_customers"] = int(len(_clean(revenue)))
    return out
