"""The figures the explorer and ``povmap query`` show: one value per area, plus what cannot be placed.

Union semantics for dimensions come straight from TPMAP's 31 combinations, never from sums.
Every count the map shows plus the unplaced rows equals the source total of the scope.

An unplaced row's ``reason`` says why an area or a source row is not (fully) on the map; each reason's label and
explanation is the i18n catalogue's ``reason.<key>`` (not_surveyed, not_dopa_code, no_polygon, no_source_row,
outside_household_file, no_households_in_file, hidden_small, coarser_level_only).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from povmap.core import households as hh
from povmap.core.caches import Cache, Entries, LazyDict
from povmap.core.caches import entries as cache_entries
from povmap.core.cellkey import ProtectedTable, min_for_mean
from povmap.core.errors import PovmapError
from povmap.core.groups import group_provinces
from povmap.core.source import DataSource
from povmap.core.vocab import (
    DATASET_KEYS,
    DATASET_METRICS,
    DIMENSION_CHOICE,
    DIMENSION_KEYS,
    INDICATOR_BY_KEY,
    LEVEL_KEYS,
    SCOPE_GROUP_KEYS,
    TIER_NUMBERS,
    combo_of,
    level_of,
    levels_below,
    metrics_for,
)

POPULATION_YEAR = 2021
BANGKOK = "10"


# The dimension combinations the dataset's counts give (an imported file may lack some): read once per version.
_COMBOS = Cache("engine.combos", maxsize=1, why="one set per dataset: the combinations in its province rows")
_PROTECTED = Cache("engine.protected", maxsize=1, why="one protected base table per household dataset (~10k cells)")


class QueryError(PovmapError):
    """An invalid query: a key ``error.query.*`` and its parameters (see :class:`PovmapError`)."""


@dataclass(frozen=True)
class Query:
    dataset: str = "tpmap"
    level: str = "province"
    scope: str = "all"  # all | ppaos20 | sra7 | a 2-digit province code
    parent: str | None = None  # drill-down area (province or district code) inside the scope
    dimensions: tuple[str, ...] = DIMENSION_KEYS
    tiers: tuple[int, ...] = TIER_NUMBERS
    metric: str = "people"
    indicator: str | None = None  # TPMAP indicator view: people failing this indicator

    def normalised(self) -> "Query":
        """Validated copy with canonical ordering, so equal views have equal queries."""
        if self.dataset not in DATASET_KEYS:
            raise QueryError("error.query.unknown_dataset", dataset=self.dataset)
        if self.level not in LEVEL_KEYS:
            raise QueryError("error.query.unknown_level", level=self.level)
        if self.metric not in DATASET_METRICS[self.dataset]:
            ok = ", ".join(DATASET_METRICS[self.dataset])
            raise QueryError("error.query.metric_unavailable", metric=self.metric, dataset=self.dataset, ok=ok)
        dims = tuple(k for k in DIMENSION_KEYS if k in set(self.dimensions))
        if set(self.dimensions) - set(dims):
            bad = sorted(set(self.dimensions) - set(dims))
            raise QueryError("error.query.unknown_dimension" if len(bad) == 1 else "error.query.unknown_dimensions",
                             bad=", ".join(bad))
        if not dims:
            raise QueryError("error.query.no_dimension")
        if not DIMENSION_CHOICE[self.dataset]:
            dims = DIMENSION_KEYS
        tiers = tuple(sorted({int(t) for t in self.tiers}))
        if not tiers or not set(tiers) <= set(TIER_NUMBERS):
            raise QueryError("error.query.bad_tiers")
        if self.indicator is not None:
            if self.dataset != "tpmap":
                raise QueryError("error.query.indicator_not_tpmap")
            if self.indicator not in INDICATOR_BY_KEY:
                raise QueryError("error.query.unknown_indicator", indicator=self.indicator)
            if self.metric not in metrics_for(self.dataset, self.indicator):
                raise QueryError("error.query.indicator_households")
        scope = self.scope
        if scope not in SCOPE_GROUP_KEYS and not (len(scope) == 2 and scope.isdigit()):
            raise QueryError("error.query.unknown_scope", scope=scope)
        parent = self.parent or None
        if parent is not None:
            if len(parent) not in (2, 4) or not parent.isdigit():
                raise QueryError("error.query.bad_parent", parent=parent)
            if self.level not in levels_below(parent):
                raise QueryError("error.query.level_not_below", level=self.level, parent=parent)
        return replace(self, dimensions=dims, tiers=tiers, parent=parent)


@dataclass
class Result:
    """Figures of one view. ``table``: one row per mapped area (value NaN = no data).
    ``unplaced``: source rows the map cannot place. ``no_data``: mapped areas without figures."""

    query: Query
    table: pd.DataFrame  # code, name_th, name_en, value, count, denominator
    unplaced: pd.DataFrame  # code, name_th, name_en, reason, value, count
    no_data: pd.DataFrame  # code, reason
    scope_count: int | None  # the source's own total in the scope (and parent); None = the source has no data
    count_label: str  # what `count` counts: people | households | members
    synthetic: bool = False
    extras: dict = field(default_factory=dict)

    @property
    def placed_count(self) -> int:
        return int(self.table["count"].sum())

    @property
    def unplaced_count(self) -> int:
        return int(self.unplaced["count"].sum())

    @property
    def hidden_count(self) -> int | None:
        """Sum of the counts hidden for privacy (household views); None when that sum is itself too small to show."""
        return self.extras.get("hidden_count", 0)

    @property
    def has_data(self) -> bool:
        return self.scope_count is not None


class Engine:
    """Pre-indexed tables of one data source, built once per source; :meth:`compute` answers one query."""

    def __init__(self, data: DataSource):
        self.data = store = data
        areas = store.areas
        # Codes are kept as object arrays: pandas' Arrow-backed str dtype makes isin() build one
        # pyarrow scalar per value, ~30 ms per call on 7,436 codes, too slow for a rerun.
        self.names = _by_code(areas)[["name_th", "name_en"]]
        self.polygons = LazyDict(store.boundary_codes)  # per level, on first use: a first view needs one
        self.current = {lv: pd.Index(areas.loc[areas["level"] == lv, "code"].to_numpy(dtype=object)) for lv in LEVEL_KEYS}
        pop = store.population
        self.population = _by_code(pop[pop["year"] == POPULATION_YEAR])["population"]
        self._combo: dict[tuple[str, str], pd.DataFrame] = {}
        # TPMAP base tables (surveyed households and people) per level, indexed by code
        self.surveyed = {lv: _by_code(store.tpmap_base(lv)) for lv in ("country", *LEVEL_KEYS)}
        self._hh = None
        self._bnd: dict[str, pd.DataFrame] = {}

    def memo(self, cache: "Cache") -> "Entries":
        """This engine's entries of a feature's declared cache (see :mod:`povmap.core.caches`): a bounded LRU,
        keyed by the data version, that lives as long as this engine. Features read through ``cache.get``."""
        return cache_entries(self, cache)

    def boundaries(self, level: str) -> pd.DataFrame:
        """The store's boundary table of a level, indexed by code (built once)."""
        if level not in self._bnd:
            self._bnd[level] = _by_code(self.data.boundaries(level))
        return self._bnd[level]

    # --- TPMAP -------------------------------------------------------------------------
    def tpmap_rows(self, level: str, combo: str) -> pd.DataFrame:
        key = (level, combo)
        if key not in self._combo:
            t = self.data.tpmap(level)
            self._combo[key] = _by_code(t[t["combo"] == combo])
        return self._combo[key]

    @property
    def households(self) -> pd.DataFrame:
        if self._hh is None:
            df = self.data.households.copy()
            df["tier"] = hh.tier_of(hh.mean_score(df).to_numpy())
            self._hh = df
        return self._hh

    def household_provinces(self) -> set[str]:
        codes = self.data.household_cells.index.get_level_values("code")  # the rows stay on disk
        return set(pd.Index(codes, dtype=object).str[:2].unique())

    def scope_provinces(self, scope: str) -> list[str]:
        all_prov = sorted(self.current["province"].tolist())
        if scope == "all":
            return all_prov
        if scope in SCOPE_GROUP_KEYS:
            return list(group_provinces(scope))
        if scope not in self.current["province"]:
            raise QueryError("error.query.unknown_province", scope=scope)
        return [scope]

    def in_view(self, codes: pd.Index | np.ndarray, q: Query) -> np.ndarray:
        codes = pd.Index(codes, dtype=object)
        mask = _isin(codes.str[:2], self.scope_provinces(q.scope))
        if q.parent:
            mask &= codes.str.startswith(q.parent)
        return np.asarray(mask)

    def compute(self, query: Query) -> Result:
        q = query.normalised()
        if q.parent and q.parent[:2] not in self.scope_provinces(q.scope):
            raise QueryError("error.query.outside_scope", parent=q.parent)
        if q.dataset == "tpmap":
            return self._tpmap(q)
        return self._households(q)

    def _frame(self, q: Query) -> pd.DataFrame:
        """The mapped areas of the view (codes with a polygon), with names."""
        codes = self.polygons[q.level]
        codes = codes[self.in_view(codes, q)]
        return self.names.reindex(codes).rename_axis("code").reset_index()

    def _tpmap(self, q: Query) -> Result:
        combo = "11111" if q.indicator else combo_of(q.dimensions)
        count_col = q.indicator or ("households" if q.metric == "households" else "people")
        count_label = "households" if count_col == "households" else "people"
        self._check_columns(q, combo, count_col)
        rows = self.tpmap_rows(q.level, combo)
        rows = rows[self.in_view(rows.index, q)]
        counts = rows[count_col]
        frame = self._frame(q)
        placed = frame["code"].to_numpy()
        frame["count"] = counts.reindex(placed).to_numpy()

        # Source total of the scope, from the coarsest file that covers it (province rows).
        prov = self.tpmap_rows("province", combo)
        if q.parent:
            parent_level = level_of(q.parent)
            parent_rows = self.tpmap_rows(parent_level, combo)[count_col]
            scope_count = int(parent_rows[q.parent]) if q.parent in parent_rows.index else None
        else:
            scope_count = int(prov.loc[_isin(prov.index, self.scope_provinces(q.scope)), count_col].sum())
        share_base = int(prov.loc[_isin(prov.index, self.scope_provinces(q.scope)), count_col].sum())

        base = self.surveyed[q.level]["surveyed_people"]
        extra = counts[~_isin(counts.index, placed)]
        unplaced = pd.DataFrame({"code": extra.index.astype(str), "count": extra.to_numpy()})
        unplaced["reason"] = np.where(_isin(unplaced["code"], self.current[q.level]), "no_polygon", "not_dopa_code")
        if rows.empty and scope_count:  # an imported file with figures only above this level: say where they are
            coarse = (parent_rows.loc[[q.parent]] if q.parent else
                      prov.loc[_isin(prov.index, self.scope_provinces(q.scope)), count_col])
            unplaced = pd.DataFrame({"code": coarse.index.astype(str), "count": coarse.to_numpy(),
                                     "reason": "coarser_level_only"})
        unplaced = self.named(unplaced)

        def value(df: pd.DataFrame) -> pd.Series:
            c = df["count"].astype("float64")
            if q.metric in ("people", "households"):
                return c
            if q.metric == "rate":
                return 100.0 * c / base.reindex(df["code"]).to_numpy()
            if q.metric == "share":
                return 100.0 * c / share_base if share_base else c * np.nan
            return 1000.0 * c / self.population.reindex(df["code"]).to_numpy()  # per1000

        frame["value"] = value(frame).to_numpy()
        unplaced["value"] = value(unplaced).to_numpy()
        no_data = frame.loc[frame["count"].isna(), ["code"]].copy()
        no_data["reason"] = np.where(no_data["code"].str[:2] == BANGKOK, "not_surveyed", "no_source_row")
        no_data = pd.concat([no_data, self._without_polygon(q, unplaced["code"])])
        frame["count"] = frame["count"].fillna(0).astype("int64")
        return Result(q, frame, unplaced, no_data.reset_index(drop=True), scope_count, count_label,
                      extras={"combo": combo, "count_column": count_col})

    def metrics(self, dataset: str, level: str, indicator: str | None = None) -> list[str]:
        """The metrics a view of ``dataset`` at ``level`` can show with the data in use: an imported counts file
        without surveyed people gives no rate."""
        no_rate = dataset == "tpmap" and self.surveyed[level].empty and not self.data.tpmap("province").empty
        return [m for m in metrics_for(dataset, indicator) if not (no_rate and m == "rate")]

    def _check_columns(self, q: Query, combo: str, count_col: str) -> None:
        """An imported counts file may lack a column or a combination of dimensions: say which."""
        table = self.data.tpmap("province")
        if count_col not in table.columns or (len(table) and table[count_col].isna().all()):
            raise QueryError("error.query.no_column", column=count_col)
        combos = _COMBOS.get(self, "province", lambda: frozenset(table["combo"]))
        if combos and combo not in combos:
            have = ", ".join(sorted(combos))
            raise QueryError("error.query.no_combination", combo=combo, have=have)
        if q.metric not in self.metrics(q.dataset, q.level, q.indicator):
            raise QueryError("error.query.no_surveyed")

    def _households(self, q: Query) -> Result:
        """Households deprived in at least one dimension, in the chosen tiers: sums of the protected base table
        (:mod:`povmap.core.cellkey`), so every figure adds up across levels and tiers."""
        pt = self.protected
        agg = pt.by_area(q.level, tiers=q.tiers, deprived=1)
        agg = agg.join(pt.by_area(q.level)["households"].rename("households_all"), how="outer").fillna(0).astype("int64")
        agg = agg[self.in_view(agg.index, q)]
        count_col = "members" if q.metric == "members" else "households"
        frame = self._frame(q)
        covered = self.household_provinces()
        placed = frame["code"].to_numpy()
        in_file = _isin(frame["code"].str[:2], list(covered))
        for col in ("households", "members", "households_all"):
            frame[col] = agg[col].reindex(placed).fillna(0).to_numpy(dtype="float64")
        frame.loc[~in_file, ["households", "members", "households_all"]] = np.nan
        frame["count"] = frame[count_col]

        extra = agg[~_isin(agg.index, placed)]
        unplaced = pd.DataFrame({"code": extra.index.astype(str), "count": extra[count_col].to_numpy(),
                                 "households": extra["households"].to_numpy(),
                                 "households_all": extra["households_all"].to_numpy()})
        unplaced["reason"] = np.where(_isin(unplaced["code"], self.current[q.level]), "no_polygon", "not_dopa_code")
        unplaced = self.named(unplaced)
        k = self.privacy_k

        def value(d: pd.DataFrame) -> np.ndarray:
            c = d["count"].astype("float64")
            if q.metric == "share":
                whole = d["households_all"].astype("float64")
                with np.errstate(invalid="ignore", divide="ignore"):
                    return np.where(whole >= min_for_mean(k), 100.0 * c / whole, np.nan)
            return c.to_numpy()

        frame["value"] = value(frame)
        unplaced["value"] = value(unplaced)
        no_data = frame.loc[~in_file, ["code"]].copy()
        no_data["reason"] = "outside_household_file"
        if q.metric == "share":
            empty = frame.loc[in_file & (frame["households_all"] == 0).to_numpy(), ["code"]].assign(reason="no_households_in_file")
            no_data = pd.concat([no_data, empty])
        no_data = pd.concat([no_data, self._without_polygon(q, unplaced["code"])])
        covered_view = [p for p in self.scope_provinces(q.scope) if p in covered and (not q.parent or q.parent[:2] == p)]
        scope_count = int(agg[count_col].sum()) if covered_view else None
        privacy = self._hide(q, frame, unplaced, int(agg["households"].sum()), scope_count)
        return Result(q, frame, unplaced, no_data.reset_index(drop=True), scope_count, count_col,
                      synthetic=self.households_synthetic,
                      extras={"households_all": int(agg["households_all"].sum()), **privacy})

    @property
    def protected(self) -> ProtectedTable:
        """The household dataset's protected base table (built once per data version)."""
        return _PROTECTED.get(self, "table", lambda: ProtectedTable.from_sums(self.data.household_cells,
                                                                              self.privacy_k))

    @property
    def households_synthetic(self) -> bool:
        return self.data.households_synthetic

    @property
    def privacy_k(self) -> int:
        return self.data.k

    def _hide(self, q: Query, frame: pd.DataFrame, unplaced: pd.DataFrame, basis_total: int,
              total: int | None) -> dict:
        """Counts of 1 to k-1 (after perturbation) are shown as "< k": their value and count go (``hidden``
        is True), and a share or members figure of an area whose households are hidden goes with them."""
        k = self.privacy_k
        hidden_sum = 0
        n_hidden = 0
        for df in (frame, unplaced):
            h = ((df["households"] > 0) & (df["households"] < k) | (df["count"] > 0) & (df["count"] < k)).to_numpy()
            hidden_sum += int(df.loc[h, "count"].sum())
            n_hidden += int(h.sum())
            df["count"] = pd.array(df["count"].fillna(0).round(), dtype="Int64").copy()
            df.loc[h, "count"] = pd.NA
            df.loc[h, "value"] = np.nan
            df["hidden"] = h
            del df["households"]
        return {"k": k, "hidden_areas": n_hidden,
                # The hidden cells' sum is a figure too: shown only when it is at least k.
                "hidden_count": hidden_sum if hidden_sum >= k or not n_hidden else None,
                # the view's own total is a figure too: hidden like any other under k
                "total_hidden": 0 < basis_total < k or (total is not None and 0 < total < k)}

    def _without_polygon(self, q: Query, listed) -> pd.DataFrame:
        """Current codes in the view that have no polygon and no figures to list as unplaced."""
        codes = self.current[q.level].to_numpy(dtype=object)
        codes = codes[self.in_view(codes, q) & ~_isin(codes, self.polygons[q.level]) & ~_isin(codes, listed)]
        return pd.DataFrame({"code": codes, "reason": "no_polygon"})

    def named(self, df: pd.DataFrame) -> pd.DataFrame:
        names = self.names.reindex(df["code"])
        df["name_th"] = names["name_th"].to_numpy()
        df["name_en"] = names["name_en"].to_numpy()
        # Non-DOPA units have no name of their own: name them after their district.
        missing = df["name_th"].isna()
        if missing.any():
            dist = self.names.reindex(df.loc[missing, "code"].str[:4])
            df.loc[missing, "name_th"] = ("หน่วยในอำเภอ" + dist["name_th"].fillna("?")).to_numpy()
            df.loc[missing, "name_en"] = ("unit in " + dist["name_en"].fillna("?") + " district").to_numpy()
        first = ["code", "name_th", "name_en", "reason", "count"]
        return df[first + [c for c in df.columns if c not in first]]


def _isin(values, pool) -> np.ndarray:
    """Vectorised membership on object arrays (see the note in Engine.__init__)."""
    return pd.Index(np.asarray(values, dtype=object), dtype=object).isin(np.asarray(pool, dtype=object))


def _by_code(df: pd.DataFrame) -> pd.DataFrame:
    return df.set_index(pd.Index(df["code"].to_numpy(dtype=object), dtype=object, name="code")).drop(columns="code")
