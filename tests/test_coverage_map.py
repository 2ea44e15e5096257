"""The Area Managers' coverage map: districts coloured by the manager working there, as the pilot reads coverage."""
from __future__ import annotations

import pandas as pd

from povmap.core.i18n import t
from povmap.present.coverage import NONE_RGB, SEVERAL_RGB, coverage_map
from povmap.userdb.areamanagers import covered
from povmap.web.maplayer import area_properties


def test_each_district_has_its_managers_colour_and_the_legend_counts_them(engine):
    cov = pd.DataFrame({"manager": ["Kalasin U", "MSU", "Kalasin U", "<b>x</b>"],
                        "code": ["46", "4401", "440101", "9501"], "note": ""})
    spec, legend = coverage_map(engine, cov, "en")
    props = {p["c"]: p for p in area_properties(spec.args)}
    kalasin = [c for c in props if c.startswith("46")]
    assert kalasin and len({tuple(props[c]["f"]) for c in kalasin}) == 1  # one manager, one colour
    assert tuple(props["4401"]["f"][:3]) == SEVERAL_RGB and props["4401"]["m"] == "Kalasin U, MSU"
    assert tuple(props["1001"]["f"][:3]) == NONE_RGB and props["1001"]["m"] == t("am.map.none", "en")
    counts = {r.label: r.count for r in legend}
    assert counts["Kalasin U"] == len(kalasin) and counts[t("am.map.several", "en")] == 1
    assert counts["<b>x</b>"] == 1  # a name as typed (the legend template escapes it)
    assert sum(counts.values()) == len(props)
    # the map agrees with the pilot's coverage criterion
    flags = covered(cov, list(props))
    assert {c for c, p in props.items() if tuple(p["f"][:3]) != NONE_RGB} == set(flags[flags].index)
