"""The pilot-area criteria of one frame: one row per area that can be ranked, one column per criterion.

Every criterion is "higher = more reason to choose the area". How each is derived (see docs/pilot-method.md):

- ``count``: the poor in the area (TPMAP target poor in the union of the chosen dimensions, or households that
  pass the dimension and tier filter).
- ``rate``: TPMAP: target poor as % of people surveyed (จปฐ.); households: members of the selected households
  as % of registered residents (DOPA 2021).
- ``share``: the area's % of all the poor of the scope (source total, placed or not).
- ``lisa`` / ``gistar``: 1 when the area is a significant High-High LISA cluster / Gi* hot spot of the rate.
- ``depth``: mean number of the chosen dimensions each poor person (TPMAP) or household fails. TPMAP publishes,
  for every union of dimensions, the people failing each dimension among that union's target poor, so
  depth = sum of the chosen dimensions' counts / the union's count, exactly, with no individual records.
- ``tier1``: households only: share of the selected households in tier 1 (อยู่ลำบาก).
- ``trend``: only when the frame names another round (``vs``): the rate in the later round minus the rate in the
  earlier one (percentage points), each computed as ``rate`` above; a rise counts for the area.
- ``coverage``: 1 when an Area Manager already works in the area.
- ``readiness``: TPMAP: survey coverage = people surveyed / registered residents (capped at 1); households: the
  mean of that coverage and the share of complete household records in the area.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from povmap.core.cellkey import share
from povmap.core.engine import Engine, Query, QueryError, Result
from povmap.core.vocab import CRITERION_KEYS, DIMENSION_KEYS, TIER_NUMBERS, combo_of

PILOT_LEVELS = ("district", "subdistrict")
# Criteria a dataset can offer (TPMAP has no tiers).
DATASET_CRITERIA = {
    "tpmap": tuple(c for c in CRITERION_KEYS if c != "tier1"),
    "households": CRITERION_KEYS,
}


@dataclass(frozen=True)
class Frame:
    """Where and among whom to choose: the same semantics as the explorer's filters."""

    dataset: str = "tpmap"
    scope: str = "ppaos20"
    level: str = "subdistrict"
    dimensions: tuple[str, ...] = DIMENSION_KEYS
    tiers: tuple[int, ...] = TIER_NUMBERS
    vs: str | None = None  # another round of the frame's kind (a dataset id): gives the "trend" criterion

    def query(self, metric: str) -> Query:
        return Query(dataset=self.dataset, level=self.level, scope=self.scope, dimensions=self.dimensions,
                     tiers=self.tiers, metric=metric)

    def normalised(self) -> "Frame":
        if self.level not in PILOT_LEVELS:
            raise QueryError("error.pilot.level")
        q = self.query("households" if self.dataset == "households" else "people").normalised()
        return replace(self, dimensions=q.dimensions, tiers=q.tiers)

    def as_dict(self) -> dict:
        return {"dataset": self.dataset, "scope": self.scope, "level": self.level,
                "dimensions": list(self.dimensions), "tiers": list(self.tiers), "vs": self.vs}

    @classmethod
    def from_dict(cls, d: dict) -> "Frame":
        return cls(dataset=d["dataset"], scope=d["scope"], level=d["level"],
                   dimensions=tuple(d["dimensions"]), tiers=tuple(int(t) for t in d["tiers"]), vs=d.get("vs"))


@dataclass
class FrameData:
    """The rankable areas of a frame and what could not be ranked (with reasons and counts)."""

    frame: Frame
    areas: pd.DataFrame  # index code: name_th, name_en, district, province + criteria (except lisa/gistar/coverage)
    unranked: pd.DataFrame  # code, name_th, name_en, reason, count
    scope_count: int | None  # the source total of the scope
    count_label: str  # people | households
    synthetic: bool
    # Household frames: areas hidden by small-cell suppression (unranked, reason "hidden_small", count <NA>)
    # and their summed count (None when that sum itself rests on fewer than k households).
    hidden_count: int | None = 0
    k: int = 5  # the privacy threshold the frame was built with
    total_hidden: bool = False  # the scope's total is itself under k: shown as "< k"


def frame_data(engine: Engine, frame: Frame) -> FrameData:
    """Criteria that depend only on the frame (cache per frame: weights do not change them)."""
    frame = frame.normalised()
    if frame.dataset == "tpmap":
        counted = engine.compute(frame.query("people"))
        try:
            rate = _values(engine.compute(frame.query("rate")))
        except QueryError:  # an imported file without surveyed people: the rate is unknown, not zero
            rate = pd.Series(np.nan, index=pd.Index(counted.table["code"].to_numpy(dtype=object), name="code"))
        depth = _tpmap_depth(engine, frame)
        extra = pd.DataFrame({"rate": rate, "depth": depth})
    else:
        counted = engine.compute(frame.query("households"))
        extra = _household_criteria(engine, frame)
    table = counted.table.set_index(pd.Index(counted.table["code"].to_numpy(dtype=object), name="code"))
    hidden = table["hidden"].to_numpy(dtype=bool) if "hidden" in table else np.zeros(len(table), dtype=bool)
    has_data = table["value"].notna() & ~hidden
    areas = table.loc[has_data, ["name_th", "name_en", "count"]].copy()
    areas["district"] = areas.index.str[:4]
    areas["province"] = areas.index.str[:2]
    areas["count"] = areas["count"].astype("float64")
    total = counted.scope_count or 0
    areas["share"] = 100.0 * areas["count"] / total if total else np.nan
    areas = areas.join(extra.reindex(areas.index))
    if frame.dataset == "households":  # an area of the file's provinces with no selected household: rate 0
        areas["rate"] = areas["rate"].fillna(0.0)
    areas["readiness"] = _readiness(engine, frame, areas.index, extra)
    areas = areas.drop(columns=[c for c in ("complete",) if c in areas.columns])

    no_data = counted.no_data.assign(count=0)
    no_data = engine.named(no_data[["code", "count", "reason"]].copy())
    unplaced = counted.unplaced[["code", "name_th", "name_en", "reason", "count"]]
    hidden_rows = counted.table.loc[hidden, ["code", "name_th", "name_en", "count"]].assign(reason="hidden_small")
    hidden_rows = pd.concat([hidden_rows, unplaced[unplaced["count"].isna()].assign(reason="hidden_small")])
    unplaced = unplaced[unplaced["count"].notna()]
    parts = [unplaced, no_data[["code", "name_th", "name_en", "reason", "count"]], hidden_rows]
    cols = ["code", "name_th", "name_en", "reason", "count"]
    unranked = pd.concat([p[cols] for p in parts if len(p)] or [parts[1][cols]], ignore_index=True)
    return FrameData(frame, areas, unranked, counted.scope_count, counted.count_label, counted.synthetic,
                     hidden_count=counted.extras.get("hidden_count", 0), k=engine.privacy_k,
                     total_hidden=bool(counted.extras.get("total_hidden")))


def _values(result: Result) -> pd.Series:
    t = result.table
    return pd.Series(t["value"].to_numpy(), index=pd.Index(t["code"].to_numpy(dtype=object), name="code"))


def _tpmap_depth(engine: Engine, frame: Frame) -> pd.Series:
    rows = engine.tpmap_rows(frame.level, combo_of(frame.dimensions))
    failed = rows[[f"dim_{d}" for d in frame.dimensions]].sum(axis=1).astype("float64")
    people = rows["people"].astype("float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        return (failed / people.where(people > 0)).rename("depth")


def _household_criteria(engine: Engine, frame: Frame) -> pd.DataFrame:
    """rate, depth, tier1 and record completeness per area, all from the protected base table
    (povmap.core.cellkey): counts are its perturbed sums, depth a rounded mean shown only for enough households."""
    pt, k, level = engine.protected, engine.privacy_k, frame.level
    sel = pt.by_area(level, tiers=frame.tiers, deprived=1)
    tier1 = pt.by_area(level, tiers=[t for t in frame.tiers if t == 1], deprived=1)["households"]
    tier1 = tier1.reindex(sel.index).fillna(0)
    every = pt.by_area(level)["households"]
    complete = pt.by_area(level, complete=1)["households"].reindex(every.index).fillna(0)
    pop = engine.population.reindex(sel.index)
    out = pd.DataFrame({
        "rate": 100.0 * sel["members"] / pop.where(pop > 0),
        "depth": pt.means_by_area(level, "dimensions", tiers=frame.tiers, deprived=1).reindex(sel.index),
        # Scoring treats a share that is hidden or rests on too few households as unknown.
        "tier1": [share(t, n, k) for t, n in zip(tier1, sel["households"])],
    }, index=sel.index)
    with np.errstate(invalid="ignore", divide="ignore"):
        completeness = (complete / every.where(every > 0)).clip(upper=1.0).rename("complete")
    out = out.reindex(out.index.union(completeness.index)).join(completeness)
    # Areas in the file with no selected household: rate 0, depth and tier share undefined.
    out["rate"] = out["rate"].fillna(0.0)
    out.index = pd.Index(out.index.to_numpy(dtype=object), name="code")
    return out


def _readiness(engine: Engine, frame: Frame, codes: pd.Index, extra: pd.DataFrame) -> np.ndarray:
    surveyed = engine.surveyed[frame.level]["surveyed_people"].reindex(codes).astype("float64")
    pop = engine.population.reindex(codes).astype("float64")
    coverage = (surveyed / pop.where(pop > 0)).clip(upper=1.0).fillna(0.0)
    if frame.dataset == "households":
        complete = extra["complete"].reindex(codes).fillna(0.0)
        return ((coverage + complete) / 2).to_numpy()
    return coverage.to_numpy()
