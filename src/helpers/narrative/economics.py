"""German text for the chapter "Warum Bestandskunden zählen" (from :class:`helpers.analysis.economics.EconomicsResult`).

Every sentence is chosen from the numbers so that it is true for any client:

- a section whose analysis did not run shows its heading and the reason only (no introduction,
  no reference to a figure or table that is not there);
- a share, average or comparison is only stated when ``min_group_size`` customers stand behind it;
- shares never round to a false "0 %" or "100 %" (:func:`share`);
- counts agree in number („eine Kundin oder ein Kunde“, „2 Kundinnen und Kunden“, „1 Tag“);
- rules of thumb from consulting practice are named as such, never as confirmed facts.

The section functions return Markdown that starts with the section heading (``## …``); the
notebook shows them with ``show_text`` and shows a figure or table only under the same condition
(the result's ``has_…`` properties).
"""

from __future__ import annotations

import math

import pandas as pd

from .. import fmt
from .common import capital, count_phrase, people, pronoun, share_phrase, terms, verb
from ..analysis.concentration import ConcentrationSummary
from ..analysis.economics import (
    COST_RULE_OF_THUMB, REVENUE_RULE_OF_THUMB, EconomicsResult, GroupContrast, LostRevenue, WhatIf,
)

GROUP_LABELS = {"one_time": "Einmalkäufer", "repeat": "Wiederholungskäufer"}
"""Group id (:data:`helpers.analysis.economics.GROUPS`) -> German label."""
PERIOD_WORDS = {
    "year": {"unit": "Jahr", "the": "das Jahr", "prev": "Vorjahr", "span": "zwölf Monate", "in": "im Jahr",
             "of_prev": "des Vorjahres"},
    "quarter": {"unit": "Quartal", "the": "das Quartal", "prev": "Vorquartal", "span": "drei Monate",
                "in": "im Quartal", "of_prev": "des Vorquartals"},
}


# --- small helpers ---------------------------------------------------------------------------


def _ok(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


share = share_phrase
"""A share that never rounds to a false "0 %"/"100 %" (:func:`helpers.narrative.common.share_phrase`)."""
count = count_phrase
"""Number agreement of any noun (:func:`helpers.narrative.common.count_phrase`)."""
_capital = capital


def _customers(n: int, audience=None, case: str = "nom") -> str:
    """``n`` customers in the audience's words (:func:`helpers.narrative.common.people`)."""
    return people(n, audience, case)


def _each(audience=None) -> str:
    """"Kundin oder Kunde" / "Firmenkunde" after "je"."""
    return "Kundin oder Kunde" if terms(audience).audience == "b2c" else "Firmenkunde"


def _adj_people(n: int, audience, plural_adj: str, fem_adj: str, masc_adj: str) -> str:
    """Customers with an adjective in number agreement: „3 zurückgewonnene Kundinnen und Kunden“,
    „eine zurückgewonnene Kundin oder ein zurückgewonnener Kunde“, „ein zurückgewonnener Firmenkunde“."""
    t = terms(audience)
    if int(n) == 1:
        return (f"eine {fem_adj} Kundin oder ein {masc_adj} Kunde" if t.audience == "b2c"
                else f"ein {masc_adj} Firmenkunde")
    return f"{fmt.integer(n)} {plural_adj} {t.people}"


def _section(title: str, *paragraphs: str) -> str:
    body = "\n\n".join(p for p in paragraphs if p)
    return f"## {title}\n\n{body}"


def times(value: float) -> str:
    """``3.75`` -> ``"das 3,7-Fache"`` (German multiple)."""
    return f"das {fmt.number(value, 1)}-Fache"


def period_label(start: pd.Timestamp, end: pd.Timestamp, short: bool = False) -> str:
    """``01.04.1998``–``30.06.1998`` -> ``"2. Quartal 1998"``; a calendar year -> ``"2025"``; else the dates.

    ``short`` (chart labels): ``"Q2 1998"``, ``"2025"`` or ``"10/25–\n09/26"`` (two lines).
    """
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if start.is_year_start and end.is_year_end and start.year == end.year:
        return str(start.year)
    if start.is_quarter_start and end.is_quarter_end and (end - start).days < 100:
        return f"{start.quarter}. Quartal {start.year}" if not short else f"Q{start.quarter} {start.year}"
    if short:
        return f"{start.month:02d}/{start.year % 100:02d}–\n{end.month:02d}/{end.year % 100:02d}"
    return f"{fmt.date(start)} – {fmt.date(end)}"


# --- introduction and summary ------------------------------------------------------------------


def single_cohort_text(res: EconomicsResult, audience=None) -> str:
    """What the data are when they follow one acquisition cohort (empty otherwise)."""
    a = res.acquisition
    if not res.key.single_cohort:
        return ""
    t = terms(audience)
    days = (res.observation_end - res.first_date).days + 1
    phase = (a.first_to - res.first_date).days + 1
    later = (f"danach {verb(a.later, 'kam', 'kamen')} nur noch {_customers(a.later, t)} neu hinzu" if a.later
             else "danach kam niemand mehr neu hinzu")
    return (
        f"**Die Daten beschreiben eine einzige Kundengruppe.** {fmt.integer(a.in_window)} der "
        f"{fmt.integer(a.customers)} {t.people} ({share(a.share_in_window)}) haben zum ersten Mal zwischen dem "
        f"{fmt.date(a.first_from)} und dem {fmt.date(a.first_to)} gekauft, also in den ersten "
        f"{share(phase / days)} des Beobachtungszeitraums ({fmt.date(res.first_date)} bis "
        f"{fmt.date(res.observation_end)}); {later}. Die Daten zeigen damit eine in dieser Zeit gewonnene "
        "Gruppe, die danach beobachtet wird (eine Kohortenstudie), oder einen Export, der nur bereits bekannte "
        f"{t.people} enthält – keinen Kundenstamm mit laufender Neukundengewinnung. Dieses Kapitel vergleicht deshalb "
        "keine Neukundenjahrgänge und rechnet nicht mit dem Umsatz von Neukunden; es zeigt stattdessen, wie aktiv "
        "diese eine Gruppe über die Zeit bleibt."
    )


def intro(res: EconomicsResult, audience=None) -> str:
    """The chapter's opening paragraph: what it shows for these data (only the parts that run)."""
    t = terms(audience)
    parts = []
    if res.flow.ok:
        unit = PERIOD_WORDS[res.flow.period]["unit"]
        parts.append(f"wie sich die Zahl der aktiven {t.people} von {unit} zu {unit} verändert (neu, gehalten, "
                     "zurückgewonnen und verloren)")
    parts.append("was Einmalkäufer von Wiederholungskäufern unterscheidet")
    if res.has_activity:
        parts.append("wie aktiv die eine Kundengruppe über die Zeit bleibt")
    elif res.has_cohorts:
        parts.append("wie viele Neukunden später erneut kaufen")
    if res.has_nrr:
        parts.append(f"wie viel Umsatz die {t.people} eines Jahres im Folgejahr noch bringen")
    if res.has_lorenz:
        parts.append(f"wie stark sich der Umsatz auf wenige {t.people} konzentriert")
    if res.lost.computable and res.lost.lost_customers > 0:
        parts.append(f"was es kostet, den Umsatz abgewanderter {t.people} durch Neukunden zu ersetzen")
    if res.whatif is not None:
        parts.append("was eine etwas höhere Bindungsquote wert wäre")
    listed = ", ".join(parts[:-1]) + (" und " if len(parts) > 1 else "") + parts[-1]
    return f"Was bringen {t.people}, die wiederkommen? Dieses Kapitel zeigt, {listed}."


def repeat_sentence(res: EconomicsResult, audience=None) -> str:
    """Share of repeat buyers and their share of net revenue (or purchases without revenue)."""
    groups, key = res.groups, res.key
    t = terms(audience)
    rep = groups.loc["repeat"]
    if key.customers == 0:
        return "Die Daten enthalten keinen Kauf."
    if key.repeat_customers == 0:
        return ("Niemand hat im Beobachtungszeitraum an mehr als einem Tag gekauft; es gibt also noch keine "
                "Wiederholungskäufer.")
    if key.customers < res.min_group_size:
        return (f"Von {_customers(key.customers, t, 'dat')} {verb(key.repeat_customers, 'hat', 'haben')} "
                f"{fmt.integer(key.repeat_customers)} an mindestens zwei Tagen gekauft; für Anteile sind es zu "
                f"wenige {t.people}.")
    head = (f"{_capital(share(key.repeat_rate))} der {t.people} haben an mindestens zwei Tagen gekauft "
            f"(Wiederkaufrate; Wiederholungskäufer: {fmt.integer(key.repeat_customers)} von "
            f"{fmt.integer(key.customers)})")
    if _ok(key.repeat_revenue_share):
        return f"{head}; sie erzielen {share(key.repeat_revenue_share)} des Nettoumsatzes."
    total_p = groups["purchases"].sum()
    return f"{head}; auf sie entfallen {share(rep['purchases'] / total_p)} aller Käufe."


def summary(res: EconomicsResult, audience=None) -> str:
    """Up to four sentences for the client: framing, repeat buyers, customer flow, NRR, concentration."""
    t = terms(audience)
    parts = []
    if res.key.single_cohort:
        a = res.acquisition
        parts.append(f"Die Daten beschreiben eine einzige Kundengruppe: {_capital(share(a.share_in_window))} der "
                     f"{t.people} kauften zum ersten Mal zwischen dem {fmt.date(a.first_from)} und dem "
                     f"{fmt.date(a.first_to)}, danach kamen kaum neue hinzu.")
    parts.append(repeat_sentence(res, t))
    flow = flow_sentence(res, t)
    if flow:
        parts.append(flow)
    parts.append(nrr_sentence(res.yearly, res.has_revenue, res.min_group_size, t))
    if res.has_lorenz:
        parts.append(f"Die 20 % umsatzstärksten {t.people} erzielen {share(res.concentration.top_20)} des "
                     "Nettoumsatzes.")
    return " ".join(parts[:4])


# --- customer flow ----------------------------------------------------------------------------


def flow_sentence(res: EconomicsResult, audience=None) -> str:
    """The latest period of the customer flow in one sentence ("" without a flow)."""
    row = res.flow.latest
    if row is None:
        return ""
    t = terms(audience)
    w = PERIOD_WORDS[res.flow.period]
    span = (f"In den zwölf Monaten bis zum {fmt.date(row['period_end'])}" if res.flow.period == "year"
            else f"Im Quartal vom {fmt.date(row['period_start'])} bis zum {fmt.date(row['period_end'])}")
    gains = []
    if row["new"]:
        gains.append(count(int(row["new"]), "Neukunde", "Neukunden"))
    if row["reactivated"]:
        gains.append(_adj_people(int(row["reactivated"]), t, "zurückgewonnene", "zurückgewonnene",
                                 "zurückgewonnener"))
    n_gain = int(row["new"] + row["reactivated"])
    if gains:
        gain_text = f"{verb(n_gain, 'kam', 'kamen')} {' und '.join(gains)} hinzu"
    else:
        gain_text = f"kamen weder Neukunden noch zurückgewonnene {t.people} hinzu"
    lost = int(row["lost"])
    nobody = "niemand" if t.audience == "b2c" else "keiner"
    lost_text = (f"{_customers(lost, t)} {w['of_prev']} {verb(lost, 'kaufte', 'kauften')} nicht mehr" if lost
                 else f"von den aktiven {t.people} {w['of_prev']} blieb {nobody} weg")
    before, after = int(row["active_previous"]), int(row["active"])
    if after > before:
        change = f"die Zahl der aktiven {t.people} stieg von {fmt.integer(before)} auf {fmt.integer(after)}"
    elif after < before:
        change = f"die Zahl der aktiven {t.people} sank von {fmt.integer(before)} auf {fmt.integer(after)}"
    else:
        change = f"die Zahl der aktiven {t.people} blieb bei {fmt.integer(after)}"
    return f"{span} {gain_text}, {lost_text}: {_capital(change)}."


def flow_section(res: EconomicsResult, audience=None) -> str:
    """Section "Kundenbewegung": definitions, references to table and chart, the latest period."""
    title = "Kundenbewegung"
    t = terms(audience)
    if not res.flow.ok:
        days = (res.observation_end - res.first_date).days + 1
        return _section(title, (
            "Für die Kundenbewegung werden mindestens zwei volle Quartale Daten benötigt (ein Zeitraum und "
            f"der Zeitraum davor); die Daten umfassen nur {count(days, 'Tag', 'Tage')} "
            f"({fmt.date(res.first_date)} bis {fmt.date(res.observation_end)}). Sie entfällt deshalb."))
    w = PERIOD_WORDS[res.flow.period]
    periods = ("jeweils zwölf Monate, gezählt rückwärts vom Beobachtungsende" if res.flow.period == "year" else
               "jeweils drei Monate (Quartale), gezählt rückwärts vom Beobachtungsende – für Jahre reichen die "
               "Daten nicht")
    definitions = (
        f"Die Zeiträume sind {periods}. Als **aktiv** zählt, wer in einem Zeitraum an mindestens einem Tag "
        "gekauft hat. **Neu** ist, wer im Zeitraum zum ersten Mal gekauft hat, **gehalten**, wer auch im "
        "Zeitraum davor aktiv war, **zurückgewonnen**, wer im Zeitraum davor nicht, aber früher schon "
        "gekauft hat, und **verloren**, wer im Zeitraum davor aktiv war, in diesem aber nicht. "
        "Es gilt: Aktive davor − verlorene + neue + zurückgewonnene = Aktive im Zeitraum."
    )
    censor = (f"Käufe vor Beginn der Daten ({fmt.date(res.first_date)}) sind nicht bekannt: Vor allem in den "
              "ersten Zeiträumen können unter den Neukunden auch Zurückgewonnene sein.")
    shown = flow_chart_periods(res)
    units = "Jahre" if res.flow.period == "year" else "Quartale"
    chart = ("@fig-economics-flow zeigt die Bewegung als Wasserfall" +
             (f" (die letzten {fmt.integer(shown)} {units})" if shown < len(res.flow.table) else "") + ", "
             "@tbl-economics-flow alle Zahlen.")
    text = [definitions, censor, chart, flow_sentence(res, t)]
    row = res.flow.latest
    if row["active_previous"] >= res.min_group_size:
        kept = int(row["retained"])
        text.append(f"Von den {fmt.integer(int(row['active_previous']))} aktiven {t.people} {w['of_prev']} "
                    f"{verb(kept, 'hat', 'haben')} {fmt.integer(kept)} "
                    f"({share(row['retained'] / row['active_previous'])}) auch {w['in']} danach gekauft"
                    + (" (Bindungsquote)." if res.flow.period == "year" else "."))
    return _section(title, *text[:3], " ".join(text[3:]))


FLOW_CHART_MAX_PERIODS = 3
"""The waterfall shows at most this many periods (the table all)."""


def flow_chart_periods(res: EconomicsResult) -> int:
    """How many periods the waterfall chart shows."""
    return min(len(res.flow.table), FLOW_CHART_MAX_PERIODS)


def flow_table(res: EconomicsResult) -> pd.DataFrame:
    """The customer flow per period (German strings, oldest period first)."""
    t = res.flow.table
    return pd.DataFrame({
        "Zeitraum": [period_label(a, b) for a, b in zip(t["period_start"], t["period_end"])],
        "Aktiv davor": [fmt.integer(v) for v in t["active_previous"]],
        "Gehalten": [fmt.integer(v) for v in t["retained"]],
        "Neu": [fmt.integer(v) for v in t["new"]],
        "Zurückgewonnen": [fmt.integer(v) for v in t["reactivated"]],
        "Verloren": [fmt.integer(v) for v in t["lost"]],
        "Aktiv": [fmt.integer(v) for v in t["active"]],
    })


FLOW_ALIGN = {"Zeitraum": "left", "Aktiv davor": "right", "Gehalten": "right", "Neu": "right",
              "Zurückgewonnen": "right", "Verloren": "right", "Aktiv": "right"}
"""Column alignment of :func:`flow_table`."""


def flow_caption(res: EconomicsResult, audience=None) -> str:
    """Caption of the flow table."""
    unit = "Jahr (zwölf Monate)" if res.flow.period == "year" else "Quartal"
    return (f"Kundenbewegung je {unit}: aktive, gehaltene, neue, zurückgewonnene und verlorene "
            f"{terms(audience).people}")


# --- one-time vs repeat buyers -----------------------------------------------------------------


def groups_section(res: EconomicsResult, audience=None) -> str:
    """Section "Einmal- und Wiederholungskäufer": definitions and references to table and chart."""
    return _section(
        "Einmal- und Wiederholungskäufer",
        "Als **Einmalkäufer** zählt, wer im Beobachtungszeitraum an genau einem Tag gekauft hat, als "
        f"**Wiederholungskäufer**, wer an mindestens zwei Tagen gekauft hat. Der Umsatz je {_each(audience)} und "
        "Jahr bezieht sich auf **aktive Kalenderjahre**: Der Nettoumsatz einer Gruppe wird durch die Zahl der "
        f"Kalenderjahre geteilt, in denen die {terms(audience).people} der Gruppe jeweils mindestens einmal "
        "gekauft haben. "
        + ("@tbl-economics-groups vergleicht beide Gruppen, @fig-economics-groups zeigt ihre Anteile."
           if res.key.customers else ""),
    )


def contrast_text(res: EconomicsResult, audience=None) -> str:
    """The comparison of repeat and one-time buyers, with what it can and cannot show."""
    c: GroupContrast = res.contrast
    groups = res.groups
    if c.reason is not None:
        n_one, n_rep = int(groups.loc["one_time", "customers"]), int(groups.loc["repeat", "customers"])
        need = fmt.integer(res.min_group_size)
        reasons = {
            "no_revenue": "Ohne Umsatzangaben lassen sich die Umsätze der beiden Gruppen nicht vergleichen.",
            "too_few_one_time": (f"Für einen Vergleich der Umsätze gibt es zu wenige Einmalkäufer ({fmt.integer(n_one)}; "
                                 f"nötig sind mindestens {need})."),
            "too_few_repeat": (f"Für einen Vergleich der Umsätze gibt es zu wenige Wiederholungskäufer "
                               f"({fmt.integer(n_rep)}; nötig sind mindestens {need})."),
            "no_positive_revenue": ("Eine der beiden Gruppen hat netto keinen positiven Umsatz; ein Vergleich der "
                                    "Umsätze ist deshalb nicht sinnvoll."),
        }
        return reasons[c.reason]
    one, rep = groups.loc["one_time"], groups.loc["repeat"]
    text = (f"Ein Wiederholungskäufer brachte im Beobachtungszeitraum im Schnitt {times(c.factor)} des "
            f"Nettoumsatzes eines Einmalkäufers (je aktivem Kalenderjahr {times(c.factor_per_year)}). Dieser "
            "Vergleich ist zum großen Teil rechnerisch vorgegeben: Wiederholungskäufer haben per Definition "
            "mindestens zwei Käufe, Einmalkäufer genau einen. Nicht vorgegeben ist der Umsatz je Kauf: ")
    aov_one, aov_rep = fmt.eur(one["aov"], 2), fmt.eur(rep["aov"], 2)
    r = c.aov_ratio
    if abs(r - 1) < 0.05:
        text += (f"Er liegt bei Wiederholungskäufern mit {aov_rep} etwa so hoch wie bei Einmalkäufern ({aov_one}); "
                 "ihr Mehrumsatz kommt also aus der Zahl der Käufe, nicht aus größeren Einkäufen.")
    elif r > 1:
        text += (f"Er liegt bei Wiederholungskäufern mit {aov_rep} um {share(r - 1)} höher als bei Einmalkäufern "
                 f"({aov_one}); sie kaufen also öfter und geben je Kauf mehr aus.")
    else:
        text += (f"Er liegt bei Wiederholungskäufern mit {aov_rep} um {share(1 - r)} niedriger als bei "
                 f"Einmalkäufern ({aov_one}); sie kaufen also öfter, geben je Kauf aber weniger aus.")
    return text


def rules_of_thumb_text(res: EconomicsResult, audience=None) -> str:
    """The consultants' rules of thumb, named as such (no primary source, not tested by the data)."""
    t = terms(audience)
    r_low, r_high = (fmt.number(v, 0) for v in REVENUE_RULE_OF_THUMB)
    c_low, c_high = (fmt.number(v, 0) for v in COST_RULE_OF_THUMB)
    keep = ("eine Bestandskundin oder einen Bestandskunden" if t.audience == "b2c"
            else "einen bestehenden Firmenkunden")
    own = ("Ob sich Kundenbindung lohnt, zeigt erst der Vergleich mit den eigenen Kosten für die Gewinnung und die "
           f"Betreuung von {t.people}")
    own += (" – der Abschnitt „Was kostet Abwanderung?“ rechnet das mit einstellbaren Kostensätzen vor."
            if res.lost.computable and res.lost.lost_customers > 0 else ".")
    return (f"**Faustregeln aus der Beratungspraxis:** Oft heißt es, Bestandskunden brächten das {r_low}- bis "
            f"{r_high}-Fache des Umsatzes von Neukunden, und einen Neukunden zu gewinnen koste {c_low}- bis "
            f"{c_high}-mal so viel, wie {keep} zu halten. Für beide Zahlen gibt es keine belastbare "
            "Primärquelle; es sind Erfahrungswerte, keine Messungen, und der Vergleich oben prüft sie nicht. " + own)


# --- cohorts ----------------------------------------------------------------------------------


def _unit(period: str) -> tuple[str, str]:
    """(noun, genitive) of a cohort period."""
    return ("Monat", "Monats") if period == "M" else ("Quartal", "Quartals")


def _observed(period: str, article: str) -> str:
    """„keinen vollständig beobachteten Monat“ / „kein vollständig beobachtetes Quartal“ (accusative)."""
    if period == "M":
        return {"kein": "keinen vollständig beobachteten Monat", "ein": "ein vollständig beobachteter Monat"}[article]
    return {"kein": "kein vollständig beobachtetes Quartal", "ein": "ein vollständig beobachtetes Quartal"}[article]


def cohort_view_note(res: EconomicsResult, audience=None) -> str:
    """Which cohorts the heatmaps show and which not (so nothing is cut off silently)."""
    v = res.view
    t = terms(audience)
    notes = []
    if v.aggregated:
        notes.append(f"Die Daten enthalten {fmt.integer(v.n_requested)} vollständig beobachtete Monatskohorten; "
                     f"damit die Heatmaps lesbar bleiben, sind sie zu {fmt.integer(v.n_cohorts)} Quartalskohorten "
                     "zusammengefasst.")
    noun = "Monatskohorte" if v.period == "M" else "Quartalskohorte"
    nouns = noun + "n"
    if v.small:
        notes.append(f"{count(v.small, noun, nouns)} mit weniger als {fmt.integer(res.min_group_size)} {t.people} "
                     f"{'ist' if v.small == 1 else 'sind'} nicht gezeigt (zu wenige für einen Anteil).")
    if v.young:
        none = _observed(v.period, "kein")
        notes.append(f"Die jüngste Kohorte hat noch {none} nach dem Erstkauf und fehlt deshalb." if v.young == 1
                     else f"Die jüngsten {fmt.integer(v.young)} Kohorten haben noch {none} nach dem Erstkauf und "
                          "fehlen deshalb.")
    if v.older:
        notes.append(f"Gezeigt werden die jüngsten {fmt.integer(len(v.shown))} Kohorten; "
                     f"{count(v.older, 'ältere fehlt', 'ältere fehlen')} in der Grafik.")
    if v.hidden_k:
        unit, _ = _unit(v.period)
        later = ("späterer ist", "spätere sind") if v.period == "M" else ("späteres ist", "spätere sind")
        notes.append(f"Die Spalten reichen bis zum {fmt.integer(v.max_k)}. {unit} nach dem Erstkauf; "
                     f"{count(v.hidden_k, *later)} nicht gezeigt.")
    return " ".join(notes)


def cohort_sentence(res: EconomicsResult, audience=None) -> str:
    """How many customers of an average cohort buy again in period 1 and one year later."""
    m, base, period = res.mean_retention, res.mean_retention_base, res.cohorts.period
    unit, gen = _unit(period)
    n_min = res.min_group_size
    if len(m) < 2 or not _ok(m.iloc[1]) or base.get(1, 0) < n_min:
        return ""
    following = "im Folgemonat" if period == "M" else "im Folgequartal"
    text = (f"Von den Neukunden eines {gen} kaufen im Schnitt {share(m.iloc[1], 1)} {following} erneut "
            f"(Durchschnitt über {_customers(int(base.get(1)), audience, 'acc')})")
    late = 12 if period == "M" else 4
    if len(m) > late and _ok(m.iloc[late]) and base.get(late, 0) >= n_min:
        when = "im zwölften Monat nach dem Erstkaufmonat" if period == "M" else "im vierten Quartal nach dem Erstkaufquartal"
        text += f", {when} sind es {share(m.iloc[late], 1)}"
    return text + "."


def cohort_section(res: EconomicsResult, audience=None) -> str:
    """Section on cohorts: the single group over time, the cohort heatmap, or why neither is shown."""
    t = terms(audience)
    if res.key.single_cohort:
        return _section("Eine Kundengruppe im Zeitverlauf", single_cohort_text(res, t), activity_text(res, t))
    title = "Kohorten: Wer kommt wieder?"
    unit, gen = _unit(res.cohorts.period)
    if not res.has_cohorts:
        if res.cohorts.empty or res.view.young == res.view.n_cohorts:
            reason = (f"Für eine Kohortenanalyse fehlt mindestens {_observed(res.cohorts.period, 'ein')} nach dem "
                      "ersten Kauf; sie entfällt deshalb.")
        else:
            reason = (f"Keine Kohorte hat mindestens {fmt.integer(res.min_group_size)} {t.people}; für Anteile je Kohorte "
                      "sind es zu wenige, die Kohortenanalyse entfällt deshalb.")
        return _section(title, reason)
    definition = (
        f"Eine **Kohorte** umfasst alle {t.people}, die im selben {unit} zum ersten Mal gekauft haben. Für jede "
        f"Kohorte zeigt @fig-economics-cohorts, welcher Anteil von ihnen im 1., 2., 3. … {unit} nach dem Erstkauf "
        f"erneut gekauft hat. Nur vollständig beobachtete {'Monate' if unit == 'Monat' else 'Quartale'} werden "
        "gezeigt; leere Felder liegen in der Zukunft."
    )
    return _section(title, definition, cohort_view_note(res, t), cohort_sentence(res, t))


def revenue_cohort_text(res: EconomicsResult, audience=None) -> str:
    """Introduction of the revenue heatmap (only when it is shown)."""
    if not res.has_revenue_cohorts:
        return ""
    t = terms(audience)
    unit, _ = _unit(res.cohorts.period)
    return (f"Der Anteil wiederkehrender {t.people} sagt noch nichts über den Umsatz. "
            "@fig-economics-revenue-cohorts setzt deshalb "
            f"den Nettoumsatz einer Kohorte im {unit} *k* ins Verhältnis zu ihrem Nettoumsatz im {unit} des "
            f"Erstkaufs. Werte über 100 % bedeuten, dass die wiederkehrenden {t.people} in diesem "
            f"{unit} mehr ausgegeben haben als die ganze Kohorte beim Erstkauf.")


def activity_text(res: EconomicsResult, audience=None) -> str:
    """The single cohort's activity over calendar months."""
    act = res.activity
    if not res.has_activity:
        return ("Für den Verlauf der Gruppe fehlen mindestens zwei vollständig beobachtete Kalendermonate; er "
                "entfällt deshalb.")
    after = act[act.index.start_time > res.acquisition.first_to]
    text = ("@fig-economics-activity zeigt für jeden vollständig beobachteten Kalendermonat, welcher Anteil der "
            "ganzen Gruppe darin gekauft hat.")
    if len(after) >= 2:
        first, last = after.iloc[0], after.iloc[-1]
        text += (f" Im ersten vollen Monat nach der Gewinnungsphase ({fmt.month(after.index[0].start_time)}) kauften "
                 f"{share(first['share'], 1)} der Gruppe, im letzten beobachteten Monat "
                 f"({fmt.month(after.index[-1].start_time)}) {share(last['share'], 1)}.")
    g = res.groups.loc["repeat"]
    if res.key.customers >= res.min_group_size:
        text += (f" Über den ganzen Zeitraum haben {share(g['customer_share'])} der Gruppe an mindestens zwei Tagen "
                 "gekauft.")
    return text


# --- yearly revenue retention -------------------------------------------------------------------


def nrr_sentence(yearly: pd.DataFrame, has_revenue: bool = True, min_customers: int = 1, audience=None) -> str:
    """One sentence on the latest net revenue retention, or why it is missing (no revenue, fewer than
    two full years, fewer than ``min_customers`` customers in the earlier year, no base revenue)."""
    if not has_revenue:
        return "Ohne Umsatzangaben lässt sich die Net Revenue Retention nicht berechnen."
    if yearly.empty:
        return ("Die Net Revenue Retention lässt sich nicht berechnen, weil die Daten keine zwei vollen "
                "Jahre mit Umsatz abdecken.")
    row = yearly.iloc[0]
    if row["base_customers"] < min_customers:
        n = int(row["base_customers"])
        return (f"Für die Net Revenue Retention sind es zu wenige {terms(audience).people}: In den zwölf Monaten vor "
                f"dem {fmt.date(row['year_start'])} {verb(n, 'hat', 'haben')} nur "
                f"{_customers(n, audience)} gekauft (nötig sind mindestens {fmt.integer(min_customers)}).")
    if not _ok(row["nrr"]):
        return (f"Die Net Revenue Retention lässt sich nicht berechnen, weil die {terms(audience).people} des Vorjahres netto "
                "keinen Umsatz hatten.")
    head = (f"Wer in den zwölf Monaten vor dem {fmt.date(row['year_start'])} gekauft hat, brachte im folgenden "
            f"Jahr {share(row['nrr'])} des Vorjahresumsatzes (Net Revenue Retention)")
    if row["nrr"] >= 1:
        return f"{head}: Der Umsatz mit den bestehenden {terms(audience).people} ist also gewachsen."
    return (f"{head}: Ohne Neukunden wäre der Umsatz mit diesen {terms(audience).people} um {share(1 - row['nrr'])} "
            "zurückgegangen.")


def yearly_section(res: EconomicsResult, audience=None) -> str:
    """Section "Umsatzbindung von Jahr zu Jahr": definitions and table reference, or why it is missing."""
    title = "Umsatzbindung von Jahr zu Jahr"
    t = terms(audience)
    if not res.has_nrr:
        return _section(title, yearly_missing_text(res, t))
    return _section(
        title,
        f"Zwei Kennzahlen fassen zusammen, wie viel Umsatz die {t.people} eines Jahres im Folgejahr noch bringen. Ein "
        "„Jahr“ sind hier jeweils zwölf Monate, gezählt rückwärts vom Beobachtungsende; Umsatz heißt Nettoumsatz "
        "aller Zeilen, Retouren eingeschlossen (auch Retouren an Tagen ohne Kauf).",
        f"- **Net Revenue Retention (NRR):** Umsatz im Jahr *Y* von allen {t.people}, die im Jahr *Y−1* gekauft\n"
        "  haben, geteilt durch deren Umsatz im Jahr *Y−1*. Mehrumsatz der einen gleicht Verluste der anderen aus.\n"
        f"- **Gross Revenue Retention (GRR):** wie NRR, aber je {_each(t)} zählt der Umsatz im Jahr *Y* höchstens\n"
        "  bis zur Höhe des Vorjahresumsatzes. Die GRR zeigt also nur die Verluste und kann nie über 100 % liegen.",
        f"Die **Bindungsquote** ist der Anteil der {t.people} eines Jahres, die im Folgejahr wieder kaufen. "
        "@tbl-economics-nrr zeigt alle drei Kennzahlen je Zwölfmonatszeitraum.",
    )


def yearly_table(yearly: pd.DataFrame, min_customers: int = 1) -> pd.DataFrame:
    """NRR/GRR per 12-month window with at least ``min_customers`` customers in the earlier year
    (German strings; short headers so narrow columns do not collide)."""
    yearly = yearly[(yearly["base_customers"] >= min_customers) & yearly["nrr"].notna()]
    return pd.DataFrame({
        "Zeitraum": [period_label(a, b) for a, b in zip(yearly["year_start"], yearly["year_end"])],
        "Kunden Vorjahr": [fmt.integer(v) for v in yearly["base_customers"]],
        "wieder gekauft": [share(v) for v in yearly["customer_retention"]],
        "Umsatz Vorjahr": [fmt.eur(v) for v in yearly["base_revenue"]],
        "Umsatz im Jahr": [fmt.eur(v) for v in yearly["next_revenue"]],
        "NRR": [fmt.pct(v) for v in yearly["nrr"]],
        "GRR": [fmt.pct(v) for v in yearly["grr"]],
    })


YEARLY_ALIGN = {"Zeitraum": "left", "Kunden Vorjahr": "right", "wieder gekauft": "right", "Umsatz Vorjahr": "right",
                "Umsatz im Jahr": "right", "NRR": "right", "GRR": "right"}
"""Column alignment of :func:`yearly_table`."""
def yearly_note(audience=None) -> str:
    """Note under the NRR table (explains the short headers)."""
    p = terms(audience).people
    return (f"Kunden Vorjahr: {p} mit Kauf in den zwölf Monaten davor; wieder gekauft: Anteil davon mit "
            f"Kauf im Zeitraum (Bindungsquote); Umsatz: Nettoumsatz dieser {p}.")


YEARLY_NOTE = yearly_note()
"""Note under the NRR table (explains the short headers)."""


def yearly_missing_text(res: EconomicsResult, audience=None) -> str:
    """Why NRR and GRR are missing (no revenue, fewer than two full years, no base revenue)."""
    if not res.has_revenue:
        return nrr_sentence(res.yearly, has_revenue=False)
    if not res.yearly.empty:
        return nrr_sentence(res.yearly, True, res.min_group_size, audience)
    return ("Für NRR und GRR werden mindestens zwei volle Jahre mit Umsatzdaten benötigt. Der Datensatz "
            f"beginnt am {fmt.date(res.first_date)} und endet am {fmt.date(res.observation_end)}; "
            "die Kennzahlen lassen sich deshalb nicht berechnen.")


# --- concentration ----------------------------------------------------------------------------


def concentration_section(res: EconomicsResult, audience=None) -> str:
    """Section "Wie stark konzentriert sich der Umsatz?": Lorenz curve explanation, or why it is missing."""
    title = "Wie stark konzentriert sich der Umsatz?"
    t = terms(audience)
    if not res.has_lorenz:
        return _section(title, concentration_sentence(res.concentration, res.concentration_skip, res, t))
    return _section(
        title,
        f"Die **Lorenzkurve** (@fig-economics-lorenz) ordnet alle {t.people} aufsteigend nach ihrem Nettoumsatz und "
        "trägt den kumulierten Umsatzanteil gegen den Kundenanteil ab. Bei völlig gleich verteiltem Umsatz läge sie "
        f"auf der Diagonalen; je weiter sie durchhängt, desto stärker hängt der Umsatz an wenigen {t.people}. Der "
        "**Gini-Koeffizient** misst die Fläche zwischen Diagonale und Kurve (0 = alle gleich, nahe 1 = eine einzige "
        f"{t.person} hat fast alles). {t.people} mit negativem Nettoumsatz (mehr Retouren als Käufe) zählen mit "
        "einem Umsatz von null.",
    )


def concentration_sentence(concentration: ConcentrationSummary | None, skip: str | None = None,
                           res: EconomicsResult | None = None, audience=None) -> str:
    """Top-10 %/top-20 % shares and Gini in words, with an adaptive assessment, or why they are missing."""
    t = terms(audience)
    if concentration is None or not _ok(concentration.top_20):
        if skip == "too_few_customers" and res is not None:
            return (f"Für eine Aussage über die Umsatzkonzentration sind es zu wenige {t.people} "
                    f"({fmt.integer(res.key.customers)}; nötig sind mindestens {fmt.integer(res.min_group_size)}).")
        if skip == "no_positive_revenue":
            nobody = "Niemand" if t.audience == "b2c" else "Kein Firmenkunde"
            return f"{nobody} hat netto einen positiven Umsatz; die Umsatzkonzentration entfällt deshalb."
        return "Ohne Umsatzangaben lässt sich die Umsatzkonzentration nicht berechnen."
    top10, top20, gini = concentration.top_10, concentration.top_20, concentration.gini
    text = (f"Die 10 % umsatzstärksten {t.people} erzielen {share(top10)} des Nettoumsatzes, die 20 % umsatzstärksten "
            f"{share(top20)} (Gini-Koeffizient {fmt.number(gini, 2)}).")
    if top20 >= 0.8:
        return text + f" Der Umsatz hängt damit stark an wenigen {t.people}."
    if top20 > 0.5:
        return text + f" Mehr als die Hälfte des Umsatzes kommt also von einem Fünftel der {t.people}."
    return text + f" Der Umsatz verteilt sich damit vergleichsweise gleichmäßig auf die {t.people}."


# --- lost customers -----------------------------------------------------------------------------


def cost_source_text(lost: LostRevenue, audience=None) -> str:
    """Where the two cost rates come from (preset rule of thumb or the client's own figures)."""
    rates = (f"{fmt.eur(lost.cost_per_new_customer, 2)} je gewonnenem Neukunden und "
             f"{fmt.eur(lost.cost_per_retained_customer, 2)} je {_each(audience)} und Jahr für Betreuung und Bindung")
    if lost.costs_are_defaults:
        names = " und ".join(f"„{_setting_name(k)}“" for k in ("cost_per_new_customer", "cost_per_retained_customer"))
        return (f"Die Kostensätze ({rates}) sind voreingestellte Faustwerte im Verhältnis 5 : 1, keine Messwerte des "
                f"Unternehmens; mit den eigenen Kosten (Einstellungen {names}) ändern sich die Ergebnisse.")
    return f"Die Kostensätze ({rates}) sind vom Unternehmen vorgegeben."


def _setting_name(field: str) -> str:
    """German label of an economics setting without the trailing „(Annahme)“."""
    from ..labels import SETTING_LABELS

    return SETTING_LABELS[f"economics.{field}"][0].removesuffix(" (Annahme)")


def lost_section(res: EconomicsResult, audience=None) -> str:
    """Section "Was kostet Abwanderung?": lost customers, replacement cost and the break-even of retention."""
    lost = res.lost
    title = "Was kostet Abwanderung?"
    if not lost.computable:
        return _section(title, lost_text(lost, res, audience))
    return _section(title, lost_text(lost, res, audience),
                    cost_source_text(lost, audience) if lost.lost_customers else "")


def lost_text(lost: LostRevenue, res: EconomicsResult | None = None, audience=None) -> str:
    """Step-by-step German explanation of the replacement cost for lost customers, or why it is missing."""
    t = terms(audience)
    if not lost.computable:
        window = (f"vom {fmt.date(lost.window_start)} bis zum {fmt.date(lost.window_end)}"
                  if lost.window_start is not None else "")
        n_min = fmt.integer(res.min_group_size) if res is not None else "20"
        reasons = {
            "no_revenue": "Ohne Umsatzangaben lassen sich die Kosten der Abwanderung nicht berechnen.",
            "too_short": ("Für die Kosten der Abwanderung werden zwei volle Jahre Daten benötigt (ein Jahr, in dem "
                          "gekauft wurde, und das Jahr danach); die Daten reichen dafür nicht. Die Rechnung entfällt."),
            "single_cohort": ("Nach der Gewinnungsphase kamen praktisch keine Neukunden hinzu; der Umsatz abgewanderter "
                              f"{t.people} lässt sich deshalb nicht mit dem Umsatz von Neukunden vergleichen. Die "
                              "Rechnung entfällt."),
            "too_few_new": (f"Im Jahr {window} {verb(lost.new_customer_sample, 'hat', 'haben')} nur "
                            f"{_customers(lost.new_customer_sample, t)} zum ersten Mal gekauft "
                            f"(nötig sind mindestens {n_min}); ein Durchschnittsumsatz von Neukunden wäre zu unsicher. "
                            "Die Rechnung entfällt."),
            "no_new_revenue": (f"Die Neukunden des Jahres {window} brachten netto keinen Umsatz; die Rechnung "
                               "entfällt deshalb."),
        }
        return reasons.get(lost.reason, "Die Kosten der Abwanderung lassen sich mit diesen Daten nicht berechnen.")
    period = f"zwischen dem {fmt.date(lost.window_start)} und dem {fmt.date(lost.window_end)}"
    if lost.lost_customers == 0:
        nobody = "niemand" if t.audience == "b2c" else "kein Firmenkunde"
        return (f"Alle {fmt.integer(lost.base_customers)} {t.people}, die {period} gekauft haben, haben auch in den "
                f"zwölf Monaten danach gekauft; es ist {nobody} abgewandert.")
    n = lost.lost_customers
    lines = [
        f"Als **abgewandert** gilt, wer {period} gekauft hat, in den zwölf Monaten danach aber nicht mehr. Das "
        f"trifft auf {fmt.integer(n)} von {_customers(lost.base_customers, t, 'dat')} zu; "
        f"{pronoun(n, t)} {verb(n, 'brachte', 'brachten')} in diesem Jahr {fmt.eur(lost.lost_revenue)} Nettoumsatz.",
    ]
    if lost.new_customers_needed == 0:
        lines.append("Netto ging damit kein Umsatz verloren, der ersetzt werden müsste.")
        return " ".join(lines)
    lines += [
        f"Ein Neukunde bringt in seinen ersten zwölf Monaten im Schnitt {fmt.eur(lost.new_customer_year_revenue, 2)} "
        f"(Durchschnitt über {_customers(lost.new_customer_sample, t, 'acc')} mit dem ersten Kauf in diesem Jahr); um den "
        f"verlorenen Umsatz zu ersetzen, wären also rund "
        f"{count(lost.new_customers_needed, 'Neukunde', 'Neukunden')} nötig. Bei angenommenen "
        f"{fmt.eur(lost.cost_per_new_customer, 2)} je gewonnenem Neukunden kostet das rund {fmt.eur(lost.replacement_cost)}.",
    ]
    lines.append(breakeven_text(lost, t))
    return " ".join(l for l in lines if l)


def breakeven_text(lost: LostRevenue, audience=None) -> str:
    """Retention against replacement without perfect foresight: how many losses must be prevented."""
    if lost.breakeven_saved is None or not lost.replacement_cost > 0:
        return ""
    t = terms(audience)
    head = ("Wer abwandern wird, weiß man vorher nicht. Würde man deshalb alle "
            f"{fmt.integer(lost.base_customers)} {t.people} des Jahres ein Jahr lang für je "
            f"{fmt.eur(lost.cost_per_retained_customer, 2)} betreuen ({fmt.eur(lost.care_cost)}), ")
    if lost.breakeven_saved == 0:
        return head + "wäre das kostenlos und damit immer billiger als der Ersatz durch Neukunden."
    if lost.breakeven_reachable:
        return (head + f"müsste das mindestens {fmt.integer(lost.breakeven_saved)} der {fmt.integer(lost.lost_customers)} "
                f"Abwanderungen ({share(lost.breakeven_saved / lost.lost_customers)}) verhindern, um billiger zu sein "
                "als der Ersatz durch Neukunden. Ob eine Maßnahme das schafft, zeigt nur ein Test mit Kontrollgruppe.")
    return (head + "wäre das selbst dann teurer als der Ersatz durch Neukunden, wenn jede Abwanderung verhindert "
            f"würde. Mit diesen Kostensätzen lohnt sich Bindung nur gezielt für {t.people} mit hohem Risiko und Wert "
            "(siehe die Kapitel zu Abwanderung und Maßnahmen).")


def lost_table(lost: LostRevenue, audience=None) -> pd.DataFrame:
    """The replacement-cost arithmetic as a small step table (German strings)."""
    t = terms(audience)
    steps = [
        ("1", f"Im Vorjahr aktive {t.people}", fmt.integer(lost.base_customers)),
        ("2", "davon in den letzten zwölf Monaten ohne Kauf (abgewandert)", fmt.integer(lost.lost_customers)),
        ("3", "Nettoumsatz der Abgewanderten im Vorjahr", fmt.eur(lost.lost_revenue)),
        ("4", "Nettoumsatz eines Neukunden in seinen ersten zwölf Monaten", fmt.eur(lost.new_customer_year_revenue, 2)),
        ("5", "Nötige Neukunden = Zeile 3 / Zeile 4, aufgerundet", fmt.integer(lost.new_customers_needed)),
        ("6", "Kosten je Neukunde (Annahme)", fmt.eur(lost.cost_per_new_customer, 2)),
        ("7", "Kosten des Ersatzes = Zeile 5 × Zeile 6", fmt.eur(lost.replacement_cost)),
        ("8", f"Betreuung aller {t.people} aus Zeile 1 = Zeile 1 × {fmt.eur(lost.cost_per_retained_customer, 2)} "
              "(Annahme)",
         fmt.eur(lost.care_cost)),
    ]
    if lost.breakeven_saved is not None:
        steps.append(("9", "Nötige verhinderte Abwanderungen, damit Zeile 8 sich lohnt = Zeile 8 / (Zeile 7 / Zeile 2), "
                           "aufgerundet", fmt.integer(lost.breakeven_saved)))
    return pd.DataFrame(steps, columns=["Schritt", "Rechengröße", "Wert"])


def show_lost_table(res: EconomicsResult) -> bool:
    """The step table is shown (replacement cost computed and something to replace)."""
    return res.lost.computable and res.lost.lost_customers > 0 and res.lost.new_customers_needed > 0


# --- what-if ----------------------------------------------------------------------------------


WHATIF_REASONS = {
    "no_revenue": "Ohne Umsatzangaben entfällt die Beispielrechnung.",
    "too_short": ("Für die Beispielrechnung wird die Bindungsquote von einem Jahr zum nächsten benötigt; dafür "
                  "reichen die Daten nicht (mindestens zwei volle Jahre). Sie entfällt deshalb."),
    "no_base_revenue": "Die {people} des Vorjahres hatten netto keinen Umsatz; die Beispielrechnung entfällt deshalb.",
    "no_retained_revenue": ("Die wiederkehrenden {people} brachten netto keinen Umsatz; die Beispielrechnung entfällt "
                            "deshalb."),
}


def whatif_title(audience=None) -> str:
    """Heading of the what-if section."""
    return f"Was wäre, wenn mehr {terms(audience).people} blieben?"


def whatif_section(res: EconomicsResult, audience=None) -> str:
    """Section "Was wäre, wenn mehr … blieben?": model, inputs, result, or why it is missing."""
    t = terms(audience)
    title = whatif_title(t)
    if res.whatif is None:
        reason = WHATIF_REASONS.get(res.whatif_skip)
        if reason is None:  # too few customers
            latest = res.yearly.iloc[0] if not res.yearly.empty else None
            n = int(latest["retained_customers"]) if latest is not None else 0
            reason = (f"Für die Beispielrechnung sind es zu wenige {t.people} (wieder gekauft "
                      f"{verb(n, 'hat', 'haben')} {fmt.integer(n)}; nötig sind mindestens "
                      f"{fmt.integer(res.min_group_size)}). Sie entfällt deshalb.")
        return _section(title, reason.replace("{people}", t.people))
    return _section(
        title,
        f"Die Beispielrechnung in @tbl-economics-whatif betrachtet nur die heutigen {t.people} (alle, die in den "
        "letzten zwölf Monaten gekauft haben) und fragt: Wie viel zusätzlichen Umsatz und Deckungsbeitrag bringt es, "
        f"wenn die jährliche **Bindungsquote** – der Anteil der {t.people}, die im nächsten Jahr wieder kaufen – um "
        "einige Prozentpunkte steigt?",
        f"Rechenweg je Jahr *t*: Anzahl ohne Verbesserung = heutige {t.people} × Bindungsquote^*t*^; Anzahl mit "
        "Verbesserung = heutige Anzahl × (Bindungsquote + Steigerung)^*t*^; zusätzlicher Umsatz = zusätzliche "
        f"Anzahl × Jahresumsatz einer gehaltenen {t.person}; Deckungsbeitrag = Umsatz × Marge.",
        whatif_text(res.whatif, t),
    )


def whatif_text(wi: WhatIf | None, audience=None) -> str:
    """Inputs, result and assumptions of the what-if (the total over all years, the margin used)."""
    if wi is None:
        return WHATIF_REASONS["too_short"]
    t = terms(audience)
    return (
        f"Ausgangspunkt sind die {fmt.integer(wi.active_customers)} {t.people}, die in den letzten zwölf Monaten "
        f"gekauft haben. Bisher kaufen von einem Jahr zum nächsten {share(wi.retention, 1)} der {t.people} wieder; "
        f"angenommen wird eine Steigerung um {fmt.pp(wi.uplift_pp)} auf {share(wi.improved_retention, 1)}. Eine "
        f"gehaltene {t.person} bringt im Jahr im Schnitt {fmt.eur(wi.revenue_per_customer, 2)} Nettoumsatz. Über "
        f"{count(wi.years, 'Jahr', 'Jahre')} "
        f"ergibt das zusammen {fmt.eur(wi.extra_revenue)} zusätzlichen Umsatz und {fmt.eur(wi.extra_margin)} "
        f"zusätzlichen Deckungsbeitrag (Marge {fmt.pct(wi.gross_margin)} des Nettoumsatzes). "
        f"**Annahmen:** Die Steigerung gilt sofort, dauerhaft und für alle {t.people} gleich; Neukunden, Abzinsung und "
        "die Kosten der Maßnahmen sind nicht eingerechnet. Die Rechnung sagt also nicht, dass sich die Steigerung "
        f"erreichen lässt, sondern wie viel sie wert wäre: Maßnahmen, die sie bewirken, dürften über "
        f"{count(wi.years, 'Jahr', 'Jahre')} höchstens {fmt.eur(wi.extra_margin)} kosten, um sich zu rechnen."
    )


def whatif_caption(wi: WhatIf) -> str:
    """Caption of the what-if table."""
    return f"Beispielrechnung: Bindungsquote plus {fmt.pp(wi.uplift_pp)}"


def whatif_table(wi: WhatIf) -> pd.DataFrame:
    """The what-if per year plus a total row (German strings)."""
    table = wi.table
    out = pd.DataFrame({
        "Jahr": [fmt.integer(t) for t in table["year"]],
        "Kunden bisher": [fmt.integer(v) for v in table["customers_base"]],
        "Kunden mit Steigerung": [fmt.integer(v) for v in table["customers_improved"]],
        "Mehr Kunden": [fmt.integer(v) for v in table["extra_customers"]],
        "Mehrumsatz": [fmt.eur(v) for v in table["extra_revenue"]],
        "Mehr Deckungsbeitrag": [fmt.eur(v) for v in table["extra_margin"]],
    })
    total = {"Jahr": "Summe", "Kunden bisher": "", "Kunden mit Steigerung": "", "Mehr Kunden": "",
             "Mehrumsatz": fmt.eur(table["extra_revenue"].sum()),
             "Mehr Deckungsbeitrag": fmt.eur(table["extra_margin"].sum())}
    return pd.concat([out, pd.DataFrame([total])], ignore_index=True)


# --- group table ------------------------------------------------------------------------------


def group_table(groups: pd.DataFrame, audience=None) -> pd.DataFrame:
    """Display table (German strings): one row per key figure, columns Einmalkäufer / Wiederholungskäufer."""
    t = terms(audience)
    rows = [
        ("Kunden", "customers", fmt.integer),
        ("Anteil an allen Kunden", "customer_share", share),
        ("Käufe (Kauftage)", "purchases", fmt.integer),
        ("Käufe je Kunde", "purchases_per_customer", lambda v: fmt.number(v, 1)),
        ("Nettoumsatz", "revenue", fmt.eur),
        ("Anteil am Nettoumsatz", "revenue_share", share),
        (f"Umsatz je Kauf (durchschnittlicher {t.order_value})", "aov", lambda v: fmt.eur(v, 2)),
        ("Umsatz je Kunde im Beobachtungszeitraum", "revenue_per_customer", lambda v: fmt.eur(v, 2)),
        ("Umsatz je Kunde und aktivem Kalenderjahr", "revenue_per_customer_year", lambda v: fmt.eur(v, 2)),
    ]
    data = {"Kennzahl": [], GROUP_LABELS["one_time"]: [], GROUP_LABELS["repeat"]: []}
    for label, col, f in rows:
        if col not in groups.columns:
            continue
        data["Kennzahl"].append(label)
        data[GROUP_LABELS["one_time"]].append(f(groups.loc["one_time", col]))
        data[GROUP_LABELS["repeat"]].append(f(groups.loc["repeat", col]))
    return pd.DataFrame(data)
