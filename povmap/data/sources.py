"""Read and check the source folder (laid out like ``../shared/data``).

Every problem raises :class:`SourceError` naming the file (and column), in Thai and English.
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from povmap.core.errors import render
from povmap.core.vocab import DIMENSIONS, INDICATORS

TPMAP_LEVEL_FILES = {"country": "country", "province": "province", "district": "amphur", "subdistrict": "tambol"}
BOUNDARY_FILES = {
    "province": "hdx-cod-ab-tha/tha_adm1_rtsd_20220121_simplified.parquet",
    "district": "hdx-cod-ab-tha/tha_adm2_rtsd_20220121_simplified.parquet",
    "subdistrict": "hdx-cod-ab-tha/tha_adm3_rtsd_20220121_simplified.parquet",
}
POPULATION_FILE = "dopa-population-ahtambon/dopa_population_2017_2021_long.parquet"
HAI_FILE = "econvis/hai_province_2015_2021_with_code.csv"
VILLAGE_FILES = ("tpmap-2561/tpmap2561_village_poor_5dims.parquet", "tpmap-2561/bmn59_village_name.csv")
PROVENANCE_DIRS = ("hdx-cod-ab-tha", "tpmap-2561", "dopa-population-ahtambon", "econvis")

# TPMAP's column names -> ours (one name per concept inside povmap).
TPMAP_COUNTS = {
    "poor.JPT.MOFval.CNT": "people",
    "poor.household.CNT": "households",
    **{f"poor.JPT.MOFval.{d.tpmap_column}": f"dim_{d.key}" for d in DIMENSIONS},
    **{f"poor.JPT.MOFval.{i.key}.CNT": i.key for i in INDICATORS},
}
TPMAP_BASE = {"household.CNT": "surveyed_households", "HOUSEMEMBER_CNT": "surveyed_people"}


class SourceError(Exception):
    """A source file is missing or malformed: the file, a catalogue ``key`` (``error.source.<what>``) and its
    ``params``. ``str()`` is the English message. (Not a PovmapError: whoever installs the data reads it, and no
    page catches it as a user's mistake.)"""

    def __init__(self, path: Path | str, key: str, *, column: str | None = None, **params):
        self.path, self.column, self.key = str(path), column, key
        self.params = {"column": column, **params} if column else params
        super().__init__(self.message("en"))

    def message(self, lang: str) -> str:
        return f"{self.path}: {render(self.key, lang, self.params)}"


def _need(path: Path) -> Path:
    if not path.is_file():
        raise SourceError(path, "error.source.not_found")
    return path


def _read(path: Path, reader, **kw) -> pd.DataFrame:
    _need(path)
    try:
        return reader(path, **kw)
    except SourceError:
        raise
    except Exception as exc:  # any parser failure becomes a message naming the file
        raise SourceError(path, "error.source.unreadable", exc=f"{type(exc).__name__}: {exc}") from exc


def _columns(df: pd.DataFrame, path: Path, required) -> None:
    for col in required:
        if col not in df.columns:
            raise SourceError(path, "error.source.no_column", column=col)


def _codes(df: pd.DataFrame, path: Path, col: str, lengths: set[int]) -> None:
    bad = df[~df[col].str.fullmatch(r"\d+") | ~df[col].str.len().isin(lengths)]
    if len(bad):
        row = int(bad.index[0]) + 2  # +1 header, +1 one-based
        raise SourceError(path, "error.source.bad_code", column=col, row=row, value=bad[col].iloc[0])


def read_tpmap(src: Path, level: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(combos, base) of one TPMAP level, with our column names; codes are text."""
    stem = TPMAP_LEVEL_FILES[level]
    cpath = src / "tpmap-2561" / f"tpmap2561_{stem}_poor_all_combos.parquet"
    bpath = src / "tpmap-2561" / f"tpmap2561_{stem}_base.csv"
    combos = _read(cpath, pd.read_parquet)
    _columns(combos, cpath, ["combo", *TPMAP_COUNTS] + ([] if level == "country" else ["code"]))
    base = _read(bpath, pd.read_csv, dtype={"code": str, "province_code": str})
    _columns(base, bpath, list(TPMAP_BASE) + ([] if level == "country" else ["code"]))
    if level == "country":
        combos["code"], base["code"] = "TH", "TH"
    else:
        n = {"province": 2, "district": 4, "subdistrict": 6}[level]
        combos["code"] = combos["code"].astype(str)
        _codes(combos, cpath, "code", {n})
        _codes(base, bpath, "code", {n})
    combos = combos.rename(columns=TPMAP_COUNTS)[["code", "combo", *TPMAP_COUNTS.values()]]
    combos["combo"] = combos["combo"].astype(str)
    n_combos = combos.groupby("code")["combo"].nunique()
    if (n_combos != 31).any():
        bad = n_combos[n_combos != 31].index[0]
        raise SourceError(cpath, "error.source.combos", column="combo", code=bad)
    base = base.rename(columns=TPMAP_BASE)[["code", *TPMAP_BASE.values()]]
    return combos.reset_index(drop=True), base


def read_boundaries(src: Path, level: str) -> gpd.GeoDataFrame:
    path = src / BOUNDARY_FILES[level]
    gdf = _read(path, gpd.read_parquet)
    _columns(gdf, path, ["dopa_code", "geometry"])
    gdf = gdf[["dopa_code", "geometry"]].rename(columns={"dopa_code": "code"})
    gdf["code"] = gdf["code"].astype(str)
    _codes(gdf, path, "code", {{"province": 2, "district": 4, "subdistrict": 6}[level]})
    if gdf.crs is None or gdf.crs.to_epsg() != 4326:
        raise SourceError(path, "error.source.crs", crs=gdf.crs)
    return gdf


def read_population(src: Path) -> pd.DataFrame:
    """DOPA registered population: code ('' = country), year, population (area_type total)."""
    path = src / POPULATION_FILE
    df = _read(path, pd.read_parquet)
    _columns(df, path, ["year", "code", "area_type", "total"])
    df = df[(df["area_type"] == "total") & df["total"].notna()]
    out = df[["code", "year", "total"]].rename(columns={"total": "population"})
    out["code"] = out["code"].fillna("").astype(str)
    return out.astype({"year": "int16", "population": "int64"}).reset_index(drop=True)


def read_hai(src: Path) -> pd.DataFrame:
    """Human Achievement Index by province, long: province_code, year, hai."""
    path = src / HAI_FILE
    df = _read(path, pd.read_csv, dtype={"province_code": str}, encoding="utf-8-sig")
    years = [c for c in df.columns if c.isdigit()]
    _columns(df, path, ["province_code"])
    if not years:
        raise SourceError(path, "error.source.no_years")
    long = df.melt(id_vars="province_code", value_vars=years, var_name="year", value_name="hai")
    return long.astype({"year": "int16", "hai": "float64"})


def read_villages(src: Path) -> pd.DataFrame:
    """TPMAP village rows (all 5 dimensions) with names: code (10 digits), name_th, people, households."""
    vpath, npath = (src / p for p in VILLAGE_FILES)
    v = _read(vpath, pd.read_parquet)
    _columns(v, vpath, ["code", "poor.JPT.MOFval.CNT", "poor.household.CNT"])
    names = _read(npath, _read_village_names)
    # TPMAP village code = subdistrict (6) + village number (2) + a 2-digit suffix; names are keyed by the first 8.
    v = v.rename(columns={"poor.JPT.MOFval.CNT": "people", "poor.household.CNT": "households"})
    v = v[["code", "people", "households"]].astype({"code": str})
    v["name_th"] = v["code"].str[:8].map(names)
    return v


def _read_village_names(path: Path) -> dict[str, str]:
    """village_ID -> name. Names may hold unquoted commas, so split on the first comma only;
    lines without one (the file ends in a truncated line) are skipped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or not lines[0].startswith("village_ID,village_name"):
        raise SourceError(path, "error.source.village_header")
    return dict(line.split(",", 1) for line in lines[1:] if "," in line)


def provenance_text(src: Path, folder: str) -> str:
    return _need(src / folder / "PROVENANCE.md").read_text(encoding="utf-8")
