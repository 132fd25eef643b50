"""Retention economics: customer flow, one-time vs repeat buyers, cohorts, lost revenue, what-if.

Definitions (a *purchase* is a purchase day, see :mod:`helpers.dataset`; revenue is always net of
all lines, returns included – "Nettoumsatz"):

- *Einmalkäufer* (one-time buyer, id ``one_time``): exactly one purchase day in the observation period.
- *Wiederholungskäufer* (repeat buyer, id ``repeat``): at least two purchase days.
- *Average order value* (AOV): net revenue / purchase days, EUR.
- *Active customer-year*: a calendar year in which a customer made at least one purchase.
  *Revenue per customer and year* = the group's net revenue / its active customer-years.
- *Factor*: revenue per repeat buyer / revenue per one-time buyer. This comparison is partly
  true by construction (repeat buyers have at least two purchases, one-time buyers exactly one);
  it does **not** test the consultants' rules of thumb ("existing customers bring 6–7 times the
  revenue", "winning a customer costs 5–10 times as much as keeping one"), which have no primary
  source. The AOV ratio (spend per purchase) is the comparison that is not fixed by the definition.
- *Customer flow* per year (quarter for short data): new, retained, reactivated, lost customers,
  see :mod:`helpers.analysis.cohorts`.
- *Single acquisition cohort*: at least ``economics.single_cohort_share`` (95 %) of the customers made
  their first purchase in the first ``economics.single_cohort_window`` (20 %) of the observed period
  (first day of the data to ``observation_end``). Then the data follow one group of customers over
  time (a cohort study such as CDNOW: all first purchases in Q1 1997 of 18 months) instead of a
  customer base with ongoing acquisition; comparisons of acquisition cohorts and of "new customers"
  are not made, the chapter shows that one group's activity over time instead.
- *Lost customers*: bought in the 12 months before the last 12 months (window 1, see
  :mod:`helpers.analysis.cohorts`) but not in the last 12 months (window 0). *Lost revenue*:
  their window-1 net revenue.
- *First-year revenue of a new customer*: net revenue in the 365 days from the first purchase,
  averaged over customers whose first purchase lies in window 1 (so the year is fully observed).
- *Break-even of retention*: without knowing in advance who will leave, a retention programme
  looks after all window-1 customers (``base × cost_per_retained_customer``); it pays off against
  replacing lost revenue with new customers when it prevents at least
  ``care cost / (replacement cost / lost customers)`` losses.
- *Active customers* (what-if base): customers with a purchase day in the report's 12-month window
  ``(end − 365 d, end]`` (:func:`helpers.analysis.overview.active_customers_last_12m`, the same
  number chapter "Datengrundlage" prints).

Every statement needs at least ``economics.min_group_size`` customers behind it; smaller groups
give ``None`` and a reason id (the narrative says why).

:func:`compute` is the chapter's entry point (see :mod:`helpers.chapters`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..dataset import Dataset
from ..results import ChapterResult
from .cohorts import (
    CohortResult, CustomerFlow, cohort_activity, cohort_matrix, customer_flow, customer_window_activity,
    customer_window_revenue, isin_fast, window_bounds, yearly_retention,
)
from .concentration import ConcentrationSummary, concentration_summary, lorenz_curve
from .overview import active_customers_last_12m

REVENUE_RULE_OF_THUMB = (6.0, 7.0)
"""Consultants' lore: an existing customer brings 6-7 times the revenue of a new one (no primary source)."""
COST_RULE_OF_THUMB = (5.0, 10.0)
"""Consultants' lore: winning a new customer costs 5-10 times as much as keeping one (no primary source)."""
GROUPS = ("one_time", "repeat")
"""Group ids (German labels: :data:`helpers.narrative.economics.GROUP_LABELS`)."""


def customer_groups(customers: pd.DataFrame) -> pd.Series:
    """Group id per customer: ``repeat`` (>= 2 purchase days) or ``one_time`` (exactly one)."""
    return pd.Series(np.where(customers["n_purchases"] >= 2, "repeat", "one_time"),
                     index=customers.index, name="group")


def group_comparison(customers: pd.DataFrame, purchases: pd.DataFrame) -> pd.DataFrame:
    """Key figures for one-time and repeat buyers (index ``one_time``, ``repeat``).

    Columns: ``customers``, ``customer_share`` (0..1), ``purchases`` (purchase days),
    ``purchases_per_customer``, ``active_years`` (active customer-years); with revenue also
    ``revenue`` (net EUR, all lines), ``revenue_share``, ``aov`` (EUR per purchase day),
    ``revenue_per_customer`` (EUR over the whole period), ``revenue_per_customer_year`` (EUR).
    """
    group = customer_groups(customers).to_numpy()
    g = customers.assign(group=group).groupby("group")
    out = pd.DataFrame({"customers": g.size(), "purchases": g["n_purchases"].sum()})
    out = out.reindex(list(GROUPS)).fillna(0).astype(int)
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
        out["revenue_share"] = out["revenue"] / total if total > 0 else np.nan
        out["aov"] = out["revenue"] / out["purchases"].replace(0, np.nan)
        out["revenue_per_customer"] = out["revenue"] / out["customers"].replace(0, np.nan)
        out["revenue_per_customer_year"] = out["revenue"] / out["active_years"].replace(0, np.nan)
    return out


@dataclass(frozen=True)
class GroupContrast:
    """Repeat buyers against one-time buyers in ratios (``None`` when not supported by the data)."""

    factor: float | None
    """Revenue per repeat buyer / revenue per one-time buyer (whole period; partly true by construction)."""
    factor_per_year: float | None
    """The same per active customer-year."""
    aov_ratio: float | None
    """AOV of repeat buyers / AOV of one-time buyers (spend per purchase day)."""
    reason: str | None
    """``None`` or why the ratios are missing: ``no_revenue``, ``too_few_one_time``,
    ``too_few_repeat`` (fewer than ``min_group_size``), ``no_positive_revenue``."""


def contrast(groups: pd.DataFrame, min_group_size: int) -> GroupContrast:
    """Ratios of repeat to one-time buyers, when both groups have ``min_group_size`` customers and revenue."""
    none = dict(factor=None, factor_per_year=None, aov_ratio=None)
    if "revenue_per_customer" not in groups.columns:
        return GroupContrast(**none, reason="no_revenue")
    one, rep = groups.loc["one_time"], groups.loc["repeat"]
    if one["customers"] < min_group_size:
        return GroupContrast(**none, reason="too_few_one_time")
    if rep["customers"] < min_group_size:
        return GroupContrast(**none, reason="too_few_repeat")
    if not (one["revenue_per_customer"] > 0 and rep["revenue_per_customer"] > 0):
        return GroupContrast(**none, reason="no_positive_revenue")
    return GroupContrast(
        factor=float(rep["revenue_per_customer"] / one["revenue_per_customer"]),
        factor_per_year=float(rep["revenue_per_customer_year"] / one["revenue_per_customer_year"]),
        aov_ratio=float(rep["aov"] / one["aov"]),
        reason=None,
    )


# --- single acquisition cohort -----------------------------------------------------------------


@dataclass(frozen=True)
class Acquisition:
    """When the customers made their first purchase (test for a single acquisition cohort)."""

    single_cohort: bool
    """The data follow one acquisition cohort (rule in the module docstring)."""
    customers: int
    """Customers with at least one purchase day."""
    window_end: pd.Timestamp
    """Last day of the test window (first ``single_cohort_window`` of the period)."""
    in_window: int
    """Customers whose first purchase lies in the test window."""
    share_in_window: float | None
    """``in_window / customers`` (0..1); ``None`` without customers."""
    first_from: pd.Timestamp | None
    """Earliest first purchase (of all customers)."""
    first_to: pd.Timestamp | None
    """Latest first purchase within the test window: the acquisition phase is ``first_from`` to ``first_to``."""
    later: int
    """Customers whose first purchase lies after the test window."""
    rule_share: float
    rule_window: float


def acquisition_profile(first_purchase: pd.Series, first_date: pd.Timestamp, observation_end: pd.Timestamp,
                        share: float, window: float, min_customers: int) -> Acquisition:
    """Share of first purchases in the first ``window`` of the period; single cohort when >= ``share``
    (and at least ``min_customers`` customers)."""
    start, end = pd.Timestamp(first_date).normalize(), pd.Timestamp(observation_end).normalize()
    days = (end - start).days + 1
    window_end = start + pd.Timedelta(days=max(int(math.floor(window * days)) - 1, 0))
    n = int(len(first_purchase))
    inside = first_purchase <= window_end
    k = int(inside.sum())
    ratio = k / n if n else None
    return Acquisition(
        single_cohort=bool(n >= min_customers and ratio is not None and ratio >= share and window_end < end),
        customers=n, window_end=window_end, in_window=k, share_in_window=ratio,
        first_from=first_purchase.min() if n else None,
        first_to=first_purchase[inside].max() if k else None,
        later=n - k, rule_share=float(share), rule_window=float(window),
    )


# --- cohorts as shown ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortView:
    """Which cohorts the heatmaps show, and why others are not shown (stated in the text)."""

    period: str
    """Granularity of ``EconomicsResult.cohorts``: ``"M"`` or ``"Q"``."""
    aggregated: bool
    """Monthly cohorts were requested but there were more than ``max_cohorts``: shown as quarters."""
    n_requested: int
    """Complete cohorts in the requested granularity (``cohort_period``)."""
    n_cohorts: int
    """Complete cohorts in the shown granularity."""
    shown: tuple
    """Cohorts (``pd.Period``) in the heatmaps: the most recent ``max_cohorts`` with enough customers."""
    small: int
    """Cohorts left out because they have fewer than ``min_group_size`` customers."""
    older: int
    """Cohorts with enough customers left out because only ``max_cohorts`` rows are shown."""
    young: int
    """The most recent cohorts without a complete period after their first one (nothing to show yet)."""
    max_k: int
    """Periods after the first purchase shown (columns k = 1..max_k)."""
    hidden_k: int
    """Observed later periods not shown (more than ``max_cohorts − 1`` columns)."""


def cohort_view(cohorts: CohortResult, min_group_size: int, max_cohorts: int, aggregated: bool,
                n_requested: int) -> CohortView:
    """The cohorts a heatmap shows: at least one complete period after the first, enough customers,
    the most recent ``max_cohorts``; all observed k up to ``max_cohorts − 1`` (so the grid stays legible)."""
    if cohorts.empty:
        return CohortView(cohorts.period, aggregated, n_requested, 0, (), 0, 0, 0, 0, 0)
    later = cohorts.retention.loc[:, [k for k in cohorts.retention.columns if k >= 1]]
    has_later = later.notna().any(axis=1) if later.shape[1] else pd.Series(False, index=cohorts.retention.index)
    young = int((~has_later).sum())
    sizes = cohorts.sizes[has_later.to_numpy()]
    big = sizes[sizes >= min_group_size]
    shown = tuple(big.index[-max_cohorts:])
    observed_k = 0
    if shown:
        m = cohorts.retention.loc[list(shown)]
        ks = [k for k in m.columns if k >= 1 and m[k].notna().any()]
        observed_k = max(ks) if ks else 0
    max_k = min(observed_k, max(max_cohorts - 1, 1))
    return CohortView(
        period=cohorts.period, aggregated=aggregated, n_requested=n_requested, n_cohorts=int(len(cohorts.sizes)),
        shown=shown, small=int((sizes < min_group_size).sum()), older=int(len(big) - len(shown)), young=young,
        max_k=int(max_k), hidden_k=int(observed_k - max_k),
    )


# --- lost customers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LostRevenue:
    """Revenue lost to churn and what replacing it with new customers costs (EUR)."""

    computable: bool
    reason: str | None = None
    """Why not computable: ``no_revenue``, ``too_short`` (fewer than two observed years),
    ``single_cohort`` (no new customers to compare with), ``too_few_new`` (fewer than
    ``min_group_size`` new customers in window 1), ``no_new_revenue``."""
    lost_customers: int = 0
    base_customers: int = 0
    """Customers who bought in window 1 (the 12 months before the last 12 months)."""
    lost_revenue: float = float("nan")
    """Window-1 net revenue of the lost customers, EUR."""
    new_customer_year_revenue: float = float("nan")
    """Mean net revenue in the first 365 days of a new customer, EUR."""
    new_customer_sample: int = 0
    """Customers the mean is based on."""
    new_customers_needed: int = 0
    replacement_cost: float = float("nan")
    """new_customers_needed * cost_per_new_customer, EUR."""
    care_cost: float = float("nan")
    """Looking after all window-1 customers for a year: base_customers * cost_per_retained_customer, EUR."""
    breakeven_saved: int | None = None
    """Prevented losses at which ``care_cost`` equals the replacement cost they avoid
    (``ceil(care_cost / (replacement_cost / lost_customers))``); ``None`` without replacement cost."""
    window_start: pd.Timestamp | None = None
    window_end: pd.Timestamp | None = None
    """First and last day of window 1."""
    cost_per_new_customer: float = float("nan")
    """Assumption used, EUR to win one new customer."""
    cost_per_retained_customer: float = float("nan")
    """Assumption used, EUR to look after one customer for a year."""
    costs_are_defaults: bool = True
    """Both cost rates are the preset rule-of-thumb values (not the client's own figures)."""

    @property
    def breakeven_reachable(self) -> bool:
        """Preventing at most all losses can pay for looking after every customer."""
        return self.breakeven_saved is not None and self.breakeven_saved <= self.lost_customers


def first_year_revenue(purchases: pd.DataFrame, lines: pd.DataFrame, start: pd.Timestamp,
                       end: pd.Timestamp) -> pd.Series:
    """Net revenue (all lines) in the first 365 days per customer whose first purchase lies in ``[start, end]``."""
    first = purchases.groupby("customer_id", observed=True)["order_date"].min()
    first = first[(first >= start) & (first <= end)]
    sel = lines[isin_fast(lines["customer_id"], first.index)]
    f = first.reindex(sel["customer_id"]).to_numpy()
    d = sel["order_date"].to_numpy()
    sel = sel[(d >= f) & (d < f + np.timedelta64(365, "D"))]
    out = sel.groupby("customer_id", observed=True)["revenue"].sum()
    return out.reindex(first.index, fill_value=0.0)


def lost_revenue(purchases: pd.DataFrame, lines: pd.DataFrame, first_date: pd.Timestamp,
                 observation_end: pd.Timestamp, cost_per_new_customer: float, cost_per_retained_customer: float,
                 min_new_customers: int = 1, single_cohort: bool = False, costs_are_defaults: bool = True) -> LostRevenue:
    """Lost customers and the cost of replacing their revenue (definitions in the module docstring).

    Needs revenue, two observed 12-month windows and at least ``min_new_customers`` new customers in
    window 1; otherwise ``computable=False`` with a reason id.
    """
    costs = {"cost_per_new_customer": float(cost_per_new_customer),
             "cost_per_retained_customer": float(cost_per_retained_customer),
             "costs_are_defaults": bool(costs_are_defaults)}
    if "revenue" not in lines.columns:
        return LostRevenue(False, "no_revenue", **costs)
    bounds = window_bounds(first_date, observation_end)
    if len(bounds) < 3:
        return LostRevenue(False, "too_short", **costs)
    start, stop = bounds[2] + pd.Timedelta(days=1), bounds[1]
    costs.update(window_start=start, window_end=stop)
    if single_cohort:
        return LostRevenue(False, "single_cohort", **costs)
    active = customer_window_activity(purchases, bounds)
    revenue = customer_window_revenue(lines, bounds).reindex(active.index, fill_value=0.0)
    base = active[1]
    lost = base & ~active[0]
    fyr = first_year_revenue(purchases, lines, start, stop)
    if len(fyr) < min_new_customers:
        return LostRevenue(False, "too_few_new", new_customer_sample=int(len(fyr)), **costs)
    mean_new = float(fyr.mean())
    if not mean_new > 0:
        return LostRevenue(False, "no_new_revenue", new_customer_sample=int(len(fyr)), **costs)
    lost_rev = float(revenue.loc[lost, 1].sum())
    needed = math.ceil(lost_rev / mean_new - 1e-9) if lost_rev > 0 else 0
    replacement = needed * float(cost_per_new_customer)
    n_lost = int(lost.sum())
    care = int(base.sum()) * float(cost_per_retained_customer)
    breakeven = None
    if n_lost > 0 and replacement > 0:
        breakeven = max(math.ceil(care / (replacement / n_lost) - 1e-9), 0)
    return LostRevenue(
        computable=True, lost_customers=n_lost, base_customers=int(base.sum()), lost_revenue=lost_rev,
        new_customer_year_revenue=mean_new, new_customer_sample=int(len(fyr)), new_customers_needed=needed,
        replacement_cost=replacement, care_cost=care, breakeven_saved=breakeven, **costs,
    )


# --- what-if ---------------------------------------------------------------------------------------


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
    """EUR per retained customer and year: net revenue of the retained customers / their number
    (latest window)."""
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
        """Extra contribution margin over all years, EUR (= the most the measures may cost)."""
        return float(self.table["extra_margin"].sum())


def whatif(yearly: pd.DataFrame, active_customers: int, uplift_pp: float, gross_margin: float,
           years: int, cost_per_new_customer: float, min_group_size: int = 1) -> tuple[WhatIf | None, str | None]:
    """The what-if of the chapter from the latest yearly window, or ``(None, reason)``: ``too_short``
    (no yearly window pair), ``no_base_revenue`` (no positive revenue in the earlier year),
    ``too_few_retained`` / ``too_few_active`` (fewer than
    ``min_group_size``), ``no_retained_revenue``."""
    if yearly.empty:
        return None, "too_short"
    latest = yearly.iloc[0]
    if pd.isna(latest["retained_revenue"]):
        return None, "no_base_revenue"
    if latest["retained_customers"] < max(min_group_size, 1):
        return None, "too_few_retained"
    if active_customers < max(min_group_size, 1):
        return None, "too_few_active"
    per_kept = float(latest["retained_revenue"] / latest["retained_customers"])
    if not per_kept > 0:
        return None, "no_retained_revenue"
    retention = float(latest["customer_retention"])
    table = retention_whatif(active_customers, retention, uplift_pp, per_kept, gross_margin, years,
                             cost_per_new_customer)
    return WhatIf(active_customers=int(active_customers), retention=retention, uplift_pp=float(uplift_pp),
                  revenue_per_customer=per_kept, gross_margin=float(gross_margin), years=int(years), table=table), None


# --- the chapter ------------------------------------------------------------------------------


def _num(value: Any) -> float | None:
    """A key-figure float: ``None`` instead of NaN/None/inf."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _int(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


@dataclass(frozen=True)
class EconomicsKeyFigures:
    """The numbers of chapter "Warum Bestandskunden zählen" (``None`` where not computable)."""

    customers: int
    """Customers with at least one purchase day."""
    one_time_customers: int
    """Customers with exactly one purchase day (Einmalkäufer)."""
    repeat_customers: int
    """Customers with at least two purchase days (Wiederholungskäufer)."""
    repeat_rate: float | None
    """Share of customers with at least two purchase days (0..1)."""
    repeat_revenue_share: float | None
    """Share of net revenue (0..1) of those customers; ``None`` without (positive) revenue."""
    factor_repeat_vs_one_time: float | None
    """Revenue per repeat buyer / revenue per one-time buyer (whole period; partly true by
    construction, not a test of any rule of thumb); ``None`` when a group is smaller than
    ``economics.min_group_size``."""
    factor_per_active_year: float | None
    """The same per active customer-year."""
    aov_ratio: float | None
    """Average order value of repeat buyers / that of one-time buyers."""
    single_cohort: bool
    """The data follow one acquisition cohort (see the module docstring); cohort comparisons are not made."""
    first_purchase_share_in_window: float | None
    """Share of customers (0..1) whose first purchase lies in the first ``single_cohort_window`` of the period."""
    flow_period: str | None
    """Period of the customer flow: ``"year"`` (12 months) or ``"quarter"`` (3 months); ``None`` = no flow."""
    flow_period_start: pd.Timestamp | None
    """First day of the latest flow period."""
    flow_period_end: pd.Timestamp | None
    """Last day of the latest flow period (= observation end)."""
    flow_active_previous: int | None
    """Active customers (purchase day) in the period before the latest one."""
    flow_new: int | None
    """Latest period: customers with their first purchase in it."""
    flow_retained: int | None
    """Latest period: customers active in it and in the period before."""
    flow_reactivated: int | None
    """Latest period: customers back after at least one period without a purchase."""
    flow_lost: int | None
    """Latest period: customers active in the period before but not in it."""
    flow_active: int | None
    """Active customers in the latest period (= previous + new + reactivated − lost)."""
    top_10_revenue_share: float | None
    """Share of net revenue (0..1) of the top 10 % of customers."""
    top_20_revenue_share: float | None
    """Share of net revenue (0..1) of the top 20 % of customers."""
    gini: float | None
    """Gini coefficient of net revenue per customer (0..1)."""
    nrr: float | None
    """Net revenue retention of the most recent 12-month window (share, may exceed 1; net of all lines)."""
    grr: float | None
    """Gross revenue retention of the most recent 12-month window (at most 1)."""
    customer_retention_yearly: float | None
    """Share of the previous window's customers who bought again in the most recent one (0..1)."""
    lost_customers: int | None
    """Customers of window 1 without a purchase in the last 12 months."""
    lost_revenue: float | None
    """Their window-1 net revenue, EUR."""
    new_customers_needed: int | None
    """New customers needed to replace the lost revenue."""
    replacement_cost: float | None
    """Cost of winning them, EUR (assumption ``economics.cost_per_new_customer``)."""
    care_cost: float | None
    """Looking after all window-1 customers for a year, EUR (assumption ``economics.cost_per_retained_customer``)."""
    breakeven_saved_customers: int | None
    """Prevented losses at which ``care_cost`` pays off against ``replacement_cost``."""
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
    """Per customer (index ``customer_id``): ``group`` (id ``one_time`` | ``repeat``)."""
    groups: pd.DataFrame
    """:func:`group_comparison` (index: group ids)."""
    contrast: GroupContrast
    acquisition: Acquisition
    flow: CustomerFlow
    concentration: ConcentrationSummary | None
    """``None`` when ``concentration_skip`` is set."""
    concentration_skip: str | None
    """``no_revenue``, ``no_positive_revenue`` or ``too_few_customers`` (fewer than ``min_group_size``)."""
    lorenz: pd.DataFrame | None
    """:func:`~helpers.analysis.concentration.lorenz_curve` of net revenue per customer; ``None`` when
    ``concentration_skip`` is set."""
    yearly: pd.DataFrame
    """:func:`~helpers.analysis.cohorts.yearly_retention` (most recent window first; may be empty)."""
    cohorts: CohortResult
    """Cohort matrices in the shown granularity (``view.period``)."""
    view: CohortView
    mean_retention: pd.Series
    """Customer retention per period k over all cohorts (weighted by cohort size)."""
    mean_retention_base: pd.Series
    """Customers behind each value of ``mean_retention``."""
    activity: pd.DataFrame | None
    """Single cohort only: :func:`~helpers.analysis.cohorts.cohort_activity` per month; else ``None``."""
    lost: LostRevenue
    whatif: WhatIf | None
    """``None`` without revenue, without two observed years or with too few customers (``whatif_skip``)."""
    whatif_skip: str | None
    """Reason id when ``whatif`` is ``None`` (see :func:`whatif`)."""
    has_revenue: bool
    min_group_size: int
    """``economics.min_group_size`` used."""
    first_date: pd.Timestamp
    """First order date of the data."""
    observation_end: pd.Timestamp

    @property
    def has_cohorts(self) -> bool:
        """The cohort heatmap is shown: not a single cohort, cohorts with enough customers and at
        least one observed period after the first purchase."""
        return (not self.key.single_cohort) and bool(self.view.shown) and self.view.max_k >= 1

    @property
    def has_revenue_cohorts(self) -> bool:
        """The revenue heatmap is shown (cohort heatmap shown and revenue available)."""
        return self.has_cohorts and self.cohorts.revenue_retention is not None

    @property
    def has_activity(self) -> bool:
        """The single-cohort activity chart is shown (at least two complete months)."""
        return self.activity is not None and len(self.activity) >= 2

    @property
    def has_nrr(self) -> bool:
        """The latest yearly window has a computed NRR (needs revenue, two observed years and at least
        ``min_group_size`` customers in the earlier year)."""
        return (self.has_revenue and not self.yearly.empty and bool(pd.notna(self.yearly["nrr"].iloc[0]))
                and int(self.yearly["base_customers"].iloc[0]) >= self.min_group_size)

    @property
    def has_lorenz(self) -> bool:
        return self.lorenz is not None and self.concentration is not None and self.concentration.top_20 is not None


def _costs_are_defaults(econ) -> bool:
    defaults = {f.name: f.default for f in fields(type(econ))}
    return all(float(getattr(econ, n)) == float(defaults[n])
               for n in ("cost_per_new_customer", "cost_per_retained_customer"))


def compute(ds: Dataset, cfg: Any, upstream: Mapping[str, ChapterResult]) -> EconomicsResult:
    """Customer flow, groups, concentration, yearly retention, cohorts, lost revenue and what-if."""
    econ = cfg.economics
    n_min = int(econ.min_group_size)
    customers, purchases, lines = ds.customers, ds.purchases, ds.transactions
    end = ds.observation_end
    has_revenue = ds.has_revenue
    groups = group_comparison(customers, purchases)
    con = contrast(groups, n_min)
    acq = acquisition_profile(customers["first_purchase"], ds.first_date, end, econ.single_cohort_share,
                              econ.single_cohort_window, n_min)
    flow = customer_flow(purchases, ds.first_date, end)
    if not has_revenue:
        conc_skip = "no_revenue"
    elif not bool((customers["revenue"] > 0).any()):
        conc_skip = "no_positive_revenue"
    elif len(customers) < n_min:
        conc_skip = "too_few_customers"
    else:
        conc_skip = None
    conc = concentration_summary(customers["revenue"]) if conc_skip is None else None
    lorenz = lorenz_curve(customers["revenue"]) if conc_skip is None else None
    yearly = yearly_retention(purchases, lines, ds.first_date, end)

    requested = cohort_matrix(purchases, end, econ.cohort_period, lines)
    aggregated = econ.cohort_period == "M" and len(requested.sizes) > econ.max_cohorts
    cohort = cohort_matrix(purchases, end, "Q", lines) if aggregated else requested
    view = cohort_view(cohort, n_min, econ.max_cohorts, aggregated, int(len(requested.sizes)))
    mean_ret = cohort.mean_retention() if not cohort.empty else pd.Series(dtype=float, name="retention")
    mean_base = cohort.observed_customers()
    activity = cohort_activity(purchases, lines, end, "M") if acq.single_cohort else None

    lost = lost_revenue(purchases, lines, ds.first_date, end, econ.cost_per_new_customer,
                        econ.cost_per_retained_customer, n_min, acq.single_cohort, _costs_are_defaults(econ))
    active_n = int(len(active_customers_last_12m(purchases, end)))
    if has_revenue:
        wi, wi_skip = whatif(yearly, active_n, econ.retention_uplift_pp, cfg.gross_margin, econ.whatif_years,
                             econ.cost_per_new_customer, n_min)
    else:
        wi, wi_skip = None, "no_revenue"

    one, rep = groups.loc["one_time"], groups.loc["repeat"]
    latest = yearly.iloc[0] if not yearly.empty and yearly["base_customers"].iloc[0] >= n_min else None
    fl = flow.latest
    share_ok = has_revenue and "revenue_share" in groups.columns
    key = EconomicsKeyFigures(
        customers=int(groups["customers"].sum()),
        one_time_customers=int(one["customers"]),
        repeat_customers=int(rep["customers"]),
        repeat_rate=_num(rep["customer_share"]) if int(groups["customers"].sum()) else None,
        repeat_revenue_share=_num(rep["revenue_share"]) if share_ok else None,
        factor_repeat_vs_one_time=_num(con.factor),
        factor_per_active_year=_num(con.factor_per_year),
        aov_ratio=_num(con.aov_ratio),
        single_cohort=acq.single_cohort,
        first_purchase_share_in_window=_num(acq.share_in_window),
        flow_period=flow.period if flow.ok else None,
        flow_period_start=fl["period_start"] if fl is not None else None,
        flow_period_end=fl["period_end"] if fl is not None else None,
        flow_active_previous=_int(fl["active_previous"]) if fl is not None else None,
        flow_new=_int(fl["new"]) if fl is not None else None,
        flow_retained=_int(fl["retained"]) if fl is not None else None,
        flow_reactivated=_int(fl["reactivated"]) if fl is not None else None,
        flow_lost=_int(fl["lost"]) if fl is not None else None,
        flow_active=_int(fl["active"]) if fl is not None else None,
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
        care_cost=_num(lost.care_cost) if lost.computable else None,
        breakeven_saved_customers=lost.breakeven_saved if lost.computable else None,
        whatif_active_customers=wi.active_customers if wi else None,
        whatif_extra_revenue=_num(wi.extra_revenue) if wi else None,
        whatif_extra_margin=_num(wi.extra_margin) if wi else None,
    )
    return EconomicsResult(
        key=key, customers=customer_groups(customers).to_frame(), groups=groups, contrast=con, acquisition=acq,
        flow=flow, concentration=conc, concentration_skip=conc_skip, lorenz=lorenz, yearly=yearly, cohorts=cohort, view=view,
        mean_retention=mean_ret, mean_retention_base=mean_base, activity=activity, lost=lost, whatif=wi,
        whatif_skip=wi_skip, has_revenue=has_revenue, min_group_size=n_min, first_date=ds.first_date,
        observation_end=end,
    )
