"""Churn labels and features on a hand-made fixture, plus the leakage rule."""

import math

import numpy as np
import pandas as pd
import pytest

from helpers.analysis.churn_features import (
    active_at,
    build_features,
    build_labels,
    choose_window,
    suggest_window,
    top_channels,
)
from helpers.analysis.value import revenue_last_12m
from helpers.dataset import from_transactions

CUTOFF = pd.Timestamp("2025-03-31")
WINDOW = 30


def _hand_dataset():
    rows = [
        # A: three purchases, one pure return day, buys again inside the window
        ("A", "2025-01-01", 100.0, "X", "Online"),
        ("A", "2025-02-01", 50.0, "Y", "Online"),
        ("A", "2025-03-01", 30.0, "X", "Online"),
        ("A", "2025-03-10", -15.0, "X", "Online"),
        ("A", "2025-04-15", 80.0, "Z", "Filiale"),
        # B: single buyer, next purchase only after the window -> churned
        ("B", "2025-03-20", 40.0, "X", "Filiale"),
        ("B", "2025-05-15", 40.0, "X", "Filiale"),
        # C: buys on the cut-off day and exactly on the last window day -> not churned
        ("C", "2024-06-01", 20.0, "Y", "Online"),
        ("C", "2024-12-01", 20.0, "Y", "Filiale"),
        ("C", "2025-03-31", 20.0, "Y", "Online"),
        ("C", "2025-04-30", 20.0, "Y", "Online"),
        # D: first purchase after the cut-off -> not in the feature table
        ("D", "2025-04-02", 10.0, "X", "Online"),
        # E: only a return after the cut-off (no purchase) -> churned
        ("E", "2025-01-15", 60.0, "X", "App"),
        ("E", "2025-04-01", -20.0, "X", "App"),
    ]
    df = pd.DataFrame(rows, columns=["customer_id", "order_date", "revenue", "category", "channel"])
    return from_transactions(df, "2025-06-30")


def test_labels_by_hand():
    ds = _hand_dataset()
    feats = build_features(ds.transactions, ds.purchases, CUTOFF)
    labels = build_labels(ds.purchases, feats.index, CUTOFF, WINDOW)
    assert list(feats.index) == ["A", "B", "C", "E"]
    assert labels.to_dict() == {"A": 0, "B": 1, "C": 0, "E": 1}


def test_features_by_hand():
    ds = _hand_dataset()
    f = build_features(ds.transactions, ds.purchases, CUTOFF, channels=["Online"])
    a, b, c = f.loc["A"], f.loc["B"], f.loc["C"]
    # A: purchases 01.01., 01.02., 01.03. (the return day 10.03. is no purchase)
    assert a["recency_days"] == 30 and a["frequency"] == 3 and a["tenure_days"] == 89
    assert a["ipt_mean_days"] == pytest.approx(29.5)
    assert a["ipt_std_days"] == pytest.approx(3 / math.sqrt(2))
    assert a["recency_ratio"] == pytest.approx(30 / 29.5)
    assert a["purchases_last_90"] == 3 and a["purchases_last_180"] == 3
    assert math.isnan(a["trend_90"])  # first purchase lies inside the last 90 days
    assert a["monetary"] == pytest.approx(60.0)
    assert a["return_share"] == pytest.approx(15 / 180)
    assert a["n_categories"] == 2
    assert a["channel_share__Online"] == 1.0
    # B: single purchase 11 days before the cut-off
    assert (b["recency_days"], b["frequency"], b["tenure_days"]) == (11, 1, 11)
    assert math.isnan(b["ipt_mean_days"]) and math.isnan(b["recency_ratio"])
    assert b["return_share"] == 0 and b["channel_share__Online"] == 0
    # C: purchases 01.06.2024, 01.12.2024 and on the cut-off day
    assert (c["recency_days"], c["frequency"], c["tenure_days"]) == (0, 3, 303)
    assert c["ipt_mean_days"] == pytest.approx((183 + 120) / 2)
    assert c["purchases_last_90"] == 1 and c["purchases_last_180"] == 2
    assert c["trend_90"] == pytest.approx(1 / 90 * 30 - 2 / 213 * 30)
    assert c["channel_share__Online"] == pytest.approx(2 / 3)


def test_window_boundaries():
    ds = _hand_dataset()
    idx = pd.Index(["A", "B", "C", "E"])
    # window of 29 days ends 29.04.: C's purchase on 30.04. no longer counts
    assert build_labels(ds.purchases, idx, CUTOFF, 29)["C"] == 1
    # a long window reaches B's purchase on 15.05.
    assert build_labels(ds.purchases, idx, CUTOFF, 60)["B"] == 0


def test_window_from_inter_purchase_times():
    # gaps 10, 20, ..., 100 days of one customer: P90 = 91 days -> rounded to 90
    dates = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.cumsum([0, *range(10, 101, 10)]), unit="D")
    p = pd.DataFrame({"customer_id": "A", "order_date": dates})
    w = suggest_window(p)
    assert w.n_gaps == 10 and w.quantile_days == pytest.approx(91.0) and w.days == 90
    assert choose_window(p, 45).days == 45 and choose_window(p, 45).source == "config"
    single = pd.DataFrame({"customer_id": ["A", "B"], "order_date": pd.to_datetime(["2024-01-01", "2024-02-01"])})
    assert suggest_window(single).days is None


def test_top_channels_uses_only_the_past_and_drops_reference():
    ds = _hand_dataset()
    # up to the cut-off: Online 5 lines, Filiale 2, App 1 -> all three used, least frequent dropped
    assert top_channels(ds.transactions, CUTOFF) == ["Online", "Filiale"]


def test_active_filter_and_margin():
    ds = _hand_dataset()
    f = build_features(ds.transactions, ds.purchases, CUTOFF)
    assert list(active_at(f, 60).index) == ["A", "B", "C"]  # E last bought 75 days before
    # the 12-month revenue (helpers.analysis.value, the one definition) at the cut-off
    rev = revenue_last_12m(ds.transactions, pd.Timestamp("2025-03-31"))
    # A: 100 + 50 + 30 - 15; C: lines 01.06.2024 (within 365 days), 01.12.2024, 31.03.2025
    assert rev["A"] == pytest.approx(165.0) and rev["C"] == pytest.approx(60.0)
    assert "D" not in rev.index  # D buys only after that end


def _random_shop(seed, n=60):
    rng = np.random.default_rng(seed)
    k = 600
    return pd.DataFrame({
        "customer_id": rng.integers(0, n, k).astype(str),
        "order_date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 500, k), unit="D"),
        "revenue": np.round(rng.normal(50, 40, k), 2),
        "category": rng.choice(["a", "b", "c"], k),
        "channel": rng.choice(["web", "shop", "tel"], k, p=[0.6, 0.3, 0.1]),
    })


@pytest.mark.parametrize("seed", range(8))
def test_no_leakage_from_after_the_cutoff(seed):
    """Moving, adding or removing lines after the cut-off never changes a feature."""
    rng = np.random.default_rng(100 + seed)
    df = _random_shop(seed)
    cutoff = pd.Timestamp("2024-11-15")
    base = from_transactions(df, "2025-06-30")
    expected = build_features(base.transactions, base.purchases, cutoff)

    after = df["order_date"] > cutoff
    changed = df.copy()
    idx = changed.index[after]
    drop = rng.choice(idx, size=len(idx) // 3, replace=False)
    changed = changed.drop(drop)
    move = changed.index[changed["order_date"] > cutoff][::2]
    changed.loc[move, "order_date"] += pd.to_timedelta(rng.integers(1, 40, len(move)), unit="D")
    changed.loc[move, "revenue"] *= -1
    extra = pd.DataFrame({
        "customer_id": rng.choice([*df["customer_id"].unique()[:10], "neu1", "neu2"], 40),
        "order_date": cutoff + pd.to_timedelta(rng.integers(1, 200, 40), unit="D"),
        "revenue": rng.normal(80, 50, 40),
        "category": rng.choice(["a", "z"], 40),
        "channel": rng.choice(["web", "fax", "app"], 40),
    })
    changed = pd.concat([changed, extra], ignore_index=True)
    ds = from_transactions(changed, "2025-06-30")
    got = build_features(ds.transactions, ds.purchases, cutoff)
    pd.testing.assert_frame_equal(got, expected)


def test_labels_ignore_purchases_outside_the_window():
    df = _random_shop(3)
    cutoff = pd.Timestamp("2024-11-15")
    ds = from_transactions(df, "2025-06-30")
    idx = build_features(ds.transactions, ds.purchases, cutoff).index
    expected = build_labels(ds.purchases, idx, cutoff, 60)
    inside = (df["order_date"] > cutoff) & (df["order_date"] <= cutoff + pd.Timedelta(days=60))
    trimmed = from_transactions(df[inside], "2025-06-30")
    pd.testing.assert_series_equal(build_labels(trimmed.purchases, idx, cutoff, 60), expected)


def test_coded_input_gives_identical_features():
    from helpers.analysis.churn_features import encode_customers

    ds = from_transactions(_random_shop(5), "2025-06-30")
    cutoff = pd.Timestamp("2024-12-01")
    plain = build_features(ds.transactions, ds.purchases, cutoff)
    tx, p, ids = encode_customers(ds.transactions, ds.purchases)
    coded = build_features(tx, p, cutoff)
    labels = build_labels(p, coded.index, cutoff, 90)
    coded.index = labels.index = pd.Index(ids[coded.index], name="customer_id").astype(str)
    coded = coded.sort_index()
    pd.testing.assert_frame_equal(coded, plain)
    pd.testing.assert_series_equal(labels.sort_index(), build_labels(ds.purchases, plain.index, cutoff, 90))
