"""CRM target lists: one Excel workbook (one sheet per segment) plus one CSV file per segment.

The files are made for German Excel and CRM imports:

- xlsx (openpyxl template, rows generated column-wise): German headers, frozen header row, column widths, numeric cells stay numeric
  with German-looking number formats (``#,##0.00 "€"`` in the report's currency, ``0.0``, ``DD.MM.YYYY``).
- CSV: UTF-8 with BOM, ``;`` as separator, decimal comma, dates ``dd.mm.yyyy``.
- Money columns name the report's currency code in the header (``Umsatz gesamt (USD)``,
  :func:`helpers.fmt.currency_code`); shares are shown as in the PDF, in percent: the columns
  ``P(aktiv) (%)`` and ``Abwanderungsrisiko (%)`` hold 0–100 with one decimal (``12,5``) in the CSV
  and the xlsx alike.
- Pseudonymized customer IDs (``PS-3F9A2C1B``) stand in a column „Pseudonym“, real ones in
  „Kundennummer“, so the two are never confused; :func:`reidentify_list` (``kundenwert zuordnen``)
  adds the real customer numbers on the consultant's machine.
- Text cells starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return get a leading
  apostrophe so that spreadsheet programs never evaluate them as formulas (CSV/formula injection).
- Every file is written to a temporary file in the target folder and then moved into place
  (``os.replace``), so a reader never sees a half-written file.

The action plan (:mod:`helpers.analysis.actions`) decides which lists exist and how they are named
(:func:`segment_list_names`); :func:`write_action_lists` writes exactly that plan. The report
pipeline calls it after computing the results; notebooks never write files.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import unicodedata
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from . import fmt, labels

if TYPE_CHECKING:  # pragma: no cover
    from .analysis.actions import ActionsResult
    from .config import ReportConfig

EXCEL_MAX_ROWS = 1_048_576
WORKBOOK_NAME = "zielgruppen.xlsx"
"""File name of the target-list workbook."""
LISTS_FOLDER = "zielgruppen"
"""Name of the folder next to the PDF report that holds the target lists."""
_INVALID_SHEET = re.compile(r"[\[\]:*?/\\]")
_DANGEROUS = re.compile(r"^[=+\-@\t\r]")

HEADER_TEMPLATES = {
    "customer_id": "Kundennummer",
    "segment": "Segment",
    "r_score": "R-Score",
    "f_score": "F-Score",
    "m_score": "M-Score",
    "last_purchase": "Letzter Kauf",
    "revenue": "Umsatz gesamt ({cur})",
    "revenue_12m": "Umsatz 12 Monate ({cur})",
    "clv": "CLV ({cur})",
    "p_alive": "P(aktiv) (%)",
    "risk": "Abwanderungsrisiko (%)",
    "expected_gain": "Erw. Zusatz-DB nach Kosten ({cur})",
    "action": "Empfohlene Maßnahme",
    "next_categories": "Nächste Warengruppen",
    "contact": "Im Budget kontaktieren",
}
"""Canonical column -> German header of the target lists (in this order); ``{cur}`` = ISO code."""
ID_HEADER = "Kundennummer"
PSEUDONYM_HEADER = "Pseudonym"
"""Header of the ID column: real customer numbers / pseudonyms (``PS-…``)."""


def columns(currency: str | None = None, pseudonymized: bool = False) -> dict[str, str]:
    """Canonical column -> German header, money in ``currency`` (default: the report's currency,
    :func:`helpers.fmt.currency_code`): ``{"revenue": "Umsatz gesamt (USD)", ...}``; the ID column is
    „Pseudonym“ when ``pseudonymized``."""
    code = currency or fmt.currency_code()
    out = {k: v.format(cur=code) for k, v in HEADER_TEMPLATES.items()}
    if pseudonymized:
        out["customer_id"] = PSEUDONYM_HEADER
    return out


COLUMNS = columns("EUR")
"""The headers of a euro report with real customer numbers (:func:`columns` for any other)."""
_TEMPLATE_OF = {v: k for k, v in HEADER_TEMPLATES.items()} | {PSEUDONYM_HEADER: "customer_id"}
_CODE_SUFFIX = re.compile(r"\(([A-Z]{3})\)$")


def canonical_column(header: object) -> str:
    """German list header -> canonical column (``"Umsatz gesamt (CHF)"`` -> ``"revenue"``); ``""``
    for any other header."""
    text = str(header)
    key = _TEMPLATE_OF.get(text)
    if key is None:
        key = _TEMPLATE_OF.get(_CODE_SUFFIX.sub("({cur})", text), "")
    return key


def _header_currency(header: object) -> str:
    m = _CODE_SUFFIX.search(str(header))
    return m.group(1) if m else fmt.currency_code()

_KIND = {
    "r_score": "int", "f_score": "int", "m_score": "int",
    "last_purchase": "date",
    "revenue": "eur", "revenue_12m": "eur", "clv": "eur", "expected_gain": "eur",
    "p_alive": "pct", "risk": "pct",
}
_XLSX_FORMAT = {"int": "0", "eur": '#,##0.00 "{symbol}"', "pct": "0.0", "date": "DD.MM.YYYY"}
"""xlsx number formats (German Excel shows ``1.234,56 €``); ``pct`` columns hold percent (0–100)."""
_WIDTH = {"customer_id": 18, "segment": 24, "action": 48, "next_categories": 34, "last_purchase": 13,
          "contact": 12}


def neutralize(values: pd.Series) -> pd.Series:
    """Prefix text cells that a spreadsheet could read as a formula with ``'`` (vectorized)."""
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        st = values.astype("str")  # Arrow-backed strings: regex and concatenation run vectorized
        risky = st.str.contains(_DANGEROUS, regex=True).fillna(False).astype(bool)
        return st.where(~risky, "'" + st).astype(object).where(values.notna(), None)
    s = values.astype(object)
    try:
        risky = s.str.contains(_DANGEROUS, na=False).astype(bool)
    except AttributeError:  # no text at all
        return s
    if risky.any():
        s.loc[risky] = "'" + s[risky].astype(str)
    return s


def target_list(table: pd.DataFrame, segment: str | None = None,
                names: Mapping[str, str] | None = None, pseudonymized: bool | None = None) -> pd.DataFrame:
    """The target list with German headers (optionally only one ``segment``), sorted by expected gain
    of a contact (the budgeted contacts first), else by value/CLV.

    ``table`` is indexed by ``customer_id`` and has (a subset of) the columns of :data:`COLUMNS`;
    optional columns that are missing or empty in the whole ``table`` are left out. Customers are
    sorted by ``expected_gain`` (else ``value``, else ``clv``) descending. ``names`` maps a
    ``segment`` value to the name shown (default: the value itself). ``risk`` is the churn chapter's
    risk of every customer (the one behind the value at risk). Money headers name the report's
    currency (:func:`columns`); ``p_alive`` and ``risk`` are given in percent (0–100, one decimal).
    ``pseudonymized``: the IDs are pseudonyms (header „Pseudonym“); ``None`` = every ID of ``table``
    looks like one (:func:`helpers.privacy.is_pseudonym`).
    """
    from . import privacy

    if pseudonymized is None:
        ids = pd.Series(table.index, dtype=object).dropna()
        pseudonymized = bool(len(ids)) and bool(privacy.is_pseudonym(ids).all())
    headers = columns(pseudonymized=pseudonymized)
    keep = [c for c in headers if c == "customer_id" or c == "segment"
            or (c in table.columns and table[c].notna().any())]
    t = table if segment is None else table[table["segment"] == segment]
    sort_col = next((c for c in ("expected_gain", "value", "clv")
                     if c in t.columns and t[c].notna().any()), None)
    if sort_col is not None:
        t = t.sort_values(sort_col, ascending=False, kind="stable")
    t = t.reset_index().rename(columns={t.index.name or "index": "customer_id"})
    out = t[keep].copy()
    if names:
        out["segment"] = out["segment"].map(lambda v: names.get(v, v))
    if "contact" in out.columns:
        out["contact"] = np.where(out["contact"].astype(bool), "ja", "nein")
    for c in ("segment", "action", "next_categories", "customer_id"):
        if c in out.columns:
            out[c] = out[c].astype(object).where(out[c].notna(), "").astype(str)
    for c in ("p_alive", "risk"):
        if c in out.columns:
            out[c] = (pd.to_numeric(out[c], errors="coerce").astype(float) * 100).round(1)
    return out.rename(columns=headers)


def sheet_name(name: str, used: Iterable[str] = ()) -> str:
    """Valid, unique Excel sheet name: no ``[]:*?/\\``, at most 31 characters, not empty."""
    clean = _INVALID_SHEET.sub("_", str(name)).strip().strip("'") or "Segment"
    clean = clean[:31]
    taken = {u.lower() for u in used}
    candidate, i = clean, 2
    while candidate.lower() in taken:
        suffix = f" ({i})"
        candidate = clean[: 31 - len(suffix)] + suffix
        i += 1
    return candidate


def file_slug(name: str) -> str:
    """ASCII file-name part: ``"Kurz vor dem Absprung"`` -> ``"kurz-vor-dem-absprung"``."""
    s = str(name).lower()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        s = s.replace(a, b)
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    s = re.sub(r"[^a-z0-9]+", "-", s).strip("-")
    return s or "segment"


def _atomic_write(path: Path, write) -> None:
    """Call ``write(tmp_path)`` and move the result to ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def to_csv_text(df: pd.DataFrame) -> pd.DataFrame:
    """The list prepared for a German CSV: dates ``dd.mm.yyyy``, money with two decimals, percent
    (0–100) with one, decimal comma, injection neutralized."""
    out = df.copy()
    for col in out.columns:
        kind = _KIND.get(canonical_column(col))
        if kind == "date":
            out[col] = pd.to_datetime(out[col]).dt.strftime("%d.%m.%Y").fillna("")
        elif kind == "int":
            out[col] = out[col].astype("Int64")
        elif kind in ("eur", "pct"):
            out[col] = _decimal_comma(out[col], 2 if kind == "eur" else 1)
        elif kind is None:
            out[col] = neutralize(out[col])
    return out


def _decimal_comma(values: pd.Series, decimals: int) -> pd.Series:
    """Numbers as text with decimal comma, rounded (``1234.5`` -> ``"1234,5"``); missing -> ``""``."""
    num = pd.to_numeric(values, errors="coerce").astype(float).round(decimals)
    text = pd.Series(num.to_numpy().astype(str), index=values.index, dtype="str")
    text = text.str.replace(r"\.0$", "", regex=True).str.replace(".", ",", regex=False)
    return text.where(num.notna(), "")


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """German CSV (UTF-8 BOM, ``;``, decimal comma), written atomically."""
    data = to_csv_text(df)

    def write(tmp: Path) -> None:
        data.to_csv(tmp, sep=";", decimal=",", index=False, encoding="utf-8-sig", lineterminator="\r\n")

    _atomic_write(Path(path), write)
    return Path(path)


def write_workbook(sheets: dict[str, pd.DataFrame], path: Path, max_rows: int = EXCEL_MAX_ROWS - 1) -> Path:
    """One sheet per entry (``sheet_name`` applied), written atomically.

    openpyxl builds the workbook (styles, header row, frozen pane, column widths) with one
    template data row per sheet; the data rows are then generated column-wise as sheet XML with
    the template's cell styles (openpyxl's cell-by-cell writer is far too slow for large lists).
    At most ``max_rows`` data rows per sheet (Excel allows 1.048.576 rows including the header).
    """

    max_rows = min(max_rows, EXCEL_MAX_ROWS - 1)
    wb = Workbook()
    wb.remove(wb.active)
    used: list[str] = []
    frames: list[pd.DataFrame] = []
    for name, df in sheets.items():
        title = sheet_name(name, used)
        used.append(title)
        ws = wb.create_sheet(title)
        ws.freeze_panes = "A2"
        canon = [canonical_column(c) for c in df.columns]
        for j, (col, key) in enumerate(zip(df.columns, canon), start=1):
            ws.column_dimensions[get_column_letter(j)].width = _WIDTH.get(key, max(12, len(col) + 2))
            head = ws.cell(1, j, col)
            head.font = Font(bold=True)
            head.fill = PatternFill("solid", fgColor="EEF3F7")
            head.alignment = Alignment(wrap_text=True, vertical="top")
            kind = _KIND.get(key)
            template = ws.cell(2, j, 0 if kind else "x")  # carries the cell style for the real rows
            if kind:
                template.number_format = _XLSX_FORMAT[kind].replace(
                    "{symbol}", fmt.currency_symbol(_header_currency(col)).replace('"', ""))
        frames.append(df.head(max_rows))
    if not used:
        wb.create_sheet("Keine Zielgruppen")
    buf = io.BytesIO()
    wb.save(buf)

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(buf) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
            for item in src.infolist():
                data = src.read(item.filename)
                m = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", item.filename)
                if m and frames:
                    data = _fill_sheet(data.decode("utf-8"), frames[int(m.group(1)) - 1]).encode("utf-8")
                dst.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)

    _atomic_write(Path(path), write)
    return Path(path)


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")


def _xml_text(values: pd.Series) -> np.ndarray:
    """Escape text for an inline-string cell (vectorized); returns an object array of ``str``."""
    st = values.astype("str")
    if st.str.contains(_XML_INVALID, regex=True).fillna(False).any():
        st = st.str.replace(_XML_INVALID, "", regex=True)
    for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;")):
        st = st.str.replace(a, b, regex=False)
    return st.to_numpy(dtype=object)


def _fill_sheet(xml: str, df: pd.DataFrame) -> str:
    """Replace the template row 2 of a sheet by the rows of ``df`` (same styles per column).

    The XML is built column by column with NumPy object arrays (no loop over rows).
    """
    row2 = re.search(r'<row r="2"[^>]*>.*?</row>', xml, flags=re.S)
    if row2 is None:
        return xml
    styles = dict(re.findall(r'<c r="([A-Z]+)2"(?:[^>]*?) s="(\d+)"', row2.group(0)))
    n = len(df)
    rownum = np.arange(2, n + 2).astype(str).astype(object)
    grid = np.empty((n, len(df.columns) + 2), dtype=object)  # row start, cells..., row end
    grid[:, 0] = '<row r="' + rownum + '">'
    grid[:, -1] = "</row>"
    for j, col in enumerate(df.columns, start=1):
        letter = get_column_letter(j)
        head = f'<c r="{letter}'
        style = f' s="{styles[letter]}"' if letter in styles else ""
        kind = _KIND.get(canonical_column(col))
        values = df[col]
        if kind is None:
            text = neutralize(values)
            ok = (text.notna() & (text.astype(object).fillna("") != "")).to_numpy()
            inner = _xml_text(text.fillna(""))
            cell = (head + rownum + ('"' + style + ' t="inlineStr"><is><t xml:space="preserve">')
                    + inner + "</t></is></c>")
        else:
            if kind == "date":
                num = (pd.to_datetime(values) - _EXCEL_EPOCH).dt.days.to_numpy(dtype=float)
            else:
                num = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
            ok = np.isfinite(num)
            if kind in ("int", "date"):
                shown = np.where(ok, num, 0).astype(np.int64).astype(str).astype(object)
            else:
                shown = np.where(ok, num, 0).astype(str).astype(object)
            cell = head + rownum + ('"' + style + "><v>") + shown + "</v></c>"
        grid[:, j] = np.where(ok, cell, "")
    rows = "".join(grid.ravel().tolist())
    out = xml[: row2.start()] + rows + xml[row2.end():]
    last = get_column_letter(max(len(df.columns), 1))
    return re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="A1:{last}{n + 1}"/>', out, count=1)


def list_names(segments: Iterable[str], names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Sheet and CSV file name of each target list: ``segment``, ``sheet``, ``csv``.

    ``names`` maps a segment value to its display name (default: the value itself); sheet names are
    valid and unique (:func:`sheet_name`), file names ``zielgruppe-<slug>.csv`` unique.
    """
    names = names or {}
    rows = []
    used_sheets: list[str] = []
    used_files: set[str] = set()
    for seg in segments:
        shown = names.get(seg, seg)
        sheet = sheet_name(shown, used_sheets)
        used_sheets.append(sheet)
        base = f"zielgruppe-{file_slug(shown)}"
        fname, i = f"{base}.csv", 2
        while fname in used_files:
            fname, i = f"{base}-{i}.csv", i + 1
        used_files.add(fname)
        rows.append({"segment": seg, "sheet": sheet, "csv": fname})
    return pd.DataFrame(rows, columns=["segment", "sheet", "csv"])


def segment_names(segment_ids: Iterable[str]) -> dict[str, str]:
    """Segment id -> German segment name (:func:`helpers.labels.segment`)."""
    return {s: labels.segment(s) for s in segment_ids}


def segment_list_names(segment_ids: Iterable[str]) -> pd.DataFrame:
    """:func:`list_names` of RFM segment ids, named with their German labels (the action plan)."""
    ids = list(segment_ids)
    return list_names(ids, segment_names(ids))


def write_target_lists(table: pd.DataFrame, segments: Iterable[str], out_dir: str | Path,
                       workbook_name: str = WORKBOOK_NAME,
                       max_rows: int = EXCEL_MAX_ROWS - 1,
                       names: Mapping[str, str] | None = None,
                       pseudonymized: bool | None = None) -> pd.DataFrame:
    """Write the workbook and one CSV per segment into ``out_dir``.

    ``names`` maps a ``segment`` value to the name shown in the lists, sheets and file names
    (default: the value itself); ``pseudonymized`` as in :func:`target_list`. Returns one row per segment: ``segment``, ``sheet`` (sheet name),
    ``customers``, ``csv`` (file name), ``truncated`` (bool: sheet shortened to ``max_rows``), plus
    the workbook file name in ``DataFrame.attrs["workbook"]``.
    """
    out_dir = Path(out_dir)
    lists: dict[str, pd.DataFrame] = {}
    rows = []
    for seg, sheet, fname in list_names(segments, names).itertuples(index=False):
        df = target_list(table, seg, names, pseudonymized=pseudonymized)
        lists[sheet] = df
        write_csv(df, out_dir / fname)
        rows.append({"segment": seg, "sheet": sheet, "customers": len(df), "csv": fname,
                     "truncated": len(df) > max_rows})
    write_workbook(lists, out_dir / workbook_name, max_rows=max_rows)
    result = pd.DataFrame(rows, columns=["segment", "sheet", "customers", "csv", "truncated"])
    result.attrs["workbook"] = workbook_name
    return result


def action_list_table(actions: "ActionsResult") -> pd.DataFrame:
    """Per-customer table of the target lists from the action plan (segment ids, German action)."""
    table = actions.customers.copy()
    table["action"] = table["segment"].map(dict(actions.segment_actions)).fillna("")
    return table


def action_list_plan(actions: "ActionsResult") -> pd.DataFrame:
    """The action plan's list plan with the names the export uses: ``segment`` (id), ``customers``,
    ``truncated``, ``sheet``, ``csv`` (German names from :func:`segment_list_names`)."""
    plan = actions.lists.reset_index(drop=True)
    names = segment_list_names(list(plan["segment"]))
    return plan.assign(sheet=names["sheet"].to_numpy(dtype=object), csv=names["csv"].to_numpy(dtype=object))


def write_action_lists(actions: "ActionsResult", folder: Path, cfg: "ReportConfig") -> pd.DataFrame:
    """Write exactly the target lists planned in ``actions.lists`` into ``folder``.

    One workbook (:data:`WORKBOOK_NAME`, one sheet per segment, German segment names) plus one CSV
    per segment; nothing is written when no list is planned. Returns the table of written lists
    (as :func:`write_target_lists`), whose ``segment``, ``sheet``, ``csv`` and ``customers`` equal
    :func:`action_list_plan`.
    """
    plan = action_list_plan(actions)
    columns = ["segment", "sheet", "customers", "csv", "truncated"]
    if plan.empty:
        empty = pd.DataFrame(columns=columns)
        empty.attrs["workbook"] = None
        return empty
    segments = list(plan["segment"])
    written = write_target_lists(action_list_table(actions), segments, folder,
                                 workbook_name=WORKBOOK_NAME,
                                 max_rows=cfg.actions.max_list_rows, names=segment_names(segments),
                                 pseudonymized=None if cfg.pseudonymize else False)
    same = ["segment", "sheet", "csv", "customers"]
    if written[same].to_dict("records") != plan[same].to_dict("records"):
        raise RuntimeError("written target lists differ from the planned lists")
    return written


# --------------------------------------------------------------------------- back to customer numbers

REAL_ID_HEADER = "Kundennummer"
"""Header of the column :func:`reidentify_list` adds (the client's real customer numbers)."""
MIN_MATCH_SHARE = 0.5
"""Below this share of matched pseudonyms nothing is written: with a wrong key, a few 8-digit
pseudonyms still match some ID by chance (about list rows × IDs / 2³² of them), and those numbers would
be wrong. With the key and the file of the report, every pseudonym matches."""


def _read_list(path: Path) -> dict[str, pd.DataFrame]:
    """A target list as written by this module: one CSV or every sheet of the workbook, all cells
    as they are (CSV: text; xlsx: values)."""
    from .exceptions import DataValidationError

    if not path.is_file():
        raise DataValidationError(f"Die Liste „{path}“ wurde nicht gefunden.")
    try:
        if path.suffix.lower() == ".csv":
            return {"": pd.read_csv(path, sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False)}
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            sheets = pd.read_excel(path, sheet_name=None, dtype=object, engine="openpyxl")
            return {name: df for name, df in sheets.items()}
    except (ValueError, OSError, zipfile.BadZipFile, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"Die Liste „{path.name}“ kann nicht gelesen werden ({type(exc).__name__}). "
                                  "Erwartet wird eine Zielgruppenliste des Berichts (CSV oder zielgruppen.xlsx).") from exc
    raise DataValidationError(f"Die Liste „{path.name}“ ist weder eine CSV- noch eine .xlsx-Datei. Erwartet wird "
                              "eine Zielgruppenliste des Berichts aus dem Ordner „zielgruppen“.")


def _pseudonym_column(df: pd.DataFrame, path: Path) -> str:
    from . import privacy
    from .exceptions import DataValidationError

    for col in df.columns:
        values = df[col].astype(object).where(df[col].notna(), "").astype(str).str.strip()
        values = values[values != ""]
        if str(col) == PSEUDONYM_HEADER or (len(values) and privacy.is_pseudonym(values).all()):
            return str(col)
    raise DataValidationError(
        f"Die Liste „{path.name}“ enthält keine Pseudonyme (Spalte „{PSEUDONYM_HEADER}“ mit Werten wie "
        "„PS-3F9A2C1B“). Ist der Bericht ohne Pseudonymisierung erstellt worden, stehen die Kundennummern "
        "bereits in der Liste.")


def _original_ids(data_path: Path, cfg: "ReportConfig", column: str | None) -> tuple[pd.Series, str]:
    """The customer IDs of the client's original file, read exactly as the report reads them."""
    from .data import SYNONYMS, normalize_header, parse_customer_ids, read_table
    from .exceptions import DataValidationError

    raw, info = read_table(Path(data_path), cfg)
    original = dict(info.get("original") or {})
    names = [str(c) for c in raw.columns]
    raw.columns = names
    found = ", ".join(f"„{original.get(c, c)}“" for c in names)
    if column:
        hits = [c for c in names if c == column] or [c for c in names if original.get(c, c) == column]
        if not hits:
            raise DataValidationError(f"Datei „{Path(data_path).name}“: Die Spalte „{column}“ fehlt. "
                                      f"Gefundene Spalten: {found}.")
    else:
        mapped = cfg.data.column_map.get("customer_id") if cfg.data.column_map else None
        hits = [mapped] if mapped in names else [
            c for c in names if normalize_header(original.get(c, c)) in SYNONYMS["customer_id"]]
        if len(hits) != 1:
            why = "keine Spalte" if not hits else "mehrere Spalten"
            raise DataValidationError(
                f"Datei „{Path(data_path).name}“: Für die Kundennummer passt {why} "
                f"({', '.join(hits) if hits else found}). Bitte die Spalte angeben, mit der der Bericht "
                "erstellt wurde: --spalte NAME.")
    col = hits[0]
    offset = 2 if info["format"] in ("CSV", "Excel") else 1
    return parse_customer_ids(raw[col], Path(data_path), col, offset), str(original.get(col, col))


def reidentify_list(list_path: str | Path, key_path: str | Path, data_path: str | Path,
                    column: str | None = None, out_path: str | Path | None = None,
                    cfg: "ReportConfig | None" = None) -> tuple[Path, dict[str, int]]:
    """Add the client's real customer numbers to a target list (``kundenwert zuordnen``).

    The pseudonyms of the list (CSV of one segment or the whole ``zielgruppen.xlsx``) are joined with
    the customer IDs of the client's original file (``data_path``, read as the report reads it;
    ``column``: the ID column, default: recognized like the report does), each hashed with the
    client's key (:func:`helpers.privacy.reidentify`). A column „Kundennummer“ is inserted right after
    „Pseudonym“; the result goes to ``out_path`` (default: ``<list>-kundennummern.<csv|xlsx>`` next to
    the list, written atomically; the list itself is never changed). ``cfg``: reading settings of the
    original file (``data.separator``, ``data.encoding``, ``data.sheet``, ``data.column_map``).

    Returns ``(out_path, counts)`` with ``rows``, ``found`` and ``missing`` (pseudonyms without a
    match, left empty). German :class:`~helpers.exceptions.DataValidationError` (exit 2) when the
    list has no pseudonyms or fewer than :data:`MIN_MATCH_SHARE` of them match (wrong key or wrong
    file: chance matches of a wrong key are never written).
    """
    from . import privacy
    from .config import ReportConfig
    from .exceptions import DataValidationError

    cfg = cfg or ReportConfig()
    list_path, data_path = Path(list_path), Path(data_path)
    key = privacy.read_key(key_path)
    sheets = _read_list(list_path)
    ids, id_header = _original_ids(data_path, cfg, column)
    out_path = Path(out_path) if out_path else list_path.with_name(
        f"{list_path.stem}-kundennummern{list_path.suffix.lower()}")
    if out_path.suffix.lower() != list_path.suffix.lower():
        raise DataValidationError(f"Die Ausgabe „{out_path.name}“ muss dieselbe Dateiart wie die Liste haben "
                                  f"({list_path.suffix.lower()}).")
    if out_path.resolve() == list_path.resolve():
        raise DataValidationError("Die Ausgabe darf die Liste nicht überschreiben; bitte einen anderen Namen "
                                  "angeben (--aus).")
    counts = {"rows": 0, "found": 0, "missing": 0}
    done: dict[str, pd.DataFrame] = {}
    for name, df in sheets.items():
        if df.empty and not len(df.columns):
            done[name] = df
            continue
        col = _pseudonym_column(df, list_path)
        pseudo = df[col].astype(object).where(df[col].notna(), "").astype(str).str.strip()
        real = privacy.reidentify(pseudo, ids, key)
        present = pseudo != ""
        counts["rows"] += int(present.sum())
        counts["found"] += int((real.notna() & present).sum())
        out = df.copy()
        out.insert(list(out.columns).index(col) + 1, REAL_ID_HEADER,
                   neutralize(real.where(real.notna(), "").astype(str)))
        done[name] = out
    counts["missing"] = counts["rows"] - counts["found"]
    cause = ("Vermutlich gehört der Schlüssel zu einem anderen Kunden, oder die Datei bzw. die Spalte ist nicht "
             "die, mit der der Bericht erstellt wurde (--spalte).")
    if counts["rows"] and not counts["found"]:
        raise DataValidationError(
            f"Keines der {fmt.integer(counts['rows'])} Pseudonyme der Liste „{list_path.name}“ passt zu einer "
            f"Kundennummer der Datei „{data_path.name}“ (Spalte „{id_header}“). {cause}")
    if counts["rows"] and counts["found"] < MIN_MATCH_SHARE * counts["rows"]:
        raise DataValidationError(
            f"Nur {fmt.integer(counts['found'])} von {fmt.integer(counts['rows'])} Pseudonymen der Liste "
            f"„{list_path.name}“ passen zu einer Kundennummer der Datei „{data_path.name}“ (Spalte „{id_header}“). "
            f"{cause} Bei einem falschen Schlüssel sind einzelne Treffer Zufall und die Nummern falsch; deshalb "
            "wird nichts geschrieben.")
    if out_path.suffix.lower() == ".csv":
        frame = next(iter(done.values()))
        _atomic_write(out_path, lambda tmp: frame.to_csv(tmp, sep=";", index=False, encoding="utf-8-sig",
                                                          lineterminator="\r\n"))
    else:
        write_workbook(done, out_path)
    return out_path, counts
