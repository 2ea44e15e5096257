"""Checks of an area-counts file in TPMAP's layout (one row per area, optionally per combination of
dimensions), at one or several levels; returns the accepted rows as the store's ``tpmap_<level>`` tables.

Besides each cell, rows are checked against each other: an area given twice, a dimension count above
the row's total, a parent row (province, district) whose finer rows in the file do not add up to it, and a
total row (รวม / ทั้งประเทศ / Total) that does not equal the sum of the coarsest rows. Roll-ups use the
codes as written, so a tambon whose abolished code is moved to a successor in another district still adds
up to the district the file put it in.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from povmap.core.vocab import LEVEL_BY_LEN, LEVEL_KEYS
from povmap.data.uploads import cells, places
from povmap.data.uploads.checks import (
    FIRST_YEAR,
    Ctx,
    apply_choices,
    columns,
    factorize_rows,
    log_places,
    name_columns,
    numbers,
    year_value,
    years,
)
from povmap.data.uploads.columns import BASE_KEYS, COUNT_KEYS, spec
from povmap.data.uploads.parse import Parsed
from povmap.data.uploads.problems import Msg, ProblemLog

ALL_DIMS = "11111"
CODE_KEYS = ("code", "subdistrict_code", "district_code", "province_code")  # most specific first after 'code'
NAME_KEYS = ("subdistrict_name", "district_name", "province_name")
_TOTAL_WORDS = {"ทั้งประเทศ", "ประเทศไทย", "ทั้งหมด", "th", "all", "sum", "grandtotal", "thailand"}
_LOCATION_FIX = Msg("upload.fix.location_code")
_CHILD = {"province": ("district", "อำเภอ"), "district": ("subdistrict", "ตำบล"), "subdistrict": ("", "")}


def is_total(text: str) -> bool:
    n = places.norm(text)
    return bool(n) and (n.startswith(("รวม", "total", "ยอดรวม")) or n in _TOTAL_WORDS)


def check(parsed: Parsed, log: ProblemLog, *, year=None, level: str | None = None, choices=None) -> tuple[dict, dict]:
    """(tables by name, facts for the manifest)."""
    if level is not None and level not in LEVEL_KEYS:
        raise ValueError(f"level must be one of {LEVEL_KEYS} or None, got {level!r}")
    probe = columns(parsed, ProblemLog(parsed.rows, parsed.header), [])
    required = ["people"]
    if not any(k in probe.pos for k in CODE_KEYS + NAME_KEYS):
        required.insert(0, "code")
    ctx = columns(parsed, log, required, fixes={"code": _LOCATION_FIX})
    ctx.choices = dict(choices or {})
    n = len(parsed.table)
    the_year = _year(ctx, year)
    if log.fatal:
        return {}, {}

    total = _total_rows(ctx, n)
    orig, mapped = _locate(ctx, n, total, level)
    combo = _combos(ctx, n, total)
    present = [k for k in COUNT_KEYS + BASE_KEYS if ctx.has(k)]
    values = {k: numbers(ctx, k, whole=True, lo=0, fix_blank=Msg("upload.fix.count")) for k in present}
    _exceeds(ctx, values)
    # Roll-ups and duplicates use every well-formed code, placed or not: a parent with an unplaceable child
    # cannot be checked, rather than be reported as not adding up.
    area = pd.Series(orig, dtype=object).str.fullmatch(r"\d{2}|\d{4}|\d{6}").fillna(False).to_numpy(dtype=bool) & ~total
    _duplicates(ctx, orig, combo, area)
    _rollups(ctx, orig, combo, area, values)
    _totals(ctx, orig, combo, area, total, values)

    ok = area & ~log.rejected & (mapped != "")
    tables, facts = _tables(mapped[ok], combo[ok], {k: v[ok] for k, v in values.items()}, the_year)
    facts["total_rows"] = np.flatnonzero(total).tolist()
    return tables, facts


def _year(ctx: Ctx, year) -> int | None:
    """The year of the figures: the page's choice, else the file's single year (else a fatal problem)."""
    y = year_value(year)
    hr = ctx.parsed.header_row
    if y is not None:
        if not FIRST_YEAR <= y <= 2100:
            ctx.log.add("year_out_of_range", row=hr, column="", fatal=True, value=str(year))
        return y
    if not ctx.has("year"):
        ctx.log.add("no_year", row=hr, column="", fatal=True)
        return None
    v = years(ctx, "year")
    found = sorted({int(x) for x in v[~np.isnan(v)]})
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        ctx.log.add("several_years", row=hr, col_index=ctx.pos["year"], fatal=True,
                    years=", ".join(map(str, found[:6])) + (" …" if len(found) > 6 else ""))
    elif not ctx.log.fatal:
        ctx.log.add("no_year", row=hr, column="", fatal=True)
    return None


def _total_rows(ctx: Ctx, n: int) -> np.ndarray:
    total = np.zeros(n, dtype=bool)
    for key in CODE_KEYS + NAME_KEYS:
        if ctx.has(key):
            fac, uniq = pd.factorize(cells.read_text(ctx.col(key)))
            total |= np.array([is_total(str(u)) for u in uniq], dtype=bool)[fac] if len(uniq) else False
    return total


def _locate(ctx: Ctx, n: int, total: np.ndarray, level: str | None):
    """(code as written or resolved from names, current code after abolished moves) per row."""
    orig = np.full(n, "", dtype=object)
    src = np.full(n, -1, dtype="int64")  # the column each row's code came from
    for key in reversed(CODE_KEYS):  # coarse to fine: a finer code on the same row wins; 'code' wins over all
        if ctx.has(key):
            c = cells.read_codes(ctx.col(key))
            take = (c != "") & ~total
            orig[take], src[take] = c[take], ctx.pos[key]
    mapped = np.full(n, "", dtype=object)
    logged = np.zeros(n, dtype=bool)
    has = orig != ""
    for ci in np.unique(src[has]):
        idx = np.flatnonzero(has & (src == ci))
        fac, uniq = pd.factorize(orig[idx])
        found = [_at_level(places.place_code(str(u), tpmap_units=True), level) for u in uniq]
        mapped[idx] = np.array([p.code or "" for p in found], dtype=object)[fac]
        logged[idx] = log_places(ctx, idx, fac, found, int(ci))
    names = [k for k in NAME_KEYS if ctx.has(k)]
    if names:
        idx = np.flatnonzero(~has & ~total)
        sub, dist, prov = name_columns(ctx, NAME_KEYS, idx)
        named = pc.or_(pc.or_(pc.not_equal(sub, ""), pc.not_equal(dist, "")), pc.not_equal(prov, ""))
        named_np = named.to_numpy(zero_copy_only=False)
        idx, sub, dist, prov = idx[named_np], sub.filter(named), dist.filter(named), prov.filter(named)
        if len(idx):
            fac, uniq = factorize_rows(sub, dist, prov)
            found = apply_choices(ctx, uniq, [_at_level(places.place_names(*u), level) for u in uniq])
            col = ctx.pos[names[0]]  # the finest name column the file has
            codes = np.array([p.code or "" for p in found], dtype=object)[fac]
            mapped[idx] = codes
            # A name has no code as written: it rolls up where it was placed.
            orig[idx] = codes
            logged[idx] = log_places(ctx, idx, fac, found, int(col))
            placed = np.flatnonzero(codes != "")
            if len(placed):
                i = int(placed[0])
                ctx.log.add("names_resolved", row=ctx.row_of(int(idx[i])), col_index=int(col), count=len(placed),
                            example_row=ctx.row_of(int(idx[i])), value=" / ".join(x for x in uniq[fac[i]] if x),
                            number=places.label(codes[i]))
    unplaced = np.flatnonzero((orig == "") & ~total & ~logged)
    col = next((ctx.pos[k] for k in CODE_KEYS + NAME_KEYS if ctx.has(k)), None)
    ctx.log.add("missing_value", positions=unplaced, col_index=col, label=Msg("upload.label.area_code"),
                fix=Msg("upload.fix.area_code"))
    return orig, mapped


def _at_level(p: places.Place, level: str | None) -> places.Place:
    if level is None or p.level in (None, level) or p.code is None:
        return p
    return places.Place(None, "wrong_level", {"value": p.params.get("value", p.code), "level_en": places.LEVEL_EN[p.level],
                                              "level_th": places.LEVEL_TH[p.level], "expected_en": level,
                                              "expected_th": places.LEVEL_TH[level]}, p.level)


def _combos(ctx: Ctx, n: int, total: np.ndarray) -> np.ndarray:
    if not ctx.has("combo"):
        return np.full(n, ALL_DIMS, dtype=object)
    raw = cells.read_codes(ctx.col("combo"))
    # Excel turns 01111 into the number 1111: put the leading zeros back.
    out = np.array([c.zfill(5) if c and len(c) < 5 and set(c) <= {"0", "1"} else c for c in raw], dtype=object)
    ci = ctx.pos["combo"]
    blank = (out == "") & ~total
    c = spec(ctx.kind, "combo")
    ctx.log.add("missing_value", positions=np.flatnonzero(blank), col_index=ci, label_en=c.en, label_th=c.th,
                fix=Msg("upload.fix.combo"))
    valid = pd.Series(out, dtype=object).str.fullmatch(r"[01]{5}").fillna(False).to_numpy(dtype=bool) & (out != "00000")
    bad = ~valid & (out != "")
    if bad.any():
        idx = np.flatnonzero(bad)
        ctx.log.add("bad_combo", positions=idx, col_index=ci, value=raw[idx])
    return np.where(valid, out, "")


def _exceeds(ctx: Ctx, values: dict) -> None:
    """A dimension's or an indicator's target poor are part of the row's target poor."""
    people = values["people"]
    for k, v in values.items():
        if k.startswith(("dim_", "ind")):
            over = ~np.isnan(v) & ~np.isnan(people) & (v > people)
            if over.any():
                idx = np.flatnonzero(over)
                ctx.log.add("exceeds_total", positions=idx, col_index=ctx.pos[k], value=[f"{x:,.0f}" for x in v[idx]],
                            total=[f"{x:,.0f}" for x in people[idx]])


def _duplicates(ctx: Ctx, orig, combo, area) -> None:
    idx = np.flatnonzero(area)
    keys = pd.Series([f"{c}|{m}" for c, m in zip(orig[idx], combo[idx])], dtype=object)
    dup = keys.duplicated(keep="first").to_numpy()
    if not dup.any():
        return
    first = pd.Series(idx).groupby(keys.to_numpy()).transform("first").to_numpy()
    rows = idx[dup]
    label = [places.label(c) + (f" ({m})" if ctx.has("combo") else "") for c, m in zip(orig[rows], combo[rows])]
    col = next(ctx.pos[k] for k in CODE_KEYS + NAME_KEYS if ctx.has(k))
    ctx.log.add("duplicate_area", positions=rows, col_index=col, value=label, first=ctx.parsed.rows[first[dup]])


def _mismatch_log(ctx: Ctx, code: str, rows: np.ndarray, diffs: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
                  extra: dict) -> None:
    """Log one problem per row, at the first column that differs, naming how many more differ."""
    first_col = {}
    n_more = {}
    for k, (mask, _v, _s) in diffs.items():
        for r in rows[mask]:
            first_col.setdefault(int(r), k)
            n_more[int(r)] = n_more.get(int(r), -1) + 1
    by_col: dict[str, list[int]] = {}
    for r, k in first_col.items():
        by_col.setdefault(k, []).append(r)
    for k, rs in by_col.items():
        mask, v, s = diffs[k]
        where = {int(r): i for i, r in enumerate(rows)}
        vals = [f"{v[where[r]]:,.0f}" for r in rs]
        sums = [f"{s[where[r]]:,.0f}" for r in rs]
        more = [Msg("upload.more_columns", count=n_more[r]) if n_more[r] else "" for r in rs]
        ctx.log.add(code, positions=np.array(rs), col_index=ctx.pos[k], value=vals, sum=sums, more=more, **extra)


def _sums(ctx: Ctx, keys: np.ndarray, rows: np.ndarray, values: dict) -> tuple[pd.DataFrame, set]:
    """Sum of each count column per key over ``rows``; the keys with a rejected row cannot be checked."""
    df = pd.DataFrame({k: v[rows] for k, v in values.items()})
    df["_key"] = keys
    bad = set(df["_key"][ctx.log.rejected[rows]])
    return df.groupby("_key").sum(min_count=1), bad


def _rollups(ctx: Ctx, orig, combo, area, values) -> None:
    lens = sorted({len(c) for c in orig[area]})
    for child_len, parent_len in zip(reversed(lens[1:]), reversed(lens[:-1])):  # fine to coarse
        children = np.flatnonzero(area & (np.char.str_len(orig.astype(str)) == child_len))
        parents = np.flatnonzero(area & (np.char.str_len(orig.astype(str)) == parent_len) & ~ctx.log.rejected)
        ckeys = np.array([f"{c[:parent_len]}|{m}" for c, m in zip(orig[children], combo[children])], dtype=object)
        sums, unsure = _sums(ctx, ckeys, children, values)
        pkeys = np.array([f"{c}|{m}" for c, m in zip(orig[parents], combo[parents])], dtype=object)
        checkable = np.array([k in sums.index and k not in unsure for k in pkeys], dtype=bool)
        parents, pkeys = parents[checkable], pkeys[checkable]
        if not len(parents):
            continue
        diffs = _diffs(values, parents, sums, pkeys)
        level, child = LEVEL_BY_LEN[parent_len], LEVEL_BY_LEN[child_len]
        _mismatch_log(ctx, "rollup_mismatch", parents, diffs,
                      {"level_en": level, "level_th": places.LEVEL_TH[level], "child_en": child,
                       "child_th": places.LEVEL_TH[child]})


def _totals(ctx: Ctx, orig, combo, area, total, values) -> None:
    if not total.any() or not area.any():
        return
    top = min(len(c) for c in orig[area])
    rows = np.flatnonzero(area & (np.char.str_len(orig.astype(str)) == top))
    sums, unsure = _sums(ctx, combo[rows], rows, values)
    combos = sorted(set(combo[rows]))
    trows = np.flatnonzero(total)
    tkeys = np.array([c if c else (combos[0] if len(combos) == 1 else "") for c in combo[trows]], dtype=object)
    checkable = np.array([k in sums.index and k not in unsure for k in tkeys], dtype=bool)
    trows, tkeys = trows[checkable], tkeys[checkable]
    if not len(trows):
        return
    diffs = _diffs(values, trows, sums, tkeys)
    level = LEVEL_BY_LEN[top]
    _mismatch_log(ctx, "total_mismatch", trows, diffs, {"level_en": level, "level_th": places.LEVEL_TH[level]})


def _tables(codes, combos, values: dict, year) -> tuple[dict, dict]:
    """The store's tables per level; rows moved onto the same current code are added together."""
    tables, facts = {}, {"levels": [], "areas": {}, "combos": sorted(set(combos)), "year": year,
                         "columns": [k for k in values if k in COUNT_KEYS],
                         "has_base": any(k in values for k in BASE_KEYS)}
    lens = np.array([len(c) for c in codes], dtype="int64")
    counts = [k for k in values if k in COUNT_KEYS]
    base = [k for k in values if k in BASE_KEYS]
    for length in sorted(set(lens)):
        level = LEVEL_BY_LEN[int(length)]
        sel = lens == length
        df = pd.DataFrame({"code": codes[sel].astype(str), "combo": combos[sel].astype(str),
                           **{k: values[k][sel] for k in counts + base}})
        combo_t = df.groupby(["code", "combo"], sort=True, as_index=False)[counts].sum()
        tables[f"tpmap_{level}"] = combo_t.astype({"code": "str", "combo": "str", **{k: "int64" for k in counts}})
        if base:
            pick = ALL_DIMS if (df["combo"] == ALL_DIMS).any() else df["combo"].iloc[0]
            b = df[df["combo"] == pick].groupby("code", sort=True, as_index=False)[base].sum()
            tables[f"tpmap_base_{level}"] = b.astype({"code": "str", **{k: "int64" for k in base}})
        facts["levels"].append(level)
        facts["areas"][level] = int(combo_t["code"].nunique())
    if facts["levels"]:
        top = tables[f"tpmap_{facts['levels'][0]}"]
        pick = ALL_DIMS if (top["combo"] == ALL_DIMS).any() else top["combo"].iloc[0]
        facts["people"] = int(top.loc[top["combo"] == pick, "people"].sum())
        if "households" in top:
            facts["households"] = int(top.loc[top["combo"] == pick, "households"].sum())
    facts["levels"] = [lv for lv in LEVEL_KEYS if lv in facts["levels"]]
    return tables, facts


def _diffs(values: dict, rows: np.ndarray, sums: pd.DataFrame, keys: np.ndarray) -> dict:
    """Per column, where the given rows' values differ from the sums of their parts: (mask, given, summed)."""
    out = {}
    for k, v in values.items():
        summed = sums.loc[keys, k].to_numpy(dtype="float64")
        given = v[rows]
        mask = ~np.isnan(given) & ~np.isnan(summed) & (given != summed)
        if mask.any():
            out[k] = (mask, given, summed)
    return out
