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
