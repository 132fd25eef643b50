"""German text for the chapter "Warum Bestandskunden zählen" (from :class:`helpers.analysis.economics.EconomicsResult`).

Every sentence is chosen from the numbers so that it is true for any client.
"""

from __future__ import annotations

import math

import pandas as pd

from .. import fmt
from ..analysis.concentration import ConcentrationSummary
from ..analysis.economics import RULE_OF_THUMB, EconomicsResult, LostRevenue, RuleCheck, WhatIf

GROUP_LABELS = {"first_time": "Erstkäufer", "existing": "Bestandskunden"}
"""Group id (:data:`helpers.analysis.economics.GROUPS`) -> German label."""


def _ok(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def times(value: float) -> str:
    """``3.75`` -> ``"das 3,7-Fache"`` (German multiple)."""
    return f"das {fmt.number(value, 1)}-Fache"


def rule_sentence(rule: RuleCheck) -> str:
    """One sentence on the rule of thumb "existing customers bring 6-7 times the revenue"."""
    low, high = (fmt.number(v, 0) for v in RULE_OF_THUMB)
    if rule.verdict == "not_computable":
        return ("Ob Bestandskunden ein Vielfaches des Umsatzes von Erstkäufern bringen, lässt sich mit diesen "
                "Daten nicht prüfen, weil es keinen Umsatz, keine Erstkäufer oder keine Bestandskunden gibt.")
    head = f"Ein Bestandskunde bringt im Beobachtungszeitraum im Schnitt {times(rule.factor)} des Umsatzes eines Erstkäufers"
    if rule.verdict == "confirmed":
        extra = " und übertrifft sie sogar" if rule.factor > RULE_OF_THUMB[1] else ""
        return f"{head}; die oft zitierte Faustregel ({low}- bis {high}-fach) bestätigt sich damit{extra}."
    if rule.verdict == "weaker":
        return (f"{head} – mehr, aber weniger als die oft zitierte Faustregel ({low}- bis {high}-fach), "
                "die sich für diese Daten damit nicht bestätigt.")
    return (f"{head} und damit nicht mehr als ein Erstkäufer; die oft zitierte Faustregel "
            f"({low}- bis {high}-fach) bestätigt sich nicht.")


def per_year_sentence(rule: RuleCheck) -> str:
    """The factor per active calendar year, with a reason that holds for the numbers."""
    if rule.verdict == "not_computable" or not _ok(rule.factor_per_year):
        return ""
    value = fmt.number(rule.factor_per_year, 1)
    if rule.factor_per_year < rule.factor - 0.05:
        return (f"Je aktivem Kalenderjahr gerechnet beträgt der Faktor nur {value}, weil Bestandskunden ihren "
                "Umsatz auf mehrere Kalenderjahre verteilen.")
    return f"Je aktivem Kalenderjahr gerechnet beträgt der Faktor {value}."


def nrr_sentence(yearly: pd.DataFrame, has_revenue: bool = True) -> str:
    """One sentence on the latest net revenue retention, or why it is missing."""
    if not has_revenue:
        return "Ohne Umsatzangaben lässt sich die Net Revenue Retention nicht berechnen."
    if yearly.empty or not _ok(yearly["nrr"].iloc[0]):
        return ("Die Net Revenue Retention lässt sich nicht berechnen, weil die Daten keine zwei vollen "
                "Jahre mit Umsatz abdecken.")
    row = yearly.iloc[0]
    head = (f"Wer in den zwölf Monaten vor dem {fmt.date(row['year_start'])} gekauft hat, brachte im folgenden "
            f"Jahr {fmt.pct(row['nrr'])} des Vorjahresumsatzes (Net Revenue Retention)")
    if row["nrr"] >= 1:
        return f"{head}: Der Umsatz mit den bestehenden Kunden ist also gewachsen."
    return (f"{head}: Ohne Neukunden wäre der Umsatz mit diesen Kunden um {fmt.pct(1 - row['nrr'])} "
            "zurückgegangen.")


def summary(res: EconomicsResult) -> str:
    """Two to four sentences for the client: shares, rule of thumb, concentration, NRR."""
    groups, rule, concentration, yearly = res.groups, res.rule, res.concentration, res.yearly
    existing = groups.loc["existing"]
    parts = []
    if existing["customers"] == 0:
        parts.append("Kein Kunde hat im Beobachtungszeitraum mehr als einmal gekauft; es gibt also noch keine "
                     "Bestandskunden im Sinne dieses Kapitels.")
    elif "revenue_share" in groups.columns and _ok(existing["revenue_share"]):
        parts.append(f"{fmt.pct(existing['customer_share'])} der Kunden sind Bestandskunden mit mindestens zwei "
                     f"Käufen; sie erzielen {fmt.pct(existing['revenue_share'])} des Umsatzes.")
    else:
        parts.append(f"{fmt.pct(existing['customer_share'])} der Kunden sind Bestandskunden mit mindestens zwei "
                     f"Käufen; sie stehen für {fmt.pct(existing['purchases'] / groups['purchases'].sum())} aller Käufe.")
    if existing["customers"] > 0:
        parts.append(rule_sentence(rule))
    if concentration is not None and _ok(concentration.top_20):
        parts.append(f"Die 20 % umsatzstärksten Kunden erzielen {fmt.pct(concentration.top_20)} des Umsatzes.")
    parts.append(nrr_sentence(yearly, "revenue" in groups.columns))
    return " ".join(parts[:4])


def cost_assumptions_text(lost: LostRevenue) -> str:
    """The two cost assumptions of the replacement-cost calculation."""
    return (f"Angenommene Kosten: {fmt.eur(lost.cost_per_new_customer, 2)} je gewonnenem Neukunden und "
            f"{fmt.eur(lost.cost_per_retained_customer, 2)} je gehaltenem Kunden und Jahr (Faustregel, "
            "bitte durch eigene Werte ersetzen).")


def lost_text(lost: LostRevenue) -> str:
    """Step-by-step German explanation of the replacement cost for lost customers."""
    cost_per_new, cost_per_retained = lost.cost_per_new_customer, lost.cost_per_retained_customer
    if not lost.computable:
        return ("Die Kosten der Abwanderung lassen sich nicht berechnen: Dafür werden Umsatzangaben, mindestens "
                "zwei volle Jahre Daten und Neukunden im vorletzten Jahr benötigt.")
    if lost.lost_customers == 0:
        return (f"Alle {fmt.integer(lost.base_customers)} Kunden aus dem Jahr "
                f"{fmt.date(lost.window_start)} bis {fmt.date(lost.window_end)} haben auch in den letzten "
                "zwölf Monaten gekauft; es ist kein Kunde abgewandert.")
    lines = [
        f"Von {fmt.integer(lost.base_customers)} Kunden, die zwischen dem {fmt.date(lost.window_start)} und dem "
        f"{fmt.date(lost.window_end)} gekauft haben, haben {fmt.integer(lost.lost_customers)} in den letzten "
        f"zwölf Monaten nichts mehr gekauft. Im Jahr davor brachten sie {fmt.eur(lost.lost_revenue)} Umsatz.",
        f"Ein Neukunde bringt in seinen ersten zwölf Monaten im Schnitt {fmt.eur(lost.new_customer_year_revenue, 2)} "
        f"(Durchschnitt über {fmt.integer(lost.new_customer_sample)} Kunden, deren erster Kauf in diesem Jahr lag).",
        f"Um den verlorenen Umsatz zu ersetzen, wären also {fmt.integer(lost.new_customers_needed)} Neukunden nötig. "
        f"Bei {fmt.eur(cost_per_new, 2)} je Neukunde kostet das rund {fmt.eur(lost.replacement_cost)}.",
    ]
    if lost.retention_cost < lost.replacement_cost:
        lines.append(f"Die {fmt.integer(lost.lost_customers)} abgewanderten Kunden zu halten, hätte bei "
                     f"{fmt.eur(cost_per_retained, 2)} je Kunde nur {fmt.eur(lost.retention_cost)} gekostet.")
    else:
        lines.append(f"Die {fmt.integer(lost.lost_customers)} abgewanderten Kunden zu halten, hätte bei "
                     f"{fmt.eur(cost_per_retained, 2)} je Kunde {fmt.eur(lost.retention_cost)} gekostet – "
                     "mit diesen Annahmen ist Halten also nicht billiger als Ersetzen.")
    return " ".join(lines)


def whatif_text(wi: WhatIf | None) -> str:
    """Sentences explaining the what-if table (inputs, the total over all years, the margin used)."""
    if wi is None:
        return ("Für die Beispielrechnung fehlen Umsatzangaben oder eine Wiederkaufquote von Jahr zu Jahr "
                "(dafür sind mindestens zwei volle Jahre Daten nötig); sie entfällt deshalb.")
    return (
        f"Ausgangspunkt sind die {fmt.integer(wi.active_customers)} Kunden, die in den letzten zwölf Monaten "
        f"gekauft haben. Bisher kaufen von einem Jahr zum nächsten {fmt.pct(wi.retention, 1)} der Kunden wieder; "
        f"angenommen wird eine Steigerung um {fmt.pp(wi.uplift_pp)} auf {fmt.pct(wi.improved_retention, 1)}. "
        f"Jeder gehaltene Kunde bringt im Jahr im Schnitt {fmt.eur(wi.revenue_per_customer, 2)} Umsatz. "
        f"Über {fmt.integer(wi.years)} Jahre ergibt das zusammen {fmt.eur(wi.extra_revenue)} zusätzlichen Umsatz "
        f"und {fmt.eur(wi.extra_margin)} zusätzlichen Deckungsbeitrag (ohne Neukunden und ohne Kosten der "
        f"Maßnahmen). Als Marge ist {fmt.pct(wi.gross_margin)} des Nettoumsatzes angesetzt."
    )


def whatif_caption(wi: WhatIf) -> str:
    """Caption of the what-if table."""
    return f"Beispielrechnung: Wiederkaufquote plus {fmt.pp(wi.uplift_pp)}"


def cohort_sentence(mean_retention: pd.Series, period: str = "M") -> str:
    """How many customers of an average cohort buy again in period 1 (and 12 months later)."""
    unit, first = ("Monat", "im Folgemonat") if period == "M" else ("Quartal", "im Folgequartal")
    if len(mean_retention) < 2 or not _ok(mean_retention.iloc[1]):
        return (f"Für eine Kohortenanalyse fehlt mindestens ein vollständig beobachteter {unit} nach dem "
                "ersten Kauf; sie entfällt deshalb.")
    text = (f"Von den Neukunden eines {unit}s kaufen im Schnitt {fmt.pct(mean_retention.iloc[1], 1)} "
            f"{first} erneut")
    late = 12 if period == "M" else 4
    if len(mean_retention) > late and _ok(mean_retention.iloc[late]):
        text += f", zwölf Monate nach dem ersten Kauf sind es {fmt.pct(mean_retention.iloc[late], 1)}"
    return text + "."


def concentration_sentence(concentration: ConcentrationSummary | None) -> str:
    """Top-10 %/top-20 % shares and Gini in words, with an adaptive assessment."""
    if concentration is None or not _ok(concentration.top_20):
        return "Ohne Umsatzangaben lässt sich die Umsatzkonzentration nicht berechnen."
    top10, top20, gini = concentration.top_10, concentration.top_20, concentration.gini
    if not _ok(top20):
        return "Ohne Umsatzangaben lässt sich die Umsatzkonzentration nicht berechnen."
    text = (f"Die 10 % umsatzstärksten Kunden erzielen {fmt.pct(top10)} des Umsatzes, die 20 % umsatzstärksten "
            f"{fmt.pct(top20)} (Gini-Koeffizient {fmt.number(gini, 2)}).")
    if top20 >= 0.8:
        return text + " Der Umsatz hängt damit stark an wenigen Kunden."
    if top20 >= 0.5:
        return text + " Mehr als die Hälfte des Umsatzes kommt also von einem Fünftel der Kunden."
    return text + " Der Umsatz verteilt sich damit vergleichsweise gleichmäßig auf die Kunden."


def group_table(groups: pd.DataFrame) -> pd.DataFrame:
    """Display table (German strings): one row per key figure, columns Erstkäufer / Bestandskunden."""
    rows = [
        ("Kunden", "customers", fmt.integer),
        ("Anteil an allen Kunden", "customer_share", fmt.pct),
        ("Käufe (Kauftage)", "purchases", fmt.integer),
        ("Käufe je Kunde", "purchases_per_customer", lambda v: fmt.number(v, 1)),
        ("Nettoumsatz", "revenue", fmt.eur),
        ("Anteil am Umsatz", "revenue_share", fmt.pct),
        ("Durchschnittlicher Bon (Umsatz je Kauf)", "aov", lambda v: fmt.eur(v, 2)),
        ("Umsatz je Kunde im Beobachtungszeitraum", "revenue_per_customer", lambda v: fmt.eur(v, 2)),
        ("Umsatz je Kunde und aktivem Kalenderjahr", "revenue_per_customer_year", lambda v: fmt.eur(v, 2)),
    ]
    data = {"Kennzahl": [], "Erstkäufer": [], "Bestandskunden": []}
    for label, col, f in rows:
        if col not in groups.columns:
            continue
        data["Kennzahl"].append(label)
        data["Erstkäufer"].append(f(groups.loc["first_time", col]))
        data["Bestandskunden"].append(f(groups.loc["existing", col]))
    return pd.DataFrame(data)


def lost_table(lost: LostRevenue) -> pd.DataFrame:
    """The replacement-cost arithmetic as a small step table (German strings)."""
    cost_per_new, cost_per_retained = lost.cost_per_new_customer, lost.cost_per_retained_customer
    steps = [
        ("1", "Kunden im Vorjahr", fmt.integer(lost.base_customers)),
        ("2", "davon in den letzten zwölf Monaten ohne Kauf (abgewandert)", fmt.integer(lost.lost_customers)),
        ("3", "Vorjahresumsatz der Abgewanderten", fmt.eur(lost.lost_revenue)),
        ("4", "Umsatz eines Neukunden in seinen ersten zwölf Monaten", fmt.eur(lost.new_customer_year_revenue, 2)),
        ("5", "Nötige Neukunden = Zeile 3 / Zeile 4, aufgerundet", fmt.integer(lost.new_customers_needed)),
        ("6", "Kosten je Neukunde (Annahme)", fmt.eur(cost_per_new, 2)),
        ("7", "Kosten des Ersatzes = Zeile 5 × Zeile 6", fmt.eur(lost.replacement_cost)),
        ("8", "Zum Vergleich: Halten der Abgewanderten = Zeile 2 × " + fmt.eur(cost_per_retained, 2),
         fmt.eur(lost.retention_cost)),
    ]
    return pd.DataFrame(steps, columns=["Schritt", "Rechengröße", "Wert"])


def whatif_table(wi: WhatIf) -> pd.DataFrame:
    """The what-if per year plus a total row (German strings)."""
    table = wi.table
    out = pd.DataFrame({
        "Jahr": [fmt.integer(t) for t in table["year"]],
        "Kunden ohne Verbesserung": [fmt.integer(v) for v in table["customers_base"]],
        "Kunden mit Verbesserung": [fmt.integer(v) for v in table["customers_improved"]],
        "Zusätzliche Kunden": [fmt.integer(v) for v in table["extra_customers"]],
        "Zusätzlicher Umsatz": [fmt.eur(v) for v in table["extra_revenue"]],
        "Zusätzlicher Deckungsbeitrag": [fmt.eur(v) for v in table["extra_margin"]],
    })
    total = {"Jahr": "Summe", "Kunden ohne Verbesserung": "", "Kunden mit Verbesserung": "",
             "Zusätzliche Kunden": "", "Zusätzlicher Umsatz": fmt.eur(table["extra_revenue"].sum()),
             "Zusätzlicher Deckungsbeitrag": fmt.eur(table["extra_margin"].sum())}
    return pd.concat([out, pd.DataFrame([total])], ignore_index=True)


def yearly_table(yearly: pd.DataFrame) -> pd.DataFrame:
    """NRR/GRR per 12-month window (German strings)."""
    return pd.DataFrame({
        "Zeitraum": [f"{fmt.date(a)} – {fmt.date(b)}" for a, b in zip(yearly["year_start"], yearly["year_end"])],
        "Kunden im Vorjahr": [fmt.integer(v) for v in yearly["base_customers"]],
        "davon wieder gekauft": [fmt.pct(v) for v in yearly["customer_retention"]],
        "Vorjahresumsatz": [fmt.eur(v) for v in yearly["base_revenue"]],
        "Umsatz im Jahr": [fmt.eur(v) for v in yearly["retained_revenue"]],
        "NRR": [fmt.pct(v) for v in yearly["nrr"]],
        "GRR": [fmt.pct(v) for v in yearly["grr"]],
    })


def yearly_missing_text(res: EconomicsResult) -> str:
    """Why NRR and GRR are missing (no revenue or fewer than two full years)."""
    if not res.has_revenue:
        return nrr_sentence(res.yearly, has_revenue=False)
    return ("Für NRR und GRR werden mindestens zwei volle Jahre mit Umsatzdaten benötigt. Der Datensatz "
            f"beginnt am {fmt.date(res.first_date)} und endet am {fmt.date(res.observation_end)}; "
            "die Kennzahlen lassen sich deshalb nicht berechnen.")


NO_REVENUE_COHORTS = "Die Daten enthalten keinen Umsatz; die Umsatzbindung der Kohorten entfällt."
