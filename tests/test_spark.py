"""The line-level aggregation of helpers.engine runs unchanged on Spark (local mode) and gives the same
per-customer table, purchases and ledger as the default engine (DuckDB) on the sample (issue 17)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pyspark = pytest.importorskip("pyspark", reason="pyspark fehlt (pip install -e '.[dev]')")
if shutil.which("java") is None:
    pytest.skip("Java fehlt (Debian: apt-get install openjdk-17-jre-headless; .ci/run installiert es)",
                allow_module_level=True)

from helpers import engine  # noqa: E402
from helpers.config import ReportConfig  # noqa: E402
from helpers.data import map_columns  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "onlineshop_transaktionen.csv"
TODAY = dt.date(2026, 12, 1)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    raw = pd.read_csv(SAMPLE, dtype={"order_id": str, "customer_id": str})
    raw["order_date"] = pd.to_datetime(raw["order_date"]).dt.date  # Parquet DATE: read alike by both engines
    out = tmp_path_factory.mktemp("spark") / "export"
    out.mkdir()
    for i, idx in enumerate(np.array_split(np.arange(len(raw)), 3)):
        raw.iloc[idx].to_parquet(out / f"teil-{i}.parquet", index=False)
    return out


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[1]").appName("kundenwert-test")
               .config("spark.sql.shuffle.partitions", "2").config("spark.ui.enabled", "false")
               .config("spark.sql.session.timeZone", "UTC").config("spark.driver.memory", "1g")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _run(t, cfg):
    mapping = map_columns([c for c in t.columns if c != engine.ROW], {}, Path("export"))
    spec = engine.inspect(t, mapping, cfg, Path("export"))
    res = engine.aggregate(t, spec, today=TODAY, returns=cfg.data.returns, outlier_factor=cfg.data.outlier_factor)
    cust = engine.customer_frame(engine.customers(engine.compact(res.rules)).to_pandas(), res.observation_end)
    purchases = engine.purchases(engine.compact(res.rules)).to_pandas()
    purchases = purchases.sort_values(["customer_id", "order_date"]).reset_index(drop=True)
    return res, cust, purchases


def test_spark_gives_the_default_engines_customers(folder, spark):
    import ibis

    cfg = ReportConfig.from_settings(None, {})
    with engine.connect() as conn:
        d_res, d_cust, d_purch = _run(engine.read_parquet(conn.con, engine.parquet_files(folder)), cfg)
    s_con = ibis.pyspark.connect(spark)
    s_res, s_cust, s_purch = _run(s_con.read_parquet(str(folder)), cfg)

    assert len(d_cust) > 1000
    pd.testing.assert_frame_equal(s_cust, d_cust, check_exact=False, rtol=1e-9)
    cols = ["customer_id", "order_date", "revenue", "n_lines"]
    s_purch, d_purch = s_purch[cols], d_purch[cols]
    for frame in (s_purch, d_purch):
        frame["order_date"] = pd.to_datetime(frame["order_date"])
        frame["n_lines"] = frame["n_lines"].astype(np.int64)
    pd.testing.assert_frame_equal(s_purch, d_purch, check_exact=False, rtol=1e-9)
    assert s_res.observation_end == d_res.observation_end
    # the ledger, apart from line numbers (Spark's reader gives none)
    a, b = d_res.ledger.to_dict(), s_res.ledger.to_dict()
    for d in (a, b):
        for item in d["outliers"] + d["dates"]:
            item.pop("row")
    assert b == a
