"""Small static maps (PNG) for side-by-side criterion views.

A page can hold only about eight WebGL maps, and criterion maps need no interaction, so they are drawn on the
server with Pillow: the geometry is projected and simplified to pixels once per set of areas (:class:`Canvas`),
and each map is then just a fill pass. Pillow has no polygon-layer API of its own for GeoDataFrames, hence this
small module; no text is drawn into the image (Thai shaping stays in the browser).
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from PIL import Image, ImageDraw

SUPERSAMPLE = 3  # draw large, then downscale: cheap anti-aliasing
BACKGROUND = (255, 255, 255)
EDGE = (255, 255, 255)
NO_DATA = (200, 200, 200)
CONTEXT = (236, 236, 236)  # areas drawn for orientation only


@dataclass(frozen=True)
class Canvas:
    codes: tuple[str, ...]
    rings: tuple[tuple[np.ndarray, ...], ...]  # per code, its exterior rings in supersampled pixels
    context: tuple[np.ndarray, ...]  # rings of the areas around, drawn in CONTEXT grey
    width: int
    height: int


def canvas(shapes: gpd.GeoSeries, codes, *, width: int = 320, max_height: int = 420,
           context: gpd.GeoSeries | None = None) -> Canvas:
    """Project ``shapes`` (EPSG:4326, indexed by code) of ``codes`` to a pixel grid ``width`` wide."""
    codes = [c for c in codes if c in shapes.index]
    geoms = shapes.reindex(codes).to_numpy()
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    kx = np.cos(np.radians((miny + maxy) / 2))  # equirectangular, true scale at mid-latitude
    span_x, span_y = max((maxx - minx) * kx, 1e-9), max(maxy - miny, 1e-9)
    scale = min((width - 8) / span_x, (max_height - 8) / span_y)
    w, h = int(np.ceil(span_x * scale)) + 8, int(np.ceil(span_y * scale)) + 8
    s = scale * SUPERSAMPLE

    def to_px(g):
        g = shapely.transform(g, lambda xy: np.column_stack(((xy[:, 0] - minx) * kx * s + 4 * SUPERSAMPLE,
                                                             (maxy - xy[:, 1]) * s + 4 * SUPERSAMPLE)))
        return shapely.simplify(g, SUPERSAMPLE * 0.5)

    def rings_of(g) -> tuple[np.ndarray, ...]:
        if g is None or g.is_empty:
            return ()
        parts = shapely.get_parts(g)
        return tuple(np.round(shapely.get_coordinates(shapely.get_exterior_ring(p))).astype(np.int32)
                     for p in parts if not p.is_empty)

    px = to_px(geoms)
    ctx: tuple[np.ndarray, ...] = ()
    if context is not None:
        box = shapely.box(minx, miny, maxx, maxy)
        around = context[context.intersects(box)].to_numpy()
        ctx = tuple(r for g in to_px(around) for r in rings_of(g))
    return Canvas(tuple(codes), tuple(rings_of(g) for g in px), ctx, w, h)


def render(cv: Canvas, colours: pd.Series, *, outline: tuple[int, int, int] = EDGE) -> bytes:
    """PNG of the canvas with each code filled by ``colours[code]`` (an (r, g, b) tuple; missing = no data)."""
    ss = SUPERSAMPLE
    img = Image.new("RGB", (cv.width * ss, cv.height * ss), BACKGROUND)
    draw = ImageDraw.Draw(img)
    for ring in cv.context:
        draw.polygon(ring.ravel().tolist(), fill=CONTEXT, outline=(255, 255, 255))
    fills = colours.reindex(list(cv.codes))
    for rings, fill in zip(cv.rings, fills.tolist()):
        col = tuple(int(v) for v in fill) if isinstance(fill, (tuple, list)) else NO_DATA
        for ring in rings:
            draw.polygon(ring.ravel().tolist(), fill=col, outline=outline, width=1)
    img = img.resize((cv.width, cv.height), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()
