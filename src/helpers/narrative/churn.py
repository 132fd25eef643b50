"""German text for the chapter "Abwanderungsprognose" (generated from :mod:`helpers.analysis.churn`).

Every sentence is chosen from the numbers so that it is true for any client.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import fmt
from ..analysis.churn import CANDIDATES, MIN_HISTORY_DAYS
from ..report.display import md_escape
from .common import MIN_GROUP_SIZE, capital, group_ok, people, pronoun, share_phrase, terms, verb

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
    "recency": "Tage seit dem letzten Kauf",
    "frequency": "Anzahl Käufe",
    "bgnbd_purchases": "BG/NBD: erwartete Käufe",
    "pareto_alive": "Pareto/NBD: P(aktiv)",
    "mbgnbd_alive": "MBG/NBD: P(aktiv)",
    "bgnbd_alive": "BG/NBD: P(aktiv)",
    "logit": "Logistische Regression",
    "hgb": "Gradient Boosting",
    "recency_by_group": "Tage seit dem letzten Kauf, getrennt nach Einmal- und Wiederholungskäufern",
    "none": "kein Risikowert",
}
"""Candidate score / ``risk_source`` id -> German name."""

KIND_NAMES = {"baseline": "Faustregel", "model": "Kaufmodell", "reference": "Referenz", "ml": "Lernverfahren"}
"""Candidate kind (``helpers.analysis.churn.CANDIDATES``) -> German name."""

def feature_label(name: str, markdown: bool = False) -> str:
    """German name of a feature; channel shares read „Anteil Kanal „…““.

    ``markdown=True`` escapes client-provided parts (channel names) for Markdown.
    """
    if name.startswith("channel_share__"):
        channel = name.removeprefix("channel_share__")
        return f"Anteil des Kanals „{md_escape(channel) if markdown else channel}“"
    return FEATURE_NAMES.get(name, name)


def model_label(name: str) -> str:
    """German name of a candidate score or risk source id."""
    return MODEL_NAMES.get(name, name)


def risk_source_label(source: str) -> str:
    """German name of a ``risk_source`` id (for other chapters' texts)."""
    return model_label(source)


def _quoted(sid: str) -> str:
    """A candidate in running text with its kind: „die Faustregel „Tage seit dem letzten Kauf““,
    „die Kennzahl „Pareto/NBD: P(aktiv)““, „die logistische Regression“, „das Gradient Boosting“."""
    kind = CANDIDATES.get(sid)
    if kind == "baseline":
        return f"die Faustregel „{model_label(sid)}“"
    if kind in ("model", "reference"):
        return f"die Kennzahl „{model_label(sid)}“"
    return {"logit": "die logistische Regression", "hgb": "das Gradient Boosting"}.get(sid, model_label(sid))


def _dative(sid: str) -> str:
    """:func:`_quoted` in the dative („aus der Faustregel …“, „aus dem Gradient Boosting“)."""
    text = _quoted(sid)
    if text.startswith("die logistische"):
        return "der logistischen Regression"
    if text.startswith("die "):
        return "der " + text[4:]
    if text.startswith("das "):
        return "dem " + text[4:]
    return text


_capital = capital


def _it(sid: str) -> str:
    """The pronoun for :func:`_quoted` (``es`` for Gradient Boosting, else ``sie``)."""
    return "es" if sid == "hgb" else "sie"


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


def _auc(v: float) -> str:
    return fmt.number(v, 2)


def window_text(window, audience: str | None = None) -> str:
    """How the churn window was chosen (config or inter-purchase times)."""
    t = terms(audience)
    if window.days is None:
        nobody = "keine Kundin und kein Kunde" if t.audience == "b2c" else "kein Firmenkunde"
        return (
            f"Im Datenbestand kauft {nobody} mehr als einmal. Ohne Wiederholungskäufe "
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
        f"{fmt.integer(window.n_gaps)} beobachteten Abstände zwischen zwei Käufen derselben {t.person} sind "
        f"höchstens {fmt.number(raw, 0)} Tage lang{how}."
    )
    if not clipped:
        text += (f" Nur etwa {fmt.pct(1 - window.quantile)} der Abstände sind länger; eine so lange Pause "
                 "ist also ungewöhnlich.")
    return text


def inactive_phrase(active_days: int | None) -> str:
    """``"seit mehr als einem Jahr"`` / ``"seit mehr als 180 Tagen"``."""
    if active_days == 365:
        return "seit mehr als einem Jahr"
    return f"seit mehr als {fmt.integer(active_days)} Tagen"


def population_text(active_days: int | None, audience: str | None = None) -> str:
    """Which customers the candidates are compared on and who gets the recency-based risk."""
    t = terms(audience)
    if active_days is None:
        return (f"Alle Prognosen werden an denselben {t.people} verglichen: allen, die vor dem "
                "jeweiligen Stichtag mindestens einmal gekauft haben.")
    return (
        f"Alle Prognosen werden an denselben {t.people} verglichen: den aktiven, die zum jeweiligen "
        f"Stichtag in den letzten {fmt.integer(active_days)} Tagen gekauft haben. Wer "
        f"{inactive_phrase(active_days)} nichts gekauft hat, erhält das Risiko aus der tatsächlich "
        f"beobachteten Abwanderung von {t.persons} mit ebenso langer Kaufpause (siehe unten)."
    )


def intro(res, audience: str | None = None) -> str:
    """The chapter's opening paragraph, naming only the comparisons that ran ("" when the comparison is
    skipped: :func:`opening` then says why)."""
    if not res.ok or res.evaluation is None:
        return ""
    t = terms(audience)
    kinds = set(res.evaluation.metrics["kind"])
    rivals = ["einfache Faustregeln wie „Tage seit dem letzten Kauf“"]
    if "model" in kinds:
        rivals.append("die Kaufmodelle aus @sec-clv")
    if "ml" in kinds:
        rivals.append("lernende Modelle")
    listed = ", ".join(rivals[:-1]) + (" und " if len(rivals) > 1 else "") + rivals[-1]
    k = res.key
    value = (", und wie viel Deckungsbeitrag hängt an ihnen?" if k.n_value_clv + k.n_value_run_rate > 0 else "?")
    return (f"Dieses Kapitel beantwortet die Frage: Welche {t.people} werden voraussichtlich nicht wieder kaufen"
            f"{value} Dazu treten mehrere Prognosen gegeneinander an – {listed} – und werden an einem späteren "
            "Stichtag mit dem tatsächlichen Verhalten verglichen. Verwendet wird die Prognose, die am besten trennt.")


def opening(res, active_days: int | None, audience: str | None = None) -> str:
    """How churn is defined and on whom the prognoses are compared – or, when the comparison is
    skipped, the definition (if there is one) and why, each said once."""
    if res.ok:
        return window_text(res.window, audience) + " " + population_text(active_days, audience)
    skip = skip_text(res.skip_info, audience) if res.skip_info is not None else \
        "Die Abwanderungsprognose entfällt für diesen Datenbestand."
    if res.window.days is None:
        return skip
    return window_text(res.window, audience) + "\n\n" + skip


def requirements_text(cfg, window_days: int | None, audience: str | None = None) -> str:
    """The minimums the data must meet (stated in every report, with the numbers)."""
    c = cfg.churn
    t = terms(audience)
    if window_days is None:
        return ("Voraussetzung für jede Abwanderungsprognose sind Wiederholungskäufe, aus deren Abständen sich "
                "der Abwanderungszeitraum bestimmen lässt.")
    n = int(window_days)
    return (
        f"Mindestanforderungen: Zum Prüfstichtag braucht der Vergleich mindestens {fmt.integer(c.min_customers)} "
        f"aktive {t.people}, die kleinere Gruppe (Abwandernde oder Wiederkaufende) mit mindestens "
        f"{fmt.pct(c.min_class_share)}, dazu {fmt.integer(MIN_HISTORY_DAYS)} Tage Vorgeschichte vor dem Stichtag "
        f"und {fmt.integer(n)} Tage Beobachtung danach ({fmt.integer(n + MIN_HISTORY_DAYS)} Tage insgesamt). "
        "Die lernenden Modelle brauchen dasselbe zusätzlich an einem früheren Lern-Stichtag "
        f"({fmt.integer(2 * n + MIN_HISTORY_DAYS)} Tage insgesamt). Für das Risiko nach Tagen seit dem letzten "
        f"Kauf sind zum Prüfstichtag mindestens {fmt.integer(c.min_calibration_customers)} {t.people} "
        "nötig."
    )


def _skip_reason(skip, what: str, audience: str | None = None) -> str:
    """The failed minimum with its numbers (``what``: who needs it, e.g. „der Vergleich“)."""
    d = skip.details
    if skip.code == "no_window":
        return "es gibt keine Wiederholungskäufe, daher lässt sich kein Abwanderungszeitraum bestimmen"
    if skip.code == "short_history":
        return (f"{what} braucht {fmt.integer(d['needed_days'])} Tage Daten, die Daten umfassen nur "
                f"{fmt.integer(d['available_days'])} Tage")
    if skip.code == "too_few_customers":
        return (f"zum Stichtag {fmt.date(d['cutoff'])} gibt es nur {people(d['n'], audience)}, "
                f"{what} braucht mindestens {fmt.integer(d['min'])}")
    if skip.code == "class_imbalance":
        share = d["churn_share"]
        rare = "Abwandernde" if share < 0.5 else "Wiederkaufende"
        rare_share = share if share < 0.5 else 1 - share
        return (f"zum Stichtag {fmt.date(d['cutoff'])} sind {rare} mit {share_phrase(rare_share, 1)} der "
                f"{fmt.integer(d['n'])} aktiven {terms(audience).people} zu selten (Mindestanteil "
                f"{fmt.pct(d['min_share'])})")
    return "die Daten reichen dafür nicht aus"


def skip_text(skip, audience: str | None = None) -> str:
    """German explanation why the candidate comparison is skipped (``skip``: :class:`~helpers.analysis.churn.Skip`)."""
    d = skip.details
    t = terms(audience)
    if skip.code == "no_window":
        return (
            "Die Abwanderungsprognose entfällt für diesen Datenbestand: Es gibt keine Wiederholungskäufe, "
            "daher lässt sich weder ein Abwanderungszeitraum bestimmen noch eine Prognose prüfen."
        )
    if skip.code == "short_history":
        return (
            f"Die Abwanderungsprognose entfällt: Für eine ehrliche Prüfung braucht sie einen Stichtag mit "
            f"mindestens {fmt.integer(MIN_HISTORY_DAYS)} Tagen Vorgeschichte, nach dem noch "
            f"{fmt.integer(d['window_days'])} Tage beobachtet werden, insgesamt {fmt.integer(d['needed_days'])} "
            f"Tage. Die Daten umfassen nur {fmt.integer(d['available_days'])} Tage. Mit einem längeren "
            "Datenexport lässt sich das Kapitel nachholen."
        )
    if skip.code == "too_few_customers":
        return (
            f"Die Abwanderungsprognose entfällt: Zum Stichtag {fmt.date(d['cutoff'])} "
            f"{verb(d['n'], 'ist', 'sind')} nur {people(d['n'], t)} aktiv; für eine belastbare Prüfung sind "
            f"mindestens {fmt.integer(d['min'])} nötig."
        )
    if skip.code == "class_imbalance":
        return ("Die Abwanderungsprognose entfällt: " + _capital(_skip_reason(skip, "", audience)) + ". Eine Prognose "
                "ließe sich daran nicht verlässlich prüfen.")
    return "Die Abwanderungsprognose entfällt für diesen Datenbestand."


def ml_skip_text(skip, audience: str | None = None) -> str:
    """Why the machine-learning models were not trained (the other candidates were still compared)."""
    if skip is None:
        return ""
    return (
        "Die lernenden Modelle (logistische Regression, Gradient Boosting) entfallen: "
        + _capital(_skip_reason(skip, "das Lernen an einem früheren Stichtag", audience))
        + ". Verglichen werden deshalb nur die Faustregeln und die Kaufmodelle."
    )


SKIP_SENTENCES = {
    "no_window": "Es gibt keine Wiederholungskäufe, daher lässt sich kein Abwanderungszeitraum bestimmen.",
    "short_history": "Der Datenzeitraum ist zu kurz, um eine Prognose an einem späteren Stichtag ehrlich zu prüfen.",
    "too_few_customers": "Es gibt zu wenige aktive {people} für eine belastbare Prüfung.",
    "class_imbalance": ("Abwandernde oder Wiederkaufende sind so selten, dass sich eine Prognose daran nicht "
                        "verlässlich prüfen lässt."),
}
"""Skip reason id -> one German sentence (for the management summary, which has only the id)."""


def skip_sentence(code: str, audience: str | None = None) -> str:
    """One German sentence why the comparison was skipped, from the reason id alone."""
    return SKIP_SENTENCES.get(code, "Die Daten reichen dafür nicht aus.").replace("{people}", terms(audience).people)


def setup_text(res, audience: str | None = None) -> str:
    """The cut-offs and sample sizes of the time-based validation."""
    p, k = res.plan, res.key
    t = terms(audience)
    test = (
        f"Geprüft wird am Stichtag {fmt.date(p.t2)}: Jede Prognose nutzt nur Daten bis zu diesem Tag und wird "
        f"mit der tatsächlichen Abwanderung bis zum {fmt.date(p.end)} verglichen ({fmt.integer(k.n_test)} aktive "
        f"{t.people}, davon {share_phrase(k.churn_rate_test)} abgewandert)."
    )
    if p.t1 is None or not k.n_train:
        return test
    return (
        test + f" Die lernenden Modelle lernen vorher aus dem Stand vom {fmt.date(p.t1)} (Abwanderung in den "
        f"{fmt.integer(p.window_days)} Tagen danach; {fmt.integer(k.n_train)} aktive {t.people}, davon "
        f"{share_phrase(k.churn_rate_train)} abgewandert). So wird jede Prognose geprüft wie im echten Einsatz: mit "
        "Daten, die sie beim Lernen nicht kannte."
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


def choice_text(res, audience: str | None = None) -> str:
    """Which score is used and why – says plainly when the ML model does not beat the best baseline."""
    k, ev = res.key, res.evaluation
    m = ev.metrics
    used, base = k.best_model, k.baseline_model
    used_auc, base_auc = k.roc_auc, k.baseline_roc_auc
    quality = f"{auc_quality(used_auc)} (ROC AUC {_auc(used_auc)})"
    if k.ml_model is None:
        text = ml_skip_text(res.ml_skip, audience) + " " if res.ml_skip is not None else ""
        if used == base:
            return text + f"Verwendet wird {_quoted(used)}; {_it(used)} trennt spätere Abwandernde von Wiederkaufenden {quality}."
        return text + (f"Verwendet wird {_quoted(used)}; {_it(used)} trennt spätere Abwandernde von Wiederkaufenden "
                       f"{quality} und damit besser als {_quoted(base)} (ROC AUC {_auc(base_auc)}).")
    ml, ml_auc = k.ml_model, k.ml_roc_auc
    if used == ml:
        simple = ev.choice.best_simple
        text = (f"Verwendet wird {_quoted(ml)}: {_capital(_it(ml))} trennt spätere Abwandernde von Wiederkaufenden {quality} "
                f"und schlägt damit {_quoted(base)} (ROC AUC {_auc(base_auc)})")
        if simple != base:
            text += f" und {_quoted(simple)} (ROC AUC {_auc(m.loc[simple, 'roc_auc'])})"
        return text + "."
    if not k.ml_beats_baseline:
        text = (f"Das lernende Modell ({model_label(ml)}, ROC AUC {_auc(ml_auc)}) ist nicht nennenswert besser als "
                f"{_quoted(base)} (ROC AUC {_auc(base_auc)}).")
    else:
        text = (f"Das lernende Modell ({model_label(ml)}, ROC AUC {_auc(ml_auc)}) übertrifft zwar "
                f"{_quoted(base)} (ROC AUC {_auc(base_auc)}), aber nicht {_quoted(used)}.")
    if used == base:
        return text + f" Verwendet wird deshalb die einfache Faustregel; sie trennt {quality}."
    return text + f" Verwendet wird deshalb {_quoted(used)}; {_it(used)} trennt {quality}."


def bgnbd_reference_text(res, audience: str | None = None) -> str:
    """Why 1 − P(aktiv) of BG/NBD is never used as risk (with its measured ROC AUC)."""
    k = res.key
    t = terms(audience)
    auc = k.bgnbd_roc_auc
    if auc is None:
        return ""
    grade = "sogar schlechter als der Zufall" if auc < 0.5 else ("schwächer" if auc < (k.roc_auc or 0) else "ähnlich")
    text = (f"Die Lebendwahrscheinlichkeit P(aktiv) aus dem BG/NBD-Modell trennt mit ROC AUC {_auc(auc)} {grade}: "
            f"Das Modell hält jede {t.person} mit nur einem Kauf für sicher aktiv, egal wie lange der Kauf "
            "zurückliegt")
    single, overall = k.single_buyer_churn_rate, k.churn_rate_test
    if single is not None and overall is not None:
        text += (f"; tatsächlich wanderten von ihnen {share_phrase(single)} ab (insgesamt {share_phrase(overall)})")
    return text + ". Sie wird deshalb nirgends als Risiko verwendet."


def summary(res, audience: str | None = None) -> str:
    """3-5 sentences for the client: definition, the score used and why, its quality, BG/NBD."""
    if not res.ok:
        return skip_text(res.skip_info, audience)
    k = res.key
    t = terms(audience)
    m = res.evaluation.metrics
    parts = [
        f"Als abgewandert gilt, wer {fmt.integer(res.plan.window_days)} Tage lang nicht kauft; am letzten "
        f"Prüfstichtag traf das auf {share_phrase(k.churn_rate_test)} der aktiven {t.people} zu.",
        choice_text(res, audience),
        f"Unter den 10 % mit dem höchsten Risiko ist die Abwanderungsquote "
        f"{_lift_phrase(k.top_decile_lift, float(m.loc[k.best_model, 'base_rate']))}.",
        bgnbd_reference_text(res, audience),
    ]
    return " ".join(p for p in parts if p)


def score_status_text(evaluation) -> str:
    """Which CLV-model scores could not be computed (empty when all ran)."""
    failed = [model_label(s) for s in evaluation.score_status]
    if not failed:
        return ""
    names = ", ".join(f"„{n}“" for n in failed)
    return f"Nicht berechnen ließ sich: {names} (das Modell ließ sich zum Prüfstichtag nicht schätzen)."


def validation_text(res, cfg, audience: str | None = None) -> str:
    """Section text "Prüfung an einem späteren Stichtag": cut-offs, samples, failed scores, minimums."""
    parts = [setup_text(res, audience), score_status_text(res.evaluation),
             requirements_text(cfg, res.plan.window_days, audience)]
    return " ".join(p for p in parts if p)


def metrics_table(res) -> pd.DataFrame:
    """Every candidate with its kind, ROC AUC, the best baseline's ROC AUC next to it, the difference,
    PR AUC and lift (for ``show_table`` with :data:`METRICS_FORMATS`); the score used is marked."""
    m = res.evaluation.metrics
    base = float(m.loc[res.key.baseline_model, "roc_auc"])
    used = res.key.best_model
    names = [model_label(i) + (" (verwendet)" if i == used else "") for i in m.index]
    return pd.DataFrame({
        "Prognose": names,
        "Art": [KIND_NAMES.get(k, k) for k in m["kind"]],
        "ROC AUC": m["roc_auc"].to_numpy(dtype=float),
        "ROC AUC Faustregel": base,
        "Differenz": m["roc_auc"].to_numpy(dtype=float) - base,
        "PR AUC": m["pr_auc"].to_numpy(dtype=float),
        "Top-10-%-Lift": m["top_decile_lift"].to_numpy(dtype=float),
    })


def _signed(v: float) -> str:
    if abs(v) < 0.005:
        return "±0,00"
    return ("+" if v > 0 else "−") + fmt.number(abs(v), 2)


METRICS_FORMATS = {"ROC AUC": _auc, "ROC AUC Faustregel": _auc, "Differenz": _signed, "PR AUC": _auc,
                   "Top-10-%-Lift": fmt.factor}
"""Cell formats of :func:`metrics_table`."""


def metrics_note(res) -> str:
    """Table note of :func:`metrics_table`."""
    return (
        f"„ROC AUC Faustregel“: die bessere der beiden Faustregeln („{model_label(res.key.baseline_model)}“); "
        "„Differenz“: Vorsprung der Prognose vor ihr. ROC AUC: 0,5 = Zufall, 1 = perfekte Trennung. "
        "PR AUC: Zufall entspricht der Abwanderungsquote. Top-10-%-Lift: Abwanderungsquote unter den 10 % mit "
        "dem höchsten Risiko im Verhältnis zum Durchschnitt. Kaufmodelle: am Stichtag auf alle Käufe bis dahin "
        "angepasst; „BG/NBD: P(aktiv)“ ist nur zum Vergleich aufgeführt."
    )


DRIVERS_INTRO = (
    "Die folgenden Merkmale tragen am meisten zu den lernenden Modellen bei. Es handelt sich um statistische "
    "Zusammenhänge, nicht um nachgewiesene Ursachen."
)


def driver_sentences(drivers, n: int = 3) -> str:
    """Markdown bullet list: one sign-aware sentence per top driver of both models
    (``drivers``: :class:`~helpers.analysis.churn.Drivers` or ``None``)."""
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


def drivers_section(res) -> str:
    """Section "Was die Abwanderung vorhersagt" (empty without trained ML models)."""
    body = driver_sentences(res.drivers)
    if not body:
        return ""
    text = "## Was die Abwanderung vorhersagt\n\n" + DRIVERS_INTRO
    if res.key.best_kind != "ml":
        text += f" Verwendet wird zwar {_quoted(res.key.best_model)}, die Merkmale zeigen aber, worauf es ankommt."
    return text + "\n\n" + body


def calibration_text(res, audience: str | None = None) -> str:
    """How the score used becomes a probability and how well it matches the observed churn at t2."""
    ev, k = res.evaluation, res.key
    t = terms(audience)
    p = ev.predictions
    observed = float(p["churned"].mean())
    if k.best_kind != "ml":
        return (
            f"{_capital(_quoted(k.best_model))} ist selbst keine Wahrscheinlichkeit. "
            "Sie wird in eine umgerechnet, indem jedem Wert die Abwanderungsquote zugeordnet wird, die am "
            f"Prüfstichtag bei {t.persons} mit ähnlichem Wert tatsächlich beobachtet wurde ({share_phrase(observed)} "
            "im Mittel; je höher der Wert, desto höher oder gleich das Risiko)."
        )
    predicted = float(p[k.best_model].mean())
    gap = predicted - observed
    if abs(gap) < 0.03:
        verdict = "Die Wahrscheinlichkeiten lassen sich damit auch als Größenordnung lesen."
    elif gap > 0:
        verdict = (f"Das Modell überschätzt die Abwanderung also; die Rangfolge der {t.people} ist "
                   "verlässlicher als die absolute Höhe der Werte.")
    else:
        verdict = (f"Das Modell unterschätzt die Abwanderung also; die Rangfolge der {t.people} ist "
                   "verlässlicher als die absolute Höhe der Werte.")
    return (
        f"Am Prüfstichtag sagte das gewählte Modell im Mittel eine Abwanderungswahrscheinlichkeit von "
        f"{share_phrase(predicted)} voraus, tatsächlich wanderten {share_phrase(observed)} ab. {verdict}"
    )


def scores_text(res, active_days: int | None, audience: str | None = None,
                min_group: int = MIN_GROUP_SIZE) -> str:
    """How many current customers the score used covers and how many have a risk of at least 50 %."""
    k, s = res.key, res.scoring
    t = terms(audience)
    if s is None:
        return ""
    n = k.n_scored
    if n == 0:
        return (f"Zum Ende des Beobachtungszeitraums gibt es keine aktiven {t.people}, die bewertet werden "
                "könnten.")
    if n == 1:
        who = f"{t.one_acc} (aktiv zum {fmt.date(res.plan.end)})"
    else:
        who = (f"die {fmt.integer(n)} aktiven {t.people} zum {fmt.date(res.plan.end)}" if active_days is not None
               else f"alle {fmt.integer(n)} {t.people} zum {fmt.date(res.plan.end)}")
    text = ""
    if s.refit_failed is not None:
        text = (f"{_capital(_quoted(s.refit_failed))} ließ sich zum Ende des "
                f"Beobachtungszeitraums nicht neu schätzen; ersatzweise dient {_quoted(s.source)}. ")
    how = ("schätzt das am Prüfstichtag neu angepasste Modell" if k.best_kind == "ml"
           else f"ergibt sich aus {_dative(s.source)}")
    high = k.n_risk_50
    share = f" ({share_phrase(high / n)})" if group_ok(n, min_group) else ""
    return text + (
        f"Für {who} {how}, wie wahrscheinlich sie in den nächsten {fmt.integer(res.plan.window_days)} Tagen "
        f"nichts kaufen. Bei {fmt.integer(high)} von ihnen{share} liegt dieses Risiko bei "
        f"{fmt.pct(0.5)} oder mehr."
    )


def _old_rate(table: pd.DataFrame, group: str) -> tuple[float, int]:
    """Observed churn rate and count of ``group`` with >= 365 days since the last purchase."""
    t = table[(table["group"] == group) & (table["band_start"] >= 365)]
    n = int(t["customers"].sum())
    if n == 0:
        return math.nan, 0
    return float((t["customers"] * t["churn_rate"].fillna(0)).sum() / n), n


def fallback_text(res, active_days: int | None, audience: str | None = None,
                  min_group: int = MIN_GROUP_SIZE) -> str:
    """Where the risk of the customers without the chosen score comes from (or why it is unknown)."""
    k, fb = res.key, res.fallback
    t = terms(audience)
    n_other = k.n_risk_fallback + k.n_risk_none
    if n_other == 0:
        return ""
    if n_other == 1:
        who = (f"{t.one_acc.replace('eine ', 'die übrige ', 1).replace('einen ', 'den übrigen ', 1)}"
               if k.n_risk_model else t.one_acc)
    else:
        who = (f"die übrigen {fmt.integer(n_other)} {t.people}" if k.n_risk_model
               else f"alle {fmt.integer(n_other)} {t.people}")
    if fb is None or not fb.ok:
        reason = (_skip_reason(fb.skip, "die Messung der Abwanderung nach Tagen seit dem letzten Kauf", audience)
                  if fb is not None and fb.skip is not None else "die Daten reichen dafür nicht aus")
        return (f"Für {who} lässt sich kein Risiko angeben: {_capital(reason)}. Ihr gefährdeter Deckungsbeitrag "
                "ist unbekannt und fehlt in der Summe.")
    groups = "getrennt für Einmal- und Wiederholungskäufer" if fb.split else "für alle gemeinsam"
    text = (
        f"Für {who} dient als Risiko die am Stichtag {fmt.date(fb.cutoff)} tatsächlich beobachtete Abwanderung "
        f"nach Tagen seit dem letzten Kauf, {groups}: der Anteil derer mit ebenso langer Kaufpause, die in den "
        f"{fmt.integer(fb.window_days)} Tagen danach nichts mehr kauften (je länger die Pause, desto höher oder "
        "gleich das Risiko)."
    )
    if k.n_risk_extrapolated:
        longest = max(fb.max_recency.values())
        group = " ihrer Gruppe" if fb.split else ""
        n_ex = int(k.n_risk_extrapolated)
        text += (f" Am Stichtag lag die längste beobachtete Kaufpause bei {fmt.integer(longest)} Tagen. "
                 f"{capital(people(n_ex, t))} {verb(n_ex, 'pausiert', 'pausieren')} heute länger als alle "
                 f"am Stichtag Beobachteten{group}; dafür gilt die Quote der längsten beobachteten Pause{group}, "
                 "denn eine eigene Beobachtung gibt es nicht.")
    rate, n = _old_rate(fb.table, "one_time")
    if group_ok(n, min_group):
        text += (f" So kauften von den {fmt.integer(n)} Einmalkäufern, deren Kauf am Stichtag mehr als ein Jahr "
                 f"zurücklag, {share_phrase(rate)} nicht wieder.")
    if active_days is not None and k.n_risk_model:
        text += (f" Das betrifft alle, die {inactive_phrase(active_days)} nichts gekauft haben; sie gelten damit "
                 "nicht als sicher verloren, haben aber ein hohes Risiko.")
    return text


def fallback_table(fallback) -> pd.DataFrame | None:
    """Observed churn by days since the last purchase, one-time vs repeat buyers (German columns)."""
    if fallback is None or fallback.table is None:
        return None
    t = fallback.table
    rows = []
    for start in sorted(t["band_start"].unique()):
        part = t[t["band_start"] == start].set_index("group")
        end = part["band_end"].iloc[0]
        label = (f"{fmt.integer(start)} bis {fmt.integer(end - 1)}" if end is not None and not pd.isna(end)
                 else f"ab {fmt.integer(start)}")
        rows.append({"Tage seit letztem Kauf": label,
                     "Einmalkäufer": part.loc["one_time", "customers"],
                     "davon abgewandert": part.loc["one_time", "churn_rate"],
                     "Wiederholungskäufer": part.loc["repeat", "customers"],
                     "davon abgewandert ": part.loc["repeat", "churn_rate"]})
    return pd.DataFrame(rows)


FALLBACK_FORMATS = {"Einmalkäufer": fmt.integer, "davon abgewandert": share_phrase, "Wiederholungskäufer": fmt.integer,
                    "davon abgewandert ": share_phrase}
"""Cell formats of :func:`fallback_table`."""


def risk_section(res, active_days: int | None, audience: str | None = None,
                 min_group: int = MIN_GROUP_SIZE) -> str:
    """Section text "Aktuelles Abwanderungsrisiko": the score used, then everybody else ("" when neither)."""
    parts = [scores_text(res, active_days, audience, min_group), fallback_text(res, active_days, audience, min_group)]
    return " ".join(p for p in parts if p)


RISK_TITLE = "Abwanderungsrisiko zum Ende der Daten"
"""Heading of the risk section (the risk refers to the observation end, not to the report date)."""
VALUE_TITLE = "Gefährdeter Deckungsbeitrag"
"""Heading of the value-at-risk section."""


def risk_block(res, active_days: int | None, audience: str | None = None, min_group: int = MIN_GROUP_SIZE) -> str:
    """The risk section with its heading, or "" when no customer has a risk (no shell heading)."""
    body = risk_section(res, active_days, audience, min_group)
    return f"## {RISK_TITLE}\n\n{body}" if body else ""


def value_block(res, gross_margin: float, audience: str | None = None) -> str:
    """The value-at-risk section with its heading, or "" when there is nothing to say about value."""
    body = value_section(res, gross_margin, audience)
    return f"## {VALUE_TITLE}\n\n{body}" if body else ""


def horizon_phrase(months: int | None) -> str:
    """``"über die nächsten 12 Monate"`` (the horizon of the customer value)."""
    if months is None:
        return ""
    if months == 1:
        return "im nächsten Monat"
    return f"über die nächsten {fmt.integer(months)} Monate"


def value_source_text(key, gross_margin: float, audience: str | None = None) -> str:
    """Which value is used (value if retained from the CLV chapter, run-rate stand-in or none) and its horizon."""
    n_clv, n_rate = key.n_value_clv, key.n_value_run_rate
    t = terms(audience)
    horizon = horizon_phrase(key.value_horizon_months)
    standin = (f"der bisherige jährliche Deckungsbeitrag (Nettoumsatz aller Käufe mal Marge von "
               f"{fmt.pct(gross_margin)}, geteilt durch die Jahre seit dem ersten Kauf, mindestens ein Jahr), "
               f"umgerechnet auf den Zeitraum und ebenso abgezinst")
    if n_clv > 0:
        text = ("Als Wert dient der Wert bei Verbleib aus @sec-clv: der abgezinste Deckungsbeitrag "
                f"{horizon}, falls die {t.person} aktiv bleibt. Er ist nicht mit P(aktiv) gewichtet, denn die Gefahr "
                "des Verlusts steckt bereits im Risiko.")
        if n_rate > 0:
            text += f" Für {people(n_rate, t, 'acc')} ohne diese Prognose dient ersatzweise {standin}."
        return text
    if n_rate > 0:
        return (f"Als Wert bei Verbleib {horizon} dient, weil kein Kundenwert aus @sec-clv vorliegt, {standin}. "
                f"So behält auch eine {t.person}, die lange nicht gekauft hat, den Wert, den sie bei Rückgewinnung "
                "brächte.")
    return ("Ohne Umsatzangaben lässt sich kein Kundenwert berechnen; der gefährdete Deckungsbeitrag ist deshalb "
            "nicht berechenbar.")


def range_text(key) -> str:
    """The 80 % range of the value at risk and how it was derived (or that there is none)."""
    if key.value_at_risk is None or key.value_at_risk <= 0:
        return ""
    if key.value_at_risk_low is None or key.value_at_risk_high is None:
        return ("Eine Unsicherheitsspanne lässt sich für diese Summe nicht angeben, weil @sec-clv keine Spanne "
                "für den Wert bei Verbleib liefert.")
    return (f"Die 80-%-Spanne reicht von {fmt.eur(key.value_at_risk_low)} bis {fmt.eur(key.value_at_risk_high)}: "
            "Sie überträgt die relative Unsicherheit des Werts bei Verbleib aus @sec-clv auf die Summe; "
            "die Unsicherheit des Risikos selbst ist darin nicht enthalten.")


def _the(n: int, t) -> str:
    """Accusative with article: „die 2 Kundinnen und Kunden“, singular „eine Kundin oder einen Kunden“."""
    return people(n, t, "acc") if int(n) == 1 else f"die {people(n, t, 'acc')}"


def value_text(key, best_model: str | None = None, audience: str | None = None) -> str:
    """The value at risk overall, its range, its parts by risk source and the high-risk / high-value cell."""
    t = terms(audience)
    total = key.value_at_risk
    horizon = horizon_phrase(key.value_horizon_months)
    nv = key.n_without_value
    note = (f" Für {people(nv, t, 'acc')} mit Risikowert liegt außerdem kein Kundenwert vor; "
            f"{pronoun(nv, t)} {verb(nv, 'fehlt', 'fehlen')} in dieser Rechnung.") if nv > 0 else ""
    if key.n_risk_none > 0 and total is not None:
        note += (f" {capital(people(key.n_risk_none, t))} ohne Risikowert {verb(key.n_risk_none, 'fehlt', 'fehlen')} "
                 "ebenfalls.")
    if total is None:
        has_risk = key.n_risk_model + key.n_risk_fallback > 0
        has_value = key.n_value_clv + key.n_value_run_rate > 0
        missing = ("Abwanderungsrisiko und Wert bei Verbleib" if not (has_risk or has_value) else
                   "ein Abwanderungsrisiko" if not has_risk else "ein Wert bei Verbleib")
        return f"Ohne {missing} ist der gefährdete Deckungsbeitrag nicht berechenbar." + note
    if total <= 0:
        return ("Nach dieser Rechnung steht kein Deckungsbeitrag auf dem Spiel: Risiko oder Wert bei Verbleib sind "
                "für alle bewerteten " + t.people + " null." + note)
    text = (
        f"Gewichtet mit ihrem Abwanderungsrisiko stehen bei {people(key.n_value_at_risk, t, 'dat')} "
        f"insgesamt {fmt.eur(total)} Deckungsbeitrag {horizon} auf dem Spiel (gefährdeter Deckungsbeitrag = "
        "Risiko × Wert bei Verbleib)."
    )
    rng = range_text(key)
    if rng:
        text += " " + rng
    if key.n_risk_model and key.n_risk_fallback and key.value_at_risk_scored is not None \
            and key.value_at_risk_fallback is not None:
        source = f" mit Risiko aus {_dative(best_model)}" if best_model else ""
        text += (f" Davon entfallen {fmt.eur(key.value_at_risk_scored)} auf "
                 f"{_the(key.n_risk_model, t)}{source} und {fmt.eur(key.value_at_risk_fallback)} auf "
                 f"{_the(key.n_risk_fallback, t)} mit Risiko nach Tagen seit dem letzten Kauf.")
    if key.n_over_365 and key.value_at_risk_over_365:
        text += (f" Auf {_the(key.n_over_365, t)}, {'deren' if key.n_over_365 != 1 else 'dessen'} letzter Kauf "
                 "mehr als ein "
                 f"Jahr zurückliegt, entfallen {fmt.eur(key.value_at_risk_over_365)}.")
    if key.share_top_risk_third is not None:
        text += f" Auf das Drittel mit dem höchsten Risiko entfallen {share_phrase(key.share_top_risk_third)} davon"
        if key.n_high_risk_high_value > 0:
            text += (
                f", auf {_the(key.n_high_risk_high_value, t)}, {'die' if key.n_high_risk_high_value != 1 else 'der'} "
                "sowohl beim "
                f"Risiko als auch beim Wert im oberen Drittel liegen, allein "
                f"{share_phrase(key.value_at_risk_high_risk_high_value / total)}"
            )
        text += "."
    return text + note


def horizon_note(res) -> str:
    """The two time spans behind risk × value (stated once)."""
    k = res.key
    if k.window_days is None or k.value_horizon_months is None or k.value_at_risk is None:
        return ""
    return (f"Das Risiko bezieht sich auf die nächsten {fmt.integer(k.window_days)} Tage, der Wert auf "
            f"{fmt.integer(k.value_horizon_months)} Monate.")


def value_section(res, gross_margin: float, audience: str | None = None) -> str:
    """The text of the section "Gefährdeter Deckungsbeitrag": value source and horizon, then the numbers."""
    k = res.key
    parts = [value_source_text(k, gross_margin, audience)]
    if k.n_value_clv + k.n_value_run_rate > 0:
        parts += [value_text(k, k.best_model, audience), horizon_note(res)]
    return " ".join(p for p in parts if p)


GROUP_NAMES = {1: "niedrig", 2: "mittel", 3: "hoch"}
"""Tercile (1–3) of the risk × value matrix -> German axis label."""


def top_table(top: pd.DataFrame) -> pd.DataFrame:
    """:attr:`ChurnResult.top` with German column names (for ``show_table`` with :data:`TOP_FORMATS`)."""
    return pd.DataFrame({
        "Kunden-ID": top.index.astype(str),
        "Risiko": top["risk"].to_numpy(),
        "Wert bei Verbleib": top["value"].to_numpy(),
        "Gefährdeter DB": top["value_at_risk"].to_numpy(),
        "Tage seit letztem Kauf": top["recency_days"].to_numpy(),
        "Kauftage": top["n_purchases"].to_numpy(),
    })


TOP_FORMATS = {"Risiko": fmt.pct, "Wert bei Verbleib": fmt.eur, "Gefährdeter DB": fmt.eur,
               "Tage seit letztem Kauf": fmt.integer, "Kauftage": fmt.integer}
"""Cell formats of :func:`top_table`."""


def risk_source_counts(customers: pd.DataFrame) -> pd.DataFrame:
    """Customers, risk and value at risk per ``risk_source`` (German names; for a small table)."""
    c = customers
    g = c.groupby("risk_source", sort=False)
    out = pd.DataFrame({
        "Risiko aus": [model_label(s) for s in g.size().index],
        "Kunden": g.size().to_numpy(),
        "mittleres Risiko": g["risk"].mean().to_numpy(),
        "Gefährdeter DB": g["value_at_risk"].sum(min_count=1).to_numpy(),
    })
    return out.replace({np.nan: None})


SOURCE_FORMATS = {"Kunden": fmt.integer, "mittleres Risiko": fmt.pct, "Gefährdeter DB": fmt.eur}
"""Cell formats of :func:`risk_source_counts`."""
