"""Revenue concentration against hand computation."""

import math

import pandas as pd
import pytest

from helpers.analysis import concentration as cc


def test_top_shares_and_gini_by_hand():
    rev = pd.Series([1.0, 1.0, 1.0, 7.0])
    # top 10 % and 20 % of 4 customers = ceil(0.4) = ceil(0.8) = 1 customer -> 7 / 10
    assert cc.top_share(rev, 0.1) == pytest.approx(0.7)
    assert cc.top_share(rev, 0.2) == pytest.approx(0.7)
    assert cc.top_share(rev, 0.5) == pytest.approx(0.8)
    # sum |xi - xj| over ordered pairs = 36; 2 n^2 mean = 2 * 16 * 2.5 = 80
    assert cc.gini(rev) == pytest.approx(36 / 80)


def test_lorenz_points():
    curve = cc.lorenz_curve(pd.Series([7.0, 1.0, 1.0, 1.0]))
    assert curve["customer_share"].tolist() == pytest.approx([0, 0.25, 0.5, 0.75, 1.0])
    assert curve["revenue_share"].tolist() == pytest.approx([0, 0.1, 0.2, 0.3, 1.0])


def test_ten_customers_one_to_ten():
    rev = pd.Series(range(1, 11), dtype=float)
    assert cc.top_share(rev, 0.1) == pytest.approx(10 / 55)
    assert cc.top_share(rev, 0.2) == pytest.approx(19 / 55)
    summary = cc.concentration_summary(rev)
    assert summary.top_10 == pytest.approx(10 / 55)
    assert summary.top_20 == pytest.approx(19 / 55)
    assert summary.n_customers == 10


def test_equal_revenue_has_no_concentration():
    rev = pd.Series([5.0] * 10)
    assert cc.gini(rev) == pytest.approx(0.0)
    assert cc.top_share(rev, 0.2) == pytest.approx(0.2)


def test_negative_net_revenue_counts_as_zero():
    rev = pd.Series([-5.0, 5.0, 5.0])
    assert cc.top_share(rev, 0.2) == pytest.approx(0.5)


def test_no_revenue_gives_nan():
    assert math.isnan(cc.top_share(pd.Series([0.0, 0.0]), 0.2))
    assert math.isnan(cc.gini(pd.Series([], dtype=float)))
    summary = cc.concentration_summary(pd.Series([0.0, 0.0]))
    assert (summary.top_10, summary.top_20, summary.gini) == (None, None, None)


def test_top_share_default_is_top_ten_percent_and_ignores_missing():
    values = pd.Series([float(v) for v in range(1, 21)] + [float("nan")])
    assert cc.top_share(values) == pytest.approx((20 + 19) / 210)


def test_top_20_point_lies_on_the_lorenz_curve():
    rev = pd.Series([7.0, 1.0, 1.0, 1.0])
    summary = cc.concentration_summary(rev)
    # top 20 % of 4 customers = 1 customer (7 of 10): the curve passes (3/4, 3/10)
    assert summary.top_20_customers == 1
    assert summary.top_20_point == pytest.approx((0.75, 0.3))
    curve = cc.lorenz_curve(rev)
    assert ((curve["customer_share"] - 0.75).abs() < 1e-12).any()
    assert curve.loc[(curve["customer_share"] - 0.75).abs() < 1e-12, "revenue_share"].iloc[0] == pytest.approx(0.3)
    ten = cc.concentration_summary(pd.Series(range(1, 11), dtype=float))
    assert ten.top_20_point == pytest.approx((0.8, 1 - 19 / 55))
    assert cc.concentration_summary(pd.Series([0.0, 0.0])).top_20_point is None
