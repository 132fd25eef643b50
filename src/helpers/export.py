"""CRM target lists: one Excel workbook (one sheet per segment) plus one CSV file per segment.

The files are made for German Excel and CRM imports:

- xlsx (openpyxl template, rows generated column-wise): German headers, frozen header row, column widths, numeric cells stay numeric
  with German-looking number formats (``#,##0.00 €``, ``0 %``, ``DD.MM.YYYY``).
- CSV: UTF-8 with BOM, ``;`` as separator, decimal comma, dates ``dd.mm.yyyy``.
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

from . import labels

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

COLUMNS = {
    "customer_id": "Kundennummer",
    "segment": "Segment",
    "r_score": "R-Score",
    "f_score": "F-Score",
    "m_score": "M-Score",
    "last_purchase": "Letzter Kauf",
    "revenue": "Umsatz gesamt (€)",
    "revenue_12m": "Umsatz 12 Monate (€)",
    "clv": "CLV (€)",
    "p_alive": "P(aktiv)",
    "risk": "Abwanderungsrisiko",
    "expected_gain": "Erw. Zusatz-DB nach Kosten (€)",
    "action": "Empfohlene Maßnahme",
    "next_categories": "Nächste Warengruppen",
    "contact": "Im Budget kontaktieren",
}
"""Canonical column -> German header of the target lists (in this order)."""

_KIND = {
    "r_score": "int", "f_score": "int", "m_score": "int",
    "last_purchase": "date",
    "revenue": "eur", "revenue_12m": "eur", "clv": "eur", "expected_gain": "eur",
    "p_alive": "pct", "risk": "pct",
}
_XLSX_FORMAT = {"int": "0", "eur": '#,##0.00 "€"', "pct": "0.0 %", "date": "DD.MM.YYYY"}
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
                names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The target list with German headers (optionally only one ``segment``), sorted by expected gain
    of a contact (the budgeted contacts first), else by value/CLV.

    ``table`` is indexed by ``customer_id`` and has (a subset of) the columns of :data:`COLUMNS`;
    optional columns that are missing or empty in the whole ``table`` are left out. Customers are
    sorted by ``expected_gain`` (else ``value``, else ``clv``) descending. ``names`` maps a
    ``segment`` value to the name shown (default: the value itself). ``risk`` is the churn chapter's
    risk of every customer (the one behind the value at risk).
    """
    keep = [c for c in COLUMNS if c == "customer_id" or c == "segment"
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
    return out.rename(columns=COLUMNS)


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
    """The list prepared for a German CSV: dates ``dd.mm.yyyy``, injection neutralized."""
    out = df.copy()
    rev = {v: k for k, v in COLUMNS.items()}
    for col in out.columns:
        kind = _KIND.get(rev.get(col, ""))
        if kind == "date":
            out[col] = pd.to_datetime(out[col]).dt.strftime("%d.%m.%Y").fillna("")
        elif kind == "int":
            out[col] = out[col].astype("Int64")
        elif kind in ("eur", "pct"):
            out[col] = _decimal_comma(out[col], 2 if kind == "eur" else 4)
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

    rev = {v: k for k, v in COLUMNS.items()}
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
        canon = [rev.get(c, "") for c in df.columns]
        for j, (col, key) in enumerate(zip(df.columns, canon), start=1):
            ws.column_dimensions[get_column_letter(j)].width = _WIDTH.get(key, max(12, len(col) + 2))
            head = ws.cell(1, j, col)
            head.font = Font(bold=True)
            head.fill = PatternFill("solid", fgColor="EEF3F7")
            head.alignment = Alignment(wrap_text=True, vertical="top")
            kind = _KIND.get(key)
            template = ws.cell(2, j, 0 if kind else "x")  # carries the cell style for the real rows
            if kind:
                template.number_format = _XLSX_FORMAT[kind]
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
                    data = _fill_sheet(data.decode("utf-8"), frames[int(m.group(1)) - 1], rev).encode("utf-8")
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


def _fill_sheet(xml: str, df: pd.DataFrame, rev: Mapping[str, str]) -> str:
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
        kind = _KIND.get(rev.get(col, ""))
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
                       names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Write the workbook and one CSV per segment into ``out_dir``.

    ``names`` maps a ``segment`` value to the name shown in the lists, sheets and file names
    (default: the value itself). Returns one row per segment: ``segment``, ``sheet`` (sheet name),
    ``customers``, ``csv`` (file name), ``truncated`` (bool: sheet shortened to ``max_rows``), plus
    the workbook file name in ``DataFrame.attrs["workbook"]``.
    """
    out_dir = Path(out_dir)
    lists: dict[str, pd.DataFrame] = {}
    rows = []
    for seg, sheet, fname in list_names(segments, names).itertuples(index=False):
        df = target_list(table, seg, names)
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
                                 max_rows=cfg.actions.max_list_rows, names=segment_names(segments))
    same = ["segment", "sheet", "csv", "customers"]
    if written[same].to_dict("records") != plan[same].to_dict("records"):
        raise RuntimeError("written target lists differ from the planned lists")
    return written
