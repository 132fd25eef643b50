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
- *Active customers* (what-if base): customers with a purchase day in the report's 12-month window
  ``(end − 365 d, end]`` (:func:`helpers.analysis.overview.active_customers_last_12m`, the same
  number chapter "Datengrundlage" prints).

:func:`compute` is the chapter's entry point (see :mod:`helpers.chapters`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..dataset import Dataset
from ..results import ChapterResult
from .cohorts import CohortResult, cohort_matrix, customer_window_revenue, window_bounds, yearly_retention
from .concentration import ConcentrationSummary, concentration_summary, lorenz_curve
from .overview import active_customers_last_12m, purchases_last_12m

RULE_OF_THUMB = (6.0, 7.0)
"""Often quoted: an existing customer brings 6-7 times the revenue of a new one."""
GROUPS = ("first_time", "existing")
"""Group ids (German labels: :data:`helpers.narrative.economics.GROUP_LABELS`)."""


def customer_groups(customers: pd.DataFrame) -> pd.Series:
    """Group id per customer: ``existing`` (>= 2 purchase days) or ``first_time`` (exactly one)."""
    return pd.Series(np.where(customers["n_purchases"] >= 2, "existing", "first_time"),
                     index=customers.index, name="group")


def group_comparison(customers: pd.DataFrame, purchases: pd.DataFrame) -> pd.DataFrame:
    """Key figures for first-time buyers and existing customers (index ``first_time``, ``existing``).

    Columns: ``customers``, ``customer_share`` (0..1), ``purchases`` (purchase days),
    ``purchases_per_customer``; with revenue also ``revenue`` (net EUR), ``revenue_share``,
    ``aov`` (EUR per purchase), ``revenue_per_customer`` (EUR over the whole period),
    ``active_years`` (active customer-years), ``revenue_per_customer_year`` (EUR).
    """
    group = customer_groups(customers).to_numpy()
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
    cost_per_new_customer: float = float("nan")
    """Assumption used, EUR to win one new customer."""
    cost_per_retained_customer: float = float("nan")
    """Assumption used, EUR to retain one customer for a year."""


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
    costs = {"cost_per_new_customer": float(cost_per_new_customer),
             "cost_per_retained_customer": float(cost_per_retained_customer)}
    bounds = window_bounds(first_date, observation_end)
    if len(bounds) < 3 or "revenue" not in purchases.columns:
        return LostRevenue(False, **costs)
    table = customer_window_revenue(purchases, bounds)
    base = table[1] > 0
    lost = base & (table[0] <= 0)
    start, stop = bounds[2] + pd.Timedelta(days=1), bounds[1]
    fyr = first_year_revenue(purchases, start, stop)
    lost_rev = float(table.loc[lost, 1].sum())
    mean_new = float(fyr.mean()) if len(fyr) else float("nan")
    if not (mean_new > 0):
        return LostRevenue(False, **costs)
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
        **costs,
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


def active_customer_revenue(purchases: pd.DataFrame, observation_end: pd.Timestamp) -> tuple[int, float]:
    """Active customers (purchase day in ``(end − 365 d, end]``) and their mean revenue there (EUR)."""
    recent = purchases_last_12m(purchases, observation_end)
    per_customer = recent.groupby("customer_id", observed=True)["revenue"].sum()
    n = int(len(per_customer))
    return n, (float(per_customer.mean()) if n else float("nan"))


@dataclass(frozen=True)
class WhatIf:
    """Inputs and result of :func:`retention_whatif` as the chapter uses it."""

    active_customers: int
    """Customers with a purchase day in the last 12 months (``(end − 365 d, end]``)."""
    retention: float
    """Yearly customer retention of the most recent 12-month window (0..1)."""
    uplift_pp: float
    """Assumed improvement, percentage points."""
    revenue_per_customer: float
    """EUR per retained customer and year: retained revenue / retained customers of the latest window."""
    gross_margin: float
    """Contribution margin share used (0..1)."""
    years: int
    table: pd.DataFrame
    """One row per year, see :func:`retention_whatif`."""

    @property
    def improved_retention(self) -> float:
        """Retention with the improvement (capped at 1)."""
        return min(1.0, self.retention + self.uplift_pp / 100.0)

    @property
    def extra_revenue(self) -> float:
        """Extra revenue over all years, EUR."""
        return float(self.table["extra_revenue"].sum())

    @property
    def extra_margin(self) -> float:
        """Extra contribution margin over all years, EUR."""
        return float(self.table["extra_margin"].sum())


def whatif(yearly: pd.DataFrame, active_customers: int, uplift_pp: float, gross_margin: float,
           years: int, cost_per_new_customer: float) -> WhatIf | None:
    """The what-if of the chapter from the latest yearly window; ``None`` without revenue or without
    a yearly window in which a customer bought again."""
    if yearly.empty or not (yearly["retained_customers"].iloc[0] > 0) or pd.isna(yearly["retained_revenue"].iloc[0]):
        return None
    latest = yearly.iloc[0]
    retention = float(latest["customer_retention"])
    per_kept = float(latest["retained_revenue"] / latest["retained_customers"])
    table = retention_whatif(active_customers, retention, uplift_pp, per_kept, gross_margin, years,
                             cost_per_new_customer)
    return WhatIf(active_customers=int(active_customers), retention=retention, uplift_pp=float(uplift_pp),
                  revenue_per_customer=per_kept, gross_margin=float(gross_margin), years=int(years), table=table)


# --- the chapter ------------------------------------------------------------------------------


def _num(value: Any) -> float | None:
    """A key-figure float: ``None`` instead of NaN/None/inf."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class EconomicsKeyFigures:
    """The numbers of chapter "Warum Bestandskunden zählen" (``None`` where not computable)."""

    customers: int
    """Customers with at least one purchase day."""
    existing_customers: int
    """Customers with at least two purchase days (Bestandskunden)."""
    existing_customer_share: float | None
    """Share of customers with at least two purchase days (0..1) = repeat rate."""
    existing_revenue_share: float | None
    """Share of net revenue (0..1) of those customers; ``None`` without revenue."""
    repeat_rate: float | None
    """Repeat rate = ``existing_customer_share`` (the name the management summary quotes)."""
    repeat_revenue_share: float | None
    """= ``existing_revenue_share`` (share of net revenue of repeat buyers)."""
    factor_existing_vs_first_time: float | None
    """Revenue per existing customer / revenue per first-time buyer (whole period)."""
    factor_per_active_year: float | None
    """The same per active customer-year."""
    rule_of_thumb_verdict: str
    """``confirmed`` | ``weaker`` | ``not_confirmed`` | ``not_computable`` (see :class:`RuleCheck`)."""
    top_10_revenue_share: float | None
    """Share of net revenue (0..1) of the top 10 % of customers."""
    top_20_revenue_share: float | None
    """Share of net revenue (0..1) of the top 20 % of customers."""
    gini: float | None
    """Gini coefficient of net revenue per customer (0..1)."""
    nrr: float | None
    """Net revenue retention of the most recent 12-month window (share, may exceed 1)."""
    grr: float | None
    """Gross revenue retention of the most recent 12-month window (0..1)."""
    customer_retention_yearly: float | None
    """Share of the previous window's customers who bought again in the most recent one (0..1)."""
    lost_customers: int | None
    """Customers of window 1 without a purchase in the last 12 months."""
    lost_revenue: float | None
    """Their window-1 revenue, EUR."""
    new_customers_needed: int | None
    """New customers needed to replace the lost revenue."""
    replacement_cost: float | None
    """Cost of winning them, EUR (assumption ``economics.cost_per_new_customer``)."""
    retention_cost: float | None
    """Cost of having retained the lost customers, EUR (assumption ``economics.cost_per_retained_customer``)."""
    whatif_active_customers: int | None
    """Base of the what-if: customers with a purchase day in ``(end − 365 d, end]``."""
    whatif_extra_revenue: float | None
    """What-if: extra revenue over ``economics.whatif_years`` years, EUR."""
    whatif_extra_margin: float | None
    """What-if: extra contribution margin over ``economics.whatif_years`` years, EUR."""


@dataclass(frozen=True, kw_only=True)
class EconomicsResult(ChapterResult):
    """Everything chapter "Warum Bestandskunden zählen" shows."""

    key: EconomicsKeyFigures
    customers: pd.DataFrame
    """Per customer (index ``customer_id``): ``group`` (id ``first_time`` | ``existing``)."""
    groups: pd.DataFrame
    """:func:`group_comparison` (index: group ids)."""
    rule: RuleCheck
    concentration: ConcentrationSummary | None
    """``None`` without revenue."""
    lorenz: pd.DataFrame | None
    """:func:`~helpers.analysis.concentration.lorenz_curve` of net revenue per customer; ``None`` without revenue."""
    yearly: pd.DataFrame
    """:func:`~helpers.analysis.cohorts.yearly_retention` (most recent window first; may be empty)."""
    cohorts: CohortResult
    mean_retention: pd.Series
    """Customer retention per period k over all cohorts (weighted by cohort size)."""
    lost: LostRevenue
    whatif: WhatIf | None
    """``None`` without revenue or without two observed years."""
    has_revenue: bool
    first_date: pd.Timestamp
    """First order date of the data."""
    observation_end: pd.Timestamp

    @property
    def has_cohorts(self) -> bool:
        """At least one cohort with an observed period after the first purchase."""
        return (not self.cohorts.empty) and self.cohorts.retention.shape[1] > 1

    @property
    def has_nrr(self) -> bool:
        """At least one yearly window with a computed NRR (needs revenue and two observed years)."""
        return self.has_revenue and not self.yearly.empty and bool(self.yearly["nrr"].notna().any())


def compute(ds: Dataset, cfg: Any, upstream: Mapping[str, ChapterResult]) -> EconomicsResult:
    """Groups, rule of thumb, concentration, yearly retention, cohorts, lost revenue and what-if."""
    econ = cfg.economics
    customers, purchases = ds.customers, ds.purchases
    groups = group_comparison(customers, purchases)
    rule = rule_of_thumb(groups)
    has_revenue = ds.has_revenue
    conc = concentration_summary(customers["revenue"]) if has_revenue else None
    lorenz = lorenz_curve(customers["revenue"]) if has_revenue else None
    yearly = yearly_retention(purchases, ds.first_date, ds.observation_end)
    cohort = cohort_matrix(purchases, ds.observation_end, econ.cohort_period)
    mean_ret = cohort.mean_retention() if not cohort.empty else pd.Series(dtype=float, name="retention")
    lost = lost_revenue(purchases, ds.first_date, ds.observation_end,
                        econ.cost_per_new_customer, econ.cost_per_retained_customer)
    active_n = int(len(active_customers_last_12m(purchases, ds.observation_end)))
    wi = (whatif(yearly, active_n, econ.retention_uplift_pp, cfg.gross_margin, econ.whatif_years,
                 econ.cost_per_new_customer) if has_revenue else None)

    existing = groups.loc["existing"]
    latest = yearly.iloc[0] if not yearly.empty else None
    key = EconomicsKeyFigures(
        customers=int(groups["customers"].sum()),
        existing_customers=int(existing["customers"]),
        existing_customer_share=_num(existing["customer_share"]),
        existing_revenue_share=_num(existing["revenue_share"]) if has_revenue else None,
        repeat_rate=_num(existing["customer_share"]),
        repeat_revenue_share=_num(existing["revenue_share"]) if has_revenue else None,
        factor_existing_vs_first_time=_num(rule.factor),
        factor_per_active_year=_num(rule.factor_per_year),
        rule_of_thumb_verdict=rule.verdict,
        top_10_revenue_share=conc.top_10 if conc else None,
        top_20_revenue_share=conc.top_20 if conc else None,
        gini=conc.gini if conc else None,
        nrr=_num(latest["nrr"]) if latest is not None else None,
        grr=_num(latest["grr"]) if latest is not None else None,
        customer_retention_yearly=_num(latest["customer_retention"]) if latest is not None else None,
        lost_customers=lost.lost_customers if lost.computable else None,
        lost_revenue=_num(lost.lost_revenue) if lost.computable else None,
        new_customers_needed=lost.new_customers_needed if lost.computable else None,
        replacement_cost=_num(lost.replacement_cost) if lost.computable else None,
        retention_cost=_num(lost.retention_cost) if lost.computable else None,
        whatif_active_customers=wi.active_customers if wi else None,
        whatif_extra_revenue=_num(wi.extra_revenue) if wi else None,
        whatif_extra_margin=_num(wi.extra_margin) if wi else None,
    )
    group = customer_groups(customers).to_frame()
    return EconomicsResult(
        key=key, customers=group, groups=groups, rule=rule, concentration=conc, lorenz=lorenz,
        yearly=yearly, cohorts=cohort, mean_retention=mean_ret, lost=lost, whatif=wi,
        has_revenue=has_revenue, first_date=ds.first_date, observation_end=ds.observation_end,
    )
