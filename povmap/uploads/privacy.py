"""Small-cell suppression of household aggregates: no figure built from fewer than k households is shown.

Household rows never leave the server; what a page shows or exports is an aggregate passed through
:func:`suppress_small` (or built with :func:`private_aggregate`). A cell counted over 1 to k-1 households
becomes missing (``<NA>``), displayed by :func:`format_suppressed` as ``"< k"``. Zero stays 0: it
describes no household. Complementary suppression (recovering a hidden cell from a row total) is not
attempted; the page shows no total that would allow it inside an area.
"""
from __future__ import annotations

import pandas as pd

from .. import households as hh

DEFAULT_K = 5
# Each count column and the household count it is built from.
BASIS = {"households": "households", "members": "households", "referred": "referred",
         "households_all": "households_all"}


def suppressed_label(k: int = DEFAULT_K) -> str:
    return f"< {k}"


def suppress_small(agg: pd.DataFrame, k: int = DEFAULT_K) -> pd.DataFrame:
    """A copy of ``agg`` (as from :func:`povmap.households.aggregate`) where every count built from fewer
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


def private_aggregate(df: pd.DataFrame, level: str, dimensions, tiers, *, k: int = DEFAULT_K) -> pd.DataFrame:
    """:func:`povmap.households.aggregate` with :func:`suppress_small` applied: what a page may show."""
    return suppress_small(hh.aggregate(df, level, dimensions, tiers), k)


def format_suppressed(agg: pd.DataFrame, k: int = DEFAULT_K, columns=None) -> pd.DataFrame:
    """Counts as display text: ``1,234``, hidden cells as ``"< k"``."""
    out = agg.copy()
    for c in columns or [c for c in BASIS if c in out.columns]:
        out[c] = [suppressed_label(k) if pd.isna(v) else f"{int(v):,}" for v in out[c]]
    return out
