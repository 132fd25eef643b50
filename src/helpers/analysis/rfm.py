"""RFM values, tie-robust scores 1-5 and named segments.

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

Segments: a rule table ``(name, r_min, r_max, f_min, f_max)`` optionally extended by
``m_min, m_max`` is applied top-down; the first matching rule wins. Customers matching no rule
get :data:`FALLBACK_SEGMENT`. The default table covers all 25 R x F combinations.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

FALLBACK_SEGMENT = "Ohne Zuordnung"

DEFAULT_RULES: tuple[tuple, ...] = (
    ("Champions", 5, 5, 4, 5),
    ("Treue Kunden", 3, 4, 4, 5),
    ("Potenzielle Stammkunden", 4, 5, 2, 3),
    ("Neukunden", 5, 5, 1, 1),
    ("Vielversprechend", 4, 4, 1, 1),
    ("Aufmerksamkeit nötig", 3, 3, 3, 3),
    ("Drohen einzuschlafen", 3, 3, 1, 2),
    ("Nicht verlieren", 1, 2, 5, 5),
    ("Gefährdet", 1, 2, 3, 4),
    ("Verloren", 1, 2, 1, 2),
)
"""Default rules (name, R from, R to, F from, F to), first match wins."""

DEFAULT_ACTIONS: dict[str, str] = {
    "Champions": "Mit exklusiven Vorteilen und frühem Zugang zu Neuheiten belohnen; als Empfehlungsgeber gewinnen.",
    "Treue Kunden": "Über ein Treueprogramm binden und passende Ergänzungsprodukte anbieten.",
    "Potenzielle Stammkunden": "Den nächsten Kauf mit persönlichen Empfehlungen und einem Bonusprogramm anstoßen.",
    "Neukunden": "Mit einer Willkommensstrecke durch das Sortiment führen und den zweiten Kauf anregen.",
    "Vielversprechend": "Die Marke bekannt machen und mit einem kleinen Anreiz zum Folgekauf einladen.",
    "Aufmerksamkeit nötig": "Zeitlich begrenzte Angebote auf Basis der bisherigen Käufe senden.",
    "Drohen einzuschlafen": "Mit beliebten Produkten und einem Gutschein reaktivieren, bevor der Kontakt abreißt.",
    "Nicht verlieren": "Sofort persönlich ansprechen, Gründe klären und ein starkes Rückgewinnungsangebot machen.",
    "Gefährdet": "Persönliche Rückgewinnungsaktion mit individuellem Angebot starten.",
    "Verloren": "Höchstens mit einer günstigen Reaktivierungskampagne ansprechen; kein Schwerpunkt des Budgets.",
    FALLBACK_SEGMENT: "Regeln prüfen: Diese Kunden passen zu keiner Segmentregel.",
}
"""Recommended action per segment (German)."""


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
    """Validate a rule table; each rule ``(name, r_min, r_max, f_min, f_max[, m_min, m_max])``."""
    if rules is None:
        return DEFAULT_RULES
    out = []
    for rule in rules:
        rule = tuple(rule)
        if len(rule) not in (5, 7):
            raise ValueError(f"Segmentregel {rule!r}: erwartet (Name, R von, R bis, F von, F bis[, M von, M bis]).")
        out.append((str(rule[0]), *(int(v) for v in rule[1:])))
    return tuple(out)


def assign_segments(scores: pd.DataFrame, rules: Iterable[Sequence] | None = None) -> pd.Series:
    """Segment name per customer: the first rule whose ranges contain (r, f[, m]) wins.

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
    return pd.Series(seg, index=scores.index, name="segment")


def segment_order(rules: Iterable[Sequence] | None = None) -> list[str]:
    """Segment names in rule order (plus the fallback)."""
    return [rule[0] for rule in normalize_rules(rules)] + [FALLBACK_SEGMENT]


def build_rfm(customers: pd.DataFrame, rules: Iterable[Sequence] | None = None,
              actions: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The shared ``"rfm"`` result: values, scores, ``segment`` and ``action`` per customer."""
    out = rfm_scores(rfm_values(customers))
    out["segment"] = assign_segments(out, rules)
    table = {**DEFAULT_ACTIONS, **dict(actions or {})}
    out["action"] = out["segment"].map(table).fillna("Keine Empfehlung hinterlegt.")
    return out


def segment_summary(rfm: pd.DataFrame, rules: Iterable[Sequence] | None = None) -> pd.DataFrame:
    """Per segment (rule order, empty segments dropped): ``customers``, ``customer_share``,
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


def segment_mix(transactions: pd.DataFrame, rfm: pd.DataFrame, column: str,
                rules: Iterable[Sequence] | None = None) -> pd.DataFrame:
    """Share of each ``column`` value (e.g. category, channel) within each segment's revenue.

    Rows: segments; columns: values of ``column``; each row sums to 1. Uses net line revenue
    (negative totals count as 0) or, without revenue, the number of lines.
    """
    seg = rfm["segment"]
    tx = transactions[["customer_id", column] + (["revenue"] if "revenue" in transactions.columns else [])]
    tx = tx[tx[column].notna()]
    seg_of_line = seg.reindex(tx["customer_id"]).to_numpy()
    weight = tx["revenue"].to_numpy() if "revenue" in tx.columns else np.ones(len(tx))
    frame = pd.DataFrame({"segment": seg_of_line, "value": tx[column].astype(str).to_numpy(), "w": weight})
    frame = frame[pd.notna(frame["segment"])]
    table = frame.groupby(["segment", "value"])["w"].sum().unstack("value", fill_value=0.0).clip(lower=0)
    table = table.div(table.sum(axis=1).replace(0, np.nan), axis=0)
    known = segment_order(rules)
    order = [s for s in known if s in table.index] + [s for s in table.index if s not in known]
    cols = table.sum().sort_values(ascending=False).index
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
