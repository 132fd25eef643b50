"""The session: prepared data round trip, results computed once, the same in report and course mode."""

from dataclasses import dataclass

import pandas as pd
import pytest

from helpers import chapters, session
from helpers.config import ReportConfig
from helpers.dataset import Dataset, from_transactions
from helpers.results import ChapterResult


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


def test_report_session_reads_lines_only_on_demand_and_the_stored_audience(tmp_path):
    """A chapter notebook in the report reads the stored audience and results; the lines (the
    largest table, 10 M rows for a big client) are never loaded unless a cell asks for them."""
    from helpers.analysis.actions import decide_audience

    ds = _fixture()
    cfg = ReportConfig.from_settings("Test", {})
    session.write_prepared(ds, tmp_path)
    session.write_audience("b2b", tmp_path)  # deliberately not what the data says
    assert decide_audience(ds, cfg).audience == "b2c"
    ctx = session.open("unbenutzt.csv", "Test", {}, work_dir=tmp_path)
    assert ctx.audience == "b2b"
    assert ctx.ds.currency == ds.currency and ctx.ds.has_revenue
    assert ctx.ds.__dict__.get("_transactions") is None  # not read for any of this
    pd.testing.assert_frame_equal(ctx.ds.transactions, ds.transactions)  # read on first use


# --------------------------------------------------------------- results: computed once, same in both modes

CALLS: list[str] = []


@dataclass(frozen=True, kw_only=True)
class _Res(ChapterResult):
    total: float
    upstream: tuple[str, ...]


def _compute_a(ds, cfg, upstream):
    CALLS.append("a")
    return _Res(total=float(ds.transactions["revenue"].sum()), upstream=tuple(upstream))


def _compute_b(ds, cfg, upstream):
    CALLS.append("b")
    return _Res(total=upstream["a"].total * cfg.gross_margin, upstream=tuple(upstream))


@pytest.fixture
def toy_chapters(monkeypatch):
    CALLS.clear()
    fake = (chapters.Chapter("b", "b.ipynb", f"{__name__}:_compute_b", ("a",)),
            chapters.Chapter("a", "a.ipynb", f"{__name__}:_compute_a"))
    monkeypatch.setattr(chapters, "CHAPTERS", fake)
    return fake


def test_session_computes_dependencies_once(toy_chapters):
    cfg = ReportConfig.from_settings("Test", {"gross_margin": 0.5})
    ctx = session.Session(cfg, _fixture())
    b = ctx.result("b")
    assert b.total == pytest.approx((10 + 5 + 20 + 30 + 40 - 40) * 0.5) and b.upstream == ("a",)
    assert ctx.result("a").total == pytest.approx(65.0)
    ctx.result("b")
    assert CALLS == ["a", "b"]                       # each chapter computed exactly once


def test_report_mode_reads_the_stored_results(toy_chapters, tmp_path):
    cfg = ReportConfig.from_settings("Test", {"gross_margin": 0.5})
    ds = _fixture()
    results = chapters.compute_all(ds, cfg)
    assert list(results) == ["a", "b"] and CALLS == ["a", "b"]   # dependencies first
    session.write_prepared(ds, tmp_path)
    session.write_results(results, tmp_path)
    CALLS.clear()
    ctx = session.open("unused.csv", "Test", {"gross_margin": 0.5}, work_dir=tmp_path)
    assert ctx.result("b") == results["b"] and CALLS == []       # loaded, not recomputed
    interactive = session.Session(cfg, ds)
    assert interactive.result("b") == ctx.result("b")


def test_chapter_registry_is_consistent():
    slugs = [ch.slug for ch in chapters.CHAPTERS]
    assert len(set(slugs)) == len(slugs) and chapters.REPORT_ORDER == tuple(slugs)
    order = chapters.dependency_order()
    for ch in chapters.CHAPTERS:
        assert ch.path.exists(), ch.notebook
        assert callable(ch.compute_function())
        assert all(order.index(d) < order.index(ch.slug) for d in ch.depends)


# --------------------------------------------------------------- lab cache (JupyterLab mode only)

LOADS: list[str] = []


@pytest.fixture
def lab_cache(toy_chapters, tmp_path, monkeypatch):
    """Toy chapters, a cache folder in tmp_path and a loader that counts its calls."""
    from helpers import data

    LOADS.clear()
    monkeypatch.setenv(session.CACHE_ENV, str(tmp_path / "cache"))

    def fake_load(path, cfg, key=None, **_):
        LOADS.append(str(path))
        return _fixture()

    monkeypatch.setattr(data, "load_dataset", fake_load)
    file = tmp_path / "daten.csv"
    file.write_text("kunde;datum;umsatz\n", "utf-8")
    return file


def test_lab_cache_loads_instead_of_computing(lab_cache, tmp_path):
    first = session.open(lab_cache, "Test", {"gross_margin": 0.5})
    b = first.result("b")
    assert CALLS == ["a", "b"] and LOADS == [str(lab_cache)]
    again = session.open(lab_cache, "Test", {"gross_margin": 0.5})  # a second notebook, a restarted kernel
    assert again.result("b") == b and again.result("a") == first.result("a")
    assert CALLS == ["a", "b"] and len(LOADS) == 1                 # nothing loaded or computed again
    pd.testing.assert_frame_equal(again.ds.customers, first.ds.customers)
    assert again.cache.folder == first.cache.folder and again.cache.folder.parent == tmp_path / "cache"


def test_lab_cache_key_covers_data_and_settings(lab_cache):
    base = session.open(lab_cache, "Test", {"gross_margin": 0.5}).cache.folder
    assert session.open(lab_cache, "Test", {"gross_margin": 0.4}).cache.folder != base
    lab_cache.write_text("kunde;datum;umsatz\nA;2026-01-01;1\n", "utf-8")
    assert session.open(lab_cache, "Test", {"gross_margin": 0.5}).cache.folder != base
    assert len(LOADS) == 3


def test_lab_cache_ignores_corrupt_and_foreign_entries(lab_cache):
    session.open(lab_cache, "Test", {"gross_margin": 0.5}).result("b")
    folder = session.open(lab_cache, "Test", {"gross_margin": 0.5}).cache.folder
    (folder / "b.pkl").write_bytes(b"not a pickle")
    CALLS.clear()
    assert session.open(lab_cache, "Test", {"gross_margin": 0.5}).result("b").total == pytest.approx(32.5)
    assert CALLS == ["b"]                                           # a from the cache, b recomputed
    (folder / "dataset.pkl").write_bytes(b"\x80\x05truncated")
    CALLS.clear()
    ctx = session.open(lab_cache, "Test", {"gross_margin": 0.5})
    ctx.result("b")
    assert CALLS == ["a", "b"]  # a new dataset (new pseudonyms): results of the old one are not used
    assert ctx.cache.load_result("a") == ctx.result("a")


def test_lab_cache_off_and_unused_in_report_mode(lab_cache, tmp_path, monkeypatch):
    cfg = ReportConfig.from_settings("Test", {"gross_margin": 0.5})
    work = tmp_path / "work"
    session.write_prepared(_fixture(), work)
    session.write_results(chapters.compute_all(_fixture(), cfg), work)
    report = session.open(lab_cache, "Test", {"gross_margin": 0.5}, work_dir=work)
    report.result("b")
    assert report.cache is None and not (tmp_path / "cache").exists() and LOADS == []
    monkeypatch.setenv(session.CACHE_ENV, "0")
    assert session.open(lab_cache, "Test", {"gross_margin": 0.5}).cache is None


def test_warm_fills_the_cache_for_the_default_parameters(lab_cache, tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb_dir = tmp_path / "nb"
    nb_dir.mkdir()
    params = new_code_cell(f'data_path = "../{lab_cache.name}"\nclient_name = "Test"\n'
                           'settings = {"gross_margin": 0.5}\nwork_dir = None', metadata={"tags": ["parameters"]})
    for ch in chapters.CHAPTERS:
        nbformat.write(new_notebook(cells=[params]), str(nb_dir / ch.notebook))
    assert session.warm(nb_dir, progress=lambda _: None) == 1
    assert CALLS == ["a", "b"]
    CALLS.clear()
    ctx = session.open(lab_cache, "Test", {"gross_margin": 0.5})
    ctx.result("b")
    assert CALLS == [] and len(LOADS) == 1
