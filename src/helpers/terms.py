"""The report's term list: one German term for one thing, and the variants a reader must never see.

Decided by the project lead (term and gendering policy); this module only records it so that code,
notebooks and tests share one list:

- :data:`TERMS` – preferred term, its meaning and the forbidden variants (regular expressions);
- :func:`find_forbidden` – every forbidden variant in a text (``tests/test_terms.py`` scans the
  narratives, the label catalogue, the notebooks' Markdown and the generated report text with it);
- :data:`GENDER_FORBIDDEN` – gender forms the policy rules out (star, colon, capital I, "bzw." pair).

Gendering (see :func:`helpers.labels.audience_terms` for the words per audience): running text says
"Kundinnen und Kunden" (singular "eine Kundin oder ein Kunde"); for Firmenkunden (audience ``b2b``)
"Firmenkunden", "Firma"/"Firmen" instead of "Person"/"Personen" and "Auftrag" instead of "Bon".
Nouns inside compounds and fixed names stay as they are ("Kundenwert", "Kundennummer", segment
names like „Treue Kunden“ and „Neukunden“); tables may use "Kunden" as a short column header.

Currency: generated text never writes "Euro" or "€" literally; money goes through
:func:`helpers.fmt.money` and the currency's name through :func:`helpers.fmt.currency_name`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

__all__ = ["Term", "TERMS", "GENDER_FORBIDDEN", "CURRENCY_LITERALS", "Hit", "find_forbidden", "term"]


@dataclass(frozen=True)
class Term:
    """One preferred German term with its meaning and the variants that must not appear."""

    preferred: str
    """The term the report uses (exact spelling)."""
    meaning: str
    """What it means (German, one sentence; the glossary may use it)."""
    forbidden: tuple[str, ...] = ()
    """Regular expressions of variants that must not appear (case-sensitive)."""
    scope: tuple[str, ...] = ()
    """Chapter slugs whose text the variants are checked in; empty = everywhere."""
    note: str = ""
    """Where the preferred term is allowed or what to write instead (for developers)."""

    def patterns(self) -> tuple[re.Pattern, ...]:
        return tuple(re.compile(p) for p in self.forbidden)


_B = r"(?<![\w-])"
"""Word start (a hyphen before it is part of a compound)."""

TERMS: tuple[Term, ...] = (
    Term("Wiederkaufrate",
         "Anteil der Kundinnen und Kunden mit mindestens zwei Kauftagen im Beobachtungszeitraum.",
         (_B + r"Wiederkaufquoten?\b", _B + r"Wiederholungskaufrate\b", _B + r"Wiederkaufsrate\b"),
         note="Der Anteil eines Jahres, der im Folgejahr wieder kauft, heißt „Bindungsquote“."),
    Term("Bindungsquote",
         "Anteil der Kundinnen und Kunden eines Zwölfmonatszeitraums, die im folgenden Zwölfmonatszeitraum wieder "
         "kaufen.",
         (_B + r"Retentionsquote\b", _B + r"Retention[- ]Rate\b", _B + r"Halterate\b")),
    Term("Einmalkäufer",
         "Kundin oder Kunde mit genau einem Kauftag im Beobachtungszeitraum.",
         (_B + r"Erstkäufer(?:in|innen|n)?\b", _B + r"Einmalkunden?\b"),
         note="„Erstkauf“ (der erste Kauf) ist erlaubt; „Neukunden“ nur für Kundinnen und Kunden mit dem "
              "ersten Kauf im besprochenen Zeitraum und als RFM-Segmentname."),
    Term("Wiederholungskäufer",
         "Kundin oder Kunde mit mindestens zwei Kauftagen im Beobachtungszeitraum.",
         (_B + r"Wiederkäufer(?:in|innen|n)?\b", _B + r"Mehrfachkäufer(?:in|innen|n)?\b",
          _B + r"Stammkäufer(?:in|innen|n)?\b")),
    Term("ROC AUC",
         "Fläche unter der ROC-Kurve: Wahrscheinlichkeit, dass eine abwandernde Person ein höheres Risiko erhält "
         "als eine wiederkaufende (0,5 = Zufall, 1 = perfekt).",
         (r"\bROC-AUC\b", r"\bAUC-ROC\b", r"\bAUROC\b", r"\bROC AUC-Wert", r"\bAUC ROC\b"),
         note="„ROC-Kurve“ (die Kurve) ist erlaubt."),
    Term("PR AUC",
         "Fläche unter der Precision-Recall-Kurve; der Zufall entspricht der Abwanderungsquote.",
         (r"\bPR-AUC\b", r"\bAUC-PR\b", r"\bAUPRC\b")),
    Term("Recency (Tage seit dem letzten Kauf)",
         "RFM: Tage vom letzten Kauf bis zum Beobachtungsende.",
         (r"(?<![\w\-„])Recency\b(?![ \u00a0]?\((?:R\)|Tage seit))(?!-Score)(?! der RFM)",),
         scope=("clv",),
         note="Im Kapitel Kaufprognose heißt die Modellgröße „Kaufspanne“; „Recency“ nur mit der Erklärung "
              "„(Tage seit dem letzten Kauf)“."),
    Term("Kaufspanne (Wochen vom ersten bis zum letzten Kauf)",
         "Größe der Kaufmodelle BG/NBD, MBG/NBD und Pareto/NBD: Zeit vom ersten bis zum letzten Kauf in Wochen "
         "(in der englischen Literatur „recency“).",
         (r"\bKaufdauer\b",)),
    Term("Deckungsbeitrag",
         "Nettoumsatz mal Marge, ein Betrag in der Währung des Berichts.",
         (r"(?<![\w-])Marge\b[^.%\n]{0,25}(?:€|\bEuro\b)", r"\bMargenbetrag\b", r"\bRohertrag\b"),
         note="„Marge“ nur für den Anteil (Einstellung gross_margin), nie für den Betrag."),
    Term("Nettoumsatz",
         "Umsatz ohne Mehrwertsteuer, abzüglich aller Retouren und Stornos.",
         (r"\bNetto-Umsatz\b", r"\bNettoerlös(?:e)?\b")),
    Term("gefährdeter Deckungsbeitrag",
         "Summe aus Abwanderungsrisiko × Wert bei Verbleib über alle Kundinnen und Kunden.",
         (r"\b[Ee]rwarteter Verlust\b", r"\bValue at Risk\b", r"\b[Gg]efährdeter Wert\b",
          r"\b[Gg]efährdeter Umsatz\b", r"\bKundenwert in Gefahr\b", r"\bWert in Gefahr\b")),
    Term("Wert bei Verbleib",
         "Deckungsbeitrag, den eine Kundin oder ein Kunde im Prognosezeitraum brächte, wenn sie oder er aktiv "
         "bleibt (Kundenwert geteilt durch P(aktiv) oder ersatzweise der bisherige jährliche Deckungsbeitrag).",
         (r"\bWerte? bei Bindung\b", r"\bKundenwerts? bei Verbleib\b")),
    Term("Kundenwert (CLV)",
         "Erwarteter, abgezinster Deckungsbeitrag einer Kundin oder eines Kunden im Prognosezeitraum.",
         (r"\bKundenlebenszeitwert\b", r"\bLebenszeitwert\b", r"\bCustomer-Lifetime-Value\b",
          r"\bKundenlebenswert\b")),
)
"""The term list (preferred term, meaning, forbidden variants)."""

GENDER_FORBIDDEN: tuple[str, ...] = (
    r"\bKund(?:\*|:|_|/)innen\b", r"\bKundInnen\b", r"\bKund\*in\b", r"\bKund:in\b",
    r"\bKäufer(?:\*|:|_)innen\b", r"\bKäuferInnen\b",
    r"\bKunden und Kundinnen\b", r"\bKundin bzw\.", r"\bKundinnen bzw\.", r"\bKunden bzw\. Kundinnen\b",
)
"""Gender forms ruled out by the policy (star, colon, underscore, capital I, reversed or "bzw." pairs)."""

CURRENCY_LITERALS: tuple[str, ...] = (r"€", r"\bEuro\b")
"""Literal currency words that generated text must not contain (use ``helpers.fmt``)."""


def term(preferred: str) -> Term:
    """The :class:`Term` with this preferred spelling (``KeyError`` when unknown)."""
    for t in TERMS:
        if t.preferred == preferred:
            return t
    raise KeyError(preferred)


@dataclass(frozen=True)
class Hit:
    """One forbidden variant found in a text."""

    preferred: str
    """The term to use instead (or ``"Gendern"`` for a ruled-out gender form)."""
    found: str
    """The offending text."""
    position: int

    def __str__(self) -> str:
        return f"„{self.found}“ statt „{self.preferred}“"


def find_forbidden(text: str, chapter: str | None = None, *, gender: bool = True) -> list[Hit]:
    """Every forbidden variant of :data:`TERMS` (and, with ``gender``, of :data:`GENDER_FORBIDDEN`) in
    ``text``. ``chapter``: slug of the chapter the text belongs to; terms with a ``scope`` are only
    checked inside their chapters (``None`` = the chapter is unknown: scoped terms are skipped)."""
    hits: list[Hit] = []
    for t in TERMS:
        if t.scope and chapter not in t.scope:
            continue
        for rx in t.patterns():
            hits += [Hit(t.preferred, m.group(0), m.start()) for m in rx.finditer(text)]
    if gender:
        for p in GENDER_FORBIDDEN:
            hits += [Hit("Gendern: „Kundinnen und Kunden“", m.group(0), m.start()) for m in re.finditer(p, text)]
    return sorted(hits, key=lambda h: h.position)


def preferred_terms() -> Iterable[str]:
    """The preferred spellings, in list order."""
    return (t.preferred for t in TERMS)
