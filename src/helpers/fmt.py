"""German number, money, percent and date formats (babel, locale ``de_DE``).

All report text and tables go through these functions, so a client sees
``1.234,56 €``, ``63 %`` and ``27.11.2026`` everywhere.
"""

from __future__ import annotations

import datetime as dt
import math

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent

LOCALE = "de_DE"
MISSING = "–"


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value: float | int | None, decimals: int = 0) -> str:
    """``1234.5`` -> ``"1.234,5"`` with a fixed number of decimals."""
    if _missing(value):
        return MISSING
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return format_decimal(value, format=pattern, locale=LOCALE)


def integer(value: float | int | None) -> str:
    """``4213`` -> ``"4.213"``."""
    return number(value, 0)


def eur(value: float | int | None, decimals: int = 0, currency: str = "EUR") -> str:
    """``1234.56`` -> ``"1.235 €"`` (decimals=0) or ``"1.234,56 €"`` (decimals=2)."""
    if _missing(value):
        return MISSING
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "") + "\u00a0¤"
    return format_currency(value, currency, format=pattern, locale=LOCALE, currency_digits=False)


def pct(share: float | None, decimals: int = 0) -> str:
    """Share ``0.634`` -> ``"63 %"`` (decimals=0) or ``"63,4 %"``."""
    if _missing(share):
        return MISSING
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "") + "\u00a0%"
    return format_percent(share, format=pattern, locale=LOCALE)


def pp(points: float | None, decimals: int = 1) -> str:
    """Percentage points ``5`` -> ``"5,0 Prozentpunkte"``."""
    if _missing(points):
        return MISSING
    return f"{number(points, decimals)}\u00a0Prozentpunkte"


def factor(value: float | None, decimals: int = 1) -> str:
    """``6.54`` -> ``"6,5-fach"``."""
    if _missing(value):
        return MISSING
    return f"{number(value, decimals)}-fach"


def date(value: dt.date | dt.datetime | None) -> str:
    """``2026-11-27`` -> ``"27.11.2026"``."""
    if value is None or (hasattr(value, "year") is False):
        return MISSING
    try:
        import pandas as pd

        if pd.isna(value):
            return MISSING
    except (TypeError, ValueError):
        pass
    if isinstance(value, dt.datetime):
        value = value.date()
    return format_date(value, format="dd.MM.yyyy", locale=LOCALE)


def month(value: dt.date | dt.datetime) -> str:
    """``2026-11-01`` -> ``"Nov. 2026"``."""
    if isinstance(value, dt.datetime):
        value = value.date()
    return format_date(value, format="MMM yyyy", locale=LOCALE)
