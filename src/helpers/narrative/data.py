"""German text for the chapter "Datengrundlage" (from :mod:`helpers.analysis.overview` and the ledger)."""

from __future__ import annotations

import pandas as pd

from .. import fmt
from ..analysis.overview import KeyFigures
from ..report.display import md_escape


def _d(iso: str) -> str:
    return fmt.date(pd.Timestamp(iso))


def summary_text(k: KeyFigures) -> str:
    """Which file, which period, how many lines, customers, purchases and how much revenue."""
    text = (
        f"Grundlage dieses Berichts ist die Datei „{md_escape(k.source_name)}“. Sie enthält nach der Prüfung "
        f"{fmt.integer(k.lines)} Zeilen von {fmt.integer(k.customers)} Kundinnen und Kunden aus der Zeit vom "
        f"{_d(k.period_start)} bis zum {_d(k.period_end)}. Daraus ergeben sich {fmt.integer(k.purchases)} Käufe "
        "(alle Bestellungen einer Person an einem Tag zählen als ein Kauf)"
    )
    if k.revenue is not None:
        text += f" mit einem Nettoumsatz von insgesamt {fmt.eur(k.revenue)}."
    else:
        text += "; die Datei enthält keine Umsätze."
    if k.observation_end != k.period_end:
        text += f" Als Ende des Beobachtungszeitraums gilt der {_d(k.observation_end)}."
    else:
        text += f" Der Beobachtungszeitraum endet mit dem letzten Bestelltag, dem {_d(k.observation_end)}."
    return text


def ledger_text(ledger) -> str:
    """One sentence: read = kept + dropped, with the share kept."""
    if ledger is None:
        return "Für diese Daten liegt kein Prüfprotokoll vor."
    share = ledger.rows_kept / ledger.rows_read if ledger.rows_read else float("nan")
    text = (
        f"Von {fmt.integer(ledger.rows_read)} gelesenen Zeilen wurden {fmt.integer(ledger.rows_kept)} "
        f"({fmt.pct(share, 1)}) übernommen und {fmt.integer(ledger.rows_dropped)} verworfen."
    )
    flagged = ledger.flags.get("outliers", 0)
    if flagged and ledger.outlier_threshold is not None:
        text += (
            f" {fmt.integer(flagged)} Zeilen mit mehr als {fmt.eur(ledger.outlier_threshold, 2)} fallen als "
            "ungewöhnlich hoch auf; sie bleiben in der Auswertung, @tbl-data-outliers listet die größten."
        )
    neg = ledger.flags.get("nonpositive_customers", 0)
    if neg:
        text += (
            f" Bei {fmt.integer(neg)} Kundinnen und Kunden ist der Nettoumsatz nach Verrechnung der Retouren "
            "null oder negativ."
        )
    return text


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
            parts.append("Die Datei enthält keine Bestellnummern; alle Zeilen einer Person an einem Tag "
                         "zählen als ein Kauf.")
        else:
            parts.append(_MISSING[c])
    return " ".join(parts)
