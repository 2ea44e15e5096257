"""The HTML of the exports and legends comes from jinja2 templates (povmap/present/templates): every text is
escaped (hostile area, scenario and dataset names print as text, never as markup), a variable a template is not
given fails loudly, and one legend template serves every legend."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pandas as pd
import pytest
from jinja2 import UndefinedError
from markupsafe import escape

import povmap.present
from povmap.core.engine import Query
from povmap.present.brief import _footer, _households, _map_query, brief_html
from povmap.present.explorer import LegendRow, build_view
from povmap.present.html import ENV, legend_html, render, view_legend
from povmap.present.mapimage import SLIDE, map_page
from povmap.present.profile import build_profile

HOSTILE = "<script>alert(\"x\")</script> & 'quoted' <b>"
TEMPLATES = Path(povmap.present.__file__).parent / "templates"


def assert_escaped(out: str, text: str = HOSTILE) -> None:
    assert text not in out, "raw text in the HTML"
    assert "<script>" not in out
    assert str(escape(text)) in out, "escaped text missing"


def hostile_rows() -> list[LegendRow]:
    return [LegendRow((255, 255, 178), HOSTILE, 3), LegendRow((189, 0, 38), "> 1 – 2", 1234)]


@pytest.mark.parametrize("style", ["export", "page", "small"])
def test_legend_escapes_labels_and_title(style):
    out = legend_html(hostile_rows(), lang="th", style=style, title=None if style == "small" else HOSTILE + "!")
    assert_escaped(out)
    assert "#ffffb2" in out and "#bd0026" in out and "1,234" in out
    assert out.count('class="lg-row"') == 2
    if style != "small":
        assert_escaped(out, HOSTILE + "!")
        assert "คำอธิบายสี" in out and "พื้นที่" in out
    assert "\n" not in out  # one line: a Streamlit markdown HTML block ends at a blank line; inline rows stay apart


def test_legend_style_is_checked():
    with pytest.raises(ValueError):
        legend_html(hostile_rows(), lang="en", style="fancy")


def test_every_legend_uses_the_one_template():
    """The page, the map PNG, the brief and the pilot small maps render legend.html.j2; no other template or
    module builds a legend's markup."""
    here = Path(povmap.present.__file__).parents[2]
    sources = [*here.joinpath("povmap").rglob("*.py"), *here.joinpath("app_pages").rglob("*.py")]
    builders = [p for p in sources if re.search(r"lg-row|class=.sw|background:rgb", p.read_text(encoding="utf-8"))]
    assert builders == []
    others = [p.name for p in TEMPLATES.glob("*.j2") if p.name != "legend.html.j2" and "lg-row" in p.read_text()
              and "{" + "{ legend }}" not in p.read_text()]
    assert others == []
    uses = {p.relative_to(here).as_posix() for p in sources
            if re.search(r"\b(view_legend|legend_html)\(", p.read_text(encoding="utf-8"))}
    assert {"povmap/present/mapimage.py", "povmap/present/brief.py", "app_pages/explorer.py",
            "app_pages/_pilot_parts.py"} <= uses


def test_map_page_escapes_title_and_legend(engine):
    view = build_view(engine, Query(level="district", parent="46"), lang="en")
    view = dataclasses.replace(view, title=HOSTILE, legend=hostile_rows())
    page = map_page(engine, view, lang="en", size=SLIDE)
    assert_escaped(page)
    assert "Sarabun, 'Noto Sans Thai'" in page  # the CSS font list is printed as is inside <style>
    assert "<svg" in page and 'class="legend"' in page


def test_brief_escapes_area_scenario_and_village_names(engine):
    p = build_profile(engine, "460102")
    p = dataclasses.replace(p, name_th=HOSTILE, name_en=HOSTILE + "en",
                            parents=[(c, HOSTILE + "p", HOSTILE + "p") for c, _, _ in p.parents],
                            villages=p.villages.assign(name_th=HOSTILE + "v"))
    query, highlight = _map_query(p)
    view = build_view(engine, query, lang="th")
    shortlist = pd.DataFrame({"code": ["460102"], "rank": [1], "score": [0.5], "shortlisted": [True]})
    page, _ = brief_html(engine, p, view, lang="th", highlight=highlight, shortlist=shortlist,
                         scenario=HOSTILE + "s")
    for text in (HOSTILE, HOSTILE + "en", HOSTILE + "p", HOSTILE + "v", HOSTILE + "s"):
        assert_escaped(page, text)
    assert "font-family: Sarabun, 'Noto Sans Thai'" in page
    footer = _footer(p, "th", None)
    assert_escaped(footer)
    assert 'class="pageNumber"' in footer and "font-family:Sarabun, &#39;Noto Sans Thai&#39;" in footer


def test_brief_escapes_child_area_names(engine):
    p = build_profile(engine, "46")
    p = dataclasses.replace(p, children=p.children.assign(name_th=HOSTILE))
    page, _ = brief_html(engine, p, build_view(engine, _map_query(p)[0], lang="th"), lang="th", highlight=None,
                         shortlist=None, scenario=None)
    assert_escaped(page)


def test_brief_household_section_is_markup(engine):
    html, fig = _households(build_profile(engine, "4603"), "th")
    assert html.startswith("<h2>") and 'id="fig-tiers"' in html and fig is not None


def test_brief_shows_hidden_members_as_fewer_than_k(engine):
    """Members are a protected count of their own: 5 to 8 people can be published as 1 to 4 while their households
    are shown, and then read "< 5", not "–"."""
    p = build_profile(engine, "4603")
    p = dataclasses.replace(p, households={**p.households, "members": None})
    html, _ = _households(p, "en")
    assert f"{p.households['households']:,} households · &lt; 5 members" in html


def test_presentation_header_escapes_dataset_and_place_names():
    out = render("present_header.html.j2", place=HOSTILE + "a", title=HOSTILE + "t", dataset=HOSTILE + "d",
                 level="อำเภอ")
    for text in (HOSTILE + "a", HOSTILE + "t", HOSTILE + "d"):
        assert_escaped(out, text)


def test_a_missing_variable_fails_loudly():
    for path in TEMPLATES.glob("*.j2"):
        if path.name == "brief_parts.html.j2":  # macros only
            continue
        with pytest.raises(UndefinedError):
            render(path.name)
    with pytest.raises(UndefinedError):  # one variable short
        render("legend.html.j2", style="export", rows=[], size="1em", heading="h", title="t")
    with pytest.raises(UndefinedError):  # a row without its count
        render("legend.html.j2", style="small", rows=[{"colour": "#fff", "label": "x"}], size="1em",
               heading=None, title=None, note=None)
    macro = ENV.get_template("brief_parts.html.j2").module.figures
    with pytest.raises(UndefinedError):
        macro([{"k": "key", "v": "1"}])


def test_templates_autoescape_and_ship_as_package_data():
    assert ENV.autoescape is True
    assert ENV.from_string("{{ x }}").render(x=HOSTILE) == str(escape(HOSTILE))
    pyproject = (Path(povmap.present.__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'"povmap\.present" = \["templates/\*\.html\.j2"\]', pyproject)
    assert sorted(p.name for p in TEMPLATES.iterdir()) == sorted(p.name for p in TEMPLATES.glob("*.html.j2"))
    assert "jinja2>=" in pyproject


def test_view_legend_heads_with_the_views_title(engine):
    view = build_view(engine, Query(level="province"), lang="en")
    out = view_legend(view, "en", style="page", size="1.15em")
    assert out.startswith('<div class="legend" data-testid="povmap-legend" style="font-size:1.15em">')
    assert f"<b>Legend</b> — {view.title}" in out
