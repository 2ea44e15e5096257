"""A household CSV too large to hold at once (a national file: millions of rows), checked in blocks of lines.

Each block goes through the same :func:`parse` and :func:`validate` as a whole file, with the file's header
before it, so a block's report is the one the whole file would give for those rows. What crosses blocks is
carried here: the row numbers, the household ids seen before (a duplicate is found in any later block), one
budget of listed problems, and the file- and column-level problems, said once for the file with their counts
added up. Accepted rows are written to Parquet as they come and reduced to their cell sums
(:mod:`povmap.data.householdcells`), so memory stays bounded whatever the file's size; the report then holds a
:class:`Staged` folder that :func:`povmap.data.uploads.datasets.import_dataset` moves into place.
"""
from __future__ import annotations

import io
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from povmap.core.cellkey import add_cell_sums
from povmap.data.householdcells import frame_sums
from povmap.data.secrets import record_key_secret
from povmap.data.uploads.columns import KIND_HOUSEHOLDS
from povmap.data.uploads.datasets import add_rows, in_use, rows_fingerprint, user_data_dir
from povmap.data.uploads.parse import MAX_ROWS, MAX_UPLOAD_BYTES, lines_end, megabytes, parse
from povmap.data.uploads.problems import Budget, Msg, ProblemLog, UploadProblem
from povmap.data.uploads.validate import Report, check, report_of_error, validate

WHOLE_BYTES = 64 * 2**20  # a file up to this size is read whole, as the Data page reads an upload
BLOCK_LINES = 250_000
BLOCK_BYTES = 64 * 2**20
MAX_RECORD_BYTES = 256 * 2**20  # one record longer than this is not a household row
LISTED = 100_000  # row problems listed in the report; the others are counted per kind
_UNSPLITTABLE = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\xff\xfe", b"\xfe\xff")  # xlsx, xls, UTF-16


def check_path(path: str | os.PathLike, *, kind: str, sheet=None, year=None, level: str | None = None,
               max_bytes: int = MAX_UPLOAD_BYTES, choices: dict[str, str] | None = None,
               root: str | os.PathLike | None = None, whole_bytes: int | None = None,
               block_lines: int | None = None) -> Report:
    """The Data page's check of the file at ``path``: a household CSV over ``whole_bytes`` is read in blocks
    (its accepted rows staged under the user data folder ``root``; call ``report.discard()`` when done),
    anything else whole. A file over ``max_bytes`` is refused before it is read."""
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        problem = UploadProblem.make("file_too_large", file=path.name, size=megabytes(size), limit=megabytes(max_bytes))
        return report_of_error(problem, kind, path.name, size=size)
    with open(path, "rb") as fh:
        if _in_blocks(kind, fh.read(1 << 16), size, whole_bytes):
            fh.seek(0)
            return check_blocks(fh, path.name, size, year=year, choices=choices, root=user_data_dir(root),
                                block_lines=block_lines)
    return check_upload(path.read_bytes(), path.name, kind=kind, sheet=sheet, year=year, level=level,
                        choices=choices, root=root, max_bytes=max_bytes)


def check_upload(data: bytes, file_name: str, *, kind: str, sheet=None, year=None, level: str | None = None,
                 choices: dict[str, str] | None = None, root: str | os.PathLike | None = None,
                 max_bytes: int = MAX_UPLOAD_BYTES) -> Report:
    """:func:`check_path` for an upload's bytes (the Data page). A household CSV of more lines than a file read
    whole may have is read in blocks too, however small."""
    lines = data.count(b"\n") if kind == KIND_HOUSEHOLDS else 0
    if len(data) <= max_bytes and _in_blocks(kind, data[:1 << 16], len(data), None, lines=lines):
        return check_blocks(io.BytesIO(data), file_name, len(data), year=year, choices=choices,
                            root=user_data_dir(root))
    return check(data, file_name, kind=kind, sheet=sheet, year=year, level=level, choices=choices, max_bytes=max_bytes)


def _in_blocks(kind: str, head: bytes, size: int, whole_bytes: int | None, lines: int = 0) -> bool:
    """A household CSV over ``whole_bytes`` (default :data:`WHOLE_BYTES`) or :data:`MAX_ROWS` lines whose lines
    end in LF can be cut into blocks of whole lines (a workbook cannot, nor UTF-16 text, whose line ends are two
    bytes)."""
    whole = WHOLE_BYTES if whole_bytes is None else whole_bytes
    return (kind == KIND_HOUSEHOLDS and (size > whole or lines > MAX_ROWS) and not head.startswith(_UNSPLITTABLE)
            and b"\n" in head)


class SeenIds:
    """The keys (household id and survey year) of earlier blocks, each with the row it was first seen in.

    Kept as a sorted 64-bit hash per key, and the keys themselves to confirm a hash match, so two different ids
    never pass for one: about 25 bytes a household, where a Python set of strings would take several times that."""

    def __init__(self):
        self._blocks: list[tuple[np.ndarray, np.ndarray, pa.Array]] = []

    def find(self, keys: np.ndarray) -> np.ndarray:
        """The row each key was first seen in, 0 where it was not."""
        out = np.zeros(len(keys), dtype="int64")
        if not len(keys):
            return out
        h = pd.util.hash_array(keys)
        for hashes, rows, stored in self._blocks:
            at = np.minimum(np.searchsorted(hashes, h), len(hashes) - 1)
            for k in np.flatnonzero((hashes[at] == h) & (out == 0)):
                j = int(at[k])
                while j < len(hashes) and hashes[j] == h[k]:  # equal hashes: compare the keys
                    if stored[j].as_py() == keys[k]:
                        out[k] = rows[j]
                        break
                    j += 1
        return out

    def add(self, keys: np.ndarray, rows: np.ndarray) -> None:
        if not len(keys):
            return
        h = pd.util.hash_array(keys)
        order = np.argsort(h, kind="stable")
        self._blocks.append((h[order], np.asarray(rows, dtype="int64")[order], pa.array(keys[order], pa.string())))


@dataclass
class StagedRound:
    """The accepted rows of one dataset-to-be, already on disk, and what its manifest says of them."""

    year: int | None
    file: Path
    sums: pd.DataFrame
    households: int
    people: int
    areas: int
    provinces: list[str]


@dataclass
class Staged:
    """A checked file's accepted rows, staged in ``folder`` (inside the user data folder, so that an import is a
    rename); ``parts`` holds one round each when household ids recur across survey years, else one."""

    folder: Path
    parts: list[StagedRound]
    fingerprint: str
    years: list[int]  # as Report.rounds
    areas: int  # distinct subdistricts over all parts

    @property
    def coverage(self) -> dict:
        return {"areas": self.areas, "people": sum(p.people for p in self.parts),
                "households": sum(p.households for p in self.parts)}

    def part(self, p: StagedRound) -> Staged:
        """One round of a file holding several, as its own staged dataset."""
        return Staged(self.folder, [p], self.fingerprint, [p.year], p.areas)

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        in_use(self.folder, busy=False)


def _blocks(fh, max_lines: int, name: str):
    """The file's bytes in blocks of whole records: at most ``max_lines`` line ends each, cut after a line end
    that is not inside quotes."""
    rest = b""
    eof = False
    while True:
        want = BLOCK_BYTES
        while not eof and len(rest) < want:
            more = fh.read(want - len(rest))
            eof = not more
            rest += more
        if not rest:
            return
        if eof and rest.count(b"\n") <= max_lines:
            yield rest
            return
        cut = _cut(rest, max_lines)
        while cut == 0:  # one record longer than the buffer: read on, within a bound
            if eof or len(rest) > MAX_RECORD_BYTES:
                if eof:
                    yield rest
                    return
                raise UploadProblem.make("not_a_table", file=name, detail=f"record > {megabytes(MAX_RECORD_BYTES)} MB")
            more = fh.read(BLOCK_BYTES)
            eof = not more
            rest += more
            cut = len(rest) if eof else _cut(rest, max_lines)
        yield rest[:cut]
        rest = rest[cut:]


def _cut(data: bytes, max_lines: int) -> int:
    """Where to end a block of ``data``: after its ``max_lines``-th line end, or its last, moved back past line
    ends inside quotes (an odd number of quote characters before them). 0: no such place."""
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    if not len(ends):
        return 0
    k = min(max_lines, len(ends)) - 1
    while k >= 0:
        cut = int(ends[k]) + 1
        if data.count(b'"', 0, cut) % 2 == 0:
            return cut
        k -= 1
    return 0


def _provinces(codes) -> list[str]:
    return sorted({c[:2] for c in codes if c[:2].isdigit()})


class _Round:
    """One survey year's accepted rows as they come: a Parquet writer, their cell sums and their coverage."""

    def __init__(self, path: Path):
        self.path, self.writer, self.schema = path, None, None
        self.sums: list[pd.DataFrame] = []
        self.households = self.people = 0
        self.areas: set[str] = set()

    def add(self, df: pd.DataFrame, secret: bytes) -> None:
        table = pa.Table.from_pandas(df, preserve_index=False)
        if self.writer is None:
            self.schema = table.schema
            self.writer = pq.ParquetWriter(self.path, self.schema)
        self.writer.write_table(table.cast(self.schema))
        self.sums.append(frame_sums(df, secret))
        if len(self.sums) >= 8:  # fold as we go
            self.sums = [add_cell_sums(self.sums)]
        self.households += len(df)
        self.people += int(df["members"].sum())
        self.areas.update(df["subdistrict_code"].unique().tolist())

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with open(self.path, "rb+") as fh:
                os.fsync(fh.fileno())

    def staged(self, year) -> StagedRound:
        return StagedRound(year=year, file=self.path, sums=add_cell_sums(self.sums), households=self.households,
                           people=self.people, areas=len(self.areas), provinces=_provinces(self.areas))


def check_blocks(fh: BinaryIO, name: str, size: int, *, year=None, choices=None, root: Path,
                 block_lines: int | None = None) -> Report:
    """Check the household CSV read from ``fh`` (file ``name`` of ``size`` bytes) in blocks of ``block_lines``
    lines, staging its accepted rows in ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    folder = root / f".tmp-stage-{secrets.token_hex(4)}-{os.getpid()}"
    folder.mkdir()
    in_use(folder)  # not a left-over to another import's clean-up in this process
    try:
        report = _check_blocks(fh, name, size, folder, year=year, choices=choices, secret=record_key_secret(root),
                               block_lines=block_lines or BLOCK_LINES)
    except BaseException:
        report = None
        raise
    finally:
        if report is None or report.staged is None:
            shutil.rmtree(folder, ignore_errors=True)
            in_use(folder, busy=False)
    return report


def _check_blocks(fh: BinaryIO, name: str, size: int, folder: Path, *, year, choices, secret: bytes,
                  block_lines: int) -> Report:
    budget, seen = Budget(LISTED), SeenIds()
    rounds: dict[int, _Round] = {}
    frames: list[pd.DataFrame] = []
    deferred: list[tuple[str, dict]] = []
    fp = rows_fingerprint(KIND_HOUSEHOLDS, "households")  # as the whole file's
    rows = rejected = offset = 0
    first = prefix = error = None
    facts: dict = {}
    try:
        head = b""
        for block in _blocks(fh, block_lines, name):
            if first is None:  # the header and the first data rows: blank lines under the header read on
                block = head = head + block
            data = block if first is None else prefix + block
            try:
                parsed = parse(data, name, kind=KIND_HOUSEHOLDS, max_bytes=len(data))
            except UploadProblem as e:
                if e.code != "no_data":
                    raise
                if first is not None:  # a block of blank lines
                    offset += block.count(b"\n")
                else:
                    error = e
                continue
            error = None
            if first is None:
                first = parsed
                prefix = block[:lines_end(block, parsed.header_row)]
                body_lines = block[len(prefix):].count(b"\n")
            elif parsed.header_row != first.header_row or parsed.header != first.header:
                raise UploadProblem.make("not_a_table", file=name, detail=f"row {first.header_row + offset + 1}")
            else:
                body_lines = block.count(b"\n")
            parsed.rows = parsed.rows + offset
            log = ProblemLog(parsed.rows, parsed.header, listed=budget, defer=True)
            rep = validate(parsed, year=year, choices=choices, log=log, seen=seen)
            deferred += log.deferred
            frames.append(rep.problems)
            if log.fatal:
                break
            facts = facts or rep.facts
            rows, rejected = rows + rep.rows, rejected + rep.rejected
            df = rep.tables["households"]
            add_rows(fp, df)
            for y, part in df.groupby("survey_year", sort=False):
                r = rounds.get(int(y)) or rounds.setdefault(int(y), _Round(folder / f"households-{int(y)}.parquet"))
                r.add(part.reset_index(drop=True), secret)
            offset += body_lines
    except UploadProblem as e:
        error = e
    finally:
        for r in rounds.values():
            r.close()
    if first is None or error is not None:
        return report_of_error(error or UploadProblem.make("file_empty", file=name), KIND_HOUSEHOLDS, name, size=size)
    fatal = log.fatal
    problems = _problems(frames, deferred, budget, first)
    report = Report(kind=KIND_HOUSEHOLDS, file_name=name, rows=rows, accepted=0 if fatal else rows - rejected,
                    rejected=rows if fatal else rejected, problems=problems, fatal=fatal, facts=facts,
                    year=rep.year, format="csv", encoding=first.encoding, header_row=first.header_row, size_bytes=size)
    if not fatal and rounds:
        report.staged = _staged(folder, rounds, fp.hexdigest())
    return report


_EXAMPLE = ("row", "count", "value", "number", "example_row")  # what a column-level problem says of its first case


def _ident(v):
    return ("Msg", v.key, _ident(sorted(v.params.items()))) if isinstance(v, Msg) else (
        [(k, _ident(x)) for k, x in v] if isinstance(v, list) else v)


def _problems(frames: list[pd.DataFrame], deferred: list[tuple[str, dict]], budget: Budget, first) -> pd.DataFrame:
    """The blocks' row problems, and their file- and column-level ones said once: a problem about the header
    is the same in every block; one about a column's cells ("3 cells hold numbers as text, e.g. row 7") keeps
    its first example and adds up its count."""
    merged: dict[tuple, tuple[str, dict]] = {}
    for code, kw in deferred:
        key = (code, repr(sorted((k, _ident(v)) for k, v in kw.items() if k not in _EXAMPLE)))
        if key not in merged:
            merged[key] = (code, dict(kw))
        elif kw.get("row") != first.header_row and isinstance(kw.get("count"), int):
            merged[key][1]["count"] += kw["count"]
    log = ProblemLog(np.zeros(0, dtype="int64"), first.header)
    for code, kw in merged.values():
        log.add(code, **kw)
    if budget.unlisted:
        log.add("problems_not_listed", row=None, column="", count=sum(budget.unlisted.values()), limit=f"{LISTED:,}")
    out = pd.concat([log.frame(), *frames], ignore_index=True)
    return out.sort_values("row", kind="stable", na_position="first").reset_index(drop=True)


def _staged(folder: Path, rounds: dict[int, _Round], fingerprint: str) -> Staged:
    """One part per survey year when household ids recur across years (rounds), else all years as one."""
    years = sorted(rounds)
    parts = {y: rounds[y].staged(y) for y in years}
    areas: set[str] = set().union(*(r.areas for r in rounds.values()))
    if len(years) < 2:
        return Staged(folder, list(parts.values()), fingerprint, years, len(areas))
    ids = pa.chunked_array([pq.read_table(p.file, columns=["household_id"]).column(0).combine_chunks()
                            for p in parts.values()])
    if pc.count_distinct(ids).as_py() < len(ids):  # an id in two years (one year's duplicates were rejected)
        return Staged(folder, list(parts.values()), fingerprint, years, len(areas))
    # One dataset of several years: its rows in one file, its usual year the one with the most households.
    main = max(years, key=lambda y: parts[y].households)
    target = folder / "households.parquet"
    with pq.ParquetWriter(target, pq.read_schema(parts[years[0]].file)) as w:
        for y in years:
            for batch in pq.ParquetFile(parts[y].file).iter_batches(batch_size=BLOCK_LINES):
                w.write_batch(batch)
            parts[y].file.unlink()
    with open(target, "rb+") as fh:
        os.fsync(fh.fileno())
    one = StagedRound(year=main, file=target, sums=add_cell_sums([p.sums for p in parts.values()]),
                      households=sum(p.households for p in parts.values()),
                      people=sum(p.people for p in parts.values()), areas=len(areas), provinces=_provinces(areas))
    return Staged(folder, [one], fingerprint, years[:1], len(areas))
