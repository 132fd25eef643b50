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
