"""Action plan: segment × action matrix, priorities and budget allocation.

Per customer (:func:`customer_table`):

- ``revenue_12m``: net revenue of purchase days in ``(observation_end − 365 d, observation_end]``, EUR.
- ``value``: expected CLV (EUR contribution margin, from the CLV chapter); where the CLV
  model was skipped, the contribution margin of the last 12 months (``revenue_12m × gross_margin``)
  is used as a stand-in (``value_source = "margin_12m"``).
- ``risk``: probability of losing the customer (0–1): ``churn_risk`` from the churn chapter; where that
  is missing, ``1 − p_alive`` from the CLV chapter (``risk_source`` says which, ``"none"`` = unknown).
- ``value_at_risk`` = ``risk × value`` (EUR; 0 where one of them is unknown).
- ``reachable``: last purchase less than ``reach_days`` days (default 730) before the observation end
  (the contact data is probably still valid).

Priority of a segment (:func:`segment_matrix`): segments are ranked by
``value_at_risk × reachable share`` (or ``value × reachable share`` when no risk is known, or
``customers × reachable share`` when not even a value is known).
The segments that together make up the first 50 % of the total of that score get priority
``"hoch"``, up to 80 % ``"mittel"``, the rest (and segments with score 0) ``"niedrig"``.

Budget (:func:`allocate_budget`): the expected extra contribution of contacting a customer is
``uplift(segment) × value`` (EUR). Every contact costs the same, so the best return per euro is
reached greedily by contacting the customers with the highest expected extra contribution first –
only those whose expected extra contribution exceeds the contact cost – until the budget is spent.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

NO_SEGMENT = "Ohne Segment"
"""Segment name used when no RFM result is available."""

PRIORITY_HIGH_SHARE = 0.5
"""Cumulative share of the priority score covered by priority "hoch"."""
PRIORITY_MEDIUM_SHARE = 0.8
"""Cumulative share of the priority score covered by priorities "hoch" and "mittel"."""
REACH_DAYS = 730
"""Default: a customer counts as reachable when the last purchase is less than this many days old."""

STATUS_ALL = "all"
STATUS_TOP = "top"
STATUS_BELOW_COST = "below_cost"
STATUS_BUDGET = "budget_exhausted"
STATUS_EMPTY = "no_value"


def revenue_last_12m(purchases: pd.DataFrame, observation_end: pd.Timestamp) -> pd.Series:
    """Net revenue (EUR) per customer of purchase days in ``(observation_end − 365 d, observation_end]``.

    Customers without a purchase in that window are not in the result (treat as 0).
    """
    end = pd.Timestamp(observation_end)
    d = purchases["order_date"]
    window = purchases[(d > end - pd.Timedelta(days=365)) & (d <= end)]
    return window.groupby("customer_id", observed=True)["revenue"].sum().astype(float)


def customer_table(
    customers: pd.DataFrame,
    purchases: pd.DataFrame,
    observation_end: pd.Timestamp,
    gross_margin: float,
    rfm: pd.DataFrame | None = None,
    clv: pd.DataFrame | None = None,
    churn: pd.DataFrame | None = None,
    reach_days: int = REACH_DAYS,
) -> pd.DataFrame:
    """One row per customer with everything the action plan and the target lists need.

    ``customers`` is ``ds.customers``; ``rfm``/``clv``/``churn`` are the shared chapter results
    (indexed by ``customer_id``) or ``None``. Columns: ``segment``, ``action`` (RFM action or
    empty), ``r_score``/``f_score``/``m_score`` (NaN without RFM), ``last_purchase``,
    ``n_purchases`` (purchase days), ``revenue``
    (net EUR, all time), ``revenue_12m``, ``clv``, ``p_alive``, ``churn_risk``, ``value``,
    ``value_source``, ``risk``, ``risk_source``, ``value_at_risk``, ``reachable`` (bool).
    """
    idx = customers.index
    out = pd.DataFrame(index=idx)
    if rfm is not None and "segment" in rfm.columns:
        r = rfm.reindex(idx)
        out["segment"] = r["segment"].astype(object).fillna(NO_SEGMENT).astype(str)
        out["action"] = (r["action"].astype(object).fillna("").astype(str)
                         if "action" in r.columns else "")
        for col in ("r_score", "f_score", "m_score"):
            out[col] = r[col].astype(float) if col in r.columns else np.nan
    else:
        out["segment"] = NO_SEGMENT
        out["action"] = ""
        for col in ("r_score", "f_score", "m_score"):
            out[col] = np.nan
    out["last_purchase"] = customers["last_purchase"]
    out["n_purchases"] = customers["n_purchases"].astype(int)
    has_revenue = "revenue" in customers.columns and "revenue" in purchases.columns
    out["revenue"] = customers["revenue"].astype(float) if has_revenue else np.nan
    if has_revenue:
        out["revenue_12m"] = revenue_last_12m(purchases, observation_end).reindex(idx).fillna(0.0)
    else:
        out["revenue_12m"] = np.nan

    c = clv.reindex(idx) if clv is not None else pd.DataFrame(index=idx)
    out["clv"] = c["clv"].astype(float) if "clv" in c.columns else np.nan
    out["p_alive"] = c["p_alive"].astype(float) if "p_alive" in c.columns else np.nan
    ch = churn.reindex(idx) if churn is not None else pd.DataFrame(index=idx)
    out["churn_risk"] = ch["churn_risk"].astype(float) if "churn_risk" in ch.columns else np.nan

    margin_12m = out["revenue_12m"] * gross_margin
    has_clv = out["clv"].notna()
    out["value"] = out["clv"].where(has_clv, margin_12m)
    out["value_source"] = np.where(has_clv, "clv", np.where(margin_12m.notna(), "margin_12m", "none"))

    from_churn = out["churn_risk"].notna()
    from_alive = ~from_churn & out["p_alive"].notna()
    out["risk"] = out["churn_risk"].where(from_churn, 1.0 - out["p_alive"])
    out["risk_source"] = np.select([from_churn, from_alive], ["churn", "p_alive"], "none")
    out["value_at_risk"] = (out["risk"] * out["value"]).fillna(0.0)
    out["reachable"] = (customers["recency_days"] < reach_days).to_numpy()
    return out


def _priority(score: pd.Series) -> pd.Series:
    """``hoch``/``mittel``/``niedrig`` from the cumulative share of ``score`` (see module docstring)."""
    total = score.sum()
    if not total > 0:
        return pd.Series("niedrig", index=score.index)
    ordered = score.sort_values(ascending=False, kind="stable")
    before = (ordered.cumsum() - ordered) / total  # share covered by better-ranked segments
    prio = np.select(
        [ordered <= 0, before < PRIORITY_HIGH_SHARE, before < PRIORITY_MEDIUM_SHARE],
        ["niedrig", "hoch", "mittel"], "niedrig",
    )
    return pd.Series(prio, index=ordered.index).reindex(score.index)


def segment_matrix(table: pd.DataFrame, actions: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Segment × action matrix (one row per segment, sorted by priority score, descending).

    Columns: ``segment``, ``customers``, ``revenue_12m`` (EUR), ``clv`` (sum of expected CLV, EUR;
    NaN when no CLV), ``value`` (sum of ``value``), ``value_at_risk`` (EUR), ``mean_risk`` (0–1),
    ``reachable_share`` (0–1), ``priority_score`` (EUR), ``priority``, ``action`` (German).
    ``actions`` overrides the recommended action per segment.
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
            "action": g["action"].agg(lambda s: s.mode().iloc[0] if s.ne("").any() else ""),
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
    if actions:
        override = m.index.to_series().map(dict(actions))
        m["action"] = override.where(override.notna(), m["action"])
    m.index.name = "segment"
    m = m.reset_index().sort_values(["priority_score", "customers"], ascending=[False, False],
                                    kind="stable", ignore_index=True)
    return m[["segment", "customers", "revenue_12m", "clv", "value", "value_at_risk", "mean_risk",
              "reachable_share", "priority_score", "priority", "action"]]


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
    """Greedy budget allocation by expected return per euro.

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


def actionable_segments(matrix: pd.DataFrame, per_segment: pd.DataFrame) -> list[str]:
    """Segments that get a target list: priority ``hoch``/``mittel`` or at least one budgeted contact.

    Order as in ``matrix`` (priority score, descending).
    """
    budgeted = set(per_segment.loc[per_segment["contacts"] > 0, "segment"])
    keep = matrix["priority"].isin(["hoch", "mittel"]) | matrix["segment"].isin(budgeted)
    return [s for s in matrix.loc[keep, "segment"] if s != NO_SEGMENT or len(matrix) == 1]


def effective_uplift(configured: Mapping[str, float]) -> dict[str, float]:
    """Default uplift table of :class:`~helpers.config.ActionSettings` updated by ``configured``."""
    from ..config import ActionSettings

    return {**dict(ActionSettings().segment_uplift), **dict(configured)}


def key_figures(matrix: pd.DataFrame, per_segment: pd.DataFrame, totals: Mapping[str, float],
                table: pd.DataFrame, cost_per_contact: float) -> dict:
    """JSON-able key figures of the action plan for the management summary.

    Money in EUR, shares 0–1. ``value_at_risk`` is ``None`` when no risk measure was available;
    ``risk_basis`` is ``"churn"``, ``"p_alive"``, ``"churn+p_alive"`` or ``"none"``.
    """
    sources = set(table["risk_source"].unique()) - {"none"}
    risk_basis = "+".join(s for s in ("churn", "p_alive") if s in sources) or "none"
    has_risk = risk_basis != "none"
    out: dict = {
        "n_customers": int(len(table)),
        "value_basis": "clv" if (table["value_source"] == "clv").any() else
        ("margin_12m" if (table["value_source"] == "margin_12m").any() else "none"),
        "risk_basis": risk_basis,
        "value_at_risk": float(matrix["value_at_risk"].sum()) if has_risk else None,
        "high_priority_segments": [str(s) for s in matrix.loc[matrix["priority"] == "hoch", "segment"]],
        "cost_per_contact": float(cost_per_contact),
        **{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in totals.items()},
        "budget_segments": [str(s) for s in per_segment.loc[per_segment["contacts"] > 0]
                            .sort_values("contacts", ascending=False)["segment"]],
    }
    if has_risk and len(matrix) and matrix["value_at_risk"].max() > 0:
        top = matrix.sort_values("value_at_risk", ascending=False).iloc[0]
        out["top_risk_segment"] = str(top["segment"])
        out["top_risk_value"] = float(top["value_at_risk"])
    return out
