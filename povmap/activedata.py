"""The data in use: the installed store, with the active imported datasets in place of the built-ins.

The Data page chooses, per kind, which dataset the explorer, profiles and pilot areas read: the built-in
TPMAP 2561 counts and synthetic households, or a file the user imported (:mod:`povmap.uploads`).
:class:`DataView` looks like a :class:`~povmap.store.Store` to :class:`~povmap.metrics.Engine`;
boundaries, names and population always come from the store.

An imported counts file may hold one level only (say a province's subdistricts). Union counts of one
dimension combination add up across areas (a person lives in one area), so the levels above the finest
given one are summed from it; a level given in the file is used as given (the import checked that the
levels agree). Levels below the finest given one have no figures.
"""
from __future__ import annotations

import os

import numpy as np
import pandas as pd

from .store import Store
from .uploads import BUILTIN, KIND_COUNTS, KIND_HOUSEHOLDS, active_id, get_dataset, load_table
from .uploads.columns import BASE_KEYS, COUNT_KEYS
from .vocab import LEVEL_BY_KEY, LEVEL_KEYS

PRIVACY_K_ENV = "POVMAP_PRIVACY_K"
LEVELS = ("country", *LEVEL_KEYS)
COUNTRY_CODE = "TH"


def privacy_k(value: str | None = None) -> int:
    """The smallest number of households a shown figure may rest on: ``$POVMAP_PRIVACY_K``, default 5.

    A server setting, not a page control: whoever views the app must not be able to lower it."""
    raw = value if value is not None else os.environ.get(PRIVACY_K_ENV, "")
    try:
        k = int(str(raw).strip()) if str(raw).strip() else 5
    except ValueError:
        return 5
    return max(k, 2)  # k = 1 would hide nothing; 2 is the least that protects a single household


def active_ids(root=None) -> tuple[str, str]:
    """(counts dataset id, households dataset id) in use now."""
    return active_id(KIND_COUNTS, root=root), active_id(KIND_HOUSEHOLDS, root=root)


class DataView:
    """A store whose TPMAP tables and household file come from the chosen datasets."""

    def __init__(self, store: Store, counts_id: str = BUILTIN[KIND_COUNTS],
                 households_id: str = BUILTIN[KIND_HOUSEHOLDS], *, root=None, k: int | None = None):
        self.base, self.counts_id, self.households_id, self._root = store, counts_id, households_id, root
        self.k = privacy_k() if k is None else k
        self.counts_info = get_dataset(counts_id, root=root, store=store)
        self.households_info = get_dataset(households_id, root=root, store=store)
        self._tp: dict[str, pd.DataFrame] = {}
        self._tb: dict[str, pd.DataFrame] = {}
        self._hh: pd.DataFrame | None = None

    def __getattr__(self, name):  # everything else (boundaries, names, population …) is the store's
        return getattr(self.base, name)

    @property
    def version(self) -> str:
        return f"{self.base.version}|{self.counts_id}|{self.households_id}|k{self.k}"

    @property
    def builtin_counts(self) -> bool:
        return self.counts_id == BUILTIN[KIND_COUNTS]

    @property
    def households_synthetic(self) -> bool:
        return bool(self.households_info.synthetic)

    @property
    def households(self) -> pd.DataFrame:
        if self._hh is None:
            self._hh = load_table(self.households_id, "households", root=self._root, store=self.base)
        return self._hh

    def tpmap(self, level: str) -> pd.DataFrame:
        if self.builtin_counts:
            return self.base.tpmap(level)
        if level not in self._tp:
            t = self._level_table("tpmap", level, ["code", "combo"], COUNT_KEYS)
            # A column the file did not have is unknown (NaN), not zero: profiles and criteria show "no data".
            self._tp[level] = t.assign(**{k: np.nan for k in COUNT_KEYS if k not in t.columns})
        return self._tp[level]

    def tpmap_base(self, level: str) -> pd.DataFrame:
        if self.builtin_counts:
            return self.base.tpmap_base(level)
        if level not in self._tb:
            self._tb[level] = self._level_table("tpmap_base", level, ["code"], BASE_KEYS)
        return self._tb[level]

    def _level_table(self, prefix: str, level: str, keys: list[str], value_keys) -> pd.DataFrame:
        tables = set(self.counts_info.tables)
        given = [lv for lv in LEVEL_KEYS if f"{prefix}_{lv}" in tables]
        if level in given:
            return load_table(self.counts_id, f"{prefix}_{level}", root=self._root)
        finer = [lv for lv in given if LEVELS.index(lv) > LEVELS.index(level)]
        if not finer:  # nothing at or below this level: no figures (but the columns the engine reads)
            return pd.DataFrame({k: pd.Series(dtype="str") for k in keys}
                                | {k: pd.Series(dtype="int64") for k in value_keys})
        src = load_table(self.counts_id, f"{prefix}_{finer[0]}", root=self._root)
        width = LEVEL_BY_KEY[level].code_len if level != "country" else 0
        code = src["code"].str[:width] if width else pd.Series(COUNTRY_CODE, index=src.index)
        values = [c for c in src.columns if c not in keys]
        out = src.assign(code=code).groupby(keys, sort=True, as_index=False)[values].sum()
        return out.astype({"code": "str", **({"combo": "str"} if "combo" in keys else {})})
