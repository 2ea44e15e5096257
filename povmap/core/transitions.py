"""Household tier transitions between two survey rounds, protected by the cell key method.

Households are matched by ``household_id``. Each household is one record of a transition cell: subdistrict ×
tier in round A (``new`` when it is only in B) × tier in round B (``left`` when it is only in A) × referred in
round A. A household counts in its round-A subdistrict (a new one in its round-B subdistrict), so a row of the
table (a round-A tier) holds exactly the households of that tier in round A's file, and a column those of round
B, up to households that moved between subdistricts.

What may be shown is :meth:`Transitions.published`: provinces and larger areas only, without small rows and
columns. The cells are perturbed like the rounds' own base tables (:mod:`povmap.core.cellkey`: the same record keys, the
same perturbation table), and every figure here is a sum of them. A cell holding the same households as a round's
base cell gets the same adjustment there, and the sums of a row or column match the round's own tier figures
within the documented adjustment (D per non-empty cell added up).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from povmap.core.cellkey import hidden, noise_bound, perturbation_table, perturbed, record_keys
from povmap.core.errors import PovmapError
from povmap.core.vocab import TIER_NUMBERS

OUTSIDE = 0  # not in that round: "new" as a start, "left" as an end
NO_TIER = 9  # a record without a tier (a capital score missing)
COLUMNS = ("code", "start", "end", "referred")
STARTS = (*TIER_NUMBERS, OUTSIDE)  # table rows: tiers 1-4 in round A, then new households
ENDS = (*TIER_NUMBERS, OUTSIDE)  # table columns: tiers 1-4 in round B, then households that left
SUMMARY_KEYS = ("left_tier1", "fell_to_tier1", "continuously_poor", "new", "left")  # Transitions.summary
POOR = (1, 2)  # อยู่ลำบาก and อยู่ยาก: "continuously poor" when in one of them in both rounds


def _tier(t: np.ndarray) -> np.ndarray:
    return np.where(np.isin(t, TIER_NUMBERS), t, NO_TIER)


@dataclass
class Transitions:
    """The perturbed transition cells of two household datasets (``cells``: COLUMNS + ``households``)."""

    k: int
    cells: pd.DataFrame

    @classmethod
    def from_sums(cls, sums: pd.DataFrame, k: int) -> "Transitions":
        """From :func:`transition_sums`: each cell perturbed as ONS's package perturbs it from its records
        (:func:`povmap.core.cellkey.perturbed`)."""
        counts = pd.Series(perturbed(sums["n"], sums["key_sum"], perturbation_table(k)), index=sums.index)
        return cls(k, counts.rename("households").reset_index())

    @property
    def bound(self) -> int:
        return noise_bound(self.k)

    def _cells(self, prefix, referred: bool | None) -> pd.DataFrame:
        c = self.cells
        m = np.ones(len(c), dtype=bool)
        if prefix:  # a code, or a tuple of codes (the provinces of a scope)
            m &= c["code"].str.startswith(prefix if isinstance(prefix, str) else tuple(prefix)).to_numpy()
        if referred is not None:
            m &= (c["referred"] == int(referred)).to_numpy()
        return c.loc[m]

    def matrix(self, prefix=None, referred: bool | None = None) -> pd.DataFrame:
        """Households from each round-A tier (rows :data:`STARTS`) to each round-B tier (columns :data:`ENDS`) in
        the area ``prefix`` (a code, a tuple of codes, None: everywhere), perturbed; records without a tier are
        left out."""
        c = self._cells(prefix, referred)
        c = c[(c["start"] != NO_TIER) & (c["end"] != NO_TIER)]
        table = c.pivot_table(index="start", columns="end", values="households", aggfunc="sum", fill_value=0)
        return table.reindex(index=list(STARTS), columns=list(ENDS), fill_value=0).astype("int64")

    def published(self, prefix=None, referred: bool | None = None) -> pd.DataFrame:
        """The matrix as it may be shown (float; NaN: not shown), for a province or more (:func:`check_area`).

        Transition cells group the same households as the rounds' own base cells, differently, each perturbed on
        its own. Subtracting one grouping from the other leaves the difference of independent adjustments, and a
        small row or column split into non-empty cells bounds each cell below k (the privacy audit's finding). So
        only provinces and larger areas are shown (each figure then sums the cells of many subdistricts, with an
        adjustment of up to D for each), and a row or a column holding fewer than :func:`margin` households is not
        shown at all."""
        check_area(prefix)
        m = self.matrix(prefix, referred).astype("float64")
        lim = margin(self.k)
        m.loc[m.sum(axis=1) < lim, :] = np.nan
        # then the columns, counting only the rows still shown: a column must hold enough shown households (more
        # is suppressed than from whole-matrix sums; the audit's exact-transitions control then pins nothing)
        m.loc[:, m.sum(axis=0) < lim] = np.nan
        return m

    def summary(self, prefix=None) -> dict[str, int | None]:
        """The headline movements of an area, from the shown matrix (None where a cell it needs is not shown):
        households that left tier 1 (to a better tier or off the list), fell into tier 1 from a better tier,
        stayed poor (tier 1-2 in both rounds), were new, or left the list."""
        t = self.published(prefix)
        better = [e for e in ENDS if e != 1]

        def total(cells) -> int | None:
            values = np.asarray(cells, dtype="float64").ravel()
            return None if np.isnan(values).any() else int(values.sum())

        return {
            "left_tier1": total(t.loc[1, better]),
            "fell_to_tier1": total(t.loc[[2, 3, 4], 1]),
            "continuously_poor": total(t.loc[list(POOR), list(POOR)]),
            "new": total(t.loc[OUTSIDE]),
            "left": total(t[OUTSIDE]),
        }


def margin(k: int) -> int:
    """The fewest households (published) a row or a column of a shown matrix must hold: 2k + 2D."""
    return 2 * k + 2 * noise_bound(k)


class TransitionAreaError(PovmapError):
    """Transitions asked for an area smaller than a province."""


def check_area(prefix) -> None:
    """Transitions are published for a province, a group of provinces (a tuple) or everything (None), never for
    a district or subdistrict: see :meth:`Transitions.published`."""
    if isinstance(prefix, str) and len(prefix) != 2:
        raise TransitionAreaError("error.change.transitions_level", code=prefix)


def shown(value: int, k: int) -> int | None:
    """A transition figure as it may be shown: None (shown as "< k") for 1 to k-1."""
    return None if hidden(value, k) else int(value)


def transition_sums(a: pd.DataFrame, b: pd.DataFrame, secret: bytes) -> pd.DataFrame:
    """Per transition cell (index :data:`COLUMNS`) of two rounds' household rows (``household_id``,
    ``subdistrict_code``, ``tier``, ``referred``): its households ``n`` and the sum of their record keys, before
    perturbation. They depend on the installation's secret, not on k, so they can be kept for any k."""
    # Households matched through integer ids (one per distinct household id of either round), and subdistricts
    # as integers too: a national pair of rounds is millions of ids, which a merge (or a drop_duplicates) of
    # strings holds several times over. An id twice in a round counts once, as its first row.
    hid, ids = pd.factorize(pd.concat([a["household_id"], b["household_id"]], ignore_index=True))
    place, codes = pd.factorize(pd.concat([a["subdistrict_code"], b["subdistrict_code"]], ignore_index=True))
    ra = np.unique(hid[:len(a)], return_index=True)[1]
    rb = np.unique(hid[len(a):], return_index=True)[1]
    ia, ib = hid[:len(a)][ra], hid[len(a):][rb]
    n = len(ids)
    code = np.empty(n, dtype="int64")
    code[ib] = place[len(a):][rb]
    code[ia] = place[:len(a)][ra]  # a household counts in its round-A subdistrict
    start, end = np.full(n, OUTSIDE, dtype="int64"), np.full(n, OUTSIDE, dtype="int64")
    referred = np.zeros(n, dtype="int64")
    start[ia] = _tier(a["tier"].to_numpy(dtype="int64")[ra])
    end[ib] = _tier(b["tier"].to_numpy(dtype="int64")[rb])
    referred[ia] = (a["referred"].to_numpy()[ra] == 1).astype("int64")
    # Per cell, its records and the sum of their keys give what ONS's package gives from the records
    # (:func:`povmap.core.cellkey.perturbed`), without a national file's records in memory at once.
    rec = pd.DataFrame({"code": code, "start": start, "end": end, "referred": referred, "n": 1,
                        "key_sum": record_keys(ids, secret)[:, 0]})
    sums = rec.groupby(list(COLUMNS), sort=False)[["n", "key_sum"]].sum().reset_index()
    sums["code"] = np.asarray(codes, dtype=object)[sums["code"].to_numpy()]
    sums = sums.set_index(list(COLUMNS)).sort_index()
    return sums
