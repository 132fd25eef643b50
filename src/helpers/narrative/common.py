"""Shared guards of the generated German text: the rules every narrative uses, in one place.

A generated statement is only made when its inputs support it. The mechanism, not each sentence:

- :func:`people` – counts of customers with number agreement and the audience's words
  („eine Kundin oder ein Kunde“, „2 Kundinnen und Kunden“, „1 Firmenkunde“ → „ein Firmenkunde“);
- :func:`share_phrase` – a share that never rounds to a false „0 %“ or „100 %“ („weniger als 1 %“);
- :func:`group_ok` / :data:`MIN_GROUP_SIZE` – no share, average or comparison about a group with fewer
  customers than the setting ``economics.min_group_size`` (one setting for all chapters);
- :func:`money_phrase` – „nicht berechenbar“ instead of „0 €“ when an input is missing;
- :func:`count_phrase`, :func:`verb` – singular/plural of other nouns and verbs;
- :func:`capital` – a sentence never starts lowercase („74 kundinnen“ cannot happen).

Words for the audience come from :func:`helpers.labels.audience_terms` (the one place that chooses
them); currency words from :mod:`helpers.fmt` (never a literal „€“ or „Euro“).
"""

from __future__ import annotations

import math
from typing import Any, Iterable

from .. import fmt
from ..config import EconomicsSettings
from ..labels import AudienceTerms, audience_terms
from ..report.display import md_escape

__all__ = [
    "MIN_GROUP_SIZE", "NOT_COMPUTABLE", "ok", "share_phrase", "count_phrase", "people", "people_word", "pronoun",
    "verb", "capital", "join_and", "quote", "group_ok", "money_phrase", "terms", "currency_word",
]

MIN_GROUP_SIZE: int = EconomicsSettings.min_group_size
"""Default minimum number of customers behind a statement about a group (the setting
``economics.min_group_size``; narratives take the configured value as ``min_group``)."""

NOT_COMPUTABLE = "nicht berechenbar"
"""What a missing money figure is called (never „0 €“)."""


def ok(value: Any) -> bool:
    """A usable number (not ``None``, NaN or infinite; bools are not numbers)."""
    if value is None or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def terms(audience: str | AudienceTerms | None = None) -> AudienceTerms:
    """:func:`helpers.labels.audience_terms` (an :class:`AudienceTerms` is passed through)."""
    return audience if isinstance(audience, AudienceTerms) else audience_terms(audience)


def share_phrase(value: float | None, decimals: int = 0) -> str:
    """A share as German percent that never rounds to a false statement.

    ``0.004`` -> ``"weniger als 1 %"`` (not "0 %"), ``0.998`` -> ``"mehr als 99 %"`` (not "100 %");
    exact 0 and 1 stay "0 %" and "100 %"; a missing value is "–".
    """
    if not ok(value):
        return fmt.MISSING
    value = float(value)
    step = 10.0 ** -decimals
    rounded = round(value * 100, decimals)
    if value > 0 and rounded == 0:
        return f"weniger als {fmt.number(step, decimals)}\u00a0%"
    if value < 1 and rounded >= 100:
        return f"mehr als {fmt.number(100 - step, decimals)}\u00a0%"
    return fmt.pct(value, decimals)


def count_phrase(n: int, singular: str, plural: str) -> str:
    """``1`` -> ``"1 Kauf"``, ``3`` -> ``"3 Käufe"`` (number agreement of any noun)."""
    return f"{fmt.integer(n)} {singular if int(n) == 1 else plural}"


def verb(n: int, singular: str, plural: str) -> str:
    """``verb(1, "hat", "haben")`` -> ``"hat"``."""
    return singular if int(n) == 1 else plural


_NONE = {"nom": "keine", "acc": "keine", "dat": "keinen", "gen": "keiner"}


def people(n: int, audience: str | AudienceTerms | None = None, case: str = "nom") -> str:
    """``n`` customers in running text, in grammatical ``case`` (``nom``, ``acc``, ``dat``, ``gen``).

    b2c: 1 -> "eine Kundin oder ein Kunde" (acc "eine Kundin oder einen Kunden", dat "einer Kundin oder
    einem Kunden"), 0 -> "keine Kundinnen und Kunden", else "1.234 Kundinnen und Kunden";
    b2b: "ein Firmenkunde", "keine Firmenkunden", "1.234 Firmenkunden".
    """
    t = terms(audience)
    n = int(n)
    if n == 1:
        return {"nom": t.one, "acc": t.one_acc, "dat": t.one_dat, "gen": t.one_gen}[case]
    if n == 0:
        return f"{_NONE[case]} {t.people}"
    return f"{fmt.integer(n)} {t.people}"


def pronoun(n: int, audience: str | AudienceTerms | None = None) -> str:
    """The subject pronoun for :func:`people`: plural "sie", one b2c customer "sie oder er", one
    Firmenkunde "er"."""
    if int(n) != 1:
        return "sie"
    return "er" if terms(audience).audience == "b2b" else "sie oder er"


def people_word(audience: str | AudienceTerms | None = None) -> str:
    """The plural without a number: "Kundinnen und Kunden" / "Firmenkunden"."""
    return terms(audience).people


def capital(text: str) -> str:
    """First letter uppercase (a generated sentence never starts lowercase)."""
    return text[:1].upper() + text[1:]


def join_and(items: Iterable[str]) -> str:
    """``["a", "b", "c"]`` -> ``"a, b und c"`` (empty items dropped)."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " und " + items[-1]


def quote(name: str) -> str:
    """A client-provided name in German quotes, Markdown-safe."""
    return f"„{md_escape(str(name))}“"


def group_ok(n: int | None, min_group: int = MIN_GROUP_SIZE) -> bool:
    """A group of ``n`` customers is large enough for a share, average or comparison."""
    return n is not None and int(n) >= int(min_group)


def money_phrase(value: float | None, decimals: int = 0) -> str:
    """Money in the report's currency, or „nicht berechenbar“ when the input is missing."""
    return fmt.money(value, decimals) if ok(value) else NOT_COMPUTABLE


def currency_word() -> str:
    """German name of the report's currency ("Euro", "US-Dollar")."""
    return fmt.currency_name()
