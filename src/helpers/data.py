"""Reading client exports into a :class:`~helpers.dataset.Dataset`.

:func:`load_dataset` reads CSV (also ``.csv.gz``), Excel (``.xlsx``) and Parquet (a file or a folder of
Parquet files: through the line-level engine, :mod:`helpers.engine`),
detects the CSV dialect (separator ``, ; TAB |``, encoding UTF-8 with/without BOM
or cp1252/latin-1), recognizes the usual German and English column names (or uses
``cfg.data.column_map``), parses amounts (decimal mark decided per column from all
values: ``1.234,56``, ``1,234.56``, ``1'234.50``, ``1 234,50``, ``(12,50)``, ``12,50-``;
conflicting formats stop the run) and dates (``dd.mm.yyyy``, ``yyyy-mm-dd``, ``yyyymmdd``,
Excel serial numbers, with or without time; ``mm/dd/yyyy`` only with an explicit
``cfg.data.date_format``), applies the data-quality rules of :mod:`helpers.validation`
and pseudonymizes customer IDs (:mod:`helpers.privacy`).

CSV files are read through a guard that checks, while streaming, the unpacked size
(``data.max_text_mb``), the line length (``data.max_line_bytes``) and the field length
(``data.max_field_bytes``), so a ``.gz`` bomb or a runaway line never fills the memory.

The currency of the amounts is detected from the revenue column's header (``Umsatz (€)``,
``amount_usd``), the amounts themselves (``$12.50``, ``CHF 1'234.50``) and a currency column, unless
the setting ``currency`` names it (:func:`detect_currency`; conflicting evidence stops the run); it
is stored in ``ds.currency``.

Only the canonical columns are carried over; free-text columns such as names,
e-mail addresses or street addresses never reach the Dataset. ``ds.sources`` records
which column of the file each canonical column came from.
Problems with the file raise :class:`~helpers.exceptions.DataValidationError`
with a German message naming the file, the column and example rows.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import io
import re
import zipfile
import zlib
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import fmt
from .config import DataSettings, ReportConfig
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
_SEP_NAMES = {",": "Komma", ";": "Semikolon", "\t": "Tabulator", "|": "senkrechter Strich"}
_UNIT_RE = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]\s*$")
_SAMPLE_BYTES = 1 << 20
_CHUNK = 1 << 20
MB = 1_000_000
"""Bytes per MB in ``data.max_text_mb``."""

CURRENCY_CODES = (
    "EUR", "USD", "GBP", "CHF", "JPY", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF",
    "RON", "BGN", "TRY", "CNY", "INR", "BRL", "MXN", "ZAR", "HKD", "SGD", "RUB", "ILS", "AED", "KRW",
)
"""ISO codes recognized in headers, amounts and currency columns (any other code: ``--set currency``)."""
CURRENCY_TOKENS: dict[str, str] = {
    **{c.lower(): c for c in CURRENCY_CODES},
    "€": "EUR", "euro": "EUR",
    "$": "USD", "us$": "USD", "dollar": "USD", "us-dollar": "USD",
    "ca$": "CAD", "c$": "CAD", "a$": "AUD", "au$": "AUD", "nz$": "NZD", "hk$": "HKD", "s$": "SGD",
    "r$": "BRL", "mx$": "MXN",
    "£": "GBP", "pfund": "GBP", "pound": "GBP",
    "fr.": "CHF", "sfr.": "CHF", "sfr": "CHF", "franken": "CHF",
    "¥": "JPY", "yen": "JPY", "₹": "INR", "₽": "RUB", "₺": "TRY", "zł": "PLN", "kč": "CZK", "₪": "ILS",
    "₩": "KRW",
}
"""Currency sign, code or name (lower case) -> ISO code. A lone ``$`` is read as US dollar (stated in
the report, with the ``--set currency=CAD`` fix for other dollars)."""
CURRENCY_COLUMN_NAMES = ("currency", "currencycode", "curr", "waehrung", "waehrungscode", "wahrung", "whrg")
"""Normalized headers of a column that names each line's currency."""
_SIGN_CHARS = "$€£¥₹₽₺₪₩"
_SIGN_RE = re.compile(r"(us|ca|au|nz|hk|mx|a|c|s|r)?([" + re.escape(_SIGN_CHARS) + "])")
_WORD_TOKENS = sorted((t for t in CURRENCY_TOKENS if t[0].isalpha()), key=len, reverse=True)
_UNIT_WORD_ALTS = "|".join(["netto"] + [re.escape(t) for t in _WORD_TOKENS if t.isalpha()])
_UNIT_SIGN_ALTS = "|".join(re.escape(t) for t in sorted(CURRENCY_TOKENS, key=len, reverse=True)
                           if not t.isalpha() and "." not in t)


_UNIT_WORDS = re.compile(rf"(?:\s+(?:(?:in|im|inkl|exkl|zzgl)\s+)?(?:{_UNIT_WORD_ALTS})\b"
                         rf"|\s*(?:(?:in|im)\s+)?(?:{_UNIT_SIGN_ALTS}))+\s*$")
_UNIT_PREFIX = re.compile(rf"^\s*(?:{_UNIT_WORD_ALTS}|{_UNIT_SIGN_ALTS})\s+")


def normalize_header(name: object) -> str:
    """``"Umsatz (€)"`` -> ``"umsatz"``, ``"Kunden-Nr."`` -> ``"kundennr"``, ``"Betrag in EUR"`` -> ``"betrag"``,
    ``"amount_usd"`` -> ``"amount"``, ``"USD Amount"`` -> ``"amount"``.

    Lower case, umlauts folded (ä -> ae, ß -> ss), unit suffixes in brackets or
    words like ``in EUR``/``€``/``usd``/``CHF`` (and a leading currency code) removed, then only
    letters and digits kept.
    """
    s = str(name).strip().lower().lstrip("\ufeff")
    s = s.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    s = _UNIT_RE.sub("", s)
    s = s.replace("_", " ").replace("-", " ").replace("/", " ")
    stripped = _UNIT_PREFIX.sub("", _UNIT_WORDS.sub("", s))
    s = stripped if re.sub(r"[^0-9a-z]", "", stripped) else s
    return re.sub(r"[^0-9a-z]", "", s)


def _fail(path: Path | None, msg: str) -> DataValidationError:
    return DataValidationError(f"Datei „{path.name}“: {msg}" if path is not None else msg)


def _examples(values: pd.Series, rows: pd.Index | np.ndarray, k: int = 3, offset: int = 2) -> str:
    """``Zeile 5: '31.02.2024', Zeile 9: 'gestern'`` for messages (line numbers incl. header)."""
    parts = [f"Zeile {int(r) + offset}: '{_short(v)}'" for r, v in list(zip(rows, values))[:k]]
    return ", ".join(parts)


def _mb(value: float) -> str:
    """Megabytes for messages: ``1.024`` (whole MB from 1 MB on), else ``0,05``."""
    return fmt.integer(value) if value >= 1 else f"{value:.6f}".rstrip("0").replace(".", ",")


def _short(value: object, n: int = 40) -> str:
    text = str(value)
    return text if len(text) <= n else text[: n - 1] + "…"


# --------------------------------------------------------------------------- guarded reading


class _GuardedStream(io.RawIOBase):
    """A binary stream that enforces the size limits of ``DataSettings`` while it is read.

    Counts the (unpacked) bytes, the length of the current line (bytes since the last ``\n``)
    and of the current field (bytes since the last separator or ``\n``); the first violation
    raises a German :class:`DataValidationError` naming the limit and the setting that raises
    it. NUL bytes are removed (``strip_nul``; some POS systems pad files with them).
    """

    def __init__(self, fh: Any, path: Path, limits: DataSettings, sep: str | None, strip_nul: bool) -> None:
        super().__init__()
        self._fh = fh
        self._path = path
        self._max_bytes = int(limits.max_text_mb * MB)
        self._max_line = int(limits.max_line_bytes)
        self._max_field = int(limits.max_field_bytes)
        self._sep = ord(sep) if sep is not None and len(sep) == 1 and ord(sep) < 128 else None
        self._fields = sep is not None  # the field limit needs the separator (not known while sniffing)
        self._strip_nul = strip_nul
        self.total = 0
        self.lines = 0
        self.nul = 0
        self._line = 0
        self._field = 0

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        try:
            self._fh.close()
        finally:
            super().close()

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        while True:
            try:
                chunk = self._fh.read(min(len(view), _CHUNK))
            except (OSError, EOFError, zlib.error) as exc:
                raise _fail(self._path, f"Die Datei ist beschädigt und kann nicht vollständig gelesen werden "
                                        f"({type(exc).__name__}).") from exc
            if not chunk:
                return 0
            self.total += len(chunk)
            if self.total > self._max_bytes:
                raise _fail(
                    self._path,
                    f"Die Datei ist (entpackt) größer als {_mb(self._max_bytes / MB)} MB. Diese Grenze "
                    "schützt den Arbeitsspeicher; geprüft wird schon beim Lesen. Bitte einen kürzeren Zeitraum "
                    "exportieren oder die Grenze erhöhen, z. B. --set data.max_text_mb="
                    f"{max(1, int(self._max_bytes / MB * 4))} (Einstellung data.max_text_mb).",
                )
            arr = np.frombuffer(chunk, dtype=np.uint8)
            if self._strip_nul:
                nul = arr == 0
                if nul.any():
                    self.nul += int(nul.sum())
                    arr = arr[~nul]
                    if not len(arr):
                        continue
            self._check(arr)
            n = len(arr)
            view[:n] = arr.tobytes()
            return n

    def _check(self, arr: np.ndarray) -> None:
        newline = arr == 10
        if not newline.any():  # old Mac files end lines with CR only
            newline = arr == 13
        else:
            newline |= arr == 13
            newline[1:] &= ~((arr[:-1] == 13) & (arr[1:] == 10))  # CRLF counts once
        self._line = self._run(newline, newline, self._line, self._max_line, "line")
        if self._fields:
            ends = newline | (arr == self._sep) if self._sep is not None else newline
            self._field = self._run(ends, newline, self._field, self._max_field, "field")
        self.lines += int(np.count_nonzero(newline))

    def _run(self, ends: np.ndarray, newline: np.ndarray, carry: int, limit: int, kind: str) -> int:
        """Check the longest run of bytes without an end mark (the run carried over from the last
        chunk included); return the run still open at the end of the chunk."""
        pos = np.flatnonzero(ends)
        if not len(pos):
            longest = rest = carry + len(ends)
            at = len(ends)
        else:
            longest, at = carry + int(pos[0]), int(pos[0])
            if len(pos) > 1:
                gaps = np.diff(pos) - 1
                i = int(np.argmax(gaps))
                if int(gaps[i]) > longest:
                    longest, at = int(gaps[i]), int(pos[i + 1])
            rest = len(ends) - int(pos[-1]) - 1
            if rest > longest:
                longest, at = rest, len(ends)
        if longest > limit:
            self._limit_error(kind, limit, self.lines + int(np.count_nonzero(newline[:at])) + 1)
        return rest

    def _limit_error(self, kind: str, limit: int, line_no: int) -> None:
        if kind == "line":
            raise _fail(
                self._path,
                f"Eine Zeile (ab etwa Zeile {fmt.integer(line_no)}) ist länger als {fmt.integer(limit)} Bytes. "
                "Meist fehlen Zeilenumbrüche oder die Datei ist keine Tabelle. Die Grenze schützt Rechenzeit "
                "und Arbeitsspeicher; bei Bedarf erhöhen, z. B. --set data.max_line_bytes="
                f"{limit * 10} (Einstellung data.max_line_bytes).",
            )
        raise _fail(
            self._path,
            f"Ein Feld (ab etwa Zeile {fmt.integer(line_no)}) ist länger als {fmt.integer(limit)} Bytes. "
            "Vermutlich ist ein Anführungszeichen nicht geschlossen oder ein Freitext wurde mitexportiert. "
            "Die Grenze schützt Rechenzeit und Arbeitsspeicher; bei Bedarf erhöhen, z. B. "
            f"--set data.max_field_bytes={limit * 10} (Einstellung data.max_field_bytes).",
        )


def _open_raw(path: Path) -> Any:
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def _guarded(path: Path, limits: DataSettings, sep: str | None,
             strip_nul: bool) -> tuple[io.BufferedReader, _GuardedStream]:
    raw = _GuardedStream(_open_raw(path), path, limits, sep, strip_nul)
    return io.BufferedReader(raw, buffer_size=_CHUNK), raw


# --------------------------------------------------------------------------- reading


def _sniff_bytes(path: Path, limits: DataSettings) -> bytes:
    """The first MB of the (unpacked) file, line length checked (a 10 MB header line stops here)."""
    try:
        fh = _open_raw(path)
    except OSError as exc:
        raise _fail(path, f"Die Datei kann nicht gelesen werden ({exc.strerror or type(exc).__name__}).") from exc
    guard = _GuardedStream(fh, path, limits, None, strip_nul=False)
    with io.BufferedReader(guard, buffer_size=_CHUNK) as stream:
        try:
            return stream.read(_SAMPLE_BYTES)
        except gzip.BadGzipFile as exc:
            raise _fail(path, "Die .gz-Datei ist beschädigt oder keine gzip-Datei.") from exc


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
    """Binary: many NUL bytes (> 10 %) or other control characters (> 5 %) at the start.

    A few NUL bytes in a text file (padding of some POS exports) are removed while reading.
    """
    head = sample[:4096]
    if not head:
        return False
    if head.count(0) / len(head) > 0.10:
        return True
    ctrl = sum(1 for b in head if 0 < b < 9 or 13 < b < 32)
    return ctrl / len(head) > 0.05


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


def unique_headers(names: list[object]) -> tuple[list[str], dict[str, str]]:
    """Column names made unique for reading: empty names become ``Spalte 5``, a repeated name gets
    `` (2)``, `` (3)``, ... (``amount``, ``amount (2)``). Returns ``(names, unique -> original)``."""
    out: list[str] = []
    original: dict[str, str] = {}
    seen: set[str] = set()
    for i, name in enumerate(names):
        text = "" if name is None or (isinstance(name, float) and np.isnan(name)) else str(name)
        text = text.lstrip("\ufeff").strip()
        base = text or f"Spalte {i + 1}"
        unique, k = base, 1
        while unique in seen:
            k += 1
            unique = f"{base} ({k})"
        seen.add(unique)
        out.append(unique)
        original[unique] = base
    return out, original


def read_table(path: Path, cfg: ReportConfig) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read the file as it is (CSV cells as strings); returns ``(frame, info)``.

    ``info`` describes what was detected: ``format``, ``encoding``, ``separator`` (German
    names) and ``original`` (column name in the frame -> header text in the file; repeated
    names are told apart as ``amount``, ``amount (2)``).
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
        df = _read_parquet(path, cfg)
        cols, original = unique_headers(list(df.columns))
        df.columns = cols
        return df, {"format": "Parquet", "original": original}
    if magic.startswith(b"PK") or name.endswith((".xlsx", ".xlsm")):
        df, original = _read_excel(path, cfg)
        return df, {"format": "Excel", "original": original}
    if name.endswith((".xls",)):
        raise _fail(path, "Das alte Excel-Format .xls wird nicht unterstützt. Bitte als .xlsx oder CSV speichern.")
    return _read_csv(path, cfg)


def _too_big(path: Path, size: int, limit_mb: float) -> DataValidationError:
    return _fail(
        path,
        f"Die Datei ist entpackt {_mb(size / MB)} MB groß, mehr als die Grenze von "
        f"{_mb(limit_mb)} MB. Diese Grenze schützt den Arbeitsspeicher. Bitte einen kürzeren Zeitraum "
        f"exportieren oder die Grenze erhöhen, z. B. --set data.max_text_mb={int(size / MB * 2) + 1} "
        "(Einstellung data.max_text_mb).",
    )


def _read_parquet(path: Path, cfg: ReportConfig) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
        size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file
        raise _fail(path, f"Die Parquet-Datei kann nicht gelesen werden ({exc}).") from exc
    if size > cfg.data.max_text_mb * MB:
        raise _too_big(path, size, cfg.data.max_text_mb)
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001
        raise _fail(path, f"Die Parquet-Datei kann nicht gelesen werden ({exc}).") from exc


def _read_excel(path: Path, cfg: ReportConfig) -> tuple[pd.DataFrame, dict[str, str]]:
    sheet: str | int = cfg.data.sheet if cfg.data.sheet is not None else 0
    try:
        with zipfile.ZipFile(path) as zf:
            size = sum(i.file_size for i in zf.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise _fail(path, "Die Excel-Datei ist beschädigt oder keine .xlsx-Datei "
                          "(kein gültiges ZIP-Archiv).") from exc
    if size > cfg.data.max_text_mb * MB:
        raise _too_big(path, size, cfg.data.max_text_mb)
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except Exception as exc:  # noqa: BLE001
        raise _fail(path, f"Die Excel-Datei kann nicht gelesen werden ({type(exc).__name__}).") from exc
    with book:
        if isinstance(sheet, str) and sheet not in book.sheet_names:
            raise _fail(
                path,
                f"Das Tabellenblatt „{sheet}“ fehlt. Vorhanden: " + ", ".join(f"„{s}“" for s in book.sheet_names) + ".",
            )
        df = pd.read_excel(book, sheet_name=sheet, dtype=object, header=None)
    if len(df) == 0:
        return pd.DataFrame(), {}
    names, original = unique_headers(list(df.iloc[0]))
    df = df.iloc[1:].reset_index(drop=True)
    df.columns = names
    return df, original


def _read_with_pandas(path: Path, cfg: ReportConfig, sep: str, enc: str, strip_nul: bool, engine: str
                      ) -> tuple[pd.DataFrame, _GuardedStream]:
    stream, guard = _guarded(path, cfg.data, sep, strip_nul)
    kwargs: dict[str, Any] = dict(sep=sep, encoding=enc, dtype=str, keep_default_na=False, na_values=[""])
    with stream:
        if engine == "pyarrow":
            return pd.read_csv(stream, engine="pyarrow", **kwargs), guard
        return pd.read_csv(stream, engine="c", on_bad_lines="error", **kwargs), guard


def _csv_engines(path: Path, cfg: ReportConfig, sep: str, enc: str, strip_nul: bool
                 ) -> tuple[pd.DataFrame, _GuardedStream]:
    """All cells as strings; pyarrow (fast), else the more tolerant C parser. Limits are checked
    while streaming (both attempts); a limit error is never retried."""
    try:
        return _read_with_pandas(path, cfg, sep, enc, strip_nul, "pyarrow")
    except DataValidationError:
        raise
    except Exception:  # noqa: BLE001 - any pyarrow failure: retry with the C parser
        return _read_with_pandas(path, cfg, sep, enc, strip_nul, "c")


def _read_csv(path: Path, cfg: ReportConfig) -> tuple[pd.DataFrame, dict[str, Any]]:
    sample = _sniff_bytes(path, cfg.data)
    if not sample.strip():
        raise _fail(path, "Die Datei ist leer.")
    utf16 = sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if _looks_binary(sample) and not utf16:
        raise _fail(
            path,
            "Die Datei ist keine Textdatei (CSV) und kein bekanntes Format (Excel .xlsx, Parquet). "
            "Bitte den Export als CSV oder .xlsx speichern.",
        )
    strip_nul = not utf16 and (cfg.data.encoding or "").lower().replace("-", "") not in ("utf16", "utf16le", "utf16be")
    if strip_nul:
        sample = sample.replace(b"\x00", b"")
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
        df, guard = _csv_engines(path, cfg, sep, enc, strip_nul)
    except UnicodeDecodeError:
        if cfg.data.encoding or enc not in ("utf-8", "utf-8-sig"):
            raise _fail(path, f"Die Datei ist nicht in der Zeichenkodierung „{enc}“ gespeichert.") from None
        enc = "cp1252"  # a non-UTF-8 byte after the sniffed first megabyte
        df, guard = _csv_engines(path, cfg, sep, enc, strip_nul)
    except pd.errors.EmptyDataError as exc:
        raise _fail(path, "Die Datei ist leer.") from exc
    except (pd.errors.ParserError, ValueError) as exc:
        raise _fail(path, f"Die Datei kann nicht als Tabelle gelesen werden ({_short(exc, 300)}).") from exc
    header = _header_fields(text, sep)
    if header is not None and len(header) == len(df.columns):
        names, original = unique_headers(header)
    else:
        names, original = unique_headers(["" if str(c).startswith("Unnamed: ") else str(c) for c in df.columns])
    df.columns = names
    label = _SEP_NAMES.get(sep, sep)
    info: dict[str, Any] = {"format": "CSV", "encoding": enc, "separator": label, "original": original}
    if guard.nul:
        info["nul"] = guard.nul
    return df, info


def _header_fields(text: str, sep: str) -> list[str] | None:
    """The header line as written (before pandas renames repeated names), or ``None``."""
    try:
        reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=sep, quotechar='"')
        return [f.strip() for f in next(reader)]
    except (csv.Error, StopIteration):
        return None


# --------------------------------------------------------------------------- columns


def map_columns(columns: list[str], column_map: Mapping[str, str], path: Path,
                original: Mapping[str, str] | None = None) -> dict[str, str]:
    """Canonical name -> source column. Explicit ``column_map`` entries win over recognition.

    Raises a German :class:`DataValidationError` when a mapped column does not exist,
    when two columns match one canonical name (also two columns of the same name,
    ``original`` maps the read names ``amount``, ``amount (2)`` to the header text), or when a
    required column is missing. Messages name both columns and the ``--map`` fix.
    """
    original = dict(original or {})
    found = ", ".join(f"„{c}“" for c in columns)
    position = {c: i + 1 for i, c in enumerate(columns)}
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
    norm = {c: normalize_header(original.get(c, c)) for c in columns if c not in taken}
    for canon, names in SYNONYMS.items():
        if canon in out:
            continue
        hits = [c for c, n in norm.items() if n in names or n == canon.replace("_", "")]
        if len(hits) > 1:
            a, b = hits[0], hits[1]
            more = f" (und {len(hits) - 2} weitere)" if len(hits) > 2 else ""
            if original.get(a, a) == original.get(b, b):
                raise _fail(
                    path,
                    f"Die Spalte „{original.get(a, a)}“ kommt mehrfach vor (Spalte {position[a]} und Spalte "
                    f"{position[b]}{more}); beide passen zu „{GERMAN_NAMES[canon]}“ ({canon}). Welche gilt, lässt "
                    f"sich nicht erkennen. Bitte eindeutig zuordnen: --map {canon}=\"{a}\" für Spalte {position[a]} "
                    f"oder --map {canon}=\"{b}\" für Spalte {position[b]} (gleichnamige Spalten heißen beim "
                    "Einlesen „Name“, „Name (2)“, …), oder die Spalten in der Datei umbenennen.",
                )
            raise _fail(
                path,
                f"Mehrere Spalten passen zu „{GERMAN_NAMES[canon]}“ ({canon}): „{a}“ und „{b}“{more} "
                f"(Spalte {position[a]} und {position[b]}). Welche gilt, lässt sich nicht erkennen. Bitte eindeutig "
                f"zuordnen, z. B. --map {canon}=\"{a}\" oder --map {canon}=\"{b}\".",
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


def _distinct(txt: pd.Series) -> tuple[np.ndarray, pd.Series, np.ndarray]:
    """Distinct values of a column, so that each is parsed once (a million lines have a few thousand
    dates): ``(codes per row, -1 = missing; the distinct values indexed by the first row they occur
    in, for messages; rows per distinct value)``."""
    codes, uniques = pd.factorize(txt, use_na_sentinel=True)
    codes = np.asarray(codes)
    # codes are numbered in order of first appearance: a first occurrence raises the running maximum
    is_first = np.zeros(len(codes), dtype=bool)
    if len(codes):
        running = np.maximum.accumulate(codes)
        is_first[0] = codes[0] >= 0
        is_first[1:] = running[1:] > running[:-1]
    first = np.flatnonzero(is_first)
    values = pd.Series(np.asarray(uniques, dtype=object), index=txt.index[first], dtype="str")
    counts = np.bincount(codes[codes >= 0], minlength=len(values))
    return codes, values, counts


def _expand(values: np.ndarray, codes: np.ndarray, fill: Any) -> np.ndarray:
    """Per-distinct-value results back to one per row (``fill`` where the row's value is missing)."""
    out = np.asarray(values)[np.where(codes >= 0, codes, 0)] if len(values) else np.full(len(codes), fill)
    if len(values):
        out = out.copy()
        out[codes < 0] = fill
    return out

_SCI_ID = re.compile(r"^\d(?:[.,]\d+)?[eE]\+?\d+$")


def parse_customer_ids(s: pd.Series, path: Path | None = None, column: str | None = None,
                       offset: int = 2) -> pd.Series:
    """IDs as trimmed strings; empty -> missing. Leading zeros are kept (``00123`` ≠ ``123``).

    Integral floats (Excel numbers, ``1001.0``) lose ``.0`` (in text only when every ID with a
    point ends in ``.0``). IDs in exponential notation (``1,23457E+11``: Excel shortened long
    numbers, distinct customers became one) raise a German error when ``path`` is given.
    """
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
    out = out.where(~missing, None)
    text = out.dropna()
    if path is not None and len(text):
        sci = text.str.match(_SCI_ID)
        if sci.any():
            bad = text[sci]
            raise _fail(
                path,
                f"In der Spalte „{column}“ stehen Kundennummern in Exponentialschreibweise "
                f"({_examples(bad, bad.index, offset=offset)}). So kürzt Excel lange Nummern; verschiedene "
                "Kundinnen und Kunden wären nicht mehr zu unterscheiden. Bitte die Spalte in Excel als Text "
                "formatieren und neu exportieren (oder direkt aus dem Warenwirtschaftssystem als CSV).",
            )
    if len(text):
        dotted = text.str.contains(".", regex=False)
        if dotted.any() and text[dotted].str.fullmatch(r"\d+\.0+").all():
            out = out.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
    return out


_DE_DATE = r"^\d{1,2}\.\d{1,2}\.\d{2,4}(?:$|[ T])"
_ISO_DATE = r"^\d{4}-\d{1,2}-\d{1,2}(?:$|[ T])"
_COMPACT_DATE = r"^(?:19|20)\d{6}$"
_SERIAL_DATE = r"^\d{5}(?:\.\d+)?$"
_SLASH_DATE = r"^\d{1,2}/\d{1,2}/\d{2,4}"
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
"""Day 0 of Excel's serial date numbers (Windows, 1900 system): serial 45292 = 01.01.2024."""


def _match(txt: pd.Series, pattern: str) -> np.ndarray:
    return txt.str.match(pattern).fillna(False).to_numpy(dtype=bool)


def _to_datetime(values: pd.Series, fmt_: str) -> pd.Series:
    return pd.to_datetime(values, format=fmt_, errors="coerce").astype("datetime64[ns]")


def _date_part(txt: pd.Series) -> pd.Series:
    """Text before the first space (drops a time part)."""
    return txt.str.split(n=1).str[0]


def _parse_german(txt: pd.Series) -> pd.Series:
    out = _to_datetime(txt, "%d.%m.%Y")
    rest = out.isna()
    if rest.any():  # time part, 2-digit years
        part = _date_part(txt[rest])
        year4 = part.str.match(r"^\d{1,2}\.\d{1,2}\.\d{4}$").fillna(False).astype(bool)
        fixed = _to_datetime(part.where(year4), "%d.%m.%Y")
        fixed = fixed.fillna(_to_datetime(part.where(~year4), "%d.%m.%y"))
        out[rest] = fixed
    return out


def _parse_iso(txt: pd.Series) -> pd.Series:
    out = _to_datetime(txt, "%Y-%m-%d")
    rest = out.isna()
    if rest.any():
        iso = txt[rest].str.replace("T", " ", n=1, regex=False).str.replace(
            r"(Z|[+-]\d\d:?\d\d)$", "", regex=True)
        out[rest] = _to_datetime(iso, "ISO8601")
    return out


def _parse_serial(txt: pd.Series) -> pd.Series:
    days = pd.to_numeric(txt, errors="coerce")
    return (EXCEL_EPOCH + pd.to_timedelta(np.floor(days), unit="D")).astype("datetime64[ns]")


def parse_dates(s: pd.Series, date_format: str | None, path: Path, column: str, offset: int = 2) -> pd.Series:
    """Dates normalized to the day (NaT where not parseable).

    Detected per value: ``dd.mm.yyyy`` (also ``dd.mm.yy``), ``yyyy-mm-dd`` (each with an optional
    time part), ``yyyymmdd`` and Excel serial numbers (5 digits, days since 30.12.1899); one column
    may mix them. ``mm/dd/yyyy`` and other formats only via ``date_format`` (never guessed).
    Raises when not a single date can be read.
    """
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
        return out.dt.normalize().astype("datetime64[ns]")
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        vals = s.to_numpy(dtype=float)
        integral = np.isnan(vals) | (vals == np.round(vals))
        s = s.astype("Int64").astype("str") if integral.all() else s.astype("str")
        s = s.where(~pd.isna(vals), None)
    elif s.dtype == object:
        is_dt = s.map(lambda v: hasattr(v, "year") and hasattr(v, "month"))
        if is_dt.any():
            conv = pd.to_datetime(s.where(is_dt), errors="coerce")
            rest = s.where(~is_dt)
            if rest.notna().any():
                parsed = parse_dates(rest.map(_cell_text).where(rest.notna()), date_format, path, column, offset)
                conv = conv.fillna(parsed)
            return conv.dt.normalize().astype("datetime64[ns]")
        s = s.map(_cell_text).where(s.notna())
    txt = s.astype("str").str.strip().where(s.notna())
    codes, distinct, _ = _distinct(txt)
    parsed = _parse_date_texts(distinct, date_format, path, column, offset)
    out = pd.Series(_expand(parsed.to_numpy(dtype="datetime64[ns]"), codes, np.datetime64("NaT")),
                    index=s.index, dtype="datetime64[ns]")
    return out.dt.normalize().astype("datetime64[ns]")


def _parse_date_texts(txt: pd.Series, date_format: str | None, path: Path, column: str, offset: int) -> pd.Series:
    """The text part of :func:`parse_dates` (``txt``: stripped texts, no missing values)."""
    if date_format:
        out = _to_datetime(txt, date_format)
        rest = out.isna() & txt.notna()
        if rest.any():
            out[rest] = _to_datetime(_date_part(txt[rest]), date_format)
    else:
        masks = {
            "de": _match(txt, _DE_DATE), "iso": _match(txt, _ISO_DATE),
            "compact": _match(txt, _COMPACT_DATE), "serial": _match(txt, _SERIAL_DATE),
        }
        if not any(m.any() for m in masks.values()):
            hint = ""
            if _match(txt, _SLASH_DATE).any():
                hint = (" Falls das Format Monat/Tag/Jahr ist (z. B. 03/15/2024), bitte "
                        "data.date_format=\"%m/%d/%Y\" setzen; es wird nie geraten.")
            bad = txt.dropna()
            raise _fail(
                path,
                f"In der Spalte „{column}“ konnte kein Datum gelesen werden (erkannt werden TT.MM.JJJJ, "
                f"JJJJ-MM-TT, JJJJMMTT und Excel-Datumszahlen). Beispiele: "
                f"{_examples(bad, bad.index, offset=offset)}.{hint}",
            )
        out = pd.Series(pd.NaT, index=txt.index, dtype="datetime64[ns]")
        for kind, parse in (("de", _parse_german), ("iso", _parse_iso),
                            ("compact", lambda t: _to_datetime(t, "%Y%m%d")), ("serial", _parse_serial)):
            m = masks[kind] & out.isna().to_numpy()
            if m.any():
                out[m] = parse(txt[m])
    if out.notna().sum() == 0:
        bad = txt.dropna()
        raise _fail(path, f"In der Spalte „{column}“ konnte kein Datum gelesen werden. Beispiele: "
                          f"{_examples(bad, bad.index, offset=offset)}.")
    return out


def _cell_text(v: object) -> object:
    """Excel cell -> text for parsing (integral floats without ``.0``)."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return v if v is None else str(v)


# amounts ----------------------------------------------------------------------

_AMOUNT_CLASSES = {
    # name: (regex on the unsigned body, decimal style it proves: "," / "." / None = neutral)
    "integer": (r"^\d+(?:[eE][+-]?\d+)?$", None),
    "amb_point": (r"^[1-9]\d{0,2}\.\d{3}$", "amb"),      # 1.234 = 1234 (German) or 1,234 (English)
    "amb_comma": (r"^[1-9]\d{0,2},\d{3}$", "amb"),       # 1,234 = 1234 (English) or 1,234 (German)
    "comma_thousands_dec": (r"^[1-9]\d{0,2}(?:\.\d{3})+,\d+$", ","),   # 1.234,56
    "comma_thousands": (r"^[1-9]\d{0,2}(?:\.\d{3}){2,}$", ","),        # 1.234.567
    "comma_dec": (r"^\d*,\d+$", ","),                                 # 29,73 / ,5 / 0,500
    "point_thousands_dec": (r"^[1-9]\d{0,2}(?:,\d{3})+\.\d+(?:[eE][+-]?\d+)?$", "."),  # 1,234.56
    "point_thousands": (r"^[1-9]\d{0,2}(?:,\d{3}){2,}$", "."),         # 1,234,567
    "point_dec": (r"^\d*\.\d+(?:[eE][+-]?\d+)?$", "."),               # 12.5 / .5 / 1.5E+03
}
_CURRENCY_RE = "(?i)(?:" + "|".join(
    re.escape(t) for t in sorted(CURRENCY_TOKENS, key=len, reverse=True) if t not in ("pfund", "pound", "yen")
) + ")"
_SPACE_RE = "[\\s\u00a0\u2007\u2009\u202f'\u2019\u02bc]"


def _amount_bodies(txt: pd.Series) -> tuple[pa.ChunkedArray, np.ndarray]:
    """Cleaned, unsigned number text and the sign (True = negative) of each value."""
    arr = _arrow_strings(txt)
    large = pa.large_string()
    arr = pc.replace_substring_regex(arr, _CURRENCY_RE, "")
    arr = pc.replace_substring_regex(arr, _SPACE_RE, "")
    arr = pc.replace_substring_regex(arr, "[\u2212\u2013]", "-")
    paren = pc.fill_null(pc.match_substring_regex(arr, r"^\(.*\)$"), False)
    arr = pc.replace_substring_regex(arr, r"^\((.*)\)$", r"\1")
    arr = pc.replace_substring_regex(arr, r"^\+", "")
    lead = pc.fill_null(pc.starts_with(arr, "-"), False)
    arr = pc.replace_substring_regex(arr, r"^-", "")
    trail = pc.fill_null(pc.ends_with(arr, "-"), False)
    arr = pc.replace_substring_regex(arr, r"-$", "")
    neg = np.asarray(pc.xor(pc.xor(paren, lead), trail).to_numpy(zero_copy_only=False), dtype=bool)
    return arr.cast(large), neg


def _arrow_strings(txt: pd.Series) -> pa.ChunkedArray:
    try:
        arr = pa.array(txt.array)
    except (TypeError, pa.ArrowInvalid):
        arr = pa.array(txt.to_numpy(dtype=object, na_value=None), type=pa.large_string())
    if isinstance(arr, pa.Array):
        arr = pa.chunked_array([arr])
    return arr.cast(pa.large_string())


def _classify(body: pa.ChunkedArray) -> dict[str, np.ndarray]:
    out = {}
    for name, (pattern, _) in _AMOUNT_CLASSES.items():
        m = pc.fill_null(pc.match_substring_regex(body, pattern), False)
        out[name] = np.asarray(m.to_numpy(zero_copy_only=False), dtype=bool)
    # the ambiguous forms are not evidence for "comma_dec"/"point_dec"
    out["comma_dec"] &= ~out["amb_comma"]
    out["point_dec"] &= ~out["amb_point"]
    return out


def _values(n: int) -> str:
    return "1 Wert" if n == 1 else f"{fmt.integer(n)} Werte"


def decide_decimal(txt: pd.Series, path: Path | None = None, column: str | None = None,
                   offset: int = 2) -> str:
    """The decimal mark of a text column of amounts, decided from ALL its values.

    ``","`` when some value proves a decimal comma (``29,73``, ``2.648,00``, ``1.234.567``) and
    none proves a decimal point; ``"."`` the other way round; ``"."`` when no value has a
    separator. Raises a German :class:`DataValidationError` (with example rows and the
    ``--set data.decimal=…`` fix) when values prove both marks (``29,73`` next to ``12.5``),
    or when every value with a separator is ambiguous (``1.234``: 1234 or 1,234).
    """
    codes, distinct, counts = _distinct(txt)
    body, _ = _amount_bodies(distinct)
    return _decide(distinct, _classify(body), path, column, offset, counts)


def _decide(txt: pd.Series, cls: Mapping[str, np.ndarray], path: Path | None, column: str | None,
            offset: int, counts: np.ndarray | None = None) -> str:
    """The decimal mark from the classes of the (distinct) values ``txt``; ``counts``: rows per value."""
    counts = np.ones(len(txt), dtype=np.int64) if counts is None else counts
    comma = np.zeros(len(txt), dtype=bool)
    point = np.zeros(len(txt), dtype=bool)
    for name, (_, style) in _AMOUNT_CLASSES.items():
        if style == ",":
            comma |= cls[name]
        elif style == ".":
            point |= cls[name]
    where = f"In der Spalte „{column}“" if column else "In der Spalte"
    fix = ("Bitte das Dezimalzeichen festlegen: --set data.decimal=\",\" (Dezimalkomma, Punkt als "
           "Tausendertrennzeichen) oder --set data.decimal=\".\" (Dezimalpunkt); Beträge im anderen Format "
           "werden dann als unlesbar verworfen und im Prüfprotokoll gezählt.")
    if comma.any() and point.any():
        c, p = txt[comma], txt[point]
        raise _fail(
            path,
            f"{where} stehen Beträge in zwei Zahlenformaten: mit Dezimalkomma "
            f"({_values(int(counts[comma].sum()))}, z. B. {_examples(c, c.index, offset=offset)}) und mit "
            f"Dezimalpunkt ({_values(int(counts[point].sum()))}, z. B. {_examples(p, p.index, offset=offset)}). "
            "Welches gilt, lässt sich nicht sicher erkennen; falsch gelesen wären Beträge um das Tausendfache "
            f"verfälscht. {fix}",
        )
    if comma.any():
        return ","
    if point.any():
        return "."
    amb = cls["amb_point"] | cls["amb_comma"]
    if amb.any():
        a = txt[amb]
        raise _fail(
            path,
            f"{where} ist das Dezimalzeichen nicht eindeutig: Alle Beträge mit Trennzeichen haben genau drei "
            f"Ziffern danach ({_examples(a, a.index, offset=offset)}); „1.234“ kann 1234 (Tausenderpunkt) oder "
            f"1,234 (Dezimalpunkt) bedeuten. {fix}",
        )
    return "."


def _plain_amounts(txt: pd.Series, decimal: str | None) -> tuple[np.ndarray, str] | None:
    """Fast path for the common case of one plain format in the whole column (``-12.5``/``7`` or
    ``-12,5``/``7``, no thousands separators, signs or currency): the values and the decimal mark,
    or ``None`` when the full classification is needed (other forms, or only ambiguous ``1.234``)."""
    arr = _arrow_strings(txt)
    present = int(len(arr) - arr.null_count)
    for mark, regex_mark in ((".", r"\."), (",", ",")):
        if decimal not in (None, mark):
            continue
        plain = _mask(pc.match_substring_regex(arr, rf"^-?\d+(?:{regex_mark}\d+)?$"))
        if int(plain.sum()) != present:
            continue
        with_mark = _mask(pc.match_substring(arr, mark))
        ambiguous = _mask(pc.match_substring_regex(arr, rf"^-?[1-9]\d{{0,2}}{regex_mark}\d{{3}}$"))
        if decimal is None and ambiguous.any() and not (with_mark & ~ambiguous).any():
            return None  # only "1.234"-like values: the full rules decide (and ask)
        if decimal is None and not with_mark.any() and mark == ",":
            return None
        num = arr if mark == "." else pc.replace_substring(arr, ",", ".")
        values = pc.cast(num, pa.float64()).to_numpy(zero_copy_only=False).astype(float)
        return values, mark
    return None


def parse_amounts(s: pd.Series, decimal: str | None, path: Path | None = None, column: str | None = None,
                  offset: int = 2) -> pd.Series:
    """Amounts as float (NaN where not numeric in the column's format).

    Handles ``1.234,56``, ``1,234.56``, ``1'234.50``, ``1 234,50``, currency signs and codes,
    ``(12,50)`` and a trailing minus (``12,50-``) as negative. ``decimal`` ``None``: decided
    from all values (:func:`decide_decimal`, raises on conflicting formats); with a decimal
    mark given, values in the other format become NaN (dropped as unreadable by the rules).
    Numbers stored as numbers (Excel, Parquet) are taken as they are.
    """
    return _parse_amounts(s, decimal, path, column, offset)[0]


def _parse_amounts(s: pd.Series, decimal: str | None, path: Path | None, column: str | None,
                   offset: int) -> tuple[pd.Series, str | None]:
    """:func:`parse_amounts` and the decimal mark used for text values (``None``: no text values)."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.astype(float), None
    result = pd.Series(np.nan, index=s.index, dtype=float)
    if s.dtype == object:
        is_num = s.map(lambda v: isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool))
        if is_num.all():
            return pd.to_numeric(s, errors="coerce").astype(float), None
        if is_num.any():
            result[is_num] = pd.to_numeric(s[is_num], errors="coerce").astype(float)
            s = s.where(~is_num)
    codes, txt, counts = _distinct(s.astype("str").where(s.notna()))
    text_rows = codes >= 0
    fast = _plain_amounts(txt, decimal)
    if fast is not None:
        values, dec = fast
        result[text_rows] = _expand(values, codes, np.nan)[text_rows]
        return result, dec
    body, neg = _amount_bodies(txt)
    cls = _classify(body)
    dec = decimal or _decide(txt, cls, path, column, offset, counts)
    if dec == ",":
        valid = (cls["integer"] | cls["amb_point"] | cls["amb_comma"] | cls["comma_thousands_dec"]
                 | cls["comma_thousands"] | cls["comma_dec"])
        num = pc.replace_substring(pc.replace_substring(body, ".", ""), ",", ".")
    else:
        valid = (cls["integer"] | cls["amb_point"] | cls["amb_comma"] | cls["point_thousands_dec"]
                 | cls["point_thousands"] | cls["point_dec"])
        num = pc.replace_substring(body, ",", "")
    num = pc.if_else(pa.chunked_array([pa.array(valid)]), num, pa.scalar(None, pa.large_string()))
    values = pc.cast(num, pa.float64()).to_numpy(zero_copy_only=False).astype(float)
    values = np.where(neg, -values, values)
    result[text_rows] = _expand(values, codes, np.nan)[text_rows]
    return result, dec


# --------------------------------------------------------------------------- structural lines

_TOTAL_WORDS = (r"(?:summe|gesamt|gesamtsumme|zwischensumme|teilsumme|endsumme|gesamtbetrag|total|totals|"
                r"subtotal|sub-total|grand total|übertrag|uebertrag|saldo)")
_TOTAL_PREFIX = rf"^\s*{_TOTAL_WORDS}\b"
_TOTAL_CELL = rf"^\s*{_TOTAL_WORDS}\s*:?\s*$"


def _text_of(col: pd.Series) -> pd.Series:
    if col.dtype == object:
        col = col.map(_cell_text)
    return col.astype("str").where(col.notna())


def _mask(arr: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def structural_rows(raw: pd.DataFrame, mapping: Mapping[str, str], original: Mapping[str, str]
                    ) -> dict[str, np.ndarray]:
    """Lines that are not transactions, as boolean masks per drop reason:

    - ``empty_row``: every cell empty or blank (``;;;;``);
    - ``header_row``: the header repeated (exports glued together): every mapped column holds its
      own header text;
    - ``total_row``: a total or subtotal line: the customer ID, order ID or date cell starts with
      ``Summe``, ``Gesamt``, ``Zwischensumme``, ``Total``, ``Übertrag``, … or another cell is just
      that word.
    """
    n = len(raw)
    blank = np.ones(n, dtype=bool)
    total = np.zeros(n, dtype=bool)
    header = np.ones(n, dtype=bool)
    mapped = set(mapping.values())
    prefix_cols = {mapping.get(c) for c in ("customer_id", "order_id", "order_date")} - {None}
    for col in raw.columns:
        codes, distinct, _ = _distinct(_text_of(raw[col]))
        arr = _arrow_strings(distinct)
        trimmed = pc.utf8_trim_whitespace(arr)
        filled = _expand(_mask(pc.not_equal(trimmed, "")), codes, False)
        blank &= ~filled
        if not filled.any():
            if col in mapped:
                header[:] = False
            continue
        pattern = _TOTAL_PREFIX if col in prefix_cols else _TOTAL_CELL
        total |= _expand(_mask(pc.match_substring_regex(arr, pattern, ignore_case=True)), codes, False)
        if col in mapped:
            head = str(original.get(col, col)).strip().lower()
            header &= _expand(_mask(pc.equal(pc.utf8_lower(trimmed), head)), codes, False)
    return {"empty_row": blank, "header_row": header & ~blank, "total_row": total}


# --------------------------------------------------------------------------- currency


def currency_of_token(token: object) -> str | None:
    """``"€"`` / ``"eur"`` / ``"Euro"`` -> ``"EUR"``, ``"US$"`` -> ``"USD"``; ``None`` when unknown."""
    return CURRENCY_TOKENS.get(str(token).strip().lower())


def header_currencies(header: object) -> list[str]:
    """ISO codes a column header names (in order, without repeats): ``"Umsatz (€)"`` -> ``["EUR"]``,
    ``"amount_usd"`` -> ``["USD"]``, ``"Preis CHF"`` -> ``["CHF"]``, ``"Betrag"`` -> ``[]``."""
    found: list[str] = []
    for token in re.split(r"[\s_\-()\[\]/,;:|]+", str(header).lower()):
        if not token:
            continue
        code = CURRENCY_TOKENS.get(token) or CURRENCY_TOKENS.get(token.rstrip("."))
        if code is None:
            m = _SIGN_RE.search(token)
            if m is not None:
                code = CURRENCY_TOKENS.get((m.group(1) or "") + m.group(2)) or CURRENCY_TOKENS[m.group(2)]
        if code is not None and code not in found:
            found.append(code)
    return found


_NUMBER_CHARS = "[\\d\\s\u00a0\u2007\u2009\u202f.,'\u2019\u02bc+\\-\u2212\u2013()]"


def _value_currencies(col: pd.Series) -> dict[str, tuple[int, pd.Series]]:
    """ISO code -> (rows, example values indexed by row) of the amounts in ``col`` whose text names
    a currency (``"$12.50"``, ``"12,50 €"``, ``"CHF 1'234.50"``); numbers stored as numbers name none."""
    if pd.api.types.is_numeric_dtype(col) or col.dtype == bool:
        return {}
    if col.dtype == object:
        col = col.where(col.map(lambda v: isinstance(v, str)))
    codes, distinct, counts = _distinct(col.astype("str").where(col.notna()))
    if not len(distinct):
        return {}
    rest = pc.utf8_lower(pc.replace_substring_regex(_arrow_strings(distinct), _NUMBER_CHARS, ""))
    tokens = pd.Series(rest.to_numpy(zero_copy_only=False), index=distinct.index, dtype=object)
    found: dict[str, tuple[int, pd.Series]] = {}
    for token in pd.unique(tokens.dropna()):
        code = CURRENCY_TOKENS.get(token) or (CURRENCY_TOKENS.get(token + ".") if token in ("fr", "sfr") else None)
        if code is None:
            continue
        hit = (tokens == token).to_numpy()
        n, examples = found.get(code, (0, distinct.iloc[:0]))
        found[code] = (n + int(counts[hit].sum()), pd.concat([examples, distinct[hit]]).sort_index())
    return found


def _column_currencies(col: pd.Series) -> dict[str, tuple[int, pd.Series]]:
    """ISO code -> (rows, examples) of a currency column (``EUR``, ``USD``, ``€``, ``Euro`` ...)."""
    codes, distinct, counts = _distinct(_text_of(col))
    found: dict[str, tuple[int, pd.Series]] = {}
    for i, value in enumerate(distinct):
        code = currency_of_token(value)
        if code is None:
            continue
        n, examples = found.get(code, (0, distinct.iloc[:0]))
        found[code] = (n + int(counts[i]), pd.concat([examples, distinct.iloc[[i]]]))
    return found


def _currency_label(code: str) -> str:
    return f"{fmt.currency_name(code)} ({code})"


def detect_currency(raw: pd.DataFrame, mapping: Mapping[str, str], original: Mapping[str, str],
                    setting: str | None, path: Path | None = None, offset: int = 2) -> tuple[str, dict[str, Any]]:
    """The currency of the amounts and where it came from: ``(code, source)`` as stored in
    :attr:`helpers.dataset.Dataset.currency` / ``currency_source``.

    Evidence: the revenue column's header (``"Umsatz (€)"``, ``"amount_usd"``, ``"Preis CHF"``), the
    amounts' own signs and codes (``"$12.50"``, ``"12,50 €"``, ``"CHF 1'234.50"``) and a currency
    column (``Währung``/``currency``: ``EUR``, ``USD``). ``setting`` (an ISO code, ``cfg.currency``)
    wins over the evidence (the file's hint is kept as ``file_hint``). Without evidence: EUR,
    ``source="assumed"``. Raises a German :class:`DataValidationError` naming the file, the column
    and examples when the amounts themselves name two currencies (they cannot be added; also with a
    setting), or, without a setting, when header, amounts and currency column disagree.
    """
    rev = mapping.get("revenue")
    evidence: dict[str, tuple[str, str, str]] = {}  # kind -> (code, column, German evidence text)
    where = f"In der Spalte „{rev}“" if rev else "In der Datei"
    if rev is not None:
        header = str(original.get(rev, rev))
        named = header_currencies(header)
        if len(named) > 1 and setting is None:
            raise _fail(path, f"Der Spaltenkopf „{header}“ nennt mehrere Währungen ("
                              + ", ".join(_currency_label(c) for c in named)
                              + "). Bitte die Währung festlegen, z. B. --set currency=" + named[0] + ".")
        if len(named) == 1:
            evidence["header"] = (named[0], header, f"Spaltenkopf „{header}“")
        values = _value_currencies(raw[rev])
        if len(values) > 1:
            parts = [f"{_currency_label(c)} ({_values(n)}, z. B. {_examples(ex, ex.index, k=2, offset=offset)})"
                     for c, (n, ex) in sorted(values.items(), key=lambda kv: -kv[1][0])]
            raise _fail(
                path,
                f"{where} stehen Beträge in verschiedenen Währungen: " + " und ".join(parts) + ". "
                "Beträge verschiedener Währungen lassen sich nicht zusammenzählen; jede Summe, jeder "
                "Kundenwert wäre falsch. Bitte einen Export in einer einzigen Währung liefern (oder die "
                "Beträge vorher umrechnen).",
            )
        if values:
            (code, (n, ex)), = values.items()
            shown = ", ".join(f"„{_short(v, 20)}“" for v in ex.iloc[:2])
            evidence["values"] = (code, header, f"Beträge wie {shown}")
    currency_cols = [c for c in raw.columns if c not in set(mapping.values())
                     and normalize_header(original.get(c, c)) in CURRENCY_COLUMN_NAMES]
    for col in currency_cols[:1]:
        named_rows = _column_currencies(raw[col])
        head = str(original.get(col, col))
        if len(named_rows) > 1 and setting is None:
            parts = [f"{_currency_label(c)} ({_values(n)}, z. B. {_examples(ex, ex.index, k=2, offset=offset)})"
                     for c, (n, ex) in sorted(named_rows.items(), key=lambda kv: -kv[1][0])]
            raise _fail(
                path,
                f"Laut Spalte „{head}“ stehen die Beträge in verschiedenen Währungen: " + " und ".join(parts)
                + ". Beträge verschiedener Währungen lassen sich nicht zusammenzählen. Bitte einen Export in "
                "einer einzigen Währung liefern; sind alle Beträge bereits umgerechnet, die Währung festlegen, "
                f"z. B. --set currency={next(iter(named_rows))}.",
            )
        if len(named_rows) == 1:
            code = next(iter(named_rows))
            evidence["column"] = (code, head, f"Spalte „{head}“ ({code} in allen Zeilen)")
    codes = list(dict.fromkeys(code for code, _, _ in evidence.values()))
    if setting is not None:
        info: dict[str, Any] = {"source": "setting"}
        if codes and codes != [setting]:
            kind = next(k for k, (c, _, _) in evidence.items() if c != setting)
            info.update(file_hint=evidence[kind][0], evidence=evidence[kind][2], column=evidence[kind][1])
        elif codes:
            info.update(agrees=True, evidence=" und ".join(e[2] for e in evidence.values()),
                        column=next(iter(evidence.values()))[1])
        return setting, info
    if len(codes) > 1:
        parts = []
        for kind, (code, column, text) in evidence.items():
            if kind == "values":
                n, ex = values[code]
                text = (f"die Beträge der Spalte „{column}“ (z. B. {_examples(ex, ex.index, k=2, offset=offset)}) "
                        "nennen")
            elif kind == "header":
                text = f"der Spaltenkopf „{column}“ nennt"
            else:
                text = f"die Spalte „{column}“ nennt"
            parts.append(f"{text} {_currency_label(code)}")
        raise _fail(
            path,
            "Die Währung ist widersprüchlich: " + "; ".join(parts) + ". Welche gilt, lässt sich nicht sicher "
            "erkennen. Bitte die Währung festlegen: " + " oder ".join(f"--set currency={c}" for c in codes) + ".",
        )
    if not codes:
        return fmt.DEFAULT_CURRENCY, {"source": "assumed"}
    kinds = list(evidence)
    first = kinds[0]
    info = {"source": first, "column": evidence[first][1],
            "evidence": " und ".join(evidence[k][2] for k in kinds), "kinds": kinds}
    if codes[0] == "USD" and _dollar_sign_only(evidence, raw, rev, original):
        info["dollar_sign"] = True
    return codes[0], info


def _dollar_sign_only(evidence: Mapping[str, tuple[str, str, str]], raw: pd.DataFrame, rev: str | None,
                      original: Mapping[str, str]) -> bool:
    """True when USD rests only on a bare ``$`` (no ``USD``, ``US$`` or ``Dollar``): other dollars
    (CAD, AUD, ...) are possible, the report says how to set them."""
    explicit = r"usd|us\$|dollar"
    if "column" in evidence:
        return False
    if "header" in evidence and re.search(explicit, str(original.get(rev, rev)).lower()):
        return False
    if "values" in evidence:
        text = raw[rev].astype("str").str.lower()
        if text.str.contains(explicit, regex=True).fillna(False).any():
            return False
    return True


# --------------------------------------------------------------------------- main entry


def is_parquet(path: Path) -> bool:
    """True for a folder (read as a folder of Parquet files) or a Parquet file (name or magic bytes):
    these go through the line-level engine (:mod:`helpers.engine`)."""
    path = Path(path)
    if path.is_dir():
        return True
    if path.name.lower().endswith(".parquet"):
        return True
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"PAR1"
    except OSError:
        return False


def load_dataset(path: str | Path, cfg: ReportConfig, key: bytes | None = None, *,
                 today: dt.date | None = None) -> Dataset:
    """Read, map, validate, clean and pseudonymize a client export.

    ``key``: pseudonymization key (bytes); ``None`` with ``cfg.pseudonymize`` = a random
    key for this run only (the report pipeline passes the client's stored key).
    ``today``: the run date (default: ``cfg.report_date``, else today); no date after it is kept
    unless ``cfg.observation_end`` is set.
    The currency of the amounts is ``cfg.currency`` or detected (:func:`detect_currency`) and stored
    in ``ds.currency`` / ``ds.currency_source``; messages of this function format money in it.
    Raises :class:`DataValidationError` (German message, exit code 2) when the file is unusable
    or cannot support an analysis: nothing left after the checks, only returns, all purchases on
    one day, too many implausible dates, fewer than ``cfg.min_customers`` customers.
    """
    from . import privacy
    from .validation import DROP_LABELS, apply_rules

    path = Path(path)
    if is_parquet(path):  # clean Parquet goes straight to the line-level engine
        from .engine import load_parquet

        return load_parquet(path, cfg, key, today=today)
    today = today or getattr(cfg, "report_date", None) or dt.date.today()  # the report's one run date
    raw, info = read_table(path, cfg)
    original: dict[str, str] = dict(info.get("original") or {})
    columns = [str(c) for c in raw.columns]
    raw.columns = columns
    if len(raw) == 0:
        raise _fail(path, "Die Datei enthält nur die Kopfzeile, aber keine Datenzeilen.")
    mapping = map_columns(columns, cfg.data.column_map, path, original)
    offset = 2 if info["format"] in ("CSV", "Excel") else 1

    parsed = pd.DataFrame(index=raw.index)
    parsed["customer_id"] = parse_customer_ids(raw[mapping["customer_id"]], path, mapping["customer_id"], offset)
    parsed["order_date"] = parse_dates(raw[mapping["order_date"]], cfg.data.date_format, path,
                                       mapping["order_date"], offset)
    notes = []
    if "revenue" in mapping and raw[mapping["revenue"]].isna().all():
        notes.append(f"Die Umsatzspalte „{mapping['revenue']}“ ist leer; ausgewertet wird ohne Umsätze.")
        del mapping["revenue"]
    currency, currency_source = detect_currency(raw, mapping, original, cfg.currency, path, offset)
    decimal_used = None
    if "revenue" in mapping:
        src = raw[mapping["revenue"]]
        parsed["revenue"], decimal_used = _parse_amounts(src, cfg.data.decimal, path, mapping["revenue"], offset)
        if parsed["revenue"].notna().sum() == 0 and src.notna().any():
            bad = src.dropna()
            raise _fail(
                path,
                f"In der Umsatzspalte „{mapping['revenue']}“ steht keine lesbare Zahl. "
                f"Beispiele: {_examples(bad, bad.index, offset=offset)}.",
            )
    if "order_id" in mapping:
        parsed["order_id"] = parse_customer_ids(raw[mapping["order_id"]])
    for col in ("category", "channel"):
        if col in mapping:
            parsed[col] = _text_of(raw[mapping[col]]).str.strip().astype("category")
    if "quantity" in mapping:
        try:
            # the same export writes quantities like amounts: the revenue column's decimal mark decides
            parsed["quantity"] = parse_amounts(raw[mapping["quantity"]], cfg.data.decimal or decimal_used, path,
                                               mapping["quantity"], offset)
        except DataValidationError:
            notes.append(f"Die Mengenspalte „{mapping['quantity']}“ enthält Zahlen in uneinheitlichem Format; "
                         "Mengen werden nicht übernommen.")
            del mapping["quantity"]

    structural = structural_rows(raw, mapping, original)
    duplicates = raw.duplicated(keep="first").to_numpy()
    del raw  # free the text columns before the rules run (large files)
    if cfg.pseudonymize:
        parsed["customer_id"] = privacy.pseudonymize(parsed["customer_id"], key if key is not None else privacy.new_key())

    obs_end = pd.Timestamp(cfg.observation_end) if cfg.observation_end is not None else None
    tx, ledger, end = apply_rules(
        parsed, duplicates, obs_end, returns=cfg.data.returns, outlier_factor=cfg.data.outlier_factor,
        row_offset=offset, structural=structural, today=today,
    )
    _check_dates(path, ledger, cfg)
    if len(tx) == 0:
        raise _fail(path, "Nach der Prüfung bleibt keine gültige Zeile übrig ("
                          + "; ".join(f"{DROP_LABELS[k]}: {v}" for k, v in ledger.dropped.items() if v) + ").")
    for col in ("category", "channel"):
        if col in tx.columns:
            tx[col] = tx[col].astype("category")
    if "quantity" in tx.columns:
        tx["quantity"] = tx["quantity"].astype(float)
    tx["customer_id"] = tx["customer_id"].astype("str")
    order = [c for c in CANONICAL if c in tx.columns]
    parts = [f"Zeichenkodierung {info['encoding']}"] if "encoding" in info else []
    parts += [f"Trennzeichen {info['separator']}"] if "separator" in info else []
    if decimal_used is not None:
        parts.append("Dezimalkomma" if decimal_used == "," else "Dezimalpunkt")
    notes.insert(0, f"Gelesen als {info['format']}-Datei" + (f" ({', '.join(parts)})." if parts else "."))
    if info.get("nul"):
        notes.append(f"{fmt.integer(info['nul'])} NUL-Zeichen (Füllbytes) wurden beim Lesen entfernt.")
    return finish_dataset(path, cfg, mapping, ledger, transactions=tx[order], observation_end=end,
                          notes=notes, sources={c: mapping[c] for c in order}, currency=currency,
                          currency_source=currency_source)


def finish_dataset(path: Path, cfg: ReportConfig, mapping: Mapping[str, str], ledger: Any, *,
                   observation_end: Any, **fields: Any) -> Dataset:
    """The :class:`Dataset` of a read file (CSV/Excel here, Parquet in :mod:`helpers.engine`): the
    ledger counts its customers and must balance, and the data must support an analysis (German
    DataValidationError otherwise). ``fields``: the other Dataset fields."""
    ds = Dataset(observation_end=pd.Timestamp(observation_end).normalize(), ledger=ledger,
                 source_name=path.name, **fields)
    ledger.customers_with_purchase = int(len(ds.customers))
    ledger.check()
    _check_analysable(path, ds, cfg, mapping)
    return ds


def _check_dates(path: Path, ledger: Any, cfg: ReportConfig) -> None:
    """Stop when more than ``data.max_implausible_date_share`` of the lines have a date after the run
    date or far outside the rest of the data (those below the share are dropped and listed)."""
    from .validation import DATE_REASONS

    n = sum(ledger.dropped.get(k, 0) for k in DATE_REASONS)
    limit = cfg.data.max_implausible_date_share
    if not n or n <= limit * ledger.rows_read:
        return
    listed = [d for d in ledger.dates if d["reason"] in DATE_REASONS]
    examples = ", ".join(f"Zeile {d['row']}: {fmt.date(pd.Timestamp(d['order_date']))}" for d in
                         (listed[:2] + listed[-2:] if len(listed) > 4 else listed))
    future = ledger.dropped.get("after_run_date", 0)
    kinds = []
    if future:
        kinds.append(f"{fmt.integer(future)} {'liegt' if future == 1 else 'liegen'} nach dem heutigen Auswertungstag "
                     f"({fmt.date(pd.Timestamp(ledger.run_date))})")
    if n - future:
        kinds.append(f"{fmt.integer(n - future)} {'liegt' if n - future == 1 else 'liegen'} weit außerhalb des "
                     "übrigen Zeitraums")
    raise _fail(
        path,
        f"{fmt.integer(n)} von {fmt.integer(ledger.rows_read)} Zeilen ({fmt.pct(n / ledger.rows_read, 1)}) haben ein "
        f"unplausibles Datum: {' und '.join(kinds)} "
        f"(z. B. {examples}). Bei so vielen ist eher die Datumsspalte falsch gewählt oder falsch "
        "gelesen als einzelne Zeilen fehlerhaft. Bitte die Datumsspalte prüfen (ggf. --map order_date=… oder "
        "--set data.date_format=…). Sollen diese Zeilen verworfen werden, den Höchstanteil erhöhen, z. B. "
        f"--set data.max_implausible_date_share={min(1.0, round(n / ledger.rows_read + 0.01, 2))} "
        f"(Einstellung data.max_implausible_date_share, derzeit {fmt.pct(limit, 1)}).",
    )


def _check_analysable(path: Path, ds: Dataset, cfg: ReportConfig, mapping: Mapping[str, str]) -> None:
    """German errors (exit 2) for data that cannot support the analysis at all."""
    n_customers = int(len(ds.customers))
    if n_customers == 0:
        tx = ds.transactions
        total = fmt.money(float(tx["revenue"].sum()), 2, currency=ds.currency) if ds.has_revenue else None
        raise _fail(
            path,
            f"Die Datei enthält keinen einzigen Kauf: Alle {fmt.integer(ds.n_lines)} übernommenen Zeilen sind "
            "Retouren, Gutschriften oder Stornos" + (f" (zusammen {total})" if total else "")
            + ", kein Kunden-Tag hat einen positiven Nettoumsatz. Kundenwert, Segmente und Abwanderung "
            "beruhen auf Käufen; bitte einen Export mit den Verkäufen liefern (nicht nur Gutschriften).",
        )
    days = ds.purchases["order_date"]
    if days.nunique() < 2:
        day = fmt.date(days.iloc[0])
        raise _fail(
            path,
            f"Alle Käufe der Datei liegen an einem einzigen Tag ({day}). Wiederkäufe, Kaufabstände, "
            "Kundenwert und Abwanderung lassen sich aus einem Tag nicht ableiten – jede Kundin und jeder Kunde "
            "sähe gleich aktiv aus. Bitte einen Export über einen längeren Zeitraum liefern (mindestens "
            "einige Monate, besser zwei Jahre).",
        )
    if n_customers < cfg.min_customers:
        raise _fail(
            path,
            f"Nur {n_customers} Kundinnen und Kunden gefunden (mit mindestens einem Kauf, Spalte "
            f"„{mapping['customer_id']}“); für eine belastbare Auswertung sind mindestens {cfg.min_customers} "
            "nötig (Einstellung min_customers).",
        )
