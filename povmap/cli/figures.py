"""``povmap query | profile | compare | change | pilot``: the figures of the explorer, the profile, the comparison and
the pilot page, computed on the same data source as the app (:func:`povmap.data.datasource.open_engine`).

The domain is imported when a command runs, not when the parser is built: ``povmap data install`` (run by every
``make``) should not pay for esda and numba."""
from __future__ import annotations

import argparse

from povmap.cli.output import records, write_json, write_table
from povmap.core import config
from povmap.core.errors import PovmapError
from povmap.core.vocab import (
    CRITERION_KEYS,
    DATASET_KEYS,
    DIMENSION_KEYS,
    LEVEL_KEYS,
    METRIC_BY_KEY,
    NORMALISATIONS,
    TIER_NUMBERS,
)


class ArgumentError(PovmapError):
    """A command-line value that cannot be used; said in both languages like every other error."""


def add_common(p: argparse.ArgumentParser) -> None:
    """Flags every figure command takes: which data, and how to print it."""
    p.add_argument("--store", help="store folder (default: $POVMAP_STORE or data/store)")
    p.add_argument("--use", action="append", default=[], metavar="ID",
                   help="read this dataset instead of the one in use for its kind (repeat for both kinds)")
    p.add_argument("--format", choices=["csv", "json"], default="csv")


def add_parsers(sub) -> None:
    q = sub.add_parser("query", help="print the figures the explorer shows (one row per area, with a status)")
    add_common(q)
    q.add_argument("--dataset", choices=DATASET_KEYS, default="tpmap")
    q.add_argument("--level", choices=LEVEL_KEYS, default="province")
    q.add_argument("--scope", default="all", help="all, ppaos20, sra7 or a 2-digit province code")
    q.add_argument("--parent", default=None, help="only the areas inside this province/district code")
    q.add_argument("--dimensions", default=",".join(DIMENSION_KEYS))
    q.add_argument("--indicator", default=None, help="TPMAP indicator view, e.g. ind20")
    q.add_argument("--tiers", default=",".join(str(t) for t in TIER_NUMBERS))
    q.add_argument("--metric", choices=list(METRIC_BY_KEY), default=None,
                   help="default: the explorer's first metric of the dataset (people; households)")
    q.add_argument("--unplaced", action="store_true", help="print what the map cannot place instead")
    q.set_defaults(run=run_query)

    pr = sub.add_parser("profile", help="print every figure of an area's profile page")
    add_common(pr)
    pr.add_argument("code", help="province, district or subdistrict code")
    pr.set_defaults(run=run_profile)

    c = sub.add_parser("compare", help="print the key figures of 2-4 areas side by side, as the Compare page")
    add_common(c)
    c.add_argument("codes", nargs="+", help="area codes (space or comma separated)")
    c.set_defaults(run=run_compare)

    ch = sub.add_parser("change", help="print the change of a view between two rounds (as the explorer's change "
                                         "view), or the household tier transitions of an area")
    add_common(ch)
    ch.add_argument("--from", dest="round_a", required=True, metavar="ID", help="one round: a dataset id")
    ch.add_argument("--to", dest="round_b", required=True, metavar="ID",
                    help="the other round, of the same kind (the earlier year is round A whatever the order)")
    ch.add_argument("--level", choices=LEVEL_KEYS, default="province")
    ch.add_argument("--scope", default="all", help="all, ppaos20, sra7 or a 2-digit province code")
    ch.add_argument("--parent", default=None, help="only the areas inside this province/district code")
    ch.add_argument("--dimensions", default=",".join(DIMENSION_KEYS))
    ch.add_argument("--tiers", default=",".join(str(t) for t in TIER_NUMBERS))
    ch.add_argument("--metric", choices=list(METRIC_BY_KEY), default=None,
                    help="default: the explorer's default for the rounds' kind (rate; households)")
    ch.add_argument("--transitions", default=None, metavar="AREA",
                    help="print the tier transitions of this area code (or 'all') instead; household rounds only")
    ch.add_argument("--referred", action="store_true", help="transitions of households referred in round A only")
    ch.set_defaults(run=run_change)

    pi = sub.add_parser("pilot", help="rank pilot areas as the pilot page does: frame, weights, rule")
    add_common(pi)
    pi.add_argument("--lang", choices=["th", "en"], default=None, help="language of the method text (JSON)")
    pi.add_argument("--scenario", type=int, default=None, help="reopen a saved scenario (its frame and settings)")
    pi.add_argument("--dataset", choices=DATASET_KEYS, default="tpmap")
    pi.add_argument("--scope", default=None, help="default: as the page (ppaos20)")
    pi.add_argument("--level", choices=["district", "subdistrict"], default=None, help="default: as the page")
    pi.add_argument("--dimensions", default=",".join(DIMENSION_KEYS))
    pi.add_argument("--tiers", default=None, help="household tiers (default 1,2 as on the page)")
    pi.add_argument("--vs", default=None, metavar="ID", help="another round of the same kind: adds the trend criterion")
    pi.add_argument("--weights", default="", help="criterion=weight,… e.g. count=2,rate=1 (others keep the default)")
    pi.add_argument("--disable", default="", help="criteria to switch off, e.g. coverage,readiness")
    pi.add_argument("--normalisation", choices=[n.key for n in NORMALISATIONS], default=None)
    pi.add_argument("--top", type=int, default=None, help="shortlist the top N (default: as the page, 20)")
    pi.add_argument("--per-district", type=int, default=None, metavar="K", help="best K subdistricts of each district")
    pi.add_argument("--min-count", type=int, default=None, help="gate: at least this many poor")
    pi.add_argument("--require-coverage", action="store_true", help="gate: only areas an Area Manager works in")
    pi.add_argument("--alpha", type=float, default=None, choices=[0.05, 0.01, 0.001])
    pi.add_argument("--fdr", action="store_true", help="false discovery rate for LISA and Gi*")
    pi.set_defaults(run=run_pilot)


def engine_of(args):
    from povmap.data.datasource import open_engine

    return open_engine(config.load(store=args.store), use=args.use)


def _pick(value, default):
    """A flag the user gave, else the page's default (the same object both read)."""
    return default if value is None else value


def _numbers(text: str, flag: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise ArgumentError("error.cli.tiers", flag=flag, text=text) from None


def _keys(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split(",") if x.strip())


def run_query(args) -> int:
    from povmap.core.engine import Query
    from povmap.core.vocab import metrics_for
    from povmap.present import tables

    res = engine_of(args).compute(Query(
        dataset=args.dataset, level=args.level, scope=args.scope, parent=args.parent,
        dimensions=_keys(args.dimensions), tiers=_numbers(args.tiers, "--tiers"),
        metric=args.metric or metrics_for(args.dataset, args.indicator)[0],  # the explorer's default
        indicator=args.indicator))
    write_table(tables.unplaced_table(res) if args.unplaced else tables.query_table(res), args.format)
    return 0


def run_profile(args) -> int:
    from povmap.present import tables
    from povmap.present.profile import build_profile

    write_table(tables.profile_table(build_profile(engine_of(args), args.code)), args.format)
    return 0


def run_compare(args) -> int:
    from povmap.present import tables
    from povmap.present.profile import build_profile, profile_codes

    codes = profile_codes(",".join(args.codes))
    if not 2 <= len(codes) <= 4:
        raise ArgumentError("error.cli.compare_count", n=len(codes))
    engine = engine_of(args)
    write_table(tables.compare_rows([build_profile(engine, c) for c in codes]), args.format)
    return 0


def run_change(args) -> int:
    from povmap.core import change
    from povmap.core.engine import Query
    from povmap.core.vocab import metrics_for
    from povmap.data.datasource import open_engine
    from povmap.data.uploads import get_dataset
    from povmap.present import changeview

    settings = config.load(store=args.store)
    infos = [get_dataset(i, root=settings.user_data) for i in (args.round_a, args.round_b)]
    if infos[0].kind != infos[1].kind:
        raise ArgumentError("error.cli.change_kinds", a=args.round_a, b=args.round_b)
    engines = [open_engine(settings, use=[*args.use, i.id]) for i in infos]
    (_, a), (_, b) = change.order(*zip(infos, engines))
    dataset = "households" if infos[0].kind == "households" else "tpmap"
    if args.transitions:
        if dataset != "households":
            raise ArgumentError("error.cli.transitions_households")
        area = None if args.transitions == "all" else args.transitions
        tr = change.transitions(a, b)
        write_table(changeview.transition_rows(tr, area, True if args.referred else None), args.format)
        return 0
    metrics = metrics_for(dataset, None)
    default = "rate" if "rate" in metrics else metrics[0]
    query = Query(dataset=dataset, level=args.level, scope=args.scope, parent=args.parent,
                  dimensions=_keys(args.dimensions), tiers=_numbers(args.tiers, "--tiers"), metric=args.metric or default)
    write_table(changeview.change_table(change.compare(a, b, query)), args.format)
    return 0


def pilot_inputs(args, user_db):
    """The frame and settings the page would use with these choices (or those of a saved scenario)."""
    from povmap import pilot
    from povmap.pilot.criteria import Frame

    if args.scenario is not None:
        from povmap.userdb import scenarios

        sc = scenarios.load(user_db, args.scenario)
        return Frame.from_dict(sc.frame), pilot.Settings.from_dict(sc.settings)
    tiers = _numbers(args.tiers, "--tiers") if args.tiers else pilot.default_tiers(args.dataset)
    d, f = pilot.DEFAULTS, pilot.DEFAULT_FRAME
    frame = Frame(dataset=args.dataset, scope=_pick(args.scope, f.scope), level=_pick(args.level, f.level),
                  dimensions=_keys(args.dimensions), tiers=tiers, vs=args.vs)
    weights = dict(pilot.DEFAULT_WEIGHTS)
    for item in _keys(args.weights):
        key, _, value = item.partition("=")
        try:
            if key not in weights:
                raise ValueError
            weights[key] = float(value)
        except ValueError:
            raise ArgumentError("error.cli.weight", item=item, criteria=", ".join(CRITERION_KEYS)) from None
    off = set(_keys(args.disable))
    if off - set(CRITERION_KEYS):
        bad = sorted(off - set(CRITERION_KEYS))
        raise ArgumentError("error.cli.disable" if len(bad) == 1 else "error.cli.disable_many", bad=", ".join(bad))
    settings = pilot.Settings(weights=tuple(weights.items()), enabled=tuple(k for k in CRITERION_KEYS if k not in off and weights[k] > 0),
                              normalisation=_pick(args.normalisation, d.normalisation),
                              require_coverage=args.require_coverage, min_count=_pick(args.min_count, d.min_count),
                              top_n=_pick(args.top, d.top_n), per_district_k=args.per_district,
                              alpha=_pick(args.alpha, d.alpha), fdr=args.fdr)
    return frame, settings


def run_pilot(args) -> int:
    from povmap import pilot
    from povmap.present import pilotview, tables
    from povmap.userdb import areamanagers

    engine = engine_of(args)
    user_db = config.load().user_db
    frame, settings = pilot_inputs(args, user_db)
    other = None
    if frame.vs:
        from povmap.data.datasource import open_engine

        other = open_engine(config.load(store=args.store), use=[*args.use, frame.vs])
    crit = pilot.criteria_set(engine, frame, settings, areamanagers.list_coverage(user_db), other=other)
    result = pilot.run(crit, settings)
    table = tables.pilot_table(result)
    if args.format == "csv":
        write_table(table, "csv")
        return 0
    lang = args.lang or config.locale_lang()
    write_json({
        "frame": result.frame.as_dict(), "settings": result.settings.as_dict(), "weights": result.weights,
        "method": [{"label": a, "text": b} for a, b in pilotview.method_lines(engine, result, lang)],
        "notes": [n.message(lang) for n in result.notes],
        "areas": records(table),
    })
    return 0
