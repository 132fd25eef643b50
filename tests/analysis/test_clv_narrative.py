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


def _validation(**kw) -> Validation:
    base = dict(calibration_end=pd.Timestamp("2026-04-01"), groups=pd.DataFrame({"group": ["0"]}),
                metrics={"predicted_total": 115.0, "actual_total": 100.0, "pct_error": 0.15, "mae": 0.41},
                verdict="usable")
    return Validation(**{**base, **kw})


def _result(*, skip=None, customers=None, validation=None, clv_skip=None, n_customers=4, n_repeat=2,
            **kw) -> ClvResult:
    """A hand-made result, its key figures computed by the analysis' own ``key_figures``."""
    settings = ClvSettings()
    if customers is None:
        customers = pd.DataFrame({"p_alive": [0.9, 0.2, 0.4, 1.0], "expected_purchases": [1.0, 0.2, 0.3, 0.5],
                                  "clv": [100.0, 5.0, 10.0, 5.0]}, index=list("abcd"))
    if clv_skip is not None:
        customers = customers.assign(clv=np.nan)
    validation = validation if validation is not None else _validation()
    c = customers if skip is None else None
    gg = GG if clv_skip is None else None
    key = clv.key_figures(settings=settings, gross_margin=0.3, n_customers=n_customers, n_repeat=n_repeat,
                          customers=c, gamma_gamma=gg, validation=validation,
                          n_gg=kw.get("n_gg"), correlation=kw.get("correlation"))
    return ClvResult(skip=skip, observation_end=pd.Timestamp("2026-09-30"), first_date=pd.Timestamp("2023-10-01"),
                     settings=settings, gross_margin=0.3, key=key, n_customers=n_customers, n_repeat=n_repeat,
                     customers=c, validation=validation, clv_skip=clv_skip, gamma_gamma=gg, **kw)


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
    assert "keine der 4 Kundinnen und Kunden eher inaktiv" in s


def test_validation_text_direction_and_thresholds():
    over = text.validation_text(_result())
    assert "15\u00a0% über dem tatsächlichen Wert" in over and "10\u00a0%" in over and "25\u00a0%" in over
    assert "„gut“" in over and "**brauchbar, aber mit spürbarer Abweichung**" in over
    under = text.validation_text(_result(validation=_validation(
        metrics={"predicted_total": 60.0, "actual_total": 100.0, "pct_error": -0.4, "mae": 1.0}, verdict="weak")))
    assert "40\u00a0% unter" in under and "schwach" in under and "grobe Rangfolge" in under
    short = text.validation_text(_result(validation=Validation(skip="short_history")))
    assert "nicht prüfen" in short and "26 Wochen" in short
    assert "@fig-clv-holdout" in text.validation_section(_result())
    assert "@fig-clv-holdout" not in text.validation_section(_result(validation=Validation(skip="short_history")))


def test_skip_text_too_few_repeat_buyers():
    res = _result(skip="too_few_repeat", n_customers=50, n_repeat=7)
    s = text.summary(res)
    assert "Nur 7 von 50" in s and "mindestens 30" in s


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
