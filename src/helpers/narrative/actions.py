"""German text and tables for the chapter "Maßnahmenplan" (from an
:class:`~helpers.analysis.actions.ActionsResult`).

Every sentence is chosen from the numbers so that it is true for any client. Segment and priority
ids are translated with :mod:`helpers.labels` here.
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

STATUS_LABELS = {
    act.STATUS_ALL: "ganzes Segment",
    act.STATUS_TOP: "Auswahl nach Wert",
    act.STATUS_BELOW_COST: "keine: Ertrag unter Kosten",
    act.STATUS_BUDGET: "keine: Budget erschöpft",
    act.STATUS_EMPTY: "keine: Wert unbekannt",
}
"""German label of an allocation status."""

RISK_LABELS = {
    "churn": "Abwanderungsrisiko aus dem Abwanderungsmodell (@sec-churn)",
    "p_alive": "1 − P(aktiv) aus dem Kaufprognosemodell (@sec-clv)",
}


def _people(n: int) -> str:
    """``1`` -> "eine Kundin bzw. ein Kunde", else "1.234 Kundinnen und Kunden"."""
    return "eine Kundin bzw. ein Kunde" if n == 1 else f"{fmt.integer(n)} Kundinnen und Kunden"


def _join(items: list[str]) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " und " + items[-1]


def _quote(name: str) -> str:
    return f"„{md_escape(name)}“"


def _seg(seg_id: str) -> str:
    """Quoted German name of a segment id."""
    return _quote(labels.segment(seg_id))


def _prio(prio_id: str) -> str:
    return f"„{labels.priority(prio_id)}“"


def bases_text(table: pd.DataFrame) -> str:
    """Which customer value and which risk measure the action plan uses (and for how many customers)."""
    n = len(table)
    vs = table["value_source"].value_counts()
    rs = table["risk_source"].value_counts()
    parts = []
    n_clv = int(vs.get("clv", 0))
    n_margin = int(vs.get("margin_12m", 0))
    if n_clv == n:
        parts.append("Als Kundenwert dient der erwartete Kundenwert (CLV, Deckungsbeitrag) aus @sec-clv.")
    elif n_clv > 0:
        parts.append(
            f"Als Kundenwert dient der erwartete Kundenwert (CLV) aus @sec-clv. Für {_people(n - n_clv)} "
            "liegt keine Prognose vor; für sie wird ersatzweise der Deckungsbeitrag der letzten zwölf Monate "
            "verwendet." if n_margin else
            f"Als Kundenwert dient der erwartete Kundenwert (CLV) aus @sec-clv; für {_people(n - n_clv)} "
            "liegt keine Prognose vor, sie zählen mit dem Wert 0."
        )
    elif n_margin > 0:
        parts.append(
            "Eine Kundenwertprognose liegt für diesen Datenbestand nicht vor. Als Kundenwert dient deshalb "
            "ersatzweise der Deckungsbeitrag der letzten zwölf Monate (Umsatz × Marge); das ist ein Blick "
            "zurück, keine Prognose."
        )
    else:
        parts.append("Ohne Umsatzspalte und ohne Kundenwertprognose lässt sich kein Kundenwert in Euro angeben.")
    n_churn = int(rs.get("churn", 0))
    n_alive = int(rs.get("p_alive", 0))
    if n_churn == n:
        parts.append(f"Das Risiko ist die Abwanderungswahrscheinlichkeit aus @sec-churn; der gefährdete "
                     "Deckungsbeitrag ist die Summe aus Abwanderungsrisiko × Kundenwert.")
    elif n_churn > 0:
        extra = (f" Für {_people(n_alive)}, die das Abwanderungsmodell nicht bewertet, wird 1 − P(aktiv) "
                 "aus @sec-clv verwendet." if n_alive else
                 f" {_people(n - n_churn).capitalize()} bewertet das Abwanderungsmodell nicht; "
                 "sie zählen ohne Risiko.")
        parts.append("Das Risiko ist die Abwanderungswahrscheinlichkeit aus @sec-churn; der gefährdete "
                     "Deckungsbeitrag ist die Summe aus Risiko × Kundenwert." + extra)
    elif n_alive > 0:
        parts.append("Ein Abwanderungsmodell liegt für diesen Datenbestand nicht vor. Als Risiko dient "
                     "deshalb 1 − P(aktiv) aus @sec-clv; der gefährdete Deckungsbeitrag ist die Summe aus "
                     "(1 − P(aktiv)) × Kundenwert.")
    if n_alive > 0 and "n_purchases" in table.columns:
        single = int(((table["risk_source"] == "p_alive") & (table["n_purchases"] == 1)
                      & (table["risk"] <= 1e-9)).sum())
        if single > 0:
            parts.append(
                f"Vorsicht bei {_people(single)} mit nur einem Kauf: Für sie setzt das Kaufprognosemodell "
                "P(aktiv) = 100 %, weil es ohne Wiederkauf kein Zeichen von Abwanderung sieht. Ihr Risiko "
                "erscheint deshalb als 0; der gefährdete Deckungsbeitrag ist dort eher unterschätzt."
            )
    else:
        parts.append("Weder ein Abwanderungsmodell noch eine Aktivitätswahrscheinlichkeit liegt vor; "
                     "der gefährdete Deckungsbeitrag lässt sich deshalb nicht beziffern, und die Priorität "
                     "richtet sich nach dem Kundenwert allein.")
    return " ".join(parts)


def priority_rule_text(has_risk: bool, reach_days: int = act.REACH_DAYS, has_value: bool = True) -> str:
    """The documented priority rule in German."""
    base = ("gefährdetem Deckungsbeitrag" if has_risk else "Kundenwert" if has_value
            else "Zahl der Kundinnen und Kunden")
    return (
        f"**So entsteht die Priorität:** Jedes Segment erhält eine Kennzahl aus {base} × Anteil der "
        f"erreichbaren Kundinnen und Kunden (letzter Kauf höchstens {fmt.integer(reach_days - 1)} Tage "
        "vor dem Beobachtungsende, die Kontaktdaten sind also wahrscheinlich noch aktuell). Die Segmente "
        f"mit der höchsten Kennzahl, die zusammen die ersten {fmt.pct(act.PRIORITY_HIGH_SHARE)} der Summe "
        f"ausmachen, haben Priorität {_prio(act.HIGH)}, die folgenden bis {fmt.pct(act.PRIORITY_MEDIUM_SHARE)} "
        f"{_prio(act.MEDIUM)}, alle übrigen {_prio(act.LOW)}."
    )


def matrix_table(matrix: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """German segment table (customers, revenue, CLV, value at risk, reach, priority) and ``formats``."""
    has_clv = matrix["clv"].notna().any()
    has_risk = matrix["value_at_risk"].notna().any()
    out = pd.DataFrame({"Segment": matrix["segment"].map(labels.segment), "Kunden": matrix["customers"]})
    if matrix["revenue_12m"].notna().any():
        out["Umsatz 12 Monate"] = matrix["revenue_12m"]
    if has_clv:
        out["CLV"] = matrix["clv"]
    elif matrix["value"].notna().any():
        out["DB 12 Monate"] = matrix["value"]
    if has_risk:
        out["Gefährdeter DB"] = matrix["value_at_risk"]
    out["Erreichbar"] = matrix["reachable_share"]
    out["Priorität"] = matrix["priority"].map(labels.priority)
    formats = {c: fmt.eur for c in ("Umsatz 12 Monate", "CLV", "DB 12 Monate", "Gefährdeter DB")}
    formats.update({"Kunden": fmt.integer, "Erreichbar": fmt.pct})
    return out, formats


MATRIX_NOTE = ("CLV = erwarteter Kundenwert (Summe, Deckungsbeitrag); DB = Deckungsbeitrag; "
               "Erreichbar = Anteil mit einem Kauf innerhalb der Erreichbarkeitsfrist.")


def action_table(matrix: pd.DataFrame, segment_actions: Mapping[str, str]) -> pd.DataFrame:
    """German table segment, priority and recommended action (in priority order)."""
    action = matrix["segment"].map(dict(segment_actions)).fillna("")
    return pd.DataFrame(
        {
            "Segment": matrix["segment"].map(labels.segment),
            "Priorität": matrix["priority"].map(labels.priority),
            "Empfohlene Maßnahme": action.where(action != "", fmt.MISSING),
        }
    )


def matrix_summary(res: "act.ActionsResult") -> str:
    """Where the value at risk sits (total = the churn chapter's) and which segments have priority ``high``."""
    matrix, key = res.matrix, res.key
    sents = []
    high = matrix[matrix["priority"] == act.HIGH]
    if key.value_at_risk is not None:
        total = key.value_at_risk
        if total > 0:
            top = matrix.sort_values("value_at_risk", ascending=False, kind="stable").iloc[0]
            share = float(top["value_at_risk"]) / total
            horizon = (f" (Kundenwert über {fmt.integer(key.value_horizon_months)} Monate)"
                       if key.value_horizon_months else "")
            sents.append(
                f"Insgesamt sind {fmt.eur(total)} erwarteter Deckungsbeitrag{horizon} gefährdet, dieselbe "
                f"Zahl wie in @sec-churn. Den größten Anteil trägt das Segment {_seg(top['segment'])} mit "
                f"{fmt.eur(top['value_at_risk'])} ({fmt.pct(share)})."
            )
        else:
            sents.append("Nach den vorliegenden Prognosen ist kein nennenswerter Deckungsbeitrag gefährdet.")
    if len(high):
        names = _join([_seg(s) for s in high["segment"]])
        word = "hat das Segment" if len(high) == 1 else "haben die Segmente"
        sents.append(f"Priorität {_prio(act.HIGH)} {word} {names}.")
    else:
        sents.append(f"Kein Segment erreicht Priorität {_prio(act.HIGH)}, weil keine Kennzahl größer als 0 ist.")
    return " ".join(sents)


def assumptions_table(budget: float, cost_per_contact: float, default_uplift: float) -> pd.DataFrame:
    """The budget assumptions as a German two-column table (values already formatted).

    The uplift per segment is shown in the budget table (column "Wirkung")."""
    rows = [("Budget", fmt.eur(budget)), ("Kosten je Kontakt", fmt.eur(cost_per_contact, 2)),
            ("Erwartete Wirkung je Segment", "siehe Spalte „Wirkung“ in der Budgetverteilung"),
            ("Erwartete Wirkung in nicht aufgeführten Segmenten", fmt.pct(default_uplift, 1))]
    return pd.DataFrame(rows, columns=["Annahme", "Wert"])


ALLOCATION_NOTE = ("Wirkung = angenommener Anteil des Kundenwerts, der durch einen Kontakt zusätzlich "
                   "gewonnen wird; Erw. Zusatz-DB = erwarteter zusätzlicher Deckungsbeitrag; "
                   "ROI = (Zusatz-DB − Kosten) / Kosten; „Auswahl nach Wert“ = nur die Kundinnen und "
                   "Kunden mit dem höchsten erwarteten Zusatz-DB.")


def allocation_table(per_segment: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """German budget table (contacts, cost, expected extra contribution, ROI, decision)."""
    out = pd.DataFrame(
        {
            "Segment": per_segment["segment"].map(labels.segment),
            "Wirkung": per_segment["uplift"],
            "Kunden": per_segment["customers"],
            "Kontakte": per_segment["contacts"],
            "Kosten": per_segment["cost"],
            "Erw. Zusatz-DB": per_segment["expected_gain"],
            "ROI": per_segment["roi"],
            "Entscheidung": per_segment["status"].map(STATUS_LABELS),
        }
    )
    formats = {"Wirkung": lambda v: fmt.pct(v, 1), "Kunden": fmt.integer, "Kontakte": fmt.integer,
               "Kosten": fmt.eur, "Erw. Zusatz-DB": fmt.eur, "ROI": fmt.pct}
    return out, formats


def budget_text(per_segment: pd.DataFrame, totals: Mapping[str, float], cost_per_contact: float,
                value_is_clv: bool) -> str:
    """German summary of the budget allocation; adapts to spent/unspent budget and skipped segments.

    ``totals`` as :func:`helpers.analysis.actions.allocation_totals` (``roi`` NaN or ``None``
    without contacts)."""
    value_word = "erwarteter Kundenwert (CLV)" if value_is_clv else "Deckungsbeitrag der letzten zwölf Monate"
    if totals["contacts"] == 0:
        if totals["budget"] < cost_per_contact:
            return ("Das Budget reicht nicht für einen einzigen Kontakt; es wird keine Ausgabe empfohlen.")
        return (
            "Bei keiner Kundin und keinem Kunden übersteigt der erwartete Zusatz-Deckungsbeitrag die "
            f"Kontaktkosten von {fmt.eur(cost_per_contact, 2)}. Eine Kampagne würde sich unter diesen "
            "Annahmen nicht lohnen; das Budget sollte nicht ausgegeben werden (Streuverluste vermeiden)."
        )
    spent_all = totals["unspent"] < cost_per_contact or cost_per_contact <= 0
    roi_value = totals["roi"]
    roi = f" (ROI {fmt.pct(roi_value)})." if roi_value is not None and not math.isnan(roi_value) else "."
    sents = [
        "Kontaktiert wird zuerst, wer den höchsten erwarteten Zusatz-Deckungsbeitrag bringt "
        f"(Wirkung des Segments × {value_word}), und nur, wenn dieser die Kontaktkosten von "
        f"{fmt.eur(cost_per_contact, 2)} übersteigt.",
        (f"Das Budget von {fmt.eur(totals['budget'])} reicht für {fmt.integer(totals['contacts'])} Kontakte"
         if spent_all else
         f"So gehen {fmt.eur(totals['cost'])} des Budgets von {fmt.eur(totals['budget'])} an "
         f"{_people(int(totals['contacts']))}")
        + f". Erwartet werden {fmt.eur(totals['expected_gain'])} zusätzlicher Deckungsbeitrag, nach Abzug "
        f"der Kosten {fmt.eur(totals['net_gain'])}" + roi,
    ]
    if totals["unspent"] >= cost_per_contact and cost_per_contact > 0:
        sents.append(
            f"{fmt.eur(totals['unspent'])} bleiben ungenutzt: Weitere Kontakte würden nach diesen Annahmen "
            "weniger einbringen, als sie kosten."
        )
    more = int(per_segment["eligible"].sum() - per_segment["contacts"].sum())
    if more > 0:
        sents.append(
            f"Für weitere {fmt.integer(more)} Kontakte wäre der erwartete Ertrag höher als die Kosten; "
            "sie sind nur wegen des begrenzten Budgets nicht enthalten."
        )
    def segments(status: str) -> str | None:
        names = per_segment.loc[per_segment["status"] == status, "segment"].tolist()
        if not names:
            return None
        return ("das Segment " if len(names) == 1 else "die Segmente ") + _join([_seg(n) for n in names])

    if skipped := segments(act.STATUS_BELOW_COST):
        sents.append(
            f"Kein Geld fließt in {skipped}: Dort liegt der erwartete "
            "Ertrag je Kontakt unter den Kosten – hier gilt es, Streuverluste zu vermeiden."
        )
    if exhausted := segments(act.STATUS_BUDGET):
        sents.append(
            f"Für {exhausted} reicht das Budget nicht mehr, obwohl sich "
            "Kontakte dort rechnen würden; ein höheres Budget würde sie erreichen."
        )
    return " ".join(sents)


NO_VALUE_BUDGET = ("Ohne Umsatzdaten und ohne Kundenwertprognose lässt sich kein Ertrag einer Kampagne "
                   "berechnen; die Budgetverteilung entfällt.")


def budget_summary(res: "act.ActionsResult") -> str:
    """:func:`budget_text` of the plan's allocation (or why there is none)."""
    if not res.has_value:
        return NO_VALUE_BUDGET
    k = res.key
    totals = {"budget": k.budget, "contacts": k.contacts, "cost": k.cost, "unspent": k.unspent,
              "expected_gain": k.expected_gain, "net_gain": k.net_gain, "roi": k.roi}
    return budget_text(res.allocation, totals, k.cost_per_contact, value_is_clv=k.value_basis == "clv")


ASSUMPTION_NOTE = (
    "**Annahmen, keine Messwerte:** Die erwartete Wirkung je Segment (Anteil des Kundenwerts, der durch "
    "einen Kontakt zusätzlich gewonnen wird), das Budget und die Kosten je Kontakt sind Annahmen aus den "
    "Einstellungen des Berichts. Sie sollten durch eigene Kampagnenergebnisse ersetzt werden, am besten "
    "aus einem Test mit Kontrollgruppe."
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


CROSSSELL_DEFINITIONS = (
    "Für jedes Paar von Warengruppen A und B zählt, wie viele Kundinnen und Kunden beide gekauft haben. "
    "**Support** ist ihr Anteil an allen Kundinnen und Kunden. **Konfidenz** (A → B) ist der Anteil der "
    "Käuferinnen und Käufer von A, die auch B gekauft haben. **Lift** vergleicht diese Konfidenz mit dem "
    "Anteil, der B ohnehin kauft: Ein Lift über 1 heißt, wer A kauft, kauft B häufiger als der Durchschnitt."
)


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


def crosssell_summary(cross: cs.CrossSell) -> str:
    """German sentences on the strongest combination and how many customers get a suggestion."""
    pairs, min_customers = cross.pairs, cross.min_customers
    usable = pairs[(pairs["lift"] > 1) & (pairs["customers_both"] >= min_customers)]
    n = cross.n_customers
    with_rec = cross.n_with_suggestion
    if usable.empty:
        return (
            "Keine Kombination von Warengruppen wird häufiger gemeinsam gekauft, als der Zufall erwarten "
            f"ließe (Lift über 1 bei mindestens {fmt.integer(min_customers)} Kundinnen und Kunden mit "
            "beiden Warengruppen). Gezielte Zusatzkauf-Empfehlungen lassen sich daraus nicht ableiten."
        )
    best = usable.sort_values(["lift", "confidence"], ascending=False).iloc[0]
    return (
        f"Die stärkste Verbindung besteht von {_quote(best['antecedent'])} zu {_quote(best['consequent'])}: "
        f"{fmt.pct(best['confidence'])} der Käuferinnen und Käufer von {_quote(best['antecedent'])} haben "
        f"auch {_quote(best['consequent'])} gekauft, das {fmt.number(best['lift'], 2)}-Fache des "
        f"Durchschnitts. Für {fmt.integer(with_rec)} von {fmt.integer(n)} Kundinnen und Kunden "
        f"({fmt.pct(with_rec / n if n else float('nan'))}) gibt es mindestens eine Warengruppe, die sie noch "
        "nicht gekauft haben, die aber ähnliche Kundinnen und Kunden überdurchschnittlich oft kaufen."
    )


CROSSSELL_HOWTO = (
    "**So nutzen Sie die Empfehlungen:** Die Spalte „Nächste Warengruppen“ in den Zielgruppenlisten nennt "
    "je Kundin und Kunde bis zu zwei Warengruppen, die noch nicht gekauft wurden. Sie eignen sich für die "
    "Inhalte von Newslettern, für Produktempfehlungen im Shop oder für Gutscheine auf eine neue "
    "Warengruppe. Gereiht wird nach Konfidenz × Lift der besten passenden Regel. Eine Regel zeigt ein "
    "gemeinsames Kaufmuster, keine Ursache – ob eine Empfehlung wirkt, zeigt erst ein Test mit Kontrollgruppe."
)


# --- target lists --------------------------------------------------------------------------------

def export_text(lists: pd.DataFrame, pseudonymized: bool, workbook: str = WORKBOOK_NAME,
                folder: str = LISTS_FOLDER) -> str:
    """Which target lists the report writes (the plan in ``ActionsResult.lists``) and what the IDs are."""
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
        f"Für {seg_word} mit zusammen {_people(n_cust)} gibt es Zielgruppenlisten für das CRM. Der "
        f"Bericht legt diese Listen im Ordner „{md_escape(folder)}“ neben der PDF-Datei ab: eine "
        f"Excel-Arbeitsmappe „{md_escape(workbook)}“ mit einem Tabellenblatt je Segment und dieselben "
        "Daten als CSV-Dateien (Semikolon, Dezimalkomma, UTF-8). Gelistet werden die Segmente mit "
        f"Priorität {_prio(act.HIGH)} oder {_prio(act.MEDIUM)} und alle Segmente mit Budget. " + ids
    )
    if lists["truncated"].any():
        text += (" Sehr große Segmente sind in der Excel-Datei gekürzt (nach Kundenwert sortiert); "
                 "die CSV-Dateien enthalten alle Kundinnen und Kunden.")
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
