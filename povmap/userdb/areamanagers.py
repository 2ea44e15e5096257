"""Area Manager coverage: which provinces, districts and subdistricts each Area Manager works in.

A row is (manager, code, note); ``code`` is a DOPA province (2 digits), district (4) or subdistrict
(6) code. DOPA codes nest by prefix (subdistrict ``460101`` is in district ``4601``, province ``46``),
which is what :func:`covered` relies on.
"""
from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime

import pandas as pd
import sqlalchemy as sa

from povmap.core.access import OPERATOR, Action, User, require
from povmap.core.errors import PovmapError
from povmap.core.i18n import t
from povmap.core.thai import fmt_datetime
from povmap.userdb import audit
from povmap.userdb.db import reading, transaction

COLUMNS = ["manager", "code", "note"]
_ROWS = "SELECT manager, code, note FROM area_manager"
_STATE = sa.text("SELECT version, changed_by, changed_at FROM area_manager_state")
_INSERT = sa.text("INSERT INTO area_manager (manager, code, note) VALUES (:manager, :code, :note) "
                  "ON CONFLICT (manager, code) DO NOTHING")
# Header spellings accepted in an uploaded CSV (compared trimmed and casefolded).
HEADERS = {
    "manager": ("manager", "area manager", "area_manager", "ผู้จัดการพื้นที่", "หน่วยงาน"),
    "code": ("code", "area code", "area_code", "รหัสพื้นที่", "รหัส"),
    "note": ("note", "notes", "หมายเหตุ"),
}
_CODE_RE = re.compile(r"\d{2}|\d{4}|\d{6}")
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
MAX_LISTED_PROBLEMS = 5


class AreaManagerError(PovmapError):
    """A coverage row is not acceptable. From a CSV, ``file``, ``row`` (header = row 1) and ``column``
    say where; from the in-app table ``row`` counts from 1 and ``file`` is None."""

    def __init__(self, key: str, *, file: str | None = None, row: int | None = None, column: str | None = None,
                 problems: list[tuple[int, str, AreaManagerError]] = (), **params):
        # problems: every bad row as (row, column header, its error); the message lists the first few
        self.file, self.row, self.column, self.problems = file, row, column, list(problems)
        super().__init__(key, file=file, column=column, **params)

    def message(self, lang: str) -> str:
        if not self.problems:
            return super().message(lang)
        lines = [t("error.am.row_in_file" if self.file else "error.am.row", lang, file=self.file, row=n,
                   column=col if self.file else t(f"am.{col}", lang),  # the in-app table: its column as shown
                   problem=err.message(lang)) for n, col, err in self.problems[:MAX_LISTED_PROBLEMS]]
        if len(self.problems) > MAX_LISTED_PROBLEMS:
            lines.append(t("error.am.more", lang, count=len(self.problems) - MAX_LISTED_PROBLEMS))
        return "\n".join([*lines, super().message(lang)])


class AreaManagerConflict(PovmapError):
    """Someone saved the table since this user started editing: nothing was saved; the message shows what the
    other person changed (``added``, ``removed``: rows as "manager – code")."""

    def __init__(self, who: str, when: str, added: list[str], removed: list[str]):
        self.added, self.removed = added, removed
        super().__init__("error.am.conflict", who=who or "–", when=when, added=_listed(added), removed=_listed(removed))

    def shown_params(self, lang: str) -> dict:
        when = fmt_datetime(datetime.fromisoformat(self.params["when"]), lang) if self.params["when"] else "–"
        none = t("am.conflict_none", lang)
        return self.params | {"when": when, "added": self.params["added"] or none,
                              "removed": self.params["removed"] or none}


def _listed(rows: list[str], most: int = 10) -> str:
    return ", ".join(rows[:most]) + (f" (+{len(rows) - most})" if len(rows) > most else "")


def state(db: str | os.PathLike) -> tuple[int, str, str]:
    """The table's version (+1 on every change), who changed it last and when (UTC, ISO 8601)."""
    with reading(db) as conn:
        return tuple(conn.execute(_STATE).one())


def _changed(conn, by: User, address: str, what: str, **detail) -> None:
    """Inside the write transaction: one more version, and its audit row."""
    conn.execute(sa.text("UPDATE area_manager_state SET version = version + 1, changed_by = :b, changed_at = :at"),
                 {"b": by.name or by.id, "at": audit.now()})
    audit.record(conn, by, "area_managers", what, detail, address=address)


def _stored(conn) -> set[tuple[str, str, str]]:
    return {tuple(r) for r in conn.execute(sa.text(_ROWS))}


def _insert_all(conn, rows) -> None:
    """Insert (manager, code, note) rows; a (manager, code) already there keeps its first note."""
    if rows:
        conn.execute(_INSERT, [dict(zip(COLUMNS, r)) for r in rows])


def _rows(df: pd.DataFrame) -> set[tuple[str, str, str]]:
    return set(zip(df["manager"], df["code"], df["note"]))


def list_coverage(db: str | os.PathLike) -> pd.DataFrame:
    """Every coverage row: columns manager, code, note; sorted by manager, code."""
    with reading(db) as conn:
        rows = [tuple(r) for r in conn.execute(sa.text(f"{_ROWS} ORDER BY manager, code"))]
    return pd.DataFrame(rows, columns=COLUMNS, dtype=str)


def add(db: str | os.PathLike, manager: str, code: str, note: str = "", *, valid_codes: set[str],
        by: User = OPERATOR, address: str = "") -> bool:
    """Add one row; returns False (and changes nothing) when the manager already lists that code."""
    require(by, Action.EDIT_AREA_MANAGERS)
    row, problems = _check_row(manager, code, note, valid_codes)
    if problems:
        raise problems[0]
    with transaction(db) as conn:
        new = conn.execute(_INSERT, dict(zip(COLUMNS, row))).rowcount == 1
        if new:
            _changed(conn, by, address, "add", added=[f"{row[0]} – {row[1]}"])
        return new


def remove(db: str | os.PathLike, manager: str, code: str, *, by: User = OPERATOR, address: str = "") -> bool:
    """Remove one row; returns False when there was no such row (e.g. already removed elsewhere)."""
    require(by, Action.EDIT_AREA_MANAGERS)
    manager, code = _clean_text(manager), _clean_code(code)
    with transaction(db) as conn:
        gone = conn.execute(sa.text("DELETE FROM area_manager WHERE manager = :m AND code = :c"),
                            {"m": manager, "c": code}).rowcount == 1
        if gone:
            _changed(conn, by, address, "remove", removed=[f"{manager} – {code}"])
        return gone


def replace_all(db: str | os.PathLike, df: pd.DataFrame, *, valid_codes: set[str], by: User = OPERATOR,
                expected_version: int | None = None, base: pd.DataFrame | None = None, address: str = "") -> None:
    """Replace the whole table (as edited in the app). Every row is checked first; any problem
    raises :class:`AreaManagerError` and the stored table stays as it was. Blank rows are dropped,
    repeated (manager, code) rows keep the first.

    With ``expected_version`` (the :func:`state` version the editor started from) a table someone else saved
    since is not overwritten: :class:`AreaManagerConflict` shows what they changed against ``base`` (the table
    the editor started from), and nothing is saved."""
    require(by, Action.EDIT_AREA_MANAGERS)
    missing = [c for c in ("manager", "code") if c not in df.columns]
    if missing:
        raise AreaManagerError("error.am.no_column", column=missing[0])
    notes = df["note"] if "note" in df.columns else pd.Series("", index=df.index)
    records = [(i, dict(zip(COLUMNS, r))) for i, r in enumerate(zip(df["manager"], df["code"], notes), start=1)]
    rows = _validate(records, valid_codes, file=None, header={c: c for c in COLUMNS})
    with transaction(db) as conn:
        version, who, when = conn.execute(_STATE).one()
        before = _stored(conn)
        if expected_version is not None and version != expected_version:
            start = _rows(base) if base is not None else before
            raise AreaManagerConflict(who, when, sorted(f"{m} – {c}" for m, c, _ in before - start),
                                      sorted(f"{m} – {c}" for m, c, _ in start - before))
        conn.execute(sa.text("DELETE FROM area_manager"))
        _insert_all(conn, rows)
        after = _stored(conn)
        if after != before:
            _changed(conn, by, address, "edit", added=sorted(f"{m} – {c}" for m, c, _ in after - before),
                     removed=sorted(f"{m} – {c}" for m, c, _ in before - after))


def import_csv(db: str | os.PathLike, data: bytes, *, valid_codes: set[str], file_name: str = "upload.csv",
               by: User = OPERATOR, address: str = "") -> int:
    """Add the rows of a CSV file (UTF-8, UTF-8 with BOM or TIS-620/cp874); returns how many were new.

    Columns: manager, code, note (or ผู้จัดการพื้นที่/หน่วยงาน, รหัสพื้นที่, หมายเหตุ). All rows are
    checked first: one bad row imports nothing. Rows already stored are skipped.
    """
    require(by, Action.EDIT_AREA_MANAGERS)
    text = _decode(data, file_name)
    records = list(csv.reader(io.StringIO(text, newline="")))
    if not records:
        raise AreaManagerError("error.am.file_empty", file=file_name)
    header = _match_header(records[0], file_name)
    pos = {key: records[0].index(name) for key, name in header.items()}
    # Row numbers as a spreadsheet shows them: header is row 1; blank lines count too.
    rows = [(n, {key: (r[p] if p < len(r) else "") for key, p in pos.items()})
            for n, r in enumerate(records[1:], start=2)]
    checked = _validate(rows, valid_codes, file=file_name, header=header)
    with transaction(db) as conn:
        before = len(_stored(conn))
        _insert_all(conn, checked)
        n = len(_stored(conn)) - before
        if n:
            _changed(conn, by, address, "import", file=file_name, rows=n)
        return n


def covered(coverage: pd.DataFrame, codes: Iterable) -> pd.Series:
    """Per code (index = codes): does any Area Manager work there?

    A subdistrict is covered when it, its district or its province is listed; a district when it,
    its province or any of its subdistricts is listed; a province when it or anything in it is.
    """
    return managers_of(coverage, codes) != ""


def managers_of(coverage: pd.DataFrame, codes: Iterable) -> pd.Series:
    """Per code (index = codes): the managers covering it (as in :func:`covered`), sorted, joined by ", "."""
    exact: dict[str, set[str]] = {}   # code -> managers listing exactly that code
    inside: dict[str, set[str]] = {}  # code -> managers listing it or anything inside it
    for manager, code in zip(coverage["manager"].map(_clean_text), coverage["code"].map(_clean_code)):
        if not manager or not code:
            continue  # an unfinished row of the table editor
        exact.setdefault(code, set()).add(manager)
        for prefix in {code[:2], code[:4], code}:
            inside.setdefault(prefix, set()).add(manager)
    codes = [str(c) for c in codes]
    out = []
    for c in codes:
        found = set(inside.get(c, ()))
        for parent in {6: (c[:2], c[:4]), 4: (c[:2],)}.get(len(c), ()):
            found |= exact.get(parent, set())
        out.append(", ".join(sorted(found)))
    return pd.Series(out, index=pd.Index(codes, name="code"), dtype=str)


def _decode(data: bytes, file_name: str) -> str:
    # Thai Excel saves "CSV" as cp874 (TIS-620); UTF-8 files often start with a BOM.
    for enc in ("utf-8-sig", "cp874"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise AreaManagerError("error.am.encoding", file=file_name, row=1)


def _match_header(cells: list[str], file_name: str) -> dict[str, str]:
    """Map manager/code/note to the header cell the file uses for each."""
    found = {}
    for cell in cells:
        key = next((k for k, names in HEADERS.items() if _clean_text(cell).casefold() in names), None)
        if key and key not in found:
            found[key] = cell
    for key in ("manager", "code"):
        if key not in found:
            want = " / ".join(h for h in HEADERS[key] if "_" not in h and " " not in h)
            raise AreaManagerError("error.am.no_header", file=file_name, row=1, column=key, want=want)
    return found


def _validate(records, valid_codes: set[str], *, file: str | None, header: dict[str, str]) -> list[tuple]:
    """Clean and check every record; raise one error listing the problems (the first in its attributes)."""
    rows, problems = [], []
    for n, rec in records:
        if all(_clean_text(v) == "" for v in rec.values()):
            continue  # blank line, or an empty row added in the table editor
        row, probs = _check_row(rec.get("manager"), rec.get("code"), rec.get("note"), valid_codes)
        problems += [(n, header.get(err.column, err.column), err) for err in probs]
        rows.append(row)
    if problems:
        n, col = problems[0][:2]
        raise AreaManagerError("error.am.nothing_imported" if file else "error.am.nothing_saved", file=file, row=n,
                               column=col, problems=problems)
    return rows


def _check_row(manager, code, note, valid_codes: set[str]) -> tuple[tuple, list[AreaManagerError]]:
    """The cleaned (manager, code, note) and its problems (each naming its column)."""
    manager, code, note = _clean_text(manager), _clean_code(code), _clean_text(note)
    problems = []
    if not manager:
        problems.append(AreaManagerError("error.am.blank_manager", column="manager"))
    if not code:
        problems.append(AreaManagerError("error.am.blank_code", column="code"))
    elif not _CODE_RE.fullmatch(code):
        problems.append(AreaManagerError("error.am.not_code", column="code", code=code))
    elif code not in valid_codes:
        problems.append(AreaManagerError("error.am.unknown_code", column="code", code=code))
    return (manager, code, note), problems


def _clean_text(x) -> str:
    if x is None or (isinstance(x, float) and x != x):  # None/NaN from an edited table
        return ""
    return unicodedata.normalize("NFC", " ".join(str(x).split()))


def _clean_code(x) -> str:
    """``' 46 01 01 '``, ``460101.0`` and Thai digits all become ``460101``."""
    if isinstance(x, float) and x == x and x.is_integer():
        x = int(x)
    s = "".join(_clean_text(x).split()).translate(_THAI_DIGITS)
    return re.sub(r"^(\d+)\.0*$", r"\1", s)
