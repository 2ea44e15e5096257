"""Table exports: every format round-trips, spreadsheets never see a formula, codes stay text."""
from __future__ import annotations

import csv
import io
import json

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely
from export_readers import read_csv, read_geojson, read_xlsx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon, box

from povmap.present.exports import FORMULA_PREFIXES, Metadata, neutralise, slug, to_csv, to_geojson, to_xlsx

FRAME = pd.DataFrame({
    "code": ["010101", "46", "10", "960101"],
    "ชื่อพื้นที่": ["กรุงเทพมหานคร", "กาฬสินธุ์", np.nan, ""],
    "คนจน": [120, 0, -5, 7],
    "rate": [2.81, np.nan, 0.1 + 0.2, -1.5],
    "whole": [1.0, 2.0, 3.0, 4.0],
    "parent_code": ["01", "46", "10", "96"],
})
META = Metadata("ฉากทัศน์ ก: พื้นที่นำร่อง", (
    ("วิธี", "ดัชนีถ่วงน้ำหนัก, รวมมิติ"),
    ("น้ำหนัก", "สุขภาพ 0.3; การศึกษา 0.2"),
    ("แหล่งข้อมูล", 'TPMAP 2566 "ข้อมูลเปิด"\nบรรทัดที่สอง'),
    ("date", "2024-05-01"),
))
GEOMS = gpd.GeoSeries([box(100, 13, 100.5, 13.5), box(103.123456789, 16.1, 103.5, 16.6)],
                      index=["010101", "46"], crs="EPSG:4326")
INJECTIONS = ["=1+1", "+1", "-1+2", "@SUM(A1)", '=HYPERLINK("http://x","y")', "\t=1+1", "\r=1+1", "'=1+1"]


def _geojson(df, meta=None):
    return to_geojson(df, GEOMS, meta)


FORMATS = {"csv": (to_csv, read_csv), "xlsx": (to_xlsx, read_xlsx), "geojson": (_geojson, read_geojson)}


def _same(got: pd.DataFrame, want: pd.DataFrame, fmt: str):
    # XLSX keeps 16 significant digits (documented), the others are exact
    pd.testing.assert_frame_equal(got, want, check_exact=fmt != "xlsx")


# --- round trips --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_with_metadata(fmt):
    write, read = FORMATS[fmt]
    table, meta = read(write(FRAME, META))
    _same(table, FRAME, fmt)
    assert table["code"].tolist() == ["010101", "46", "10", "960101"]
    assert Metadata.from_dict(meta) == META
    assert list(meta) == ["title", "วิธี", "น้ำหนัก", "แหล่งข้อมูล", "date"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_without_metadata(fmt):
    write, read = FORMATS[fmt]
    table, meta = read(write(FRAME))
    _same(table, FRAME, fmt)
    assert meta == {}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_odd_tables_round_trip(fmt):
    write, read = FORMATS[fmt]
    one_column = pd.DataFrame({"ชื่อ": [np.nan, "ก", ""]})  # a missing value in a one-column CSV is a blank line
    assert_equal = pd.testing.assert_frame_equal
    assert_equal(read(write(one_column, META))[0], one_column)
    assert_equal(read(write(one_column))[0], one_column)
    header_only = pd.DataFrame({"code": pd.Series([], dtype="float64"), "n": pd.Series([], dtype="float64")})
    assert_equal(read(write(header_only))[0], header_only)
    mixed = pd.DataFrame({"x": ["a", 1, 2.5, None, True]}, dtype=object)
    assert_equal(read(write(mixed))[0], mixed)


@pytest.mark.parametrize("fmt", FORMATS)
def test_integer_codes_are_written_as_text(fmt):
    write, read = FORMATS[fmt]
    table, _ = read(write(pd.DataFrame({"code": [10, 46], "province_code": [10.0, np.nan]})))
    assert table["code"].tolist() == ["10", "46"]
    assert table["province_code"].iloc[0] == "10" and pd.isna(table["province_code"].iloc[1])


def test_numpy_scalars_and_dates_export():
    df = pd.DataFrame({"f32": np.array([0.1, 2.0], dtype="float32"), "when": pd.to_datetime(["2024-01-02", None]),
                       "flag": [True, False]})
    for fmt in ("csv", "xlsx"):
        write, read = FORMATS[fmt]
        table, _ = read(write(df))
        assert table["f32"].tolist() == [0.1, 2.0]  # shortest float32 text, not 0.10000000149
        assert table["when"].tolist()[0] == "2024-01-02T00:00:00" and pd.isna(table["when"].iloc[1])
        assert table["flag"].tolist() == [True, False]


# --- CSV ----------------------------------------------------------------------------------------------------------

def test_csv_layout():
    data = to_csv(FRAME, META)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.startswith("# ฉากทัศน์ ก: พื้นที่นำร่อง\r\n")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[:6] == [["# ฉากทัศน์ ก: พื้นที่นำร่อง"], ["# วิธี: ดัชนีถ่วงน้ำหนัก, รวมมิติ"],
                        ["# น้ำหนัก: สุขภาพ 0.3; การศึกษา 0.2"],
                        ['# แหล่งข้อมูล: TPMAP 2566 "ข้อมูลเปิด"\nบรรทัดที่สอง'], ["# date: 2024-05-01"], []]
    assert rows[6] == list(FRAME.columns)
    assert '"010101"' in text  # codes quoted: text, not numbers
    assert to_csv(FRAME).decode("utf-8-sig").startswith('"code","ชื่อพื้นที่"')


def test_csv_from_other_tools():
    # unquoted text, LF line ends, no BOM: a code column keeps its leading zeros by name
    data = "code,name,n,x\n010101,ก,3,1.5\n46,,,\n".encode()
    table, meta = read_csv(data)
    assert meta == {}
    assert table["code"].tolist() == ["010101", "46"]
    assert table["name"].iloc[0] == "ก" and pd.isna(table["name"].iloc[1])
    assert table["n"].iloc[0] == 3 and table["x"].iloc[0] == 1.5
    with pytest.raises(ValueError, match="malformed"):
        read_csv(b'"a"x,b\n')


# --- XLSX ---------------------------------------------------------------------------------------------------------

def _workbook(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def test_xlsx_layout():
    wb = _workbook(to_xlsx(FRAME, META))
    assert wb.sheetnames == ["data", "about"]
    ws = wb["data"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:F5"
    assert all(c.font.bold for c in ws[1]) and not any(c.font.bold for c in ws[2])
    assert [c.value for c in ws[1]] == list(FRAME.columns)
    assert all(c.data_type == "s" for c in ws["A"][1:]), "codes are text cells"
    assert ws["A2"].value == "010101" and ws["F2"].value == "01"
    assert ws["C4"].value == -5 and ws["C4"].data_type == "n"
    assert ws["D3"].value is None  # NaN: an empty cell
    # widths fit the content; Thai vowel and tone marks take no width
    widths = {col: ws.column_dimensions[col].width for col in "ABCDEF"}
    assert widths["B"] < len("กรุงเทพมหานคร") + 2 and widths["B"] >= 10
    assert widths["A"] >= len("960101") and widths["E"] < widths["B"]
    about = wb["about"]
    assert about["A1"].value == META.title and about["A1"].font.bold
    assert [(r[0].value, r[1].value) for r in about.iter_rows(min_row=3)] == list(META.lines)


def test_xlsx_sheet_names():
    data = to_xlsx(FRAME, META, sheet="ตาราง", meta_sheet="ที่มา")
    assert _workbook(data).sheetnames == ["ตาราง", "ที่มา"]
    table, meta = read_xlsx(data, sheet="ตาราง", meta_sheet="ที่มา")
    _same(table, FRAME, "xlsx")
    assert Metadata.from_dict(meta) == META
    with pytest.raises(ValueError):
        to_xlsx(FRAME, META, sheet="x", meta_sheet="x")


def test_xlsx_escapes_what_xml_cannot_hold():
    # documented: control characters and CR as _xHHHH_ (Excel's own escape), a literal _xHHHH_ as _x005F_xHHHH_
    df = pd.DataFrame({"t": ["a\x01b", "x\ry", "_x0041_", "tab\tand\nnewline", "\x00"]})
    ws = _workbook(to_xlsx(df))["data"]
    assert [c.value for c in ws["A"][1:]] == ["a_x0001_b", "x_x000D_y", "_x005F_x0041_", "tab\tand\nnewline",
                                             "_x0000_"]
    pd.testing.assert_frame_equal(read_xlsx(to_xlsx(df))[0], df)


# --- formula injection --------------------------------------------------------------------------------------------

INJECTED = pd.DataFrame({"text": INJECTIONS, "n": [-5] * len(INJECTIONS)})


def test_neutralise():
    df = pd.DataFrame({"=bad": ["=1", "ok", np.nan], "n": [-5, 1, 2], "c": pd.Categorical(["-1", "a", "a"])})
    out = neutralise(df)
    assert list(out.columns) == ["'=bad", "n", "c"]
    assert out["'=bad"].tolist()[:2] == ["'=1", "ok"] and pd.isna(out["'=bad"].iloc[2])
    assert out["n"].tolist() == [-5, 1, 2] and out["n"].dtype == df["n"].dtype
    assert out["c"].tolist() == ["'-1", "a", "a"]
    assert out["'=bad"].dtype == df["=bad"].dtype
    assert df["=bad"].iloc[0] == "=1", "the input is not changed"


def test_csv_injection_is_neutralised():
    data = to_csv(INJECTED, Metadata("=cmd", (("+x", "=HYPERLINK(1)"),)))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    header = rows.index(["text", "n"])
    assert all(row[0].startswith("#") for row in rows[:header - 1]), "metadata cells start with #"
    for row in rows[header + 1:]:
        assert row[0].startswith("'") and row[0][1:].lstrip("'").startswith(FORMULA_PREFIXES)
        assert row[1] == "-5"
    assert b'"-5"' not in data, "numbers stay unquoted numbers"
    table, meta = read_csv(data)
    pd.testing.assert_frame_equal(table, INJECTED)
    assert meta == {"title": "=cmd", "+x": "=HYPERLINK(1)"}


def test_xlsx_injection_is_neutralised():
    meta = Metadata("=cmd", (("+x", "=HYPERLINK(1)"),))
    data = to_xlsx(INJECTED.rename(columns={"text": "=text"}), meta)
    wb = _workbook(data)
    cells = [c for ws in wb for row in ws.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)
    ws = wb["data"]
    for cell in [ws["A1"], *ws["A"][1:], wb["about"]["A1"], wb["about"]["A3"], wb["about"]["B3"]]:
        assert cell.data_type == "s" and cell.value.startswith("'"), cell.value
    assert all(c.value == -5 and c.data_type == "n" for c in ws["B"][1:])
    table, got = read_xlsx(data)
    pd.testing.assert_frame_equal(table, INJECTED.rename(columns={"text": "=text"}))
    assert Metadata.from_dict(got) == meta


def test_xlsx_text_is_never_an_error_value():
    ws = _workbook(to_xlsx(pd.DataFrame({"t": ["#N/A", "#REF!"]})))["data"]
    assert [(c.value, c.data_type) for c in ws["A"][1:]] == [("#N/A", "s"), ("#REF!", "s")]


# --- any text -----------------------------------------------------------------------------------------------------

TRICKY = st.sampled_from(["'", "=", "-", "+", "@", "\t", "\r", "\n", "\r\n", '"', ",", "#", "_x0041_", "_x000D_",
                          "_", "x00", "\x00", "\x1f", "\ufeff", "\uffff", "น้ำ", " "])
TEXT = st.lists(st.one_of(st.text(), TRICKY), max_size=6).map("".join)
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@SETTINGS
@given(cells=st.lists(st.one_of(st.none(), TEXT), min_size=1, max_size=5), name=TEXT)
def test_any_text_round_trips(fmt, cells, name):
    # XLSX included: characters XML cannot hold are escaped, not dropped (see test_xlsx_escapes…)
    write, read = FORMATS[fmt]
    df = pd.DataFrame({"code": [f"{i:02d}" for i in range(len(cells))], name + "!": cells, "n": range(len(cells))})
    if all(c is None for c in cells):
        df[name + "!"] = np.nan  # an all-missing column reads back as float NaN
    table, _ = read(write(df))
    pd.testing.assert_frame_equal(table, df)


@pytest.mark.parametrize("fmt", FORMATS)
@SETTINGS
@given(title=TEXT, values=st.lists(TEXT, max_size=3))
def test_any_metadata_round_trips(fmt, title, values):
    write, read = FORMATS[fmt]
    meta = Metadata(title, tuple((f"ป้าย {i}", v) for i, v in enumerate(values)))
    assert Metadata.from_dict(read(write(FRAME.head(1), meta))[1]) == meta


def test_metadata_labels_are_checked():
    with pytest.raises(ValueError):
        Metadata("t", (("a", "1"), ("a", "2")))
    with pytest.raises(ValueError):
        Metadata("t", (("title", "x"),))
    with pytest.raises(ValueError):
        Metadata("t", (("a: b", "x"),))
    assert Metadata("t", [["a", 1]]).lines == (("a", "1"),)


# --- GeoJSON ------------------------------------------------------------------------------------------------------

def test_geojson_structure():
    doc = json.loads(to_geojson(FRAME, GEOMS, META).decode("utf-8"))
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    assert doc["povmap"] == {"title": META.title, "about": dict(META.lines)}
    features = doc["features"]
    assert len(features) == len(FRAME)
    assert [f["type"] for f in features] == ["Feature"] * 4
    assert [f["id"] for f in features] == FRAME["code"].tolist()
    assert [f["geometry"] is None for f in features] == [False, False, True, True]
    first = features[0]["properties"]
    assert first == {"code": "010101", "ชื่อพื้นที่": "กรุงเทพมหานคร", "คนจน": 120, "rate": 2.81, "whole": 1.0,
                     "parent_code": "01"}
    assert features[1]["properties"]["rate"] is None and features[2]["properties"]["ชื่อพื้นที่"] is None
    poly = features[1]["geometry"]
    assert poly["type"] == "Polygon"
    assert [103.123457, 16.1] in poly["coordinates"][0], "rounded to 1e-6"
    ring = shapely.LinearRing(poly["coordinates"][0])
    assert ring.is_ccw, "RFC 7946: exterior ring counter-clockwise"


def test_geojson_text_and_projection():
    data = to_geojson(FRAME, GEOMS.to_crs(32647))
    assert "กรุงเทพมหานคร".encode() in data, "UTF-8, not \\u escapes"
    doc = json.loads(data)
    x, y = doc["features"][0]["geometry"]["coordinates"][0][0]
    assert 99.9 < x < 100.6 and 12.9 < y < 13.6, "reprojected to lon/lat"


def test_geojson_holes_and_multipolygons():
    hole = Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (1, 2), (2, 2), (2, 1)]])
    geoms = gpd.GeoSeries([shapely.MultiPolygon([hole, box(5, 5, 6, 6)]), Polygon()], index=["a", "b"], crs=4326)
    doc = json.loads(to_geojson(pd.DataFrame({"code": ["a", "b"]}), geoms))
    multi = doc["features"][0]["geometry"]
    assert multi["type"] == "MultiPolygon"
    assert shapely.LinearRing(multi["coordinates"][0][0]).is_ccw
    assert not shapely.LinearRing(multi["coordinates"][0][1]).is_ccw, "holes clockwise"
    assert doc["features"][1]["geometry"] is None, "an empty geometry is null"
    with pytest.raises(ValueError):
        to_geojson(pd.DataFrame({"code": ["a"]}), pd.concat([geoms, geoms]))


# --- file names ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, want", [
    ("ฉากทัศน์ ก: พื้นที่นำร่อง", "ฉากทัศน์-ก-พื้นที่นำร่อง"),
    ("Pilot areas 2024 / v1.2", "Pilot-areas-2024-v1.2"),
    ("../../etc/passwd", "etc-passwd"),
    ('a<b>c:"d|e?*f\\g', "a-b-c-d-e-f-g"),
    ("", "export"),
    ("  ///  ", "export"),
    ("...", "export"),
    ("CON", "_CON"),
    ("ุ้ก", "ก"),  # a leading mark has no letter to sit on
    ("จังหวัด๑๒๓", "จังหวัด๑๒๓"),
])
def test_slug(name, want):
    assert slug(name) == want


def test_slug_is_short_and_keeps_letters_whole():
    long = "น้ำ" * 40
    s = slug(long)
    assert len(s) <= 60 and s == "น้ำ" * (len(s) // 3)


WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"{d}{i}" for d in ("COM", "LPT") for i in range(1, 10))}


@given(st.one_of(st.text(), st.sampled_from(sorted(WINDOWS_RESERVED)).map(lambda s: s.lower() + ".x")))
def test_slug_is_always_safe(name):
    s = slug(name)
    assert s and len(s) <= 60
    assert not any(c in s for c in '/\\:*?"<>| \t\r\n\x00')
    assert s.split(".")[0].upper() not in WINDOWS_RESERVED
    assert s[0] not in "-." and s[-1] not in "-_."
    assert s[0] != "_" or s[1:].split(".")[0].upper() in WINDOWS_RESERVED


@given(st.lists(st.text(max_size=12), min_size=1, max_size=6))
def test_restore_undoes_neutralise(texts):
    from povmap.present.exports import restore

    df = pd.DataFrame({"a": texts, "n": range(len(texts))})
    out = neutralise(df)
    assert not out["a"].map(lambda v: v.startswith(FORMULA_PREFIXES)).any()
    pd.testing.assert_frame_equal(restore(out), df)
