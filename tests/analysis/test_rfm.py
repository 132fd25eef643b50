"""RFM values, tie-robust scores, segments and the German narrative."""

import itertools

import numpy as np
import pandas as pd
import pytest

from helpers.analysis import rfm
from helpers.dataset import from_transactions
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
    assert set(rfm.DEFAULT_ACTIONS) >= set(seg)


def test_custom_rules_first_match_and_fallback():
    combos = pd.DataFrame({"r_score": [5, 1, 3], "f_score": [5, 1, 3], "m_score": [5, 1, pd.NA]})
    overlapping = [("Alle", 1, 5, 1, 5), ("Nie", 5, 5, 5, 5)]
    assert rfm.assign_segments(combos, overlapping).tolist() == ["Alle", "Alle", "Alle"]
    partial = [("Top", 4, 5, 4, 5, 4, 5)]
    assert rfm.assign_segments(combos, partial).tolist() == ["Top", rfm.FALLBACK_SEGMENT, rfm.FALLBACK_SEGMENT]
    with pytest.raises(ValueError):
        rfm.normalize_rules([("kaputt", 1, 2)])


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


def test_build_rfm_values_and_scores_by_hand():
    res = rfm.build_rfm(_ds().customers)
    assert list(res.columns) == ["recency_days", "frequency", "monetary", "r_score", "f_score", "m_score",
                                 "segment", "action"]
    assert res.loc["A", ["recency_days", "frequency", "monetary"]].tolist() == [0, 3, 200.0]
    assert res.loc["C", ["recency_days", "frequency", "monetary"]].tolist() == [183, 2, 140.0]
    assert res.loc["E", "monetary"] == 40.0  # return netted
    assert res.loc["E", "frequency"] == 1  # return day is no purchase
    # recency A 0, B 11, C 183, E 305, D 364 -> strictly worse 4,3,2,1,0 of 5
    assert res["r_score"].to_dict() == {"A": 5, "B": 4, "C": 3, "D": 1, "E": 2}
    # frequency A 3, C 2, B/D/E 1 -> worse 4, 3, 0
    assert res["f_score"].to_dict() == {"A": 5, "B": 1, "C": 4, "D": 1, "E": 1}
    assert res["m_score"].to_dict() == {"A": 5, "B": 2, "C": 4, "D": 1, "E": 3}
    assert res["segment"].to_dict() == {"A": "Champions", "B": "Vielversprechend", "C": "Treue Kunden",
                                        "D": "Verloren", "E": "Verloren"}
    assert res.loc["A", "action"] == rfm.DEFAULT_ACTIONS["Champions"]


def test_segment_summary_by_hand():
    res = rfm.build_rfm(_ds().customers)
    s = rfm.segment_summary(res)
    assert list(s.index) == ["Champions", "Treue Kunden", "Vielversprechend", "Verloren"]
    lost = s.loc["Verloren"]
    assert lost["customers"] == 2 and lost["customer_share"] == pytest.approx(0.4)
    assert lost["revenue"] == pytest.approx(50) and lost["revenue_share"] == pytest.approx(50 / 420)
    assert lost["aov"] == pytest.approx(25) and lost["median_recency"] == pytest.approx((364 + 305) / 2)
    assert s["customer_share"].sum() == pytest.approx(1) and s["revenue_share"].sum() == pytest.approx(1)
    grid = rfm.rf_grid(res)
    assert grid.to_numpy().sum() == 5 and grid.loc[5, 5] == 1


def test_actions_overridable():
    res = rfm.build_rfm(_ds().customers, actions={"Verloren": "Nicht mehr anschreiben."})
    assert res.loc["D", "action"] == "Nicht mehr anschreiben."


def test_without_revenue_rf_only():
    res = rfm.build_rfm(_ds(with_revenue=False).customers)
    assert res["m_score"].isna().all() and res["monetary"].isna().all()
    assert res["segment"].notna().all()
    s = rfm.segment_summary(res)
    assert s["revenue_share"].isna().all()
    text = nr.summary(s, has_revenue=False)
    assert "keinen Umsatz" in text and "Umsatzanteil hat" not in text


def test_segment_mix_rows_sum_to_one():
    df = pd.DataFrame(ROWS, columns=["customer_id", "order_date", "revenue"])
    df["category"] = ["X", "Y", "X", "X", "Y", "Y", "Y", "X", "X", "X"]
    ds = from_transactions(df, "2025-12-31")
    res = rfm.build_rfm(ds.customers)
    mix = rfm.segment_mix(ds.transactions, res, "category")
    assert mix.sum(axis=1).to_numpy() == pytest.approx(np.ones(len(mix)))
    # Champions = A: X 150, Y 50
    assert mix.loc["Champions", "X"] == pytest.approx(0.75)
    # Treue Kunden = C: X 0, Y 140
    assert mix.loc["Treue Kunden", "Y"] == pytest.approx(1.0)
    text = _plain(nr.mix_sentence(mix, "die Warengruppe", "Champions", "Treue Kunden"))
    assert "„X“ vorn (75 %" in text and "„Y“ (100 %)" in text
    missing = nr.mix_sentence(mix, "die Warengruppe", "Champions", "Gefährdet")
    assert "nicht möglich" in missing


def test_narrative_summary_adapts():
    res = rfm.build_rfm(_ds().customers)
    text = _plain(nr.summary(rfm.segment_summary(res), has_revenue=True))
    assert "größte Segment ist „Verloren“ mit 2 Kunden (40 %)" in text
    assert "„Champions“: 20 % der Kunden erzielen 48 % des Umsatzes" in text
    assert "Gefährdet" not in text  # no customer in the at-risk segments
    note = _plain(nr.score_note(res))
    assert "60 % der Kunden" in note and "Stufen 2, 3 leer" in note


def test_score_note_when_all_levels_filled():
    values = pd.DataFrame({"frequency": np.arange(1, 11)})
    values["f_score"] = rfm.tie_score(values["frequency"]).astype(int)
    assert "Alle fünf Stufen" in nr.score_note(values)


def test_mix_sentence_same_leader_and_biggest_gap():
    mix = pd.DataFrame({"X": [0.6, 0.4], "Y": [0.3, 0.35], "Z": [0.1, 0.25]}, index=["Champions", "Gefährdet"])
    text = _plain(nr.mix_sentence(mix, "die Warengruppe"))
    assert "In beiden Segmenten" in text and "„X“ vorn (60 % bzw. 40 %" in text
    assert "Bei allen anderen Werten ist der Unterschied" in text  # X is also the biggest gap
    mix2 = pd.DataFrame({"X": [0.5, 0.45], "Y": [0.1, 0.4], "Z": [0.4, 0.15]}, index=["Champions", "Gefährdet"])
    text2 = _plain(nr.mix_sentence(mix2, "die Warengruppe"))
    assert "größten Unterschied gibt es bei „Y“: 10 % bei „Champions“ gegenüber 40 %" in text2


def test_summary_mentions_at_risk_segments_only_when_present():
    seg = pd.DataFrame({
        "customers": [10, 30, 60], "customer_share": [0.1, 0.3, 0.6], "revenue_share": [0.5, 0.3, 0.2],
    }, index=["Champions", "Gefährdet", "Verloren"])
    text = _plain(nr.summary(seg, has_revenue=True))
    assert "größte Segment ist „Verloren“ mit 60 Kunden (60 %)" in text
    assert "„Champions“: 10 % der Kunden erzielen 50 % des Umsatzes" in text
    assert "Im Segment „Gefährdet“ stehen 30 Kunden, auf die bisher 30 % des Umsatzes" in text


@pytest.mark.slow
def test_rfm_notebook_runs_and_saves_result(tmp_path):
    import json

    import papermill as pm

    from helpers import session
    from helpers.config import NOTEBOOK_DIR, SAMPLE_DATA, ReportConfig
    from helpers.data import load_dataset

    ds = load_dataset(SAMPLE_DATA, ReportConfig())
    session.write_prepared(ds, tmp_path)
    pm.execute_notebook(str(NOTEBOOK_DIR / "03-rfm-segmentierung.ipynb"), str(tmp_path / "out.ipynb"),
                        parameters={"prepared_dir": str(tmp_path)}, cwd=str(NOTEBOOK_DIR), progress_bar=False)
    result = session.load_result("rfm", tmp_path)
    assert list(result.columns) == ["recency_days", "frequency", "monetary", "r_score", "f_score", "m_score",
                                    "segment", "action"]
    assert result.index.equals(ds.customers.index)
    assert result["segment"].notna().all() and result["r_score"].between(1, 5).all()
    figures = json.loads((tmp_path / "results" / "keyfigures-rfm.json").read_text("utf-8"))
    assert figures["customers"] == len(ds.customers)
    assert sum(figures["segment_customers"].values()) == len(ds.customers)


def test_display_tables():
    rules = nr.rules_table(rfm.DEFAULT_RULES[:2] + (("Groß", 1, 5, 1, 5, 4, 5),), rfm.DEFAULT_ACTIONS)
    assert [_plain(r) for r in rules["Regel"]] == ["R 5, F 4–5", "R 3–4, F 4–5", "R 1–5, F 1–5, M 4–5"]
    assert rules.loc[2, "Empfohlene Maßnahme"] == "–"
    res = rfm.build_rfm(_ds().customers)
    table = _plain(nr.score_table(rfm.score_ranges(res), True).to_string())
    assert "leer" in table  # F score 2 and 3 are empty in the fixture
    ranges = rfm.score_ranges(res)
    assert ranges.loc[5, "recency_min"] == 0 and ranges.loc[1, "recency_max"] == 364
