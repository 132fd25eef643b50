"""Every file of the loader corpus (tests/corpus/files) against its hand-written expectation.

Each case either loads and gives the revenue total, the customer count (customers with at least
one purchase day, the report's one definition) and the ledger written by hand in
``expected.yaml``, or stops with the German error given there (exit code 2).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from helpers.config import ReportConfig
from helpers.data import load_dataset
from helpers.exceptions import DataValidationError

CORPUS = Path(__file__).parent / "corpus"
CASES = yaml.safe_load((CORPUS / "expected.yaml").read_text("utf-8"))["cases"]


def test_corpus_is_large_and_complete():
    files = {c["file"] for c in CASES}
    assert len(CASES) >= 90
    assert len(files) >= 75
    for f in files:
        assert (CORPUS / "files" / f).exists(), f
    assert len({c["name"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_corpus_case(case):
    cfg = ReportConfig.from_settings(None, {"min_customers": 1, **case.get("settings", {})})
    path = CORPUS / "files" / case["file"]
    if "error" in case:
        fragments = case["error"] if isinstance(case["error"], list) else [case["error"]]
        with pytest.raises(DataValidationError, match=re.escape(fragments[0])) as err:
            load_dataset(path, cfg)
        message = str(err.value)
        for fragment in fragments[1:]:
            assert fragment in message
        assert case["file"] in message  # the message names the file
        assert err.value.exit_code == 2
        return
    ds = load_dataset(path, cfg)
    exp = case["expect"]
    led = ds.ledger
    assert led.rows_read == led.rows_kept + sum(led.dropped.values())
    assert led.rows_kept == ds.n_lines
    assert led.rows_read == exp["rows_read"]
    assert led.rows_kept == exp["rows_kept"]
    for reason, n in exp.get("dropped", {}).items():
        assert led.dropped[reason] == n, reason
    unexpected = {k: v for k, v in led.dropped.items() if v and k not in exp.get("dropped", {})}
    assert not unexpected
    for flag, n in exp.get("flags", {}).items():
        assert led.flags[flag] == n, flag
    tx = ds.transactions
    # one customer count: customers with a purchase day, the same in the ledger
    assert led.customers_with_purchase == len(ds.customers)
    assert led.customers_kept == tx["customer_id"].nunique()
    assert led.customers_read == (led.customers_with_purchase + led.customers_all_dropped
                                  + led.customers_no_purchase)
    if "customers" in exp:
        assert len(ds.customers) == exp["customers"]
    if "customers_in_file" in exp:
        assert tx["customer_id"].nunique() == exp["customers_in_file"]
    for attr, value in exp.get("ledger", {}).items():
        if attr == "dropped_customers":
            for reason, n in value.items():
                assert led.dropped_customers[reason] == n, reason
        else:
            assert getattr(led, attr) == value, attr
    if "revenue" in exp:
        assert tx["revenue"].sum() == pytest.approx(exp["revenue"], abs=1e-6)
    if "columns" in exp:
        assert list(tx.columns) == exp["columns"]
    if "currency" in exp:
        assert ds.currency == exp["currency"]
    if "currency_source" in exp:
        assert ds.currency_source["source"] == exp["currency_source"]
    if "categories" in exp:
        assert sorted(tx["category"].astype(str).unique()) == sorted(exp["categories"])
    if "first_date" in exp:
        assert ds.first_date == pd.Timestamp(exp["first_date"])
    if "observation_end" in exp:
        assert ds.observation_end == pd.Timestamp(exp["observation_end"])
    if "purchases" in exp:
        assert len(ds.purchases) == exp["purchases"]
    if "customer_ids" in exp:
        assert sorted(tx["customer_id"].unique()) == exp["customer_ids"]
    if "outlier_rows" in exp:
        assert [o["row"] for o in led.outliers] == exp["outlier_rows"]
    if "date_rows" in exp:
        assert [d["row"] for d in led.dates] == exp["date_rows"]
    for canon, column in exp.get("sources", {}).items():
        assert ds.sources[canon] == column
    if ds.is_compact:  # Parquet through the line engine: rows stand for n_lines lines, no order_id column
        assert set(ds.sources) - {"order_id"} == set(tx.columns) - {"n_lines"}
    else:
        assert set(ds.sources) == set(tx.columns)
    assert tx["order_date"].dtype == "datetime64[ns]"
    assert (tx["order_date"] == tx["order_date"].dt.normalize()).all()
    assert ds.observation_end <= pd.Timestamp.today().normalize() or cfg.observation_end is not None
