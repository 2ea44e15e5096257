"""How protected household figures are shown: a count of 1 to k-1 is ``"< k"``.

The protection itself is :mod:`povmap.core.cellkey` (the cell key method on one base table, every figure a sum of
it); this module is only its display. TPMAP figures are public and exact and never pass through here.
"""
from __future__ import annotations

import pandas as pd

DEFAULT_K = 5


def suppressed_label(k: int = DEFAULT_K) -> str:
    return f"< {k}"


def shown_count(value, k: int = DEFAULT_K, decimals: int = 0) -> str:
    """A figure as display text (``1,234``), or ``"< k"`` where it is hidden (None, NaN or <NA>)."""
    if value is None or pd.isna(value):
        return suppressed_label(k)
    return f"{float(value):,.{decimals}f}"
