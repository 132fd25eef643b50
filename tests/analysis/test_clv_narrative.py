"""German sentences and charts of the CLV chapter, on hand-made results."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from helpers.analysis.clv import ClvResult, clv_deciles
from helpers.config import ClvSettings
from helpers.narrative import clv as text


def _result(**kw) -> ClvResult:
    res = ClvResult(observation_end=pd.Timestamp("2026-09-30"), first_date=pd.Timestamp("2023-10-01"),
                    settings=ClvSettings(), gross_margin=0.3, n_customers=4, n_repeat=2)
    res.customers = pd.DataFrame({"p_alive": [0.9, 0.2, 0.4, 1.0], "expected_purchases": [1.0, 0.2, 0.3, 0.5],
                                  "clv": [100.0, 5.0, 10.0, 5.0]}, index=list("abcd"))
    res.calibration_end = pd.Timestamp("2026-04-01")
    res.metrics = {"predicted_total": 115.0, "actual_total": 100.0, "pct_error": 0.15, "mae": 0.41}
    res.verdict = "brauchbar"
    for k, v in kw.items():
        setattr(res, k, v)
    return res


def test_summary_numbers_and_verdict():
    s = text.summary(_result())
    assert "bei 2 (50\u00a0%) eher davon auszugehen" in s  # b and c have P(aktiv) < 0.5
    assert "rund 2 Käufe" in s  # 2.0 expected purchases
    assert "120\u00a0€" in s and "83\u00a0%" in s  # total CLV, top 10 % = 1 customer of 4 -> 100/120
    assert "brauchbare Prognosegüte" in s and "15\u00a0%" in s


def test_summary_without_validation_and_without_clv():
    res = _result(validation_skip_reason="short_history", clv_skip_reason="no_revenue")
    res.customers["p_alive"] = 0.8
    s = text.summary(res)
    assert "nicht rückprüfen" in s and "€" not in s
    assert "keine der 4 Kundinnen und Kunden eher inaktiv" in s


def test_validation_text_direction_and_thresholds():
    over = text.validation_text(_result())
    assert "15\u00a0% über dem tatsächlichen Wert" in over and "10\u00a0%" in over and "25\u00a0%" in over
    under = text.validation_text(_result(metrics={"predicted_total": 60.0, "actual_total": 100.0,
                                                   "pct_error": -0.4, "mae": 1.0}, verdict="schwach"))
    assert "40\u00a0% unter" in under and "schwach" in under and "grobe Rangfolge" in under
    short = text.validation_text(_result(validation_skip_reason="short_history"))
    assert "nicht prüfen" in short and "26 Wochen" in short


def test_skip_text_too_few_repeat_buyers():
    res = _result(skip_reason="too_few_repeat", n_customers=50, n_repeat=7)
    s = text.summary(res)
    assert "Nur 7 von 50" in s and "mindestens 30" in s


def test_independence_text_adapts():
    ok = text.independence_text(_result(correlation=0.05, n_gg=100))
    bad = text.independence_text(_result(correlation=-0.45, n_gg=100))
    assert "vertretbar" in ok and "verletzt" not in ok
    assert "verletzt" in bad and "r = -0,45" in bad
    assert text.independence_text(_result(correlation=np.nan)) == ""


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
    pm.execute_notebook(str(by_slug("clv").path), str(out), cwd=str(NOTEBOOK_DIR), kernel_name="python3",
                        parameters={"prepared_dir": None}, progress_bar=False)
    nb = nbformat.read(out, 4)
    md = "\n".join(o["data"]["text/markdown"] for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []) if "text/markdown" in o.get("data", {}))
    assert "{#tbl-clv-models}" in md and "Ergebnis im Überblick" in md
    pngs = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert pngs == 4
