"""German text and tables for the chapter "Datengrundlage" (from :class:`helpers.analysis.overview.DataResult`).

:func:`ledger_text` is the one sentence on the data ledger; the appendix uses it too.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from .. import fmt
from . import common
from ..analysis.overview import DataKeyFigures
from ..report.display import md_escape
from ..validation import date_table as _date_table
from ..validation import flags_table as _flags_table
from ..validation import ledger_table as _ledger_table
from ..validation import outlier_table as _outlier_table

CANONICAL_NAMES = {
    "customer_id": "Kundennummer",
    "order_date": "Datum",
    "revenue": "Umsatz",
    "order_id": "Bestellnummer",
    "category": "Warengruppe",
    "channel": "Verkaufskanal",
    "quantity": "Menge",
}
"""German name of each canonical column in the report."""


def _d(value: dt.date) -> str:
    return fmt.date(value)


def summary_text(k: DataKeyFigures, audience: str | None = None) -> str:
    """Which file, which period, how many lines, customers, purchases and how much revenue."""
    text = (
        f"Grundlage dieses Berichts ist die Datei „{md_escape(k.source_name)}“. Sie enthält nach der Prüfung "
        f"{fmt.integer(k.lines)} Zeilen von {common.people(k.customers, audience, case='dat')} mit mindestens "
        f"einem Kauf aus der Zeit vom {_d(k.period_start)} bis zum {_d(k.period_end)}. Daraus ergeben sich "
        f"{fmt.integer(k.purchases)} Käufe (alle Bestellungen einer Kundennummer an einem Tag zählen als "
        "ein Kauf)"
    )
    if k.revenue is not None:
        text += f" mit einem Nettoumsatz von insgesamt {fmt.eur(k.revenue)}."
    else:
        text += "; die Datei enthält keine Umsätze."
    only_returns = k.customers_in_file - k.customers
    if only_returns == 1:
        text += " Eine weitere Kundennummer hat nur Retouren und zählt nicht als Kundin oder Kunde mit Kauf."
    elif only_returns > 1:
        text += (f" Weitere {fmt.integer(only_returns)} Kundennummern haben nur Retouren und zählen nicht als "
                 "Kundinnen und Kunden mit Kauf.")
    if k.observation_end != k.period_end:
        text += f" Als Ende des Beobachtungszeitraums gilt der {_d(k.observation_end)}."
    else:
        text += f" Der Beobachtungszeitraum endet mit dem letzten Bestelltag, dem {_d(k.observation_end)}."
    return text


def overview_table(k: DataKeyFigures) -> pd.DataFrame:
    """The size of the data as a German two-column table (``Kennzahl``, ``Wert``)."""
    rows = [
        ("Datei", k.source_name),
        ("Erster Bestelltag", _d(k.period_start)),
        ("Letzter Bestelltag", _d(k.period_end)),
        ("Ende des Beobachtungszeitraums", _d(k.observation_end)),
        ("Zeilen", fmt.integer(k.lines)),
        ("Kunden (mit mindestens einem Kauf)", fmt.integer(k.customers)),
        ("Käufe (Kunden-Tage)", fmt.integer(k.purchases)),
    ]
    rows.append(("Währung", currency_label(k.currency)))
    if k.revenue is not None:
        rows.append(("Nettoumsatz", fmt.eur(k.revenue)))
    rows.append(("Kunden mit Kauf in den letzten 12 Monaten", fmt.integer(k.active_customers_12m)))
    if k.revenue_12m is not None:
        rows.append(("Nettoumsatz der letzten 12 Monate", fmt.eur(k.revenue_12m)))
    return pd.DataFrame(rows, columns=["Kennzahl", "Wert"])


def _count(n: int, one: str, many: str) -> str:
    return f"eine {one}" if n == 1 else f"{fmt.integer(n)} {many}"


def ledger_text(ledger, outlier_table_label: str | None = "tbl-data-outliers",
                date_table_label: str | None = "tbl-data-dates") -> str:
    """German sentences on the ledger: rows read = rows kept + rows dropped, lines that are not
    purchases, implausible dates, outliers, customers with net revenue <= 0, and every customer of
    the file (with a purchase, or without a remaining purchase and why). The one ledger text of the
    report (chapter "Datengrundlage" and the appendix).

    ``outlier_table_label`` / ``date_table_label``: tables listing the largest outliers / the
    dropped implausible dates to refer to (``None``: no reference).
    """
    if ledger is None:
        return ("Für diesen Datenbestand liegt kein Prüfprotokoll vor (die Daten wurden nicht aus einer "
                "Kundendatei eingelesen).")
    read, kept, dropped = ledger.rows_read, ledger.rows_kept, ledger.rows_dropped
    if dropped == 0:
        text = (f"Aus der Datei wurden {fmt.integer(read)} Zeilen gelesen; alle wurden behalten. "
                "Jede Zeile ist im Prüfprotokoll nachgewiesen.")
    else:
        share = dropped / read if read else float("nan")
        text = (
            f"Aus der Datei wurden {fmt.integer(read)} Zeilen gelesen. Behalten wurden {fmt.integer(kept)}, "
            f"verworfen {fmt.integer(dropped)} ({fmt.pct(share, 1)}). Gelesene Zeilen = behaltene + verworfene "
            "Zeilen; jede verworfene Zeile ist genau einem Grund zugeordnet (dem ersten Prüfschritt, an dem sie "
            "scheitert)."
        )
    d = ledger.dropped
    structural = [part for key, one, many in (
        ("header_row", "wiederholte Kopfzeile", "wiederholte Kopfzeilen"),
        ("total_row", "Summen- oder Zwischensummenzeile", "Summen- oder Zwischensummenzeilen"),
        ("empty_row", "leere Zeile", "leere Zeilen"),
    ) if (part := (_count(d[key], one, many) if d.get(key) else ""))]
    if structural:
        listed = structural[0] if len(structural) == 1 else ", ".join(structural[:-1]) + " und " + structural[-1]
        text += f" Keine Käufe und deshalb verworfen: {listed}."
    future, implausible = d.get("after_run_date", 0), d.get("implausible_date", 0)
    if future or implausible:
        examples = [x for x in ledger.dates if x.get("reason") in ("after_run_date", "implausible_date")]
        shown = examples[:2] + examples[-2:] if len(examples) > 4 else examples
        parts = []
        if implausible:
            parts.append(f"{_count(implausible, 'Zeile', 'Zeilen')} mit einem Datum weit außerhalb des übrigen "
                         "Zeitraums")
        if future:
            run = f" ({_d(pd.Timestamp(ledger.run_date))})" if ledger.run_date else ""
            parts.append(f"{_count(future, 'Zeile', 'Zeilen')} mit einem Datum nach dem Auswertungstag{run}")
        text += (" Verworfen wurden darunter " + " und ".join(parts)
                 + (", z. B. " + ", ".join(_d(pd.Timestamp(x["order_date"])) for x in shown) if shown else "")
                 + "; solche Angaben sind Tippfehler oder Platzhalter, keine Käufe"
                 + (f" (@{date_table_label})" if date_table_label and shown else "")
                 + ". Das Ende des Beobachtungszeitraums liegt deshalb nicht nach dem Auswertungstag.")
    flagged = ledger.flags.get("outliers", 0)
    if flagged and ledger.outlier_threshold is not None:
        text += (
            f" {fmt.integer(flagged)} Zeilen mit mehr als {fmt.eur(ledger.outlier_threshold, 2)} fallen als "
            "ungewöhnlich hoch auf; sie bleiben in der Auswertung"
            + (f", @{outlier_table_label} listet die größten." if outlier_table_label else ".")
        )
    neg = ledger.flags.get("nonpositive_customers", 0)
    if neg:
        text += (
            f" Bei {common.people(neg, case='dat')} "
            "ist der Nettoumsatz nach Verrechnung der Retouren null oder negativ."
        )
    return text + customers_ledger_text(ledger)


def customers_ledger_text(ledger) -> str:
    """Where every customer of the file went (with a leading space; empty without customer counts):
    customers in the file = customers with a purchase + customers without a remaining purchase."""
    with_purchase = getattr(ledger, "customers_with_purchase", None)
    if ledger is None or with_purchase is None:
        return ""
    read = ledger.customers_read
    all_dropped, no_purchase = ledger.customers_all_dropped, ledger.customers_no_purchase
    if read == with_purchase:
        if read == 1:
            return " Die eine Kundennummer der Datei hat mindestens einen Kauf."
        return f" Alle {fmt.integer(read)} Kundennummern der Datei haben mindestens einen Kauf und werden ausgewertet."
    parts = []
    if all_dropped:
        parts.append(f"{fmt.integer(all_dropped)}, weil alle ihre Zeilen verworfen wurden")
    if no_purchase:
        parts.append(f"{fmt.integer(no_purchase)}, weil ihnen nur Retouren oder Tage mit einem Nettoumsatz "
                     "von höchstens 0 bleiben")
    return (f" Die Datei enthält {fmt.integer(read)} Kundennummern. Ausgewertet werden die "
            f"{fmt.integer(with_purchase)} mit mindestens einem Kauf; ohne verbleibenden Kauf sind "
            + " und ".join(parts) + ".")


def ledger_table(ledger) -> pd.DataFrame:
    """Rows read, dropped per reason and kept, with the customers affected (``Prüfschritt``,
    ``Zeilen``, ``Kundinnen und Kunden``), then the customers without a remaining purchase and those
    with at least one purchase (the report's customer count); empty without ledger."""
    if ledger is None:
        return pd.DataFrame(columns=["Prüfschritt", "Zeilen", "Kunden"])
    return _ledger_table(ledger, customers=True)


def date_table(ledger, n: int = 10) -> pd.DataFrame:
    """Lines dropped for an implausible date, the earliest and latest (``n`` in all; ``Zeile``,
    ``Datum``, ``Grund``); empty without ledger."""
    if ledger is None:
        return pd.DataFrame(columns=["Zeile", "Datum", "Grund"])
    t = _date_table(ledger)
    t = t[[x.get("reason") in ("after_run_date", "implausible_date") for x in ledger.dates]] if len(t) else t
    return t if len(t) <= n else pd.concat([t.head(n // 2), t.tail(n - n // 2)])


def sources_text(sources, notes=()) -> str:
    """Which column of the client file each canonical column was read from, and how the file was
    read: "Umsatz aus Spalte „Nettoumsatz (€)“"."""
    if not sources:
        return "Die Daten wurden nicht aus einer Kundendatei eingelesen; eine Spaltenzuordnung gibt es nicht."
    parts = [f"{CANONICAL_NAMES.get(c, c)} aus Spalte „{md_escape(str(src))}“" for c, src in sources.items()]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " und " + parts[-1]
    text = f"Verwendet wurden: {listed}. Alle übrigen Spalten der Datei wurden nicht übernommen."
    if notes:
        text += " " + " ".join(md_escape(str(n)) for n in notes)
    return text


def currency_label(code: str) -> str:
    """``"USD"`` -> ``"US-Dollar (USD, $)"``, ``"CHF"`` -> ``"Schweizer Franken (CHF)"``."""
    symbol = fmt.currency_symbol(code)
    return f"{fmt.currency_name(code)} ({code}" + (f", {symbol})" if symbol != code else ")")


def currency_text(currency: str, source=None, has_revenue: bool = True) -> str:
    """Which currency every amount of the report is in, and where it came from (the data chapter):
    the revenue column's header, the amounts themselves, a currency column, the setting ``currency``,
    or assumed (no evidence: „Keine Währung erkennbar; angenommen: Euro“).

    ``source``: :attr:`helpers.analysis.overview.DataResult.currency_source` (``ds.currency_source``).
    """
    source = dict(source or {})
    kind = source.get("source")
    name = md_escape(currency_label(currency))
    evidence = md_escape(source.get("evidence", "")) if source.get("evidence") else ""
    fix = "Einstellung „currency“ mit dem ISO-Code, z. B. USD"
    if not has_revenue:
        how = ("so festgelegt in den Einstellungen" if kind == "setting"
               else f"Standard; eine andere Währung legt die {fix}, fest")
        return (f"Die Datei enthält keine Umsätze. Geldbeträge des Berichts (etwa Budget und Kontaktkosten) "
                f"sind in {name} angegeben ({how}).")
    if kind == "assumed":
        return (f"Keine Währung erkennbar; angenommen: {md_escape(fmt.currency_name(currency))}. Weder der "
                "Spaltenkopf der Umsatzspalte noch die Beträge selbst nennen eine Währung. Ist es eine andere, "
                f"bitte die Währung festlegen ({fix}); umgerechnet wird nie.")
    if kind == "setting":
        text = (f"Alle Beträge dieses Berichts sind in {name} angegeben, so festgelegt in den Einstellungen "
                f"(currency={md_escape(currency)}).")
        hint = source.get("file_hint")
        if hint:
            text += (f" Die Datei selbst deutet auf {md_escape(currency_label(hint))} hin ({evidence}); "
                     "maßgeblich ist die Einstellung. Umgerechnet wird nicht: Die Beträge werden so ausgewertet, "
                     "wie sie in der Datei stehen.")
        elif source.get("agrees") and evidence:
            text += f" Die Datei nennt dieselbe Währung ({evidence})."
        return text
    if kind in ("header", "values", "column"):
        text = f"Alle Beträge dieses Berichts sind in {name} angegeben; erkannt an: {evidence}."
        if source.get("dollar_sign"):
            text += (" Ein Dollarzeichen ohne Landeskennung wird als US-Dollar gelesen; ist eine andere "
                     "Dollar-Währung gemeint, bitte die Währung festlegen (Einstellung „currency“, z. B. CAD).")
        return text
    return f"Alle Beträge dieses Berichts sind in {name} angegeben."


def flags_table(ledger) -> pd.DataFrame:
    """Counted flags, nothing dropped (``Hinweis``, ``Anzahl``); empty without ledger."""
    if ledger is None:
        return pd.DataFrame(columns=["Hinweis", "Anzahl"])
    return _flags_table(ledger)


def outlier_table(ledger, n: int = 10) -> pd.DataFrame:
    """The ``n`` listed outlier lines (``Zeile``, ``Kunde``, ``Datum``, ``Umsatz``); empty without ledger."""
    if ledger is None:
        return pd.DataFrame(columns=["Zeile", "Kunde", "Datum", "Umsatz"])
    return _outlier_table(ledger).head(n)


_MISSING = {
    "revenue": "Die Datei enthält keine Umsätze. Auswertungen zu Umsatz, Warenkorbwert und Kundenwert (CLV) "
               "entfallen; Kaufhäufigkeit und Zeitpunkt des letzten Kaufs lassen sich trotzdem auswerten.",
    "order_id": "Die Datei enthält keine Bestellnummern. Mehrere Zeilen desselben Tages werden als ein Kauf "
                "gezählt; Stornos lassen sich nur am negativen Betrag erkennen.",
    "category": "Die Datei enthält keine Produktkategorien; die Auswertungen nach Warengruppe und die "
                "Empfehlungen für Zusatzkäufe entfallen.",
    "channel": "Die Datei enthält keine Angabe zum Verkaufskanal; Auswertungen nach Kanal entfallen.",
    "quantity": "",
}
_PRESENT = {
    "revenue": "Nettoumsätze",
    "order_id": "Bestellnummern",
    "category": "Warengruppen",
    "channel": "Verkaufskanäle",
    "quantity": "Mengen",
}


def columns_text(available: dict[str, bool]) -> str:
    """German sentences on which optional columns exist and what missing ones mean."""
    present = [_PRESENT[c] for c, ok in available.items() if ok]
    parts = []
    if present:
        listed = present[0] if len(present) == 1 else ", ".join(present[:-1]) + " und " + present[-1]
        parts.append(f"Neben Kundennummer und Datum enthält die Datei {listed}.")
    else:
        parts.append("Die Datei enthält nur Kundennummer und Datum.")
    for c, ok in available.items():
        if ok or not _MISSING[c]:
            continue
        if c == "order_id" and not available.get("revenue", False):
            parts.append("Die Datei enthält keine Bestellnummern; alle Zeilen einer Kundennummer an einem Tag "
                         "zählen als ein Kauf.")
        else:
            parts.append(_MISSING[c])
    return " ".join(parts)


def monthly_text() -> str:
    """The sentence under the monthly chart."""
    return ("@fig-data-monthly zeigt den Verlauf über den Beobachtungszeitraum. Der erste und der letzte "
            "Monat können unvollständig sein, wenn die Daten nicht am Monatsanfang beginnen oder am Monatsende "
            "enden.")
