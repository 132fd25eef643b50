"""German churn texts: the score used and why (ML vs baseline), BG/NBD reference, skip reasons with
the failed minimum, risk sources, value at risk with horizon and range."""

import dataclasses
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from helpers.analysis import churn as ch
from helpers.analysis import value as vd
from helpers.analysis.churn import ChurnResult, CutoffPlan, Drivers, Evaluation, Skip
from helpers.analysis.churn_features import WindowChoice
from helpers.config import ReportConfig
from helpers.narrative import churn as nc

PLAN = CutoffPlan(pd.Timestamp("2025-01-01"), pd.Timestamp("2025-04-01"), pd.Timestamp("2025-06-30"), 90)


def _customers(risk: pd.Series, value: pd.Series, source: str = "logit", fallback: pd.Series | None = None):
    idx = risk.index
    out = vd.customer_risk(idx, model_risk=risk, model_source=source, fallback_risk=fallback).join(
        vd.customer_value(idx, clv_if_active=value, standin=None))
    out.insert(0, "churn_risk", risk)
    out["value_at_risk"] = vd.value_at_risk(out["risk"], out["value"])
    return out


def _result(auc: dict, single=math.nan, ml_skip=None, plan=PLAN):
    rows = {k: [v, 0.7, 0.6, 1.4, ch.CANDIDATES[k]] for k, v in auc.items()}
    metrics = pd.DataFrame.from_dict(rows, orient="index",
                                     columns=["roc_auc", "pr_auc", "base_rate", "top_decile_lift", "kind"])
    evaluation = Evaluation(metrics=metrics, choice=ch.choose_score(metrics), single_buyer_churn_rate=single)
    window = WindowChoice(90, "config")
    customers = _customers(pd.Series([0.5], index=["a"]), pd.Series([10.0], index=["a"]))
    prep = ch.Prepared(window=window, plan=plan, n_train=500 if plan.t1 is not None else 0, n_test=600,
                       churn_rate_train=0.55, churn_rate_test=0.6)
    key = ch.key_figures(window=window, customers=customers, matrix=None, horizon_months=12, prep=prep,
                         evaluation=evaluation)
    return ChurnResult(key=key, window=window, plan=plan, evaluation=evaluation, customers=customers,
                       ml_skip=ml_skip)


BASE = {"recency": 0.77, "frequency": 0.76, "bgnbd_purchases": 0.74, "pareto_alive": 0.73,
        "mbgnbd_alive": 0.70, "bgnbd_alive": 0.32}


def test_ml_that_does_not_beat_the_baseline_is_not_used():
    r = _result({**BASE, "logit": 0.775, "hgb": 0.76}, single=0.86)
    assert r.key.best_model == "recency" and r.key.ml_beats_baseline is False
    text = nc.summary(r)
    assert ("Das lernende Modell (Logistische Regression, ROC AUC 0,78) ist nicht nennenswert besser als die "
            "Faustregel „Tage seit dem letzten Kauf“ (ROC AUC 0,77)") in text
    assert "Verwendet wird deshalb die einfache Faustregel; sie trennt brauchbar (ROC AUC 0,77)" in text
    # the BG/NBD P(aktiv) reference: worse than chance, with the one-time buyers' churn rate
    assert "ROC AUC 0,32 sogar schlechter als der Zufall" in text and "86\u00a0%" in text
    assert "nirgends als Risiko verwendet" in text


def test_ml_beating_the_baseline_but_not_a_clv_model_score():
    r = _result({**BASE, "bgnbd_purchases": 0.80, "logit": 0.79, "hgb": 0.70})
    assert r.key.best_model == "bgnbd_purchases" and r.key.ml_beats_baseline is True
    text = nc.choice_text(r)
    assert "übertrifft zwar die Faustregel „Tage seit dem letzten Kauf“ (ROC AUC 0,77), aber nicht die Kennzahl " \
           "„BG/NBD: erwartete Käufe“" in text
    assert "Verwendet wird deshalb die Kennzahl „BG/NBD: erwartete Käufe“; sie trennt gut (ROC AUC 0,80)" in text


def test_ml_used_when_it_wins_clearly():
    r = _result({**BASE, "logit": 0.80, "hgb": 0.82})
    assert r.key.best_model == "hgb" and r.key.best_kind == "ml"
    text = nc.choice_text(r)
    assert text.startswith("Verwendet wird das Gradient Boosting: Es trennt")
    assert "schlägt damit die Faustregel „Tage seit dem letzten Kauf“ (ROC AUC 0,77)" in text


def test_without_ml_the_text_names_the_failed_minimum():
    skip = Skip("short_history", {"available_days": 546, "needed_days": 636, "window_days": 273})
    plan = CutoffPlan(None, PLAN.t2, PLAN.end, 90)
    r = _result({**BASE, "bgnbd_purchases": 0.773}, ml_skip=skip, plan=plan)
    text = nc.choice_text(r)
    assert "Die lernenden Modelle (logistische Regression, Gradient Boosting) entfallen: Das Lernen an einem " \
           "früheren Stichtag braucht 636 Tage Daten, die Daten umfassen nur 546 Tage." in text
    assert "Verwendet wird die Kennzahl „BG/NBD: erwartete Käufe“" in text and "(ROC AUC 0,77)" in text
    setup = nc.setup_text(r)
    assert "01.04.2025" in setup and "lernen vorher" not in setup


def test_metrics_table_shows_the_baseline_next_to_every_candidate():
    r = _result({**BASE, "logit": 0.775, "hgb": 0.76})
    t = nc.metrics_table(r)
    assert list(t.columns) == ["Prognose", "Art", "ROC AUC", "ROC AUC Faustregel", "Differenz", "PR AUC",
                               "Top-10-%-Lift"]
    assert (t["ROC AUC Faustregel"] == 0.77).all() and len(t) == 8
    row = t.set_index("Prognose").loc["Tage seit dem letzten Kauf (verwendet)"]
    assert row["Art"] == "Faustregel" and row["Differenz"] == 0
    assert t.loc[t["Prognose"] == "BG/NBD: P(aktiv)", "Art"].item() == "Referenz"
    assert nc.METRICS_FORMATS["Differenz"](-0.45) == "−0,45" and nc.METRICS_FORMATS["Differenz"](0.031) == "+0,03"
    assert "„Tage seit dem letzten Kauf“" in nc.metrics_note(r)


def test_requirements_state_the_minimums_with_numbers():
    text = nc.requirements_text(ReportConfig(), 120)
    assert "mindestens 200 aktive" in text and "mindestens 5\u00a0%" in text
    assert "(210 Tage insgesamt)" in text and "(330 Tage insgesamt)" in text and "mindestens 100 Kundinnen" in text


def test_setup_text_quotes_the_key_figures():
    text = nc.setup_text(_result({**BASE, "logit": 0.7, "hgb": 0.7}))
    assert "01.01.2025" in text and "500 aktive" in text and "55\u00a0%" in text and "600 aktive" in text


def test_driver_sentences_follow_the_sign():
    d = Drivers(
        coefficients=pd.DataFrame({"feature": ["recency_days", "frequency", "trend_90"],
                                   "coefficient": [0.9, -0.5, 0.2], "univariate": [0.4, -0.3, -0.2]}),
        importance=pd.DataFrame({"feature": ["recency_days", "channel_share__Web*Shop", "monetary"],
                                 "importance": [0.05, 0.01, -0.001], "importance_std": [0.0, 0.0, 0.0],
                                 "direction": [0.6, 0.02, -0.5]}),
    )
    lines = nc.driver_sentences(d).splitlines()
    assert "Tage seit dem letzten Kauf" in lines[0] and "desto höher" in lines[0]
    assert "Anzahl Kauftage" in lines[1] and "desto niedriger" in lines[1]
    assert "umgekehrt" in lines[2] and "umgekehrt" not in lines[0]
    assert "höherem Risiko" in lines[3]
    assert "Web\\*Shop" in lines[4] and "keine einheitliche" not in lines[4] and "nicht erkennbar" in lines[4]
    assert len(lines) == 5  # a feature whose permutation does not hurt is not called a driver
    assert nc.driver_sentences(None) == ""


@pytest.mark.parametrize("skip, needle", [
    (Skip("short_history", {"available_days": 200, "needed_days": 270, "window_days": 180}), "nur 200 Tage"),
    (Skip("too_few_customers", {"n": 42, "min": 200, "cutoff": pd.Timestamp("2025-01-31")}), "31.01.2025"),
    (Skip("class_imbalance", {"n": 300, "churn_share": 0.98, "min_share": 0.05,
                              "cutoff": pd.Timestamp("2025-01-31")}), "Wiederkaufende mit 2,0\u00a0%"),
    (Skip("no_window", {}), "keine Wiederholungskäufe"),
])
def test_skip_texts(skip, needle):
    assert needle in nc.skip_text(skip)
    window = WindowChoice(None, "data")
    customers = _customers(pd.Series([np.nan], index=["a"]), pd.Series([1.0], index=["a"]))
    key = ch.key_figures(window=window, customers=customers, matrix=None, horizon_months=12)
    r = ChurnResult(skip=skip.code, skip_info=skip, key=key, window=window, customers=customers)
    assert not r.ok and r.key.best_model is None
    assert nc.summary(r) == nc.skip_text(skip)
    assert nc.skip_sentence(skip.code) != nc.skip_sentence("unknown_reason")


def test_window_text_explains_the_rounding():
    w = WindowChoice(days=90, source="data", quantile_days=83.4, quantile=0.9, n_gaps=1234)
    text = nc.window_text(w)
    assert "90 Tagen" in text and "1.234" in text and "83 Tage" in text and "gerundet" in text
    assert "Einstellungen" in nc.window_text(WindowChoice(days=60, source="config"))


def test_window_text_when_clipped():
    w = WindowChoice(days=365, source="data", quantile_days=520.0, quantile=0.9, n_gaps=50)
    text = nc.window_text(w)
    assert "520 Tage" in text and "365 Tage verwendet" in text and "ungewöhnlich" not in text


def _value_key(customers, horizon=12, clv_key=None):
    matrix = ch.risk_value_matrix(ch.expected_loss(customers))
    return ch.key_figures(window=WindowChoice(90, "config"), customers=customers, matrix=matrix,
                          horizon_months=horizon, clv_key=clv_key)


def test_value_text_numbers_and_range():
    risk = pd.Series([0.9, 0.8, 0.1, 0.5, 0.2, 0.3], index=list("abcdef"))
    value = pd.Series([100.0, 10.0, 200.0, 50.0, 20.0, 30.0], index=list("abcdef"))
    key = _value_key(_customers(risk, value))  # 90 + 8 + 20 + 25 + 4 + 9 = 156
    text = nc.value_text(key)
    assert "156\u00a0€ Deckungsbeitrag über die nächsten 12 Monate" in text
    # top risk third: a (90) and b (8) -> 63 %; a alone has high risk and high value -> 58 %
    assert "63\u00a0%" in text and "58\u00a0%" in text
    assert "keine Spanne" in text  # no CLV range: said, not invented
    clv_key = SimpleNamespace(clv_if_active_total=1000.0, clv_if_active_total_low=500.0,
                              clv_if_active_total_high=1500.0)
    text = nc.value_text(_value_key(_customers(risk, value), clv_key=clv_key))
    assert "Die 80-%-Spanne reicht von 78\u00a0€ bis 234\u00a0€" in text


def test_value_section_names_sources_and_horizon():
    # a, b scored by the chosen score; c by the recency fallback; d has no value
    risk = pd.Series([0.5, 0.2, np.nan, np.nan], index=list("abcd"))
    fallback = pd.Series([0.9, 0.9, 0.25, 0.5], index=list("abcd"))
    value = pd.Series([100.0, 50.0, 40.0, np.nan], index=list("abcd"))
    key = _value_key(_customers(risk, value, source="recency", fallback=fallback), horizon=6)
    assert key.value_at_risk == pytest.approx(50 + 10 + 10) and key.n_risk_fallback == 2
    assert key.value_horizon_months == 6 and key.n_without_value == 1
    r = ChurnResult(key=dataclasses.replace(key, best_model="recency"), window=WindowChoice(90, "config"))
    text = nc.value_section(r, 0.3)
    assert "Wert bei Verbleib aus @sec-clv" in text and "über die nächsten 6 Monate" in text
    assert "70\u00a0€" in text and "Für eine Kundin oder einen Kunden mit Risikowert" in text
    assert "60\u00a0€ auf die 2 Kundinnen und Kunden mit Risiko aus der Faustregel „Tage seit dem letzten Kauf“" in text
    assert "10\u00a0€ auf die 2 Kundinnen und Kunden mit Risiko nach Tagen seit dem letzten Kauf" in text
    assert "Das Risiko bezieht sich auf die nächsten 90 Tage, der Wert auf 6 Monate." in text


def test_value_source_texts():
    idx = pd.Index(["a", "b"])
    frame = vd.customer_risk(idx, model_risk=pd.Series([0.5, 0.5], index=idx), model_source="logit",
                             fallback_risk=None).join(
        vd.customer_value(idx, clv_if_active=None, standin=pd.Series([100.0], index=["a"])))
    frame["value_at_risk"] = vd.value_at_risk(frame["risk"], frame["value"])
    key = _value_key(frame, horizon=6)
    text = nc.value_source_text(key, 0.3)
    assert "weil kein Kundenwert aus @sec-clv vorliegt" in text and "30\u00a0%" in text
    assert "mindestens ein Jahr" in text and "über die nächsten 6 Monate" in text
    none = frame.assign(value=np.nan, value_source="none", value_at_risk=np.nan)
    assert "nicht berechenbar" in nc.value_source_text(_value_key(none), 0.3)


def test_fallback_text_says_unknown_with_the_failed_minimum():
    idx = pd.Index(["a", "b", "c"])
    frame = _customers(pd.Series([np.nan] * 3, index=idx), pd.Series([1.0] * 3, index=idx))
    key = _value_key(frame)
    fb = ch.RecencyCalibration(skip=Skip("too_few_customers", {"n": 42, "min": 100,
                                                               "cutoff": pd.Timestamp("2025-04-01")}))
    r = ChurnResult(key=key, window=WindowChoice(90, "config"), fallback=fb, customers=frame)
    text = nc.fallback_text(r, 365)
    assert text.startswith("Für alle 3 Kundinnen und Kunden lässt sich kein Risiko angeben: Zum Stichtag "
                           "01.04.2025 gibt es nur 42 Kundinnen und Kunden, die Messung der Abwanderung nach Tagen "
                           "seit dem letzten Kauf braucht mindestens 100.")
    assert "unbekannt und fehlt in der Summe" in text


def test_fallback_table_in_german():
    table = pd.DataFrame([
        {"band_start": s, "band_end": e, "group": g, "customers": 10, "churn_rate": r}
        for s, e in ((0, 90), (90, None)) for g, r in (("one_time", 0.5), ("repeat", 0.2))])
    fb = ch.RecencyCalibration(cutoff=pd.Timestamp("2025-04-01"), window_days=90, table=table,
                               curves={"all": ((0.0,), (0.5,))})
    t = nc.fallback_table(fb)
    assert t["Tage seit letztem Kauf"].tolist() == ["0 bis 89", "ab 90"]
    assert t["davon abgewandert"].tolist() == [0.5, 0.5] and t["davon abgewandert "].tolist() == [0.2, 0.2]
