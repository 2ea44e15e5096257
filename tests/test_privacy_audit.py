"""The privacy audit (issue 13): the three attacks that worked against per-view suppression, and linear programmes
over every household figure povmap publishes, on a small province and on one province of the synthetic file."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from privacy_audit import Audit, Figure, collect

from povmap.core import cellkey as ck
from povmap.core import config
from povmap.core import households as hh
from povmap.data import uploads as U
from povmap.data.datasource import open_engine
from povmap.data.secrets import SECRET_FILE
from povmap.present.profile import build_profile

K = 5
REPORT = Path(__file__).resolve().parent.parent / "test-artifacts" / "privacy_audit.json"
# The small province of the issue: 3, 12, 20 and 30 households; 640101 all in tier 1 with 12 people;
# 640103 has 3 households in tier 4 and 3 deprived in education only; 2 households are deprived in nothing.
SIZES = {"640101": (3, 12), "640102": (12, 34), "640103": (20, 83), "640104": (30, 90)}


def small_province_file() -> pd.DataFrame:
    rng = np.random.default_rng(64)
    rows = []
    for code, (n, people) in SIZES.items():
        members = np.full(n, people // n)
        members[: people - members.sum()] += 1
        for i in range(n):
            if code == "640101":
                caps = [1.0] * 5
            elif code == "640103" and i < 3:
                caps = [3.5, 3.75, 3.5, 3.5, 3.75]  # tier 4
            else:
                caps = list(rng.choice([1.0, 1.5, 2.0, 2.5, 3.0], 5))
            flags = {d: int(rng.random() < 0.5) for d in hh.DIMENSION_KEYS}
            if code == "640103" and 3 <= i < 6:
                flags = {d: int(d == "education") for d in hh.DIMENSION_KEYS}
            elif code == "640104" and i < 2:
                flags = {d: 0 for d in hh.DIMENSION_KEYS}
            elif not any(flags.values()):
                flags["income"] = 1
            rows.append({"household_id": f"SK-{code}-{i:03d}", "subdistrict_code": code, "members": int(members[i]),
                         **{f"capital_{c}": v for c, v in zip(hh.CAPITAL_KEYS, caps)},
                         **{f"deprived_{d}": v for d, v in flags.items()}, "referred": int(i % 4 == 0),
                         "survey_year": 2023})
    return pd.DataFrame(rows)


def small_province_round_b(first: pd.DataFrame) -> pd.DataFrame:
    """A second round of the small province, by hand: most households stay as they were; some move tier, some
    leave, some are new, one moves to another subdistrict, a few are no longer deprived, so the transition table
    has cells of every kind and many of 1 to k-1 households (new and left are 6 and 7 in all)."""
    df = first.copy()
    tier = hh.tier_of(hh.mean_score(df).to_numpy())
    caps = list(hh.CAPITAL_COLUMNS)
    ids = df["household_id"]

    def pick(code, t, n):  # the first n households of a subdistrict's tier
        return list(ids[(df["subdistrict_code"] == code) & (tier == t)][:n])

    def set_caps(which, value):
        df.loc[ids.isin(which), caps] = value

    set_caps(["SK-640101-001"], 2.0)  # tier 1 -> 2
    set_caps(["SK-640103-001"], 3.0)  # tier 4 -> 3
    set_caps(pick("640103", 2, 3), 1.5)  # tier 2 -> 1
    set_caps(pick("640104", 2, 5), 3.0)  # tier 2 -> 3
    df.loc[ids.isin(["SK-640104-020", "SK-640104-021", "SK-640104-022"]), list(hh.DEPRIVED_COLUMNS)] = 0
    df.loc[ids == "SK-640104-029", "subdistrict_code"] = "640102"  # moves
    df.loc[ids == "SK-640102-003", "members"] += 1
    leave = ["SK-640101-002", "SK-640102-010", "SK-640102-011", "SK-640103-000", "SK-640104-025",
             "SK-640104-026", "SK-640104-027"]
    df = df[~ids.isin(leave)]
    new = []
    for code, n, score in (("640102", 2, 3.0), ("640103", 1, 3.5), ("640104", 3, 1.0)):
        for i in range(n):
            new.append({**df.iloc[0].to_dict(), "household_id": f"SK-{code}-N{i:02d}", "subdistrict_code": code,
                        "members": 3, **{c: score for c in caps}, **{d: int(d == "deprived_income")
                                                                      for d in hh.DEPRIVED_COLUMNS},
                        "referred": 0})
    return pd.concat([df, pd.DataFrame(new)], ignore_index=True).assign(survey_year=2024)


@pytest.fixture(scope="module")
def small_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("small_province") / "ud"
    root.mkdir()
    (root / SECRET_FILE).write_bytes(b"povmap audit record-key secret 1")  # the same figures every run
    return root


def _import(root, df: pd.DataFrame, name: str):
    rep = U.check(df.to_csv(index=False).encode(), f"{name}.csv", kind="households")
    assert rep.can_import(), rep.problems
    return U.import_dataset(rep, name=name, root=root)


@pytest.fixture(scope="module")
def small(store, small_root):
    """An engine on the small province's file, imported as a user would."""
    ds = _import(small_root, small_province_file(), "Sukhothai")
    settings = config.load(user_data=small_root, privacy_k_value=K)
    return open_engine(settings, use=[ds.id], store=store)


@pytest.fixture(scope="module")
def small_b(store, small_root):
    """An engine on the small province's second round, imported beside the first (the same record-key secret)."""
    ds = _import(small_root, small_province_round_b(small_province_file()), "Sukhothai 2567")
    settings = config.load(user_data=small_root, privacy_k_value=K)
    return open_engine(settings, use=[ds.id], store=store)


_COLLECTED: dict = {}


def collected(engine, scope: str):
    """:func:`collect`, once per engine and province (it goes through every face: the slow part)."""
    key = (id(engine), scope)
    if key not in _COLLECTED:
        _COLLECTED[key] = (engine, collect(engine, scope))
    return _COLLECTED[key][1]


def _shown(profile_hh, key):
    return profile_hh[key]


def test_the_fixture_is_the_issues_province(small):
    df = small.households
    assert df.groupby("subdistrict_code").size().to_dict() == {c: n for c, (n, _) in SIZES.items()}
    assert df.groupby("subdistrict_code")["members"].sum().to_dict() == {c: m for c, (_, m) in SIZES.items()}
    assert (df.loc[df["subdistrict_code"] == "640101", "tier"] == 1).all()
    assert (df.loc[df["subdistrict_code"] == "640103", "tier"] == 4).sum() == 3
    flags = df[list(hh.DEPRIVED_COLUMNS)]
    assert (~flags.eq(1).any(axis=1)).sum() == 2


@pytest.fixture(scope="module")
def attacker(small):
    """Both attackers' programmes over everything published about the small province."""
    figs, _ = collected(small, "64")
    audit = Audit(small, "64")
    return audit, {informed: audit.constraints(figs, informed) for informed in (False, True)}


def _cannot_pin(attacker, cell: Figure, true: int, *, wide: int | None = None):
    """Both attackers' intervals for a small cell reach k: a count of 1 to k-1 cannot be told from k (a positive
    figure does say someone is there, as in ONS's tables); for a larger one (people), at least ``wide`` apart."""
    audit, programmes = attacker
    for informed, (a, b, bounds) in programmes.items():
        lo, hi = audit.interval(a, b, bounds, cell)
        assert lo - 1e-6 <= true <= hi + 1e-6
        if wide is None:
            assert hi >= K - 1e-6 and lo < true + 1e-6, (cell, informed, lo, hi)
        else:
            assert hi - lo >= wide - 1e-6, (cell, informed, lo, hi)


def test_attack_1_parent_minus_children_recovers_noise_not_people(small, attacker):
    district = build_profile(small, "6401").households
    siblings = [build_profile(small, c).households for c in ("640102", "640103", "640104")]
    derived = district["households"] - sum(s["households"] for s in siblings)
    assert derived == sum(small.protected.cells.query("code == '640101'")["households"])  # figures add up
    _cannot_pin(attacker, Figure("640101", "households", "640101", None, None, None, None), 3)
    _cannot_pin(attacker, Figure("640101", "members", "640101", None, None, None, None), 12,
                wide=2 * ck.noise_bound(K))
    # Capital sums: the district mean (rounded, over 65) minus the siblings' cannot pin 640101's.
    d_mean = district["capitals"]["area"].to_numpy()
    s_means = [s["capitals"]["area"].to_numpy() for s in siblings]
    d = ck.noise_bound(K) * 8  # the most a count of up to 8 base cells can be adjusted (illustrative bound)
    high = (d_mean + 0.05) * (district["households"] + d) - sum(
        (m - 0.05) * (s["households"] - d) for m, s in zip(s_means, siblings))
    low = (d_mean - 0.05) * (district["households"] - d) - sum(
        (m + 0.05) * (s["households"] + d) for m, s in zip(s_means, siblings))
    assert (low <= 3 * 1.0).all() and (high >= 3 * 4.0).all()  # every capital sum from 3 to 12 remains possible


def test_attack_2_one_view_minus_another_recovers_noise_not_people(small, attacker):
    from povmap.core.engine import Query

    def subdistrict(code, **kw):
        res = small.compute(Query(dataset="households", level="subdistrict", scope="64", metric="households", **kw))
        return res.table.set_index("code").loc[code, "count"]

    # a choice of dimensions gives the same figure: nothing to subtract
    assert subdistrict("640103", dimensions=("health", "living", "income", "access")) == subdistrict("640103")
    _cannot_pin(attacker, Figure("640103 tier 4", "households", "640103", (4,), None, None, None), 3)
    _cannot_pin(attacker, Figure("6401 deprived in nothing", "households", "6401", None, 0, None, None), 2)


def test_attack_3_means_do_not_undo_the_protection(small):
    for code in ("640101", "640102", "640103", "640104", "6401", "64"):
        p = build_profile(small, code).households
        area = p["capitals"]["area"]
        if p["households"] is None or p["households"] < ck.min_for_mean(K):
            assert area.isna().all()
        else:
            assert (area.dropna() == area.dropna().round(1)).all()
        # each tier's figure is the base table's sum: solving with the mean gives perturbed values, nothing finer
        shown = p["tiers"]["households"]
        assert (shown.dropna().ge(K) | shown.dropna().eq(0)).all()


def _audit(engine, scope: str) -> dict:
    figs, others = collected(engine, scope)
    audit = Audit(engine, scope)
    assert not audit.check_sums(figs), audit.check_sums(figs)[:5]
    cells = audit.cells()
    assert len(cells), "the audit needs small cells to attack"
    out = {"figures": len(figs), "distinct_counts": len({(f.unit, f.prefix, f.tiers, f.deprived, f.referred)
                                                           for f in figs}),
           "other_figures": others, "small_cells": len(cells)}
    for informed in (False, True):
        a, b, bounds = audit.constraints(figs, informed)
        widths, zero, one = [], 0, 0
        for c in cells.itertuples():
            lo, hi = audit.interval(a, b, bounds, Figure(c.code, "households", c.code, (c.tier,), 1, None, None))
            assert lo - 1e-6 <= c.true <= hi + 1e-6, (c, lo, hi)
            # neither can tell the small count from k (an empty cell is not perturbed, so a positive figure
            # says someone is there, as with ONS's tables)
            assert hi >= K - 1e-6, (informed, c, lo, hi)
            widths.append((hi - lo, c.code, c.tier, c.true, lo, hi))
            zero += lo <= 1e-6
            one += lo <= 1 + 1e-6
        narrow = min(widths)
        out["informed" if informed else "published"] = {
            "narrowest": {"code": narrow[1], "tier": narrow[2], "true": narrow[3], "interval": [round(narrow[4], 2), round(narrow[5], 2)]},
            "intervals_holding_0": zero, "intervals_holding_1": one}
    return out


def test_audit_small_province(small):
    report = {"small_province": _audit(small, "64")}
    _write(report)


def test_audit_synthetic_province(engine):
    _write({"synthetic_province_18": _audit(engine, "18")})


def _write(part: dict) -> None:
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    report = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    report.update(part)
    REPORT.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(json.dumps(part, indent=2, ensure_ascii=False))
