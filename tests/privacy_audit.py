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
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linprog

from povmap.core.cellkey import preimage
from povmap.core.engine import Engine, Query
from povmap.core.households import MAX_MEMBERS
from povmap.core.vocab import DIMENSION_KEYS, LEVEL_KEYS, TIER_NUMBERS
from povmap.pilot.criteria import Frame, frame_data
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
        b = self.base
        m = b["code"].str.startswith(f.prefix).to_numpy().copy()
        if f.tiers is not None:
            m &= b["tier"].isin(f.tiers).to_numpy()
        for col in ("deprived", "referred"):
            if getattr(f, col) is not None:
                m &= (b[col] == getattr(f, col)).to_numpy()
        return m

    def check_sums(self, figs: list[Figure]) -> list[str]:
        """Figures that are not exactly the sum of their base cells (or hidden when the sum is not 1..k-1)."""
        bad = []
        for f in figs:
            total = int(self.base.loc[self.mask(f), f.unit].sum())
            # hidden: its own sum is 1..k-1, or it goes with the area's hidden households (members, referred)
            area = int(self.base.loc[self.base["code"].str.startswith(f.prefix), "households"].sum())
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
