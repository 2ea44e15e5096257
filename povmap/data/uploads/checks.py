"""Checks both kinds of upload share: which columns are there, and reading a column of numbers, scores,
flags or years while logging what is wrong with each cell."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from povmap.data.uploads import cells, places
from povmap.data.uploads.columns import closest, closest_key, match_header, spec
from povmap.data.uploads.parse import Parsed
from povmap.data.uploads.problems import Msg, ProblemLog, column_letter

MAX_COUNT = 1e12  # no Thai area has a trillion of anything: a bigger count is a typo or a code in the wrong column
FIRST_YEAR = 1990
BE_OFFSET = 543


@dataclass
class Ctx:
    parsed: Parsed
    log: ProblemLog
    pos: dict[str, int]  # key -> column index
    # The user's answers to "which place did you mean?": names as written ("ตลาด / เมือง") -> code
    choices: dict[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.parsed.kind

    def col(self, key: str):
        return self.parsed.table[self.pos[key]]

    def has(self, key: str) -> bool:
        return key in self.pos

    def row_of(self, i: int) -> int:
        return int(self.parsed.rows[i])


MANY_UNUSED = 10  # more unused columns than this are reported as one problem


def columns(parsed: Parsed, log: ProblemLog, required: list[str], fixes: dict[str, Msg] | None = None) -> Ctx:
    """Map headers to keys; log duplicates, unknown columns and missing required ones (fatal)."""
    hm = match_header(parsed.kind, parsed.header)
    hr = parsed.header_row
    for i, key, first in hm.duplicates:
        log.add("duplicate_column", row=hr, col_index=i, field=key, first=column_letter(first))
    unknown = list(hm.unknown)
    many = len(unknown) + len(parsed.unnamed) > MANY_UNUSED
    if many:  # one problem for them all, not one per column
        names = [parsed.header[i] or column_letter(i) for i in sorted([*unknown, *parsed.unnamed])]
        log.add("unknown_columns", row=hr, count=len(names),
                names=", ".join(names[:MANY_UNUSED]) + (", …" if len(names) > MANY_UNUSED else ""))
    unnamed = [] if many else parsed.unnamed
    for i in unnamed:
        log.add("unknown_column", row=hr, col_index=i, fix=Msg("upload.fix.name_or_delete"))
    for key in required:
        if key in hm.positions:
            continue
        c = spec(parsed.kind, key)
        guess = closest(parsed.kind, key, parsed.header, unknown)
        if guess is not None:
            unknown.remove(guess)
            h = parsed.header[guess]
            log.add("missing_column", row=hr, col_index=guess, fatal=True, field=key, label_en=c.en, label_th=c.th,
                    did_you_mean=Msg("upload.did_you_mean.header", header=h, letter=column_letter(guess)),
                    fix=Msg("upload.fix.rename_header", header=h, field=key))
        else:
            heads = ", ".join(dict.fromkeys(c.headers[:4]))
            fix = (fixes or {}).get(key) or Msg("upload.fix.add_column", field=key, label_en=c.en, label_th=c.th,
                                                heads=heads)
            log.add("missing_column", row=hr, column="", fatal=True, field=key, label_en=c.en, label_th=c.th, fix=fix)
    for i in [] if many else unknown:
        key = closest_key(parsed.kind, parsed.header[i], exclude=hm.positions)
        if key:
            c = spec(parsed.kind, key)
            log.add("unknown_column", row=hr, col_index=i,
                    did_you_mean=Msg("upload.did_you_mean.key", field=key, label_en=c.en, label_th=c.th),
                    fix=Msg("upload.fix.rename_to_key", field=key, label_en=c.en, label_th=c.th))
        else:
            log.add("unknown_column", row=hr, col_index=i, fix=Msg("upload.fix.unused_column"))
    return Ctx(parsed, log, dict(hm.positions))


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.4g}"


def _first(ctx: Ctx, code: str, key: str, mask: np.ndarray, text, shown) -> None:
    """One column-level warning for all cells of ``mask``, quoting the first."""
    idx = np.flatnonzero(mask)
    if len(idx):
        i = int(idx[0])
        ctx.log.add(code, row=ctx.row_of(i), col_index=ctx.pos[key], count=len(idx), value=text[i],
                    number=shown(i), example_row=ctx.row_of(i))


def numbers(ctx: Ctx, key: str, *, whole: bool, fix_blank: Msg, lo: float | None = None,
            hi: float | None = None, range_code: str = "negative", skip: np.ndarray | None = None) -> np.ndarray:
    """Read a numeric column; log blank, unreadable, fractional and out-of-range cells. NaN where rejected.

    ``skip`` marks rows not to check (e.g. total rows checked elsewhere)."""
    c = spec(ctx.kind, key)
    ci = ctx.pos[key]
    num = cells.read_numbers(ctx.col(key))
    v = num.values
    live = np.ones(len(v), dtype=bool) if skip is None else ~skip
    log = ctx.log
    blank = num.blank & live
    log.add("missing_value", positions=np.flatnonzero(blank), col_index=ci, label_en=c.en, label_th=c.th,
            fix=fix_blank)
    bad = num.bad & live
    if bad.any():
        idx = np.flatnonzero(bad)
        log.add("not_a_number", positions=idx, col_index=ci, value=num.text[idx])
    ok = ~np.isnan(v)
    huge = ok & (np.abs(v) > MAX_COUNT) & live
    if huge.any():
        idx = np.flatnonzero(huge)
        log.add("too_large", positions=idx, col_index=ci, value=num.text[idx])
        v[idx] = np.nan
        ok &= ~huge
    if whole:
        frac = ok & (np.floor(v) != v) & live
        if frac.any():
            idx = np.flatnonzero(frac)
            log.add("not_whole", positions=idx, col_index=ci, value=num.text[idx])
            v[idx] = np.nan
            ok &= ~frac
    out = ok & live & (((v < lo) if lo is not None else False) | ((v > hi) if hi is not None else False))
    if np.any(out):
        idx = np.flatnonzero(out)
        log.add(range_code, positions=idx, col_index=ci, value=[_fmt(x) for x in v[idx]])
        v[idx] = np.nan
    _first(ctx, "numbers_as_text", key, num.converted & ~np.isnan(v) & live, num.text, lambda i: _fmt(v[i]))
    return v


def flags(ctx: Ctx, key: str) -> np.ndarray:
    """A 0/1 column: yes/no words accepted, blank read as 0 (one warning), anything else rejected."""
    f = cells.read_flags(ctx.col(key))
    ci = ctx.pos[key]
    if f.bad.any():
        idx = np.flatnonzero(f.bad)
        ctx.log.add("bad_flag", positions=idx, col_index=ci, value=f.text[idx])
    idx = np.flatnonzero(f.blank)
    if len(idx):
        ctx.log.add("blank_flag", row=ctx.row_of(int(idx[0])), col_index=ci, count=len(idx),
                    example_row=ctx.row_of(int(idx[0])))
    return f.values


def years(ctx: Ctx, key: str) -> np.ndarray:
    """Years in CE; Buddhist Era years (≥ 2400) are converted with one warning."""
    c = spec(ctx.kind, key)
    v = numbers(ctx, key, whole=True, fix_blank=Msg("upload.fix.fill_in", label_en=c.en, label_th=c.th))
    be = v >= 2400
    if be.any():
        first = int(np.flatnonzero(be)[0])
        ctx.log.add("buddhist_year", row=ctx.row_of(first), example_row=ctx.row_of(first), col_index=ctx.pos[key],
                    count=int(be.sum()),
                    value=f"{v[first]:.0f}", number=f"{v[first] - BE_OFFSET:.0f}")
        v = np.where(be, v - BE_OFFSET, v)
    bad = ~np.isnan(v) & ((v < FIRST_YEAR) | (v > dt.date.today().year + 1))
    if bad.any():
        idx = np.flatnonzero(bad)
        ctx.log.add("year_out_of_range", positions=idx, col_index=ctx.pos[key], value=[f"{x:.0f}" for x in v[idx]])
        v[idx] = np.nan
    return v


def year_value(year) -> int | None:
    """A year given on the page: BE converted to CE; None when absent."""
    if year is None or year == "":
        return None
    y = int(year)
    return y - BE_OFFSET if y >= 2400 else y


AMBIGUOUS = ("name_ambiguous", "abolished_ambiguous")


def names_key(names: tuple) -> str:
    """The names of one row as the report shows them and the user's choices are keyed: "ตลาด / เมือง"."""
    return " / ".join(x for x in names if x)


def candidate_codes(candidates: str) -> list[str]:
    """The codes listed in an ambiguous place's candidates ("220101 ตลาด (Talat), …; 300122 …")."""
    return re.findall(r"(?:^|; )(\d{2,6}) ", candidates or "")


def apply_choices(ctx: Ctx, uniq: list[tuple], found: list) -> list:
    """Ambiguous names show all their names in the report; those the user chose a place for are placed there
    (a warning records the choice). A choice that is not among the candidates is ignored."""
    out = list(found)
    for u, p in enumerate(found):
        if p.problem not in AMBIGUOUS:
            continue
        key = names_key(uniq[u])
        chosen = ctx.choices.get(key)
        if chosen and chosen in candidate_codes(p.params.get("candidates", "")):
            out[u] = places.Place(chosen, "name_chosen", {"value": key, "number": places.label(chosen)}, p.level)
        else:
            out[u] = places.Place(None, p.problem, {**p.params, "value": key}, p.level)
    return out


def log_places(ctx: Ctx, idx: np.ndarray, fac: np.ndarray, found: list, col_index: int) -> np.ndarray:
    """Log the places' problems on their rows; True for the rows given a problem. Rows are grouped by
    distinct value with one sort, so a million rows with a few thousand codes stay fast."""
    hit = np.zeros(len(idx), dtype=bool)
    bad = [u for u, p in enumerate(found) if p.problem]
    if not bad:
        return hit
    order = np.argsort(fac, kind="stable")
    starts = np.searchsorted(fac[order], np.arange(len(found) + 1))
    for u in bad:
        sel = order[starts[u]:starts[u + 1]]
        hit[sel] = True
        ctx.log.add(found[u].problem, positions=idx[sel], col_index=col_index, **found[u].params)
    return hit


def name_columns(ctx: Ctx, keys, rows: np.ndarray) -> list[pa.Array]:
    """Trimmed text of the given columns at ``rows`` (a blank column for a key the file lacks), kept in
    arrow: a million Thai names never become Python strings."""
    take = pa.array(rows, pa.int64())
    empty = pa.array([""] * len(rows), pa.large_string())
    return [cells.trimmed(ctx.col(k)).take(take) if ctx.has(k) else empty for k in keys]


def factorize_rows(*columns) -> tuple[np.ndarray, list[tuple]]:
    """(code per row, distinct tuples) of several aligned columns (arrow or numpy), without a key per row."""
    key = np.zeros(len(columns[0]), dtype="int64")
    parts = []
    for col in columns:
        if isinstance(col, (pa.Array, pa.ChunkedArray)):
            enc = col.dictionary_encode()
            if isinstance(enc, pa.ChunkedArray):
                enc = enc.combine_chunks()
            f = enc.indices.to_numpy(zero_copy_only=False).astype("int64")
            u = enc.dictionary.to_pylist()
        else:
            f, u = pd.factorize(col)
        key = key * (len(u) + 1) + f
        parts.append((f, u))
    fac, uniq_keys = pd.factorize(key)
    first = np.zeros(len(uniq_keys), dtype="int64")
    first[fac[::-1]] = np.arange(len(fac))[::-1]  # a row holding each distinct tuple
    return fac, [tuple(str(u[f[i]]) for f, u in parts) for i in first]
