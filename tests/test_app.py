"""The explorer in Streamlit's AppTest: filters, drill-down through state, first run, no tracebacks."""
from __future__ import annotations

import ast
import itertools
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_pages._ui import NO_VALUE
from apptest import headline, reconciled
from povmap.core.engine import Query
from povmap.core.vocab import DIMENSION_KEYS, INDICATOR_KEYS
from povmap.web.maplayer import area_properties

TIMEOUT = 120
APP = Path(__file__).resolve().parent.parent / "app.py"


@pytest.fixture
def at(store, monkeypatch):
    monkeypatch.setenv("POVMAP_STORE", str(store.path))
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    app.run()
    assert not app.exception, app.exception
    return app


def map_args(app) -> dict:
    """The arguments the map component gets this rerun (see ``povmap.web.maplayer``)."""
    return json.loads(app.get("component_instance")[0].proto.json_args)["map"]


def features(app) -> list[dict]:
    return [{"properties": p} for p in area_properties(map_args(app))]


_clicks = itertools.count(1)


def pick(app, key: str, code: str):
    """What the map component sends when a user clicks an area (``map.js``: ``setComponentValue``, stamped)."""
    app.session_state[key] = {"code": code, "at": next(_clicks)}
    return app.run()


def test_opens_on_the_national_province_map_in_thai(at):
    assert at.title[0].value == "แผนที่ความยากจนประเทศไทย"
    assert len(features(at)) == 77
    head = headline(at)
    assert [h["label"] for h in head] == ["คนจนในมุมมองนี้ (คน)", "สูงสุด: อัตราคนจน (% ของผู้ถูกสำรวจ)", "มากที่สุด (คน)"]
    assert [h["value"] for h in head] == ["1,032,987", "แม่ฮ่องสอน", "เชียงใหม่"]  # rate first: not the largest
    assert head[0]["note"] == "76 พื้นที่ที่มีข้อมูล (จังหวัด)"  # Bangkok: no data
    assert reconciled(at) == {"placed": "1,032,987", "unplaced": "0", "total": "1,032,987"}
    assert any("ไม่มีข้อมูล" in md.value for md in at.markdown)  # legend has a no-data entry


def test_language_switch_to_english(at):
    at.session_state["lang"] = "en"
    at.run()
    assert at.title[0].value == "Thailand poverty map"
    assert "Target poor (people)" in at.selectbox(key="explorer.metric.en").options


def test_level_and_metric_change_the_map(at):
    at.selectbox(key="explorer.level.th").set_value("district").run()
    assert len(features(at)) == 928
    at.selectbox(key="explorer.metric.th").set_value("rate").run()
    props = {f["properties"]["c"]: f["properties"] for f in features(at)}
    assert props["4601"]["v"].endswith("%")


def test_dimensions_filter_is_the_union(at, engine):
    for dims in (["health"], ["health", "income"]):
        at.session_state["explorer.dims.th"] = dims
        at.run()
        expected = engine.compute(Query(dimensions=tuple(dims))).placed_count
        assert reconciled(at)["placed"] == f"{expected:,}"
    at.session_state["explorer.dims.th"] = []
    at.run()
    assert at.warning and not at.exception


def test_drill_down_province_then_district_by_map_click(at):
    pick(at, "explorer.map", "46")
    assert at.session_state["explorer.parent"] == "46"
    assert at.selectbox(key="explorer.level.th").value == "district"
    assert {f["properties"]["c"][:2] for f in features(at)} == {"46"}
    assert any(b.label == "› กาฬสินธุ์" for b in at.button)
    pick(at, "explorer.map", "4601")
    assert at.selectbox(key="explorer.level.th").value == "subdistrict"
    assert {f["properties"]["c"][:4] for f in features(at)} == {"4601"}
    # at the deepest level a click selects (and highlights) instead of drilling
    pick(at, "explorer.map", "460102")
    assert at.session_state["explorer.selected"] == "460102"
    assert map_args(at)["selected"] == "460102"
    # breadcrumb back to Thailand
    next(b for b in at.button if b.label == "ประเทศไทย").click().run()
    assert at.session_state["explorer.parent"] is None and len(features(at)) == 77


def test_the_map_keeps_its_frame_and_an_old_click_never_drills_again(at):
    """One map key for every view (the browser keeps the frame, deck.gl and its WebGL context); the component
    keeps its last value, so a click must count once: back on Thailand, the earlier click on Kalasin stays spent."""
    pick(at, "explorer.map", "46")
    assert at.session_state["explorer.parent"] == "46"
    next(b for b in at.button if b.label == "ประเทศไทย").click().run()
    assert at.session_state["explorer.parent"] is None and len(features(at)) == 77
    at.run()  # the component still holds {"code": "46", ...}
    assert at.session_state["explorer.parent"] is None
    pick(at, "explorer.map", "46")  # the same area clicked again is a new click
    assert at.session_state["explorer.parent"] == "46"


def test_at_the_deepest_level_a_row_then_a_map_click_selects_the_map_area_and_it_stays(at):
    """A ranking row stays selected from run to run; it must not take back the selection a later map click made."""
    at.selectbox(key="explorer.level.th").set_value("subdistrict").run()
    at.session_state["explorer.table.TH.subdistrict"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    first = at.session_state["explorer.selected"]
    assert first and len(first) == 6
    pick(at, "explorer.map", "460102")
    assert at.session_state["explorer.selected"] == "460102"
    at.run()
    assert at.session_state["explorer.selected"] == "460102"


def test_drill_down_by_ranking_table(at):
    at.session_state["explorer.table.TH.province"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert at.session_state["explorer.parent"] == "58"  # Mae Hong Son ranks first by the rate (the default)


def test_long_ranking_is_sent_a_page_at_a_time_and_a_row_on_a_later_page_selects_its_area(at):
    """The nationwide subdistrict ranking (7,423 rows) is sent 250 rows at a time (issue 16: 0.7 MB per change
    before); the pages cover every row once, and a click on page 2 picks the 251st area, not the first."""
    from app_pages._ui import RANKING_PAGE_ROWS
    at.selectbox(key="explorer.level.th").set_value("subdistrict").run()
    [ranking] = [d.value for d in at.dataframe if "อันดับ" in d.value.columns]
    assert len(ranking) == RANKING_PAGE_ROWS and list(ranking["อันดับ"]) == list(range(1, RANKING_PAGE_ROWS + 1))
    pager = at.selectbox(key="explorer.rpage.TH.subdistrict")
    assert pager.options[0].startswith("1–250 จาก ")
    total = int(pager.options[0].split("จาก ")[1].replace(",", ""))
    assert len(pager.options) == -(-total // RANKING_PAGE_ROWS)
    pager.set_value(RANKING_PAGE_ROWS).run()
    [ranking] = [d.value for d in at.dataframe if "อันดับ" in d.value.columns]
    assert ranking["อันดับ"].iloc[0] == RANKING_PAGE_ROWS + 1
    second = ranking["รหัส"].iloc[0]
    at.session_state[f"explorer.table.TH.subdistrict.{RANKING_PAGE_ROWS}"] = {"selection": {"rows": [0], "columns": [],
                                                                                            "cells": []}}
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["explorer.selected"] == second


def test_what_is_not_on_the_map_is_sent_when_its_box_is_opened(at):
    """The totals line is always there; the tables of unplaced rows and notes only once the box is opened (0.2 MB
    of every subdistrict rerun otherwise, issue 16)."""
    at.selectbox(key="explorer.level.th").set_value("subdistrict").run()
    assert reconciled(at)["unplaced"] != "0"
    assert not [d for d in at.dataframe if "เหตุผล" in d.value.columns]
    at.session_state["explorer.gaps"] = True  # what opening the box sends
    at.run()
    assert not at.exception, at.exception
    [unplaced] = [d.value for d in at.dataframe if "เหตุผล" in d.value.columns and "รหัส" in d.value.columns]
    assert len(unplaced) == 593


def test_scope_group_and_province(at):
    at.selectbox(key="explorer.scope.th").set_value("sra7").run()
    assert len(features(at)) == 7
    at.selectbox(key="explorer.scope.th").set_value("one").run()
    at.selectbox(key="explorer.province.th").set_value("94").run()
    at.selectbox(key="explorer.level.th").set_value("subdistrict").run()
    assert {f["properties"]["c"][:2] for f in features(at)} == {"94"}


def test_households_dataset_is_labelled_synthetic_and_filters_tiers(at, engine):
    """Household figures are sums of the protected base table (deprived in any dimension, the chosen tiers), each
    within the table's bound per base cell of the file's true count; a province of 1 to k-1 is hidden."""
    pt, k, df = engine.protected, engine.privacy_k, engine.households
    deprived = df[[f"deprived_{d}" for d in DIMENSION_KEYS]].eq(1).any(axis=1)

    def protected(tiers):
        cells = pt.cells[(pt.cells["deprived"] == 1) & pt.cells["tier"].isin(tiers)]
        true = int((deprived & df["tier"].isin(tiers)).sum())
        assert abs(int(cells["households"].sum()) - true) <= pt.bound * len(cells)
        return int(cells["households"].sum())

    at.selectbox(key="explorer.dataset.th").set_value("households").run()
    assert any("ข้อมูลสังเคราะห์" in w.value for w in at.warning)
    total = protected([1, 2, 3, 4])
    assert headline(at)[0]["value"] == reconciled(at)["total"] == f"{total:,}"  # the protected total, not the file's 235,704
    assert len(df) == 235_704 and abs(total - 235_704) < 0.01 * 235_704
    at.session_state["explorer.tiers.th"] = [1]
    at.run()
    assert not at.exception
    tier1 = pt.by_area("province", tiers=[1], deprived=1)["households"]
    assert reconciled(at)["total"] == f"{protected([1]):,}" == f"{int(tier1.sum()):,}"
    shown = tier1[(tier1 == 0) | (tier1 >= k)]  # the provinces shown on the map (every one has a polygon)
    assert reconciled(at)["placed"] == f"{int(shown.sum()):,}"


def test_indicator_view(at):
    at.session_state["explorer.view.th"] = "indicator"
    at.run()
    at.selectbox(key="explorer.indicator.th").select_index(INDICATOR_KEYS.index("ind20")).run()
    assert not at.exception
    assert "4.1" in " ".join(md.value for md in at.markdown)
    options = at.selectbox(key="explorer.metric.th").options
    assert "จำนวนคนจนเป้าหมาย" in options and "จำนวนครัวเรือน" not in options  # no household counts per indicator


def test_not_on_map_panel_reconciles(at):
    at.selectbox(key="explorer.level.th").set_value("subdistrict").run()
    text = " ".join(md.value for md in at.markdown)
    assert "960,777" in text and "72,210" in text and "1,032,987" in text


def test_first_run_page_without_store(tmp_path, monkeypatch):
    monkeypatch.setenv("POVMAP_STORE", str(tmp_path / "empty"))
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not app.exception
    assert app.title[0].value == "ยังไม่มีคลังข้อมูล"
    assert any("povmap data install" in c.value for c in app.code)


def test_language_switch_keeps_the_view(at):
    at.selectbox(key="explorer.metric.th").set_value("rate").run()
    at.session_state["lang"] = "en"
    at.run()
    assert at.selectbox(key="explorer.metric.en").value == "rate"
    at.selectbox(key="explorer.level.en").set_value("district").run()
    at.session_state["lang"] = "th"
    at.run()
    assert at.selectbox(key="explorer.level.th").value == "district"
    assert at.selectbox(key="explorer.metric.th").value == "rate"
    assert len(features(at)) == 928


def test_sources_page_shows_coverage_and_credits(at):
    at.switch_page("app_pages/sources.py").run()
    assert not at.exception
    assert at.title[0].value == "แหล่งข้อมูล"
    captions = " ".join(c.value for c in at.caption)
    assert "72,210" in captions and "CC BY 3.0 IGO" in captions and "NESDC" in captions


def test_drilled_bangkok_says_no_data(at):
    pick(at, "explorer.map", "10")
    assert headline(at)[0]["value"] == "ไม่มีข้อมูล" and len(headline(at)) == 1  # no area leads
    assert not at.exception
    # The districts' cells without a figure read "–", not Streamlit's own "None" (English, in a Thai page)
    ranking = at.dataframe[0].value  # rank, name, value, count, code, profile link
    assert ranking.iloc[:, [0, 2]].isna().all().all()  # no rank and no figure
    assert {d.proto.placeholder for d in at.dataframe} == {NO_VALUE}


def test_every_table_of_every_page_shows_a_missing_figure_the_same_way():
    calls = [(path.name, node) for path in sorted((APP.parent / "app_pages").glob("*.py"))
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
             and node.func.attr in ("dataframe", "data_editor")]
    assert len(calls) >= 20
    assert [(name, node.lineno) for name, node in calls
            if not any(k.arg == "placeholder" and getattr(k.value, "id", None) == "NO_VALUE" for k in node.keywords)] == []


def test_damaged_store_file_gives_a_message_not_a_traceback(tmp_path, store, monkeypatch):
    import shutil

    copy = tmp_path / "store"
    shutil.copytree(store.path, copy)
    (copy / "tpmap_district.parquet").unlink()
    monkeypatch.setenv("POVMAP_STORE", str(copy))
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    app.selectbox(key="explorer.level.th").set_value("district").run()
    assert not app.exception
    assert any("tpmap_district.parquet" in e.value and "povmap data install" in e.value for e in app.error)


def test_shared_link_restores_the_view(store, monkeypatch):
    monkeypatch.setenv("POVMAP_STORE", str(store.path))
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for k, v in {"lang": "en", "dataset": "households", "parent": "46", "level": "subdistrict",
                 "tiers": "1,2", "metric": "share"}.items():
        app.query_params[k] = v
    app.run()
    assert not app.exception
    assert app.title[0].value == "Thailand poverty map"
    assert app.selectbox(key="explorer.dataset.en").value == "households"
    assert app.selectbox(key="explorer.metric.en").value == "share"
    assert {f["properties"]["c"][:2] for f in features(app)} == {"46"} and len(features(app)) > 100
    assert app.query_params["parent"] in ("46", ["46"])  # the address bar keeps the view


def test_hostile_link_opens_nearest_view_and_says_what_was_ignored(store, monkeypatch):
    monkeypatch.setenv("POVMAP_STORE", str(store.path))
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for k, v in {"parent": "<script>alert(1)</script>", "k": "999", "level": "district", "x" * 50: "y" * 5000,
                 "dims": "health,wealth"}.items():
        app.query_params[k] = v
    app.run()
    assert not app.exception
    warning = " ".join(w.value for w in app.warning)
    assert "parent=<script>" in warning and "k=999" in warning and "dims=" in warning
    assert app.selectbox(key="explorer.level.th").value == "district"
    assert len(features(app)) == 928


def test_presentation_mode_shows_map_legend_and_sources_only(at):
    at.button(key="explorer.present.enter").click().run()
    assert not at.exception, at.exception
    assert at.query_params.get("present") in ("1", ["1"])
    assert len(at.get("component_instance")) == 1 and map_args(at)["height"] == 780
    assert not at.dataframe and not any("povmap-headline" in m.value for m in at.markdown)  # the projector view
    assert any("povmap-legend" in m.value for m in at.markdown)
    assert any("NESDC" in c.value for c in at.caption)
    at.button(key="explorer.present.exit").click().run()
    assert at.dataframe and "present" not in at.query_params


def test_presentation_link_opens_presentation_mode(store, monkeypatch):
    monkeypatch.setenv("POVMAP_STORE", str(store.path))
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.query_params["present"] = "1"
    app.query_params["scope"] = "46"
    app.query_params["level"] = "district"
    app.run()
    assert not app.exception and not app.dataframe
    assert "กาฬสินธุ์" in app.markdown[0].value or any("กาฬสินธุ์" in m.value for m in app.markdown)


def test_every_table_has_csv_and_xlsx(at):
    labels = [b.label for b in at.get("download_button")]
    assert labels.count("CSV") >= 1 and labels.count("XLSX") >= 1


@pytest.mark.parametrize("lang", ["th", "en"])
def test_glossary_explains_every_term_in_the_language(at, lang):
    from povmap.present.glossary import TERMS

    at.session_state["lang"] = lang
    at.switch_page("app_pages/glossary.py").run()
    assert not at.exception
    assert len(at.subheader) == len(TERMS) and all(s.value for s in at.subheader)
    text = " ".join(m.value for m in at.markdown)
    assert ("อันดับ 1 คือค่าสูงสุด" if lang == "th" else "Rank 1 is the highest value") in text
