"""Every file of the loader corpus (tests/corpus/files) against its hand-written expectation."""

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
    assert len(CASES) >= 25
    assert len(files) >= 25
    for f in files:
        assert (CORPUS / "files" / f).exists(), f


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_corpus_case(case):
    cfg = ReportConfig.from_settings(None, {"min_customers": 1, **case.get("settings", {})})
    path = CORPUS / "files" / case["file"]
    if "error" in case:
        with pytest.raises(DataValidationError, match=re.escape(case["error"])) as err:
            load_dataset(path, cfg)
        assert case["file"] in str(err.value)  # the message names the file
        return
    ds = load_dataset(path, cfg)
    exp = case["expect"]
    led = ds.ledger
    assert led.rows_read == led.rows_kept + sum(led.dropped.values())
    assert led.rows_kept == len(ds.transactions)
    assert led.rows_read == exp["rows_read"]
    assert led.rows_kept == exp["rows_kept"]
    for reason, n in exp.get("dropped", {}).items():
        assert led.dropped[reason] == n, reason
    unexpected = {k: v for k, v in led.dropped.items() if v and k not in exp.get("dropped", {})}
    assert not unexpected
    for flag, n in exp.get("flags", {}).items():
        assert led.flags[flag] == n, flag
    tx = ds.transactions
    if "customers" in exp:
        assert tx["customer_id"].nunique() == exp["customers"]
    if "revenue" in exp:
        assert tx["revenue"].sum() == pytest.approx(exp["revenue"], abs=1e-6)
    if "columns" in exp:
        assert list(tx.columns) == exp["columns"]
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
    assert tx["order_date"].dtype == "datetime64[ns]"
    assert (tx["order_date"] == tx["order_date"].dt.normalize()).all()
