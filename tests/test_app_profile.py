"""Profile and compare pages in AppTest: by URL, search, drill to children, comparison."""
from __future__ import annotations

from pathlib import Path

import pytest
from apptest import open_page
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parent.parent / "app.py"


@pytest.fixture
def at(store, monkeypatch):
    monkeypatch.setenv("POVMAP_STORE", str(store.path))
    return AppTest.from_file(str(APP), default_timeout=120)


def test_profile_by_url(at):
    open_page(at, "app_pages/profile.py", area="4601")
    assert at.title[0].value == "อำเภอเมืองกาฬสินธุ์"
    assert at.metric[0].label == "คนจนเป้าหมาย"
    assert len(at.get("plotly_chart")) >= 2
    assert at.query_params["area"] == ["4601"] or at.query_params["area"] == "4601"


def test_profile_of_bangkok_says_no_data(at):
    open_page(at, "app_pages/profile.py", area="10")
    assert at.title[0].value == "กรุงเทพมหานคร"
    assert at.metric[0].value == "ไม่มีข้อมูล"
    assert any("ไม่อยู่ในการสำรวจ" in i.value for i in at.info)


def test_profile_abolished_code_opens_successor(at):
    open_page(at, "app_pages/profile.py", area="530306")
    assert at.query_params["area"] in ("530407", ["530407"])


def test_profile_hostile_link_is_ignored(at):
    open_page(at, "app_pages/profile.py", area="<script>alert(1)</script>")
    assert any("ละเว้น" in w.value for w in at.warning)
    assert not at.exception


def test_profile_search_ambiguous_name(at):
    open_page(at, "app_pages/profile.py")
    at.text_input(key="profile.search").input("ในเมือง").run()
    hits = [b for b in at.button if b.key and b.key.startswith("profile.hit.")]
    assert len(hits) > 1 and len({b.label for b in hits}) == len(hits)


def test_compare_two_areas(at):
    open_page(at, "app_pages/compare.py", areas="4601,4602")
    assert not at.exception
    df = at.dataframe[0].value
    assert list(df.iloc[:, 0]) == ["4601", "4602"]
    assert len(at.get("plotly_chart")) >= 2


def test_compare_shows_hidden_household_figures_as_such(at, engine):
    pt = engine.protected
    small = next(c for c in sorted(pt.cells["code"].unique()) if c.startswith("46") and 0 < pt.total(prefix=c) < 5)
    open_page(at, "app_pages/compare.py", areas=f"{small},4603")
    assert not at.exception
    df = at.dataframe[0].value.set_index(at.dataframe[0].value.columns[0])
    assert df.loc[small, "ครัวเรือน (PPAOS)"] == "< 5"
    assert df.loc[small, "สัดส่วนกลุ่มอยู่ลำบาก (%)"] == "–"  # a share of a hidden count is not shown
    total, tier1 = pt.total(prefix="4603"), pt.total(prefix="4603", tiers=[1])
    assert df.loc["4603", "ครัวเรือน (PPAOS)"] == f"{total:,}"  # the protected sum of the district's cells ...
    assert df.loc["4603", "สัดส่วนกลุ่มอยู่ลำบาก (%)"] == f"{100 * tier1 / total:.1f}"  # ... and its tier-1 share
    true = int(engine.households["subdistrict_code"].str.startswith("4603").sum())
    assert total >= 2 * engine.privacy_k and abs(total - true) <= pt.bound * int(pt.cells["code"].str.startswith("4603").sum())
    assert any("วิธีคีย์เซลล์" in c.value or "ปรับค่าแบบสุ่ม" in c.value for c in at.caption)


def test_clicking_a_unit_without_dopa_code_explains_itself(at, engine):
    from povmap.present.profile import build_profile

    kids = build_profile(engine, "4601").children
    row = int(kids.index[~kids["placed"]][0])  # a TPMAP unit such as 460151
    open_page(at, "app_pages/profile.py", area="4601")
    at.session_state["profile.kids.4601"] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert any("ไม่มีรหัสตำบล" in i.value for i in at.info)


def test_a_subdistrict_is_titled_as_one_and_its_villages_told_apart(at):
    """ตำบลกาฬสินธุ์ is not the province กาฬสินธุ์; villages of one name are told apart by หมู่ที่ (issue 15)."""
    open_page(at, "app_pages/profile.py", area="460101")
    assert at.title[0].value == "ตำบลกาฬสินธุ์"
    open_page(at, "app_pages/profile.py", area="461207")
    [villages] = [d.value for d in at.dataframe if "หมู่ที่" in d.value.columns]
    assert villages["หมู่ที่"].is_unique and villages["หมู่ที่"].between(1, 99).all()
    assert villages["ชื่อ"].isin(["โคกกลาง"]).sum() == 3  # the same name three times, three numbers
    assert not villages["ชื่อ"].isna().any() and (villages["ชื่อ"] == "").any()  # no name: empty, not None
    open_page(at, "app_pages/profile.py", area="1001", lang="en")
    assert at.title[0].value.endswith(" District")
    open_page(at, "app_pages/profile.py", area="1001", lang="th")
    assert at.title[0].value.startswith("เขต")
