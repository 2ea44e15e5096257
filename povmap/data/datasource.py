"""The one data source every face reads: pages, the command line, exports and benches.

:func:`open_data` is the factory. It takes the :class:`~povmap.core.config.Settings` (store, imported datasets,
privacy threshold) and the datasets to read: those in use (chosen on the Data page) unless ``use`` names
others. The :class:`StoreDataSource` it returns (a :class:`~povmap.core.source.DataSource`) is the store's geography (boundaries, names, population, HAI,
villages) with the chosen TPMAP-layout counts and household file in place of the built-ins.

An imported counts file may hold one level only (say a province's subdistricts). Union counts of one
dimension combination add up across areas (a person lives in one area), so the levels above the finest
given one are summed from it; a level given in the file is used as given (the import checked that the
levels agree). Levels below the finest given one have no figures.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from povmap.core import config
from povmap.core.vocab import LEVEL_BY_KEY, LEVEL_KEYS
from povmap.core.transitions import COLUMNS as TRANSITION_COLUMNS
from povmap.core.transitions import transition_sums
from povmap.data.householdcells import CELLS_FILE, dataset_sums, kept_sums, tier_rows
from povmap.data.secrets import record_key_secret
from povmap.data.store import LazyDict, Store, installed_version
from povmap.data.uploads import (BUILTIN, BUILTIN_IDS, KIND_COUNTS, KIND_HOUSEHOLDS, KINDS, active_id, get_dataset,
                                 load_table, table_path)
from povmap.data.uploads.columns import BASE_KEYS, COUNT_KEYS
from povmap.data.uploads.datasets import DatasetInfo

LEVELS = ("country", *LEVEL_KEYS)
COUNTRY_CODE = "TH"


@dataclass(frozen=True)
class DataChoice:
    """Which data a view reads, as plain values: cheap to resolve on every rerun, and a cache key."""

    store: str  # the store folder
    store_version: str  # changes with every build ("missing" when there is none)
    counts_id: str
    households_id: str
    k: int  # privacy threshold
    user_data: str  # the imported-datasets folder


def choose(settings: config.Settings | None = None, use: Iterable[str] = ()) -> DataChoice:
    """The datasets in use per kind, with each id in ``use`` replacing the one of its kind.

    Raises :class:`~povmap.data.uploads.DatasetError` for an id that names no dataset."""
    s = settings or config.load()
    ids = {kind: active_id(kind, root=s.user_data) for kind in KINDS}
    for dataset_id in use:
        ids[get_dataset(dataset_id, root=s.user_data).kind] = dataset_id
    return DataChoice(str(s.store), installed_version(s.store), ids[KIND_COUNTS], ids[KIND_HOUSEHOLDS], s.privacy_k,
                      str(s.user_data))


def open_data(choice: DataChoice | config.Settings | None = None, *, use: Iterable[str] = (),
              store: Store | None = None) -> "StoreDataSource":
    """The data source of a choice (default: the settings in force and the datasets in use).

    ``store``: an already open :class:`Store` of the same folder to share (the app keeps one per build)."""
    if not isinstance(choice, DataChoice):
        choice = choose(choice, use)
    return StoreDataSource(store if store is not None else Store(choice.store), choice)


def open_engine(choice: DataChoice | config.Settings | None = None, *, use: Iterable[str] = (),
                store: Store | None = None):
    """An :class:`~povmap.core.engine.Engine` on :func:`open_data`: what ``povmap`` commands and benches compute with."""
    from povmap.core.engine import Engine

    return Engine(open_data(choice, use=use, store=store))


class StoreDataSource:
    """The store's geography and the chosen counts and household datasets, behind one typed interface."""

    def __init__(self, store: Store, choice: DataChoice):
        self.store, self.choice, self.k = store, choice, choice.k
        root = choice.user_data
        self.counts_info: DatasetInfo = get_dataset(choice.counts_id, root=root, store=store)
        self.households_info: DatasetInfo = get_dataset(choice.households_id, root=root, store=store)
        # An imported file's tables per level, built once (the built-ins are the store's own tables).
        self._tp = LazyDict(self._imported_tpmap)
        self._tb = LazyDict(lambda level: self._level_table("tpmap_base", level, ["code"], BASE_KEYS))

    # --- geography and context: always the store's -------------------------------------------
    @property
    def path(self) -> Path:
        return self.store.path

    @property
    def manifest(self) -> dict:
        return self.store.manifest

    @property
    def areas(self) -> pd.DataFrame:
        return self.store.areas

    def boundaries(self, level: str) -> pd.DataFrame:
        return self.store.boundaries(level)

    def boundary_codes(self, level: str) -> np.ndarray:
        return self.store.boundary_codes(level)

    def shapes(self, level: str) -> gpd.GeoDataFrame:
        return self.store.shapes(level)

    @property
    def boundary_notes(self) -> pd.DataFrame:
        return self.store.boundary_notes

    @property
    def population(self) -> pd.DataFrame:
        return self.store.population

    @property
    def hai(self) -> pd.DataFrame:
        return self.store.hai

    @property
    def villages(self) -> pd.DataFrame:
        return self.store.villages

    # --- the chosen datasets ---------------------------------------------------------------------
    @property
    def version(self) -> str:
        """Changes with the store build, either dataset or the privacy threshold: a cache key."""
        return f"{self.store.version}|{self.choice.counts_id}|{self.choice.households_id}|k{self.k}"

    @property
    def builtin_counts(self) -> bool:
        return self.choice.counts_id == BUILTIN[KIND_COUNTS]

    @cached_property
    def record_key_secret(self) -> bytes:
        """The installation's secret behind the households' record keys (:mod:`povmap.data.secrets`)."""
        return record_key_secret(self.choice.user_data)

    @property
    def households_synthetic(self) -> bool:
        return bool(self.households_info.synthetic)

    @cached_property
    def households(self) -> pd.DataFrame:
        """Household rows: for aggregation on the server only, never shown or exported as rows."""
        return load_table(self.choice.households_id, "households", root=self.choice.user_data, store=self.store)

    @cached_property
    def household_cells(self) -> pd.DataFrame:
        """The household dataset's cell sums (:mod:`povmap.data.householdcells`): what every household figure is
        made of, without holding its rows. An import keeps them beside its rows; a built-in's are read from its
        rows once per server (a few hundred thousand households)."""
        rows = table_path(self.choice.households_id, "households", root=self.choice.user_data, store=self.store)
        keep = None if self.choice.households_id in BUILTIN_IDS else rows.with_name(CELLS_FILE)
        return dataset_sums(rows, self.record_key_secret, keep)

    def transition_sums(self, earlier: "StoreDataSource") -> pd.DataFrame:
        """The unperturbed transition sums from the ``earlier`` round's households to this one's
        (:func:`povmap.core.transitions.transition_sums`). Between two imported rounds they are kept beside this
        round's rows: a national pair costs about 17 s, once for all servers, not once per server."""
        ids = (earlier.choice.households_id, self.choice.households_id)
        keep = None
        if not set(ids) & set(BUILTIN_IDS):
            rows = table_path(ids[1], "households", root=self.choice.user_data, store=self.store)
            keep = rows.with_name(f"transitions-from-{ids[0]}.parquet")
        return kept_sums(lambda: transition_sums(earlier.household_tiers(), self.household_tiers(),
                                                 self.record_key_secret),
                         self.record_key_secret, keep, TRANSITION_COLUMNS)

    def household_tiers(self) -> pd.DataFrame:
        """Each household's id, subdistrict, tier and referral, read from its rows in batches and not kept: what a
        transition table between two rounds is built from (:func:`povmap.data.householdcells.tier_rows`)."""
        return tier_rows(table_path(self.choice.households_id, "households", root=self.choice.user_data,
                                    store=self.store))

    def tpmap(self, level: str) -> pd.DataFrame:
        """TPMAP-layout rows of a level: code, combo and the counts (NaN for a column the file lacks)."""
        return self.store.tpmap(level) if self.builtin_counts else self._tp[level]

    def tpmap_base(self, level: str) -> pd.DataFrame:
        """Surveyed households and people of a level (the rate's denominator)."""
        return self.store.tpmap_base(level) if self.builtin_counts else self._tb[level]

    def _imported_tpmap(self, level: str) -> pd.DataFrame:
        t = self._level_table("tpmap", level, ["code", "combo"], COUNT_KEYS)
        # A column the file did not have is unknown (NaN), not zero: profiles and criteria show "no data".
        return t.assign(**{k: np.nan for k in COUNT_KEYS if k not in t.columns})

    def _level_table(self, prefix: str, level: str, keys: list[str], value_keys) -> pd.DataFrame:
        tables = set(self.counts_info.tables)
        given = [lv for lv in LEVEL_KEYS if f"{prefix}_{lv}" in tables]
        root = self.choice.user_data
        if level in given:
            return load_table(self.choice.counts_id, f"{prefix}_{level}", root=root)
        finer = [lv for lv in given if LEVELS.index(lv) > LEVELS.index(level)]
        if not finer:  # nothing at or below this level: no figures (but the columns the engine reads)
            return pd.DataFrame({k: pd.Series(dtype="str") for k in keys}
                                | {k: pd.Series(dtype="int64") for k in value_keys})
        src = load_table(self.choice.counts_id, f"{prefix}_{finer[0]}", root=root)
        width = LEVEL_BY_KEY[level].code_len if level != "country" else 0
        code = src["code"].str[:width] if width else pd.Series(COUNTRY_CODE, index=src.index)
        values = [c for c in src.columns if c not in keys]
        out = src.assign(code=code).groupby(keys, sort=True, as_index=False)[values].sum()
        return out.astype({"code": "str", **({"combo": "str"} if "combo" in keys else {})})
