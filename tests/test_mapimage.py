"""The map PNG export: exact size, not blank, the legend's colours drawn, Thai and English, print sizes."""
from __future__ import annotations

import html
import io
import shutil
from datetime import datetime, timezone

import numpy as np
import pytest
from markupsafe import escape
from PIL import Image

from povmap.core.engine import Query, QueryError
from povmap.core.i18n import CATALOGUE
from povmap.present.explorer import build_view
from povmap.present.mapimage import A4_LANDSCAPE, SLIDE, _svg_path, map_page, map_png, nice_length, png_size

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


def test_page_holds_title_legend_scale_credits_and_date(engine):
    q = Query(level="district", parent="46")
    view = build_view(engine, q, lang="th")
    th = map_page(engine, view, lang="th", size=SLIDE, when=WHEN)
    for text in ("จำนวนคนจนเป้าหมาย", "กาฬสินธุ์", "คำอธิบายสี", *(html.escape(row.label) for row in view.legend),
                 "กม.", escape(CATALOGUE["export.scale_note"][0]), "TPMAP สำนักงานสภาพัฒนาการเศรษฐกิจ",
                 "Royal Thai Survey Department", "23 พ.ย. 2567"):
        assert text in th
    en = map_page(engine, build_view(engine, q, lang="en"), lang="en", size=SLIDE, when=WHEN)
    for text in ("Target poor", "Kalasin", "Legend", " km<", escape(CATALOGUE["export.scale_note"][1]), "2024-11-23", "TPMAP, Office of the National Economic"):
        assert text in en
    assert "กาฬสินธุ์" not in en


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
