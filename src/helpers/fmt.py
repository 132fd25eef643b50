"""German number, money, percent and date formats (babel, locale ``de_DE``).

All report text and tables go through these functions, so a client sees
``1.234,56 €``, ``63 %`` and ``27.11.2026`` everywhere.

Currency
--------
Money is formatted in **the report's currency** (an ISO 4217 code such as ``"EUR"``, ``"USD"``,
``"CHF"``), which is set once per run, not passed to every call:

- ``with fmt.use_currency("USD"): ...`` – a context manager (``contextvars``; safe for threads and
  nested use). The report pipeline wraps compute, export and every chapter in it.
- ``fmt.set_currency("USD")`` – the session-wide default (a notebook kernel; ``session.open`` calls
  it with ``ds.currency``). A ``use_currency`` block takes precedence over it.
- ``fmt.currency_code()`` → ``"USD"``; ``fmt.currency_symbol()`` → ``"$"``;
  ``fmt.currency_name()`` → ``"US-Dollar"``; ``fmt.money_label("Umsatz")`` → ``"Umsatz ($)"``
  (``unit="code"`` → ``"Umsatz (USD)"``, for CRM list headers).
- ``fmt.money(1234.56, 2)`` → ``"1.234,56 $"``; ``fmt.eur`` is the same function (kept as an alias
  so that existing calls follow the report's currency; an explicit ``currency="CHF"`` overrides).

Never write „Euro“ or „€“ literally in generated text, chart labels or list headers.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import math
from collections.abc import Iterator

from babel.dates import format_date
from babel.numbers import (
    format_currency,
    format_decimal,
    format_percent,
    get_currency_name,
    get_currency_symbol,
    is_currency,
)

LOCALE = "de_DE"
MISSING = "–"
DEFAULT_CURRENCY = "EUR"

_CURRENCY: contextvars.ContextVar[str | None] = contextvars.ContextVar("kundenwert_currency", default=None)
_session_currency: str = DEFAULT_CURRENCY


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def normalize_currency(code: str) -> str:
    """``" usd "`` -> ``"USD"``; raises ``ValueError`` for a code that is not ISO 4217."""
    text = str(code).strip().upper()
    if not is_currency(text, locale=LOCALE):
        raise ValueError(f"unknown currency code {code!r}")
    return text


def currency_code() -> str:
    """The ISO code of the current report currency (``use_currency`` block, else ``set_currency``)."""
    return _CURRENCY.get() or _session_currency


def set_currency(code: str | None) -> str:
    """Set the session-wide report currency (``None`` -> EUR); returns the previous one."""
    global _session_currency
    previous = _session_currency
    _session_currency = normalize_currency(code) if code else DEFAULT_CURRENCY
    return previous


@contextlib.contextmanager
def use_currency(code: str | None) -> Iterator[str]:
    """Format money in ``code`` inside the block (``None`` -> keep the current currency)."""
    token = _CURRENCY.set(normalize_currency(code) if code else currency_code())
    try:
        yield currency_code()
    finally:
        _CURRENCY.reset(token)


def currency_symbol(code: str | None = None) -> str:
    """``"EUR"`` -> ``"€"``, ``"USD"`` -> ``"$"``, ``"GBP"`` -> ``"£"``, ``"CHF"`` -> ``"CHF"``."""
    return get_currency_symbol(code or currency_code(), locale=LOCALE)


def currency_name(code: str | None = None, plural: bool = False) -> str:
    """German name: ``"Euro"``, ``"US-Dollar"``, ``"Britisches Pfund"``, ``"Schweizer Franken"``."""
    return get_currency_name(code or currency_code(), count=2 if plural else 1, locale=LOCALE)


def money_label(text: str, unit: str = "symbol", code: str | None = None) -> str:
    """``"Umsatz"`` -> ``"Umsatz (€)"`` (axis labels, table headers); ``unit="code"`` -> ``"Umsatz (EUR)"``."""
    shown = (code or currency_code()) if unit == "code" else currency_symbol(code)
    return f"{text} ({shown})"


def number(value: float | int | None, decimals: int = 0) -> str:
    """``1234.5`` -> ``"1.234,5"`` with a fixed number of decimals."""
    if _missing(value):
        return MISSING
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return format_decimal(value, format=pattern, locale=LOCALE)


def integer(value: float | int | None) -> str:
    """``4213`` -> ``"4.213"``."""
    return number(value, 0)


def money(value: float | int | None, decimals: int = 0, currency: str | None = None) -> str:
    """``1234.56`` -> ``"1.235 €"`` (decimals=0) or ``"1.234,56 €"`` (decimals=2), in the report's
    currency (``"1.234,56 $"``, ``"1.234,56 CHF"``); ``currency`` overrides it for this call."""
    if _missing(value):
        return MISSING
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "") + "\u00a0¤"
    return format_currency(value, currency or currency_code(), format=pattern, locale=LOCALE,
                           currency_digits=False)


eur = money
"""Alias of :func:`money` (historic name; follows the report's currency, not always EUR)."""


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
