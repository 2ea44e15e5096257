"""Composite score and shortlist: normalisation, weights, monotonicity, ties and the per-district rule."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from povmap.pilot.scoring import NORMALISATIONS, Rule, ScoreError, check_weights, composite, normalise, rank

FAST = settings(max_examples=60, deadline=None)
THAI = range(0x0E00, 0x0E80)


def is_thai(text: str) -> bool:
    return any(ord(ch) in THAI for ch in text)


@st.composite
def tables(draw, min_n=2, max_n=12, max_m=4, values=None, nan=True):
    """(values table with text codes, positive-or-zero integer weights with at least one positive)."""
    n = draw(st.integers(min_n, max_n))
    m = draw(st.integers(1, max_m))
    codes = draw(st.lists(st.integers(100000, 999999).map(str), min_size=n, max_size=n, unique=True))
    # Integer-valued data: differences are exact, so the float results are exactly monotone as well.
    cell = values if values is not None else st.integers(0, 20).map(float)
    if nan:
        cell = st.one_of(cell, cell, cell, st.just(np.nan))
    keys = [f"c{j}" for j in range(m)]
    data = {k: draw(st.lists(cell, min_size=n, max_size=n)) for k in keys}
    w = {k: float(draw(st.integers(0, 3))) for k in keys}
    w[draw(st.sampled_from(keys))] = float(draw(st.integers(1, 3)))
    return pd.DataFrame(data, index=pd.Index(codes)), w


def score(values, w, method):
    return composite(normalise(values, method), w)


# --- normalise ---------------------------------------------------------------------------------------

def test_percentile_averages_ties_and_spans_0_to_1():
    v = pd.DataFrame({"a": [1.0, 2.0, 2.0, 3.0, np.nan]}, index=list("vwxyz"))
    assert normalise(v, "percentile")["a"].tolist()[:4] == [0.0, 0.5, 0.5, 1.0]
    assert np.isnan(normalise(v, "percentile").loc["z", "a"])


def test_minmax_keeps_distances():
    v = pd.DataFrame({"a": [10.0, 20.0, 50.0, np.nan, np.inf]}, index=list("vwxyz"))
    out = normalise(v, "minmax")["a"]
    assert out.tolist()[:3] == [0.0, 0.25, 1.0]
    assert out.iloc[3:].isna().all()  # unknown and infinite values stay unknown


@pytest.mark.parametrize("method", NORMALISATIONS)
def test_constant_column_is_neutral(method):
    v = pd.DataFrame({"a": [4.0, 4.0, np.nan], "b": [np.nan, 7.0, np.nan], "c": [np.nan] * 3}, index=list("xyz"))
    out = normalise(v, method)
    assert out["a"].tolist()[:2] == [0.5, 0.5] and out.loc["y", "b"] == 0.5
    assert out["c"].isna().all() and out.isna().sum().sum() == 1 + 2 + 3


def test_unknown_method_is_bilingual():
    with pytest.raises(ScoreError) as e:
        normalise(pd.DataFrame({"a": [1.0]}), "zscore")
    assert e.value.en and is_thai(e.value.th)


# --- weights -----------------------------------------------------------------------------------------

def test_check_weights_drops_zeros_and_follows_available_order():
    assert check_weights({"rate": 2, "count": 1, "lisa": 0}, ["count", "rate", "lisa"]) == {"count": 1.0, "rate": 2.0}


@pytest.mark.parametrize("weights", [{}, {"a": 0.0}, {"a": 0, "b": 0.0}])
def test_weights_summing_to_zero_are_rejected(weights):
    with pytest.raises(ScoreError) as e:
        check_weights(weights, ["a", "b"])
    assert e.value.en and e.value.th and is_thai(e.value.th)
    assert "zero" in e.value.en


@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf, -np.inf, "1", None])
def test_invalid_weights_are_rejected(bad):
    with pytest.raises(ScoreError) as e:
        check_weights({"a": 1.0, "b": bad}, ["a", "b"])
    assert e.value.en and is_thai(e.value.th)


def test_unknown_criterion_is_rejected():
    with pytest.raises(ScoreError):
        check_weights({"a": 1.0, "nope": 1.0}, ["a", "b"])


def test_composite_counts_unknown_as_zero():
    norm = pd.DataFrame({"a": [1.0, 1.0], "b": [np.nan, 0.5]}, index=["x", "y"])
    s = composite(norm, {"a": 1.0, "b": 3.0})
    assert s.tolist() == [0.25, (1.0 + 1.5) / 4]
    assert s.name == "score"


# --- score properties ---------------------------------------------------------------------------------

@FAST
@given(tables(), st.sampled_from(NORMALISATIONS), st.data())
def test_monotone_in_each_criterion(case, method, data):
    values, w = case
    positive = [k for k, v in w.items() if v > 0]
    key = data.draw(st.sampled_from(positive))
    known = values.index[values[key].notna()]
    if len(known) == 0:
        return
    code = data.draw(st.sampled_from(list(known)))
    raised = values.copy()
    raised.loc[code, key] += data.draw(st.integers(1, 10))
    before, after = score(values, w, method), score(raised, w, method)
    assert after[code] >= before[code]
    rb, ra = rank(before, rule=Rule(top_n=len(values))), rank(after, rule=Rule(top_n=len(values)))
    ahead_before = set(rb.index[: rb.index.get_loc(code)])
    ahead_after = set(ra.index[: ra.index.get_loc(code)])
    assert ahead_after <= ahead_before  # nobody overtakes it


@FAST
@given(tables(values=st.floats(-1e9, 1e9, allow_nan=False)), st.sampled_from(NORMALISATIONS))
def test_scores_are_bounded(case, method):
    values, w = case
    norm = normalise(values, method)
    assert ((norm >= 0) & (norm <= 1) | norm.isna()).all().all()
    s = composite(norm, w)
    assert s.notna().all() and (s >= 0).all() and (s <= 1).all()


@FAST
@given(tables(values=st.integers(0, 2).map(float), min_n=1, max_n=15), st.sampled_from(NORMALISATIONS),
       st.integers(1, 5), st.randoms(use_true_random=False), st.booleans())
def test_ties_are_ranked_stably(case, method, top_n, rnd, by_group):
    values, w = case
    eligible = pd.Series([rnd.random() < 0.8 for _ in values.index], index=values.index)
    groups = pd.Series([rnd.choice("ab") for _ in values.index], index=values.index) if by_group else None
    rule = Rule(top_n=top_n, per_group_k=2 if by_group else None)
    order = list(values.index)
    rnd.shuffle(order)

    def table(v):
        return rank(score(v, w, method), eligible=eligible.loc[v.index],
                    groups=None if groups is None else groups.loc[v.index], rule=rule)

    ref = table(values)
    pd.testing.assert_frame_equal(table(values.loc[order]), ref, check_exact=True)
    # Equal scores are listed by code ascending.
    elig = ref[ref["eligible"]]
    for _, same in elig.groupby("score", sort=False):
        assert list(same.index) == sorted(same.index)


@FAST
@given(tables(), st.sampled_from(NORMALISATIONS), st.integers(-20, 20), st.floats(0.01, 100))
def test_scaling_weights_changes_nothing(case, method, power, factor):
    values, w = case
    norm = normalise(values, method)
    exact = composite(norm, {k: v * 2.0 ** power for k, v in w.items()})  # a power of two scales exactly
    pd.testing.assert_series_equal(exact, composite(norm, w), check_exact=True)
    pd.testing.assert_series_equal(composite(norm, {k: v * factor for k, v in w.items()}), composite(norm, w),
                                   rtol=1e-12, atol=1e-15)


# --- rank ---------------------------------------------------------------------------------------------

def test_rank_table():
    scores = pd.Series([0.2, 0.9, np.nan, 0.9, 0.5, 0.7], index=["06", "05", "04", "03", "02", "01"])
    eligible = pd.Series(True, index=scores.index)
    eligible["01"] = False
    t = rank(scores, eligible=eligible, rule=Rule(top_n=2))
    assert list(t.index) == ["03", "05", "02", "06", "01", "04"]  # ineligible (incl. NaN score) last, by code
    assert t["rank"].tolist()[:4] == [1, 2, 3, 4] and t["rank"].iloc[4:].isna().all()
    assert t["shortlisted"].tolist() == [True, True, False, False, False, False]
    assert t["group_rank"].isna().all() and t.index.name == "code"
    assert t["eligible"].tolist() == [True] * 4 + [False] * 2


def test_rule_is_validated():
    for bad in (dict(top_n=0), dict(top_n=2.5), dict(per_group_k=0)):
        with pytest.raises(ScoreError):
            Rule(**bad)
    with pytest.raises(ScoreError) as e:
        rank(pd.Series([1.0], index=["1"]), rule=Rule(per_group_k=1))
    assert is_thai(e.value.th)


@FAST
@given(st.lists(st.tuples(st.integers(0, 4).map(float), st.sampled_from(["d1", "d2", "d3", None]), st.booleans()),
                min_size=1, max_size=30), st.integers(1, 4))
def test_per_group_rule(rows, k):
    idx = [f"{i:04d}" for i in range(len(rows))][::-1]
    scores = pd.Series([r[0] for r in rows], index=idx)
    groups = pd.Series([r[1] for r in rows], index=idx, dtype=object)
    eligible = pd.Series([r[2] for r in rows], index=idx)
    t = rank(scores, eligible=eligible, groups=groups, rule=Rule(top_n=1, per_group_k=k))
    assert not (t["shortlisted"] & ~t["eligible"]).any()
    g = groups.reindex(t.index).fillna("<none>")  # areas without a district form one group
    for name, part in t.groupby(g):
        n_elig = int(part["eligible"].sum())
        assert part["shortlisted"].sum() == min(k, n_elig)
        ranked = part[part["eligible"]].sort_values("group_rank")
        assert ranked["group_rank"].tolist() == list(range(1, n_elig + 1))
        assert ranked["score"].is_monotonic_decreasing
        assert ranked["shortlisted"].tolist() == [r <= k for r in ranked["group_rank"]]
