"""German churn texts: sign-aware drivers, honest model comparison, skip reasons, value at risk."""

import math

import numpy as np
import pandas as pd
import pytest

from helpers.analysis import churn as ch
from helpers.analysis import value as vd
from helpers.analysis.churn import ChurnResult, CutoffPlan, Drivers, Evaluation, Skip
from helpers.analysis.churn_features import WindowChoice
from helpers.narrative import churn as nc


def _customers(risk: pd.Series, value: pd.Series, p_alive: pd.Series | None = None) -> pd.DataFrame:
    idx = risk.index
    out = vd.customer_risk(idx, risk, p_alive).join(vd.customer_value(idx, value, None, 0.3))
    out.insert(0, "churn_risk", risk)
    out["value_at_risk"] = vd.value_at_risk(out["risk"], out["value"])
    return out


def _result(logit=0.80, hgb=0.78, bgnbd=None, single=math.nan):
    rows = {"logit": [logit, 0.7, 0.6, 2.0], "hgb": [hgb, 0.6, 0.6, 1.8]}
    if bgnbd is not None:
        rows["bgnbd"] = [bgnbd, 0.5, 0.6, 1.1]
    metrics = pd.DataFrame.from_dict(rows, orient="index", columns=["roc_auc", "pr_auc", "base_rate", "top_decile_lift"])
    plan = CutoffPlan(pd.Timestamp("2025-01-01"), pd.Timestamp("2025-04-01"), pd.Timestamp("2025-06-30"), 90)
    evaluation = Evaluation(metrics=metrics, best_model="hgb" if hgb >= logit + 0.01 else "logit",
                            single_buyer_churn_rate=single)
    window = WindowChoice(90, "config")
    customers = _customers(pd.Series([0.5], index=["a"]), pd.Series([10.0], index=["a"]))
    prep = ch.Prepared(window=window, plan=plan, n_train=500, n_test=600, churn_rate_train=0.55,
                       churn_rate_test=0.6)
    key = ch.key_figures(window=window, customers=customers, matrix=None, clv_horizon_months=12, prep=prep,
                         evaluation=evaluation)
    return ChurnResult(key=key, window=window, plan=plan, evaluation=evaluation, customers=customers)


def test_summary_names_the_better_model_and_bgnbd():
    text = nc.summary(_result(logit=0.80, hgb=0.78, bgnbd=0.85))
    assert "Logistische Regression" in text and "gut (ROC AUC 0,80)" in text
    assert "schwächer ab (ROC AUC 0,78)" in text
    assert "BG/NBD" in text and "sogar besser" in text
    text = nc.summary(_result(logit=0.70, hgb=0.75, bgnbd=0.45, single=0.9))
    assert "Gradient Boosting schlägt" in text and "schlechter als der Zufall" in text
    assert "90\u00a0%" in text  # the one-time-buyer explanation uses the computed rate
    text = nc.summary(_result(logit=0.70, hgb=0.705, bgnbd=0.70))
    assert "keinen nennenswerten Vorteil" in text and "etwa gleich gut" in text
    assert "höchstens das 1,7-Fache" in text  # base rate 60 % -> max lift 1/0.6


def test_setup_text_quotes_the_key_figures():
    text = nc.setup_text(_result())
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


@pytest.mark.parametrize("skip, needle", [
    (Skip("short_history", {"available_days": 200, "needed_days": 270, "window_days": 90}), "200 Tage"),
    (Skip("too_few_customers", {"n": 42, "min": 200, "cutoff": pd.Timestamp("2025-01-31")}), "31.01.2025"),
    (Skip("class_imbalance", {"n": 300, "churn_share": 0.98, "min_share": 0.05,
                              "cutoff": pd.Timestamp("2025-01-31")}), "Wiederkaufende mit 2,0\u00a0%"),
    (Skip("no_window", {}), "keine Wiederholungskäufe"),
])
def test_skip_texts(skip, needle):
    assert needle in nc.skip_text(skip)
    window = WindowChoice(None, "data")
    customers = _customers(pd.Series([np.nan], index=["a"]), pd.Series([1.0], index=["a"]))
    key = ch.key_figures(window=window, customers=customers, matrix=None, clv_horizon_months=12)
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


def _value_key(customers, horizon=12):
    matrix = ch.risk_value_matrix(ch.expected_loss(customers))
    return ch.key_figures(window=WindowChoice(90, "config"), customers=customers, matrix=matrix,
                          clv_horizon_months=horizon)


def test_value_text_numbers():
    risk = pd.Series([0.9, 0.8, 0.1, 0.5, 0.2, 0.3], index=list("abcdef"))
    value = pd.Series([100.0, 10.0, 200.0, 50.0, 20.0, 30.0], index=list("abcdef"))
    key = _value_key(_customers(risk, value))  # 90 + 8 + 20 + 25 + 4 + 9 = 156
    text = nc.value_text(key)
    assert "156\u00a0€ Deckungsbeitrag über die nächsten 12 Monate" in text
    # top risk third: a (90) and b (8) -> 63 %; a alone has high risk and high value -> 58 %
    assert "63\u00a0%" in text and "58\u00a0%" in text


def test_value_section_names_sources_and_the_scored_part():
    # a, b scored by the model; c, d only have P(aktiv); d has no CLV and no revenue data -> no value
    risk = pd.Series([0.5, 0.2, np.nan, np.nan], index=list("abcd"))
    value = pd.Series([100.0, 50.0, 40.0, np.nan], index=list("abcd"))
    alive = pd.Series([0.9, 0.9, 0.75, 0.5], index=list("abcd"))
    key = _value_key(_customers(risk, value, alive), horizon=6)
    assert key.value_at_risk == pytest.approx(50 + 10 + 10)
    assert key.value_horizon_months == 6 and key.n_without_value == 1
    r = ChurnResult(key=key, window=WindowChoice(90, "config"))
    text = nc.value_section(r, 0.3)
    assert "über die nächsten 6 Monate" in text and "70\u00a0€" in text
    assert "2 vom Modell bewerteten" in text and "1 − P(aktiv)" in text
    assert "Für 1 weitere" in text


def test_value_source_texts():
    margin = _value_key(_customers(pd.Series([0.5], index=["a"]), pd.Series([np.nan], index=["a"])))
    # a NaN CLV without revenue data: no value at all
    assert "entfällt" in nc.value_source_text(margin, 0.3)
    idx = pd.Index(["a", "b"])
    frame = vd.customer_risk(idx, pd.Series([0.5, 0.5], index=idx), None).join(
        vd.customer_value(idx, None, pd.Series([100.0], index=["a"]), 0.3))
    frame["value_at_risk"] = vd.value_at_risk(frame["risk"], frame["value"])
    key = _value_key(frame, horizon=6)
    text = nc.value_source_text(key, 0.3)
    assert key.value_horizon_months == 12 and "letzten zwölf Monate" in text and "30\u00a0%" in text
    assert "über die nächsten 12 Monate" in text
