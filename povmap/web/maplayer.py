"""Map layers: geometry files written once, and per-rerun arguments that only carry colours and values.

The browser's map (``app_pages/map_component``: deck.gl in a Streamlit component) fetches each
level's geometry once as a static file of typed arrays, already cut into triangles (a :class:`GeoChunk`,
``povmap.web.geometry``), and keeps it. A rerun then
sends only what changes: the codes in view, one palette index per area, the tooltip values and
the view. For the nationwide subdistrict map that is ~0.2 MB per filter change instead of the
~2.5 MB deck spec that ``st.pydeck_chart`` resent (geometry included), and the browser recolours
the areas it already tessellated instead of parsing and tessellating them again.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

# A view wider than this (degrees) uses the coverage-simplified geometry: at that zoom one
# pixel is over a kilometre, so the simplification cannot be seen.
OVERVIEW_SPAN_DEG = 3.0
MAP_HEIGHT_PX = 620
THAILAND_BOUNDS = (97.3, 5.6, 105.7, 20.5)  # an empty view (nothing to fit) shows the country


@dataclass(frozen=True)
class GeoChunk:
    """One static geometry file: the areas of ``level`` at ``resolution``, nationwide (``prefix``
    ``""``) or those whose code starts with the province code ``prefix``."""

    level: str
    resolution: str  # overview | detail
    prefix: str = ""

    @property
    def name(self) -> str:
        return f"{self.level}-{self.resolution}-{self.prefix or 'TH'}.bin"


@dataclass(frozen=True)
class MapSpec:
    """What the map component is given for one rerun (``args``) and the geometry files it reads."""

    args: dict
    chunks: tuple[GeoChunk, ...]
    n_features: int
    resolution: str  # overview | detail

    @property
    def nbytes(self) -> int:
        """Size of the per-rerun arguments as sent (JSON, UTF-8)."""
        return len(json.dumps(self.args, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))

    def features(self) -> list[dict]:
        return area_properties(self.args)


def area_properties(args: dict) -> list[dict]:
    """Per area, what the browser shows from the map's arguments: code ``c``, RGBA fill ``f`` and each
    tooltip value by its key (for tests and benches; ``map.js`` does the same)."""
    codes = args["codes"].split(",") if args["codes"] else []
    palette, fill = args["palette"], args["fill"]
    out = [{"c": c, "f": palette[i]} for c, i in zip(codes, fill)]
    for key, _, values in args["tips"]:
        for props, value in zip(out, values):
            props[key] = value
    return out


def fit_spans(bounds: tuple[float, float, float, float]) -> tuple[float, float]:
    """The extent to fit, as (longitude span, latitude span stretched as Web Mercator stretches it by 1/cos(lat));
    map.js fits the same spans to the frame's real width (a projector or phone frame is narrower than assumed)."""
    minx, miny, maxx, maxy = bounds
    lat_c = (miny + maxy) / 2
    return (round(max(maxx - minx, 0.01), 5),
            round(max(maxy - miny, 0.01) / max(math.cos(math.radians(lat_c)), 0.2), 5))


def view_state(bounds: tuple[float, float, float, float], width_px: int = 700, height_px: int = MAP_HEIGHT_PX) -> dict:
    """Centre and zoom that fit ``(minx, miny, maxx, maxy)`` in a map of the given size.

    deck.gl's zoom 0 shows the world in 512 px (not 256 as for raster tiles)."""
    minx, miny, maxx, maxy = bounds
    lon_span, lat_span = fit_spans(bounds)
    lat_c = (miny + maxy) / 2
    zoom = min(math.log2(360 * width_px / (512 * lon_span)), math.log2(360 * height_px / (512 * lat_span)))
    return {"longitude": round((minx + maxx) / 2, 4), "latitude": round(lat_c, 4),
            "zoom": round(max(min(zoom - 0.15, 13), 4.0), 2), "minZoom": 4, "maxZoom": 14}


def chunks_for(level: str, resolution: str, codes) -> tuple[GeoChunk, ...]:
    """The geometry files holding ``codes``: one nationwide overview file, or one detail file per province
    (a drilled-down view then reads only its own province)."""
    if resolution == "overview":
        return (GeoChunk(level, resolution),)
    return tuple(GeoChunk(level, resolution, p) for p in sorted({str(c)[:2] for c in codes}))


def _palette_index(fills) -> tuple[list[list[int]], list[int]]:
    """Colours as a small palette and one index per area (a rerun sends ~2 bytes per area, not ~16)."""
    keys = [f if isinstance(f, str) else json.dumps([int(x) for x in f], separators=(",", ":")) for f in fills]
    index, uniques = pd.factorize(pd.Series(keys, dtype=object))
    return [json.loads(u) for u in uniques.tolist()], index.tolist()


def build_map(
    boundaries: pd.DataFrame,
    codes,
    *,
    level: str,
    fills: list,
    tooltip_lines: dict[str, tuple[str, list[str]]],
    selected: str | None = None,
    context_codes=None,
    bounds: tuple[float, float, float, float] | None = None,
    size_px: tuple[int, int] = (700, MAP_HEIGHT_PX),
    panels: list | None = None,
    labels: list | None = None,
    label_px: int = 13,
) -> MapSpec:
    """The map of the areas ``codes`` of ``level`` (in the order of ``fills``); ``boundaries`` is that level's table.

    ``fills``: per area, its colour as RGBA (a list or a JSON array literal, see ``Classes.fill_json``).
    ``tooltip_lines``: key -> (template, values): a tooltip line such as ``"Rate: {v}"`` and the
    per-area values of ``{key}``. Constant text stays in the template, not in every area.
    ``context_codes``: provinces drawn in grey under the areas (None: none).
    ``panels``: (boxes, titles): each box (see :func:`panel_bounds`) drawn in a panel of its own under its title,
    instead of one view of ``bounds``.
    ``labels``: area names to write on the map, most important first, as (name, lon, lat); the browser places
    as many as fit without overlapping (HTML text over the map, so Thai marks are shaped by the browser, which
    deck.gl's own text layer, a glyph atlas, does not do).
    """
    codes = np.asarray(codes, dtype=object)
    if bounds is None:
        bounds = bounds_of(boundaries, codes) if len(codes) else THAILAND_BOUNDS
    boxes, titles = panels if panels else ([bounds], [])  # each panel is zoomed to its own box
    span = max(max(b[2] - b[0], b[3] - b[1]) for b in boxes)
    resolution = "overview" if span > OVERVIEW_SPAN_DEG else "detail"
    chunks = chunks_for(level, resolution, codes)
    palette, fill = _palette_index(fills)
    args: dict = {
        "geo": [c.name for c in chunks],
        "codes": ",".join(str(c) for c in codes),
        "palette": palette,
        "fill": fill,
        "tips": [[key, template, list(values)] for key, (template, values) in tooltip_lines.items()],
        "selected": selected if selected is not None and selected in boundaries.index else None,
        "view": view_state(bounds, *size_px),
        "fit": list(fit_spans(bounds)),
        "lineWidth": 0.4 if resolution == "overview" else 0.8,
        "context": None,
        "panels": [[round(v, 4) for v in b] for b in boxes] if len(boxes) > 1 else None,
        "panelTitles": list(titles) if len(boxes) > 1 else None,
        "labels": [[str(n), round(float(x), 5), round(float(y), 5)] for n, x, y in labels] if labels else None,
        "labelPx": label_px,
    }
    if context_codes is not None and len(context_codes):
        # several provinces are a backdrop: the nationwide overview file, already cached for the province map
        ctx = chunks_for("province", resolution if len(context_codes) == 1 else "overview", context_codes)
        chunks += tuple(c for c in ctx if c not in chunks)
        args["context"] = {"geo": [c.name for c in ctx], "codes": ",".join(str(c) for c in context_codes)}
    return MapSpec(args, chunks, len(codes), resolution)



def fit_to_screen(spec: MapSpec) -> MapSpec:
    """The same map, its height cut to what the browser window has left below the map's top (presentation mode:
    a 780 px map on a 768 px projector would be cut); never taller than asked."""
    return replace(spec, args={**spec.args, "fitScreen": True})


def selected_code(value) -> str | None:
    """The area code the user clicked, from the map component's value ``{"code": …, "at": …}``."""
    if not isinstance(value, dict):
        return None
    code = value.get("code")
    return str(code) if isinstance(code, (str, int)) and str(code).isdigit() else None


PANEL_GAP_DEG = 1.0  # provinces closer than this (between their boxes) share a panel
MAX_PANELS = 4
COMPACT_SHARE = 0.35  # groups covering more of their joint box than this are drawn in one view


def _gap(a, b) -> float:
    """Distance in degrees between two boxes (0 when they overlap)."""
    dx = max(a[0] - b[2], b[0] - a[2], 0.0)
    dy = max(a[1] - b[3], b[1] - a[3], 0.0)
    return math.hypot(dx, dy)


def _union(a, b):
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _area(b) -> float:
    return max(b[2] - b[0], 0.01) * max(b[3] - b[1], 0.01)


def panel_bounds(boxes) -> list[tuple[float, float, float, float]]:
    """Scattered areas (the 7 SRA provinces: one in the north, three in the north-east, three in the south) drawn
    in one view are specks; this groups their boxes into at most MAX_PANELS clusters of near boxes, north first,
    so each cluster gets a panel of its own. [] when one view is better: a single cluster, or clusters that
    already fill most of their joint box.

    Written by hand: a few boxes merged by distance, where a clustering library would add nothing."""
    clusters = [tuple(float(v) for v in b) for b in boxes]
    if len(clusters) < 2:
        return []
    while len(clusters) > 1:
        pairs = [(_gap(clusters[i], clusters[j]), i, j) for i in range(len(clusters)) for j in range(i + 1, len(clusters))]
        gap, i, j = min(pairs)
        if gap >= PANEL_GAP_DEG and len(clusters) <= MAX_PANELS:
            break
        merged = _union(clusters[i], clusters[j])
        clusters = [c for k, c in enumerate(clusters) if k not in (i, j)] + [merged]
    if len(clusters) < 2:
        return []
    joint = clusters[0]
    for c in clusters[1:]:
        joint = _union(joint, c)
    if sum(_area(c) for c in clusters) / _area(joint) > COMPACT_SHARE:
        return []
    return sorted(clusters, key=lambda c: -c[3])


def bounds_of(boundaries: pd.DataFrame, codes) -> tuple[float, float, float, float]:
    b = boundaries.loc[list(codes)]
    return (float(b["minx"].min()), float(b["miny"].min()), float(b["maxx"].max()), float(b["maxy"].max()))
