"""Saved shortlist scenarios: the frame and settings that made a shortlist, and the shortlist itself.

``frame`` and ``settings`` are opaque JSON dicts (tuples come back as lists, numpy numbers as Python
ones). The result table is stored as parquet bytes so that reopening gives the identical DataFrame,
dtypes and index included.
"""
from __future__ import annotations

import io
import json
import os
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from povmap.core.errors import PovmapError
from povmap.userdb.db import reading, transaction

NAME_MAX = 80


class ScenarioError(PovmapError):
    """A scenario cannot be saved, found or renamed as asked."""


@dataclass(frozen=True)
class Scenario:
    id: int
    name: str
    frame: dict
    settings: dict
    result: pd.DataFrame
    store_version: str
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class ScenarioInfo:
    """One line of the scenario list, read without loading the result table."""
    id: int
    name: str
    created_at: str
    updated_at: str
    n_areas: int
    level: str
    scope: str


@dataclass(frozen=True)
class ScenarioDiff:
    both: list[str]        # codes in both shortlists, in a's rank order
    only_a: list[str]      # in a's rank order
    only_b: list[str]      # in b's rank order
    # code, rank_a, rank_b for every area of either shortlist (a's order, then b-only ones in b's
    # order); ranks are float64, NaN where the area is not in that shortlist.
    rank_changes: pd.DataFrame


def save(db: str | os.PathLike, name: str, frame: dict, settings: dict, result: pd.DataFrame,
         store_version: str, *, overwrite: bool = False) -> int:
    """Save a scenario in one transaction; returns its id.

    With ``overwrite`` an existing scenario of the same name (ignoring case) is replaced in place
    (same id, same ``created_at``); without it a taken name is a :class:`ScenarioError`.
    """
    name = _clean_name(name)
    frame_json, settings_json = _to_json(frame, "frame"), _to_json(settings, "settings")
    blob, object_cols = _to_blob(result)
    now = _now()
    row = dict(name=name, name_key=name.casefold(), frame=frame_json, settings=settings_json, result=blob,
               result_object_columns=json.dumps(object_cols), n_areas=len(result),
               level=str(frame.get("level", "")), scope=str(frame.get("scope", "")),
               store_version=str(store_version), updated_at=now)
    with transaction(db) as conn:
        taken = conn.execute("SELECT id FROM scenario WHERE name_key = ?", (row["name_key"],)).fetchone()
        if taken and not overwrite:
            raise _name_taken(name)
        if taken:
            sets = ", ".join(f"{k} = :{k}" for k in row)
            conn.execute(f"UPDATE scenario SET {sets} WHERE id = :id", {**row, "id": taken[0]})
            return taken[0]
        cols = [*row, "created_at"]
        cur = conn.execute(f"INSERT INTO scenario ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})",
                           {**row, "created_at": now})
        return cur.lastrowid


def list_scenarios(db: str | os.PathLike) -> list[ScenarioInfo]:
    """All saved scenarios, most recently saved or renamed first."""
    with reading(db) as conn:
        rows = conn.execute("SELECT id, name, created_at, updated_at, n_areas, level, scope FROM scenario "
                            "ORDER BY updated_at DESC, id DESC").fetchall()
    return [ScenarioInfo(*r) for r in rows]


def load(db: str | os.PathLike, scenario_id: int) -> Scenario:
    with reading(db) as conn:
        row = conn.execute("SELECT id, name, frame, settings, result, result_object_columns, store_version, "
                           "created_at, updated_at FROM scenario WHERE id = ?", (int(scenario_id),)).fetchone()
    if row is None:
        raise _not_found(scenario_id)
    sid, name, frame, settings, blob, object_cols, store_version, created, updated = row
    return Scenario(sid, name, json.loads(frame), json.loads(settings), _from_blob(blob, json.loads(object_cols)),
                    store_version, created, updated)


def rename(db: str | os.PathLike, scenario_id: int, new_name: str) -> None:
    name = _clean_name(new_name)
    with transaction(db) as conn:
        taken = conn.execute("SELECT id FROM scenario WHERE name_key = ?", (name.casefold(),)).fetchone()
        if taken and taken[0] != int(scenario_id):
            raise _name_taken(name)
        cur = conn.execute("UPDATE scenario SET name = ?, name_key = ?, updated_at = ? WHERE id = ?",
                           (name, name.casefold(), _now(), int(scenario_id)))
        if cur.rowcount == 0:
            raise _not_found(scenario_id)


def delete(db: str | os.PathLike, scenario_id: int) -> None:
    with transaction(db) as conn:
        if conn.execute("DELETE FROM scenario WHERE id = ?", (int(scenario_id),)).rowcount == 0:
            raise _not_found(scenario_id)


def diff(a: Scenario, b: Scenario) -> ScenarioDiff:
    """Which areas two shortlists share, which only one has, and each area's rank in both."""
    ra, rb = _ranked(a.result), _ranked(b.result)
    in_a, in_b = set(ra["code"]), set(rb["code"])
    only_b = [c for c in rb["code"] if c not in in_a]
    # Float ranks so that an area missing from one side is NaN (plain ``x == x`` tests work on it).
    ranks = pd.DataFrame({"code": [*ra["code"], *only_b]})
    for side, r in (("rank_a", ra), ("rank_b", rb)):
        ranks[side] = ranks["code"].map(dict(zip(r["code"], r["rank"]))).astype("float64")
    return ScenarioDiff(both=[c for c in ra["code"] if c in in_b], only_a=[c for c in ra["code"] if c not in in_b],
                        only_b=only_b, rank_changes=ranks)


def _ranked(result: pd.DataFrame) -> pd.DataFrame:
    df = pd.DataFrame({"code": result["code"].astype(str).reset_index(drop=True),
                       "rank": result["rank"].reset_index(drop=True)})
    return df.sort_values("rank", kind="stable").reset_index(drop=True)


def _clean_name(name) -> str:
    # NFC so that the same Thai name typed on two keyboards is the same name.
    name = unicodedata.normalize("NFC", " ".join(str(name or "").split()))
    if not 1 <= len(name) <= NAME_MAX:
        raise ScenarioError("error.scenario.name_length", max=NAME_MAX)
    return name


def _to_json(d: dict, what: str) -> str:
    if not isinstance(d, dict):
        raise ScenarioError("error.scenario.not_dict", what=what)

    def plain(x):  # numpy numbers and arrays appear in settings built from widgets and DataFrames
        if isinstance(x, np.generic | np.ndarray):
            return x.tolist()
        raise TypeError(f"{type(x).__name__} is not JSON")

    try:
        return json.dumps(d, ensure_ascii=False, default=plain, allow_nan=True)
    except (TypeError, ValueError) as exc:
        raise ScenarioError("error.scenario.not_json", what=what, exc=exc) from exc


def _to_blob(result: pd.DataFrame) -> tuple[bytes, dict]:
    if (not isinstance(result, pd.DataFrame) or not result.columns.is_unique
            or not {"code", "rank"} <= set(result.columns)):
        raise ScenarioError("error.scenario.shortlist_columns")
    if result["code"].isna().any() or not result["code"].is_unique:
        raise ScenarioError("error.scenario.shortlist_codes")
    # Parquet reads object columns of text back as str; note them to restore the exact dtype.
    object_cols = {"columns": [c for c in result.columns if result[c].dtype == object],
                   "index": result.index.dtype == object}
    buf = io.BytesIO()
    try:
        result.to_parquet(buf)
    except Exception as exc:  # mixed-type columns, non-text column names, ...
        raise ScenarioError("error.scenario.shortlist_unsaved", exc=exc) from exc
    return buf.getvalue(), object_cols


def _from_blob(blob: bytes, object_cols: dict) -> pd.DataFrame:
    df = pd.read_parquet(io.BytesIO(blob))
    for c in object_cols["columns"]:
        df[c] = df[c].astype(object)
    if object_cols["index"]:
        df.index = df.index.astype(object)
    return df


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _name_taken(name: str) -> ScenarioError:
    return ScenarioError("error.scenario.name_taken", name=name)


def _not_found(scenario_id) -> ScenarioError:
    return ScenarioError("error.scenario.not_found", id=scenario_id)
