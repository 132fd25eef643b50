"""What the setup cell of every chapter notebook calls.

In the report, the pipeline has already loaded and validated the data once and
passes ``prepared_dir``; chapters then read the prepared Parquet files instead of
loading the client file again, and store results that later chapters reuse.
Interactively (``prepared_dir=None``) the notebook loads the file itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from .config import ReportConfig
from .dataset import Dataset

RESULTS_SUBDIR = "results"


def setup(
    data_path: str | Path,
    client_name: str | None = None,
    settings: Mapping[str, Any] | None = None,
    *,
    observation_end: str | None = None,
    column_map: Mapping[str, str] | None = None,
    currency: str | None = None,
    prepared_dir: str | Path | None = None,
) -> tuple[ReportConfig, Dataset]:
    """Build the config from the notebook parameters, apply the chart style, return ``(cfg, ds)``."""
    from .plotting import use_style

    merged = dict(settings or {})
    if column_map:
        merged["data.column_map"] = {**dict(merged.get("data.column_map", {})), **dict(column_map)}
    cfg = ReportConfig.from_settings(
        client_name, merged, observation_end=observation_end, currency=currency
    )
    use_style()
    if prepared_dir is not None:
        ds = read_prepared(Path(prepared_dir))
    else:
        from .data import load_dataset

        ds = load_dataset(Path(data_path), cfg)
    return cfg, ds


def write_prepared(ds: Dataset, prepared_dir: Path) -> None:
    """Store the cleaned dataset for the chapter notebooks (Parquet + JSON)."""
    prepared_dir.mkdir(parents=True, exist_ok=True)
    ds.transactions.to_parquet(prepared_dir / "transactions.parquet", index=False)
    # Derived tables are computed once here, not again in every chapter.
    ds.purchases.to_parquet(prepared_dir / "purchases.parquet", index=False)
    ds.customers.to_parquet(prepared_dir / "customers.parquet")
    meta = {
        "observation_end": ds.observation_end.date().isoformat(),
        "source_name": ds.source_name,
        "notes": list(ds.notes),
    }
    (prepared_dir / "dataset.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), "utf-8")
    if ds.ledger is not None:
        (prepared_dir / "ledger.json").write_text(
            json.dumps(ds.ledger.to_dict(), ensure_ascii=False, indent=2, default=str), "utf-8"
        )


def read_prepared(prepared_dir: Path) -> Dataset:
    """Inverse of :func:`write_prepared`."""
    meta = json.loads((prepared_dir / "dataset.json").read_text("utf-8"))
    tx = pd.read_parquet(prepared_dir / "transactions.parquet")
    ledger = None
    ledger_file = prepared_dir / "ledger.json"
    if ledger_file.exists():
        from .validation import Ledger

        ledger = Ledger.from_dict(json.loads(ledger_file.read_text("utf-8")))
    ds = Dataset(
        transactions=tx,
        observation_end=pd.Timestamp(meta["observation_end"]),
        ledger=ledger,
        source_name=meta.get("source_name", ""),
        notes=list(meta.get("notes", [])),
    )
    for name in ("purchases", "customers"):  # fill the cached properties
        path = prepared_dir / f"{name}.parquet"
        if path.exists():
            ds.__dict__[name] = pd.read_parquet(path)
    return ds


def save_result(name: str, df: pd.DataFrame, prepared_dir: str | Path | None) -> None:
    """Store a chapter result (e.g. ``"rfm"``) for later chapters; no-op interactively."""
    if prepared_dir is None:
        return
    out = Path(prepared_dir) / RESULTS_SUBDIR
    out.mkdir(parents=True, exist_ok=True)
    df.to_parquet(out / f"{name}.parquet")


def load_result(name: str, prepared_dir: str | Path | None) -> pd.DataFrame | None:
    """A result stored by an earlier chapter, or ``None`` (then recompute it)."""
    if prepared_dir is None:
        return None
    path = Path(prepared_dir) / RESULTS_SUBDIR / f"{name}.parquet"
    return pd.read_parquet(path) if path.exists() else None


def record_key_figures(chapter: str, figures: Mapping[str, Any], prepared_dir: str | Path | None) -> None:
    """Store a chapter's key figures (JSON-able values) for the management summary."""
    if prepared_dir is None:
        return
    out = Path(prepared_dir) / RESULTS_SUBDIR
    out.mkdir(parents=True, exist_ok=True)
    (out / f"keyfigures-{chapter}.json").write_text(
        json.dumps(dict(figures), ensure_ascii=False, indent=2, default=str), "utf-8"
    )


def load_key_figures(prepared_dir: str | Path | None) -> dict[str, dict[str, Any]]:
    """All recorded key figures, by chapter slug."""
    if prepared_dir is None:
        return {}
    out = Path(prepared_dir) / RESULTS_SUBDIR
    return {
        p.stem.removeprefix("keyfigures-"): json.loads(p.read_text("utf-8"))
        for p in sorted(out.glob("keyfigures-*.json"))
    }
