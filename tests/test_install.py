"""``povmap data install``: idempotent, atomic, clear about bad sources."""
from __future__ import annotations

import json
import os
import shutil

import pytest

from povmap.data import install as inst
from povmap.data import sources
from povmap.data.sources import SourceError
from povmap.data.store import Store, StoreError


@pytest.fixture(scope="module")
def built(tmp_path_factory, src):
    store = tmp_path_factory.mktemp("inst") / "store"
    inst.install(src, store, log=None)
    return store


def linked_source(tmp_path, src):
    """A source folder of symlinks to the real one, so single files can be replaced."""
    copy = tmp_path / "src"
    for folder in sources.PROVENANCE_DIRS:
        (copy / folder).mkdir(parents=True)
        for f in (src / folder).iterdir():
            (copy / folder / f.name).symlink_to(f)
    return copy


def test_install_builds_a_complete_store(built):
    s = Store(built)
    assert built.is_symlink()
    assert len(s.areas) == 77 + 928 + 7436
    assert s.manifest["coverage"]["subdistrict"]["unplaced_people"] == 72_210
    assert s.manifest["households"] == {**s.manifest["households"], "households": 235_704, "members": 1_039_270,
                                        "synthetic": True}
    assert (built / "households_synthetic.csv").is_file()
    assert len(s.boundaries("subdistrict")) == 7_423  # 7,436 codes minus 13 Bangkok khwaeng without a polygon


def test_install_is_idempotent(built, src):
    before = Store(built).manifest["built_at"], os.readlink(built)
    inst.install(src, built, log=None)
    assert (Store(built).manifest["built_at"], os.readlink(built)) == before


def test_interrupted_install_leaves_the_previous_store_intact(built, src, monkeypatch):
    before = os.readlink(built), (built / "manifest.json").read_text()

    def boom(*a, **k):
        raise KeyboardInterrupt("killed half-way")

    monkeypatch.setattr(sources, "read_hai", boom)
    with pytest.raises(KeyboardInterrupt):
        inst.install(src, built, force=True, log=None)
    assert (os.readlink(built), (built / "manifest.json").read_text()) == before
    builds = built.parent / f"{built.name}.builds"
    assert not list(builds.glob("*.partial"))
    Store(built).households  # still readable


def test_missing_source_file_is_named(tmp_path, src):
    bad = linked_source(tmp_path, src)
    (bad / "tpmap-2561" / "tpmap2561_amphur_base.csv").unlink()
    with pytest.raises(SourceError) as e:
        inst.install(bad, tmp_path / "store", log=None)
    assert "tpmap2561_amphur_base.csv" in str(e.value) and "not found" in str(e.value)
    assert "ไม่พบไฟล์" in e.value.message("th")
    assert not (tmp_path / "store").exists()


def test_malformed_source_names_file_and_column(tmp_path, src):
    bad = linked_source(tmp_path, src)
    target = bad / "tpmap-2561" / "tpmap2561_province_base.csv"
    text = target.read_text(encoding="utf-8").replace("HOUSEMEMBER_CNT", "MEMBERS", 1)
    target.unlink()
    target.write_text(text, encoding="utf-8")
    with pytest.raises(SourceError) as e:
        inst.install(bad, tmp_path / "store", log=None)
    assert e.value.column == "HOUSEMEMBER_CNT" and "tpmap2561_province_base.csv" in str(e.value)


def test_bad_code_names_row(tmp_path, src):
    bad = linked_source(tmp_path, src)
    target = bad / "tpmap-2561" / "tpmap2561_amphur_base.csv"
    lines = target.read_text(encoding="utf-8").splitlines()
    lines[3] = "ABCD" + lines[3][4:]
    target.unlink()
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SourceError) as e:
        inst.install(bad, tmp_path / "store", log=None)
    assert "row 4" in str(e.value) and "'code'" in str(e.value)


def test_damaged_store_file_is_reported_with_rebuild_hint(tmp_path, built):
    copy = tmp_path / "copy"
    shutil.copytree(built, copy)
    (copy / "tpmap_province.parquet").write_bytes(b"not parquet")
    with pytest.raises(StoreError) as e:
        Store(copy).tpmap("province")
    assert "tpmap_province.parquet" in str(e.value) and "povmap data install" in str(e.value)
    (copy / "manifest.json").write_text("{", encoding="utf-8")
    with pytest.raises(StoreError):
        Store(copy)
    json.loads((built / "manifest.json").read_text())  # the original is untouched
