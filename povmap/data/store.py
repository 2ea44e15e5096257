"""The installed data store: read-only access to what ``povmap data install`` built."""
from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from povmap.core.caches import LazyDict
from povmap.core.errors import render
from povmap.core.i18n import t

STORE_FORMAT = 1


class StoreError(Exception):
    """The store is missing, outdated or damaged; the message says how to rebuild it."""

    def __init__(self, path: Path | str, key: str, *, missing: bool = False, **params):
        # missing: no store at all (first run); otherwise a store is there but outdated or damaged.
        # Not a PovmapError: the pages catch it apart, to show the first-run screen.
        self.path, self.key, self.params, self.missing = str(path), key, params, missing
        super().__init__(self.message("en"))

    def message(self, lang: str) -> str:
        return t("error.store.at", lang, path=self.path, problem=render(self.key, lang, self.params))


class Store:
    """Tables of one store. Loading is lazy; each table is read once per Store object."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        mpath = self.path / "manifest.json"
        if not mpath.is_file():
            raise StoreError(self.path, "error.store.missing", missing=True)
        try:
            self.manifest = json.loads(mpath.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreError(mpath, "error.store.manifest_damaged", exc=exc) from exc
        if self.manifest.get("format") != STORE_FORMAT:
            raise StoreError(self.path, "error.store.old_format", found=self.manifest.get("format"),
                             expected=STORE_FORMAT)

    @property
    def version(self) -> str:
        """Changes with every build; use it as a cache key."""
        return _version(self.manifest)

    def _table(self, name: str, reader=pd.read_parquet) -> pd.DataFrame:
        f = self.path / name
        if not f.is_file():
            raise StoreError(f, "error.store.file_missing")
        try:
            return reader(f)
        except Exception as exc:  # a truncated or corrupted file
            raise StoreError(f, "error.store.file_damaged", exc=type(exc).__name__) from exc

    @cached_property
    def areas(self) -> pd.DataFrame:
        return self._table("areas.parquet")

    def boundaries(self, level: str) -> pd.DataFrame:
        """Web-ready boundaries of a level: code, pre-serialised GeoJSON, bounds, centroid (no shapes)."""
        return self._boundaries[level]

    @cached_property
    def _boundaries(self) -> dict[str, pd.DataFrame]:
        cols = ["code", "geojson_detail", "geojson_overview", "minx", "miny", "maxx", "maxy", "lon", "lat",
                "label_lon", "label_lat"]
        return LazyDict(lambda lv: self._table(f"boundaries_{lv}.parquet", lambda f: pd.read_parquet(f, columns=cols)))

    def boundary_codes(self, level: str) -> np.ndarray:
        """The codes that have a polygon at a level, read alone (the GeoJSON is most of a boundary file's bytes,
        and a server's first view needs only one level's)."""
        return self._codes[level]

    @cached_property
    def _codes(self) -> dict[str, np.ndarray]:
        return LazyDict(lambda lv: self._table(f"boundaries_{lv}.parquet", lambda f: pd.read_parquet(f, columns=["code"]))
                        ["code"].to_numpy(dtype=object))

    def shapes(self, level: str) -> gpd.GeoDataFrame:
        """The same boundaries as shapely geometries (for spatial analysis)."""
        return self._table(f"boundaries_{level}.parquet", gpd.read_parquet)

    @cached_property
    def boundary_notes(self) -> pd.DataFrame:
        return self._table("boundary_notes.parquet")

    def tpmap(self, level: str) -> pd.DataFrame:
        """TPMAP rows for a level ('country', 'province', 'district', 'subdistrict'): code, combo, counts."""
        return self._tpmap[level]

    @cached_property
    def _tpmap(self):
        return LazyDict(lambda lv: self._table(f"tpmap_{lv}.parquet"))

    def tpmap_base(self, level: str) -> pd.DataFrame:
        return self._tpmap_base[level]

    @cached_property
    def _tpmap_base(self):
        return LazyDict(lambda lv: self._table(f"tpmap_base_{lv}.parquet"))

    @cached_property
    def population(self) -> pd.DataFrame:
        return self._table("population.parquet")

    @cached_property
    def hai(self) -> pd.DataFrame:
        return self._table("hai.parquet")

    @cached_property
    def villages(self) -> pd.DataFrame:
        return self._table("tpmap_villages.parquet")

    def households_file(self, round2: bool = False) -> Path:
        """The built-in household rows (or the synthetic file's second round), to be read in parts."""
        return self.path / ("households_round2.parquet" if round2 else "households.parquet")

    @cached_property
    def households(self) -> pd.DataFrame:
        return self._table(self.households_file().name)

    @cached_property
    def household_areas(self) -> int:
        """The subdistricts the built-in household file covers, read from its code column alone (not its rows)."""
        codes = self._table(self.households_file().name, lambda f: pd.read_parquet(f, columns=["subdistrict_code"]))
        return int(codes["subdistrict_code"].nunique())

    @cached_property
    def households_round2(self) -> pd.DataFrame:
        """The synthetic file's second survey round (:mod:`povmap.core.synthetic_round`)."""
        return self._table(self.households_file(round2=True).name)

    @property
    def households_synthetic(self) -> bool:
        return bool(self.manifest.get("households", {}).get("synthetic", True))


def _version(manifest: dict) -> str:
    return f"{manifest.get('fingerprint')}@{manifest.get('built_at')}"


def installed_version(path: Path | str) -> str:
    """The version of the build at ``path`` (as :attr:`Store.version`), read from its manifest alone, so a reinstall
    is seen without opening the store; "missing" when there is none."""
    try:
        return _version(json.loads((Path(path) / "manifest.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, AttributeError):
        return "missing"
