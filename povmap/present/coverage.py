"""The Area Managers' coverage map: which districts an Area Manager already works in, one colour per manager.

A district is covered when it, its province or one of its subdistricts is listed (as the pilot's coverage
criterion reads the table: :func:`povmap.userdb.areamanagers.managers_of`). Colours are ColorBrewer's qualitative
Set2 (colour-blind safe for up to 8); a district with several managers has its own colour.
"""
from __future__ import annotations

import pandas as pd
from plotly.colors import colorbrewer, hex_to_rgb

from povmap.core.engine import Engine
from povmap.core.i18n import t
from povmap.present.explorer import LegendRow
from povmap.userdb.areamanagers import managers_of
from povmap.web.maplayer import MAP_HEIGHT_PX, MapSpec, build_map

LEVEL = "district"
_SET2 = [tuple(hex_to_rgb(c)) if c.startswith("#") else tuple(int(v) for v in c[4:-1].split(","))
         for c in colorbrewer.Set2]
SEVERAL_RGB = (90, 90, 90)
OTHER_RGB = (150, 150, 150)  # managers beyond the palette
NONE_RGB = (236, 236, 236)


def coverage_map(engine: Engine, coverage: pd.DataFrame, lang: str,
                 size_px: tuple[int, int] = (700, MAP_HEIGHT_PX)) -> tuple[MapSpec, list[LegendRow]]:
    """The districts of Thailand coloured by the Area Manager working there, and the legend."""
    bnd = engine.boundaries(LEVEL)
    codes = bnd.index.to_numpy(dtype=object)
    who = managers_of(coverage, codes)
    single = who[(who != "") & ~who.str.contains(", ", regex=False)]
    ranked = single.value_counts().index.tolist()  # the managers with most districts get the palette first
    colour = {m: _SET2[i] if i < len(_SET2) else OTHER_RGB for i, m in enumerate(ranked)}

    def rgb(names: str) -> tuple[int, int, int]:
        if not names:
            return NONE_RGB
        return SEVERAL_RGB if ", " in names else colour[names]

    fills = [f"[{r},{g},{b},230]" for r, g, b in (rgb(n) for n in who.tolist())]
    shown = [n or t("am.map.none", lang) for n in who.tolist()]
    spec = build_map(bnd, codes, fills=fills, tooltip_lines={"m": ("{m}", shown)}, level=LEVEL, size_px=size_px)
    legend = [LegendRow(colour[m], m, int((who == m).sum())) for m in ranked if colour[m] != OTHER_RGB]
    if any(c == OTHER_RGB for c in colour.values()):
        legend.append(LegendRow(OTHER_RGB, t("am.map.other", lang),
                                int(single.isin([m for m in ranked if colour[m] == OTHER_RGB]).sum())))
    several = int(who.str.contains(", ", regex=False).sum())
    if several:
        legend.append(LegendRow(SEVERAL_RGB, t("am.map.several", lang), several))
    legend.append(LegendRow(NONE_RGB, t("am.map.none", lang), int((who == "").sum())))
    return spec, legend
