"""The Data page in AppTest: upload -> report -> accept or cancel; switching and deleting; the maps follow."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from apptest import headline, reconciled
from povmap.core import households as hh
from povmap.data import uploads as U
from povmap.data.datasource import open_engine

APP = Path(__file__).resolve().parent.parent / "app.py"
FIXTURES = Path(__file__).parent / "fixtures" / "uploads"
TIMEOUT = 120


@pytest.fixture
def user_data(tmp_path, monkeypatch):
    root = tmp_path / "user_datasets"
    monkeypatch.setenv(U.USER_DATA_ENV, str(root))
    return root


@pytest.fixture
def data_page(store, user_data, monkeypatch):
    monkeypatch.setenv("POVMAP_STORE", str(store.path))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.switch_page("app_pages/data.py")
    at.run()
    assert not at.exception, at.exception
    return at


def upload(at: AppTest, kind: str, name: str, data: bytes, **choices) -> AppTest:
    at.radio(key="data.kind").set_value(kind).run()
    at.file_uploader(key=f"data.file.{kind}").upload(name, data, "text/csv").run()
    for key, value in choices.items():
        at.number_input(key=f"data.{key}").set_value(value).run() if key == "year" else \
            at.selectbox(key=f"data.{key}").set_value(value).run()
    at.button(key="data.check").click().run()
    assert not at.exception, at.exception
    return at


def submit(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.key.startswith("FormSubmitter:data.accept") and b.label == label).click().run()
    assert not at.exception, at.exception
    return at


def kalasin_households(store) -> tuple[bytes, object]:
    """The built-in file's Kalasin households, written as a user would upload them."""
    df = store.households
    df = df[df["subdistrict_code"].str.startswith("46")].drop(columns=[hh.TIER_COLUMN])
    return df.to_csv(index=False).encode("utf-8"), df


def test_lists_builtins_and_says_what_privacy_means(data_page):
    at = data_page
    assert at.title[0].value == "ข้อมูล"
    assert any("< 5" in i.body and "วิธีคีย์เซลล์" in i.body and "POVMAP" not in i.body for i in at.info)
    tables = [d.value for d in at.dataframe]
    assert tables[0].iloc[0]["ชื่อ"] == "TPMAP 2561" and tables[0].iloc[0]["ใช้อยู่"] == "✔"
    assert tables[1].iloc[0]["ข้อมูลสังเคราะห์"] == "ใช่"
    assert tables[1].iloc[0]["ครัวเรือน"] == "235,704"  # thousands separators


def test_bad_file_report_names_row_and_column_and_changes_nothing(data_page, user_data):
    at = upload(data_page, "households", "score_above_4.csv", (FIXTURES / "score_above_4.csv").read_bytes())
    assert at.warning or at.error
    problems = at.dataframe[-1].value if len(at.dataframe) > 2 else None
    summary = at.dataframe[2].value
    assert len(summary) >= 1 and problems is not None
    # all or nothing refuses while rows have errors; nothing is written
    at.radio(key="data.mode").set_value(U.ALL_OR_NOTHING)
    submit(at, "นำเข้า")
    assert any("ยังไม่ได้นำเข้า" in e.body for e in at.error)
    assert U.list_datasets() == [] and U.active_id(U.KIND_HOUSEHOLDS) == U.BUILTIN[U.KIND_HOUSEHOLDS]
    submit(at, "ยกเลิก")
    assert any("ยกเลิกแล้ว" in i.body for i in at.info)
    assert U.list_datasets() == []


def test_problem_table_has_row_column_and_advice_in_english(data_page):
    at = data_page
    at.session_state["lang"] = "en"
    at.run()
    at = upload(at, "households", "score_above_4.csv", (FIXTURES / "score_above_4.csv").read_bytes())
    full = at.dataframe[-1].value
    assert {"Row", "Column", "Problem", "What to do"} <= set(full.columns)
    row = full.iloc[0]
    assert int(row["Row"]) >= 2 and "capital" in row["Column"] and row["What to do"]


def test_accept_households_then_maps_use_them_with_small_counts_hidden(data_page, store, user_data):
    data, df = kalasin_households(store)
    at = upload(data_page, "households", "kalasin.csv", data)
    assert at.success and "นำเข้าได้" in at.success[0].body
    assert U.list_datasets() == []  # checked, not yet imported
    submit(at, "นำเข้า")
    active = U.active_id(U.KIND_HOUSEHOLDS)
    assert active != U.BUILTIN[U.KIND_HOUSEHOLDS]
    assert any("kalasin" in s.body for s in at.success)
    assert at.dataframe[1].value.iloc[0]["ใช้อยู่"] == "" and at.dataframe[1].value.iloc[-1]["ใช้อยู่"] == "✔"

    ex = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    ex.query_params["dataset"] = "households"
    ex.query_params["level"] = "subdistrict"
    ex.query_params["scope"] = "46"
    ex.run()
    assert not ex.exception, ex.exception
    assert not any("สังเคราะห์" in w.body for w in ex.warning)  # an imported file is not labelled synthetic
    ranking = ex.dataframe[0].value
    count_col = "จำนวน (ครัวเรือน)"
    shown = ranking[count_col]
    assert (shown == "< 5").any()  # hidden cells say so
    numbers = shown[shown != "< 5"].str.replace(",", "").astype(int)
    assert not ((numbers > 0) & (numbers < 5)).any()
    # the explorer's default filter: deprived in any dimension, all tiers; the total is the protected table's sum
    # of the imported file's cells, within the adjustment bound of the file's own count
    eng = open_engine(store=store)
    cells = eng.protected.cells.query("deprived == 1 and tier > 0")
    total = int(cells["households"].sum())
    true = int(hh.filter_mask(df, ("health", "living", "education", "income", "access"), (1, 2, 3, 4)).sum())
    assert abs(total - true) <= eng.protected.bound * len(cells)
    kpis = reconciled(ex)
    assert kpis["total"] == f"{total:,}"
    assert kpis["placed"] == f"{numbers.sum():,}" and numbers.sum() < total
    # each subdistrict shows its own protected sum, hidden only when that sum itself is 1 to 4 (no area is hidden
    # to protect another)
    by_area = eng.protected.by_area("subdistrict", tiers=(1, 2, 3, 4), deprived=1)["households"]
    own = by_area.reindex(ranking["รหัส"]).fillna(0).astype(int).to_numpy()
    assert ((shown == "< 5").to_numpy() == ((own > 0) & (own < 5))).all()
    assert (numbers.to_numpy() == own[(shown != "< 5").to_numpy()]).all()


def test_accept_counts_file_and_switch_back_and_delete(data_page, user_data):
    name = "good_counts_province_and_districts.csv"
    at = upload(data_page, "tpmap", name, (FIXTURES / name).read_bytes(), year=2023)
    submit(at, "นำเข้า")
    ds = U.active_id(U.KIND_COUNTS)
    assert ds != U.BUILTIN[U.KIND_COUNTS]
    ex = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    ex.query_params["scope"] = "46"
    ex.query_params["level"] = "district"
    ex.run()
    assert not ex.exception, ex.exception
    assert reconciled(ex)["total"] == headline(ex)[0]["value"] == "100"  # the file's Kalasin total, not TPMAP 2561's

    at.selectbox(key="data.use.tpmap").set_value(U.BUILTIN[U.KIND_COUNTS]).run()
    at.button(key="data.use_button.tpmap").click().run()
    assert U.active_id(U.KIND_COUNTS) == U.BUILTIN[U.KIND_COUNTS]
    at.selectbox(key="data.use.tpmap").set_value(ds).run()
    at.button(key="data.delete.tpmap").click().run()
    assert [d.id for d in U.list_datasets()] == [ds]  # asks first
    at.button(key="data.delete_yes.tpmap").click().run()
    assert not at.exception and U.list_datasets() == []
    assert any("ลบ" in s.body for s in at.success)


def test_ambiguous_name_is_asked_and_the_answer_places_the_rows(data_page):
    at = upload(data_page, "households", "name_ambiguous.csv", (FIXTURES / "name_ambiguous.csv").read_bytes())
    ask = next(s for s in at.selectbox if s.key and s.key.startswith("data.ask."))
    assert "ตลาด / เมือง" in ask.label and any("440101" in o for o in ask.options)
    assert at.metric[1].value == "5"  # the ambiguous row is not importable yet
    ask.set_value("440101").run()
    at.button(key="data.recheck").click().run()
    assert not at.exception, at.exception
    assert at.metric[1].value == "6"
    full = at.dataframe[-1].value
    assert full["ปัญหา"].str.contains("ตามที่คุณเลือก").any()


def test_damaged_dataset_is_flagged_on_the_page_and_cannot_be_used(store, user_data, monkeypatch):
    data, _ = kalasin_households(store)
    info = U.import_dataset(U.check(data, "kalasin.csv", kind=U.KIND_HOUSEHOLDS), U.VALID_ROWS)
    manifest = user_data / info.id / "manifest.json"
    manifest.write_text("{damaged", encoding="utf-8")
    monkeypatch.setenv("POVMAP_STORE", str(store.path))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.switch_page("app_pages/data.py")
    at.run()
    assert not at.exception, at.exception
    warned = [w.body for w in at.warning if info.id in w.body]
    assert len(warned) == 1 and "เสียหาย" in warned[0] and str(user_data) not in warned[0]  # no server path
    assert any(n.startswith("⚠") for n in at.dataframe[1].value["ชื่อ"])
    at.selectbox(key=f"data.use.{U.KIND_HOUSEHOLDS}").set_value(info.id).run()
    assert at.button(key=f"data.use_button.{U.KIND_HOUSEHOLDS}").disabled
    assert not at.button(key=f"data.delete.{U.KIND_HOUSEHOLDS}").disabled


def test_user_text_in_the_list_is_neither_a_formula_nor_markdown(store, user_data, monkeypatch):
    rep = U.check(b"province_code,poor.JPT.MOFval.CNT\n46,100\n", "c.csv", kind="tpmap", year=2024)
    U.import_dataset(rep, name="=HYPERLINK(\"http://x\")", source="![l](http://127.0.0.1:9/x.png)", licence="+cmd|x")
    monkeypatch.setenv("POVMAP_STORE", str(store.path))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.switch_page("app_pages/data.py")
    at.run()
    assert not at.exception
    listing = at.dataframe[0].value
    cells = [v for col in listing.columns for v in listing[col] if isinstance(v, str)]
    assert "'=HYPERLINK(\"http://x\")" in cells and "'+cmd|x" in cells
    assert not any(v.startswith(("=", "+", "-", "@")) for v in cells)
    texts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [w.value for w in at.warning]
    assert not any("![l](" in x for x in texts)  # the credit line shows the source escaped


def test_a_large_household_upload_is_checked_in_blocks_and_imported(data_page, store, user_data, monkeypatch):
    """An upload over the whole-file size is read in blocks, its rows staged on disk until accepted or cancelled."""
    from povmap.data.uploads import blocks

    monkeypatch.setattr(blocks, "WHOLE_BYTES", 10_000)
    monkeypatch.setattr(blocks, "BLOCK_LINES", 2_000)
    data, df = kalasin_households(store)
    at = upload(data_page, "households", "kalasin.csv", data)
    assert at.success and "นำเข้าได้" in at.success[0].body
    assert len(list(user_data.glob(".tmp-stage-*"))) == 1
    submit(at, "ยกเลิก")
    assert list(user_data.glob(".tmp-stage-*")) == [] and U.list_datasets() == []
    at.button(key="data.check").click().run()
    submit(at, "นำเข้า")
    (info,) = U.list_datasets()
    assert info.rows_accepted == len(df) and U.active_id(U.KIND_HOUSEHOLDS) == info.id
    assert list(user_data.glob(".tmp-*")) == []
