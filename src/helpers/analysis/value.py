"""Customer value, churn risk and value at risk: the one definition of each.

The churn chapter computes these columns once for every customer (its result's ``customers``
frame); the action plan, the target lists and the management summary use those columns and
never recompute them.

- ``value`` (EUR contribution margin over the CLV horizon, ``cfg.clv.horizon_months``): the
  discounted CLV from the CLV chapter where the model produced one (``value_source = "clv"``);
  otherwise the stand-in *contribution margin of the last 12 months* = net revenue of all lines in
  ``(observation_end − 365 d, observation_end]`` (returns included) × ``gross_margin``
  (``value_source = "margin_12m"``); ``NaN`` without revenue data (``"none"``). Negative values
  (customers who returned more than they bought) count as 0: nothing to lose.
- ``risk`` (0–1, probability of no purchase in the churn window): the churn model's score where
  the customer was scored (``risk_source = "churn"``), else ``1 − P(aktiv)`` from the CLV chapter
  (``"p_alive"``), else ``NaN`` (``"none"``).
- ``value_at_risk`` (EUR) = ``risk × value``; ``NaN`` where either is unknown.

Kept definition (two disagreed before): the churn chapter took the 12-month margin from all lines
and clipped at 0, the action plan from purchase days only and unclipped. Kept: all lines (net of
returns, as "Nettoumsatz" means everywhere else) and clipped at 0 (a negative value cannot be lost).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def revenue_last_12m(transactions: pd.DataFrame, observation_end: pd.Timestamp) -> pd.Series:
    """Net revenue (EUR, returns included) per customer of all lines in ``(end − 365 d, end]``.

    Customers without a line in that window are missing (treat as 0).
    """
    end = pd.Timestamp(observation_end)
    d = transactions["order_date"]
    window = transactions[(d > end - pd.Timedelta(days=365)) & (d <= end)]
    return window.groupby("customer_id", observed=True)["revenue"].sum().astype(float)


def customer_value(index: pd.Index, clv: pd.Series | None, revenue_12m: pd.Series | None,
                   gross_margin: float) -> pd.DataFrame:
    """``value`` (EUR margin, >= 0) and ``value_source`` per customer of ``index`` (see module doc).

    ``clv``: CLV per customer (EUR, NaN where not predictable) or ``None``; ``revenue_12m``:
    :func:`revenue_last_12m` or ``None`` without revenue data.
    """
    c = clv.reindex(index).astype(float) if clv is not None else pd.Series(np.nan, index=index)
    if revenue_12m is not None:
        margin = revenue_12m.reindex(index).fillna(0.0).astype(float) * gross_margin
    else:
        margin = pd.Series(np.nan, index=index)
    has_clv = c.notna()
    value = c.where(has_clv, margin).clip(lower=0.0)
    source = np.where(has_clv, "clv", np.where(margin.notna(), "margin_12m", "none"))
    return pd.DataFrame({"value": value, "value_source": source}, index=index)


def customer_risk(index: pd.Index, churn_risk: pd.Series | None, p_alive: pd.Series | None) -> pd.DataFrame:
    """``risk`` (0–1) and ``risk_source`` per customer of ``index`` (see module doc)."""
    ch = churn_risk.reindex(index).astype(float) if churn_risk is not None else pd.Series(np.nan, index=index)
    pa = p_alive.reindex(index).astype(float) if p_alive is not None else pd.Series(np.nan, index=index)
    from_churn = ch.notna()
    from_alive = ~from_churn & pa.notna()
    risk = ch.where(from_churn, 1.0 - pa)
    source = np.select([from_churn.to_numpy(), from_alive.to_numpy()], ["churn", "p_alive"], "none")
    return pd.DataFrame({"risk": risk, "risk_source": source}, index=index)


def value_at_risk(risk: pd.Series, value: pd.Series) -> pd.Series:
    """Expected contribution margin lost (EUR) = ``risk × value`` per customer; NaN where unknown."""
    return (risk * value).rename("value_at_risk")
