"""Bytes of an uploaded file -> a table of text cells, with the header row found and row numbers kept.

CSV (comma, semicolon, tab or bar; UTF-8, UTF-8 with BOM, UTF-16 with BOM, TIS-620/cp874 detected) or
XLSX (first sheet or a chosen one). Every cell stays text here: numbers are read by the checks, which can
then say which cell was wrong. Any input either gives a :class:`Parsed` or raises :class:`UploadProblem`.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
import zipfile
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from povmap.data.uploads.columns import KINDS, header_score
from povmap.data.uploads.problems import UploadProblem, column_letter

# One limit for the page and the command line: Streamlit's server.maxUploadSize (.streamlit/config.toml), which is
# in MiB (and which its uploader shows as "MB"); sizes are shown in the same unit.
UPLOAD_LIMIT_MB = 200
MAX_UPLOAD_BYTES = UPLOAD_LIMIT_MB * 2**20
# Caps that bound the time and memory of reading any file (a national household file has ~240,000 rows of ~20
# columns; TPMAP's layout ~150 columns): checked while reading, before the work they would cost is done.
MAX_ROWS = 1_000_000
MAX_COLUMNS = 1_000
MAX_CELLS = 20_000_000
MAX_CELL_CHARS = 10_000  # no field of either kind of file is longer; the csv module's own limit is lifted below
csv.field_size_limit(2**31 - 1)  # its 131,072 gives an English error with no row: povmap names the cell instead
MAX_XLSX_UNZIPPED = 400 * 2**20  # an .xlsx is a zip: what its parts may unpack to, in all
MAX_XLSX_RATIO = 100  # a part over 10 MB unpacking to more than this many times its packed size is a zip bomb
HEADER_SEARCH_ROWS = 30  # title rows above the header are common in Thai government exports
DELIMITERS = (",", ";", "\t", "|")
_XLSX_MAGIC, _OLE_MAGIC = b"PK\x03\x04", b"\xd0\xcf\x11\xe0"


@dataclass
class Parsed:
    """A table read from a file. ``table`` has positional columns 0..n-1 holding text ('' = blank);
    ``header`` names them as the file does; ``rows`` is the spreadsheet row number of each table row."""

    kind: str
    file_name: str
    table: pd.DataFrame
    header: list[str]
    header_row: int
    rows: np.ndarray
    format: str  # "csv" | "xlsx"
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    size_bytes: int = 0
    extra_cells: dict[int, int] = field(default_factory=dict)  # table row -> cells beyond the header
    unnamed: list[int] = field(default_factory=list)  # columns without a header that hold data


def parse(data: bytes, file_name: str = "upload.csv", *, kind: str, sheet: str | int | None = None,
          max_bytes: int = MAX_UPLOAD_BYTES) -> Parsed:
    """Read ``data`` as a table of ``kind`` ("tpmap" or "households"); raise :class:`UploadProblem` when it
    cannot be (empty, too large, unreadable text, not a table, missing sheet, no data under the header)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    data = bytes(data)
    if len(data) > max_bytes:
        raise UploadProblem.make("file_too_large", file=file_name, size=megabytes(len(data)), limit=megabytes(max_bytes))
    if data.startswith(_XLSX_MAGIC):
        grid, sheet_name, sheets = _read_xlsx(data, file_name, sheet)
        fmt, encoding, delimiter = "xlsx", None, None
    elif data.startswith(_OLE_MAGIC):
        raise UploadProblem.make("xls_format", file=file_name)
    else:
        text, encoding = _decode(data, file_name)
        if not text or text.isspace():
            raise UploadProblem.make("file_empty", file=file_name)
        if "\x00" in text:
            raise UploadProblem.make("not_a_table", file=file_name, detail="binary data / ข้อมูลไบนารี")
        delimiter = _sniff_delimiter(text)
        _check_csv_size(text, delimiter, file_name)
        grid = _read_csv(text, data if encoding in ("utf-8", "utf-8-sig") else None, delimiter, file_name)
        fmt, sheet_name, sheets = "csv", None, []
    return _frame(_check_grid(grid, file_name), kind, file_name, format=fmt, encoding=encoding, delimiter=delimiter, sheet=sheet_name,
                  sheets=sheets, size=len(data))


def sheet_names(data: bytes) -> list[str]:
    """The sheets of an .xlsx file (empty for anything else or an unreadable file), for a sheet picker."""
    if not bytes(data[:4]) == _XLSX_MAGIC:
        return []
    try:
        return _workbook(bytes(data)).sheetnames
    except Exception:  # any damage: the picker shows nothing, parse() then says what is wrong
        return []


def _check_csv_size(text: str, delimiter: str, file_name: str) -> None:
    """Refuse a CSV over the caps from a count of its lines and of the cells in its widest first lines."""
    lines = (text.count("\n") or text.count("\r")) + 1  # "\r" alone: old Mac line ends
    if lines > MAX_ROWS + HEADER_SEARCH_ROWS:
        raise UploadProblem.make("too_many_rows", file=file_name, limit=f"{MAX_ROWS:,}")
    width = max((ln.count(delimiter) + 1 for ln in text[:4_000_000].splitlines()[:HEADER_SEARCH_ROWS + 5]),
                default=0)
    if width > MAX_COLUMNS:
        raise UploadProblem.make("too_many_columns", file=file_name, limit=f"{MAX_COLUMNS:,}")
    if width * lines > MAX_CELLS:
        raise UploadProblem.make("too_many_cells", file=file_name, limit=f"{MAX_CELLS:,}")


def _check_grid(grid: pd.DataFrame, file_name: str) -> pd.DataFrame:
    if grid.shape[0] > MAX_ROWS + HEADER_SEARCH_ROWS:
        raise UploadProblem.make("too_many_rows", file=file_name, limit=f"{MAX_ROWS:,}")
    if grid.shape[1] > MAX_COLUMNS:
        raise UploadProblem.make("too_many_columns", file=file_name, limit=f"{MAX_COLUMNS:,}")
    return grid


def megabytes(n: int) -> str:
    """A size in the unit of the upload limit (MiB, which Streamlit's uploader calls MB)."""
    return f"{n / 2**20:,.1f}"


def _decode(data: bytes, file_name: str) -> tuple[str, str]:
    """Text and the encoding it was in. UTF-8 (with or without BOM) first; Thai Excel writes 'CSV' as
    cp874 (a superset of TIS-620), which is tried next; 'Unicode text' from Excel is UTF-16 with a BOM."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise UploadProblem.make("encoding", file=file_name) from None
    sample = data[:8192]
    half = max(len(sample) // 2, 1)
    nul_even, nul_odd = sample[0::2].count(0), sample[1::2].count(0)
    # Excel's "Unicode text" without its BOM: ASCII letters, digits and commas leave a NUL in every other byte.
    for nuls, quiet, codec in ((nul_odd, nul_even, "utf-16-le"), (nul_even, nul_odd, "utf-16-be")):
        if nuls > 0.1 * half and quiet < 0.01 * half:
            try:
                return data.decode(codec), codec
            except UnicodeDecodeError:
                raise UploadProblem.make("encoding", file=file_name) from None
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            raise UploadProblem.make("encoding", file=file_name) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as e:
        if e.start >= len(data) - 3 and e.reason == "unexpected end of data":  # cut in the last character
            return data[:e.start].decode("utf-8"), "utf-8"
    try:
        text = data.decode("cp874")
    except UnicodeDecodeError:
        raise UploadProblem.make("encoding", file=file_name) from None
    # UTF-8 Thai read as TIS-620 turns every letter into 'เธ'/'เน' + one more: such a file is UTF-8 with
    # a few damaged bytes, and reading it as cp874 would only produce nonsense headers.
    if text.count("เธ") + text.count("เน") > max(10, len(text) // 20):
        raise UploadProblem.make("encoding", file=file_name)
    return text, "cp874"


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines most consistently into the most cells (comma on ties)."""
    lines = [ln for ln in text[:200_000].splitlines()[:50] if ln.strip()]
    best, best_score = ",", 0.0
    for d in DELIMITERS:
        counts = sorted(ln.count(d) for ln in lines)
        score = counts[len(counts) // 2] if counts else 0  # median: title lines do not decide
        if score > best_score:
            best, best_score = d, score
    return best


def _read_csv(text: str, utf8: bytes | None, delimiter: str, file_name: str) -> pd.DataFrame:
    """All records as text cells, one table row per spreadsheet row (blank lines kept as blank rows).

    pyarrow reads well-formed files fast; anything it refuses (rows of different lengths such as title or
    footnote lines, stray quotes) is read by the csv module, which accepts every text, in chunks so that a
    large file stays within memory."""
    data = utf8 if utf8 is not None else text.encode("utf-8")
    try:
        return _read_csv_arrow(data, delimiter)
    except (pa.ArrowException, ValueError, csv.Error):
        pass
    try:  # title lines above the table: read them here and the table with pyarrow
        head = list(itertools.islice(csv.reader(io.StringIO(text[:1 << 20], newline=""), delimiter=delimiter), 60))
        k = _table_start(head)
        if k:
            body = _read_csv_arrow(data, delimiter, skip=k)
            if body.shape[0] and [str(x) for x in body.iloc[0]] == head[k]:
                top = _grid_from_rows(head[:k])
                width = max(top.shape[1], body.shape[1])
                return pd.concat([top.reindex(columns=range(width), fill_value=""),
                                  body.reindex(columns=range(width), fill_value="")], ignore_index=True)
    except (pa.ArrowException, ValueError, csv.Error):
        pass
    try:
        return _grid_from_rows(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise UploadProblem.make("not_a_table", file=file_name, detail=str(exc)) from None


def _table_start(head: list[list[str]]) -> int | None:
    """Index of the first record from which the next ones all have its number of cells (> 1): where the
    table starts under title lines. None when there is no such record among the first rows."""
    counts = [len(r) for r in head]
    for k in range(1, min(HEADER_SEARCH_ROWS, len(head) - 1)):
        tail = counts[k:k + 20]
        if counts[k] > 1 and all(c == counts[k] for c in tail):
            return k
    return None


_EOL = re.compile(rb"\r\n|\r|\n")


def lines_end(data: bytes, k: int) -> int:
    """The offset just after the ``k``-th line end of ``data`` (its length when it has fewer lines)."""
    pos = 0
    for _ in range(k):
        m = _EOL.search(data, pos)
        if m is None:
            return len(data)
        pos = m.end()
    return pos


def _drop_records(data: bytes, k: int) -> bytes:
    """``data`` without its first ``k`` lines (title lines; the caller checks the result lines up)."""
    return data[lines_end(data, k):]


def _read_csv_arrow(data: bytes, delimiter: str, skip: int = 0) -> pd.DataFrame:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if skip:
        data = _drop_records(data, skip)
    ro = pacsv.ReadOptions(autogenerate_column_names=True, block_size=1 << 24)
    po = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False)
    # Every column as text: strings are never turned into numbers or nulls here.
    first = re.split(rb"\r\n|\r|\n", data[:1 << 20], maxsplit=1)[0]
    n = len(next(csv.reader([first.decode("utf-8", "replace")], delimiter=delimiter), [])) or 1
    names = [f"f{i}" for i in range(n)]
    co = pacsv.ConvertOptions(column_types={c: pa.string() for c in names}, strings_can_be_null=False,
                              quoted_strings_can_be_null=False)
    return _to_frame(pacsv.read_csv(pa.py_buffer(data), read_options=ro, parse_options=po, convert_options=co))


def _to_frame(tbl: pa.Table) -> pd.DataFrame:
    df = tbl.to_pandas(types_mapper=lambda t: _TEXT if t in (pa.string(), pa.large_string()) else None)
    df.columns = range(df.shape[1])
    return df


_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)
CHUNK_ROWS = 65_536


def _grid_from_rows(rows) -> pd.DataFrame:
    """Rows of any lengths -> a rectangular text table, built in arrow chunks (Python lists of a million
    rows would need several GB)."""
    tables, buf = [], []

    def flush():
        width = max((len(r) for r in buf), default=0)
        cols = [[r[j] if j < len(r) else "" for r in buf] for j in range(width)]
        tables.append(pa.table({f"f{j}": pa.array(c, pa.large_string()) for j, c in enumerate(cols)}))
        buf.clear()

    for r in rows:
        buf.append([("" if v is None else v) for v in r] if not isinstance(r, list) else r)
        if len(buf) >= CHUNK_ROWS:
            flush()
    if buf or not tables:
        flush()
    width = max(t.num_columns for t in tables)
    padded = []
    for t in tables:  # later chunks may be wider: give earlier ones blank cells
        for j in range(t.num_columns, width):
            t = t.append_column(f"f{j}", pa.array([""] * t.num_rows, pa.large_string()))
        padded.append(t)
    return _to_frame(pa.concat_tables(padded)) if width else pd.DataFrame()


class _Inflates(Exception):
    def __init__(self, part: str, size: int):
        super().__init__(part)
        self.part, self.size = part, size


def _check_zip(data: bytes) -> None:
    """Refuse a workbook whose parts, as the zip declares them, unpack past the caps (a zip bomb). zipfile
    checks each part's real size against its declaration while reading, so a part cannot lie its way past."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        infos = z.infolist()
        for i in infos:
            if i.file_size > 10_000_000 and i.file_size > MAX_XLSX_RATIO * max(i.compress_size, 1):
                raise _Inflates(i.filename, i.file_size)
        total = sum(i.file_size for i in infos)
        if total > MAX_XLSX_UNZIPPED:
            raise _Inflates(max(infos, key=lambda i: i.file_size).filename, total)


def _workbook(data: bytes):
    import openpyxl

    _check_zip(data)
    return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)


def _read_xlsx(data: bytes, file_name: str, sheet) -> tuple[pd.DataFrame, str, list[str]]:
    try:
        wb = _workbook(data)
    except _Inflates as exc:
        raise UploadProblem.make("xlsx_inflates", file=file_name, size=megabytes(exc.size),
                                 limit=megabytes(MAX_XLSX_UNZIPPED), ratio=MAX_XLSX_RATIO) from None
    except Exception as exc:  # openpyxl and zipfile raise many types on a damaged file
        raise UploadProblem.make("xlsx_unreadable", file=file_name, detail=f"{type(exc).__name__}: {exc}"[:200]) from None
    try:
        sheets = list(wb.sheetnames)
        if not sheets:
            raise UploadProblem.make("file_empty", file=file_name)
        if sheet is None:
            name = sheets[0]
        elif isinstance(sheet, int) and 0 <= sheet < len(sheets):
            name = sheets[sheet]
        elif isinstance(sheet, str) and sheet in sheets:
            name = sheet
        else:
            raise UploadProblem.make("sheet_not_found", file=file_name, sheet=sheet, sheets=", ".join(sheets))
        try:
            ws = wb[name]
            # The stored used range is often missing or wrong; without it openpyxl reads the sheet twice.
            ws.reset_dimensions()
            grid = _grid_from_rows(_capped_rows(ws.iter_rows(values_only=True), file_name))
        except UploadProblem:
            raise
        except Exception as exc:
            raise UploadProblem.make("xlsx_unreadable", file=file_name,
                                     detail=f"{type(exc).__name__}: {exc}"[:200]) from None
    finally:
        wb.close()
    return grid, name, sheets


def _capped_rows(rows, file_name: str):
    """A sheet's rows as text, stopping with a named problem at the first row past a cap."""
    cells = 0
    for n, row in enumerate(rows, 1):
        if n > MAX_ROWS + HEADER_SEARCH_ROWS:
            raise UploadProblem.make("too_many_rows", file=file_name, limit=f"{MAX_ROWS:,}")
        if len(row) > MAX_COLUMNS:
            # trailing empty cells of a wide used range are not columns
            row = row[: max((j + 1 for j, v in enumerate(row) if v is not None), default=0)]
            if len(row) > MAX_COLUMNS:
                raise UploadProblem.make("too_many_columns", file=file_name, limit=f"{MAX_COLUMNS:,}")
        cells += len(row)
        if cells > MAX_CELLS:
            raise UploadProblem.make("too_many_cells", file=file_name, limit=f"{MAX_CELLS:,}")
        yield [_cell_text(v) for v in row]


def _cell_text(v) -> str:
    """An Excel cell as the text a person sees: 840503.0 -> '840503', None -> ''."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    return str(v)


def _check_cell_length(grid: pd.DataFrame, file_name: str) -> None:
    for j in range(grid.shape[1]):
        lengths = grid.iloc[:, j].str.len()
        if lengths.max() > MAX_CELL_CHARS:
            i = int(np.argmax(lengths.to_numpy(dtype="float64") > MAX_CELL_CHARS))
            raise UploadProblem.make("cell_too_long", file=file_name, row=i + 1, col_index=j, at_row=i + 1,
                                     letter=column_letter(j), length=f"{int(lengths.iloc[i]):,}",
                                     limit=f"{MAX_CELL_CHARS:,}")


def _frame(grid: pd.DataFrame, kind: str, file_name: str, **meta) -> Parsed:
    if grid.shape[1] == 0 or grid.shape[0] == 0:
        raise UploadProblem.make("file_empty", file=file_name)
    _check_cell_length(grid, file_name)
    # Header: the best-scoring of the first rows; with no recognisable header, the first non-blank row.
    head = grid.head(HEADER_SEARCH_ROWS)
    nonblank = [i for i in range(len(head)) if any(str(x).strip() for x in head.iloc[i])]
    if not nonblank:
        rest = grid.iloc[len(head):]
        if not rest.shape[0] or not (rest != "").to_numpy().any():
            raise UploadProblem.make("file_empty", file=file_name)
        nonblank = [len(head) + int(np.flatnonzero((rest != "").to_numpy().any(axis=1))[0])]
    scores = [(header_score(kind, grid.iloc[i].tolist()), -i) for i in nonblank]
    best = max(scores)
    hi = -best[1] if best[0] > 0 else nonblank[0]
    header = [str(x).strip() for x in grid.iloc[hi].tolist()]
    # The table ends at the last named column; cells to its right are extra (reported per row), and
    # unnamed columns inside it are reported once if they hold data.
    body = grid.iloc[hi + 1:]
    named = [j for j in range(len(header)) if header[j]]
    last = max(named) + 1 if named else 0
    filled = (body != "").to_numpy().any(axis=0) if len(body) else np.zeros(grid.shape[1], dtype=bool)
    unnamed = [j for j in range(last) if not header[j] and filled[j]]
    extra = {}
    if last < grid.shape[1] and len(body):
        beyond = (body.iloc[:, last:] != "").to_numpy()
        for i in np.flatnonzero(beyond.any(axis=1)):
            extra[int(i)] = int(beyond[i].sum())
    table = body.iloc[:, :last]
    table.columns = range(last)
    table = table.reset_index(drop=True)
    rows = np.arange(hi + 2, hi + 2 + len(table), dtype="int64")  # 1-based; the header is row hi + 1
    blank = ~(table != "").to_numpy().any(axis=1) if last else np.ones(len(table), dtype=bool)
    if blank.all():
        raise UploadProblem.make("no_data", file=file_name, row=hi + 1)
    if blank.any():
        keep_rows = ~blank
        table, rows = table[keep_rows].reset_index(drop=True), rows[keep_rows]
        remap = np.cumsum(keep_rows) - 1
        extra = {int(remap[i]): n for i, n in extra.items() if keep_rows[i]}
    return Parsed(kind=kind, file_name=file_name, table=table, header=header[:last], header_row=hi + 1,
                  rows=rows, size_bytes=meta.pop("size"), extra_cells=extra, unnamed=unnamed, **meta)
