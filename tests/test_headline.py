"""The explorer's first figures: where poverty is worst, from the same results as the map; hidden areas never lead."""
from __future__ import annotations

from povmap.core.engine import Query
from povmap.core.thai import fmt_metric, fmt_number
from povmap.present.explorer import build_view, headline


def _top(engine, q: Query, name: str = "name_en"):
    t = engine.compute(q).table.dropna(subset=["value"])
    if "hidden" in t:
        t = t[~t["hidden"].astype(bool)]
    return t.sort_values(["value", "code"], ascending=[False, True]).iloc[0]


def test_rate_view_leads_with_the_highest_rate_then_the_most_poor(engine):
    q = Query(level="district", scope="sra7", metric="rate")
    head = headline(engine, build_view(engine, q, lang="en"), "en")
    res = engine.compute(q)
    assert head[0].value == fmt_number(res.scope_count)
    top = _top(engine, q)
    assert (head[1].value, head[1].note) == (top["name_en"], fmt_metric("rate", top["value"], "en"))
    most = _top(engine, Query(level="district", scope="sra7", metric="people"))
    assert head[2].value == most["name_en"] and head[2].note == f"{fmt_number(most['value'])} people"


def test_count_view_adds_the_highest_rate(engine):
    q = Query(level="province", metric="people")
    head = headline(engine, build_view(engine, q, lang="th"), "th")
    assert [h.value for h in head[1:]] == [_top(engine, q, "name_th")["name_th"],
                                           _top(engine, Query(level="province", metric="rate"))["name_th"]]


def test_a_hidden_household_area_never_leads(engine):
    q = Query(dataset="households", level="subdistrict", scope="46", metric="households", tiers=(1,))
    res = engine.compute(q)
    assert res.table["hidden"].any()  # the case this test is about
    head = headline(engine, build_view(engine, q, lang="en"), "en")
    top = _top(engine, q)
    assert head[1].value == top["name_en"] and head[1].note == fmt_metric("households", top["value"], "en")
    assert not any(h.value.startswith("<") for h in head[1:])
