"""The German label catalogue: stable English ids in code, German text for the reader here.

Analysis code returns ids (``"champions"``, ``"high"``, ``"usable"``); notebooks, narratives,
plots and exports translate them with :func:`label` (or the per-kind helpers) at the moment
they are shown. Settings that refer to a segment (``rfm.segment_rules``, ``rfm.segment_actions``,
``actions.segment_uplift``) are keyed by id, so renaming a German label changes only the text.

Adding a segment: add its id to :data:`SEGMENTS` with label and action, then use the id in
``helpers.analysis.rfm.DEFAULT_RULES`` and (optionally) ``ActionSettings.segment_uplift``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

# ---------------------------------------------------------------- RFM segments

SEGMENTS: Mapping[str, tuple[str, str]] = {
    # id: (German label, recommended action)
    "champions": (
        "Champions",
        "Mit exklusiven Vorteilen und frühem Zugang zu Neuheiten belohnen; als Empfehlungsgeber gewinnen.",
    ),
    "loyal": (
        "Treue Kunden",
        "Über ein Treueprogramm binden und passende Ergänzungsprodukte anbieten.",
    ),
    "potential_loyalists": (
        "Potenzielle Stammkunden",
        "Den nächsten Kauf mit persönlichen Empfehlungen und einem Bonusprogramm anstoßen.",
    ),
    "new": (
        "Neukunden",
        "Mit einer Willkommensstrecke durch das Sortiment führen und den zweiten Kauf anregen.",
    ),
    "promising": (
        "Vielversprechend",
        "Die Marke bekannt machen und mit einem kleinen Anreiz zum Folgekauf einladen.",
    ),
    "need_attention": (
        "Aufmerksamkeit nötig",
        "Zeitlich begrenzte Angebote auf Basis der bisherigen Käufe senden.",
    ),
    "about_to_sleep": (
        "Drohen einzuschlafen",
        "Mit beliebten Produkten und einem Gutschein zum nächsten Kauf einladen.",
    ),
    "cannot_lose": (
        "Nicht verlieren",
        "Persönlich ansprechen, die Gründe für das Ausbleiben klären und ein Rückgewinnungsangebot machen.",
    ),
    "at_risk": (
        "Gefährdet",
        "Persönliche Rückgewinnungsaktion mit individuellem Angebot starten.",
    ),
    "lost": (
        "Verloren",
        "Höchstens mit einer günstigen Reaktivierungskampagne ansprechen; kein Schwerpunkt des Budgets.",
    ),
    "unassigned": (
        "Ohne Zuordnung",
        "Regeln prüfen: Diese Kundinnen und Kunden passen zu keiner Segmentregel.",
    ),
    "no_segment": (
        "Ohne Segment",
        "",
    ),
}
"""Segment id -> (German name, German recommended action). ``unassigned``: matched no rule;
``no_segment``: no RFM result available."""

AT_RISK_SEGMENTS: tuple[str, ...] = ("at_risk", "cannot_lose")
"""Segments of formerly valuable customers who have not bought for a while."""

NO_BUDGET_FOCUS_SEGMENTS: tuple[str, ...] = ("lost",)
"""Segments whose action says "no budget focus": the action plan gives them priority ``low`` and
budget only after every worthwhile contact in the other segments (never the first priority).
Action texts carry no urgency ("sofort"); urgency is the priority's job."""

AUDIENCE_LABELS: Mapping[str, str] = {
    "auto": "automatisch aus den Daten erkannt",
    "b2c": "Privatkundschaft (B2C)",
    "b2b": "Firmenkunden (B2B)",
}
"""Setting ``audience`` -> German label."""


SEGMENT_ACTIONS_B2B: Mapping[str, str] = {
    "champions": ("Persönlich im Key-Account-Management betreuen, bevorzugte Konditionen und frühe Information "
                  "über neue Produkte anbieten; als Referenzkunde gewinnen."),
    "loyal": "Im Account-Management regelmäßig betreuen (Jahresgespräch) und passende Ergänzungssortimente anbieten.",
    "potential_loyalists": ("Den nächsten Auftrag mit einem Anruf oder Besuch des Vertriebs und einem Angebot für das "
                            "erweiterte Sortiment anstoßen."),
    "new": "Nach dem ersten Auftrag persönlich nachfassen (Innendienst) und mit einem Angebot den Folgeauftrag anregen.",
    "promising": "Das Sortiment vorstellen und mit einem Angebot zum Folgeauftrag einladen.",
    "need_attention": "Befristete Angebote auf Basis der bisherigen Aufträge schicken und telefonisch nachfassen.",
    "about_to_sleep": "Vom Vertrieb anrufen lassen, den Bedarf erfragen und ein Angebot zu den bisher bestellten Produkten machen.",
    "cannot_lose": ("Persönlich besuchen (Außendienst oder Key-Account-Management), die Gründe für das Ausbleiben "
                    "klären und ein individuelles Angebot machen."),
    "at_risk": "Persönliche Rückgewinnung durch den Vertrieb mit einem individuellen Angebot.",
    "lost": "Höchstens mit einer günstigen Angebotsaktion ansprechen; kein Schwerpunkt des Budgets.",
    "unassigned": "Regeln prüfen: Diese Firmenkunden passen zu keiner Segmentregel.",
    "no_segment": "",
}
"""Segment id -> recommended action for Firmenkunden (audience ``b2b``): account management, sales
visits and offers instead of newsletters, shop vouchers or a welcome series."""


def segment(seg_id: str) -> str:
    """German name of a segment id; an unknown id (a client's own segment) is shown as given."""
    entry = SEGMENTS.get(str(seg_id))
    return entry[0] if entry else str(seg_id)


def segment_action(seg_id: str, audience: str | None = None) -> str:
    """Default German recommended action for a segment id ("" when unknown); ``audience="b2b"``
    gives the Firmenkunden wording (:data:`SEGMENT_ACTIONS_B2B`)."""
    if audience == "b2b" and str(seg_id) in SEGMENT_ACTIONS_B2B:
        return SEGMENT_ACTIONS_B2B[str(seg_id)]
    entry = SEGMENTS.get(str(seg_id))
    return entry[1] if entry else ""


def audience_action(seg_id: str, text: str | None, audience: str | None) -> str:
    """The action text to show for ``audience``: a segment's default (consumer) action is replaced by
    the Firmenkunden wording for ``b2b``; an action the client set (``rfm.segment_actions``) is kept."""
    text = text or ""
    if audience == "b2b" and text == segment_action(seg_id):
        return segment_action(seg_id, "b2b")
    return text


# ---------------------------------------------------------------- audience wording


@dataclass(frozen=True)
class AudienceTerms:
    """The words running text uses for the customers of one audience (the lead's gendering policy).

    Cases: ``one`` nominative, ``one_acc`` accusative, ``one_dat`` dative, ``one_gen`` genitive;
    plurals are the same in all cases. Use :func:`helpers.narrative.common.people` for counts.
    """

    audience: str
    """``"b2c"`` or ``"b2b"``."""
    people: str
    """Plural in running text: "Kundinnen und Kunden" / "Firmenkunden"."""
    one: str
    """"eine Kundin oder ein Kunde" / "ein Firmenkunde"."""
    one_acc: str
    one_dat: str
    one_gen: str
    person: str
    """"Person" / "Firma" (both feminine: "jede Person", "jede Firma")."""
    persons: str
    """"Personen" / "Firmen"."""
    clientele: str
    """"Kundschaft" / "Firmenkundschaft"."""
    order: str
    """"Bon" / "Auftrag" (one purchase as the receipt or order)."""
    orders: str
    order_value: str
    """"Bonbetrag" / "Auftragswert"."""
    buyers: str
    """"Käuferinnen und Käufer" / "kaufende Firmen"."""
    contact: str
    """How the customers are contacted (for action texts)."""
    label: str
    """:data:`AUDIENCE_LABELS` of the audience."""


_AUDIENCE_TERMS: Mapping[str, AudienceTerms] = {
    "b2c": AudienceTerms(
        audience="b2c", people="Kundinnen und Kunden", one="eine Kundin oder ein Kunde",
        one_acc="eine Kundin oder einen Kunden", one_dat="einer Kundin oder einem Kunden",
        one_gen="einer Kundin oder eines Kunden", person="Person", persons="Personen", clientele="Kundschaft",
        order="Bon", orders="Bons", order_value="Bonbetrag", buyers="Käuferinnen und Käufer",
        contact="E-Mail, Brief oder Anruf", label="Privatkundschaft (B2C)"),
    "b2b": AudienceTerms(
        audience="b2b", people="Firmenkunden", one="ein Firmenkunde", one_acc="einen Firmenkunden",
        one_dat="einem Firmenkunden", one_gen="eines Firmenkunden", person="Firma", persons="Firmen",
        clientele="Firmenkundschaft", order="Auftrag", orders="Aufträge", order_value="Auftragswert",
        buyers="kaufende Firmen", contact="Anruf, Besuch im Außendienst oder Angebot",
        label="Firmenkunden (B2B)"),
}


def audience_terms(audience: str | None = None) -> AudienceTerms:
    """The wording for ``audience`` (``"b2c"``/``"b2b"``; ``None``, ``"auto"`` or unknown -> ``"b2c"``).

    The audience of a report is ``ActionsResult.key.audience`` (the action plan's decision: setting or
    detected from the data); this is the ONE function that turns it into words."""
    return _AUDIENCE_TERMS.get(str(audience), _AUDIENCE_TERMS["b2c"])


# ---------------------------------------------------------------- other id vocabularies

PRIORITIES: Mapping[str, str] = {"high": "hoch", "medium": "mittel", "low": "niedrig"}
"""Priority of a segment in the action plan."""

VERDICTS: Mapping[str, str] = {
    "good": "gut",
    "usable": "brauchbar",
    "weak": "schwach",
    "unknown": "unbekannt",
}
"""Verdict of the CLV holdout test."""

CHAPTER_TITLES: Mapping[str, str] = {
    "summary": "Management Summary",
    "data": "Datengrundlage",
    "economics": "Warum Bestandskunden zählen",
    "rfm": "Kundensegmentierung nach RFM",
    "clv": "Kaufprognose und Kundenwert",
    "churn": "Abwanderungsprognose",
    "actions": "Maßnahmenplan",
    "appendix": "Anhang",
}
"""Chapter slug -> German chapter title (report headings, table of contents, progress)."""

_KINDS: Mapping[str, Mapping[str, str]] = {
    "priority": PRIORITIES,
    "verdict": VERDICTS,
    "chapter": CHAPTER_TITLES,
}


def label(kind: str, id_: str) -> str:
    """German label of ``id_`` in vocabulary ``kind`` (``segment``, ``priority``, ``verdict``,
    ``chapter``); raises ``KeyError`` for an unknown id so a typo never reaches a report."""
    if kind == "segment":
        return segment(id_)
    return _KINDS[kind][id_]


def priority(id_: str) -> str:
    return PRIORITIES[id_]


def verdict(id_: str) -> str:
    return VERDICTS[id_]


def chapter_title(slug: str) -> str:
    return CHAPTER_TITLES[slug]


# ---------------------------------------------------------------- data ledger

DROP_LABELS: Mapping[str, str] = {
    "empty_row": "Verworfen: leere Zeile",
    "header_row": "Verworfen: wiederholte Kopfzeile",
    "total_row": "Verworfen: Summen- oder Zwischensummenzeile",
    "missing_customer": "Verworfen: fehlende Kundennummer",
    "bad_date": "Verworfen: Datum fehlt oder nicht lesbar",
    "future_date": "Verworfen: Datum nach dem Beobachtungsende",
    "after_run_date": "Verworfen: Datum nach dem Auswertungstag (in der Zukunft)",
    "implausible_date": "Verworfen: Datum weit außerhalb des übrigen Zeitraums",
    "bad_amount": "Verworfen: Betrag fehlt oder ist keine Zahl",
    "zero_amount": "Verworfen: Betrag 0",
    "returns": "Verworfen: Retoure oder Storno",
    "duplicate": "Verworfen: exakt doppelte Zeile",
}
"""Drop reasons in rule order -> German label."""

FLAG_LABELS: Mapping[str, str] = {
    "returns_netted": "Retouren/Stornos verrechnet (Zeilen, behalten)",
    "same_day_orders": "Kunden-Tage mit mehreren Bestellungen (zu einem Kauf zusammengefasst)",
    "outliers": "Auffällig hohe Beträge (Zeilen, markiert, nicht entfernt)",
    "nonpositive_customers": "Kunden mit Nettoumsatz ≤ 0",
}
"""Counted flags (nothing dropped) -> German label."""


# ---------------------------------------------------------------- settings

SETTING_LABELS: Mapping[str, tuple[str, str]] = {
    "client_name": ("Auftraggeber", "text"),
    "consultant": ("Erstellt von", "text"),
    "logo_path": ("Logo-Datei", "logo"),
    "observation_end": ("Beobachtungsende (Stichtag)", "date"),
    "report_date": ("Berichtsdatum", "report_date"),
    "currency": ("Währung (ISO-Code)", "auto"),
    "gross_margin": ("Deckungsbeitragsmarge (Anteil am Nettoumsatz)", "pct"),
    "pseudonymize": ("Kundennummern pseudonymisiert", "bool"),
    "min_customers": ("Mindestzahl Kunden", "int"),
    "audience": ("Zielgruppe des Berichts (B2C oder B2B)", "audience"),
    "data.column_map": ("Spaltenzuordnung", "map"),
    "data.sheet": ("Excel-Tabellenblatt", "auto"),
    "data.separator": ("CSV-Trennzeichen", "auto"),
    "data.encoding": ("Zeichenkodierung", "auto"),
    "data.decimal": ("Dezimalzeichen", "auto"),
    "data.date_format": ("Datumsformat", "auto"),
    "data.returns": ("Umgang mit Retouren", "returns"),
    "data.outlier_factor": ("Ausreißer-Schwelle (Vielfaches des Interquartilsabstands)", "number1"),
    "data.max_text_mb": ("Höchstgröße der gelesenen Datei (entpackt, MB)", "number1"),
    "data.max_line_bytes": ("Höchstlänge einer Zeile der CSV-Datei (Bytes)", "int"),
    "data.max_field_bytes": ("Höchstlänge eines Feldes der CSV-Datei (Bytes)", "int"),
    "data.max_implausible_date_share": ("Höchstanteil verworfener Zeilen mit unplausiblem Datum", "pct1"),
    "economics.cohort_period": ("Kohorten nach", "period"),
    "economics.max_cohorts": ("Höchstzahl Kohorten in einer Heatmap (mehr Monate: Quartale)", "int"),
    "economics.min_group_size": ("Mindestzahl Kunden für eine Aussage über eine Gruppe", "int"),
    "economics.single_cohort_share": ("Einzige Kohorte: Mindestanteil der ersten Käufe im ersten Teil des Zeitraums", "pct"),
    "economics.single_cohort_window": ("Einzige Kohorte: Länge dieses ersten Teils (Anteil am Zeitraum)", "pct"),
    "economics.cost_per_new_customer": ("Kosten je Neukunde (Annahme)", "eur"),
    "economics.cost_per_retained_customer": ("Kosten, um eine Bestandskundin oder einen Bestandskunden ein Jahr zu halten (Annahme)", "eur"),
    "economics.retention_uplift_pp": ("Was-wäre-wenn: Steigerung der jährlichen Bindungsquote", "pp"),
    "economics.whatif_years": ("Was-wäre-wenn: Zeitraum in Jahren", "int"),
    "rfm.segment_rules": ("RFM-Segmentregeln", "rules"),
    "rfm.segment_actions": ("Abweichende Maßnahmen je Segment", "map"),
    "clv.holdout_weeks": ("Prüfzeitraum (Holdout) in Wochen", "int"),
    "clv.horizon_months": ("Prognosezeitraum des Kundenwerts in Monaten", "int"),
    "clv.discount_rate_yearly": ("Abzinsungssatz pro Jahr", "pct1"),
    "clv.prediction_days": ("Zeitraum der Kaufprognose in Tagen", "int"),
    "clv.penalizer": ("Regularisierung (Penalizer) der Modellanpassung", "number3"),
    "clv.min_repeat_buyers": ("Mindestzahl Wiederholungskäufer für das Kaufmodell", "int"),
    "clv.min_customers": ("Mindestzahl Kunden für das Kaufmodell", "int"),
    "clv.min_history_days": ("Mindestlänge der Kaufhistorie für das Kaufmodell in Tagen", "int"),
    "clv.min_holdout_weeks": ("Kürzester Prüfzeitraum (Holdout) in Wochen", "int"),
    "clv.range_draws": ("Ziehungen für die 80-%-Spannen (parametrischer Bootstrap)", "int"),
    "clv.random_state": ("Startwert des Zufallsgenerators für die Spannen", "int"),
    "churn.window_days": ("Abwanderungsfenster in Tagen", "days_auto"),
    "churn.min_customers": ("Mindestzahl Kunden für das Abwanderungsmodell", "int"),
    "churn.min_class_share": ("Mindestanteil der kleineren Klasse", "pct"),
    "churn.min_calibration_customers": ("Mindestzahl Kunden für das Risiko nach Tagen seit dem letzten Kauf", "int"),
    "churn.random_state": ("Startwert des Zufallsgenerators", "int"),
    "churn.max_fit_rows": ("Höchstzahl Kunden für das Anpassen der Modelle (Stichprobe)", "int"),
    "churn.active_days": ("Bewertet werden Kunden mit letztem Kauf vor höchstens … Tagen", "days_all"),
    "actions.budget": ("Kampagnenbudget (Annahme)", "eur"),
    "actions.cost_per_contact": ("Kosten je Kontakt (Annahme)", "eur2"),
    "actions.reach_days": ("Erreichbar, wenn letzter Kauf weniger als … Tage zurückliegt (Annahme)", "int"),
    "actions.segment_uplift": ("Erwartete Wirkung eines Kontakts", "uplift"),
    "actions.default_uplift": ("Erwartete Wirkung in übrigen Segmenten (Annahme)", "pct1"),
    "actions.uplift_low_factor": ("Wirkung im ungünstigen Fall (Vielfaches der Annahme)", "number1"),
    "actions.uplift_high_factor": ("Wirkung im günstigen Fall (Vielfaches der Annahme)", "number1"),
    "actions.min_risk": ("Kein Kontakt bei Abwanderungsrisiko unter", "pct"),
    "actions.min_value": ("Kein Kontakt bei Kundenwert unter (leer = Kosten eines Kontakts)", "eur2"),
    "actions.roi_plausible_max": ("Plausibilitätsgrenze des ROI (darüber kein Ausweis)", "times"),
    "actions.forecast_ratio_max": ("Prüfgrenze Prognose zu Vorjahresumsatz je Segment (Vielfaches)", "number1"),
    "actions.max_list_rows": ("Höchstzahl Zeilen je Tabellenblatt der Zielgruppenliste", "int"),
}
"""Key of ``ReportConfig.as_settings()`` -> (German label, formatter kind used by the appendix).
A test enforces a label for every config field."""
