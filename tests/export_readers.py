"""Readers for the files ``povmap.present.exports`` writes: the exact inverses the export tests check round trips with.

Test code only (the app writes these files, it never reads them back). Each reader returns
``(table, {"title": …, label: value…})``; the dict is empty when the file has no metadata.
"""
from __future__ import annotations

import io
import json
import re

import pandas as pd

from povmap.present.exports import _FLOAT_COLUMNS, FORMULA_PREFIXES, QUOTE, TITLE_KEY, _is_code, _plain, _xml_unescape


def _restore(s: str) -> str:
    return s[1:] if s.startswith(QUOTE) and s[1:].lstrip(QUOTE).startswith(FORMULA_PREFIXES) else s


def _column(name: str, values: list) -> pd.Series:
    """A read column; its dtype inferred as pandas would for the same list (ints, floats, str, objects)."""
    if _is_code(name):
        values = [None if v is None else _plain(v, code=True) for v in values]
    if all(v is None for v in values):
        return pd.Series(values, dtype="float64")  # an all-empty column reads as NaN
    return pd.Series(values)


def _frame(names: list[str], columns: list[list]) -> pd.DataFrame:
    # built by position: column names need not be unique
    frame = pd.DataFrame({i: _column(n, v) for i, (n, v) in enumerate(zip(names, columns))})
    frame.columns = names
    return frame


# --- CSV ---------------------------------------------------------------------------------------------------
# The stdlib csv module cannot report whether a field was quoted (before 3.12), hence the small tokenizer: a quoted
# field is text, an unquoted one a number, True/False or (empty) a missing value.

_CSV_FIELD = re.compile(r'"((?:[^"]|"")*)"|([^,"\r\n]*)')
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|nan)")
_BLANK = [("", False)]


def _records(text: str) -> list[list[tuple[str, bool]]]:
    """RFC 4180 records as lists of (text, was_quoted)."""
    rows, row, pos, end = [], [], 0, len(text)
    while pos < end:
        m = _CSV_FIELD.match(text, pos)
        quoted = m.group(1) is not None
        row.append((m.group(1).replace('""', '"') if quoted else m.group(2), quoted))
        pos = m.end()
        if pos == end:
            break
        if text[pos] == ",":
            pos += 1
            if pos == end:  # a trailing comma: one more empty field
                row.append(("", False))
        elif text[pos] in "\r\n":
            pos += 2 if text.startswith("\r\n", pos) else 1
            rows.append(row)
            row = []
        else:
            raise ValueError(f"malformed CSV near character {pos}: {text[pos:pos + 20]!r}")
    if row:
        rows.append(row)
    return rows


def _csv_value(raw: str, quoted: bool, code: bool):
    if quoted:
        return _restore(raw)
    if raw == "":
        return None
    if code:
        return raw  # a code from another tool, kept as written ("010101")
    if _INT.fullmatch(raw):
        return int(raw)
    if _FLOAT.fullmatch(raw):
        return float(raw)
    if raw in ("True", "False"):
        return raw == "True"
    return _restore(raw)  # unquoted text, as other tools write it


def _csv_meta(rows) -> dict[str, str]:
    texts = [row[0][0] for row in rows]
    out = {TITLE_KEY: texts[0][2:] if texts[0].startswith("# ") else texts[0][1:]}
    for text in texts[1:]:
        label, _, value = text.removeprefix("#").removeprefix(" ").partition(": ")
        out[label] = value
    return out


def read_csv(data: bytes) -> tuple[pd.DataFrame, dict[str, str]]:
    """Inverse of :func:`to_csv`: ``(table, {"title": …, label: value…})``; the dict is empty without metadata.

    Quoted fields are text (neutralisation undone), unquoted ones numbers, True/False, or empty = missing.
    Leading lone ``#…`` fields followed by a blank line are taken as the metadata block.
    """
    rows = _records(data.decode("utf-8-sig"))
    meta, n = {}, 0
    while n < len(rows) and len(rows[n]) == 1 and rows[n][0][0].startswith("#"):
        n += 1
    if n and n < len(rows) and rows[n] == _BLANK:  # a metadata block ends with a blank line
        meta, rows = _csv_meta(rows[:n]), rows[n + 1:]
    if not rows:
        return pd.DataFrame(), meta
    names = [_restore(text) for text, _ in rows[0]]
    codes = [_is_code(name) for name in names]
    columns = [[] for _ in names]
    for number, row in enumerate(rows[1:], start=2):
        if len(row) > len(names):
            raise ValueError(f"CSV row {number} has {len(row)} fields, the header {len(names)}")
        row = row + _BLANK * (len(names) - len(row))
        for values, (raw, quoted), code in zip(columns, row, codes):
            values.append(_csv_value(raw, quoted, code))
    return _frame(names, columns), meta


# --- XLSX --------------------------------------------------------------------------------------------------

def _xlsx_value(cell):
    v = cell.value
    if v is None:
        return "" if cell.data_type in ("s", "inlineStr") else None  # an empty text cell is ""
    return _restore(_xml_unescape(v)) if isinstance(v, str) else v


def _xlsx_rows(ws) -> list[list]:
    return [[_xlsx_value(c) for c in row] for row in ws.iter_rows()]


def read_xlsx(data: bytes, *, sheet: str = "data", meta_sheet: str = "about") -> tuple[pd.DataFrame, dict[str, str]]:
    """Inverse of :func:`to_xlsx`: ``(table, {"title": …, label: value…})``; the dict is empty without metadata."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        rows = _xlsx_rows(wb[sheet])
        meta = {}
        if meta_sheet in wb.sheetnames:
            about = _xlsx_rows(wb[meta_sheet])
            title = about[0][0] if about and about[0] else None
            meta[TITLE_KEY] = "" if title is None else str(title)
            for row in about[2:]:
                row = (row + ["", ""])[:2]
                meta[str(row[0] or "")] = "" if row[1] is None else str(row[1])
        hint = {p.name: p.value for p in wb.custom_doc_props}.get(_FLOAT_COLUMNS)
        floats = set(json.loads(hint).get(sheet, [])) if hint else set()
    finally:
        wb.close()
    if not rows:
        return pd.DataFrame(), meta
    header = list(rows[0])
    while header and header[-1] is None:  # no cell at all: past the table (an empty name is "")
        header.pop()
    names = ["" if v is None else str(v) for v in header]
    columns = [[(row[i] if i < len(row) else None) for row in rows[1:]] for i in range(len(names))]
    frame = _frame(names, columns)
    for i in floats & set(range(len(names))):
        if pd.api.types.is_numeric_dtype(frame.iloc[:, i].dtype):
            frame.isetitem(i, frame.iloc[:, i].astype("float64"))
    return frame, meta


# --- GeoJSON -----------------------------------------------------------------------------------------------

def read_geojson(data: bytes) -> tuple[pd.DataFrame, dict[str, str]]:
    """Inverse of :func:`to_geojson` for the table: ``(properties, {"title": …, label: value…})``."""
    doc = json.loads(data.decode("utf-8-sig"))
    if doc.get("type") != "FeatureCollection":
        raise ValueError("not a GeoJSON FeatureCollection")
    props = [f.get("properties") or {} for f in doc.get("features", [])]
    names = list(dict.fromkeys(k for p in props for k in p))  # every property, in first-seen order
    frame = _frame(names, [[p.get(n) for p in props] for n in names])
    member = doc.get("povmap")
    meta = {TITLE_KEY: member.get("title", ""), **member.get("about", {})} if isinstance(member, dict) else {}
    return frame, meta
