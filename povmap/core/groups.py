"""Province groups (20 PPAOS pilot provinces, 7 SRA provinces), read from ``data/province_groups.csv``.

The groups are editable data with their source note, not code.
"""
from __future__ import annotations

from functools import lru_cache

import pandas as pd

from povmap.core.config import PROVINCE_GROUPS_FILE


@lru_cache(maxsize=1)
def province_groups() -> pd.DataFrame:
    return pd.read_csv(PROVINCE_GROUPS_FILE, dtype=str, keep_default_na=False)


def group_provinces(group: str) -> tuple[str, ...]:
    """Province codes of a group (``ppaos20`` or ``sra7``), in file order."""
    df = province_groups()
    codes = tuple(df.loc[df["group"] == group, "province_code"])
    if not codes:
        raise ValueError(f"unknown province group: {group!r}")
    return codes
