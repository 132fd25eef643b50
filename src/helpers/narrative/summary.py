"""German management summary from :class:`helpers.analysis.summary.SummaryResult`.

Numbers are the chapters' typed key figures, quoted unchanged (see :mod:`helpers.analysis.summary`);
this module only turns them into German sentences and a table. A recommendation is only made when
its numbers support it.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from .. import fmt, labels
from ..analysis.summary import SummaryResult, key_fields
from ..report.display import md_escape
from .common import count_phrase, people, terms

FIGURE_LABELS = {
    "customers": "{People} im Datenbestand",
    "revenue": "Nettoumsatz im Beobachtungszeitraum",
    "repeat_rate": "Anteil mit mindestens zwei Käufen (Wiederkaufrate)",
    "clv_total": "Erwarteter Kundenwert (CLV, Deckungsbeitrag)",
    "value_at_risk": "Gefährdeter Deckungsbeitrag",
    "risk_50": "{People} mit Abwanderungsrisiko ab 50 % (kein Kauf in {window} Tagen)",
    "expected_gain": "Erwarteter Zusatz-Deckungsbeitrag der empfohlenen Kampagne",
}
"""Summary figure id -> German label (placeholders filled from the chapter's key figures)."""

CLV_SKIP_TEXT = {
    "no_data": "es keine Käufe im Datenbestand gibt",
    "too_few_repeat": "zu wenige Kundinnen und Kunden mehr als einmal gekauft haben",
    "no_fit": "sich das Modell nicht verlässlich an die Daten anpassen ließ",
    "too_few_customers": "der Datenbestand zu wenige Kundinnen und Kunden für ein Kaufmodell enthält",
    "short_history": "die Daten einen zu kurzen Zeitraum abdecken",
}

_FORMAT = {"int": fmt.integer, "eur": fmt.eur, "pct": fmt.pct}


def _ok(value: Any) -> bool:
    """A usable number (not None/NaN/inf)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _terms(res: SummaryResult):
    """The audience's words (the action plan's audience; consumers when there is no plan)."""
    return terms(res.audience)


def _key(res: SummaryResult, chapter: str, attribute: str) -> Any:
    """``res.keys[chapter].<attribute>``; ``None`` when the chapter has no key figures.
    An attribute the key figures do not define raises (a renamed field must fail loudly)."""
    key = res.keys.get(chapter)
    if key is None:
        return None
    if attribute not in key_fields(key):
        raise AttributeError(f"{chapter}: key figures have no attribute {attribute!r}")
    return getattr(key, attribute)


def _figure_label(res: SummaryResult, fig) -> str:
    text = FIGURE_LABELS[fig.spec.id].replace("{People}", _terms(res).people)
    if "{window}" in text:
        text = text.format(window=fmt.integer(_key(res, "churn", "window_days")))
    if fig.horizon_months:
        text += f" in den nächsten {fmt.integer(fig.horizon_months)} Monaten"
    return text


def _not_computable(res: SummaryResult, fig) -> str | None:
    """Why a figure the chapter reports as a number is in fact not computable (``None`` = it is).

    A count of customers at risk is only a statement when some customer has a risk; a campaign gain
    only when the action plan could compute a gain per contact (value and risk known)."""
    if fig.spec.id == "risk_50":
        k = res.keys.get("churn")
        if k is not None and not (k.n_risk_model + k.n_risk_fallback):
            return "nicht berechenbar (kein Abwanderungsrisiko)"
    if fig.spec.id == "expected_gain":
        k = res.keys.get("actions")
        if k is not None and k.priority_basis != "gain":
            why = "kein Kundenwert" if k.value_basis == "none" else "kein Abwanderungsrisiko"
            return f"nicht berechenbar ({why})"
        if k is not None and not k.contacts:
            return f"{fmt.eur(0)} (keine Kampagne lohnt sich)"
    return None


def _figure_value(fig, res: SummaryResult | None = None) -> str:
    """The number; with its 80 % range when the chapter computed one."""
    if res is not None and (why := _not_computable(res, fig)) is not None:
        return why
    show = _FORMAT[fig.spec.kind]
    text = show(fig.value)
    if fig.low is not None and fig.high is not None:
        kind = "80-%-Spanne" if fig.spec.range_kind == "interval" else "je nach angenommener Wirkung"
        text += f" ({kind} {show(fig.low)} bis {show(fig.high)})"
    return text


def key_figure_table(res: SummaryResult) -> pd.DataFrame:
    """German table ``Kennzahl``/``Wert``/``Kapitel`` (values formatted, e.g. ``1.234 €``, with ranges)."""
    return pd.DataFrame(
        {
            "Kennzahl": [_figure_label(res, f) for f in res.figures],
            "Wert": [_figure_value(f, res) for f in res.figures],
            "Kapitel": [labels.chapter_title(f.spec.chapter) for f in res.figures],
        },
        columns=["Kennzahl", "Wert", "Kapitel"],
    )


def intro(res: SummaryResult, client: str) -> str:
    """Opening sentence: what the report is based on."""
    n = _key(res, "data", "customers")
    if not n:
        return f"Für {md_escape(client)} enthält der Datenbestand keine auswertbaren Käufe."
    first = pd.Timestamp(_key(res, "data", "period_start"))
    end = pd.Timestamp(_key(res, "data", "observation_end"))
    return (
        f"Dieser Bericht wertet die Käufe von {people(int(n), _terms(res), 'dat')} von {md_escape(client)} aus, "
        f"im Zeitraum vom {fmt.date(first)} bis zum {fmt.date(end)}."
    )


OWNERS = {
    "b2c": {"retain": "CRM- und Kundenservice-Team", "grow": "CRM- und E-Mail-Marketing"},
    "b2b": {"retain": "Vertrieb (Key-Account-Management)", "grow": "Vertrieb und Innendienst"},
}
"""Owner role of a campaign by audience and campaign type."""
RETAIN_SEGMENTS = frozenset({"at_risk", "cannot_lose", "about_to_sleep", "need_attention", "lost"})
"""Segments whose campaign wins back or keeps customers (the others grow existing relationships)."""
TIMING = {"high": "Start in 30 Tagen", "medium": "Start in 60 Tagen", "low": "Start in 90 Tagen"}
"""Timing by the action plan's priority id."""
KPI = {"retain": "Anteil mit erneutem Kauf nach 90 Tagen",
       "grow": "Deckungsbeitrag je {one} nach 90 Tagen"}
"""Success measure by campaign type (``{one}``: "Kundin oder Kunde" / "Firmenkunde"), each against the
control group."""
CONTROL_SHARE = 0.10
"""Share of each campaign's target list held back as control group (measurement advice)."""


def action_items(res: SummaryResult) -> list[str]:
    """One German line per planned campaign: segment, contacts, expected gain with its range, the action,
    owner role, timing and KPI (numbers are the action plan's)."""
    audience = res.audience if res.audience in OWNERS else "b2c"
    one = "Kundin oder Kunde" if audience == "b2c" else "Firmenkunde"
    items = []
    for a in res.actions:
        kind = "retain" if a.segment in RETAIN_SEGMENTS else "grow"
        contacts = count_phrase(a.contacts, "Kontakt", "Kontakte")
        action = labels.audience_action(a.segment, res.segment_actions.get(a.segment)
                                        or labels.segment_action(a.segment), audience)
        items.append(
            f"**{md_escape(labels.segment(a.segment))}:** {md_escape(action)} {contacts} für "
            f"{fmt.eur(a.cost)}, erwartet {fmt.eur(a.expected_gain)} Zusatz-Deckungsbeitrag "
            f"({fmt.eur(a.expected_gain_low)} bis {fmt.eur(a.expected_gain_high)}). "
            f"*{OWNERS[audience][kind]}; {TIMING.get(a.priority, TIMING['low'])}; "
            f"Erfolgskennzahl: {KPI[kind].format(one=one)}.*"
        )
    return items


def actions_markdown(res: SummaryResult) -> str:
    """The campaigns as a numbered list plus how to measure them, or why there are none."""
    items = action_items(res)
    if not items:
        if "actions" not in res.keys:
            return "Ein Maßnahmenplan liegt für diese Daten nicht vor (@sec-actions)."
        k = res.keys["actions"]
        if k.priority_basis != "gain":
            why = ("ein Kundenwert in " + fmt.currency_name() if k.value_basis == "none" else "ein Abwanderungsrisiko")
            return (f"**Kein Budgetvorschlag:** Für diese Daten fehlt {why}; was ein Kontakt einbringt, ist deshalb "
                    "nicht berechenbar. Welche Segmente zuerst angesprochen werden sollten, zeigt der Maßnahmenplan "
                    "(@sec-actions).")
        return ("**Keine Kampagne empfohlen:** Unter den Annahmen des Maßnahmenplans bringt kein Kontakt mehr "
                "zusätzlichen Deckungsbeitrag, als er kostet (@sec-actions).")
    head = (f"Die {fmt.integer(len(items))} Kampagnen mit dem größten erwarteten Zusatz-Deckungsbeitrag "
            if len(items) > 1 else "Die Kampagne mit erwartetem Zusatz-Deckungsbeitrag ")
    head += ("nach Kontaktkosten (@sec-actions); die Spanne reicht von der niedrigen bis zur hohen Annahme "
             "für die Wirkung eines Kontakts:")
    measure = (
        f"**Wirkung messen:** {fmt.pct(CONTROL_SHARE)} jeder Zielgruppe zufällig nicht ansprechen "
        "(Kontrollgruppe) und nach 90 Tagen vergleichen; nur der Unterschied ist die Wirkung und ersetzt die "
        "Annahmen."
    )
    return head + "\n\n" + "\n".join(f"{i}. {t}" for i, t in enumerate(items, start=1)) + "\n\n" + measure


def flow_sentence(res: SummaryResult) -> str:
    """Customer flow of the latest period (economics chapter), or "" when not computable."""
    k = res.keys.get("economics")
    if k is None or _key(res, "economics", "flow_active") is None:
        return ""
    start, end = _key(res, "economics", "flow_period_start"), _key(res, "economics", "flow_period_end")
    span = (f"vom {fmt.date(pd.Timestamp(start))} bis {fmt.date(pd.Timestamp(end))}"
            if start is not None and end is not None else "im letzten Zeitraum")
    return (
        f"**Kundenbewegung {span}:** zu Beginn {people(_key(res, 'economics', 'flow_active_previous'), _terms(res))} "
        f"aktiv, {fmt.integer(_key(res, 'economics', 'flow_new'))} neu gewonnen, "
        f"{fmt.integer(_key(res, 'economics', 'flow_reactivated'))} zurückgewonnen, "
        f"{fmt.integer(_key(res, 'economics', 'flow_lost'))} verloren; "
        f"{fmt.integer(_key(res, 'economics', 'flow_active'))} aktiv am Ende (@sec-economics)."
    )


def stale_warning(res: SummaryResult) -> str:
    """A warning when the data ends long before the report date ("" otherwise)."""
    if not res.stale:
        return ""
    years = res.data_age_days / 365.25
    age = (f"rund {fmt.integer(round(years))} Jahre" if years >= 1.5
           else f"{fmt.integer(res.data_age_days)} Tage")
    return (
        f"**Achtung, alte Daten:** Die Daten enden am {fmt.date(pd.Timestamp(res.observation_end))}, {age} vor "
        f"dem Berichtsdatum ({fmt.date(pd.Timestamp(res.report_date))}). Alle Aussagen zu aktuellem Risiko, "
        f"aktiven {_terms(res).people} und Prognosen beziehen sich auf das Datenende, nicht auf heute."
    )


def limitations(res: SummaryResult) -> str:
    """Which models were skipped, in German (empty string when all ran)."""
    parts = []
    if "clv" in res.skipped:
        why = CLV_SKIP_TEXT.get(res.skipped["clv"], "die Daten dafür nicht ausreichen").replace(
            "Kundinnen und Kunden", _terms(res).people)
        parts.append(f"Die Kaufprognose und der Kundenwert (@sec-clv) entfallen, weil {why}.")
    elif "clv" in res.keys and not _ok(_key(res, "clv", "clv_total")):
        parts.append(f"Der Kundenwert in {fmt.currency_name()} (@sec-clv) entfällt; die Kaufprognose liegt vor.")
    if "churn" in res.skipped:
        from .churn import skip_sentence

        parts.append("Die Abwanderungsprognose (@sec-churn) entfällt: "
                     + skip_sentence(res.skipped["churn"], res.audience))
    if not parts:
        return ""
    return "**Grenzen dieses Berichts:** " + " ".join(parts)


def limitations_paragraph(res: SummaryResult) -> str:
    """The stale-data warning and :func:`limitations` as paragraphs to append to the intro ("" when
    the data is recent and nothing was skipped)."""
    parts = [t for t in (stale_warning(res), limitations(res)) if t]
    return "".join("\n\n" + t for t in parts)
