"""German text for the chapter "Abwanderungsprognose" (generated from :mod:`helpers.analysis.churn`).

Every sentence is chosen from the numbers so that it is true for any client.
"""

from __future__ import annotations

import math

import pandas as pd

from .. import fmt
from ..report.display import md_escape

FEATURE_NAMES = {
    "recency_days": "Tage seit dem letzten Kauf",
    "frequency": "Anzahl Kauftage",
    "tenure_days": "Kundendauer in Tagen",
    "ipt_mean_days": "mittlerer Abstand zwischen Käufen (Tage)",
    "ipt_std_days": "Schwankung der Kaufabstände (Tage)",
    "recency_ratio": "Tage seit dem letzten Kauf im Verhältnis zum üblichen Kaufabstand",
    "purchases_last_90": "Kauftage in den letzten 90 Tagen",
    "purchases_last_180": "Kauftage in den letzten 180 Tagen",
    "trend_90": "Kaufrate der letzten 90 Tage gegenüber davor",
    "trend_180": "Kaufrate der letzten 180 Tage gegenüber davor",
    "monetary": "durchschnittlicher Umsatz je Kauf",
    "return_share": "Retourenanteil am Umsatz",
    "n_categories": "Anzahl gekaufter Kategorien",
}
"""German names of the churn features (user-facing)."""

MODEL_NAMES = {
    "logit": "Logistische Regression",
    "hgb": "Gradient Boosting",
    "bgnbd": "BG/NBD (1 − P(aktiv))",
}


def feature_label(name: str, markdown: bool = False) -> str:
    """German name of a feature; channel shares read „Anteil Kanal „…““.

    ``markdown=True`` escapes client-provided parts (channel names) for Markdown.
    """
    if name.startswith("channel_share__"):
        channel = name.removeprefix("channel_share__")
        return f"Anteil des Kanals „{md_escape(channel) if markdown else channel}“"
    return FEATURE_NAMES.get(name, name)


def model_label(name: str) -> str:
    return MODEL_NAMES.get(name, name)


def auc_quality(auc: float) -> str:
    """Verbal grade of a ROC AUC (0.5 = chance, 1 = perfect)."""
    if auc >= 0.9:
        return "sehr gut"
    if auc >= 0.8:
        return "gut"
    if auc >= 0.7:
        return "brauchbar"
    if auc >= 0.6:
        return "nur schwach"
    return "kaum besser als der Zufall"


def window_text(window) -> str:
    """How the churn window was chosen (config or inter-purchase times)."""
    if window.days is None:
        return (
            "Im Datenbestand kauft keine Kundin und kein Kunde mehr als einmal. Ohne Wiederholungskäufe "
            "lässt sich nicht sinnvoll festlegen, ab wann jemand als abgewandert gilt."
        )
    if window.source == "config":
        return (
            f"Als abgewandert gilt, wer in den {fmt.integer(window.days)} Tagen nach einem Stichtag "
            "nichts mehr kauft. Dieser Zeitraum wurde in den Einstellungen des Berichts festgelegt."
        )
    raw = window.quantile_days
    same = round(raw) == window.days
    clipped = abs(raw - window.days) > 15  # rounding moves by at most 15 days
    if same:
        how = ""
    elif clipped:
        how = (f"; weil das außerhalb des zulässigen Bereichs von 30 bis 365 Tagen liegt, werden "
               f"{fmt.integer(window.days)} Tage verwendet")
    else:
        how = f", gerundet auf volle 30 Tage ergibt das {fmt.integer(window.days)} Tage"
    text = (
        f"Als abgewandert gilt, wer in den {fmt.integer(window.days)} Tagen nach einem Stichtag nichts mehr kauft. "
        f"Der Zeitraum stammt aus den Daten: {fmt.pct(window.quantile)} aller "
        f"{fmt.integer(window.n_gaps)} beobachteten Abstände zwischen zwei Käufen derselben Person sind "
        f"höchstens {fmt.number(raw, 0)} Tage lang{how}."
    )
    if not clipped:
        text += (f" Nur etwa {fmt.pct(1 - window.quantile)} der Abstände sind länger; eine so lange Pause "
                 "ist also ungewöhnlich.")
    return text


def population_text(active_days: int | None) -> str:
    """Which customers the model looks at (active customers at a cut-off)."""
    if active_days is None:
        return "Betrachtet werden alle Kundinnen und Kunden, die vor dem jeweiligen Stichtag mindestens einmal gekauft haben."
    return (
        "Betrachtet werden die aktiven Kundinnen und Kunden: Wer zum jeweiligen Stichtag "
        f"{inactive_phrase(active_days)} nichts gekauft hat, gilt bereits als verloren und wird nicht mehr "
        "vorhergesagt."
    )


def skip_text(skip) -> str:
    """German explanation why the model part is skipped (``skip``: :class:`~helpers.analysis.churn.Skip`)."""
    d = skip.details
    if skip.code == "no_window":
        return (
            "Die Abwanderungsprognose entfällt für diesen Datenbestand: Es gibt keine Wiederholungskäufe, "
            "daher lässt sich weder ein Abwanderungszeitraum bestimmen noch ein Modell trainieren."
        )
    if skip.code == "short_history":
        return (
            f"Die Abwanderungsprognose entfällt: Für eine ehrliche Prüfung braucht das Modell zwei Stichtage "
            f"im Abstand von {fmt.integer(d['window_days'])} Tagen, nach dem späteren noch einmal "
            f"{fmt.integer(d['window_days'])} Tage Beobachtung und davor mindestens 90 Tage Vorgeschichte, "
            f"insgesamt {fmt.integer(d['needed_days'])} Tage. Die Daten umfassen nur "
            f"{fmt.integer(d['available_days'])} Tage. Mit einem längeren Datenexport lässt sich das Kapitel "
            "nachholen."
        )
    if skip.code == "too_few_customers":
        return (
            f"Die Abwanderungsprognose entfällt: Zum Stichtag {fmt.date(d['cutoff'])} gibt es nur "
            f"{fmt.integer(d['n'])} aktive Kundinnen und Kunden; für ein belastbares Modell sind mindestens "
            f"{fmt.integer(d['min'])} nötig."
        )
    if skip.code == "class_imbalance":
        share = d["churn_share"]
        rare = "Abwandernde" if share < 0.5 else "Wiederkaufende"
        rare_share = share if share < 0.5 else 1 - share
        return (
            f"Die Abwanderungsprognose entfällt: Zum Stichtag {fmt.date(d['cutoff'])} sind {rare} mit "
            f"{fmt.pct(rare_share, 1)} der {fmt.integer(d['n'])} aktiven Kundinnen und Kunden zu selten "
            f"(Mindestanteil {fmt.pct(d['min_share'])}). Ein Modell könnte daraus nichts Verlässliches lernen."
        )
    return "Die Abwanderungsprognose entfällt für diesen Datenbestand."


SKIP_SENTENCES = {
    "no_window": "Es gibt keine Wiederholungskäufe, daher lässt sich kein Abwanderungszeitraum bestimmen.",
    "short_history": "Der Datenzeitraum ist zu kurz, um ein Modell an einem späteren Stichtag ehrlich zu prüfen.",
    "too_few_customers": "Es gibt zu wenige aktive Kundinnen und Kunden für ein belastbares Modell.",
    "class_imbalance": ("Abwandernde oder Wiederkaufende sind so selten, dass ein Modell daraus nichts "
                        "Verlässliches lernen könnte."),
}
"""Skip reason id -> one German sentence (for the management summary, which has only the id)."""


def skip_sentence(code: str) -> str:
    """One German sentence why the model part was skipped, from the reason id alone."""
    return SKIP_SENTENCES.get(code, "Die Daten reichen dafür nicht aus.")


def setup_text(res) -> str:
    """The two cut-offs and sample sizes of the time-based validation."""
    p, k = res.plan, res.key
    return (
        f"Das Modell lernt aus dem Stand vom {fmt.date(p.t1)} (Merkmale bis zu diesem Tag, Abwanderung in den "
        f"{fmt.integer(p.window_days)} Tagen danach; {fmt.integer(k.n_train)} aktive Kundinnen und Kunden, "
        f"davon {fmt.pct(k.churn_rate_train)} abgewandert). Geprüft wird es an einem späteren Stichtag, "
        f"dem {fmt.date(p.t2)}, mit Abwanderung bis zum {fmt.date(p.end)} "
        f"({fmt.integer(k.n_test)} aktive Kundinnen und Kunden, davon {fmt.pct(k.churn_rate_test)} "
        "abgewandert). So wird die Prognose geprüft wie im echten Einsatz: mit Daten, die das Modell beim "
        "Lernen nicht kannte."
    )


def _lift_phrase(lift: float, base_rate: float) -> str:
    if not math.isfinite(lift) or lift < 1.05:
        text = "kaum höher als im Durchschnitt"
    else:
        text = f"{fmt.factor(lift)} so hoch wie im Durchschnitt"
    if 0.4 <= base_rate < 1:
        text += (f" (bei einer Abwanderungsquote von {fmt.pct(base_rate)} wäre höchstens das "
                 f"{fmt.number(1 / base_rate, 1)}-Fache möglich)")
    return text


def summary(res) -> str:
    """2-4 sentences for the client: definition, quality of the best model, comparison with BG/NBD."""
    if not res.ok:
        return skip_text(res.skip_info)
    m = res.evaluation.metrics
    best = res.evaluation.best_model
    auc = m.loc[best, "roc_auc"]
    lift = m.loc[best, "top_decile_lift"]
    parts = [
        f"Als abgewandert gilt, wer {fmt.integer(res.plan.window_days)} Tage lang nicht kauft; am letzten "
        f"Prüfstichtag traf das auf {fmt.pct(res.key.churn_rate_test)} der aktiven Kundinnen und Kunden zu.",
        f"Das gewählte Modell ({model_label(best)}) unterscheidet spätere Abwandernde von Wiederkaufenden "
        f"{auc_quality(auc)} (ROC AUC {fmt.number(auc, 2)}); unter den 10 % mit dem höchsten Risiko ist die "
        f"Abwanderungsquote {_lift_phrase(lift, m.loc[best, 'base_rate'])}.",
    ]
    parts.append(comparison_sentence(res))
    return " ".join(p for p in parts if p)


def comparison_sentence(res) -> str:
    """Honest comparison of the chosen model with BG/NBD and (if different) with the other model."""
    m = res.evaluation.metrics
    best = res.evaluation.best_model
    auc = m.loc[best, "roc_auc"]
    other = "hgb" if best == "logit" else "logit"
    if best == "logit":
        hgb = m.loc["hgb", "roc_auc"]
        verdict = "schneidet schwächer ab" if hgb < auc - 0.005 else "bringt keinen nennenswerten Vorteil"
        model_part = (
            f"Das aufwendigere Gradient Boosting {verdict} (ROC AUC {fmt.number(hgb, 2)}), deshalb wird die "
            "leichter erklärbare logistische Regression verwendet."
        )
    else:
        model_part = (
            f"Gradient Boosting schlägt die logistische Regression (ROC AUC "
            f"{fmt.number(m.loc[other, 'roc_auc'], 2)}) und wird deshalb verwendet."
        )
    if "bgnbd" not in m.index:
        return model_part
    bg = m.loc["bgnbd", "roc_auc"]
    if bg > auc + 0.01:
        bg_part = (
            f"Die einfache Lebendwahrscheinlichkeit aus dem BG/NBD-Modell trennt mit ROC AUC {fmt.number(bg, 2)} "
            "hier sogar besser; für diesen Datenbestand ist sie als Frühwarnsignal die bessere Wahl."
        )
    elif bg >= auc - 0.01:
        bg_part = (
            f"Die Lebendwahrscheinlichkeit aus dem BG/NBD-Modell trennt mit ROC AUC {fmt.number(bg, 2)} "
            "etwa gleich gut; das zusätzliche Modell bringt für diesen Datenbestand wenig."
        )
    else:
        bg_part = (
            f"Die Lebendwahrscheinlichkeit aus dem BG/NBD-Modell trennt mit ROC AUC {fmt.number(bg, 2)} "
            + ("sogar schlechter als der Zufall" if bg < 0.5 else "schwächer")
            + "; die zusätzlichen Merkmale lohnen sich also."
        )
        single = res.key.single_buyer_churn_rate
        if single is not None and res.key.churn_rate_test is not None and single > res.key.churn_rate_test:
            bg_part += (
                " Ein Grund: Das BG/NBD-Modell hält Personen mit nur einem Kauf stets für aktiv, hier wanderten "
                f"von ihnen aber {fmt.pct(single)} ab (insgesamt {fmt.pct(res.key.churn_rate_test)})."
            )
    return model_part + " " + bg_part


def bgnbd_status_text(status: str | None) -> str:
    """Why the BG/NBD comparison is missing (empty when it ran)."""
    if status is None:
        return ""
    return "Der Vergleich mit dem BG/NBD-Modell entfällt, weil sich das Modell zum Prüfstichtag nicht schätzen ließ."


def validation_text(res) -> str:
    """Section text "Prüfung an einem späteren Stichtag": cut-offs, samples, BG/NBD status."""
    return (setup_text(res) + " " + bgnbd_status_text(res.evaluation.bgnbd_status)).strip()


def metrics_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """Metrics with German column and model names (for ``show_table`` with :data:`METRICS_FORMATS`)."""
    df = metrics[["roc_auc", "pr_auc", "top_decile_lift"]].copy()
    df.index = [model_label(i) for i in df.index]
    df = df.rename(columns={"roc_auc": "ROC AUC", "pr_auc": "PR AUC", "top_decile_lift": "Top-10-%-Lift"})
    df.insert(0, "Modell", df.index)
    return df.reset_index(drop=True)


def _auc(v: float) -> str:
    return fmt.number(v, 2)


METRICS_FORMATS = {"ROC AUC": _auc, "PR AUC": _auc, "Top-10-%-Lift": fmt.factor}
"""Cell formats of :func:`metrics_table`."""
METRICS_NOTE = (
    "ROC AUC: 0,5 = Zufall, 1 = perfekte Trennung. PR AUC: Zufall entspricht der Abwanderungsquote. "
    "Top-10-%-Lift: Abwanderungsquote unter den 10 % mit dem höchsten Risiko im Verhältnis zum Durchschnitt."
)
"""Table note of :func:`metrics_table`."""

DRIVERS_INTRO = (
    "Die folgenden Merkmale tragen am meisten zur Prognose bei. Es handelt sich um statistische "
    "Zusammenhänge, nicht um nachgewiesene Ursachen."
)


def driver_sentences(drivers, n: int = 3) -> str:
    """Markdown bullet list: one sign-aware sentence per top driver of both models
    (``drivers``: :class:`~helpers.analysis.churn.Drivers`)."""
    lines = []
    coef = drivers.coefficients if drivers is not None else None
    if coef is not None:
        for row in coef.head(n).itertuples():
            name = feature_label(row.feature, markdown=True)
            up = row.coefficient > 0
            text = (
                f"**{name}** (logistische Regression): je höher der Wert, desto "
                f"{'höher' if up else 'niedriger'} das geschätzte Abwanderungsrisiko, wenn alle übrigen "
                f"Merkmale gleich bleiben (standardisierter Koeffizient {fmt.number(row.coefficient, 2)})."
            )
            uni = row.univariate
            if pd.notna(uni) and abs(uni) >= 0.05 and (uni > 0) != up:
                text += (
                    " Für sich allein betrachtet ist der Zusammenhang umgekehrt; die Wirkung zeigt sich erst "
                    "zusammen mit den anderen Merkmalen."
                )
            lines.append(text)
    imp = drivers.importance if drivers is not None else None
    if imp is not None:
        for row in imp.head(n).itertuples():
            name = feature_label(row.feature, markdown=True)
            if row.importance <= 0:
                continue
            d = row.direction
            if pd.isna(d) or abs(d) < 0.1:
                direction = "eine einheitliche Richtung ist nicht erkennbar"
            else:
                direction = (
                    f"höhere Werte gehen in den Vorhersagen mit {'höherem' if d > 0 else 'niedrigerem'} "
                    "Risiko einher"
                )
            lines.append(
                f"**{name}** (Gradient Boosting): Werden die Werte zufällig vertauscht, sinkt die ROC AUC um "
                f"{fmt.number(row.importance, 3)}; {direction}."
            )
    if not lines:
        return ""
    return "\n".join(f"- {line}" for line in lines)


def calibration_text(evaluation) -> str:
    """Mean predicted vs observed churn rate of the chosen model at the evaluation cut-off."""
    p = evaluation.predictions
    predicted = float(p[evaluation.best_model].mean())
    observed = float(p["churned"].mean())
    gap = predicted - observed
    if abs(gap) < 0.03:
        verdict = "Die Wahrscheinlichkeiten lassen sich damit auch als Größenordnung lesen."
    elif gap > 0:
        verdict = ("Das Modell überschätzt die Abwanderung also; die Rangfolge der Kundinnen und Kunden ist "
                   "verlässlicher als die absolute Höhe der Werte.")
    else:
        verdict = ("Das Modell unterschätzt die Abwanderung also; die Rangfolge der Kundinnen und Kunden ist "
                   "verlässlicher als die absolute Höhe der Werte.")
    return (
        f"Am Prüfstichtag sagte das gewählte Modell im Mittel eine Abwanderungswahrscheinlichkeit von "
        f"{fmt.pct(predicted)} voraus, tatsächlich wanderten {fmt.pct(observed)} ab. {verdict}"
    )


def inactive_phrase(active_days: int | None) -> str:
    """``"seit mehr als einem Jahr"`` / ``"seit mehr als 180 Tagen"``."""
    if active_days == 365:
        return "seit mehr als einem Jahr"
    return f"seit mehr als {fmt.integer(active_days)} Tagen"


def scores_text(res, active_days: int | None) -> str:
    """How many current customers were scored and how many have a risk of at least 50 %."""
    k = res.key
    n = k.n_scored
    if n == 0:
        return "Zum Ende des Beobachtungszeitraums gibt es keine aktiven Kundinnen und Kunden, die bewertet werden könnten."
    high = k.n_risk_50
    text = (
        f"Für die {fmt.integer(n)} aktiven Kundinnen und Kunden zum {fmt.date(res.plan.end)} schätzt das neu "
        f"angepasste Modell, wie wahrscheinlich sie in den nächsten {fmt.integer(res.plan.window_days)} Tagen "
        f"nichts kaufen. Bei {fmt.integer(high)} von ihnen ({fmt.pct(high / n)}) liegt dieses Risiko bei "
        f"{fmt.pct(0.5)} oder mehr."
    )
    if k.n_inactive_excluded > 0 and active_days is not None:
        text += (
            f" Weitere {fmt.integer(k.n_inactive_excluded)} frühere Kundinnen und Kunden haben "
            f"{inactive_phrase(active_days)} nicht gekauft und gelten hier bereits als verloren; sie werden "
            "nicht vom Modell bewertet."
        )
    return text


def _people(n: int) -> str:
    return "einer Kundin bzw. einem Kunden" if n == 1 else f"{fmt.integer(n)} Kundinnen und Kunden"


def horizon_phrase(months: int | None) -> str:
    """``"über die nächsten 12 Monate"`` (the horizon of the customer value)."""
    if months is None:
        return ""
    if months == 1:
        return "im nächsten Monat"
    return f"über die nächsten {fmt.integer(months)} Monate"


def value_source_text(key, gross_margin: float) -> str:
    """Which customer value is used (CLV, 12-month margin stand-in or none) and its horizon."""
    n_clv, n_margin = key.n_value_clv, key.n_value_margin_12m
    margin = (f"der Deckungsbeitrag der letzten zwölf Monate (Nettoumsatz mal Marge von "
              f"{fmt.pct(gross_margin)})")
    if n_clv > 0:
        text = ("Als Kundenwert dient der prognostizierte Kundenwert (CLV) aus @sec-clv, der abgezinste "
                f"Deckungsbeitrag {horizon_phrase(key.value_horizon_months)}.")
        if n_margin > 0:
            text += (f" Für {fmt.integer(n_margin)} Kundinnen und Kunden ohne Prognose dient ersatzweise "
                     f"{margin}.")
        return text
    if n_margin > 0:
        return (f"Als Kundenwert dient hier {margin}, weil kein prognostizierter Kundenwert (CLV) vorliegt; "
                f"er steht für den Deckungsbeitrag {horizon_phrase(key.value_horizon_months)}.")
    return "Ohne Umsatzangaben lässt sich kein Kundenwert berechnen; die Wertbetrachtung entfällt."


def risk_source_text(key) -> str:
    """Where the risk of each customer comes from (churn model, 1 − P(aktiv) or none)."""
    n_churn, n_alive, n_none = key.n_risk_churn, key.n_risk_p_alive, key.n_risk_none
    if n_churn > 0 and n_alive > 0:
        return (f"Als Risiko dient für die {fmt.integer(n_churn)} vom Modell bewerteten aktiven Kundinnen und "
                f"Kunden die Abwanderungswahrscheinlichkeit, für die übrigen {fmt.integer(n_alive)} die "
                "Wahrscheinlichkeit 1 − P(aktiv) aus @sec-clv.")
    if n_churn > 0:
        text = "Als Risiko dient die Abwanderungswahrscheinlichkeit aus dem Modell."
        if n_none > 0:
            text += (f" Für die übrigen {fmt.integer(n_none)} Kundinnen und Kunden liegt kein Risikowert vor; "
                     "sie fehlen in dieser Rechnung.")
        return text
    if n_alive > 0:
        return ("Weil die Abwanderungsprognose entfällt, dient als Risiko die Wahrscheinlichkeit "
                "1 − P(aktiv) aus @sec-clv.")
    return ""


def value_text(key) -> str:
    """The value at risk overall, of the scored customers and in the high-risk / high-value cell."""
    total = key.value_at_risk
    horizon = horizon_phrase(key.value_horizon_months)
    note = (f" Für {fmt.integer(key.n_without_value)} weitere Kundinnen und Kunden mit Risikowert liegt kein "
            "Kundenwert vor; sie fehlen in dieser Rechnung.") if key.n_without_value > 0 else ""
    if total is None:
        return "Ohne Risiko- und Wertangaben lässt sich kein gefährdeter Deckungsbeitrag berechnen." + note
    if total <= 0:
        return "Nach dieser Rechnung steht kein nennenswerter Deckungsbeitrag auf dem Spiel." + note
    text = (
        f"Gewichtet mit ihrem Abwanderungsrisiko stehen bei {_people(key.n_value_at_risk)} "
        f"insgesamt {fmt.eur(total)} Deckungsbeitrag {horizon} auf dem Spiel (gefährdeter Deckungsbeitrag = "
        "Risiko × Wert)."
    )
    scored = key.value_at_risk_scored
    if key.n_risk_p_alive > 0 and scored is not None:
        text += (f" Davon entfallen {fmt.eur(scored)} auf die {fmt.integer(key.n_risk_churn)} vom Modell "
                 "bewerteten aktiven Kundinnen und Kunden.")
    if key.share_top_risk_third is not None:
        text += f" Auf das Drittel mit dem höchsten Risiko entfallen {fmt.pct(key.share_top_risk_third)} davon"
        if key.n_high_risk_high_value > 0:
            text += (
                f", auf die {fmt.integer(key.n_high_risk_high_value)} Kundinnen und Kunden, die sowohl beim "
                f"Risiko als auch beim Wert im oberen Drittel liegen, allein "
                f"{fmt.pct(key.value_at_risk_high_risk_high_value / total)}"
            )
        text += "."
    return text + note


def value_section(res, gross_margin: float) -> str:
    """The text of the section "Kundenwert in Gefahr": value and risk sources, then the numbers."""
    k = res.key
    parts = [value_source_text(k, gross_margin)]
    if k.n_value_clv + k.n_value_margin_12m > 0:
        parts += [risk_source_text(k), value_text(k)]
    return " ".join(p for p in parts if p)


GROUP_NAMES = {1: "niedrig", 2: "mittel", 3: "hoch"}
"""Tercile (1–3) of the risk × value matrix -> German axis label."""


def top_table(top: pd.DataFrame) -> pd.DataFrame:
    """:attr:`ChurnResult.top` with German column names (for ``show_table`` with :data:`TOP_FORMATS`)."""
    return pd.DataFrame({
        "Kunden-ID": top.index.astype(str),
        "Risiko": top["risk"].to_numpy(),
        "Kundenwert": top["value"].to_numpy(),
        "Erwarteter Verlust": top["value_at_risk"].to_numpy(),
        "Tage seit letztem Kauf": top["recency_days"].to_numpy(),
        "Kauftage": top["n_purchases"].to_numpy(),
    })


TOP_FORMATS = {"Risiko": fmt.pct, "Kundenwert": fmt.eur, "Erwarteter Verlust": fmt.eur,
               "Tage seit letztem Kauf": fmt.integer, "Kauftage": fmt.integer}
"""Cell formats of :func:`top_table`."""
