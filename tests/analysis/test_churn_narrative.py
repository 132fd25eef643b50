"""German churn texts: sign-aware drivers, honest model comparison, skip reasons."""

import math

import pandas as pd
import pytest

from helpers.analysis.churn import ChurnResult, CutoffPlan, Skip
from helpers.analysis.churn_features import WindowChoice
from helpers.narrative import churn as nc


def _result(logit=0.80, hgb=0.78, bgnbd=None, single=math.nan):
    rows = {"logit": [logit, 0.7, 0.6, 2.0], "hgb": [hgb, 0.6, 0.6, 1.8]}
    if bgnbd is not None:
        rows["bgnbd"] = [bgnbd, 0.5, 0.6, 1.1]
    metrics = pd.DataFrame.from_dict(rows, orient="index", columns=["roc_auc", "pr_auc", "base_rate", "top_decile_lift"])
    plan = CutoffPlan(pd.Timestamp("2025-01-01"), pd.Timestamp("2025-04-01"), pd.Timestamp("2025-06-30"), 90)
    r = ChurnResult(window=WindowChoice(90, "config"), plan=plan, metrics=metrics, churn_rate_test=0.6,
                    single_buyer_churn_rate=single, n_train=500, n_test=600, churn_rate_train=0.55)
    r.best_model = "hgb" if hgb >= logit + 0.01 else "logit"
    return r


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


def test_driver_sentences_follow_the_sign():
    r = _result()
    r.coefficients = pd.DataFrame({"feature": ["recency_days", "frequency", "trend_90"],
                                   "coefficient": [0.9, -0.5, 0.2], "univariate": [0.4, -0.3, -0.2]})
    r.importance = pd.DataFrame({"feature": ["recency_days", "channel_share__Web*Shop", "monetary"],
                                 "importance": [0.05, 0.01, -0.001], "importance_std": [0.0, 0.0, 0.0],
                                 "direction": [0.6, 0.02, -0.5]})
    lines = nc.driver_sentences(r).splitlines()
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
    r = ChurnResult(window=WindowChoice(None, "data"), skip=skip)
    assert nc.summary(r) == nc.skip_text(skip)
    assert nc.key_figures(r, None)["status"] == "skipped"


def test_window_text_explains_the_rounding():
    w = WindowChoice(days=90, source="data", quantile_days=83.4, quantile=0.9, n_gaps=1234)
    text = nc.window_text(w)
    assert "90 Tagen" in text and "1.234" in text and "83 Tage" in text and "gerundet" in text
    assert "Einstellungen" in nc.window_text(WindowChoice(days=60, source="config"))


def test_window_text_when_clipped():
    w = WindowChoice(days=365, source="data", quantile_days=520.0, quantile=0.9, n_gaps=50)
    text = nc.window_text(w)
    assert "520 Tage" in text and "365 Tage verwendet" in text and "ungewöhnlich" not in text


def test_value_text_numbers():
    from helpers.analysis.churn import expected_loss, risk_value_matrix

    risk = pd.Series([0.9, 0.8, 0.1, 0.5, 0.2, 0.3], index=list("abcdef"))
    value = pd.Series([100.0, 10.0, 200.0, 50.0, 20.0, 30.0], index=list("abcdef"))
    loss = expected_loss(risk, value)  # 90 + 8 + 20 + 25 + 4 + 9 = 156
    text = nc.value_text(loss, risk_value_matrix(loss), "margin12")
    assert "156\u00a0€ Deckungsbeitrag" in text
    # top risk third: a (90) and b (8) -> 63 %; a alone has high risk and high value -> 58 %
    assert "63\u00a0%" in text and "58\u00a0%" in text
