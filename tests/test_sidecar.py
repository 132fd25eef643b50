"""Chapters computed in a side process (large files) equal the ones computed in the main process."""

from __future__ import annotations

import dataclasses
import json
import logging
import pickle

import pandas as pd
import pytest

from helpers import session
from helpers.chapters import compute_all
from helpers.config import SAMPLE_DATA, ReportConfig
from helpers.data import load_dataset
from helpers.report import sidecar

SETTINGS = {"gross_margin": 0.35, "economics": {"cohort_period": "Q"},
            "rfm": {"segment_actions": {"lost": "Nicht mehr anschreiben."}}}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    cfg = ReportConfig.from_settings("Seitenprozess GmbH", SETTINGS)
    ds = load_dataset(SAMPLE_DATA, cfg, key=b"k" * 32)
    work = tmp_path_factory.mktemp("work")
    session.write_prepared(ds, work)
    return cfg, ds, work


def _run_with_side(cfg, ds, work, slugs=sidecar.SLUGS):
    done: list[str] = []
    side = sidecar.start(work, cfg.as_settings(), cfg.client_name, slugs=slugs, on_done=done.append)
    stored: list[str] = []
    try:
        results = compute_all(ds, cfg, on_result=lambda slug, _res: stored.append(slug),
                              elsewhere={s: (lambda s=s: side.result(s)) for s in side.slugs})
    finally:
        side.stop()
    return results, done, stored


def test_side_results_equal_the_main_process(prepared):
    cfg, ds, work = prepared
    assert cfg.economics.cohort_period == "Q" and cfg.rfm.segment_actions  # the settings took effect
    results, done, stored = _run_with_side(cfg, ds, work)
    assert done == list(sidecar.SLUGS)  # stored by the side process, in order
    assert not set(stored) & set(sidecar.SLUGS)  # and not computed again here
    assert set(stored) == {"clv", "churn", "actions", "summary", "appendix"}
    here = compute_all(ds, cfg)
    for slug in sidecar.SLUGS:
        assert dataclasses.asdict(results[slug].key) == dataclasses.asdict(here[slug].key), slug
        with (work / "results" / f"{slug}.pkl").open("rb") as fh:  # what the notebooks read
            assert dataclasses.asdict(pickle.load(fh).key) == dataclasses.asdict(here[slug].key)
    pd.testing.assert_frame_equal(results["rfm"].customers, here["rfm"].customers)
    pd.testing.assert_frame_equal(results["economics"].cohorts.retention, here["economics"].cohorts.retention)
    # chapters that depend on a side result are the same too
    assert dataclasses.asdict(results["actions"].key) == dataclasses.asdict(here["actions"].key)
    a, b = results["summary"], here["summary"]
    assert (a.figures, a.keys, a.skipped, a.actions, a.audience) == (b.figures, b.keys, b.skipped, b.actions, b.audience)
    pd.testing.assert_frame_equal(a.segments, b.segments)


def test_failed_side_process_is_computed_here(prepared, tmp_path, caplog):
    cfg, ds, _ = prepared
    work = tmp_path / "work"
    session.write_prepared(ds, work)
    (work / "purchases.parquet").write_bytes(b"kein Parquet")  # the side process cannot read the data
    with caplog.at_level(logging.WARNING, logger="helpers.report.sidecar"):
        results, done, stored = _run_with_side(cfg, ds, work)
    assert done == []
    assert set(sidecar.SLUGS) <= set(stored)  # every missing chapter was computed in this process
    here = compute_all(ds, cfg)
    assert dataclasses.asdict(results["rfm"].key) == dataclasses.asdict(here["rfm"].key)
    assert "Nebenprozess ohne Ergebnis für Kapitel „data“" in caplog.text  # German: consultants see it


def test_side_process_only_for_large_files_with_a_spare_core():
    assert not sidecar.wanted(31_000, kernels=2)
    assert sidecar.wanted(sidecar.MIN_LINES, kernels=2)
    assert not sidecar.wanted(10 * sidecar.MIN_LINES, kernels=1)  # a batch worker sharing the cores


def test_side_process_reads_the_config_it_was_given(prepared, tmp_path):
    cfg, ds, _ = prepared
    work = tmp_path / "work"
    session.write_prepared(ds, work)
    side = sidecar.start(work, cfg.as_settings(), cfg.client_name, slugs=("rfm",))
    try:
        res = side.result("rfm")
    finally:
        side.stop()
    config = json.loads((work / sidecar.CONFIG_FILE).read_text("utf-8"))
    assert config["client_name"] == "Seitenprozess GmbH" and config["slugs"] == ["rfm"]
    assert res.key == compute_all(ds, cfg, ["rfm"])["rfm"].key


@pytest.mark.slow
def test_report_with_side_process(tmp_path, monkeypatch):
    """The whole report with data, economics and RFM from the side process: their notebooks run on
    the side results and the PDF is built."""
    from helpers.report.pipeline import build_report

    monkeypatch.setattr(sidecar, "MIN_LINES", 0)
    audience_stored = []
    start = sidecar.start

    def checked_start(work_dir, *args, **kwargs):
        audience_stored.append((work_dir / "audience.json").is_file())
        return start(work_dir, *args, **kwargs)

    monkeypatch.setattr(sidecar, "start", checked_start)
    data = SAMPLE_DATA.parent / "grosshandel_export.csv"
    cfg = ReportConfig.from_settings("Seitenprozess KG", {})
    pdf = build_report(data, cfg, out_dir=tmp_path, engine="typst", kernels=2)
    work = pdf.parent / "work"
    assert pdf.is_file() and (work / sidecar.CONFIG_FILE).is_file()
    assert sorted(p.stem for p in (work / "results").glob("*.pkl")) == sorted(
        ["summary", "data", "economics", "rfm", "clv", "churn", "actions", "appendix"])
    assert not list((work / "results").glob("*.tmp"))
    # the audience was stored before the side process started: no chapter kernel decides it from the lines
    assert audience_stored == [True]
    from helpers.privacy import KEY_FILE, load_or_create_key

    ds = load_dataset(data, cfg, key=load_or_create_key(pdf.parent / KEY_FILE))
    with (work / "results" / "rfm.pkl").open("rb") as fh:
        assert pickle.load(fh).key == compute_all(ds, cfg, ["rfm"])["rfm"].key
