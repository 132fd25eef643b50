"""The chapters of the course and the client report, in report order."""

from __future__ import annotations

from dataclasses import dataclass

from .config import NOTEBOOK_DIR


@dataclass(frozen=True)
class Chapter:
    slug: str
    """Short English identifier, also the prefix of figure/table labels."""
    notebook: str
    """File name in ``notebooks/``."""
    title: str
    """German chapter title as printed in the report."""

    @property
    def path(self):
        return NOTEBOOK_DIR / self.notebook


# Execution order = list order. The management summary is executed last (it reads the
# key figures of all chapters) but placed first in the report: see REPORT_ORDER.
CHAPTERS: tuple[Chapter, ...] = (
    Chapter("data", "01-datengrundlage.ipynb", "Datengrundlage"),
    Chapter("economics", "02-bestandskunden.ipynb", "Warum Bestandskunden zählen"),
    Chapter("rfm", "03-rfm-segmentierung.ipynb", "Kundensegmentierung nach RFM"),
    Chapter("clv", "04-kaufprognose-kundenwert.ipynb", "Kaufprognose und Kundenwert"),
    Chapter("churn", "05-abwanderung.ipynb", "Abwanderungsprognose"),
    Chapter("actions", "06-massnahmenplan.ipynb", "Maßnahmenplan"),
    Chapter("summary", "00-management-summary.ipynb", "Management Summary"),
    Chapter("appendix", "07-anhang.ipynb", "Anhang"),
)

REPORT_ORDER: tuple[str, ...] = ("summary", "data", "economics", "rfm", "clv", "churn", "actions", "appendix")


def by_slug(slug: str) -> Chapter:
    for ch in CHAPTERS:
        if ch.slug == slug:
            return ch
    raise KeyError(slug)
