"""Hand-made transaction fixtures shared by the analysis tests (numbers are checked by hand there)."""

import pandas as pd

from helpers.dataset import Dataset, from_transactions

COLUMNS = ["customer_id", "order_date", "revenue"]

YEAR_ROWS = [
    ("T", "2023-01-01", 10.0),
    ("P", "2024-03-01", 100.0), ("P", "2025-02-01", 150.0),
    ("Q", "2024-06-01", 200.0), ("Q", "2025-07-01", 50.0),
    ("R", "2024-09-01", 100.0),
    ("S", "2025-05-01", 300.0),
]
"""Three years: T buys once in 2023; P and Q come back in 2025; R is lost; S is new in 2025."""


def dataset(rows, end=None) -> Dataset:
    """A Dataset from ``(customer_id, order_date, revenue)`` tuples, observation end ``end``."""
    return from_transactions(pd.DataFrame(rows, columns=COLUMNS), observation_end=end)
