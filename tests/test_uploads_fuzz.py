"""Property-based fuzzing of the upload parsers: any bytes in -> a table and a report, or UploadProblem."""
from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from povmap.data import uploads as U
from povmap.data.uploads.columns import COUNT_COLUMNS, HOUSEHOLD_UPLOAD_COLUMNS

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KINDS = st.sampled_from(["households", "tpmap"])


def _run(data: bytes, kind: str, **kw) -> U.Report | None:
    """parse + validate; the only exception allowed is the project's own."""
    try:
        parsed = U.parse(data, "fuzz.csv", kind=kind, **kw)
    except U.UploadProblem as e:
        assert e.en and e.th and e.code in U.SEVERITY
        return None
    report = U.validate(parsed, year=2566)
    assert report.accepted + report.rejected == report.rows
    assert report.rows == len(parsed.table) - len(report.facts.get("total_rows", []))
    rows = report.problems["row"].dropna()
    assert rows.empty or (rows.min() >= 1 and rows.max() <= int(parsed.rows.max(initial=parsed.header_row)))
    return report


@FUZZ
@given(data=st.binary(max_size=2048), kind=KINDS)
def test_any_bytes(data, kind):
    _run(data, kind)


@FUZZ
@given(data=st.binary(max_size=1024), kind=KINDS)
def test_any_bytes_that_look_like_xlsx_or_xls(data, kind):
    _run(b"PK\x03\x04" + data, kind)
    _run(b"\xd0\xcf\x11\xe0" + data, kind)
    _run(b"\xff\xfe" + data, kind)
    _run(b"\xef\xbb\xbf" + data, kind)


_HEADERS = [h for c in HOUSEHOLD_UPLOAD_COLUMNS + COUNT_COLUMNS for h in c.headers] + ["", "x", "ลำดับ", "รวม"]
_CELLS_FIXED = ["", " ", "-", "0", "1", "2.5", "4", "5", "-3", "1,234", "๑๒", "2566", "2023", "1e400", "nan", "inf",
                "460101", "8405", "104701", "530306", "110151", "99", "46", "ตลาด", "เมือง", "กาฬสินธุ์", "รวม", "11111",
                "1111", "00000", "ใช่", "no", '"', "a,b", "\n"]
_CELLS = st.one_of(st.sampled_from(_CELLS_FIXED), st.text(max_size=12))


@FUZZ
@given(header=st.lists(st.sampled_from(_HEADERS), min_size=1, max_size=18),
       rows=st.lists(st.lists(_CELLS, max_size=20), max_size=25),
       kind=KINDS, sep=st.sampled_from([",", ";", "\t"]), enc=st.sampled_from(["utf-8", "utf-8-sig", "cp874"]))
def test_table_shaped_text(header, rows, kind, sep, enc):
    import csv

    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep)
    w.writerow(header)
    w.writerows(rows)
    try:
        data = buf.getvalue().encode(enc)
    except UnicodeEncodeError:
        data = buf.getvalue().encode("utf-8")
    _run(data, kind)


# Control characters cannot be stored in an .xlsx cell (openpyxl refuses them): no user file holds them.
_XLSX_TEXT = st.one_of(st.sampled_from([c for c in _CELLS_FIXED if c != "\n"]),
                       st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])  # an xlsx costs ~50 ms
@given(rows=st.lists(st.lists(st.one_of(st.none(), st.integers(-10**18, 10**18), st.floats(allow_nan=True),
                                        st.booleans(), _XLSX_TEXT), max_size=16), max_size=12),
       kind=KINDS)
def test_xlsx_cells(rows, kind):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([h for c in HOUSEHOLD_UPLOAD_COLUMNS for h in c.headers[:1]] if kind == "households"
              else ["code", "poor.JPT.MOFval.CNT", "poor.JPT.MOFval.health", "combo"])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    _run(buf.getvalue(), kind)
