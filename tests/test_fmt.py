"""German number, money, percent and date formats."""

import datetime as dt

import pandas as pd

from helpers import fmt


def test_numbers_money_percent_dates_are_german():
    assert fmt.integer(4213) == "4.213"
    assert fmt.number(1234.567, 2) == "1.234,57"
    assert fmt.eur(1234.56, 2) == "1.234,56\u00a0€"
    assert fmt.eur(1234.56) == "1.235\u00a0€"
    assert fmt.eur(-5.5, 2) == "-5,50\u00a0€"
    assert fmt.pct(0.634) == "63\u00a0%"
    assert fmt.pct(0.634, 1) == "63,4\u00a0%"
    assert fmt.factor(6.54) == "6,5-fach"
    assert fmt.date(dt.date(2026, 11, 27)) == "27.11.2026"
    assert fmt.date(pd.Timestamp("2026-01-05 13:00")) == "05.01.2026"


def test_missing_values_print_a_dash_not_nan():
    assert fmt.number(float("nan")) == fmt.MISSING
    assert fmt.eur(None) == fmt.MISSING
    assert fmt.pct(float("nan")) == fmt.MISSING
    assert fmt.date(pd.NaT) == fmt.MISSING


def test_money_in_other_currencies_uses_babel_de_de():
    """CLDR's German pattern: amount, no-break space, symbol – for every currency."""
    from helpers import fmt

    nbsp = "\u00a0"
    expected = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF", "JPY": "¥"}
    for code, symbol in expected.items():
        with fmt.use_currency(code):
            assert fmt.money(1234.56, 2) == f"1.234,56{nbsp}{symbol}"
            assert fmt.currency_symbol() == symbol
    assert fmt.currency_code() == "EUR"
