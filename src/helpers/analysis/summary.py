"""Management summary: the chapters' key figures, quoted, never recomputed.

Every figure of the summary is one typed attribute of one chapter's key figures (registry
:data:`FIGURES`). :func:`compute` copies the value unchanged, so the summary and the chapter print
the same number to the cent. A registry entry that names an attribute the chapter does not have
raises ``AttributeError`` (a renamed field fails loudly instead of silently dropping a line); a
value of ``None`` means "not computable for this data" and the figure is left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, Mapping

import pandas as pd

from ..results import ChapterResult


@dataclass(frozen=True)
class FigureSpec:
    id: str
    """Stable id of the summary line (German label in ``helpers.narrative.summary``)."""
    chapter: str
    """Chapter slug whose result holds the number."""
    attribute: str
    """Attribute of that chapter's ``result.key``."""
    kind: str
    """Display kind: ``int``, ``eur`` or ``pct``."""


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("customers", "data", "customers", "int"),
    FigureSpec("revenue", "data", "revenue", "eur"),
    FigureSpec("repeat_rate", "economics", "repeat_rate", "pct"),
    FigureSpec("clv_total", "clv", "clv_total", "eur"),
    FigureSpec("value_at_risk", "churn", "value_at_risk", "eur"),
    FigureSpec("risk_50", "churn", "n_risk_50", "int"),
    FigureSpec("expected_gain", "actions", "expected_gain", "eur"),
)
"""The summary's key figures, in display order."""


@dataclass(frozen=True)
class Figure:
    spec: FigureSpec
    value: float
    """The chapter's number, unchanged (unit as in the chapter: count, EUR or share 0..1)."""


@dataclass(frozen=True, kw_only=True)
class SummaryResult(ChapterResult):
    figures: tuple[Figure, ...]
    """Key figures that the data supports, in :data:`FIGURES` order."""
    keys: Mapping[str, Any]
    """Chapter slug -> that chapter's typed key figures (for the recommendations)."""
    skipped: Mapping[str, str]
    """Chapter slug -> skip reason id, for chapters whose analysis did not run."""
    segments: pd.DataFrame | None
    """Per RFM segment id: ``customers``, ``revenue`` (EUR), from the RFM result; ``None`` without revenue."""


def _usable(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def key_fields(key: Any) -> set[str]:
    """Attribute names of a key-figures dataclass."""
    return {f.name for f in fields(key)} if is_dataclass(key) else set()


def compute(ds, cfg, upstream: Mapping[str, ChapterResult]) -> SummaryResult:
    """Collect the key figures of all chapters (see module docstring)."""
    keys = {slug: res.key for slug, res in upstream.items() if getattr(res, "key", None) is not None}
    figures = []
    for spec in FIGURES:
        key = keys.get(spec.chapter)
        if key is None:
            continue
        if spec.attribute not in key_fields(key):
            raise AttributeError(f"{spec.chapter}: key figures have no attribute {spec.attribute!r}")
        value = getattr(key, spec.attribute)
        if _usable(value):
            figures.append(Figure(spec, float(value)))
    skipped = {slug: res.skip for slug, res in upstream.items() if res.skip is not None}
    rfm = upstream.get("rfm")
    segments = None
    if rfm is not None and rfm.customers is not None and rfm.customers["monetary"].notna().any():
        segments = (rfm.customers.groupby("segment", observed=True)
                    .agg(customers=("monetary", "size"), revenue=("monetary", "sum")))
    return SummaryResult(figures=tuple(figures), keys=keys, skipped=skipped, segments=segments)
