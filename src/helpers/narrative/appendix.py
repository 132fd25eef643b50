"""German content of the appendix: methods, every parameter value used, data-quality ledger, glossary."""

from __future__ import annotations

from typing import Any, Callable, Mapping

import pandas as pd

from .. import fmt, labels
from ..labels import SETTING_LABELS

def _text(v: Any) -> str:
    return fmt.MISSING if v is None or v == "" else str(v)


_FORMATTERS: dict[str, Callable[[Any], str]] = {
    "text": lambda v: "automatisch" if v is None else _text(v),
    "int": lambda v: fmt.MISSING if v is None else fmt.integer(v),
    "pct": lambda v: fmt.MISSING if v is None else fmt.pct(v),
    "pct1": lambda v: fmt.MISSING if v is None else fmt.pct(v, 1),
    "eur": lambda v: fmt.MISSING if v is None else fmt.eur(v),
    "eur2": lambda v: fmt.MISSING if v is None else fmt.eur(v, 2),
    "number1": lambda v: fmt.MISSING if v is None else fmt.number(v, 1),
    "number3": lambda v: fmt.MISSING if v is None else fmt.number(v, 3),
    "pp": lambda v: fmt.MISSING if v is None else fmt.pp(v),
    "bool": lambda v: "ja" if v else "nein",
    "audience": lambda v: labels.AUDIENCE_LABELS.get(v, _text(v)),
    "report_date": lambda v: "Tag der Erstellung" if v is None else fmt.date(pd.Timestamp(v)),
    "date": lambda v: "letzter Tag mit Bestellungen" if v is None else fmt.date(pd.Timestamp(v)),
    "returns": lambda v: {"net": "mit dem Umsatz verrechnet", "drop": "verworfen"}.get(v, _text(v)),
    "period": lambda v: {"M": "Monat", "Q": "Quartal"}.get(v, _text(v)),
    "days_auto": lambda v: "aus den Kaufabständen bestimmt" if v is None else fmt.integer(v),
    "days_all": lambda v: "alle" if v is None else fmt.integer(v),
    "rules": lambda v: "Standardregeln" if not v else f"{fmt.integer(len(v))} eigene Regeln",
    "auto": lambda v: "automatisch erkannt" if v is None else _text(v),
    "logo": lambda v: "kein Logo" if not v else _text(v),
}


_DECIDED = {
    "observation_end": "letzter Tag mit Bestellungen",
    "audience": "aus den Daten erkannt",
    "actions.budget": "Standard der Zielgruppe",
    "actions.cost_per_contact": "Standard der Zielgruppe",
}
"""Settings left empty (or ``auto``) whose value the run decides -> German note on where it came from."""


def settings_table(settings: Mapping[str, Any], effective: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Every setting with a German label and German formatted value (``Einstellung``, ``Wert``).

    Mappings are expanded to one row per entry (e.g. the uplift per segment). ``effective`` holds the
    values a run decided for settings left empty or ``auto`` (``AppendixResult.effective``); they are
    shown with a note on their origin. Unknown keys are listed with their key.
    """
    effective = effective or {}
    rows: list[tuple[str, str]] = []
    for key, value in settings.items():
        label, kind = SETTING_LABELS.get(key, (key, "text"))
        fmt_value = _FORMATTERS.get(kind, _FORMATTERS["text"])
        if key in _DECIDED and value in (None, "auto") and effective.get(key) is not None:
            rows.append((label, f"{fmt_value(effective[key])} – {_DECIDED[key]}"))
            continue
        if kind == "uplift":
            for seg, share in dict(value or {}).items():
                rows.append((f"{label} im Segment „{labels.segment(seg)}“ (Annahme)", fmt.pct(share, 1)))
            continue
        if kind == "map":
            if not value:
                rows.append((label, "keine" if key != "data.column_map" else "automatisch erkannt"))
            for k, v in dict(value or {}).items():
                rows.append((f"{label}: {k}", _text(v)))
            continue
        if isinstance(value, (list, dict)) and kind != "rules":
            value = str(value)
        rows.append((label, fmt_value(value)))
    return pd.DataFrame(rows, columns=["Einstellung", "Wert"])


METHODS = """\
**Datenbasis.** Eine *Zeile* ist eine Position des Kundenexports nach der Bereinigung. Ein *Kauf* fasst alle Zeilen einer Kundin bzw. eines Kunden an einem Kalendertag zusammen; sein Umsatz ist die Nettosumme dieser Zeilen in Euro. Tage, an denen nur Retouren anfallen (Nettoumsatz höchstens 0), zählen nicht als Kauf. Alle Auswertungen beziehen sich auf den Zeitraum bis zum Beobachtungsende einschließlich.

**RFM-Segmentierung.** Recency (Tage seit dem letzten Kauf), Frequency (Zahl der Kauftage) und Monetary (Nettoumsatz) werden je Kundin und Kunde in Punktwerte von 1 bis 5 übersetzt; feste Regeln ordnen die Kombinationen aus Recency und Frequency einem Segment zu.

**Kaufprognose und Kundenwert.** Das BG/NBD-Modell schätzt aus Kaufhäufigkeit, Zeitpunkt des letzten Kaufs und Kundendauer, wie wahrscheinlich jemand noch aktiv ist (P(aktiv)) und wie viele Käufe zu erwarten sind. Das Gamma-Gamma-Modell schätzt den durchschnittlichen Umsatz je Kauf. Der Kundenwert (CLV) ist der erwartete Deckungsbeitrag im Prognosezeitraum, abgezinst mit dem angegebenen Satz. Die Prognose wird vorab an einem Prüfzeitraum (Holdout) am Ende der Daten überprüft.

**Abwanderungsprognose.** Als abgewandert gilt, wer innerhalb des Abwanderungsfensters nach einem Stichtag nicht mehr kauft. Zwei Modelle (logistische Regression und Gradient Boosting) lernen an einem früheren Stichtag und werden an einem späteren geprüft; das bessere bewertet die heutigen Kundinnen und Kunden.

**Maßnahmenplan.** Der gefährdete Deckungsbeitrag ist die Summe aus Risiko × Kundenwert. Das Budget geht an die Kontakte mit dem höchsten erwarteten Zusatz-Deckungsbeitrag (Wirkung × Kundenwert), solange dieser die Kontaktkosten übersteigt. Die erwartete Wirkung je Segment, das Budget und die Kontaktkosten sind Annahmen.

**Zusatzkäufe.** Support, Konfidenz und Lift werden auf Ebene der Kundinnen und Kunden berechnet (wer hat welche Warengruppen je gekauft), nicht je Warenkorb.
"""


def methods_text() -> str:
    """Short German description of the methods (all chapters)."""
    return METHODS


GLOSSARY: tuple[tuple[str, str, str], ...] = (
    ("Abwanderung", "churn", "Eine Kundin oder ein Kunde kauft im festgelegten Zeitraum nicht mehr."),
    ("Abwanderungsrisiko", "churn probability", "Geschätzte Wahrscheinlichkeit der Abwanderung (0 bis 100 %)."),
    ("Bestandskunde", "existing customer", "Kundin oder Kunde, die bzw. der schon mindestens einmal gekauft hat."),
    ("Deckungsbeitrag", "contribution margin", "Umsatz abzüglich der variablen Kosten; hier Nettoumsatz × Marge."),
    ("Holdout (Prüfzeitraum)", "holdout period", "Zurückgehaltener Zeitraum am Ende der Daten, an dem eine Prognose geprüft wird."),
    ("Kohorte", "cohort", "Alle Kundinnen und Kunden mit dem ersten Kauf im selben Monat oder Quartal."),
    ("Konfidenz", "confidence", "Anteil der Käuferinnen und Käufer von A, die auch B gekauft haben."),
    ("Kundenwert", "customer lifetime value (CLV)", "Erwarteter, abgezinster Deckungsbeitrag einer Kundin bzw. eines Kunden im Prognosezeitraum."),
    ("Lift", "lift", "Wie viel häufiger ein Ereignis in einer Gruppe eintritt als im Durchschnitt; 1 bedeutet kein Unterschied."),
    ("P(aktiv)", "P(alive)", "Wahrscheinlichkeit, dass eine Kundin oder ein Kunde noch aktiv ist und wieder kaufen kann."),
    ("Pseudonymisierung", "pseudonymization", "Ersetzen der Kundennummern durch Kennungen, die nur mit einem Schlüssel zurückgeführt werden können."),
    ("RFM", "recency, frequency, monetary", "Segmentierung nach Aktualität, Häufigkeit und Umsatz der Käufe."),
    ("ROC-AUC", "area under the ROC curve", "Trennschärfe eines Modells: 0,5 entspricht dem Zufall, 1 einer perfekten Trennung."),
    ("ROI", "return on investment", "Zusätzlicher Deckungsbeitrag abzüglich Kosten, geteilt durch die Kosten."),
    ("Streuverluste", "wasted reach", "Kontakte, deren erwarteter Ertrag unter den Kosten liegt."),
    ("Support", "support", "Anteil der Kundinnen und Kunden, die beide Warengruppen gekauft haben."),
    ("Warenkorb", "basket", "Alle Positionen einer Bestellung."),
    ("Warengruppe", "product category", "Gruppe ähnlicher Artikel, z. B. Schuhe oder Kosmetik."),
    ("Wiederkaufrate", "repeat rate", "Anteil der Kundinnen und Kunden mit mindestens zwei Käufen."),
    ("Zielgruppenliste", "target list", "Liste der Kundinnen und Kunden eines Segments für den Import ins CRM."),
)
"""German term, English term, German explanation (sorted by German term)."""


def glossary_table() -> pd.DataFrame:
    """The glossary as a German table (``Begriff``, ``Englisch``, ``Bedeutung``)."""
    return pd.DataFrame(list(GLOSSARY), columns=["Begriff", "Englisch", "Bedeutung"])
