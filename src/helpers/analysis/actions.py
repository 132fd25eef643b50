"""Action plan: segment × action matrix, priorities, budget allocation, cross-selling, target lists.

:func:`compute` is the chapter's one entry point (``depends = ("rfm", "clv", "churn")``). It adds
nothing new about buying behaviour; it joins the upstream results per customer
(:func:`customer_table`):

- ``segment`` (RFM segment id, :data:`NO_SEGMENT` without an RFM result), ``r_score``/``f_score``/
  ``m_score`` from the RFM chapter; ``clv``, ``p_alive`` from the CLV chapter;
- ``churn_risk``, ``risk``, ``risk_source``, ``value``, ``value_source``, ``value_at_risk`` from the
  churn chapter **as they are** (the one definition is :mod:`helpers.analysis.value`); so the value
  at risk per segment sums to the churn chapter's ``key.value_at_risk``;
- ``revenue_12m``: :func:`helpers.analysis.value.revenue_last_12m` (EUR, all lines, returns netted);
- ``reachable``: last purchase less than ``reach_days`` days (default 730) before the observation end
  (the contact data is probably still valid).

Priority of a segment (:func:`segment_matrix`): segments are ranked by
``value_at_risk × reachable share`` (or ``value × reachable share`` when no risk is known, or
``customers × reachable share`` when not even a value is known).
The segments that together make up the first 50 % of the total of that score get priority
``"high"``, up to 80 % ``"medium"``, the rest (and segments with score 0) ``"low"``
(German labels: :func:`helpers.labels.priority`).

Budget (:func:`allocate_budget`): the expected extra contribution of contacting a customer is
``uplift(segment) × value`` (EUR). Every contact costs the same, so the best return per euro is
reached greedily by contacting the customers with the highest expected extra contribution first –
only those whose expected extra contribution exceeds the contact cost – until the budget is spent.

Target lists (:func:`plan_lists`): segments with priority ``high``/``medium`` or at least one
budgeted contact get a list; :func:`helpers.export.write_action_lists` writes exactly this plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

import numpy as np
import pandas as pd

from ..results import ChapterResult
from . import crosssell as cs
from .value import revenue_last_12m

if TYPE_CHECKING:  # pragma: no cover
    from ..config import ReportConfig
    from ..dataset import Dataset

NO_SEGMENT = "no_segment"
"""Segment id used when no RFM result is available."""

HIGH, MEDIUM, LOW = "high", "medium", "low"
"""Priority ids (German labels in :data:`helpers.labels.PRIORITIES`)."""

PRIORITY_HIGH_SHARE = 0.5
"""Cumulative share of the priority score covered by priority ``high``."""
PRIORITY_MEDIUM_SHARE = 0.8
"""Cumulative share of the priority score covered by priorities ``high`` and ``medium``."""
REACH_DAYS = 730
"""Default: a customer counts as reachable when the last purchase is less than this many days old."""

STATUS_ALL = "all"
STATUS_TOP = "top"
STATUS_BELOW_COST = "below_cost"
STATUS_BUDGET = "budget_exhausted"
STATUS_EMPTY = "no_value"

_FROM_CHURN = ("churn_risk", "risk", "risk_source", "value", "value_source", "value_at_risk")


# ---------------------------------------------------------------- result


@dataclass(frozen=True)
class ActionsKeyFigures:
    """The numbers of the action plan that the chapter prints and the management summary quotes."""

    n_customers: int
    """Customers in the plan (all customers of the dataset)."""
    value_basis: str
    """Customer value used: ``"clv"`` (CLV for at least one customer), ``"margin_12m"`` or ``"none"``."""
    risk_basis: str
    """Risk measure used: ``"churn"``, ``"p_alive"``, ``"churn+p_alive"`` or ``"none"``."""
    value_at_risk: float | None
    """Expected contribution margin at risk, EUR (= the churn chapter's ``key.value_at_risk``);
    ``None`` when no risk measure is available."""
    value_horizon_months: int | None
    """Horizon of the customer value behind ``value_at_risk`` in months (the churn chapter's
    ``key.value_horizon_months``: CLV horizon, or 12 for the 12-month margin); ``None`` if unknown."""
    top_risk_segment: str | None
    """Segment id with the largest value at risk (``None`` when nothing is at risk)."""
    top_risk_value: float | None
    """Value at risk of that segment, EUR."""
    high_priority_segments: tuple[str, ...]
    """Segment ids with priority ``high``, in priority order."""
    budget: float
    """Campaign budget, EUR (setting)."""
    cost_per_contact: float
    """Cost of one contact, EUR (setting)."""
    contacts: int
    """Customers to contact within the budget (count)."""
    cost: float
    """Cost of those contacts, EUR."""
    unspent: float
    """Budget left unspent, EUR."""
    expected_gain: float
    """Expected extra contribution margin of the contacts, EUR."""
    net_gain: float
    """``expected_gain − cost``, EUR."""
    roi: float | None
    """``net_gain / cost`` (ratio, 1.0 = 100 %); ``None`` without contacts."""
    budget_segments: tuple[str, ...]
    """Segment ids with at least one budgeted contact, most contacts first."""
    lists_planned: int
    """Target lists (segments) the report writes."""
    list_customers: int
    """Customers on those lists (count)."""
    crosssell: bool
    """Whether the cross-selling rules could be computed."""


@dataclass(frozen=True, kw_only=True)
class ActionsResult(ChapterResult):
    """Result of the chapter "Maßnahmenplan" (ids only; German via :mod:`helpers.labels`)."""

    customers: pd.DataFrame
    """One row per customer (index ``customer_id``): the columns of :func:`customer_table` plus
    ``uplift`` (0–1), ``expected_gain`` (EUR), ``eligible``, ``contact`` (bool) from
    :func:`allocate_budget` and ``next_categories`` (str, NaN when cross-selling was skipped)."""
    matrix: pd.DataFrame
    """:func:`segment_matrix` (one row per segment id, priority order)."""
    allocation: pd.DataFrame
    """Per-segment budget allocation (see :func:`allocate_budget`)."""
    uplift: Mapping[str, float]
    """Effective uplift per segment id (0–1; defaults updated by ``cfg.actions.segment_uplift``)."""
    segment_actions: Mapping[str, str]
    """Recommended action per segment id, passed through from the RFM result (German text of
    ``cfg.rfm.segment_actions`` / ``labels.SEGMENTS``; empty without RFM)."""
    crosssell: cs.CrossSell
    """Category pairs and suggestion counts (``crosssell.skip`` says why not)."""
    lists: pd.DataFrame
    """The target-list plan, one row per list: ``segment`` (id), ``customers`` (count),
    ``truncated`` (bool: the Excel sheet holds only ``cfg.actions.max_list_rows``)."""
    has_value: bool
    """A customer value in EUR is known for at least one customer."""
    has_risk: bool
    """A risk measure is known for at least one customer."""
    key: ActionsKeyFigures


def compute(ds: "Dataset", cfg: "ReportConfig", upstream: Mapping[str, ChapterResult]) -> ActionsResult:
    """The action plan from the RFM, CLV and churn results (pure; never changes its inputs)."""
    churn = upstream["churn"]
    rev12 = revenue_last_12m(ds.transactions, ds.observation_end) if ds.has_revenue else None
    table = customer_table(
        ds.customers, rev12,
        rfm=_customers(upstream["rfm"]), clv=_customers(upstream["clv"]), churn=_customers(churn),
        reach_days=cfg.actions.reach_days,
    )
    matrix = segment_matrix(table)
    uplift = effective_uplift(cfg.actions.segment_uplift)
    per_customer, per_segment = allocate_budget(table, cfg.actions.budget, cfg.actions.cost_per_contact,
                                                uplift, cfg.actions.default_uplift)
    totals = allocation_totals(per_segment, cfg.actions.budget)
    cross, nxt = cs.analyze(ds.transactions)

    customers = table.join(per_customer[["uplift", "expected_gain", "eligible", "contact"]])
    customers["next_categories"] = (nxt["next_categories"].reindex(customers.index).fillna("")
                                    if nxt is not None else np.nan)
    lists = plan_lists(customers, actionable_segments(matrix, per_segment), cfg.actions.max_list_rows)

    has_risk = bool(table["risk"].notna().any())
    churn_key = getattr(churn, "key", None)
    var = getattr(churn_key, "value_at_risk", None)  # the one total, not recomputed
    key = key_figures(matrix, per_segment, totals, table, cfg.actions.cost_per_contact,
                      value_at_risk=None if var is None or np.isnan(var) else float(var),
                      value_horizon_months=getattr(churn_key, "value_horizon_months", None),
                      lists=lists, crosssell=cross.ok)
    rfm_actions = getattr(upstream["rfm"], "actions", None) or {}
    return ActionsResult(
        customers=customers,
        matrix=matrix,
        allocation=per_segment,
        uplift=uplift,
        segment_actions={str(k): str(v) for k, v in dict(rfm_actions).items()},
        crosssell=cross,
        lists=lists,
        has_value=bool(table["value"].notna().any()),
        has_risk=has_risk,
        key=key,
    )


def _customers(result: ChapterResult | None) -> pd.DataFrame | None:
    """The per-customer frame of an upstream result, or ``None``."""
    return getattr(result, "customers", None)


# ---------------------------------------------------------------- per customer


def customer_table(
    customers: pd.DataFrame,
    revenue_12m: pd.Series | None = None,
    rfm: pd.DataFrame | None = None,
    clv: pd.DataFrame | None = None,
    churn: pd.DataFrame | None = None,
    reach_days: int = REACH_DAYS,
) -> pd.DataFrame:
    """One row per customer with everything the action plan and the target lists need.

    ``customers`` is ``ds.customers``; ``revenue_12m`` is
    :func:`helpers.analysis.value.revenue_last_12m` (``None`` without revenue data);
    ``rfm``/``clv``/``churn`` are the upstream results' ``customers`` frames (index
    ``customer_id``) or ``None``. Columns: ``segment`` (id), ``r_score``/``f_score``/``m_score``
    (NaN without RFM), ``last_purchase``, ``n_purchases`` (purchase days), ``revenue`` (net EUR,
    all time), ``revenue_12m``, ``clv``, ``p_alive``, ``churn_risk``, ``value``, ``value_source``,
    ``risk``, ``risk_source``, ``value_at_risk`` (the last six taken unchanged from ``churn``),
    ``reachable`` (bool). The inputs are not changed.
    """
    idx = customers.index
    out = pd.DataFrame(index=idx)
    r = rfm.reindex(idx) if rfm is not None and "segment" in rfm.columns else pd.DataFrame(index=idx)
    out["segment"] = (r["segment"].astype(object).fillna(NO_SEGMENT).astype(str)
                      if "segment" in r.columns else NO_SEGMENT)
    for col in ("r_score", "f_score", "m_score"):
        out[col] = r[col].astype(float) if col in r.columns else np.nan
    out["last_purchase"] = customers["last_purchase"]
    out["n_purchases"] = customers["n_purchases"].astype(int)
    out["revenue"] = customers["revenue"].astype(float) if "revenue" in customers.columns else np.nan
    out["revenue_12m"] = (revenue_12m.reindex(idx).fillna(0.0).astype(float)
                          if revenue_12m is not None else np.nan)

    c = clv.reindex(idx) if clv is not None else pd.DataFrame(index=idx)
    out["clv"] = c["clv"].astype(float) if "clv" in c.columns else np.nan
    out["p_alive"] = c["p_alive"].astype(float) if "p_alive" in c.columns else np.nan
    ch = churn.reindex(idx) if churn is not None else pd.DataFrame(index=idx)
    for col in _FROM_CHURN:
        if col in ch.columns:
            out[col] = ch[col].fillna("none") if col.endswith("_source") else ch[col].astype(float)
        else:
            out[col] = "none" if col.endswith("_source") else np.nan
    out["reachable"] = (customers["recency_days"] < reach_days).to_numpy()
    return out


# ---------------------------------------------------------------- segments and priority


def _priority(score: pd.Series) -> pd.Series:
    """``high``/``medium``/``low`` from the cumulative share of ``score`` (see module docstring)."""
    total = score.sum()
    if not total > 0:
        return pd.Series(LOW, index=score.index)
    ordered = score.sort_values(ascending=False, kind="stable")
    before = (ordered.cumsum() - ordered) / total  # share covered by better-ranked segments
    prio = np.select(
        [ordered <= 0, before < PRIORITY_HIGH_SHARE, before < PRIORITY_MEDIUM_SHARE],
        [LOW, HIGH, MEDIUM], LOW,
    )
    return pd.Series(prio, index=ordered.index).reindex(score.index)


def segment_matrix(table: pd.DataFrame) -> pd.DataFrame:
    """Segment matrix (one row per segment id, sorted by priority score, descending).

    Columns: ``segment`` (id), ``customers``, ``revenue_12m`` (EUR), ``clv`` (sum of expected CLV,
    EUR; NaN when no CLV), ``value`` (sum of ``value``), ``value_at_risk`` (EUR, NaN when no risk is
    known), ``mean_risk`` (0–1), ``reachable_share`` (0–1), ``priority_score`` (EUR),
    ``priority`` (id). The recommended action per segment is ``ActionsResult.segment_actions``.
    """
    g = table.groupby("segment", observed=True, sort=True)
    has_risk = table["risk"].notna().any()
    m = pd.DataFrame(
        {
            "customers": g.size(),
            "revenue_12m": g["revenue_12m"].sum(min_count=1),
            "clv": g["clv"].sum(min_count=1),
            "value": g["value"].sum(min_count=1),
            "value_at_risk": g["value_at_risk"].sum() if has_risk else np.nan,
            "mean_risk": g["risk"].mean(),
            "reachable_share": g["reachable"].mean(),
        }
    )
    if has_risk:
        base = m["value_at_risk"]
    elif m["value"].notna().any():
        base = m["value"]
    else:  # no value in EUR at all: rank by the number of customers
        base = m["customers"].astype(float)
    m["priority_score"] = (base.fillna(0.0).clip(lower=0) * m["reachable_share"]).astype(float)
    m["priority"] = _priority(m["priority_score"])
    m.index.name = "segment"
    m = m.reset_index().sort_values(["priority_score", "customers"], ascending=[False, False],
                                    kind="stable", ignore_index=True)
    return m[["segment", "customers", "revenue_12m", "clv", "value", "value_at_risk", "mean_risk",
              "reachable_share", "priority_score", "priority"]]


# ---------------------------------------------------------------- budget


def uplift_for(segments: pd.Series, uplift: Mapping[str, float], default: float) -> pd.Series:
    """Expected uplift (share of the customer value gained by a contact, 0–1) per row."""
    return segments.map(dict(uplift)).astype(float).fillna(default)


def allocate_budget(
    table: pd.DataFrame,
    budget: float,
    cost_per_contact: float,
    uplift: Mapping[str, float],
    default_uplift: float = 0.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Greedy budget allocation by expected return per euro (``table`` is not changed).

    Per customer: ``expected_gain = uplift(segment) × value`` (EUR, 0 where value unknown);
    eligible when ``expected_gain > cost_per_contact``. Eligible customers are contacted in order
    of ``expected_gain`` (highest first; ties by ``customer_id``) while the budget lasts, i.e. the
    first ``floor(budget / cost_per_contact)`` of them.

    Returns ``(per_customer, per_segment)``:

    - ``per_customer`` (index ``customer_id``): ``segment``, ``uplift``, ``expected_gain``,
      ``eligible``, ``contact`` (bool).
    - ``per_segment``: ``segment``, ``uplift``, ``customers``, ``eligible``, ``contacts``, ``cost``
      (EUR), ``expected_gain`` (EUR extra contribution of the contacted customers),
      ``net_gain`` (= expected_gain − cost), ``roi`` (= net_gain / cost; NaN without contacts),
      ``status`` (``"all"`` whole segment, ``"top"`` top customers by value, ``"below_cost"``
      no customer's expected gain exceeds the cost, ``"budget_exhausted"``, ``"no_value"``).
      Sorted by contacts, then expected gain (descending).
    """
    if cost_per_contact < 0 or budget < 0:
        raise ValueError("budget and cost_per_contact must be >= 0")
    seg = table["segment"].astype(str)
    up = uplift_for(seg, uplift, default_uplift)
    gain = (up * table["value"]).fillna(0.0).clip(lower=0.0)
    eligible = gain > cost_per_contact
    cust = pd.DataFrame({"segment": seg, "uplift": up, "expected_gain": gain, "eligible": eligible},
                        index=table.index)
    order = cust[eligible].reset_index().sort_values(
        ["expected_gain", cust.index.name or "index"], ascending=[False, True], kind="stable"
    )
    if cost_per_contact > 0:
        n_max = int(np.floor(budget / cost_per_contact + 1e-9))
    else:
        n_max = len(order)
    chosen = order.iloc[:n_max][cust.index.name or "index"]
    cust["contact"] = cust.index.isin(chosen)

    g = cust.groupby("segment", observed=True, sort=True)
    s = pd.DataFrame(
        {
            "uplift": g["uplift"].first(),
            "customers": g.size(),
            "eligible": g["eligible"].sum().astype(int),
            "contacts": g["contact"].sum().astype(int),
            "expected_gain": cust["expected_gain"].where(cust["contact"], 0.0).groupby(cust["segment"]).sum(),
            "any_value": (cust["expected_gain"] > 0).groupby(cust["segment"]).any(),
        }
    )
    s["cost"] = s["contacts"] * float(cost_per_contact)
    s["net_gain"] = s["expected_gain"] - s["cost"]
    s["roi"] = (s["net_gain"] / s["cost"]).where(s["cost"] > 0)
    s["status"] = np.select(
        [s["contacts"] == s["customers"], s["contacts"] > 0, ~s["any_value"], s["eligible"] == 0],
        [STATUS_ALL, STATUS_TOP, STATUS_EMPTY, STATUS_BELOW_COST],
        STATUS_BUDGET,
    )
    s.index.name = "segment"
    s = s.reset_index().sort_values(["contacts", "expected_gain", "segment"],
                                    ascending=[False, False, True], kind="stable", ignore_index=True)
    cols = ["segment", "uplift", "customers", "eligible", "contacts", "cost", "expected_gain",
            "net_gain", "roi", "status"]
    return cust, s[cols]


def allocation_totals(per_segment: pd.DataFrame, budget: float) -> dict[str, float]:
    """Totals of an allocation: ``budget``, ``contacts``, ``cost``, ``unspent``, ``expected_gain``,
    ``net_gain`` (EUR) and ``roi`` (net gain / cost; NaN without contacts)."""
    cost = float(per_segment["cost"].sum())
    gain = float(per_segment["expected_gain"].sum())
    return {
        "budget": float(budget),
        "contacts": int(per_segment["contacts"].sum()),
        "cost": cost,
        "unspent": float(budget) - cost,
        "expected_gain": gain,
        "net_gain": gain - cost,
        "roi": (gain - cost) / cost if cost > 0 else float("nan"),
    }


def effective_uplift(configured: Mapping[str, float]) -> dict[str, float]:
    """Default uplift table of :class:`~helpers.config.ActionSettings` updated by ``configured``
    (both keyed by segment id)."""
    from ..config import ActionSettings

    return {**dict(ActionSettings().segment_uplift), **dict(configured)}


# ---------------------------------------------------------------- target lists


def actionable_segments(matrix: pd.DataFrame, per_segment: pd.DataFrame) -> list[str]:
    """Segment ids that get a target list: priority ``high``/``medium`` or at least one budgeted
    contact. Order as in ``matrix`` (priority score, descending)."""
    budgeted = set(per_segment.loc[per_segment["contacts"] > 0, "segment"])
    keep = matrix["priority"].isin([HIGH, MEDIUM]) | matrix["segment"].isin(budgeted)
    return [s for s in matrix.loc[keep, "segment"] if s != NO_SEGMENT or len(matrix) == 1]


def plan_lists(customers: pd.DataFrame, segments: list[str], max_rows: int) -> pd.DataFrame:
    """The target-list plan: ``segment`` (id), ``customers`` (count), ``truncated`` (more than
    ``max_rows`` customers: the Excel sheet is shortened, the CSV holds all). File and sheet names
    are the export's business (:func:`helpers.export.segment_list_names`)."""
    counts = customers["segment"].value_counts()
    plan = pd.DataFrame({"segment": pd.Series(segments, dtype=object)})
    plan["customers"] = [int(counts.get(s, 0)) for s in segments]
    plan["truncated"] = plan["customers"] > max_rows
    return plan


# ---------------------------------------------------------------- key figures


def key_figures(matrix: pd.DataFrame, per_segment: pd.DataFrame, totals: Mapping[str, float],
                table: pd.DataFrame, cost_per_contact: float, *, value_at_risk: float | None,
                lists: pd.DataFrame, crosssell: bool,
                value_horizon_months: int | None = None) -> ActionsKeyFigures:
    """Typed key figures of the plan; ``value_at_risk`` is the churn chapter's total (EUR)."""
    sources = set(table["risk_source"].unique()) - {"none"}
    risk_basis = "+".join(s for s in ("churn", "p_alive") if s in sources) or "none"
    has_risk = risk_basis != "none"
    top_segment, top_value = None, None
    if has_risk and len(matrix) and matrix["value_at_risk"].max() > 0:
        top = matrix.sort_values("value_at_risk", ascending=False, kind="stable").iloc[0]
        top_segment, top_value = str(top["segment"]), float(top["value_at_risk"])
    roi = totals["roi"]
    return ActionsKeyFigures(
        n_customers=int(len(table)),
        value_basis="clv" if (table["value_source"] == "clv").any() else
        ("margin_12m" if (table["value_source"] == "margin_12m").any() else "none"),
        risk_basis=risk_basis,
        value_at_risk=value_at_risk if has_risk else None,
        value_horizon_months=value_horizon_months,
        top_risk_segment=top_segment,
        top_risk_value=top_value,
        high_priority_segments=tuple(str(s) for s in matrix.loc[matrix["priority"] == HIGH, "segment"]),
        budget=float(totals["budget"]),
        cost_per_contact=float(cost_per_contact),
        contacts=int(totals["contacts"]),
        cost=float(totals["cost"]),
        unspent=float(totals["unspent"]),
        expected_gain=float(totals["expected_gain"]),
        net_gain=float(totals["net_gain"]),
        roi=None if np.isnan(roi) else float(roi),
        budget_segments=tuple(str(s) for s in per_segment.loc[per_segment["contacts"] > 0]
                              .sort_values("contacts", ascending=False, kind="stable")["segment"]),
        lists_planned=int(len(lists)),
        list_customers=int(lists["customers"].sum()),
        crosssell=bool(crosssell),
    )
