"""Checks of a household file (README "The household file format"); returns the typed accepted rows."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from povmap.core import households as hh
from povmap.data.uploads import cells, places
from povmap.data.uploads.checks import (
    Ctx,
    apply_choices,
    columns,
    factorize_rows,
    flags,
    log_places,
    name_columns,
    numbers,
    year_value,
    years,
)
from povmap.data.uploads.parse import Parsed
from povmap.data.uploads.problems import Msg, ProblemLog

DTYPES = {
    "household_id": "str", "subdistrict_code": "str", "members": "int64",
    **{c: "float64" for c in hh.CAPITAL_COLUMNS}, **{c: "int8" for c in hh.DEPRIVED_COLUMNS},
    "referred": "int8", "survey_year": "int64",
}
_LOCATION_FIX = Msg("upload.fix.location_household")


def check(parsed: Parsed, log: ProblemLog, *, year=None, choices=None, seen=None) -> tuple[pd.DataFrame, dict]:
    """(accepted rows typed as the household file + tier, facts for the manifest). ``seen``: the household ids of
    the blocks before this one (:class:`povmap.data.uploads.blocks.SeenIds`) when a file is read in blocks."""
    default_year = year_value(year)
    required = ["household_id", "members", *hh.CAPITAL_COLUMNS, "referred"]
    probe = columns(parsed, ProblemLog(parsed.rows, parsed.header), [])  # what is there, without logging
    if "subdistrict_code" not in probe.pos and "subdistrict_name" not in probe.pos:
        required.insert(1, "subdistrict_code")
    if "survey_year" not in probe.pos and default_year is None:
        required.append("survey_year")
    present_flags = [c for c in hh.DEPRIVED_COLUMNS if c in probe.pos]
    if present_flags:  # the five dimension flags come together or not at all
        required += [c for c in hh.DEPRIVED_COLUMNS if c not in probe.pos]
    ctx = columns(parsed, log, required, fixes={"subdistrict_code": _LOCATION_FIX})
    ctx.choices = dict(choices or {})
    n = len(parsed.table)
    if log.fatal:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in DTYPES.items()}), {}

    ids = cells.read_text(ctx.col("household_id"))
    blank_id = ids == ""
    log.add("missing_value", positions=np.flatnonzero(blank_id), col_index=ctx.pos["household_id"],
            label=Msg("upload.label.household_id"), fix=Msg("upload.fix.household_id"))
    codes = _locate(ctx, n)
    members = numbers(ctx, "members", whole=True, lo=1, range_code="members_out_of_range",
                      fix_blank=Msg("upload.fix.members"))
    capitals = {c: numbers(ctx, c, whole=False, lo=1, hi=4, range_code="score_out_of_range",
                           fix_blank=Msg("upload.fix.score")) for c in hh.CAPITAL_COLUMNS}
    if present_flags:
        deprived = {c: flags(ctx, c) for c in hh.DEPRIVED_COLUMNS}
    else:
        log.add("no_dimension_flags", row=parsed.header_row, column="")
        deprived = {c: np.ones(n, dtype="int8") for c in hh.DEPRIVED_COLUMNS}
    referred = flags(ctx, "referred")
    if ctx.has("survey_year"):
        survey = years(ctx, "survey_year")
    else:
        survey = np.full(n, default_year, dtype="float64")

    _duplicates(ctx, ids, blank_id, survey, seen)
    ok = ~log.rejected
    df = pd.DataFrame({
        "household_id": pd.array(ids[ok], dtype="str"),
        "subdistrict_code": pd.array(codes[ok], dtype="str"),
        "members": members[ok],
        **{c: v[ok] for c, v in capitals.items()},
        **{c: v[ok] for c, v in deprived.items()},
        "referred": referred[ok],
        "survey_year": survey[ok],
    }).astype(DTYPES)
    df[hh.TIER_COLUMN] = hh.tier_of(hh.mean_score(df))
    return df, {"has_dimension_flags": bool(present_flags)}


def _locate(ctx: Ctx, n: int) -> np.ndarray:
    """The current tambon code of each row, from its code or else its names ('' when it cannot be placed)."""
    log = ctx.log
    raw = cells.read_codes(ctx.col("subdistrict_code")) if ctx.has("subdistrict_code") else np.full(n, "", dtype=object)
    out = np.full(n, "", dtype=object)
    logged = np.zeros(n, dtype=bool)  # rows whose location problem is already reported
    code_ci = ctx.pos.get("subdistrict_code")
    has_code = raw != ""
    if has_code.any():
        idx = np.flatnonzero(has_code)
        fac, uniq = pd.factorize(raw[idx])
        found = [_subdistrict_only(places.place_code(str(u))) for u in uniq]
        out[idx] = np.array([p.code or "" for p in found], dtype=object)[fac]
        logged[idx] = log_places(ctx, idx, fac, found, code_ci)
    name_keys = [k for k in ("subdistrict_name", "district_name", "province_name") if ctx.has(k)]
    if "subdistrict_name" in name_keys and not has_code.all():
        idx = np.flatnonzero(~has_code)
        sub, dist, prov = name_columns(ctx, ("subdistrict_name", "district_name", "province_name"), idx)
        named = pc.not_equal(sub, "").to_numpy(zero_copy_only=False)
        keep = pa.array(named)
        idx, sub, dist, prov = idx[named], sub.filter(keep), dist.filter(keep), prov.filter(keep)
        fac, uniq = factorize_rows(sub, dist, prov)
        found = apply_choices(ctx, uniq, [places.place_subdistrict(*u) for u in uniq])
        resolved = np.array([p.code or "" for p in found], dtype=object)[fac]
        out[idx] = resolved
        logged[idx] = log_places(ctx, idx, fac, found, ctx.pos["subdistrict_name"])
        placed = np.flatnonzero(resolved != "")
        if len(placed):
            i = int(placed[0])
            log.add("names_resolved", row=ctx.row_of(int(idx[i])), col_index=ctx.pos["subdistrict_name"],
                    count=len(placed), example_row=ctx.row_of(int(idx[i])),
                    value=" / ".join(x for x in uniq[fac[i]] if x), number=places.label(resolved[i]))
    unplaced = np.flatnonzero((out == "") & ~logged)
    ci = code_ci if code_ci is not None else ctx.pos.get("subdistrict_name")
    log.add("missing_value", positions=unplaced, col_index=ci, label=Msg("upload.label.subdistrict_code"),
            fix=Msg("upload.fix.subdistrict_code"))
    return out


def _subdistrict_only(p: places.Place) -> places.Place:
    """A household sits in a tambon: a province or district code here is an error, not a place."""
    if p.level in (None, "subdistrict") or (p.code is None and p.problem == "bad_code"):
        return p
    return places.Place(None, "wrong_level", {"value": p.params.get("value", p.code), "level_en": places.LEVEL_EN[p.level],
                                              "level_th": places.LEVEL_TH[p.level], "expected_en": places.LEVEL_EN["subdistrict"],
                                              "expected_th": places.LEVEL_TH["subdistrict"]}, p.level)


def rounds(df: pd.DataFrame) -> list[int]:
    """The survey rounds a file holds: its survey years when some household id recurs in more than one of them
    (the same households surveyed again); otherwise one round, whatever its years (a round may span two)."""
    years = sorted(int(y) for y in df["survey_year"].dropna().unique())
    if len(years) < 2 or not df.duplicated("household_id").any():
        return years[:1] if years else []
    return years


def _duplicates(ctx: Ctx, ids: np.ndarray, blank: np.ndarray, survey: np.ndarray, seen=None) -> None:
    """A household id twice in one survey year (the same id in two years is the household's next round)."""
    year = pd.Series(survey).fillna(-1).astype("int64").astype(str).to_numpy(dtype=object)
    s = pd.Series(ids.astype(object) + "\x1f" + year, dtype=object)
    dup = s.duplicated(keep="first").to_numpy() & ~blank
    first_row = np.zeros(len(s), dtype="int64")
    if dup.any():
        first_pos = pd.Series(np.arange(len(s))).groupby(s.to_numpy()).transform("first").to_numpy()
        first_row[dup] = ctx.parsed.rows[first_pos[dup]]
    if seen is not None:  # first seen in an earlier block
        fresh = np.flatnonzero(~dup & ~blank)
        earlier = seen.find(s.to_numpy()[fresh])
        hit = earlier > 0
        first_row[fresh[hit]] = earlier[hit]
        dup[fresh[hit]] = True
        seen.add(s.to_numpy()[fresh[~hit]], ctx.parsed.rows[fresh[~hit]])
    if not dup.any():
        return
    idx = np.flatnonzero(dup)
    ctx.log.add("duplicate_household", positions=idx, col_index=ctx.pos["household_id"], value=ids[idx],
                first=first_row[idx])
