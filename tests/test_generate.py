"""The synthetic data generator: determinism, required behaviours, the committed sample files."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from helpers import generate as g
from helpers.config import SAMPLE_DIR


@pytest.fixture(scope="module")
def shop() -> pd.DataFrame:
    return g.generate_transactions(4000, "2023-10-01", "2026-09-30", seed=7)


def test_same_seed_same_frame_other_seed_differs(shop):
    again = g.generate_transactions(4000, "2023-10-01", "2026-09-30", seed=7)
    pd.testing.assert_frame_equal(shop, again)
    other = g.generate_transactions(4000, "2023-10-01", "2026-09-30", seed=8)
    assert not shop["net_revenue_eur"].equals(other["net_revenue_eur"])


def test_columns_types_and_window(shop):
    assert list(shop.columns) == ["order_id", "customer_id", "order_date", "net_revenue_eur",
                                  "quantity", "category", "channel"]
    assert shop["order_date"].min() >= pd.Timestamp("2023-10-01")
    assert shop["order_date"].max() <= pd.Timestamp("2026-09-30")
    assert shop["customer_id"].nunique() == 4000
    assert 5 <= shop["category"].nunique() <= 8
    assert set(shop["channel"].unique()) == {"Online-Shop", "App", "Marktplatz", "Filiale"}
    assert (np.sign(shop["quantity"]) == np.sign(shop["net_revenue_eur"])).all()


def test_one_time_buyers_and_loyal_customers(shop):
    days = shop[shop["net_revenue_eur"] > 0].groupby("customer_id")["order_date"].nunique()
    assert 0.45 <= (days == 1).mean() <= 0.65
    assert (days >= 5).sum() > 100  # a loyal core exists


def test_q4_peak(shop):
    per_month = shop[shop["net_revenue_eur"] > 0].groupby(shop["order_date"].dt.month)["net_revenue_eur"].sum()
    q4 = per_month.loc[[11, 12]].mean()
    rest = per_month.drop([10, 11, 12]).mean()
    assert q4 > 1.2 * rest


def test_several_lines_per_order(shop):
    lines = shop[shop["net_revenue_eur"] > 0].groupby("order_id").size()
    assert lines.max() >= 3 and (lines > 1).mean() > 0.3


def test_returns_reference_an_earlier_order(shop):
    ret = shop[shop["net_revenue_eur"] < 0]
    assert 0.02 < len(ret) / len(shop) < 0.07
    first = shop[shop["net_revenue_eur"] > 0].groupby("order_id")["order_date"].min()
    assert ret["order_id"].isin(first.index).all()
    assert (ret["order_date"].to_numpy() > first.reindex(ret["order_id"]).to_numpy()).all()


def test_exact_duplicates_present(shop):
    n = shop.duplicated().sum()
    assert 0 < n < 0.01 * len(shop)


def test_generate_lines_hits_target():
    df = g.generate_lines(50_000, seed=3)
    assert abs(len(df) - 50_000) / 50_000 < 0.05


def test_vectorized_speed():
    t = time.perf_counter()
    df = g.generate_transactions(100_000, seed=1)
    assert len(df) > 300_000
    assert time.perf_counter() - t < 10  # ~0,5 s on an idle laptop; generous for the shared machine


def test_committed_samples_are_reproducible(tmp_path):
    paths = g.write_samples(tmp_path)
    for p in paths.values():
        assert p.read_bytes() == (SAMPLE_DIR / p.name).read_bytes(), p.name


def test_sample_sizes():
    path = SAMPLE_DIR / "onlineshop_transaktionen.csv"
    assert path.stat().st_size < 5_000_000
    df = pd.read_csv(path)
    assert df["customer_id"].nunique() >= 4000 and len(df) >= 25_000
    assert df["order_date"].max() == "2026-09-30"
    b2b = pd.read_csv(SAMPLE_DIR / "grosshandel_export.csv", sep=";", encoding="cp1252")
    assert 300 <= b2b["Kundennummer"].nunique() <= 600
    assert "Nettoumsatz (€)" in b2b.columns
    assert b2b["Rechnungsnummer"].str.startswith("S-").any()
