"""The pilot-area and Area Manager pages in AppTest: the whole flow from frame to saved, reopened, exported list."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from povmap.core.i18n import t
from povmap.userdb import areamanagers, scenarios

APP = Path(__file__).resolve().parent.parent / "app.py"
PAGE = "app_pages/pilot.py"


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "user.sqlite"
    monkeypatch.setenv("POVMAP_USER_DB", str(path))
    return path


def new_session(store, monkeypatch, page=PAGE) -> AppTest:
    """A fresh browser session (as after a reload or an app restart) on ``page``."""
    monkeypatch.setenv("POVMAP_STORE", str(store.path))
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def kalasin(at) -> AppTest:
    at.selectbox(key="pilot.scope.th").set_value("one").run()
    at.selectbox(key="pilot.province.th").set_value("46").run()
    assert not at.exception, at.exception
    return at


def shortlist_codes(at) -> list[str]:
    [df] = [d.value for d in at.dataframe if "คะแนนรวม" in d.value.columns]  # the shortlist table
    return df["รหัส"].tolist()


def test_whole_flow_save_reload_reopen_export(store, monkeypatch, db):
    at = kalasin(new_session(store, monkeypatch))
    assert at.title[0].value == "เลือกพื้นที่นำร่อง"
    assert len(at.get("image")) == 8  # one small map per TPMAP criterion
    assert at.get("component_instance")  # the shortlist map
    first = shortlist_codes(at)
    assert len(first) == 20 and all(c.startswith("46") and len(c) == 6 for c in first)

    # weights change the ranking
    at.slider(key="pilot.w.rate.th").set_value(3.0).run()
    at.checkbox(key="pilot.on.lisa.th").uncheck().run()
    at.number_input(key="pilot.top_n.th").set_value(10).run()
    second = shortlist_codes(at)
    assert len(second) == 10 and not at.exception

    # save
    at.text_input(key="pilot.save_name").input("กาฬสินธุ์ อัตราสูง")  # a form: typed and submitted together
    next(b for b in at.button if b.label == "บันทึก").click().run()
    assert not at.exception, at.exception
    [info] = scenarios.list_scenarios(db)
    assert info.name == "กาฬสินธุ์ อัตราสูง" and info.n_areas == 10

    # a new session (reload / restart) reopens it exactly
    again = new_session(store, monkeypatch)
    again.button(key="pilot.open").click().run()
    assert not again.exception, again.exception
    assert again.selectbox(key="pilot.province.th").value == "46"
    assert again.slider(key="pilot.w.rate.th").value == 3.0
    assert shortlist_codes(again) == second
    assert any("ตรงกับที่บันทึกไว้" in s.value for s in again.success)

    # the export names the scenario and re-reads to the same list
    dl = {b.label: b for b in again.get("download_button")}
    assert {"CSV", "XLSX", "GeoJSON"} <= set(dl)
    assert again.button(key="pilot.dl.brief").label == "สรุปพื้นที่ (PDF)"  # rendered when clicked (_downloads.py)
    sc = scenarios.load(db, info.id)
    assert sc.result["code"].tolist() == second


def test_two_clicks_compare_two_shortlisted_areas(store, monkeypatch, db):
    at = kalasin(new_session(store, monkeypatch))
    at.session_state["pilot.table.False"] = {"selection": {"rows": [0, 1], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception
    assert any("เปรียบเทียบ 2 พื้นที่" in m.value for m in at.markdown)
    assert at.get("plotly_chart")  # the comparison's dimension bars


def test_households_frame_and_bad_choices(store, monkeypatch, db):
    at = kalasin(new_session(store, monkeypatch))
    at.selectbox(key="pilot.dataset.th").set_value("households").run()
    assert not at.exception, at.exception
    assert any("สังเคราะห์" in w.value for w in at.warning)
    assert len(at.get("image")) == 9  # tier-1 share joins
    for key in [k for k in ("count", "rate", "share", "lisa", "gistar", "depth", "tier1", "coverage", "readiness")]:
        at.checkbox(key=f"pilot.on.{key}.th").uncheck()
    at.run()
    assert at.error and not at.exception  # no criterion: a clear message, no traceback
    pick_one = t("ctl.pick_one", "th")
    # household frames offer no choice of dimensions (privacy): a choice left from TPMAP changes nothing
    at.session_state["pilot.dims.th"] = []
    at.run()
    assert not any(pick_one in w.value for w in at.warning) and at.error and not at.exception
    at.session_state["pilot.tiers.th"] = []  # no tier: a clear message
    at.run()
    assert any(w.value.startswith(t("ctl.tiers", "th")) and pick_one in w.value for w in at.warning)
    assert not at.exception


def test_english_labels(store, monkeypatch, db):
    at = kalasin(new_session(store, monkeypatch))
    at.session_state["lang"] = "en"
    at.run()
    assert at.title[0].value == "Pilot areas" and not at.exception
    assert at.selectbox(key="pilot.province.en").value == "46"  # the switch keeps the view


def test_area_manager_table_feeds_the_coverage_gate(store, monkeypatch, db):
    areamanagers.import_csv(db, "manager,code\nมรภ.กาฬสินธุ์,4601\n".encode("utf-8-sig"),
                            valid_codes=set(store.areas["code"]))
    am = new_session(store, monkeypatch, "app_pages/areamanagers.py")
    assert am.title[0].value == "ผู้จัดการพื้นที่" and not am.exception
    at = kalasin(new_session(store, monkeypatch))
    at.toggle(key="pilot.gate_cov.th").set_value(True).run()
    codes = shortlist_codes(at)
    assert codes and all(c.startswith("4601") for c in codes)


def test_bad_area_manager_csv_names_row_and_column(store, db):
    bad = "manager,code\nมรภ.กาฬสินธุ์,4601\n,999999\n".encode("utf-8")
    with pytest.raises(areamanagers.AreaManagerError) as err:
        areamanagers.import_csv(db, bad, valid_codes=set(store.areas["code"]), file_name="am.csv")
    assert err.value.row == 3 and err.value.file == "am.csv" and "am.csv" in err.value.th
    assert areamanagers.list_coverage(db).empty  # nothing imported


def test_scenario_link_reopens_it_and_bad_link_is_named(store, monkeypatch, db):
    at = kalasin(new_session(store, monkeypatch))
    at.number_input(key="pilot.top_n.th").set_value(7).run()
    at.text_input(key="pilot.save_name").input("ลิงก์")
    next(b for b in at.button if b.label == "บันทึก").click().run()
    sid = scenarios.list_scenarios(db)[0].id
    assert at.query_params["scenario"] in (str(sid), [str(sid)])

    monkeypatch.setenv("POVMAP_STORE", str(store.path))
    link = AppTest.from_file(str(APP), default_timeout=180)
    link.switch_page(PAGE)
    link.query_params["scenario"] = str(sid)
    link.run()
    assert not link.exception, link.exception
    assert link.selectbox(key="pilot.province.th").value == "46" and len(shortlist_codes(link)) == 7

    bad = AppTest.from_file(str(APP), default_timeout=180)
    bad.switch_page(PAGE)
    bad.query_params["scenario"] = "99999<script>"
    bad.run()
    assert not bad.exception and any("scenario=" in w.value for w in bad.warning)


def test_area_manager_added_by_the_areas_name(store, monkeypatch, db):
    """Nobody has to know DOPA codes: find the subdistrict by its Thai name, add, and it is saved at once."""
    am = new_session(store, monkeypatch, "app_pages/areamanagers.py")
    am.text_input(key="am.find").input("กมลาไสย").run()
    found = am.selectbox(key="am.found")
    assert "อ.กมลาไสย · จ.กาฬสินธุ์" in found.options  # the district, told apart from its namesake subdistrict
    found.set_value("4603").run()
    am.text_input(key="am.new_manager").input("มรภ.กาฬสินธุ์").run()
    am.button(key="am.add").click().run()
    assert not am.exception, am.exception
    assert areamanagers.list_coverage(db)[["manager", "code"]].values.tolist() == [["มรภ.กาฬสินธุ์", "4603"]]
    assert any("เพิ่มแล้ว" in s.value for s in am.success)


def test_area_manager_name_is_shown_as_text(store, monkeypatch, db):
    am = new_session(store, monkeypatch, "app_pages/areamanagers.py")
    am.text_input(key="am.find").input("4603").run()
    am.text_input(key="am.new_manager").input("![x](http://example.invalid/x.png) **บ**").run()
    am.button(key="am.add").click().run()
    [msg] = [s.value for s in am.success]
    assert "![x]" not in msg and "**" not in msg  # every markdown mark escaped: no image fetch, no bold
