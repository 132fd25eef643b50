"""Retention economics: first-time buyers vs existing customers, lost revenue, what-if.

Definitions (a *purchase* is a purchase day, see :mod:`helpers.dataset`):

- *Erstkäufer* (first-time buyer): exactly one purchase in the observation period.
- *Bestandskunde* (existing customer): at least two purchases.
- *Average order value* (AOV): net revenue / purchases, EUR.
- *Active customer-year*: a calendar year in which a customer made at least one purchase.
  *Revenue per customer and year* = the group's net revenue / its active customer-years
  (a first-time buyer always has exactly one active year).
- *Factor*: revenue per existing customer / revenue per first-time buyer (whole observation
  period). Rule of thumb quoted in practice: 6-7.
- *Lost customers*: bought in the 12 months before the last 12 months (window 1, see
  :mod:`helpers.analysis.cohorts`) but not in the last 12 months (window 0). *Lost revenue*:
  their window-1 revenue.
- *First-year revenue of a new customer*: revenue in the 365 days from the first purchase,
  averaged over customers whose first purchase lies in window 1 (so the year is fully observed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .cohorts import customer_window_revenue, window_bounds

RULE_OF_THUMB = (6.0, 7.0)
"""Often quoted: an existing customer brings 6-7 times the revenue of a new one."""
GROUP_LABELS = {"first_time": "Erstkäufer", "existing": "Bestandskunden"}


def group_comparison(customers: pd.DataFrame, purchases: pd.DataFrame) -> pd.DataFrame:
    """Key figures for first-time buyers and existing customers (index ``first_time``, ``existing``).

    Columns: ``customers``, ``customer_share`` (0..1), ``purchases`` (purchase days),
    ``purchases_per_customer``; with revenue also ``revenue`` (net EUR), ``revenue_share``,
    ``aov`` (EUR per purchase), ``revenue_per_customer`` (EUR over the whole period),
    ``active_years`` (active customer-years), ``revenue_per_customer_year`` (EUR).
    """
    group = np.where(customers["n_purchases"] >= 2, "existing", "first_time")
    g = customers.assign(group=group).groupby("group")
    out = pd.DataFrame({"customers": g.size(), "purchases": g["n_purchases"].sum()})
    out = out.reindex(["first_time", "existing"]).fillna(0).astype(int)
    out["customer_share"] = out["customers"] / max(int(out["customers"].sum()), 1)
    out["purchases_per_customer"] = out["purchases"] / out["customers"].replace(0, np.nan)
    years = (
        purchases.assign(year=purchases["order_date"].dt.year)[["customer_id", "year"]]
        .drop_duplicates()
        .groupby("customer_id", observed=True)
        .size()
    )
    out["active_years"] = (
        pd.Series(years.reindex(customers.index).fillna(0).to_numpy(), index=customers.index)
        .groupby(group).sum().reindex(out.index).fillna(0).astype(int)
    )
    if "revenue" in customers.columns:
        out["revenue"] = g["revenue"].sum().reindex(out.index).fillna(0.0)
        total = out["revenue"].sum()
        out["revenue_share"] = out["revenue"] / total if total else np.nan
        out["aov"] = out["revenue"] / out["purchases"].replace(0, np.nan)
        out["revenue_per_customer"] = out["revenue"] / out["customers"].replace(0, np.nan)
        out["revenue_per_customer_year"] = out["revenue"] / out["active_years"].replace(0, np.nan)
    return out


@dataclass(frozen=True)
class RuleCheck:
    """Result of checking the 6-7x rule of thumb."""

    factor: float
    """Revenue per existing customer / revenue per first-time buyer (whole period)."""
    factor_per_year: float
    """The same per active customer-year."""
    verdict: str
    """``"confirmed"`` (factor >= 6), ``"weaker"`` (1 < factor < 6), ``"not_confirmed"`` (<= 1)
    or ``"not_computable"`` (a group is missing or has no revenue)."""


def rule_of_thumb(groups: pd.DataFrame) -> RuleCheck:
    """Check the rule of thumb "existing customers bring 6-7 times the revenue" on ``groups``."""
    if "revenue_per_customer" not in groups.columns:
        return RuleCheck(float("nan"), float("nan"), "not_computable")
    new, old = groups.loc["first_time"], groups.loc["existing"]
    if not (new["customers"] > 0 and old["customers"] > 0 and new["revenue_per_customer"] > 0):
        return RuleCheck(float("nan"), float("nan"), "not_computable")
    factor = float(old["revenue_per_customer"] / new["revenue_per_customer"])
    per_year = float(old["revenue_per_customer_year"] / new["revenue_per_customer_year"])
    if factor >= RULE_OF_THUMB[0]:
        verdict = "confirmed"
    elif factor > 1:
        verdict = "weaker"
    else:
        verdict = "not_confirmed"
    return RuleCheck(factor, per_year, verdict)


@dataclass(frozen=True)
class LostRevenue:
    """Revenue lost to churn and what replacing it with new customers costs (EUR)."""

    computable: bool
    lost_customers: int = 0
    base_customers: int = 0
    """Customers who bought in window 1 (the 12 months before the last 12 months)."""
    lost_revenue: float = float("nan")
    new_customer_year_revenue: float = float("nan")
    """Mean revenue in the first 365 days of a new customer."""
    new_customer_sample: int = 0
    """Customers the mean is based on."""
    new_customers_needed: int = 0
    replacement_cost: float = float("nan")
    """new_customers_needed * cost_per_new_customer."""
    retention_cost: float = float("nan")
    """lost_customers * cost_per_retained_customer (had they been kept)."""
    window_start: pd.Timestamp | None = None
    window_end: pd.Timestamp | None = None
    """First and last day of window 1."""


def first_year_revenue(purchases: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Revenue in the first 365 days per customer whose first purchase lies in ``[start, end]``."""
    first = purchases.groupby("customer_id", observed=True)["order_date"].transform("min")
    in_range = (first >= start) & (first <= end)
    first_year = purchases["order_date"] < first + pd.Timedelta(days=365)
    sel = purchases[in_range & first_year]
    return sel.groupby("customer_id", observed=True)["revenue"].sum()


def lost_revenue(purchases: pd.DataFrame, first_date: pd.Timestamp, observation_end: pd.Timestamp,
                 cost_per_new_customer: float, cost_per_retained_customer: float) -> LostRevenue:
    """Lost customers and the cost of replacing their revenue (definitions in the module docstring).

    Needs two observed 12-month windows and a revenue column; otherwise ``computable=False``.
    """
    bounds = window_bounds(first_date, observation_end)
    if len(bounds) < 3 or "revenue" not in purchases.columns:
        return LostRevenue(False)
    table = customer_window_revenue(purchases, bounds)
    base = table[1] > 0
    lost = base & (table[0] <= 0)
    start, stop = bounds[2] + pd.Timedelta(days=1), bounds[1]
    fyr = first_year_revenue(purchases, start, stop)
    lost_rev = float(table.loc[lost, 1].sum())
    mean_new = float(fyr.mean()) if len(fyr) else float("nan")
    if not (mean_new > 0):
        return LostRevenue(False)
    needed = math.ceil(lost_rev / mean_new - 1e-9) if lost_rev > 0 else 0
    return LostRevenue(
        computable=True,
        lost_customers=int(lost.sum()),
        base_customers=int(base.sum()),
        lost_revenue=lost_rev,
        new_customer_year_revenue=mean_new,
        new_customer_sample=int(len(fyr)),
        new_customers_needed=needed,
        replacement_cost=needed * float(cost_per_new_customer),
        retention_cost=int(lost.sum()) * float(cost_per_retained_customer),
        window_start=start,
        window_end=stop,
    )


def retention_whatif(active_customers: int, retention: float, uplift_pp: float, revenue_per_customer: float,
                     gross_margin: float, years: int, cost_per_new_customer: float) -> pd.DataFrame:
    """What if yearly customer retention rose by ``uplift_pp`` percentage points?

    Simple model of today's ``active_customers`` (no new customers): after t years
    ``N * r^t`` are still buying, with the improvement ``N * (r + u)^t`` (capped at 100 %).
    Each retained customer brings ``revenue_per_customer`` EUR per year.

    One row per year t = 1..years with columns ``year``, ``customers_base``, ``customers_improved``,
    ``extra_customers``, ``extra_revenue`` (EUR), ``extra_margin`` (EUR, revenue * gross margin),
    ``acquisition_equivalent`` (EUR it would cost to win the extra customers as new customers).
    """
    r = float(retention)
    r_up = min(1.0, r + uplift_pp / 100.0)
    t = np.arange(1, int(years) + 1)
    base = active_customers * r**t
    improved = active_customers * r_up**t
    extra = improved - base
    out = pd.DataFrame({
        "year": t,
        "customers_base": base,
        "customers_improved": improved,
        "extra_customers": extra,
        "extra_revenue": extra * revenue_per_customer,
    })
    out["extra_margin"] = out["extra_revenue"] * gross_margin
    out["acquisition_equivalent"] = extra * cost_per_new_customer
    return out


def active_customer_revenue(purchases: pd.DataFrame, first_date: pd.Timestamp,
                            observation_end: pd.Timestamp) -> tuple[int, float]:
    """Customers with a purchase in the last 12 months and their mean revenue there (EUR).

    Uses the whole period when it is shorter than 12 months.
    """
    start = observation_end - pd.DateOffset(months=12)
    recent = purchases[(purchases["order_date"] > start) & (purchases["order_date"] <= observation_end)]
    per_customer = recent.groupby("customer_id", observed=True)["revenue"].sum()
    n = int(len(per_customer))
    return n, (float(per_customer.mean()) if n else float("nan"))
