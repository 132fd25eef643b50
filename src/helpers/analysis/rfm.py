"""RFM values, tie-robust scores 1-5 and segments (stable segment ids).

Definitions at the observation end E:

- ``recency_days``: days from the last purchase to E (0 = bought on E).
- ``frequency``: number of purchase days in the observation period.
- ``monetary``: net revenue in EUR over the observation period (returns netted); NaN without
  a revenue column.

Scores (rank-based, robust to ties): for each value the score is
``1 + floor(5 * share of customers with a strictly worse value)``, capped at 5.
"Worse" means a longer recency, a lower frequency, a lower revenue. Customers with the same
value always get the same score and the customers with the worst value always get 1. Large tie
groups are never split arbitrarily; instead some scores may stay empty (e.g. when half the
customers bought exactly once, frequency score 2 is empty and the next group starts at 3).

Segments: a rule table ``(segment_id, r_min, r_max, f_min, f_max)`` optionally extended by
``m_min, m_max`` is applied top-down; the first matching rule wins. Customers matching no rule
get :data:`FALLBACK_SEGMENT`. The default table covers all 25 R x F combinations. Segments are
stable English ids (``"champions"``); their German names and default actions live in
:data:`helpers.labels.SEGMENTS`, so renaming a label never changes an assignment.

The chapter's entry point is :func:`compute` (see ``docs/chapter-contract.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .. import labels
from ..exceptions import ConfigError
from ..dataset import LINE_WEIGHT, line_weights
from ..results import ChapterResult

if TYPE_CHECKING:  # pragma: no cover
    from ..config import ReportConfig
    from ..dataset import Dataset

FALLBACK_SEGMENT = "unassigned"
"""Segment id of customers who match no rule."""

DEFAULT_RULES: tuple[tuple, ...] = (
    ("champions", 5, 5, 4, 5),
    ("loyal", 3, 4, 4, 5),
    ("potential_loyalists", 4, 5, 2, 3),
    ("new", 5, 5, 1, 1),
    ("promising", 4, 4, 1, 1),
    ("need_attention", 3, 3, 3, 3),
    ("about_to_sleep", 3, 3, 1, 2),
    ("cannot_lose", 1, 2, 5, 5),
    ("at_risk", 1, 2, 3, 4),
    ("lost", 1, 2, 1, 2),
)
"""Default rules (segment id, R from, R to, F from, F to), first match wins."""


# ---------------------------------------------------------------- result types

@dataclass(frozen=True)
class RfmKeyFigures:
    """The numbers the RFM chapter prints and the management summary quotes."""

    customers: int
    """Number of customers segmented (all customers with a purchase)."""
    segments: int
    """Number of non-empty segments."""
    largest_segment: str | None
    """Id of the segment with the most customers (``None`` without customers)."""
    champions_customer_share: float | None
    """Share of customers (0–1) in segment ``champions``; ``None`` when that segment is empty."""
    champions_revenue_share: float | None
    """Share of net revenue (0–1) of segment ``champions``; ``None`` when empty or without revenue."""
    at_risk_customers: int
    """Customers in the at-risk segments (:data:`helpers.labels.AT_RISK_SEGMENTS`), count."""
    at_risk_revenue_share: float | None
    """Share of net revenue (0–1) of the at-risk segments; ``None`` when they are empty or without revenue."""
    rf_only: bool
    """``True`` when the data has no revenue column (segments from R and F only, no M score)."""
    segment_customers: Mapping[str, int]
    """Segment id -> customers (count), non-empty segments in rule order."""


@dataclass(frozen=True, kw_only=True)
class RfmResult(ChapterResult):
    """Result of the chapter ``rfm`` (see :func:`compute`)."""

    customers: pd.DataFrame
    """Per customer (index ``customer_id``): ``recency_days`` (days), ``frequency`` (purchase days),
    ``monetary`` (net EUR, NaN without revenue), ``r_score``, ``f_score`` (1..5), ``m_score``
    (1..5, ``Int64``, NA without revenue), ``segment`` (segment id)."""
    segments: pd.DataFrame
    """Per segment id (rule order, empty segments dropped), see :func:`segment_summary`."""
    order: tuple[str, ...]
    """All segment ids in rule order, :data:`FALLBACK_SEGMENT` last."""
    rules: tuple[tuple, ...]
    """The normalized rule table in use (:func:`normalize_rules`)."""
    actions: Mapping[str, str]
    """Effective recommended action (German text from the configuration) per segment id:
    :func:`helpers.labels.segment_action` overridden by ``cfg.rfm.segment_actions``; ``""`` = none."""
    score_ranges: pd.DataFrame
    """Value range per score 1..5 (:func:`score_ranges`)."""
    rf_counts: pd.DataFrame
    """R score (rows 5..1) x F score (columns 1..5): customers."""
    rf_monetary: pd.DataFrame | None
    """Same grid: mean net revenue per customer (EUR); ``None`` without revenue."""
    category_mix: pd.DataFrame | None
    """Segment x category: share of the segment's revenue (:func:`segment_mix`); ``None`` without category."""
    channel_mix: pd.DataFrame | None
    """Segment x sales channel, as ``category_mix``; ``None`` without channel."""
    has_revenue: bool
    """The data has a revenue column."""
    key: RfmKeyFigures


# ---------------------------------------------------------------- entry point

def compute(ds: "Dataset", cfg: "ReportConfig", upstream: Mapping[str, ChapterResult]) -> RfmResult:
    """RFM values, scores and segments of every customer of ``ds`` and everything chapter 3 shows."""
    rules = normalize_rules(cfg.rfm.segment_rules)
    order = tuple(segment_order(rules))
    customers = rfm_scores(rfm_values(ds.customers))
    customers["segment"] = assign_segments(customers, rules)
    segments = segment_summary(customers, rules)
    has_revenue = ds.has_revenue
    return RfmResult(
        customers=customers,
        segments=segments,
        order=order,
        rules=rules,
        actions=effective_actions(order, cfg.rfm.segment_actions),
        score_ranges=score_ranges(customers),
        rf_counts=rf_grid(customers),
        rf_monetary=rf_grid(customers, "monetary") if has_revenue else None,
        category_mix=segment_mix(ds.transactions, customers, "category", rules) if ds.has("category") else None,
        channel_mix=segment_mix(ds.transactions, customers, "channel", rules) if ds.has("channel") else None,
        has_revenue=has_revenue,
        key=key_figures(segments, has_revenue),
    )


def key_figures(segments: pd.DataFrame, has_revenue: bool) -> RfmKeyFigures:
    """Key figures from the per-segment summary (:func:`segment_summary`)."""

    def share(seg_ids: Sequence[str], column: str) -> float | None:
        present = [s for s in seg_ids if s in segments.index]
        if not present or column not in segments.columns or not segments[column].notna().any():
            return None
        return float(segments.loc[present, column].sum())

    at_risk = [s for s in labels.AT_RISK_SEGMENTS if s in segments.index]
    return RfmKeyFigures(
        customers=int(segments["customers"].sum()) if len(segments) else 0,
        segments=int(len(segments)),
        largest_segment=str(segments["customers"].idxmax()) if len(segments) else None,
        champions_customer_share=share(["champions"], "customer_share"),
        champions_revenue_share=share(["champions"], "revenue_share") if has_revenue else None,
        at_risk_customers=int(segments.loc[at_risk, "customers"].sum()) if at_risk else 0,
        at_risk_revenue_share=share(at_risk, "revenue_share") if has_revenue else None,
        rf_only=not has_revenue,
        segment_customers={str(k): int(v) for k, v in segments["customers"].items()},
    )


def effective_actions(order: Iterable[str], overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Recommended action per segment id: the catalogue default overridden by ``overrides``."""
    out = {s: labels.segment_action(s) for s in order}
    out.update({str(k): str(v) for k, v in dict(overrides or {}).items()})
    return out


# ---------------------------------------------------------------- building blocks

def rfm_values(customers: pd.DataFrame) -> pd.DataFrame:
    """``recency_days`` (days), ``frequency`` (purchase days), ``monetary`` (net EUR) per customer."""
    out = pd.DataFrame(index=customers.index)
    out["recency_days"] = customers["recency_days"].astype(int)
    out["frequency"] = customers["n_purchases"].astype(int)
    out["monetary"] = customers["revenue"].astype(float) if "revenue" in customers.columns else np.nan
    return out


def tie_score(values: pd.Series, higher_is_better: bool = True, n_scores: int = 5) -> pd.Series:
    """Score 1..n_scores = ``1 + floor(n * share of customers with a strictly worse value)``.

    Ties share a score; the worst value always scores 1. NaN values get NaN.
    """
    valid = values.dropna()
    n = len(valid)
    out = pd.Series(np.nan, index=values.index, dtype=float)
    if n == 0:
        return out
    key = valid if higher_is_better else -valid
    worse = key.rank(method="min").to_numpy() - 1  # customers with a strictly smaller key
    score = np.minimum(np.floor(n_scores * worse / n) + 1, n_scores)
    out.loc[valid.index] = score
    return out


def rfm_scores(values: pd.DataFrame) -> pd.DataFrame:
    """Add ``r_score`` (5 = most recent), ``f_score`` and ``m_score`` (1..5, NaN without revenue)."""
    out = values.copy()
    out["r_score"] = tie_score(values["recency_days"], higher_is_better=False).astype(int)
    out["f_score"] = tie_score(values["frequency"]).astype(int)
    m = tie_score(values["monetary"])
    out["m_score"] = m.astype("Int64") if m.notna().any() else pd.array([pd.NA] * len(m), dtype="Int64")
    return out


def normalize_rules(rules: Iterable[Sequence] | None) -> tuple[tuple, ...]:
    """Validate a rule table; each rule ``(segment_id, r_min, r_max, f_min, f_max[, m_min, m_max])``.

    ``None`` gives :data:`DEFAULT_RULES`; a malformed rule raises a German :class:`ConfigError`.
    """
    if rules is None:
        return DEFAULT_RULES
    out = []
    for rule in rules:
        rule = tuple(rule)
        if len(rule) not in (5, 7):
            raise ConfigError(
                f"Segmentregel {rule!r}: erwartet (Segment-ID, R von, R bis, F von, F bis[, M von, M bis])."
            )
        try:
            out.append((str(rule[0]), *(int(v) for v in rule[1:])))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"Segmentregel {rule!r}: die Score-Grenzen müssen ganze Zahlen sein.") from exc
    return tuple(out)


def assign_segments(scores: pd.DataFrame, rules: Iterable[Sequence] | None = None) -> pd.Series:
    """Segment id per customer: the first rule whose ranges contain (r, f[, m]) wins.

    Rules with M ranges never match customers without an M score.
    """
    rules = normalize_rules(rules)
    r = scores["r_score"].to_numpy()
    f = scores["f_score"].to_numpy()
    m = pd.to_numeric(scores["m_score"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    conditions, names = [], []
    for rule in rules:
        cond = (r >= rule[1]) & (r <= rule[2]) & (f >= rule[3]) & (f <= rule[4])
        if len(rule) == 7:
            cond &= (m >= rule[5]) & (m <= rule[6])
        conditions.append(cond)
        names.append(rule[0])
    seg = np.select(conditions, names, default=FALLBACK_SEGMENT) if conditions else np.full(len(r), FALLBACK_SEGMENT)
    return pd.Series(seg, index=scores.index, name="segment").astype(object)


def segment_order(rules: Iterable[Sequence] | None = None) -> list[str]:
    """Segment ids in rule order (each once, a segment with several rules at its first), plus the fallback."""
    return list(dict.fromkeys([rule[0] for rule in normalize_rules(rules)] + [FALLBACK_SEGMENT]))


def segment_summary(rfm: pd.DataFrame, rules: Iterable[Sequence] | None = None) -> pd.DataFrame:
    """Per segment id (rule order, empty segments dropped): ``customers``, ``customer_share``,
    ``revenue`` (EUR), ``revenue_share``, ``aov`` (EUR per purchase day), ``revenue_per_customer``,
    ``median_recency`` (days), ``mean_frequency`` (purchase days). Revenue columns NaN without revenue.
    """
    g = rfm.groupby("segment", observed=True)
    out = pd.DataFrame({
        "customers": g.size(),
        "purchases": g["frequency"].sum(),
        "revenue": g["monetary"].sum(min_count=1),
        "median_recency": g["recency_days"].median(),
        "mean_frequency": g["frequency"].mean(),
    })
    order = [s for s in segment_order(rules) if s in out.index]
    order += [s for s in out.index if s not in order]
    out = out.reindex(order)
    out.index.name = "segment"
    out["customer_share"] = out["customers"] / out["customers"].sum()
    total = out["revenue"].sum(min_count=1)
    out["revenue_share"] = out["revenue"] / total if pd.notna(total) and total != 0 else np.nan
    out["aov"] = out["revenue"] / out["purchases"]
    out["revenue_per_customer"] = out["revenue"] / out["customers"]
    return out[["customers", "customer_share", "revenue", "revenue_share", "aov", "revenue_per_customer",
                "median_recency", "mean_frequency"]]


def rf_grid(rfm: pd.DataFrame, value: str | None = None) -> pd.DataFrame:
    """R score (rows 5..1) x F score (columns 1..5): customer counts, or the mean of ``value``."""
    if value is None:
        grid = rfm.groupby(["r_score", "f_score"]).size()
    else:
        grid = rfm.groupby(["r_score", "f_score"])[value].mean()
    grid = grid.unstack("f_score").reindex(index=[5, 4, 3, 2, 1], columns=[1, 2, 3, 4, 5])
    return grid.fillna(0).astype(int) if value is None else grid


MAX_MIX_VALUES = 12
"""Values (categories, channels) of :func:`segment_mix` with their own column; the rest is merged."""


def segment_mix(transactions: pd.DataFrame, rfm: pd.DataFrame, column: str,
                rules: Iterable[Sequence] | None = None, max_values: int = MAX_MIX_VALUES) -> pd.DataFrame:
    """Share of each ``column`` value (e.g. category, channel) within each segment's revenue.

    Rows: segment ids; columns: values of ``column``; each row sums to 1. Uses net line revenue
    (negative totals count as 0) or, without revenue, the number of lines. Bounded: only the
    ``max_values`` values with the largest total get their own column, all others are merged into
    a last column ``"Sonstige"`` (:data:`helpers.analysis.crosssell.OTHER`).
    """
    from .crosssell import OTHER

    seg = rfm["segment"]
    extra = [c for c in ("revenue", LINE_WEIGHT) if c in transactions.columns]
    tx = transactions[["customer_id", column] + extra]
    tx = tx[tx[column].notna()]
    seg_of_line = seg.reindex(tx["customer_id"]).to_numpy()
    weight = tx["revenue"].to_numpy() if "revenue" in tx.columns else line_weights(tx).astype(float)
    values = tx[column].astype(str).to_numpy()
    frame = pd.DataFrame({"segment": seg_of_line, "value": values, "w": weight})
    frame = frame[pd.notna(frame["segment"])]
    totals = frame.groupby("value")["w"].sum().clip(lower=0)
    if len(totals) > max_values:
        keep = totals.sort_values(ascending=False, kind="stable").index[:max_values]
        frame["value"] = frame["value"].where(frame["value"].isin(keep), OTHER)
    table = frame.groupby(["segment", "value"])["w"].sum().unstack("value", fill_value=0.0).clip(lower=0)
    table = table.div(table.sum(axis=1).replace(0, np.nan), axis=0)
    known = segment_order(rules)
    order = [s for s in known if s in table.index] + [s for s in table.index if s not in known]
    cols = table.sum().sort_values(ascending=False).index
    if len(totals) > max_values:
        cols = [c for c in cols if c != OTHER] + [OTHER]
    return table.reindex(index=order, columns=cols)


def score_ranges(rfm: pd.DataFrame) -> pd.DataFrame:
    """Value range (min, max) of recency, frequency and monetary per score 1..5.

    Index: score; columns ``recency_min``, ``recency_max``, ``frequency_min``, ... (NaN = empty score).
    """
    parts = {}
    for value, score in (("recency_days", "r_score"), ("frequency", "f_score"), ("monetary", "m_score")):
        name = value.removesuffix("_days")
        valid = rfm[[value, score]].dropna()
        g = valid.groupby(valid[score].astype(int))[value]
        parts[f"{name}_min"] = g.min()
        parts[f"{name}_max"] = g.max()
        parts[f"{name}_n"] = g.size()
    return pd.DataFrame(parts).reindex(range(1, 6))
