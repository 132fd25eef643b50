"""German text for the chapter "Kundensegmentierung nach RFM" (from :mod:`helpers.analysis.rfm`).

Every sentence is chosen from the numbers so that it is true for any client (guards in
:mod:`helpers.narrative.common`): a share is only stated for a segment with at least ``min_group``
customers and never rounds to a false "0 %"; texts that announce a chart are only shown with the
chart (the ``…_text`` functions return ``""`` when it is not drawn). Segments arrive as ids and are
shown with their German names from :mod:`helpers.labels` (a client's own segment id is shown as
written); ``audience`` (``ActionsResult.key.audience``) chooses the words for the customers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

import pandas as pd

from .. import fmt, labels
from .common import (MIN_GROUP_SIZE, capital, count_phrase, group_ok, ok, people, quote, share_phrase, terms,
                     verb)

if TYPE_CHECKING:  # pragma: no cover
    from ..analysis.rfm import RfmKeyFigures, RfmResult

_q = quote


def _qs(seg_id: str) -> str:
    """German segment name of ``seg_id`` in German quotes, Markdown-safe."""
    return _q(labels.segment(seg_id))


# ---------------------------------------------------------------- introduction and chart texts


def intro(res: "RfmResult", audience: str | None = None) -> str:
    """The chapter's opening paragraph with the three measures (Monetary only when there is revenue)."""
    t = terms(audience)
    money = (f"- **Monetary (M)** – Umsatz: Nettoumsatz im Beobachtungszeitraum in {fmt.currency_name()} "
             "(nach Retouren)." if res.has_revenue else
             "- **Monetary (M)** – Umsatz: entfällt, weil die Daten keinen Umsatz enthalten.")
    return (
        f"Nicht alle {t.people} brauchen dieselbe Ansprache. Die RFM-Analyse teilt die {t.clientele} nach drei "
        "einfachen Merkmalen in Segmente ein und ordnet jedem Segment eine passende Maßnahme zu. Gemessen wird am "
        "Ende des Beobachtungszeitraums:\n\n"
        "- **Recency (R)** – Aktualität: Tage seit dem letzten Kauf.\n"
        "- **Frequency (F)** – Häufigkeit: Zahl der Kauftage im Beobachtungszeitraum.\n"
        + money
    )


def rf_only_text(res: "RfmResult") -> str:
    """Note that the analysis is RF only (no revenue), or ``""``."""
    if res.has_revenue:
        return ""
    return ("Die gelieferten Daten enthalten keine Umsatzspalte. Die Auswertung beschränkt sich deshalb auf "
            "Recency und Frequency (RF-Analyse); Umsatzanteile und der M-Score entfallen.")


def scores_intro(res: "RfmResult", audience: str | None = None) -> str:
    """The paragraph before the score table (units of the measures present)."""
    t = terms(audience)
    units = "Tage, Anzahl, Geldbetrag" if res.has_revenue else "Tage, Anzahl"
    best = ("zuletzt gekauft, am häufigsten gekauft, am meisten Umsatz" if res.has_revenue
            else "zuletzt gekauft, am häufigsten gekauft")
    return (f"Die Werte haben ganz unterschiedliche Einheiten ({units}). Damit man sie vergleichen kann, erhält "
            f"jede {t.person} je Merkmal einen **Score von 1 bis 5**: 5 steht für die besten 20 % ({best}), 1 für "
            "die schwächsten. Die Tabelle zeigt, welche Werte hinter den Scores stehen.")


def heatmap_text(res: "RfmResult", audience: str | None = None) -> str:
    """The paragraph introducing the R×F count heatmap (@fig-rfm-heatmap)."""
    t = terms(audience)
    return (f"@fig-rfm-heatmap kreuzt R-Score (Zeilen) und F-Score (Spalten). Oben rechts stehen {t.people}, die "
            f"vor Kurzem und oft gekauft haben; unten links {t.people}, die lange nicht mehr und nur selten gekauft "
            "haben.")


def revenue_heatmap_text(res: "RfmResult", audience: str | None = None) -> str:
    """The paragraph on the revenue heatmap (@fig-rfm-heatmap-revenue), ``""`` when it is not drawn."""
    if res.rf_monetary is None:
        return ""
    t = terms(audience)
    return (f"@fig-rfm-heatmap-revenue zeigt, wie viel Nettoumsatz {t.one} im jeweiligen Feld im Schnitt gebracht "
            f"hat. Häufig kaufende {t.people} bringen fast immer mehr Umsatz; interessant ist, ob sich der Wert auch "
            f"zwischen den Zeilen unterscheidet, also zwischen aktiven und eingeschlafenen {t.people} mit gleicher "
            "Kaufhäufigkeit.")


def rules_intro(audience: str | None = None) -> str:
    """The paragraph before the rule table."""
    t = terms(audience)
    return ("Die Segmente entstehen aus einer Regeltabelle über R- und F-Score. Die Regeln werden von oben nach unten "
            f"geprüft; die erste passende Regel bestimmt das Segment. So gehört jede {t.person} zu genau einem "
            "Segment. „R 3–4, F 4–5“ bedeutet zum Beispiel: R-Score 3 oder 4 und F-Score 4 oder 5.")


MIX_WHAT = {"category": ("Warengruppen", "die Warengruppe", "keine Warengruppe", "Sortiment"),
            "channel": ("Verkaufskanäle", "der Kanal", "keinen Verkaufskanal", "Kanal")}
"""Mix column -> (plural, nominative with article, "the data contain no …", comparison word)."""


def mix_intro(res: "RfmResult") -> str:
    """Section text "Was kaufen die Segmente?": names only the heatmaps that are drawn and says which
    comparison is missing and why (each said once; :func:`mix_text` adds nothing for a missing one)."""
    shown = [c for c, mix in (("category", res.category_mix), ("channel", res.channel_mix)) if mix is not None]
    missing = [c for c in ("category", "channel") if c not in shown]
    if not shown:
        return ("Die Daten enthalten weder eine Warengruppe noch einen Verkaufskanal; ein Vergleich, was und wo die "
                "Segmente kaufen, entfällt deshalb.")
    basis = "der Umsatz" if res.has_revenue else "die Zahl der Zeilen (ohne Umsatzangaben)"
    refs = {"category": "@fig-rfm-category", "channel": "@fig-rfm-channel"}
    names = " und ".join(f"{MIX_WHAT[c][0]} ({refs[c]})" for c in shown)
    text = (f"Segmente unterscheiden sich nicht nur darin, *wie oft* sie kaufen, sondern auch darin, *was* und *wo*. "
            f"Je Segment zeigt sich, wie sich {basis} auf {names} verteilt (jede Zeile ergibt 100 %).")
    for c in missing:
        text += f" Die Daten enthalten {MIX_WHAT[c][2]}; der Vergleich nach {MIX_WHAT[c][3]} entfällt."
    return text


def mix_text(res: "RfmResult", column: str, min_group: int = MIN_GROUP_SIZE, audience: str | None = None) -> str:
    """The comparison sentence for ``column`` (``category``/``channel``); "" when the data lack it
    (:func:`mix_intro` says so)."""
    mix = res.category_mix if column == "category" else res.channel_mix
    if mix is None:
        return ""
    sizes = res.segments["customers"] if "customers" in res.segments.columns else None
    return mix_sentence(mix, MIX_WHAT[column][1], sizes=sizes, min_group=min_group, has_revenue=res.has_revenue,
                        audience=audience)


# ---------------------------------------------------------------- summary and notes


def summary(segments: pd.DataFrame, key: "RfmKeyFigures", audience: str | None = None,
            min_group: int = MIN_GROUP_SIZE) -> str:
    """Two to four sentences: largest segment, segment with most revenue, customers at risk.

    ``segments`` and ``key`` are :attr:`RfmResult.segments` and :attr:`RfmResult.key`. A share is
    only given for a segment with at least ``min_group`` customers.
    """
    t = terms(audience)
    if segments.empty or key.largest_segment is None:
        return f"Es gibt keine {t.people} mit Käufen; eine Segmentierung ist nicht möglich."
    parts = []
    largest = key.largest_segment
    n_largest = int(segments.loc[largest, "customers"])
    share = (f" ({share_phrase(segments.loc[largest, 'customer_share'])})"
             if group_ok(n_largest, min_group) and n_largest < key.customers else "")
    parts.append(f"Das größte Segment ist {_qs(largest)} mit {people(n_largest, t, 'dat')}{share}.")
    if not key.rf_only and segments["revenue_share"].notna().any():
        big = segments[segments["customers"] >= min_group]
        if len(big) and big["revenue_share"].notna().any():
            top = big["revenue_share"].idxmax()
            row = segments.loc[top]
            parts.append(f"Den größten Umsatzanteil hat das Segment {_qs(top)}: {share_phrase(row['customer_share'])} "
                         f"der {t.people} erzielen {share_phrase(row['revenue_share'])} des Umsatzes.")
        risk = [s for s in labels.AT_RISK_SEGMENTS if s in segments.index and segments.loc[s, "customers"] > 0]
        if risk and key.at_risk_customers:
            names = " und ".join(_qs(s) for s in risk)
            where = f"{'In den Segmenten' if len(risk) > 1 else 'Im Segment'} {names}"
            n = int(key.at_risk_customers)
            if group_ok(n, min_group) and ok(key.at_risk_revenue_share):
                parts.append(f"{where} {verb(n, 'steht', 'stehen')} {people(n, t)}, auf die bisher "
                             f"{share_phrase(key.at_risk_revenue_share)} des Umsatzes entfielen und deren letzter "
                             "Kauf vergleichsweise lange zurückliegt.")
            else:
                parts.append(f"{where} {verb(n, 'steht', 'stehen')} {people(n, t)}, deren letzter Kauf "
                             "vergleichsweise lange zurückliegt; für einen Umsatzanteil sind es zu wenige.")
    elif key.rf_only:
        parts.append("Die Daten enthalten keinen Umsatz; die Segmente beruhen deshalb nur auf Recency und "
                     "Frequency, und Umsatzanteile können nicht angegeben werden.")
    return " ".join(parts[:4])


def score_note(rfm: pd.DataFrame, audience: str | None = None) -> str:
    """Explain empty score levels caused by ties (e.g. many one-time buyers)."""
    t = terms(audience)
    if not len(rfm):
        return ""
    low = int(rfm["frequency"].min())
    one_share = float((rfm["frequency"] == low).mean())
    counts = rfm["f_score"].value_counts()
    empty = [s for s in range(1, 6) if counts.get(s, 0) == 0]
    if not empty:
        return "Alle fünf Stufen des F-Scores sind besetzt."
    levels = ", ".join(str(s) for s in empty)
    return (f"{capital(share_phrase(one_share))} der {t.people} haben die kleinste Kaufhäufigkeit "
            f"({count_phrase(low, 'Kauftag', 'Kauftage')}) und erhalten deshalb alle den F-Score 1. Gleich häufig "
            f"kaufende {t.people} werden nicht willkürlich getrennt; darum "
            f"{'bleibt die Stufe' if len(empty) == 1 else 'bleiben die Stufen'} {levels} leer.")


def mix_sentence(mix: pd.DataFrame, what: str, a: str = "champions", b: str = "at_risk", *,
                 sizes: Mapping[str, int] | pd.Series | None = None, min_group: int = MIN_GROUP_SIZE,
                 has_revenue: bool = True, audience: str | None = None) -> str:
    """Compare what segments ``a`` and ``b`` (ids) buy (``mix`` from :func:`helpers.analysis.rfm.segment_mix`).

    ``what`` names the column with its nominative article, e.g. "die Warengruppe", "der Kanal".
    ``sizes``: customers per segment id; a segment with fewer than ``min_group`` customers is not
    compared (its shares would rest on a handful of customers). Without revenue the shares are
    shares of lines, and the sentence says so.
    """
    qa, qb = _qs(a), _qs(b)
    if a not in mix.index or b not in mix.index or mix.empty:
        return (f"Ein Vergleich der Segmente {qa} und {qb} ist nicht möglich, weil eines der "
                "beiden Segmente in diesen Daten nicht vorkommt.")
    if sizes is not None:
        small = [(s, int(sizes.get(s, 0))) for s in (a, b) if int(sizes.get(s, 0)) < min_group]
        if small:
            who = " und ".join(f"{_qs(s)} ({people(n, audience)})" for s, n in small)
            return (f"Ein Vergleich der Segmente {qa} und {qb} wäre nicht aussagekräftig: {who} "
                    f"{verb(len(small), 'ist', 'sind')} dafür zu klein (nötig sind mindestens "
                    f"{fmt.integer(min_group)}).")
    of = "des Umsatzes" if has_revenue else "der Zeilen"
    ra, rb = mix.loc[a].fillna(0), mix.loc[b].fillna(0)
    ta, tb = ra.idxmax(), rb.idxmax()
    if ta == tb:
        first = (f"In beiden Segmenten, {qa} und {qb}, liegt {what} {_q(ta)} vorn "
                 f"({share_phrase(ra[ta])} bzw. {share_phrase(rb[tb])} {of}).")
    else:
        first = (f"Bei {qa} liegt {what} {_q(ta)} vorn ({share_phrase(ra[ta])} {of}), "
                 f"bei {qb} dagegen {_q(tb)} ({share_phrase(rb[tb])}).")
    diff = (ra - rb).abs()
    d = diff.idxmax()
    if diff[d] < 0.005:
        return first + " Die Anteile unterscheiden sich kaum."
    if d == ta == tb:
        return first + " Bei allen anderen Werten ist der Unterschied zwischen den beiden Segmenten kleiner."
    return (first + f" Den größten Unterschied gibt es bei {_q(d)}: {share_phrase(ra[d])} bei {qa} "
            f"gegenüber {share_phrase(rb[d])} bei {qb}.")


# ---------------------------------------------------------------- tables


def _span(lo, hi, f) -> str:
    if pd.isna(lo):
        return "leer"
    return f(lo) if lo == hi else f"{f(lo)} – {f(hi)}"


def score_table(ranges: pd.DataFrame, has_revenue: bool) -> pd.DataFrame:
    """Value range per score (German strings) from :func:`helpers.analysis.rfm.score_ranges`."""
    days = lambda v: count_phrase(int(v), "Tag", "Tage")  # noqa: E731
    out = pd.DataFrame({
        "Score": [str(s) for s in ranges.index],
        "Recency (Tage seit dem letzten Kauf)": [_span(a, b, days) for a, b in
                                                 zip(ranges["recency_min"], ranges["recency_max"])],
        "Frequency (Kauftage)": [_span(a, b, fmt.integer) for a, b in zip(ranges["frequency_min"], ranges["frequency_max"])],
    })
    if has_revenue:
        money = lambda v: fmt.money(v, 2)  # noqa: E731
        out["Monetary (Nettoumsatz)"] = [_span(a, b, money) for a, b in zip(ranges["monetary_min"], ranges["monetary_max"])]
    return out


def _range(lo: int, hi: int) -> str:
    return str(lo) if lo == hi else f"{lo}–{hi}"


def rules_table(rules, actions: Mapping[str, str], audience: str | None = None) -> pd.DataFrame:
    """Segment rules and recommended actions (German strings, names Markdown-escaped by show_table).

    ``rules``: rows ``(segment_id, r_min, r_max, f_min, f_max[, m_min, m_max])``; ``actions``: German
    action per segment id (:attr:`RfmResult.actions`; a default action is shown in the audience's
    wording, :func:`helpers.labels.audience_action`); "–" where none is given.
    """
    rows = []
    for rule in rules:
        condition = f"R\u00a0{_range(rule[1], rule[2])}, F\u00a0{_range(rule[3], rule[4])}"
        if len(rule) == 7:
            condition += f", M\u00a0{_range(rule[5], rule[6])}"
        action = labels.audience_action(rule[0], actions.get(rule[0]), audience)
        rows.append({"Segment": labels.segment(rule[0]), "Regel": condition, "Empfohlene Maßnahme": action or "–"})
    return pd.DataFrame(rows, columns=["Segment", "Regel", "Empfohlene Maßnahme"])


def segment_table(segments: pd.DataFrame, has_revenue: bool, audience: str | None = None) -> pd.DataFrame:
    """Per-segment key figures (German strings); ``segments`` indexed by segment id.

    Shares are shown with :func:`share_phrase` (a small segment reads „weniger als 1 %“, never „0 %“)."""
    t = terms(audience)
    out = pd.DataFrame({
        "Segment": [labels.segment(s) for s in segments.index],
        "Kunden": [fmt.integer(v) for v in segments["customers"]],
        "Anteil Kunden": [share_phrase(v) for v in segments["customer_share"]],
    })
    if has_revenue:
        out["Anteil Umsatz"] = [share_phrase(v) for v in segments["revenue_share"]]
        out["Umsatz je Kunde"] = [fmt.money(v) for v in segments["revenue_per_customer"]]
        out[f"Ø {t.order}"] = [fmt.money(v, 2) for v in segments["aov"]]
    out["Kauftage je Kunde"] = [fmt.number(v, 1) for v in segments["mean_frequency"]]
    out["Median Tage seit letztem Kauf"] = [fmt.integer(v) for v in segments["median_recency"]]
    return out
