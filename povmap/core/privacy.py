"""Small-cell suppression of household aggregates: no figure built from fewer than k households is shown.

Household rows never leave the server; what a page shows or exports is an aggregate passed through
:func:`suppress_small` (or built with :func:`private_aggregate`). A cell counted over 1 to k-1 households
becomes missing (``<NA>``), displayed by :func:`format_suppressed` as ``"< k"``. Zero stays 0: it
describes no household. Complementary suppression (recovering a hidden cell from a row total) is not
attempted; the page shows no total that would allow it inside an area.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from povmap.core import households as hh

DEFAULT_K = 5
# Each count column and the household count it is built from.
BASIS = {"households": "households", "members": "households", "referred": "referred",
         "households_all": "households_all"}


def suppressed_label(k: int = DEFAULT_K) -> str:
    return f"< {k}"


def suppress_small(agg: pd.DataFrame, k: int = DEFAULT_K) -> pd.DataFrame:
    """A copy of ``agg`` (as from :func:`povmap.core.households.aggregate`) where every count built from fewer
    than ``k`` households is ``<NA>``; an area with fewer than ``k`` households in all has all its counts
    hidden. Adds a boolean column ``suppressed`` (any cell hidden in the row)."""
    if k < 1:
        raise ValueError("k must be at least 1")
    out = agg.copy()
    cols = [c for c in BASIS if c in out.columns]
    small_area = (out["households_all"] < k) if "households_all" in out.columns else pd.Series(False, index=out.index)
    hidden = pd.Series(False, index=out.index)
    masks = {}
    for c in cols:
        basis = out[BASIS[c]]
        masks[c] = ((basis > 0) & (basis < k)) | small_area
    for c in cols:
        out[c] = out[c].astype("Int64").mask(masks[c])
        hidden |= masks[c]
    out["suppressed"] = hidden.to_numpy()
    return out


def hide_small(basis, k: int = DEFAULT_K, *, small=None, groups=()) -> np.ndarray:
    """Which cells to hide. ``basis``: households each cell rests on (NaN = no figure, never hidden);
    ``small``: cells to hide anyway (e.g. an area with fewer than k households in all); ``groups``:
    partitions of the cells, each a label per cell, where the cells of one label add up to a figure shown
    elsewhere (a parent area's figure). The cells together always add up to the view's total.

    Primary: 0 < basis < k. Complementary: a lone hidden cell could be recovered by subtracting the shown
    cells from their total, so in every group hide the next smallest cells until at least two are hidden
    and together they rest on at least k households (or none is left to hide); repeat until no group
    changes. Written here because no Python library does cell suppression (sdcTable and tau-Argus are R
    and Java), and this table needs only the rule above."""
    basis = np.asarray(basis, dtype="float64")
    hidden = (basis > 0) & (basis < k)
    if small is not None:
        hidden |= np.asarray(small, dtype=bool)
    if not hidden.any():
        return hidden
    partitions = [pd.factorize(np.asarray(g))[0] for g in groups] + [np.zeros(len(basis), dtype="int64")]
    changed = True
    while changed:
        changed = False
        for labels in partitions:
            for g in np.unique(labels[hidden]):
                members = np.flatnonzero(labels == g)
                while True:
                    h = members[hidden[members]]
                    if len(h) >= 2 and np.nansum(basis[h]) >= k:
                        break
                    free = members[~hidden[members] & (basis[members] > 0)]
                    if len(free) == 0:
                        break
                    hidden[free[np.argmin(basis[free])]] = True
                    changed = True
    return hidden


def private_aggregate(df: pd.DataFrame, level: str, dimensions, tiers, *, k: int = DEFAULT_K) -> pd.DataFrame:
    """:func:`povmap.core.households.aggregate` with :func:`suppress_small` applied: what a page may show."""
    return suppress_small(hh.aggregate(df, level, dimensions, tiers), k)


def shown_count(value, k: int = DEFAULT_K, decimals: int = 0) -> str:
    """A figure as display text (``1,234``), or ``"< k"`` where it is hidden (None, NaN or <NA>)."""
    if value is None or pd.isna(value):
        return suppressed_label(k)
    return f"{float(value):,.{decimals}f}"


def format_suppressed(agg: pd.DataFrame, k: int = DEFAULT_K, columns=None) -> pd.DataFrame:
    """Counts as display text: ``1,234``, hidden cells as ``"< k"``."""
    out = agg.copy()
    for c in columns or [c for c in BASIS if c in out.columns]:
        out[c] = [suppressed_label(k) if pd.isna(v) else f"{int(v):,}" for v in out[c]]
    return out
