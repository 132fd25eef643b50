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

Bounded size: only the :data:`MAX_CATEGORIES` categories with the most buyers get their own
column; all others are merged into :data:`OTHER` ("Sonstige"), which counts for ``n`` but is
never part of a rule or a suggestion. Memory is therefore customers × (MAX_CATEGORIES + 1)
booleans, however many categories an export has (a real export had 2.013); co-occurrences are
counted with a sparse matrix product, suggestions in blocks of customers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

MIN_PAIR_CUSTOMERS = 10
"""Default: a rule needs at least this many customers who bought both categories."""
MAX_CATEGORIES = 30
"""Categories with their own column (those with the most buyers); the rest are :data:`OTHER`."""
OTHER = "Sonstige"
"""Name of the merged column of all categories beyond :data:`MAX_CATEGORIES`."""
BLOCK_CUSTOMERS = 50_000
"""Customers per block when scoring suggestions (bounds the temporary arrays)."""

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
    """Categories of the rules (with at least one purchase line, at most :data:`MAX_CATEGORIES`,
    :data:`OTHER` never included), sorted (rows/columns of the lift grid)."""
    pairs: pd.DataFrame | None = None
    """:func:`category_pairs` of all customers (``None`` when skipped)."""
    min_customers: int = MIN_PAIR_CUSTOMERS
    """Common buyers a rule needs to be used for suggestions."""
    n_customers: int = 0
    """Customers with at least one categorised purchase line (count)."""
    n_with_suggestion: int = 0
    """Of those, customers with at least one suggested next category (count)."""
    categories_merged: int = 0
    """Categories with purchases merged into :data:`OTHER` because only the :data:`MAX_CATEGORIES`
    with the most buyers are used (count; 0 = every category has its own column)."""

    @property
    def ok(self) -> bool:
        return self.skip is None


def _purchase_lines(transactions: pd.DataFrame) -> pd.DataFrame:
    tx = transactions
    mask = tx["category"].notna()
    if "revenue" in tx.columns:
        mask &= tx["revenue"] > 0
    return tx.loc[mask, ["customer_id", "category"]]


def _factorize_text(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(values.astype(str))`` (codes, names), without turning a categorical column into
    one string per line (10 s at 10 M lines); only names that occur, in any order."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        used = np.unique(codes)
        remap = np.full(len(values.cat.categories), -1, dtype=np.int64)
        remap[used] = np.arange(len(used))
        return remap[codes], np.asarray(values.cat.categories.astype(str), dtype=object)[used]
    codes, names = pd.factorize(values.astype(str))
    return codes, np.asarray(names, dtype=object)


def _customer_text(ids: pd.Series) -> pd.Series:
    """Customer ids as text (already text in a :class:`~helpers.dataset.Dataset`: no copy)."""
    return ids if isinstance(ids.dtype, pd.StringDtype) else ids.astype(str)


def top_categories(transactions: pd.DataFrame, max_categories: int = MAX_CATEGORIES) -> tuple[list[str], int]:
    """The ``max_categories`` categories with the most buying customers (ties: by name) and the number
    of further categories with purchases (merged into :data:`OTHER`)."""
    sub = _purchase_lines(transactions)
    cust = pd.factorize(_customer_text(sub["customer_id"]))[0]
    return _top_categories(cust, *_factorize_text(sub["category"]), max_categories)


def _top_categories(cust: np.ndarray, cat_codes: np.ndarray, cat_names: np.ndarray,
                    max_categories: int) -> tuple[list[str], int]:
    """:func:`top_categories` from the codes of the purchase lines' customers and categories."""
    pairs = np.unique(cust.astype(np.int64) * (len(cat_names) + 1) + cat_codes)
    buyers = np.bincount(pairs % (len(cat_names) + 1), minlength=len(cat_names))[: len(cat_names)]
    order = sorted(range(len(cat_names)), key=lambda i: (-buyers[i], str(cat_names[i])))
    keep = [str(cat_names[i]) for i in order[:max_categories]]
    return keep, max(0, len(cat_names) - len(keep))


def customer_category_matrix(transactions: pd.DataFrame, max_categories: int = MAX_CATEGORIES) -> pd.DataFrame:
    """Boolean matrix customers × categories: ``True`` where the customer bought the category.

    Index ``customer_id`` (sorted), columns the category names (sorted; at most ``max_categories``,
    the rest merged into a last column :data:`OTHER`). Lines without a category are ignored; with a
    ``revenue`` column only lines with revenue > 0 count.
    """
    sub = _purchase_lines(transactions)
    cat_codes, cat_names = _factorize_text(sub["category"])
    cust_codes, cust_ids = pd.factorize(_customer_text(sub["customer_id"]), sort=True)
    keep, merged = _top_categories(cust_codes, cat_codes, cat_names, max_categories)
    columns = sorted(keep) + ([OTHER] if merged else [])
    position = {name: j for j, name in enumerate(columns)}
    column_of = np.array([position.get(str(n), len(columns) - 1) for n in cat_names], dtype=np.int64)
    matrix = np.zeros((len(cust_ids), len(columns)), dtype=bool)
    matrix[cust_codes, column_of[cat_codes]] = True
    return pd.DataFrame(
        matrix,
        index=pd.Index(cust_ids, name="customer_id"),
        columns=pd.Index(columns, name="category"),
    )


def category_pairs(matrix: pd.DataFrame, min_customers: int = 1) -> pd.DataFrame:
    """All ordered category pairs ``A -> B`` (A ≠ B) bought by at least ``min_customers`` customers.

    Columns: ``antecedent``, ``consequent``, ``customers_both`` (count), ``support`` (0–1),
    ``confidence`` (0–1), ``lift`` (ratio). Sorted by lift, then confidence (descending).
    The merged column :data:`OTHER` counts for ``n`` but forms no pair.
    """
    cols = ["antecedent", "consequent", "customers_both", "support", "confidence", "lift"]
    n = matrix.shape[0]
    if n == 0 or matrix.shape[1] < 2:
        return pd.DataFrame(columns=cols)
    x = sparse.csr_matrix(matrix.to_numpy(dtype=bool), dtype=np.int64)
    both = np.asarray((x.T @ x).todense())  # co-occurrence counts; diagonal = buyers per category
    buyers = np.diag(both).astype(float)
    names = np.asarray(matrix.columns, dtype=object)
    usable = names != OTHER
    allowed = ~np.eye(len(buyers), dtype=bool) & usable[:, None] & usable[None, :]
    a, b = np.nonzero(allowed & (both >= max(min_customers, 1)))
    n_ab = both[a, b].astype(float)
    confidence = n_ab / buyers[a]
    lift = confidence / (buyers[b] / n)
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
    if out.empty:
        return pd.DataFrame(columns=cols)
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
    (and :data:`OTHER`) are never suggested. Computed in blocks of :data:`BLOCK_CUSTOMERS`.

    Returns a DataFrame indexed by ``customer_id`` with ``next_categories`` (str, names joined
    by ``", "``, empty when nothing qualifies) and ``next_score`` (score of the first suggestion, 0–…).
    """
    names = np.asarray(matrix.columns, dtype=object)
    x_all = matrix.to_numpy(dtype=bool)
    s = rule_scores(pairs, names, min_customers)
    active = [a for a in range(len(names)) if s[a].any()]
    k = max(0, min(k, len(names)))
    texts = np.empty(len(matrix), dtype=object)
    first = np.zeros(len(matrix), dtype=float)
    for start in range(0, max(len(matrix), 1), BLOCK_CUSTOMERS):
        x = x_all[start:start + BLOCK_CUSTOMERS]
        if not len(x):
            break
        score = np.zeros(x.shape, dtype=float)
        for a in active:  # loop over categories (bounded), vectorized over customers
            np.maximum(score, np.where(x[:, [a]], s[a][None, :], 0.0), out=score)
        score[x] = 0.0
        order = np.argsort(-score, axis=1, kind="stable")[:, :k]
        top = np.take_along_axis(score, order, axis=1)
        block = np.full(len(x), "", dtype=object)
        for j in range(k):  # k <= 2 columns, vectorized over customers
            label = np.where(top[:, j] > 0, names[order[:, j]], "")
            block = np.where(label == "", block, np.where(block == "", label, block + ", " + label))
        texts[start:start + len(x)] = block
        if k:
            first[start:start + len(x)] = top[:, 0]
    return pd.DataFrame(
        {"next_categories": pd.Series(texts, index=matrix.index, dtype=object).fillna("").astype(str),
         "next_score": first},
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


def analyze(transactions: pd.DataFrame, k: int = 2, min_customers: int = MIN_PAIR_CUSTOMERS,
            max_categories: int = MAX_CATEGORIES) -> tuple[CrossSell, pd.DataFrame | None]:
    """Pairs and next categories for a dataset's lines: ``(summary, next_categories or None)``.

    Skipped (``summary.skip`` set, no frame) without a category column or with fewer than two
    categories. The frame is :func:`next_categories` (customers with a categorised purchase line).
    At most ``max_categories`` categories get their own column (the rest: :data:`OTHER`).
    """
    has_category = "category" in transactions.columns and bool(transactions["category"].notna().any())
    n_categories = int(transactions["category"].nunique()) if has_category else 0
    if n_categories < 2:
        skip = SKIP_ONE_CATEGORY if has_category else SKIP_NO_CATEGORY
        return CrossSell(skip=skip, n_categories=n_categories, min_customers=min_customers), None
    matrix = customer_category_matrix(transactions, max_categories)
    pairs = category_pairs(matrix)
    nxt = next_categories(matrix, pairs, k=k, min_customers=min_customers)
    columns = [str(c) for c in matrix.columns]
    merged = top_categories(transactions, max_categories)[1] if OTHER in columns else 0
    summary = CrossSell(
        n_categories=n_categories,
        categories=tuple(c for c in columns if c != OTHER),
        pairs=pairs,
        min_customers=min_customers,
        n_customers=len(nxt),
        n_with_suggestion=int((nxt["next_categories"] != "").sum()),
        categories_merged=int(merged),
    )
    return summary, nxt
