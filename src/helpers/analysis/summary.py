"""Management summary: the chapters' key figures, quoted, never recomputed.

Every figure of the summary is one typed attribute of one chapter's key figures (registry
:data:`FIGURES`). :func:`compute` copies the value unchanged, so the summary and the chapter print
the same number to the cent. A registry entry that names an attribute the chapter does not have
raises ``AttributeError`` (a renamed field fails loudly instead of silently dropping a line); a
value of ``None`` means "not computable for this data" and the figure is left out.
"""

from __future__ import annotations

import datetime as dt
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
    range_attributes: tuple[str, str] | None = None
    """Attributes of the same key figures holding a range (low, high), if the chapter has one."""
    range_kind: str = "interval"
    """``interval`` (80 % range of the estimate) or ``assumptions`` (low/high sensitivity of assumptions)."""
    horizon_attribute: str | None = None
    """Attribute holding the horizon in months the number refers to, if any."""


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("customers", "data", "customers", "int"),
    FigureSpec("revenue", "data", "revenue", "eur"),
    FigureSpec("repeat_rate", "economics", "repeat_rate", "pct"),
    FigureSpec("value_at_risk", "churn", "value_at_risk", "eur",
               ("value_at_risk_low", "value_at_risk_high"), horizon_attribute="value_horizon_months"),
    FigureSpec("clv_total", "clv", "clv_total", "eur", ("clv_total_low", "clv_total_high"),
               horizon_attribute="horizon_months"),
    FigureSpec("risk_50", "churn", "n_risk_50", "int"),
    FigureSpec("expected_gain", "actions", "expected_gain", "eur",
               ("expected_gain_low", "expected_gain_high"), range_kind="assumptions"),
)
"""The summary's key figures, in display order."""


@dataclass(frozen=True)
class Figure:
    spec: FigureSpec
    value: float
    """The chapter's number, unchanged (unit as in the chapter: count, EUR or share 0..1)."""
    low: float | None = None
    high: float | None = None
    """80 % range of the number (same unit), when the chapter computes one."""
    horizon_months: int | None = None
    """Horizon the number refers to (months), when it has one."""


MAX_ACTIONS = 5
"""The summary names at most this many actions (those with the most expected gain)."""
STALE_DAYS = 180
"""Data whose observation end lies more than this many days before the report date is called stale."""


@dataclass(frozen=True)
class PlannedAction:
    """One segment's campaign of the action plan, as the summary lists it (numbers from the plan)."""

    segment: str
    """Segment id."""
    priority: str
    """Priority id of the segment (``high``/``medium``/``low``, the action plan's one rule)."""
    contacts: int
    cost: float
    """EUR."""
    expected_gain: float
    """Expected extra contribution margin after contact cost, EUR (the plan's number)."""
    expected_gain_low: float
    expected_gain_high: float
    """Same under the low/high uplift assumption, EUR."""


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
    actions: tuple[PlannedAction, ...] = ()
    """Up to :data:`MAX_ACTIONS` budgeted segment campaigns with the most expected gain, best first."""
    audience: str | None = None
    """Audience the action plan used (``b2c``/``b2b``)."""
    segment_actions: Mapping[str, str]
    """Recommended action (German text from the settings/catalogue) per segment id, as in the plan."""
    report_date: dt.date
    """Date the report is written for (``cfg.report_date`` or today)."""
    observation_end: dt.date
    data_age_days: int
    """Days between the observation end and the report date."""

    @property
    def stale(self) -> bool:
        """The data ends more than :data:`STALE_DAYS` before the report date."""
        return self.data_age_days > STALE_DAYS


def _usable(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def key_fields(key: Any) -> set[str]:
    """Attribute names of a key-figures dataclass."""
    return {f.name for f in fields(key)} if is_dataclass(key) else set()


def _attribute(key: Any, chapter: str, name: str) -> Any:
    if name not in key_fields(key):
        raise AttributeError(f"{chapter}: key figures have no attribute {name!r}")
    return getattr(key, name)


def compute(ds, cfg, upstream: Mapping[str, ChapterResult]) -> SummaryResult:
    """Collect the key figures of all chapters (see module docstring)."""
    keys = {slug: res.key for slug, res in upstream.items() if getattr(res, "key", None) is not None}
    figures = []
    for spec in FIGURES:
        key = keys.get(spec.chapter)
        if key is None:
            continue
        value = _attribute(key, spec.chapter, spec.attribute)
        if not _usable(value):
            continue
        low = high = horizon = None
        if spec.range_attributes is not None:
            low, high = (_attribute(key, spec.chapter, a) for a in spec.range_attributes)
            if not (_usable(low) and _usable(high)):
                low = high = None
        if spec.horizon_attribute is not None:
            horizon = _attribute(key, spec.chapter, spec.horizon_attribute)
        figures.append(Figure(spec, float(value), low, high, horizon))
    skipped = {slug: res.skip for slug, res in upstream.items() if res.skip is not None}
    rfm = upstream.get("rfm")
    segments = None
    if rfm is not None and rfm.customers is not None and rfm.customers["monetary"].notna().any():
        segments = (rfm.customers.groupby("segment", observed=True)
                    .agg(customers=("monetary", "size"), revenue=("monetary", "sum")))
    report_date = cfg.report_date or dt.date.today()
    end = ds.observation_end.date()
    act = upstream.get("actions")
    return SummaryResult(figures=tuple(figures), keys=keys, skipped=skipped, segments=segments,
                         actions=planned_actions(act), audience=getattr(getattr(act, "key", None), "audience", None),
                         segment_actions=dict(getattr(act, "segment_actions", None) or {}),
                         report_date=report_date, observation_end=end, data_age_days=(report_date - end).days)


def planned_actions(actions: Any, limit: int = MAX_ACTIONS) -> tuple[PlannedAction, ...]:
    """The budgeted segment campaigns (contacts > 0, gain > 0) with the most expected gain."""
    if actions is None or getattr(actions, "allocation", None) is None:
        return ()
    alloc = actions.allocation
    priority = dict(zip(actions.matrix["segment"], actions.matrix["priority"]))
    chosen = alloc[(alloc["contacts"] > 0) & (alloc["expected_gain"] > 0)]
    chosen = chosen.sort_values("expected_gain", ascending=False, kind="stable").head(limit)
    return tuple(
        PlannedAction(segment=str(r.segment), priority=str(priority.get(r.segment, "low")),
                      contacts=int(r.contacts), cost=float(r.cost), expected_gain=float(r.expected_gain),
                      expected_gain_low=float(r.expected_gain_low), expected_gain_high=float(r.expected_gain_high))
        for r in chosen.itertuples(index=False)
    )
