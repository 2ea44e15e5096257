"""Charts say what they leave out: a tier share hidden for privacy is a named segment, overlaid radars differ."""
from __future__ import annotations

import math

from povmap.core.i18n import t
from povmap.present import charts


def test_a_hidden_tier_share_is_a_named_grey_segment_up_to_100():
    fig = charts.tier_bars([("A", [40.0, math.nan, 30.0, 25.0]), ("B", [10.0, 20.0, 30.0, 40.0])], "th", k=5)
    names = [tr.name for tr in fig.data]
    assert names[-1] == t("legend.hidden", "th", k=5)
    assert list(fig.data[-1].x) == [5.0, 0]  # A: 100 - 95; B shows all its tiers
    for i in range(2):
        assert sum(v for tr in fig.data if (v := tr.x[i]) == v) == 100


def test_no_hidden_segment_when_every_share_is_shown():
    fig = charts.tier_bars([("B", [10.0, 20.0, 30.0, 40.0])], "en", k=5)
    assert len(fig.data) == 4


def test_overlaid_radars_are_told_apart():
    fig = charts.capital_radar([("a", [1, 2, 3, 4, 2]), ("b", [2, 2, 2, 2, 2]), ("c", [3, 3, 3, 3, 3])], "en")
    assert [tr.fill for tr in fig.data] == ["toself", "none", "none"]
    assert len({tr.line.dash for tr in fig.data}) == 3

