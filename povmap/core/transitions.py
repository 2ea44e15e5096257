"""Household tier transitions between two survey rounds, protected by the cell key method.

Households are matched by ``household_id``. Each household is one record of a transition cell: subdistrict ×
tier in round A (``new`` when it is only in B) × tier in round B (``left`` when it is only in A) × referred in
round A. A household counts in its round-A subdistrict (a new one in its round-B subdistrict), so a row of the
table (a round-A tier) holds exactly the households of that tier in round A's file, and a column those of round
B, up to households that moved between subdistricts.

The cells are perturbed like the rounds' own base tables (:mod:`povmap.core.cellkey`: the same record keys, the
same perturbation table), and every figure here is a sum of them. A cell holding the same households as a round's
base cell gets the same adjustment there, and the sums of a row or column match the round's own tier figures
within the documented adjustment (D per non-empty cell added up).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from povmap.core.cellkey import hidden, noise_bound, perturb, perturbation_table, record_keys
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
    def build(cls, a: pd.DataFrame, b: pd.DataFrame, secret: bytes, k: int) -> "Transitions":
        """From the two rounds' household rows (``household_id``, ``subdistrict_code``, ``tier``, ``referred``)."""
        left = a[["household_id", "subdistrict_code", "tier", "referred"]].drop_duplicates("household_id")
        right = b[["household_id", "subdistrict_code", "tier"]].drop_duplicates("household_id")
        m = left.merge(right, on="household_id", how="outer", suffixes=("_a", "_b"), indicator=True)
        in_a, in_b = (m["_merge"] != "right_only").to_numpy(), (m["_merge"] != "left_only").to_numpy()
        rec = pd.DataFrame({
            "code": np.where(in_a, m["subdistrict_code_a"], m["subdistrict_code_b"]).astype(str),
            "start": np.where(in_a, _tier(m["tier_a"].fillna(0).to_numpy(dtype="int64")), OUTSIDE),
            "end": np.where(in_b, _tier(m["tier_b"].fillna(0).to_numpy(dtype="int64")), OUTSIDE),
            "referred": (in_a & (m["referred"].fillna(0).to_numpy() == 1)).astype("int64"),
        })
        keys = record_keys(m["household_id"].to_numpy(), secret)[:, 0]
        counts = perturb(rec, keys, perturbation_table(k), COLUMNS)
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

    def by_area(self, level_len: int, starts, ends, referred: bool | None = None) -> pd.Series:
        """Per area (code cut to ``level_len``): the households going from any of ``starts`` to any of ``ends``."""
        c = self._cells(None, referred)
        c = c[c["start"].isin(list(starts)) & c["end"].isin(list(ends))]
        return c.groupby(c["code"].str[:level_len])["households"].sum()

    def summary(self, prefix=None) -> dict[str, int]:
        """The headline movements of an area: households that left tier 1 (to a better tier or off the list),
        fell into tier 1 from a better tier, stayed poor (tier 1-2 in both rounds), were new, or left the list."""
        t = self.matrix(prefix)
        better = [e for e in ENDS if e != 1]
        return {
            "left_tier1": int(t.loc[1, better].sum()),
            "fell_to_tier1": int(t.loc[[2, 3, 4], 1].sum()),
            "continuously_poor": int(t.loc[list(POOR), list(POOR)].to_numpy().sum()),
            "new": int(t.loc[OUTSIDE].sum()),
            "left": int(t[OUTSIDE].sum()),
        }


def shown(value: int, k: int) -> int | None:
    """A transition figure as it may be shown: None (shown as "< k") for 1 to k-1."""
    return None if hidden(value, k) else int(value)
