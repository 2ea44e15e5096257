"""Boundaries made ready for the web: codes checked against geothai, topology-preserving
simplification per level, rounded coordinates, pre-serialised GeoJSON geometry.

Two resolutions per level: ``detail`` (the source geometry, rounded) for drilled-in views and
``overview`` (coverage-simplified) for views of many units, so the nationwide subdistrict map
stays small without making a district's view coarse.
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from povmap.core.areas import abolished_successors, admin_areas

# Coverage-simplification tolerance in metres (EPSG:32647). The source is already simplified
# (about 1 km between vertices for subdistricts), so these only thin the nationwide views.
OVERVIEW_TOLERANCE_M = {"province": 1000.0, "district": 800.0, "subdistrict": 2000.0}
PRECISION_DEG = 1e-4  # about 11 m; finer than the source's own simplification
METRIC_CRS = 32647


def prepare(gdf: gpd.GeoDataFrame, level: str) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Recode, simplify and serialise one level. Returns (boundaries, report rows).

    Report rows have ``code, issue, detail``: abolished codes recoded to their successor, codes
    with no current successor dropped, current codes without a polygon.
    """
    current = admin_areas()
    current = set(current.loc[current["level"] == level, "code"])
    successors = abolished_successors()
    report = []
    gdf = gdf.copy()
    have = set(gdf["code"])
    for i, code in gdf["code"].items():
        if code in current:
            continue
        succ = [s for s in successors.get(code, ()) if s in current]
        if len(succ) == 1 and succ[0] not in have:
            gdf.at[i, "code"] = succ[0]
            report.append((succ[0], "recoded_successor", f"polygon {code} (abolished) drawn as {succ[0]}"))
        else:
            report.append((code, "dropped_polygon",
                           f"abolished; successors {', '.join(succ) or 'none'} cannot share one polygon"))
    gdf = gdf[gdf["code"].isin(current)]
    if gdf["code"].duplicated().any():
        gdf = gdf.dissolve(by="code", as_index=False)
    for code in sorted(current - set(gdf["code"])):
        report.append((code, "no_polygon", "no boundary polygon in the source"))

    geom = shapely.make_valid(gdf.geometry.values)
    geom = shapely.get_parts(geom, return_index=True)
    # make_valid can return collections with slivers; keep polygonal parts only.
    parts, idx = geom
    keep = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
    merged = gpd.GeoSeries(parts[keep], crs=gdf.crs).groupby(idx[keep]).agg(lambda s: shapely.union_all(s.values))
    gdf = gpd.GeoDataFrame({"code": gdf["code"].to_numpy()}, geometry=merged.values, crs=gdf.crs)
    gdf = gdf.sort_values("code").reset_index(drop=True)

    metric = gdf.to_crs(METRIC_CRS).geometry
    overview = gpd.GeoSeries(metric.simplify_coverage(OVERVIEW_TOLERANCE_M[level]), crs=METRIC_CRS).to_crs(4326)
    detail = shapely.set_precision(gdf.geometry.values, PRECISION_DEG)
    overview = shapely.set_precision(overview.values, PRECISION_DEG)
    bounds = shapely.bounds(detail)
    centroid = shapely.centroid(gdf.to_crs(METRIC_CRS).geometry.values)
    centroid = gpd.GeoSeries(centroid, crs=METRIC_CRS).to_crs(4326)
    label = label_points(detail)
    out = gpd.GeoDataFrame(
        {
            "code": gdf["code"].to_numpy(),
            "geojson_detail": shapely.to_geojson(detail),
            "geojson_overview": shapely.to_geojson(overview),
            "minx": bounds[:, 0], "miny": bounds[:, 1], "maxx": bounds[:, 2], "maxy": bounds[:, 3],
            "lon": centroid.x.to_numpy(), "lat": centroid.y.to_numpy(),
            "label_lon": shapely.get_x(label), "label_lat": shapely.get_y(label),
        },
        geometry=detail,
        crs=4326,
    )
    return out, pd.DataFrame(report, columns=["code", "issue", "detail"])


def label_points(geoms) -> np.ndarray:
    """Where an area's name goes on a map: the pole of inaccessibility of its largest part (shapely's polylabel),
    always inside the area, unlike a centroid of a crescent or a multi-part area; ~0.5 s for all subdistricts."""
    from shapely.ops import polylabel

    def one(geom):
        if geom.geom_type == "MultiPolygon":
            geom = max(geom.geoms, key=lambda part: part.area)
        return polylabel(geom, tolerance=0.002)

    return np.array([one(g) for g in geoms], dtype=object)
