"""The privacy audit (issue 13): the three attacks that worked against per-view suppression, and linear programmes
over every household figure povmap publishes, on a small province and on one province of the synthetic file; and
the same for the change view between two rounds (each round's figures and the tier transitions)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from privacy_audit import Audit, Figure, TransitionAudit, collect, collect_transitions, shown_index

from povmap.core import cellkey as ck
from povmap.core import change, config
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


# --- Change between two rounds: each round's figures and the tier transitions -------------------------------------


@pytest.fixture(scope="module")
def small_change(small, small_b):
    """The small province's change view: round A's and round B's figures and every transition figure, and the
    attacker's joint groups (households may move between subdistricts here)."""
    tr = change.transitions(small, small_b)
    figs_a, _ = collected(small, "64")
    figs_b, _ = collected(small_b, "64")
    moves = collect_transitions(tr, "64")
    return TransitionAudit(small, small_b, tr, "64", movers=True), figs_a, figs_b, moves


@pytest.fixture(scope="module")
def synthetic_change(engine, store):
    """Chai Nat (province 18) in the built-in rounds 2566 and 2567 (the synthetic second round)."""
    eb = open_engine(store=store, use=[U.ROUND2])
    tr = change.transitions(engine, eb)
    figs_a, _ = collected(engine, "18")
    figs_b, _ = collected(eb, "18")
    moves = collect_transitions(tr, "18")
    return TransitionAudit(engine, eb, tr, "18"), figs_a, figs_b, moves


def test_round_b_has_every_kind_of_transition(small_change):
    audit = small_change[0]
    h = audit.households
    both = (h["start"] != 0) & (h["end"] != 0)
    code_b = audit.B.base["code"].to_numpy()[h["ib"]]
    assert (both & (h["start"] == h["end"])).sum() > 30  # most stay in their tier
    assert (both & (h["start"] != h["end"])).sum() >= 10  # some move tier
    assert (h["start"] == 0).sum() == 6 and (h["end"] == 0).sum() == 7  # new, left
    assert (both & (h["code"] != code_b)).sum() == 1  # one moves to another subdistrict
    assert 10 <= ((audit.t_true > 0) & (audit.t_true < K)).sum()  # many small transition cells
    assert not (h[["start", "end"]] == 9).any().any()  # every record has a tier in both rounds


def test_transition_figures_are_sums_of_perturbed_cells(small_change, synthetic_change):
    """Each round's figures add up from its own base table; each transition cell is its households' count plus
    the perturbation table's adjustment for the sum of their record keys (the rounds' keys); every matrix and
    summary figure is the sum of the perturbed transition cells it covers, hidden exactly when that is 1..k-1."""
    for audit, figs_a, figs_b, moves in (small_change, synthetic_change):
        assert len(moves) > 0
        assert not audit.check_sums(moves), audit.check_sums(moves)[:5]
        assert not audit.A.check_sums(figs_a), audit.A.check_sums(figs_a)[:5]
        assert not audit.B.check_sums(figs_b), audit.B.check_sums(figs_b)[:5]


_ATTACKS: dict = {}


def _attacks(name: str, change_, *, local: bool, upper_only: bool = False) -> dict:
    """Both attackers' intervals (once per fixture): published, informed."""
    if name not in _ATTACKS:
        audit, figs_a, figs_b, moves = change_
        _ATTACKS[name] = {informed: audit.attack(figs_a, figs_b, moves, informed=informed, local=local,
                                                 upper_only=upper_only) for informed in (False, True)}
    return _ATTACKS[name]


def _summary(res: pd.DataFrame) -> dict:
    """The smallest upper bound, the narrowest interval and every interval that stops below k."""
    res = res.assign(width=res["hi"] - res["lo"].fillna(-np.inf))
    low = res.sort_values(["hi", "width"]).iloc[0]
    narrow = res.sort_values(["width", "hi"]).iloc[0]
    pinned = res[res["hi"] < K - 1e-6]

    def cell(r):
        return {"kind": r["kind"], "code": r["code"], "cell": r["cell"], "true": int(r["true"]),
                "interval": [None if pd.isna(r["lo"]) else round(float(r["lo"]), 2), round(float(r["hi"]), 2)]}
    out = {"smallest_upper_bound": cell(low), "below_k": [cell(r) for _, r in pinned.iterrows()]}
    if res["lo"].notna().all():
        out.update({"narrowest": cell(narrow), "intervals_holding_0": int((res["lo"] <= 1e-6).sum()),
                    "intervals_holding_1": int((res["lo"] <= 1 + 1e-6).sum())})
    return out


def _check_sound(res: pd.DataFrame) -> None:
    """The true count lies in every interval (else the attacker's model, not the protection, is wrong)."""
    lo = res["lo"].fillna(-np.inf)
    assert ((lo <= res["true"] + 1e-6) & (res["true"] <= res["hi"] + 1e-6)).all(), \
        res[(lo > res["true"] + 1e-6) | (res["true"] > res["hi"] + 1e-6)]


def test_transition_audit_small_province(small_change):
    """Every small count (area × tier of either round, transition cells) still reaches k for both attackers, over
    everything the change view publishes about the small province."""
    audit, figs_a, figs_b, moves = small_change
    attacks = _attacks("small", small_change, local=False)
    report = {"figures_round_a": len(figs_a), "figures_round_b": len(figs_b), "transition_figures": len(moves),
              "atoms": audit.nx, "small_counts": len(attacks[False]),
              **{k: int((attacks[False]["kind"] == k).sum()) for k in ("round A", "round B", "transition")}}
    for informed, res in attacks.items():
        _check_sound(res)
        assert (res["hi"] >= K - 1e-6).all(), res[res["hi"] < K - 1e-6]
        report["informed" if informed else "published"] = _summary(res)
    # the attacker who also knows every household outside the subdistrict does no worse (a check of the model)
    local = audit.attack(figs_a, figs_b, moves, local=True, upper_only=True)
    assert (local["hi"] <= attacks[False]["hi"] + 1e-6).all()
    report["published_knowing_other_subdistricts"] = {"smallest_upper_bound": round(float(local["hi"].min()), 2)}
    _write({"transitions_small_province": report})


def test_transition_audit_can_fail(small_change):
    """The negative control: published without perturbation ("< k" kept), the transition figures pin small counts
    (of round A too), and so does everything published exactly."""
    audit, figs_a, figs_b, moves = small_change
    out = {}
    for exact in (("t",), ("a", "b", "t")):
        res = audit.attack(figs_a, figs_b, moves, exact=exact)
        _check_sound(res)
        pinned = res[res["hi"] < K - 1e-6]
        found = pinned[(pinned["hi"] - pinned["lo"] < 1e-6)]  # worked out to the household
        out["exact " + "+".join(exact)] = {
            "below_k": len(pinned), "of": len(res), "round_a_below_k": int((pinned["kind"] == "round A").sum()),
            "found_exactly": len(found), "round_a_found_exactly": int((found["kind"] == "round A").sum()),
            "smallest_upper_bound": round(float(res["hi"].min()), 2)}
    # published exactly, the two rounds and the transitions give small counts away (round A's too) ...
    assert out["exact a+b+t"]["below_k"] > 0 and out["exact a+b+t"]["round_a_below_k"] > 0, out
    # ... while the transitions as shown (a province's, without small rows and columns) pin nothing even exact
    assert out["exact t"]["below_k"] == 0, out
    _write({"transitions_negative_control": out})


def _hidden_round_a_tiers(audit, idx):
    """(subdistrict, tier, true) where round A's profile shows the tier's households as "< k"."""
    true = np.asarray(audit.MA @ audit.x_true).ravel()
    out = []
    for key, v in idx["a"].items():
        unit, code, tiers, deprived, referred = key
        if v is None and unit == "households" and len(code) == 6 and tiers is not None and len(tiers) == 1 \
                and deprived is None and referred is None:
            n = int(true[audit.A.mask(Figure("", unit, code, tiers, None, None, None))].sum())
            if 0 < n < K:
                out.append((code, tiers[0], n))
    return sorted(out)


def _differencing(audit, idx, *, exact: bool):
    """For every subdistrict × tier round A shows as "< k": the interval each way of adding and subtracting
    published figures (of both rounds and the transitions) to its households gives."""
    rows = []
    for code, tier, n in _hidden_round_a_tiers(audit, idx):
        target = audit.vector("a", audit.A.mask(Figure("", "households", code, (tier,), None, None, None)))
        for name, terms in audit.routes(code, tier).items():
            r = audit.route(terms, target, idx, exact=exact)
            if r is not None:
                rows.append({"code": code, "tier": tier, "true": n, "route": name, "lo": r[0], "hi": r[1],
                             "transitions": any(side == "t" for _, side, _ in terms)})
        for names, lo, hi in audit.pairs(target, code, idx, exact=exact):
            rows.append({"code": code, "tier": tier, "true": n, "route": " ".join(names), "lo": lo, "hi": hi,
                         "transitions": any(x.startswith(("t ", "minus t ")) for x in names)})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("which", ["small", "synthetic"])
def test_differencing_through_transitions(which, small_change, synthetic_change):
    """Where round A shows a subdistrict's tier as "< k", subtracting published transition figures from other
    published figures (parent minus children, round B minus new plus left, one round or table minus the other,
    any two figures of the subdistrict) never pins its households below k; published exactly, they do."""
    audit, figs_a, figs_b, moves = small_change if which == "small" else synthetic_change
    idx = shown_index(figs_a, figs_b, moves)
    res = _differencing(audit, idx, exact=False)
    assert len(res), "no way to attack"
    _check_sound(res)
    assert (res["hi"] >= K - 1e-6).all(), res[res["hi"] < K - 1e-6]
    exact = _differencing(audit, idx, exact=True)
    found = exact[(exact["lo"] == exact["true"]) & (exact["hi"] == exact["true"])]
    if which == "small":  # the negative control: published exactly, some way of subtracting finds the count
        assert len(found)
    best = res.sort_values("hi").iloc[0]
    _write({f"transitions_differencing_{which}": {
        "hidden_round_a_tiers": int(res[["code", "tier"]].drop_duplicates().shape[0]), "routes": len(res),
        "routes_through_transitions": int(res["transitions"].sum()),
        "smallest_upper_bound": {"code": best["code"], "tier": int(best["tier"]), "true": int(best["true"]),
                                 "route": best["route"], "interval": [round(best["lo"], 2), round(best["hi"], 2)]},
        "exact_routes_finding_the_count": len(found),
        "exact_routes_finding_it": sorted(set(found["route"]))[:5]}})


def test_transition_audit_synthetic_province_round_a(synthetic_change):
    """Chai Nat: every small area × tier count of round A still reaches k for both attackers (each also knowing
    every household outside the area), over everything the change view publishes about the province."""
    audit, figs_a, figs_b, moves = synthetic_change
    attacks = _attacks("synthetic", synthetic_change, local=True, upper_only=True)
    report = {"figures_round_a": len(figs_a), "figures_round_b": len(figs_b), "transition_figures": len(moves),
              "atoms": audit.nx, "small_counts": len(attacks[False]),
              **{k: int((attacks[False]["kind"] == k).sum()) for k in ("round A", "round B", "transition")}}
    for informed, res in attacks.items():
        _check_sound(res)
        a = res[res["kind"] == "round A"]
        assert len(a) and (a["hi"] >= K - 1e-6).all(), a[a["hi"] < K - 1e-6]
        report["informed" if informed else "published"] = {"round_a": _summary(a), "all": _summary(res)}
    _write({"transitions_synthetic_province_18": report})


def test_transition_audit_synthetic_province_every_small_count(synthetic_change):
    """Chai Nat's change view: no count of a province (what the transitions show) is bounded below k, nor any of
    round A. A count of a district or subdistrict may be: its households are published in both rounds (each round's
    own views), and an attacker who assumes nobody moved can subtract one round from the other (docs/privacy.md,
    "Two rounds"); each such count is written to the report with the pair of published figures that comes closest
    to it by simple subtraction."""
    audit, figs_a, figs_b, moves = synthetic_change
    attacks = _attacks("synthetic", synthetic_change, local=True, upper_only=True)
    idx = shown_index(figs_a, figs_b, moves)
    rows = {(g["kind"], g["code"], g["cell"]): g["row"] for g in audit.targets()}
    findings = {}
    for informed, res in attacks.items():
        out = []
        for _, r in res[res["hi"] < K - 1e-6].iterrows():
            pairs = audit.pairs(rows[(r["kind"], r["code"], r["cell"])], r["code"], idx) if len(r["code"]) == 6 else []
            best = min(pairs, key=lambda p: p[2], default=None)
            out.append({"kind": r["kind"], "code": r["code"], "cell": r["cell"], "true": int(r["true"]),
                        "upper_bound": round(float(r["hi"]), 2),
                        "closest_subtraction": None if best is None else {"figures": list(best[0]),
                                                                          "upper_bound": best[2]}})
        findings["informed" if informed else "published"] = out
    _write({"transitions_synthetic_province_18_below_k": findings})
    for informed, res in attacks.items():
        below = res[res["hi"] < K - 1e-6]
        assert (below["code"].str.len() > 2).all(), (informed, below)  # never a province's (a shown) figure
        assert not (below["kind"] == "round A").any(), (informed, below)
