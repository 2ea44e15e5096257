"""Shortlist robustness: weight perturbations, one-criterion removals, and the vectorised draws' tie rule."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from povmap.pilot.scoring import Rule, ScoreError, code_order, composite, criteria_matrix, normalise, rank, weighted_sum
from povmap.pilot.sensitivity import Stability, draw_shortlists, stability

FAST = settings(max_examples=60, deadline=None)


def random_case(n=300, seed=7, ties=False):
    """Normalised criteria (with NaN and, optionally, many exact ties), districts and eligibility."""
    rng = np.random.default_rng(seed)
    codes = pd.Index([f"{c:06d}" for c in rng.choice(np.arange(100000, 999999), n, replace=False)])
    raw = pd.DataFrame({
        "rate": rng.integers(0, 4, n) if ties else rng.gamma(2.0, 1.0, n),
        "count": rng.integers(0, 3, n) if ties else rng.gamma(1.0, 50.0, n),
        "lisa": (rng.random(n) < 0.2).astype(float),
        "depth": np.where(rng.random(n) < 0.1, np.nan, rng.random(n)),
    }, index=codes).astype(float)
    groups = pd.Series([f"d{g}" for g in rng.integers(0, n // 6, n)], index=codes)
    eligible = pd.Series(rng.random(n) < 0.85, index=codes)
    return normalise(raw, "percentile"), groups, eligible


WEIGHTS = {"rate": 1.0, "count": 1.0, "lisa": 0.5, "depth": 1.0}
RULES = [Rule(top_n=15), Rule(per_group_k=2)]


def baseline(norm, weights, eligible, groups, rule):
    return rank(composite(norm, weights), eligible=eligible, groups=groups, rule=rule)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("rule", RULES)
def test_zero_spread_keeps_everyone(rule, ties):
    norm, groups, eligible = random_case(ties=ties)
    st_ = stability(norm, WEIGHTS, eligible=eligible, groups=groups, rule=rule, spread=0.0, draws=20)
    base = baseline(norm, WEIGHTS, eligible, groups, rule)
    assert list(st_.table.index) == list(base.index[base["shortlisted"]])  # same areas, in rank order
    assert (st_.table["stay_share"] == 1.0).all()
    assert list(st_.table.columns) == ["stay_share", "depends_on", "depends_on_all", "fragile"]


def test_only_because_of_one_criterion():
    # 19 areas rank alike on both criteria; X is top on "a" only. Top 3 = s19, s18 and X (0.875);
    # without "a", X falls to 0.75, below s17..s15, so it is in only because of "a".
    idx = [f"s{i:02d}" for i in range(1, 20)] + ["X"]
    a = [i / 20 for i in range(1, 20)] + [1.0]
    b = [i / 20 for i in range(1, 20)] + [0.75]
    norm = pd.DataFrame({"a": a, "b": b}, index=idx)
    res = stability(norm, {"a": 1.0, "b": 1.0}, rule=Rule(top_n=3), draws=50)
    t = res.table
    assert set(t.index) == {"s19", "s18", "X"}
    assert t.loc["X", "depends_on"] == "a" and t.loc["X", "depends_on_all"] == ("a",) and t.loc["X", "fragile"]
    assert t.loc[["s19", "s18"], "depends_on"].isna().all()
    assert t.loc["s19", "depends_on_all"] == ()


def test_several_dependencies_biggest_fall_first():
    # Scores: p .567, Z .367, s .333, r .267, q .2 -> top 2 = p, Z.
    # Without a: Z .40 is 3rd; without b: Z .20 is 5th; without c: Z .50 stays 2nd.
    norm = pd.DataFrame({"a": [0.3, 0.6, 0.3, 0.4, 0.0], "b": [0.7, 0.6, 0.0, 0.3, 0.1],
                         "c": [0.1, 0.5, 0.3, 0.1, 0.9]}, index=["Z", "p", "q", "r", "s"])
    t = stability(norm, {"a": 1.0, "b": 1.0, "c": 1.0}, rule=Rule(top_n=2), draws=10).table
    assert list(t.index) == ["p", "Z"]
    assert t.loc["Z", "depends_on_all"] == ("b", "a") and t.loc["Z", "depends_on"] == "b"
    assert t.loc["p", "depends_on"] is None and t.loc["Z", "fragile"]


@pytest.mark.parametrize("rule", RULES)
def test_removals_match_rank(rule):
    norm, groups, eligible = random_case(seed=3)
    t = stability(norm, WEIGHTS, eligible=eligible, groups=groups, rule=rule, draws=5).table
    assert t["depends_on"].notna().any()
    for key in WEIGHTS:
        without = baseline(norm, {k: v for k, v in WEIGHTS.items() if k != key}, eligible, groups, rule)
        dropped = ~without["shortlisted"].reindex(t.index)
        assert (t["depends_on_all"].map(lambda d: key in d) == dropped).all()


def test_same_seed_same_table_and_draws_respected():
    norm, groups, eligible = random_case()
    kw = dict(eligible=eligible, groups=groups, rule=Rule(per_group_k=1), draws=37, spread=0.5)
    a, b = stability(norm, WEIGHTS, seed=11, **kw), stability(norm, WEIGHTS, seed=11, **kw)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert isinstance(a, Stability) and (a.draws, a.spread, a.seed, a.fragile_below) == (37, 0.5, 11, 0.5)
    stays = a.table["stay_share"].to_numpy() * 37
    np.testing.assert_allclose(stays, np.round(stays))  # shares of 37 draws
    assert (a.table["stay_share"] < 1).any()  # a wide spread moves some areas out
    assert (a.table["fragile"] == ((a.table["stay_share"] < 0.5) | a.table["depends_on"].notna())).all()


def test_dominant_area_always_stays_and_close_call_sometimes():
    idx = ["top", "m1", "m2", "m3"]
    norm = pd.DataFrame({"a": [1.0, 0.6, 0.3, 0.0], "b": [1.0, 0.3, 0.6, 0.0]}, index=idx)
    t = stability(norm, {"a": 1.0, "b": 1.0}, rule=Rule(top_n=2), draws=200, seed=3).table
    assert t.loc["top", "stay_share"] == 1.0
    assert 0.2 < t.loc["m1", "stay_share"] < 0.8  # m1 and m2 tie at 0.45; the draws split them


def test_single_criterion_has_no_removal():
    norm = pd.DataFrame({"a": [1.0, 0.5, 0.0]}, index=["x", "y", "z"])
    t = stability(norm, {"a": 2.0}, rule=Rule(top_n=1)).table
    assert t["depends_on"].isna().all() and t.loc["x", "depends_on_all"] == ()


def test_nothing_eligible_gives_an_empty_table():
    norm, groups, _ = random_case(n=30)
    t = stability(norm, WEIGHTS, eligible=pd.Series(False, index=norm.index)).table
    assert t.empty and list(t.columns) == ["stay_share", "depends_on", "depends_on_all", "fragile"]


@pytest.mark.parametrize("kw", [dict(draws=0), dict(spread=-0.1), dict(spread=1.5), dict(fragile_below=2.0),
                                dict(rule=Rule(per_group_k=1))])
def test_invalid_settings_are_bilingual_errors(kw):
    norm, _, _ = random_case(n=30)
    with pytest.raises(ScoreError) as e:
        stability(norm, WEIGHTS, **kw)
    assert e.value.en and e.value.th


# --- the vectorised draws against rank() ----------------------------------------------------------------

@FAST
@given(st.integers(1, 40), st.integers(1, 6), st.integers(1, 8), st.integers(1, 4), st.booleans(), st.data())
def test_draw_shortlists_match_rank(n, d, top_n, k, by_group, data):
    # Coarse scores (many exact ties) and a few neighbours one ulp apart, to exercise every tie path.
    levels = data.draw(st.lists(st.sampled_from([0.0, 0.25, 0.5, np.nextafter(0.5, 1), 0.75, 1.0]),
                                min_size=n * d, max_size=n * d))
    scores = np.array(levels).reshape(d, n)
    codes = sorted(data.draw(st.lists(st.integers(0, 999).map(lambda c: f"{c:03d}"), min_size=n, max_size=n,
                                      unique=True)))
    gid = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    rule = Rule(top_n=top_n, per_group_k=k if by_group else None)
    got = draw_shortlists(scores, gid if by_group else None, rule)
    for i in range(d):
        ref = rank(pd.Series(scores[i], index=codes), groups=pd.Series(gid, index=codes) if by_group else None,
                   rule=rule)
        assert got[i].tolist() == ref["shortlisted"].reindex(codes).tolist()


def test_draws_reproduce_composite_bit_for_bit():
    # The draws' scores must equal composite() exactly, or ties would break differently than in rank().
    norm, _, _ = random_case(n=500, seed=5)
    x, w, keys = criteria_matrix(norm, WEIGHTS)
    factors = np.random.default_rng(1).uniform(0.5, 1.5, size=(len(w), 40))
    draws = weighted_sum(x, w[:, None] * factors)
    for d in range(0, 40, 7):
        one = composite(norm, dict(zip(keys, w * factors[:, d])))
        assert np.array_equal(draws[d], one.to_numpy())


def test_draw_shortlists_exact_for_near_equal_scores_in_a_group():
    # Two scores closer than the packed key's precision: the lower code has the lower score.
    lo = 0.5
    hi = np.nextafter(np.nextafter(lo, 1), 1)
    scores = np.array([[lo, hi, 0.1], [hi, lo, 0.1]])
    got = draw_shortlists(scores, np.array([0, 0, 0]), Rule(per_group_k=1))
    assert got.tolist() == [[False, True, False], [True, False, False]]


def test_code_order_is_text_order():
    assert code_order(pd.Index(["9", "10", "100"])).tolist() == [2, 0, 1]
