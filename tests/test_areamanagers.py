"""Area Manager coverage: storage, CSV import (encodings, Thai headers, all-or-nothing), coverage rules."""
from __future__ import annotations

import pandas as pd
import pytest

from povmap.core.areas import admin_areas
from povmap.userdb import areamanagers as am
from povmap.userdb.areamanagers import AreaManagerError
from povmap.userdb.db import UserDBError

KSU = "มหาวิทยาลัยราชภัฏกาฬสินธุ์"
CODES = set(admin_areas()["code"])  # the same DOPA codes as Store.areas["code"]


def rows(db):
    return am.list_coverage(db).to_dict("records")


def test_add_remove_list(db):
    assert am.list_coverage(db).columns.tolist() == ["manager", "code", "note"] and rows(db) == []
    assert am.add(db, KSU, "4601", "ตั้งแต่ 2566", valid_codes=CODES)
    assert am.add(db, " Kasetsart  University ", 460102.0, valid_codes=CODES)
    assert not am.add(db, KSU, " 46 01 ", valid_codes=CODES)  # already listed
    assert am.add(db, KSU, "10", valid_codes=CODES)  # a whole province
    df = am.list_coverage(db)
    assert df.dtypes.map(str).tolist() == ["str"] * 3
    assert rows(db) == [{"manager": "Kasetsart University", "code": "460102", "note": ""},
                        {"manager": KSU, "code": "10", "note": ""},
                        {"manager": KSU, "code": "4601", "note": "ตั้งแต่ 2566"}]
    assert am.remove(db, KSU, "4601") and not am.remove(db, KSU, "4601")
    assert [r["code"] for r in rows(db)] == ["460102", "10"]


@pytest.mark.parametrize("manager,code,column,words", [
    (KSU, "999999", "code", "999999"),
    (KSU, "46A1", "code", "46A1"),
    (KSU, "", "code", "blank"),
    ("   ", "4601", "manager", "blank"),
])
def test_add_rejects(db, manager, code, column, words):
    with pytest.raises(AreaManagerError) as e:
        am.add(db, manager, code, valid_codes=CODES)
    assert e.value.column == column and words in e.value.en and e.value.th
    assert rows(db) == []


def test_covered_and_managers_of():
    cov = pd.DataFrame({"manager": ["U1", "U2", "U3", "U4"], "code": ["4601", "460201", "10", "4603"],
                        "note": ""})
    codes = ["4601", "460101",            # district listed -> it and its subdistricts
             "4602", "460201", "460202",  # a subdistrict listed -> it and its district, not its siblings
             "10", "1001", "100101",      # province listed -> everything in it
             "46", "47", "4701", "470101"]
    got = am.covered(cov, codes)
    assert got.index.tolist() == codes and got.dtype == bool
    assert got.to_dict() == {"4601": True, "460101": True, "4602": True, "460201": True, "460202": False,
                             "10": True, "1001": True, "100101": True, "46": True, "47": False,
                             "4701": False, "470101": False}
    who = am.managers_of(cov, codes)
    assert who["46"] == "U1, U2, U4" and who["460101"] == "U1" and who["4602"] == "U2"
    assert who["100101"] == "U3" and who["47"] == ""
    two = am.managers_of(pd.concat([cov, pd.DataFrame({"manager": ["U0"], "code": ["46"], "note": [""]})]),
                         ["460101"])
    assert two["460101"] == "U0, U1"
    assert am.covered(cov.iloc[:0], ["4601"]).tolist() == [False]


THAI_CSV = ("ผู้จัดการพื้นที่,รหัสพื้นที่,หมายเหตุ\n"
            f"{KSU},4601,อำเภอเมือง\n"
            f"{KSU},460102.0,\n"  # as Excel writes a number
            "ม.เกษตรศาสตร์, 46 02 ,ทั้งอำเภอ\n")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp874"])
def test_import_csv_encodings_and_thai_headers(db, encoding):
    assert am.import_csv(db, THAI_CSV.encode(encoding), valid_codes=CODES) == 3
    assert rows(db) == [{"manager": "ม.เกษตรศาสตร์", "code": "4602", "note": "ทั้งอำเภอ"},
                        {"manager": KSU, "code": "4601", "note": "อำเภอเมือง"},
                        {"manager": KSU, "code": "460102", "note": ""}]


def test_import_csv_english_headers_skips_duplicates(db):
    am.add(db, KSU, "4601", "kept", valid_codes=CODES)
    data = f"code,Manager\n4601,{KSU}\n4602,{KSU}\n4602,{KSU}\n\n10,{KSU}\n".encode()
    assert am.import_csv(db, data, valid_codes=CODES) == 2
    assert [(r["code"], r["note"]) for r in rows(db)] == [("10", ""), ("4601", "kept"), ("4602", "")]
    assert am.import_csv(db, data, valid_codes=CODES) == 0


@pytest.mark.parametrize("bad_line,column,words", [
    (f"{KSU},999999,x", "รหัสพื้นที่", "999999"),
    (f"{KSU},46-01,x", "รหัสพื้นที่", "46-01"),
    (",4601,x", "ผู้จัดการพื้นที่", "blank"),
])
def test_import_csv_bad_row_imports_nothing(db, bad_line, column, words):
    am.add(db, "Existing", "46", valid_codes=CODES)
    text = "ผู้จัดการพื้นที่,รหัสพื้นที่,หมายเหตุ\n" f"{KSU},4601,ok\n\n{bad_line}\n{KSU},4602,ok\n"
    with pytest.raises(AreaManagerError) as e:
        am.import_csv(db, text.encode("utf-8-sig"), valid_codes=CODES, file_name="am.csv")
    err = e.value
    assert (err.file, err.row, err.column) == ("am.csv", 4, column)  # header 1, row 2, blank 3, bad 4
    for msg in (err.en, err.th):
        assert "am.csv" in msg and "4" in msg and column in msg
    assert words in err.en and "Nothing was imported" in err.en and "ยังไม่ได้นำเข้า" in err.th
    assert rows(db) == [{"manager": "Existing", "code": "46", "note": ""}]


def test_import_csv_lists_every_problem_but_points_at_the_first(db):
    text = "manager,code\n" + "".join(f"U,{5900 + k}\n" for k in range(8))  # there is no province 59
    with pytest.raises(AreaManagerError) as e:
        am.import_csv(db, text.encode(), valid_codes=CODES)
    assert e.value.row == 2 and "row 6" in e.value.en and "3 more" in e.value.en and "อีก 3" in e.value.th


def test_import_csv_missing_column_and_undecodable(db):
    with pytest.raises(AreaManagerError) as e:
        am.import_csv(db, b"manager,area\nU,4601\n", valid_codes=CODES, file_name="x.csv")
    assert (e.value.row, e.value.column) == (1, "code") and "x.csv" in e.value.th
    with pytest.raises(AreaManagerError, match="UTF-8"):
        am.import_csv(db, b"manager,code\n\xff\xfe\xdb\n", valid_codes=CODES)
    assert rows(db) == []


def test_replace_all_is_all_or_nothing(db):
    am.add(db, "Old", "46", valid_codes=CODES)
    table = pd.DataFrame({"manager": [KSU, KSU, None, KSU], "code": ["4601", "460102", None, "4601"],
                          "note": ["a", None, None, "dup"]})
    am.replace_all(db, table, valid_codes=CODES)  # blank editor row dropped, duplicate keeps the first
    assert rows(db) == [{"manager": KSU, "code": "4601", "note": "a"},
                        {"manager": KSU, "code": "460102", "note": ""}]

    bad = pd.concat([table, pd.DataFrame({"manager": ["X"], "code": ["123"], "note": [""]})], ignore_index=True)
    with pytest.raises(AreaManagerError) as e:
        am.replace_all(db, bad, valid_codes=CODES)
    assert (e.value.file, e.value.row, e.value.column) == (None, 5, "code")
    assert "Row 5" in e.value.en and "Nothing was saved" in e.value.en and "ยังไม่ได้บันทึก" in e.value.th
    # the column as the table shows it, in the user's language, not the internal name
    assert "column 'Area code'" in e.value.en and "'code'" not in e.value.en and "'รหัสพื้นที่'" in e.value.th
    assert len(rows(db)) == 2  # unchanged

    am.replace_all(db, table.iloc[:0], valid_codes=CODES)
    assert rows(db) == []


def test_damaged_db(tmp_path):
    db = tmp_path / "povmap.sqlite"
    db.write_bytes(b"\x00garbage" * 500)
    for call in (lambda: am.list_coverage(db), lambda: am.add(db, KSU, "46", valid_codes=CODES),
                 lambda: am.import_csv(db, THAI_CSV.encode(), valid_codes=CODES)):
        with pytest.raises(UserDBError) as e:
            call()
        assert str(db) in e.value.en and str(db) in e.value.th
    assert db.read_bytes() == b"\x00garbage" * 500
