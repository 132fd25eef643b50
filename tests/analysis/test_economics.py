"""Retention economics and its German narrative against hand computation."""

import dataclasses
import math
import pickle

import pandas as pd
import pytest

from helpers.analysis import cohorts as co
from helpers.analysis import economics as ec
from helpers.config import ReportConfig
from helpers.dataset import from_transactions

from .fixtures import YEAR_ROWS, dataset
from helpers.narrative import economics as ne

GROUP_ROWS = [
    ("A", "2024-05-01", 100.0), ("A", "2025-03-01", 50.0), ("A", "2025-04-01", 30.0),
    ("B", "2025-01-01", 60.0),
    ("C", "2025-02-01", 20.0), ("C", "2025-02-01", 10.0),  # two lines, one purchase day
    ("D", "2025-06-01", 40.0), ("D", "2025-07-01", -10.0),  # return day is no purchase
    ("E", "2024-12-01", 100.0), ("E", "2025-12-01", 100.0),
]


def _plain(text: str) -> str:
    """Formats use non-breaking spaces (``1.000\xa0€``); compare with plain spaces."""
    return text.replace("\xa0", " ")


_ds = dataset


def test_group_comparison_by_hand():
    ds = _ds(GROUP_ROWS, "2025-12-31")
    g = ec.group_comparison(ds.customers, ds.purchases)
    new, old = g.loc["first_time"], g.loc["existing"]
    assert (new["customers"], new["purchases"], old["customers"], old["purchases"]) == (3, 3, 2, 5)
    assert new["revenue"] == pytest.approx(120) and old["revenue"] == pytest.approx(380)
    assert old["revenue_share"] == pytest.approx(0.76)
    assert old["customer_share"] == pytest.approx(0.4)
    assert new["aov"] == pytest.approx(40) and old["aov"] == pytest.approx(76)
    assert old["revenue_per_customer"] == pytest.approx(190)
    assert old["active_years"] == 4 and new["active_years"] == 3
    assert old["revenue_per_customer_year"] == pytest.approx(95)
    rule = ec.rule_of_thumb(g)
    assert rule.factor == pytest.approx(190 / 40)
    assert rule.factor_per_year == pytest.approx(95 / 40)
    assert rule.verdict == "weaker"


def _groups(new_rpc, old_rpc):
    return pd.DataFrame({
        "customers": [10, 10], "purchases": [10, 30], "customer_share": [0.5, 0.5],
        "revenue_per_customer": [new_rpc, old_rpc], "revenue_per_customer_year": [new_rpc, old_rpc / 2],
        "revenue_share": [new_rpc / (new_rpc + old_rpc), old_rpc / (new_rpc + old_rpc)],
    }, index=["first_time", "existing"])


@pytest.mark.parametrize("old, verdict, phrase", [
    (700, "confirmed", "bestätigt sich damit"),
    (650, "confirmed", "bestätigt sich damit."),
    (300, "weaker", "nicht bestätigt"),
    (80, "not_confirmed", "nicht mehr als ein Erstkäufer"),
])
def test_rule_verdict_and_wording(old, verdict, phrase):
    rule = ec.rule_of_thumb(_groups(100, old))
    assert rule.verdict == verdict
    text = _plain(ne.rule_sentence(rule))
    assert phrase in text
    assert f"das {old / 100:.1f}".replace(".", ",") in text
    if old == 700:
        assert "übertrifft" not in text  # exactly 7 is inside the range
    if verdict != "confirmed":
        assert "bestätigt sich damit" not in text


def test_rule_without_first_time_buyers_not_computable():
    g = _groups(100, 300)
    g.loc["first_time", "customers"] = 0
    assert ec.rule_of_thumb(g).verdict == "not_computable"


def test_lost_revenue_by_hand():
    ds = _ds(YEAR_ROWS, "2025-12-31")
    lost = ec.lost_revenue(ds.purchases, ds.first_date, ds.observation_end, 50.0, 10.0)
    assert lost.computable
    assert lost.base_customers == 3 and lost.lost_customers == 1  # R
    assert lost.lost_revenue == pytest.approx(100)
    # new in 2024: P (100 + 150 within 365 days), Q (200; 2025-07-01 is later), R (100)
    assert lost.new_customer_year_revenue == pytest.approx(550 / 3)
    assert lost.new_customer_sample == 3
    assert lost.new_customers_needed == 1
    assert lost.replacement_cost == pytest.approx(50) and lost.retention_cost == pytest.approx(10)
    text = _plain(ne.lost_text(lost))
    assert "1 in den letzten" in text and "100 €" in text


def test_lost_revenue_single_year_not_computable():
    rows = [("A", "2025-01-03", 10.0), ("A", "2025-06-01", 20.0), ("B", "2025-12-01", 5.0)]
    ds = _ds(rows, "2025-12-31")
    lost = ec.lost_revenue(ds.purchases, ds.first_date, ds.observation_end, 50.0, 10.0)
    assert not lost.computable
    assert "nicht berechnen" in ne.lost_text(lost)


def test_whatif_by_hand():
    w = ec.retention_whatif(1000, 0.5, 10, 100.0, 0.3, 2, 50.0)
    assert w["customers_base"].tolist() == pytest.approx([500, 250])
    assert w["customers_improved"].tolist() == pytest.approx([600, 360])
    assert w["extra_customers"].tolist() == pytest.approx([100, 110])
    assert w["extra_revenue"].tolist() == pytest.approx([10_000, 11_000])
    assert w["extra_margin"].tolist() == pytest.approx([3_000, 3_300])
    assert w["acquisition_equivalent"].tolist() == pytest.approx([5_000, 5_500])
    capped = ec.retention_whatif(100, 0.95, 10, 1.0, 0.3, 1, 1.0)
    assert capped["customers_improved"].iloc[0] == pytest.approx(100)
    wi = ec.WhatIf(active_customers=1000, retention=0.5, uplift_pp=10, revenue_per_customer=100.0,
                   gross_margin=0.3, years=2, table=w)
    assert wi.extra_revenue == pytest.approx(21_000) and wi.extra_margin == pytest.approx(6_300)
    text = _plain(ne.whatif_text(wi))
    assert "21.000 €" in text and "6.300 €" in text and "60,0 %" in text and "30 % des Nettoumsatzes" in text
    assert "entfällt" in ne.whatif_text(None)


def test_active_customer_revenue():
    ds = _ds(YEAR_ROWS, "2025-12-31")
    n, mean = ec.active_customer_revenue(ds.purchases, ds.observation_end)
    assert n == 3 and mean == pytest.approx((150 + 50 + 300) / 3)


def test_compute_whatif_from_latest_year_by_hand():
    ds = _ds(YEAR_ROWS, "2025-12-31")
    res = ec.compute(ds, ReportConfig(), {})
    wi = res.whatif
    # 2025: P, Q, S bought; of the 2024 buyers P, Q, R, P and Q came back with 150 + 50
    assert wi.active_customers == 3 and res.key.whatif_active_customers == 3
    assert wi.retention == pytest.approx(2 / 3)
    assert wi.revenue_per_customer == pytest.approx(200 / 2)
    expected = ec.retention_whatif(3, 2 / 3, 5.0, 100.0, 0.3, 3, 50.0)
    assert res.key.whatif_extra_margin == pytest.approx(expected["extra_margin"].sum())
    assert res.key.nrr == pytest.approx(200 / 400) and res.key.grr == pytest.approx(150 / 400)
    assert res.key.lost_customers == 1 and res.key.replacement_cost == pytest.approx(50)


def test_compute_without_two_years_has_none_not_nan():
    rows = [("A", "2025-01-03", 10.0), ("A", "2025-06-01", 20.0), ("B", "2025-12-01", 5.0)]
    res = ec.compute(_ds(rows, "2025-12-31"), ReportConfig(), {})
    assert res.ok and res.whatif is None and not res.has_nrr
    assert res.key.nrr is None and res.key.lost_revenue is None and res.key.whatif_extra_margin is None
    for f in dataclasses.fields(res.key):
        v = getattr(res.key, f.name)
        assert not (isinstance(v, float) and math.isnan(v)), f.name
    assert "mindestens zwei volle Jahre" in ne.yearly_missing_text(res)


def test_result_is_frozen_and_picklable():
    res = ec.compute(_ds(YEAR_ROWS, "2025-12-31"), ReportConfig(), {})
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.key = None
    back = pickle.loads(pickle.dumps(res))
    assert back.key == res.key and back.groups.equals(res.groups)


def test_compute_on_sample_equals_pandas():
    """The chapter's key figures, recomputed with plain pandas from the sample file."""
    import numpy as np

    from helpers.config import SAMPLE_DATA
    from helpers.data import load_dataset

    cfg = ReportConfig()
    ds = load_dataset(SAMPLE_DATA, cfg)
    key = ec.compute(ds, cfg, {}).key
    c = ds.customers
    repeat = c["n_purchases"] >= 2
    assert key.customers == len(c)
    assert key.repeat_rate == pytest.approx(repeat.mean())
    assert key.existing_revenue_share == pytest.approx(c.loc[repeat, "revenue"].sum() / c["revenue"].sum())
    rev = c["revenue"].clip(lower=0).sort_values(ascending=False)
    assert key.top_20_revenue_share == pytest.approx(rev.iloc[: math.ceil(0.2 * len(rev))].sum() / rev.sum())
    # NRR of the latest year: windows (end - 24 months, end - 12 months] and (end - 12 months, end]
    p, end = ds.purchases, ds.observation_end
    mid, start = end - pd.DateOffset(months=12), end - pd.DateOffset(months=24)
    prev = p[(p["order_date"] > start) & (p["order_date"] <= mid)].groupby("customer_id")["revenue"].sum()
    cur = p[(p["order_date"] > mid) & (p["order_date"] <= end)].groupby("customer_id")["revenue"].sum()
    cur_of_prev = cur.reindex(prev.index).fillna(0.0)
    assert key.nrr == pytest.approx(cur_of_prev.sum() / prev.sum())
    assert key.grr == pytest.approx(np.minimum(cur_of_prev, prev).sum() / prev.sum())
    assert key.lost_customers == int((cur_of_prev <= 0).sum())
    active = p[(p["order_date"] > end - pd.Timedelta(days=365)) & (p["order_date"] <= end)]["customer_id"].nunique()
    assert key.whatif_active_customers == active


def _summary_for(rows, end):
    return _plain(ne.summary(ec.compute(_ds(rows, end), ReportConfig(), {})))


def test_summary_shrinking_vs_growing_and_single_year():
    shrinking = _summary_for(YEAR_ROWS, "2025-12-31")
    assert "50 % des Vorjahresumsatzes" in shrinking and "zurückgegangen" in shrinking
    growing_rows = YEAR_ROWS + [("R", "2025-03-01", 500.0)]
    growing = _summary_for(growing_rows, "2025-12-31")
    assert "gewachsen" in growing and "zurückgegangen" not in growing
    single = _summary_for(GROUP_ROWS[2:], "2025-12-31")
    assert "nicht berechnen" in single
    for text in (shrinking, growing, single):
        assert 2 <= text.count(". ") + 1 <= 4


def test_summary_without_repeat_buyers():
    rows = [("A", "2025-01-03", 10.0), ("B", "2025-06-01", 20.0)]
    text = _summary_for(rows, "2025-12-31")
    assert "Kein Kunde hat" in text
    assert "Bestandskunde bringt" not in text


def test_per_year_sentence_reason_only_when_true():
    spread = ec.RuleCheck(factor=3.7, factor_per_year=2.1, verdict="weaker")
    same = ec.RuleCheck(factor=2.5, factor_per_year=2.5, verdict="weaker")
    assert "nur 2,1, weil" in ne.per_year_sentence(spread)
    assert "weil" not in ne.per_year_sentence(same) and "2,5" in ne.per_year_sentence(same)
    assert ne.per_year_sentence(ec.RuleCheck(float("nan"), float("nan"), "not_computable")) == ""


def test_nrr_sentence_without_revenue():
    ds = from_transactions(pd.DataFrame(YEAR_ROWS, columns=["customer_id", "order_date", "revenue"])
                           .drop(columns="revenue"), "2025-12-31")
    yr = co.yearly_retention(ds.purchases, ds.first_date, ds.observation_end)
    assert "Ohne Umsatzangaben" in ne.nrr_sentence(yr, has_revenue=False)
    res = ec.compute(ds, ReportConfig(), {})
    assert "revenue_share" not in res.groups.columns
    assert res.concentration is None and res.lorenz is None and res.whatif is None
    assert res.key.existing_revenue_share is None and res.key.rule_of_thumb_verdict == "not_computable"
    text = _plain(ne.summary(res))
    assert "Käufe" in text and "Ohne Umsatzangaben" in text and "Umsatzes." not in text
    assert "Ohne Umsatzangaben" in ne.yearly_missing_text(res)
    assert "Ohne Umsatzangaben" in ne.concentration_sentence(res.concentration)


@pytest.mark.slow
def test_economics_notebook_shows_the_result(tmp_path):
    """The notebook with its default parameters (JupyterLab mode) prints the result's key figures."""
    import papermill as pm

    from helpers import fmt
    from helpers.config import NOTEBOOK_DIR, SAMPLE_DATA
    from helpers.data import load_dataset

    out = tmp_path / "out.ipynb"
    pm.execute_notebook(str(NOTEBOOK_DIR / "02-bestandskunden.ipynb"), str(out), cwd=str(NOTEBOOK_DIR),
                        kernel_name="kundenwert", progress_bar=False)
    cfg = ReportConfig()
    key = ec.compute(load_dataset(SAMPLE_DATA, cfg), cfg, {}).key
    text = out.read_text("utf-8")
    assert f"brachte im folgenden Jahr {fmt.pct(key.nrr)} des Vorjahresumsatzes" in text
    assert f"{fmt.eur(key.whatif_extra_margin)} zusätzlichen Deckungsbeitrag" in text
    assert f"kostet das rund {fmt.eur(key.replacement_cost)}" in text
    assert "Traceback" not in text
