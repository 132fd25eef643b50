"""Concentration of a per-customer amount: top-customer shares, Lorenz curve and Gini coefficient.

The one definition of "share of the top x % of customers" in the report: the economics chapter
applies it to net revenue per customer (``ds.customers["revenue"]``), the CLV chapter to the CLV.
Negative amounts (e.g. more returns than purchases) count as 0 EUR, so shares stay between 0 and 1;
missing values are ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd


def _clean(revenue: pd.Series) -> np.ndarray:
    values = pd.to_numeric(revenue, errors="coerce").dropna().to_numpy(dtype=float)
    return np.clip(values, 0.0, None)


def top_count(n: int, share: float) -> int:
    """Size of the top ``share`` group among ``n`` customers: ``ceil(share * n)``, at least one."""
    return max(1, math.ceil(share * n - 1e-9))


def top_share(values: pd.Series, share: float = 0.10) -> float:
    """Share of the total (0..1) held by the top ``share`` of customers (default: top 10 %).

    ``values``: one amount per customer (EUR, e.g. net revenue or CLV). The top group has
    ``ceil(share * n)`` customers (at least one), ranked by amount. Returns NaN when there is no
    customer or no positive total.
    """
    values = _clean(values)
    total = values.sum()
    if len(values) == 0 or total <= 0:
        return float("nan")
    k = top_count(len(values), share)
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


@dataclass(frozen=True)
class ConcentrationSummary:
    """Revenue concentration in numbers (``None`` where not computable, e.g. no positive revenue)."""

    top_10: float | None
    """Share of revenue (0..1) of the top 10 % of customers."""
    top_20: float | None
    """Share of revenue (0..1) of the top 20 % of customers."""
    gini: float | None
    """Gini coefficient (0..1)."""
    n_customers: int
    """Customers with a revenue value."""
    top_20_customers: int = 0
    """Customers in the top-20 % group (``ceil(0.2 * n)``); the Lorenz curve passes through
    ``(1 − top_20_customers / n_customers, 1 − top_20)``."""

    @property
    def top_20_point(self) -> tuple[float, float] | None:
        """The point of the Lorenz curve where the top 20 % begin: (customer share, revenue share)."""
        if self.top_20 is None or not self.n_customers:
            return None
        return 1.0 - self.top_20_customers / self.n_customers, 1.0 - self.top_20


def _none_if_nan(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def concentration_summary(revenue: pd.Series) -> ConcentrationSummary:
    """Top-10 %/top-20 % shares and Gini of ``revenue`` (one net revenue value per customer)."""
    n = int(len(_clean(revenue)))
    return ConcentrationSummary(
        top_10=_none_if_nan(top_share(revenue, 0.1)),
        top_20=_none_if_nan(top_share(revenue, 0.2)),
        gini=_none_if_nan(gini(revenue)),
        n_customers=n,
        top_20_customers=top_count(n, 0.2) if n else 0,
    )
