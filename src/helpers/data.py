"""Reading client exports into a :class:`~helpers.dataset.Dataset`.

:func:`load_dataset` reads CSV (also ``.csv.gz``), Excel (``.xlsx``) and Parquet,
detects the CSV dialect (separator ``, ; TAB |``, encoding UTF-8 with/without BOM
or cp1252/latin-1, decimal comma with thousands separators), recognizes the usual
German and English column names (or uses ``cfg.data.column_map``), parses dates
(``dd.mm.yyyy``, ``yyyy-mm-dd``, with or without time; ``mm/dd/yyyy`` only with an
explicit ``cfg.data.date_format``), applies the data-quality rules of
:mod:`helpers.validation` and pseudonymizes customer IDs (:mod:`helpers.privacy`).

Only the canonical columns are carried over; free-text columns such as names,
e-mail addresses or street addresses never reach the Dataset.
Problems with the file raise :class:`~helpers.exceptions.DataValidationError`
with a German message naming the file, the column and example rows.
"""

from __future__ import annotations

import codecs
import gzip
import re
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .config import ReportConfig
from .dataset import Dataset
from .exceptions import DataValidationError

CANONICAL = ("customer_id", "order_date", "revenue", "order_id", "category", "channel", "quantity")
REQUIRED = ("customer_id", "order_date")

GERMAN_NAMES = {
    "customer_id": "Kundennummer",
    "order_date": "Datum",
    "revenue": "Umsatz",
    "order_id": "Bestellnummer",
    "category": "Warengruppe",
    "channel": "Kanal",
    "quantity": "Menge",
}
"""German name of each canonical column, for messages."""

SYNONYMS: dict[str, tuple[str, ...]] = {
    "customer_id": (
        "kundennummer", "kundennr", "kundenid", "kunde", "kundeid", "kdnr", "kundenkennung",
        "debitor", "debitornr", "debitorennummer", "debitornummer",
        "customerid", "customer", "customerno", "customernumber", "customernr", "clientid", "buyerid",
    ),
    "order_date": (
        "datum", "bestelldatum", "rechnungsdatum", "belegdatum", "auftragsdatum", "kaufdatum",
        "buchungsdatum", "verkaufsdatum", "transaktionsdatum",
        "date", "orderdate", "invoicedate", "purchasedate", "transactiondate", "saledate",
    ),
    "revenue": (
        "umsatz", "betrag", "nettoumsatz", "nettobetrag", "umsatznetto", "betragnetto", "netto",
        "nettowert", "umsatzbetrag", "positionswert",
        "amount", "revenue", "sales", "netrevenue", "netamount", "netsales", "value", "ordervalue",
        "linetotal",
    ),
    "order_id": (
        "bestellnummer", "bestellnr", "rechnungsnummer", "rechnungsnr", "belegnummer", "belegnr",
        "auftragsnummer", "auftragsnr", "bestellid", "beleg",
        "orderid", "ordernumber", "orderno", "invoiceid", "invoicenumber", "invoiceno", "invoice",
        "transactionid",
    ),
    "category": (
        "warengruppe", "kategorie", "produktkategorie", "produktgruppe", "artikelgruppe",
        "category", "productcategory", "productgroup",
    ),
    "channel": (
        "kanal", "vertriebsweg", "vertriebskanal", "verkaufskanal", "bestellkanal",
        "channel", "saleschannel", "orderchannel",
    ),
    "quantity": ("menge", "anzahl", "stueck", "stueckzahl", "quantity", "qty"),
}
"""Normalized header names (see :func:`normalize_header`) recognized per canonical column."""

SEPARATORS = (",", ";", "\t", "|")
_SEP_ALIASES = {"tab": "\t", "TAB": "\t", "\\t": "\t", "Tabulator": "\t"}
_UNIT_RE = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]\s*$")
_UNIT_WORDS = re.compile(r"(?:\s*(?:in|im|inkl|exkl|zzgl)?\s*(?:eur|euro|€|netto))+\s*$")
_SAMPLE_BYTES = 1 << 20


def normalize_header(name: object) -> str:
    """``"Umsatz (€)"`` -> ``"umsatz"``, ``"Kunden-Nr."`` -> ``"kundennr"``, ``"Betrag in EUR"`` -> ``"betrag"``.

    Lower case, umlauts folded (ä -> ae, ß -> ss), unit suffixes in brackets or
    words like ``in EUR``/``€`` removed, then only letters and digits kept.
    """
    s = str(name).strip().lower().lstrip("\ufeff")
    s = s.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    s = _UNIT_RE.sub("", s)
    s = s.replace("_", " ").replace("-", " ")
    stripped = _UNIT_WORDS.sub("", s)
    s = stripped if re.sub(r"[^0-9a-z]", "", stripped) else s
    return re.sub(r"[^0-9a-z]", "", s)


def _fail(path: Path, msg: str) -> DataValidationError:
    return DataValidationError(f"Datei „{path.name}“: {msg}")


def _examples(values: pd.Series, rows: pd.Index | np.ndarray, k: int = 3, offset: int = 2) -> str:
    """``Zeile 5: '31.02.2024', Zeile 9: 'gestern'`` for messages (line numbers incl. header)."""
    parts = [f"Zeile {int(r) + offset}: '{v}'" for r, v in list(zip(rows, values))[:k]]
    return ", ".join(parts)


# --------------------------------------------------------------------------- reading


def _sniff_bytes(path: Path) -> bytes:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            return fh.read(_SAMPLE_BYTES)
    except (OSError, EOFError) as exc:
        raise _fail(path, f"Die Datei kann nicht gelesen werden ({exc}).") from exc


def _detect_encoding(sample: bytes, full_read: bool) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    cut = sample if full_read else sample[: sample.rfind(b"\n") + 1 or len(sample)]
    try:
        cut.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        cut.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _looks_binary(sample: bytes) -> bool:
    head = sample[:4096]
    if b"\x00" in head:
        return True
    ctrl = sum(1 for b in head if b < 9 or 13 < b < 32)
    return len(head) > 0 and ctrl / len(head) > 0.05


def _detect_separator(lines: list[str]) -> str:
    """Separator whose count per line is most consistent (quoted fields are ignored)."""
    best, best_score = ",", (-1.0, -1)
    clean = [re.sub(r'"[^"]*"', "", ln) for ln in lines if ln.strip()][:50]
    for sep in SEPARATORS:
        counts = [ln.count(sep) for ln in clean]
        if not counts or max(counts) == 0:
            continue
        mode = max(set(counts), key=counts.count)
        if mode == 0:
            continue
        score = (sum(c == mode for c in counts) / len(counts), mode)
        if score > best_score:
            best, best_score = sep, score
    return best


def read_table(path: Path, cfg: ReportConfig) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read the file as it is (CSV cells as strings); returns ``(frame, info)``.

    ``info`` describes what was detected: ``format``, ``encoding``, ``separator``.
    """
    path = Path(path)
    if not path.exists():
        raise _fail(path, f"Die Datei wurde nicht gefunden ({path}).")
    if path.is_dir():
        raise _fail(path, "Das ist ein Ordner, keine Datei.")
    if path.stat().st_size == 0:
        raise _fail(path, "Die Datei ist leer.")
    with open(path, "rb") as fh:
        magic = fh.read(8)
    name = path.name.lower()
    if magic.startswith(b"PAR1") or name.endswith(".parquet"):
        try:
            df = pd.read_parquet(path)
        except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file
            raise _fail(path, f"Die Parquet-Datei kann nicht gelesen werden ({exc}).") from exc
        return df, {"format": "Parquet"}
    if magic.startswith(b"PK") or name.endswith((".xlsx", ".xlsm")):
        return _read_excel(path, cfg), {"format": "Excel"}
    if name.endswith((".xls",)):
        raise _fail(path, "Das alte Excel-Format .xls wird nicht unterstützt. Bitte als .xlsx oder CSV speichern.")
    return _read_csv(path, cfg)


def _read_excel(path: Path, cfg: ReportConfig) -> pd.DataFrame:
    sheet: str | int = cfg.data.sheet if cfg.data.sheet is not None else 0
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except Exception as exc:  # noqa: BLE001
        raise _fail(path, f"Die Excel-Datei kann nicht gelesen werden ({exc}).") from exc
    with book:
        if isinstance(sheet, str) and sheet not in book.sheet_names:
            raise _fail(
                path,
                f"Das Tabellenblatt „{sheet}“ fehlt. Vorhanden: " + ", ".join(f"„{s}“" for s in book.sheet_names) + ".",
            )
        return pd.read_excel(book, sheet_name=sheet, dtype=object)


def _csv_engines(path: Path, sep: str, enc: str) -> pd.DataFrame:
    """All cells as strings; pyarrow (fast), else the more tolerant C parser."""
    kwargs = dict(sep=sep, encoding=enc, dtype=str, keep_default_na=False, na_values=[""])
    try:
        return pd.read_csv(path, engine="pyarrow", **kwargs)
    except Exception:  # noqa: BLE001 - any pyarrow failure: retry with the C parser
        return pd.read_csv(path, engine="c", on_bad_lines="error", **kwargs)


def _read_csv(path: Path, cfg: ReportConfig) -> tuple[pd.DataFrame, dict[str, Any]]:
    sample = _sniff_bytes(path)
    if not sample.strip():
        raise _fail(path, "Die Datei ist leer.")
    if _looks_binary(sample) and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _fail(
            path,
            "Die Datei ist keine Textdatei (CSV) und kein bekanntes Format (Excel .xlsx, Parquet). "
            "Bitte den Export als CSV oder .xlsx speichern.",
        )
    full = len(sample) < _SAMPLE_BYTES
    enc = cfg.data.encoding or _detect_encoding(sample, full)
    try:
        text = sample.decode(enc, errors="replace")
    except LookupError as exc:
        raise _fail(path, f"Unbekannte Zeichenkodierung „{enc}“.") from exc
    lines = text.lstrip("\ufeff").splitlines()
    if not full and lines:
        lines = lines[:-1]
    sep = _SEP_ALIASES.get(cfg.data.separator, cfg.data.separator) or _detect_separator(lines[:200])
    try:
        df = _csv_engines(path, sep, enc)
    except UnicodeDecodeError:
        if cfg.data.encoding or enc not in ("utf-8", "utf-8-sig"):
            raise _fail(path, f"Die Datei ist nicht in der Zeichenkodierung „{enc}“ gespeichert.") from None
        enc = "cp1252"  # a non-UTF-8 byte after the sniffed first megabyte
        df = _csv_engines(path, sep, enc)
    except pd.errors.EmptyDataError as exc:
        raise _fail(path, "Die Datei ist leer.") from exc
    except (pd.errors.ParserError, ValueError) as exc:
        raise _fail(path, f"Die Datei kann nicht als Tabelle gelesen werden ({exc}).") from exc
    df.columns = [str(c).lstrip("\ufeff").strip() for c in df.columns]
    label = {",": "Komma", ";": "Semikolon", "\t": "Tabulator", "|": "senkrechter Strich"}[sep] if sep in SEPARATORS else sep
    return df, {"format": "CSV", "encoding": enc, "separator": label}


# --------------------------------------------------------------------------- columns


def map_columns(columns: list[str], column_map: Mapping[str, str], path: Path) -> dict[str, str]:
    """Canonical name -> source column. Explicit ``column_map`` entries win over recognition.

    Raises a German :class:`DataValidationError` when a mapped column does not exist,
    when two columns match one canonical name, or when a required column is missing.
    """
    found = ", ".join(f"„{c}“" for c in columns)
    out: dict[str, str] = {}
    for canon, source in dict(column_map).items():
        if canon not in CANONICAL:
            raise _fail(
                path,
                f"Unbekannte Zielspalte „{canon}“ in der Spaltenzuordnung. Möglich: " + ", ".join(CANONICAL) + ".",
            )
        if source not in columns:
            raise _fail(path, f"Die zugeordnete Spalte „{source}“ (für {canon}) fehlt. Gefundene Spalten: {found}.")
        out[canon] = source
    taken = set(out.values())
    norm = {c: normalize_header(c) for c in columns if c not in taken}
    for canon, names in SYNONYMS.items():
        if canon in out:
            continue
        hits = [c for c, n in norm.items() if n in names or n == canon.replace("_", "")]
        if len(hits) > 1:
            raise _fail(
                path,
                f"Mehrere Spalten passen zu „{GERMAN_NAMES[canon]}“ ({canon}): „{hits[0]}“ und „{hits[1]}“"
                + (f" (und {len(hits) - 2} weitere)" if len(hits) > 2 else "")
                + f". Bitte eindeutig zuordnen, z. B. --map {canon}=\"{hits[0]}\".",
            )
        if hits:
            out[canon] = hits[0]
    missing = [c for c in REQUIRED if c not in out]
    if missing:
        canon = missing[0]
        raise _fail(
            path,
            f"Die Pflichtspalte „{GERMAN_NAMES[canon]}“ ({canon}) wurde nicht gefunden. "
            f"Gefundene Spalten: {found}. Bitte die Spalte zuordnen, z. B. --map {canon}=Spaltenname.",
        )
    return out


# --------------------------------------------------------------------------- parsing


def parse_customer_ids(s: pd.Series) -> pd.Series:
    """IDs as trimmed strings; integral floats (Excel) lose ``.0``; empty -> missing."""
    if pd.api.types.is_float_dtype(s):
        vals = s.to_numpy(dtype=float)
        if np.all(np.isnan(vals) | (vals == np.round(vals))):
            s = s.astype("Int64")
    elif s.dtype == object:
        is_float = s.map(lambda v: isinstance(v, float) and float(v).is_integer())
        if is_float.any():
            s = s.where(~is_float, s[is_float].map(lambda v: str(int(v))))
    out = s.astype("str").str.strip()
    missing = s.isna() | out.isin(["", "nan", "NaN", "None", "<NA>"])
    return out.where(~missing, None)


_DE_DATE = re.compile(r"^\d{1,2}\.\d{1,2}\.\d{2,4}")
_ISO_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}")
_SLASH_DATE = re.compile(r"^\d{1,2}/\d{1,2}/\d{2,4}")


def _to_datetime(values: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(values, format=fmt, errors="coerce").astype("datetime64[ns]")


def _date_part(txt: pd.Series) -> pd.Series:
    """Text before the first space (drops a time part)."""
    return txt.str.split(n=1).str[0]


def parse_dates(s: pd.Series, date_format: str | None, path: Path, column: str) -> pd.Series:
    """Dates normalized to the day (NaT where not parseable).

    Detected: ``dd.mm.yyyy`` (also ``dd.mm.yy``), ``yyyy-mm-dd``, each with an optional
    time part. ``mm/dd/yyyy`` and other formats only via ``date_format``. Raises when
    not a single date can be read.
    """
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
        return out.dt.normalize().astype("datetime64[ns]")
    if s.dtype == object:
        is_dt = s.map(lambda v: hasattr(v, "year") and hasattr(v, "month"))
        if is_dt.any():
            conv = pd.to_datetime(s.where(is_dt), errors="coerce")
            rest = s.where(~is_dt)
            if rest.notna().any():
                parsed = parse_dates(rest.astype("str").where(rest.notna()), date_format, path, column) \
                    if rest.notna().any() else None
                conv = conv.fillna(parsed)
            return conv.dt.normalize().astype("datetime64[ns]")
    txt = s.astype("str").str.strip().where(s.notna())
    sample = txt.dropna().iloc[:2000]
    if date_format:
        out = _to_datetime(txt, date_format)
        rest = out.isna() & txt.notna()
        if rest.any():
            out[rest] = _to_datetime(_date_part(txt[rest]), date_format)
    else:
        n_de = sample.str.match(_DE_DATE).sum()
        n_iso = sample.str.match(_ISO_DATE).sum()
        if n_de == 0 and n_iso == 0:
            hint = ""
            if sample.str.match(_SLASH_DATE).any():
                hint = (" Falls das Format Monat/Tag/Jahr ist (z. B. 03/15/2024), bitte "
                        "data.date_format=\"%m/%d/%Y\" setzen; es wird nie geraten.")
            bad = txt.dropna()
            raise _fail(
                path,
                f"In der Spalte „{column}“ konnte kein Datum gelesen werden (erkannt werden TT.MM.JJJJ "
                f"und JJJJ-MM-TT). Beispiele: {_examples(bad, bad.index)}.{hint}",
            )
        if n_de >= n_iso:
            # fast path for the exact format, then the rest: time part, 2-digit years
            out = _to_datetime(txt, "%d.%m.%Y")
            rest = out.isna() & txt.notna()
            if rest.any():
                part = _date_part(txt[rest])
                year4 = part.str.match(r"^\d{1,2}\.\d{1,2}\.\d{4}$").fillna(False).astype(bool)
                fixed = _to_datetime(part.where(year4), "%d.%m.%Y")
                fixed = fixed.fillna(_to_datetime(part.where(~year4), "%d.%m.%y"))
                out[rest] = fixed
        else:
            out = _to_datetime(txt, "%Y-%m-%d")
            rest = out.isna() & txt.notna()
            if rest.any():
                iso = txt[rest].str.replace("T", " ", n=1, regex=False).str.replace(
                    r"(Z|[+-]\d\d:?\d\d)$", "", regex=True)
                out[rest] = _to_datetime(iso, "ISO8601")
    if out.notna().sum() == 0:
        bad = txt.dropna()
        raise _fail(path, f"In der Spalte „{column}“ konnte kein Datum gelesen werden. Beispiele: "
                          f"{_examples(bad, bad.index)}.")
    return out.dt.normalize().astype("datetime64[ns]")


def _detect_decimal(sample: pd.Series) -> str:
    """``","`` when most values use a decimal comma (``1.234,56``), else ``"."``."""
    last = sample.str.extract(r"([.,])(\d*)\D*$")
    sep, digits = last[0], last[1].str.len()
    both = sample.str.contains(",", regex=False) & sample.str.contains(".", regex=False)
    comma = ((sep == ",") & ((digits != 3) | both)).sum()
    point = ((sep == ".") & ((digits != 3) | both)).sum()
    if comma == point:  # only ambiguous values like 1.234 / 1,234
        comma, point = (sep == ",").sum() * 0.5, (sep == ".").sum()
        if comma == 0 and point == 0:
            return "."
        # "1.234" alone: a thousands point is more plausible in a German export
        return "," if point > 0 and comma == 0 and (digits[sep == "."] == 3).all() else "."
    return "," if comma > point else "."


def _arrow_strings(txt: pd.Series) -> pa.ChunkedArray:
    try:
        arr = pa.array(txt.array)
    except (TypeError, pa.ArrowInvalid):
        arr = pa.array(txt.to_numpy(dtype=object, na_value=None), type=pa.large_string())
    if isinstance(arr, pa.Array):
        arr = pa.chunked_array([arr])
    return arr.cast(pa.large_string())


def parse_amounts(s: pd.Series, decimal: str | None) -> pd.Series:
    """Amounts as float EUR (NaN where not numeric). Handles ``1.234,56``, ``1,234.56``,
    currency symbols, spaces and a trailing minus (``12,50-``)."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.astype(float)
    if s.dtype == object:
        is_num = s.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))
        if is_num.all():
            return pd.to_numeric(s, errors="coerce").astype(float)
    txt = s.astype("str").where(s.notna())
    arr = _arrow_strings(txt)
    arr = pc.replace_substring_regex(arr, r"[€\s\x{00a0}'’]|EUR|eur", "")
    trailing = pc.ends_with(arr, "-")
    arr = pc.if_else(trailing, pc.binary_join_element_wise(
        pa.scalar("-", pa.large_string()), pc.utf8_rtrim(arr, "-"), pa.scalar("", pa.large_string())), arr)
    dec = decimal or _detect_decimal(pd.Series(arr.slice(0, 5000).to_pylist(), dtype="str").dropna())
    if dec == ",":
        arr = pc.replace_substring(pc.replace_substring(arr, ".", ""), ",", ".")
    else:
        arr = pc.replace_substring(arr, ",", "")
    valid = pc.match_substring_regex(arr, r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
    num = pc.cast(pc.if_else(valid, arr, pa.scalar(None, pa.large_string())), pa.float64())
    return pd.Series(num.to_numpy(zero_copy_only=False), index=s.index, dtype=float)


# --------------------------------------------------------------------------- main entry


def load_dataset(path: str | Path, cfg: ReportConfig, key: bytes | None = None) -> Dataset:
    """Read, map, validate, clean and pseudonymize a client export.

    ``key``: pseudonymization key (bytes); ``None`` with ``cfg.pseudonymize`` = a random
    key for this run only (the report pipeline passes the client's stored key).
    Raises :class:`DataValidationError` (German message) when the file is unusable.
    """
    from . import privacy
    from .validation import apply_rules

    path = Path(path)
    raw, info = read_table(path, cfg)
    columns = [str(c) for c in raw.columns]
    raw.columns = columns
    if len(raw) == 0:
        raise _fail(path, "Die Datei enthält nur die Kopfzeile, aber keine Datenzeilen.")
    mapping = map_columns(columns, cfg.data.column_map, path)

    parsed = pd.DataFrame(index=raw.index)
    parsed["customer_id"] = parse_customer_ids(raw[mapping["customer_id"]])
    parsed["order_date"] = parse_dates(raw[mapping["order_date"]], cfg.data.date_format, path, mapping["order_date"])
    extra_notes = []
    if "revenue" in mapping and raw[mapping["revenue"]].isna().all():
        extra_notes.append(f"Die Umsatzspalte „{mapping['revenue']}“ ist leer; ausgewertet wird ohne Umsätze.")
        del mapping["revenue"]
    if "revenue" in mapping:
        parsed["revenue"] = parse_amounts(raw[mapping["revenue"]], cfg.data.decimal)
        src = raw[mapping["revenue"]]
        if parsed["revenue"].notna().sum() == 0 and src.notna().any():
            bad = src.dropna()
            raise _fail(
                path,
                f"In der Umsatzspalte „{mapping['revenue']}“ steht keine lesbare Zahl. "
                f"Beispiele: {_examples(bad, bad.index)}.",
            )
    if "order_id" in mapping:
        parsed["order_id"] = parse_customer_ids(raw[mapping["order_id"]])
    for col in ("category", "channel"):
        if col in mapping:
            parsed[col] = raw[mapping[col]].astype("str").str.strip().where(raw[mapping[col]].notna()).astype("category")
    if "quantity" in mapping:
        parsed["quantity"] = parse_amounts(raw[mapping["quantity"]], cfg.data.decimal)

    duplicates = raw.duplicated(keep="first").to_numpy()
    del raw  # free the text columns before the rules run (large files)
    if cfg.pseudonymize:
        parsed["customer_id"] = privacy.pseudonymize(parsed["customer_id"], key if key is not None else privacy.new_key())

    obs_end = pd.Timestamp(cfg.observation_end) if cfg.observation_end is not None else None
    offset = 2 if info["format"] in ("CSV", "Excel") else 1
    tx, ledger, end = apply_rules(
        parsed, duplicates, obs_end, returns=cfg.data.returns, outlier_factor=cfg.data.outlier_factor, row_offset=offset
    )
    if len(tx) == 0:
        from .validation import DROP_LABELS

        raise _fail(path, "Nach der Prüfung bleibt keine gültige Zeile übrig ("
                          + "; ".join(f"{DROP_LABELS[k]}: {v}" for k, v in ledger.dropped.items() if v) + ").")
    n_customers = tx["customer_id"].nunique()
    if n_customers < cfg.min_customers:
        raise _fail(
            path,
            f"Nur {n_customers} Kundinnen und Kunden gefunden (Spalte „{mapping['customer_id']}“); "
            f"für eine belastbare Auswertung sind mindestens {cfg.min_customers} nötig (Einstellung min_customers).",
        )
    for col in ("category", "channel"):
        if col in tx.columns:
            tx[col] = tx[col].astype("category")
    if "quantity" in tx.columns:
        tx["quantity"] = tx["quantity"].astype(float)
    tx["customer_id"] = tx["customer_id"].astype("str")
    order = [c for c in CANONICAL if c in tx.columns]
    labels = {"format": "Dateiformat", "encoding": "Zeichenkodierung", "separator": "Trennzeichen"}
    notes = [f"{labels[k]}: {v}" for k, v in info.items()]
    notes.append("Spaltenzuordnung: " + ", ".join(f"{c} = „{mapping[c]}“" for c in order))
    notes += extra_notes
    return Dataset(
        transactions=tx[order],
        observation_end=pd.Timestamp(end).normalize(),
        ledger=ledger,
        source_name=path.name,
        notes=notes,
    )
