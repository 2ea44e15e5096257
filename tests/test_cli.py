"""``povmap query`` prints the explorer's figures; errors are one clear line, exit code 2."""
from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest

from povmap.cli import main


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_query_csv_header_and_totals(capsys, src):
    code, out, _ = run(capsys, "query", "--level", "province", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["code", "name_th", "name_en", "value", "status", "reason"]
    assert len(rows) == 77 and all(r["status"] in ("shown", "no_data") for r in rows)
    total = sum(float(r["value"]) for r in rows if r["value"])
    country = pd.read_csv(src / "tpmap-2561" / "tpmap2561_country_poor_5dims.csv")
    assert total == country["poor.JPT.MOFval.CNT"].iloc[0] == 1_032_987
    bkk = next(r for r in rows if r["code"] == "10")
    assert bkk["value"] == "" and bkk["name_th"] == "กรุงเทพมหานคร"
    assert (bkk["status"], bkk["reason"]) == ("no_data", "not_surveyed")  # an empty value says why


def test_query_unplaced_lists_code_reason_value(capsys):
    code, out, _ = run(capsys, "query", "--level", "subdistrict", "--unplaced", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["code", "reason", "value", "status"]
    assert {r["status"] for r in rows} == {"not_placed"}
    assert len(rows) == 593 and sum(float(r["value"]) for r in rows) == 72_210


def test_query_json_households_scope_and_tiers(capsys, engine):
    code, out, _ = run(capsys, "query", "--dataset", "households", "--level", "province", "--scope", "sra7",
                       "--tiers", "1,2", "--dimensions", "income", "--metric", "households", "--format", "json")
    data = json.loads(out)
    assert code == 0 and len(data) == 7
    assert {d["code"] for d in data} == {"52", "46", "45", "49", "93", "94", "95"}
    # household figures count households deprived in any dimension: a choice of dimensions changes nothing
    code, out, _ = run(capsys, "query", "--dataset", "households", "--level", "province", "--scope", "sra7",
                       "--tiers", "1,2", "--metric", "households", "--format", "json")
    assert code == 0 and json.loads(out) == data
    own = engine.protected.by_area("province", tiers=(1, 2), deprived=1)["households"]  # the protected sums
    assert all(d["status"] == "shown" and d["value"] == own[d["code"]] for d in data)  # the 7 are in the file


@pytest.mark.parametrize("args,needle", [
    (["--dataset", "households", "--metric", "rate"], "not available"),
    (["--dimensions", "health,wealth"], "unknown dimension"),
    (["--scope", "99"], "unknown province code"),
    (["--indicator", "ind20", "--metric", "households"], "no household count"),
    (["--tiers", "5"], "tiers"),
    (["--level", "district", "--parent", "4601"], "not below"),
])
def test_query_errors_are_one_clear_line(capsys, args, needle):
    code, out, err = run(capsys, "query", *args)
    assert code == 2 and out == ""
    assert needle in err and "Traceback" not in err


def test_missing_store_says_how_to_build_it(capsys, tmp_path):
    code, _, err = run(capsys, "query", "--store", str(tmp_path / "nowhere"))
    assert code == 2 and "povmap data install" in err


@pytest.mark.parametrize("args", [["query", "--tiers", "a"], ["query", "--tiers", "1.5"],
                                  ["data", "synth", "--out", "/nonexistent/dir/x.csv"]])
def test_bad_arguments_never_show_a_traceback(capsys, args):
    code, _, err = run(capsys, *args)
    assert code == 2 and "Traceback" not in err and err.startswith("povmap:")


def test_errors_are_given_in_thai_too(capsys):
    code, _, err = run(capsys, "query", "--scope", "99")
    assert code == 2 and "ไม่รู้จักรหัสจังหวัด" in err


# --- povmap data: the Data page's operations ---------------------------------------------------------
FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures" / "uploads"


@pytest.fixture
def user_data(tmp_path, monkeypatch):
    monkeypatch.setenv("POVMAP_USER_DATA", str(tmp_path / "ud"))
    return tmp_path / "ud"


def test_data_check_reports_in_the_users_language_and_exit_codes(capsys, user_data):
    code, out, _ = run(capsys, "data", "check", str(FIXTURES / "duplicate_household.csv"), "--kind", "households",
                       "--lang", "th")
    assert code == 0 and "นำเข้าได้ 5 แถว" in out and "H002" in out  # importable: the bad row is left out
    code, out, _ = run(capsys, "data", "check", str(FIXTURES / "duplicate_household.csv"), "--kind", "households",
                       "--mode", "all_or_nothing", "--lang", "en", "--format", "json")
    report = json.loads(out)
    assert code == 2 and not report["can_import"] and report["problems"][0]["Row"] == 6
    code, out, _ = run(capsys, "data", "check", str(FIXTURES / "empty.csv"), "--kind", "households", "--lang", "en")
    assert code == 2 and "cannot be imported" in out
    assert not user_data.exists() or not any(user_data.iterdir())  # a check writes nothing


def test_a_file_over_the_upload_limit_is_read_only_with_max_mb(capsys, user_data, tmp_path, monkeypatch):
    from povmap.data import uploads as U

    monkeypatch.setattr(U, "MAX_UPLOAD_BYTES", 100)  # the browser's limit, made tiny: the fixture is over it
    big = str(FIXTURES / "good_households.csv")
    code, out, _ = run(capsys, "data", "check", big, "--kind", "households", "--lang", "en")
    assert code == 2 and "the limit is" in out
    code, out, _ = run(capsys, "data", "check", big, "--kind", "households", "--lang", "en", "--max-mb", "1")
    assert code == 0 and "6 rows" in out


def test_data_import_prints_the_id_last_then_list_use_delete(capsys, user_data):
    code, out, _ = run(capsys, "data", "import", str(FIXTURES / "good_households.csv"), "--kind", "households",
                       "--name", "six households", "--no-activate", "--lang", "en")
    ds = out.strip().splitlines()[-1]
    assert code == 0 and ds.startswith("households-")
    code, out, _ = run(capsys, "data", "list", "--kind", "households", "--format", "json")
    listed = {d["id"]: d for d in json.loads(out)}
    assert listed[ds]["name"] == "six households" and not listed[ds]["in_use"] and listed[ds]["households"] == 6
    assert run(capsys, "data", "use", ds)[0] == 0
    code, out, _ = run(capsys, "data", "list", "--kind", "households", "--format", "json")
    assert {d["id"]: d["in_use"] for d in json.loads(out)}[ds]
    assert run(capsys, "data", "delete", ds)[0] == 0
    code, out, _ = run(capsys, "data", "list", "--format", "json")
    assert ds not in {d["id"] for d in json.loads(out)}
    code, _, err = run(capsys, "data", "delete", "builtin-tpmap-2561")
    assert code == 2 and "built-in" in err


def test_data_import_refuses_a_bad_file_and_keeps_the_data_in_use(capsys, user_data):
    code, out, _ = run(capsys, "data", "import", str(FIXTURES / "empty.csv"), "--kind", "households", "--lang", "th")
    assert code == 2 and "นำเข้าไม่ได้" in out
    code, out, _ = run(capsys, "data", "list", "--format", "json")
    assert [d["id"] for d in json.loads(out) if d["in_use"]] == ["builtin-tpmap-2561", "builtin-households-synthetic"]
