"""Household figures protected by the cell key method, added up from one protected base table.

Every household carries a fixed random record key (0-255): a keyed hash of its ``household_id`` under a secret
kept on the server, so the same household has the same key in every view and every round, and nobody without the
secret can compute it. The base table counts households (and, separately, people) per *base cell*: subdistrict
code × tier (0-4) × deprived in at least one dimension × referred × complete record. ONS's
``cell-key-perturbation`` package counts each cell, sums its records' keys into a cell key and adds the
perturbation that :func:`perturbation_table` assigns to that (count, cell key): the same cell always gets the same
noise.

Every household figure povmap publishes (any tier subset, any level, every page, export and command) is a sum of
these perturbed base cells, so the figures add up exactly across levels and tiers, and subtracting two of them
gives back at most a perturbed base cell, never people. The table is built so that a base cell of 1 to k-1
households is always published as a value from which 1 to k (and, taking the largest adjustment either way, 0 to
k) remain possible; see docs/privacy.md. Zero stays zero: an empty cell describes nobody.

Means (capital scores) are of the true records, rounded to one decimal and shown only where the perturbed count is
at least :func:`min_for_mean`, so a capital sum cannot be worked back out.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from cell_key_perturbation.create_perturbed_table import create_perturbed_table

from povmap.core.vocab import LEVEL_BY_KEY

KEY_RANGE = 256  # record and cell keys are 0..255, as in ONS's tables
MAX_PCV = 750  # ONS's lookup: counts above 750 reuse the rows 501-750
CELL_COLUMNS = ("code", "tier", "deprived", "referred", "complete")
MEAN_DECIMALS = 1


SMALL_SPREAD = 0.25  # share of cell keys that move a small count anywhere in the band; the rest keep it


def noise_bound(k: int) -> int:
    """The largest adjustment the table makes to any count: k - 1 (at least 1).

    With it, every count of 1 to k-1 can be published as any value of 1 to k-1 and k is still within D of
    each: the band and the bound are what docs/privacy.md promises."""
    return max(1, k - 1)


def small_band(k: int) -> tuple[int, int]:
    """Published values a count of 1 to k-1 may be moved to (inclusive)."""
    return 1, max(1, k - 1)


def min_for_mean(k: int) -> int:
    """The smallest perturbed count a mean or share may rest on."""
    return 2 * k


def _spread(values: list[int], weights: list[float]) -> np.ndarray:
    """The KEY_RANGE cell keys shared out over ``values``: one each (so every value can occur), the rest in
    proportion to ``weights`` (largest remainder)."""
    w = np.asarray(weights, dtype="float64")
    spare = KEY_RANGE - len(w)
    quota = w / w.sum() * spare
    n = np.floor(quota).astype(int)
    n[np.argsort(-(quota - n), kind="stable")[: spare - n.sum()]] += 1
    n += 1
    return np.repeat(np.asarray(values, dtype="int64"), n)


def perturbation_table(k: int) -> pd.DataFrame:
    """The published perturbation table (ONS layout: ``pcv``, ``ckey``, ``pvalue``) for threshold ``k``.

    - 1 to k-1 households: kept as they are for most cell keys, moved to any value of the band 1..k-1 for a
      quarter of them (:data:`SMALL_SPREAD`), so every published small value could have come from every small
      count, with little bias.
    - k and more: noise -D..D with weights D+1-|noise| (most often 0), never below 1, mean 0 once the count
      exceeds D; from k itself every small value can be reached, so none rules k out.
    Written here because ONS's package ships only its 10-5 rounding table, and this one must follow k."""
    d = noise_bound(k)
    lo, hi = small_band(k)
    band = list(range(lo, hi + 1))
    rows = []
    for pcv in range(1, MAX_PCV + 1):
        if pcv < k:
            weights = [SMALL_SPREAD / len(band) + (1 - SMALL_SPREAD) * (v == pcv) for v in band]
            noise = _spread([v - pcv for v in band], weights)
        else:
            steps = [e for e in range(-d, d + 1) if pcv + e >= 1]
            noise = _spread(steps, [d + 1 - abs(e) for e in steps])
        # Interleave so neighbouring cell keys get different noise (the cell key is a sum mod 256).
        rows.append(noise[(np.arange(KEY_RANGE) * 97) % KEY_RANGE])
    pvalue = np.concatenate(rows)
    return pd.DataFrame({"pcv": np.repeat(np.arange(1, MAX_PCV + 1), KEY_RANGE),
                         "ckey": np.tile(np.arange(KEY_RANGE), MAX_PCV), "pvalue": pvalue})


def preimage(k: int) -> pd.DataFrame:
    """For each value the table can publish (up to the table's end), the smallest and largest true count that
    can give it: what an attacker who knows the table learns from one published base cell."""
    table = perturbation_table(k)
    published = table["pcv"] + table["pvalue"]
    return table.groupby(published)["pcv"].agg(["min", "max"])


KEY_BATCH = 250_000


def record_keys(ids, secret: bytes) -> np.ndarray:
    """Two bytes per household from a keyed BLAKE2 of its id: the record key (0-255) and, for its people,
    an odd step (see :func:`_person_keys`)."""
    blake = hashlib.blake2b
    out = np.empty((len(ids), 2), dtype="int64")
    for i in range(0, len(ids), KEY_BATCH):  # in batches: millions of ids as Python strings take a lot of memory
        # (an arrow-backed array hands out its strings one by one far more slowly than a plain array)
        part = np.asarray(ids[i:i + KEY_BATCH], dtype=object)
        digests = b"".join([blake(h.encode("utf-8"), key=secret, digest_size=2).digest() for h in map(str, part)])
        out[i:i + len(part)] = np.frombuffer(digests, dtype=np.uint8).reshape(-1, 2)
    out[:, 1] |= 1
    return out


def _person_keys(keys: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Record keys of each household's people: key + j * step (mod 256), j = 0..members-1."""
    hh = np.repeat(np.arange(len(members)), members)
    j = np.arange(len(hh)) - np.repeat(np.cumsum(members) - members, members)
    return (keys[hh, 0] + j * keys[hh, 1]) % KEY_RANGE, hh


def perturb(cells: pd.DataFrame, rkey: np.ndarray, ptable: pd.DataFrame, columns=CELL_COLUMNS) -> pd.Series:
    """ONS's ``create_perturbed_table`` on records with cell columns (``code`` first): the perturbed count of each
    non-empty cell."""
    data = cells.assign(rkey=rkey)
    with contextlib.redirect_stdout(io.StringIO()):  # the package prints progress; a CLI's stdout is its output
        out = create_perturbed_table(data, ptable, geog=[columns[0]], tab_vars=list(columns[1:]),
                                     record_key="rkey", use_existing_ons_id=False, threshold=0)
    out = out[out["pre_sdc_count"] > 0]
    return out.set_index(list(columns))["count"].astype("int64")


SUMS = ("n", "key_sum", "members", "person_key_sum")  # per base cell, before perturbation (with the means' sums)


def cell_sums(df: pd.DataFrame, secret: bytes, capital_columns, deprived_columns) -> pd.DataFrame:
    """Per base cell (index: CELL_COLUMNS) of household rows (``household_id``, ``subdistrict_code``, ``tier``,
    ``members``, ``referred``, ``survey_year``, the deprivation flags and capitals): the true households ``n``
    and the sum of their record keys, the people and the sum of the people's record keys, and the sums behind
    the means (capitals, deprived dimensions). They add up: a file read in parts has the sum of its parts' cells
    (:func:`add_cell_sums`), so a national file never has to be in memory at once."""
    keys = record_keys(df["household_id"].to_numpy(), secret)
    caps = df[list(capital_columns)].to_numpy(dtype="float64")
    flags = df[list(deprived_columns)].to_numpy(dtype="float64")
    members = df["members"].to_numpy(dtype="int64")
    complete = ((members >= 1) & ((caps >= 1) & (caps <= 4)).all(axis=1)
                & np.isin(flags, (0, 1)).all(axis=1) & df["survey_year"].notna().to_numpy())
    people = np.clip(members, 0, None)
    rec = pd.DataFrame({
        "code": df["subdistrict_code"].astype(str).to_numpy(dtype=object),
        "tier": df["tier"].to_numpy(dtype="int64"),
        "deprived": (flags == 1).any(axis=1).astype("int64"),
        "referred": (df["referred"].to_numpy() == 1).astype("int64"),
        "complete": complete.astype("int64"),
        "n": np.ones(len(df), dtype="int64"), "key_sum": keys[:, 0], "members": people,
        # A household's people have the keys key + j * step, j < members (:func:`_person_keys`): they sum to this.
        "person_key_sum": people * keys[:, 0] + keys[:, 1] * (people * (people - 1) // 2),
        **{c: caps[:, i] for i, c in enumerate(capital_columns)},
        "dimensions": (flags == 1).sum(axis=1).astype("float64"),
    })
    return rec.groupby(list(CELL_COLUMNS), sort=True).sum()


def add_cell_sums(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The cell sums of the rows of all ``parts`` together."""
    if len(parts) == 1:
        return parts[0]
    return pd.concat(parts).groupby(level=list(CELL_COLUMNS), sort=True).sum()


def perturbed(count, key_sum, ptable: pd.DataFrame) -> np.ndarray:
    """What ONS's ``create_perturbed_table`` (:func:`perturb`) publishes for a cell of ``count`` records whose record
    keys sum to ``key_sum``: the count plus the table's value at (pcv, cell key), where pcv reuses the rows 501-750
    above 750. Done here from the sums because the package needs every record in memory at once, which a national
    household file is too large for; tests/test_cellkey_sums.py checks that both agree cell for cell."""
    count = np.asarray(count, dtype="int64")
    ckey = np.asarray(key_sum, dtype="int64") % KEY_RANGE
    pcv = np.where(count <= MAX_PCV, count, (count - 1) % 250 + 501)
    table = np.zeros((MAX_PCV + 1, KEY_RANGE), dtype="int64")  # row 0: an empty cell stays empty
    table[ptable["pcv"].to_numpy(), ptable["ckey"].to_numpy()] = ptable["pvalue"].to_numpy()
    return count + table[pcv, ckey]


@dataclass
class ProtectedTable:
    """The perturbed base table of one household dataset, and the sums every household figure is made of."""

    k: int
    cells: pd.DataFrame  # CELL_COLUMNS + households, members (perturbed) — publishable
    _n: np.ndarray = field(repr=False)  # true households per cell: for means only, never published
    _sums: pd.DataFrame = field(repr=False)  # true sums per cell (capitals, deprived dimensions): for means only

    @classmethod
    def build(cls, df: pd.DataFrame, secret: bytes, k: int, capital_columns, deprived_columns) -> "ProtectedTable":
        """From household rows (see :func:`cell_sums`): the perturbed base table."""
        return cls.from_sums(cell_sums(df, secret, capital_columns, deprived_columns), k)

    @classmethod
    def from_sums(cls, sums: pd.DataFrame, k: int) -> "ProtectedTable":
        """From the cell sums of a household dataset (:func:`cell_sums`, :func:`add_cell_sums`)."""
        ptable = perturbation_table(k)
        sums = sums[sums["n"] > 0]
        cells = sums.index.to_frame(index=False)
        cells["code"] = cells["code"].astype(object)
        cells["households"] = perturbed(sums["n"], sums["key_sum"], ptable)
        cells["members"] = perturbed(sums["members"], sums["person_key_sum"], ptable)
        means = sums.drop(columns=list(SUMS)).reset_index(drop=True).astype("float64")
        return cls(k, cells, sums["n"].to_numpy(dtype="int64"), means)

    @property
    def bound(self) -> int:
        return noise_bound(self.k)

    def _select(self, *, prefix: str | None = None, tiers=None, deprived=None, referred=None,
                complete=None) -> np.ndarray:
        c = self.cells
        m = np.ones(len(c), dtype=bool)
        if prefix:
            m &= c["code"].str.startswith(prefix).to_numpy()
        if tiers is not None:
            m &= c["tier"].isin(list(tiers)).to_numpy()
        for col, want in (("deprived", deprived), ("referred", referred), ("complete", complete)):
            if want is not None:
                m &= (c[col] == int(want)).to_numpy()
        return m

    def by_area(self, level: str, **filters) -> pd.DataFrame:
        """Per area of ``level`` (code prefix): the perturbed households and members of the matching cells."""
        m = self._select(**filters)
        c = self.cells.loc[m]
        unit = c["code"].str[: LEVEL_BY_KEY[level].code_len]
        out = c[["households", "members"]].groupby(unit.to_numpy()).sum()
        out.index = pd.Index(out.index.to_numpy(dtype=object), dtype=object, name="code")
        return out

    def total(self, column: str = "households", **filters) -> int:
        return int(self.cells.loc[self._select(**filters), column].sum())

    def means(self, columns, prefix: str | None = None, **filters) -> np.ndarray:
        """Mean of each of ``columns`` (capitals, ``dimensions``) over the matching records, rounded to one
        decimal; NaN where the perturbed household count is under :func:`min_for_mean`."""
        m = self._select(prefix=prefix, **filters)
        n = self._n[m].sum()
        if self.cells.loc[m, "households"].sum() < min_for_mean(self.k) or n == 0:
            return np.full(len(columns), np.nan)
        return np.round(self._sums.loc[m, list(columns)].to_numpy().sum(axis=0) / n, MEAN_DECIMALS)

    def means_by_area(self, level: str, column: str, **filters) -> pd.Series:
        """:meth:`means` of one column per area of ``level``."""
        m = self._select(**filters)
        unit = self.cells.loc[m, "code"].str[: LEVEL_BY_KEY[level].code_len].to_numpy(dtype=object)
        g = pd.DataFrame({"shown": self.cells.loc[m, "households"].to_numpy(), "n": self._n[m],
                          "sum": self._sums.loc[m, column].to_numpy()}).groupby(unit).sum()
        mean = (g["sum"] / g["n"].where(g["n"] > 0)).round(MEAN_DECIMALS)
        mean[g["shown"] < min_for_mean(self.k)] = np.nan
        mean.index = pd.Index(mean.index.to_numpy(dtype=object), dtype=object, name="code")
        return mean


def hidden(value, k: int) -> bool:
    """A perturbed count shown as "< k": 1 to k-1 (0 is shown, it describes nobody)."""
    return value is not None and not pd.isna(value) and 0 < value < k


def share(part, whole, k: int) -> float:
    """``part`` as % of ``whole`` (both perturbed), or NaN when either is hidden or ``whole`` is under the
    minimum a share may rest on."""
    if part is None or pd.isna(part) or whole is None or pd.isna(whole) or whole < min_for_mean(k) or hidden(part, k):
        return float("nan")
    return 100.0 * float(part) / float(whole)
