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
import sqlalchemy as sa

from povmap.core.access import OPERATOR, AccessDenied, Action, Role, User, require
from povmap.core.errors import PovmapError
from povmap.core.thai import fmt_datetime
from povmap.userdb import audit
from povmap.userdb.db import insert_sql, reading, transaction

NAME_MAX = 80


class ScenarioError(PovmapError):
    """A scenario cannot be saved, found or renamed as asked."""


class ScenarioConflict(ScenarioError):
    """Someone changed the scenario since this user opened it: nothing was saved; the message says who and when."""

    def shown_params(self, lang: str) -> dict:
        return self.params | {"when": fmt_datetime(datetime.fromisoformat(self.params["when"]), lang)}


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
    owner: str = ""
    owner_name: str = ""
    version: int = 1


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
    owner: str = ""  # user id; "" = saved before sign-in existed (only an admin changes it)
    owner_name: str = ""
    version: int = 1

    def changeable_by(self, user: User) -> bool:
        return may_change(user, self.owner)


def may_change(user: User, owner: str) -> bool:
    """Only its owner or an admin renames, overwrites or deletes a scenario; everyone may open and copy it."""
    return user.role == Role.ADMIN or (bool(owner) and owner == user.id and user.can(Action.SAVE_SCENARIO))


@dataclass(frozen=True)
class ScenarioDiff:
    both: list[str]        # codes in both shortlists, in a's rank order
    only_a: list[str]      # in a's rank order
    only_b: list[str]      # in b's rank order
    # code, rank_a, rank_b for every area of either shortlist (a's order, then b-only ones in b's
    # order); ranks are float64, NaN where the area is not in that shortlist.
    rank_changes: pd.DataFrame


def save(db: str | os.PathLike, name: str, frame: dict, settings: dict, result: pd.DataFrame,
         store_version: str, *, overwrite: bool = False, by: User = OPERATOR, expected_version: int | None = None,
         address: str = "") -> int:
    """Save a scenario in one transaction (with its audit row); returns its id.

    With ``overwrite`` an existing scenario of the same name (ignoring case) is replaced in place
    (same id, same ``created_at``, same owner): only by its owner or an admin, and, with ``expected_version``,
    only if nobody changed it since (else :class:`ScenarioConflict`). Without it a taken name is a
    :class:`ScenarioError`.
    """
    require(by, Action.SAVE_SCENARIO)
    name = _clean_name(name)
    frame_json, settings_json = _to_json(frame, "frame"), _to_json(settings, "settings")
    blob, object_cols = _to_blob(result)
    now = _now()
    row = dict(name=name, name_key=name.casefold(), frame=frame_json, settings=settings_json, result=blob,
               result_object_columns=json.dumps(object_cols), n_areas=len(result),
               level=str(frame.get("level", "")), scope=str(frame.get("scope", "")),
               store_version=str(store_version), updated_at=now)
    row["changed_by"] = by.id
    with transaction(db) as conn:
        taken = conn.execute(_BY_NAME, {"k": row["name_key"]}).first()
        if taken and not overwrite:
            raise _name_taken(name)
        if taken:
            _check_change(conn, taken[0], by, expected_version)
            sets = ", ".join(f"{k} = :{k}" for k in row)
            conn.execute(sa.text(f"UPDATE scenario SET {sets}, version = version + 1 WHERE id = :id"),
                         {**row, "id": taken[0]})
            audit.record(conn, by, "scenario_overwrite", str(taken[0]), {"name": name}, address=address)
            return taken[0]
        row |= {"owner": by.id, "owner_name": by.name, "created_at": now}
        new_id = conn.execute(insert_sql("scenario", row, returning="id"), row).scalar_one()
        audit.record(conn, by, "scenario_save", str(new_id), {"name": name}, address=address)
        return new_id


def list_scenarios(db: str | os.PathLike) -> list[ScenarioInfo]:
    """All saved scenarios, most recently saved or renamed first."""
    with reading(db) as conn:
        rows = conn.execute(sa.text("SELECT id, name, created_at, updated_at, n_areas, level, scope, owner, "
                                    "owner_name, version FROM scenario ORDER BY updated_at DESC, id DESC")).all()
    return [ScenarioInfo(*r) for r in rows]


def load(db: str | os.PathLike, scenario_id: int) -> Scenario:
    with reading(db) as conn:
        row = conn.execute(sa.text("SELECT id, name, frame, settings, result, result_object_columns, store_version, "
                                   "created_at, updated_at, owner, owner_name, version FROM scenario WHERE id = :id"),
                           {"id": int(scenario_id)}).first()
    if row is None:
        raise _not_found(scenario_id)
    sid, name, frame, settings, blob, object_cols, store_version, created, updated, owner, owner_name, version = row
    return Scenario(sid, name, json.loads(frame), json.loads(settings),
                    _from_blob(bytes(blob), json.loads(object_cols)),
                    store_version, created, updated, owner, owner_name, version)


def rename(db: str | os.PathLike, scenario_id: int, new_name: str, *, by: User = OPERATOR,
           expected_version: int | None = None, address: str = "") -> None:
    name = _clean_name(new_name)
    with transaction(db) as conn:
        _check_change(conn, int(scenario_id), by, expected_version)
        taken = conn.execute(_BY_NAME, {"k": name.casefold()}).first()
        if taken and taken[0] != int(scenario_id):
            raise _name_taken(name)
        conn.execute(sa.text("UPDATE scenario SET name = :n, name_key = :k, updated_at = :at, changed_by = :b, "
                             "version = version + 1 WHERE id = :id"),
                     {"n": name, "k": name.casefold(), "at": _now(), "b": by.id, "id": int(scenario_id)})
        audit.record(conn, by, "scenario_rename", str(scenario_id), {"name": name}, address=address)


def delete(db: str | os.PathLike, scenario_id: int, *, by: User = OPERATOR, expected_version: int | None = None,
           address: str = "") -> None:
    with transaction(db) as conn:
        name = _check_change(conn, int(scenario_id), by, expected_version)
        conn.execute(sa.text("DELETE FROM scenario WHERE id = :id"), {"id": int(scenario_id)})
        audit.record(conn, by, "scenario_delete", str(scenario_id), {"name": name}, address=address)


def _check_change(conn, scenario_id: int, by: User, expected_version: int | None) -> str:
    """Inside the write transaction: the scenario exists, ``by`` may change it and nobody changed it since
    ``expected_version``. Returns its name."""
    row = conn.execute(sa.text("SELECT name, owner, owner_name, version, changed_by, updated_at FROM scenario "
                               "WHERE id = :id"), {"id": scenario_id}).first()
    if row is None:
        raise _not_found(scenario_id)
    name, owner, owner_name, version, changed_by, updated_at = row
    if not may_change(by, owner):
        raise AccessDenied("error.scenario.not_owner", name=name, owner=owner_name or owner or "–")
    if expected_version is not None and version != expected_version:
        raise ScenarioConflict("error.scenario.conflict", name=name, who=changed_by or "–", when=updated_at)
    return name


_BY_NAME = sa.text("SELECT id FROM scenario WHERE name_key = :k")


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


def same_name(a, b) -> bool:
    """Whether two names name the same scenario (names are unique ignoring case, spacing and Unicode form)."""
    return _normal(a).casefold() == _normal(b).casefold()


def _normal(name) -> str:
    return unicodedata.normalize("NFC", " ".join(str(name or "").split()))


def _clean_name(name) -> str:
    # NFC so that the same Thai name typed on two keyboards is the same name.
    name = _normal(name)
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
