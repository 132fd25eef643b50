"""German text and tables for the chapter "Maßnahmenplan" (from an
:class:`~helpers.analysis.actions.ActionsResult`).

Every sentence is chosen from the numbers so that it is true for any client. Segment and priority
ids are translated with :mod:`helpers.labels` here. An ROI above the plausibility bound is never
printed as a number (:func:`roi_text` names the assumption that drives it instead).
"""

from __future__ import annotations

import math
from typing import Mapping

import pandas as pd

from .. import fmt, labels
from ..analysis import actions as act
from ..analysis import crosssell as cs
from ..export import LISTS_FOLDER, WORKBOOK_NAME, segment_list_names
from ..report.display import md_escape
from .common import (MIN_GROUP_SIZE, count_phrase, group_ok, join_and, people, pronoun, share_phrase, terms,
                     verb)

STATUS_LABELS = {
    act.STATUS_ALL: "ganzes Segment",
    act.STATUS_TOP: "Auswahl nach Ertrag",
    act.STATUS_BELOW_COST: "keine: Ertrag unter Kosten",
    act.STATUS_BUDGET: "keine: Budget erschöpft",
    act.STATUS_EMPTY: "keine: Wert unbekannt",
    act.STATUS_NEGLIGIBLE: "keine: Risiko oder Wert zu gering",
    act.STATUS_UNREACHABLE: "keine: nicht erreichbar",
}
"""German label of an allocation status."""

RISK_SOURCE_LABELS = {
    "churn": "dem Abwanderungsmodell",
    "model": "dem Abwanderungsmodell",
    "recency": "einer Schätzung aus der Zeit seit dem letzten Kauf",
    "p_alive": "1 − P(aktiv) des Kaufprognosemodells",
}
"""German source of a risk score (``risk_source`` id); other ids are summarized as "weiteren Schätzungen"."""

AUDIENCE_CONTACT = {
    "b2c": "eine E-Mail oder ein Brief samt Bearbeitung des Angebots",
    "b2b": ("ein vorbereitetes Telefonat der Kundenbetreuung mit Nachfassen; ein Besuch im Außendienst "
            "kostet ein Vielfaches"),
}
"""What one contact means in the audience's default contact cost."""


_join = join_and


def _quote(name: str) -> str:
    return f"„{md_escape(name)}“"


def _seg(seg_id: str) -> str:
    """Quoted German name of a segment id."""
    return _quote(labels.segment(seg_id))


def _prio(prio_id: str) -> str:
    return f"„{labels.priority(prio_id)}“"


def _times(ratio: float) -> str:
    """``1.71`` -> "1,7-fache"."""
    return f"{fmt.number(ratio, 1)}-fache"


def _horizon(months: int | None) -> str:
    return f" über {fmt.integer(months)} Monate" if months else ""


def _range(low: float | None, high: float | None) -> str:
    """" (Spanne 1.000 € bis 2.000 €)" or ""."""
    if low is None or high is None or any(math.isnan(v) for v in (low, high)):
        return ""
    return f" (Spanne {fmt.eur(low)} bis {fmt.eur(high)})"


# --- introduction --------------------------------------------------------------------------------

def intro(res: "act.ActionsResult", audience: str | None = None) -> str:
    """The chapter's opening paragraph, naming only the parts this plan has."""
    t = terms(audience or res.key.audience)
    questions = ["Welche Segmente sollten zuerst angesprochen werden"]
    if res.has_value and res.has_risk:
        questions.append("wohin lohnt sich ein begrenztes Kampagnenbudget")
    if res.crosssell is not None and res.crosssell.ok:
        questions.append("welche Warengruppen passen als nächster Kauf")
    if len(res.lists):
        questions.append(f"und welche {t.people} stehen auf den Zielgruppenlisten für das CRM")
    if len(questions) > 1 and not questions[-1].startswith("und "):
        questions[-1] = "und " + questions[-1]
    return ("Dieses Kapitel übersetzt die Ergebnisse der vorigen Kapitel in konkrete Schritte: "
            + ", ".join(questions) + "?")


# --- bases and audience --------------------------------------------------------------------------

def _risk_source(source_id: str) -> str | None:
    """German name of a ``risk_source`` id: the churn chapter's name of the score, quoted, else
    :data:`RISK_SOURCE_LABELS`, else ``None``."""
    from . import churn as churn_text

    names = getattr(churn_text, "MODEL_NAMES", {})
    if source_id in names and source_id != "none":
        return f"dem Wert „{names[source_id]}“"
    return RISK_SOURCE_LABELS.get(source_id)


def bases_text(table: pd.DataFrame, value_horizon_months: int | None = None, audience: str | None = None) -> str:
    """Which customer value and which risk the action plan uses (both from @sec-churn)."""
    t = terms(audience)
    n = len(table)
    known_value = int(table["value"].notna().sum())
    known_risk = int(table["risk"].notna().sum())
    if known_value == 0:
        return (f"Ohne Umsatzangaben lässt sich kein Kundenwert in {fmt.currency_name()} "
                "angeben; der gefährdete Deckungsbeitrag ist nicht berechenbar, und die Priorität richtet sich nach "
                f"der Zahl der erreichbaren {t.people}.")
    parts = [
        f"Kundenwert und Risiko übernimmt der Maßnahmenplan unverändert aus @sec-churn: Der Wert ist der "
        f"erwartete Deckungsbeitrag bei Verbleib{_horizon(value_horizon_months)}, der gefährdete "
        "Deckungsbeitrag die Summe aus Risiko × Wert." if known_risk else
        f"Den Kundenwert übernimmt der Maßnahmenplan unverändert aus @sec-churn: den erwarteten "
        f"Deckungsbeitrag bei Verbleib{_horizon(value_horizon_months)}."
    ]
    if known_value < n:
        m = n - known_value
        parts.append(f"Für {people(m, t, 'acc')} ist kein Wert bekannt; {pronoun(m, t)} "
                     f"{verb(m, 'zählt', 'zählen')} nicht mit.")
    if known_risk == 0:
        parts.append("Ein Abwanderungsrisiko liegt für diesen Datenbestand nicht vor; der gefährdete "
                     "Deckungsbeitrag ist deshalb nicht berechenbar, und die Priorität richtet sich nach "
                     "dem Kundenwert allein.")
        return " ".join(parts)
    counts = table.loc[table["risk"].notna(), "risk_source"].astype(str).value_counts()
    named = [(_risk_source(k), int(v)) for k, v in counts.items() if _risk_source(k)]
    other = int(sum(v for k, v in counts.items() if not _risk_source(k)))
    if other:
        named.append(("weiteren Schätzungen", other))
    if len(named) == 1:
        parts.append(f"Das Risiko stammt für alle bewerteten {t.people} aus {named[0][0]} "
                     "(siehe @sec-churn).")
    elif named:
        parts.append("Das Risiko stammt " + _join([f"für {people(v, t, 'acc')} aus {lbl}" for lbl, v in named])
                     + " (siehe @sec-churn).")
    if known_risk < n:
        m = n - known_risk
        parts.append(f"Für {people(m, t, 'acc')} liegt kein Risiko vor; {pronoun(m, t)} "
                     f"{verb(m, 'zählt', 'zählen')} ohne gefährdeten Deckungsbeitrag.")
    return " ".join(parts)


_REASONS = {
    "company_names": lambda a: (f"{fmt.pct(a.company_share)} der Kundennamen tragen eine Rechtsform wie GmbH "
                                "oder KG"),
    "sales_channel": lambda a: (f"{fmt.pct(a.channel_share)} der Zeilen laufen über den Vertriebsweg "
                                f"{_quote(a.channel)}"),
    "large_accounts": lambda a: (f"wenige Kundennummern ({fmt.integer(a.n_customers)}) mit großen Käufen: im "
                                 f"Median {fmt.eur(a.median_purchase_revenue)} je Kauf und "
                                 f"{fmt.eur(a.median_customer_revenue_12m)} je Kundennummer in den letzten zwölf "
                                 "Monaten"),
}


def audience_text(res: "act.ActionsResult") -> str:
    """Which audience the plan assumes, why, and which budget and contact cost follow from it."""
    a, k = res.audience, res.key
    name = labels.AUDIENCE_LABELS[a.audience]
    found = _join([_REASONS[r](a) for r in a.reasons])
    if a.source == "setting":
        sents = [f"**Zielgruppe: {name}** (laut Einstellung „audience“)."]
        if a.audience == "b2c" and a.reasons:
            sents.append(f"Die Daten deuten eher auf Firmenkunden hin: {found}.")
        elif a.audience == "b2b" and not a.reasons:
            sents.append("In den Daten selbst findet sich kein Hinweis auf Firmenkunden (Rechtsformen in den "
                         "Kundennamen, Vertriebswege wie Außendienst oder wenige Kundennummern mit großen Käufen).")
    elif a.audience == "b2b":
        sents = [f"**Zielgruppe: {name}**, aus den Daten erkannt: {found}."]
    else:
        typical = (f" Im Median bringt ein Kauf {fmt.eur(a.median_purchase_revenue)}."
                   if a.median_purchase_revenue is not None else "")
        sents = [f"**Zielgruppe: {name}**, aus den Daten erkannt: Hinweise auf Firmenkunden (Rechtsformen wie "
                 "GmbH in den Kundennamen, Vertriebswege wie Außendienst, wenige Kundennummern mit großen Käufen) "
                 f"finden sich nicht.{typical}"]
    defaults = []
    if k.cost_source == "audience_default":
        defaults.append(f"{fmt.eur(k.cost_per_contact, 2)} je Kontakt ({AUDIENCE_CONTACT[a.audience]})")
    if k.budget_source == "audience_default":
        defaults.append(f"ein Budget von {fmt.eur(k.budget)}")
    if defaults:
        word = "Firmenkunden" if a.audience == "b2b" else "Privatkundschaft"
        sents.append(f"Deshalb gelten die Standardannahmen für {word}: {_join(defaults)}.")
    if k.cost_source == "setting" or k.budget_source == "setting":
        set_ = _join([w for w, src in (("die Kosten je Kontakt", k.cost_source), ("das Budget", k.budget_source))
                      if src == "setting"])
        sents.append(f"{set_[0].upper() + set_[1:]} stammen aus den Einstellungen des Berichts."
                     if " und " in set_ else f"{set_[0].upper() + set_[1:]} stammt aus den Einstellungen des Berichts.")
    if a.source == "detected":
        sents.append("Wer es anders weiß, stellt die Zielgruppe mit der Einstellung „audience“ ein "
                     "(„b2c“ oder „b2b“).")
    return " ".join(sents)


# --- priority and matrix -------------------------------------------------------------------------

def priority_rule_text(res: "act.ActionsResult", reach_days: int = act.REACH_DAYS, min_risk: float = 0.05,
                       audience: str | None = None) -> str:
    """The one documented priority rule in German (with the basis actually used)."""
    t = terms(audience or res.key.audience)
    basis = res.key.priority_basis
    lost = _join([_seg(s) for s in labels.NO_BUDGET_FOCUS_SEGMENTS])
    reach = (f"(letzter Kauf höchstens {fmt.integer(reach_days - 1)} Tage vor dem Beobachtungsende, die "
             "Kontaktdaten sind also wahrscheinlich noch aktuell)")
    if basis == act.BASIS_GAIN:
        what = (
            "Jedes Segment erhält als Kennzahl den möglichen Zusatz-Deckungsbeitrag: die Summe des "
            f"erwarteten Ertrags nach Kosten über alle {t.people}, bei denen sich ein Kontakt lohnt. "
            f"In Frage kommt, wer erreichbar ist {reach}, ein Abwanderungsrisiko von mindestens "
            f"{fmt.pct(min_risk)} und mehr Wert hat, als ein Kontakt kostet, und wem ein Kontakt mehr rettet, "
            "als er kostet."
        )
    else:
        if basis == act.BASIS_CUSTOMERS:
            what = (f"Ein Ertrag je Kontakt lässt sich hier nicht berechnen. Jedes Segment erhält deshalb als "
                    f"Kennzahl die Zahl seiner erreichbaren {t.people} {reach}.")
        else:
            base = {act.BASIS_VAR: "gefährdetem Deckungsbeitrag", act.BASIS_VALUE: "Kundenwert"}[basis]
            what = (f"Ein Ertrag je Kontakt lässt sich hier nicht berechnen. Jedes Segment erhält deshalb als "
                    f"Kennzahl {base} × Anteil der {t.people}, die erreichbar sind {reach}.")
    return (
        f"**So entsteht die Priorität:** {what} Die Segmente mit der höchsten Kennzahl, die zusammen die "
        f"ersten {fmt.pct(act.PRIORITY_HIGH_SHARE)} der Summe ausmachen, haben Priorität {_prio(act.HIGH)}, "
        f"die folgenden bis {fmt.pct(act.PRIORITY_MEDIUM_SHARE)} {_prio(act.MEDIUM)}, alle übrigen "
        f"{_prio(act.LOW)}. Ausnahme: {lost} hat immer Priorität {_prio(act.LOW)}"
        + (" und erhält Budget erst, wenn alle lohnenden Kontakte der übrigen Segmente bezahlt sind"
           if basis == act.BASIS_GAIN else "")
        + " – die empfohlene Maßnahme sieht dort keinen Schwerpunkt des Budgets vor. Die Dringlichkeit "
        "steht in der Priorität, nicht im Text der Maßnahme."
    )


def _ratio_cell(ratio: float, flag: bool, basis: str) -> str:
    if flag and (ratio is None or pd.isna(ratio)):
        return "auffällig (kein Vorjahresumsatz)"
    if ratio is None or pd.isna(ratio):
        return fmt.MISSING
    text = f"{fmt.number(ratio, 1)}×" + (" ¹" if basis == "per_year" else "")
    return text + (" auffällig" if flag else "")


def _revenue_header(history_days: int | None) -> str:
    return "Umsatz 12 Monate" if history_days is None or history_days >= 365 else \
        f"Umsatz {fmt.integer(history_days)} Tage"


def matrix_table(matrix: pd.DataFrame, history_days: int | None = 365) -> tuple[pd.DataFrame, dict]:
    """German segment table (customers, revenue, CLV, value if retained, value at risk, possible gain,
    forecast check, priority) and ``formats``; only columns with at least one known value."""
    out = pd.DataFrame({"Segment": matrix["segment"].map(labels.segment), "Kunden": matrix["customers"]})
    revenue = _revenue_header(history_days)
    if matrix["revenue_12m"].notna().any():
        out[revenue] = matrix["revenue_12m"]
    if matrix["clv"].notna().any():
        out["CLV"] = matrix["clv"]
    if matrix["value"].notna().any():
        out["Wert bei Verbleib"] = matrix["value"]
    if matrix["value_at_risk"].notna().any():
        out["Gefährdeter DB"] = matrix["value_at_risk"]
    if (matrix["priority_basis"] == act.BASIS_GAIN).any():
        out["Mögl. Zusatz-DB"] = matrix["potential_gain"]
    else:
        out["Erreichbar"] = matrix["reachable_share"]
    if "forecast_ratio" in matrix.columns and (matrix["forecast_revenue"].notna().any()):
        out["Prognose/Vorjahr"] = [_ratio_cell(r, f, b) for r, f, b in
                                   zip(matrix["forecast_ratio"], matrix["forecast_flag"], matrix["history_basis"])]
    out["Priorität"] = matrix["priority"].map(labels.priority)
    formats = {c: fmt.eur for c in (revenue, "CLV", "Wert bei Verbleib", "Gefährdeter DB", "Mögl. Zusatz-DB")}
    formats.update({"Kunden": fmt.integer, "Erreichbar": fmt.pct})
    return out, formats


def _history(days: int | None) -> str:
    """The comparison window of the forecast check in words."""
    if days is None or days >= 365:
        return "der letzten zwölf Monate"
    return f"des beobachteten Zeitraums ({fmt.integer(days)} Tage)"


def matrix_note(matrix: pd.DataFrame, ratio_max: float = 1.5, history_days: int | None = 365,
                audience: str | None = None) -> str:
    """Explanation of the matrix table's abbreviations (only of the columns it has)."""
    t = terms(audience)
    table, _ = matrix_table(matrix, history_days)
    cols = set(table.columns)
    parts = []
    if "CLV" in cols:
        parts.append("CLV = Kundenwert (CLV): erwarteter Deckungsbeitrag, Summe des Segments")
    if "Wert bei Verbleib" in cols:
        parts.append(f"Wert bei Verbleib = erwarteter Deckungsbeitrag, wenn die {t.people} aktiv bleiben")
    if "Gefährdeter DB" in cols:
        parts.append("Gefährdeter DB = Risiko × Wert bei Verbleib (DB = Deckungsbeitrag)")
    if "Mögl. Zusatz-DB" in cols:
        parts.append("Mögl. Zusatz-DB = erwarteter Ertrag nach Kosten, wenn alle lohnenden Kontakte bezahlt würden")
    if "Erreichbar" in cols:
        parts.append("Erreichbar = Anteil mit einem Kauf innerhalb der Erreichbarkeitsfrist")
    if "Prognose/Vorjahr" in cols:
        text = (f"Prognose/Vorjahr = prognostizierter Umsatz (CLV ÷ Marge) im Verhältnis zum Umsatz "
                f"{_history(history_days)}, auf denselben Zeitraum umgerechnet; „auffällig“ über dem "
                f"{_times(ratio_max)}n")
        if (matrix["history_basis"] == "per_year").any():
            text += ("; ¹ ohne Umsatz in den letzten zwölf Monaten: verglichen mit dem durchschnittlichen "
                     "Jahresumsatz seit dem ersten Kauf")
        parts.append(text)
    return "; ".join(parts) + "." if parts else ""


def forecast_check_text(res: "act.ActionsResult", ratio_max: float = 1.5, audience: str | None = None) -> str:
    """The segment sanity check in German: one warning per flagged segment, or that none was found."""
    m, h = res.matrix, res.key.forecast_horizon_months
    t = terms(audience or res.key.audience)
    if "forecast_revenue" not in m.columns or not m["forecast_revenue"].notna().any() or not h:
        return ""
    flagged = m[m["forecast_flag"]]
    if flagged.empty:
        return (f"**Prüfung der Prognose je Segment:** In keinem Segment liegt der prognostizierte Umsatz der "
                f"nächsten {fmt.integer(h)} Monate über dem {_times(ratio_max)}n des bisherigen Umsatzes "
                f"derselben {t.people}.")
    sents = []
    for row in flagged.itertuples(index=False):
        basis = (f"ihres Umsatzes {_history(res.key.forecast_history_days)}" if row.history_basis == "12m"
                 else "ihres durchschnittlichen Jahresumsatzes seit dem ersten Kauf")
        if pd.isna(row.forecast_ratio):
            how = f"obwohl diese {t.people} bisher keinen Nettoumsatz hatten"
        else:
            how = (f"das {_times(row.forecast_ratio)} {basis} ({fmt.eur(row.history_revenue)}, auf "
                   f"{fmt.integer(h)} Monate umgerechnet)")
        sents.append(
            f"**Prognose für das Segment {_seg(row.segment)} auffällig hoch:** erwartet werden "
            f"{fmt.eur(row.forecast_revenue)} Umsatz in {fmt.integer(h)} Monaten, {how} – mit Vorsicht lesen."
        )
    sents.append("Kundenwert, gefährdeter Deckungsbeitrag und Zusatzertrag dieser Segmente beruhen auf derselben "
                 "Prognose und sind eher zu hoch.")
    return " ".join(sents)


def action_table(matrix: pd.DataFrame, segment_actions: Mapping[str, str], audience: str | None = None) -> pd.DataFrame:
    """German table segment, priority and recommended action (in priority order); default actions in
    the audience's wording (:func:`helpers.labels.audience_action`)."""
    actions = dict(segment_actions)
    action = pd.Series([labels.audience_action(s, actions.get(s), audience) for s in matrix["segment"]],
                       index=matrix.index, dtype=object)
    return pd.DataFrame(
        {
            "Segment": matrix["segment"].map(labels.segment),
            "Priorität": matrix["priority"].map(labels.priority),
            "Empfohlene Maßnahme": action.where(action != "", fmt.MISSING),
        }
    )


def matrix_summary(res: "act.ActionsResult") -> str:
    """Where the value at risk sits (total = the churn chapter's, with its range) and which segments
    come first."""
    matrix, key = res.matrix, res.key
    sents = []
    if key.value_at_risk is not None:
        total = key.value_at_risk
        if total > 0:
            top = matrix.sort_values("value_at_risk", ascending=False, kind="stable").iloc[0]
            share = float(top["value_at_risk"]) / total
            sents.append(
                f"Insgesamt sind {fmt.eur(total)} erwarteter Deckungsbeitrag{_horizon(key.value_horizon_months)} "
                f"gefährdet{_range(key.value_at_risk_low, key.value_at_risk_high)}, dieselbe Zahl wie in "
                f"@sec-churn. Den größten Anteil trägt das Segment {_seg(top['segment'])} mit "
                f"{fmt.eur(top['value_at_risk'])} ({share_phrase(share)})."
            )
            if top["segment"] in labels.NO_BUDGET_FOCUS_SEGMENTS:
                sents.append("Dieser Betrag ist aber zum größten Teil nicht mehr zu retten: Ein Kontakt bringt "
                             "dort am wenigsten zurück, deshalb steht das Segment trotzdem nicht vorn.")
        else:
            sents.append("Nach den vorliegenden Prognosen ist kein Deckungsbeitrag gefährdet: Risiko oder Wert bei "
                         "Verbleib sind überall null.")
    high = matrix[matrix["priority"] == act.HIGH]
    if len(high):
        names = _join([_seg(s) for s in high["segment"]])
        word = "hat das Segment" if len(high) == 1 else "haben die Segmente"
        sents.append(f"Priorität {_prio(act.HIGH)} {word} {names}.")
    elif key.priority_basis == act.BASIS_GAIN:
        sents.append(f"Kein Segment erreicht Priorität {_prio(act.HIGH)}: Unter den getroffenen Annahmen "
                     "lohnt sich in keinem Segment ein Kontakt.")
    else:
        sents.append(f"Kein Segment erreicht Priorität {_prio(act.HIGH)}, weil keine Kennzahl größer als 0 ist.")
    return " ".join(sents)


# --- budget --------------------------------------------------------------------------------------

def assumptions_table(res: "act.ActionsResult", settings) -> pd.DataFrame:
    """The budget assumptions as a German two-column table (values already formatted).

    ``settings`` is ``cfg.actions``; budget and contact cost are the values actually used
    (``res.key``). The uplift per segment is in the budget table (column "Wirkung")."""
    k = res.key
    src = {"setting": "Einstellung", "audience_default": "Standard für "
           + ("Firmenkunden" if k.audience == "b2b" else "Privatkundschaft")}
    rows = [
        ("Zielgruppe", labels.AUDIENCE_LABELS[k.audience]
         + (", aus den Daten erkannt" if res.audience.source == "detected" else ", laut Einstellung")),
        ("Budget", f"{fmt.eur(k.budget)} ({src[k.budget_source]})"),
        ("Kosten je Kontakt", f"{fmt.eur(k.cost_per_contact, 2)} ({src[k.cost_source]})"),
        ("Wirkung eines Kontakts", "geretteter Anteil des gefährdeten Deckungsbeitrags, je Segment in der "
                                   "Spalte „Wirkung“ der Budgetverteilung"),
        ("Wirkung in nicht aufgeführten Segmenten", fmt.pct(settings.default_uplift, 1)),
        ("Spanne der Wirkung", f"ungünstig {fmt.number(settings.uplift_low_factor, 1)}-fach, günstig "
                               f"{fmt.number(settings.uplift_high_factor, 1)}-fach (höchstens 100 %)"),
        ("Kein Kontakt bei Risiko unter", fmt.pct(settings.min_risk)),
        ("Kein Kontakt bei Wert unter", fmt.eur(k.min_value, 2)),
        ("Erreichbar", f"letzter Kauf vor weniger als {fmt.integer(settings.reach_days)} Tagen"),
        ("Plausibilitätsgrenze des ROI", f"{fmt.number(k.roi_plausible_max, 0)}-faches der Kosten"),
    ]
    return pd.DataFrame(rows, columns=["Annahme", "Wert"])


def allocation_note(low_factor: float = 0.5, high_factor: float = 1.5, per_segment: pd.DataFrame | None = None,
                    roi_max: float | None = None, audience: str | None = None) -> str:
    """Explanation of the budget table; names the plausibility bound when a segment's ROI is hidden."""
    hidden = (per_segment is not None and roi_max is not None
              and bool((per_segment["roi"] > roi_max).any()))
    bound = (f" „nicht ausgewiesen“ = rechnerisch über der Plausibilitätsgrenze (dem {fmt.number(roi_max, 0)}-Fachen der Kosten); "
             "eine so hohe Rendite beruht eher auf zu optimistischen Annahmen." if hidden else "")
    return ("Wirkung = angenommener Anteil des gefährdeten Deckungsbeitrags, den ein Kontakt rettet (in "
            f"Klammern ungünstiger und günstiger Fall: {fmt.number(low_factor, 1)}- und "
            f"{fmt.number(high_factor, 1)}-fach); Zusatz-DB = erwarteter zusätzlicher Deckungsbeitrag nach "
            "Abzug der Kontaktkosten, Spanne = derselbe Betrag im ungünstigen und im günstigen Fall; "
            f"ROI = Zusatz-DB / Kosten; „Auswahl nach Ertrag“ = nur die {terms(audience).people}, bei denen ein "
            "Kontakt am meisten bringt." + bound)


def allocation_table(per_segment: pd.DataFrame, roi_max: float, low_factor: float = 0.5,
                     high_factor: float = 1.5) -> tuple[pd.DataFrame, dict]:
    """German budget table (uplift with its range, contacts, cost, expected gain after cost with its
    range, ROI, decision). An ROI above ``roi_max`` is shown as "nicht ausgewiesen"."""
    def uplift(v: float) -> str:
        return (f"{fmt.pct(v, 1)} ({fmt.number(100 * v * low_factor, 1)}–"
                f"{fmt.pct(min(1.0, v * high_factor), 1)})")

    def roi(v: float) -> str:
        if v is None or pd.isna(v):
            return fmt.MISSING
        return "nicht ausgewiesen" if v > roi_max else fmt.pct(v)

    spread = [fmt.MISSING if c == 0 else f"{fmt.eur(lo)} bis {fmt.eur(hi)}"
              for c, lo, hi in zip(per_segment["contacts"], per_segment["expected_gain_low"],
                                   per_segment["expected_gain_high"])]
    out = pd.DataFrame(
        {
            "Segment": per_segment["segment"].map(labels.segment),
            "Wirkung": per_segment["uplift"].map(uplift),
            "Kontakte": per_segment["contacts"],
            "Kosten": per_segment["cost"],
            "Zusatz-DB": per_segment["expected_gain"].where(per_segment["contacts"] > 0),
            "Spanne": spread,
            "ROI": per_segment["roi"].map(roi),
            "Entscheidung": per_segment["status"].map(STATUS_LABELS),
        }
    )
    formats = {"Kontakte": fmt.integer, "Kosten": fmt.eur, "Zusatz-DB": fmt.eur}
    return out, formats


def roi_text(key: "act.ActionsKeyFigures", audience: str | None = None) -> str:
    """Why an ROI above the plausibility bound is not printed, and which assumption drives it."""
    if key.roi_driver is None:
        return ""
    t = terms(audience or key.audience)
    bound = f"dem {fmt.number(key.roi_plausible_max, 0)}-Fachen der Kosten"
    first = (f"Rechnerisch läge der ROI über {bound}. Eine so hohe Rendite wäre für eine Kampagne "
             "außergewöhnlich; sie wird deshalb nicht als Ergebnis ausgewiesen.")
    if key.roi_driver == act.DRIVER_VALUE:
        why = ("Sie entsteht vor allem aus den Kundenwerten: Der größte Teil des geretteten Deckungsbeitrags "
               "stammt aus Segmenten, deren Umsatzprognose im Vergleich zum bisherigen Umsatz auffällig hoch "
               "ist (siehe Prüfung der Prognose oben).")
    elif key.roi_driver == act.DRIVER_UPLIFT:
        why = ("Sie entsteht vor allem aus der angenommenen Wirkung der Kontakte, die nicht gemessen ist. Erst "
               f"bei einer Wirkung von höchstens dem {fmt.number(key.roi_breakeven_uplift_factor, 2)}-fachen "
               f"der Annahme läge der ROI unter {bound}.")
    else:
        covered = ("den Versand, aber kaum Rabatte, Gutscheine oder Arbeitszeit" if t.audience == "b2c" else
                   "ein Telefonat, aber kaum Besuche, Angebotsarbeit oder Konditionen")
        why = (f"Sie entsteht vor allem aus den niedrigen Kontaktkosten von {fmt.eur(key.cost_per_contact, 2)}: "
               f"Sie decken {covered}. Erst bei Kosten von "
               f"{fmt.eur(key.roi_breakeven_cost, 2)} je Kontakt läge der ROI bei {bound}.")
    return (f"{first} {why} Belastbar wird die Rendite erst durch eine Kampagne mit Kontrollgruppe "
            f"(z. B. 10 % der ausgewählten {t.people} nicht ansprechen und vergleichen).")


def budget_text(per_segment: pd.DataFrame, totals: Mapping[str, float], cost_per_contact: float,
                value_is_clv: bool = True, *, roi_max: float | None = 10.0,
                horizon_months: int | None = None, factors: tuple[float, float] = (0.5, 1.5),
                audience: str | None = None) -> str:
    """German summary of the budget allocation; adapts to spent/unspent budget and skipped segments.

    ``totals`` as :func:`helpers.analysis.actions.allocation_totals` (``roi`` NaN or ``None``
    without contacts); an ROI above ``roi_max`` is not printed (see :func:`roi_text`)."""
    t = terms(audience)
    if totals["contacts"] == 0:
        if totals["budget"] < cost_per_contact:
            return "Das Budget reicht nicht für einen einzigen Kontakt; es wird keine Ausgabe empfohlen."
        nobody = "keiner Kundin und keinem Kunden" if t.audience == "b2c" else "keinem Firmenkunden"
        return (
            f"Bei {nobody} ist der erwartete gerettete Deckungsbeitrag höher als die "
            f"Kontaktkosten von {fmt.eur(cost_per_contact, 2)}. Eine Kampagne würde sich unter diesen "
            "Annahmen nicht lohnen; das Budget sollte nicht ausgegeben werden (Streuverluste vermeiden)."
        )
    spent_all = totals["unspent"] < cost_per_contact or cost_per_contact <= 0
    roi_value = totals["roi"]
    roi_ok = roi_value is not None and not math.isnan(roi_value) and (roi_max is None or roi_value <= roi_max)
    roi = f" (ROI {fmt.pct(roi_value)})." if roi_ok else "."
    low, high = totals.get("expected_gain_low"), totals.get("expected_gain_high")
    spread = (f" Mit dem {_times(factors[0])}n bzw. {_times(factors[1])}n der angenommenen Wirkung wären es "
              f"{fmt.eur(low)} bis {fmt.eur(high)}."
              if low is not None and high is not None and not (low == high == totals["expected_gain"]) else "")
    sents = [
        "Kontaktiert wird zuerst, wer den höchsten erwarteten Ertrag bringt (Wirkung des Segments × Risiko × "
        "Wert bei Verbleib − Kosten), und nur, wenn dieser Ertrag positiv ist.",
        (f"Das Budget von {fmt.eur(totals['budget'])} reicht für "
         f"{count_phrase(int(totals['contacts']), 'Kontakt', 'Kontakte')}"
         if spent_all else
         f"So gehen {fmt.eur(totals['cost'])} des Budgets von {fmt.eur(totals['budget'])} an "
         f"{people(int(totals['contacts']), t, 'acc')}")
        + f". Erwartet werden {fmt.eur(totals['expected_gain'])} zusätzlicher Deckungsbeitrag"
        f"{_horizon(horizon_months)} nach Abzug der Kosten" + roi + spread,
    ]
    if totals["unspent"] >= cost_per_contact and cost_per_contact > 0:
        sents.append(
            f"{fmt.eur(totals['unspent'])} bleiben ungenutzt: Weitere Kontakte würden nach diesen Annahmen "
            "weniger einbringen, als sie kosten."
        )
    more = int(per_segment["eligible"].sum() - per_segment["contacts"].sum())
    if more > 0:
        sents.append(
            f"Für weitere {count_phrase(more, 'Kontakt', 'Kontakte')} wäre der erwartete Ertrag höher als die Kosten; "
            f"{'er ist' if more == 1 else 'sie sind'} nur wegen des begrenzten Budgets nicht enthalten."
        )

    def segments(*status: str) -> str | None:
        names = per_segment.loc[per_segment["status"].isin(status), "segment"].tolist()
        if not names:
            return None
        return ("das Segment " if len(names) == 1 else "die Segmente ") + _join([_seg(n) for n in names])

    if skipped := segments(act.STATUS_BELOW_COST, act.STATUS_NEGLIGIBLE, act.STATUS_UNREACHABLE):
        sents.append(
            f"Kein Geld fließt in {skipped}: Dort rettet ein Kontakt weniger, als er kostet, oder Risiko, Wert "
            "bzw. Erreichbarkeit sind zu gering – hier gilt es, Streuverluste zu vermeiden."
        )
    if exhausted := segments(act.STATUS_BUDGET):
        sents.append(
            f"Für {exhausted} reicht das Budget nicht mehr, obwohl sich "
            "Kontakte dort rechnen würden; ein höheres Budget würde sie erreichen."
        )
    return " ".join(sents)


def exclusion_text(key: "act.ActionsKeyFigures", min_risk: float = 0.05, audience: str | None = None) -> str:
    """How many customers are never bought, and why (thresholds from the settings)."""
    t = terms(audience or key.audience)
    parts = []
    if key.excluded_low_risk:
        parts.append(f"{people(key.excluded_low_risk, t)} mit einem Abwanderungsrisiko unter {fmt.pct(min_risk)}")
    if key.excluded_low_value:
        parts.append(f"{people(key.excluded_low_value, t)} mit einem Wert unter {fmt.eur(key.min_value, 2)}")
    if key.excluded_unreachable:
        n = int(key.excluded_unreachable)
        parts.append(f"{people(n, t)}, {'die' if n != 1 else 'die oder der' if t.audience == 'b2c' else 'der'} "
                     f"vermutlich nicht mehr erreichbar {verb(n, 'ist', 'sind')}")
    if not parts:
        return ""
    return ("Grundsätzlich nicht im Budget: " + _join(parts) + ". Dort gibt es nichts Nennenswertes zu "
            "retten, oder der Kontakt erreicht niemanden.")


NO_VALUE_BUDGET = ("Ohne Umsatzdaten und ohne Kundenwertprognose lässt sich kein Ertrag einer Kampagne "
                   "berechnen; die Budgetverteilung entfällt.")
NO_RISK_BUDGET = ("Ohne Abwanderungsrisiko lässt sich nicht sagen, wie viel Deckungsbeitrag ein Kontakt rettet; "
                  "die Budgetverteilung entfällt.")


def budget_summary(res: "act.ActionsResult", settings=None) -> str:
    """:func:`budget_text`, the exclusions and the ROI check of the plan (or why there is no budget)."""
    if not res.has_value:
        return NO_VALUE_BUDGET
    if not res.has_risk:
        return NO_RISK_BUDGET
    k = res.key
    totals = {"budget": k.budget, "contacts": k.contacts, "cost": k.cost, "unspent": k.unspent,
              "expected_gain": k.expected_gain, "expected_gain_low": k.expected_gain_low,
              "expected_gain_high": k.expected_gain_high,
              "roi": k.roi_computed if k.roi_computed is not None else float("nan")}
    from ..config import ActionSettings

    a = settings or ActionSettings()
    text = budget_text(res.allocation, totals, k.cost_per_contact, roi_max=k.roi_plausible_max,
                       horizon_months=k.value_horizon_months,
                       factors=(a.uplift_low_factor, a.uplift_high_factor), audience=k.audience)
    return " ".join(t for t in (text, exclusion_text(k, a.min_risk), roi_text(k)) if t)


def has_budget(res: "act.ActionsResult") -> bool:
    """The budget section has numbers (value and risk known): show its assumptions and table."""
    return bool(res.has_value and res.has_risk)


def assumption_note(low_factor: float = 0.5, high_factor: float = 1.5) -> str:
    """The German note that uplift, budget and contact cost are assumptions (with the sensitivity)."""
    return (
        "**Annahmen, keine Messwerte:** Die Wirkung je Segment (welcher Anteil des gefährdeten "
        "Deckungsbeitrags durch einen Kontakt gerettet wird), das Budget und die Kosten je Kontakt sind "
        "Annahmen. Deshalb steht neben jedem Ertrag eine Spanne für das "
        f"{_times(low_factor)} und das {_times(high_factor)} der angenommenen Wirkung. Die Annahmen sollten "
        "durch eigene Kampagnenergebnisse ersetzt werden, am besten aus einem Test mit Kontrollgruppe."
    )


# --- cross-selling -------------------------------------------------------------------------------

def crosssell_skip(cross: cs.CrossSell) -> str:
    """Why cross-selling is skipped (no category column / only one category)."""
    n_categories = cross.n_categories
    if cross.skip == cs.SKIP_NO_CATEGORY:
        return ("Die Daten enthalten keine Warengruppe. Empfehlungen für Zusatz- und Folgekäufe "
                "(Cross-Selling) lassen sich deshalb nicht ableiten; dieser Abschnitt entfällt.")
    return (f"Die Daten enthalten nur {fmt.integer(n_categories)} Warengruppe. Ohne mehrere Warengruppen "
            "gibt es keine Kaufkombinationen; Empfehlungen für Zusatzkäufe entfallen deshalb.")


def crosssell_definitions(audience: str | None = None) -> str:
    """Support, confidence and lift in German, in the audience's words."""
    t = terms(audience)
    return (
        f"Für jedes Paar von Warengruppen A und B zählt, wie viele {t.people} beide gekauft haben. "
        f"**Support** ist ihr Anteil an allen {t.people}. **Konfidenz** (A → B) ist unter allen, die A gekauft "
        "haben, der Anteil derer, die auch B gekauft haben. **Lift** vergleicht diese Konfidenz mit dem "
        "Anteil, der B ohnehin kauft: Ein Lift über 1 heißt, wer A kauft, kauft B häufiger als der Durchschnitt."
    )


CROSSSELL_DEFINITIONS = crosssell_definitions("b2c")
"""Consumer wording of :func:`crosssell_definitions` (kept for existing callers)."""


def pairs_table(pairs: pd.DataFrame, n: int = 10) -> tuple[pd.DataFrame, dict]:
    """The strongest ``n`` rules with lift > 1 as a German table."""
    top = pairs[pairs["lift"] > 1].head(n)
    out = pd.DataFrame(
        {
            "Wenn gekauft": top["antecedent"].astype(str),
            "dann auch": top["consequent"].astype(str),
            "Kunden mit beidem": top["customers_both"].astype(int),
            "Support": top["support"],
            "Konfidenz": top["confidence"],
            "Lift": top["lift"],
        }
    )
    formats = {"Kunden mit beidem": fmt.integer, "Support": lambda v: fmt.pct(v, 1),
               "Konfidenz": fmt.pct, "Lift": lambda v: fmt.number(v, 2)}
    return out, formats


def crosssell_summary(cross: cs.CrossSell, audience: str | None = None, min_group: int = MIN_GROUP_SIZE) -> str:
    """German sentences on the strongest combination and how many customers get a suggestion."""
    t = terms(audience)
    pairs, min_customers = cross.pairs, cross.min_customers
    usable = pairs[(pairs["lift"] > 1) & (pairs["customers_both"] >= min_customers)]
    n = cross.n_customers
    with_rec = cross.n_with_suggestion
    if usable.empty:
        return (
            "Keine Kombination von Warengruppen wird häufiger gemeinsam gekauft, als der Zufall erwarten "
            f"ließe (Lift über 1 bei mindestens {fmt.integer(min_customers)} {t.people} mit "
            "beiden Warengruppen). Gezielte Zusatzkauf-Empfehlungen lassen sich daraus nicht ableiten."
        )
    best = usable.sort_values(["lift", "confidence"], ascending=False).iloc[0]
    share = f" ({share_phrase(with_rec / n)})" if n and group_ok(n, min_group) else ""
    return (
        f"Die stärkste Verbindung besteht von {_quote(best['antecedent'])} zu {_quote(best['consequent'])}: "
        f"Von allen, die {_quote(best['antecedent'])} gekauft haben, haben {share_phrase(best['confidence'])} "
        f"auch {_quote(best['consequent'])} gekauft, das {fmt.number(best['lift'], 2)}-Fache des "
        f"Durchschnitts. Für {fmt.integer(with_rec)} von {people(n, t, 'dat')}{share} gibt es mindestens eine "
        f"Warengruppe, die noch nicht gekauft wurde, die aber ähnliche {t.people} überdurchschnittlich oft kaufen."
    )


def crosssell_howto(audience: str | None = None) -> str:
    """How to use the suggestions (consumer: newsletter, shop, vouchers; Firmenkunden: sales talks, offers)."""
    t = terms(audience)
    each = "je Kundin oder Kunde" if t.audience == "b2c" else "je Firmenkunde"
    use = ("die Inhalte von Newslettern, für Produktempfehlungen im Shop oder für Gutscheine auf eine neue "
           "Warengruppe" if t.audience == "b2c" else
           "Gespräche des Außendienstes und der Kundenbetreuung, für Angebote zu einer neuen Warengruppe oder "
           "für Produktempfehlungen im Bestellportal")
    return (
        "**So nutzen Sie die Empfehlungen:** Die Spalte „Nächste Warengruppen“ in den Zielgruppenlisten nennt "
        f"{each} bis zu zwei Warengruppen, die noch nicht gekauft wurden. Sie eignen sich für {use}. "
        "Gereiht wird nach Konfidenz × Lift der besten passenden Regel. Eine Regel zeigt ein "
        "gemeinsames Kaufmuster, keine Ursache – ob eine Empfehlung wirkt, zeigt erst ein Test mit Kontrollgruppe."
    )


CROSSSELL_HOWTO = crosssell_howto("b2c")
"""Consumer wording of :func:`crosssell_howto` (kept for existing callers)."""


# --- target lists --------------------------------------------------------------------------------

def export_text(lists: pd.DataFrame, pseudonymized: bool, workbook: str = WORKBOOK_NAME,
                folder: str = LISTS_FOLDER, audience: str | None = None) -> str:
    """Which target lists the report writes (the plan in ``ActionsResult.lists``) and what the IDs are."""
    t = terms(audience)
    ids = ("Die Kundennummern sind pseudonymisiert; die Zuordnung zu echten Nummern ist nur mit dem "
           "Schlüssel des Berichts möglich." if pseudonymized else
           "Die Listen enthalten die echten Kundennummern aus dem Export.")
    if lists.empty:
        return ("Kein Segment erfüllt die Bedingungen für eine Zielgruppenliste; der Bericht legt "
                "keine Listen an.")
    n_cust = int(lists["customers"].sum())
    n_seg = len(lists)
    seg_word = "ein Segment" if n_seg == 1 else f"{fmt.integer(n_seg)} Segmente"
    text = (
        f"Für {seg_word} mit zusammen {people(n_cust, t, 'dat')} gibt es Zielgruppenlisten für das CRM. Der "
        f"Bericht legt diese Listen im Ordner „{md_escape(folder)}“ neben der PDF-Datei ab: eine "
        f"Excel-Arbeitsmappe „{md_escape(workbook)}“ mit einem Tabellenblatt je Segment und dieselben "
        "Daten als CSV-Dateien (Semikolon, Dezimalkomma, UTF-8). Gelistet werden die Segmente mit "
        f"Priorität {_prio(act.HIGH)} oder {_prio(act.MEDIUM)} und alle Segmente mit Budget. " + ids
    )
    if lists["truncated"].any():
        shown = int(lists.loc[lists["truncated"], "sheet_rows"].max()) if "sheet_rows" in lists else None
        first = ("nur die erste Zeile" if shown == 1 else f"die ersten {fmt.integer(shown)} Zeilen") if shown \
            else "nur den Anfang"
        text += (f" Bei sehr großen Segmenten zeigt das Tabellenblatt {first} der Liste (geordnet nach "
                 f"erwartetem zusätzlichem Deckungsbeitrag nach Kosten); die CSV-Dateien enthalten alle {t.people}.")
    return text


def lists_table(plan: pd.DataFrame) -> pd.DataFrame:
    """German overview of the target lists (segment, sheet, customers, CSV file) from the action
    plan's list plan (``ActionsResult.lists``); names as the export writes them."""
    names = segment_list_names(list(plan["segment"]))
    lists = plan.reset_index(drop=True).assign(sheet=names["sheet"], csv=names["csv"])
    return pd.DataFrame(
        {
            "Segment": lists["segment"].map(labels.segment),
            "Tabellenblatt": lists["sheet"],
            "Kunden": lists["customers"].astype(int),
            "CSV-Datei": lists["csv"],
        }
    )
