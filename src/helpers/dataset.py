"""The :class:`Dataset` every chapter works on: cleaned lines, purchases, customers, ledger.

Definitions used by every chapter (state them in the teaching text too):

- A *line* (Zeile) is one row of the client's export after cleaning.
- A *purchase* (Kauf) is all lines of one customer on one calendar day
  (several orders on the same day are merged). Its revenue is the net sum of
  those lines in the report's currency (``Dataset.currency``). Purchase days whose net revenue is <= 0 (pure return days)
  are not purchases.
- A customer's *revenue* is the net sum over all their lines (returns included).
- Customer IDs are already pseudonymized (keyed hash) unless the config says otherwise.

``transactions`` may also be a *compact line table* (what the line-level engine,
:mod:`helpers.engine`, hands over for Parquet folders): one row per customer, day, category,
channel and sign of the revenue, with an ``n_lines`` column (this row stands for ``n_lines`` kept
lines; ``revenue``/``quantity`` are their sums). Every count of lines must then weight by
``n_lines`` (:attr:`Dataset.n_lines`, :func:`line_weights`); sums of revenue need no change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, TypeVar

import numpy as np
import pandas as pd

OPTIONAL_COLUMNS = ("order_id", "category", "channel", "quantity")
REQUIRED_COLUMNS = ("customer_id", "order_date")
T = TypeVar("T")
LINE_WEIGHT = "n_lines"
"""Column of a compact line table: the number of kept lines a row stands for."""


def line_weights(lines: pd.DataFrame) -> np.ndarray:
    """Lines each row of ``lines`` stands for: its ``n_lines`` (compact table), else 1 per row.

    Use wherever lines are counted (``np.ones(len(tx))`` -> ``line_weights(tx)``).
    """
    if LINE_WEIGHT in lines.columns:
        return lines[LINE_WEIGHT].to_numpy(dtype=np.int64)
    return np.ones(len(lines), dtype=np.int64)


@dataclass
class Dataset:
    """Cleaned transactions of one client plus derived tables.

    Attributes
    ----------
    transactions:
        One row per kept line: ``customer_id`` (str), ``order_date`` (datetime64, day
        precision), ``revenue`` (float, net, in ``currency``; column absent when the file has none),
        optional ``order_id``, ``category``, ``channel``, ``quantity``. Or a compact line table
        (see the module docstring): no ``order_id``, plus ``n_lines`` (int, lines per row).
    observation_end:
        Last day of the observation period (inclusive), a normalized Timestamp.
    ledger:
        The data-quality ledger (``helpers.validation.Ledger``); ``None`` for
        datasets built in tests directly from a DataFrame.
    source_name:
        File name of the client export (no directory), for the report.
    notes:
        German sentences on how the file was read (format, encoding, separator, decimal mark,
        columns not taken over).
    sources:
        Canonical column -> the column of the client file it was read from (header text as in the
        file; a repeated name is told apart as ``Name (2)``), e.g. ``{"revenue": "Nettoumsatz (€)"}``.
        Empty for datasets not read from a file.
    currency:
        ISO 4217 code of every amount (``"EUR"``, ``"USD"``, ...): the setting ``currency``, else
        detected by the loader from the revenue column (:func:`helpers.data.detect_currency`), else
        EUR. Money is formatted in it (``helpers.fmt.use_currency(ds.currency)``).
    currency_source:
        Where ``currency`` came from (JSON-friendly): ``source`` (``"setting"``, ``"header"``,
        ``"values"``, ``"column"``, ``"assumed"``), ``column`` (the file's column the evidence is
        in), ``evidence`` (e.g. the header text or example values), ``file_hint`` (with a setting:
        the currency the file itself suggests, if any, else missing). Empty for test datasets.
    """

    transactions: pd.DataFrame
    observation_end: pd.Timestamp
    ledger: Any = None
    source_name: str = ""
    notes: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    currency: str = "EUR"
    currency_source: dict[str, Any] = field(default_factory=dict)
    _derived: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def derived(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()``, run once per dataset and kept under ``key`` (a value several chapters derive
        from the lines, e.g. the detected audience; the dataset is never changed after loading)."""
        if key not in self._derived:
            self._derived[key] = compute()
        return self._derived[key]

    @property
    def has_revenue(self) -> bool:
        return "revenue" in self.transactions.columns

    @property
    def is_compact(self) -> bool:
        """True when ``transactions`` is a compact line table (rows carry ``n_lines``)."""
        return LINE_WEIGHT in self.transactions.columns

    @property
    def n_lines(self) -> int:
        """Number of kept lines (the sum of ``n_lines`` for a compact table, else the row count)."""
        return int(line_weights(self.transactions).sum())

    def has(self, column: str) -> bool:
        """True when the optional canonical ``column`` is present with at least one value.

        A compact line table has no ``order_id`` column; it had order numbers when ``sources`` names
        the file's column (the engine records it only when a kept line has one).
        """
        if column in self.transactions.columns:
            return bool(self.transactions[column].notna().any())
        return self.is_compact and column == "order_id" and column in self.sources

    @property
    def first_date(self) -> pd.Timestamp:
        return self.transactions["order_date"].min()

    @cached_property
    def purchases(self) -> pd.DataFrame:
        """One row per customer and purchase day: ``customer_id``, ``order_date``, ``revenue``, ``n_lines``.

        Without a revenue column, every customer-day is a purchase and ``revenue`` is absent.
        """
        tx = self.transactions
        keys = ["customer_id", "order_date"]
        g = tx.groupby(keys, sort=True, observed=True)
        if self.has_revenue:
            if self.is_compact:
                out = g.agg(revenue=("revenue", "sum"), n_lines=(LINE_WEIGHT, "sum"))
            else:
                out = g.agg(revenue=("revenue", "sum"), n_lines=("revenue", "size"))
            out = out[out["revenue"] > 0]
        else:
            out = (g[LINE_WEIGHT].sum() if self.is_compact else g.size()).rename("n_lines").to_frame()
        out["n_lines"] = out["n_lines"].astype(np.int64)
        return out.reset_index()

    @cached_property
    def customers(self) -> pd.DataFrame:
        """One row per customer (index ``customer_id``).

        Columns: ``first_purchase``, ``last_purchase`` (Timestamps), ``n_purchases``
        (purchase days, >= 1), ``revenue`` (net over all lines incl. returns, in ``currency``; absent
        without revenue column), ``tenure_days`` (observation_end - first_purchase, days),
        ``recency_days`` (observation_end - last_purchase, days).
        Customers with no purchase day (only returns) are not included.
        """
        p = self.purchases
        g = p.groupby("customer_id", sort=True, observed=True)["order_date"]
        out = pd.DataFrame(
            {"first_purchase": g.min(), "last_purchase": g.max(), "n_purchases": g.size()}
        )
        if self.has_revenue:
            net = self.transactions.groupby("customer_id", observed=True)["revenue"].sum()
            out["revenue"] = net.reindex(out.index).astype(float)
        out["tenure_days"] = (self.observation_end - out["first_purchase"]).dt.days
        out["recency_days"] = (self.observation_end - out["last_purchase"]).dt.days
        return out


def from_transactions(df: pd.DataFrame, observation_end: Any = None, **kwargs: Any) -> Dataset:
    """Build a :class:`Dataset` from an already canonical DataFrame (tests, notebooks).

    ``observation_end`` defaults to the last ``order_date``.
    """
    tx = df.copy()
    tx["customer_id"] = tx["customer_id"].astype(str)
    tx["order_date"] = pd.to_datetime(tx["order_date"]).dt.normalize()
    end = pd.Timestamp(observation_end) if observation_end is not None else tx["order_date"].max()
    return Dataset(transactions=tx.reset_index(drop=True), observation_end=end.normalize(), **kwargs)
