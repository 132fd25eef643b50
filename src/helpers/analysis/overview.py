"""Chapter "Datengrundlage": size, period and quality of the client's cleaned data (pure functions).

Definitions as in :mod:`helpers.dataset`: a *line* is one kept row, a *purchase*
is one customer-day with net revenue > 0, revenue is net incl. returns, in the data's currency
(``ds.currency``, an ISO code; "EUR" below stands for it).
A *customer* is a customer with at least one purchase day (``ds.customers``); this is the one
customer count of the report (``key.customers``, the ledger's ``customers_with_purchase``).
Customer ids that only have returns are counted separately (``customers_in_file``), customers
whose lines were all dropped are accounted for in the ledger.

The 12-month figures use the one 12-month window of the report, ``(end − 365 d, end]``
(:func:`helpers.analysis.value.revenue_last_12m`).
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Mapping

import pandas as pd

from ..dataset import Dataset
from ..results import ChapterResult
from .value import revenue_last_12m

OPTIONAL = ("revenue", "order_id", "category", "channel", "quantity")


@dataclass(frozen=True)
class DataKeyFigures:
    """Size of the data (the numbers chapter "Datengrundlage" prints and the summary quotes)."""

    source_name: str
    """File name of the client export."""
    customers: int
    """Customers with at least one purchase day (``len(ds.customers)``)."""
    customers_in_file: int
    """Distinct customer ids among the kept lines (incl. customers with returns only)."""
    lines: int
    """Kept lines."""
    purchases: int
    """Purchase days (customer-days with net revenue > 0)."""
    revenue: float | None
    """Net revenue of all kept lines, EUR (rounded to the cent); ``None`` without revenue column."""
    period_start: dt.date
    """First order date in the data."""
    period_end: dt.date
    """Last order date in the data."""
    observation_end: dt.date
    """End of the observation period (setting or last order date)."""
    months: int
    """Calendar months from the first order date to the observation end (incl. both)."""
    active_customers_12m: int
    """Customers with a purchase day in ``(observation_end − 365 d, observation_end]``."""
    revenue_12m: float | None
    """Net revenue of all lines in that window, EUR (rounded to the cent; sum of
    :func:`~helpers.analysis.value.revenue_last_12m`); ``None`` without revenue column."""
    currency: str = "EUR"
    """ISO 4217 code of every amount of the report (``ds.currency``; "EUR" in the other docstrings
    stands for it)."""


@dataclass(frozen=True, kw_only=True)
class DataResult(ChapterResult):
    """Everything chapter "Datengrundlage" shows."""

    key: DataKeyFigures
    monthly: pd.DataFrame
    """Per calendar month, see :func:`monthly_summary`."""
    available: Mapping[str, bool] = field(default_factory=dict)
    """Optional canonical column -> present with at least one value (see :func:`available_columns`)."""
    ledger: Any = None
    """Copy of the data ledger (``helpers.validation.Ledger``: rows read/kept, drops per reason id,
    flags per id, listed outlier lines) or ``None`` for data not read from a file. German tables:
    :mod:`helpers.narrative.data`."""
    customers: pd.DataFrame | None = None
    """The chapter adds no per-customer columns."""
    sources: Mapping[str, str] = field(default_factory=dict)
    """Canonical column -> column of the client file it was read from (``ds.sources``)."""
    notes: tuple[str, ...] = ()
    """German sentences on how the file was read (``ds.notes``)."""
    currency_source: Mapping[str, Any] = field(default_factory=dict)
    """Where the currency ``key.currency`` came from (``ds.currency_source``: ``source`` id
    ``setting``/``header``/``values``/``column``/``assumed``, ``evidence``, ``column``, ...)."""


def compute(ds: Dataset, cfg: Any, upstream: Mapping[str, ChapterResult]) -> DataResult:
    """Key figures, monthly summary, available columns and ledger of ``ds``."""
    return DataResult(
        key=key_figures(ds),
        monthly=monthly_summary(ds),
        available=available_columns(ds),
        ledger=copy.deepcopy(ds.ledger),
        sources=dict(ds.sources),
        notes=tuple(ds.notes),
        currency_source=dict(ds.currency_source),
    )


def purchases_last_12m(purchases: pd.DataFrame, observation_end: pd.Timestamp) -> pd.DataFrame:
    """Purchase days in ``(end − 365 d, end]``, the report's 12-month window."""
    end = pd.Timestamp(observation_end)
    d = purchases["order_date"]
    return purchases[(d > end - pd.Timedelta(days=365)) & (d <= end)]


def active_customers_last_12m(purchases: pd.DataFrame, observation_end: pd.Timestamp) -> pd.Index:
    """Ids of customers with a purchase day in ``(end − 365 d, end]`` (the report's 12-month window)."""
    return pd.Index(purchases_last_12m(purchases, observation_end)["customer_id"].unique())


def key_figures(ds: Dataset) -> DataKeyFigures:
    """Customers, lines, purchases, net revenue, period and 12-month figures of ``ds``."""
    tx = ds.transactions
    start, end = tx["order_date"].min(), tx["order_date"].max()
    obs = ds.observation_end
    months = (obs.year - start.year) * 12 + obs.month - start.month + 1
    return DataKeyFigures(
        source_name=ds.source_name,
        customers=int(len(ds.customers)),
        customers_in_file=int(tx["customer_id"].nunique()),
        lines=ds.n_lines,
        purchases=int(len(ds.purchases)),
        revenue=round(float(tx["revenue"].sum()), 2) if ds.has_revenue else None,
        period_start=start.date(),
        period_end=end.date(),
        observation_end=obs.date(),
        months=int(months),
        active_customers_12m=int(len(active_customers_last_12m(ds.purchases, obs))),
        revenue_12m=round(float(revenue_last_12m(tx, obs).sum()), 2) if ds.has_revenue else None,
        currency=getattr(ds, "currency", "EUR"),
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
