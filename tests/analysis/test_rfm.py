"""RFM values, tie-robust scores, segments (ids), ``compute`` and the German narrative."""

import itertools

import numpy as np
import pandas as pd
import pytest

from helpers import labels
from helpers.analysis import rfm
from helpers.config import ReportConfig
from helpers.dataset import from_transactions
from helpers.exceptions import ConfigError
from helpers.narrative import rfm as nr


def _plain(text: str) -> str:
    return text.replace("\xa0", " ")


def test_tie_score_frequency_by_hand():
    freq = pd.Series([1, 1, 1, 1, 1, 2, 2, 3, 4, 5], index=list("abcdefghij"))
    scores = rfm.tie_score(freq)
    # 1 + floor(5 * strictly worse / 10): 0 -> 1, 5 -> 3, 7 -> 4, 8 -> 5, 9 -> 5
    assert scores.tolist() == [1, 1, 1, 1, 1, 3, 3, 4, 5, 5]


def test_tie_score_recency_lower_is_better():
    rec = pd.Series([0, 10, 10, 20, 30])
    assert rfm.tie_score(rec, higher_is_better=False).tolist() == [5, 3, 3, 2, 1]


def test_half_one_time_buyers_do_not_shift_scores():
    rng = np.random.default_rng(1)
    freq = pd.Series(np.r_[np.ones(500, int), rng.integers(2, 12, 500)])
    scores = rfm.tie_score(freq)
    assert (scores[freq == 1] == 1).all()  # all one-time buyers share the lowest score
    assert (scores[freq > 1] >= 3).all()  # the tie group is never split into 1 and 2
    # equal values always get equal scores, and scores rise with the value
    by_value = pd.DataFrame({"f": freq, "s": scores}).groupby("f")["s"]
    assert (by_value.nunique() == 1).all()
    assert by_value.first().is_monotonic_increasing
    # order of the input does not matter
    shuffled = freq.sample(frac=1, random_state=3)
    assert rfm.tie_score(shuffled).sort_index().equals(scores.sort_index())


def test_distinct_values_give_equal_quintiles():
    scores = rfm.tie_score(pd.Series(np.arange(100, dtype=float)))
    assert scores.value_counts().sort_index().tolist() == [20, 20, 20, 20, 20]


def test_default_rules_cover_every_score_combination_exactly_once():
    combos = pd.DataFrame(list(itertools.product(range(1, 6), repeat=3)), columns=["r_score", "f_score", "m_score"])
    seg = rfm.assign_segments(combos)
    assert len(seg) == 125 and seg.notna().all()
    assert rfm.FALLBACK_SEGMENT not in set(seg)
    assert set(seg) == {rule[0] for rule in rfm.DEFAULT_RULES}
    # first match wins: count rules matching each (r, f) – exactly one in the default table
    for r, f in itertools.product(range(1, 6), repeat=2):
        hits = [n for n, r0, r1, f0, f1 in rfm.DEFAULT_RULES if r0 <= r <= r1 and f0 <= f <= f1]
        assert len(hits) == 1, (r, f, hits)
    # every default segment (and the fallback) has a German name and an action in the catalogue
    for seg_id in [*seg.unique(), rfm.FALLBACK_SEGMENT]:
        assert seg_id in labels.SEGMENTS and labels.segment_action(seg_id)
    assert set(labels.AT_RISK_SEGMENTS) <= set(seg)


def test_custom_rules_first_match_and_fallback():
    combos = pd.DataFrame({"r_score": [5, 1, 3], "f_score": [5, 1, 3], "m_score": [5, 1, pd.NA]})
    overlapping = [("all", 1, 5, 1, 5), ("never", 5, 5, 5, 5)]
    assert rfm.assign_segments(combos, overlapping).tolist() == ["all", "all", "all"]
    partial = [("top", 4, 5, 4, 5, 4, 5)]
    assert rfm.assign_segments(combos, partial).tolist() == ["top", rfm.FALLBACK_SEGMENT, rfm.FALLBACK_SEGMENT]
    with pytest.raises(ConfigError, match="Segmentregel"):
        rfm.normalize_rules([("broken", 1, 2)])


ROWS = [  # observation end 2025-12-31
    ("A", "2025-12-31", 100.0), ("A", "2025-12-01", 50.0), ("A", "2025-11-01", 50.0),
    ("B", "2025-12-20", 30.0),
    ("C", "2025-06-01", 80.0), ("C", "2025-06-01", 20.0), ("C", "2025-07-01", 40.0),
    ("D", "2025-01-01", 10.0),
    ("E", "2025-03-01", 60.0), ("E", "2025-04-01", -20.0),
]


def _ds(with_revenue=True):
    df = pd.DataFrame(ROWS, columns=["customer_id", "order_date", "revenue"])
    if not with_revenue:
        df = df.drop(columns="revenue")
    return from_transactions(df, "2025-12-31")


def _compute(ds, **settings):
    return rfm.compute(ds, ReportConfig.from_settings(settings=settings), {})


def test_compute_values_and_scores_by_hand():
    out = _compute(_ds())
    res = out.customers
    assert list(res.columns) == ["recency_days", "frequency", "monetary", "r_score", "f_score", "m_score",
                                 "segment"]
    assert res.loc["A", ["recency_days", "frequency", "monetary"]].tolist() == [0, 3, 200.0]
    assert res.loc["C", ["recency_days", "frequency", "monetary"]].tolist() == [183, 2, 140.0]
    assert res.loc["E", "monetary"] == 40.0  # return netted
    assert res.loc["E", "frequency"] == 1  # return day is no purchase
    # recency A 0, B 11, C 183, E 305, D 364 -> strictly worse 4,3,2,1,0 of 5
    assert res["r_score"].to_dict() == {"A": 5, "B": 4, "C": 3, "D": 1, "E": 2}
    # frequency A 3, C 2, B/D/E 1 -> worse 4, 3, 0
    assert res["f_score"].to_dict() == {"A": 5, "B": 1, "C": 4, "D": 1, "E": 1}
    assert res["m_score"].to_dict() == {"A": 5, "B": 2, "C": 4, "D": 1, "E": 3}
    assert res["segment"].to_dict() == {"A": "champions", "B": "promising", "C": "loyal",
                                        "D": "lost", "E": "lost"}
    assert out.actions["champions"] == labels.segment_action("champions")
    assert out.order == tuple(r[0] for r in rfm.DEFAULT_RULES) + (rfm.FALLBACK_SEGMENT,)
    assert out.rules == rfm.DEFAULT_RULES and out.has_revenue and out.ok


def test_segment_summary_by_hand():
    out = _compute(_ds())
    s = out.segments
    assert list(s.index) == ["champions", "loyal", "promising", "lost"]
    lost = s.loc["lost"]
    assert lost["customers"] == 2 and lost["customer_share"] == pytest.approx(0.4)
    assert lost["revenue"] == pytest.approx(50) and lost["revenue_share"] == pytest.approx(50 / 420)
    assert lost["aov"] == pytest.approx(25) and lost["median_recency"] == pytest.approx((364 + 305) / 2)
    assert s["customer_share"].sum() == pytest.approx(1) and s["revenue_share"].sum() == pytest.approx(1)
    grid = out.rf_counts
    assert grid.to_numpy().sum() == 5 and grid.loc[5, 5] == 1
    assert out.rf_monetary.loc[5, 5] == pytest.approx(200.0)
    key = out.key
    assert key.customers == 5 and key.segments == 4 and key.largest_segment == "lost"
    assert key.champions_customer_share == pytest.approx(0.2)
    assert key.champions_revenue_share == pytest.approx(200 / 420)
    assert key.at_risk_customers == 0 and key.at_risk_revenue_share is None and not key.rf_only
    assert dict(key.segment_customers) == {"champions": 1, "loyal": 1, "promising": 1, "lost": 2}
    assert out.category_mix is None and out.channel_mix is None  # no such columns


def test_actions_overridable():
    out = _compute(_ds(), **{"rfm.segment_actions": {"lost": "Nicht mehr anschreiben."}})
    assert out.actions["lost"] == "Nicht mehr anschreiben."
    assert out.actions["champions"] == labels.segment_action("champions")


def test_without_revenue_rf_only():
    out = _compute(_ds(with_revenue=False))
    res = out.customers
    assert res["m_score"].isna().all() and res["monetary"].isna().all()
    assert res["segment"].notna().all()
    s = out.segments
    assert s["revenue_share"].isna().all()
    assert out.key.rf_only and out.rf_monetary is None and out.key.champions_revenue_share is None
    text = nr.summary(s, out.key)
    assert "keinen Umsatz" in text and "Umsatzanteil hat" not in text


def test_compute_on_sample_data_matches_pandas_by_hand():
    from helpers.config import SAMPLE_DATA
    from helpers.data import load_dataset

    cfg = ReportConfig()
    ds = load_dataset(SAMPLE_DATA, cfg)
    out = rfm.compute(ds, cfg, {})
    # by hand from the cleaned lines: purchase days are customer-days with positive net revenue
    tx = ds.transactions
    days = tx.groupby(["customer_id", "order_date"], observed=True)["revenue"].sum()
    days = days[days > 0].reset_index()
    g = days.groupby("customer_id")["order_date"]
    freq, last = g.size(), g.max()
    recency = (ds.observation_end - last).dt.days
    n = len(freq)

    def score(key):  # 1 + floor(5 * strictly worse / n), at most 5
        return np.minimum(np.floor(5 * (key.rank(method="min") - 1) / n) + 1, 5).astype(int)

    r, f = score(-recency), score(freq)
    champions = (r == 5) & (f >= 4)
    at_risk = (r <= 2) & (f >= 3)  # "cannot_lose" (F 5) and "at_risk" (F 3-4)
    revenue = tx.groupby("customer_id", observed=True)["revenue"].sum().reindex(freq.index)
    assert out.customers.index.equals(ds.customers.index) and len(out.customers) == n
    assert (out.customers["r_score"] == r.reindex(out.customers.index)).all()
    assert out.key.customers == n
    assert out.key.segment_customers["champions"] == int(champions.sum())
    assert out.key.champions_customer_share == pytest.approx(champions.mean())
    assert out.key.champions_revenue_share == pytest.approx(revenue[champions].sum() / revenue.sum())
    assert out.key.at_risk_customers == int(at_risk.sum())
    assert out.key.at_risk_revenue_share == pytest.approx(revenue[at_risk].sum() / revenue.sum())
    assert sum(out.key.segment_customers.values()) == n
    assert out.key.largest_segment == out.segments["customers"].idxmax()
    assert out.category_mix is not None and out.channel_mix is not None
    import pickle

    assert pickle.loads(pickle.dumps(out)).key == out.key  # stored by the report


def test_assignment_uses_ids_not_labels(monkeypatch):
    before = _compute(_ds())
    renamed = {**labels.SEGMENTS, "champions": ("Spitzenkunden", labels.segment_action("champions")),
               "lost": ("Abgewandert", labels.segment_action("lost"))}
    monkeypatch.setattr(labels, "SEGMENTS", renamed)
    after = _compute(_ds())
    pd.testing.assert_series_equal(before.customers["segment"], after.customers["segment"])
    pd.testing.assert_frame_equal(before.segments, after.segments)
    assert after.key == before.key
    # only the displayed text changes
    table = nr.segment_table(after.segments, True)
    assert table["Segment"].tolist() == ["Spitzenkunden", "Treue Kunden", "Vielversprechend", "Abgewandert"]
    assert "„Abgewandert“" in nr.summary(after.segments, after.key)


def test_client_segment_ids_are_shown_as_given():
    rules = [["vip", 4, 5, 3, 5], ["rest", 1, 5, 1, 5]]
    out = _compute(_ds(), **{"rfm.segment_rules": rules, "rfm.segment_actions": {"vip": "Anrufen."},
                             "actions.segment_uplift": {"vip": 0.2}})
    assert out.order == ("vip", "rest", rfm.FALLBACK_SEGMENT)
    assert out.customers["segment"].to_dict() == {"A": "vip", "B": "rest", "C": "rest", "D": "rest", "E": "rest"}
    assert out.actions == {"vip": "Anrufen.", "rest": "", rfm.FALLBACK_SEGMENT: labels.segment_action("unassigned")}
    table = nr.rules_table(out.rules, out.actions)
    assert table["Segment"].tolist() == ["vip", "rest"]
    assert table["Empfohlene Maßnahme"].tolist() == ["Anrufen.", "–"]
    assert nr.segment_table(out.segments, True)["Segment"].tolist() == ["vip", "rest"]


@pytest.mark.parametrize("key", ["actions.segment_uplift", "rfm.segment_actions"])
def test_unknown_segment_id_in_settings_is_a_german_config_error(key):
    value = 0.2 if key == "actions.segment_uplift" else "Anrufen."
    with pytest.raises(ConfigError, match=f"Unbekannte Segment-ID in {key}: 'Champions'"):
        ReportConfig.from_settings(settings={key: {"Champions": value}})
    # an id of the configured rules is known
    cfg = ReportConfig.from_settings(settings={key: {"vip": value}, "rfm.segment_rules": [["vip", 1, 5, 1, 5]]})
    assert "vip" in getattr(cfg.actions if key.startswith("actions") else cfg.rfm, key.partition(".")[2])


def test_segment_mix_rows_sum_to_one():
    df = pd.DataFrame(ROWS, columns=["customer_id", "order_date", "revenue"])
    df["category"] = ["X", "Y", "X", "X", "Y", "Y", "Y", "X", "X", "X"]
    ds = from_transactions(df, "2025-12-31")
    out = rfm.compute(ds, ReportConfig(), {})
    mix = out.category_mix
    pd.testing.assert_frame_equal(mix, rfm.segment_mix(ds.transactions, out.customers, "category"))
    assert mix.sum(axis=1).to_numpy() == pytest.approx(np.ones(len(mix)))
    # champions = A: X 150, Y 50
    assert mix.loc["champions", "X"] == pytest.approx(0.75)
    # loyal = C: X 0, Y 140
    assert mix.loc["loyal", "Y"] == pytest.approx(1.0)
    text = _plain(nr.mix_sentence(mix, "die Warengruppe", "champions", "loyal"))
    assert "„X“ vorn (75 %" in text and "„Y“ (100 %)" in text
    assert "Bei „Champions“" in text and "bei „Treue Kunden“" in text
    missing = nr.mix_sentence(mix, "die Warengruppe", "champions", "at_risk")
    assert "nicht möglich" in missing and "„Gefährdet“" in missing


def test_narrative_summary_adapts():
    out = _compute(_ds())
    text = _plain(nr.summary(out.segments, out.key, min_group=1))
    assert "größte Segment ist „Verloren“ mit 2 Kundinnen und Kunden (40 %)" in text
    assert "„Champions“: 20 % der Kundinnen und Kunden erzielen 48 % des Umsatzes" in text
    assert "Gefährdet" not in text  # no customer in the at-risk segments
    # five customers: below the minimum group size no share is stated at all
    assert "%" not in nr.summary(out.segments, out.key) and "2 Kundinnen und Kunden" in nr.summary(out.segments, out.key)
    note = _plain(nr.score_note(out.customers))
    assert "60 % der Kundinnen und Kunden" in note and "Stufen 2, 3 leer" in note


def test_score_note_when_all_levels_filled():
    values = pd.DataFrame({"frequency": np.arange(1, 11)})
    values["f_score"] = rfm.tie_score(values["frequency"]).astype(int)
    assert "Alle fünf Stufen" in nr.score_note(values)


def test_mix_sentence_same_leader_and_biggest_gap():
    mix = pd.DataFrame({"X": [0.6, 0.4], "Y": [0.3, 0.35], "Z": [0.1, 0.25]}, index=["champions", "at_risk"])
    text = _plain(nr.mix_sentence(mix, "die Warengruppe"))
    assert "In beiden Segmenten" in text and "„X“ vorn (60 % bzw. 40 %" in text
    assert "Bei allen anderen Werten ist der Unterschied" in text  # X is also the biggest gap
    mix2 = pd.DataFrame({"X": [0.5, 0.45], "Y": [0.1, 0.4], "Z": [0.4, 0.15]}, index=["champions", "at_risk"])
    text2 = _plain(nr.mix_sentence(mix2, "die Warengruppe"))
    assert "größten Unterschied gibt es bei „Y“: 10 % bei „Champions“ gegenüber 40 %" in text2


def test_summary_mentions_at_risk_segments_only_when_present():
    seg = pd.DataFrame({
        "customers": [10, 30, 60], "customer_share": [0.1, 0.3, 0.6], "revenue_share": [0.5, 0.3, 0.2],
    }, index=["champions", "at_risk", "lost"])
    text = _plain(nr.summary(seg, rfm.key_figures(seg, has_revenue=True), min_group=10))
    assert "größte Segment ist „Verloren“ mit 60 Kundinnen und Kunden (60 %)" in text
    assert "„Champions“: 10 % der Kundinnen und Kunden erzielen 50 % des Umsatzes" in text
    assert "Im Segment „Gefährdet“ stehen 30 Kundinnen und Kunden, auf die bisher 30 % des Umsatzes" in text
    # with the default minimum group size (20) the 10 champions get no share sentence
    default = _plain(nr.summary(seg, rfm.key_figures(seg, has_revenue=True)))
    assert "„Champions“" not in default and "„Gefährdet“: 30 %" in default


@pytest.mark.slow
def test_rfm_notebook_shows_the_computed_result(tmp_path):
    """The notebook runs with its default parameters and prints the figures of ``compute``."""
    import papermill as pm

    from helpers import session
    from helpers.config import NOTEBOOK_DIR, SAMPLE_DATA

    pm.execute_notebook(str(NOTEBOOK_DIR / "03-rfm-segmentierung.ipynb"), str(tmp_path / "out.ipynb"),
                        cwd=str(NOTEBOOK_DIR), progress_bar=False)
    ctx = session.open(SAMPLE_DATA, None, {})
    res = ctx.result("rfm")
    import nbformat

    nb = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    texts = [o.get("data", {}).get("text/markdown", "") for c in nb.cells if c.cell_type == "code"
             for o in c.get("outputs", [])]
    assert any(nr.summary(res.segments, res.key).strip() in t for t in texts)
    for c in nb.cells:
        assert not any(o.get("output_type") == "error" for o in c.get("outputs", []))


def test_display_tables():
    rules = nr.rules_table(rfm.DEFAULT_RULES[:2] + (("big", 1, 5, 1, 5, 4, 5),),
                           rfm.effective_actions(rfm.segment_order()))
    assert [_plain(r) for r in rules["Regel"]] == ["R 5, F 4–5", "R 3–4, F 4–5", "R 1–5, F 1–5, M 4–5"]
    assert rules["Segment"].tolist() == ["Champions", "Treue Kunden", "big"]
    assert rules.loc[0, "Empfohlene Maßnahme"] == labels.segment_action("champions")
    assert rules.loc[2, "Empfohlene Maßnahme"] == "–"
    out = _compute(_ds())
    table = _plain(nr.score_table(out.score_ranges, True).to_string())
    assert "leer" in table  # F score 2 and 3 are empty in the fixture
    ranges = out.score_ranges
    assert ranges.loc[5, "recency_min"] == 0 and ranges.loc[1, "recency_max"] == 364


def test_charts_show_german_segment_names():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.plotting import rfm as plots

    df = pd.DataFrame(ROWS, columns=["customer_id", "order_date", "revenue"])
    df["category"] = ["X", "Y", "X", "X", "Y", "Y", "Y", "X", "X", "X"]
    out = rfm.compute(from_transactions(df, "2025-12-31"), ReportConfig(), {})
    fig = plots.segment_bars(out.segments)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [
        "Champions", "Treue Kunden", "Vielversprechend", "Verloren"]
    fig2 = plots.mix_heatmap(out.category_mix, "Warengruppe")
    assert "Treue Kunden" in [t.get_text() for t in fig2.axes[0].get_yticklabels()]
    plt.close("all")
