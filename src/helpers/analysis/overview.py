"""Overview of a client's cleaned data for the chapter "Datengrundlage" (pure functions).

Definitions as in :mod:`helpers.dataset`: a *line* is one kept row, a *purchase*
is one customer-day with net revenue > 0, revenue is net EUR incl. returns.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from ..dataset import Dataset

OPTIONAL = ("revenue", "order_id", "category", "channel", "quantity")


@dataclass(frozen=True)
class KeyFigures:
    """Size of the data. Revenue in EUR (net, ``None`` without revenue column), dates as ISO strings."""

    source_name: str
    customers: int
    lines: int
    purchases: int
    revenue: float | None
    period_start: str
    period_end: str
    observation_end: str
    months: int
    """Calendar months from the first order date to the observation end (incl. both)."""

    def as_dict(self) -> dict:
        return asdict(self)


def key_figures(ds: Dataset) -> KeyFigures:
    """Customers, lines, purchases, net revenue and period of ``ds``."""
    tx = ds.transactions
    start, end = tx["order_date"].min(), tx["order_date"].max()
    months = (ds.observation_end.year - start.year) * 12 + ds.observation_end.month - start.month + 1
    return KeyFigures(
        source_name=ds.source_name,
        customers=int(tx["customer_id"].nunique()),
        lines=int(len(tx)),
        purchases=int(len(ds.purchases)),
        revenue=round(float(tx["revenue"].sum()), 2) if ds.has_revenue else None,
        period_start=start.date().isoformat(),
        period_end=end.date().isoformat(),
        observation_end=ds.observation_end.date().isoformat(),
        months=int(months),
    )


def available_columns(ds: Dataset) -> dict[str, bool]:
    """Which optional canonical columns the data has (with at least one value)."""
    return {c: (ds.has_revenue if c == "revenue" else ds.has(c)) for c in OPTIONAL}


def monthly_summary(ds: Dataset) -> pd.DataFrame:
    """Per calendar month (index: month start): ``revenue`` (net EUR, all lines incl. returns;
    absent without revenue column), ``customers`` (distinct customers with a purchase),
    ``purchases`` (purchase days). Months without activity are included with 0."""
    p = ds.purchases
    month = p["order_date"].dt.to_period("M")
    out = pd.DataFrame(
        {
            "customers": p.groupby(month)["customer_id"].nunique(),
            "purchases": p.groupby(month).size(),
        }
    )
    if ds.has_revenue:
        tx = ds.transactions
        out["revenue"] = tx.groupby(tx["order_date"].dt.to_period("M"))["revenue"].sum()
    full = pd.period_range(ds.first_date.to_period("M"), ds.observation_end.to_period("M"), freq="M")
    out = out.reindex(full).fillna(0)
    out[["customers", "purchases"]] = out[["customers", "purchases"]].astype(int)
    out.index = full.to_timestamp()
    out.index.name = "month"
    return out
