"""Cross- and up-selling from product categories (customer-level association rules).

Definitions (all at customer level, over the whole observation period):

- A customer *has bought* category ``A`` when at least one of their lines has category ``A``
  (and, with a revenue column, positive revenue – returns do not count as buying).
- ``n`` = number of customers with at least one categorised purchase line.
- ``support(A, B)`` = share of those customers who bought both ``A`` and ``B``.
- ``confidence(A -> B)`` = share of the buyers of ``A`` who also bought ``B``
  = ``n(A and B) / n(A)``.
- ``lift(A -> B)`` = ``confidence(A -> B) / support(B)``; above 1 means buyers of ``A`` buy
  ``B`` more often than customers in general.

The next categories for a customer are the categories they have not bought yet, ranked by
the best rule ``A -> B`` from a category ``A`` they have bought (score = confidence × lift,
only rules with lift > 1 and enough common buyers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_PAIR_CUSTOMERS = 10
"""Default: a rule needs at least this many customers who bought both categories."""

SKIP_NO_CATEGORY = "no_category"
"""Skip reason: the data has no category column (or it is empty)."""
SKIP_ONE_CATEGORY = "one_category"
"""Skip reason: only one category, so there are no combinations."""


@dataclass(frozen=True, kw_only=True)
class CrossSell:
    """Cross-selling part of the action plan (see module docstring for the definitions)."""

    skip: str | None = None
    """``None`` = the rules were computed; else :data:`SKIP_NO_CATEGORY` or :data:`SKIP_ONE_CATEGORY`."""
    n_categories: int = 0
    """Distinct categories in the data (all lines)."""
    categories: tuple[str, ...] = ()
    """Categories with at least one purchase line, sorted (rows/columns of the lift grid)."""
    pairs: pd.DataFrame | None = None
    """:func:`category_pairs` of all customers (``None`` when skipped)."""
    min_customers: int = MIN_PAIR_CUSTOMERS
    """Common buyers a rule needs to be used for suggestions."""
    n_customers: int = 0
    """Customers with at least one categorised purchase line (count)."""
    n_with_suggestion: int = 0
    """Of those, customers with at least one suggested next category (count)."""

    @property
    def ok(self) -> bool:
        return self.skip is None


def customer_category_matrix(transactions: pd.DataFrame) -> pd.DataFrame:
    """Boolean matrix customers × categories: ``True`` where the customer bought the category.

    Index ``customer_id`` (sorted), columns the category names (sorted). Lines without a
    category are ignored; with a ``revenue`` column only lines with revenue > 0 count.
    """
    tx = transactions
    mask = tx["category"].notna()
    if "revenue" in tx.columns:
        mask &= tx["revenue"] > 0
    sub = tx.loc[mask, ["customer_id", "category"]]
    cust = pd.Categorical(sub["customer_id"].astype(str))
    cat = pd.Categorical(sub["category"].astype(str))
    matrix = np.zeros((len(cust.categories), len(cat.categories)), dtype=bool)
    matrix[cust.codes, cat.codes] = True
    return pd.DataFrame(
        matrix,
        index=pd.Index(cust.categories, name="customer_id"),
        columns=pd.Index(cat.categories, name="category"),
    )


def category_pairs(matrix: pd.DataFrame, min_customers: int = 1) -> pd.DataFrame:
    """All ordered category pairs ``A -> B`` (A ≠ B) bought by at least ``min_customers`` customers.

    Columns: ``antecedent``, ``consequent``, ``customers_both`` (count), ``support`` (0–1),
    ``confidence`` (0–1), ``lift`` (ratio). Sorted by lift, then confidence (descending).
    """
    x = matrix.to_numpy(dtype=np.int64)
    n = x.shape[0]
    cols = ["antecedent", "consequent", "customers_both", "support", "confidence", "lift"]
    if n == 0 or x.shape[1] < 2:
        return pd.DataFrame(columns=cols)
    both = x.T @ x  # co-occurrence counts; diagonal = buyers per category
    buyers = np.diag(both).astype(float)
    a, b = np.nonzero(~np.eye(len(buyers), dtype=bool) & (both >= max(min_customers, 1)))
    n_ab = both[a, b].astype(float)
    confidence = n_ab / buyers[a]
    lift = confidence / (buyers[b] / n)
    names = np.asarray(matrix.columns)
    out = pd.DataFrame(
        {
            "antecedent": names[a],
            "consequent": names[b],
            "customers_both": n_ab.astype(int),
            "support": n_ab / n,
            "confidence": confidence,
            "lift": lift,
        }
    )
    return out.sort_values(["lift", "confidence", "antecedent", "consequent"],
                           ascending=[False, False, True, True], ignore_index=True)


def rule_scores(pairs: pd.DataFrame, categories, min_customers: int = MIN_PAIR_CUSTOMERS) -> np.ndarray:
    """Square array ``S[A, B]`` = confidence × lift of rule ``A -> B`` (0 where the rule is not used).

    Rules are used when ``lift > 1`` and ``customers_both >= min_customers``.
    ``categories`` gives the row/column order.
    """
    idx = {c: i for i, c in enumerate(categories)}
    scores = np.zeros((len(idx), len(idx)))
    if len(pairs):
        use = pairs[(pairs["lift"] > 1) & (pairs["customers_both"] >= min_customers)]
        rows = use["antecedent"].map(idx).to_numpy(dtype=int)
        cols = use["consequent"].map(idx).to_numpy(dtype=int)
        scores[rows, cols] = (use["confidence"] * use["lift"]).to_numpy(dtype=float)
    return scores


def next_categories(matrix: pd.DataFrame, pairs: pd.DataFrame, k: int = 2,
                    min_customers: int = MIN_PAIR_CUSTOMERS) -> pd.DataFrame:
    """Per customer the ``k`` most promising categories they have not bought yet.

    Score of an unbought category ``B`` = max over bought categories ``A`` of
    confidence(A -> B) × lift(A -> B) (see :func:`rule_scores`). Categories with score 0
    are never suggested.

    Returns a DataFrame indexed by ``customer_id`` with ``next_categories`` (str, names joined
    by ``", "``, empty when nothing qualifies) and ``next_score`` (score of the first suggestion, 0–…).
    """
    names = np.asarray(matrix.columns, dtype=object)
    x = matrix.to_numpy(dtype=bool)
    s = rule_scores(pairs, names, min_customers)
    score = np.zeros(x.shape, dtype=float)
    for a in range(len(names)):  # loop over categories (few), vectorized over customers
        if s[a].any():
            np.maximum(score, np.where(x[:, [a]], s[a][None, :], 0.0), out=score)
    score[x] = 0.0
    k = max(0, min(k, len(names)))
    order = np.argsort(-score, axis=1, kind="stable")[:, :k]
    top_scores = np.take_along_axis(score, order, axis=1)
    parts = []
    for j in range(k):  # k <= 2 columns, vectorized over customers
        label = pd.Series(np.where(top_scores[:, j] > 0, names[order[:, j]], ""), index=matrix.index)
        parts.append(label)
    if parts:
        text = parts[0]
        for p in parts[1:]:
            text = text.where(p == "", text + ", " + p)
    else:
        text = pd.Series("", index=matrix.index)
    return pd.DataFrame(
        {"next_categories": text.astype(str),
         "next_score": top_scores[:, 0] if k else np.zeros(len(matrix))},
        index=matrix.index,
    )


def category_overview(matrix: pd.DataFrame) -> pd.DataFrame:
    """Buyers per category: ``category``, ``customers`` (count), ``share`` (0–1 of all customers)."""
    n = len(matrix)
    counts = matrix.sum(axis=0).astype(int)
    return pd.DataFrame(
        {"category": counts.index, "customers": counts.to_numpy(),
         "share": counts.to_numpy() / n if n else np.nan}
    ).sort_values("customers", ascending=False, ignore_index=True)


def analyze(transactions: pd.DataFrame, k: int = 2,
            min_customers: int = MIN_PAIR_CUSTOMERS) -> tuple[CrossSell, pd.DataFrame | None]:
    """Pairs and next categories for a dataset's lines: ``(summary, next_categories or None)``.

    Skipped (``summary.skip`` set, no frame) without a category column or with fewer than two
    categories. The frame is :func:`next_categories` (customers with a categorised purchase line).
    """
    has_category = "category" in transactions.columns and bool(transactions["category"].notna().any())
    n_categories = int(transactions["category"].nunique()) if has_category else 0
    if n_categories < 2:
        skip = SKIP_ONE_CATEGORY if has_category else SKIP_NO_CATEGORY
        return CrossSell(skip=skip, n_categories=n_categories, min_customers=min_customers), None
    matrix = customer_category_matrix(transactions)
    pairs = category_pairs(matrix)
    nxt = next_categories(matrix, pairs, k=k, min_customers=min_customers)
    summary = CrossSell(
        n_categories=n_categories,
        categories=tuple(str(c) for c in matrix.columns),
        pairs=pairs,
        min_customers=min_customers,
        n_customers=len(nxt),
        n_with_suggestion=int((nxt["next_categories"] != "").sum()),
    )
    return summary, nxt
