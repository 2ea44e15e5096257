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
    assert list(rows[0]) == ["code", "name_th", "name_en", "value"]
    assert len(rows) == 77
    total = sum(float(r["value"]) for r in rows if r["value"])
    country = pd.read_csv(src / "tpmap-2561" / "tpmap2561_country_poor_5dims.csv")
    assert total == country["poor.JPT.MOFval.CNT"].iloc[0] == 1_032_987
    bkk = next(r for r in rows if r["code"] == "10")
    assert bkk["value"] == "" and bkk["name_th"] == "กรุงเทพมหานคร"


def test_query_unplaced_lists_code_reason_value(capsys):
    code, out, _ = run(capsys, "query", "--level", "subdistrict", "--unplaced", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["code", "reason", "value"]
    assert len(rows) == 593 and sum(float(r["value"]) for r in rows) == 72_210


def test_query_json_households_scope_and_tiers(capsys):
    code, out, _ = run(capsys, "query", "--dataset", "households", "--level", "province", "--scope", "sra7",
                       "--tiers", "1,2", "--dimensions", "income", "--metric", "households", "--format", "json")
    data = json.loads(out)
    assert code == 0 and len(data) == 7
    assert {d["code"] for d in data} == {"52", "46", "45", "49", "93", "94", "95"}


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
