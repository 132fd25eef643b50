"""Customer-level association rules: support, confidence, lift and next categories, checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.analysis import crosssell as cs


def _tx(rows):
    """rows: (customer, category[, revenue])."""
    df = pd.DataFrame(rows, columns=["customer_id", "category", "revenue"][: len(rows[0])])
    if "revenue" not in df.columns:
        df["revenue"] = 10.0
    return df


@pytest.fixture()
def five():
    # c1: A B | c2: A B | c3: A | c4: B C | c5: C ; n = 5, buyers A=3, B=3, C=2; AB=2, BC=1, AC=0
    return _tx([("c1", "A"), ("c1", "B"), ("c2", "A"), ("c2", "B"), ("c3", "A"),
                ("c4", "B"), ("c4", "C"), ("c5", "C")])


def test_matrix_ignores_returns_and_missing_categories():
    tx = _tx([("c1", "A", 5.0), ("c1", "B", -5.0), ("c2", None, 3.0), ("c2", "B", 1.0)])
    m = cs.customer_category_matrix(tx)
    assert list(m.index) == ["c1", "c2"] and list(m.columns) == ["A", "B"]
    assert m.loc["c1"].tolist() == [True, False]  # the return of B is not a purchase of B
    assert m.loc["c2"].tolist() == [False, True]


def test_pairs_support_confidence_lift_by_hand(five):
    pairs = cs.category_pairs(cs.customer_category_matrix(five)).set_index(["antecedent", "consequent"])
    ab = pairs.loc[("A", "B")]
    assert ab["customers_both"] == 2
    assert ab["support"] == pytest.approx(2 / 5)
    assert ab["confidence"] == pytest.approx(2 / 3)          # 2 of the 3 A-buyers bought B
    assert ab["lift"] == pytest.approx((2 / 3) / (3 / 5))    # = 10/9
    cb = pairs.loc[("C", "B")]
    assert cb["confidence"] == pytest.approx(1 / 2)
    assert cb["lift"] == pytest.approx((1 / 2) / (3 / 5))    # = 5/6 < 1
    bc = pairs.loc[("B", "C")]
    assert bc["confidence"] == pytest.approx(1 / 3) and bc["lift"] == pytest.approx((1 / 3) / (2 / 5))
    assert ("A", "C") not in pairs.index  # never bought together
    assert len(pairs) == 4


def test_pairs_min_customers_and_single_category(five):
    m = cs.customer_category_matrix(five)
    assert len(cs.category_pairs(m, min_customers=2)) == 2  # only A<->B
    one = cs.customer_category_matrix(_tx([("c1", "A"), ("c2", "A")]))
    assert cs.category_pairs(one).empty


def test_next_categories_only_positive_rules(five):
    m = cs.customer_category_matrix(five)
    nxt = cs.next_categories(m, cs.category_pairs(m), k=2, min_customers=1)
    assert nxt.loc["c3", "next_categories"] == "B"            # A -> B, lift 10/9
    assert nxt.loc["c3", "next_score"] == pytest.approx((2 / 3) * (10 / 9))
    assert nxt.loc["c4", "next_categories"] == "A"            # B -> A
    assert nxt.loc["c5", "next_categories"] == ""             # C -> B has lift 5/6 < 1
    assert nxt.loc["c1", "next_categories"] == ""             # C not associated with A or B
    # with the default threshold of 10 common buyers no rule qualifies on 5 customers
    assert (cs.next_categories(m, cs.category_pairs(m)).loc[:, "next_categories"] == "").all()


def test_next_categories_two_ranked_by_confidence_times_lift():
    # n=6; A: c1-c4, B: c1-c3, C: c1,c2, D: c5,c6
    tx = _tx([("c1", "A"), ("c1", "B"), ("c1", "C"), ("c2", "A"), ("c2", "B"), ("c2", "C"),
              ("c3", "A"), ("c3", "B"), ("c4", "A"), ("c5", "D"), ("c6", "D")])
    m = cs.customer_category_matrix(tx)
    nxt = cs.next_categories(m, cs.category_pairs(m), k=2, min_customers=1)
    # A->B: conf 3/4, lift 1.5 -> 1.125 ; A->C: conf 1/2, lift 1.5 -> 0.75
    assert nxt.loc["c4", "next_categories"] == "B, C"
    assert nxt.loc["c4", "next_score"] == pytest.approx(1.125)
    # c3 (A, B): C scored by max(A->C 0.75, B->C conf 2/3 * lift 2 = 4/3)
    assert nxt.loc["c3", "next_categories"] == "C"
    assert nxt.loc["c3", "next_score"] == pytest.approx(4 / 3)
    assert nxt.loc["c5", "next_categories"] == "" and nxt.loc["c1", "next_categories"] == ""


def test_category_overview():
    m = cs.customer_category_matrix(_tx([("c1", "A"), ("c2", "A"), ("c2", "B"), ("c3", "C")]))
    ov = cs.category_overview(m)
    assert ov.iloc[0].to_dict() == {"category": "A", "customers": 2, "share": pytest.approx(2 / 3)}
    assert np.isclose(ov["share"].sum(), 4 / 3)


def test_analyze_counts_and_skip_reasons(five):
    summary, nxt = cs.analyze(five, k=2, min_customers=1)
    assert summary.ok and summary.n_categories == 3 and summary.categories == ("A", "B", "C")
    assert summary.n_customers == 5 and len(nxt) == 5
    assert summary.n_with_suggestion == int((nxt["next_categories"] != "").sum()) == 2  # c3 -> B, c4 -> A
    assert len(summary.pairs) == 4
    one, none_ = cs.analyze(_tx([("c1", "A"), ("c2", "A")]))
    assert one.skip == cs.SKIP_ONE_CATEGORY and one.n_categories == 1 and none_ is None
    no_col = cs.analyze(_tx([("c1", "A")]).drop(columns="category"))[0]
    assert no_col.skip == cs.SKIP_NO_CATEGORY and not no_col.ok


def test_categories_beyond_the_top_are_merged_into_other():
    # buyers: A 4, B 3, C 2, D 1, E 1 -> with max 2: columns A, B and "Sonstige" (C, D, E)
    tx = _tx([("c1", "A"), ("c2", "A"), ("c3", "A"), ("c4", "A"), ("c1", "B"), ("c2", "B"), ("c5", "B"),
              ("c3", "C"), ("c6", "C"), ("c6", "D"), ("c7", "E")])
    m = cs.customer_category_matrix(tx, max_categories=2)
    assert list(m.columns) == ["A", "B", cs.OTHER]
    assert len(m) == 7  # c6 and c7 bought only merged categories and still count for n
    assert m.loc["c6"].tolist() == [False, False, True]
    pairs = cs.category_pairs(m)
    assert set(pairs["antecedent"]) | set(pairs["consequent"]) == {"A", "B"}  # "Sonstige" is in no rule
    ab = pairs.set_index(["antecedent", "consequent"]).loc[("A", "B")]
    assert ab["support"] == pytest.approx(2 / 7) and ab["lift"] == pytest.approx((2 / 4) / (3 / 7))
    summary, nxt = cs.analyze(tx, min_customers=1, max_categories=2)
    assert summary.categories == ("A", "B") and summary.categories_merged == 3 and summary.n_categories == 5
    assert cs.OTHER not in " ".join(nxt["next_categories"])
    assert cs.top_categories(tx, 2) == (["A", "B"], 3)


def test_5000_categories_and_100000_customers_stay_bounded():
    """A real export had 2.013 categories and allocated customers × categories per category (14 GB).

    Measured, not timed: the matrix has at most MAX_CATEGORIES + 1 columns whatever the number of
    categories, and the Python-tracked peak memory stays far below 2 GB."""
    import resource
    import tracemalloc

    rng = np.random.default_rng(7)
    n_lines = 400_000
    customers = rng.integers(0, 100_000, n_lines)
    customers[:100_000] = np.arange(100_000)  # every customer buys
    categories = (rng.zipf(1.3, n_lines) - 1) % 5_000
    categories[:5_000] = np.arange(5_000)  # every category is bought
    tx = pd.DataFrame({"customer_id": pd.Series(customers).map("K{:06d}".format),
                       "category": pd.Series(categories).map("Warengruppe {:04d}".format),
                       "revenue": 10.0})
    tracemalloc.start()
    summary, nxt = cs.analyze(tx)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"crosssell 5.000 categories × 100.000 customers: tracemalloc peak {peak / 1e6:.0f} MB, "
          f"process max RSS {maxrss_mb:.0f} MB")
    assert summary.ok and summary.n_categories == 5_000 and summary.n_customers == 100_000
    assert len(summary.categories) == cs.MAX_CATEGORIES
    assert summary.categories_merged == 5_000 - cs.MAX_CATEGORIES
    assert len(nxt) == 100_000
    m = cs.customer_category_matrix(tx)
    assert m.shape == (100_000, cs.MAX_CATEGORIES + 1)  # the size bound
    assert peak < 500e6  # far below 2 GB (a dense 100.000 × 5.000 float array alone would be 4 GB)


def test_segment_mix_is_bounded():
    from helpers.analysis import rfm

    tx = pd.DataFrame({"customer_id": [f"c{i % 4}" for i in range(40)],
                       "category": [f"W{i:02d}" for i in range(40)], "revenue": np.arange(1, 41, dtype=float)})
    seg = pd.DataFrame({"segment": ["champions", "loyal", "lost", "lost"]}, index=["c0", "c1", "c2", "c3"])
    mix = rfm.segment_mix(tx, seg, "category", max_values=5)
    # the five values with the largest revenue keep a column, the other 35 are merged (last column)
    assert set(mix.columns[:5]) == {"W39", "W38", "W37", "W36", "W35"} and mix.columns[-1] == cs.OTHER
    assert mix.shape == (3, 6)
    assert np.allclose(mix.sum(axis=1), 1.0)
    # lost = c2, c3: lines 2, 3, 6, 7, ... -> revenue 3, 4, 7, 8, ...; W38 (39) and W39 (40) are theirs
    lost_total = sum(v for i, v in enumerate(range(1, 41)) if i % 4 in (2, 3))
    assert mix.loc["lost", "W39"] == pytest.approx(40 / lost_total)
