"""``povmap data install``: build the local data store from a source folder.

Idempotent (an unchanged source is not rebuilt) and atomic: the store path is a symlink that
is switched in one ``os.replace`` once a complete build exists, so an interrupted install
leaves the previous store untouched.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from povmap.core import households
from povmap.core.areas import admin_areas
from povmap.core.config import PROVINCE_GROUPS_FILE
from povmap.core.groups import group_provinces
from povmap.core.synthetic_round import SECOND_ROUND_SEED, second_round
from povmap.core.vocab import LEVEL_KEYS
from povmap.data import sources
from povmap.data.boundaries import prepare
from povmap.data.store import STORE_FORMAT, Store, StoreError

SYNTH_SEED = 2566
TPMAP_LEVELS = ("country", *LEVEL_KEYS)
BUILD_MODULES = ("data/install.py", "data/boundaries.py", "data/sources.py", "core/households.py",
                 "core/synthetic_round.py", "core/areas.py")  # below the povmap package folder


def fingerprint(src: Path) -> str:
    """Changes when any source file or the store format changes."""
    h = hashlib.sha256(f"{STORE_FORMAT}|{SYNTH_SEED}".encode())
    for folder in sources.PROVENANCE_DIRS:
        for f in sorted((src / folder).glob("*")):
            st = f.stat()
            h.update(f"{f.relative_to(src)}|{st.st_size}|{st.st_mtime_ns}".encode())
    h.update(PROVINCE_GROUPS_FILE.read_bytes())  # the synthetic households depend on the 20 provinces
    for module in BUILD_MODULES:  # a change to how the store is built is a change of input too
        h.update((Path(__file__).parents[1] / module).read_bytes())
    return h.hexdigest()[:16]


def _say(log, msg: str) -> None:
    if log:
        log(msg)


def install(src: Path, store: Path, *, force: bool = False, log=print) -> dict:
    """Build the store at ``store`` from ``src``; return the manifest."""
    if not src.is_dir():
        raise sources.SourceError(src, "error.source.folder_missing")
    fp = fingerprint(src)
    if not force:
        try:
            current = Store(store)
            if current.manifest.get("fingerprint") == fp:
                _say(log, f"store {store} is up to date (fingerprint {fp}); use --force to rebuild")
                return current.manifest
        except StoreError:
            pass

    builds = store.parent / f"{store.name}.builds"
    builds.mkdir(parents=True, exist_ok=True)
    _clean_partials(builds)
    build_id = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{fp}-{os.getpid()}"
    work = builds / f"{build_id}.partial"
    work.mkdir()
    t0 = time.perf_counter()
    try:
        manifest = _build(src, work, fp, log)
        manifest["build_seconds"] = round(time.perf_counter() - t0, 2)
        (work / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        final = builds / build_id
        work.rename(final)
        _switch(store, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    _remove_old_builds(builds, keep=final)
    _say(log, f"store ready at {store} ({manifest['build_seconds']} s)")
    return manifest


def _switch(store: Path, target: Path) -> None:
    """Point ``store`` at ``target`` atomically."""
    if store.exists() and not store.is_symlink():
        # A plain directory from elsewhere: move it aside first, it becomes an old build.
        store.rename(target.parent / f"legacy-{os.getpid()}")
    tmp = store.parent / f".{store.name}.{os.getpid()}.link"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(target)
    os.replace(tmp, store)


def _clean_partials(builds: Path) -> None:
    for p in builds.glob("*.partial"):
        shutil.rmtree(p, ignore_errors=True)


def _remove_old_builds(builds: Path, keep: Path) -> None:
    for p in builds.iterdir():
        if p != keep:
            shutil.rmtree(p, ignore_errors=True)


def _build(src: Path, out: Path, fp: str, log) -> dict:
    areas = admin_areas()
    areas.to_parquet(out / "areas.parquet", index=False)
    report = {}

    _say(log, "boundaries: simplifying per level …")
    boundary_notes = []
    polygon_codes = {}
    for level in LEVEL_KEYS:
        gdf, notes = prepare(sources.read_boundaries(src, level), level)
        gdf.to_parquet(out / f"boundaries_{level}.parquet", index=False, write_covering_bbox=True)
        notes.insert(0, "level", level)
        boundary_notes.append(notes)
        polygon_codes[level] = set(gdf["code"])
    pd.concat(boundary_notes).to_parquet(out / "boundary_notes.parquet", index=False)

    _say(log, "TPMAP 2561: combinations and base tables …")
    for level in TPMAP_LEVELS:
        combos, base = sources.read_tpmap(src, level)
        combos.to_parquet(out / f"tpmap_{level}.parquet", index=False)
        base.to_parquet(out / f"tpmap_base_{level}.parquet", index=False)
        if level != "country":
            report[level] = _coverage(combos, areas, level, polygon_codes[level])
    sources.read_villages(src).to_parquet(out / "tpmap_villages.parquet", index=False)

    _say(log, "DOPA population, HAI …")
    sources.read_population(src).to_parquet(out / "population.parquet", index=False)
    sources.read_hai(src).to_parquet(out / "hai.parquet", index=False)
    prov = out / "provenance"
    prov.mkdir()
    for folder in sources.PROVENANCE_DIRS:
        (prov / f"{folder}.md").write_text(sources.provenance_text(src, folder), encoding="utf-8")

    _say(log, "households: synthetic PPAOS-style file (seed %d) …" % SYNTH_SEED)
    hh = synth_households(out, polygon_codes["subdistrict"])
    hh_meta = {"synthetic": True, "seed": SYNTH_SEED, "households": int(len(hh)),
               "members": int(hh["members"].sum()), "provinces": len(group_provinces("ppaos20")),
               "source": "povmap data synth (generated; not real households)"}
    _say(log, "households: synthetic second round (seed %d) …" % SECOND_ROUND_SEED)
    hh2 = second_round(hh)
    hh2.to_parquet(out / "households_round2.parquet", index=False)
    households.write_household_file(hh2, out / "households_synthetic_round2.csv")
    hh_meta["round2"] = {"seed": SECOND_ROUND_SEED, "households": int(len(hh2)), "members": int(hh2["members"].sum())}

    for level, rep in report.items():
        _say(log, f"  {level:<11} TPMAP codes {rep['tpmap_codes']:>5}, on geothai {rep['matched']:>5}, "
                  f"placed on a polygon {rep['placed']:>5}, not placeable {rep['unplaced']:>4} "
                  f"({rep['unplaced_people']:,} target poor); geothai codes without TPMAP row {rep['geothai_without_row']}")
    return {
        "format": STORE_FORMAT,
        "fingerprint": fp,
        "source": str(src),
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "coverage": report,
        "households": hh_meta,
    }


def _coverage(combos: pd.DataFrame, areas: pd.DataFrame, level: str, polygons: set[str]) -> dict:
    allc = combos[combos["combo"] == "11111"]
    codes = set(allc["code"])
    current = set(areas.loc[areas["level"] == level, "code"])
    placed = codes & current & polygons
    unplaced = allc[~allc["code"].isin(placed)]
    return {
        "tpmap_codes": len(codes),
        "matched": len(codes & current),
        "placed": len(placed),
        "unplaced": len(unplaced),
        "unplaced_people": int(unplaced["people"].sum()),
        "geothai_without_row": len(current - codes),
    }


def synth_households(out: Path, polygons: set[str], seed: int = SYNTH_SEED) -> pd.DataFrame:
    """Generate the synthetic household file into the store (CSV in the documented format + parquet)."""
    combos = pd.read_parquet(out / "tpmap_subdistrict.parquet", columns=["code", "combo", "households"])
    w = combos[(combos["combo"] == "11111") & combos["code"].isin(polygons)]
    w = w[w["code"].str[:2].isin(group_provinces("ppaos20"))]
    weights = pd.DataFrame({"subdistrict_code": w["code"], "province_code": w["code"].str[:2],
                            "weight": w["households"].astype("int64")})
    hh = households.synthesize(weights, seed=seed)
    households.write_household_file(hh, out / "households_synthetic.csv")
    hh.to_parquet(out / "households.parquet", index=False)
    return hh
