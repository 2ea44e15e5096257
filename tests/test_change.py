"""Change between two survey rounds: the synthetic second round (povmap.core.synthetic_round), A + change = B
(povmap.core.change), the published figures against a recomputation from the raw files with pandas alone, the
protected tier transitions (povmap.core.transitions), ``povmap change`` and the diverging classes of the change map.

The recomputations below read the parquet files of the store and use their own column lists and tier cut-points,
not povmap's aggregation code, so a fault there shows up here."""
from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from povmap.cli import main
from povmap.core import cellkey as ck
from povmap.core import change as ch
from povmap.core.cellkey import noise_bound
from povmap.core.engine import Query, QueryError
from povmap.core.i18n import t
from povmap.core.synthetic_round import second_round
from povmap.core.transitions import ENDS, OUTSIDE, STARTS, TransitionAreaError, margin
from povmap.data import uploads as U
from povmap.data.datasource import open_engine
from povmap.present.changeview import (
    NO_CHANGE_RGB,
    change_table,
    diverging,
    sankey_data,
    transition_rows,
    transition_table,
)

R1, R2 = U.BUILTIN["households"], U.ROUND2
TPMAP = U.BUILTIN["tpmap"]
K = 5  # the tests' threshold (conftest clears POVMAP_PRIVACY_K)
D = noise_bound(K)
# Independent of povmap.core.households: the file's columns and the tier rule (a mean on a cut goes down).
CAPITALS = ["capital_human", "capital_physical", "capital_financial", "capital_natural", "capital_social"]
DEPRIVED = ["deprived_health", "deprived_living", "deprived_education", "deprived_income", "deprived_access"]
CUTS = (1.75, 2.50, 3.25)
ROUND1_HOUSEHOLDS, ROUND1_MEMBERS = 235_704, 1_039_270
# the second round's documented rules (module docstring of povmap/core/synthetic_round.py)
LEAVE, LEAVE_TIER4, CHANGE, MEMBER_MOVE, NEW = 0.03, 0.05, 0.40, 0.08, 0.04
DRIFT, REFERRED_GAIN = (-0.25, 0.20), 0.30
CODE_LEN = {"province": 2, "district": 4, "subdistrict": 6}
PPAOS20 = ("58", "18", "46", "49", "37", "35", "33", "32", "47", "94", "52", "65", "42", "31", "30", "34", "45", "93",
           "95", "96")


def own_tier(df: pd.DataFrame) -> np.ndarray:
    mean = np.round(df[CAPITALS].to_numpy(dtype="float64").mean(axis=1), 9)
    return np.select([mean <= CUTS[0], mean <= CUTS[1], mean <= CUTS[2]], [1, 2, 3], 4)


def complete(df: pd.DataFrame) -> np.ndarray:
    caps = df[CAPITALS].to_numpy(dtype="float64")
    flags = df[DEPRIVED].to_numpy()
    return ((df["members"].to_numpy() >= 1) & ((caps >= 1) & (caps <= 4)).all(axis=1)
            & np.isin(flags, (0, 1)).all(axis=1) & df["survey_year"].notna().to_numpy())


@pytest.fixture(scope="module")
def rounds(store) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both rounds as stored, read with pandas, with their own tier, deprivation and completeness."""
    out = []
    for name in ("households.parquet", "households_round2.parquet"):
        df = pd.read_parquet(store.path / name)
        out.append(df.assign(t=own_tier(df), dep=df[DEPRIVED].eq(1).any(axis=1).astype(int),
                             comp=complete(df).astype(int)))
    return out[0], out[1]


@pytest.fixture(scope="module")
def engines(engine, store):
    """Round 1 (the session's engine) and round 2, as open_engine gives them."""
    eb = open_engine(store=store, use=[R2])
    assert engine.data.households_info.id == R1 and eb.data.households_info.id == R2
    return engine, eb


@pytest.fixture(scope="module")
def merged(rounds) -> pd.DataFrame:
    a, b = rounds
    return a.merge(b, on="household_id", how="outer", suffixes=("_a", "_b"), indicator=True)


# 1. the synthetic second round ----------------------------------------------------------------------------------

def test_the_second_round_is_deterministic_and_is_what_the_store_holds(store):
    first = pd.read_parquet(store.path / "households.parquet")
    before = first.copy()
    one, two = second_round(first), second_round(first)
    pd.testing.assert_frame_equal(one, two)
    pd.testing.assert_frame_equal(first, before)  # round 1 is not touched
    stored = pd.read_parquet(store.path / "households_round2.parquet")
    pd.testing.assert_frame_equal(one, stored)
    pd.testing.assert_frame_equal(store.households_round2.reset_index(drop=True), stored)
    # the CSV of round 2 holds the same rows (the file format has no tier column)
    csv = pd.read_csv(store.path / "households_synthetic_round2.csv",
                      dtype={"household_id": str, "subdistrict_code": str})
    assert list(csv.columns) == [c for c in stored.columns if c != "tier"]
    pd.testing.assert_frame_equal(csv, stored.drop(columns=["tier"]), check_dtype=False)
    assert not second_round(first, seed=1).equals(one)  # the seed matters


def test_the_second_round_keeps_the_file_format_and_new_ids_continue(rounds):
    a, b = rounds
    a, b = a.drop(columns=["t", "dep", "comp"]), b.drop(columns=["t", "dep", "comp"])
    assert list(b.columns) == list(a.columns)
    assert b.dtypes.equals(a.dtypes)
    assert b["household_id"].is_unique and a["household_id"].is_unique
    assert set(a["survey_year"]) == {2023} and set(b["survey_year"]) == {2024}
    caps = b[CAPITALS].to_numpy()
    assert ((caps >= 1) & (caps <= 4)).all() and (caps * 4 == np.round(caps * 4)).all()
    assert b["members"].between(1, 12).all() and b[DEPRIVED].isin([0, 1]).all().all()
    assert b[DEPRIVED].eq(1).any(axis=1).all()  # every household on the list is deprived somewhere
    assert (b["tier"].to_numpy() == own_tier(b)).all()
    new = b.loc[~b["household_id"].isin(a["household_id"]), "household_id"]
    assert b["household_id"].str.fullmatch(r"SYN-\d{7}").all()
    last = a["household_id"].str[4:].astype(int).max()
    assert sorted(new.str[4:].astype(int)) == list(range(last + 1, last + 1 + len(new)))


def test_the_second_round_follows_its_documented_rules(rounds, merged):
    a, b = rounds
    n = len(a)
    left, new = merged[merged["_merge"] == "left_only"], merged[merged["_merge"] == "right_only"]
    stay = merged[merged["_merge"] == "both"]
    # who leaves: 3 % plus 5 % more of tier 4 (binomial: within 5 standard deviations)
    p = float((LEAVE + LEAVE_TIER4 * (a["t"] == 4)).mean())
    assert abs(len(left) / n - p) < 5 * np.sqrt(p * (1 - p) / n)
    # new households: 4 % of round 1, not referred, in round-1 subdistricts
    assert len(new) == round(NEW * n) and (new["referred_b"] == 0).all()
    assert set(new["subdistrict_code_b"]) <= set(a["subdistrict_code"])
    assert len(b) == n - len(left) + len(new)
    # stayers keep their place and referral
    assert (stay["subdistrict_code_a"] == stay["subdistrict_code_b"]).all()
    assert (stay["referred_a"] == stay["referred_b"]).all()
    # 40 % of stayers get new scores (some round back to the same ones): only they can change tier
    moved = np.zeros(len(stay), dtype=bool)
    for c in CAPITALS:
        moved |= stay[f"{c}_a"].to_numpy() != stay[f"{c}_b"].to_numpy()
    sd = np.sqrt(CHANGE * (1 - CHANGE) / len(stay))
    assert CHANGE - 0.04 < moved.mean() < CHANGE + 5 * sd
    tier_moved = stay["t_a"].to_numpy() != stay["t_b"].to_numpy()
    assert not (tier_moved & ~moved).any()
    assert 0.05 < tier_moved.mean() < CHANGE
    # 8 % gain or lose one member (fewer where 1 or 12 is clipped)
    step = (stay["members_b"] - stay["members_a"]).abs()
    assert step.max() == 1
    assert MEMBER_MOVE - 0.01 < (step == 1).mean() < MEMBER_MOVE + 5 * np.sqrt(MEMBER_MOVE * 0.92 / len(stay))


def test_referred_households_move_up_more_often(merged):
    stay = merged[merged["_merge"] == "both"]
    up = stay["t_b"] > stay["t_a"]
    compared = 0
    for tier in (1, 2, 3):
        ref = stay[(stay["t_a"] == tier) & (stay["referred_a"] == 1)]
        other = stay[(stay["t_a"] == tier) & (stay["referred_a"] == 0)]
        if len(ref) >= 1000 and len(other) >= 1000:
            compared += 1
            assert up[ref.index].mean() > up[other.index].mean() + 0.01, tier
    assert compared >= 1
    # the gain itself: among households whose scores changed, referred ones gain REFERRED_GAIN more than the others
    # of their province (same drift)
    moved = np.zeros(len(stay), dtype=bool)
    for c in CAPITALS:
        moved |= stay[f"{c}_a"].to_numpy() != stay[f"{c}_b"].to_numpy()
    shift = (stay[[f"{c}_b" for c in CAPITALS]].to_numpy().mean(axis=1)
             - stay[[f"{c}_a" for c in CAPITALS]].to_numpy().mean(axis=1))
    d = pd.DataFrame({"p": stay["subdistrict_code_a"].str[:2].to_numpy(), "r": stay["referred_a"].to_numpy(),
                      "s": shift})[moved]
    g = d.groupby(["p", "r"])["s"].mean().unstack()
    gain = (g[1] - g[0]).dropna()
    assert len(gain) >= 15 and gain.between(REFERRED_GAIN - 0.15, REFERRED_GAIN + 0.15).all()
    assert abs(gain.mean() - REFERRED_GAIN) < 0.05


def test_provinces_drift_apart(rounds, merged):
    a, b = rounds
    t1a = a[a["t"] == 1].groupby(a["subdistrict_code"].str[:2]).size()
    t1b = b[b["t"] == 1].groupby(b["subdistrict_code"].str[:2]).size()
    diff = t1b.reindex(t1a.index, fill_value=0) - t1a
    assert (diff > 0).any() and (diff < 0).any()
    # each province's drift is within the documented range; together they spread over it
    stay = merged[(merged["_merge"] == "both") & (merged["referred_a"] == 0)]
    moved = np.zeros(len(stay), dtype=bool)
    for c in CAPITALS:
        moved |= stay[f"{c}_a"].to_numpy() != stay[f"{c}_b"].to_numpy()
    shift = pd.Series(stay[[f"{c}_b" for c in CAPITALS]].to_numpy().mean(axis=1)
                      - stay[[f"{c}_a" for c in CAPITALS]].to_numpy().mean(axis=1))[moved]
    by_province = shift.groupby(stay["subdistrict_code_a"].str[:2].to_numpy()[moved]).mean()
    assert len(by_province) == 20
    assert by_province.between(DRIFT[0] - 0.05, DRIFT[1] + 0.05).all()
    assert by_province.max() - by_province.min() > 0.2


def test_round_one_published_totals_are_untouched(rounds, store, engines, tmp_path):
    a, b = rounds
    assert (len(a), int(a["members"].sum())) == (ROUND1_HOUSEHOLDS, ROUND1_MEMBERS)
    assert (len(store.households), int(store.households["members"].sum())) == (ROUND1_HOUSEHOLDS, ROUND1_MEMBERS)
    csv = pd.read_csv(store.path / "households_synthetic.csv", usecols=["household_id", "members"])
    assert (len(csv), int(csv["members"].sum())) == (ROUND1_HOUSEHOLDS, ROUND1_MEMBERS)
    h = store.manifest["households"]
    assert (h["households"], h["members"]) == (ROUND1_HOUSEHOLDS, ROUND1_MEMBERS)
    one, two = U.get_dataset(R1, store=store), U.get_dataset(R2, store=store)
    assert (one.coverage["households"], one.coverage["people"]) == (ROUND1_HOUSEHOLDS, ROUND1_MEMBERS)
    assert (two.coverage["households"], two.coverage["people"]) == (len(b), int(b["members"].sum()))
    assert (one.year, two.year, one.kind, two.kind) == (2023, 2024, "households", "households")
    assert len(b) != ROUND1_HOUSEHOLDS
    ea, eb = engines
    assert len(ea.households) == ROUND1_HOUSEHOLDS and len(eb.households) == len(b)
    assert U.active_id("households", root=tmp_path) == R1  # round 2 is never the default


# 2. A + change = B ------------------------------------------------------------------------------------------------

VIEWS = [(level, scope, metric) for level in ("province", "district", "subdistrict") for scope in ("ppaos20", "46")
         for metric in ("households", "members")]


@pytest.fixture(scope="module")
def changes(engines) -> dict:
    """compare() and each round's own compute() of every view, once."""
    ea, eb = engines
    out = {}
    for level, scope, metric in VIEWS:
        q = Query(dataset="households", level=level, scope=scope, tiers=(1, 2), metric=metric)
        out[level, scope, metric] = (q, ch.compare(ea, eb, q), ea.compute(q), eb.compute(q))
    return out


@pytest.mark.parametrize("level,scope,metric", VIEWS)
def test_a_plus_change_is_b(changes, level, scope, metric):
    _, c, ra, rb = changes[level, scope, metric]
    pd.testing.assert_frame_equal(c.a.table, ra.table)
    pd.testing.assert_frame_equal(c.b.table, rb.table)
    ta, tb, tab = ra.table.set_index("code"), rb.table.set_index("code"), c.table.set_index("code")
    assert list(tab.index) == list(ta.index) and set(tb.index) == set(ta.index) and len(tab)
    tb = tb.reindex(ta.index)
    hidden = ta["hidden"].astype(bool) | tb["hidden"].astype(bool)
    assert (tab["hidden"] == hidden).all()
    shown = tab[~hidden]
    assert shown["value_a"].notna().all() and shown["value_b"].notna().all()
    assert (shown["value_a"] == ta.loc[shown.index, "value"]).all()
    assert (shown["value_b"] == tb.loc[shown.index, "value"]).all()
    assert (shown["change"] == shown["value_b"] - shown["value_a"]).all()
    assert (shown["count_a"] == shown["value_a"]).all() and (shown["count_b"] == shown["value_b"]).all()
    pos = shown[shown["value_a"] > 0]
    np.testing.assert_allclose(pos["relative"], 100 * pos["change"] / pos["value_a"])
    assert shown.loc[shown["value_a"] == 0, "relative"].isna().all()
    # hidden in either round: no figure and no change, "hidden" in the table printed and downloaded
    assert tab.loc[hidden, ["value_a", "value_b", "change", "relative"]].isna().all().all()
    table = change_table(c).set_index("code")
    assert list(table.index) == list(tab.index)
    assert (table["status"] == np.where(hidden, "hidden", "shown")).all()
    assert table["change"].equals(tab["change"])
    if level == "subdistrict":
        assert hidden.any()  # the view has areas hidden for privacy, in one round or the other
        assert (ta["hidden"].astype(bool) != tb["hidden"].astype(bool)).any()
    if scope == "46":
        assert shown["change"].ne(0).any()


def test_rounds_are_ordered_by_year_and_a_round_is_not_compared_with_itself(engines):
    ea, eb = engines
    ia, ib = ea.data.households_info, eb.data.households_info
    assert ch.order((ib, eb), (ia, ea)) == ((ia, ea), (ib, eb)) == ch.order((ia, ea), (ib, eb))
    q = Query(dataset="households", level="province", scope="46", metric="households")
    with pytest.raises(QueryError) as err:
        ch.compare(eb, eb, q)
    assert err.value.key == "error.change.same_dataset"


def test_movers_are_the_largest_falls_and_rises(changes):
    _, c, _, _ = changes["district", "ppaos20", "households"]
    down, up = ch.movers(c, n=5)
    t = c.table.dropna(subset=["change"])
    assert len(down) == 5 and len(up) == 5
    assert (down["change"] < 0).all() and (up["change"] > 0).all()
    assert down["change"].max() <= t.loc[~t["code"].isin(down["code"]) & (t["change"] < 0), "change"].min()
    assert up["change"].min() >= t.loc[~t["code"].isin(up["code"]) & (t["change"] > 0), "change"].max()


# 3. the published figures against the raw files --------------------------------------------------------------------

def truth(df: pd.DataFrame, level: str, tiers, metric: str) -> pd.DataFrame:
    """True households (or members) deprived somewhere in ``tiers`` per area, and the number of non-empty base cells
    (subdistrict x tier x deprived x referred x complete) each published figure adds up."""
    sel = df[df["t"].isin(tiers) & (df["dep"] == 1)]
    area = sel["subdistrict_code"].str[:CODE_LEN[level]]
    value = sel.groupby(area)["members"].sum() if metric == "members" else sel.groupby(area).size()
    cells = sel.drop_duplicates(["subdistrict_code", "t", "referred", "comp"])
    n = cells.groupby(cells["subdistrict_code"].str[:CODE_LEN[level]]).size()
    return pd.DataFrame({"true": value, "cells": n}).fillna(0).astype("int64")


@pytest.mark.parametrize("level", ["province", "district", "subdistrict"])
@pytest.mark.parametrize("metric", ["households", "members"])
def test_published_figures_are_within_the_documented_noise_of_the_truth(rounds, changes, level, metric):
    _, c, ra, rb = changes[level, "ppaos20", metric]
    tab = c.table.set_index("code")
    noisy = 0
    truths = []
    for df, col, res in ((rounds[0], "value_a", ra), (rounds[1], "value_b", rb)):
        tr = truth(df, level, (1, 2), metric).reindex(tab.index, fill_value=0)
        truths.append(tr)
        shown = ~tab["hidden"]
        err = (tab.loc[shown, col] - tr.loc[shown, "true"]).abs()
        assert (err <= D * tr.loc[shown, "cells"]).all(), err[err > D * tr.loc[shown, "cells"]].head()
        assert (tab.loc[shown & (tr["true"] == 0), col] == 0).all()  # nobody stays nobody
        noisy += int((err > 0).sum())
        # an area hidden by its own round holds few: its true figure is under k give or take the noise
        own = res.table.set_index("code")["hidden"].astype(bool).reindex(tab.index)
        if metric == "households":
            assert (tr.loc[own, "true"] <= K - 1 + D * tr.loc[own, "cells"]).all()
        # the view's total is within 1 % of the truth (and within the bound)
        total = tr["true"].sum()
        assert abs(res.scope_count - total) <= 0.01 * total
        assert abs(res.scope_count - total) <= D * tr["cells"].sum()
    if level == "subdistrict":
        assert noisy > 0.2 * (~tab["hidden"]).sum()  # the figures are perturbed, not the raw counts
    shown = ~tab["hidden"]
    true_change = truths[1]["true"] - truths[0]["true"]
    err = (tab.loc[shown, "change"] - true_change[shown]).abs()
    assert (err <= D * (truths[0]["cells"] + truths[1]["cells"])[shown]).all()


# 4. transitions ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def transitions(engines):
    return ch.transitions(*engines)


@pytest.fixture(scope="module")
def true_cells(merged) -> pd.DataFrame:
    """The true transition records: round-A subdistrict (round B's for a new household), tier in A (0: new), tier
    in B (0: left), referred in A."""
    m = merged
    in_a, in_b = m["_merge"] != "right_only", m["_merge"] != "left_only"
    rec = pd.DataFrame({
        "code": np.where(in_a, m["subdistrict_code_a"], m["subdistrict_code_b"]),
        "start": np.where(in_a, m["t_a"].fillna(0), 0).astype(int),
        "end": np.where(in_b, m["t_b"].fillna(0), 0).astype(int),
        "referred": np.where(in_a, m["referred_a"].fillna(0), 0).astype(int),
    })
    return rec.groupby(["code", "start", "end", "referred"]).size().rename("n").reset_index()


def true_matrix(cells: pd.DataFrame, prefix=None, referred=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(true households, non-empty transition cells) per start x end."""
    c = cells
    if prefix is not None:
        c = c[c["code"].str.startswith(prefix if isinstance(prefix, str) else tuple(prefix))]
    if referred is not None:
        c = c[c["referred"] == int(referred)]
    g = c.groupby(["start", "end"])["n"]
    shape = {"index": list(STARTS), "columns": list(ENDS), "fill_value": 0}
    return g.sum().unstack(fill_value=0).reindex(**shape), g.size().unstack(fill_value=0).reindex(**shape)


PREFIXES = [None, "46", "4601", "460102", ("46", "18"), PPAOS20]


def test_transition_cells_are_what_the_ons_package_gives_for_the_same_records(transitions, engines, merged):
    """The cells are perturbed from per-cell sums (a national file's records need not be in memory at once);
    ONS's ``create_perturbed_table`` on the records themselves gives every cell the same value."""
    m = merged
    in_a, in_b = (m["_merge"] != "right_only").to_numpy(), (m["_merge"] != "left_only").to_numpy()
    rec = pd.DataFrame({
        "code": np.where(in_a, m["subdistrict_code_a"], m["subdistrict_code_b"]).astype(str),
        "start": np.where(in_a, m["t_a"].fillna(0), 0).astype("int64"),
        "end": np.where(in_b, m["t_b"].fillna(0), 0).astype("int64"),
        "referred": (in_a & (m["referred_a"].fillna(0).to_numpy() == 1)).astype("int64"),
    })
    keys = ck.record_keys(m["household_id"].to_numpy(), engines[1].data.record_key_secret)[:, 0]
    ons = ck.perturb(rec, keys, ck.perturbation_table(transitions.k), ("code", "start", "end", "referred"))
    mine = transitions.cells.set_index(["code", "start", "end", "referred"])["households"]
    assert len(mine) == len(ons) > 10_000
    pd.testing.assert_series_equal(mine.sort_index(), ons.sort_index().rename("households"), check_dtype=False)


@pytest.mark.parametrize("prefix", PREFIXES, ids=lambda p: str(p) if not isinstance(p, tuple) else "+".join(p[:3]))
@pytest.mark.parametrize("referred", [None, True, False])
def test_transition_cells_are_within_the_noise_of_the_true_crosstab(transitions, true_cells, prefix, referred):
    m = transitions.matrix(prefix, referred)
    assert list(m.index) == list(STARTS) and list(m.columns) == list(ENDS)
    true, n = true_matrix(true_cells, prefix, referred)
    err = (m - true).abs()
    assert (err <= D * n).to_numpy().all(), (m, true)
    if prefix is None and referred is None:
        assert abs(m.to_numpy().sum() - true.to_numpy().sum()) <= 0.01 * true.to_numpy().sum()
        assert (m != true).to_numpy().sum() > 0  # perturbed
        assert m.loc[OUTSIDE, OUTSIDE] == 0 and m.loc[OUTSIDE].sum() > 0 and m[OUTSIDE].sum() > 0


@pytest.mark.parametrize("prefix", [None, "46", "4601", "460102"])
def test_transition_rows_and_columns_add_up_to_each_round(engines, rounds, transitions, true_cells, prefix):
    ea, eb = engines
    m = transitions.matrix(prefix)
    _, n = true_matrix(true_cells, prefix)
    for df, eng, axis in ((rounds[0], ea, "row"), (rounds[1], eb, "col")):
        sel = df if prefix is None else df[df["subdistrict_code"].str.startswith(prefix)]
        for tier in (1, 2, 3, 4):
            mine = sel[sel["t"] == tier]
            base_cells = len(mine.drop_duplicates(["subdistrict_code", "dep", "referred", "comp"]))
            own = eng.protected.total(prefix=prefix, tiers=(tier,))  # the round's own tier figure
            if axis == "row":
                got, cells = m.loc[tier].sum(), n.loc[tier].sum()
            else:
                got, cells = m[tier].sum(), n[tier].sum()
            assert abs(got - own) <= D * (cells + base_cells), (axis, tier, got, own)
            assert abs(got - len(mine)) <= D * cells


def test_a_transition_cell_holding_a_base_cells_households_gets_its_adjustment(engines, rounds, transitions):
    """The same record keys and table: where a transition cell and a round-A base cell hold the same households,
    both publish the same figure."""
    ea, _ = engines
    a, b = rounds
    m = a[["household_id", "subdistrict_code", "t", "dep", "referred"]].merge(
        b[["household_id", "t"]], on="household_id", how="left", suffixes=("", "_b"))
    m["end"] = m["t_b"].fillna(0).astype(int)
    base = m.groupby(["subdistrict_code", "t", "dep", "referred"])["household_id"].agg(frozenset)
    by_set = {v: k for k, v in base.items()}
    pub_base = ea.protected.cells.set_index(["code", "tier", "deprived", "referred"])["households"]
    pub_tr = transitions.cells.set_index(["code", "start", "end", "referred"])["households"]
    pairs = 0
    for key, ids in m.groupby(["subdistrict_code", "t", "end", "referred"])["household_id"].agg(frozenset).items():
        twin = by_set.get(ids)
        if twin is not None:
            pairs += 1
            assert pub_tr[key] == pub_base[twin].sum(), (key, twin)
    assert pairs > 500


@pytest.mark.parametrize("prefix", ["46", "18", ("45", "46", "49"), None])
@pytest.mark.parametrize("referred", [None, True])
def test_small_transition_figures_are_never_printed(transitions, prefix, referred):
    """Shown: a province or more; a row of fewer than margin(k) households not at all ("–"), then a column of fewer
    than margin(k) in the rows still shown; a cell of 1 to k-1 as "< k"; the Sankey draws only cells of k or more."""
    m = transitions.matrix(prefix, referred)
    lim = margin(K)
    small_row = m.sum(axis=1) < lim
    small_col = m[~small_row].sum(axis=0) < lim  # columns counted over the rows still shown
    rows = transition_rows(transitions, prefix, referred)
    assert len(rows) == len(STARTS) * len(ENDS)
    hidden = suppressed = 0
    for r in rows.itertuples(index=False):
        s = OUTSIDE if r[0] == "new" else int(r[0])
        e = OUTSIDE if r[1] == "left" else int(r[1])
        v = int(m.loc[s, e])
        if small_row[s] or small_col[e]:
            suppressed += 1
            assert r.status == "suppressed" and pd.isna(r.households), (s, e, v)
        elif 1 <= v < K:
            hidden += 1
            assert r.status == "hidden" and pd.isna(r.households), (s, e, v)
        else:
            assert r.status == "shown" and r.households == v, (s, e, v)
    shown_table = transition_table(transitions, prefix, "en", referred)
    assert (shown_table.iloc[:, 1:] == f"< {K}").to_numpy().sum() == hidden
    assert (shown_table.iloc[:, 1:] == "–").to_numpy().sum() == suppressed
    assert all(v >= K for v in sankey_data(transitions, prefix, "en", referred)["value"])
    if prefix == "46":  # the check is not vacuous: Kalasin has small cells, and no new household was referred
        assert hidden > 0 if referred is None else suppressed >= len(ENDS)


@pytest.mark.parametrize("prefix", ["4601", "460102"])
def test_transitions_of_a_district_or_subdistrict_are_refused(transitions, prefix):
    with pytest.raises(TransitionAreaError):
        transition_rows(transitions, prefix)
    with pytest.raises(TransitionAreaError):
        transitions.summary(prefix)


def test_referred_restricts_transitions_to_households_referred_in_round_a(transitions, true_cells, merged):
    for prefix in (None, "46", "4601"):
        whole, ref, rest = (transitions.matrix(prefix, r) for r in (None, True, False))
        assert (ref + rest).equals(whole)
        assert (ref.loc[OUTSIDE] == 0).all()  # new households were not referred in round A
        true_ref, _ = true_matrix(true_cells, prefix, True)
        assert (ref.to_numpy() > 0).sum() <= (true_ref.to_numpy() > 0).sum()
        assert ((true_ref == 0) <= (ref == 0)).to_numpy().all()  # no figure where no referred household is
        assert 0 < ref.to_numpy().sum() < whole.to_numpy().sum()
    # The referred total sums about 5,000 cells, most of 1-4 households, which the table moves up a little on average
    # (docs/privacy.md: at most +0.4 for one household): within 5 standard deviations of the table's own expectation.
    referred = true_cells[(true_cells["referred"] == 1)]
    assert referred["n"].sum() == ((merged["_merge"] != "right_only") & (merged["referred_a"] == 1)).sum()
    total = transitions.matrix(None, True).to_numpy().sum()
    mean, var = perturbation_moments(referred["n"])
    assert abs(total - referred["n"].sum() - mean) <= 5 * np.sqrt(var)
    assert abs(total - referred["n"].sum()) <= 0.03 * referred["n"].sum()
    assert transitions.summary("46")["new"] == transitions.matrix("46").loc[OUTSIDE].sum()


def perturbation_moments(counts: pd.Series) -> tuple[float, float]:
    """Expected total adjustment and its variance for cells of these true counts (cell keys uniform)."""
    table = ck.perturbation_table(K)
    g = table.groupby("pcv")["pvalue"]
    mean, var = g.mean(), g.var(ddof=0)
    c = counts.clip(upper=ck.MAX_PCV).to_numpy()
    return float(mean.reindex(c).sum()), float(var.reindex(c).sum())


# 5. the command line -------------------------------------------------------------------------------------------------

def cli(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_prints_the_change_table_in_year_order(capsys, engines):
    ea, eb = engines
    view = ("--level", "district", "--scope", "46", "--tiers", "1,2", "--metric", "households")
    expected = change_table(ch.compare(ea, eb, Query(dataset="households", level="district", scope="46",
                                                     tiers=(1, 2), metric="households")))
    code, out, err = cli(capsys, "change", "--from", R1, "--to", R2, *view)
    assert code == 0, err
    assert out == expected.to_csv(index=False, lineterminator="\n")
    printed = pd.read_csv(io.StringIO(out), dtype={"code": str})
    assert printed["code"].tolist() == expected["code"].tolist() and len(printed) == 18
    np.testing.assert_allclose(printed["value_a"], expected["value_a"])
    # the other way round: round A is still the earlier year
    code, out, err = cli(capsys, "change", "--from", R2, "--to", R1, *view, "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert [r["code"] for r in rows] == expected["code"].tolist()
    for r, (_, e) in zip(rows, expected.iterrows()):
        assert (r["value_a"], r["value_b"], r["change"], r["status"]) == (e["value_a"], e["value_b"], e["change"],
                                                                         e["status"])
    a46 = ea.compute(Query(dataset="households", level="district", scope="46", tiers=(1, 2), metric="households"))
    assert [r["value_a"] for r in rows] == a46.table["value"].tolist()


def test_cli_prints_the_transitions_in_year_order(capsys, transitions):
    code, out, err = cli(capsys, "change", "--from", R2, "--to", R1, "--transitions", "46", "--referred")
    assert code == 0, err
    expected = transition_rows(transitions, "46", True)
    assert out == expected.to_csv(index=False, lineterminator="\n")
    assert not expected.equals(transition_rows(transitions, "46", None))
    code, out, err = cli(capsys, "change", "--from", R1, "--to", R2, "--transitions", "4601")
    assert code == 2 and out == "" and t("error.change.transitions_level", "th", code="4601") in err
    code, out, err = cli(capsys, "change", "--from", R1, "--to", R2, "--transitions", "all", "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    want = transition_rows(transitions, None)
    assert [(r["from"], r["to"], r["households"], r["status"]) for r in rows] == [
        (f, to, None if pd.isna(h) else h, s) for f, to, h, s in want.itertuples(index=False)]


def test_cli_refuses_rounds_of_different_kinds(capsys):
    for a, b in ((TPMAP, R2), (R1, TPMAP)):
        code, out, err = cli(capsys, "change", "--from", a, "--to", b)
        assert code == 2 and out == ""
        assert t("error.cli.change_kinds", "en", a=a, b=b) in err
        assert t("error.cli.change_kinds", "th", a=a, b=b) in err
        assert "Traceback" not in err


def test_cli_refuses_one_round_given_twice_for_transitions(capsys):
    code, out, err = cli(capsys, "change", "--from", R2, "--to", R2, "--transitions", "46")
    assert code == 2 and out == "", out
    assert t("error.change.same_dataset", "en") in err and t("error.change.same_dataset", "th") in err


# 6. diverging classes ---------------------------------------------------------------------------------------------

def _is_red(c) -> bool:
    return c[0] > c[2]


def _is_blue(c) -> bool:
    return c[2] > c[0]


@pytest.mark.filterwarnings("ignore:Not enough unique values")  # mapclassify, on [3, 1, 2, 7, 7, 7]
@pytest.mark.parametrize("values", [
    [-12, -5, -3, -1, 0, 0, 2, 4, 8, 40, np.nan],
    [3, 1, 2, 7, 7, 7],
    [-1, -1, -1],
    [0, 0, np.nan],
    [np.nan, np.nan],
    [-0.5, 0.25, 0],
    list(np.random.default_rng(7).normal(0, 30, 500).round()) + [np.nan] * 5,
])
def test_diverging_classes_are_centred_on_zero(values):
    y = np.asarray(values, dtype="float64")
    cls = diverging(y)
    assert len(cls.index) == len(y)
    assert (cls.index[np.isnan(y)] == -1).all() and (cls.index[~np.isnan(y)] >= 0).all()
    counts = [n for *_, n in cls.rows]
    assert sum(counts) == int((~np.isnan(y)).sum())
    assert counts == np.bincount(cls.index[cls.index >= 0], minlength=len(cls.rows)).tolist()
    assert all(n > 0 for n in counts)
    zero_rows = [i for i, (lo, hi, c, _) in enumerate(cls.rows) if c == NO_CHANGE_RGB]
    if (y == 0).any():
        assert len(zero_rows) == 1 and cls.rows[zero_rows[0]][:2] == (0.0, 0.0)
        assert set(cls.index[y == 0]) == set(zero_rows)
    else:
        assert not zero_rows
    for v, i in zip(y, cls.index):
        if np.isnan(v) or v == 0:
            continue
        lo, hi, colour, _ = cls.rows[i]
        assert lo <= v <= hi and i not in zero_rows
        assert (_is_blue(colour) and hi < 0) if v < 0 else (_is_red(colour) and lo > 0)
    # from the largest fall to the largest rise, a fall's classes before zero and a rise's after
    lows = [lo for lo, *_ in cls.rows]
    assert lows == sorted(lows)
    assert len(cls.rows) <= 7
    if len(y) > 100:  # a large spread of falls and rises: three classes each side
        assert sum(_is_red(c) for _, _, c, _ in cls.rows) == sum(_is_blue(c) for _, _, c, _ in cls.rows) == 3
    assert len(cls.fills()) == len(y)
