"""Chapter "Anhang": the settings the report was computed with and the data ledger.

Nothing is estimated here; the result only fixes what the appendix shows, so the notebook reads
it the same way as every other chapter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import pandas as pd

from ..results import ChapterResult


@dataclass(frozen=True, kw_only=True)
class AppendixResult(ChapterResult):
    settings: Mapping[str, Any]
    """Every setting of the report, flat (``ReportConfig.as_settings()``)."""
    observation_end: pd.Timestamp
    """Observation end actually used (the setting may be empty = last day with orders)."""
    ledger: Any
    """The data ledger (``helpers.validation.Ledger``) or ``None`` for data not read from a file."""
    effective: Mapping[str, Any]
    """Settings whose value is decided during the run (empty setting = automatic/default), by
    settings key: the value actually used, e.g. ``{"audience": "b2b", "actions.budget": 10000.0}``."""


def compute(ds, cfg, upstream: Mapping[str, ChapterResult]) -> AppendixResult:
    """Settings and ledger of this report, with the values actually used where a setting was left
    to the data (``upstream["actions"]``: audience, budget, cost per contact)."""
    effective: dict[str, Any] = {"observation_end": ds.observation_end.date().isoformat(),
                                 "currency": getattr(ds, "currency", None)}
    actions = upstream.get("actions")
    if actions is not None and getattr(actions, "key", None) is not None:
        k = actions.key
        effective.update({"audience": k.audience, "actions.budget": k.budget,
                          "actions.cost_per_contact": k.cost_per_contact})
    return AppendixResult(settings=cfg.as_settings(), observation_end=ds.observation_end,
                          ledger=ds.ledger, effective=effective)
