"""Tables as downloadable files: CSV, XLSX and GeoJSON.

Every writer returns bytes (the page hands them to ``st.download_button``). The index is not exported:
``reset_index()`` first if it carries data. Text that a spreadsheet could run as a formula is neutralised
(OWASP CSV-injection advice) in a way a reader can undo exactly. Columns named ``code`` or ``*_code`` are always
text. The inverse readers, which check all this, are test code: ``tests/export_readers.py``.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import geopandas as gpd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
TITLE_KEY = "title"  # where a reader puts Metadata.title in the returned dict
MAX_SLUG = 60


# --- formula neutralisation -------------------------------------------------------------------------------------

def _escape(s: str) -> str:
    # Quotes before a prefix are escaped too ("'=x" -> "''=x"), so a reader can undo exactly what was added.
    return QUOTE + s if s.lstrip(QUOTE).startswith(FORMULA_PREFIXES) else s


def neutralise(df: pd.DataFrame) -> pd.DataFrame:
    """Copy where every text cell (and column name) beginning with a formula prefix gets a leading ``'``.

    Text already of the form ``'…=…`` (quotes, then a prefix) gets one more quote, so the readers can
    restore the original exactly. Numbers, negative ones included, are left alone.
    """
    out = df.copy()
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if isinstance(col.dtype, pd.CategoricalDtype):
            out.isetitem(i, col.cat.rename_categories(lambda c: _escape(c) if isinstance(c, str) else c))
        elif col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            out.isetitem(i, col.map(lambda v: _escape(v) if isinstance(v, str) else v).astype(col.dtype))
    out.columns = [_escape(c) if isinstance(c, str) else c for c in out.columns]
    return out


def _unescape(s: str) -> str:
    return s[1:] if s.startswith(QUOTE) and s.lstrip(QUOTE).startswith(FORMULA_PREFIXES) else s


def restore(df: pd.DataFrame) -> pd.DataFrame:
    """The inverse of :func:`neutralise` on text cells: what an editor shown a neutralised table gives back."""
    out = df.copy()
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            out.isetitem(i, col.map(lambda v: _unescape(v) if isinstance(v, str) else v).astype(col.dtype))
    return out


# --- metadata -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Metadata:
    """What a file is about: a title and ordered (label, value) lines, already in the user's language.

    Labels are unique, not ``"title"`` (the readers' key for the title) and contain no ``": "`` (the CSV
    separator between label and value).
    """
    title: str
    lines: tuple[tuple[str, str], ...] = ()

    def __post_init__(self):
        lines = tuple((str(label), str(value)) for label, value in self.lines)
        object.__setattr__(self, "lines", lines)
        labels = [label for label, _ in lines]
        if len(set(labels)) != len(labels):
            raise ValueError(f"metadata labels must be unique: {labels}")
        bad = [label for label in labels if label == TITLE_KEY or ": " in label]
        if bad:
            raise ValueError(f"metadata labels may not be {TITLE_KEY!r} or contain ': ': {bad}")

    def as_dict(self) -> dict[str, str]:
        """``{"title": title, label: value, …}``, the shape the readers in ``tests/export_readers.py`` return."""
        return {TITLE_KEY: self.title, **dict(self.lines)}

    @classmethod
    def from_dict(cls, d: dict[str, str]) -> Metadata:
        rest = {k: v for k, v in d.items() if k != TITLE_KEY}
        return cls(d.get(TITLE_KEY, ""), tuple(rest.items()))


# --- cells ----------------------------------------------------------------------------------------------------------

def _is_code(name) -> bool:
    name = str(name).casefold()
    return name == "code" or name.endswith("_code")


def _plain(v, code: bool = False):
    """A cell as None | bool | int | float | str; a code always as text (46 -> "46")."""
    if v is None or (pd.api.types.is_scalar(v) and pd.isna(v)):
        return None
    if isinstance(v, (bool, np.bool_)):
        v = bool(v)
    elif isinstance(v, (int, np.integer)):
        v = int(v)
    elif isinstance(v, (float, np.floating)):
        # str() of a numpy float is its shortest round-trip text ("0.1" for float32, not 0.10000000149…)
        v = float(v) if isinstance(v, float) else float(str(v))
        if code and v.is_integer():
            return str(int(v))
    elif isinstance(v, (dt.date, dt.time, pd.Timestamp)):
        return v.isoformat()
    else:
        return v if isinstance(v, str) else str(v)
    return str(v) if code else v


def _rows(df: pd.DataFrame):
    """The body as plain cells, row by row."""
    columns = []
    for name, col in df.items():
        # numpy scalars for numbers: a float32's str() is its short text ("0.1", not 0.10000000149…)
        values = list(col.to_numpy()) if col.dtype.kind in "biuf" else col.tolist()
        columns.append([_plain(v, _is_code(name)) for v in values])
    return zip(*columns) if columns else iter([[]] * len(df))


# --- CSV ------------------------------------------------------------------------------------------------------------
# Text is always quoted and numbers never are, so a reader can tell "46" from 46 and "" from a missing value.

def _csv_quote(s: str, always: bool = True) -> str:
    if always or any(c in s for c in ',"\r\n'):
        return '"' + s.replace('"', '""') + '"'
    return s


def _csv_cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return _csv_quote(_escape(v))
    return repr(v)  # bool -> True/False, int, float (shortest exact text, inf/-inf)


def to_csv(df: pd.DataFrame, meta: Metadata | None = None) -> bytes:
    """UTF-8 CSV with a BOM (so Excel shows Thai), CRLF line ends.

    With ``meta``: first ``# <title>``, then a ``# label: value`` line each, then a blank line, then the
    table. Text is quoted and neutralised. Excel itself still strips leading zeros from codes it opens in a
    CSV; a reader that takes quoted fields as text (and XLSX) keeps them.
    """
    lines = []
    if meta is not None:
        lines += [_csv_quote(f"# {meta.title}", always=False)]
        lines += [_csv_quote(f"# {label}: {value}", always=False) for label, value in meta.lines]
        lines += [""]
    lines.append(",".join(_csv_quote(_escape(str(c))) for c in df.columns))
    lines += [",".join(map(_csv_cell, row)) for row in _rows(df)]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


# --- XLSX -----------------------------------------------------------------------------------------------------------
# XML 1.0 cannot hold most control characters, and XML parsing turns CR into LF. Such characters are written
# with the OOXML escape _xHHHH_ (the one Excel itself uses and decodes), and a literal "_xHHHH_" in the text
# as "_x005F_xHHHH_", so Excel shows the original text and a reader can restore it exactly.

_XML_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")
_XML_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
_FLOAT_COLUMNS = "povmap.float_columns"  # custom document property: {sheet: [float column positions]}
MAX_WIDTH = 60


def _xml_escape(s: str) -> str:
    return _XML_UNSAFE.sub(lambda m: f"_x{ord(m.group()):04X}_", s)


def _xml_unescape(s: str) -> str:
    return _XML_ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), s)


def _width(text: str) -> float:
    """Display width in Excel character units: Thai vowel/tone marks take none, wide (CJK) characters two."""
    def line(s):
        if s.isascii():
            return len(s)
        return sum(0 if unicodedata.category(c) in ("Mn", "Me", "Cf")
                   else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
    return max(map(line, text.split("\n")), default=0)


def _xlsx_cell(v):
    """A plain cell as written: text escaped, numbers as numbers; XLSX has no infinities, so those become text."""
    if isinstance(v, float) and not math.isfinite(v):
        v = repr(v)
    return _xml_escape(_escape(v)) if isinstance(v, str) else v


def _sheet(wb, title: str, rows: list[list], *, table: bool):
    """A write-only sheet with a bold first row and column widths fitted to content.

    ``table``: the first row is a header, frozen and filtered, and counts for the widths; otherwise it is a
    title that may overflow into the next cells.
    """
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    widths = {}
    for r, row in enumerate(rows if table else rows[1:]):
        scale = 1.1 if table and r == 0 else 1  # bold is wider
        for i, v in enumerate(row):
            if v is not None:
                widths[i] = max(widths.get(i, 0), scale * _width(_xml_unescape(v) if isinstance(v, str) else str(v)))
    for i, w in widths.items():  # a write-only sheet needs its widths before the first row
        ws.column_dimensions[get_column_letter(i + 1)].width = min(w + 2, MAX_WIDTH)
    if table and rows and rows[0]:
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(rows[0]))}{len(rows)}"

    def styled(v, font=None):
        c = WriteOnlyCell(ws, v)
        if isinstance(v, str):
            c.data_type = "s"  # text, never an error value such as "#N/A"
        if font is not None:
            c.font = font
        return c

    bold = Font(bold=True)
    for r, row in enumerate(rows):
        # plain values write much faster; neutralised text cannot start with "=", so only error-like text needs a cell
        ws.append([styled(v, font=bold) if r == 0 and v is not None else styled(v) if v in ERROR_CODES else v
                   for v in row])


def to_xlsx(df: pd.DataFrame, meta: Metadata | None = None, *, sheet: str = "data", meta_sheet: str = "about") -> bytes:
    """An Excel workbook: the table on ``sheet``, and with ``meta`` the title and lines on ``meta_sheet``.

    Bold header, frozen below it, auto-filter, widths fitted to content (Thai included). Text (codes
    included) is stored as text cells, numbers as numbers. Text is neutralised and XML-escaped (see above).
    Numbers keep 16 significant digits (Excel shows 15); a cell holds at most 32,767 characters in Excel.
    """
    from openpyxl import Workbook
    from openpyxl.packaging.custom import StringProperty

    if meta is not None and meta_sheet == sheet:
        raise ValueError("sheet and meta_sheet must differ")
    wb = Workbook(write_only=True)
    header = [_xlsx_cell(str(c)) for c in df.columns]
    _sheet(wb, sheet, [header] + [[_xlsx_cell(v) for v in row] for row in _rows(df)], table=True)
    if meta is not None:
        lines = [[meta.title], []] + [[label, value] for label, value in meta.lines]
        _sheet(wb, meta_sheet, [[_xlsx_cell(v) for v in row] for row in lines], table=False)
    # XLSX stores 1.0 as 1; this hidden hint lets a reader give float columns back as floats
    floats = [i for i, (name, col) in enumerate(df.items()) if pd.api.types.is_float_dtype(col.dtype)
              and not _is_code(name)]
    wb.custom_doc_props.append(StringProperty(name=_FLOAT_COLUMNS, value=json.dumps({sheet: floats})))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- GeoJSON --------------------------------------------------------------------------------------------------------

def _geometry(geom) -> dict | None:
    import shapely
    import shapely.geometry

    if geom is None or shapely.is_empty(geom):
        return None
    # RFC 7946: exterior rings counter-clockwise, holes clockwise; 6 decimals of a degree is about 0.1 m
    geom = shapely.transform(shapely.orient_polygons(geom), lambda xy: np.round(xy, 6))
    return shapely.geometry.mapping(geom)


def to_geojson(df: pd.DataFrame, geometries: gpd.GeoSeries, meta: Metadata | None = None, *,
               code_col: str = "code") -> bytes:
    """RFC 7946 FeatureCollection: a Feature per row, geometry looked up by ``df[code_col]`` in ``geometries``.

    ``geometries`` is indexed by code and reprojected to EPSG:4326 (no CRS: taken as already lon/lat).
    Every column is a property (NaN and infinities -> null); rows without a geometry get ``"geometry": null``.
    With ``meta`` the collection carries ``"povmap": {"title": …, "about": {label: value}}``.
    """
    crs = getattr(geometries, "crs", None)
    if crs is not None and crs.to_epsg() != 4326:
        geometries = geometries.to_crs(4326)
    if geometries.index.has_duplicates:
        raise ValueError("geometries must have one row per code")
    lookup = geometries.to_dict()
    names = [str(c) for c in df.columns]
    features = []
    for code, props in zip(df[code_col], _rows(df)):
        props = dict(zip(names, (None if isinstance(v, float) and not math.isfinite(v) else v for v in props)))
        feature = {"type": "Feature"}
        if props[str(code_col)] is not None:
            feature["id"] = props[str(code_col)]
        feature["geometry"] = _geometry(lookup.get(code))
        feature["properties"] = props  # JSON has no NaN or infinity: null
        features.append(feature)
    out = {"type": "FeatureCollection"}
    if meta is not None:
        out["povmap"] = {"title": meta.title, "about": dict(meta.lines)}
    out["features"] = features
    return json.dumps(out, ensure_ascii=False, allow_nan=False).encode("utf-8")


# --- file names -----------------------------------------------------------------------------------------------------

_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def slug(name: str) -> str:
    """A safe file-name stem: letters (Thai with its vowel and tone marks), digits, ``-``, ``_`` and inner ``.``;
    anything else becomes ``-``. At most 60 characters, never empty (``"export"``)."""
    kept = "".join(c if unicodedata.category(c)[0] in "LNM" or c in "-_." else "-"
                   for c in unicodedata.normalize("NFC", str(name)))
    out = _trim(re.sub(r"-{2,}", "-", kept))
    if out.split(".")[0].upper() in _WINDOWS_RESERVED:  # "CON.csv" cannot be saved on Windows
        out = f"_{out}"
    if len(out) > MAX_SLUG:
        cut = MAX_SLUG
        while cut > 0 and _is_mark(out[cut]):  # never split a letter from its vowel and tone marks
            cut -= 1
        out = out[:cut].rstrip("-_.")
    return out or "export"


def _is_mark(c: str) -> bool:
    return unicodedata.category(c)[0] == "M"


def _trim(s: str) -> str:
    """Without separators at the ends, nor marks at the start (they would have no letter to sit on)."""
    start = 0
    while start < len(s) and (s[start] in "-_." or _is_mark(s[start])):
        start += 1
    return s[start:].rstrip("-_.")
