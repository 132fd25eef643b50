"""Data-quality rules and the ledger that accounts for every line of the client file.

Invariant (checked in :meth:`Ledger.check`): rows read = rows kept + sum of drops.

Rules applied by :func:`apply_rules`, in this order (a line is dropped for the
first rule it fails):

1. missing customer ID;
2. date missing or not parseable;
3. date after the observation end ("future");
4. amount not numeric (only with a revenue column);
5. amount exactly 0;
6. returns/cancellations (negative lines, or invoice numbers marked as
   cancellation: ``S-``, ``ST-``, ``Storno``, ``C`` + digit): kept and netted
   (``cfg.data.returns == "net"``) or dropped (``"drop"``). A marked cancellation
   with a positive amount is counted as negative;
7. exact duplicate rows (all columns of the file identical, incl. columns not used).

Flags that never drop a line: returns netted, customer-days with several orders
(merged into one purchase by ``Dataset.purchases``), outliers (line revenue >
median + ``outlier_factor`` x IQR of positive lines; listed), customers whose net
revenue is <= 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .labels import DROP_LABELS, FLAG_LABELS

MAX_LISTED_OUTLIERS = 200
CANCELLATION_PATTERN = r"^\s*(?:S-|ST-|STORNO|C\d)"


class LedgerError(AssertionError):
    """The ledger does not add up (a programming error, not a data problem)."""


@dataclass
class Ledger:
    """Accounts for every line: read, kept, dropped per reason, and flags."""

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

    @property
    def rows_dropped(self) -> int:
        return int(sum(self.dropped.values()))

    def check(self) -> "Ledger":
        """Raise :class:`LedgerError` unless rows read = rows kept + sum of drops."""
        if self.rows_read != self.rows_kept + self.rows_dropped:
            raise LedgerError(
                f"ledger mismatch: read {self.rows_read} != kept {self.rows_kept} + dropped {self.rows_dropped}"
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
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Ledger":
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
        )
        return led.check()


def apply_rules(
    df: pd.DataFrame,
    raw: pd.DataFrame | np.ndarray | None,
    observation_end: pd.Timestamp | None,
    returns: str = "net",
    outlier_factor: float = 10.0,
    row_offset: int = 2,
) -> tuple[pd.DataFrame, Ledger, pd.Timestamp]:
    """Apply the rules to parsed canonical columns; return ``(kept lines, ledger, observation_end)``.

    ``df`` has ``customer_id`` (str or missing), ``order_date`` (datetime64 or NaT),
    optionally ``revenue`` (float or NaN), ``order_id`` and other canonical columns,
    ``raw`` (same row order) is the file as read, used for
    exact-duplicate detection, or already the boolean duplicate mask (saves memory). ``observation_end`` ``None`` = last valid order date.
    ``row_offset`` converts the 0-based position to the line number shown to users.
    """
    df = df.reset_index(drop=True)
    n = len(df)
    led = Ledger(rows_read=n, returns_mode=returns, has_order_id="order_id" in df.columns,
                 has_revenue="revenue" in df.columns)
    reason = np.full(n, -1, dtype=np.int8)
    keys = list(DROP_LABELS)

    def mark(key: str, mask: np.ndarray) -> None:
        m = mask & (reason < 0)
        reason[m] = keys.index(key)

    cid = df["customer_id"]
    mark("missing_customer", (cid.isna() | (cid.astype("str").str.strip() == "")).to_numpy(dtype=bool, na_value=True))
    dates = df["order_date"]
    mark("bad_date", dates.isna().to_numpy())
    valid_dates = dates[reason < 0]
    if observation_end is None:
        end = valid_dates.max() if len(valid_dates) else pd.NaT
    else:
        end = pd.Timestamp(observation_end).normalize()
        mark("future_date", (dates > end).to_numpy())

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


def ledger_table(ledger: Ledger) -> pd.DataFrame:
    """German rows for the report: read, each drop reason, kept (columns ``Prüfschritt``, ``Zeilen``).

    Returns with ``cfg.data.returns == "net"`` are not a drop reason, so that row is
    omitted then; all other reasons are listed, also with 0.
    """
    rows = [("Gelesene Zeilen", ledger.rows_read)]
    for key, label in DROP_LABELS.items():
        if key == "returns" and ledger.returns_mode == "net" and ledger.has_revenue and ledger.dropped[key] == 0:
            continue
        if key in ("bad_amount", "zero_amount") and not ledger.has_revenue:
            continue
        rows.append((label, ledger.dropped.get(key, 0)))
    rows.append(("Verworfen insgesamt", ledger.rows_dropped))
    rows.append(("Übernommene Zeilen", ledger.rows_kept))
    return pd.DataFrame(rows, columns=["Prüfschritt", "Zeilen"])


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
