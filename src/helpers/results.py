"""The base of every chapter result: immutable, typed, with an explicit skip reason.

Each chapter's ``compute(ds, cfg, upstream)`` (see :mod:`helpers.chapters`) returns a frozen
subclass of :class:`ChapterResult` with

- ``customers``: the per-customer frame the chapter adds (index ``customer_id``) or ``None``,
- ``key``: a frozen key-figures dataclass (the numbers other chapters and the management
  summary quote; one attribute per business number, unit in its docstring),
- ``skip``: ``None`` when the analysis ran, else a stable reason id that the chapter's
  narrative module turns into a German sentence ("this data cannot support X, because Y").

Results are never changed after ``compute`` returns: no function mutates a result it is given,
and frames inside a result are treated as read-only (copy before changing).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class ChapterResult:
    """Common part of all chapter results."""

    skip: str | None = None
    """``None`` = the chapter's analysis ran; else a reason id (e.g. ``"too_few_repeat"``)."""

    @property
    def ok(self) -> bool:
        return self.skip is None

