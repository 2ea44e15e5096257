"""The map PNG export: exact size, not blank, the legend's colours drawn, Thai and English, print sizes; the title
names the place, area labels (inside the map, not overlapping, capped, no figure for a hidden area), no scale note
drawn, the unit on a percentage legend, the map taking most of the slide."""
from __future__ import annotations

import html
import io
import re
import shutil
from datetime import datetime, timezone

import numpy as np
import pytest
import shapely
from markupsafe import escape
from PIL import Image

from povmap.core.engine import Query, QueryError
from povmap.present.explorer import build_view
from povmap.present.mapimage import (
    A4_LANDSCAPE,
    LABEL_CAP,
    SLIDE,
    _anchors,
    _svg_path,
    export_legend,
    label_candidates,
    map_page,
    map_png,
    map_svg,
    map_title,
    nice_length,
    png_size,
    text_width_em,
    view_fills,
)

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None and shutil.which("chromium-browser") is None,
                                reason="no Chromium (apt-get install chromium)")
WHEN = datetime(2024, 11, 23, 4, 5, tzinfo=timezone.utc)


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def assert_map_drawn(engine, png: bytes, query: Query, lang: str, size: tuple[int, int]) -> None:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png_size(png) == size
    px = pixels(png)
    assert px.shape == (size[1], size[0], 3)
    packed = (px[..., 0].astype(np.int32) << 16) | (px[..., 1].astype(np.int32) << 8) | px[..., 2]
    colours, counts = np.unique(packed, return_counts=True)
    assert len(colours) > 200, "too few colours: blank or text-only image"
    assert counts.max() / counts.sum() < 0.97, "almost one colour: blank image"
    seen = dict(zip(colours.tolist(), counts.tolist()))
    view = build_view(engine, query, lang=lang)
    for row in view.legend:  # each legend swatch's colour (classes and no-data grey) is on the image
        r, g, b = row.color
        assert seen.get((r << 16) | (g << 8) | b, 0) > 300, f"legend colour {row.color} ({row.label}) missing"


@pytest.mark.parametrize("query, lang", [
    (Query(level="province"), "th"),
    (Query(level="subdistrict", scope="46"), "en"),
], ids=["provinces-th", "kalasin-subdistricts-en"])
def test_slide_png(engine, query, lang):
    png = map_png(engine, query, lang=lang, when=WHEN)
    assert_map_drawn(engine, png, query, lang, SLIDE)


def test_print_size_and_scale(engine):
    q = Query(level="district", scope="46", metric="rate")
    assert_map_drawn(engine, map_png(engine, q, lang="th", size=A4_LANDSCAPE), q, "th", A4_LANDSCAPE)
    portrait = map_png(engine, q, lang="en", size=(600, 800), scale=2)
    assert png_size(portrait) == (1200, 1600)


def visible(page: str) -> str:
    """The page without the SVG <title>s (tooltips for screen readers, not drawn)."""
    return re.sub(r"<title>.*?</title>", "", str(page), flags=re.S)


def test_page_holds_title_legend_scale_credits_and_date(engine):
    q = Query(level="district", parent="46")
    view = build_view(engine, q, lang="th")
    th = map_page(engine, view, lang="th", size=SLIDE, when=WHEN)
    for text in ("จำนวนคนจนเป้าหมาย", "กาฬสินธุ์", "คำอธิบายสี", *(html.escape(row.label) for row in view.legend),
                 "กม.", "TPMAP สำนักงานสภาพัฒนาการเศรษฐกิจ", "Royal Thai Survey Department", "23 พ.ย. 2567"):
        assert text in th
    en = map_page(engine, build_view(engine, q, lang="en"), lang="en", size=SLIDE, when=WHEN)
    for text in ("Target poor", "Kalasin", "Legend", " km<", "2024-11-23", "TPMAP, Office of the National Economic"):
        assert text in en
    assert "กาฬสินธุ์" not in en


def test_scale_note_is_not_drawn(engine):
    """The scale bar's caveat (true at the centre latitude) is for the module docstring, not for the room."""
    q = Query(level="district", scope="46", metric="rate")
    for lang, caveat in (("th", "ละติจูดกึ่งกลาง"), ("en", "centre latitude")):
        page = map_page(engine, build_view(engine, q, lang=lang), lang=lang, size=SLIDE, when=WHEN)
        assert caveat not in page


def test_title_says_where_and_what(engine):
    q = Query(level="district", scope="46", metric="rate")
    th = map_page(engine, build_view(engine, q, lang="th"), lang="th", size=SLIDE, when=WHEN)
    assert "<h1>กาฬสินธุ์ — อัตราคนจน (% ของผู้ถูกสำรวจ) รายอำเภอ</h1>" in th
    assert '<div class="sub">คนจนเป้าหมาย TPMAP 2561</div>' in th  # the dataset; place and level are in the title
    en = map_page(engine, build_view(engine, q, lang="en"), lang="en", size=SLIDE, when=WHEN)
    assert "<h1>Kalasin — Rate (% of surveyed people) by district</h1>" in en
    for query, lang, title in (
        (Query(level="subdistrict", metric="rate"), "en", "Thailand — Rate (% of surveyed people) by subdistrict"),
        (Query(level="district", scope="sra7"), "th", "7 จังหวัด SRA — จำนวนคนจนเป้าหมาย รายอำเภอ"),
        (Query(level="subdistrict", parent="4601"), "en", "Kalasin › Mueang Kalasin — Target poor (people) by subdistrict"),
        (Query(dataset="households", level="subdistrict", scope="46", metric="households"), "en",
         "Kalasin — Households by subdistrict"),
    ):
        assert map_title(engine, build_view(engine, query, lang=lang), lang) == title


LABEL = re.compile(r'<text class="area-label" data-code="(\d+)" data-box="([^"]+)"[^>]*>(.*?)</text>', re.S)


def labels_of(page: str) -> list[tuple[str, tuple[float, ...], str]]:
    """(code, box, inner markup) of each area label on a page or SVG, in drawing order."""
    return [(c, tuple(float(v) for v in box.split()), inner) for c, box, inner in LABEL.findall(str(page))]


def view_box(page: str) -> tuple[float, ...]:
    return tuple(float(v) for v in re.search(r'<svg class="povmap-map" viewBox="([^"]+)"', str(page)).group(1).split())


def assert_labels_fit(page: str) -> list:
    labels = labels_of(page)
    assert 0 < len(labels) <= LABEL_CAP
    x, y, w, h = view_box(page)
    for _, (x0, y0, x1, y1), _ in labels:  # inside the map
        assert x <= x0 < x1 <= x + w and y <= y0 < y1 <= y + h
    for i, (_, a, _) in enumerate(labels):  # no two overlap
        for _, b, _ in labels[i + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)
    return labels


@pytest.mark.parametrize("query, lang", [
    (Query(level="district", scope="46", metric="rate"), "th"),
    (Query(level="district", scope="46", metric="rate"), "en"),
    (Query(level="subdistrict", metric="rate"), "th"),
    (Query(level="district", scope="sra7"), "th"),
    (Query(level="subdistrict", scope="46", metric="rate"), "en"),
], ids=["kalasin-th", "kalasin-en", "nation-subdistricts", "sra7", "kalasin-subdistricts"])
def test_area_labels_are_placed_without_overlap(engine, query, lang):
    view = build_view(engine, query, lang=lang)
    page = map_page(engine, view, lang=lang, size=SLIDE, when=WHEN)
    labels = assert_labels_fit(page)
    names = dict(zip(view.result.table["code"], view.result.table["name_th" if lang == "th" else "name_en"]))
    for code, _, inner in labels:
        assert inner.startswith(str(escape(names[code])))
    top = view.ranking.iloc[0]  # the highest value is labelled first, with its figure
    assert labels[0][0] == top["code"]
    figure = f'{top["value"]:,.2f}%' if query.metric == "rate" else f'{top["value"]:,.0f}'
    assert labels[0][2].endswith(f">{figure}</tspan>")
    if query == Query(level="district", scope="46", metric="rate"):
        assert len(labels) == 18  # every district of Kalasin fits on a slide
    if query.level == "subdistrict" and query.scope == "all":
        assert len(labels) == LABEL_CAP  # capped, not 7,000 names
    a4 = map_page(engine, view, lang=lang, size=A4_LANDSCAPE, when=WHEN)
    assert_labels_fit(a4)


def test_hidden_areas_are_named_but_never_given_a_figure(engine):
    q = Query(dataset="households", level="subdistrict", scope="46", metric="households")
    view = build_view(engine, q, lang="en")
    table = view.result.table
    hidden = set(table.loc[table["hidden"], "code"])
    assert hidden
    candidates = label_candidates(engine, view, "en")
    assert {c.code for c in candidates if c.figure is None} >= hidden
    assert all(c.code in hidden for c in candidates[-len(hidden):])  # after every area with a figure
    page = map_page(engine, view, lang="en", size=SLIDE, when=WHEN)
    for code, _, inner in assert_labels_fit(page):
        assert code not in hidden or "area-figure" not in inner
    # with no cap, hidden areas get their name on the map, and still no figure
    drawn = map_svg(engine, "subdistrict", table["code"].tolist(), view_fills(view), lang="en", box_px=(1400, 850),
                    fill_box=True, labels=candidates, label_cap=10_000)
    on_map = {code: inner for code, _, inner in labels_of(drawn.svg)}
    assert hidden & set(on_map)
    for code in hidden & set(on_map):
        assert "area-figure" not in on_map[code] and "<tspan" not in on_map[code]
    assert all(lab.figure is None for lab in drawn.labels if lab.code in hidden)


def test_label_points_lie_inside_their_areas(engine):
    """Without the store's label points, the centroid where it is inside, else a point on the surface."""
    class NoLabelPoints:
        def __init__(self, eng):
            self.eng = eng

        def boundaries(self, level):
            return self.eng.boundaries(level).drop(columns=["label_lon", "label_lat"], errors="ignore")

    for eng in (engine, NoLabelPoints(engine)):
        b = engine.boundaries("district")
        points = _anchors(eng, "district", b.index.tolist())
        assert set(points) == set(b.index)
        geoms = shapely.from_geojson(b["geojson_detail"].to_numpy())
        xy = np.array([points[c] for c in b.index])
        assert shapely.contains_xy(geoms, xy[:, 0], xy[:, 1]).all()


def test_text_width_estimate_errs_large():
    assert text_width_em("") == 0
    assert text_width_em("ที่") == text_width_em("ท")  # marks above take no width
    assert 3.5 < text_width_em("Kalasin") < 5.5 and 3 < text_width_em("กาฬสินธุ์") < 5


def test_percentage_legend_shows_its_unit(engine):
    rate = build_view(engine, Query(level="district", scope="46", metric="rate"), lang="th")
    rows = export_legend(rate)
    k = len(rate.classes.upper)
    assert all(r.label.endswith(" %") for r in rows[:k]) and k == 5
    page = map_page(engine, rate, lang="th", size=SLIDE, when=WHEN)
    legend = re.findall(r'<span class="lg-label">([^<]*)</span>', str(page))
    assert len(legend) == k and all(label.endswith(" %") for label in legend)
    assert re.fullmatch(r"\d+\.\d\d – \d+\.\d\d %", legend[0])
    people = build_view(engine, Query(level="district", scope="46"), lang="th")
    assert not any("%" in r.label for r in export_legend(people))
    hh = build_view(engine, Query(dataset="households", level="subdistrict", scope="46", metric="households"),
                    lang="en")
    assert [r.label for r in export_legend(hh)] == [r.label for r in hh.legend]  # counts; the hidden row as is


def test_map_takes_most_of_the_slide(engine):
    """The map's frame (neighbouring provinces drawn in light grey) spans most of the slide's width."""
    q = Query(level="district", scope="46", metric="rate")
    px = pixels(map_png(engine, q, lang="th", when=WHEN))
    context = np.all(px[150:950] == (0xF1, 0xF1, 0xF1), axis=2).sum(axis=0) > 100  # not anti-aliased text
    cols = np.flatnonzero(context)
    assert (cols[-1] - cols[0]) / SLIDE[0] > 0.65  # a third of the width before
    top = build_view(engine, q, lang="th").classes.colors[-1]
    swatch = np.flatnonzero(np.all(px[100:500] == top, axis=2).sum(axis=0) > 10)
    assert (swatch > cols[-1] + 20).sum() > 20  # its legend swatch beside the map, on the right


def test_synthetic_household_map_is_labelled(engine):
    q = Query(dataset="households", level="district", scope="46", metric="households")
    page = map_page(engine, build_view(engine, q, lang="en"), lang="en", size=SLIDE)
    assert "SYNTHETIC" in page


def test_invalid_query_is_refused_before_rendering(engine):
    with pytest.raises(QueryError):
        map_png(engine, Query(level="district", scope="99"), lang="th")


def test_svg_paths_from_geojson():
    poly = '{"type":"Polygon","coordinates":[[[100.0,13.0],[101.0,13.0],[101.0,14.0],[100.0,13.0]],[[100.2,13.1],[100.4,13.1],[100.2,13.3],[100.2,13.1]]]}'
    assert _svg_path(poly) == "M100.0,13.0L101.0,13.0L101.0,14.0L100.0,13.0ZM100.2,13.1L100.4,13.1L100.2,13.3L100.2,13.1Z"
    multi = '{"type":"MultiPolygon","coordinates":[[[[1.0,2.0],[3.0,4.0],[1.0,2.0]]],[[[5.0,6.0],[7.0,8.0],[5.0,6.0]]]]}'
    assert _svg_path(multi) == "M1.0,2.0L3.0,4.0L1.0,2.0ZM5.0,6.0L7.0,8.0L5.0,6.0Z"
    spaced = '{"type": "Polygon", "coordinates": [[[1.0, 2.0], [3.0, 4.0], [1.0, 2.0]]]}'  # not the store's format
    assert _svg_path(spaced) == "M1.0,2.0L3.0,4.0L1.0,2.0Z"


@pytest.mark.parametrize("limit, expected", [(0.7, 0.5), (1, 1), (3.9, 2), (7, 5), (99, 50), (250, 200), (1234, 1000)])
def test_scale_bar_lengths_are_round(limit, expected):
    assert nice_length(limit) == pytest.approx(expected)
