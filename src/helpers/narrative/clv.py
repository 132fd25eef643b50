"""German sentences and tables for the chapter "Kaufprognose und Kundenwert" (from ``analysis.clv.ClvResult``).

The analysis returns ids (skip reasons, fit problems, verdicts, the chosen model) and typed key
figures; this module turns them into the German text of the notebook and the report.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import fmt, labels
from .common import capital, people, share_phrase, terms, verb
from ..analysis.clv import (MODEL_KINDS, MODEL_NAMES, RANGE_LEVEL, ClvKeyFigures, ClvResult, DataGate, FitProblem,
                            FitResult)
from ..analysis.clv_validation import INDEPENDENCE_LIMIT, MAE_TOLERANCE, VERDICT_THRESHOLDS

ALL_MODELS = "BG/NBD, MBG/NBD und Pareto/NBD"
RANGE_WORD = f"{round(RANGE_LEVEL * 100)}-%-Spanne"
"""German name of the ranges ("80-%-Spanne")."""


# ---------------------------------------------------------------- introduction

def intro(res: ClvResult, audience: str | None = None) -> str:
    """The chapter's opening paragraph, naming only the parts that run for these data ("" when the
    model part is skipped: the summary then says why)."""
    if not res.ok:
        return ""
    t = terms(audience)
    money = res.has_clv
    questions = (f"Wie wahrscheinlich ist es, dass {t.one} noch kauft, wie viele Käufe sind in den nächsten Wochen "
                 "zu erwarten" + (f", und welchen Deckungsbeitrag bringt jede {t.person} voraussichtlich in Zukunft?"
                                  if money else "?"))
    models = ("drei Modelle für die Anzahl der Käufe (BG/NBD, MBG/NBD und Pareto/NBD)"
              + (f" und eines für die Höhe der {t.orders} (Gamma-Gamma)" if money else ""))
    v = res.validation
    choice = ("Welches Kaufmodell wir verwenden, entscheidet eine Rückprüfung an einem Zeitraum, dessen Käufe wir "
              "bereits kennen." if v is not None and v.ran else
              "Eine Rückprüfung an bereits bekannten Käufen ist mit diesen Daten nicht möglich; welches Kaufmodell "
              "wir verwenden, entscheidet deshalb, wie gut es die bisherigen Käufe beschreibt.")
    ranges = (f" Jede Summe steht mit ihrer {RANGE_WORD} und ihrem Zeitraum da: Prognosen sind Schätzungen, keine "
              "Gewissheiten." if res.key.range_draws is not None else
              " Prognosen sind Schätzungen, keine Gewissheiten.")
    return (f"Dieses Kapitel schaut nach vorn: {questions} Grundlage sind in Forschung und Praxis etablierte "
            f"statistische Modelle: {models}. {choice}{ranges}")


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
            return [f"Für das Gamma-Gamma-Modell gibt es zu wenige Wiederholungskäufer mit Umsatz "
                    f"({fmt.integer(fit.n_repeat)})."]
        if fit.skip == "failed":
            return ["Die Schätzung des Gamma-Gamma-Modells ist fehlgeschlagen ("
                    + "; ".join(dict.fromkeys(problems)) + f"); ein Kundenwert in {fmt.currency_name()} wird nicht "
                    "berechnet."]
        if fit.retried:
            return [f"Das Gamma-Gamma-Modell wurde mit Strafterm (penalizer = {fit.penalizer:g}) geschätzt, "
                    "weil der erste Versuch scheiterte."]
        return []
    if fit.skip == "no_repeat":
        return [f"Das {label}-Modell braucht Wiederholungskäufe; in den Daten gibt es keine."]
    if fit.skip == "failed":
        return [f"Die Schätzung des {label}-Modells ist fehlgeschlagen ({'; '.join(dict.fromkeys(problems))}), "
                "auch mit Strafterm."]
    if fit.retried:
        return [f"Die Schätzung des {label}-Modells gelang erst mit einem Strafterm (penalizer = "
                f"{fit.penalizer:g}) nach {'; '.join(problems)} im ersten Versuch; die Parameter sind dadurch "
                "leicht in Richtung kleinerer Werte verzerrt."]
    return []


def model_warnings(res: ClvResult) -> list[str]:
    """All fit warnings of the chapter (purchase models fitted on all data, then Gamma-Gamma)."""
    fits = [res.fits[k] for k in MODEL_KINDS if k in res.fits] or ([res.fit] if res.fit is not None else [])
    return [w for f in fits for w in fit_warnings(f)] + fit_warnings(res.gamma_gamma)


# ---------------------------------------------------------------- skip reasons

def _gate(res: ClvResult) -> DataGate:
    """The result's data gate (rebuilt from its counts for hand-made results without one)."""
    if res.gate is not None:
        return res.gate
    s = res.settings
    failed = {"too_few_customers": ("customers",), "too_few_repeat": ("repeat_buyers",),
              "short_history": ("history",)}.get(res.skip or "", ())
    return DataGate(res.n_customers, res.n_repeat, res.key.history_days, s.min_customers, s.min_repeat_buyers,
                    s.min_history_days, failed)


def gate_sentences(res: ClvResult, audience: str | None = None) -> list[str]:
    """One German sentence per failed data minimum, with the numbers."""
    g = _gate(res)
    t = terms(audience)
    out = []
    if "customers" in g.failed:
        out.append(f"Die Daten enthalten nur {people(g.n_customers, t, 'acc')} mit einem Kauf; "
                   f"die Kaufmodelle brauchen mindestens {fmt.integer(g.min_customers)}.")
    if "repeat_buyers" in g.failed:
        nobody = "niemand" if t.audience == "b2c" else "keiner"
        head = (f"Von {people(g.n_customers, t, 'dat')} {verb(g.n_repeat, 'hat', 'haben')} nur "
                f"{fmt.integer(g.n_repeat)} mehr als einmal gekauft" if g.n_repeat else
                f"Von {people(g.n_customers, t, 'dat')} hat {nobody} mehr als einmal gekauft")
        out.append(f"{head}; für eine verlässliche Schätzung brauchen die Kaufmodelle mindestens "
                   f"{fmt.integer(g.min_repeat_buyers)} Wiederholungskäufer.")
    if "history" in g.failed:
        out.append(f"Die Daten umfassen nur {fmt.integer(g.history_days)} Tage ({fmt.date(res.first_date)} bis "
                   f"{fmt.date(res.observation_end)}); die Kaufmodelle brauchen mindestens "
                   f"{fmt.integer(g.min_history_days)} Tage Kaufhistorie, um Wiederholungskäufe und Abwanderung "
                   "zu erkennen.")
    return out


def skip_text(res: ClvResult, audience: str | None = None) -> str:
    """Why the model part is skipped (empty string when it ran)."""
    if res.skip is None:
        return ""
    if res.skip == "no_data":
        return "Für diese Daten liegen keine Käufe vor; eine Kaufprognose ist nicht möglich."
    if res.skip in ("too_few_customers", "too_few_repeat", "short_history"):
        return (" ".join(gate_sentences(res, audience)) + " Kaufprognose und Kundenwert werden deshalb für diese Daten "
                "nicht berechnet; die übrigen Kapitel bleiben gültig.")
    return (
        f"Keines der Kaufmodelle ({ALL_MODELS}) ließ sich sinnvoll auf diese Daten schätzen: "
        + " ".join(model_warnings(res))
        + " Kaufprognose und Kundenwert werden deshalb nicht ausgewiesen; die übrigen Kapitel bleiben gültig."
    )


def clv_skip_text(res: ClvResult, audience: str | None = None) -> str:
    """Why there is no customer value in money (empty string when there is one)."""
    t = terms(audience)
    cur = fmt.currency_name()
    if res.clv_skip == "no_revenue":
        return ("Die Datei enthält keine Umsatzspalte. Deshalb werden nur Kaufwahrscheinlichkeiten und "
                f"erwartete Käufe ausgewiesen, kein Kundenwert in {cur}.")
    if res.clv_skip == "gg_failed":
        gg = res.gamma_gamma
        if gg is not None and gg.skip == "too_few_repeat":
            n = int(gg.n_repeat)
            return (f"Nur {fmt.integer(n)} {verb(n, 'Wiederholungskäufer hat', 'Wiederholungskäufer haben')} einen "
                    f"positiven durchschnittlichen {t.order_value}; das Ausgabenmodell (Gamma-Gamma) braucht "
                    f"mindestens {fmt.integer(max(2, res.settings.min_repeat_buyers))}. Ein Kundenwert in {cur} wird "
                    "deshalb nicht ausgewiesen.")
        return (f"Das Ausgabenmodell (Gamma-Gamma) ließ sich nicht schätzen; ein Kundenwert in {cur} wird daher "
                "nicht ausgewiesen. " + " ".join(fit_warnings(gg)))
    return ""


# ---------------------------------------------------------------- horizon and ranges

def model_name(res: ClvResult) -> str:
    """Published name of the purchase model used ("Pareto/NBD"), or "–"."""
    return MODEL_NAMES.get(res.key.model or "", fmt.MISSING)


def horizon_text(res: ClvResult) -> str:
    """German caveat when the CLV horizon was shortened to the history the data cover (else empty)."""
    k = res.key
    if not k.horizon_capped:
        return ""
    return (f"Die Daten decken nur {fmt.integer(k.history_days)} Tage ab ({fmt.date(res.first_date)} bis "
            f"{fmt.date(res.observation_end)}). Der Kundenwert wird deshalb für **{fmt.integer(k.horizon_months)} "
            f"statt {fmt.integer(k.horizon_months_configured)} Monate** berechnet: Eine Prognose reicht hier nie "
            "weiter in die Zukunft, als die Daten in die Vergangenheit reichen.")


def _span(low, high, money: bool) -> str:
    f = fmt.eur if money else (lambda v: fmt.integer(round(v)))
    return f"{f(low)} bis {f(high)}"


def range_phrase(low: float | None, high: float | None, money: bool = True) -> str:
    """`` (80-%-Spanne 1.000 € bis 1.200 €)`` or empty when there is no range."""
    if low is None or high is None:
        return ""
    return f" ({RANGE_WORD} {_span(low, high, money)})"


def _bias_clause(k: ClvKeyFigures) -> str:
    if k.holdout_pct_error is None:
        return ("Eine Rückprüfung war nicht möglich; die Spanne enthält deshalb keine Korrektur um eine bekannte "
                "Abweichung.")
    direction = "zu hoch" if k.holdout_pct_error > 0 else "zu niedrig"
    return (f"Weil das Modell in der Rückprüfung {share_phrase(abs(k.holdout_pct_error))} {direction} lag, reicht die "
            "Spanne zudem bis zu dem Wert, der sich ergibt, wenn man diese Abweichung herausrechnet.")


def range_text(res: ClvResult) -> str:
    """What the 80 % ranges mean and how they are computed, or why there are none."""
    k = res.key
    r = res.ranges
    if k.range_draws is None:
        if r is not None and r.skip == "off":
            return "Spannen für die Summen wurden nicht berechnet (Einstellung clv.range_draws = 0)."
        return ("Für die Summen lässt sich keine verlässliche Spanne angeben: Die statistische Unsicherheit der "
                "Modellparameter ist an diesen Daten nicht schätzbar. Die Punktwerte sind deshalb besonders "
                "vorsichtig zu lesen.")
    return (f"**{RANGE_WORD}:** In diesem Bereich liegt der erwartete Wert mit etwa "
            f"{fmt.pct(RANGE_LEVEL)} Wahrscheinlichkeit, sofern sich das Kaufverhalten nicht grundlegend ändert. "
            f"Die Spanne entsteht aus {fmt.integer(k.range_draws)} Ziehungen der Modellparameter gemäß ihrer "
            "statistischen Unsicherheit (parametrischer Bootstrap). " + _bias_clause(k)
            + " Zufällige Schwankungen einzelner Käufe und Veränderungen am Markt sind darin nicht enthalten.")


# ---------------------------------------------------------------- holdout validation and model choice

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


def choice_rule_text(audience: str | None = None) -> str:
    """The model-choice rule in German (``clv_validation.rank_models``)."""
    t = terms(audience)
    each = "Kundin oder Kunde" if t.audience == "b2c" else "Firmenkunde"
    return (f"Verwendet wird das Modell mit der kleinsten mittleren Abweichung je {each}; liegen Modelle dabei "
            f"weniger als {fmt.pct(MAE_TOLERANCE)} auseinander, entscheidet die kleinere Abweichung der Summe.")


def _likelihood_choice(res: ClvResult) -> str:
    """Sentence for a model chosen without holdout test."""
    if res.key.model is None:
        return ""
    return (f" Ohne Rückprüfung verwenden wir von den drei Kaufmodellen ({ALL_MODELS}) dasjenige, das die Daten "
            f"am besten beschreibt (höchste Log-Likelihood): **{model_name(res)}**.")


def _fallback_text(res: ClvResult) -> str:
    v = res.validation
    if res.key.model_choice != "fallback" or v is None or not v.ranking:
        return ""
    return (f" Das in der Rückprüfung beste Modell {MODEL_NAMES[v.ranking[0]]} ließ sich auf allen Daten nicht "
            f"schätzen; verwendet wird deshalb {model_name(res)}.")


def validation_text(res: ClvResult, audience: str | None = None) -> str:
    """How well the models predicted the holdout period, which one is used and why – or why no holdout test was possible."""
    t = terms(audience)
    each = "Kundin oder Kunde" if t.audience == "b2c" else "Firmenkunde"
    s = res.settings
    v = res.validation
    if v is None:
        return ""
    caution = " Die Prognosen sind deshalb nicht an tatsächlichen Käufen geprüft und entsprechend vorsichtig zu lesen."
    if v.skip == "short_history":
        return (
            f"Die Daten umfassen nur den Zeitraum {fmt.date(res.first_date)} bis {fmt.date(res.observation_end)}. "
            f"Für eine Rückprüfung mit mindestens {fmt.integer(s.min_holdout_weeks)} Wochen Prüfzeitraum braucht es "
            "davor mindestens ebenso viele Wochen zum Schätzen; die Prognosegüte lässt sich hier nicht prüfen."
            + _likelihood_choice(res) + caution)
    if v.skip == "too_few_repeat_calibration":
        return (
            f"Bis zum {fmt.date(v.calibration_end)} gab es weniger als {fmt.integer(s.min_repeat_buyers)} "
            "Wiederholungskäufer; die Rückprüfung der Prognose entfällt deshalb." + _likelihood_choice(res) + caution)
    if v.skip == "no_fit_calibration":
        return (
            f"Auf den Daten bis zum {fmt.date(v.calibration_end)} ließ sich keines der Kaufmodelle schätzen; "
            "die Rückprüfung entfällt." + _likelihood_choice(res) + caution)
    m = v.metrics
    name = MODEL_NAMES[v.ranking[0]]
    text = (
        f"Zur Prüfung wurden drei verbreitete Kaufmodelle ({ALL_MODELS}) nur mit den Käufen bis zum "
        f"{fmt.date(v.calibration_end)} geschätzt; jedes hat vorhergesagt, wie oft die bis dahin bekannte {t.clientele} "
        f"in den folgenden {fmt.integer(v.holdout_weeks)} Wochen kauft"
    )
    if v.holdout_weeks is not None and v.holdout_weeks < s.holdout_weeks:
        text += (f" (verkürzt von {fmt.integer(s.holdout_weeks)} Wochen, weil die Daten nur "
                 f"{fmt.integer(res.key.history_days)} Tage umfassen)")
    text += f". {choice_rule_text(t.audience)} "
    if v.skip == "no_holdout_purchases":
        return text + (f"Gewählt ist **{name}**. Im Prüfzeitraum gab es allerdings keine Käufe der bis dahin bekannten "
                       f"{t.clientele}; die Prognosegüte lässt sich daher nicht als prozentuale Abweichung angeben."
                       + _fallback_text(res))
    err = m["pct_error"]
    lo, hi = VERDICT_THRESHOLDS
    text += (f"Gewählt ist **{name}**: Es hat {fmt.number(m['predicted_total'], 0)} Käufe vorhergesagt, tatsächlich "
             f"waren es {fmt.integer(m['actual_total'])}")
    if abs(err) < 0.005:
        text += "; die Summe trifft damit fast genau. "
    else:
        text += f"; die Summe liegt damit {fmt.pct(abs(err))} {'über' if err > 0 else 'unter'} dem tatsächlichen Wert. "
    text += (
        f"Je {each} beträgt die mittlere absolute Abweichung {fmt.number(m['mae'], 2)} Käufe. "
        f"Wir nennen die Prognose „{labels.verdict('good')}“, wenn die Summe höchstens {fmt.pct(lo)} abweicht, "
        f"und „{labels.verdict('usable')}“ bis {fmt.pct(hi)}. Für diese Daten ist sie damit "
        f"**{verdict_phrase(v.verdict)}**."
    )
    if v.verdict == "weak":
        text += (" Die Einzelprognosen sollten deshalb nur als grobe Rangfolge genutzt werden, nicht als "
                 "Mengenplanung.")
    return text + _fallback_text(res)


def one_time_buyer_text(res: ClvResult) -> str:
    """Caveat when BG/NBD is used: its P(aktiv) of one-time buyers is always 100 %."""
    if res.key.model != "bgnbd":
        return ""
    return ("Im BG/NBD-Modell gelten Einmalkäufer stets als aktiv (P(aktiv) = 100 %), weil es Abwanderung erst nach "
            "einem Wiederholungskauf vorsieht; ihre P(aktiv) ist deshalb kein Maß für ihr Abwanderungsrisiko.")


def validation_section(res: ClvResult, audience: str | None = None) -> str:
    """The section "Wie gut trifft das Modell?" with validation, model choice and cross-references."""
    v = res.validation
    refs = (f" @fig-clv-holdout zeigt den Vergleich für {model_name(res)} getrennt nach der bisherigen "
            "Kaufhäufigkeit, @tbl-clv-models die Kennzahlen aller drei Modelle." if v is not None and v.ran else "")
    return ("## Wie gut trifft das Modell?\n\n" + " ".join(
        t for t in (validation_text(res, audience) + refs, one_time_buyer_text(res)) if t))


def comparison_table(res: ClvResult) -> pd.DataFrame:
    """German table of the three models on the holdout (numbers unformatted; the chosen model marked)."""
    c = res.validation.comparison
    names = [n + (" (gewählt)" if chosen else "") for n, chosen in zip(c["model"], c["chosen"])]
    return pd.DataFrame({
        "Modell": names,
        "Vorhergesagte Käufe": c["predicted_total"].to_numpy(),
        "Tatsächliche Käufe": c["actual_total"].to_numpy(),
        "Abweichung der Summe": c["pct_error"].to_numpy(),
        "Mittlere abs. Abweichung je Kunde": c["mae"].to_numpy(),
        "Log-Likelihood (Kalibrierung)": c["log_likelihood"].to_numpy(),
    })


# ---------------------------------------------------------------- parameters and heatmaps

_PARAM_MEANING = {
    "r": ("r", "Form der Verteilung der Kaufraten"),
    "alpha": ("α", "Skala der Kaufraten (Wochen)"),
    "a": ("a", "Abwanderung: Beta-Parameter a"),
    "b": ("b", "Abwanderung: Beta-Parameter b"),
    "s": ("s", "Form der Verteilung der Abwanderungsraten"),
    "beta": ("β", "Skala der Abwanderungsraten (Wochen)"),
}


def params_table(res: ClvResult) -> pd.DataFrame:
    """Parameters of the model used, with German meaning: ``Parameter``, ``Bedeutung``, ``Wert`` (number)."""
    fit, k = res.fit, res.key
    rows = [(*_PARAM_MEANING[n], v) for n, v in fit.params.items()]
    rows.append(("r/α", "Mittlere Kaufrate der Aktiven (Käufe je Woche)", k.purchase_rate_weekly))
    if fit.kind == "pareto":
        rows.append(("s/β", "Mittlere Abwanderungsrate der Aktiven (je Woche)", k.dropout_rate_weekly))
    else:
        rows.append(("a/(a+b)", "Mittlere Abwanderungswahrscheinlichkeit je Kauf", k.dropout_per_purchase))
    return pd.DataFrame(rows, columns=["Parameter", "Bedeutung", "Wert"])


def heatmap_text(res: ClvResult, audience: str | None = None) -> str:
    """The section introducing the two heatmaps (empty when the model part did not run)."""
    if not res.ok or res.grids is None:
        return ""
    t = terms(audience)
    return (
        "## Kaufwahrscheinlichkeit nach Kaufverhalten\n\n"
        f"@fig-clv-heatmap-purchases und @fig-clv-heatmap-alive zeigen, was das Modell ({model_name(res)}) aus der "
        "Zahl der Wiederholungskäufe und der **Kaufspanne** (Wochen vom ersten bis zum letzten Kauf) ableitet – "
        f"für {t.people}, deren erster Kauf {fmt.number(res.grids.T_max, 0)} Wochen zurückliegt. Je öfter jemand "
        "gekauft hat und je näher der letzte Kauf am Ende der Daten liegt, desto mehr Käufe sind in den nächsten "
        f"{fmt.integer(res.key.prediction_days)} Tagen zu erwarten. Wer früher oft gekauft hat und seit Langem "
        f"fehlt (kurze Kaufspanne bei vielen Käufen), ist wahrscheinlich nicht mehr aktiv – diese {t.people} sind "
        "Kandidaten für eine Rückgewinnung.")


# ---------------------------------------------------------------- customer value

def independence_text(res: ClvResult, audience: str | None = None) -> str:
    """Gamma-Gamma's independence assumption, checked with Pearson r."""
    r = res.correlation
    if r is None or not np.isfinite(r):
        return ""
    t = terms(audience)
    base = (f"Gamma-Gamma setzt voraus, dass Kaufhäufigkeit und durchschnittlicher {t.order_value} nicht "
            "zusammenhängen. "
            f"Bei den {fmt.integer(res.n_gg)} Wiederholungskäufern beträgt die Korrelation r = "
            f"{fmt.number(0.0 if abs(r) < 0.005 else r, 2)}")
    if abs(r) <= INDEPENDENCE_LIMIT:
        return base + f" (Grenze ±{fmt.number(INDEPENDENCE_LIMIT, 1)}); die Annahme ist vertretbar."
    return base + (f", also mehr als ±{fmt.number(INDEPENDENCE_LIMIT, 1)}. Die Annahme ist verletzt; "
                   "die Geldbeträge sind deshalb nur eine grobe Näherung.")


def spend_rule_text(res: ClvResult, audience: str | None = None) -> str:
    """How customers without a usable mean spend are valued."""
    t = terms(audience)
    text = (f"Für Einmalkäufer und für {t.people} ohne positiven durchschnittlichen {t.order_value} setzt das "
            f"Modell den mittleren {t.order_value} der gesamten {t.clientele} an.")
    if res.n_nonpositive_spend:
        text += (f" Das betrifft auch {fmt.integer(res.n_nonpositive_spend)} Wiederholungskäufer mit "
                 "Null- oder Negativumsatz, die nicht in die Schätzung eingehen.")
    return text


def clv_section(res: ClvResult, audience: str | None = None) -> str:
    """The section "Kundenwert": definition, value if retained, horizon, model checks, ranges and
    reference to the decile chart, or why there is no value in money."""
    if not res.has_clv:
        return "## Kundenwert\n\n" + clv_skip_text(res, audience)
    k = res.key
    t = terms(audience)
    parts = [
        f"Der **Kundenwert (CLV)** ist der erwartete **Deckungsbeitrag** der nächsten {fmt.integer(k.horizon_months)} "
        f"Monate in {fmt.currency_name()}: erwartete Käufe mal erwarteter {t.order_value} mal Marge "
        f"({fmt.pct(k.gross_margin)}), abgezinst mit {fmt.pct(k.discount_rate_yearly, 1)} pro Jahr. Zusammen sind das "
        f"{fmt.money(k.clv_total)}{range_phrase(k.clv_total_low, k.clv_total_high)}.",
        f"Daneben steht der **Wert bei Verbleib**: der Deckungsbeitrag, den eine {t.person} im selben Zeitraum "
        "brächte, wenn sie heute noch aktiv ist (Kundenwert geteilt durch P(aktiv)). Er beziffert, was bei einer "
        f"Abwanderung verloren ginge; zusammen {fmt.money(k.clv_if_active_total)}"
        f"{range_phrase(k.clv_if_active_total_low, k.clv_if_active_total_high)}.",
        horizon_text(res), range_text(res), independence_text(res, t.audience), spend_rule_text(res, t.audience),
        f"@fig-clv-deciles zeigt, wie sich der Kundenwert auf die {t.clientele} verteilt.",
    ]
    return "## Kundenwert\n\n" + " ".join(p for p in parts if p)


def summary_table(key: ClvKeyFigures, audience: str | None = None) -> pd.DataFrame:
    """The CLV key figures as a German table ``Kennzahl`` / ``Wert`` (formatted text)."""
    t = terms(audience)
    def with_range(value, low, high, money=True):
        main = fmt.eur(value) if money else fmt.integer(None if value is None else round(value))
        return main + (f" ({_span(low, high, money)})" if low is not None and high is not None else "")

    rows = [
        ("Kaufmodell", MODEL_NAMES.get(key.model or "", fmt.MISSING)),
        ("Prognosezeitraum des Kundenwerts", f"{fmt.integer(key.horizon_months)} Monate"
         + (f" (gekürzt von {fmt.integer(key.horizon_months_configured)})" if key.horizon_capped else "")),
        (capital(t.people), fmt.integer(key.n_customers)),
        ("davon Wiederholungskäufer im Ausgabenmodell", fmt.integer(key.n_gg)),
        (f"Erwartete Käufe in {fmt.integer(key.prediction_days)} Tagen",
         with_range(key.expected_purchases_total, key.expected_purchases_total_low,
                    key.expected_purchases_total_high, money=False)),
        (f"Mittlerer erwarteter {t.order_value}", fmt.eur(key.mean_expected_spend, 2)),
        ("Mittlerer Kundenwert", fmt.eur(key.clv_mean, 2)),
        ("Median des Kundenwerts", fmt.eur(key.clv_median, 2)),
        ("Summe der Kundenwerte", with_range(key.clv_total, key.clv_total_low, key.clv_total_high)),
        ("Summe der Werte bei Verbleib", with_range(key.clv_if_active_total, key.clv_if_active_total_low,
                                                   key.clv_if_active_total_high)),
        ("Abweichung in der Rückprüfung", fmt.pct(key.holdout_pct_error, 1)),
        ("Anteil der wertvollsten 10 %", share_phrase(key.clv_top10_share)),
        ("Gamma-Gamma-Parameter p / q / v",
         f"{fmt.number(key.gg_p, 2)} / {fmt.number(key.gg_q, 2)} / {fmt.number(key.gg_v, 2)}"),
    ]
    return pd.DataFrame(rows, columns=["Kennzahl", "Wert"])


# ---------------------------------------------------------------- chapter summary

def summary(res: ClvResult, audience: str | None = None) -> str:
    """3–5 sentences for the client: activity, expected purchases and CLV with their 80 % ranges and
    horizon, the holdout bias next to the forecast, and the horizon caveat."""
    if not res.ok:
        return skip_text(res, audience)
    k = res.key
    t = terms(audience)
    if k.n_likely_inactive:
        n = int(k.n_likely_inactive)
        first = (f"Von {people(k.n_customers, t, 'dat')} ist nach dem Modell ({model_name(res)}) bei "
                 f"{fmt.integer(n)} ({share_phrase(k.share_likely_inactive)}) eher davon auszugehen, dass "
                 f"{'sie nicht mehr aktiv sind' if n > 1 else f'diese {t.person} nicht mehr aktiv ist'} "
                 "(P(aktiv) unter 50 %).")
    else:
        nobody = "niemand" if t.audience == "b2c" else "keiner"
        first = (f"Nach dem Modell ({model_name(res)}) ist von {people(k.n_customers, t, 'dat')} {nobody} eher "
                 "inaktiv als aktiv (alle P(aktiv) "
                 "mindestens 50 %).")
    parts = [
        first,
        f"Für die nächsten {fmt.integer(k.prediction_days)} Tage erwartet das Modell insgesamt rund "
        f"{fmt.integer(round(k.expected_purchases_total))} Käufe der heutigen {t.clientele}"
        f"{range_phrase(k.expected_purchases_total_low, k.expected_purchases_total_high, money=False)}.",
    ]
    if res.has_clv and k.clv_total is not None:
        parts.append(
            f"Der abgezinste Kundenwert (Deckungsbeitrag bei {fmt.pct(k.gross_margin)} Marge, "
            f"{fmt.integer(k.horizon_months)} Monate) beträgt zusammen {fmt.eur(k.clv_total)}"
            f"{range_phrase(k.clv_total_low, k.clv_total_high)}; davon entfallen {share_phrase(k.clv_top10_share)} "
            f"auf die wertvollsten 10 % der {t.clientele}."
        )
    if k.verdict != "unknown" and k.holdout_pct_error is not None:
        err = k.holdout_pct_error
        parts.append(f"Die Rückprüfung an den letzten {fmt.integer(k.holdout_weeks)} Wochen ergibt eine "
                     f"{_verdict_adjective(k.verdict)} Prognosegüte: Das Modell lag dort "
                     f"{share_phrase(abs(err))} {'über' if err > 0 else 'unter'} den tatsächlichen Käufen.")
    else:
        parts.append("Die Prognosegüte ließ sich an diesen Daten nicht rückprüfen.")
    if k.horizon_capped:
        parts.append(f"Weil die Daten nur {fmt.integer(k.history_days)} Tage umfassen, reicht der Kundenwert nur "
                     f"{fmt.integer(k.horizon_months)} statt {fmt.integer(k.horizon_months_configured)} Monate weit.")
    return " ".join(parts)
