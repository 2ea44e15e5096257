"""The ``povmap`` command: ``data install``, ``data synth`` and ``query``."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .config import source_dir, store_dir
from .vocab import DATASET_KEYS, DIMENSION_KEYS, LEVEL_KEYS, METRIC_BY_KEY, TIER_NUMBERS


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="povmap", description="Thailand poverty map: data store and figures.")
    sub = p.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help="build the local data store").add_subparsers(dest="action", required=True)
    inst = data.add_parser("install", help="build the store from a source folder laid out like ../shared/data")
    inst.add_argument("--from", dest="source", help="source folder (default: $POVMAP_SOURCE or ../shared/data)")
    inst.add_argument("--store", help="store folder (default: $POVMAP_STORE or data/store)")
    inst.add_argument("--force", action="store_true", help="rebuild even if the sources are unchanged")
    syn = data.add_parser("synth", help="write the synthetic PPAOS-style household file")
    syn.add_argument("--store", help="store folder whose TPMAP table weights the households")
    syn.add_argument("--out", required=True, help="CSV file to write (the documented household format)")
    syn.add_argument("--seed", type=int, default=None, help="random seed (default 2566)")

    q = sub.add_parser("query", help="print the figures the explorer shows")
    q.add_argument("--store")
    q.add_argument("--dataset", choices=DATASET_KEYS, default="tpmap")
    q.add_argument("--level", choices=LEVEL_KEYS, default="province")
    q.add_argument("--scope", default="all", help="all, ppaos20, sra7 or a 2-digit province code")
    q.add_argument("--parent", default=None, help="only the areas inside this province/district code")
    q.add_argument("--dimensions", default=",".join(DIMENSION_KEYS))
    q.add_argument("--indicator", default=None, help="TPMAP indicator view, e.g. ind20")
    q.add_argument("--tiers", default=",".join(str(t) for t in TIER_NUMBERS))
    q.add_argument("--metric", choices=list(METRIC_BY_KEY), default="people")
    q.add_argument("--unplaced", action="store_true", help="print what the map cannot place instead")
    q.add_argument("--format", choices=["csv", "json"], default="csv")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from .households import HouseholdFileError
    from .metrics import QueryError
    from .sources import SourceError
    from .store import StoreError

    try:
        if args.command == "data" and args.action == "install":
            from .install import install

            install(source_dir(args.source), store_dir(args.store), force=args.force)
        elif args.command == "data" and args.action == "synth":
            return _synth(args)
        else:
            return _query(args)
    except (SourceError, StoreError, QueryError) as exc:
        print(f"povmap: {exc.message('en')}\npovmap: {exc.message('th')}", file=sys.stderr)
        return 2
    except (OSError, HouseholdFileError) as exc:
        print(f"povmap: {exc}", file=sys.stderr)
        return 2
    return 0


def _synth(args) -> int:
    from . import households
    from .install import SYNTH_SEED, synth_households
    from .store import Store

    store = Store(store_dir(args.store))
    polygons = set(store.boundaries("subdistrict")["code"])
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "tpmap_subdistrict.parquet").symlink_to(store.path / "tpmap_subdistrict.parquet")
        df = synth_households(tmp, polygons, seed=SYNTH_SEED if args.seed is None else args.seed)
    households.write_household_file(df, args.out)
    print(f"wrote {len(df):,} synthetic households ({int(df['members'].sum()):,} members) to {args.out}")
    return 0


def _query(args) -> int:
    from .metrics import Engine, Query, QueryError
    from .store import Store

    try:
        tiers = tuple(int(t) for t in args.tiers.split(",") if t.strip())
    except ValueError:
        raise QueryError(f"--tiers takes numbers 1-4 separated by commas, not '{args.tiers}'",
                         f"--tiers ต้องเป็นเลข 1-4 คั่นด้วยจุลภาค ไม่ใช่ '{args.tiers}'") from None
    engine = Engine(Store(store_dir(args.store)))
    query = Query(
        dataset=args.dataset, level=args.level, scope=args.scope, parent=args.parent,
        dimensions=tuple(d for d in args.dimensions.split(",") if d),
        tiers=tiers,
        metric=args.metric, indicator=args.indicator,
    )
    res = engine.compute(query)
    if args.unplaced:
        df = res.unplaced[["code", "reason", "value"]]
    else:
        df = res.table[["code", "name_th", "name_en", "value"]]
    if args.format == "csv":
        df.to_csv(sys.stdout, index=False, lineterminator="\n")
    else:
        json.dump(json.loads(df.to_json(orient="records", force_ascii=False)), sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    return 0
