"""Churn definition, features and labels (no model code here).

Definitions (days are calendar days, money is net EUR):

- *Cut-off* ``t``: features use only data with ``order_date <= t``; the label uses
  only purchases with ``t < order_date <= t + window_days``.
- *Churned* (label 1): a customer with at least one purchase on or before ``t`` and
  no purchase in ``(t, t + window_days]``.
- A *purchase* is a purchase day of ``Dataset.purchases`` (same-day lines merged,
  net revenue > 0). A purchase day only depends on the lines of that day, so
  filtering purchases by date cannot leak information from after the cut-off.

All functions are vectorized group-bys; there are no per-customer Python loops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..dataset import LINE_WEIGHT, line_weights
from .cohorts import isin_fast

TREND_DAYS = (90, 180)
"""Recent periods (days before the cut-off) for the purchase-trend features."""
MAX_CHANNELS = 4
"""At most this many channel-share features (the most frequent channels)."""
WINDOW_STEP_DAYS = 30
"""A data-driven churn window is rounded to a multiple of this many days."""
WINDOW_MIN_DAYS = 30
WINDOW_MAX_DAYS = 365


@dataclass(frozen=True)
class WindowChoice:
    """The churn window and where it came from.

    ``days``: window length N in days. ``source``: ``"config"`` or ``"data"``.
    ``quantile_days``: the raw quantile of inter-purchase times (days) when data-driven.
    ``quantile``: which quantile (e.g. 0.9). ``n_gaps``: number of gaps it was computed from.
    """

    days: int | None
    source: str
    quantile_days: float | None = None
    quantile: float = 0.9
    n_gaps: int = 0


def inter_purchase_days(purchases: pd.DataFrame) -> pd.Series:
    """Days between consecutive purchase days of the same customer (repeat buyers only).

    Returns one value per gap (a customer with k purchases contributes k-1 gaps),
    indexed like the later purchase row.
    """
    p = purchases[["customer_id", "order_date"]].sort_values(["customer_id", "order_date"])
    same = p["customer_id"].eq(p["customer_id"].shift())
    gaps = p["order_date"].diff().dt.days
    return gaps[same].astype(float)


def suggest_window(purchases: pd.DataFrame, quantile: float = 0.9) -> WindowChoice:
    """Data-driven churn window: the ``quantile`` of inter-purchase days of repeat buyers.

    Rounded to the nearest multiple of :data:`WINDOW_STEP_DAYS` (30 days) and
    clipped to [30, 365] days. ``days`` is ``None`` when there is no repeat purchase.
    """
    gaps = inter_purchase_days(purchases)
    if gaps.empty:
        return WindowChoice(days=None, source="data", quantile=quantile, n_gaps=0)
    raw = float(gaps.quantile(quantile))
    rounded = int(round(raw / WINDOW_STEP_DAYS)) * WINDOW_STEP_DAYS
    days = int(min(max(rounded, WINDOW_MIN_DAYS), WINDOW_MAX_DAYS))
    return WindowChoice(days=days, source="data", quantile_days=raw, quantile=quantile, n_gaps=len(gaps))


def choose_window(purchases: pd.DataFrame, window_days: int | None) -> WindowChoice:
    """``window_days`` from the config, or :func:`suggest_window` when it is ``None``."""
    if window_days is not None:
        return WindowChoice(days=int(window_days), source="config")
    return suggest_window(purchases)


def top_channels(transactions: pd.DataFrame, cutoff: pd.Timestamp, max_channels: int = MAX_CHANNELS) -> list[str]:
    """Channels used for share features, chosen from lines up to ``cutoff`` only.

    The most frequent channels (by lines), at most ``max_channels``. When these are
    all channels, the least frequent is dropped as reference (shares would sum to 1).
    """
    if "channel" not in transactions.columns:
        return []
    upto = transactions[transactions["order_date"] <= cutoff]
    known = upto["channel"].notna().to_numpy()
    counts = (pd.Series(line_weights(upto)[known]).groupby(upto["channel"].astype(str).to_numpy()[known], sort=False).sum()
              .sort_values(ascending=False, kind="stable"))
    if len(counts) < 2:
        return []
    chosen = list(counts.index[:max_channels])
    if len(chosen) == len(counts):
        chosen = chosen[:-1]
    return chosen


def build_features(
    transactions: pd.DataFrame,
    purchases: pd.DataFrame,
    cutoff,
    *,
    channels: list[str] | None = None,
    use_category: bool = True,
) -> pd.DataFrame:
    """Per-customer features at ``cutoff`` from data with ``order_date <= cutoff`` only.

    Index ``customer_id`` (customers with at least one purchase day <= cutoff). Columns:

    - ``recency_days``: days from the last purchase to the cut-off;
    - ``frequency``: number of purchase days;
    - ``tenure_days``: days from the first purchase to the cut-off;
    - ``ipt_mean_days``, ``ipt_std_days``: mean / standard deviation (ddof=1) of the
      days between consecutive purchases (NaN with too few purchases);
    - ``recency_ratio``: ``recency_days / ipt_mean_days`` (how overdue the next purchase is);
    - ``purchases_last_{90,180}``: purchase days in the last 90 / 180 days;
    - ``trend_{90,180}``: purchases per 30 days in the last 90 / 180 days minus the same
      rate before that period (rate before uses at least 30 days of span; NaN for customers
      whose first purchase lies inside the recent period);
    - with revenue: ``monetary`` (mean net EUR per purchase day) and ``return_share``
      (EUR of negative lines / EUR of positive lines);
    - with category (and ``use_category``): ``n_categories`` (distinct categories bought);
    - for each channel in ``channels``: ``channel_share__<name>`` (share of the customer's lines).
      ``channels=None`` derives them from lines up to the cut-off (:func:`top_channels`);
      pass the list explicitly to get identical columns at several cut-offs.
    """
    cutoff = pd.Timestamp(cutoff).normalize()
    has_revenue = "revenue" in purchases.columns
    cols = ["customer_id", "order_date"] + (["revenue"] if has_revenue else [])
    p = purchases.loc[purchases["order_date"] <= cutoff, cols].sort_values(["customer_id", "order_date"])
    g = p.groupby("customer_id", sort=True, observed=True)
    first = g["order_date"].min()
    last = g["order_date"].max()
    feats = pd.DataFrame(index=first.index)
    feats.index.name = "customer_id"
    feats["recency_days"] = (cutoff - last).dt.days.astype(float)
    feats["frequency"] = g.size().astype(float)
    feats["tenure_days"] = (cutoff - first).dt.days.astype(float)

    same = p["customer_id"].eq(p["customer_id"].shift())
    gaps = p["order_date"].diff().dt.days.where(same)
    gg = gaps.groupby(p["customer_id"], observed=True)
    feats["ipt_mean_days"] = gg.mean().reindex(feats.index)
    feats["ipt_std_days"] = gg.std(ddof=1).reindex(feats.index)
    feats["recency_ratio"] = feats["recency_days"] / feats["ipt_mean_days"].where(feats["ipt_mean_days"] > 0)

    days_before = (cutoff - p["order_date"]).dt.days
    for d in TREND_DAYS:
        recent = (days_before < d).groupby(p["customer_id"], observed=True).sum()
        recent = recent.reindex(feats.index).astype(float)
        feats[f"purchases_last_{d}"] = recent
        span_before = feats["tenure_days"] - d  # days from first purchase to the period start
        before = feats["frequency"] - recent
        rate_before = (before / span_before.clip(lower=30) * 30).where(span_before >= 0)
        feats[f"trend_{d}"] = recent / d * 30 - rate_before

    if has_revenue:
        feats["monetary"] = g["revenue"].mean()
    tx = transactions.loc[transactions["order_date"] <= cutoff]  # aggregates are reindexed to feats
    if "revenue" in tx.columns:
        rev = tx["revenue"]
        pos = rev.clip(lower=0).groupby(tx["customer_id"], observed=True).sum()
        neg = (-rev.clip(upper=0)).groupby(tx["customer_id"], observed=True).sum()
        share = (neg / pos.where(pos > 0)).reindex(feats.index)
        feats["return_share"] = share.fillna(0.0)
    if use_category and "category" in tx.columns and tx["category"].notna().any():
        feats["n_categories"] = (
            tx.groupby("customer_id", observed=True)["category"].nunique().reindex(feats.index).fillna(0).astype(float)
        )
    if channels is None:
        channels = top_channels(transactions, cutoff)
    if channels and "channel" in tx.columns:
        w = pd.Series(line_weights(tx), index=tx.index)
        n_lines = w.groupby(tx["customer_id"], observed=True).sum().reindex(feats.index)
        for name in channels:
            hits = w.where(tx["channel"] == name, 0).groupby(tx["customer_id"], observed=True).sum()
            feats[f"channel_share__{name}"] = (hits.reindex(feats.index).fillna(0) / n_lines).astype(float)
    return feats


def encode_customers(transactions: pd.DataFrame, purchases: pd.DataFrame):
    """``(transactions, purchases, ids)`` with ``customer_id`` replaced by integer codes.

    ``ids[code]`` is the original customer id. Group-bys on integer codes are many times
    faster than on (Arrow) strings with millions of lines; :func:`build_features` and
    :func:`build_labels` give the same numbers for coded and plain input (index = codes).
    """
    cols = [c for c in ("customer_id", "order_date", "revenue", "category", "channel", LINE_WEIGHT)
            if c in transactions.columns]
    codes, ids = pd.factorize(transactions["customer_id"])
    tx = transactions[cols].copy()
    tx["customer_id"] = codes
    p_codes, p_ids = pd.factorize(purchases["customer_id"])
    p = purchases[[c for c in ("customer_id", "order_date", "revenue") if c in purchases.columns]].copy()
    p["customer_id"] = pd.Index(ids).get_indexer(p_ids)[p_codes]
    return tx, p, np.asarray(ids, dtype=object)


def build_labels(purchases: pd.DataFrame, customers: pd.Index, cutoff, window_days: int) -> pd.Series:
    """Churn label per customer in ``customers``: 1 = no purchase in ``(cutoff, cutoff + window_days]``.

    Uses only purchases inside that window. Returns an int Series ``churned`` indexed like ``customers``.
    """
    cutoff = pd.Timestamp(cutoff).normalize()
    end = cutoff + pd.Timedelta(days=int(window_days))
    d = purchases["order_date"]
    buyers = pd.Index(purchases.loc[(d > cutoff) & (d <= end), "customer_id"].unique())
    labels = (~isin_fast(customers, buyers)).astype(int)  # pandas' isin on Arrow strings: 7 s at 2 M ids
    return pd.Series(labels, index=customers, name="churned")


def active_at(features: pd.DataFrame, active_days: int | None) -> pd.DataFrame:
    """Customers still counted as active at the cut-off: a purchase within the last ``active_days``
    days including the cut-off day (``recency_days < active_days``). ``None`` keeps everyone."""
    if active_days is None:
        return features
    return features[features["recency_days"] < active_days]

