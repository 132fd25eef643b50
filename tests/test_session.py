"""The prepared-data round trip the report pipeline relies on."""

import pandas as pd

from helpers import session
from helpers.dataset import Dataset, from_transactions


def _fixture() -> Dataset:
    tx = pd.DataFrame(
        {
            "customer_id": ["A", "A", "A", "B", "C", "C"],
            "order_date": ["2026-01-05", "2026-01-05", "2026-03-01", "2026-02-10", "2026-02-11", "2026-04-01"],
            "revenue": [10.0, 5.0, 20.0, 30.0, 40.0, -40.0],
        }
    )
    return from_transactions(tx, observation_end="2026-04-30")


def test_prepared_round_trip_keeps_derived_tables(tmp_path):
    ds = _fixture()
    session.write_prepared(ds, tmp_path)
    back = session.read_prepared(tmp_path)
    # A's two lines on 05.01. are one purchase of 15 €; C's return day is no purchase.
    assert back.customers.loc["A", "n_purchases"] == 2
    assert back.customers.loc["C", "n_purchases"] == 1
    assert back.customers.loc["C", "revenue"] == 0.0
    assert back.customers.loc["B", "recency_days"] == 79
    pd.testing.assert_frame_equal(back.purchases, ds.purchases)
    pd.testing.assert_frame_equal(back.customers, ds.customers)
    recomputed = Dataset(transactions=back.transactions, observation_end=back.observation_end)
    pd.testing.assert_frame_equal(recomputed.customers, back.customers)


def test_results_and_key_figures_round_trip(tmp_path):
    df = pd.DataFrame({"segment": ["Champions"]}, index=pd.Index(["A"], name="customer_id"))
    session.save_result("rfm", df, tmp_path)
    pd.testing.assert_frame_equal(session.load_result("rfm", tmp_path), df)
    assert session.load_result("rfm", None) is None
    session.record_key_figures("rfm", {"customers": 3}, tmp_path)
    assert session.load_key_figures(tmp_path) == {"rfm": {"customers": 3}}
