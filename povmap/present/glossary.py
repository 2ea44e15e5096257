"""The glossary: each term a user meets on the pages, explained in a few plain sentences in both languages.

The texts are catalogue entries ``glossary.title.<term>`` / ``glossary.text.<term>``; this module only fixes
which terms there are and their order (grouped as a reader meets them: the map, then households, then pilots).
"""
from __future__ import annotations

from povmap.core.i18n import t

TERMS = (
    "target_poor", "dimension", "indicator", "rate", "per1000", "share", "rank", "classes", "not_placeable",
    "no_data", "tier", "capitals", "privacy", "round", "transition", "ppaos", "area_manager", "score", "lisa",
    "gistar", "robustness",
)


def entries(lang: str) -> list[tuple[str, str, str]]:
    """(term, title, text) in reading order."""
    return [(k, t(f"glossary.title.{k}", lang), t(f"glossary.text.{k}", lang)) for k in TERMS]
