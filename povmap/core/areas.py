"""The admin list (77 provinces, 928 districts, 7,436 subdistricts) from ``geothai``, keyed by DOPA code."""
from __future__ import annotations

from functools import lru_cache

import geothai
import pandas as pd
from geothai.abolished import abolished_areas


@lru_cache(maxsize=1)
def admin_areas() -> pd.DataFrame:
    """One row per current area: code, level, name_th, name_en, parent_code, province_code."""
    rows = []
    for p in geothai.provinces():
        rows.append((p.code, "province", p.name_th, p.name_en, "", p.code))
        for d in geothai.districts(p.code):
            rows.append((d.code, "district", d.name_th, d.name_en, p.code, p.code))
            for s in geothai.subdistricts(d.code):
                rows.append((s.code, "subdistrict", s.name_th, s.name_en, d.code, p.code))
    return pd.DataFrame(
        rows, columns=["code", "level", "name_th", "name_en", "parent_code", "province_code"]
    )


@lru_cache(maxsize=1)
def abolished_successors() -> dict[str, tuple[str, ...]]:
    """Abolished code -> its successors (possibly empty), from ``geothai.abolished``."""
    return {a.code: tuple(a.successors) for a in abolished_areas()}
