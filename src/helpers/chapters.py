"""The one registry of chapters: slug, notebook, compute function, dependencies, report order.

Every chapter's numbers come from one pure entry point ``compute(ds, cfg, upstream) -> Result``
(``upstream`` maps the slugs in ``depends`` to their results). :func:`compute_all` runs them once
in dependency order; the report pipeline stores the results in the client's work folder and the
notebooks read them through :class:`helpers.session.Session` – or compute them the same way when
opened in JupyterLab.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from . import labels
from .config import NOTEBOOK_DIR

if TYPE_CHECKING:  # pragma: no cover
    from .config import ReportConfig
    from .dataset import Dataset
    from .results import ChapterResult

Compute = Callable[["Dataset", "ReportConfig", Mapping[str, "ChapterResult"]], "ChapterResult"]


@dataclass(frozen=True)
class Chapter:
    slug: str
    """Short English id, also the prefix of figure/table labels (``fig-rfm-…``)."""
    notebook: str
    """File name in ``notebooks/``."""
    compute: str
    """``"module:function"`` of the chapter's pure entry point (imported on first use)."""
    depends: tuple[str, ...] = ()
    """Slugs whose results ``compute`` receives in ``upstream``."""

    @property
    def title(self) -> str:
        """German chapter title (from :mod:`helpers.labels`)."""
        return labels.chapter_title(self.slug)

    @property
    def path(self) -> Path:
        return NOTEBOOK_DIR / self.notebook

    def compute_function(self) -> Compute:
        module, _, name = self.compute.partition(":")
        return getattr(importlib.import_module(module), name)


CHAPTERS: tuple[Chapter, ...] = (
    Chapter("summary", "00-management-summary.ipynb", "helpers.analysis.summary:compute",
            ("data", "economics", "rfm", "clv", "churn", "actions")),
    Chapter("data", "01-datengrundlage.ipynb", "helpers.analysis.overview:compute"),
    Chapter("economics", "02-bestandskunden.ipynb", "helpers.analysis.economics:compute"),
    Chapter("rfm", "03-rfm-segmentierung.ipynb", "helpers.analysis.rfm:compute"),
    Chapter("clv", "04-kaufprognose-kundenwert.ipynb", "helpers.analysis.clv:compute"),
    Chapter("churn", "05-abwanderung.ipynb", "helpers.analysis.churn:compute", ("clv",)),
    Chapter("actions", "06-massnahmenplan.ipynb", "helpers.analysis.actions:compute",
            ("rfm", "clv", "churn")),
    Chapter("appendix", "07-anhang.ipynb", "helpers.analysis.appendix:compute", ("actions",)),
)
"""All chapters in report order (the order of the PDF and of notebook execution)."""

REPORT_ORDER: tuple[str, ...] = tuple(ch.slug for ch in CHAPTERS)


def by_slug(slug: str) -> Chapter:
    for ch in CHAPTERS:
        if ch.slug == slug:
            return ch
    raise KeyError(slug)


def dependency_order(slugs: Iterable[str] | None = None) -> list[str]:
    """``slugs`` (default: all) plus everything they depend on, dependencies first."""
    order: list[str] = []

    def visit(slug: str, path: tuple[str, ...]) -> None:
        if slug in order:
            return
        if slug in path:
            raise ValueError(f"chapter dependency cycle: {' -> '.join(path + (slug,))}")
        for dep in by_slug(slug).depends:
            visit(dep, path + (slug,))
        order.append(slug)

    for s in ([ch.slug for ch in CHAPTERS] if slugs is None else slugs):
        visit(s, ())
    return order


def compute_chapter(slug: str, ds: "Dataset", cfg: "ReportConfig",
                    results: Mapping[str, Any]) -> "ChapterResult":
    """Run one chapter's compute function; its dependencies must be in ``results``."""
    ch = by_slug(slug)
    upstream = {d: results[d] for d in ch.depends}
    return ch.compute_function()(ds, cfg, upstream)


def compute_all(ds: "Dataset", cfg: "ReportConfig", slugs: Iterable[str] | None = None,
                known: Mapping[str, Any] | None = None,
                on_result: Callable[[str, Any], None] | None = None,
                elsewhere: Mapping[str, Callable[[], Any]] | None = None) -> dict[str, "ChapterResult"]:
    """Results of ``slugs`` (default: all chapters) and their dependencies, each computed once, in
    :func:`dependency_order`.

    ``known`` results are reused instead of being computed again. ``on_result(slug, result)`` is
    called as soon as a chapter is computed here (the report stores it and lets its notebook start).
    ``elsewhere`` maps slugs computed in another process to a function that waits for and returns
    that result (or ``None`` if it failed: then it is computed here); it is called only when a later
    chapter needs the result, or at the end.
    """
    results: dict[str, Any] = dict(known or {})
    pending = {s: f for s, f in (elsewhere or {}).items() if s not in results}

    def here(slug: str) -> None:
        results[slug] = compute_chapter(slug, ds, cfg, results)
        if on_result is not None:
            on_result(slug, results[slug])

    def settle(slug: str) -> None:  # wait for a result from elsewhere; compute it here if that failed
        res = pending.pop(slug)()
        if res is None:
            here(slug)
        else:
            results[slug] = res

    order = dependency_order(slugs)
    for slug in order:
        for dep in by_slug(slug).depends:
            if dep in pending:
                settle(dep)
        if slug not in results and slug not in pending:
            here(slug)
    for slug in order:
        if slug in pending:
            settle(slug)
    return results
