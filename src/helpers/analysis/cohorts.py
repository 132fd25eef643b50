"""Acquisition cohorts and yearly revenue retention (NRR/GRR).

Definitions (purchases = one row per customer and purchase day, see :mod:`helpers.dataset`):

- *Cohort*: all customers whose first purchase falls into the same calendar month
  (``period="M"``) or quarter (``"Q"``).
- *Period k*: the k-th month/quarter after the cohort period (k = 0 is the acquisition period).
- *Customer retention* in period k: share of the cohort's customers with at least one purchase
  in period k.
- *Revenue retention* in period k: the cohort's revenue in period k divided by its revenue in
  period 0 (can exceed 100 %).
- Only *complete* periods are used: a period that ends after ``observation_end`` is left out, so
  a half-observed last month does not look like a drop. Cells not yet observable are NaN;
  observed cells without purchases are 0.

Yearly figures use 12-month windows anchored at ``observation_end``: window 0 is
``(end - 12 months, end]``, window 1 the 12 months before, and so on. A window counts as observed
when the data start at most ``WINDOW_TOLERANCE_DAYS`` after its first day.

- *NRR* (net revenue retention) for window Y: revenue in Y from customers who bought in Y-1,
  divided by their revenue in Y-1.
- *GRR* (gross revenue retention): the same, but each customer's Y revenue is capped at their
  Y-1 revenue (expansion does not count, only losses).
- *Customer retention* (yearly): share of Y-1 customers who bought again in Y.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

WINDOW_TOLERANCE_DAYS = 14
"""A 12-month window still counts as observed if the data start up to this many days late."""


@dataclass(frozen=True)
class CohortResult:
    """Cohort matrices. Index: cohort period (``pd.Period``); columns: k = 0, 1, 2, ..."""

    period: str
    sizes: pd.Series
    """Customers acquired per cohort."""
    retention: pd.DataFrame
    """Customer retention per cohort and period k (share 0..1, NaN = not yet observable)."""
    revenue_retention: pd.DataFrame | None
    """Revenue in period k / revenue in period 0 (NaN = not observable); ``None`` without revenue."""

    @property
    def empty(self) -> bool:
        return self.retention.empty

    def mean_retention(self) -> pd.Series:
        """Customer retention per k over all cohorts, weighted by cohort size (observed cohorts only)."""
        return _weighted_mean(self.retention, self.sizes)


def _weighted_mean(matrix: pd.DataFrame, weights: pd.Series) -> pd.Series:
    w = weights.reindex(matrix.index).astype(float)
    observed = matrix.notna()
    num = matrix.fillna(0).mul(w, axis=0).sum()
    den = observed.mul(w, axis=0).sum()
    return (num / den.replace(0, np.nan)).rename("retention")


def _period_index(dates: pd.Series, period: str) -> np.ndarray:
    """Running integer number of the month/quarter of each date."""
    if period == "M":
        return (dates.dt.year * 12 + dates.dt.month - 1).to_numpy()
    if period == "Q":
        return (dates.dt.year * 4 + dates.dt.quarter - 1).to_numpy()
    raise ValueError(f"period must be 'M' or 'Q', got {period!r}")


def last_complete_period(observation_end: pd.Timestamp, period: str) -> int:
    """Running number of the last period that ends on or before ``observation_end``."""
    end = pd.Timestamp(observation_end).normalize()
    idx = int(_period_index(pd.Series([end]), period)[0])
    next_day_idx = int(_period_index(pd.Series([end + pd.Timedelta(days=1)]), period)[0])
    return idx if next_day_idx != idx else idx - 1


def cohort_matrix(purchases: pd.DataFrame, observation_end: pd.Timestamp, period: str = "M") -> CohortResult:
    """Customer and revenue retention by acquisition cohort (see module docstring)."""
    p = purchases[purchases["order_date"] <= observation_end]
    has_revenue = "revenue" in p.columns
    last = last_complete_period(observation_end, period)
    if p.empty:
        empty = pd.DataFrame()
        return CohortResult(period, pd.Series(dtype=int), empty, empty if has_revenue else None)
    per = _period_index(p["order_date"], period)
    first = p.groupby("customer_id", observed=True)["order_date"].transform("min")
    cohort = _period_index(first, period)
    frame = pd.DataFrame({"customer_id": p["customer_id"].to_numpy(), "cohort": cohort, "k": per - cohort})
    if has_revenue:
        frame["revenue"] = p["revenue"].to_numpy()
    frame = frame[(frame["cohort"] <= last) & (frame["cohort"] + frame["k"] <= last)]
    if frame.empty:
        empty = pd.DataFrame()
        return CohortResult(period, pd.Series(dtype=int), empty, empty if has_revenue else None)

    grouped = frame.groupby(["cohort", "k"])
    active = grouped["customer_id"].nunique().unstack("k")
    cohorts = np.arange(frame["cohort"].min(), last + 1)
    ks = np.arange(0, last - cohorts.min() + 1)
    active = active.reindex(index=cohorts, columns=ks)
    observable = (cohorts[:, None] + ks[None, :]) <= last
    sizes = active[0].fillna(0).astype(int)
    keep = sizes > 0
    active = active.fillna(0).where(observable)
    retention = active.div(sizes.replace(0, np.nan), axis=0)[keep.to_numpy()]
    revenue_retention = None
    if has_revenue:
        rev = grouped["revenue"].sum().unstack("k").reindex(index=cohorts, columns=ks)
        rev = rev.fillna(0).where(observable)
        revenue_retention = rev.div(rev[0].replace(0, np.nan), axis=0)[keep.to_numpy()]
    index = _to_period_index(retention.index.to_numpy(), period)
    retention.index = index
    retention.columns.name = "k"
    if revenue_retention is not None:
        revenue_retention.index = index
        revenue_retention.columns.name = "k"
    sizes = sizes[keep]
    sizes.index = index
    return CohortResult(period, sizes.rename("customers"), retention, revenue_retention)


def _to_period_index(numbers: np.ndarray, period: str) -> pd.PeriodIndex:
    if period == "M":
        years, months = numbers // 12, numbers % 12 + 1
        return pd.PeriodIndex([pd.Period(year=int(y), month=int(m), freq="M") for y, m in zip(years, months)], name="cohort")
    years, quarters = numbers // 4, numbers % 4 + 1
    return pd.PeriodIndex([pd.Period(year=int(y), quarter=int(q), freq="Q") for y, q in zip(years, quarters)], name="cohort")


# --- yearly windows -----------------------------------------------------------------------------


def window_bounds(first_date: pd.Timestamp, observation_end: pd.Timestamp,
                  tolerance_days: int = WINDOW_TOLERANCE_DAYS) -> list[pd.Timestamp]:
    """Boundaries ``[b_0 = end, b_1 = end - 12 months, ...]`` of the observed 12-month windows.

    Window j is ``(b_{j+1}, b_j]``. Only windows the data cover (within the tolerance) are
    returned, so ``len(bounds) - 1`` is the number of complete yearly windows.
    """
    end = pd.Timestamp(observation_end).normalize()
    first = pd.Timestamp(first_date).normalize()
    bounds = [end]
    while True:
        start = end - pd.DateOffset(months=12 * len(bounds))
        if (first - (start + pd.Timedelta(days=1))).days > tolerance_days:
            break
        bounds.append(start)
        if len(bounds) > 100:
            break
    return bounds


def customer_window_revenue(purchases: pd.DataFrame, bounds: list[pd.Timestamp]) -> pd.DataFrame:
    """Revenue (or purchase days without revenue) per customer and yearly window.

    Returns a customers x windows table; column j is window j (0 = most recent 12 months).
    Values are the sum of purchase revenue in EUR (``revenue`` column) or the number of
    purchase days when purchases have no revenue.
    """
    if len(bounds) < 2:
        return pd.DataFrame()
    edges = np.array([b.to_datetime64() for b in reversed(bounds)])  # ascending
    dates = purchases["order_date"].to_numpy()
    pos = np.searchsorted(edges, dates, side="left")  # (edges[i-1], edges[i]] -> i
    inside = (pos >= 1) & (pos <= len(edges) - 1)
    window = (len(edges) - 1) - pos  # 0 = most recent
    value = purchases["revenue"].to_numpy() if "revenue" in purchases.columns else np.ones(len(purchases))
    frame = pd.DataFrame({"customer_id": purchases["customer_id"].to_numpy()[inside],
                          "window": window[inside], "value": value[inside]})
    table = frame.groupby(["customer_id", "window"], observed=True)["value"].sum().unstack("window", fill_value=0.0)
    return table.reindex(columns=range(len(bounds) - 1), fill_value=0.0)


def yearly_retention(purchases: pd.DataFrame, first_date: pd.Timestamp,
                     observation_end: pd.Timestamp) -> pd.DataFrame:
    """NRR, GRR and customer retention for each pair of consecutive 12-month windows.

    One row per window Y that has an observed predecessor (most recent first). Columns:
    ``year_start``/``year_end`` (first and last day of Y), ``base_customers`` (bought in Y-1),
    ``retained_customers`` (of those, bought again in Y), ``customer_retention`` (share),
    ``base_revenue`` (their Y-1 revenue, EUR), ``retained_revenue`` (their Y revenue, EUR),
    ``capped_revenue`` (Y revenue capped per customer at Y-1 revenue), ``nrr``, ``grr`` (shares),
    ``new_revenue`` (Y revenue of customers who did not buy in Y-1). Empty when fewer than two
    yearly windows are observed. Revenue columns are NaN without revenue.
    """
    bounds = window_bounds(first_date, observation_end)
    cols = ["year_start", "year_end", "base_customers", "retained_customers", "customer_retention",
            "base_revenue", "retained_revenue", "capped_revenue", "nrr", "grr", "new_revenue"]
    if len(bounds) < 3:
        return pd.DataFrame(columns=cols)
    table = customer_window_revenue(purchases, bounds)
    has_revenue = "revenue" in purchases.columns
    rows = []
    for y in range(len(bounds) - 2):
        prev, cur = table[y + 1], table[y]
        base = prev > 0
        r0, r1 = prev[base], cur[base]
        row = {
            "year_start": bounds[y + 1] + pd.Timedelta(days=1),
            "year_end": bounds[y],
            "base_customers": int(base.sum()),
            "retained_customers": int((r1 > 0).sum()),
        }
        row["customer_retention"] = row["retained_customers"] / row["base_customers"] if row["base_customers"] else np.nan
        if has_revenue and r0.sum() > 0:
            row["base_revenue"] = float(r0.sum())
            row["retained_revenue"] = float(r1.sum())
            row["capped_revenue"] = float(np.minimum(r1, r0).sum())
            row["nrr"] = row["retained_revenue"] / row["base_revenue"]
            row["grr"] = row["capped_revenue"] / row["base_revenue"]
            row["new_revenue"] = float(cur[~base].sum())
        else:
            row.update({c: np.nan for c in cols[5:]})
        rows.append(row)
    return pd.DataFrame(rows, columns=cols)
