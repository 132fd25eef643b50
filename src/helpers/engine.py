"""Line-level work in an engine that streams and spills to disk (issue 17).

Clean Parquet (a folder of ``.parquet`` files or one file) is not read into pandas line by line:
reading, cleaning, the ledger counts and the aggregation to purchase days and customers are
Ibis expressions, written once and run by any Ibis backend – DuckDB in-process by default
(:func:`connect`), unchanged on Spark (``tests/test_spark.py``). Only small tables enter pandas:
the *compact line table* (one row per customer, day, category, channel and sign of the revenue
with ``revenue``/``quantity`` sums and ``n_lines``, see :mod:`helpers.dataset`), the ledger counts
and the distinct values of text columns that the robust parsers of :mod:`helpers.data` read.

The rules are those of :func:`helpers.validation.apply_rules`, in the same order, so the ledger
accounts for every line and every customer as for a CSV file. Exact duplicates are found by grouping
all columns of the file: identical lines fail the same rules, so a group of ``k`` identical lines is
either dropped ``k`` times for its first failing rule, or kept once and dropped ``k - 1`` times as a
duplicate. Structural lines are recognized on the mapped text columns (empty line: every column
empty). Listed lines (outliers, implausible dates) carry the line number counted over all files of the
folder in name order (the first of identical lines).

Speed and memory (issue 17): the distinct lines are computed once into a compressed in-memory table
(numbers bit-packed; each text expression evaluated once per distinct line); ledger counts and flags are
aggregations over it. The compact line table leaves the engine with customer IDs as integer codes:
only the distinct IDs come into Python, pseudonymized at once (DuckDB: HMAC-SHA256 computed in the
database, the same pseudonyms as :func:`helpers.privacy.pseudonymize`), the engine sorts by the codes,
and pandas gets the columns from Arrow after the connection is closed (its memory is free again).

The portable part is :func:`canonical`, :func:`with_reasons`, :func:`ledger_counts`, :func:`compact`,
:func:`purchases` and :func:`customers` (each takes and returns Ibis tables; :func:`aggregate` runs
them on any backend). :func:`load_parquet` is the DuckDB entry used by
:func:`helpers.data.load_dataset`.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .exceptions import DataValidationError

ROW = "__row"
"""Column with the 0-based line number over all files (DuckDB reader only)."""
MISSING_ID_TEXTS = ("", "nan", "NaN", "None", "<NA>")
ENGINE_MEMORY = os.environ.get("KUNDENWERT_ENGINE_MEMORY", "6GB")
"""DuckDB memory limit; beyond it the engine spills to a temporary folder."""
_KEEP = -1
COMPRESSED_DB = "kundenwert_engine"
"""DuckDB: an attached in-memory database whose tables are compressed (after a checkpoint)."""


def _ibis():
    import ibis

    return ibis


# --------------------------------------------------------------------------- files and backend


def parquet_files(path: Path) -> list[Path]:
    """The Parquet files of ``path`` (a folder: all ``*.parquet`` below it, sorted; a file: itself).

    German :class:`DataValidationError` for an empty folder or one without Parquet files, and for
    a file that is not readable Parquet.
    """
    import pyarrow.parquet as pq

    from .data import _fail

    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.parquet") if p.is_file() and not p.name.startswith((".", "_")))
        if not files:
            others = [p.name for p in sorted(path.iterdir())[:5]]
            found = ("Er enthält nur: " + ", ".join(f"„{n}“" for n in others) + ".") if others else "Er ist leer."
            raise DataValidationError(
                f"Ordner „{path.name}“: Es wurde keine Parquet-Datei (*.parquet) gefunden. {found} Als Ordner "
                "werden nur Parquet-Dateien gelesen; eine CSV- oder Excel-Datei bitte direkt angeben "
                "(--data datei.csv).")
    else:
        files = [path]
    for f in files:
        try:
            pq.ParquetFile(f).metadata  # noqa: B018 - reads the footer
        except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file
            raise _fail(f, "Die Parquet-Datei ist beschädigt oder keine Parquet-Datei und kann nicht gelesen "
                           "werden.") from exc
    return files


@dataclass
class Connection:
    """A DuckDB backend with a temporary folder for spill files, removed by :meth:`close`."""

    con: Any
    folder: Path

    def close(self) -> None:
        try:
            self.con.disconnect()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def connect(memory_limit: str = ENGINE_MEMORY) -> Connection:
    """The default backend: DuckDB in-process (in memory, beyond ``memory_limit`` spilling to a temporary
    folder)."""
    ibis = _ibis()
    folder = Path(tempfile.mkdtemp(prefix="kundenwert-engine-"))
    con = ibis.duckdb.connect(":memory:", memory_limit=memory_limit,
                              temp_directory=str(folder / "spill"), preserve_insertion_order=False)
    # The intermediate table of distinct lines (:func:`_materialize`) is kept compressed: numbers
    # bit-packed, dates run-length encoded; texts stay plain, since FSST/dictionary compression of
    # millions of IDs costs more time at the checkpoint than it saves (10 M lines: 0.5 GB instead of
    # 1.3 GB uncompressed; with FSST 0.15 GB but 3x the time).
    con.raw_sql("SET disabled_compression_methods = 'fsst,dict_fsst'")
    con.raw_sql(f"ATTACH ':memory:' AS {COMPRESSED_DB} (COMPRESS)")
    return Connection(con, folder)


def read_parquet(con: Any, files: list[Path]) -> Any:
    """The lines of ``files`` as an Ibis table of the DuckDB backend ``con``, plus :data:`ROW`
    (line number over all files in the given order). Files may differ in column order (by name)."""
    import pyarrow.parquet as pq

    offsets, total = {}, 0
    for f in files:
        offsets[str(f)] = total
        total += pq.ParquetFile(f).metadata.num_rows
    lst = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    case = " ".join(f"WHEN '{k.replace(chr(39), chr(39) * 2)}' THEN {v}" for k, v in offsets.items())
    sql = (f"SELECT * EXCLUDE (file_row_number, __file), file_row_number + (CASE __file {case} END) AS {ROW} "
           f"FROM read_parquet([{lst}], filename='__file', file_row_number=true, union_by_name=true)")
    con.raw_sql(f"CREATE OR REPLACE VIEW zeilen_datei AS {sql}")
    return con.table("zeilen_datei")


# --------------------------------------------------------------------------- column types


def _kind(dtype: Any) -> str:
    if dtype.is_temporal():
        return "date" if dtype.is_date() or dtype.is_timestamp() else "other"
    if dtype.is_boolean():
        return "bool"
    if dtype.is_integer():
        return "int"
    if dtype.is_floating() or dtype.is_decimal():
        return "float"
    if dtype.is_string():
        return "string"
    return "other"


def _distinct_values(t: Any, column: str) -> pd.Series:
    """Distinct non-missing values of ``column`` as a Series indexed by the first (0-based) line
    they occur in (for the robust parsers' messages), or by position without :data:`ROW`."""
    col = t[column]
    if ROW in t.columns:
        d = t.filter(col.notnull()).group_by(value=col).agg(row=t[ROW].min()).to_pandas()
        d = d.sort_values("row")
        return pd.Series(d["value"].to_numpy(dtype=object), index=d["row"].to_numpy(dtype=np.int64))
    d = t.filter(col.notnull()).select(value=col).distinct().to_pandas()
    return pd.Series(d["value"].to_numpy(dtype=object))


def _type_error(path: Path, t: Any, column: str, expected: str, files_note: str) -> DataValidationError:
    from .data import _examples, _fail

    sample = _distinct_values(t.select(*[c for c in (column, ROW) if c in t.columns]).limit(200_000), column)
    kind = str(t.schema()[column])
    ex = _examples(sample.astype(str), sample.index, offset=1) if len(sample) else "keine Werte"
    return _fail(path, f"Die Spalte „{column}“ hat den Typ {kind}; erwartet {expected}. Beispiele: {ex}."
                       f"{files_note} Bitte die Spaltenzuordnung prüfen (--map …).")


@dataclass
class LineSpec:
    """How the file's columns become canonical lines (decided from the schema and small probes)."""

    mapping: dict[str, str]
    raw_columns: list[str]
    id_kind: str = "string"
    """``int``, ``float`` (integral floats), ``string`` or ``string_dot0`` (``1001.0`` -> ``1001``)."""
    order_kind: str | None = None
    date_map: pd.DataFrame | None = None
    """Text/number date column: distinct value -> day (parsed by :func:`helpers.data.parse_dates`)."""
    amount_map: pd.DataFrame | None = None
    """Text revenue column: distinct value -> amount (:func:`helpers.data.parse_amounts`)."""
    quantity_numeric: bool = False
    decimal_used: str | None = None
    notes: list[str] = field(default_factory=list)


def inspect(t: Any, mapping: dict[str, str], cfg: Any, path: Path, files_note: str = "") -> LineSpec:
    """Check the mapped columns' types (German errors with examples) and parse the distinct values of
    text columns with the robust parsers of :mod:`helpers.data` (dates, amounts, IDs)."""
    from .data import _fail, _parse_amounts, parse_customer_ids, parse_dates

    schema = t.schema()
    raw = [c for c in t.columns if c != ROW]
    spec = LineSpec(mapping=dict(mapping), raw_columns=raw)

    def distinct(column: str) -> pd.Series:
        return _distinct_values(t, column)

    # customer IDs
    cid = mapping["customer_id"]
    kind = _kind(schema[cid])
    if kind == "int":
        spec.id_kind = "int"
    elif kind == "float":
        col = t[cid]
        frac = int(t.filter(col.notnull() & ~col.isnan() & (col != col.floor())).count().to_pyarrow().as_py())
        if frac:
            raise _type_error(path, t, cid, "Kundennummern (Text oder ganze Zahlen)", files_note)
        spec.id_kind = "float"
    elif kind == "string":
        col = t[cid].strip()
        # one pass over the lines for all probes: cheap tests on the file's text (trimming changes
        # neither) select the few lines the regular expressions have to look at
        cand = t.filter(t[cid].contains(".") | t[cid].contains("e") | t[cid].contains("E"))
        ccol = cand[cid].strip()
        dotted = cand[cid].contains(".")
        probe = cand.aggregate(sci=cand.count(where=ccol.re_search(r"^\d(?:[.,]\d+)?[eE]\+?\d+$")),
                               dotted=cand.count(where=dotted),
                               other=cand.count(where=dotted & ~ccol.re_search(r"^\d+\.0+$"))).to_pandas().iloc[0]
        if _count(probe["sci"]):
            sci = t.filter(col.re_search(r"^\d(?:[.,]\d+)?[eE]\+?\d+$"))
            parse_customer_ids(_distinct_values(sci.limit(1000), cid), path, cid, 1)  # raises the German error
        if _count(probe["dotted"]) and not _count(probe["other"]):
            spec.id_kind = "string_dot0"
    else:
        raise _type_error(path, t, cid, "Kundennummern (Text oder ganze Zahlen)", files_note)

    # dates
    dcol = mapping["order_date"]
    kind = _kind(schema[dcol])
    if kind == "date":
        if not int(t.filter(t[dcol].notnull()).count().to_pyarrow().as_py()):
            raise _fail(path, f"In der Spalte „{dcol}“ steht kein Datum.{files_note}")
    elif kind in ("string", "int", "float"):
        values = distinct(dcol)
        days = parse_dates(values, cfg.data.date_format, path, dcol, 1)  # German error when none is a date
        spec.date_map = pd.DataFrame({"__date_value": values.to_numpy(), "__date_day": days.to_numpy()})
    else:
        raise _type_error(path, t, dcol, "ein Datum (Datum, Zeitstempel oder Text wie 2024-03-15)", files_note)

    # revenue
    if "revenue" in mapping:
        rcol = mapping["revenue"]
        kind = _kind(schema[rcol])
        if not int(t.filter(t[rcol].notnull()).count().to_pyarrow().as_py()):
            spec.notes.append(f"Die Umsatzspalte „{rcol}“ ist leer; ausgewertet wird ohne Umsätze.")
            del spec.mapping["revenue"]
        elif kind == "string":
            values = distinct(rcol)
            amounts, spec.decimal_used = _parse_amounts(values, cfg.data.decimal, path, rcol, 1)
            if amounts.notna().sum() == 0:
                from .data import _examples
                raise _fail(path, f"In der Umsatzspalte „{rcol}“ steht keine lesbare Zahl. "
                                  f"Beispiele: {_examples(values, values.index, offset=1)}.")
            spec.amount_map = pd.DataFrame({"__amount_value": values.to_numpy(),
                                            "__amount": amounts.to_numpy(dtype=float)})
        elif kind not in ("int", "float"):
            raise _type_error(path, t, rcol, "Beträge (Zahlen)", files_note)

    if "order_id" in mapping:
        kind = _kind(schema[mapping["order_id"]])
        spec.order_kind = kind if kind in ("int", "float", "string") else "string"
    if "quantity" in mapping:
        if _kind(schema[mapping["quantity"]]) in ("int", "float"):
            spec.quantity_numeric = True
        else:
            spec.notes.append(f"Die Mengenspalte „{mapping['quantity']}“ enthält keine Zahlen; Mengen werden "
                              "nicht übernommen.")
            del spec.mapping["quantity"]
    return spec


# --------------------------------------------------------------------------- the portable expressions


def _id_text(col: Any, kind: str) -> Any:
    ibis = _ibis()
    if kind == "int":
        return col.cast("string")
    if kind == "float":
        return ibis.ifelse(col.isnan(), ibis.null("string"), col.cast("int64").cast("string"))
    text = col.cast("string").strip()
    for missing in MISSING_ID_TEXTS:  # nested NULLIFs: the text is trimmed once (an IN list repeats it)
        text = text.nullif(missing)
    if kind == "string_dot0":
        text = text.re_replace(r"^(\d+)\.0+$", r"\1")
    return text


def canonical(t: Any, spec: LineSpec) -> Any:
    """Distinct lines of the file with their count ``k`` and canonical columns: ``cid`` (text or
    null), ``day`` (date or null), ``rev`` (float, cancellations negative; null when unreadable),
    ``oid``, ``category``, ``channel``, ``quantity``, ``row`` (first line number, may be null),
    ``structural`` (reason id or null) and ``cancel`` (bool)."""
    from .data import _TOTAL_CELL, _TOTAL_PREFIX
    from .validation import CANCELLATION_PATTERN

    ibis = _ibis()
    m = spec.mapping
    raw = spec.raw_columns
    if ROW in t.columns:
        g = t.group_by(raw).agg(k=t.count(), row=t[ROW].min())
    else:
        g = t.group_by(raw).agg(k=t.count()).mutate(row=ibis.null("int64"))
    if spec.date_map is not None:
        dm = _small_table(t, spec.date_map.assign(__date_value=spec.date_map["__date_value"].astype(str)), "datum_werte")
        g = g.left_join(dm, g[m["order_date"]].cast("string") == dm["__date_value"])
        day = g["__date_day"].cast("date")
    else:
        day = g[m["order_date"]].cast("date")
    if spec.amount_map is not None:
        am = _small_table(t, spec.amount_map, "betrag_werte")
        g = g.left_join(am, g[m["revenue"]] == am["__amount_value"])
        rev = g["__amount"]
    elif "revenue" in m:
        rev = g[m["revenue"]].cast("float64")
        rev = ibis.ifelse(rev.isnan(), ibis.null("float64"), rev)
    else:
        rev = None

    # Three projections, each expression computed once (the SQL compilers inline an expression
    # wherever it is used: trimming, regular expressions and the cancellation test would repeat).
    schema = t.schema()
    structural = _structural(g, m, raw, schema, _TOTAL_PREFIX, _TOTAL_CELL)
    cols: dict[str, Any] = {
        "cid": _id_text(g[m["customer_id"]], spec.id_kind),
        "day": day,
        "k": g["k"],
        "row": g["row"],
        "structural": structural,
    }
    order_kind = {"int": "int", "float": "float"}.get(spec.order_kind, "string")
    if "order_id" in m:
        cols["oid"] = _id_text(g[m["order_id"]], order_kind)
    if rev is not None:
        cols["rev"] = rev
    for c in ("category", "channel"):
        if c in m:
            cols[c] = g[m[c]].cast("string").strip()
    if "quantity" in m:
        cols["quantity"] = g[m["quantity"]].cast("float64")
    if "order_id" in m and order_kind == "string":
        # on the file's text: the pattern skips leading blanks, and no missing-ID text
        # ("", "nan", "None", ...) or ``123.0`` starts like a cancellation
        cols["cancel"] = g[m["order_id"]].cast("string").re_search("(?i)" + CANCELLATION_PATTERN).fill_null(False)
    else:  # the text of a number never starts like a cancellation (S-, ST-, STORNO, C + digit)
        cols["cancel"] = ibis.literal(False)
    b = g.select(**cols)
    if rev is not None:
        b = b.mutate(rev=ibis.ifelse(b.cancel, -b.rev.abs(), b.rev))
    return b


def _structural(g: Any, m: Mapping[str, str], raw: list[str], schema: Any, prefix: str, cell: str) -> Any:
    """Reason id of a structural line (empty, repeated header, total line) or null."""
    from .validation import DROP_LABELS

    ibis = _ibis()
    keys = list(DROP_LABELS)

    def blank(c: str) -> Any:
        col = g[c]
        if schema[c].is_string():
            return col.isnull() | (col.strip() == "")
        return col.isnull()

    empty = ibis.literal(True)
    for c in sorted(raw, key=lambda c: schema[c].is_string()):  # cheap null tests first (AND stops early)
        empty = empty & blank(c)
    text_cols = [c for c in dict.fromkeys(m.values()) if schema[c].is_string()]
    header = ibis.literal(bool(text_cols) and len(text_cols) == len(set(m.values())))
    total = ibis.literal(False)
    prefix_cols = {m.get(k) for k in ("customer_id", "order_id", "order_date")} - {None}
    for c in text_cols:
        low = g[c].strip().lower()
        header = header & (low == str(c).strip().lower())
        pattern = prefix if c in prefix_cols else cell
        total = total | g[c].re_search("(?i)" + pattern).fill_null(False)
    return ibis.cases((empty, keys.index("empty_row")), (header, keys.index("header_row")),
                      (total, keys.index("total_row")), else_=ibis.null("int8"))


def _reason_id(key: str) -> int:
    from .validation import DROP_LABELS

    return list(DROP_LABELS).index(key)


def date_reasons(g: Any, today: dt.date, observation_end: pd.Timestamp | None) -> Any:
    """Rules 1–4 (structural, missing customer, bad date, after the run date / observation end) as
    ``pre`` (reason id or null)."""
    ibis = _ibis()
    late_key, limit = (("after_run_date", pd.Timestamp(today)) if observation_end is None
                       else ("future_date", pd.Timestamp(observation_end)))
    pre = ibis.cases(
        (g.structural.notnull(), g.structural.cast("int8")),
        (g.cid.isnull(), _reason_id("missing_customer")),  # canonical IDs are trimmed, never empty
        (g.day.isnull(), _reason_id("bad_date")),
        (g.day > ibis.date(limit.date()), _reason_id(late_key)),
        else_=ibis.null("int8"),
    )
    return g.mutate(pre=pre)


def outside_days(g: Any) -> list[dt.date]:
    """Days outside the main body of dates (:func:`helpers.validation.dates_outside_bulk`), decided
    from the lines per day (duplicates included, as in the CSV path)."""
    from .validation import DATE_GAP_MAX_DAYS, DATE_GAP_MIN_DAYS

    d = g.filter(g.pre.isnull()).group_by("day").agg(n=g.k.sum()).to_pandas()
    if len(d) < 2:
        return []
    d = d.sort_values("day")
    days = pd.to_datetime(d["day"]).to_numpy().astype("datetime64[D]").astype(np.int64)
    counts = d["n"].to_numpy(dtype=np.int64)
    q1, q3 = _weighted_quantiles(days, counts, (0.25, 0.75))
    limit = min(max(DATE_GAP_MIN_DAYS, q3 - q1), DATE_GAP_MAX_DAYS)
    part = np.concatenate([[0], np.cumsum(np.diff(days) > limit)])
    rows = np.bincount(part, weights=counts)
    main = int(np.argmax(rows))
    out = days[part != main]
    return [dt.date(1970, 1, 1) + dt.timedelta(days=int(x)) for x in out]


def _weighted_quantiles(values: np.ndarray, counts: np.ndarray, qs: tuple[float, ...]) -> list[float]:
    """``np.quantile(np.repeat(values, counts), qs)`` (linear method) without repeating."""
    cum = np.cumsum(counts)
    n = int(cum[-1])
    out = []
    for q in qs:
        h = (n - 1) * q
        lo = int(np.floor(h))
        hi = min(lo + 1, n - 1)
        a = values[np.searchsorted(cum, lo, side="right")]
        b = values[np.searchsorted(cum, hi, side="right")]
        out.append(float(a + (h - lo) * (b - a)))
    return out


def with_reasons(g: Any, outside: list[dt.date], returns: str = "net") -> Any:
    """All rules (:func:`helpers.validation.apply_rules` order) as ``reason`` (reason id, -1 = kept)."""
    ibis = _ibis()
    has_rev = "rev" in g.columns
    cases = [(g.pre.notnull(), g.pre.cast("int8"))]
    if outside:
        cases.append((g.day.isin(outside), _reason_id("implausible_date")))
    if has_rev:
        cases.append((g.rev.isnull(), _reason_id("bad_amount")))
        cases.append((g.rev == 0, _reason_id("zero_amount")))
        is_return = (g.rev < 0) | g.cancel
    else:
        is_return = g.cancel
    if returns == "drop" or not has_rev:
        cases.append((is_return, _reason_id("returns")))
    return g.mutate(reason=ibis.cases(*cases, else_=_KEEP).cast("int8"))


def ledger_counts(r: Any) -> pd.DataFrame:
    """Per reason id (-1 = kept): ``lines`` (sum of ``k``), ``groups`` (distinct lines),
    ``customers`` (distinct customers, structural lines excluded), ``dup_lines`` (``k - 1`` of kept
    lines: dropped as duplicates), ``dup_customers``."""
    structural = r.reason.isin([_reason_id(k) for k in ("empty_row", "header_row", "total_row")])
    cid = _ibis().ifelse(structural, _ibis().null("string"), r.cid)
    dup = r.k > 1
    return r.group_by("reason").agg(
        lines=r.k.sum(), groups=r.count(), customers=cid.nunique(),
        dup_lines=(r.k - 1).sum(), dup_customers=cid.nunique(where=dup),
    ).to_pandas()


def customer_totals(r: Any) -> dict[str, int]:
    """Distinct customers in the file, on kept lines and with a dropped line (structural excluded)."""
    structural = r.reason.isin([_reason_id(k) for k in ("empty_row", "header_row", "total_row")])
    real = r.filter(~structural & r.cid.notnull())
    kept = real.reason == _KEEP
    dropped = (real.reason != _KEEP) | (real.k > 1)
    # one grouping by customer instead of three distinct counts
    per = real.group_by("cid").agg(kept=kept.any(), dropped=dropped.any())
    row = per.aggregate(read=per.count(), kept=per.count(where=per.kept),
                        any_dropped=per.count(where=per.dropped)).to_pandas().iloc[0]
    return {k: _count(row[k]) for k in ("read", "kept", "any_dropped")}


def kept(r: Any) -> Any:
    """The kept lines (one per group of identical lines)."""
    return r.filter(r.reason == _KEEP)


def compact(r: Any) -> Any:
    """The compact line table of the kept lines: one row per ``customer_id``, ``order_date``
    (, ``category``, ``channel``) and sign of the revenue; ``revenue``, ``quantity`` (sums) and
    ``n_lines``. Revenue sums of positive and negative lines stay apart, so per-line questions (a
    category bought with revenue > 0, returns share) keep their answers."""
    k = kept(r)
    keys = {"customer_id": k.cid, "order_date": k.day}
    for c in ("category", "channel"):
        if c in k.columns:
            keys[c] = k[c]
    if "rev" in k.columns:
        keys["_neg"] = k.rev < 0
    aggs = {}
    if "rev" in k.columns:
        aggs["revenue"] = k.rev.sum()
    if "quantity" in k.columns:
        aggs["quantity"] = k.quantity.sum()
    aggs["n_lines"] = k.count()
    out = k.group_by(**keys).agg(**aggs)
    return out.drop("_neg") if "_neg" in out.columns else out


def purchases(lines: Any) -> Any:
    """Purchase days of a compact line table (:attr:`helpers.dataset.Dataset.purchases`): one row per
    customer and day with ``revenue`` (net) > 0 and ``n_lines``; every day without revenue."""
    aggs = {"n_lines": lines.n_lines.sum()}
    if "revenue" in lines.columns:
        aggs["revenue"] = lines.revenue.sum()
    p = lines.group_by("customer_id", "order_date").agg(**aggs)
    return p.filter(p.revenue > 0) if "revenue" in lines.columns else p


def customers(lines: Any) -> Any:
    """Customers of a compact line table (:attr:`helpers.dataset.Dataset.customers` without the
    day counts): ``first_purchase``, ``last_purchase``, ``n_purchases``, ``revenue`` (net, all lines)."""
    p = purchases(lines)
    c = p.group_by("customer_id").agg(first_purchase=p.order_date.min(), last_purchase=p.order_date.max(),
                                      n_purchases=p.count())
    if "revenue" in lines.columns:
        net = lines.group_by("customer_id").agg(revenue=lines.revenue.sum())
        c = c.join(net, "customer_id")
    return c


def customer_frame(c: pd.DataFrame, observation_end: pd.Timestamp) -> pd.DataFrame:
    """The engine's customers as :attr:`helpers.dataset.Dataset.customers` (index, types, day counts)."""
    out = c.set_index("customer_id").sort_index()
    out.index = out.index.astype("str")
    for col in ("first_purchase", "last_purchase"):
        out[col] = pd.to_datetime(out[col]).astype("datetime64[ns]")
    out["n_purchases"] = out["n_purchases"].astype(np.int64)
    cols = ["first_purchase", "last_purchase", "n_purchases"]
    if "revenue" in out.columns:
        out["revenue"] = out["revenue"].astype(float)
        cols.append("revenue")
    out = out[cols]
    out["tenure_days"] = (observation_end - out["first_purchase"]).dt.days
    out["recency_days"] = (observation_end - out["last_purchase"]).dt.days
    return out


# --------------------------------------------------------------------------- one run


@dataclass
class LineResult:
    """What :func:`aggregate` brings into pandas."""

    lines: pd.DataFrame | None
    """The compact line table, raw customer IDs, sorted by customer and day (``None`` when not
    fetched: :func:`load_parquet` fetches it with :func:`fetch_lines`)."""
    ledger: Any
    observation_end: pd.Timestamp | None
    customer_ids: pd.Series | None
    """Distinct non-missing customer IDs of the file (all lines), for pseudonymization."""
    has_order_id: bool = False
    rules: Any = None
    """The Ibis table of distinct lines with their ``reason`` (valid while the backend is open)."""


def aggregate(t: Any, spec: LineSpec, *, today: dt.date, observation_end: pd.Timestamp | None = None,
              returns: str = "net", outlier_factor: float = 10.0, cache: bool = True,
              fetch_lines: bool = True) -> LineResult:
    """Run the line-level work on the table ``t`` (any Ibis backend) and bring the small results into
    pandas: compact line table (with ``fetch_lines``), ledger (:class:`helpers.validation.Ledger`),
    observation end."""
    from .validation import DATE_REASONS, DROP_LABELS, MAX_LISTED_DATES, MAX_LISTED_OUTLIERS, Ledger

    g = date_reasons(canonical(t, spec), today, observation_end)
    if cache:
        g = _materialize(g, "zeilen_gruppen")
    outside = outside_days(g)
    r = with_reasons(g, outside, returns)  # a projection of g: cheap to recompute
    keys = list(DROP_LABELS)
    has_rev = "rev" in r.columns
    led = Ledger(returns_mode=returns, has_order_id="oid" in r.columns, has_revenue=has_rev,
                 run_date=pd.Timestamp(today).date().isoformat())

    counts = ledger_counts(r).set_index("reason")
    led.rows_read = int(counts["lines"].sum())
    led.rows_kept = int(counts["groups"].get(_KEEP, 0))
    led.dropped = {k: int(counts["lines"].get(i, 0)) for i, k in enumerate(keys)}
    led.dropped["duplicate"] = int(counts["dup_lines"].get(_KEEP, 0))
    led.dropped_customers = {k: (int(counts["customers"].get(i, 0)) if led.dropped[k] else 0)
                             for i, k in enumerate(keys)}
    led.dropped_customers["duplicate"] = int(counts["dup_customers"].get(_KEEP, 0)) if led.dropped["duplicate"] else 0
    for k in ("empty_row", "header_row", "total_row", "missing_customer"):
        led.dropped_customers[k] = 0
    totals = customer_totals(r)
    led.customers_read, led.customers_kept, led.customers_any_dropped = (
        totals["read"], totals["kept"], totals["any_dropped"])

    # observation end: last date kept by the date rules
    if observation_end is None:
        date_ok = ~r.reason.isin([_reason_id(k) for k in ("empty_row", "header_row", "total_row", "missing_customer",
                                                          "bad_date", "after_run_date", "implausible_date")])
        end_value = r.filter(date_ok).day.max().to_pyarrow().as_py()
        end = pd.Timestamp(end_value) if end_value is not None else None
    else:
        end = pd.Timestamp(observation_end).normalize()

    # listed dates
    date_ids = [_reason_id(k) for k in ("future_date", *DATE_REASONS)]
    n_dates = sum(led.dropped[k] for k in ("future_date", *DATE_REASONS))
    if n_dates:  # identical lines are listed once per line (with the first one's number)
        half = MAX_LISTED_DATES // 2
        dr = r.filter(r.reason.isin(date_ids)).select("row", "day", "reason", "k")
        ibis = _ibis()
        first = dr.order_by(["day", "row"]).limit(MAX_LISTED_DATES).to_pandas()
        first = first.loc[first.index.repeat(first["k"])]
        if n_dates <= MAX_LISTED_DATES:
            listed = first
        else:
            last = dr.order_by([ibis.desc("day"), ibis.desc("row")]).limit(MAX_LISTED_DATES).to_pandas().iloc[::-1]
            last = last.loc[last.index.repeat(last["k"])]
            listed = pd.concat([first.head(half), last.tail(half)])
        led.dates = [{"row": _row(rw), "order_date": pd.Timestamp(d).date().isoformat(), "reason": keys[int(k)]}
                     for rw, d, k in zip(listed["row"], listed["day"], listed["reason"])]

    k = kept(r)
    if has_rev and led.rows_kept:
        led.flags["returns_netted"] = int(k.filter(k.rev < 0).count().to_pyarrow().as_py())
        pos = k.filter(k.rev > 0)
        q = pos.aggregate(q1=pos.rev.quantile(0.25), med=pos.rev.quantile(0.5), q3=pos.rev.quantile(0.75),
                          n=pos.count()).to_pandas().iloc[0]
        if int(q["n"]):
            thr = float(q["med"] + outlier_factor * (q["q3"] - q["q1"]))
            led.outlier_threshold = round(thr, 2)
            flagged = k.filter(k.rev > thr)
            led.flags["outliers"] = int(flagged.count().to_pyarrow().as_py())
            top = (flagged.select("row", "cid", "day", "rev")
                   .order_by([_ibis().desc("rev"), "row"]).limit(MAX_LISTED_OUTLIERS).to_pandas())
            led.outliers = [{"row": _row(rw), "customer_id": str(c), "order_date": pd.Timestamp(d).date().isoformat(),
                             "revenue": float(v)} for rw, c, d, v in zip(top["row"], top["cid"], top["day"], top["rev"])]
        net = k.group_by("cid").agg(net=k.rev.sum())
        led.flags["nonpositive_customers"] = int(net.filter(net.net <= 1e-9).count().to_pyarrow().as_py())
    if "oid" in k.columns and led.rows_kept:
        sel = k.filter(k.rev > 0) if has_rev else k
        oid = sel.oid.fill_null("\u001f-ohne-\u001f")  # more than one order number <=> smallest != largest
        per_day = sel.group_by("cid", "day").agg(lo=oid.min(), hi=oid.max())
        led.flags["same_day_orders"] = int(per_day.filter(per_day.lo != per_day.hi).count().to_pyarrow().as_py())
    has_order_id = "oid" in k.columns and bool(int(k.filter(k.oid.notnull()).count().to_pyarrow().as_py()))

    lines = ids = None
    if fetch_lines:
        lines = compact(r).order_by(["customer_id", "order_date"]).to_pandas()
        ids = r.filter(r.cid.notnull()).select("cid").distinct().to_pandas()["cid"]
    led.check()
    return LineResult(lines=lines, ledger=led, observation_end=end, customer_ids=ids, has_order_id=has_order_id,
                      rules=r)


def _small_table(t: Any, df: Any, name: str) -> Any:
    """A small pandas or Arrow table next to ``t`` (DuckDB: a registered table, so that compiled SQL
    sees it)."""
    backend = t._find_backend()
    if getattr(backend, "name", "") == "duckdb":
        backend.con.register(name, df)
        return backend.table(name)
    return _ibis().memtable(df)


def _materialize(expr: Any, name: str) -> Any:
    """Compute ``expr`` once: DuckDB: a compressed in-memory table (:func:`connect`; about 40 % of the
    plain one, spills to the temporary folder beyond the memory limit), else ``cache()``."""
    backend = expr._find_backend()
    if getattr(backend, "name", "") == "duckdb":
        backend.raw_sql(f"ATTACH IF NOT EXISTS ':memory:' AS {COMPRESSED_DB} (COMPRESS)")
        backend.raw_sql(f'CREATE OR REPLACE TABLE {COMPRESSED_DB}.main."{name}" AS {backend.compile(expr)}')
        backend.raw_sql(f"CHECKPOINT {COMPRESSED_DB}")  # compresses the table
        return backend.table(name, database=COMPRESSED_DB)
    return expr.cache()


def _count(value: Any) -> int:
    """A count from the backend (a filtered count over no rows is null on some backends, e.g. Spark)."""
    return 0 if value is None or pd.isna(value) else int(value)


def _row(value: Any) -> int:
    """Line number shown to users (1-based data line; 0 when the backend gives none)."""
    return 0 if value is None or pd.isna(value) else int(value) + 1


# --------------------------------------------------------------------------- the loader


def _files_note(files: list[Path]) -> str:
    if len(files) < 2:
        return ""
    import pyarrow.parquet as pq

    parts, start = [], 1
    for f in files[:3]:
        n = pq.ParquetFile(f).metadata.num_rows
        parts.append(f"„{f.name}“: Zeilen {start}–{start + n - 1}")
        start += n
    more = f" und {len(files) - 3} weitere" if len(files) > 3 else ""
    return (" (Zeilennummern zählen über alle Parquet-Dateien des Ordners in Namensreihenfolge: "
            + ", ".join(parts) + more + ")")


def load_parquet(path: str | Path, cfg: Any, key: bytes | None = None, *, today: dt.date | None = None) -> Any:
    """:func:`helpers.data.load_dataset` for a Parquet folder or file, through the engine.

    Same checks, messages, ledger, pseudonymization and Dataset as the CSV path, but the Dataset's
    ``transactions`` is the compact line table (``n_lines``; no ``order_id`` column).
    """
    from . import fmt, privacy
    from .data import (CANONICAL, _check_dates, _fail, detect_currency, finish_dataset, map_columns,
                       unique_headers)
    from .validation import DROP_LABELS

    path = Path(path)
    today = today or getattr(cfg, "report_date", None) or dt.date.today()
    if not path.exists():
        raise _fail(path, f"Die Datei wurde nicht gefunden ({path}).")
    files = parquet_files(path)
    note = _files_note(files)
    with connect() as conn:
        t = read_parquet(conn.con, files)
        columns = [c for c in t.columns if c != ROW]
        names, original = unique_headers(columns)
        if names != columns:  # empty or repeated names (only possible across differing files)
            raise _fail(path, "Die Spaltennamen der Parquet-Dateien sind leer oder doppelt: "
                              + ", ".join(f"„{c}“" for c in columns) + ".")
        n_rows = int(t.count().to_pyarrow().as_py())
        if n_rows == 0:
            raise _fail(path, "Die Parquet-Datei enthält keine Datenzeilen." if len(files) == 1 else
                        "Die Parquet-Dateien des Ordners enthalten keine Datenzeilen.")
        mapping = map_columns(columns, cfg.data.column_map, path, original)
        spec = inspect(t, mapping, cfg, path, note)
        mapping = spec.mapping
        currency, currency_source = detect_currency(_currency_sample(t, mapping, original), mapping, original,
                                                    cfg.currency, path, 1)
        obs_end = pd.Timestamp(cfg.observation_end) if cfg.observation_end is not None else None
        res = aggregate(t, spec, today=today, observation_end=obs_end, returns=cfg.data.returns,
                        outlier_factor=cfg.data.outlier_factor, fetch_lines=False)
        ledger = res.ledger
        _check_dates(path, ledger, cfg)
        if ledger.rows_kept == 0:
            raise _fail(path, "Nach der Prüfung bleibt keine gültige Zeile übrig ("
                              + "; ".join(f"{DROP_LABELS[k]}: {v}" for k, v in ledger.dropped.items() if v) + ").")
        if cfg.pseudonymize:
            key = key if key is not None else privacy.new_key()
        fetched = list(_lines_arrow(res.rules, key if cfg.pseudonymize else None))
        res.rules = t = None  # nothing refers to the engine's tables any more
    lines, rename = _lines_frame(fetched)  # after the engine has given back its memory
    for o, shown in zip(ledger.outliers, rename([o["customer_id"] for o in ledger.outliers])):
        o["customer_id"] = shown
    order = [c for c in CANONICAL if c in lines.columns] + ["n_lines"]
    lines = lines[order]
    sources = {c: mapping[c] for c in CANONICAL if c in mapping and (c in lines.columns or
                                                                     (c == "order_id" and res.has_order_id))}
    kind = "Parquet-Datei" if len(files) == 1 and path.is_file() else f"Parquet-Ordner ({fmt.integer(len(files))} "\
        f"{'Datei' if len(files) == 1 else 'Dateien'})"
    notes = [f"Gelesen als {kind}; Zeilen geprüft und zusammengefasst in der Datenbank-Engine DuckDB."]
    notes += spec.notes
    return finish_dataset(path, cfg, mapping, ledger, transactions=lines, observation_end=res.observation_end,
                          notes=notes, sources=sources, currency=currency, currency_source=currency_source)


def fetch_lines(r: Any, key: bytes | None) -> tuple[pd.DataFrame, Any]:
    """The compact line table of the rules table ``r`` (:attr:`LineResult.rules`) in pandas, as the
    Dataset wants it: ``customer_id`` (``str``; pseudonymized with ``key`` unless ``None``),
    ``order_date`` (``datetime64[ns]``), ``category``/``channel`` (``category``, categories sorted),
    ``revenue``/``quantity`` (float), ``n_lines`` (int64), sorted by customer and day.

    Returns the table and a function mapping raw customer IDs (a list) to the ones shown (for the
    ledger's outlier list). Customer IDs travel as integer codes: only the distinct IDs of the file come into
    Python (pseudonymized all at once, as :func:`helpers.privacy.pseudonymize` on the CSV path, so the
    pseudonyms are the same), the backend sorts by the codes (their order is that of the shown IDs),
    and the ``customer_id`` column is built by one ``take`` on the sorted names.
    """
    return _lines_frame(list(_lines_arrow(r, key)))


def _lines_arrow(r: Any, key: bytes | None) -> tuple[Any, Any, np.ndarray, np.ndarray]:
    """The backend's part of :func:`fetch_lines`: the sorted compact lines as an Arrow table (customer
    as ``__code``), the shown IDs in code order (Arrow), the raw distinct IDs and their shown IDs."""
    import pyarrow as pa

    from . import privacy

    distinct = r.filter(r.cid.notnull()).select("cid").distinct()
    names = order = None
    if key is not None:
        heads = _hmac_heads(distinct, key)
        if heads is not None:
            ids, head = heads
            names, order = _pseudonyms_from_heads(head)
    if names is None:
        ids = distinct.to_pyarrow()["cid"]
    raw = np.asarray(ids.to_numpy(zero_copy_only=False) if len(ids) else [], dtype=object)
    if names is None:
        names = (privacy.pseudonymize(pd.Series(raw, dtype=object), key).to_numpy(dtype=object) if key is not None
                 else raw)
        order = np.argsort(names.astype(str), kind="stable")
    code = np.empty(len(names), dtype=np.int32)
    code[order] = np.arange(len(names), dtype=np.int32)
    codes = _small_table(r, pa.table({"__cid": ids, "__code": pa.array(code)}), "kunden_codes")
    c = compact(r)
    j = c.join(codes, c.customer_id == codes["__cid"])
    value_cols = [x for x in ("category", "channel", "revenue", "quantity", "n_lines") if x in c.columns]
    j = j.select("__code", "order_date", *value_cols)
    keys = ["__code", "order_date"] + [x for x in ("category", "channel", "revenue") if x in value_cols]
    # streamed in batches: a whole result would exist twice for a moment (the engine's and Arrow's)
    reader = j.order_by(keys).to_pyarrow_batches(chunk_size=1_000_000)
    tbl = pa.Table.from_batches(list(reader), schema=reader.schema)
    sorted_names = pa.array(names[order].astype(str) if len(names) else [], type=pa.string())
    return tbl, sorted_names, raw, names


def _lines_frame(parts: list) -> tuple[pd.DataFrame, Any]:
    """The pandas part of :func:`fetch_lines` (no backend needed: runs after the connection is closed,
    so that the engine's memory is free again). ``parts`` is what :func:`_lines_arrow` returns, as a
    list that is emptied, so that each Arrow column is freed once it is converted."""
    import pyarrow as pa

    tbl, sorted_names, raw, names = parts
    parts.clear()
    str_dtype = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' ``str``
    value_cols = [c for c in tbl.column_names if c not in ("__code", "order_date")]

    def take(col: str) -> Any:  # a column out of the Arrow table, whose memory is then free again
        nonlocal tbl
        values = tbl[col]
        tbl = tbl.drop_columns([col])
        return values

    shown = sorted_names.take(take("__code")).to_pandas(types_mapper={pa.string(): str_dtype}.get)
    out = {"customer_id": pd.Series(shown, dtype="str")}
    del shown
    out["order_date"] = take("order_date").to_numpy().astype("datetime64[ns]")
    for col in ("category", "channel"):
        if col in value_cols:
            out[col] = _categorical(take(col))
    for col in ("revenue", "quantity"):
        if col in value_cols:
            out[col] = take(col).to_numpy().astype(float)
    out["n_lines"] = take("n_lines").to_numpy().astype(np.int64)
    lines = pd.DataFrame(out, copy=False)
    del out

    def rename(values: list[str]) -> list[str]:
        pos = pd.Index(raw).get_indexer(values) if values else []
        return [str(names[p]) if p >= 0 else v for p, v in zip(pos, values)]

    return lines, rename


def _hmac_sha256_pads(key: bytes) -> tuple[bytes, bytes]:
    """Inner and outer padded keys of HMAC-SHA256 (RFC 2104), as :func:`helpers.privacy._hmac_sha256`."""
    import hashlib

    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return bytes(c ^ 0x36 for c in key), bytes(c ^ 0x5C for c in key)


def _hmac_heads(ids: Any, key: bytes | str | Path) -> tuple[Any, np.ndarray] | None:
    """DuckDB only: the distinct IDs ``ids`` (an Ibis table with column ``cid``) and the first 8 bytes
    (big-endian) of HMAC-SHA256(key, id) of each, computed in the database (``sha256`` on bytes, in
    parallel); ``None`` on other backends (then :func:`helpers.privacy.pseudonymize` hashes in Python)."""
    from . import privacy

    backend = ids._find_backend()
    if getattr(backend, "name", "") != "duckdb":
        return None
    ipad, opad = _hmac_sha256_pads(privacy._as_key(key))
    sql = (f"SELECT cid, ('0x' || substr(sha256(unhex('{opad.hex()}') || unhex(sha256(unhex('{ipad.hex()}') "
           f"|| encode(cid)))), 1, 16))::UBIGINT AS head FROM ({backend.compile(ids)}) AS ids")
    tbl = backend.con.sql(sql).fetch_arrow_table()
    return tbl["cid"], tbl["head"].to_numpy().astype(np.uint64)


def _pseudonyms_from_heads(head: np.ndarray) -> tuple[np.ndarray, np.ndarray] | tuple[None, None]:
    """Pseudonyms (:func:`helpers.privacy.pseudonymize`: ``PS-`` + the shortest distinct hex prefix of
    4, 6 or 8 bytes) from the digests' first 8 bytes, and the order that sorts them; ``(None, None)``
    when 8 bytes are not distinct (then the Python path gives the 32-byte names)."""
    from . import privacy

    if len(head) == 0:
        return np.array([], dtype=object), np.array([], dtype=np.int64)
    n_bytes = privacy._short_length(head.astype(">u8").view(np.uint8).reshape(-1, 8))
    if n_bytes > 8:  # pragma: no cover - 64-bit prefix collision
        return None, None
    digests = head.astype(">u8").view(np.uint8).reshape(-1, 8)[:, :n_bytes]
    hexed = privacy._HEX[privacy._nibbles(digests)].view(f"S{2 * n_bytes}").ravel().astype(f"U{2 * n_bytes}")
    names = np.char.add(privacy.PREFIX, hexed).astype(object)
    order = np.argsort(head >> np.uint64(8 * (8 - n_bytes)), kind="stable")  # the names' order
    return names, order


def _categorical(values: Any) -> pd.Categorical:
    """An Arrow string column as ``astype("category")`` of its ``str`` Series gives it (categories
    sorted, missing values as -1), built from Arrow's dictionary encoding (no Python strings per row)."""
    import pyarrow.compute as pc

    enc = pc.dictionary_encode(values.combine_chunks() if hasattr(values, "combine_chunks") else values)
    cats = np.asarray(enc.dictionary.to_pylist(), dtype=object)
    order = np.argsort(cats.astype(str), kind="stable")
    remap = np.empty(len(cats) + 1, dtype=np.int64)
    remap[order] = np.arange(len(cats))
    remap[-1] = -1
    idx = enc.indices.fill_null(-1) if enc.indices.null_count else enc.indices
    codes = remap[np.asarray(idx.to_numpy(zero_copy_only=False), dtype=np.int64)]
    dtype = pd.CategoricalDtype(pd.Index(cats[order].tolist(), dtype="str"))
    return pd.Categorical.from_codes(codes, dtype=dtype)


def _currency_sample(t: Any, mapping: Mapping[str, str], original: Mapping[str, str]) -> pd.DataFrame:
    """The columns :func:`helpers.data.detect_currency` looks at, as distinct values: the revenue
    column (text only; numbers name no currency) and a currency column."""
    from .data import CURRENCY_COLUMN_NAMES, normalize_header

    schema = t.schema()
    cols: dict[str, pd.Series] = {}
    rev = mapping.get("revenue")
    if rev is not None:
        cols[rev] = (_distinct_values(t, rev).astype(object) if schema[rev].is_string()
                     else pd.Series([], dtype=float))
    for c in t.columns:
        if c != ROW and c not in set(mapping.values()) and normalize_header(original.get(c, c)) in CURRENCY_COLUMN_NAMES:
            cols[c] = _distinct_values(t, c).astype(object).reset_index(drop=True)
            break
    if not cols:
        return pd.DataFrame()
    return pd.concat(cols, axis=1) if len(cols) > 1 else pd.DataFrame(cols)
