"""How protected household figures are shown: a count of 1 to k-1 is ``"< k"``.

The protection itself is :mod:`povmap.core.cellkey` (the cell key method on one base table, every figure a sum of
it); this module is only its display. TPMAP figures are public and exact and never pass through here.
"""
from __future__ import annotations

import pandas as pd

from povmap.core.cellkey import min_for_mean, noise_bound
from povmap.core.i18n import t

DEFAULT_K = 5


def suppressed_label(k: int = DEFAULT_K) -> str:
    return f"< {k}"


def shown_count(value, k: int = DEFAULT_K, decimals: int = 0) -> str:
    """A figure as display text (``1,234``), or ``"< k"`` where it is hidden (None, NaN or <NA>)."""
    if value is None or pd.isna(value):
        return suppressed_label(k)
    return f"{float(value):,.{decimals}f}"


def shown_share(value, decimals: int = 1) -> str:
    """A share as display text, or "–" where it is not shown (its count is hidden or too few households)."""
    if value is None or pd.isna(value):
        return "–"
    return f"{float(value):,.{decimals}f}"


def privacy_note(k: int, lang: str) -> str:
    """The short note beside household figures: what "< k" means and that figures carry small adjustments."""
    return t("privacy.note_short", lang, k=k, d=noise_bound(k))


def privacy_text(k: int, lang: str) -> str:
    """The full explanation of the protection (Data page)."""
    return t("data.privacy", lang, k=k, d=noise_bound(k), mean_min=min_for_mean(k))


def export_line(k: int, lang: str) -> tuple[str, str]:
    """The line an export of household figures carries in its header."""
    return t("privacy.export_label", lang), t("privacy.adjusted", lang, k=k)
