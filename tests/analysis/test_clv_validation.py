"""Holdout validation helpers, hand-computed on tiny fixtures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.analysis import clv_validation as v
from helpers.analysis.clv_data import holdout_counts


def test_calibration_end_needs_calibration_as_long_as_holdout():
    first = pd.Timestamp("2026-01-01")
    assert v.calibration_end(first, pd.Timestamp("2026-03-01"), 26) is None
    end = first + pd.Timedelta(weeks=52)
    assert v.calibration_end(first, end, 26) == first + pd.Timedelta(weeks=26)
    # days counted inclusively: 01.01.–01.07.2026 (= end - 26 weeks) are 182 days = 26 weeks
    assert v.calibration_end(first, end - pd.Timedelta(days=1), 26) == first + pd.Timedelta(days=181)
    assert v.calibration_end(first, end - pd.Timedelta(days=2), 26) is None
    # the CDNOW reference: 01.01.1997–30.09.1997 calibrates a 39-week holdout up to 30.06.1998
    assert v.calibration_end(pd.Timestamp("1997-01-01"), pd.Timestamp("1998-06-30"), 39) == pd.Timestamp("1997-09-30")


def test_history_days_and_supported_horizon():
    assert v.history_days(pd.Timestamp("2026-01-01"), pd.Timestamp("2026-01-01")) == 1
    assert v.history_days(pd.Timestamp("2026-01-01"), pd.Timestamp("2026-04-30")) == 120
    # 120 days = 3,94 months: the 4th month counts (at most 7 days missing); 100 days = 3,29 months
    assert v.supported_horizon_months(120) == 4
    assert v.supported_horizon_months(100) == 3
    assert v.supported_horizon_months(365) == 12 and v.supported_horizon_months(1096) == 36
    assert v.supported_horizon_months(10) == 1  # never 0


def test_effective_holdout_weeks():
    first = pd.Timestamp("2026-01-01")
    assert v.effective_holdout_weeks(first, first + pd.Timedelta(days=3 * 365), 26, 8) == 26
    # 204 days of history: half of it is 14 full weeks
    assert v.effective_holdout_weeks(first, first + pd.Timedelta(days=203), 26, 8) == 14
    # 14 weeks of history: 7 weeks would be shorter than the minimum of 8
    assert v.effective_holdout_weeks(first, first + pd.Timedelta(days=97), 26, 8) is None
    assert v.effective_holdout_weeks(first, first + pd.Timedelta(days=400), 0, 8) is None


def test_rank_models_by_mae_then_bias():
    c = pd.DataFrame({"usable": [True, True, True], "mae": [0.786, 0.765, 0.755],
                      "pct_error": [-0.121, -0.162, -0.115]}, index=["bgnbd", "mbgnbd", "pareto"])
    # CDNOW: Pareto/NBD has the smallest MAE; MBG/NBD is within 2 % but has the larger bias
    assert v.rank_models(c) == ["pareto", "mbgnbd", "bgnbd"]
    # within 2 % of the best MAE the smaller |bias| wins, even against the best MAE
    c2 = c.assign(mae=[0.760, 0.765, 0.755], pct_error=[0.02, -0.162, -0.115])
    assert v.rank_models(c2)[0] == "bgnbd"
    # a model that could not be fitted or has no MAE never takes part
    c3 = c.assign(usable=[True, True, False])
    assert v.rank_models(c3) == ["mbgnbd", "bgnbd"]
    assert v.rank_models(c.assign(mae=np.nan)) == []
    # no holdout purchases (bias undefined): MAE alone, then the model order
    c4 = c.assign(mae=[0.5, 0.5, 0.5], pct_error=np.nan)
    assert v.rank_models(c4) == ["pareto", "mbgnbd", "bgnbd"]


def test_holdout_counts_merges_days_and_excludes_start():
    p = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
                      "order_date": pd.to_datetime(["2026-01-01", "2026-01-05", "2026-01-05", "2026-01-09"])})
    c = holdout_counts(p, pd.Timestamp("2026-01-01"), pd.Timestamp("2026-01-08"))
    assert c.to_dict() == {"a": 1}


def test_groups_metrics_and_verdict():
    hf = v.holdout_frame(pd.Series([0.5, 1.5, 2.0, 3.0], index=list("abcd")),
                         pd.Series([0, 0, 1, 9], index=list("abcd")),
                         pd.Series({"a": 1, "c": 2, "d": 5}))
    g = v.by_frequency_group(hf).set_index("group")
    assert g.loc["0", "customers"] == 2 and g.loc["0", "predicted"] == 1.0 and g.loc["0", "actual"] == 0.5
    assert g.loc["7+", "actual"] == 5.0 and g.loc["3", "customers"] == 0 and np.isnan(g.loc["3", "actual"])
    m = v.holdout_metrics(hf)
    assert m["predicted_total"] == 7.0 and m["actual_total"] == 8.0
    assert m["pct_error"] == pytest.approx(-0.125)
    assert m["mae"] == pytest.approx((0.5 + 1.5 + 0 + 2) / 4)
    assert v.verdict(m["pct_error"]) == "usable"
    assert v.verdict(0.10) == "good" and v.verdict(-0.3) == "weak" and v.verdict(float("nan")) == "unknown"


def test_verdict_ids_have_german_labels():
    from helpers import labels

    assert [labels.verdict(v.verdict(e)) for e in (0.05, 0.2, 0.5, float("nan"))] == [
        "gut", "brauchbar", "schwach", "unbekannt"]


def test_spend_frequency_correlation_only_positive_repeat_buyers():
    s = pd.DataFrame({"frequency": [1, 2, 3, 0, 4], "monetary_value": [10.0, 20.0, 30.0, 0.0, -1.0]})
    r, n = v.spend_frequency_correlation(s)
    assert n == 3 and r == pytest.approx(1.0)
    assert np.isnan(v.spend_frequency_correlation(s.iloc[:2])[0])


def test_clv_deciles_hand_computed():
    from helpers.analysis.clv import clv_deciles

    vals = pd.Series(np.arange(1.0, 21.0))  # 1..20, total 210
    d = clv_deciles(vals)
    assert list(d["customers"]) == [2] * 10
    assert d.loc[0, "total"] == 39.0 and d.loc[0, "share"] == pytest.approx(39 / 210)
    assert d["cum_share"].iloc[-1] == pytest.approx(1.0)
