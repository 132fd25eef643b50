"""Data-quality rules and the ledger that accounts for every line and every customer of the client file.

Invariants (checked in :meth:`Ledger.check`): rows read = rows kept + sum of drops; customers in the
file = customers with at least one purchase day + customers without a remaining purchase (all their
lines dropped, or only returns / days with net revenue <= 0 left).

Rules applied by :func:`apply_rules`, in this order (a line is dropped for the
first rule it fails):

1. structural lines found by the loader: empty lines, a repeated header line, total or
   subtotal lines ("Summe", "Gesamt", "Total", ...);
2. missing customer ID;
3. date missing or not parseable;
4. date after the observation end (only when it is set explicitly: "future"), otherwise date
   after the run date (a date in the future cannot be a purchase);
5. date far outside the rest of the data (e.g. 1900 among 2024): separated from the main body
   of dates by an empty gap longer than ``max(365 days, interquartile range)`` (at most ten
   years), see :func:`dates_outside_bulk`;
6. amount not numeric (only with a revenue column);
7. amount exactly 0;
8. returns/cancellations (negative lines, or invoice numbers marked as
   cancellation: ``S-``, ``ST-``, ``Storno``, ``C`` + digit): kept and netted
   (``cfg.data.returns == "net"``) or dropped (``"drop"``). A marked cancellation
   with a positive amount is counted as negative;
9. exact duplicate rows (all columns of the file identical, incl. columns not used).

The observation end (when not set) is the last date kept by rules 1–5, so it is never after the
run date.

Flags that never drop a line: returns netted, customer-days with several orders
(merged into one purchase by ``Dataset.purchases``), outliers (line revenue >
median + ``outlier_factor`` x IQR of positive lines; listed), customers whose net
revenue is <= 0.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .labels import DROP_LABELS, FLAG_LABELS

MAX_LISTED_OUTLIERS = 200
MAX_LISTED_DATES = 200
CANCELLATION_PATTERN = r"^\s*(?:S-|ST-|STORNO|C\d)"
STRUCTURAL = ("empty_row", "header_row", "total_row")
"""Drop reasons for lines that are not transactions (their IDs are not counted as customers)."""
DATE_REASONS = ("after_run_date", "implausible_date")
"""Drop reasons of implausible dates (counted against ``data.max_implausible_date_share``)."""
DATE_GAP_MIN_DAYS = 365
"""An empty gap between dates counts as a break when longer than this (days) and than the IQR."""
DATE_GAP_MAX_DAYS = 3650
"""... but always when longer than this (days), however spread out the rest of the data is."""


class LedgerError(AssertionError):
    """The ledger does not add up (a programming error, not a data problem)."""


@dataclass
class Ledger:
    """Accounts for every line and every customer: read, kept, dropped per reason, and flags."""

    rows_read: int = 0
    rows_kept: int = 0
    dropped: dict[str, int] = field(default_factory=lambda: {k: 0 for k in DROP_LABELS})
    flags: dict[str, int] = field(default_factory=lambda: {k: 0 for k in FLAG_LABELS})
    outliers: list[dict[str, Any]] = field(default_factory=list)
    """Flagged lines (up to 200): ``row`` (line number in the file incl. header), ``customer_id``,
    ``order_date`` (ISO), ``revenue`` (EUR)."""
    outlier_threshold: float | None = None
    """Revenue above which a line is flagged, EUR."""
    returns_mode: str = "net"
    has_order_id: bool = False
    has_revenue: bool = True
    dropped_customers: dict[str, int] = field(default_factory=lambda: {k: 0 for k in DROP_LABELS})
    """Per drop reason: distinct customers with at least one line dropped for it (a customer can
    count under several reasons; 0 for structural lines and missing IDs)."""
    customers_read: int = 0
    """Distinct customer IDs on the lines of the file (structural lines and missing IDs excluded)."""
    customers_kept: int = 0
    """Distinct customer IDs on the kept lines."""
    customers_any_dropped: int = 0
    """Distinct customers with at least one dropped line."""
    customers_with_purchase: int | None = None
    """Customers with at least one purchase day (``len(ds.customers)``, the report's customer count);
    set by the loader, ``None`` before."""
    dates: list[dict[str, Any]] = field(default_factory=list)
    """Lines dropped for an implausible date (up to 200, sorted by date): ``row`` (line number),
    ``order_date`` (ISO), ``reason`` (``after_run_date``/``implausible_date``/``future_date``)."""
    run_date: str | None = None
    """Day of the run (ISO); no kept date lies after it unless the observation end was set."""

    @property
    def rows_dropped(self) -> int:
        return int(sum(self.dropped.values()))

    @property
    def customers_all_dropped(self) -> int:
        """Customers in the file none of whose lines was kept."""
        return int(self.customers_read - self.customers_kept)

    @property
    def customers_no_purchase(self) -> int | None:
        """Customers with kept lines but no purchase day (only returns or days with net revenue <= 0)."""
        if self.customers_with_purchase is None:
            return None
        return int(self.customers_kept - self.customers_with_purchase)

    @property
    def customers_without_purchase(self) -> int | None:
        """Customers in the file without a remaining purchase (all lines dropped or no purchase day)."""
        if self.customers_with_purchase is None:
            return None
        return int(self.customers_read - self.customers_with_purchase)

    def check(self) -> "Ledger":
        """Raise :class:`LedgerError` unless rows read = rows kept + sum of drops and the customer
        counts nest (with purchase <= on kept lines <= in the file)."""
        if self.rows_read != self.rows_kept + self.rows_dropped:
            raise LedgerError(
                f"ledger mismatch: read {self.rows_read} != kept {self.rows_kept} + dropped {self.rows_dropped}"
            )
        if not 0 <= self.customers_kept <= self.customers_read:
            raise LedgerError(f"customer ledger: kept {self.customers_kept} > read {self.customers_read}")
        if self.customers_with_purchase is not None and not 0 <= self.customers_with_purchase <= self.customers_kept:
            raise LedgerError(
                f"customer ledger: with purchase {self.customers_with_purchase} > kept {self.customers_kept}"
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        """JSON-able representation (inverse: :meth:`from_dict`)."""
        return {
            "rows_read": int(self.rows_read),
            "rows_kept": int(self.rows_kept),
            "dropped": {k: int(v) for k, v in self.dropped.items()},
            "flags": {k: int(v) for k, v in self.flags.items()},
            "outliers": [dict(o) for o in self.outliers],
            "outlier_threshold": self.outlier_threshold,
            "returns_mode": self.returns_mode,
            "has_order_id": self.has_order_id,
            "has_revenue": self.has_revenue,
            "dropped_customers": {k: int(v) for k, v in self.dropped_customers.items()},
            "customers_read": int(self.customers_read),
            "customers_kept": int(self.customers_kept),
            "customers_any_dropped": int(self.customers_any_dropped),
            "customers_with_purchase": (None if self.customers_with_purchase is None
                                        else int(self.customers_with_purchase)),
            "dates": [dict(d) for d in self.dates],
            "run_date": self.run_date,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Ledger":
        with_purchase = d.get("customers_with_purchase")
        led = cls(
            rows_read=int(d["rows_read"]),
            rows_kept=int(d["rows_kept"]),
            dropped={**{k: 0 for k in DROP_LABELS}, **{k: int(v) for k, v in d.get("dropped", {}).items()}},
            flags={**{k: 0 for k in FLAG_LABELS}, **{k: int(v) for k, v in d.get("flags", {}).items()}},
            outliers=list(d.get("outliers", [])),
            outlier_threshold=d.get("outlier_threshold"),
            returns_mode=d.get("returns_mode", "net"),
            has_order_id=bool(d.get("has_order_id", False)),
            has_revenue=bool(d.get("has_revenue", True)),
            dropped_customers={**{k: 0 for k in DROP_LABELS},
                               **{k: int(v) for k, v in d.get("dropped_customers", {}).items()}},
            customers_read=int(d.get("customers_read", 0)),
            customers_kept=int(d.get("customers_kept", 0)),
            customers_any_dropped=int(d.get("customers_any_dropped", 0)),
            customers_with_purchase=None if with_purchase is None else int(with_purchase),
            dates=list(d.get("dates", [])),
            run_date=d.get("run_date"),
        )
        return led.check()


def dates_outside_bulk(days: np.ndarray) -> np.ndarray:
    """Mask of dates (integer day numbers) outside the main body of the data.

    The sorted distinct dates are split wherever an empty gap is longer than
    ``max(DATE_GAP_MIN_DAYS, IQR)`` or longer than ``DATE_GAP_MAX_DAYS`` (IQR = interquartile range
    of all dates, in days); the part with the most lines is the main body. 1900 or 2099 among a
    year of data is outside; a business that grew over years without a year-long pause is not.
    """
    days = np.asarray(days, dtype=np.int64)
    if len(days) < 2:
        return np.zeros(len(days), dtype=bool)
    uniq, inv, counts = np.unique(days, return_inverse=True, return_counts=True)
    if len(uniq) < 2:
        return np.zeros(len(days), dtype=bool)
    q1, q3 = np.quantile(days, [0.25, 0.75])
    limit = min(max(DATE_GAP_MIN_DAYS, q3 - q1), DATE_GAP_MAX_DAYS)
    part = np.concatenate([[0], np.cumsum(np.diff(uniq) > limit)])
    rows = np.bincount(part, weights=counts)
    main = int(np.argmax(rows))
    return part[inv] != main


def apply_rules(
    df: pd.DataFrame,
    raw: pd.DataFrame | np.ndarray | None,
    observation_end: pd.Timestamp | None,
    returns: str = "net",
    outlier_factor: float = 10.0,
    row_offset: int = 2,
    *,
    structural: Mapping[str, np.ndarray] | None = None,
    today: dt.date | None = None,
) -> tuple[pd.DataFrame, Ledger, pd.Timestamp]:
    """Apply the rules to parsed canonical columns; return ``(kept lines, ledger, observation_end)``.

    ``df`` has ``customer_id`` (str or missing), ``order_date`` (datetime64 or NaT),
    optionally ``revenue`` (float or NaN), ``order_id`` and other canonical columns,
    ``raw`` (same row order) is the file as read, used for
    exact-duplicate detection, or already the boolean duplicate mask (saves memory).
    ``observation_end`` ``None`` = last date kept by the date rules (never after ``today``).
    ``structural``: boolean masks (same row order) per structural reason (:data:`STRUCTURAL`)
    found by the loader. ``today``: the run date (default: today).
    ``row_offset`` converts the 0-based position to the line number shown to users.
    """
    df = df.reset_index(drop=True)
    n = len(df)
    today = pd.Timestamp(today if today is not None else dt.date.today()).normalize()
    led = Ledger(rows_read=n, returns_mode=returns, has_order_id="order_id" in df.columns,
                 has_revenue="revenue" in df.columns, run_date=today.date().isoformat())
    reason = np.full(n, -1, dtype=np.int8)
    keys = list(DROP_LABELS)

    def mark(key: str, mask: np.ndarray) -> None:
        m = np.asarray(mask, dtype=bool) & (reason < 0)
        reason[m] = keys.index(key)

    for key in STRUCTURAL:
        if structural is not None and key in structural:
            mark(key, structural[key])
    cid = df["customer_id"]
    missing_id = (cid.isna() | (cid.astype("str").str.strip() == "")).to_numpy(dtype=bool, na_value=True)
    mark("missing_customer", missing_id)
    dates = df["order_date"]
    mark("bad_date", dates.isna().to_numpy())
    if observation_end is None:
        mark("after_run_date", (dates > today).to_numpy())
    else:
        mark("future_date", (dates > pd.Timestamp(observation_end).normalize()).to_numpy())
    ok = reason < 0
    day_numbers = dates.to_numpy()[ok].astype("datetime64[D]").astype(np.int64)
    outside = np.zeros(n, dtype=bool)
    outside[np.flatnonzero(ok)] = dates_outside_bulk(day_numbers)
    mark("implausible_date", outside)
    valid_dates = dates[reason < 0]
    if observation_end is None:
        end = valid_dates.max() if len(valid_dates) else pd.NaT
    else:
        end = pd.Timestamp(observation_end).normalize()
    date_rows = np.flatnonzero(np.isin(reason, [keys.index(k) for k in ("future_date", *DATE_REASONS)]))
    if len(date_rows):
        listed = pd.DataFrame({"row": date_rows, "d": dates.to_numpy()[date_rows],
                               "r": reason[date_rows]}).sort_values(["d", "row"])
        if len(listed) > MAX_LISTED_DATES:  # the earliest and the latest
            half = MAX_LISTED_DATES // 2
            listed = pd.concat([listed.head(half), listed.tail(half)])
        led.dates = [{"row": int(r) + row_offset, "order_date": pd.Timestamp(d).date().isoformat(),
                      "reason": keys[int(k)]} for r, d, k in zip(listed["row"], listed["d"], listed["r"])]

    has_rev = "revenue" in df.columns
    rev = df["revenue"].to_numpy(dtype=float, copy=True) if has_rev else None
    if "order_id" in df.columns:
        ids = pa.array(df["order_id"].astype("str").array)
        cancel = pc.fill_null(pc.match_substring_regex(ids, CANCELLATION_PATTERN, ignore_case=True), False)
        cancel = np.asarray(cancel.to_numpy(zero_copy_only=False), dtype=bool)
    else:
        cancel = np.zeros(n, dtype=bool)
    if has_rev:
        mark("bad_amount", np.isnan(rev))
        mark("zero_amount", rev == 0)
        rev = np.where(cancel, -np.abs(rev), rev)
        is_return = (rev < 0) | cancel
    else:
        is_return = cancel
    if returns == "drop" or not has_rev:
        mark("returns", is_return)
    if raw is not None:
        dup = raw.reset_index(drop=True).duplicated(keep="first") if isinstance(raw, pd.DataFrame) else raw
        mark("duplicate", np.asarray(dup, dtype=bool))

    counts = np.bincount(reason[reason >= 0], minlength=len(keys))
    led.dropped = {k: int(c) for k, c in zip(keys, counts)}
    keep = reason < 0
    out = df.loc[keep].copy()
    if has_rev:
        out["revenue"] = rev[keep]
    led.rows_kept = int(keep.sum())

    # customers: distinct ids per reason, in the file, on kept lines
    codes = pd.factorize(cid.where(~missing_id))[0]
    structural_rows = np.isin(reason, [keys.index(k) for k in STRUCTURAL])
    real = (codes >= 0) & ~structural_rows

    def distinct(mask: np.ndarray) -> int:
        return int(np.unique(codes[mask & real]).size)

    led.customers_read = distinct(np.ones(n, dtype=bool))
    led.customers_kept = distinct(keep)
    led.customers_any_dropped = distinct(~keep)
    led.dropped_customers = {k: (distinct(reason == i) if led.dropped[k] else 0) for i, k in enumerate(keys)}

    # flags (no drops)
    if has_rev and len(out):
        led.flags["returns_netted"] = int((out["revenue"] < 0).sum())
        pos = out["revenue"][out["revenue"] > 0]
        if len(pos):
            q1, med, q3 = np.quantile(pos.to_numpy(), [0.25, 0.5, 0.75])
            thr = float(med + outlier_factor * (q3 - q1))
            led.outlier_threshold = round(thr, 2)
            flagged = out[out["revenue"] > thr]
            led.flags["outliers"] = int(len(flagged))
            top = flagged.assign(_row=flagged.index.to_numpy() + row_offset).nlargest(MAX_LISTED_OUTLIERS, "revenue")
            led.outliers = [
                {"row": int(r), "customer_id": str(c), "order_date": d.date().isoformat(), "revenue": float(v)}
                for r, c, d, v in zip(top["_row"], top["customer_id"], top["order_date"], top["revenue"])
            ]
    cust = pd.factorize(out["customer_id"])[0] if len(out) else np.zeros(0, dtype=np.intp)
    if has_rev and len(out):
        net = np.bincount(cust, weights=out["revenue"].to_numpy())
        led.flags["nonpositive_customers"] = int((net <= 1e-9).sum())
    if "order_id" in out.columns and len(out):
        sel = (out["revenue"] > 0).to_numpy() if has_rev else np.ones(len(out), dtype=bool)
        day = out["order_date"].to_numpy()[sel].astype("datetime64[D]").astype(np.int64)
        order = pd.factorize(out["order_id"].to_numpy()[sel])[0]
        orders = pd.DataFrame({"c": cust[sel], "d": day, "o": order}).drop_duplicates()
        per_day = orders.groupby(["c", "d"], sort=False).size()
        led.flags["same_day_orders"] = int((per_day > 1).sum())
    led.check()
    return out.reset_index(drop=True), led, end


CUSTOMER_ROWS = {
    "customers_all_dropped": "Kunden ohne verbleibenden Kauf: alle Zeilen verworfen",
    "customers_no_purchase": ("Kunden ohne verbleibenden Kauf: nur Retouren oder Tage mit "
                              "Nettoumsatz ≤ 0"),
    "customers_with_purchase": "Kunden mit mindestens einem Kauf (ausgewertet)",
}
"""German row labels of the customer part of :func:`ledger_table`."""


def ledger_table(ledger: Ledger, customers: bool = False) -> pd.DataFrame:
    """German rows for the report: read, each drop reason, kept (columns ``Prüfschritt``, ``Zeilen``).

    Returns with ``cfg.data.returns == "net"`` are not a drop reason, so that row is
    omitted then; structural lines and implausible dates are listed when they occur; all other
    reasons are listed, also with 0.

    ``customers``: add the column ``Kundinnen und Kunden`` (distinct customers affected per rule,
    ``None`` where not applicable) and the rows accounting for every customer of the file: customers
    in the file = customers with at least one purchase + customers without a remaining purchase.
    """
    cust = ledger.dropped_customers
    rows = [("Gelesene Zeilen", ledger.rows_read, ledger.customers_read)]
    for key, label in DROP_LABELS.items():
        n = ledger.dropped.get(key, 0)
        if key == "returns" and ledger.returns_mode == "net" and ledger.has_revenue and n == 0:
            continue
        if key in ("bad_amount", "zero_amount") and not ledger.has_revenue:
            continue
        if (key in STRUCTURAL or key in DATE_REASONS) and n == 0:
            continue
        na = key in STRUCTURAL or key == "missing_customer"
        rows.append((label, n, None if na else cust.get(key, 0)))
    rows.append(("Verworfen insgesamt", ledger.rows_dropped, ledger.customers_any_dropped))
    rows.append(("Übernommene Zeilen", ledger.rows_kept, ledger.customers_kept))
    if not customers:
        return pd.DataFrame([r[:2] for r in rows], columns=["Prüfschritt", "Zeilen"])
    rows.append((CUSTOMER_ROWS["customers_all_dropped"], None, ledger.customers_all_dropped))
    if ledger.customers_with_purchase is not None:
        rows.append((CUSTOMER_ROWS["customers_no_purchase"], None, ledger.customers_no_purchase))
        rows.append((CUSTOMER_ROWS["customers_with_purchase"], None, ledger.customers_with_purchase))
    out = pd.DataFrame(rows, columns=["Prüfschritt", "Zeilen", "Kunden"])
    return out.astype({"Zeilen": "object", "Kunden": "object"})


def date_table(ledger: Ledger) -> pd.DataFrame:
    """Listed lines dropped for an implausible date (``Zeile``, ``Datum``, ``Grund``), sorted by date."""
    if not ledger.dates:
        return pd.DataFrame(columns=["Zeile", "Datum", "Grund"])
    df = pd.DataFrame(ledger.dates)
    return pd.DataFrame({
        "Zeile": df["row"].astype(int),
        "Datum": pd.to_datetime(df["order_date"]),
        "Grund": df["reason"].map(lambda k: DROP_LABELS[k].removeprefix("Verworfen: ")),
    })


def flags_table(ledger: Ledger) -> pd.DataFrame:
    """German rows for the counted flags (nothing dropped): columns ``Hinweis``, ``Anzahl``."""
    rows = []
    for key, label in FLAG_LABELS.items():
        if key in ("returns_netted", "outliers", "nonpositive_customers") and not ledger.has_revenue:
            continue
        if key == "returns_netted" and ledger.returns_mode == "drop":
            continue
        if key == "same_day_orders" and not ledger.has_order_id:
            continue
        rows.append((label, ledger.flags.get(key, 0)))
    return pd.DataFrame(rows, columns=["Hinweis", "Anzahl"])


def outlier_table(ledger: Ledger) -> pd.DataFrame:
    """Flagged outlier lines with German headers (``Zeile``, ``Kunde``, ``Datum``, ``Umsatz``)."""
    if not ledger.outliers:
        return pd.DataFrame(columns=["Zeile", "Kunde", "Datum", "Umsatz"])
    df = pd.DataFrame(ledger.outliers)
    return pd.DataFrame(
        {
            "Zeile": df["row"].astype(int),
            "Kunde": df["customer_id"].astype(str),
            "Datum": pd.to_datetime(df["order_date"]),
            "Umsatz": df["revenue"].astype(float),
        }
    )
