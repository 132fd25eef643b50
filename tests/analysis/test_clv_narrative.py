"""German sentences and charts of the CLV chapter, on hand-made results."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from helpers.analysis import clv
from helpers.analysis.clv import ClvResult, FitProblem, FitResult, Validation, clv_deciles
from helpers.config import ClvSettings
from helpers.narrative import clv as text

GG = FitResult(kind="gamma_gamma", params={"p": 6.0, "q": 4.0, "v": 15.0}, converged=True)
PARETO = FitResult(kind="pareto", params={"r": 0.55, "alpha": 10.6, "s": 0.61, "beta": 11.7}, converged=True)


def _comparison(chosen: str = "pareto") -> pd.DataFrame:
    c = pd.DataFrame({"model": ["BG/NBD", "MBG/NBD", "Pareto/NBD"], "usable": True,
                      "log_likelihood": [-9582.4, -9582.1, -9595.0], "predicted_total": [110.0, 120.0, 115.0],
                      "actual_total": 100.0, "pct_error": [0.10, 0.20, 0.15], "mae": [0.45, 0.43, 0.41]},
                     index=list(clv.MODEL_KINDS))
    c["chosen"] = c.index == chosen
    return c


def _validation(**kw) -> Validation:
    base = dict(calibration_end=pd.Timestamp("2026-04-01"), holdout_weeks=26, groups=pd.DataFrame({"group": ["0"]}),
                metrics={"predicted_total": 115.0, "actual_total": 100.0, "pct_error": 0.15, "mae": 0.41},
                verdict="usable", comparison=_comparison(), ranking=("pareto", "mbgnbd", "bgnbd"))
    return Validation(**{**base, **kw})


def _result(*, skip=None, customers=None, validation=None, clv_skip=None, n_customers=4, n_repeat=2,
            **kw) -> ClvResult:
    """A hand-made result, its key figures computed by the analysis' own ``key_figures``."""
    settings = ClvSettings()
    if customers is None:
        customers = pd.DataFrame({"p_alive": [0.9, 0.2, 0.4, 1.0], "expected_purchases": [1.0, 0.2, 0.3, 0.5],
                                  "clv": [100.0, 5.0, 10.0, 5.0]}, index=list("abcd"))
    if "clv_if_active" not in customers:
        customers = customers.assign(clv_if_active=customers["clv"] / customers["p_alive"])
    if clv_skip is not None:
        customers = customers.assign(clv=np.nan, clv_if_active=np.nan)
    validation = validation if validation is not None else _validation()
    c = customers if skip is None else None
    gg = GG if clv_skip is None else None
    fit = kw.pop("fit", PARETO)
    key = clv.key_figures(settings=settings, gross_margin=0.3, n_customers=n_customers, n_repeat=n_repeat,
                          history_days=kw.pop("history_days", 1096), horizon_months=kw.pop("horizon_months", None),
                          customers=c, fit=fit if c is not None else None, gamma_gamma=gg, validation=validation,
                          n_gg=kw.get("n_gg"), correlation=kw.get("correlation"), ranges=kw.get("ranges"),
                          model_choice="holdout")
    return ClvResult(skip=skip, observation_end=pd.Timestamp("2026-09-30"), first_date=pd.Timestamp("2023-10-01"),
                     settings=settings, gross_margin=0.3, key=key, n_customers=n_customers, n_repeat=n_repeat,
                     customers=c, validation=validation, clv_skip=clv_skip, gamma_gamma=gg, fit=fit, **kw)


def test_summary_numbers_and_verdict():
    s = text.summary(_result())
    assert "bei 2 (50\u00a0%) eher davon auszugehen" in s  # b and c have P(aktiv) < 0.5
    assert "rund 2 Käufe" in s  # 2.0 expected purchases
    assert "120\u00a0€" in s and "83\u00a0%" in s  # total CLV, top 10 % = 1 customer of 4 -> 100/120
    assert "brauchbare Prognosegüte" in s and "15\u00a0%" in s


def test_summary_without_validation_and_without_clv():
    cust = pd.DataFrame({"p_alive": 0.8, "expected_purchases": [1.0, 0.2, 0.3, 0.5], "clv": np.nan},
                        index=list("abcd"))
    res = _result(validation=Validation(skip="short_history"), clv_skip="no_revenue", customers=cust)
    s = text.summary(res)
    assert "nicht rückprüfen" in s and "€" not in s
    assert "von 4 Kundinnen und Kunden niemand eher inaktiv" in s


def test_validation_text_direction_and_thresholds():
    over = text.validation_text(_result())
    assert "15\u00a0% über dem tatsächlichen Wert" in over and "10\u00a0%" in over and "25\u00a0%" in over
    assert "„gut“" in over and "**brauchbar, aber mit spürbarer Abweichung**" in over
    under = text.validation_text(_result(validation=_validation(
        metrics={"predicted_total": 60.0, "actual_total": 100.0, "pct_error": -0.4, "mae": 1.0}, verdict="weak")))
    assert "40\u00a0% unter" in under and "schwach" in under and "grobe Rangfolge" in under
    short = text.validation_text(_result(validation=Validation(skip="short_history")))
    assert "nicht prüfen" in short and "mindestens 8 Wochen" in short
    assert "höchste Log-Likelihood): **Pareto/NBD**" in short and "nicht an tatsächlichen Käufen geprüft" in short
    assert "@fig-clv-holdout" in text.validation_section(_result())
    assert "@fig-clv-holdout" not in text.validation_section(_result(validation=Validation(skip="short_history")))


def test_model_choice_text_and_table_mark_the_chosen_model():
    res = _result()
    t = text.validation_text(res)
    assert "BG/NBD, MBG/NBD und Pareto/NBD" in t and "Gewählt ist **Pareto/NBD**" in t
    assert "kleinsten mittleren Abweichung je Kundin oder Kunde" in t and "weniger als 2\u00a0% auseinander" in t
    table = text.comparison_table(res)
    assert list(table["Modell"]) == ["BG/NBD", "MBG/NBD", "Pareto/NBD (gewählt)"]
    assert list(table["Abweichung der Summe"]) == [0.10, 0.20, 0.15]
    assert "@tbl-clv-models" in text.validation_section(res)
    # a shortened holdout is stated with the reason
    short = _result(validation=_validation(holdout_weeks=14), history_days=204)
    assert "verkürzt von 26 Wochen, weil die Daten nur 204 Tage umfassen" in text.validation_text(short)


def test_bgnbd_one_time_buyer_caveat_only_for_bgnbd():
    bg = FitResult(kind="bgnbd", params={"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.4}, converged=True)
    res = _result(fit=bg, validation=_validation(ranking=("bgnbd",), comparison=_comparison("bgnbd")))
    assert "Einmalkäufer stets als aktiv" in text.validation_section(res)
    assert "Einmalkäufer" not in text.validation_section(_result())


def test_params_table_per_model():
    pareto = text.params_table(_result()).set_index("Parameter")
    assert list(pareto.index) == ["r", "α", "s", "β", "r/α", "s/β"]
    assert pareto.loc["s/β", "Wert"] == pytest.approx(0.61 / 11.7)
    bg = FitResult(kind="mbgnbd", params={"r": 0.5, "alpha": 6.0, "a": 0.9, "b": 1.6}, converged=True)
    mbg = text.params_table(_result(fit=bg)).set_index("Parameter")
    assert list(mbg.index) == ["r", "α", "a", "b", "r/α", "a/(a+b)"]
    assert mbg.loc["a/(a+b)", "Wert"] == pytest.approx(0.9 / 2.5)


def test_ranges_and_bias_in_the_summary():
    ranges = clv.Ranges(draws=200, triples=4, expected_purchases=(1.9, 2.1), clv=(110.0, 130.0),
                        clv_if_active=(300.0, 340.0))
    res = _result(ranges=ranges)
    k = res.key
    # widened to include point / (1 + 15 %): 120 / 1,15 = 104,35 €
    assert (k.clv_total_low, k.clv_total_high) == (pytest.approx(120 / 1.15), 130.0)
    s = text.summary(res)
    assert "120\u00a0€ (80-%-Spanne 104\u00a0€ bis 130\u00a0€)" in s
    assert "rund 2 Käufe der heutigen Kundschaft (80-%-Spanne 2 bis 2)" in s
    assert "Das Modell lag dort 15\u00a0% über den tatsächlichen Käufen" in s
    r = text.range_text(res)
    assert "**80-%-Spanne:**" in r and "200 Ziehungen" in r and "15\u00a0% zu hoch" in r
    section = text.clv_section(res)
    assert "Wert bei Verbleib" in section and "80-%-Spanne" in section
    table = text.summary_table(k).set_index("Kennzahl")["Wert"]
    assert table["Summe der Kundenwerte"] == "120\u00a0€ (104\u00a0€ bis 130\u00a0€)"
    assert table["Kaufmodell"] == "Pareto/NBD"
    # no ranges: the text says why instead of printing one
    plain = _result(ranges=clv.Ranges(skip="no_variance"))
    assert "Spanne" not in text.summary(plain) and "keine verlässliche Spanne" in text.range_text(plain)


def test_capped_horizon_is_stated():
    res = _result(history_days=122, horizon_months=4)
    k = res.key
    assert k.horizon_capped and (k.horizon_months, k.horizon_months_configured) == (4, 12)
    assert "**4 statt 12 Monate**" in text.horizon_text(res) and "122 Tage" in text.horizon_text(res)
    assert "nur 4 statt 12 Monate weit" in text.summary(res)
    assert text.horizon_text(_result()) == ""
    assert text.summary_table(k).set_index("Kennzahl")["Wert"]["Prognosezeitraum des Kundenwerts"] == \
        "4 Monate (gekürzt von 12)"


def test_spend_model_minimum_is_named():
    gg = FitResult(kind="gamma_gamma", skip="too_few_repeat", n_repeat=12, n_customers=12)
    res = _result(clv_skip="gg_failed")
    res = ClvResult(**{**{f: getattr(res, f) for f in res.__dataclass_fields__}, "gamma_gamma": gg})
    assert "Nur 12 Wiederholungskäufer" in text.clv_skip_text(res) and "mindestens 30" in text.clv_skip_text(res)


def test_skip_text_too_few_repeat_buyers():
    res = _result(skip="too_few_repeat", n_customers=50, n_repeat=7)
    s = text.summary(res)
    assert "Von 50 Kundinnen und Kunden haben nur 7 mehr als einmal gekauft" in s and "mindestens 30" in s


def test_independence_text_adapts():
    ok = text.independence_text(_result(correlation=0.05, n_gg=100))
    bad = text.independence_text(_result(correlation=-0.45, n_gg=100))
    assert "vertretbar" in ok and "verletzt" not in ok
    assert "verletzt" in bad and "r = -0,45" in bad
    assert text.independence_text(_result(correlation=np.nan)) == ""


def test_summary_table_from_key_figures():
    cust = pd.DataFrame({"p_alive": 0.8, "expected_purchases": 1.0, "expected_spend": [30.0, 40.0, 50.0, 40.0],
                         "clv": [100.0, 5.0, 10.0, 5.0]}, index=list("abcd"))
    res = _result(customers=cust, n_gg=2, correlation=0.1)
    table = text.summary_table(res.key).set_index("Kennzahl")["Wert"]
    assert table["Kundinnen und Kunden"] == "4"
    assert table["davon Wiederholungskäufer im Ausgabenmodell"] == "2"
    assert table["Mittlerer erwarteter Bonbetrag"] == "40,00\u00a0€"
    assert table["Mittlerer Kundenwert"] == "30,00\u00a0€" and table["Median des Kundenwerts"] == "7,50\u00a0€"
    assert table["Summe der Kundenwerte"] == "120\u00a0€" and table["Anteil der wertvollsten 10 %"] == "83\u00a0%"
    assert table["Gamma-Gamma-Parameter p / q / v"] == "6,00 / 4,00 / 15,00"


def test_fit_warnings_in_german():
    gg_failed = FitResult(kind="gamma_gamma", skip="failed",
                          problems=(FitProblem(0.0, "implausible", ("q<=1",)), FitProblem(0.001, "no_convergence")))
    assert text.fit_warnings(gg_failed) == [
        "Die Schätzung des Gamma-Gamma-Modells ist fehlgeschlagen (unplausible Parameter (q ≤ 1); keine "
        "Konvergenz); ein Kundenwert in Euro wird nicht berechnet."]
    res = _result(clv_skip="gg_failed")
    res = ClvResult(**{**{f: getattr(res, f) for f in res.__dataclass_fields__}, "gamma_gamma": gg_failed})
    assert "q ≤ 1" in text.clv_skip_text(res)
    assert text.fit_warnings(GG) == [] and text.fit_warnings(None) == []


def test_decile_chart_shows_shares():
    from helpers.plotting import clv as plots

    d = clv_deciles(pd.Series(np.arange(1.0, 21.0)))
    fig = plots.clv_deciles(d, 12)
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == pytest.approx(list(d["share"]))
    assert any("Top 10" in t.get_text() for t in fig.axes[0].texts)


@pytest.mark.slow
def test_notebook_runs_with_papermill(tmp_path):
    import nbformat
    import papermill as pm

    from helpers.chapters import by_slug
    from helpers.config import NOTEBOOK_DIR, SAMPLE_DATA

    if not SAMPLE_DATA.exists():
        pytest.skip("sample data not generated")
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(str(by_slug("clv").path), str(out), cwd=str(NOTEBOOK_DIR), kernel_name="kundenwert",
                        progress_bar=False)
    nb = nbformat.read(out, 4)
    md = "\n".join(o["data"]["text/markdown"] for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []) if "text/markdown" in o.get("data", {}))
    assert "{#tbl-clv-models}" in md and "Ergebnis im Überblick" in md and "{#tbl-clv-summary}" in md
    pngs = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert pngs == 4
