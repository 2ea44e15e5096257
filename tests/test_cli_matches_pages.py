"""One data source for every face: the command line prints the figures the pages show, for the built-in and
an imported dataset, with the privacy threshold of the server (POVMAP_PRIVACY_K) honoured by both."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from apptest import open_page
from streamlit.testing.v1 import AppTest

from povmap.cli import main
from povmap.core import households as hh
from povmap.core.i18n import t
from povmap.core.thai import DECIMALS, fmt_number
from povmap.data import uploads as U

APP = Path(__file__).resolve().parent.parent / "app.py"
TIMEOUT = 180


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def cli_rows(capsys, *args) -> list[dict]:
    code, out, err = cli(capsys, *args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def env(store, tmp_path, monkeypatch):
    """A server's settings: the store, an empty imported-datasets folder and user database of its own."""
    monkeypatch.setenv("POVMAP_STORE", str(store.path))
    monkeypatch.setenv(U.USER_DATA_ENV, str(tmp_path / "user_datasets"))
    monkeypatch.setenv("POVMAP_USER_DB", str(tmp_path / "user.sqlite"))
    return tmp_path


def page(path: str, **params) -> AppTest:
    return open_page(None, None if path == "app.py" else path, timeout=TIMEOUT, **params)


def ranking(at: AppTest) -> pd.DataFrame:
    """The explorer's ranking table, by code."""
    [df] = [d.value for d in at.dataframe if {t("table.code", "th"), t("table.rank", "th")} <= set(d.value.columns)]
    return df.set_index(t("table.code", "th"))


def import_kalasin_households(store, capsys, tmp_path, *extra) -> str:
    """The built-in file's Kalasin households, imported with the command line as a user's own file."""
    df = store.households
    df = df[df["subdistrict_code"].str.startswith("46")].drop(columns=[hh.TIER_COLUMN])
    path = tmp_path / "kalasin.csv"
    df.to_csv(path, index=False)
    code, out, err = cli(capsys, "data", "import", str(path), "--kind", "households", "--name", "Kalasin", *extra)
    assert code == 0, err
    return out.strip().splitlines()[-1]


@pytest.mark.parametrize("k", ["5", "12"])
def test_explorer_household_ranking_equals_query_on_an_imported_file(store, env, capsys, monkeypatch, k):
    monkeypatch.setenv("POVMAP_PRIVACY_K", k)
    ds = import_kalasin_households(store, capsys, env)  # imported and in use, as on the Data page
    at = page("app.py", dataset="households", level="subdistrict", scope="46", metric="households")
    shown = ranking(at)["จำนวน (ครัวเรือน)"]
    rows = {r["code"]: r for r in cli_rows(capsys, "query", "--dataset", "households", "--level", "subdistrict",
                                           "--scope", "46", "--metric", "households")}
    assert set(rows) == set(shown.index)
    for code, text in shown.items():
        r = rows[code]
        if text == f"< {k}":
            assert r["status"] == "hidden" and r["value"] is None and r["reason"] == "hidden_small"
        else:
            assert r["status"] == "shown" and text == fmt_number(r["value"])
    assert (shown == f"< {k}").any()
    # the same figures again when the dataset is named instead of being the one in use
    cli(capsys, "data", "use", U.BUILTIN[U.KIND_HOUSEHOLDS])
    again = cli_rows(capsys, "query", "--dataset", "households", "--level", "subdistrict", "--scope", "46",
                     "--metric", "households", "--use", ds)
    assert {r["code"]: (r["value"], r["status"]) for r in again} == {c: (r["value"], r["status"]) for c, r in rows.items()}
    # the built-in file (in use again) covers 20 provinces; the imported one Kalasin alone
    args = ("query", "--dataset", "households", "--level", "province", "--scope", "ppaos20")
    covered = [sum(r["status"] == "shown" for r in cli_rows(capsys, *args, *use)) for use in ((), ("--use", ds))]
    assert covered == [20, 1]


def test_a_higher_threshold_hides_more_on_the_command_line(env, capsys, monkeypatch):
    args = ("query", "--dataset", "households", "--level", "subdistrict", "--scope", "46", "--metric", "households")
    from povmap.data.datasource import open_engine

    hidden = {}
    for k in ("5", "30"):
        monkeypatch.setenv("POVMAP_PRIVACY_K", k)
        rows = {r["code"]: r for r in cli_rows(capsys, *args)}
        hidden[k] = {c for c, r in rows.items() if r["status"] == "hidden"}
        # each subdistrict's own protected sum (a table built for this k) decides: 1 to k-1 is hidden, nothing else
        eng = open_engine()
        assert eng.privacy_k == int(k)
        own = eng.protected.by_area("subdistrict", tiers=(1, 2, 3, 4), deprived=1)["households"]
        own = own.reindex(list(rows)).fillna(0).astype(int)
        assert hidden[k] == set(own[(own > 0) & (own < int(k))].index)
        assert all(r["value"] == own[c] for c, r in rows.items() if r["status"] == "shown")
    assert 0 < len(hidden["5"]) < len(hidden["30"])


def test_explorer_rate_ranking_equals_query(env, capsys):
    at = page("app.py", level="district", scope="46", metric="rate")
    shown = ranking(at)[t("metric.short.rate", "th")]
    rows = {r["code"]: r for r in cli_rows(capsys, "query", "--level", "district", "--scope", "46", "--metric", "rate")}
    assert set(rows) == set(shown.index) and len(rows) == 18
    assert all(r["status"] == "shown" and r["value"] == pytest.approx(shown[c]) for c, r in rows.items())


def test_profile_page_equals_profile_command(env, capsys):
    at = page("app_pages/profile.py", area="4603")
    rows = cli_rows(capsys, "profile", "4603")
    fig = {r["key"]: r["value"] for r in rows if r["section"] == "figures" and r["measure"] == "value"}
    assert [m.value for m in at.metric[:4]] == [fmt_number(fig[k], DECIMALS.get(k, 0))
                                                  for k in ("people", "rate", "households", "population")]
    [tiers] = [d.value for d in at.dataframe if "ครัวเรือน" in d.value.columns and "%" in d.value.columns]
    cli_tiers = [r for r in rows if r["section"] == "households" and r["key"].startswith("tier")
                 and r["measure"] == "households"]
    page_tiers = tiers["ครัวเรือน"].tolist()
    assert len(page_tiers) == len(cli_tiers) == 4
    for text, r in zip(page_tiers, cli_tiers):
        assert (text == "< 5") == (r["status"] == "hidden")
        if r["status"] == "shown":
            assert text == fmt_number(r["value"])
    cli_shares = [r for r in rows if r["section"] == "households" and r["key"].startswith("tier")
                  and r["measure"] == "share"]
    assert tiers["%"].tolist() == ["–" if r["value"] is None else f"{r['value']:,.1f}" for r in cli_shares]
    # the households and members the page states are the command's (protected sums, not the file's counts)
    hh_fig = {r["key"]: r for r in rows if r["section"] == "households" and r["key"] == r["measure"]}
    assert all(hh_fig[m]["status"] == "shown" for m in ("households", "members", "referred"))
    summary = t("profile.hh_summary", "th", households=fmt_number(hh_fig["households"]["value"]),
                members=fmt_number(hh_fig["members"]["value"]))
    assert any(summary in m.value and fmt_number(hh_fig["referred"]["value"]) in m.value for m in at.markdown)
    kids = [r for r in rows if r["section"] == "children" and r["measure"] == "people"]
    [page_kids] = [d.value for d in at.dataframe if t("fig.rate", "th") in d.value.columns]
    assert [r["key"] for r in kids] == page_kids[t("table.code", "th")].tolist()


def test_profile_of_bangkok_says_why_figures_are_empty(env, capsys):
    rows = cli_rows(capsys, "profile", "10")
    people = next(r for r in rows if r["section"] == "figures" and r["key"] == "people" and r["measure"] == "value")
    assert people["value"] is None and people["status"] == "no_data" and people["reason"] == "not_surveyed"
    assert all(r["status"] in ("shown", "hidden", "no_data") for r in rows)


def test_compare_page_equals_compare_command(env, capsys):
    from povmap.data.datasource import open_engine

    pt = open_engine().protected  # this server's protected table: find a subdistrict shown as "< 5"
    small = next(c for c in sorted(pt.cells["code"].unique()) if c.startswith("46") and 0 < pt.total(prefix=c) < 5)
    at = page("app_pages/compare.py", areas=f"{small},4603")
    df = at.dataframe[0].value.set_index(at.dataframe[0].value.columns[0])
    rows = cli_rows(capsys, "compare", small, "4603")
    hh_rows = {r["code"]: r for r in rows if r["measure"] == "hh_households"}
    assert hh_rows[small]["status"] == "hidden" and df.loc[small, "ครัวเรือน (PPAOS)"] == "< 5"
    assert df.loc["4603", "ครัวเรือน (PPAOS)"] == fmt_number(hh_rows["4603"]["value"])
    people = {r["code"]: r["value"] for r in rows if r["measure"] == "people"}
    assert list(df.index) == [small, "4603"] and set(people) == {small, "4603"}


def test_pilot_page_shortlist_equals_pilot_command(env, capsys):
    at = page("app_pages/pilot.py")
    at.selectbox(key="pilot.scope.th").set_value("one").run()
    at.selectbox(key="pilot.province.th").set_value("46").run()
    assert not at.exception, at.exception
    [df] = [d.value for d in at.dataframe if "คะแนนรวม" in d.value.columns]
    code, out, err = cli(capsys, "pilot", "--scope", "46", "--format", "json", "--lang", "th")
    assert code == 0, err
    result = json.loads(out)
    short = [a for a in result["areas"] if a["shortlisted"]]
    assert [a["code"] for a in short] == df["รหัส"].tolist()
    assert [a["score"] for a in short] == pytest.approx([float(s) for s in df["คะแนนรวม"]], abs=5e-4)  # shown to 3 places
    assert {a["lisa_class"] for a in result["areas"]} <= {"HH", "LL", "HL", "LH", "ns", None}
    method = {m["label"]: m["text"] for m in result["method"]}
    assert method[t("pilot.m.rule", "th")] == t("pilot.m.rule_n", "th", count=20)


def test_pilot_csv_has_every_ranked_area_with_its_classes(env, capsys):
    code, out, err = cli(capsys, "pilot", "--scope", "46", "--level", "district", "--weights", "count=2",
                         "--disable", "coverage,readiness", "--top", "5")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 18 and sum(r["shortlisted"] == "True" for r in rows) == 5
    assert {"score", "rank", "lisa_class", "gi_class", "count", "rate"} <= set(rows[0])
    assert "coverage" not in rows[0] or all(r["coverage"] in ("0.0", "1.0") for r in rows)


@pytest.mark.parametrize("args,needle", [
    (["pilot", "--weights", "count=lots"], "criterion=number"),
    (["pilot", "--disable", "wealth"], "unknown criterion"),
    (["compare", "46"], "2 to 4"),
    (["profile", "99"], ""),
    (["query", "--use", "households-20990101T000000-abcdef"], "no dataset"),
])
def test_figure_command_errors_are_one_clear_line(env, capsys, args, needle):
    code, out, err = cli(capsys, *args)
    assert code == 2 and out == "" and "Traceback" not in err and needle in err
