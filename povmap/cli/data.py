"""``povmap data …``: build the store, write the synthetic household file, and the Data page's operations
(list, check, import, use, delete) with the same checks and the same report, in the user's language."""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from povmap.cli.output import records, write_json, write_table
from povmap.core import config

REFUSED = 2  # exit code of a file that cannot be imported (and of every other error)


def add_parsers(sub) -> None:
    data = sub.add_parser("data", help="the data store and the datasets (as the Data page)")
    act = data.add_subparsers(dest="action", required=True)
    inst = act.add_parser("install", help="build the store from a source folder laid out like ../shared/data")
    inst.add_argument("--from", dest="source", help="source folder (default: $POVMAP_SOURCE or ../shared/data)")
    inst.add_argument("--store", help="store folder (default: $POVMAP_STORE or data/store)")
    inst.add_argument("--force", action="store_true", help="rebuild even if the sources are unchanged")
    inst.set_defaults(run=run_install)
    syn = act.add_parser("synth", help="write the synthetic PPAOS-style household file")
    syn.add_argument("--store", help="store folder whose TPMAP table weights the households")
    syn.add_argument("--out", required=True, help="CSV file to write (the documented household format)")
    syn.add_argument("--seed", type=int, default=None, help="random seed (default 2566)")
    syn.set_defaults(run=run_synth)

    def with_lang(p: argparse.ArgumentParser, formats=("text", "csv", "json")) -> argparse.ArgumentParser:
        p.add_argument("--lang", choices=["th", "en"], default=None, help="language (default: from the locale)")
        p.add_argument("--format", choices=list(formats), default=formats[0])
        return p

    ls = with_lang(act.add_parser("list", help="the datasets, which is in use, their coverage and licence"),
                   ("csv", "json"))
    ls.add_argument("--kind", choices=["tpmap", "households"], default=None)
    ls.add_argument("--store", help="store folder (its built-in datasets are listed first)")
    ls.set_defaults(run=run_list)
    for name, helptext in (("check", "check a file as the Data page does; nothing is written"),
                           ("import", "check a file, then import it (prints the new dataset's id last)")):
        p = with_lang(act.add_parser(name, help=helptext))
        p.add_argument("file")
        p.add_argument("--kind", choices=["tpmap", "households"], required=True,
                       help="tpmap: area counts in the TPMAP layout; households: one row per household")
        p.add_argument("--sheet", default=None, help="XLSX sheet (default: the first)")
        p.add_argument("--year", type=int, default=None, help="year of a counts file without a year column")
        p.add_argument("--level", choices=["province", "district", "subdistrict"], default=None)
        p.add_argument("--mode", choices=["valid_rows", "all_or_nothing"], default="valid_rows",
                       help="valid_rows: import the rows without errors; all_or_nothing: refuse a file with any")
        # A national household file (millions of rows) is larger than a browser upload may be: the server's
        # operator imports it here.
        p.add_argument("--max-mb", type=int, default=None,
                       help="largest file to read, MB (default: the Data page's upload limit)")
        p.set_defaults(run=run_check if name == "check" else run_import)
    imp = act.choices["import"]
    imp.add_argument("--name", default=None, help="the dataset's name (default: the file name)")
    imp.add_argument("--source", default=None, help="where the data comes from (default: the file name)")
    imp.add_argument("--licence", default="")
    imp.add_argument("--synthetic", action="store_true", help="the file holds made-up households")
    imp.add_argument("--definition", default="",
                     help="what the figures mean (survey, register year, cut-points): compared between rounds")
    imp.add_argument("--no-activate", action="store_true", help="keep the dataset in use as it is")
    use = act.add_parser("use", help="read this dataset from now on for its kind (a built-in id switches back)")
    use.add_argument("id")
    use.set_defaults(run=run_use)
    rm = act.add_parser("delete", help="delete an imported dataset (if it was in use, the built-in is used)")
    rm.add_argument("id")
    rm.set_defaults(run=run_delete)


def run_install(args) -> int:
    from povmap.data.install import install

    install(config.source_dir(args.source), config.store_dir(args.store), force=args.force)
    return 0


def run_synth(args) -> int:
    from povmap.core import households
    from povmap.data.install import SYNTH_SEED, synth_households
    from povmap.data.store import Store

    store = Store(config.store_dir(args.store))
    polygons = set(store.boundaries("subdistrict")["code"])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "tpmap_subdistrict.parquet").symlink_to(store.path / "tpmap_subdistrict.parquet")
        df = synth_households(tmp, polygons, seed=SYNTH_SEED if args.seed is None else args.seed)
    households.write_household_file(df, args.out)
    print(f"wrote {len(df):,} synthetic households ({int(df['members'].sum()):,} members) to {args.out}")
    return 0


def run_list(args) -> int:
    import pandas as pd

    from povmap.data import uploads as U
    from povmap.data.store import Store, StoreError
    from povmap.data.uploads.listing import licence_text

    lang = args.lang or config.locale_lang()
    try:
        store = Store(config.store_dir(args.store))
    except StoreError:
        store = None  # imported datasets are still listed; the built-ins need the store
    s = config.load(store=args.store)
    active = {kind: U.active_id(kind, root=s.user_data) for kind in U.KINDS}
    infos = U.list_datasets(args.kind, root=s.user_data, store=store)
    df = pd.DataFrame([{
        "id": d.id, "kind": d.kind, "in_use": active.get(d.kind) == d.id, "name": d.name, "source": d.source,
        "year": d.year, "levels": ",".join(d.levels), "areas": d.coverage.get("areas"),
        "people": d.coverage.get("people"), "households": d.coverage.get("households"),
        "licence": licence_text(d.licence, lang), "synthetic": d.synthetic, "builtin": d.builtin,
        "created_at": d.created_at, "rows_accepted": d.rows_accepted, "rows_rejected": d.rows_rejected,
        "damaged": d.damage(lang),
    } for d in infos])
    write_table(df, args.format)
    return 0


def _report(args):
    """The Data page's check of ``args.file``, reading at most the upload limit or ``--max-mb`` (a larger file is
    refused before it is read; a large household CSV is read in blocks, its rows staged: ``report.discard()``)."""
    from povmap.data import uploads as U

    return U.check_path(args.file, kind=args.kind, sheet=args.sheet, year=args.year, level=args.level,
                        max_bytes=args.max_mb * 2**20 if args.max_mb else U.MAX_UPLOAD_BYTES)


def _print_report(report, args, lang: str) -> None:
    from povmap.core.i18n import t

    if args.format == "json":
        write_json({"file": report.file_name, "kind": report.kind, "summary": report.summary(lang),
                    "can_import": report.can_import(args.mode), "rows": report.rows, "accepted": report.accepted,
                    "rejected": report.rejected, "problems": records(report.problem_table(lang)),
                    "questions": [{"names": n, "candidates": c, "rows": r} for n, c, r in report.questions()]})
        return
    if args.format == "csv":
        write_table(report.problem_table(lang), "csv")
        return
    out = sys.stdout
    out.write(report.summary(lang) + "\n")
    if len(report.problems):
        out.write("\n")
        report.problem_summary(lang, codes=False).to_string(out, index=False)
        out.write("\n")
    for names, codes, n in report.questions():
        out.write(f"? {t('data.ask_one', lang, names=names, count=n)}: {', '.join(codes)}\n")


def run_check(args) -> int:
    lang = args.lang or config.locale_lang()
    report = _report(args)
    try:
        _print_report(report, args, lang)
        return 0 if report.can_import(args.mode) else REFUSED
    finally:
        report.discard()


def run_import(args) -> int:
    lang = args.lang or config.locale_lang()
    report = _report(args)
    try:
        return _import(report, args, lang)
    finally:
        report.discard()


def _import(report, args, lang: str) -> int:
    from povmap.data import uploads as U

    if args.format == "text":  # the report first; the id stays the last line for scripts
        _print_report(report, args, lang)
    if not report.can_import(args.mode):
        if args.format != "text":
            _print_report(report, args, lang)
        return REFUSED
    info = U.import_dataset(report, args.mode, name=args.name, source=args.source, licence=args.licence,
                            synthetic=args.synthetic, activate=not args.no_activate, definition=args.definition)
    if args.format == "json":
        write_json({"id": info.id, "kind": info.kind, "name": info.name, "rows_accepted": info.rows_accepted,
                    "rows_rejected": info.rows_rejected})
    else:
        print(info.id)
    return 0


def run_use(args) -> int:
    from povmap.data import uploads as U

    info = U.get_dataset(args.id)
    U.set_active(info.kind, info.id)
    print(info.id)
    return 0


def run_delete(args) -> int:
    from povmap.data import uploads as U

    U.delete_dataset(args.id)
    print(args.id)
    return 0
