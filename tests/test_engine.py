"""Parquet folders through the line-level engine (helpers.engine, DuckDB): the same Dataset, ledger and
chapter figures as the CSV path on the sample; messy Parquet counted in the ledger or stopped in German."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import cli
from helpers.config import ReportConfig
from helpers.data import load_dataset
from helpers.exceptions import DataValidationError

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "onlineshop_transaktionen.csv"
KEY = b"engine-test-key-0123456789abcdef"
TODAY = dt.date(2026, 12, 1)


def _cfg(**settings) -> ReportConfig:
    return ReportConfig.from_settings(None, settings)


def write_folder(df: pd.DataFrame, folder: Path, parts: int = 3) -> Path:
    """``df`` as a folder of ``parts`` Parquet files (name order = row order)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, idx in enumerate(np.array_split(np.arange(len(df)), parts)):
        df.iloc[idx].to_parquet(folder / f"teil-{i:02d}.parquet", index=False)
    return folder


@pytest.fixture(scope="module")
def sample_raw() -> pd.DataFrame:
    raw = pd.read_csv(SAMPLE, dtype={"order_id": str, "customer_id": str})
    raw["order_date"] = pd.to_datetime(raw["order_date"])
    return raw


@pytest.fixture(scope="module")
def csv_ds():
    return load_dataset(SAMPLE, _cfg(), KEY, today=TODAY)


@pytest.fixture(scope="module")
def folder_ds(sample_raw, tmp_path_factory):
    folder = write_folder(sample_raw, tmp_path_factory.mktemp("pq") / "export")
    return load_dataset(folder, _cfg(), KEY, today=TODAY)


def _ledger_without_rows(led) -> dict:
    d = led.to_dict()
    for o in d["outliers"]:
        o.pop("row")  # CSV lines count the header line, Parquet rows do not
    for o in d["dates"]:
        o.pop("row")
    return d


def test_folder_gives_the_csv_paths_customers_and_purchases(csv_ds, folder_ds):
    pd.testing.assert_frame_equal(folder_ds.customers, csv_ds.customers, check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(folder_ds.purchases, csv_ds.purchases, check_exact=False, rtol=1e-9)
    assert folder_ds.observation_end == csv_ds.observation_end
    assert folder_ds.currency == csv_ds.currency
    assert folder_ds.n_lines == csv_ds.n_lines == csv_ds.ledger.rows_kept
    assert folder_ds.is_compact and not csv_ds.is_compact
    assert len(folder_ds.transactions) < len(csv_ds.transactions)
    assert folder_ds.transactions["revenue"].sum() == pytest.approx(csv_ds.transactions["revenue"].sum(), rel=1e-12)
    for col in ("order_id", "category", "channel", "quantity", "revenue"):
        assert folder_ds.has(col) == csv_ds.has(col), col
    assert folder_ds.sources == csv_ds.sources
    assert "Parquet-Ordner (3 Dateien)" in folder_ds.notes[0]


def test_folder_ledger_equals_the_csv_ledger(csv_ds, folder_ds):
    a, b = _ledger_without_rows(csv_ds.ledger), _ledger_without_rows(folder_ds.ledger)
    assert b == a
    led = folder_ds.ledger
    assert led.rows_read == led.rows_kept + led.rows_dropped
    assert led.dropped["duplicate"] > 0
    assert led.customers_read == led.customers_with_purchase + led.customers_without_purchase
    # outlier rows are Parquet line numbers (1-based, no header): one less than the CSV's
    assert [o["row"] for o in folder_ds.ledger.outliers] == [o["row"] - 1 for o in csv_ds.ledger.outliers]


def test_single_parquet_file_with_canonical_names(csv_ds, tmp_path):
    tx = csv_ds.transactions  # canonical names, already pseudonymized: read without pseudonymizing again
    path = tmp_path / "kanonisch.parquet"
    tx.to_parquet(path, index=False)
    ds = load_dataset(path, _cfg(pseudonymize=False), today=TODAY)
    assert ds.notes[0].startswith("Gelesen als Parquet-Datei")
    pd.testing.assert_frame_equal(ds.customers, csv_ds.customers, check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(ds.purchases, csv_ds.purchases, check_exact=False, rtol=1e-9)


def _figures(result) -> dict:
    """Every typed key figure of a chapter result (the summary's ``keys`` or a chapter's ``key``)."""
    import dataclasses

    key = getattr(result, "key", None)
    return dataclasses.asdict(key) if dataclasses.is_dataclass(key) else {}


def test_every_chapter_figure_matches_the_csv_path(csv_ds, folder_ds):
    """The compact line table (rows weighted by ``n_lines``) gives every chapter's key figures of
    the line-level CSV path: line counts, channel shares and churn features included."""
    from helpers.chapters import compute_all

    cfg = _cfg()
    a, b = compute_all(csv_ds, cfg), compute_all(folder_ds, cfg)
    assert a["data"].key.lines == b["data"].key.lines == csv_ds.n_lines
    seg_a = a["rfm"].customers["segment"].value_counts().sort_index()
    seg_b = b["rfm"].customers["segment"].value_counts().sort_index()
    pd.testing.assert_series_equal(seg_b, seg_a)
    pd.testing.assert_frame_equal(b["rfm"].channel_mix, a["rfm"].channel_mix, rtol=1e-9)
    compared = 0
    for slug in a:
        fa, fb = _figures(a[slug]), _figures(b[slug])
        assert fa.keys() == fb.keys(), slug
        for name, va in fa.items():
            vb = fb[name]
            if name == "source_name":  # the folder's name, not the CSV's
                continue
            if isinstance(va, float) and isinstance(vb, float):
                assert vb == pytest.approx(va, rel=1e-9, abs=1e-9), f"{slug}.{name}"
            else:
                assert vb == va, f"{slug}.{name}"
            compared += 1
    assert compared > 100  # all chapters took part


def test_pseudonyms_are_those_of_the_csv_path(csv_ds, folder_ds):
    assert set(folder_ds.transactions["customer_id"].unique()) == set(csv_ds.transactions["customer_id"].unique())
    assert folder_ds.transactions["customer_id"].str.startswith("PS-").all()


# ----------------------------------------------------------------------------- messy Parquet


def _messy(sample_raw: pd.DataFrame) -> pd.DataFrame:
    df = sample_raw.head(3000).copy()
    df.loc[[10, 11], "customer_id"] = None
    df.loc[12, "customer_id"] = "   "
    df.loc[[20, 21, 22], "order_date"] = pd.NaT
    return df


def test_messy_folder_is_counted_in_the_ledger(sample_raw, tmp_path):
    df = _messy(sample_raw)
    end = df["order_date"].max() - pd.Timedelta(days=30)
    late = int((df["order_date"] > end).sum())
    folder = write_folder(df, tmp_path / "unsauber", parts=2)
    ds = load_dataset(folder, _cfg(observation_end=end.date().isoformat(), min_customers=10), KEY, today=TODAY)
    led = ds.ledger
    assert led.rows_read == len(df)
    assert led.dropped["missing_customer"] == 3
    assert led.dropped["bad_date"] == 3
    assert led.dropped["future_date"] == late - int(df.loc[[10, 11, 12], "order_date"].gt(end).sum())
    assert led.rows_read == led.rows_kept + led.rows_dropped
    assert ds.transactions["order_date"].max() <= end
    # the same frame as a CSV file gives the same ledger
    csv = tmp_path / "unsauber.csv"
    df.assign(order_date=df["order_date"].dt.strftime("%Y-%m-%d")).to_csv(csv, index=False)
    ref = load_dataset(csv, _cfg(observation_end=end.date().isoformat(), min_customers=10), KEY, today=TODAY)
    assert _ledger_without_rows(led) == _ledger_without_rows(ref.ledger)
    pd.testing.assert_frame_equal(ds.customers, ref.customers, check_exact=False, rtol=1e-9)


def test_text_dates_and_amounts_use_the_robust_parsers(sample_raw, tmp_path):
    df = sample_raw.head(2000).copy()
    df["order_date"] = df["order_date"].dt.strftime("%d.%m.%Y")
    df["net_revenue_eur"] = df["net_revenue_eur"].map(lambda v: f"{v:.2f}".replace(".", ","))
    folder = write_folder(df, tmp_path / "text", parts=2)
    ds = load_dataset(folder, _cfg(min_customers=10), KEY, today=TODAY)
    csv = tmp_path / "text.csv"
    df.to_csv(csv, index=False, sep=";")
    ref = load_dataset(csv, _cfg(min_customers=10), KEY, today=TODAY)
    pd.testing.assert_frame_equal(ds.customers, ref.customers, check_exact=False, rtol=1e-9)


def test_wrong_type_column_is_a_german_error_with_examples(sample_raw, tmp_path):
    df = sample_raw.head(500).copy()
    df["order_date"] = True
    folder = write_folder(df, tmp_path / "typ", parts=2)
    with pytest.raises(DataValidationError) as err:
        load_dataset(folder, _cfg(min_customers=10), KEY, today=TODAY)
    msg = str(err.value)
    assert msg.startswith("Datei „typ“: ") and "„order_date“" in msg and "Zeile 1" in msg, msg
    assert "Parquet-Dateien des Ordners" in msg


def test_cli_exits_2_for_a_bad_folder(sample_raw, tmp_path, capsys):
    df = sample_raw.head(500).copy()
    df["customer_id"] = 1.5  # not a customer number
    folder = write_folder(df, tmp_path / "kaputt", parts=2)
    code = cli.main(["report", "--data", str(folder), "--client", "K", "--out", str(tmp_path / "out"),
                     "--engine", "typst"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "„customer_id“" in err and "erwartet Kundennummern" in err and "Traceback" not in err


def test_empty_folder_and_folder_without_parquet(tmp_path, capsys):
    empty = tmp_path / "leer"
    empty.mkdir()
    with pytest.raises(DataValidationError, match="keine Parquet-Datei .* Er ist leer"):
        load_dataset(empty, _cfg(), KEY)
    other = tmp_path / "andere"
    other.mkdir()
    (other / "export.csv").write_text("a;b\n1;2\n", "utf-8")
    with pytest.raises(DataValidationError, match="„export.csv“"):
        load_dataset(other, _cfg(), KEY)
    code = cli.main(["report", "--data", str(empty), "--client", "K", "--out", str(tmp_path / "out"),
                     "--engine", "typst"])
    assert code == 2
    assert "keine Parquet-Datei" in capsys.readouterr().err


def test_broken_parquet_file_in_folder(sample_raw, tmp_path):
    folder = write_folder(sample_raw.head(100), tmp_path / "teilweise", parts=1)
    (folder / "teil-99.parquet").write_bytes(b"PAR1" + b"\0" * 64)
    with pytest.raises(DataValidationError, match="„teil-99.parquet“: Die Parquet-Datei ist beschädigt"):
        load_dataset(folder, _cfg(), KEY)
