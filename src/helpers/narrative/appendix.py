"""German content of the appendix: methods, every parameter value used, data-quality ledger, glossary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import pandas as pd

from .. import fmt, labels
from ..labels import SETTING_LABELS
from .common import terms

def _text(v: Any) -> str:
    return fmt.MISSING if v is None or v == "" else str(v)


_FORMATTERS: dict[str, Callable[[Any], str]] = {
    "text": lambda v: "automatisch" if v is None else _text(v),
    "int": lambda v: fmt.MISSING if v is None else fmt.integer(v),
    "pct": lambda v: fmt.MISSING if v is None else fmt.pct(v),
    "times": lambda v: fmt.MISSING if v is None else f"{fmt.number(v, 0)}-faches der Kosten",
    "pct1": lambda v: fmt.MISSING if v is None else fmt.pct(v, 1),
    "eur": lambda v: fmt.MISSING if v is None else fmt.eur(v),
    "eur2": lambda v: fmt.MISSING if v is None else fmt.eur(v, 2),
    "number1": lambda v: fmt.MISSING if v is None else fmt.number(v, 1),
    "number3": lambda v: fmt.MISSING if v is None else fmt.number(v, 3),
    "pp": lambda v: fmt.MISSING if v is None else fmt.pp(v),
    "bool": lambda v: "ja" if v else "nein",
    "audience": lambda v: labels.AUDIENCE_LABELS.get(v, _text(v)),
    "report_date": lambda v: "Tag der Erstellung" if v is None else fmt.date(pd.Timestamp(v)),
    "date": lambda v: "letzter Tag mit Bestellungen" if v is None else fmt.date(pd.Timestamp(v)),
    "returns": lambda v: {"net": "mit dem Umsatz verrechnet", "drop": "verworfen"}.get(v, _text(v)),
    "period": lambda v: {"M": "Monat", "Q": "Quartal"}.get(v, _text(v)),
    "days_auto": lambda v: "aus den Kaufabständen bestimmt" if v is None else fmt.integer(v),
    "days_all": lambda v: "alle" if v is None else fmt.integer(v),
    "rules": lambda v: "Standardregeln" if not v else f"{fmt.integer(len(v))} eigene Regeln",
    "auto": lambda v: "automatisch erkannt" if v is None else _text(v),
    "logo": lambda v: "kein Logo" if not v else _text(v),
}


_DECIDED = {
    "observation_end": "letzter Tag mit Bestellungen",
    "audience": "aus den Daten erkannt",
    "currency": "aus den Daten erkannt",
    "actions.budget": "Standard der Zielgruppe",
    "actions.cost_per_contact": "Standard der Zielgruppe",
}
"""Settings left empty (or ``auto``) whose value the run decides -> German note on where it came from."""


def settings_table(settings: Mapping[str, Any], effective: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Every setting with a German label and German formatted value (``Einstellung``, ``Wert``).

    Mappings are expanded to one row per entry (e.g. the uplift per segment). ``effective`` holds the
    values a run decided for settings left empty or ``auto`` (``AppendixResult.effective``); they are
    shown with a note on their origin. Unknown keys are listed with their key.
    """
    effective = effective or {}
    rows: list[tuple[str, str]] = []
    for key, value in settings.items():
        label, kind = SETTING_LABELS.get(key, (key, "text"))
        fmt_value = _FORMATTERS.get(kind, _FORMATTERS["text"])
        if key in _DECIDED and value in (None, "auto") and effective.get(key) is not None:
            rows.append((label, f"{fmt_value(effective[key])} – {_DECIDED[key]}"))
            continue
        if kind == "uplift":
            for seg, share in dict(value or {}).items():
                rows.append((f"{label} im Segment „{labels.segment(seg)}“ (Annahme)", fmt.pct(share, 1)))
            continue
        if kind == "map":
            if not value:
                rows.append((label, "keine" if key != "data.column_map" else "automatisch erkannt"))
            for k, v in dict(value or {}).items():
                rows.append((f"{label}: {k}", _text(v)))
            continue
        if isinstance(value, (list, dict)) and kind != "rules":
            value = str(value)
        rows.append((label, fmt_value(value)))
    return pd.DataFrame(rows, columns=["Einstellung", "Wert"])


# ---------------------------------------------------------------- which analyses ran

REPORT_CHAPTERS = ("data", "economics", "rfm", "clv", "churn", "actions")
"""Chapters whose results decide the methods text and the glossary."""


def chapter_results(ctx) -> dict[str, Any]:
    """The results the appendix describes, from a :class:`helpers.session.Session` (``ctx.result``)."""
    return {slug: ctx.result(slug) for slug in REPORT_CHAPTERS}


def _get(obj: Any, *path: str) -> Any:
    for name in path:
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    return obj


def topics(results: Mapping[str, Any] | None) -> frozenset[str] | None:
    """The topics this report covers, from the chapters' results (``None`` = all topics).

    A topic is present when its analysis ran and its numbers are shown: ``money`` (revenue in the
    data), ``flow``, ``cohorts``, ``retention`` (year-over-year retention shown), ``nrr``, ``lorenz``,
    ``rfm``, ``category``, ``clv`` (purchase models), ``clv_money`` (Gamma-Gamma, CLV), ``holdout``,
    ``ranges`` (80 % ranges), ``churn`` (comparison of prognoses), ``churn_ml`` (learning models),
    ``risk``, ``value`` (value if retained), ``value_at_risk``, ``budget``, ``crosssell``, ``lists``.
    """
    if results is None:
        return None
    out: set[str] = set()
    econ, rfm, clv, churn, act = (results.get(k) for k in ("economics", "rfm", "clv", "churn", "actions"))
    if econ is not None:
        if getattr(econ, "has_revenue", False):
            out.add("money")
        if _get(econ, "flow", "ok"):
            out.add("flow")
            if _get(econ, "flow", "period") == "year":
                out.add("retention")
        if getattr(econ, "has_cohorts", False) or getattr(econ, "has_activity", False):
            out.add("cohorts")
        if getattr(econ, "has_nrr", False):
            out |= {"nrr", "retention"}
        if getattr(econ, "whatif", None) is not None:
            out.add("retention")
        if getattr(econ, "has_lorenz", False):
            out.add("lorenz")
    if rfm is not None and getattr(rfm, "ok", False):
        out.add("rfm")
        if getattr(rfm, "has_revenue", False):
            out.add("money")
        if getattr(rfm, "category_mix", None) is not None:
            out.add("category")
    if clv is not None and getattr(clv, "ok", False):
        out.add("clv")
        if getattr(clv, "has_clv", False):
            out.add("clv_money")
        if _get(clv, "validation", "ran"):
            out.add("holdout")
        if _get(clv, "key", "range_draws") is not None:
            out.add("ranges")
    if churn is not None:
        if getattr(churn, "ok", False):
            out.add("churn")
            if _get(churn, "key", "ml_model") is not None:
                out.add("churn_ml")
        customers = getattr(churn, "customers", None)
        if customers is not None and "risk" in customers and customers["risk"].notna().any():
            out.add("risk")
        k = getattr(churn, "key", None)
        if k is not None and (k.n_value_clv + k.n_value_run_rate) > 0:
            out.add("value")
        if k is not None and k.value_at_risk is not None:
            out.add("value_at_risk")
            if k.value_at_risk_low is not None:
                out.add("ranges")
    if act is not None:
        if getattr(act, "has_value", False) and getattr(act, "has_risk", False):
            out.add("budget")
        if _get(act, "crosssell", "ok"):
            out |= {"crosssell", "category"}
        lists = getattr(act, "lists", None)
        if lists is not None and len(lists):
            out.add("lists")
    return frozenset(out)


def _audience(results: Mapping[str, Any] | None, audience: str | None) -> str | None:
    if audience is not None or results is None:
        return audience
    return _get(results.get("actions"), "key", "audience")


# ---------------------------------------------------------------- methods

def _one_word(t) -> str:
    return "Kundin oder Kunde" if t.audience == "b2c" else "Firmenkunde"


def methods_text(results: Mapping[str, Any] | None = None, audience: str | None = None,
                 cfg: Any = None) -> str:
    """German description of the methods used in THIS report (only the analyses that ran).

    ``results``: slug -> chapter result (:func:`chapter_results`); ``None`` describes every method.
    ``audience``: ``b2c``/``b2b`` (default: the action plan's); ``cfg``: the report settings (for the
    numbers of the assumptions; defaults otherwise)."""
    from ..config import ReportConfig

    cfg = cfg or ReportConfig()
    on = topics(results)
    has = (lambda topic: True) if on is None else (lambda topic: topic in on)  # noqa: E731
    t = terms(_audience(results, audience))
    cur = fmt.currency_name()
    paras = []
    money = (f"sein Umsatz ist die Nettosumme dieser Zeilen in {cur}. **Nettoumsatz** heißt immer: nach Abzug "
             "aller Retouren und Stornos, auch solcher an Tagen ohne Kauf" if has("money") else
             "die Daten enthalten keinen Umsatz, ausgewertet werden deshalb nur Zahl und Zeitpunkt der Käufe")
    paras.append(
        "**Datenbasis.** Eine *Zeile* ist eine Position des Kundenexports nach der Bereinigung. Ein *Kauf* fasst alle "
        f"Zeilen {t.one_gen} an einem Kalendertag zusammen (ein *Kauftag*); {money}. Tage, an denen nur Retouren "
        "anfallen (Nettoumsatz höchstens 0), zählen nicht als Kauf. Alle Auswertungen beziehen sich auf den Zeitraum "
        "bis zum Beobachtungsende einschließlich; „aktuell“ heißt: zum Beobachtungsende, nicht zum Berichtsdatum. "
        f"Aussagen über Anteile, Durchschnitte oder Vergleiche einer Gruppe stehen nur, wenn mindestens "
        f"{fmt.integer(cfg.economics.min_group_size)} {t.people} dahinterstehen; ein kleiner Anteil über null erscheint als "
        "„weniger als 1 %“.")
    econ = [f"Die **Wiederkaufrate** ist der Anteil der {t.people} mit mindestens zwei Kauftagen "
            "(Wiederholungskäufer; Einmalkäufer haben genau einen)."]
    if has("flow"):
        econ.append(f"Die **Kundenbewegung** ordnet je Zeitraum jede aktive {t.person} genau einer Gruppe zu: neu, "
                    "gehalten, zurückgewonnen; dazu kommen die verlorenen.")
    if has("retention"):
        econ.append(f"Die **Bindungsquote** ist der Anteil der {t.people} eines Zwölfmonatszeitraums, die im "
                    "folgenden wieder kaufen.")
    if has("nrr"):
        econ.append("**NRR** und **GRR** setzen den Umsatz dieser Gruppe im Folgejahr ins Verhältnis zum Vorjahr.")
    if has("lorenz"):
        econ.append("Die Konzentration des Umsatzes messen **Lorenzkurve** und **Gini-Koeffizient**.")
    paras.append("**Bestandskunden.** " + " ".join(econ))
    if has("rfm"):
        m = ", Monetary (Nettoumsatz)" if has("money") else ""
        paras.append(
            f"**RFM-Segmentierung.** Recency (Tage seit dem letzten Kauf), Frequency (Zahl der Kauftage){m} werden je "
            f"{_one_word(t)} in Punktwerte von 1 bis 5 übersetzt; gleiche Werte erhalten denselben Punktwert. Feste "
            "Regeln ordnen die Kombinationen aus R- und F-Punktwert einem Segment zu.")
    if has("clv"):
        choice = ("Welches Modell verwendet wird, entscheidet eine Rückprüfung: Alle drei werden nur mit den Käufen bis "
                  "zu einem Stichtag geschätzt und sagen die Käufe des folgenden Prüfzeitraums (**Holdout**) voraus; "
                  f"gewählt wird die kleinste mittlere Abweichung je {_one_word(t)}." if has("holdout") else
                  "Eine Rückprüfung an einem Prüfzeitraum (Holdout) war mit diesen Daten nicht möglich; gewählt wird "
                  "das Modell mit der höchsten Log-Likelihood.")
        text = (
            "**Kaufprognose und Kundenwert.** Drei Kaufmodelle – **BG/NBD**, **MBG/NBD** und **Pareto/NBD** – schätzen "
            "aus der Zahl der Wiederholungskäufe, der **Kaufspanne** (Wochen vom ersten bis zum letzten Kauf) und der "
            f"Zeit seit dem ersten Kauf, wie wahrscheinlich eine {t.person} noch aktiv ist (**P(aktiv)**) und wie "
            f"viele Käufe zu erwarten sind. {choice}")
        if has("clv_money"):
            text += (" Das **Gamma-Gamma**-Modell schätzt den durchschnittlichen Umsatz je Kauf. Der **Kundenwert "
                     "(CLV)** ist der erwartete Deckungsbeitrag im Prognosezeitraum, abgezinst mit dem angegebenen "
                     f"Satz; der **Wert bei Verbleib** ist derselbe Betrag unter der Bedingung, dass die {t.person} "
                     "aktiv bleibt (Kundenwert geteilt durch P(aktiv)).")
        if has("ranges"):
            text += (" Die **80-%-Spannen** entstehen aus Ziehungen der Modellparameter gemäß ihrer statistischen "
                     "Unsicherheit (parametrischer Bootstrap).")
        paras.append(text)
    if has("churn") or has("risk"):
        text = "**Abwanderungsprognose.** "
        if has("churn"):
            ml = (" und zwei lernende Modelle (logistische Regression, Gradient Boosting), die an einem früheren "
                  "Stichtag lernen" if has("churn_ml") else "")
            models = ", die Kennzahlen der Kaufmodelle" if has("clv") else ""
            text += (
                "Als abgewandert gilt, wer im Abwanderungsfenster nach einem Stichtag nicht kauft. An einem späteren "
                "Stichtag mit bekanntem Ausgang treten gegeneinander an: zwei Faustregeln (Tage seit dem letzten Kauf, "
                f"Zahl der Käufe){models}{ml}. Verwendet wird die Prognose mit der höchsten **ROC AUC**"
                + ("; ein lernendes Modell nur, wenn es die beste Faustregel deutlich schlägt. " if has("churn_ml")
                   else ". "))
        text += (f"Wer keinen Wert dieser Prognose hat, erhält als Risiko die beobachtete Abwanderungsquote von "
                 f"{t.persons} mit ebenso langer Kaufpause. 1 − P(aktiv) des BG/NBD-Modells dient nie als Risiko.")
        paras.append(text)
    if has("value_at_risk"):
        paras.append(
            "**Gefährdeter Deckungsbeitrag** = Abwanderungsrisiko × Wert bei Verbleib, summiert über alle "
            f"{t.people}. Der Wert bei Verbleib stammt aus dem Kundenwert oder, wo er fehlt, aus dem bisherigen "
            "jährlichen Deckungsbeitrag.")
    plan = [f"Die Zielgruppe – {t.label} – bestimmt Wortwahl, Maßnahmen und die Standardannahmen für Budget und "
            "Kosten je Kontakt."]
    if has("budget"):
        a = cfg.actions
        plan.append(
            f"Je {_one_word(t)} ist der erwartete Zusatz-Deckungsbeitrag eines Kontakts = Wirkung des Segments × "
            "Abwanderungsrisiko × Wert bei Verbleib − Kosten je Kontakt. Das Budget geht zuerst an die Kontakte mit "
            "dem höchsten erwarteten Zusatz-Deckungsbeitrag, solange dieser positiv ist. Wirkung, Budget und "
            "Kontaktkosten sind Annahmen; die Spanne rechnet mit dem "
            f"{fmt.number(a.uplift_low_factor, 1)}- und {fmt.number(a.uplift_high_factor, 1)}-Fachen der Wirkung. "
            "Messen lässt sich die Wirkung nur mit einer **Kontrollgruppe**, die nicht angesprochen wird.")
    paras.append("**Maßnahmenplan.** " + " ".join(plan))
    if has("crosssell"):
        paras.append(f"**Zusatzkäufe.** Support, Konfidenz und Lift werden auf Ebene der {t.people} berechnet (wer hat "
                     "welche Warengruppen je gekauft), nicht je Warenkorb.")
    return "\n\n".join(paras) + "\n"




# ---------------------------------------------------------------- glossary

@dataclass(frozen=True)
class GlossaryEntry:
    term: str
    """German term as the report writes it."""
    english: str
    meaning: str
    """German explanation; ``{people}``, ``{one}``, ``{one_gen}``, ``{customer}``, ``{person}`` are filled
    with the audience's words."""
    topics: tuple[str, ...] = ()
    """Topics (:func:`topics`) of which at least one must be present; empty = always shown."""


GLOSSARY_ENTRIES: tuple[GlossaryEntry, ...] = (
    GlossaryEntry("80-%-Spanne", "80 % interval",
                  "Bereich, in dem ein geschätzter Wert mit etwa 80 % Wahrscheinlichkeit liegt, sofern sich das "
                  "Kaufverhalten nicht grundlegend ändert.", ("ranges",)),
    GlossaryEntry("Abwanderung", "churn",
                  "{One} kauft im festgelegten Zeitraum (Abwanderungsfenster) nicht mehr."),
    GlossaryEntry("Abwanderungsrisiko", "churn probability",
                  "Geschätzte Wahrscheinlichkeit der Abwanderung (0 bis 100 %).", ("risk",)),
    GlossaryEntry("Bestandskunde", "existing customer",
                  "{Customer}, die oder der schon mindestens einmal gekauft hat."),
    GlossaryEntry("BG/NBD", "beta-geometric/negative binomial distribution model",
                  "Kaufmodell (Fader, Hardie und Lee 2005): Eine aktive {person} kauft mit persönlicher Rate und wird "
                  "nach jedem Wiederholungskauf mit einer persönlichen Wahrscheinlichkeit inaktiv.", ("clv",)),
    GlossaryEntry("Bindungsquote", "retention rate",
                  "Anteil der {people} eines Zwölfmonatszeitraums, die im folgenden Zwölfmonatszeitraum wieder kaufen.",
                  ("retention",)),
    GlossaryEntry("Deckungsbeitrag", "contribution margin",
                  "Nettoumsatz × Marge (Einstellung); ein Betrag in der Währung des Berichts."),
    GlossaryEntry("Einmalkäufer", "one-time buyer", "{Customer} mit genau einem Kauftag im Beobachtungszeitraum."),
    GlossaryEntry("Gamma-Gamma", "gamma-gamma spend model",
                  "Modell für den durchschnittlichen Umsatz je Kauf (Fader und Hardie 2013); Grundlage des "
                  "Kundenwerts.", ("clv_money",)),
    GlossaryEntry("Gefährdeter Deckungsbeitrag", "value at risk",
                  "Summe aus Abwanderungsrisiko × Wert bei Verbleib: der Deckungsbeitrag, der im Erwartungswert "
                  "verloren geht, wenn nichts geschieht.", ("value_at_risk",)),
    GlossaryEntry("Gini-Koeffizient", "Gini coefficient",
                  "Maß der Umsatzkonzentration: 0 = alle gleich, nahe 1 = eine einzige {person} hat fast den ganzen "
                  "Umsatz.", ("lorenz",)),
    GlossaryEntry("GRR (Gross Revenue Retention)", "gross revenue retention",
                  "Wie NRR, aber je {customer} zählt im Folgejahr höchstens der Vorjahresumsatz; zeigt nur die "
                  "Verluste.", ("nrr",)),
    GlossaryEntry("Gradient Boosting", "gradient boosting",
                  "Lernverfahren aus vielen kleinen Entscheidungsbäumen, die nacheinander die Fehler der vorigen "
                  "ausgleichen.", ("churn_ml",)),
    GlossaryEntry("Heatmap", "heat map",
                  "Tabelle, deren Felder nach ihrem Wert eingefärbt sind: je dunkler, desto größer.", ("rfm", "cohorts",
                                                                                                      "clv")),
    GlossaryEntry("Holdout (Prüfzeitraum)", "holdout period",
                  "Zurückgehaltener Zeitraum am Ende der Daten, an dem eine Prognose mit den tatsächlichen Käufen "
                  "verglichen wird.", ("holdout",)),
    GlossaryEntry("Kaufspanne", "recency (in BG/NBD)",
                  "Wochen vom ersten bis zum letzten Kauf; Größe der Kaufmodelle, nicht zu verwechseln mit der "
                  "Recency der RFM-Analyse.", ("clv",)),
    GlossaryEntry("Kauftag", "purchase day",
                  "Kalendertag mit mindestens einem Kauf {one_gen}; mehrere Bestellungen am selben Tag zählen als "
                  "ein Kauf."),
    GlossaryEntry("Kohorte", "cohort",
                  "Alle {people} mit dem ersten Kauf im selben Monat oder Quartal.", ("cohorts",)),
    GlossaryEntry("Konfidenz", "confidence", "Unter allen, die A gekauft haben, der Anteil derer, die auch B gekauft "
                  "haben.", ("crosssell",)),
    GlossaryEntry("Kontrollgruppe", "control group",
                  "Zufällig ausgewählter Teil einer Zielgruppe, der nicht angesprochen wird; der Unterschied zur "
                  "angesprochenen Gruppe ist die Wirkung der Kampagne."),
    GlossaryEntry("Kundenbewegung", "customer flow",
                  "Neu gewonnene, gehaltene, zurückgewonnene und verlorene {people} je Zeitraum.", ("flow",)),
    GlossaryEntry("Kundenwert (CLV)", "customer lifetime value (CLV)",
                  "Erwarteter, abgezinster Deckungsbeitrag {one_gen} im Prognosezeitraum.", ("clv_money",)),
    GlossaryEntry("Lift", "lift",
                  "Wie viel häufiger ein Ereignis in einer Gruppe eintritt als im Durchschnitt; 1 bedeutet kein "
                  "Unterschied.", ("crosssell", "churn")),
    GlossaryEntry("Log-Likelihood", "log-likelihood",
                  "Maß, wie gut ein Modell die beobachteten Käufe erklärt; höher ist besser (nur auf denselben Daten "
                  "vergleichbar).", ("clv",)),
    GlossaryEntry("Logistische Regression", "logistic regression",
                  "Lernverfahren, das die Wahrscheinlichkeit der Abwanderung aus gewichteten Merkmalen berechnet.",
                  ("churn_ml",)),
    GlossaryEntry("Lorenzkurve", "Lorenz curve",
                  "Kumulierter Umsatzanteil über dem Anteil der {people}, aufsteigend nach Umsatz geordnet.",
                  ("lorenz",)),
    GlossaryEntry("MBG/NBD", "modified BG/NBD",
                  "Kaufmodell wie BG/NBD, Abwanderung aber schon direkt nach dem ersten Kauf möglich.", ("clv",)),
    GlossaryEntry("Nettoumsatz", "net revenue",
                  "Umsatz ohne Mehrwertsteuer nach Abzug aller Retouren und Stornos.", ("money",)),
    GlossaryEntry("Neukunden", "new customers",
                  "{people} mit dem ersten Kauf im besprochenen Zeitraum; auch Name eines RFM-Segments."),
    GlossaryEntry("NRR (Net Revenue Retention)", "net revenue retention",
                  "Umsatz aller {people} des Vorjahres im Folgejahr, geteilt durch ihren Umsatz im Vorjahr.", ("nrr",)),
    GlossaryEntry("P(aktiv)", "P(alive)",
                  "Wahrscheinlichkeit nach dem Kaufmodell, dass {one} noch aktiv ist und wieder kaufen kann.",
                  ("clv",)),
    GlossaryEntry("Pareto/NBD", "Pareto/NBD model",
                  "Kaufmodell (Schmittlein, Morrison und Colombo 1987): Abwanderung ist jederzeit möglich, nicht nur "
                  "nach einem Kauf.", ("clv",)),
    GlossaryEntry("PR AUC", "area under the precision-recall curve",
                  "Fläche unter der Precision-Recall-Kurve; der Zufall erreicht die Abwanderungsquote.", ("churn",)),
    GlossaryEntry("Pseudonymisierung", "pseudonymization",
                  "Ersetzen der Kundennummern durch Kennungen, die nur mit einem Schlüssel zurückgeführt werden "
                  "können."),
    GlossaryEntry("Recency (Tage seit dem letzten Kauf)", "recency (RFM)",
                  "RFM: Tage vom letzten Kauf bis zum Beobachtungsende.", ("rfm",)),
    GlossaryEntry("RFM", "recency, frequency, monetary",
                  "Segmentierung nach Recency (Tage seit dem letzten Kauf), Frequency (Zahl der Kauftage) und "
                  "Monetary (Nettoumsatz).", ("rfm",)),
    GlossaryEntry("ROC AUC", "area under the ROC curve",
                  "Trennschärfe einer Prognose: 0,5 entspricht dem Zufall, 1 einer perfekten Trennung.", ("churn",)),
    GlossaryEntry("ROI", "return on investment",
                  "Zusätzlicher Deckungsbeitrag nach Abzug der Kosten, geteilt durch die Kosten.", ("budget",)),
    GlossaryEntry("Streuverluste", "wasted reach",
                  "Kontakte, deren erwarteter Ertrag unter den Kosten liegt.", ("budget",)),
    GlossaryEntry("Support", "support",
                  "Anteil der {people}, die beide Warengruppen gekauft haben.", ("crosssell",)),
    GlossaryEntry("Warenkorb", "basket", "Alle Positionen einer Bestellung.", ("crosssell",)),
    GlossaryEntry("Warengruppe", "product category",
                  "Gruppe ähnlicher Artikel, z. B. Schuhe oder Kosmetik.", ("category",)),
    GlossaryEntry("Wert bei Verbleib", "value if retained",
                  "Deckungsbeitrag, den {one} im Prognosezeitraum brächte, wenn sie oder er aktiv bleibt.",
                  ("value",)),
    GlossaryEntry("Wiederholungskäufer", "repeat buyer",
                  "{Customer} mit mindestens zwei Kauftagen im Beobachtungszeitraum."),
    GlossaryEntry("Wiederkaufrate", "repeat rate", "Anteil der {people} mit mindestens zwei Kauftagen."),
    GlossaryEntry("Wirkung eines Kontakts", "uplift",
                  "Angenommener Anteil des gefährdeten Deckungsbeitrags, den ein Kontakt rettet; messbar nur mit "
                  "einer Kontrollgruppe.", ("budget",)),
    GlossaryEntry("Zielgruppenliste", "target list",
                  "Liste der {people} eines Segments für den Import ins CRM.", ("lists",)),
)
"""Every technical term the report uses, with the topics that make it appear (sorted by term)."""

GLOSSARY: tuple[tuple[str, str, str], ...] = tuple((e.term, e.english, e.meaning) for e in GLOSSARY_ENTRIES)
"""(German term, English term, German explanation template) of every entry."""


def _fill(text: str, t) -> str:
    one_b2c = t.audience == "b2c"
    words = {"{people}": t.people, "{one}": t.one, "{One}": t.one[:1].upper() + t.one[1:], "{one_gen}": t.one_gen,
             "{customer}": "Kundin oder Kunde" if one_b2c else "Firmenkunde",
             "{Customer}": "Kundin oder Kunde" if one_b2c else "Firmenkunde", "{person}": t.person,
             "{buyers}": t.buyers}
    for k, v in words.items():
        text = text.replace(k, v)
    if not one_b2c:
        text = text.replace("die oder der", "der").replace("sie oder er", "er")
    return text


def glossary_entries(results: Mapping[str, Any] | None = None, audience: str | None = None) -> list[GlossaryEntry]:
    """The entries for this report: only terms whose analysis ran (all without ``results``)."""
    on = topics(results)
    t = terms(_audience(results, audience))
    keep = [e for e in GLOSSARY_ENTRIES if on is None or not e.topics or set(e.topics) & on]
    return [GlossaryEntry(e.term, e.english, _fill(e.meaning, t), e.topics) for e in keep]


def glossary_table(results: Mapping[str, Any] | None = None, audience: str | None = None) -> pd.DataFrame:
    """The glossary as a German table (``Begriff``, ``Englisch``, ``Bedeutung``); with ``results`` only
    the terms of the analyses that ran (:func:`topics`)."""
    rows = [(e.term, e.english, e.meaning) for e in glossary_entries(results, audience)]
    return pd.DataFrame(rows, columns=["Begriff", "Englisch", "Bedeutung"])
