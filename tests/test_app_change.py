"""The change between two rounds in the pages (AppTest): the explorer's change view, the profile's change section and
the pilot page's trend criterion, on the synthetic file's two rounds, in both languages."""
from __future__ import annotations

import pytest

from apptest import headline, open_page
from povmap.core import change as ch
from povmap.core.engine import Query
from povmap.core.i18n import t
from povmap.core.thai import fmt_number
from povmap.data.datasource import open_engine
from povmap.data.uploads import BUILTIN, ROUND2

HH = BUILTIN["households"]


@pytest.fixture(scope="module")
def rounds(store):
    return open_engine(store=store, use=[HH]), open_engine(store=store, use=[ROUND2])


def _texts(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [s.value for s in at.subheader])


@pytest.mark.parametrize("lang", ["th", "en"])
def test_the_explorer_shows_the_change_of_the_view_between_the_two_rounds(store, monkeypatch, rounds, lang):
    monkeypatch.setenv("POVMAP_STORE", str(store.path))
    at = open_page(lang=lang, dataset="households", vs=ROUND2, scope="46", level="district")
    texts = _texts(at)
    assert t("change.heading", lang) in texts
    a, b = rounds
    c = ch.compare(a, b, Query(dataset="households", level="district", scope="46", metric="households"))
    cards = headline(at)
    assert cards[0]["value"] == f"{'+' if c.b.scope_count > c.a.scope_count else '−'}" \
                                f"{fmt_number(abs(c.b.scope_count - c.a.scope_count))}"
    years = ("2566", "2567") if lang == "th" else ("2023", "2024")
    ranking = next(d.value for d in at.dataframe if years[0] in d.value.columns)
    assert list(ranking.columns[:3]) == [t("table.name", lang), *years]
    assert len(ranking) == len(c.table)
    shown = ranking.set_index(t("table.code", lang))
    for row in c.table.itertuples():  # the page shows compare()'s figures: A, B and B - A
        assert shown.loc[row.code, years[1]] == pytest.approx(row.value_b, nan_ok=True)
        assert shown.loc[row.code, t("change.tip", lang)] == pytest.approx(row.value_b - row.value_a, nan_ok=True)
    kalasin = a.names.loc["46", "name_th" if lang == "th" else "name_en"]
    assert t("change.transitions", lang, place=kalasin) in [s.value for s in at.subheader]
    assert at.query_params["vs"] == ROUND2  # the link keeps the change view


def test_a_link_to_a_round_that_does_not_exist_opens_the_one_round_view(store, monkeypatch):
    monkeypatch.setenv("POVMAP_STORE", str(store.path))
    at = open_page(lang="en", dataset="households", vs="households-20990101T000000-abcdef")
    assert t("change.heading", "en") not in _texts(at)
    assert "vs" not in at.query_params


def test_the_change_view_is_for_dimensions_not_one_indicator(store, monkeypatch):
    monkeypatch.setenv("POVMAP_STORE", str(store.path))
    at = open_page(lang="en", dataset="households", vs=ROUND2, scope="46")
    assert t("change.heading", "en") in _texts(at)
    # a counts view has no other round built in: nothing to compare with, and the picker says so by offering none
    at = open_page(lang="en")
    assert at.selectbox(key="explorer.vs.en").options == [t("ctl.vs_none", "en")]


@pytest.mark.parametrize("lang", ["th", "en"])
def test_a_profile_shows_its_change_and_where_its_households_went(store, monkeypatch, lang):
    monkeypatch.setenv("POVMAP_STORE", str(store.path))
    at = open_page(page="app_pages/profile.py", lang=lang, area="4601")
    heads = [s.value for s in at.subheader]
    assert any(h.startswith(t("profile.change", lang)) for h in heads)
    assert at.selectbox(key="profile.vs.households").value == ROUND2
    metrics = [m.label for m in at.metric]
    assert any(t("change.sum.continuously_poor", lang) == m for m in metrics)


def test_the_pilot_page_adds_the_trend_when_another_round_is_chosen(store, monkeypatch):
    monkeypatch.setenv("POVMAP_STORE", str(store.path))
    at = open_page(page="app_pages/pilot.py", lang="en")
    at.selectbox(key="pilot.dataset.en").set_value("households").run()
    at.selectbox(key="pilot.scope.en").set_value("one").run()
    at.selectbox(key="pilot.province.en").set_value("46").run()
    trend = "Rise in the poverty rate (points)"
    assert not any(trend in m.value for m in at.markdown)
    at.selectbox(key="pilot.vs.en").set_value(ROUND2).run()
    assert not at.exception, at.exception
    assert any(trend in m.value for m in at.markdown)
    assert at.checkbox(key="pilot.on.trend.en").value


def test_two_counts_files_compare_and_the_definitions_are_checked(store, monkeypatch, tmp_path):
    """An imported TPMAP-layout file of 2566 against the built-in TPMAP 2561: no rate in the file, so the change
    is of counts, and the page warns that the file does not say how its figures are defined."""
    from pathlib import Path

    from povmap.data import uploads as U

    monkeypatch.setenv("POVMAP_STORE", str(store.path))
    monkeypatch.setenv(U.USER_DATA_ENV, str(tmp_path / "ud"))
    fixture = Path(__file__).parent / "fixtures" / "uploads" / "good_counts_province_and_districts.csv"
    report = U.check(fixture.read_bytes(), fixture.name, kind="tpmap", year=2566)
    info = U.import_dataset(report, U.ALL_OR_NOTHING, name="Kalasin 2566", activate=False)
    at = open_page(lang="en", vs=info.id, scope="46", level="district")
    texts = _texts(at)
    assert t("change.heading", "en") in texts
    assert any(w.value == t("change.definition_unknown", "en") for w in at.warning)
    assert "rate" not in at.selectbox(key="explorer.metric.en").options
    a = open_engine(store=store)
    total_a = a.compute(Query(level="district", scope="46", metric="people")).scope_count
    total_b = int(report.tables["tpmap_province"].query("combo == '11111'")["people"].sum())
    assert headline(at)[0]["value"] == f"{'+' if total_b > total_a else '−'}{fmt_number(abs(total_b - total_a))}"
    # the same with a definition that differs from TPMAP 2561's: the warning names both
    other = U.import_dataset(U.check(fixture.read_bytes(), "second.csv", kind="tpmap", year=2567), U.ALL_OR_NOTHING,
                             name="Kalasin 2567", activate=False, definition="BMN 2567 × welfare register 2566")
    at = open_page(lang="en", vs=other.id, scope="46", level="district")
    assert any("BMN 2567 × welfare register 2566" in w.value for w in at.warning)
