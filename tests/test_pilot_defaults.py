"""The pilot's defaults put poverty first, and a criterion with no information is left out with a note (issue 15)."""
from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from povmap import pilot
from povmap.core.i18n import t
from povmap.core.vocab import CRITERION_BY_KEY, CRITERION_KEYS
from povmap.pilot.criteria import DATASET_CRITERIA, Frame
from povmap.present import pilotview
from povmap.userdb import areamanagers

NO_AM = pd.DataFrame(columns=["manager", "code", "note"], dtype=str)
POVERTY_GROUPS = {"concentration", "clustering", "depth", "trend"}


def poverty(keys) -> tuple[str, ...]:
    return tuple(k for k in keys if CRITERION_BY_KEY[k].group in POVERTY_GROUPS)


@pytest.fixture(scope="module")
def ppaos_crit(engine):
    return pilot.criteria_set(engine, Frame(scope="ppaos20", level="subdistrict"), pilot.DEFAULTS, NO_AM)


@pytest.mark.parametrize("dataset", sorted(DATASET_CRITERIA))
def test_poverty_criteria_carry_most_of_the_default_weight(dataset):
    w = {k: pilot.DEFAULT_WEIGHTS[k] for k in DATASET_CRITERIA[dataset] if k in pilot.DEFAULTS.enabled}
    assert sum(w[k] for k in poverty(w)) / sum(w.values()) >= 0.8  # four fifths or more
    assert set(pilot.DEFAULTS.enabled) == {k for k in CRITERION_KEYS if pilot.DEFAULT_WEIGHTS[k] > 0}


def test_coverage_with_no_area_manager_is_left_out_with_a_note(ppaos_crit):
    assert ppaos_crit.values["coverage"].nunique() == 1
    res = pilot.run(ppaos_crit, pilot.DEFAULTS, with_stability=False)
    assert "coverage" in res.constant and "coverage" not in res.weights
    note = res.notes[-1]
    assert "coverage" in note.criteria
    assert "Area Manager" in note.message("en") and "ผู้จัดการพื้นที่" in note.message("th")
    # The same ranking as with the criterion switched off by hand: it moved no area.
    off = pilot.run(ppaos_crit, replace(pilot.DEFAULTS, enabled=tuple(k for k in pilot.DEFAULTS.enabled
                                                                      if k != "coverage")), with_stability=False)
    pd.testing.assert_series_equal(res.ranked["score"], off.ranked["score"])
    assert res.settings == pilot.DEFAULTS  # kept in the settings: a saved scenario reopens as saved


def test_method_names_the_left_out_criterion(engine, ppaos_crit):
    res = pilot.run(ppaos_crit, pilot.DEFAULTS, with_stability=False)
    for lang in ("th", "en"):
        lines = dict(pilotview.method_lines(engine, res, lang))
        assert lines[t("pilot.m.constant", lang)] == CRITERION_BY_KEY["coverage"].label(lang)
        assert CRITERION_BY_KEY["coverage"].label(lang) not in lines[t("pilot.m.weights", lang)]


def test_coverage_counts_once_an_area_manager_is_entered(tmp_path, engine):
    db = tmp_path / "am.sqlite"
    areamanagers.add(db, "ม.กาฬสินธุ์", "46", valid_codes=set(engine.names.index))
    crit = pilot.criteria_set(engine, Frame(scope="ppaos20", level="subdistrict"), pilot.DEFAULTS,
                              areamanagers.list_coverage(db))
    res = pilot.run(crit, pilot.DEFAULTS, with_stability=False)
    assert "coverage" in res.weights and not res.constant


def test_only_constant_criteria_cannot_rank(ppaos_crit):
    only = replace(pilot.DEFAULTS, enabled=("coverage",))
    with pytest.raises(pilot.PovmapError) as err:
        pilot.run(ppaos_crit, only, with_stability=False)
    assert err.value.key == "error.score.all_constant"


@pytest.mark.parametrize("scope", ["ppaos20", "sra7"])
def test_default_shortlist_is_chosen_by_poverty(engine, scope):
    """Coverage and readiness only break near-ties: every default pick is in the top 2.5 N on poverty alone,
    and most of the list is the poverty-only list."""
    crit = pilot.criteria_set(engine, Frame(scope=scope, level="subdistrict"), pilot.DEFAULTS, NO_AM)
    res = pilot.run(crit, pilot.DEFAULTS, with_stability=False)
    alone = pilot.run(crit, replace(pilot.DEFAULTS, enabled=poverty(pilot.DEFAULTS.enabled)), with_stability=False)
    n = pilot.DEFAULTS.top_n
    assert len(res.shortlist) == n
    assert alone.ranked.loc[res.shortlist.index, "rank"].max() <= 2.5 * n
    assert len(set(res.shortlist.index) & set(alone.shortlist.index)) >= 0.7 * n
