"""The synthetic second survey round: the same households a year later, for the change views.

The rules (README, "Change between rounds"), applied in this order with one seeded generator:

- **Who leaves the list**: 3 % of households, plus 5 % more of those in tier 4 (อยู่ดี), who graduate out.
- **Who changes**: 40 % of the households that stay get new capital scores; the other 60 % keep theirs exactly.
  A change is the province's drift (each province draws one from :data:`PROVINCE_DRIFT`, so provinces differ and
  the change map is not uniform) plus :data:`REFERRED_GAIN` for a household referred for help in round 1, plus a
  household's own move (sd :data:`HOUSEHOLD_SD`) and each capital's (sd :data:`CAPITAL_SD`), on the quarter-point
  scale, kept within 1-4. Tiers follow from the new scores by the usual rule.
- **Members**: 8 % of the staying households gain or lose one member (1-12).
- **New households**: 4 % of round 1's count, in subdistricts drawn in proportion to round 1's households, with
  scores drawn around their province's round-1 mean as the first round was; ids continue after round 1's.
- Deprivation flags are drawn again from the new scores by the first round's rule; ``referred`` is carried over
  (the referral happened after round 1) and new households are not referred.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from povmap.core import households as hh

SECOND_ROUND_SEED = 2567
SECOND_ROUND_YEAR = hh.SYNTHETIC_YEAR + 1
LEAVE, LEAVE_TIER4 = 0.03, 0.05
CHANGE = 0.40
PROVINCE_DRIFT = (-0.25, 0.20)  # mean capital score, per province
REFERRED_GAIN = 0.30
HOUSEHOLD_SD, CAPITAL_SD = 0.30, 0.20
MEMBER_MOVE = 0.08
NEW = 0.04


def second_round(first: pd.DataFrame, *, seed: int = SECOND_ROUND_SEED, year: int = SECOND_ROUND_YEAR) -> pd.DataFrame:
    """Round 2 of the synthetic file ``first`` (from :func:`povmap.core.households.synthesize`), deterministic."""
    rng = np.random.default_rng(seed)
    df = first.sort_values("household_id", kind="stable").reset_index(drop=True)
    n = len(df)
    tier = hh.tier_of(hh.mean_score(df).to_numpy())
    stays = rng.random(n) >= LEAVE + LEAVE_TIER4 * (tier == 4)

    provinces, prov_idx = np.unique(df["subdistrict_code"].str[:2].to_numpy(), return_inverse=True)
    drift = rng.uniform(*PROVINCE_DRIFT, len(provinces))
    caps = df[list(hh.CAPITAL_COLUMNS)].to_numpy(dtype="float64")
    changes = rng.random(n) < CHANGE
    shift = (drift[prov_idx] + REFERRED_GAIN * (df["referred"].to_numpy() == 1)
             + rng.normal(0, HOUSEHOLD_SD, n))[:, None] + rng.normal(0, CAPITAL_SD, caps.shape)
    moved = np.round(np.clip(caps + shift, 1, 4) * 4) / 4
    caps = np.where(changes[:, None], moved, caps)
    members = df["members"].to_numpy(dtype="int64").copy()
    step = rng.choice([-1, 1], n) * (rng.random(n) < MEMBER_MOVE)
    members = np.clip(members + step, 1, hh.MAX_MEMBERS)

    kept = pd.DataFrame({"household_id": df["household_id"], "subdistrict_code": df["subdistrict_code"],
                         "members": members, **dict(zip(hh.CAPITAL_COLUMNS, caps.T)),
                         "referred": df["referred"].to_numpy()})[stays]
    out = pd.concat([kept, _newcomers(rng, df, prov_idx, provinces)], ignore_index=True)
    flags = hh.deprivation(out[list(hh.CAPITAL_COLUMNS)].to_numpy(dtype="float64"), rng)
    out = out.assign(**dict(zip(hh.DEPRIVED_COLUMNS, flags.T)), survey_year=year)
    out = out[list(hh.HOUSEHOLD_COLUMNS)].astype(hh.HOUSEHOLD_DTYPES)
    out[hh.TIER_COLUMN] = hh.tier_of(hh.mean_score(out).to_numpy())
    return out


def _newcomers(rng: np.random.Generator, first: pd.DataFrame, prov_idx: np.ndarray,
               provinces: np.ndarray) -> pd.DataFrame:
    """New households in round 2, drawn as round 1 drew its households."""
    n_new = int(round(NEW * len(first)))
    pick = rng.integers(0, len(first), n_new)  # a round-1 household's place: proportional to round 1's counts
    prov_mean = (pd.Series(hh.mean_score(first).to_numpy()).groupby(prov_idx).mean()
                 .reindex(range(len(provinces))).to_numpy())
    latent = prov_mean[prov_idx[pick]] + rng.normal(0, hh.LATENT_SD, n_new)
    caps = hh.synthetic_capitals(rng, latent)
    ids = [int(i.rsplit("-", 1)[1]) for i in first["household_id"] if str(i).startswith("SYN-")]
    start = max(ids, default=0) + 1
    width = max(7, len(str(start + n_new)))
    return pd.DataFrame({"household_id": [f"SYN-{i:0{width}d}" for i in range(start, start + n_new)],
                         "subdistrict_code": first["subdistrict_code"].to_numpy()[pick],
                         "members": np.clip(1 + rng.poisson(3.4, n_new), 1, hh.MAX_MEMBERS),
                         **dict(zip(hh.CAPITAL_COLUMNS, caps.T)), "referred": 0})
