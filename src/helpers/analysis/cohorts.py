"""Acquisition cohorts, yearly revenue retention (NRR/GRR) and the customer flow per period.

Definitions (*purchases* = one row per customer and purchase day, see :mod:`helpers.dataset`;
*lines* = all kept lines incl. returns, ``ds.transactions``). Activity is always measured on
purchase days; revenue is always **net of all lines** (returns included, also returns booked on a
day without a purchase), so "Nettoumsatz" means the same in every table of the report.

- *Cohort*: all customers whose first purchase falls into the same calendar month
  (``period="M"``) or quarter (``"Q"``).
- *Period k*: the k-th month/quarter after the cohort period (k = 0 is the acquisition period).
- *Customer retention* in period k: share of the cohort's customers with at least one purchase
  day in period k.
- *Revenue retention* in period k: the cohort's net revenue in period k divided by its net revenue
  in period 0 (can exceed 100 %).
- Only *complete* periods are used: a period that ends after ``observation_end`` is left out, so
  a half-observed last month does not look like a drop. Cells not yet observable are NaN;
  observed cells without purchases are 0.

Period windows (yearly figures and the customer flow) are anchored at ``observation_end``: window 0
is ``(end − m months, end]``, window 1 the m months before, and so on (m = 12 for years, 3 for
quarters; when ``end`` is a month's last day every boundary is a month's last day). A window counts
as observed when the data start at most ``tolerance_days`` after its first day.

- *NRR* (net revenue retention) for window Y: net revenue in Y of the customers who bought in Y−1,
  divided by their net revenue in Y−1.
- *GRR* (gross revenue retention): the same, but each customer's Y revenue is capped at their
  Y−1 revenue (expansion does not count, only losses).
- *Customer retention* (yearly): share of Y−1 customers who bought again in Y.

Customer flow per period t (a customer is *active* in t with at least one purchase day in t):

- *new*: active in t with the first purchase day of the data in t;
- *retained*: active in t and in t−1;
- *reactivated*: active in t, not in t−1, but with a purchase day before t−1;
- *lost*: active in t−1, not in t.

So ``active(t−1) − lost + new + reactivated = active(t)`` (checked in the tests). Customers who
bought before the data start cannot be recognised: in the first periods some "new" customers may
in truth be reactivated ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..dataset import line_weights


def isin_fast(values, lookup) -> np.ndarray:
    """``values.isin(lookup)`` as a bool array, fast for Arrow-backed string ids (pandas' own ``isin``
    on the ``str`` dtype converts every lookup value to a Python object: 2,4 s instead of 0,2 s for
    a million lines and 230.000 ids). Same result for every dtype (other dtypes use pandas)."""
    vals = pd.Index(values) if not isinstance(values, (pd.Series, pd.Index)) else values
    look = pd.Index(lookup)
    if isinstance(vals.dtype, pd.StringDtype) and isinstance(look.dtype, pd.StringDtype):
        import pyarrow as pa
        import pyarrow.compute as pc

        try:
            found = pc.is_in(pa.array(vals, type=pa.large_string()),
                             value_set=pa.array(look.dropna(), type=pa.large_string()))
            return np.asarray(found.fill_null(False), dtype=bool)
        except (ImportError, TypeError, ValueError, pa.ArrowException):  # pragma: no cover - fall back to pandas
            pass
    return np.asarray(vals.isin(look), dtype=bool)


WINDOW_TOLERANCE_DAYS = 14
"""A 12-month window still counts as observed if the data start up to this many days late."""
QUARTER_TOLERANCE_DAYS = 7
"""The same for 3-month windows (the customer flow of short data)."""
FLOW_PERIODS = (("year", 12, WINDOW_TOLERANCE_DAYS), ("quarter", 3, QUARTER_TOLERANCE_DAYS))
"""Period id, months per window and tolerance of the customer flow, in order of preference."""
FLOW_COLUMNS = ["period_start", "period_end", "active_previous", "new", "retained", "reactivated", "lost",
                "active"]


@dataclass(frozen=True)
class CohortResult:
    """Cohort matrices. Index: cohort period (``pd.Period``); columns: k = 0, 1, 2, ..."""

    period: str
    sizes: pd.Series
    """Customers acquired per cohort."""
    retention: pd.DataFrame
    """Customer retention per cohort and period k (share 0..1, NaN = not yet observable)."""
    revenue_retention: pd.DataFrame | None
    """Net revenue in period k / net revenue in period 0 (NaN = not observable or no period-0
    revenue); ``None`` without revenue."""

    @property
    def empty(self) -> bool:
        return self.retention.empty

    def mean_retention(self) -> pd.Series:
        """Customer retention per k over all cohorts, weighted by cohort size (observed cohorts only)."""
        return _weighted_mean(self.retention, self.sizes)

    def observed_customers(self) -> pd.Series:
        """Per k: customers of the cohorts in which period k is observed (the base of :meth:`mean_retention`)."""
        if self.empty:
            return pd.Series(dtype=int, name="customers")
        w = self.sizes.reindex(self.retention.index).astype(int)
        return self.retention.notna().mul(w, axis=0).sum().astype(int).rename("customers")


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


def _empty_cohorts(period: str, has_revenue: bool) -> CohortResult:
    empty = pd.DataFrame()
    return CohortResult(period, pd.Series(dtype=int, name="customers"), empty, empty if has_revenue else None)


def cohort_matrix(purchases: pd.DataFrame, observation_end: pd.Timestamp, period: str = "M",
                  lines: pd.DataFrame | None = None) -> CohortResult:
    """Customer and revenue retention by acquisition cohort (see module docstring).

    ``lines`` (all kept lines, ``ds.transactions``) give the net revenue per period; without them
    the purchase days' revenue is used (no returns on days without a purchase).
    """
    p = purchases[purchases["order_date"] <= observation_end]
    has_revenue = "revenue" in p.columns
    last = last_complete_period(observation_end, period)
    if p.empty:
        return _empty_cohorts(period, has_revenue)
    first = p.groupby("customer_id", observed=True)["order_date"].min()
    first_idx = pd.Series(_period_index(first, period), index=first.index)
    per = _period_index(p["order_date"], period)
    cohort = first_idx.reindex(p["customer_id"]).to_numpy()
    frame = pd.DataFrame({"customer_id": p["customer_id"].to_numpy(), "cohort": cohort, "k": per - cohort})
    frame = frame[(frame["cohort"] <= last) & (frame["cohort"] + frame["k"] <= last)]
    if frame.empty:
        return _empty_cohorts(period, has_revenue)

    active = frame.groupby(["cohort", "k"])["customer_id"].nunique().unstack("k")
    cohorts = np.arange(frame["cohort"].min(), last + 1)
    ks = np.arange(0, last - cohorts.min() + 1)
    active = active.reindex(index=cohorts, columns=ks)
    observable = (cohorts[:, None] + ks[None, :]) <= last
    sizes = active[0].fillna(0).astype(int)
    keep = (sizes > 0).to_numpy()
    active = active.fillna(0).where(observable)
    retention = active.div(sizes.replace(0, np.nan), axis=0)[keep]
    revenue_retention = None
    if has_revenue:
        src = lines if lines is not None and "revenue" in lines.columns else p
        src = src[(src["order_date"] <= observation_end).to_numpy() & isin_fast(src["customer_id"], first.index)]
        coh = first_idx.reindex(src["customer_id"]).to_numpy()
        rframe = pd.DataFrame({"cohort": coh, "k": _period_index(src["order_date"], period) - coh,
                               "revenue": src["revenue"].to_numpy(dtype=float)})
        rframe = rframe[(rframe["k"] >= 0) & (rframe["cohort"] <= last) & (rframe["cohort"] + rframe["k"] <= last)]
        rev = rframe.groupby(["cohort", "k"])["revenue"].sum().unstack("k").reindex(index=cohorts, columns=ks)
        rev = rev.fillna(0).where(observable)
        base = rev[0].where(rev[0] > 0)
        revenue_retention = rev.div(base, axis=0)[keep]
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


# --- period windows anchored at the observation end ------------------------------------------


def window_bounds(first_date: pd.Timestamp, observation_end: pd.Timestamp,
                  tolerance_days: int = WINDOW_TOLERANCE_DAYS, months: int = 12) -> list[pd.Timestamp]:
    """Boundaries ``[b_0 = end, b_1 = end − m months, ...]`` of the observed m-month windows.

    Window j is ``(b_{j+1}, b_j]``. Only windows the data cover (within the tolerance) are
    returned, so ``len(bounds) − 1`` is the number of complete windows. When ``end`` is the last
    day of a month, every boundary is the last day of a month (30.06. − 3 months = 31.03.).
    """
    end = pd.Timestamp(observation_end).normalize()
    first = pd.Timestamp(first_date).normalize()
    month_end = end.is_month_end
    bounds = [end]
    while len(bounds) <= 400:
        start = end - pd.DateOffset(months=months * len(bounds))
        if month_end:
            start = start + pd.offsets.MonthEnd(0)
        if (first - (start + pd.Timedelta(days=1))).days > tolerance_days:
            break
        bounds.append(start)
    return bounds


def _window_index(dates: pd.Series, bounds: list[pd.Timestamp]) -> np.ndarray:
    """Window number of each date (0 = most recent), −1 outside all windows."""
    edges = np.array([b.to_datetime64() for b in reversed(bounds)])  # ascending
    pos = np.searchsorted(edges, dates.to_numpy(), side="left")  # (edges[i-1], edges[i]] -> i
    inside = (pos >= 1) & (pos <= len(edges) - 1)
    return np.where(inside, (len(edges) - 1) - pos, -1)


def customer_window_revenue(lines: pd.DataFrame, bounds: list[pd.Timestamp]) -> pd.DataFrame:
    """Net revenue (EUR) per customer and window: the sum over **all** ``lines`` (returns included).

    Returns a customers x windows table; column j is window j (0 = most recent). Pass
    ``ds.transactions``; a frame without ``revenue`` counts rows instead.
    """
    if len(bounds) < 2:
        return pd.DataFrame()
    window = _window_index(lines["order_date"], bounds)
    inside = window >= 0
    value = lines["revenue"].to_numpy(dtype=float) if "revenue" in lines.columns else line_weights(lines).astype(float)
    frame = pd.DataFrame({"customer_id": lines["customer_id"].to_numpy()[inside],
                          "window": window[inside], "value": value[inside]})
    table = frame.groupby(["customer_id", "window"], observed=True)["value"].sum().unstack("window", fill_value=0.0)
    return table.reindex(columns=range(len(bounds) - 1), fill_value=0.0)


def customer_window_activity(purchases: pd.DataFrame, bounds: list[pd.Timestamp]) -> pd.DataFrame:
    """Customers x windows table of booleans: at least one purchase day in the window."""
    if len(bounds) < 2:
        return pd.DataFrame()
    window = _window_index(purchases["order_date"], bounds)
    inside = window >= 0
    frame = pd.DataFrame({"customer_id": purchases["customer_id"].to_numpy()[inside], "window": window[inside]})
    table = frame.drop_duplicates().assign(active=True).set_index(["customer_id", "window"])["active"]
    table = table.unstack("window", fill_value=False) if len(table) else pd.DataFrame()
    return table.reindex(columns=range(len(bounds) - 1), fill_value=False).astype(bool)


YEARLY_COLUMNS = ["year_start", "year_end", "base_customers", "retained_customers", "customer_retention",
                  "base_revenue", "next_revenue", "retained_revenue", "capped_revenue", "nrr", "grr",
                  "new_revenue"]


def yearly_retention(purchases: pd.DataFrame, lines: pd.DataFrame, first_date: pd.Timestamp,
                     observation_end: pd.Timestamp) -> pd.DataFrame:
    """NRR, GRR and customer retention for each pair of consecutive 12-month windows.

    ``purchases`` decide who bought in a window (purchase days), ``lines`` (``ds.transactions``)
    give the net revenue of all lines. One row per window Y that has an observed predecessor (most
    recent first). Columns: ``year_start``/``year_end`` (first and last day of Y), ``base_customers``
    (bought in Y−1), ``retained_customers`` (of those, bought again in Y), ``customer_retention``
    (share), ``base_revenue`` (their Y−1 net revenue, EUR), ``next_revenue`` (their Y net revenue,
    EUR; returns in Y included, also of those without a purchase in Y), ``retained_revenue`` (Y net
    revenue of the retained customers, EUR), ``capped_revenue`` (Y revenue capped per customer at
    Y−1 revenue), ``nrr`` = next / base, ``grr`` = capped / base (shares), ``new_revenue`` (Y net
    revenue of all other customers, EUR). Empty when fewer than two yearly windows are observed.
    Revenue columns are NaN without revenue or without positive base revenue.
    """
    bounds = window_bounds(first_date, observation_end)
    if len(bounds) < 3:
        return pd.DataFrame(columns=YEARLY_COLUMNS)
    active = customer_window_activity(purchases, bounds)
    has_revenue = "revenue" in lines.columns
    revenue = customer_window_revenue(lines, bounds) if has_revenue else None
    if revenue is not None:
        ids = active.index.union(revenue.index)
        active = active.reindex(ids, fill_value=False)
        revenue = revenue.reindex(ids, fill_value=0.0)
    rows = []
    for y in range(len(bounds) - 2):
        base = active[y + 1]
        kept = base & active[y]
        row = {
            "year_start": bounds[y + 1] + pd.Timedelta(days=1),
            "year_end": bounds[y],
            "base_customers": int(base.sum()),
            "retained_customers": int(kept.sum()),
        }
        row["customer_retention"] = row["retained_customers"] / row["base_customers"] if row["base_customers"] else np.nan
        r0 = revenue[y + 1][base] if revenue is not None else None
        if r0 is not None and r0.sum() > 0:
            r1 = revenue[y][base]
            row["base_revenue"] = float(r0.sum())
            row["next_revenue"] = float(r1.sum())
            row["retained_revenue"] = float(revenue[y][kept].sum())
            row["capped_revenue"] = float(np.minimum(r1, r0).sum())
            row["nrr"] = row["next_revenue"] / row["base_revenue"]
            row["grr"] = row["capped_revenue"] / row["base_revenue"]
            row["new_revenue"] = float(revenue[y][~base].sum())
        else:
            row.update({c: np.nan for c in YEARLY_COLUMNS[5:]})
        rows.append(row)
    return pd.DataFrame(rows, columns=YEARLY_COLUMNS)


# --- customer flow --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerFlow:
    """New, retained, reactivated and lost customers per period (definitions in the module docstring)."""

    period: str | None
    """``"year"`` (12-month windows) or ``"quarter"`` (3-month windows, for data shorter than two
    years); ``None`` when not even two quarters are observed."""
    table: pd.DataFrame
    """One row per period with an observed predecessor, **oldest first**: ``period_start``,
    ``period_end`` (first and last day), ``active_previous``, ``new``, ``retained``,
    ``reactivated``, ``lost``, ``active`` (customers)."""

    @property
    def ok(self) -> bool:
        return self.period is not None and not self.table.empty

    @property
    def latest(self) -> pd.Series | None:
        """The most recent period's row (``None`` when there is none)."""
        return self.table.iloc[-1] if self.ok else None


def flow_bounds(first_date: pd.Timestamp, observation_end: pd.Timestamp) -> tuple[str | None, list[pd.Timestamp]]:
    """The flow's period id and window boundaries: years when at least two 12-month windows are
    observed, else quarters when at least two 3-month windows are, else ``(None, [])``."""
    for name, months, tolerance in FLOW_PERIODS:
        bounds = window_bounds(first_date, observation_end, tolerance, months)
        if len(bounds) >= 3:
            return name, bounds
    return None, []


def customer_flow(purchases: pd.DataFrame, first_date: pd.Timestamp, observation_end: pd.Timestamp) -> CustomerFlow:
    """Customer flow per year (or quarter for short data), see the module docstring."""
    period, bounds = flow_bounds(first_date, observation_end)
    if period is None:
        return CustomerFlow(None, pd.DataFrame(columns=FLOW_COLUMNS))
    p = purchases[purchases["order_date"] <= observation_end]
    active = customer_window_activity(p, bounds)
    first = p.groupby("customer_id", observed=True)["order_date"].min().reindex(active.index)
    rows = []
    for w in range(len(bounds) - 3, -1, -1):  # oldest classified window first
        start, end = bounds[w + 1], bounds[w]
        now, before = active[w], active[w + 1]
        new = now & (first > start) & (first <= end)
        retained = now & before
        reactivated = now & ~before & ~new
        rows.append({
            "period_start": start + pd.Timedelta(days=1), "period_end": end,
            "active_previous": int(before.sum()), "new": int(new.sum()), "retained": int(retained.sum()),
            "reactivated": int(reactivated.sum()), "lost": int((before & ~now).sum()), "active": int(now.sum()),
        })
    return CustomerFlow(period, pd.DataFrame(rows, columns=FLOW_COLUMNS))


# --- one acquisition cohort over calendar time ----------------------------------------------------


def cohort_activity(purchases: pd.DataFrame, lines: pd.DataFrame | None, observation_end: pd.Timestamp,
                    period: str = "M") -> pd.DataFrame:
    """All customers as one group, per complete calendar month (or quarter) from the first purchase on.

    Index: ``pd.Period``; columns ``active`` (customers with a purchase day), ``share`` (active / all
    customers, 0..1), ``revenue`` (net revenue of all lines, EUR; NaN without revenue).
    """
    p = purchases[purchases["order_date"] <= observation_end]
    last = last_complete_period(observation_end, period)
    if p.empty:
        return pd.DataFrame(columns=["active", "share", "revenue"])
    per = _period_index(p["order_date"], period)
    counts = pd.Series(p["customer_id"].to_numpy()).groupby(per).nunique()
    numbers = np.arange(int(per.min()), last + 1)
    out = pd.DataFrame({"active": counts.reindex(numbers, fill_value=0).astype(int)}, index=numbers)
    out["share"] = out["active"] / p["customer_id"].nunique()
    if lines is not None and "revenue" in lines.columns:
        src = lines[(lines["order_date"] <= observation_end).to_numpy()
                    & isin_fast(lines["customer_id"], p["customer_id"].unique())]
        out["revenue"] = (pd.Series(src["revenue"].to_numpy(dtype=float)).groupby(_period_index(src["order_date"], period))
                          .sum().reindex(numbers, fill_value=0.0))
    else:
        out["revenue"] = np.nan
    out.index = _to_period_index(numbers, period).rename("period")
    return out
