"""The privacy audit: collect every household figure povmap publishes about a province, then bound each small true
cell by linear programming over them, as an attacker would (scipy's HiGHS).

What is collected goes through the functions the faces use: :meth:`Engine.compute` (explorer, ``povmap query``,
map image, ranking exports; every level, every tier subset, every dimension subset, households and members),
:func:`build_profile` (profile, brief, compare, ``povmap profile|compare``) for every area, and
:func:`frame_data` (pilot page and ``povmap pilot``) for both levels and every tier subset.

Each published count is checked to be exactly the sum of the protected base table's cells it covers (so nothing
bypasses the protection); then two attackers bound every true count of area × tier × dimension combination:

- ``published``: the issue's attacker. Each published count is its true value give or take the largest adjustment
  the method can make to it (the bound D per base cell it adds up); a figure shown as "< k" is 1..k-1 so.
- ``informed``: also knows the perturbation table and every base cell's perturbed value exactly (all figures are
  sums of them, so enough views give them away); a base cell published as p holds one of the counts the table
  can turn into p (:func:`povmap.core.cellkey.preimage`), and its people likewise; an empty cell is known to be
  empty.

Means (capital scores, depth) are rounded to one decimal and shown only from 2k households; they are not linear
in the counts and are not modelled here (see docs/privacy.md).

Change between two rounds (:class:`TransitionAudit`): the change view publishes each round's own figures and the
tier transitions (:func:`collect_transitions`), three partitions of the same households perturbed each on its own.
The unknowns are then the joint groups of households (round-A base cell × round-B base cell, which fixes the
transition cell), and the same two attackers bound every small count of area × tier of either round and of the
transition matrix over all three sets of figures; :meth:`TransitionAudit.routes` and :meth:`TransitionAudit.pairs`
are the direct differencing attacks.
"""
from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass

import numpy as np
import pytest
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linprog

from povmap.core.cellkey import KEY_RANGE, MAX_PCV, perturbation_table, preimage, record_keys
from povmap.core.engine import Engine, Query
from povmap.core.households import CAPITAL_COLUMNS, DEPRIVED_COLUMNS, MAX_MEMBERS
from povmap.core.transitions import ENDS, NO_TIER, OUTSIDE, POOR, STARTS, SUMMARY_KEYS, TransitionAreaError
from povmap.core.transitions import shown as shown_as
from povmap.core.vocab import DIMENSION_KEYS, LEVEL_KEYS, TIER_NUMBERS
from povmap.pilot.criteria import Frame, frame_data
from povmap.present import changeview as cv
from povmap.present.profile import build_profile

TIER_SUBSETS = [s for r in range(1, 5) for s in itertools.combinations(TIER_NUMBERS, r)]
DIM_SUBSETS = [s for r in range(1, 6) for s in itertools.combinations(DIMENSION_KEYS, r)]


@dataclass(frozen=True)
class Figure:
    """One published household count: which records it counts, in which unit, and what was shown."""

    where: str  # the face and view, for messages
    unit: str  # households | members
    prefix: str  # area code
    tiers: tuple | None  # None = every tier (and no tier)
    deprived: int | None
    referred: int | None
    shown: int | None  # None = shown as "< k"


def collect(engine: Engine, scope: str) -> tuple[list[Figure], int]:
    """Every household count published about ``scope`` (a province code), and the number of other household
    figures (shares, means) seen."""
    figs: list[Figure] = []
    others = 0

    def count(value) -> int | None:
        return None if value is None or pd.isna(value) else int(value)

    seen_queries = set()
    for level in LEVEL_KEYS:
        for tiers in TIER_SUBSETS:
            for dims in DIM_SUBSETS:
                for metric in ("households", "members", "share"):
                    q = Query(dataset="households", level=level, scope=scope, dimensions=dims, tiers=tiers,
                              metric=metric).normalised()
                    if q in seen_queries:
                        continue  # household views ignore the dimensions: the same figures again
                    seen_queries.add(q)
                    res = engine.compute(q)
                    unit = "members" if metric == "members" else "households"
                    rows = pd.concat([res.table, res.unplaced], ignore_index=True)
                    rows = rows[rows["code"].str[:2] == scope]
                    if metric == "share":
                        others += int(rows["value"].notna().sum())
                        continue
                    for code, c in zip(rows["code"], rows["count"]):
                        figs.append(Figure(f"explorer {level} {tiers} {metric}", unit, code, tiers, 1, None,
                                           count(c)))
                    figs.append(Figure(f"explorer total {level} {tiers} {metric}", unit, scope, tiers, 1, None,
                                       None if res.extras.get("total_hidden") else res.scope_count))
    codes = sorted({c for c in engine.protected.cells["code"] if c[:2] == scope})
    areas = sorted({scope} | {c[:4] for c in codes} | set(codes))
    for code in areas:
        hh = build_profile(engine, code).households
        if hh is None:
            continue
        hide = hh["hidden"]
        figs.append(Figure(f"profile {code} households", "households", code, None, None, None,
                           None if hide else hh["households"]))
        figs.append(Figure(f"profile {code} members", "members", code, None, None, None, hh["members"]))
        figs.append(Figure(f"profile {code} referred", "households", code, None, None, 1, hh["referred"]))
        for t, n in zip(hh["tiers"]["tier"], hh["tiers"]["households"]):
            figs.append(Figure(f"profile {code} tier {t}", "households", code, (t,), None, None, count(n)))
        others += int(hh["tiers"]["share"].notna().sum() + hh["capitals"][["area", "province", "ppaos20"]].notna().sum().sum())
    for level in ("district", "subdistrict"):
        for tiers in TIER_SUBSETS:
            fd = frame_data(engine, Frame(dataset="households", scope=scope, level=level, tiers=tiers))
            figs.append(Figure(f"pilot total {level} {tiers}", "households", scope, tiers, 1, None,
                               None if fd.total_hidden else fd.scope_count))
            for code, c in fd.areas["count"].items():
                figs.append(Figure(f"pilot {level} {tiers}", "households", code, tiers, 1, None, count(c)))
            others += int(fd.areas[["rate", "depth", "tier1", "share", "readiness"]].notna().sum().sum())
    return figs, others


class Audit:
    """The base cells of a province (every combination that could hold a household) and the attackers' LPs."""

    def __init__(self, engine: Engine, scope: str):
        self.engine, self.scope, self.k = engine, scope, engine.privacy_k
        pt = engine.protected
        self.bound = pt.bound
        cells = pt.cells[pt.cells["code"].str[:2] == scope]
        codes = sorted(cells["code"].unique())
        grid = pd.MultiIndex.from_product([codes, range(0, 5), (0, 1), (0, 1), (0, 1)],
                                          names=["code", "tier", "deprived", "referred", "complete"])
        self.base = (cells.set_index(list(grid.names))[["households", "members"]]
                     .reindex(grid, fill_value=0).reset_index())
        df = engine.households
        df = df[df["subdistrict_code"].str[:2] == scope]
        self.records = df
        self.n = len(self.base)

    def mask(self, f: Figure) -> np.ndarray:
        """The base cells a figure adds up (the same for every face that shows it: kept)."""
        key = (f.prefix, f.tiers, f.deprived, f.referred)
        if not hasattr(self, "_masks"):
            self._masks = {}
        m = self._masks.get(key)
        if m is None:
            b = self.base
            m = b["code"].str.startswith(f.prefix).to_numpy().copy()
            if f.tiers is not None:
                m &= b["tier"].isin(f.tiers).to_numpy()
            for col in ("deprived", "referred"):
                if getattr(f, col) is not None:
                    m &= (b[col] == getattr(f, col)).to_numpy()
            m.setflags(write=False)
            self._masks[key] = m
        return m

    def check_sums(self, figs: list[Figure]) -> list[str]:
        """Figures that are not exactly the sum of their base cells (or hidden when the sum is not 1..k-1)."""
        bad = []
        values = {u: self.base[u].to_numpy() for u in ("households", "members")}
        for f in figs:
            total = int(values[f.unit][self.mask(f)].sum())
            # hidden: its own sum is 1..k-1, or it goes with the area's hidden households (members, referred)
            everyone = self.mask(Figure("", "households", f.prefix, None, None, None, None))
            area = int(values["households"][everyone].sum())
            if f.shown is None and not 0 < total < self.k and not 0 < area < self.k and f.unit == "households" \
                    and f.referred is None:
                bad.append(f"{f.where} {f.prefix}: hidden, but its base cells add up to {total}")
            if f.shown is not None and (f.shown != total or 0 < f.shown < self.k):
                bad.append(f"{f.where} {f.prefix}: shown {f.shown}, base cells add up to {total}")
        return bad

    def constraints(self, figs: list[Figure], informed: bool):
        """A_ub x <= b_ub and bounds over x = (households per base cell, people per base cell)."""
        n, d, k = self.n, self.bound, self.k
        rows, lo, hi = [], [], []
        hh_p, mem_p = self.base["households"].to_numpy(), self.base["members"].to_numpy()
        unique = {}
        for f in figs:  # the same figure seen on several faces is one constraint
            unique[(f.unit, f.prefix, f.tiers, f.deprived, f.referred)] = f
        for f in unique.values():
            m = self.mask(f)
            published = (hh_p if f.unit == "households" else mem_p)[m]
            adjust = d * int((published > 0).sum())
            if f.shown is None and not 0 < published.sum() < k:
                continue  # hidden with its area's households: says nothing linear about its own count
            row = np.zeros(2 * n)
            row[np.flatnonzero(m) + (0 if f.unit == "households" else n)] = 1
            rows.append(row)
            if f.shown is None:
                lo.append(1 - adjust)
                hi.append(k - 1 + adjust)
            else:
                lo.append(f.shown - adjust)
                hi.append(f.shown + adjust)
        # every household has 1 to MAX_MEMBERS people
        eye = sp.identity(n, format="csr")
        structural = sp.vstack([sp.hstack([eye, -eye]), sp.hstack([-MAX_MEMBERS * eye, eye])])
        a = sp.vstack([sp.csr_matrix(np.array(rows)), -sp.csr_matrix(np.array(rows)), structural]).tocsr()
        b = np.concatenate([np.array(hi), -np.array(lo), np.zeros(2 * n)])
        if informed:
            pre = preimage(k)

            def box(p):  # the true counts the table can turn into p
                return [(0, 0) if v == 0 else
                        (int(pre.at[v, "min"]), int(pre.at[v, "max"])) if v < len(pre) - 2 * d else (v - d, v + d)
                        for v in p]
            bounds = box(hh_p) + box(mem_p)
        else:
            bounds = [(0, None)] * (2 * n)
        return a, b, bounds

    def cells(self) -> pd.DataFrame:
        """True counts of every area × tier (deprived in at least one dimension) with 1..k-1 households, for
        every level, with the base cells each covers."""
        df = self.records
        deprived = df[[f"deprived_{d}" for d in DIMENSION_KEYS]].eq(1).any(axis=1)
        out = []
        for width in (2, 4, 6):
            g = df[deprived].groupby([df["subdistrict_code"].str[:width], df["tier"]]).size()
            for (code, tier), n in g.items():
                if 0 < n < self.k:
                    out.append({"code": code, "tier": int(tier), "true": int(n)})
        return pd.DataFrame(out, columns=["code", "tier", "true"])

    def interval(self, a, b, bounds, cell: Figure) -> tuple[float, float]:
        """The attacker's lowest and highest possible true value of ``cell`` (its ``shown`` is ignored)."""
        c = np.zeros(2 * self.n)
        c[np.flatnonzero(self.mask(cell)) + (0 if cell.unit == "households" else self.n)] = 1
        lo = linprog(c, A_ub=a, b_ub=b, bounds=bounds, method="highs")
        hi = linprog(-c, A_ub=a, b_ub=b, bounds=bounds, method="highs")
        if lo.status != 0 or hi.status != 0:
            raise AssertionError(f"the attacker's programme failed for {cell}: {lo.message} {hi.message}")
        return lo.fun, -hi.fun


# --- Tier transitions between two rounds ---------------------------------------------------------------------------
#
# The change view publishes, for two household rounds A and B, each round's own figures (everything :func:`collect`
# gathers, on each round's engine) and the tier transitions (:mod:`povmap.core.transitions`): the matrix of every
# area at every level, of all households and of those referred in round A, and the area's summary. Round A's base
# cells, round B's and the transition cells are three different partitions of the same households, each perturbed
# on its own; the attacker's unknowns are the *joint* groups (atoms) that refine all three: a round-A base cell ×
# a round-B base cell (either may be "not in that round"), which also fixes the transition cell.


@dataclass(frozen=True)
class Move:
    """One published transition count: households of ``prefix`` from any of ``starts`` (round-A tier, 0 new) to
    any of ``ends`` (round-B tier, 0 left); ``referred`` 1: referred in round A only."""

    where: str
    prefix: str
    starts: tuple
    ends: tuple
    referred: int | None
    shown: int | None  # None = shown as "< k"

    @property
    def key(self):
        return self.prefix, self.starts, self.ends, self.referred


def areas_of(codes, scope: str) -> list[str]:
    """The province, its districts and its subdistricts among ``codes`` (subdistrict codes)."""
    codes = sorted(c for c in codes if c[:2] == scope)
    return [scope, *sorted({c[:4] for c in codes}), *codes]


def collect_transitions(tr, scope: str) -> list[Move]:
    """Every transition figure published about ``scope`` through the faces' functions: the matrix of the province
    (the only level shown: a district or subdistrict is refused), all households and referred only
    (:func:`transition_rows`, the CLI and the download; the page's table and Sankey show the same values), and the
    province's summary. A cell whose row or column is too small to show (status "suppressed") publishes nothing."""
    k = tr.k
    summary_cells = {"left_tier1": ((1,), tuple(e for e in ENDS if e != 1)), "fell_to_tier1": ((2, 3, 4), (1,)),
                     "continuously_poor": (POOR, POOR), "new": ((OUTSIDE,), ENDS), "left": (STARTS, (OUTSIDE,))}
    assert set(summary_cells) == set(SUMMARY_KEYS)
    moves: list[Move] = []
    for prefix in areas_of(tr.cells["code"].unique(), scope):
        if len(prefix) > 2:  # refused: the faces never show it
            with pytest.raises(TransitionAreaError):
                cv.transition_rows(tr, prefix)
            continue
        for referred in (None, True):
            rows = cv.transition_rows(tr, prefix, referred)
            table = cv.transition_table(tr, prefix, "en", referred)
            sankey = cv.sankey_data(tr, prefix, "en", referred)
            assert sorted(sankey["value"]) == sorted(int(v) for v in rows["households"].dropna() if v > 0)
            assert (table.iloc[:, 1:].to_numpy().ravel() == f"< {k}").sum() == (rows["status"] == "hidden").sum()
            assert (table.iloc[:, 1:].to_numpy().ravel() == "–").sum() == (rows["status"] == "suppressed").sum()
            for start, end, v, status in zip(rows["from"], rows["to"], rows["households"], rows["status"]):
                if status == "suppressed":
                    continue
                s = OUTSIDE if start == "new" else int(start)
                e = OUTSIDE if end == "left" else int(end)
                v = None if status == "hidden" else int(v)
                moves.append(Move(f"matrix {prefix} {'referred' if referred else 'all'}", prefix, (s,), (e,),
                                  1 if referred else None, v))
        for name, value in tr.summary(prefix).items():
            if value is None:  # it needs a cell that is not shown
                continue
            starts, ends = summary_cells[name]
            moves.append(Move(f"summary {prefix} {name}", prefix, tuple(starts), tuple(ends), None, shown_as(value, k)))
    return moves


def record_cells(df: pd.DataFrame) -> pd.DataFrame:
    """Each household's base cell (code, tier, deprived, referred, complete), derived here as the protected table
    defines it (checked against the table's true counts by :class:`TransitionAudit`)."""
    caps = df[list(CAPITAL_COLUMNS)].to_numpy(dtype="float64")
    flags = df[list(DEPRIVED_COLUMNS)].to_numpy(dtype="float64")
    members = df["members"].to_numpy(dtype="int64")
    complete = ((members >= 1) & ((caps >= 1) & (caps <= 4)).all(axis=1)
                & np.isin(flags, (0, 1)).all(axis=1) & df["survey_year"].notna().to_numpy())
    return pd.DataFrame({"code": df["subdistrict_code"].astype(str).to_numpy(),
                         "tier": df["tier"].to_numpy(dtype="int64"),
                         "deprived": (flags == 1).any(axis=1).astype("int64"),
                         "referred": (df["referred"].to_numpy() == 1).astype("int64"),
                         "complete": complete.astype("int64")}, index=df.index)


def exact_figures(audit: Audit, figs: list[Figure]) -> tuple[Audit, list[Figure]]:
    """The negative control: the same figures with true counts and no adjustment, a figure of 1..k-1 households
    still shown as "< k" (what per-view suppression alone would publish)."""
    rec = record_cells(audit.records)
    keys = list(audit.base.columns[:5])
    true = (rec.assign(households=1, members=audit.records["members"].to_numpy())
            .groupby(keys)[["households", "members"]].sum())
    ex = copy.copy(audit)
    ex.base = audit.base[keys].join(true, on=keys).fillna(0).astype({"households": "int64", "members": "int64"})
    ex.bound = 0
    out = []
    values = {u: ex.base[u].to_numpy() for u in ("households", "members")}
    for f in figs:
        m = ex.mask(f)
        n = int(values["households"][m].sum())
        total = int(values[f.unit][m].sum())
        out.append(Figure(f.where, f.unit, f.prefix, f.tiers, f.deprived, f.referred,
                          None if 0 < n < ex.k else total))
    return ex, out


def _distinct(a: sp.csr_matrix, b: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
    """The same programme with one row per distinct left-hand side (the tightest right-hand side): many figures
    add up the same atoms (a tier subset without the empty tiers, a level with one child, each round's views)."""
    a = a.tocsr()
    a.sum_duplicates()
    a.eliminate_zeros()
    best: dict = {}
    for i in range(a.shape[0]):
        lo, hi = a.indptr[i], a.indptr[i + 1]
        if hi == lo:
            if b[i] < -1e-9:
                raise AssertionError("an empty row that cannot hold")
            continue
        key = (a.indices[lo:hi].tobytes(), a.data[lo:hi].tobytes())
        if key not in best or b[i] < b[best[key]]:
            best[key] = i
    keep = np.array(sorted(best.values()))
    return a[keep], b[keep]


def _tier9(t):
    """A tier as the transition table counts it: 1-4, else no tier."""
    return np.where(np.isin(t, TIER_NUMBERS), t, NO_TIER)


class TransitionAudit:
    """Round A's and round B's base cells, the transition cells, and the joint groups (atoms) that refine them all,
    for one province; the attackers' programmes over every figure of the change view.

    The atoms are every pair (non-empty round-A base cell or "not in A", non-empty round-B base cell or "not in B")
    whose transition cell is non-empty, within one subdistrict unless ``movers`` (then any two subdistricts of the
    province). The attacker is so given which base and transition cells are empty (documented as not hidden: a zero
    is not perturbed) and, without ``movers``, that households stay in their subdistrict: more than the figures say,
    so the bounds are, if anything, too narrow.

    Unknowns: households per atom, then people per round-A base cell, then people per round-B base cell."""

    def __init__(self, a: Engine, b: Engine, tr, scope: str, *, movers: bool = False):
        self.scope, self.k, self.bound, self.tr = scope, tr.k, tr.bound, tr
        self.A, self.B = Audit(a, scope), Audit(b, scope)
        assert self.A.k == self.B.k == self.k and self.A.bound == self.B.bound == self.bound
        keys = list(self.A.base.columns[:5])
        index_a = {t: i for i, t in enumerate(self.A.base[keys].itertuples(index=False, name=None))}
        index_b = {t: i for i, t in enumerate(self.B.base[keys].itertuples(index=False, name=None))}
        ra, rb = self.A.records, self.B.records
        ca = record_cells(ra).assign(household_id=ra["household_id"].to_numpy(), members=ra["members"].to_numpy())
        cb = record_cells(rb).assign(household_id=rb["household_id"].to_numpy(), members=rb["members"].to_numpy())
        self.problems = []
        for audit, c, pt in ((self.A, ca, a.protected), (self.B, cb, b.protected)):
            n = c.groupby(keys).size()
            cells = pt.cells.assign(n=pt._n)
            cells = cells[cells["code"].str[:2] == scope].set_index(keys)["n"]
            if not n.sort_index().equals(cells.sort_index().rename(None)):
                self.problems.append("the records' base cells do not match the protected table's true counts")
        ca["ia"] = [index_a[t] for t in ca[keys].itertuples(index=False, name=None)]
        cb["ib"] = [index_b[t] for t in cb[keys].itertuples(index=False, name=None)]
        # every household of either round, as the transition table counts it (derived here on its own)
        j = ca.merge(cb, on="household_id", how="outer", suffixes=("_a", "_b"), indicator=True)
        in_a, in_b = (j["_merge"] != "right_only").to_numpy(), (j["_merge"] != "left_only").to_numpy()
        j["ia"] = j["ia"].fillna(-1).astype("int64")
        j["ib"] = j["ib"].fillna(-1).astype("int64")
        hh = pd.DataFrame({
            "household_id": j["household_id"].to_numpy(), "ia": j["ia"].to_numpy(), "ib": j["ib"].to_numpy(),
            "code": np.where(in_a, j["code_a"], j["code_b"]).astype(str),
            "start": np.where(in_a, _tier9(j["tier_a"].fillna(0).to_numpy(dtype="int64")), OUTSIDE),
            "end": np.where(in_b, _tier9(j["tier_b"].fillna(0).to_numpy(dtype="int64")), OUTSIDE),
            "referred": (in_a & (j["referred_a"].fillna(0).to_numpy() == 1)).astype("int64")})
        self.households = hh
        # the transition cells: each must be its true households' count plus the perturbation table's adjustment
        # for that count and the sum of their record keys (the same keys as the rounds' tables)
        tcols = ["code", "start", "end", "referred"]
        rkey = record_keys(hh["household_id"].to_numpy(), a.data.record_key_secret)[:, 0]
        true_t = hh.assign(rkey=rkey).groupby(tcols).agg(n=("rkey", "size"), ckey=("rkey", "sum"))
        true_t["ckey"] %= KEY_RANGE
        ptable = perturbation_table(self.k).set_index(["pcv", "ckey"])["pvalue"]
        pcv = np.where(true_t["n"] <= MAX_PCV, true_t["n"], (true_t["n"] - 1) % 250 + 501)  # ONS: 501-750 reused
        true_t["expected"] = true_t["n"].to_numpy() + ptable.loc[list(zip(pcv, true_t["ckey"]))].to_numpy()
        tc = tr.cells[tr.cells["code"].str[:2] == scope].set_index(tcols)["households"]
        both = true_t.join(tc, how="outer")
        if both["n"].isna().any() or both["households"].isna().any():
            self.problems.append("the transition table's non-empty cells are not the households' cells")
        elif not (both["households"] == both["expected"]).all():
            bad = both[both["households"] != both["expected"]]
            self.problems.append(f"transition cells not perturbed by the cell key method: {bad.head().to_dict()}")
        self.tcells = tc.reset_index()
        self.t_true = true_t["n"].reindex(tc.index).fillna(0).to_numpy(dtype="int64")
        tindex = {t: i for i, t in enumerate(tc.index)}
        hh["it"] = [tindex.get(t, -1) for t in hh[tcols].itertuples(index=False, name=None)]

        # the atoms
        base_a, base_b = self.A.base, self.B.base
        ne_a = np.flatnonzero(base_a["households"].to_numpy() > 0)
        ne_b = np.flatnonzero(base_b["households"].to_numpy() > 0)
        oa = pd.DataFrame({"ia": np.r_[ne_a, -1]})
        ob = pd.DataFrame({"ib": np.r_[ne_b, -1]})
        at = oa.merge(ob, how="cross")
        at = at[(at["ia"] >= 0) | (at["ib"] >= 0)].reset_index(drop=True)
        ia, ib = at["ia"].to_numpy(), at["ib"].to_numpy()
        code_a = np.where(ia >= 0, base_a["code"].to_numpy()[ia], "")
        code_b = np.where(ib >= 0, base_b["code"].to_numpy()[ib], "")
        if not movers:
            keep = (ia < 0) | (ib < 0) | (code_a == code_b)
            at, ia, ib, code_a, code_b = at[keep].reset_index(drop=True), ia[keep], ib[keep], code_a[keep], code_b[keep]
        tier_a = np.where(ia >= 0, base_a["tier"].to_numpy()[ia], 0)
        tier_b = np.where(ib >= 0, base_b["tier"].to_numpy()[ib], 0)
        at["code"] = np.where(ia >= 0, code_a, code_b)
        at["code_a"], at["code_b"] = code_a, code_b
        at["start"] = np.where(ia >= 0, _tier9(tier_a), OUTSIDE)
        at["end"] = np.where(ib >= 0, _tier9(tier_b), OUTSIDE)
        at["referred"] = np.where(ia >= 0, base_a["referred"].to_numpy()[ia], 0)
        at["it"] = [tindex.get(t, -1) for t in at[tcols].itertuples(index=False, name=None)]
        at = at[at["it"] >= 0].reset_index(drop=True)
        self.atoms = at
        nx, na, nb, nt = len(at), len(base_a), len(base_b), len(tc)
        self.nx, self.na, self.nb, self.nt = nx, na, nb, nt
        self.nz = nx + na + nb
        # households per atom and people per base cell, the true values (the truth must be feasible)
        atom_of = {t: i for i, t in enumerate(at[["ia", "ib"]].itertuples(index=False, name=None))}
        hh_atom = np.array([atom_of.get(t, -1) for t in hh[["ia", "ib"]].itertuples(index=False, name=None)])
        if (hh_atom < 0).any():
            self.problems.append("a household falls in no atom: the attacker's model is wrong")
        self.x_true = np.bincount(hh_atom[hh_atom >= 0], minlength=nx)
        self.z_true = np.concatenate([
            self.x_true,
            np.bincount(ca["ia"].to_numpy(), weights=ca["members"].to_numpy(), minlength=na),
            np.bincount(cb["ib"].to_numpy(), weights=cb["members"].to_numpy(), minlength=nb)])
        cols = np.arange(nx)

        def incidence(rows, n):
            ok = rows >= 0
            return sp.csr_matrix((np.ones(ok.sum()), (rows[ok], cols[ok])), shape=(n, nx))

        self.MA = incidence(at["ia"].to_numpy(), na)
        self.MB = incidence(at["ib"].to_numpy(), nb)
        self.MT = incidence(at["it"].to_numpy(), nt)
        zero = sp.csr_matrix
        # round X's (households, people) per base cell as a linear map of z
        self.PA = sp.vstack([sp.hstack([self.MA, zero((na, na + nb))]),
                             sp.hstack([zero((na, nx)), sp.identity(na), zero((na, nb))])]).tocsr()
        self.PB = sp.vstack([sp.hstack([self.MB, zero((nb, na + nb))]),
                             sp.hstack([zero((nb, nx + na)), sp.identity(nb)])]).tocsr()
        self.PT = sp.hstack([self.MT, zero((nt, na + nb))]).tocsr()

    # -- masks over each partition ---------------------------------------------------------------------------
    def tmask(self, m: Move) -> np.ndarray:
        """The transition cells a figure adds up (kept)."""
        memo = self.__dict__.setdefault("_tmasks", {})
        key = (m.prefix, m.starts, m.ends, m.referred)
        if key not in memo:
            c = self.tcells
            if m.prefix not in memo:
                memo[m.prefix] = c["code"].str.startswith(m.prefix).to_numpy()
            out = memo[m.prefix] & np.isin(c["start"].to_numpy(), m.starts) & np.isin(c["end"].to_numpy(), m.ends)
            if m.referred is not None:
                out &= c["referred"].to_numpy() == m.referred
            out.setflags(write=False)
            memo[key] = out
        return memo[key]

    def check_sums(self, moves: list[Move]) -> list[str]:
        """Transition figures that are not exactly the sum of their perturbed cells, or hidden when that sum is not
        1..k-1 (and shown when it is)."""
        bad = list(self.problems)
        p = self.tcells["households"].to_numpy()
        for mv in moves:
            total = int(p[self.tmask(mv)].sum())
            if mv.shown is None and not 0 < total < self.k:
                bad.append(f"{mv.where} {mv.starts}->{mv.ends}: hidden, but its cells add up to {total}")
            if mv.shown is not None and (mv.shown != total or 0 < mv.shown < self.k):
                bad.append(f"{mv.where} {mv.starts}->{mv.ends}: shown {mv.shown}, its cells add up to {total}")
        return bad

    def vector(self, side: str, mask: np.ndarray) -> np.ndarray:
        """The households of a set of cells of one partition (``a``, ``b`` or ``t``) as a row over z."""
        m = {"a": self.MA, "b": self.MB, "t": self.MT}[side]
        row = np.zeros(self.nz)
        row[: self.nx] = np.asarray(m[np.flatnonzero(mask)].sum(axis=0)).ravel()
        return row

    # -- the programmes --------------------------------------------------------------------------------------
    def _round(self, audit: Audit, figs, informed: bool, exact: bool, p: sp.csr_matrix):
        if exact:
            audit, figs = exact_figures(audit, figs)
        a, b, bounds = audit.constraints(figs, informed and not exact)
        rows, rhs = [a @ p], [b]
        lo = np.array([0.0 if v[0] is None else v[0] for v in bounds])
        hi = np.array([np.inf if v[1] is None else v[1] for v in bounds])
        n = len(lo) // 2
        if informed and not exact:  # households per base cell: rows over the atoms
            rows += [p[:n], -p[:n]]
            rhs += [hi[:n], -lo[:n]]
        # people per base cell: the unknowns' own bounds
        return rows, rhs, [(float(x), None if np.isinf(y) else float(y)) for x, y in zip(lo[n:], hi[n:])]

    def constraints(self, figs_a, figs_b, moves, *, informed: bool = False, exact=()):
        """A_ub z <= b_ub and bounds: every figure of round A, round B and the transitions, each its true value
        give or take the largest adjustment it can carry (D per non-empty perturbed cell it adds up), "< k" as
        1..k-1. ``informed``: also every perturbed cell of the three tables and the perturbation table.
        ``exact``: parts ("a", "b", "t") published without perturbation (the negative controls)."""
        k = self.k
        rows, rhs = [], []
        ra, qa, bounds_a = self._round(self.A, figs_a, informed, "a" in exact, self.PA)
        rb, qb, bounds_b = self._round(self.B, figs_b, informed, "b" in exact, self.PB)
        rows += ra + rb
        rhs += qa + qb
        t_exact = "t" in exact
        p = self.t_true if t_exact else self.tcells["households"].to_numpy()
        d = 0 if t_exact else self.bound
        unique = {}
        for mv in moves:
            unique[mv.key] = mv
        trow, tlo, thi = [], [], []
        for mv in unique.values():
            mask = self.tmask(mv)
            total = int(p[mask].sum())
            adjust = d * int((p[mask] > 0).sum())
            if t_exact:
                shown_value = None if 0 < total < k else total
            else:
                shown_value = mv.shown
            if shown_value is None and not 0 < total < k:
                continue
            trow.append(mask.astype("float64"))
            lo, hi = (1 - adjust, k - 1 + adjust) if shown_value is None else (shown_value - adjust,
                                                                                 shown_value + adjust)
            tlo.append(lo)
            thi.append(hi)
        tm = sp.csr_matrix(np.array(trow)) @ self.PT
        rows += [tm, -tm]
        rhs += [np.array(thi, dtype="float64"), -np.array(tlo, dtype="float64")]
        if informed and not t_exact:
            pre = preimage(k)
            lo = np.array([0 if v == 0 else pre.at[v, "min"] if v < len(pre) - 2 * d else v - d for v in p])
            hi = np.array([0 if v == 0 else pre.at[v, "max"] if v < len(pre) - 2 * d else v + d for v in p])
            rows += [self.PT, -self.PT]
            rhs += [hi.astype("float64"), -lo.astype("float64")]
        a, b = _distinct(sp.vstack(rows).tocsr(), np.concatenate(rhs).astype("float64"))
        bounds = [(0, None)] * self.nx + bounds_a + bounds_b
        return a, b, bounds

    def feasible(self, a, b, bounds) -> bool:
        """The truth satisfies the programme (else the attacker's model, not the protection, is wrong)."""
        z = self.z_true
        lo = np.array([-np.inf if v[0] is None else v[0] for v in bounds])
        hi = np.array([np.inf if v[1] is None else v[1] for v in bounds])
        return bool((a @ z <= b + 1e-6).all() and (z >= lo - 1e-6).all() and (z <= hi + 1e-6).all())

    def targets(self) -> list[dict]:
        """Every true count of 1..k-1: area × tier in round A and in round B (deprived households, the explorer's;
        all households, the profile's), and area × start × end of the matrix (all, referred) at every level."""
        out = []
        for side, audit in (("a", self.A), ("b", self.B)):
            base_true = np.asarray((self.MA if side == "a" else self.MB) @ self.x_true).ravel()
            for prefix in areas_of(audit.base["code"].unique(), self.scope):
                for tier in range(1, 5):
                    for deprived in (1, None):
                        f = Figure("target", "households", prefix, (tier,), deprived, None, None)
                        mask = audit.mask(f)
                        n = int(base_true[mask].sum())
                        if 0 < n < self.k:
                            out.append({"kind": f"round {side.upper()}", "code": prefix, "cell": f"tier {tier}"
                                        + (" deprived" if deprived else ""), "true": n,
                                        "row": self.vector(side, mask)})
        for prefix in areas_of(self.tcells["code"].unique(), self.scope):
            for referred in (None, 1):
                for s in STARTS:
                    for e in ENDS:
                        mv = Move("target", prefix, (s,), (e,), referred, None)
                        mask = self.tmask(mv)
                        n = int(self.t_true[mask].sum())
                        if 0 < n < self.k:
                            out.append({"kind": "transition", "code": prefix,
                                        "cell": f"{s}->{e}" + (" referred" if referred else ""), "true": n,
                                        "row": self.vector("t", mask)})
        return out

    def interval(self, a, b, bounds, row: np.ndarray) -> tuple[float, float]:
        lo = linprog(row, A_ub=a, b_ub=b, bounds=bounds, method="highs")
        hi = linprog(-row, A_ub=a, b_ub=b, bounds=bounds, method="highs")
        if lo.status != 0 or hi.status != 0:
            raise AssertionError(f"the attacker's programme failed: {lo.message} {hi.message}")
        return lo.fun, -hi.fun

    # -- an attacker who also knows every household outside one area (for large provinces) ---------------------
    def localised(self, a, b, bounds, area: str):
        """The programme for an attacker who, besides the figures, knows the true households and people of every
        atom and base cell outside ``area``: a smaller programme whose intervals lie inside the full one's (so
        passing it is passing the full one). Returns (A_ub, b_ub, bounds, kept unknowns)."""
        at = self.atoms
        keep = np.concatenate([(at["code"].str.startswith(area) | at["code_a"].str.startswith(area)
                                | at["code_b"].str.startswith(area)).to_numpy(),
                               self.A.base["code"].str.startswith(area).to_numpy(),
                               self.B.base["code"].str.startswith(area).to_numpy()])
        csc = a.tocsc()
        rhs = b - csc[:, ~keep] @ self.z_true[~keep]
        sub = csc[:, keep].tocsr()
        used = np.diff(sub.indptr) > 0
        if (rhs[~used] < -1e-6).any():
            raise AssertionError("the truth outside the area breaks a figure: the model is wrong")
        sub, rhs = _distinct(sub[used], rhs[used])
        return sub, rhs, [bounds[i] for i in np.flatnonzero(keep)], keep

    # -- differencing: one published figure minus others -------------------------------------------------------
    def term(self, side: str, key, shown: dict, exact: bool) -> tuple[np.ndarray, float, float] | None:
        """A published figure as (row over z, lowest and highest true value its shown value allows), or None when
        no face publishes it. ``side`` a or b: ``key`` a Figure key (unit, prefix, tiers, deprived, referred);
        t: a Move key (prefix, starts, ends, referred). ``exact``: as if published without perturbation."""
        if key not in shown:
            return None
        memo = self.__dict__.setdefault("_terms", {})
        cached = (side, key, exact, shown[key])
        if cached not in memo:
            memo[cached] = self._term(side, key, shown, exact)
        return memo[cached]

    def _term(self, side: str, key, shown: dict, exact: bool):
        k = self.k
        if side == "t":
            mask = self.tmask(Move("", *key, None))
            p, true = self.tcells["households"].to_numpy()[mask], int(self.t_true[mask].sum())
        else:
            audit = self.A if side == "a" else self.B
            mask = audit.mask(Figure("", *key, None))
            p = audit.base["households"].to_numpy()[mask]
            true = int(np.asarray((self.MA if side == "a" else self.MB) @ self.x_true)[mask].sum())
        row = self.vector(side, mask)
        if exact:
            return (row, 1, k - 1) if 0 < true < k else (row, true, true)
        adjust = self.bound * int((p > 0).sum())
        v = shown[key]
        if v is None and not 0 < p.sum() < k:
            return None  # hidden with its area: says nothing of its own count
        lo, hi = (1 - adjust, k - 1 + adjust) if v is None else (v - adjust, v + adjust)
        return row, max(lo, 0), hi

    def route(self, terms, target: np.ndarray, shown: dict, *, exact: bool = False):
        """``terms``: (sign, side, key). The interval for the target that adding and subtracting these published
        figures gives, or None when one is not published or they do not add up to the target's households."""
        total, lo, hi = np.zeros(self.nz), 0.0, 0.0
        for sign, side, key in terms:
            t = self.term(side, key, shown[side], exact)
            if t is None:
                return None
            row, a, b = t
            total += sign * row
            lo, hi = (lo + a, hi + b) if sign > 0 else (lo - b, hi - a)
        if not np.array_equal(total[: self.nx], target[: self.nx]):
            return None
        return lo, hi

    def routes(self, code: str, tier: int):
        """Ways to work out round A's households of ``tier`` in subdistrict ``code`` by adding and subtracting
        published figures of both rounds and the transitions: name → terms."""
        def a(x, t=None):
            return "a", ("households", x, None if t is None else (t,), None, None)

        def b(x):
            return "b", ("households", x, None, None, None)

        def row(x, t):
            return [("t", (x, (t,), (e,), None)) for e in ENDS]

        def new(x):  # the summary's "new"
            return "t", (x, (OUTSIDE,), tuple(ENDS), None)

        def left(x):  # the summary's "left"
            return "t", (x, tuple(STARTS), (OUTSIDE,), None)

        others = [t for t in range(1, 5) if t != tier]
        out = {"own transition row": [(1, *r) for r in row(code, tier)],
               "round B minus new plus left": [(1, *b(code)), (-1, *new(code)), (1, *left(code))]
               + [(-1, *a(code, t)) for t in others]}
        if tier == 1:
            out["summary: left tier 1 plus stayed"] = [(1, "t", (code, (1,), tuple(e for e in ENDS if e != 1), None)),
                                                      (1, "t", (code, (1,), (1,), None))]
        subs = sorted(c for c in self.A.base["code"].unique())
        for parent in (code[:4], code[:2]):
            sib = [c for c in subs if c.startswith(parent) and c != code]
            out[f"{parent} round A minus siblings"] = [(1, *a(parent, tier))] + [(-1, *a(c, tier)) for c in sib]
            out[f"{parent} transitions minus siblings"] = [(1, *r) for r in row(parent, tier)] + [
                (-1, *r) for c in sib for r in row(c, tier)]
            out[f"{parent} round A minus siblings' transitions"] = [(1, *a(parent, tier))] + [
                (-1, *r) for c in sib for r in row(c, tier)]
            out[f"{parent} transitions minus siblings' round A"] = [(1, *r) for r in row(parent, tier)] + [
                (-1, *a(c, tier)) for c in sib]
            out[f"{parent} round B minus new plus left minus siblings"] = [
                (1, *b(parent)), (-1, *new(parent)), (1, *left(parent))] + [(-1, *a(c)) for c in sib] + [
                (-1, *a(code, t)) for t in others]
        return out

    def pairs(self, target: np.ndarray, code: str, shown: dict, *, exact: bool = False):
        """Every published household figure of ``code`` (either round, the transitions) that is the target by
        itself, and every two whose difference is the target: (names, lowest, highest) of each."""
        by_code = self.__dict__.setdefault("_keys_by_code", {})
        if id(shown) not in by_code:
            keys: dict = {}
            for side, figs in shown.items():
                for key in figs:
                    if side == "t" or key[0] == "households":
                        keys.setdefault(key[0 if side == "t" else 1], []).append((side, key))
            by_code[id(shown)] = (shown, keys)
        terms = []
        for side, key in by_code[id(shown)][1].get(code, []):
            t = self.term(side, key, shown[side], exact)
            if t is not None and t[0][: self.nx].any():  # a figure of nobody subtracts nothing
                terms.append((f"{side} {key}", np.rint(t[0][: self.nx]).astype("int8"), t[1], t[2]))
        index: dict = {}
        for i, (_, row, _, _) in enumerate(terms):
            index.setdefault(row.tobytes(), []).append(i)
        goal = np.rint(target[: self.nx]).astype("int8")
        out = [((name,), lo, hi) for name, row, lo, hi in terms if np.array_equal(row, goal)]
        for name, row, lo, hi in terms:
            for j in index.get((row - goal).tobytes(), []):
                other, _, lo2, hi2 = terms[j]
                out.append(((name, "minus " + other), lo - hi2, hi - lo2))
        return out

    # -- the attack ----------------------------------------------------------------------------------------------
    def attack(self, figs_a, figs_b, moves, *, informed: bool = False, exact=(), local: bool = False,
               upper_only: bool = False) -> pd.DataFrame:
        """Each target's interval (lo, hi) for one attacker. ``local``: the attacker who also knows every household
        outside the target's area (:meth:`localised`; its intervals lie inside the full programme's)."""
        a, b, bounds = self.constraints(figs_a, figs_b, moves, informed=informed, exact=exact)
        if not self.feasible(a, b, bounds):
            raise AssertionError("the true counts break the attacker's programme: the model is wrong")
        targets = self.targets()
        out = []
        for area in sorted({g["code"] for g in targets}):
            if local and len(area) > 2:
                sa, sb, sbounds, keep = self.localised(a, b, bounds, area)
            else:
                sa, sb, sbounds, keep = a, b, bounds, np.ones(self.nz, dtype=bool)
            for g in (g for g in targets if g["code"] == area):
                row = g["row"]
                assert not row[~keep].any()
                hi = linprog(-row[keep], A_ub=sa, b_ub=sb, bounds=sbounds, method="highs")
                lo = None if upper_only else linprog(row[keep], A_ub=sa, b_ub=sb, bounds=sbounds, method="highs")
                if hi.status != 0 or (lo is not None and lo.status != 0):
                    raise AssertionError(f"the attacker's programme failed for {g['code']} {g['cell']}")
                out.append({"kind": g["kind"], "code": g["code"], "cell": g["cell"], "true": g["true"],
                            "lo": np.nan if lo is None else lo.fun, "hi": -hi.fun})
        return pd.DataFrame(out)


def shown_index(figs_a, figs_b, moves) -> dict:
    """What was shown for each published household figure, by side (a, b, t) and key (a figure hidden on one face
    and shown on another counts as shown)."""
    out: dict = {"a": {}, "b": {}, "t": {}}
    for side, figs in (("a", figs_a), ("b", figs_b)):
        for f in figs:
            key = (f.unit, f.prefix, f.tiers, f.deprived, f.referred)
            if out[side].get(key) is None:
                out[side][key] = f.shown
    for m in moves:
        if out["t"].get(m.key) is None:
            out["t"][m.key] = m.shown
    return out
