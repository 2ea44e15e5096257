"""Import: export -> re-import gives the same aggregates; an import that dies half-way leaves nothing."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from povmap.core import households as hh
from povmap.data import uploads as U
from povmap.data.secrets import SECRET_FILE

FIXTURES = Path(__file__).parent / "fixtures" / "uploads"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def user_data(tmp_path, monkeypatch):
    root = tmp_path / "user_datasets"
    monkeypatch.setenv(U.USER_DATA_ENV, str(root))
    return root


def _report(name: str, kind: str, **kw) -> U.Report:
    return U.check((FIXTURES / name).read_bytes(), name, kind=kind, **kw)


def test_export_reimport_gives_identical_aggregates(store, tmp_path):
    original = store.households
    path = tmp_path / "households.csv"
    hh.write_household_file(original, path)
    report = U.check(path.read_bytes(), path.name, kind="households")
    assert report.ok and report.problems.empty and report.accepted == len(original)
    info = U.import_dataset(report, "all_or_nothing", synthetic=True)
    again = U.load_table(info.id, "households")
    pd.testing.assert_frame_equal(again, original, check_dtype=False)
    for dims, tiers in ((["health", "living", "education", "income", "access"], [1, 2, 3, 4]),
                        (["income"], [1]), (["health", "access"], [2, 3])):
        pd.testing.assert_frame_equal(hh.aggregate(again, "subdistrict", dims, tiers),
                                      hh.aggregate(original, "subdistrict", dims, tiers))
    assert info.coverage == {"areas": original["subdistrict_code"].nunique(), "people": 1_039_270,
                             "households": 235_704}


def _no_trace(root: Path) -> None:
    U.list_datasets()  # also removes what a dead import left behind
    assert U.list_datasets() == []
    assert not [p for p in root.iterdir() if p.name.startswith((".tmp-", ".trash-"))] if root.exists() else True


def test_exception_mid_write_leaves_no_dataset(user_data, monkeypatch):
    before = U.import_dataset(_report("good_households.csv", "households"))
    report = _report("good_counts_province_and_districts.csv", "tpmap", year=2566)
    assert len(report.tables) == 2  # province and district: the crash comes between the two files
    real = pd.DataFrame.to_parquet
    calls = []

    def crash_on_second(self, path, *a, **kw):
        calls.append(path)
        if len(calls) == 2:
            Path(path).write_bytes(b"PAR1 half a file")
            raise OSError("disk full (simulated)")
        return real(self, path, *a, **kw)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", crash_on_second)
    with pytest.raises(OSError, match="simulated"):
        U.import_dataset(report)
    monkeypatch.setattr(pd.DataFrame, "to_parquet", real)
    assert [d.id for d in U.list_datasets()] == [before.id]
    assert U.active_id("tpmap") == U.BUILTIN["tpmap"] and U.active_id("households") == before.id
    # (and the installation's record-key secret, which the household import made its cell sums with)
    assert sorted(p.name for p in user_data.iterdir() if not p.name.startswith(".lock")) == sorted(
        [before.id, "active.json", SECRET_FILE])


_KILLER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    import pandas as pd
    from povmap.data import uploads as U

    report = U.check(Path(sys.argv[1]).read_bytes(), "x.csv", kind="tpmap", year=2566)
    real = pd.DataFrame.to_parquet
    calls = []

    def die_on_second(self, path, *a, **kw):
        calls.append(path)
        if len(calls) == 2:
            with open(path, "wb") as fh:
                fh.write(b"PAR1 half")
                fh.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        return real(self, path, *a, **kw)

    pd.DataFrame.to_parquet = die_on_second
    U.import_dataset(report)
    print("not killed")
""")


def test_sigkill_mid_write_leaves_no_dataset(user_data):
    env = {**os.environ, U.USER_DATA_ENV: str(user_data)}
    proc = subprocess.run([sys.executable, "-c", _KILLER, str(FIXTURES / "good_counts_province_and_districts.csv")],
                          env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    leftovers = [p.name for p in user_data.iterdir() if p.name.startswith(".tmp-")]
    assert len(leftovers) == 1  # the half-written folder, hidden from the registry
    _no_trace(user_data)
    assert U.active_id("tpmap") == U.BUILTIN["tpmap"]
    info = U.import_dataset(_report("good_counts_province_and_districts.csv", "tpmap", year=2566))  # next one works
    assert [d.id for d in U.list_datasets()] == [info.id]


def test_left_overs_are_cleaned_even_when_the_pid_was_reused(user_data):
    import time

    from povmap.data.uploads import datasets

    user_data.mkdir(parents=True)
    own = user_data / f".tmp-households-20260101T000000-abcdef-{os.getpid()}"  # e.g. pid 1 again in a container
    dead = user_data / ".active.json.999999999.1.tmp"
    live_new = user_data / ".tmp-households-20260101T000000-fedcba-1"  # pid 1 is alive: may be writing
    live_old = user_data / ".tmp-households-20250101T000000-aaaaaa-1"
    for p in (own, live_new, live_old):
        p.mkdir()
    dead.write_text("{}")
    old = time.time() - datasets.STALE_AFTER_S - 60
    os.utime(live_old, (old, old))
    U.list_datasets()
    assert not own.exists() and not dead.exists() and not live_old.exists()
    assert live_new.exists()
