"""German sentences for the chapter "Kaufprognose und Kundenwert" (from ``analysis.clv.ClvResult``)."""

from __future__ import annotations

import numpy as np

from .. import fmt
from ..analysis.clv import top_share
from ..analysis.clv_validation import INDEPENDENCE_LIMIT, VERDICT_THRESHOLDS


def skip_text(res) -> str:
    """Why the model part is skipped (empty string when it ran)."""
    s = res.settings
    if res.skip_reason is None:
        return ""
    if res.skip_reason == "no_data":
        return "Für diese Daten liegen keine Käufe vor; eine Kaufprognose ist nicht möglich."
    if res.skip_reason == "too_few_repeat":
        return (
            f"Nur {fmt.integer(res.n_repeat)} von {fmt.integer(res.n_customers)} Kundinnen und Kunden "
            f"haben mehr als einmal gekauft. Für eine verlässliche Schätzung braucht das Modell mindestens "
            f"{fmt.integer(s.min_repeat_buyers)} Wiederholungskäufer. Kaufprognose und Kundenwert werden "
            "deshalb für diese Daten nicht berechnet."
        )
    return (
        "Das Kaufmodell (BG/NBD) ließ sich auf diese Daten nicht sinnvoll schätzen: "
        + " ".join(res.warnings)
        + " Kaufprognose und Kundenwert werden deshalb nicht ausgewiesen; die übrigen Kapitel bleiben gültig."
    )


def verdict_phrase(verdict: str) -> str:
    return {"gut": "gut", "brauchbar": "brauchbar, aber mit spürbarer Abweichung",
            "schwach": "schwach", "unbekannt": "nicht beurteilbar"}[verdict]


def validation_text(res) -> str:
    """How well the model predicted the holdout period, or why no holdout test was possible."""
    s = res.settings
    reason = res.validation_skip_reason
    if reason == "short_history":
        return (
            f"Die Daten umfassen nur den Zeitraum {fmt.date(res.first_date)} bis {fmt.date(res.observation_end)}. "
            f"Für eine Rückprüfung mit {fmt.integer(s.holdout_weeks)} Wochen Prüfzeitraum braucht es davor "
            "mindestens ebenso viele Wochen zum Schätzen. Die Prognosegüte lässt sich deshalb hier nicht prüfen; "
            "die folgenden Prognosen sind entsprechend vorsichtig zu lesen."
        )
    if reason == "too_few_repeat_calibration":
        return (
            f"Bis zum {fmt.date(res.calibration_end)} gab es weniger als {fmt.integer(s.min_repeat_buyers)} "
            "Wiederholungskäufer; die Rückprüfung der Prognose entfällt deshalb. Die Prognosen sind "
            "entsprechend vorsichtig zu lesen."
        )
    if reason == "no_fit_calibration":
        return (
            f"Auf den Daten bis zum {fmt.date(res.calibration_end)} ließ sich das Modell nicht schätzen; "
            "die Rückprüfung entfällt. Die Prognosen sind entsprechend vorsichtig zu lesen."
        )
    if reason == "no_holdout_purchases":
        return (
            "Im Prüfzeitraum gab es keine Käufe der bis dahin bekannten Kundschaft; die Prognosegüte "
            "lässt sich daher nicht als prozentuale Abweichung angeben."
        )
    m = res.metrics
    err = m["pct_error"]
    direction = "über" if err > 0 else "unter"
    lo, hi = VERDICT_THRESHOLDS
    text = (
        f"Zur Prüfung wurde das Modell nur mit den Käufen bis zum {fmt.date(res.calibration_end)} geschätzt "
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
        f"Wir nennen die Prognose „gut“, wenn die Summe höchstens {fmt.pct(lo)} abweicht, und „brauchbar“ bis "
        f"{fmt.pct(hi)}. Für diese Daten ist die Prognose damit **{verdict_phrase(res.verdict)}**."
    )
    if res.verdict == "schwach":
        text += (" Die Einzelprognosen sollten deshalb nur als grobe Rangfolge genutzt werden, nicht als "
                 "Mengenplanung.")
    return text


def comparison_text(res) -> str:
    """One sentence comparing BG/NBD with MBG/NBD on the holdout."""
    c = res.comparison
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


def independence_text(res) -> str:
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


def spend_rule_text(res) -> str:
    """How customers without a usable mean spend are valued."""
    text = ("Für Einmalkäufer und für Kunden ohne positiven durchschnittlichen Bonbetrag setzt das Modell den "
            "mittleren Bonbetrag der gesamten Kundschaft an.")
    if res.n_nonpositive_spend:
        text += (f" Das betrifft auch {fmt.integer(res.n_nonpositive_spend)} Wiederholungskäufer mit "
                 "Null- oder Negativumsatz, die nicht in die Schätzung eingehen.")
    return text


def clv_skip_text(res) -> str:
    if res.clv_skip_reason == "no_revenue":
        return ("Die Datei enthält keine Umsatzspalte. Deshalb werden nur Kaufwahrscheinlichkeiten und "
                "erwartete Käufe ausgewiesen, kein Kundenwert in Euro.")
    if res.clv_skip_reason == "gg_failed":
        return ("Das Ausgabenmodell (Gamma-Gamma) ließ sich nicht schätzen; ein Kundenwert in Euro wird daher "
                "nicht ausgewiesen. " + " ".join(w for w in res.gamma_gamma.warnings))
    return ""


def summary(res) -> str:
    """2–4 sentences for the client: activity, expected purchases, value concentration, model quality."""
    if not res.ok:
        return skip_text(res)
    s = res.settings
    c = res.customers
    likely_lost = float((c["p_alive"] < 0.5).mean())
    if likely_lost > 0:
        first = (f"Von {fmt.integer(len(c))} Kundinnen und Kunden ist nach dem Modell bei "
                 f"{fmt.integer((c['p_alive'] < 0.5).sum())} ({fmt.pct(likely_lost, 1 if likely_lost < 0.01 else 0)}) "
                 "eher davon auszugehen, dass sie nicht mehr aktiv sind (P(aktiv) unter 50 %).")
    else:
        first = (f"Nach dem Modell ist keine der {fmt.integer(len(c))} Kundinnen und Kunden eher inaktiv "
                 "als aktiv (alle P(aktiv) mindestens 50 %).")
    parts = [
        first,
        f"Für die nächsten {fmt.integer(s.prediction_days)} Tage erwartet das Modell insgesamt rund "
        f"{fmt.integer(round(c['expected_purchases'].sum()))} Käufe der heutigen Kundschaft.",
    ]
    if res.has_clv:
        total = float(c["clv"].sum())
        share = top_share(c["clv"])
        parts.append(
            f"Der abgezinste Kundenwert (Deckungsbeitrag bei {fmt.pct(res.gross_margin)} Marge, "
            f"{fmt.integer(s.horizon_months)} Monate) beträgt zusammen {fmt.eur(total)}; "
            f"davon entfallen {fmt.pct(share)} auf die wertvollsten 10 % der Kundschaft."
        )
    if res.validation_skip_reason is None and res.verdict != "unbekannt":
        adjective = {"gut": "gute", "brauchbar": "brauchbare", "schwach": "schwache"}[res.verdict]
        parts.append(f"Die Rückprüfung an den letzten {fmt.integer(s.holdout_weeks)} Wochen ergibt eine "
                     f"{adjective} Prognosegüte (Abweichung der vorhergesagten Kaufsumme "
                     f"{fmt.pct(abs(res.metrics['pct_error']))}).")
    else:
        parts.append("Die Prognosegüte ließ sich an diesen Daten nicht rückprüfen.")
    return " ".join(parts)
