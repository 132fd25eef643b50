"""Action plan: segment matrix, one priority rule, budget on incremental gain, audience, sanity check.

:func:`compute` is the chapter's one entry point (``depends = ("rfm", "clv", "churn")``). It adds
nothing new about buying behaviour; it joins the upstream results per customer
(:func:`customer_table`): the RFM segment id, ``clv`` from the CLV chapter and ``risk`` (0–1),
``value`` (EUR contribution margin *if retained* over ``churn.key.value_horizon_months``) and
``value_at_risk = risk × value`` from the churn chapter **as they are** (the one definition is
:mod:`helpers.analysis.value`), so the value at risk per segment sums to ``churn.key.value_at_risk``.

**Expected gain of a contact** (:func:`allocate_budget`), EUR, net of the contact cost::

    expected_gain = uplift(segment) × risk × value − cost_per_contact

``uplift`` is an *assumption* per segment id (``cfg.actions.segment_uplift``): the share of the
customer's value at risk that one contact saves. The sensitivity evaluates the same contacts with
``uplift × uplift_low_factor`` and ``uplift × uplift_high_factor`` (capped at 1) →
``expected_gain_low`` / ``expected_gain_high``. A customer is *eligible* when the value and risk are
known, the customer is reachable (last purchase less than ``reach_days`` before the observation
end), ``risk >= min_risk``, ``value >= min_value`` (default: the cost of one contact) and
``expected_gain > 0``. Eligible customers are bought greedily, best expected gain first, while the
budget lasts – except the segments of :data:`helpers.labels.NO_BUDGET_FOCUS_SEGMENTS` (``lost``),
which are bought only after every eligible customer of the other segments.

**ROI** = expected gain / cost. An ROI above ``roi_plausible_max`` is not a result: ``key.roi`` is
``None`` and ``key.roi_driver`` names the assumption that drives it (:func:`roi_check`).

**The one priority rule** (:func:`segment_matrix`): each segment's *potential gain* is the sum of the
expected gain of all its eligible customers (what the segment offers if every worthwhile contact
were paid for). Segments are ranked by it; those that together make up the first 50 % of the total
get priority ``high``, up to 80 % ``medium``, the rest (and segments without gain) ``low``. The
segments of ``NO_BUDGET_FOCUS_SEGMENTS`` always get ``low`` and are ranked last, so ``lost`` is never
the first priority. Only when no gain can be computed (no risk or no value in EUR), the same
cumulative rule runs on the value at risk × reachable share, else the value × reachable share,
else the number of reachable customers (``key.priority_basis`` says which).

**Audience** (:func:`detect_audience`): ``cfg.audience`` or, when ``"auto"``, detected from the data
(company legal forms in the customer names, a business sales channel, or few customers with large
purchases); it chooses the defaults of budget and contact cost (``config.AUDIENCE_DEFAULTS``).

**Segment sanity check** (:func:`forecast_check`): per segment the revenue forecast (CLV / gross
margin over the CLV horizon) is compared with the same customers' net revenue of the last 12 months
scaled to that horizon (for a segment without any revenue in the last 12 months: their average
yearly revenue since the first purchase); a ratio above ``forecast_ratio_max`` is flagged.

Target lists (:func:`plan_lists`): segments with priority ``high``/``medium`` or at least one
budgeted contact get a list; :func:`helpers.export.write_action_lists` writes exactly this plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Iterable, Mapping

import numpy as np
import pandas as pd

from .. import labels
from ..dataset import line_weights
from ..results import ChapterResult
from . import crosssell as cs
from .cohorts import isin_fast
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
STATUS_NEGLIGIBLE = "negligible"
STATUS_UNREACHABLE = "unreachable"

EXCLUDED_NO_VALUE = "no_value"
EXCLUDED_UNREACHABLE = "unreachable"
EXCLUDED_LOW_RISK = "low_risk"
EXCLUDED_LOW_VALUE = "low_value"
EXCLUDED_BELOW_COST = "below_cost"
"""Why a customer is not eligible (column ``excluded`` of the per-customer allocation; "" = eligible)."""

BASIS_GAIN, BASIS_VAR, BASIS_VALUE, BASIS_CUSTOMERS = "gain", "value_at_risk", "value", "customers"
"""What the priority score of :func:`segment_matrix` is made of (``key.priority_basis``)."""

DRIVER_UPLIFT, DRIVER_VALUE, DRIVER_COST = "uplift", "value", "cost"
"""The assumption that drives an implausibly high ROI (``key.roi_driver``)."""
UPLIFT_PLAUSIBLE_MAX = 0.25
"""A gain-weighted mean uplift above this share counts as the driver of an implausible ROI."""

B2B_LEGAL_FORMS = re.compile(
    r"(?<![A-Za-zÄÖÜäöüß])(?:GmbH|mbH|AG|KG|KGaA|OHG|UG|GbR|e\.\s?K\.|eG|SE|PartG|Ltd\.?|Inc\.?|LLC|"
    r"S\.?A\.?R\.?L\.?|B\.?V\.?|Co\.\s?KG)(?![A-Za-zÄÖÜäöüß])"
)
"""Legal forms of companies in customer names (a B2B hint; pseudonymized IDs never match)."""
B2B_CHANNELS = re.compile(
    r"außendienst|aussendienst|key.?account|großkund|grosskund|großhandel|grosshandel|fachhandel|"
    r"wiederverkäuf|händler|haendler|b2b|wholesale|reseller|distributor|field.?sales|sales.?rep",
    re.IGNORECASE,
)
"""Sales-channel names that only business customers use (a B2B hint)."""
B2B_NAME_SHARE = 0.2
"""B2B when at least this share of the distinct customer names carries a legal form."""
B2B_CHANNEL_SHARE = 0.1
"""B2B when a business sales channel carries at least this share of the lines."""
B2B_MAX_CUSTOMERS = 5_000
B2B_MIN_PURCHASE_REVENUE = 250.0
B2B_MIN_CUSTOMER_REVENUE_12M = 1_000.0
"""B2B ("few large accounts") when there are at most ``B2B_MAX_CUSTOMERS`` customers, the median net
revenue per purchase is at least ``B2B_MIN_PURCHASE_REVENUE`` EUR and the median net revenue of the
last 12 months per customer with a purchase in that window at least ``B2B_MIN_CUSTOMER_REVENUE_12M``."""

_FROM_CHURN = ("churn_risk", "risk", "risk_source", "value", "value_source", "value_at_risk")


# ---------------------------------------------------------------- result


@dataclass(frozen=True)
class AudienceDecision:
    """Who the customers are and why (``audience`` and ``source`` drive the budget defaults)."""

    audience: str
    """``"b2c"`` or ``"b2b"``."""
    source: str
    """``"setting"`` (``cfg.audience`` was set) or ``"detected"`` (from the data)."""
    reasons: tuple[str, ...]
    """Ids of the B2B hints found in the data: ``"company_names"``, ``"sales_channel"``,
    ``"large_accounts"``; empty when none was found (also filled when the audience was set)."""
    n_customers: int
    """Customers in the data (count)."""
    median_purchase_revenue: float | None
    """Median net revenue per purchase, EUR (``None`` without revenue)."""
    median_customer_revenue_12m: float | None
    """Median net revenue of the last 12 months per customer with revenue in that window, EUR."""
    channel: str | None
    """The business sales channel with the largest share of lines (``None`` if none)."""
    channel_share: float | None
    """Its share of the lines (0–1)."""
    company_share: float | None
    """Share of distinct customer names with a company legal form (0–1; ``None`` without names)."""


@dataclass(frozen=True)
class ActionsKeyFigures:
    """The numbers of the action plan that the chapter prints and the management summary quotes."""

    n_customers: int
    """Customers in the plan (all customers of the dataset)."""
    audience: str
    """``"b2c"`` or ``"b2b"`` (see ``ActionsResult.audience`` for the reason)."""
    value_basis: str
    """Customer value used: ``"clv"`` when at least one value comes from the CLV model, else the
    churn chapter's other ``value_source`` id, or ``"none"``."""
    risk_basis: str
    """Risk sources used (``risk_source`` ids joined by ``+``) or ``"none"``."""
    value_at_risk: float | None
    """Expected contribution margin at risk, EUR (= the churn chapter's ``key.value_at_risk``);
    ``None`` when risk or value is unknown for every customer (not computable, never 0 €)."""
    value_at_risk_low: float | None
    """Lower end of its 80 % range, EUR (the churn chapter's), ``None`` if not given."""
    value_at_risk_high: float | None
    """Upper end of its 80 % range, EUR."""
    value_horizon_months: int | None
    """Horizon of the value behind ``value_at_risk`` in months (the churn chapter's
    ``key.value_horizon_months``); ``None`` if unknown."""
    top_risk_segment: str | None
    """Segment id with the largest value at risk (``None`` when nothing is at risk). A fact, not a
    priority: use ``first_priority_segment`` for "what first"."""
    top_risk_value: float | None
    """Value at risk of that segment, EUR."""
    priority_basis: str
    """What the priority score is made of: ``"gain"``, ``"value_at_risk"``, ``"value"``, ``"customers"``."""
    high_priority_segments: tuple[str, ...]
    """Segment ids with priority ``high``, in priority order."""
    first_priority_segment: str | None
    """The segment ranked first with priority ``high`` or ``medium`` (never ``lost``); ``None``."""
    budget: float
    """Campaign budget, EUR (setting or audience default, see ``budget_source``)."""
    budget_source: str
    """``"setting"`` or ``"audience_default"``."""
    cost_per_contact: float
    """Cost of one contact, EUR (setting or audience default)."""
    cost_source: str
    """``"setting"`` or ``"audience_default"``."""
    min_value: float
    """Customers below this value if retained (EUR) are not contacted."""
    contacts: int
    """Customers to contact within the budget (count)."""
    cost: float
    """Cost of those contacts, EUR."""
    unspent: float
    """Budget left unspent, EUR."""
    saved_margin: float
    """Contribution margin the contacts are expected to save, before contact costs, EUR
    (Σ uplift × risk × value over the contacts)."""
    expected_gain: float | None
    """Expected incremental contribution margin of the contacts **after** contact costs, EUR
    (``saved_margin − cost``), with the assumed uplift."""
    expected_gain_low: float | None
    """The same contacts with the low uplift (× ``uplift_low_factor``), EUR; may be negative."""
    expected_gain_high: float | None
    """The same contacts with the high uplift (× ``uplift_high_factor``, capped at 100 %), EUR."""
    roi: float | None
    """``expected_gain / cost`` (ratio, 1.0 = 100 %); ``None`` without contacts **or above the
    plausibility bound** (then see ``roi_driver``)."""
    roi_computed: float | None
    """The arithmetic ROI even above the bound (diagnostics only, never printed)."""
    roi_plausible_max: float
    """The plausibility bound of the ROI (ratio, setting)."""
    roi_driver: str | None
    """When the ROI is above the bound: the assumption that drives it (``"uplift"``, ``"value"``,
    ``"cost"``); else ``None``."""
    roi_breakeven_cost: float | None
    """Cost per contact (EUR) at which the ROI of the same contacts would equal the bound."""
    roi_breakeven_uplift_factor: float | None
    """Multiple of the assumed uplift at which the ROI of the same contacts would equal the bound."""
    excluded_low_risk: int
    """Reachable customers not contacted because their risk is below ``min_risk`` (count)."""
    excluded_low_value: int
    """Reachable customers not contacted because their value is below ``min_value`` (count)."""
    excluded_unreachable: int
    """Customers not contacted because they are not reachable (count)."""
    budget_segments: tuple[str, ...]
    """Segment ids with at least one budgeted contact, in priority order (``lost`` last)."""
    first_budget_segment: str | None
    """The first of ``budget_segments`` that is not a no-budget-focus segment; ``None``."""
    flagged_segments: tuple[str, ...]
    """Segment ids whose revenue forecast is implausibly high against the last 12 months."""
    forecast_horizon_months: int | None
    """Horizon of the CLV forecast used by the sanity check, months."""
    forecast_history_days: int | None
    """Days of the "last 12 months" window the data really cover (365, or fewer for shorter data)."""
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
    ``uplift`` (0–1), ``saved`` (EUR before cost), ``expected_gain`` (EUR after cost, NaN where
    unknown), ``expected_gain_low``/``_high``, ``excluded`` (reason id, "" = eligible), ``eligible``,
    ``contact`` (bool) from :func:`allocate_budget` and ``next_categories`` (str, NaN when
    cross-selling was skipped)."""
    matrix: pd.DataFrame
    """:func:`segment_matrix` plus the columns of :func:`forecast_check` (one row per segment id,
    priority order)."""
    allocation: pd.DataFrame
    """Per-segment budget allocation (see :func:`allocate_budget`), in priority order."""
    uplift: Mapping[str, float]
    """Effective uplift per segment id (0–1; defaults updated by ``cfg.actions.segment_uplift``)."""
    segment_actions: Mapping[str, str]
    """Recommended action per segment id, passed through from the RFM result (German text of
    ``cfg.rfm.segment_actions`` / ``labels.SEGMENTS``; empty without RFM)."""
    audience: AudienceDecision
    """The audience used and why."""
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
    a = cfg.actions
    churn, clv = upstream["churn"], upstream["clv"]
    rev12 = revenue_last_12m(ds.transactions, ds.observation_end) if ds.has_revenue else None
    table = customer_table(
        ds.customers, rev12,
        rfm=_customers(upstream["rfm"]), clv=_customers(clv), churn=_customers(churn),
        reach_days=a.reach_days,
    )
    audience = decide_audience(ds, cfg)
    resolved = a.resolved(audience.audience)
    budget, budget_source = resolved["budget"]
    cost, cost_source = resolved["cost_per_contact"]
    min_value = float(a.min_value) if a.min_value is not None else cost
    uplift = effective_uplift(a.segment_uplift)
    per_customer, per_segment = allocate_budget(
        table, budget, cost, uplift, a.default_uplift, min_risk=a.min_risk, min_value=min_value,
        low_factor=a.uplift_low_factor, high_factor=a.uplift_high_factor,
    )
    matrix = segment_matrix(table, per_segment)
    clv_key = getattr(clv, "key", None)
    horizon = getattr(clv_key, "horizon_months", None) or (cfg.clv.horizon_months if table["clv"].notna().any()
                                                          else None)
    history_days = int(min(365, (ds.observation_end - ds.first_date).days + 1))
    check = forecast_check(table, cfg.gross_margin, horizon, a.forecast_ratio_max, history_days)
    matrix = matrix.merge(check, on="segment", how="left")
    matrix["forecast_flag"] = matrix["forecast_flag"].fillna(False).astype(bool)
    order = {s: i for i, s in enumerate(matrix["segment"])}
    per_segment = per_segment.sort_values("segment", key=lambda s: s.map(order), kind="stable",
                                          ignore_index=True)
    totals = allocation_totals(per_segment, budget)
    roi = roi_check(per_customer, matrix, totals, cost, a.roi_plausible_max)
    cross, nxt = cs.analyze(ds.transactions)

    gain_cols = ["uplift", "saved", "expected_gain", "expected_gain_low", "expected_gain_high", "excluded",
                 "eligible", "contact"]
    customers = table.join(per_customer[gain_cols])
    customers["next_categories"] = (nxt["next_categories"].reindex(customers.index).fillna("")
                                    if nxt is not None else np.nan)
    lists = plan_lists(customers, actionable_segments(matrix, per_segment), a.max_list_rows)

    churn_key = getattr(churn, "key", None)
    key = key_figures(
        matrix, per_segment, totals, table, audience=audience.audience,
        budget_source=budget_source, cost_per_contact=cost, cost_source=cost_source, min_value=min_value,
        roi=roi, roi_plausible_max=a.roi_plausible_max,
        value_at_risk=_number(getattr(churn_key, "value_at_risk", None)),
        value_at_risk_low=_number(getattr(churn_key, "value_at_risk_low", None)),
        value_at_risk_high=_number(getattr(churn_key, "value_at_risk_high", None)),
        value_horizon_months=getattr(churn_key, "value_horizon_months", None),
        forecast_horizon_months=horizon, forecast_history_days=history_days, lists=lists,
        crosssell=cross.ok,
    )
    rfm_actions = getattr(upstream["rfm"], "actions", None) or {}
    return ActionsResult(
        customers=customers,
        matrix=matrix,
        allocation=per_segment,
        uplift=uplift,
        segment_actions={str(k): str(v) for k, v in dict(rfm_actions).items()},
        audience=audience,
        crosssell=cross,
        lists=lists,
        has_value=bool(table["value"].notna().any()),
        has_risk=bool(table["risk"].notna().any()),
        key=key,
    )


def _customers(result: ChapterResult | None) -> pd.DataFrame | None:
    """The per-customer frame of an upstream result, or ``None``."""
    return getattr(result, "customers", None)


def _number(v) -> float | None:
    """A float, or ``None`` for ``None``/NaN."""
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v)


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
    all time), ``revenue_12m``, ``revenue_per_year`` (net revenue per year since the first purchase,
    at least one year, EUR), ``clv``, ``p_alive``, ``churn_risk``, ``risk``, ``risk_source``,
    ``value``, ``value_source``, ``value_at_risk`` (the last six taken unchanged from ``churn``),
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
    years = (customers["tenure_days"].astype(float) / 365.25).clip(lower=1.0)
    out["revenue_per_year"] = out["revenue"] / years

    c = clv.reindex(idx) if clv is not None else pd.DataFrame(index=idx)
    out["clv"] = c["clv"].astype(float) if "clv" in c.columns else np.nan
    out["p_alive"] = c["p_alive"].astype(float) if "p_alive" in c.columns else np.nan
    ch = churn.reindex(idx) if churn is not None else pd.DataFrame(index=idx)
    for col in _FROM_CHURN:
        if col in ch.columns:
            out[col] = ch[col].fillna("none").astype(str) if col.endswith("_source") else ch[col].astype(float)
        else:
            out[col] = "none" if col.endswith("_source") else np.nan
    out["reachable"] = (customers["recency_days"] < reach_days).to_numpy()
    return out


# ---------------------------------------------------------------- audience


def audience_evidence(ds: "Dataset") -> dict:
    """The inputs of :func:`detect_audience` measured on ``ds`` (customer IDs serve as names: they
    carry company names only when the export uses them as IDs and pseudonymization is off)."""
    tx = ds.transactions
    n = int(len(ds.customers))
    purchase_rev = cust_rev = None
    if ds.has_revenue and len(ds.purchases):
        purchase_rev = float(ds.purchases["revenue"].median())
        r12 = revenue_last_12m(tx, ds.observation_end)
        r12 = r12[r12 > 0]
        cust_rev = float(r12.median()) if len(r12) else None
    channels = None
    if ds.has("channel"):
        known = tx["channel"].notna().to_numpy()
        w = pd.Series(line_weights(tx)[known]).groupby(tx["channel"].astype(str).to_numpy()[known], sort=False).sum()
        channels = (w / w.sum()).sort_values(ascending=False, kind="stable").to_dict()
    names = tx["customer_id"].drop_duplicates().astype(str)
    return {"n_customers": n, "median_purchase_revenue": purchase_rev,
            "median_customer_revenue_12m": cust_rev, "channel_shares": channels, "customer_names": names}


def decide_audience(ds, cfg) -> AudienceDecision:
    """The report's audience: ``cfg.audience`` when set to ``b2c``/``b2b``, else detected from the
    data (:func:`detect_audience`). The one place that decides it (action plan, wording, session)."""
    audience = ds.derived("detected_audience", lambda: detect_audience(**audience_evidence(ds)))
    if cfg.audience in ("b2c", "b2b"):
        audience = replace(audience, audience=cfg.audience, source="setting")
    return audience


def detect_audience(
    n_customers: int,
    median_purchase_revenue: float | None,
    median_customer_revenue_12m: float | None,
    channel_shares: Mapping[str, float] | None = None,
    customer_names: Iterable[str] | None = None,
) -> AudienceDecision:
    """``"b2b"`` when at least one hint is found, else ``"b2c"`` (pure; ``source = "detected"``).

    Hints (all reported in ``reasons``):

    - ``"company_names"``: at least :data:`B2B_NAME_SHARE` of the distinct customer names carry a
      company legal form (:data:`B2B_LEGAL_FORMS`, e.g. GmbH, AG, KG, e. K.);
    - ``"sales_channel"``: a channel named like business sales (:data:`B2B_CHANNELS`, e.g.
      Außendienst, Key Account, Großkunden, Fachhandel) carries at least :data:`B2B_CHANNEL_SHARE`
      of the lines;
    - ``"large_accounts"``: few customers (at most :data:`B2B_MAX_CUSTOMERS`) with large purchases
      (median net revenue per purchase >= :data:`B2B_MIN_PURCHASE_REVENUE` EUR and per customer in
      the last 12 months >= :data:`B2B_MIN_CUSTOMER_REVENUE_12M` EUR).
    """
    reasons = []
    company_share = None
    if customer_names is not None:
        names = pd.Series(list(customer_names), dtype=object).dropna().astype(str).drop_duplicates()
        if len(names):
            company_share = float(names.str.contains(B2B_LEGAL_FORMS, regex=True).mean())
            if company_share >= B2B_NAME_SHARE:
                reasons.append("company_names")
    channel = channel_share = None
    hits = {str(k): float(v) for k, v in dict(channel_shares or {}).items() if B2B_CHANNELS.search(str(k))}
    if hits:
        channel, channel_share = max(hits.items(), key=lambda kv: (kv[1], kv[0]))
        if channel_share >= B2B_CHANNEL_SHARE:
            reasons.append("sales_channel")
    if (median_purchase_revenue is not None and median_customer_revenue_12m is not None
            and n_customers <= B2B_MAX_CUSTOMERS
            and median_purchase_revenue >= B2B_MIN_PURCHASE_REVENUE
            and median_customer_revenue_12m >= B2B_MIN_CUSTOMER_REVENUE_12M):
        reasons.append("large_accounts")
    return AudienceDecision(
        audience="b2b" if reasons else "b2c", source="detected", reasons=tuple(reasons),
        n_customers=int(n_customers), median_purchase_revenue=median_purchase_revenue,
        median_customer_revenue_12m=median_customer_revenue_12m, channel=channel,
        channel_share=channel_share, company_share=company_share,
    )


# ---------------------------------------------------------------- budget


def uplift_for(segments: pd.Series, uplift: Mapping[str, float], default: float) -> pd.Series:
    """Uplift (share of the value at risk saved by a contact, 0–1) per row."""
    return segments.map(dict(uplift)).astype(float).fillna(default)


def no_focus(segments: pd.Series) -> pd.Series:
    """True for rows whose segment is one of :data:`helpers.labels.NO_BUDGET_FOCUS_SEGMENTS`."""
    return segments.astype(str).isin(labels.NO_BUDGET_FOCUS_SEGMENTS)


def allocate_budget(
    table: pd.DataFrame,
    budget: float,
    cost_per_contact: float,
    uplift: Mapping[str, float],
    default_uplift: float = 0.0,
    *,
    min_risk: float = 0.0,
    min_value: float | None = None,
    low_factor: float = 1.0,
    high_factor: float = 1.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Greedy budget allocation on expected incremental gain (``table`` is not changed).

    ``table`` needs ``segment``, ``risk`` (0–1), ``value`` (EUR) and optionally ``reachable``
    (default: all reachable). Per customer (EUR)::

        saved = uplift(segment) × risk × value;   expected_gain = saved − cost_per_contact

    ``excluded`` says why a customer is not eligible, checked in this order: ``"no_value"`` (risk or
    value unknown), ``"unreachable"``, ``"low_risk"`` (risk < ``min_risk``), ``"low_value"``
    (value < ``min_value``; default = ``cost_per_contact``), ``"below_cost"`` (expected_gain <= 0);
    "" = eligible. Eligible customers are contacted in order of expected gain (highest first; ties by
    ``customer_id``), the no-budget-focus segments after all others, while the budget lasts, i.e.
    the first ``floor(budget / cost_per_contact)`` of them. ``expected_gain_low``/``_high`` are the
    expected gains with the uplift × ``low_factor`` / × ``high_factor`` (capped at 1).

    Returns ``(per_customer, per_segment)``:

    - ``per_customer`` (index ``customer_id``): ``segment``, ``uplift``, ``saved``,
      ``expected_gain``, ``expected_gain_low``, ``expected_gain_high`` (NaN where unknown),
      ``excluded``, ``eligible``, ``contact`` (bool).
    - ``per_segment``: ``segment``, ``uplift``, ``customers``, ``unreachable``, ``low_risk``,
      ``low_value`` (counts of excluded customers), ``eligible``, ``potential_gain`` (EUR, Σ
      expected gain of all eligible customers), ``contacts``, ``cost``, ``saved`` and
      ``expected_gain``, ``expected_gain_low``, ``expected_gain_high`` (EUR, of the contacted
      customers), ``roi`` (= expected_gain / cost; NaN without contacts), ``status`` (``"all"``,
      ``"top"``, ``"budget_exhausted"``, ``"no_value"``, ``"unreachable"``, ``"negligible"``,
      ``"below_cost"``). Sorted by the priority rule's order: no-budget-focus segments last, then
      potential gain (descending), then segment id.
    """
    if cost_per_contact < 0 or budget < 0:
        raise ValueError("budget and cost_per_contact must be >= 0")
    min_value = cost_per_contact if min_value is None else min_value
    idx_name = table.index.name or "index"
    seg = table["segment"].astype(str)
    up = uplift_for(seg, uplift, default_uplift)
    risk = table["risk"].astype(float) if "risk" in table.columns else pd.Series(np.nan, index=table.index)
    value = table["value"].astype(float)
    reach = (table["reachable"].astype(bool) if "reachable" in table.columns
             else pd.Series(True, index=table.index))
    base = risk * value
    saved = up * base
    gain = saved - cost_per_contact
    known = base.notna()
    excluded = np.select(
        [~known, ~reach, risk < min_risk, value < min_value, gain <= 0],
        [EXCLUDED_NO_VALUE, EXCLUDED_UNREACHABLE, EXCLUDED_LOW_RISK, EXCLUDED_LOW_VALUE, EXCLUDED_BELOW_COST],
        "",
    )
    cust = pd.DataFrame({
        "segment": seg, "uplift": up, "saved": saved, "expected_gain": gain,
        "expected_gain_low": (up * low_factor) * base - cost_per_contact,
        "expected_gain_high": (up * high_factor).clip(upper=1.0) * base - cost_per_contact,
        "excluded": excluded, "eligible": excluded == "",
    }, index=table.index)
    cand = cust[cust["eligible"]].assign(_tier=no_focus(cust.loc[cust["eligible"], "segment"]).astype(int))
    order = cand.reset_index().sort_values(["_tier", "expected_gain", idx_name], ascending=[True, False, True],
                                           kind="stable")
    n_max = int(np.floor(budget / cost_per_contact + 1e-9)) if cost_per_contact > 0 else len(order)
    cust["contact"] = isin_fast(cust.index, order.iloc[:n_max][idx_name])

    g = cust.groupby("segment", observed=True, sort=True)
    on = cust["contact"]
    s = pd.DataFrame({
        "uplift": g["uplift"].first(),
        "customers": g.size(),
        "unreachable": g["excluded"].agg(lambda x: int((x == EXCLUDED_UNREACHABLE).sum())),
        "low_risk": g["excluded"].agg(lambda x: int((x == EXCLUDED_LOW_RISK).sum())),
        "low_value": g["excluded"].agg(lambda x: int((x == EXCLUDED_LOW_VALUE).sum())),
        "eligible": g["eligible"].sum().astype(int),
        "potential_gain": cust["expected_gain"].where(cust["eligible"], 0.0).groupby(cust["segment"]).sum(),
        "contacts": g["contact"].sum().astype(int),
        "saved": cust["saved"].where(on, 0.0).groupby(cust["segment"]).sum(),
        "expected_gain": cust["expected_gain"].where(on, 0.0).groupby(cust["segment"]).sum(),
        "expected_gain_low": cust["expected_gain_low"].where(on, 0.0).groupby(cust["segment"]).sum(),
        "expected_gain_high": cust["expected_gain_high"].where(on, 0.0).groupby(cust["segment"]).sum(),
        "any_known": (cust["excluded"] != EXCLUDED_NO_VALUE).groupby(cust["segment"]).any(),
        "any_reachable": cust["excluded"].isin(["", EXCLUDED_LOW_RISK, EXCLUDED_LOW_VALUE, EXCLUDED_BELOW_COST])
        .groupby(cust["segment"]).any(),
        "any_relevant": cust["excluded"].isin(["", EXCLUDED_BELOW_COST]).groupby(cust["segment"]).any(),
    })
    s["cost"] = s["contacts"] * float(cost_per_contact)
    s["roi"] = (s["expected_gain"] / s["cost"]).where(s["cost"] > 0)
    s["status"] = np.select(
        [s["contacts"] == s["customers"], s["contacts"] > 0, s["eligible"] > 0, ~s["any_known"],
         ~s["any_reachable"], ~s["any_relevant"]],
        [STATUS_ALL, STATUS_TOP, STATUS_BUDGET, STATUS_EMPTY, STATUS_UNREACHABLE, STATUS_NEGLIGIBLE],
        STATUS_BELOW_COST,
    )
    s.index.name = "segment"
    s = s.reset_index()
    s["_tier"] = no_focus(s["segment"]).astype(int)
    s = s.sort_values(["_tier", "potential_gain", "segment"], ascending=[True, False, True], kind="stable",
                      ignore_index=True)
    cols = ["segment", "uplift", "customers", "unreachable", "low_risk", "low_value", "eligible",
            "potential_gain", "contacts", "cost", "saved", "expected_gain", "expected_gain_low",
            "expected_gain_high", "roi", "status"]
    return cust, s[cols]


def allocation_totals(per_segment: pd.DataFrame, budget: float) -> dict[str, float]:
    """Totals of an allocation (EUR unless stated): ``budget``, ``contacts`` (count), ``cost``,
    ``unspent``, ``saved`` (before cost; equal to ``expected_gain + cost`` when the frame has no
    ``saved`` column), ``expected_gain`` (after cost), ``expected_gain_low``/``_high`` (as
    ``expected_gain`` when the frame has no sensitivity) and ``roi`` (expected gain / cost; NaN
    without contacts)."""
    cost = float(per_segment["cost"].sum())
    gain = float(per_segment["expected_gain"].sum())

    def col(name: str) -> float:
        return float(per_segment[name].sum()) if name in per_segment.columns else gain

    return {
        "budget": float(budget),
        "contacts": int(per_segment["contacts"].sum()),
        "cost": cost,
        "unspent": float(budget) - cost,
        "saved": float(per_segment["saved"].sum()) if "saved" in per_segment.columns else gain + cost,
        "expected_gain": gain,
        "expected_gain_low": col("expected_gain_low"),
        "expected_gain_high": col("expected_gain_high"),
        "roi": gain / cost if cost > 0 else float("nan"),
    }


def effective_uplift(configured: Mapping[str, float]) -> dict[str, float]:
    """Default uplift table of :class:`~helpers.config.ActionSettings` updated by ``configured``
    (both keyed by segment id)."""
    from ..config import ActionSettings

    return {**dict(ActionSettings().segment_uplift), **{k: float(v) for k, v in dict(configured).items()}}


@dataclass(frozen=True)
class RoiCheck:
    """The ROI of the allocation against the plausibility bound (see :func:`roi_check`)."""

    roi: float | None
    """ROI (ratio) when plausible, else ``None`` (also ``None`` without contacts)."""
    computed: float | None
    """The arithmetic ROI (``None`` without contacts)."""
    driver: str | None
    """``"uplift"``, ``"value"`` or ``"cost"`` when above the bound, else ``None``."""
    breakeven_cost: float | None
    """Cost per contact (EUR) at which the same contacts' ROI equals the bound."""
    breakeven_uplift_factor: float | None
    """Multiple of the assumed uplifts at which the same contacts' ROI equals the bound."""


def roi_check(per_customer: pd.DataFrame, matrix: pd.DataFrame, totals: Mapping[str, float],
              cost_per_contact: float, bound: float) -> RoiCheck:
    """Is the ROI plausible (``<= bound``)? If not, which assumption drives it?

    The driver is ``"value"`` when at least half of the contacts' saved margin comes from segments
    flagged by :func:`forecast_check` (the value forecast is implausibly high), else ``"uplift"``
    when the saved-margin-weighted mean uplift of the contacts exceeds :data:`UPLIFT_PLAUSIBLE_MAX`,
    else ``"cost"`` (the contact cost is small against the margin at stake: it probably leaves out
    incentives, discounts or staff time). Break-even values for the same contacts:
    ``cost* = saved / (contacts × (1 + bound))`` and ``factor* = contacts × cost × (1 + bound) / saved``.
    """
    cost, n, saved = float(totals["cost"]), int(totals["contacts"]), float(totals["saved"])
    if n == 0 or cost <= 0:
        return RoiCheck(None, None, None, None, None)
    computed = float(totals["roi"])
    if computed <= bound:
        return RoiCheck(computed, computed, None, None, None)
    c = per_customer[per_customer["contact"]]
    flagged = set(matrix.loc[matrix.get("forecast_flag", pd.Series(False, index=matrix.index)).astype(bool),
                             "segment"])
    flagged_share = float(c.loc[c["segment"].isin(flagged), "saved"].sum()) / saved if saved > 0 else 0.0
    mean_uplift = float((c["uplift"] * c["saved"]).sum() / saved) if saved > 0 else 0.0
    driver = (DRIVER_VALUE if flagged_share >= 0.5 else DRIVER_UPLIFT if mean_uplift > UPLIFT_PLAUSIBLE_MAX
              else DRIVER_COST)
    return RoiCheck(None, computed, driver, saved / (n * (1 + bound)), n * cost_per_contact * (1 + bound) / saved)


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


def segment_matrix(table: pd.DataFrame, per_segment: pd.DataFrame | None = None) -> pd.DataFrame:
    """Segment matrix with the one priority rule (one row per segment id, priority order).

    Columns: ``segment`` (id), ``customers``, ``revenue_12m`` (EUR), ``clv`` (sum of expected CLV,
    EUR; NaN when no CLV), ``value`` (sum of ``value``, EUR), ``value_at_risk`` (EUR, NaN when no
    risk or no value is known: "not computable", never 0 €), ``mean_risk`` (0–1), ``reachable_share`` (0–1), ``potential_gain`` (EUR, from
    ``per_segment``; NaN without it), ``priority_basis`` (see module docstring), ``priority_score``
    and ``priority`` (id). Segments of :data:`helpers.labels.NO_BUDGET_FOCUS_SEGMENTS` always get
    ``low`` and are ranked last. The recommended action is ``ActionsResult.segment_actions``.
    """
    g = table.groupby("segment", observed=True, sort=True)
    has_risk = table["risk"].notna().any()
    m = pd.DataFrame(
        {
            "customers": g.size(),
            "revenue_12m": g["revenue_12m"].sum(min_count=1),
            "clv": g["clv"].sum(min_count=1),
            "value": g["value"].sum(min_count=1),
            "value_at_risk": g["value_at_risk"].sum(min_count=1) if has_risk else np.nan,
            "mean_risk": g["risk"].mean(),
            "reachable_share": g["reachable"].mean(),
        }
    )
    known = (table["risk"] * table["value"]).notna().any()
    if per_segment is not None and known:
        m["potential_gain"] = per_segment.set_index("segment")["potential_gain"].reindex(m.index).fillna(0.0)
        basis, base = BASIS_GAIN, m["potential_gain"]
    else:
        m["potential_gain"] = np.nan
        if has_risk and m["value_at_risk"].notna().any():
            basis, base = BASIS_VAR, m["value_at_risk"] * m["reachable_share"]
        elif m["value"].notna().any():
            basis, base = BASIS_VALUE, m["value"] * m["reachable_share"]
        else:  # no value in EUR at all: rank by the number of reachable customers
            basis, base = BASIS_CUSTOMERS, m["customers"].astype(float) * m["reachable_share"]
    m["priority_basis"] = basis
    m["priority_score"] = base.fillna(0.0).clip(lower=0).astype(float)
    focus = ~no_focus(pd.Series(m.index, index=m.index))
    m["priority"] = LOW
    m.loc[focus, "priority"] = _priority(m.loc[focus, "priority_score"])
    m["_tier"] = (~focus).astype(int)
    m.index.name = "segment"
    m = m.reset_index().sort_values(["_tier", "priority_score", "customers", "segment"],
                                    ascending=[True, False, False, True], kind="stable", ignore_index=True)
    return m[["segment", "customers", "revenue_12m", "clv", "value", "value_at_risk", "mean_risk",
              "reachable_share", "potential_gain", "priority_basis", "priority_score", "priority"]]


# ---------------------------------------------------------------- sanity check


def forecast_check(table: pd.DataFrame, gross_margin: float, horizon_months: float | None,
                   ratio_max: float, history_days: float = 365.0) -> pd.DataFrame:
    """Per segment: is the revenue forecast plausible against the segment's past revenue?

    Over the customers with a CLV (EUR margin over ``horizon_months``):

    - ``forecast_revenue`` = Σ clv / ``gross_margin`` (EUR over the horizon);
    - ``history_revenue`` = Σ ``revenue_12m`` × horizon / ``history_days`` (EUR: the net revenue of
      the last 12 months scaled to the horizon; ``history_days`` = the days that window really
      covers, 365 or fewer when the data are shorter; horizon in days = months × 365,25 / 12),
      ``history_basis = "12m"``. When these customers bought nothing
      in the last 12 months (a lapsed segment, so the comparison would always be 0), the base is
      their average yearly net revenue since the first purchase (``revenue_per_year`` × horizon / 12)
      instead, ``history_basis = "per_year"``;
    - ``forecast_ratio`` = forecast / history (NaN when the history is <= 0);
    - ``forecast_flag`` (bool): ratio > ``ratio_max``, or a positive forecast without any past
      revenue.

    Segments without any CLV get NaN, ``history_basis = ""`` and no flag. One row per segment id.
    """
    segs = pd.Index(sorted(table["segment"].astype(str).unique()), name="segment")
    out = pd.DataFrame(index=segs, columns=["forecast_revenue", "history_revenue", "forecast_ratio"],
                       dtype=float)
    out["history_basis"] = ""
    out["forecast_flag"] = False
    has = table["clv"].notna() & table["revenue_12m"].notna()
    if not horizon_months or not has.any():
        return out.reset_index()
    t = table[has]
    seg = t["segment"].astype(str)
    horizon_days = float(horizon_months) * 365.25 / 12.0
    fc = (t["clv"] / gross_margin).groupby(seg).sum()
    last12 = (t["revenue_12m"] * horizon_days / float(history_days)).groupby(seg).sum()
    per_year = ((t["revenue_per_year"] if "revenue_per_year" in t.columns else t["revenue_12m"])
                * horizon_days / 365.25).groupby(seg).sum()
    use_12m = last12 > 0
    hist = last12.where(use_12m, per_year)
    out.loc[fc.index, "forecast_revenue"] = fc
    out.loc[hist.index, "history_revenue"] = hist
    out.loc[hist.index, "history_basis"] = np.where(use_12m, "12m", "per_year")
    ratio = (out["forecast_revenue"] / out["history_revenue"]).where(out["history_revenue"] > 0)
    out["forecast_ratio"] = ratio
    out["forecast_flag"] = ((ratio > ratio_max).fillna(False)
                            | ((out["history_revenue"] <= 0) & (out["forecast_revenue"] > 0))).astype(bool)
    return out.reset_index()


# ---------------------------------------------------------------- target lists


def actionable_segments(matrix: pd.DataFrame, per_segment: pd.DataFrame) -> list[str]:
    """Segment ids that get a target list: priority ``high``/``medium`` or at least one budgeted
    contact. Order as in ``matrix`` (priority order)."""
    budgeted = set(per_segment.loc[per_segment["contacts"] > 0, "segment"])
    keep = matrix["priority"].isin([HIGH, MEDIUM]) | matrix["segment"].isin(budgeted)
    return [s for s in matrix.loc[keep, "segment"] if s != NO_SEGMENT or len(matrix) == 1]


def plan_lists(customers: pd.DataFrame, segments: list[str], max_rows: int) -> pd.DataFrame:
    """The target-list plan: ``segment`` (id), ``customers`` (count), ``truncated`` (more than
    ``max_rows`` customers: the Excel sheet is shortened, the CSV holds all), ``sheet_rows``
    (customers on the Excel sheet). File and sheet names
    are the export's business (:func:`helpers.export.segment_list_names`)."""
    counts = customers["segment"].value_counts()
    plan = pd.DataFrame({"segment": pd.Series(segments, dtype=object)})
    plan["customers"] = [int(counts.get(s, 0)) for s in segments]
    plan["truncated"] = plan["customers"] > max_rows
    plan["sheet_rows"] = plan["customers"].clip(upper=max_rows).astype(int)
    return plan


# ---------------------------------------------------------------- key figures


def key_figures(matrix: pd.DataFrame, per_segment: pd.DataFrame, totals: Mapping[str, float],
                table: pd.DataFrame, *, audience: str, budget_source: str, cost_per_contact: float,
                cost_source: str, min_value: float, roi: RoiCheck, roi_plausible_max: float,
                value_at_risk: float | None, value_at_risk_low: float | None = None,
                value_at_risk_high: float | None = None, value_horizon_months: int | None = None,
                forecast_horizon_months: int | None = None, forecast_history_days: int | None = None,
                lists: pd.DataFrame, crosssell: bool) -> ActionsKeyFigures:
    """Typed key figures of the plan; ``value_at_risk`` (+ range) is the churn chapter's total (EUR)."""
    sources = sorted(set(table["risk_source"].astype(str).unique()) - {"none"})
    has_risk = bool(table["risk"].notna().any())
    has_var = bool(table["value_at_risk"].notna().any())  # risk and value known for someone
    risk_basis = "+".join(sources) if sources else ("unknown" if has_risk else "none")
    vs = table["value_source"].astype(str)
    other = sorted(set(vs.unique()) - {"none", "clv"})
    value_basis = "clv" if (vs == "clv").any() else (other[0] if other else "none")
    top_segment, top_value = None, None
    if has_var and len(matrix) and matrix["value_at_risk"].max() > 0:
        top = matrix.sort_values("value_at_risk", ascending=False, kind="stable").iloc[0]
        top_segment, top_value = str(top["segment"]), float(top["value_at_risk"])
    focus_first = matrix[matrix["priority"].isin([HIGH, MEDIUM])
                         & ~no_focus(matrix["segment"])]["segment"]
    budgeted = [str(s) for s in per_segment.loc[per_segment["contacts"] > 0, "segment"]]
    first_budget = next((s for s in budgeted if s not in labels.NO_BUDGET_FOCUS_SEGMENTS), None)
    return ActionsKeyFigures(
        n_customers=int(len(table)),
        audience=audience,
        value_basis=value_basis,
        risk_basis=risk_basis,
        value_at_risk=value_at_risk if has_var else None,
        value_at_risk_low=value_at_risk_low if has_var else None,
        value_at_risk_high=value_at_risk_high if has_var else None,
        value_horizon_months=value_horizon_months,
        top_risk_segment=top_segment,
        top_risk_value=top_value,
        priority_basis=str(matrix["priority_basis"].iloc[0]) if len(matrix) else BASIS_CUSTOMERS,
        high_priority_segments=tuple(str(s) for s in matrix.loc[matrix["priority"] == HIGH, "segment"]),
        first_priority_segment=str(focus_first.iloc[0]) if len(focus_first) else None,
        budget=float(totals["budget"]),
        budget_source=budget_source,
        cost_per_contact=float(cost_per_contact),
        cost_source=cost_source,
        min_value=float(min_value),
        contacts=int(totals["contacts"]),
        cost=float(totals["cost"]),
        unspent=float(totals["unspent"]),
        saved_margin=float(totals["saved"]),
        expected_gain=float(totals["expected_gain"]) if has_var else None,
        expected_gain_low=float(totals["expected_gain_low"]) if has_var else None,
        expected_gain_high=float(totals["expected_gain_high"]) if has_var else None,
        roi=roi.roi,
        roi_computed=roi.computed,
        roi_plausible_max=float(roi_plausible_max),
        roi_driver=roi.driver,
        roi_breakeven_cost=roi.breakeven_cost,
        roi_breakeven_uplift_factor=roi.breakeven_uplift_factor,
        excluded_low_risk=int(per_segment["low_risk"].sum()),
        excluded_low_value=int(per_segment["low_value"].sum()),
        excluded_unreachable=int(per_segment["unreachable"].sum()),
        budget_segments=tuple(budgeted),
        first_budget_segment=first_budget,
        flagged_segments=tuple(str(s) for s in matrix.loc[matrix["forecast_flag"], "segment"]),
        forecast_horizon_months=int(forecast_horizon_months) if forecast_horizon_months else None,
        forecast_history_days=forecast_history_days,
        lists_planned=int(len(lists)),
        list_customers=int(lists["customers"].sum()),
        crosssell=bool(crosssell),
    )
