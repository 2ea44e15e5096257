"""A household file holding several survey rounds (the same household ids in more than one survey year) is imported
as one dataset per round, and the rounds compare as the built-in ones do."""
from __future__ import annotations

import pandas as pd
import pytest

from povmap.core import change as ch
from povmap.core import households as hh
from povmap.core.engine import Query
from povmap.core.i18n import t
from povmap.data import uploads as U
from povmap.data.datasource import open_engine


@pytest.fixture
def user_data(tmp_path, monkeypatch):
    monkeypatch.setenv(U.USER_DATA_ENV, str(tmp_path / "ud"))
    return tmp_path / "ud"


def _file(store, tmp_path, rounds=("households", "households_round2"), province="46") -> bytes:
    parts = [getattr(store, r) for r in rounds]
    df = pd.concat([p[p["subdistrict_code"].str[:2] == province] for p in parts])
    path = tmp_path / "rounds.csv"
    hh.write_household_file(df, path)
    return path.read_bytes()


def test_two_rounds_in_one_file_become_two_datasets(store, tmp_path, user_data):
    report = U.check(_file(store, tmp_path), "rounds.csv", kind="households")
    assert report.rounds == [2023, 2024] and report.rejected == 0
    assert t("upload.summary.rounds", "th", count=2, years="2566, 2567") in report.summary("th")
    info = U.import_dataset(report, U.ALL_OR_NOTHING, name="Kalasin")
    listed = {d.year: d for d in U.list_datasets("households", root=user_data)}
    assert sorted(listed) == [2023, 2024]
    assert info.id == listed[2024].id == U.active_id("households")  # the latest round is the one in use
    for year, source in ((2023, store.households), (2024, store.households_round2)):
        kalasin = source[source["subdistrict_code"].str[:2] == "46"]
        assert listed[year].rows_accepted == len(kalasin)
        assert listed[year].coverage["households"] == len(kalasin)
        assert listed[year].extra["rounds_in_file"] == [2023, 2024]


def test_the_imported_rounds_compare_as_the_built_in_ones(store, tmp_path, user_data):
    """Same households, same record keys: the protected figures of Kalasin are the built-in rounds' figures."""
    U.import_dataset(U.check(_file(store, tmp_path), "rounds.csv", kind="households"), U.ALL_OR_NOTHING)
    ids = {d.year: d.id for d in U.list_datasets("households", root=user_data) if not d.builtin}
    q = Query(dataset="households", level="subdistrict", scope="46", metric="households", tiers=(1, 2))
    mine = ch.compare(open_engine(store=store, use=[ids[2023]]), open_engine(store=store, use=[ids[2024]]), q)
    built = ch.compare(open_engine(store=store, use=[U.BUILTIN["households"]]),
                       open_engine(store=store, use=[U.ROUND2]), q)
    pd.testing.assert_frame_equal(mine.table, built.table)


def test_a_round_spanning_two_years_stays_one_dataset(store, tmp_path, user_data):
    df = store.households[store.households["subdistrict_code"].str[:2] == "46"].copy()
    df.loc[df.index[::3], "survey_year"] = hh.SYNTHETIC_YEAR + 1  # surveyed over the new year, ids unique
    path = tmp_path / "span.csv"
    hh.write_household_file(df, path)
    report = U.check(path.read_bytes(), "span.csv", kind="households")
    assert report.rounds == [hh.SYNTHETIC_YEAR]
    U.import_dataset(report, U.ALL_OR_NOTHING)
    assert len([d for d in U.list_datasets("households", root=user_data) if not d.builtin]) == 1


def test_an_id_twice_in_one_year_is_still_a_duplicate(store, tmp_path):
    df = store.households[store.households["subdistrict_code"].str[:2] == "46"].head(20).copy()
    df = pd.concat([df, df.head(1)])
    path = tmp_path / "dup.csv"
    hh.write_household_file(df, path)
    report = U.check(path.read_bytes(), "dup.csv", kind="households")
    assert report.rejected == 1 and (report.problems["code"] == "duplicate_household").sum() == 1


def test_the_transitions_of_two_imported_rounds_are_kept_for_every_server(store, tmp_path, user_data, monkeypatch):
    """A pair of imported rounds is worked out once: the next server (a new engine here) reads the kept sums and
    never the rows, and gets the same protected table."""
    from povmap.data.datasource import StoreDataSource

    U.import_dataset(U.check(_file(store, tmp_path), "rounds.csv", kind="households"), U.ALL_OR_NOTHING)
    ids = {d.year: d.id for d in U.list_datasets("households", root=user_data) if not d.builtin}
    first = ch.transitions(open_engine(store=store, use=[ids[2023]]), open_engine(store=store, use=[ids[2024]]))
    assert (user_data / ids[2024] / f"transitions-from-{ids[2023]}.parquet").is_file()

    def no_rows(self):
        raise AssertionError("the rows were read again")

    monkeypatch.setattr(StoreDataSource, "household_tiers", no_rows)
    again = ch.transitions(open_engine(store=store, use=[ids[2023]]), open_engine(store=store, use=[ids[2024]]))
    pd.testing.assert_frame_equal(again.cells, first.cells, check_dtype=False)
    assert again.matrix("46").equals(first.matrix("46"))
