"""How robust is the shortlist to the weights? Random weight perturbations and one-criterion removals.

1. **Perturbation**: every positive weight is multiplied, independently, by a factor drawn uniformly from
   ``[1 - spread, 1 + spread]`` (``numpy.random.default_rng(seed)``, so a run is reproducible). For each draw
   the composite and the shortlist are recomputed with the same rule, eligibility and tie-break (score
   descending, then code ascending) as :func:`povmap.pilot.scoring.rank`. ``stay_share`` is the share of draws in
   which a shortlisted area is still shortlisted.
2. **Removal**: each weighted criterion in turn gets weight 0 (the others unchanged). A shortlisted area
   that then leaves the shortlist is "in only because of that weight"; ``depends_on`` names the criterion
   whose removal pushes it furthest down (``depends_on_all`` lists every such criterion, furthest first).
   With a single weighted criterion there is nothing left to rank by, so no removal is tested.

An area is ``fragile`` when ``stay_share < fragile_below`` or removing one criterion alone drops it.
All draws are scored at once (areas x draws); only the few removals loop, once per criterion.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from povmap.pilot.scoring import (
    Rule,
    ScoreError,
    code_order,
    composite,
    criteria_matrix,
    eligible_mask,
    group_ids,
    places,
    require_groups,
    shortlisted,
    weighted_sum,
)


@dataclass(frozen=True)
class Stability:
    """Per shortlisted code (index): ``stay_share``, ``depends_on``, ``depends_on_all``, ``fragile``."""

    table: pd.DataFrame
    draws: int
    spread: float
    seed: int
    fragile_below: float


def draw_shortlists(scores: np.ndarray, gid: np.ndarray | None, rule: Rule) -> np.ndarray:
    """Shortlist membership, draws x areas, of score rows whose columns are the eligible areas in code order.

    Because the columns are in code order, "first among equal scores" is "first column", which is the
    tie-break of :func:`povmap.pilot.scoring.rank`. ``gid`` (group of each column) is needed with ``per_group_k``.
    """
    if rule.per_group_k is None:
        return _top(scores, rule.top_n)
    return _best_of_groups(scores, gid, rule.per_group_k)


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    d, n = scores.shape
    if k >= n:
        return np.ones((d, n), dtype=bool)
    # The k-th best score of each draw: everything at or above it is in, unless it is shared (a tie).
    t = np.partition(scores, n - k, axis=1)[:, n - k, None]
    out = scores >= t
    tied = np.flatnonzero(out.sum(axis=1) > k)
    if len(tied):  # rare: keep the first columns (lowest codes) among those equal to the threshold
        s, tt = scores[tied], t[tied]
        at = s == tt
        need = k - (s > tt).sum(axis=1, keepdims=True)
        out[tied] = (s > tt) | (at & (np.cumsum(at, axis=1) <= need))
    return out


def _best_of_groups(scores: np.ndarray, gid: np.ndarray, k: int) -> np.ndarray:
    """Best k of each group per draw, with one sort of packed integer keys (group, -score, code) per draw.

    A value sort of int64 keys is several times faster than an argsort of the scores. The key keeps the
    group, then the top ``sb`` bits of the score (a score in 0..1 is a non-negative double, whose bit
    pattern orders like the number), then the column. Two different scores that share those bits (closer
    than about 1e-9 relative for 7,436 areas in 928 districts) would be ordered by code instead of by
    score: such draws are detected and redone exactly with a lexsort (in practice never).
    """
    d, n = scores.shape
    g_count = int(gid.max()) + 1
    cb, gb = max(1, (n - 1).bit_length()), max(1, (g_count - 1).bit_length())
    sb = max(1, min(62, 63 - cb - gb))  # any width is exact thanks to the check below; wider is faster
    col = np.arange(n, dtype=np.int64)
    sizes = np.bincount(gid, minlength=g_count)
    start = np.repeat(np.cumsum(sizes) - sizes, sizes)
    keep = np.arange(n) - start < k  # sorted positions that are among the first k of their group
    out = np.zeros((d, n), dtype=bool)
    key = (scores + 0.0).view(np.int64)  # a fresh array; + 0.0 turns -0.0 into 0.0
    key >>= 62 - sb
    np.subtract((1 << sb) - 1, key, out=key)  # best score first
    key <<= cb
    key |= (gid.astype(np.int64) << (sb + cb)) | col
    key.sort(axis=1)
    # Exactness check: neighbours with the same group and score bits must have non-increasing scores.
    same = (key[:, 1:] ^ key[:, :-1]) < (1 << cb)
    r, c = np.nonzero(same) if same.any() else (np.zeros(0, np.int64),) * 2
    low = (1 << cb) - 1
    bad = np.unique(r[scores[r, key[r, c] & low] < scores[r, key[r, c + 1] & low]])
    cols = key[:, keep] & low
    for i in bad:
        cols[i] = np.lexsort((col, -scores[i], gid))[keep]
    out.reshape(-1)[(cols + (np.arange(d) * n)[:, None]).ravel()] = True
    return out


def stability(norm: pd.DataFrame, weights: Mapping[str, float], *, eligible: pd.Series | None = None,
              groups: pd.Series | None = None, rule: Rule = Rule(), draws: int = 500, spread: float = 0.20,
              seed: int = 2566, fragile_below: float = 0.5) -> Stability:
    """Perturbation and removal checks of the shortlist that ``rank(composite(norm, weights), ...)`` gives.

    ``norm`` must hold values in 0..1 (or NaN), as :func:`povmap.pilot.scoring.normalise` returns.
    """
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 1:
        raise ScoreError("error.score.draws", value=repr(draws))
    if not 0.0 <= spread <= 1.0:
        raise ScoreError("error.score.spread", value=repr(spread))
    if not 0.0 <= fragile_below <= 1.0:
        raise ScoreError("error.score.fragile", value=repr(fragile_below))
    require_groups(rule, groups)
    x, w, keys = criteria_matrix(norm, weights)
    if ((x < 0) | (x > 1)).any():
        raise ValueError("stability() needs normalised criteria (0..1); use scoring.normalise first")
    wmap = dict(zip(keys, w))
    idx = norm.index
    cpos = code_order(idx)
    gid = None if groups is None else group_ids(groups, idx)
    elig = eligible_mask(eligible, idx)
    _, rk, grk = places(composite(norm, wmap).to_numpy(), elig, cpos, gid)
    base = shortlisted(rk, grk, rule)
    # The shortlist in rank order, as rank() lists it.
    short_rows = np.flatnonzero(base)
    short_rows = short_rows[np.argsort(rk[short_rows], kind="stable")]
    short = pd.Index(idx[short_rows], name="code")

    # Draws: eligible areas as columns, in ascending code order (draw_shortlists' tie-break).
    stay = np.zeros(0)
    if len(short_rows):
        cols = np.flatnonzero(elig)
        cols = cols[np.argsort(cpos[cols], kind="stable")]
        rng = np.random.default_rng(seed)
        factors = rng.uniform(1.0 - spread, 1.0 + spread, size=(len(w), draws))
        inside = draw_shortlists(weighted_sum(x[cols], w[:, None] * factors), None if gid is None else gid[cols],
                                 rule)
        where = np.empty(len(idx), dtype=np.int64)
        where[cols] = np.arange(len(cols))
        stay = inside[:, where[short_rows]].mean(axis=0)

    # Removals: the place each shortlisted area falls to without one criterion (NaN while it stays in).
    removable = keys if len(keys) > 1 else []
    fall = np.full((len(short_rows), len(removable)), np.nan)
    for j, key in enumerate(removable):
        s = composite(norm, {k: v for k, v in wmap.items() if k != key}).to_numpy()
        _, rk_j, grk_j = places(s, elig, cpos, gid)
        out = ~shortlisted(rk_j, grk_j, rule)[short_rows]
        fall[out, j] = (grk_j if rule.per_group_k is not None else rk_j)[short_rows][out]
    # Furthest fall first; equal falls keep the criterion order.
    order = np.argsort(np.where(np.isnan(fall), np.inf, -fall), axis=1, kind="stable")
    count = (~np.isnan(fall)).sum(axis=1)
    dep_all = [tuple(removable[j] for j in o[:c]) for o, c in zip(order.tolist(), count.tolist())]
    table = pd.DataFrame({
        "stay_share": stay,
        "depends_on": pd.Series([d[0] if d else None for d in dep_all], index=short, dtype=object),
        "depends_on_all": pd.Series(dep_all, index=short, dtype=object),
    }, index=short)
    table["fragile"] = (table["stay_share"] < fragile_below) | table["depends_on"].notna()
    return Stability(table, draws=int(draws), spread=float(spread), seed=int(seed), fragile_below=float(fragile_below))
