"""Customer value if retained, churn risk and value at risk: the one definition of each.

The churn chapter computes these columns once for every customer (its result's ``customers``
frame); the action plan, the target lists and the management summary use those columns and
never recompute them. One horizon H (months) for every customer: the CLV chapter's effective
horizon (``clv.key.horizon_months``), else the configured ``cfg.clv.horizon_months``
(:func:`value_horizon_months`).

- ``value`` (EUR contribution margin over H months **if the customer stays active**, discounted
  like the CLV): the CLV chapter's ``clv_if_active`` where its model produced one
  (``value_source = "clv_if_active"``; while the CLV result has no such column it is derived as
  ``clv / p_alive`` for ``p_alive >= MIN_P_ALIVE``, see :func:`value_if_retained`); otherwise the
  stand-in from history (``"run_rate"``): the yearly contribution-margin run-rate over the
  customer's whole history = net revenue of all lines (returns included) × ``gross_margin`` /
  max(years since the first purchase, 1), spread evenly over the H months and discounted at the
  end of each month (:func:`standin_value`); ``NaN`` without revenue data (``"none"``). Negative
  values (customers who returned more than they bought) count as 0: nothing to lose. A customer
  whose last purchase is long ago therefore keeps a value: what they would bring if won back.
- ``risk`` (0–1, probability of no purchase in the next N days, N = churn window): the churn
  chapter's chosen score (calibrated to a probability) for the customers it covers
  (``risk_source`` = the score's id, e.g. ``"logit"`` or ``"recency"``); every other customer the
  empirical churn rate by days since the last purchase, for one-time and repeat buyers separately
  (``"recency_by_group"``, see :class:`helpers.analysis.churn.RecencyCalibration`); ``NaN``
  (``"none"``) when the data cannot calibrate it. Never ``1 − P(aktiv)`` of BG/NBD, which is
  exactly 1 for every one-time buyer however long ago they bought.
- ``value_at_risk`` (EUR) = ``risk × value``; ``NaN`` where either is unknown. The total is the
  sum over all customers with both (``churn.key.value_at_risk``).
- 80 % range of the total (:func:`value_at_risk_range`): the CLV chapter's relative 80 % range of
  the value if retained (``clv_if_active_total_low / clv_if_active_total`` and ``_high``) applied
  to the whole total; the uncertainty of the risk itself is not included.

Kept definitions (two disagreed before): the 12-month revenue takes all lines (net of returns, as
"Nettoumsatz" means everywhere else); values are clipped at 0 (a negative value cannot be lost).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

DAYS_PER_YEAR = 365.25
"""Length of one year of history in days."""
MIN_HISTORY_YEARS = 1.0
"""The run-rate divides a customer's margin by at least one year (no extrapolation of short histories)."""
MIN_P_ALIVE = 0.01
"""Below this P(aktiv) ``clv / p_alive`` is numerically unstable; the stand-in is used instead."""
FALLBACK_SOURCE = "recency_by_group"
"""``risk_source`` of the recency-based estimate for customers the chosen score does not cover."""
VALUE_SOURCES = ("clv_if_active", "run_rate", "none")
"""Possible ``value_source`` ids."""


def revenue_last_12m(transactions: pd.DataFrame, observation_end: pd.Timestamp) -> pd.Series:
    """Net revenue (EUR, returns included) per customer of all lines in ``(end − 365 d, end]``.

    Customers without a line in that window are missing (treat as 0).
    """
    end = pd.Timestamp(observation_end)
    d = transactions["order_date"]
    window = transactions[(d > end - pd.Timedelta(days=365)) & (d <= end)]
    return window.groupby("customer_id", observed=True)["revenue"].sum().astype(float)


def value_horizon_months(clv_result, configured_months: int) -> int:
    """The one horizon H (months) of ``value``: the CLV chapter's effective ``key.horizon_months``
    when it has one, else ``configured_months`` (``cfg.clv.horizon_months``)."""
    months = getattr(getattr(clv_result, "key", None), "horizon_months", None)
    return int(months) if months else int(configured_months)


def margin_run_rate(customers: pd.DataFrame, gross_margin: float) -> pd.Series:
    """Yearly contribution-margin run-rate (EUR per year) per customer over the customer's history.

    ``customers`` = ``Dataset.customers`` (``revenue``: net EUR of all lines incl. returns;
    ``tenure_days``: days from the first purchase to the observation end). Run-rate =
    ``revenue × gross_margin / max(tenure_days / 365.25, 1)``: a customer who bought for 900 EUR
    in the first of three years has a run-rate of 300 EUR × margin per year; a history shorter
    than a year counts as one year.
    """
    years = np.maximum(customers["tenure_days"].to_numpy(dtype=float) / DAYS_PER_YEAR, MIN_HISTORY_YEARS)
    margin = customers["revenue"].to_numpy(dtype=float) * float(gross_margin)
    return pd.Series(margin / years, index=customers.index, name="margin_run_rate")


def discounted_months(horizon_months: int, discount_rate_yearly: float) -> float:
    """``Σ_{k=1..H} (1 + d_m)^-k`` with the monthly rate ``d_m = (1 + yearly)^(1/12) − 1``: the
    present value of one EUR per month at the end of each of the H months (as in the CLV)."""
    d = (1.0 + float(discount_rate_yearly)) ** (1.0 / 12.0) - 1.0
    k = np.arange(1, int(horizon_months) + 1, dtype=float)
    return float(np.sum((1.0 + d) ** -k))


def standin_value(run_rate_yearly: pd.Series, horizon_months: int, discount_rate_yearly: float) -> pd.Series:
    """Value if retained from history (EUR over H months): ``run_rate / 12 × Σ_k (1 + d_m)^-k``
    (:func:`discounted_months`)."""
    return (run_rate_yearly / 12.0 * discounted_months(horizon_months, discount_rate_yearly)).rename("standin")


def value_if_retained(clv_customers: pd.DataFrame | None) -> pd.Series | None:
    """The CLV chapter's value if retained per customer (EUR over its horizon), or ``None``.

    Uses the column ``clv_if_active`` when the CLV result has it. Otherwise (older CLV results) it
    is derived as ``clv / p_alive`` – exact for the CLV models, whose expected purchases are
    ``P(aktiv) × expected purchases if active`` – where ``p_alive >= MIN_P_ALIVE``; NaN elsewhere.
    """
    if clv_customers is None:
        return None
    cols = clv_customers.columns
    if "clv_if_active" in cols:
        return clv_customers["clv_if_active"].astype(float)
    if "clv" in cols and "p_alive" in cols:
        alive = clv_customers["p_alive"].astype(float)
        return (clv_customers["clv"].astype(float) / alive.where(alive >= MIN_P_ALIVE)).rename("clv_if_active")
    return None


def customer_value(index: pd.Index, *, clv_if_active: pd.Series | None,
                   standin: pd.Series | None) -> pd.DataFrame:
    """``value`` (EUR margin over the horizon if retained, >= 0) and ``value_source`` per customer.

    ``clv_if_active``: :func:`value_if_retained` (NaN where the model has none) or ``None``;
    ``standin``: :func:`standin_value` or ``None`` without revenue data.
    """
    c = clv_if_active.reindex(index).astype(float) if clv_if_active is not None else pd.Series(np.nan, index=index)
    s = standin.reindex(index).astype(float) if standin is not None else pd.Series(np.nan, index=index)
    has_clv = c.notna()
    value = c.where(has_clv, s).clip(lower=0.0)
    source = np.where(has_clv, "clv_if_active", np.where(s.notna(), "run_rate", "none"))
    return pd.DataFrame({"value": value, "value_source": source}, index=index)


def customer_risk(index: pd.Index, *, model_risk: pd.Series | None, model_source: str | None,
                  fallback_risk: pd.Series | None) -> pd.DataFrame:
    """``risk`` (0–1) and ``risk_source`` per customer (see module doc).

    ``model_risk``: the chosen score's calibrated risk for the customers it covers (NaN or missing
    elsewhere), ``model_source`` its id; ``fallback_risk``: the recency-based estimate
    (:data:`FALLBACK_SOURCE`) or ``None`` when it could not be calibrated.
    """
    m = model_risk.reindex(index).astype(float) if model_risk is not None else pd.Series(np.nan, index=index)
    f = fallback_risk.reindex(index).astype(float) if fallback_risk is not None else pd.Series(np.nan, index=index)
    from_model = m.notna()
    from_fallback = ~from_model & f.notna()
    risk = m.where(from_model, f)
    source = np.select([from_model.to_numpy(), from_fallback.to_numpy()],
                       [model_source or "model", FALLBACK_SOURCE], "none")
    return pd.DataFrame({"risk": risk, "risk_source": source}, index=index)


def value_at_risk(risk: pd.Series, value: pd.Series) -> pd.Series:
    """Expected contribution margin lost (EUR) = ``risk × value`` per customer; NaN where unknown."""
    return (risk * value).rename("value_at_risk")


def value_at_risk_range(total: float | None, clv_key) -> tuple[float | None, float | None]:
    """80 % range (EUR) of the value at risk ``total``: ``total`` × the CLV chapter's relative
    80 % range of the value if retained (``clv_key.clv_if_active_total_low / clv_if_active_total``
    and ``_high``). ``(None, None)`` without a total or without that range."""
    point = getattr(clv_key, "clv_if_active_total", None)
    low = getattr(clv_key, "clv_if_active_total_low", None)
    high = getattr(clv_key, "clv_if_active_total_high", None)
    values = (total, point, low, high)
    if any(v is None or not math.isfinite(float(v)) for v in values) or float(point) <= 0:
        return None, None
    return float(total) * float(low) / float(point), float(total) * float(high) / float(point)
