"""The figures each page shows, as plain tables with a ``status`` on every row (what ``povmap`` prints).

A value left empty says why in ``status``: :data:`SHOWN`, :data:`HIDDEN` (privacy: it rests on fewer than k
households), :data:`NO_DATA` (``reason`` says which gap) or :data:`NOT_PLACED` (a source row the map cannot
place). The tables are built from the same view models as the pages, so a script sees what a user sees.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from povmap.core.engine import Result
from povmap.pilot import PilotResult
from povmap.present.profile import FIGURE_KEYS, Profile, compare_table

SHOWN, HIDDEN, NO_DATA, NOT_PLACED = "shown", "hidden", "no_data", "not_placed"
STATUSES = (SHOWN, HIDDEN, NO_DATA, NOT_PLACED)
NO_DENOMINATOR = "no_denominator"  # a count with nothing to divide it by (no surveyed people or population)
PROFILE_COLUMNS = ["section", "key", "name_th", "name_en", "measure", "value", "status", "reason"]


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def query_table(res: Result) -> pd.DataFrame:
    """The explorer's ranking: code, names, value, status, reason (one row per mapped area)."""
    t = res.table
    reasons = res.no_data.drop_duplicates("code").set_index("code")["reason"].reindex(t["code"]).to_numpy()
    hidden = t["hidden"].to_numpy(dtype=bool) if "hidden" in t else np.zeros(len(t), dtype=bool)
    empty = t["value"].isna().to_numpy()
    status = np.where(hidden, HIDDEN, np.where(empty, NO_DATA, SHOWN))
    reason = np.where(hidden, "hidden_small", np.where(empty, pd.Series(reasons).fillna(NO_DENOMINATOR), ""))
    return pd.DataFrame({"code": t["code"], "name_th": t["name_th"], "name_en": t["name_en"],
                         "value": t["value"].to_numpy(), "status": status, "reason": reason})


def unplaced_table(res: Result) -> pd.DataFrame:
    """What the map cannot place: code, reason, value, status (hidden where privacy hides the figure)."""
    u = res.unplaced
    hidden = u["hidden"].to_numpy(dtype=bool) if "hidden" in u else np.zeros(len(u), dtype=bool)
    return pd.DataFrame({"code": u["code"], "reason": u["reason"], "value": u["value"].to_numpy(),
                         "status": np.where(hidden, HIDDEN, NOT_PLACED)})


def profile_table(p: Profile) -> pd.DataFrame:
    """Every figure of an area's profile, one per row (see :data:`PROFILE_COLUMNS`)."""
    rows: list[dict] = []

    def add(section, key, measure, value, *, status=None, reason="", names=("", "")):
        if status is None:
            status = NO_DATA if _missing(value) else SHOWN
        rows.append({"section": section, "key": str(key), "name_th": names[0], "name_en": names[1],
                     "measure": measure, "value": None if _missing(value) else value, "status": status,
                     "reason": reason})

    note = p.tpmap_note or ""
    for f in p.figures:
        gap = note if f.key != "population" else ""
        add("figures", f.key, "value", f.value, reason=gap if f.value is None else "")
        add("figures", f.key, "parent", f.parent)
        add("figures", f.key, "country", f.country)
        add("figures", f.key, "rank", f.rank, reason=gap if f.rank is None else "")
        add("figures", f.key, "siblings", f.siblings)
    for r in p.dimensions.itertuples(index=False):
        add("dimensions", r.key, "people", r.people, reason=note)
        add("dimensions", r.key, "share", r.share, reason=note)
    for r in p.indicators.itertuples(index=False):
        add("indicators", r.key, "people", r.people, reason=note)
        add("indicators", r.key, "share", r.share, reason=note)
        add("indicators", r.key, "worst", int(bool(r.worst)))
    _households_rows(p.households, add)
    for r in p.population.itertuples(index=False):
        add("population", int(r.year), "population", int(r.population))
    if p.hai is not None:
        for r in p.hai.itertuples(index=False):
            add("hai", int(r.year), "hai", r.hai)
            add("hai", int(r.year), "rank", r.rank)
    if p.villages is not None:
        for r in p.villages.itertuples(index=False):
            for m in ("people", "households", "rank"):
                add("villages", r.code, m, getattr(r, m), names=(r.name_th, ""))
    for r in p.children.itertuples(index=False):
        for m in ("people", "rate"):
            add("children", r.code, m, getattr(r, m), names=(r.name_th, r.name_en),
                reason="" if r.placed else "no_polygon")
    return _long(rows, PROFILE_COLUMNS)


def _households_rows(hh: dict | None, add) -> None:
    if hh is None:
        add("households", "households", "households", None, reason="outside_household_file")
        return
    whole = HIDDEN if hh["hidden"] else None
    why = "hidden_small" if hh["hidden"] else ""
    for m in ("households", "members", "referred"):
        v = hh[m]
        add("households", m, m, v, status=whole or (HIDDEN if _missing(v) else SHOWN), reason=why or (
            "hidden_small" if _missing(v) else ""))
    for r in hh["tiers"].itertuples(index=False):
        for m in ("households", "share"):
            v = getattr(r, m)
            add("households", f"tier{r.tier}", m, v, status=HIDDEN if _missing(v) else SHOWN,
                reason="hidden_small" if _missing(v) else "")
    for r in hh["capitals"].itertuples(index=False):
        add("households", r.capital, "mean_area", r.area, status=whole, reason=why)
        add("households", r.capital, "mean_province", r.province)
        add("households", r.capital, "mean_ppaos20", r.ppaos20)


def compare_rows(profiles: list[Profile]) -> pd.DataFrame:
    """The comparison's key figures (:func:`~povmap.present.profile.compare_table`), one row per area and figure:
    code, names, level, measure, value, status, reason."""
    ids = ["code", "name_th", "name_en", "level"]
    wide = compare_table(profiles)
    long = wide.melt(id_vars=ids, var_name="measure", ignore_index=False).sort_index(kind="stable")
    rows = []
    for r in long.itertuples():
        p = profiles[r.Index]
        empty = _missing(r.value)
        if not empty:
            status, reason = SHOWN, ""
        elif r.measure in FIGURE_KEYS:
            status, reason = NO_DATA, (p.tpmap_note or "") if r.measure != "population" else ""
        elif p.households is None:  # the household file does not cover the area's province
            status, reason = NO_DATA, "outside_household_file"
        else:
            status, reason = HIDDEN, "hidden_small"
        rows.append({**{c: getattr(r, c) for c in ids}, "measure": r.measure, "value": None if empty else r.value,
                     "status": status, "reason": reason})
    return _long(rows, [*ids, "measure", "value", "status", "reason"])


def _long(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    """A long table whose ``value`` column keeps each figure's own type (a rank stays 2, not 2.0)."""
    df = pd.DataFrame(rows, columns=columns)
    df["value"] = pd.Series([r["value"] for r in rows], dtype=object)
    return df


def pilot_table(result: PilotResult) -> pd.DataFrame:
    """Every ranked area of a pilot run: rank, score, the gates, each criterion's raw value, LISA and Gi*
    classes and (for the shortlist) how often it stays when weights vary."""
    r = result.ranked.reset_index().rename(columns={"index": "code"})
    lead = ["code", "name_th", "name_en", "district", "province", "rank", "group_rank", "score", "shortlisted",
            "eligible", "gate"]
    crits = [c for c in result.values.columns if c in r.columns]
    tail = [c for c in ("lisa_class", "gi_class", "stay_share", "depends_on", "fragile") if c in r.columns]
    out = r[[c for c in lead if c in r.columns] + crits + tail].copy()
    if not result.settings.per_district_k:
        out = out.drop(columns=["group_rank"], errors="ignore")
    return out.sort_values(["rank", "code"], na_position="last", kind="stable").reset_index(drop=True)
