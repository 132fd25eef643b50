"""German sentences and tables for the chapter "Kaufprognose und Kundenwert" (from ``analysis.clv.ClvResult``).

The analysis returns ids (skip reasons, fit problems, verdicts) and typed key figures; this module
turns them into the German text of the notebook and the report.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import fmt, labels
from ..analysis.clv import ClvKeyFigures, ClvResult, FitProblem, FitResult
from ..analysis.clv_validation import INDEPENDENCE_LIMIT, VERDICT_THRESHOLDS


# ---------------------------------------------------------------- model fits

def _problem(p: FitProblem) -> str:
    if p.reason == "no_convergence":
        return "keine Konvergenz"
    names = ", ".join("q ≤ 1" if n == "q<=1" else n for n in p.params)
    return f"unplausible Parameter ({names})"


def fit_warnings(fit: FitResult | None) -> list[str]:
    """German sentences about a fit: no data, retried with a penalizer, or failed (empty when clean)."""
    if fit is None:
        return []
    label = fit.name
    problems = [_problem(p) for p in fit.problems]
    if fit.kind == "gamma_gamma":
        if fit.skip == "too_few_repeat":
            return ["Für das Gamma-Gamma-Modell gibt es zu wenige Wiederholungskäufer mit Umsatz."]
        if fit.skip == "failed":
            return ["Die Schätzung des Gamma-Gamma-Modells ist fehlgeschlagen ("
                    + "; ".join(dict.fromkeys(problems)) + "); ein Kundenwert in Euro wird nicht berechnet."]
        if fit.retried:
            return [f"Das Gamma-Gamma-Modell wurde mit Strafterm (penalizer = {fit.penalizer:g}) geschätzt, "
                    "weil der erste Versuch scheiterte."]
        return []
    if fit.skip == "no_repeat":
        return [f"Das {label}-Modell braucht Wiederholungskäufe; in den Daten gibt es keine."]
    if fit.skip == "failed":
        return [f"Die Schätzung des {label}-Modells ist fehlgeschlagen ({'; '.join(dict.fromkeys(problems))}), "
                "auch mit Strafterm. Für diese Daten werden keine Modellprognosen ausgewiesen."]
    if fit.retried:
        return [f"Die Schätzung des {label}-Modells gelang erst mit einem Strafterm (penalizer = "
                f"{fit.penalizer:g}) nach {'; '.join(problems)} im ersten Versuch; die Parameter sind dadurch "
                "leicht in Richtung kleinerer Werte verzerrt."]
    return []


def model_warnings(res: ClvResult) -> list[str]:
    """All fit warnings of the chapter (BG/NBD, then Gamma-Gamma)."""
    return fit_warnings(res.fit) + fit_warnings(res.gamma_gamma)


# ---------------------------------------------------------------- skip reasons

def skip_text(res: ClvResult) -> str:
    """Why the model part is skipped (empty string when it ran)."""
    s = res.settings
    if res.skip is None:
        return ""
    if res.skip == "no_data":
        return "Für diese Daten liegen keine Käufe vor; eine Kaufprognose ist nicht möglich."
    if res.skip == "too_few_repeat":
        return (
            f"Nur {fmt.integer(res.n_repeat)} von {fmt.integer(res.n_customers)} Kundinnen und Kunden "
            f"haben mehr als einmal gekauft. Für eine verlässliche Schätzung braucht das Modell mindestens "
            f"{fmt.integer(s.min_repeat_buyers)} Wiederholungskäufer. Kaufprognose und Kundenwert werden "
            "deshalb für diese Daten nicht berechnet."
        )
    return (
        "Das Kaufmodell (BG/NBD) ließ sich auf diese Daten nicht sinnvoll schätzen: "
        + " ".join(model_warnings(res))
        + " Kaufprognose und Kundenwert werden deshalb nicht ausgewiesen; die übrigen Kapitel bleiben gültig."
    )


def clv_skip_text(res: ClvResult) -> str:
    if res.clv_skip == "no_revenue":
        return ("Die Datei enthält keine Umsatzspalte. Deshalb werden nur Kaufwahrscheinlichkeiten und "
                "erwartete Käufe ausgewiesen, kein Kundenwert in Euro.")
    if res.clv_skip == "gg_failed":
        return ("Das Ausgabenmodell (Gamma-Gamma) ließ sich nicht schätzen; ein Kundenwert in Euro wird daher "
                "nicht ausgewiesen. " + " ".join(fit_warnings(res.gamma_gamma)))
    return ""


# ---------------------------------------------------------------- holdout validation

def verdict_phrase(verdict: str) -> str:
    """Predicative German phrase for a verdict id (``"usable"`` -> "brauchbar, aber mit spürbarer Abweichung")."""
    if verdict == "unknown":
        return "nicht beurteilbar"
    if verdict == "usable":
        return labels.verdict(verdict) + ", aber mit spürbarer Abweichung"
    return labels.verdict(verdict)


def _verdict_adjective(verdict: str) -> str:
    """Attributive form before a feminine noun ("gute Prognosegüte"): the label plus "e"."""
    return labels.verdict(verdict) + "e"


def validation_text(res: ClvResult) -> str:
    """How well the model predicted the holdout period, or why no holdout test was possible."""
    s = res.settings
    v = res.validation
    if v is None:
        return ""
    if v.skip == "short_history":
        return (
            f"Die Daten umfassen nur den Zeitraum {fmt.date(res.first_date)} bis {fmt.date(res.observation_end)}. "
            f"Für eine Rückprüfung mit {fmt.integer(s.holdout_weeks)} Wochen Prüfzeitraum braucht es davor "
            "mindestens ebenso viele Wochen zum Schätzen. Die Prognosegüte lässt sich deshalb hier nicht prüfen; "
            "die folgenden Prognosen sind entsprechend vorsichtig zu lesen."
        )
    if v.skip == "too_few_repeat_calibration":
        return (
            f"Bis zum {fmt.date(v.calibration_end)} gab es weniger als {fmt.integer(s.min_repeat_buyers)} "
            "Wiederholungskäufer; die Rückprüfung der Prognose entfällt deshalb. Die Prognosen sind "
            "entsprechend vorsichtig zu lesen."
        )
    if v.skip == "no_fit_calibration":
        return (
            f"Auf den Daten bis zum {fmt.date(v.calibration_end)} ließ sich das Modell nicht schätzen; "
            "die Rückprüfung entfällt. Die Prognosen sind entsprechend vorsichtig zu lesen."
        )
    if v.skip == "no_holdout_purchases":
        return (
            "Im Prüfzeitraum gab es keine Käufe der bis dahin bekannten Kundschaft; die Prognosegüte "
            "lässt sich daher nicht als prozentuale Abweichung angeben."
        )
    m = v.metrics
    err = m["pct_error"]
    direction = "über" if err > 0 else "unter"
    lo, hi = VERDICT_THRESHOLDS
    text = (
        f"Zur Prüfung wurde das Modell nur mit den Käufen bis zum {fmt.date(v.calibration_end)} geschätzt "
        f"und hat vorhergesagt, wie oft die bis dahin bekannte Kundschaft in den folgenden "
        f"{fmt.integer(s.holdout_weeks)} Wochen kauft. "
        f"Vorhergesagt waren {fmt.number(m['predicted_total'], 0)} Käufe, tatsächlich waren es "
        f"{fmt.integer(m['actual_total'])}"
    )
    if abs(err) < 0.005:
        text += "; die Summe trifft damit fast genau. "
    else:
        text += f"; die Summe liegt damit {fmt.pct(abs(err))} {direction} dem tatsächlichen Wert. "
    text += (
        f"Je Kunde beträgt die mittlere absolute Abweichung {fmt.number(m['mae'], 2)} Käufe. "
        f"Wir nennen die Prognose „{labels.verdict('good')}“, wenn die Summe höchstens {fmt.pct(lo)} abweicht, "
        f"und „{labels.verdict('usable')}“ bis {fmt.pct(hi)}. Für diese Daten ist die Prognose damit "
        f"**{verdict_phrase(v.verdict)}**."
    )
    if v.verdict == "weak":
        text += (" Die Einzelprognosen sollten deshalb nur als grobe Rangfolge genutzt werden, nicht als "
                 "Mengenplanung.")
    return text


def comparison_text(res: ClvResult) -> str:
    """One sentence comparing BG/NBD with MBG/NBD on the holdout."""
    c = res.validation.comparison if res.validation is not None else None
    if c is None or "MBG/NBD" not in c.index or "BG/NBD" not in c.index:
        return ""
    b, m = c.loc["BG/NBD"], c.loc["MBG/NBD"]
    if not (np.isfinite(b["mae"]) and np.isfinite(m["mae"])):
        return ""
    diff = (m["mae"] - b["mae"]) / b["mae"] if b["mae"] > 0 else 0.0
    if abs(diff) < 0.02:
        return ("Das Vergleichsmodell MBG/NBD prognostiziert den Prüfzeitraum praktisch gleich gut; "
                "wir bleiben beim verbreiteten BG/NBD-Modell.")
    better = "besser" if diff < 0 else "schlechter"
    return (f"Das Vergleichsmodell MBG/NBD liegt je Kunde um {fmt.pct(abs(diff))} {better} "
            f"(mittlere absolute Abweichung {fmt.number(m['mae'], 2)} statt {fmt.number(b['mae'], 2)} Käufe).")


def validation_section(res: ClvResult) -> str:
    """The section "Wie gut trifft das Modell?" with validation, comparison and cross-references."""
    v = res.validation
    figure_ref = (" @fig-clv-holdout zeigt den Vergleich getrennt nach der bisherigen Kaufhäufigkeit, "
                  "@tbl-clv-models die Kennzahlen beider Modelle." if v is not None and v.ran else "")
    return ("## Wie gut trifft das Modell?\n\n" + validation_text(res) + " "
            + comparison_text(res) + figure_ref)


def comparison_table(res: ClvResult) -> pd.DataFrame:
    """German table of the model comparison (``Modell`` and the three measures, numbers unformatted)."""
    return res.validation.comparison.reset_index(names="Modell").rename(columns={
        "log_likelihood": "Log-Likelihood (Kalibrierung)",
        "pct_error": "Abweichung der Summe", "mae": "Mittlere abs. Abweichung je Kunde"})


# ---------------------------------------------------------------- parameters and heatmaps

def params_table(key: ClvKeyFigures) -> pd.DataFrame:
    """The BG/NBD parameters with German meaning: ``Parameter``, ``Bedeutung``, ``Wert`` (number)."""
    rows = [
        ("r", "Form der Verteilung der Kaufraten", key.bgnbd_r),
        ("α", "Skala der Kaufraten (Wochen)", key.bgnbd_alpha),
        ("a", "Abwanderung: Beta-Parameter a", key.bgnbd_a),
        ("b", "Abwanderung: Beta-Parameter b", key.bgnbd_b),
        ("r/α", "Mittlere Kaufrate aktiver Kunden (Käufe je Woche)", key.purchase_rate_weekly),
        ("a/(a+b)", "Mittlere Abwanderungswahrscheinlichkeit je Kauf", key.dropout_per_purchase),
    ]
    return pd.DataFrame(rows, columns=["Parameter", "Bedeutung", "Wert"])


def heatmap_text(res: ClvResult) -> str:
    """The section introducing the two heatmaps."""
    return (
        "## Kaufwahrscheinlichkeit nach Kaufverhalten\n\n"
        "Die beiden Heatmaps zeigen, was das Modell aus Kaufhäufigkeit und Zeitpunkt des letzten Kaufs ableitet "
        f"(für Kundinnen und Kunden, deren erster Kauf {fmt.number(res.grids.T_max, 0)} Wochen zurückliegt). "
        "@fig-clv-heatmap-purchases: Je öfter jemand gekauft hat und je kürzer der letzte Kauf zurückliegt, "
        f"desto mehr Käufe sind in den nächsten {fmt.integer(res.key.prediction_days)} Tagen zu erwarten. "
        "@fig-clv-heatmap-alive: Wer früher oft gekauft hat und seit Langem fehlt (links unten), ist "
        "wahrscheinlich nicht mehr aktiv – diese Kundinnen und Kunden sind Kandidaten für eine Rückgewinnung.")


# ---------------------------------------------------------------- customer value

def independence_text(res: ClvResult) -> str:
    """Gamma-Gamma's independence assumption, checked with Pearson r."""
    r = res.correlation
    if not np.isfinite(r):
        return ""
    base = (f"Gamma-Gamma setzt voraus, dass Kaufhäufigkeit und durchschnittlicher Bonbetrag nicht zusammenhängen. "
            f"Bei den {fmt.integer(res.n_gg)} Wiederholungskäufern beträgt die Korrelation r = "
            f"{fmt.number(0.0 if abs(r) < 0.005 else r, 2)}")
    if abs(r) <= INDEPENDENCE_LIMIT:
        return base + f" (Grenze ±{fmt.number(INDEPENDENCE_LIMIT, 1)}); die Annahme ist vertretbar."
    return base + (f", also mehr als ±{fmt.number(INDEPENDENCE_LIMIT, 1)}. Die Annahme ist verletzt; "
                   "die Euro-Werte sind deshalb nur eine grobe Näherung.")


def spend_rule_text(res: ClvResult) -> str:
    """How customers without a usable mean spend are valued."""
    text = ("Für Einmalkäufer und für Kunden ohne positiven durchschnittlichen Bonbetrag setzt das Modell den "
            "mittleren Bonbetrag der gesamten Kundschaft an.")
    if res.n_nonpositive_spend:
        text += (f" Das betrifft auch {fmt.integer(res.n_nonpositive_spend)} Wiederholungskäufer mit "
                 "Null- oder Negativumsatz, die nicht in die Schätzung eingehen.")
    return text


def clv_section(res: ClvResult) -> str:
    """The section "Kundenwert": definition, model checks and reference to the decile chart, or why
    there is no value in EUR."""
    if not res.has_clv:
        return "## Kundenwert\n\n" + clv_skip_text(res)
    k = res.key
    return ("## Kundenwert\n\n"
            + f"Der Kundenwert ist der erwartete **Deckungsbeitrag** der nächsten {fmt.integer(k.horizon_months)} "
            + f"Monate in Euro: erwartete Käufe mal erwarteter Bonbetrag mal Marge ({fmt.pct(k.gross_margin)}), "
            + f"abgezinst mit {fmt.pct(k.discount_rate_yearly, 1)} pro Jahr. "
            + independence_text(res) + " " + spend_rule_text(res)
            + " @fig-clv-deciles zeigt, wie sich der Kundenwert auf die Kundschaft verteilt.")


def summary_table(key: ClvKeyFigures) -> pd.DataFrame:
    """The CLV key figures as a German table ``Kennzahl`` / ``Wert`` (formatted text)."""
    rows = [
        ("Kundinnen und Kunden", fmt.integer(key.n_customers)),
        ("davon Wiederholungskäufer im Ausgabenmodell", fmt.integer(key.n_gg)),
        ("Mittlerer erwarteter Bonbetrag", fmt.eur(key.mean_expected_spend, 2)),
        ("Mittlerer Kundenwert", fmt.eur(key.clv_mean, 2)),
        ("Median des Kundenwerts", fmt.eur(key.clv_median, 2)),
        ("Summe der Kundenwerte", fmt.eur(key.clv_total)),
        ("Anteil der wertvollsten 10 %", fmt.pct(key.clv_top10_share)),
        ("Gamma-Gamma-Parameter p / q / v",
         f"{fmt.number(key.gg_p, 2)} / {fmt.number(key.gg_q, 2)} / {fmt.number(key.gg_v, 2)}"),
    ]
    return pd.DataFrame(rows, columns=["Kennzahl", "Wert"])


# ---------------------------------------------------------------- chapter summary

def summary(res: ClvResult) -> str:
    """2–4 sentences for the client: activity, expected purchases, value concentration, model quality."""
    if not res.ok:
        return skip_text(res)
    k = res.key
    if k.n_likely_inactive:
        share = k.share_likely_inactive
        first = (f"Von {fmt.integer(k.n_customers)} Kundinnen und Kunden ist nach dem Modell bei "
                 f"{fmt.integer(k.n_likely_inactive)} ({fmt.pct(share, 1 if share < 0.01 else 0)}) "
                 "eher davon auszugehen, dass sie nicht mehr aktiv sind (P(aktiv) unter 50 %).")
    else:
        first = (f"Nach dem Modell ist keine der {fmt.integer(k.n_customers)} Kundinnen und Kunden eher inaktiv "
                 "als aktiv (alle P(aktiv) mindestens 50 %).")
    parts = [
        first,
        f"Für die nächsten {fmt.integer(k.prediction_days)} Tage erwartet das Modell insgesamt rund "
        f"{fmt.integer(round(k.expected_purchases_total))} Käufe der heutigen Kundschaft.",
    ]
    if res.has_clv and k.clv_total is not None:
        parts.append(
            f"Der abgezinste Kundenwert (Deckungsbeitrag bei {fmt.pct(k.gross_margin)} Marge, "
            f"{fmt.integer(k.horizon_months)} Monate) beträgt zusammen {fmt.eur(k.clv_total)}; "
            f"davon entfallen {fmt.pct(k.clv_top10_share)} auf die wertvollsten 10 % der Kundschaft."
        )
    if k.verdict != "unknown" and k.holdout_pct_error is not None:
        parts.append(f"Die Rückprüfung an den letzten {fmt.integer(k.holdout_weeks)} Wochen ergibt eine "
                     f"{_verdict_adjective(k.verdict)} Prognosegüte (Abweichung der vorhergesagten Kaufsumme "
                     f"{fmt.pct(abs(k.holdout_pct_error))}).")
    else:
        parts.append("Die Prognosegüte ließ sich an diesen Daten nicht rückprüfen.")
    return " ".join(parts)
