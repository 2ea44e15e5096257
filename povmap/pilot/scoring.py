"""Composite priority score over criteria, and the ranked shortlist of pilot areas.

Method, in order (every step is vectorised; no loop over areas):

1. **Normalise** each criterion to 0..1 (:func:`normalise`), higher = more priority. ``percentile`` uses
   ranks, so one extreme area cannot squash the others; ``minmax`` keeps the distances between values.
2. **Combine** with the user's weights into a weighted mean (:func:`composite`); an unknown value counts as 0.
3. **Rank** the eligible areas, best first, and shortlist the top N nationally or the best k of each group
   (district) (:func:`rank`). Equal scores are ordered by area code, so a result never depends on row order.

The score of an area therefore depends only on its own values, the other areas' values of the same
criteria, and the weights' ratios (scaling every weight by the same factor changes nothing).
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from numbers import Real

import numpy as np
import pandas as pd

from povmap.core.errors import PovmapError

NORMALISATIONS = ("percentile", "minmax")


class ScoreError(PovmapError):
    """Weights, method or shortlist rule that cannot produce a score."""


def check_weights(weights: Mapping[str, float], available: Iterable[str]) -> dict[str, float]:
    """Validated weights: finite, >= 0, keys among ``available``; weight-0 criteria dropped.

    The result follows the order of ``available`` so every later step sees the criteria in a fixed order.
    Raises :class:`ScoreError` for an unknown key, a weight that is not a finite non-negative number,
    or when no criterion has a positive weight.
    """
    available = list(available)
    for key, w in weights.items():
        if key not in available:
            raise ScoreError("error.score.unknown_criterion", criterion=key, choices=", ".join(map(str, available)))
        if isinstance(w, bool) or not isinstance(w, Real) or not math.isfinite(w) or w < 0:
            raise ScoreError("error.score.bad_weight", criterion=key, value=repr(w))
    out = {k: float(weights[k]) for k in available if k in weights and weights[k] > 0}
    if not out:
        raise ScoreError("error.score.zero_weights")
    return out


def normalise(values: pd.DataFrame, method: str) -> pd.DataFrame:
    """Each column to 0..1, higher = more priority; NaN (and +-inf, treated as unknown) stay NaN.

    ``percentile``: rank with ties averaged, ``(rank - 1) / (n - 1)`` over the n known values, so the
    lowest is 0 and the highest 1. ``minmax``: ``(x - min) / (max - min)``.
    A constant column (or a single known value) becomes 0.5 in both: it tells the areas apart on nothing,
    so it gets the neutral middle, which keeps its weight in the mean without moving any area up or down.
    """
    if method not in NORMALISATIONS:
        raise ScoreError("error.score.unknown_normalisation", method=method, choices=", ".join(NORMALISATIONS))
    x = values.to_numpy(dtype="float64", na_value=np.nan, copy=True)
    x[~np.isfinite(x)] = np.nan
    known = ~np.isnan(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "percentile":
            r = pd.DataFrame(x).rank(method="average").to_numpy()  # NaN stays NaN
            out = (r - 1.0) / (known.sum(axis=0) - 1.0)
        else:
            lo = np.where(known, x, np.inf).min(axis=0)
            hi = np.where(known, x, -np.inf).max(axis=0)
            out = (x - lo) / (hi - lo)
    # Only the constant (or single-valued) columns give 0/0 on a known value; NaN inputs stay NaN.
    out[known & np.isnan(out)] = 0.5
    return pd.DataFrame(out, index=values.index, columns=values.columns)


_BLOCK = 16  # draws per block: 16 x 7,436 doubles (~1 MB) stay in cache across the criteria


def weighted_sum(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted means, draws x areas: ``(w.T @ x.T) / w.sum(axis=0)[:, None]``.

    ``x`` is areas x criteria (no NaN), ``w`` criteria x draws. Computed as one multiply-add per criterion
    in a fixed order, not as a BLAS product: BLAS may round an element differently depending on its
    position or on the number of draws (fused multiply-add, blocking), while the stability draws must
    reproduce :func:`composite` bit for bit so that ties break the same way. Blocks of draws keep the
    accumulator in cache (about 25 ms for 7,436 areas x 9 criteria x 500 draws; BLAS: about 10 ms).
    """
    xt = np.ascontiguousarray(x.T)
    m, d = w.shape
    out = np.empty((d, xt.shape[1]))
    tmp = np.empty((min(d, _BLOCK), xt.shape[1]))
    for s in range(0, d, _BLOCK):
        wb = w[:, s:s + _BLOCK]
        acc, t = out[s:s + _BLOCK], tmp[:wb.shape[1]]
        np.multiply(wb[0][:, None], xt[0], out=acc)
        tot = wb[0].copy()
        for j in range(1, m):
            np.multiply(wb[j][:, None], xt[j], out=t)
            acc += t
            tot += wb[j]
        acc /= tot[:, None]
    return out


def criteria_matrix(norm: pd.DataFrame, weights: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(values with NaN as 0, positive weights, their keys) in the validated criterion order."""
    w = check_weights(weights, norm.columns)
    keys = list(w)
    x = norm[keys].to_numpy(dtype="float64", na_value=np.nan)
    return np.nan_to_num(x, nan=0.0), np.array([w[k] for k in keys]), keys


def composite(norm: pd.DataFrame, weights: Mapping[str, float]) -> pd.Series:
    """Weighted mean ``sum(w_i * n_i) / sum(w_i)`` over the positively weighted criteria, in 0..1.

    An unknown (NaN) value counts as 0, the lowest priority: an area must not climb the list on a
    criterion nobody has measured for it, and the denominator stays the same for every area so the
    scores remain comparable.
    """
    x, w, _ = criteria_matrix(norm, weights)
    return pd.Series(weighted_sum(x, w[:, None])[0], index=norm.index, name="score")


@dataclass(frozen=True)
class Rule:
    """How many areas the shortlist keeps: the national ``top_n``, or the best ``per_group_k`` of each group."""

    top_n: int = 20
    per_group_k: int | None = None  # keep the best k of each group (district) instead of one national top N

    def __post_init__(self):
        if not _whole(self.top_n):
            raise ScoreError("error.score.top_n", value=repr(self.top_n))
        if self.per_group_k is not None and not _whole(self.per_group_k):
            raise ScoreError("error.score.per_group_k", value=repr(self.per_group_k))


def _whole(v) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, np.integer)) and v >= 1


def require_groups(rule: Rule, groups) -> None:
    """The per-group rule needs the group (district) of every area."""
    if rule.per_group_k is not None and groups is None:
        raise ScoreError("error.score.needs_groups")


def code_order(index: pd.Index) -> np.ndarray:
    """Position of each code in ascending code order: the tie-break shared by :func:`rank` and the draws."""
    if not index.is_unique:
        raise ValueError("area codes must be unique")
    pos = np.empty(len(index), dtype=np.int64)
    pos[np.argsort(index.to_numpy(dtype=str), kind="stable")] = np.arange(len(index))
    return pos


def group_ids(groups: pd.Series, index: pd.Index) -> np.ndarray:
    """Integer group of each code; areas without a group share one group of their own."""
    ids, _ = pd.factorize(groups.reindex(index), use_na_sentinel=False)
    return ids.astype(np.int64)


def eligible_mask(eligible: pd.Series | None, index: pd.Index) -> np.ndarray:
    """Boolean eligibility per code; a code missing from ``eligible`` is not eligible."""
    if eligible is None:
        return np.ones(len(index), dtype=bool)
    return eligible.reindex(index).fillna(False).to_numpy(dtype=bool)


def places(s: np.ndarray, elig: np.ndarray, cpos: np.ndarray, gid: np.ndarray | None):
    """(order, rank, group rank) of scores ``s``: best first, equal scores by code; ranks are -1 if ineligible.

    ``order`` lists every row: the eligible by rank, then the ineligible by code.
    """
    n = len(s)
    order = np.lexsort((cpos, np.where(elig, -s, 0.0), ~elig))
    n_elig = int(elig.sum())
    rk = np.full(n, -1, dtype=np.int64)
    rk[order[:n_elig]] = np.arange(1, n_elig + 1)
    grk = np.full(n, -1, dtype=np.int64)
    if gid is not None and n_elig:
        top = order[:n_elig]
        # A stable sort by group of the rank order keeps each group's areas in rank order.
        by_group = top[np.argsort(gid[top], kind="stable")]
        g = gid[by_group]
        first = np.r_[True, g[1:] != g[:-1]]
        start = np.maximum.accumulate(np.where(first, np.arange(n_elig), 0))
        grk[by_group] = np.arange(n_elig) - start + 1
    return order, rk, grk


def shortlisted(rk: np.ndarray, grk: np.ndarray, rule: Rule) -> np.ndarray:
    """Which rows the rule keeps, from the ranks :func:`places` returns."""
    if rule.per_group_k is not None:
        return (grk >= 1) & (grk <= rule.per_group_k)
    return (rk >= 1) & (rk <= rule.top_n)


def rank(scores: pd.Series, *, eligible: pd.Series | None = None, groups: pd.Series | None = None,
         rule: Rule = Rule()) -> pd.DataFrame:
    """Ranked table, index = code, rows sorted by rank (ineligible last, by code).

    Columns: ``score``; ``rank`` (1 = best among the eligible, <NA> otherwise); ``group_rank`` (rank within
    the area's group among the eligible; <NA> without ``groups``); ``shortlisted``; ``eligible``.
    An area with a NaN score is not eligible. Equal scores are ordered by code ascending, so the result
    never depends on the input order. Without ``rule.per_group_k`` the top ``rule.top_n`` eligible areas
    are shortlisted; with it, the best k eligible of each group (``top_n`` is then ignored).
    """
    require_groups(rule, groups)
    idx = scores.index
    s = scores.to_numpy(dtype="float64", na_value=np.nan)
    elig = eligible_mask(eligible, idx) & ~np.isnan(s)
    gid = None if groups is None else group_ids(groups, idx)
    order, rk, grk = places(s, elig, code_order(idx), gid)
    out = pd.DataFrame({
        "score": s,
        "rank": pd.arrays.IntegerArray(rk, rk < 0),
        "group_rank": pd.arrays.IntegerArray(grk, grk < 0),
        "shortlisted": shortlisted(rk, grk, rule),
        "eligible": elig,
    }, index=idx).iloc[order]
    out.index.name = "code"
    return out
