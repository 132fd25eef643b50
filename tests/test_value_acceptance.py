"""Issue 13 acceptance: value, risk and budget a board can rely on, on three real datasets.

Shop sample, B2B sample and the CDNOW master file (shipped with ``lifetimes``): every segment with
long-lapsed customers has value at risk > 0; no segment's CLV (margin) exceeds its revenue forecast
and implausible forecasts are flagged; no ROI above the plausibility bound is printed; "Verloren"
(``lost``) is never the first priority.
"""

from __future__ import annotations

from pathlib import Path

import lifetimes
import numpy as np
import pandas as pd
import pytest

from helpers import chapters
from helpers.config import SAMPLE_DIR, ReportConfig
from helpers.data import load_dataset
from helpers.dataset import from_transactions

pytestmark = pytest.mark.slow

CDNOW = Path(lifetimes.__file__).parent / "datasets" / "CDNOW_master.txt"


def _cdnow():
    raw = pd.read_csv(CDNOW, sep=r"\s+", dtype={"customer_id": str, "date": str})
    tx = pd.DataFrame({"customer_id": raw["customer_id"],
                       "order_date": pd.to_datetime(raw["date"], format="%Y%m%d"),
                       "revenue": raw["dollar_value"].astype(float)})
    return from_transactions(tx[tx["revenue"] != 0])


DATASETS = {
    "shop": lambda cfg: load_dataset(SAMPLE_DIR / "onlineshop_transaktionen.csv", cfg),
    "b2b": lambda cfg: load_dataset(SAMPLE_DIR / "grosshandel_export.csv", cfg),
    "cdnow": lambda cfg: _cdnow(),
}


@pytest.fixture(scope="module", params=sorted(DATASETS))
def results(request):
    cfg = ReportConfig.from_settings("Prüfkunde")
    ds = DATASETS[request.param](cfg)
    return ds, chapters.compute_all(ds, cfg)


def test_segments_with_lapsed_customers_have_value_at_risk(results):
    ds, res = results
    seg = res["rfm"].customers["segment"]
    churn = res["churn"].customers
    lapsed = ds.customers["recency_days"] > 365
    assert lapsed.any()
    for segment in seg[lapsed].unique():
        members = seg.index[seg == segment]
        assert churn.loc[members, "value_at_risk"].sum() > 0, segment
    assert (churn.loc[lapsed, "value_at_risk"] > 0).all()
    # one-time buyers never get BG/NBD's certain survival as their risk
    one_time = ds.customers["n_purchases"] == 1
    assert (churn.loc[one_time, "risk"] > 0).all()


def test_no_segment_clv_exceeds_its_revenue_forecast_and_outliers_are_flagged(results):
    _, res = results
    m = res["actions"].matrix.set_index("segment")
    assert (m["clv"] <= m["forecast_revenue"] + 1e-6).all()
    bound = ReportConfig().actions.forecast_ratio_max
    implausible = m["forecast_ratio"] > bound
    assert (m.loc[implausible, "forecast_flag"]).all()
    assert set(m.index[m["forecast_flag"]]) == set(res["actions"].key.flagged_segments)


def test_no_implausible_roi_is_printed_and_lost_is_never_first(results):
    _, res = results
    k = res["actions"].key
    assert k.roi is None or k.roi <= k.roi_plausible_max
    from helpers import fmt
    from helpers.narrative import actions as text

    table, _ = text.allocation_table(res["actions"].allocation, k.roi_plausible_max)
    for cell, roi in zip(table["ROI"], res["actions"].allocation["roi"]):  # printed only when plausible
        assert cell == (fmt.pct(roi) if roi <= k.roi_plausible_max else "nicht ausgewiesen") or pd.isna(roi)
    assert k.first_budget_segment != "lost" and k.first_priority_segment != "lost"
    assert res["actions"].matrix.iloc[0]["segment"] != "lost"
    assert "lost" not in k.high_priority_segments


def test_ranges_bracket_the_point_estimates(results):
    _, res = results
    for key, name in ((res["clv"].key, "clv_total"), (res["clv"].key, "expected_purchases_total"),
                      (res["churn"].key, "value_at_risk"), (res["actions"].key, "expected_gain")):
        value, low, high = (getattr(key, name + s) for s in ("", "_low", "_high"))
        assert low is not None and high is not None and np.isfinite([low, high]).all(), name
        assert low <= value <= high, name
