"""Uploads: the fixture corpus (each file -> exactly the named problems), the report, the registry, privacy."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from povmap.data import uploads as U
from povmap.data.uploads.problems import SEVERITY, render

FIXTURES = Path(__file__).parent / "fixtures" / "uploads"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def user_data(tmp_path, monkeypatch):
    """Every test gets an empty user data folder; the real one is never touched."""
    root = tmp_path / "user_datasets"
    monkeypatch.setenv(U.USER_DATA_ENV, str(root))
    return root


def _check(name: str) -> U.Report:
    e = EXPECTED[name]
    return U.check((FIXTURES / name).read_bytes(), name, kind=e["kind"], **e["params"])


def test_corpus_size():
    malformed = [n for n, e in EXPECTED.items() if e["problems"]]
    good = [n for n, e in EXPECTED.items() if not e["problems"]]
    assert len(malformed) >= 30 and len(good) >= 3
    assert set(EXPECTED) == {p.name for p in FIXTURES.iterdir()} - {"expected.json", "make_fixtures.py", "__pycache__"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_report_names_exactly_the_problem(name):
    e = EXPECTED[name]
    r = _check(name)
    got = sorted((p.code, p.row, p.column or "") for p in r.problem_list())
    assert got == sorted(tuple(p) for p in e["problems"])
    assert (r.accepted, r.rejected) == (e["accepted"], e["rejected"])
    if "header_row" in e:
        assert r.header_row == e["header_row"]
    for p in r.problem_list():  # every problem speaks both languages and says what to do
        assert p.en and p.th and p.advice("en") and p.advice("th")
        assert "{" not in p.en + p.th + p.advice("en") + p.advice("th")


def test_generator_reproduces_the_committed_files():
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    made = mod.corpus()
    assert set(made) == set(EXPECTED)
    for name, (data, exp) in made.items():
        assert exp == EXPECTED[name], name
        if not name.endswith(".xlsx"):  # xlsx zips carry timestamps
            assert data == (FIXTURES / name).read_bytes(), name


def test_every_catalogue_entry_renders():
    for code in SEVERITY:
        en, th, _aen, _ath = render(code, {})  # never a KeyError, whatever fields a caller gives
        assert en and th


def test_parse_meta_and_errors():
    p = U.parse((FIXTURES / "good_households_thai_headers_tis620.csv").read_bytes(), "x.csv", kind="households")
    assert p.encoding == "cp874" and p.header_row == 1 and len(p.table) == 6
    p = U.parse((FIXTURES / "good_households_utf16_tabs.txt").read_bytes(), "x.txt", kind="households")
    assert (p.encoding, p.delimiter) == ("utf-16", "\t")
    data = (FIXTURES / "good_households_second_sheet.xlsx").read_bytes()
    assert U.sheet_names(data) == ["คำอธิบาย", "data"]
    assert U.parse(data, "x.xlsx", kind="households", sheet=1).sheet == "data"
    with pytest.raises(U.UploadProblem) as exc:
        U.parse(b"a" * 11, "x.csv", kind="households", max_bytes=10)
    assert exc.value.code == "file_too_large" and "MB" in exc.value.en and "MB" in exc.value.th
    assert U.MAX_UPLOAD_BYTES == 200 * 2**20


def test_one_upload_limit_for_the_page_and_the_checks():
    import tomllib

    config = tomllib.loads((Path(__file__).resolve().parent.parent / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == U.UPLOAD_LIMIT_MB and U.MAX_UPLOAD_BYTES == U.UPLOAD_LIMIT_MB * 2**20
    with pytest.raises(U.UploadProblem) as exc:
        U.parse(b"a" * (U.MAX_UPLOAD_BYTES + 1), "x.csv", kind="households")
    assert "200.0 MB" in exc.value.en and "200.0 MB" in exc.value.th  # the limit as the uploader states it


def test_report_texts_in_both_languages():
    r = _check("unknown_code.csv")
    assert "5 can be imported" in r.summary("en") and "นำเข้าได้ 5 แถว" in r.summary("th")
    t = r.problem_table("th")
    assert list(t.columns) == ["แถว", "คอลัมน์", "ระดับ", "ปัญหา", "วิธีแก้"]
    assert t.iloc[0]["คอลัมน์"] == "B subdistrict_code"
    assert "840503" in r.problems.iloc[0]["candidates"]  # the closest codes are suggested
    s = r.problem_summary("en")
    assert s.iloc[0]["Code"] == "unknown_code" and s.iloc[0]["Rows"] == "3"
    fatal = _check("misspelt_capital_column.csv")
    assert fatal.fatal and not fatal.can_import("valid_rows") and "capital_humen" in fatal.summary("en")


def test_ambiguous_name_lists_the_candidates():
    r = _check("name_ambiguous.csv")
    row = r.problems[r.problems["code"] == "name_ambiguous"].iloc[0]
    assert {"220101", "300122", "440101", "840101"} <= set(row["candidates"].replace(";", " ").split())


def test_cleaned_values():
    r = _check("thai_digits.csv")
    assert r.tables["households"]["members"].tolist()[:4] == [4, 3, 3, 12]
    r = _check("abolished_code.csv")
    assert r.tables["households"]["subdistrict_code"].iloc[3] == "530407"  # the successor of 530306
    r = _check("buddhist_era_years.csv")
    assert set(r.tables["households"]["survey_year"]) == {2023}
    r = _check("names_instead_of_codes.csv")
    assert set(r.tables["households"]["subdistrict_code"]) == {"460101"}
    r = _check("flags_as_words.csv")
    assert r.tables["households"]["deprived_living"].tolist()[:2] == [1, 0]
    r = _check("counts_combo_column.csv")
    assert r.tables["tpmap_province"]["combo"].tolist() == ["01111", "11111"]
    r = _check("counts_thousands_and_thai_digits.csv")
    assert r.tables["tpmap_province"]["households"].tolist() == [1500, 520, 240]
    r = _check("counts_province_names.csv")
    assert r.tables["tpmap_province"]["code"].tolist() == ["46", "49", "93"]


def test_rollup_mismatch_leaves_the_parent_out():
    r = _check("counts_districts_do_not_add_up.csv")
    assert set(r.tables) == {"tpmap_district"} and len(r.tables["tpmap_district"]) == 2
    msg = r.problems.iloc[0]["message_en"]
    assert "add up to 105" in msg and "says 100" in msg


def test_checking_writes_nothing(user_data):
    _check("good_households.csv")
    assert not user_data.exists()


def test_modes_and_registry(user_data, store):
    r = _check("unknown_code.csv")
    assert r.can_import("valid_rows") and not r.can_import("all_or_nothing")
    with pytest.raises(U.DatasetError):
        U.import_dataset(r, "all_or_nothing")
    assert U.list_datasets() == []
    info = U.import_dataset(r, "valid_rows", licence="CC BY 4.0", name="Kalasin 2566")
    assert info.coverage == {"areas": 5, "people": 15, "households": 5}
    assert (info.rows_accepted, info.rows_rejected, info.year, info.synthetic) == (5, 1, 2023, False)
    assert U.active_id("households") == info.id
    listed = U.list_datasets(store=store)
    assert [d.id for d in listed] == [U.BUILTIN["tpmap"], U.BUILTIN["households"], U.ROUND2, info.id]
    tp = listed[0]
    assert tp.builtin and tp.coverage["people"] == 1_032_987 and "study" in tp.licence
    assert listed[1].synthetic
    df = U.load_table(info.id, "households")
    assert len(df) == 5 and "tier" in df and df["subdistrict_code"].str.len().eq(6).all()
    manifest = json.loads((user_data / info.id / "manifest.json").read_text(encoding="utf-8"))
    assert "H001" not in json.dumps(manifest)  # the manifest holds counts, never rows

    counts = U.import_dataset(_check("good_counts_province_and_districts.csv"), "all_or_nothing")
    assert counts.levels == ["province", "district"] and counts.year == 2023
    assert U.load_table(counts.id, "tpmap_district")["code"].tolist() == ["4601", "4602"]
    assert U.active_id("tpmap") == counts.id and U.active_id("households") == info.id
    with pytest.raises(U.DatasetError):
        U.set_active("households", counts.id)
    with pytest.raises(U.DatasetError):
        U.delete_dataset(U.BUILTIN["tpmap"])
    U.set_active("tpmap", U.BUILTIN["tpmap"])
    assert U.active_id("tpmap") == U.BUILTIN["tpmap"]
    U.delete_dataset(info.id)
    assert U.active_id("households") == U.BUILTIN["households"]
    assert [d.id for d in U.list_datasets()] == [counts.id]
    assert U.load_table(U.BUILTIN["households"], "households", store=store) is store.households


def test_aliases_table():
    md = U.aliases_markdown()
    for h in ("`poor.JPT.MOFval.CNT`", "`คนจนเป้าหมาย`", "`ทุนมนุษย์`", "`ปีที่สำรวจ`", "`HOUSEMEMBER_CNT`"):
        assert h in md


def test_many_bad_rows_stay_fast():
    """50,000 rows each with a bad score: problems are collected in bulk, not one table per problem."""
    import time

    header = EXPECTED_HEADER
    body = "".join(f"H{i},460101,3,9,2,2,2,2,1,0,0,1,0,0,2023\n" for i in range(50_000))
    t0 = time.perf_counter()
    r = U.check((header + "\n" + body).encode(), "bad.csv", kind="households")
    assert time.perf_counter() - t0 < 15
    assert r.rejected == 50_000 and len(r.errors) == 50_000 and r.errors["code"].eq("score_out_of_range").all()
    assert r.problems["row"].tolist()[:2] == [2, 3]


EXPECTED_HEADER = ("household_id,subdistrict_code,members,capital_human,capital_physical,capital_financial,"
                   "capital_natural,capital_social,deprived_health,deprived_living,deprived_education,"
                   "deprived_income,deprived_access,referred,survey_year")


def test_uploads_do_not_import_streamlit():
    import subprocess
    import sys

    code = "import sys, povmap.data.uploads; assert 'streamlit' not in sys.modules, 'streamlit imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_title_lines_footnote_and_damaged_utf8():
    body = (FIXTURES / "good_households.csv").read_bytes()
    r = U.check("รายงาน ปี 2566\n\nจัดทำโดย มหาวิทยาลัย,\n".encode() + body, "t.csv", kind="households")
    assert (r.header_row, r.accepted, r.problems.empty) == (4, 6, True)
    r = U.check(body + "หมายเหตุ: ข้อมูลสมมติ\n".encode(), "f.csv", kind="households")
    assert r.accepted == 6 and r.rejected == 1 and set(r.errors["row"]) == {8}
    thai = (FIXTURES / "good_households_thai_headers_tis620.csv").read_bytes().decode("cp874").encode("utf-8")
    from povmap.data.uploads.parse import _decode

    assert _decode("ทุน,ทุนมนุษย์".encode()[:-2], "cut.csv") == ("ทุน,ทุนมนุษย", "utf-8")  # cut in the last letter
    bad = U.check(thai + b"\xff", "damaged.csv", kind="households")
    assert bad.fatal and bad.problems.iloc[0]["code"] == "encoding"
    assert U.sheet_names(b"PK\x03\x04garbage") == [] and U.sheet_names(body) == []


def test_ambiguous_names_are_asked_and_answered():
    data = (FIXTURES / "name_ambiguous.csv").read_bytes()
    report = U.check(data, "a.csv", kind="households")
    [(names, codes, rows)] = report.questions()
    assert names == "ตลาด / เมือง" and "440101" in codes and "840101" in codes and rows == 1
    answered = U.check(data, "a.csv", kind="households", choices={names: "440101"})
    assert answered.questions() == [] and answered.accepted == report.accepted + 1
    assert "440101" in set(answered.tables["households"]["subdistrict_code"])
    assert (answered.problems["code"] == "name_chosen").sum() == 1
    # an answer that is not one of the candidates is not taken
    wrong = U.check(data, "a.csv", kind="households", choices={names: "460101"})
    assert wrong.accepted == report.accepted and len(wrong.questions()) == 1


# ---- a damaged dataset is listed, flagged and named, never silently dropped -----------------------

def _import_good(name: str | None = None) -> U.DatasetInfo:
    return U.import_dataset(_check("good_households.csv"), "all_or_nothing", name=name)


@pytest.mark.parametrize("damage, why", [
    (lambda f: f.unlink(), "is missing"),
    (lambda f: f.write_text("{not json", encoding="utf-8"), "is not valid JSON"),
    (lambda f: f.write_bytes(b"\xff\xfe{}"), "is not valid JSON"),
    (lambda f: f.write_text("[1, 2]", encoding="utf-8"), "does not hold a JSON object"),
    (lambda f: f.write_text(json.dumps({**json.loads(f.read_text(encoding="utf-8")), "format": 99}),
                            encoding="utf-8"), "has format 99"),
    (lambda f: f.write_text(json.dumps({**json.loads(f.read_text(encoding="utf-8")), "colour": "red"}),
                            encoding="utf-8"), "does not describe a dataset"),
    (lambda f: f.write_text(json.dumps({**json.loads(f.read_text(encoding="utf-8")), "id": "other"}),
                            encoding="utf-8"), "names another dataset"),
])
def test_damaged_manifest_is_listed_flagged_and_named(user_data, damage, why):
    from povmap.data.uploads.datasets import DamagedDataset
    from povmap.data.uploads.listing import datasets_table

    good = _import_good()
    bad = _import_good("good households, again")
    U.set_active("households", good.id)
    manifest = user_data / bad.id / "manifest.json"
    damage(manifest)

    listed = {d.id: d for d in U.list_datasets()}
    assert set(listed) == {good.id, bad.id}  # still there, not dropped
    assert not listed[good.id].damaged
    flagged = listed[bad.id]
    assert flagged.kind == "households"  # from its id, so it is listed under its kind
    assert bad.id in flagged.damage("en") and why in flagged.damage("en")
    assert bad.id in flagged.damage("th") and "เสียหาย" in flagged.damage("th")
    assert str(manifest.parent.parent) not in flagged.damage("th")  # no server path on a user's screen
    assert [d.id for d in U.list_datasets("households")] == [d.id for d in U.list_datasets() if d.kind == "households"]
    names = datasets_table(list(listed.values()), good.id, "en")["Name"].tolist()
    assert any(n.startswith("⚠") for n in names)

    with pytest.raises(DamagedDataset) as exc:  # asked for by id: an error naming the file
        U.get_dataset(bad.id)
    assert bad.id in exc.value.en and why in exc.value.en and exc.value.path == manifest
    with pytest.raises(U.DatasetError):
        U.set_active("households", bad.id)
    assert U.active_id("households") == good.id
    U.delete_dataset(bad.id)  # a damaged dataset can be removed
    assert [d.id for d in U.list_datasets()] == [good.id]


def test_active_damaged_dataset_falls_back_to_builtin(user_data):
    info = _import_good()
    assert U.active_id("households") == info.id
    (user_data / info.id / "manifest.json").write_text("", encoding="utf-8")
    assert U.active_id("households") == U.BUILTIN["households"]
    assert U.list_datasets()[0].damaged


def test_unknown_dataset_is_not_reported_as_damaged(user_data):
    from povmap.data.uploads.datasets import DamagedDataset

    _import_good()
    for ds_id in ("households-20200101T000000-abcdef", "no such id"):
        with pytest.raises(U.DatasetError) as exc:
            U.get_dataset(ds_id)
        assert not isinstance(exc.value, DamagedDataset) and "There is no dataset" in exc.value.en
        with pytest.raises(U.DatasetError, match="There is no dataset"):
            U.delete_dataset(ds_id)


def test_builtins_catch_only_a_damaged_store(store, monkeypatch):
    from povmap.data.store import StoreError
    from povmap.data.uploads import datasets

    class Broken:
        manifest = store.manifest

        def tpmap(self, level):
            raise StoreError("tpmap_country.parquet", "error.store.file_damaged", exc="ArrowInvalid")

        @property
        def household_areas(self):
            raise KeyError("subdistrict_code")

    counts, households, _round2 = datasets._builtins(Broken())
    assert counts.coverage["people"] is None and households.coverage["areas"] is None

    class Bug(Broken):
        def tpmap(self, level):
            raise ZeroDivisionError("a bug, not a damaged store")

    with pytest.raises(ZeroDivisionError):  # a programming error is not hidden as "no figure"
        datasets._builtins(Bug())
