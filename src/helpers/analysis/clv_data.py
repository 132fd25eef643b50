"""Model-free data preparation for the CLV chapter: purchases -> frequency/recency/T.

Definitions (Fader, Hardie & Lee 2005), time measured in periods of ``freq_days`` days
(default 7, i.e. weeks, fractional):

- ``frequency`` x: number of *repeat* purchase days (purchase days - 1);
- ``recency`` t_x: time from the first to the last purchase day;
- ``T``: time from the first purchase day to the end of the period;
- ``monetary_value``: mean revenue (EUR) of the repeat purchases; 0 for one-time buyers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def rfm_summary(
    purchases: pd.DataFrame,
    end: pd.Timestamp,
    start: pd.Timestamp | None = None,
    freq_days: int = 7,
) -> pd.DataFrame:
    """Per-customer frequency/recency/T (in periods of ``freq_days`` days) and monetary value.

    ``purchases`` has ``customer_id``, ``order_date`` and optionally ``revenue`` (EUR). Rows of
    the same customer and day are merged first (revenue summed). Only purchases with
    ``start <= order_date <= end`` are used. Index ``customer_id``; columns ``frequency``
    (int), ``recency``, ``T`` (float periods) and ``monetary_value`` (EUR, mean of the repeat
    purchases, NaN column when there is no revenue column).
    """
    end = pd.Timestamp(end).normalize()
    dates = purchases["order_date"]
    mask = (dates <= end).to_numpy()
    if start is not None:
        mask = mask & (dates >= pd.Timestamp(start).normalize()).to_numpy()
    has_rev = "revenue" in purchases.columns
    cust = purchases["customer_id"]
    codes, ids = pd.factorize(cust if mask.all() else cust[mask], sort=False)
    day = (dates.to_numpy()[mask].astype("datetime64[D]") - end.to_datetime64().astype("datetime64[D]")).astype(np.int64)
    rev = purchases["revenue"].to_numpy(dtype=float)[mask] if has_rev else np.zeros(len(codes))
    if (codes < 0).any():  # missing customer ids cannot be summarized
        keep = codes >= 0
        codes, day, rev = codes[keep], day[keep], rev[keep]
    if len(codes) == 0:
        empty = pd.DataFrame({"frequency": pd.Series(dtype=int), "recency": pd.Series(dtype=float),
                              "T": pd.Series(dtype=float), "monetary_value": pd.Series(dtype=float)})
        empty.index.name = "customer_id"
        return empty
    # sort by customer, then day; merge rows of the same customer-day
    key = codes.astype(np.int64) * (int(day.max() - day.min()) + 1) + (day - day.min())
    if not (key[1:] >= key[:-1]).all():  # Dataset.purchases is already sorted
        order = np.argsort(key, kind="stable")
        codes, day, rev = codes[order], day[order], rev[order]
    starts = np.flatnonzero(np.r_[True, (codes[1:] != codes[:-1]) | (day[1:] != day[:-1])])
    d_code, d_day = codes[starts], day[starts]
    d_rev = np.add.reduceat(rev, starts)
    # per customer: first and last day, number of purchase days, revenue of the first day
    c_start = np.flatnonzero(np.r_[True, d_code[1:] != d_code[:-1]])
    c_end = np.r_[c_start[1:], len(d_code)] - 1
    n_days = c_end - c_start + 1
    first, last = d_day[c_start], d_day[c_end]
    idx = pd.Index(ids.take(d_code[c_start]), name="customer_id")
    if isinstance(idx.dtype, pd.CategoricalDtype):
        idx = idx.astype(idx.dtype.categories.dtype)
    out = pd.DataFrame(index=idx)
    out["frequency"] = (n_days - 1).astype(int)
    out["recency"] = (last - first).astype(float) / freq_days
    out["T"] = (-first).astype(float) / freq_days
    if has_rev:
        total = np.add.reduceat(d_rev, c_start)
        repeat_sum = total - d_rev[c_start]
        freq = out["frequency"].to_numpy()
        out["monetary_value"] = np.where(freq > 0, repeat_sum / np.maximum(freq, 1), 0.0)
    else:
        out["monetary_value"] = np.nan
    return out


def compress(summary: pd.DataFrame, columns: tuple[str, ...] = ("frequency", "recency", "T")) -> tuple[pd.DataFrame, np.ndarray]:
    """Unique rows of ``columns`` with a ``weights`` column (customer count) and the inverse map.

    ``unique.iloc[inverse]`` gives back one row per customer of ``summary`` (same order).
    """
    keys = summary.loc[:, list(columns)]
    codes = keys.groupby(list(columns), sort=False, observed=True).ngroup().to_numpy()
    counts = np.bincount(codes)
    first_pos = np.full(len(counts), -1, dtype=np.int64)
    # position of the first occurrence of every group code
    order = np.argsort(codes, kind="stable")
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    first_pos[:] = order[starts]
    unique = keys.iloc[first_pos].reset_index(drop=True)
    unique["weights"] = counts
    return unique, codes


def holdout_counts(purchases: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Number of purchase days per customer with ``start < order_date <= end`` (customer-days merged)."""
    start = pd.Timestamp(start).normalize()
    end = pd.Timestamp(end).normalize()
    p = purchases[(purchases["order_date"] > start) & (purchases["order_date"] <= end)]
    days = p.drop_duplicates(["customer_id", "order_date"])
    return days.groupby("customer_id", observed=True).size().rename("actual")


def read_cdnow_transactions(path) -> pd.DataFrame:
    """Read the CDNOW sample (whitespace-separated: id, index, yyyymmdd, quantity, amount) as purchases."""
    raw = pd.read_csv(
        path, sep=r"\s+", header=None, names=["customer_id", "index", "date", "quantity", "revenue"],
        dtype={"customer_id": str, "date": str},
    )
    return pd.DataFrame({
        "customer_id": raw["customer_id"],
        "order_date": pd.to_datetime(raw["date"], format="%Y%m%d"),
        "revenue": raw["revenue"].astype(float),
    })
