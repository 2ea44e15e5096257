"""PPAOS/PPPConnext-style household file: format, tier rule, synthetic generator and aggregation.

Real PPAOS household data is personal and not public, so the demo runs on :func:`synthesize`'s output,
which must always be labelled as synthetic.
"""
from __future__ import annotations

import os

import numpy as np
import pandas as pd

from povmap.core.vocab import CAPITAL_KEYS, DIMENSION_KEYS, LEVEL_BY_KEY, TIER_CUTS, TIER_NUMBERS

CAPITAL_COLUMNS = tuple(f"capital_{k}" for k in CAPITAL_KEYS)
DEPRIVED_COLUMNS = tuple(f"deprived_{k}" for k in DIMENSION_KEYS)
HOUSEHOLD_COLUMNS = (
    ("household_id", "subdistrict_code", "members")
    + CAPITAL_COLUMNS
    + DEPRIVED_COLUMNS
    + ("referred", "survey_year")
)
# Derived, never stored in the file: read_household_file and synthesize add it so aggregate need not recompute.
TIER_COLUMN = "tier"
HOUSEHOLD_DTYPES = {
    "household_id": "str",
    "subdistrict_code": "str",
    "members": "int64",
    **{c: "float64" for c in CAPITAL_COLUMNS},
    **{c: "int8" for c in DEPRIVED_COLUMNS},
    "referred": "int8",
    "survey_year": "int64",
}

# Which capital a dimension's deprivation follows (natural capital has no TPMAP dimension).
DIMENSION_CAPITAL = {
    "health": "human",
    "living": "physical",
    "education": "human",
    "income": "financial",
    "access": "social",
}
DEPRIVED_AT_MOST = 2.0  # linked capital <= this: always deprived
MAYBE_DEPRIVED_AT_MOST = 2.5  # in (2.0, 2.5]: deprived with DEPRIVED_NOISE probability; above: never
DEPRIVED_NOISE = 0.3
MAX_MEMBERS = 12
SYNTHETIC_YEAR = 2023
_PROVINCE_MEAN_RANGE = (1.7, 2.1)
LATENT_SD, _CAPITAL_SD = 0.40, 0.35
# Financial capital is the weakest for poor households; offsets sum to 0 so province means stay put.
_CAPITAL_OFFSET = np.array([0.10, 0.05, -0.30, 0.05, 0.10])


class HouseholdFileError(ValueError):
    """A household file that cannot be used as one."""


def tier_of(mean_scores) -> np.ndarray:
    """Tier 1-4 of each mean capital score; a mean exactly on a cut-point goes to the LOWER tier.

    Means are rounded to 9 decimals first so float noise (1.7500000000000002) cannot push a mean that is
    on a cut-point up a tier. NaN gives 0 (no tier), which no tier filter selects.
    """
    m = np.round(np.asarray(mean_scores, dtype="float64"), 9)
    tiers = (np.searchsorted(np.asarray(TIER_CUTS), m, side="left") + 1).astype("int8")
    tiers[np.isnan(m)] = 0
    return tiers


def mean_score(df: pd.DataFrame) -> pd.Series:
    """Mean of the 5 capital scores of each household."""
    return df[list(CAPITAL_COLUMNS)].mean(axis=1)


def _largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integer shares of ``total`` proportional to ``weights``; ties go to the earlier row."""
    w = weights.astype("int64")
    quota, remainder = np.divmod(w * total, w.sum())  # exact integers: no float ties
    short = total - int(quota.sum())
    order = np.lexsort((np.arange(len(w)), -remainder))
    quota[order[:short]] += 1
    return quota


def _members(rng: np.random.Generator, n: int, total: int) -> np.ndarray:
    """Household sizes 1..MAX_MEMBERS around total/n, nudged by ±1 on seeded households to hit ``total``."""
    members = np.clip(1 + rng.poisson(total / n - 1, n), 1, MAX_MEMBERS)
    while (diff := total - int(members.sum())) != 0:
        step = 1 if diff > 0 else -1
        room = np.flatnonzero(members < MAX_MEMBERS if step > 0 else members > 1)
        members[rng.permutation(room)[: abs(diff)]] += step
    return members


def synthetic_capitals(rng: np.random.Generator, latent: np.ndarray) -> np.ndarray:
    """Capital scores (quarter steps, 1-4) around each household's latent mean score."""
    raw = latent[:, None] + _CAPITAL_OFFSET + rng.normal(0, _CAPITAL_SD, (len(latent), len(CAPITAL_KEYS)))
    return np.round(np.clip(raw, 1, 4) * 4) / 4


def deprivation(capitals: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The synthetic rule for a household's deprived dimensions, from the capital each dimension follows: always
    at or below DEPRIVED_AT_MOST, sometimes up to MAYBE_DEPRIVED_AT_MOST, and at least one (it is on the list)."""
    linked = capitals[:, [CAPITAL_KEYS.index(DIMENSION_CAPITAL[d]) for d in DIMENSION_KEYS]]
    noise = rng.random(linked.shape) < DEPRIVED_NOISE
    deprived = (linked <= DEPRIVED_AT_MOST) | ((linked <= MAYBE_DEPRIVED_AT_MOST) & noise)
    none = ~deprived.any(axis=1)
    deprived[none, np.argmin(linked[none], axis=1)] = True  # argmin: first (DIMENSION_KEYS order) on ties
    return deprived


def synthesize(
    weights: pd.DataFrame,
    *,
    seed: int = 2566,
    total_households: int = 235_704,
    total_members: int = 1_039_270,
    referred: int = 15_696,
) -> pd.DataFrame:
    """A deterministic synthetic household file shaped like PPAOS's published totals (24 Mar 2023).

    ``weights`` has ``subdistrict_code``, ``province_code`` and ``weight`` (TPMAP target-poor households);
    households are apportioned to subdistricts by largest remainder on ``weight``.
    """
    missing = {"subdistrict_code", "province_code", "weight"} - set(weights.columns)
    if missing:
        raise ValueError(f"weights lack column(s): {', '.join(sorted(missing))}")
    w = weights.sort_values("subdistrict_code", kind="stable").reset_index(drop=True)
    if w["subdistrict_code"].duplicated().any():
        raise ValueError("weights have duplicate subdistrict codes")
    wt = w["weight"].to_numpy()
    if (wt < 0).any() or wt.sum() <= 0:
        raise ValueError("weights must be >= 0 with a positive total")
    n = total_households
    if n <= 0 or not n <= total_members <= MAX_MEMBERS * n:
        raise ValueError(f"need 0 < households <= members <= {MAX_MEMBERS} x households")
    if not 0 <= referred <= n // 5:
        raise ValueError(f"referred must be within the lowest 20 % ({n // 5} households)")

    rng = np.random.default_rng(seed)
    per_sub = _largest_remainder(wt, n)
    sub = np.repeat(np.arange(len(w)), per_sub)
    provinces, prov_of_row = np.unique(w["province_code"].astype(str).to_numpy(), return_inverse=True)
    province_mean = rng.uniform(*_PROVINCE_MEAN_RANGE, len(provinces))

    members = _members(rng, n, total_members)
    latent = province_mean[prov_of_row[sub]] + rng.normal(0, LATENT_SD, n)
    capitals = synthetic_capitals(rng, latent)

    deprived = deprivation(capitals, rng)

    means = capitals.sum(axis=1) / len(CAPITAL_KEYS)
    bottom = np.lexsort((np.arange(n), means))[: n // 5]
    is_referred = np.zeros(n, dtype="int8")
    is_referred[rng.choice(bottom, size=referred, replace=False)] = 1

    width = max(7, len(str(n)))
    df = pd.DataFrame({
        "household_id": [f"SYN-{i:0{width}d}" for i in range(1, n + 1)],
        "subdistrict_code": w["subdistrict_code"].astype(str).to_numpy()[sub],
        "members": members,
        **dict(zip(CAPITAL_COLUMNS, capitals.T)),
        **dict(zip(DEPRIVED_COLUMNS, deprived.T)),
        "referred": is_referred,
        "survey_year": SYNTHETIC_YEAR,
    }).astype(HOUSEHOLD_DTYPES)
    df[TIER_COLUMN] = tier_of(means)
    return df


def write_household_file(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write the household file: UTF-8 CSV without BOM, HOUSEHOLD_COLUMNS in order, codes as text."""
    df[list(HOUSEHOLD_COLUMNS)].to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def read_household_file(path: str | os.PathLike) -> pd.DataFrame:
    """Read a household file (codes as text), typed, with the derived ``tier`` column (recomputed, not trusted)."""
    df = pd.read_csv(path, dtype={"household_id": str, "subdistrict_code": str}, encoding="utf-8-sig")
    missing = [c for c in HOUSEHOLD_COLUMNS if c not in df.columns]
    if missing:
        raise HouseholdFileError(f"{os.fspath(path)}: missing column(s): {', '.join(missing)}")
    for col, dtype in HOUSEHOLD_DTYPES.items():
        try:
            df[col] = df[col].astype(dtype)
        except (ValueError, TypeError) as exc:
            raise HouseholdFileError(f"{os.fspath(path)}: column {col!r} is not {dtype}: {exc}") from None
    df[TIER_COLUMN] = tier_of(mean_score(df))
    return df


def _tiers(df: pd.DataFrame) -> np.ndarray:
    return df[TIER_COLUMN].to_numpy() if TIER_COLUMN in df.columns else tier_of(mean_score(df))


def filter_mask(df: pd.DataFrame, dimensions, tiers) -> np.ndarray:
    """Households deprived in ANY selected dimension (union, as TPMAP) AND in a selected tier."""
    dims, tiers = list(dimensions), list(tiers)
    if not dims:
        raise ValueError("select at least one dimension")
    if not tiers:
        raise ValueError("select at least one tier")
    unknown = [d for d in dims if d not in DIMENSION_KEYS]
    if unknown:
        raise ValueError(f"unknown dimension(s): {', '.join(map(str, unknown))}")
    bad = [t for t in tiers if t not in TIER_NUMBERS]
    if bad:
        raise ValueError(f"tiers must be among {TIER_NUMBERS}, got {bad}")
    allowed = np.zeros(len(TIER_NUMBERS) + 1, dtype=bool)  # index 0 = no tier, never allowed
    allowed[tiers] = True
    deprived = df[[f"deprived_{d}" for d in dims]].to_numpy().any(axis=1)
    return deprived & allowed[_tiers(df)]


def aggregate(df: pd.DataFrame, level: str, dimensions, tiers) -> pd.DataFrame:
    """Per area of ``level``: households and members passing the filter, all households, referred passing."""
    if level not in LEVEL_BY_KEY:
        raise ValueError(f"unknown level: {level!r}")
    mask = filter_mask(df, dimensions, tiers)
    # Factorize the ~2,400 distinct subdistricts once, then cut the short uniques, not 236k strings.
    sub_idx, subs = pd.factorize(df["subdistrict_code"], sort=True)
    unit_of_sub, codes = pd.factorize(pd.Index(subs.astype(str)).str[: LEVEL_BY_KEY[level].code_len], sort=True)
    unit = unit_of_sub[sub_idx]
    k = len(codes)

    def count(weights=None):
        return np.bincount(unit, weights=weights, minlength=k).round().astype("int64")

    return pd.DataFrame({
        "code": pd.array(codes, dtype="str"),
        "households": count(mask.astype("float64")),
        "members": count(np.where(mask, df["members"].to_numpy(), 0).astype("float64")),
        "households_all": count(),
        "referred": count((mask & (df["referred"].to_numpy() == 1)).astype("float64")),
    })
