"""The cell sums of a household dataset (:func:`povmap.core.cellkey.cell_sums`): what every household figure is
made of, a few thousand rows however many households the file has.

They are read from the dataset's Parquet file in batches, so a national file (millions of households) is never in
memory at once, and an import keeps them beside its rows (``cells.parquet``): every server, and every restart,
then reads those instead of the rows. The record keys behind them come from the installation's secret, so the
file names the secret it was made with (a fingerprint, not the secret) and is remade if that differs.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from povmap.core import households as hh
from povmap.core.cellkey import CELL_COLUMNS, SUMS, add_cell_sums, cell_sums

CELLS_FILE = "cells.parquet"
BATCH_ROWS = 250_000  # rows read at a time: bounded memory for any file
COLUMNS = ("household_id", "subdistrict_code", "members", *hh.CAPITAL_COLUMNS, *hh.DEPRIVED_COLUMNS, "referred",
           "survey_year")
_SECRET_KEY = b"povmap.secret"


def fingerprint(secret: bytes) -> bytes:
    return hashlib.sha256(b"povmap cells|" + secret).hexdigest()[:16].encode()


def frame_sums(df: pd.DataFrame, secret: bytes) -> pd.DataFrame:
    """The cell sums of household rows in memory (their tier recomputed from the capitals, never trusted)."""
    rows = df[list(COLUMNS)].assign(tier=hh.tier_of(hh.mean_score(df).to_numpy()))
    return cell_sums(rows, secret, hh.CAPITAL_COLUMNS, hh.DEPRIVED_COLUMNS)


def sums_from_parquet(path: str | os.PathLike, secret: bytes) -> pd.DataFrame:
    """The cell sums of the household rows in ``path``, read ``BATCH_ROWS`` at a time."""
    parts: list[pd.DataFrame] = []
    for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS, columns=list(COLUMNS)):
        parts.append(frame_sums(batch.to_pandas(), secret))
        if len(parts) >= 8:  # fold as we go: the parts of a national file would add up to a lot of rows
            parts = [add_cell_sums(parts)]
    if not parts:  # a file without rows: no cells
        names = [*SUMS, *hh.CAPITAL_COLUMNS, "dimensions"]
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in names},
                            index=pd.MultiIndex.from_arrays([[]] * len(CELL_COLUMNS), names=list(CELL_COLUMNS)))
    return add_cell_sums(parts)


def tier_rows(path: str | os.PathLike) -> pd.DataFrame:
    """household_id, subdistrict_code, tier (from the capitals, never trusted) and referred of the rows in ``path``,
    read ``BATCH_ROWS`` at a time: about a fifth of the rows' memory."""
    parts = []
    for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS, columns=list(_TIER_SOURCE)):
        df = batch.to_pandas()
        parts.append(pd.DataFrame({"household_id": df["household_id"], "subdistrict_code": df["subdistrict_code"],
                                   "tier": hh.tier_of(hh.mean_score(df).to_numpy()).astype("int8"),
                                   "referred": df["referred"].to_numpy(dtype="int8")}))
    if not parts:
        return pd.DataFrame({"household_id": pd.Series(dtype="str"), "subdistrict_code": pd.Series(dtype="str"),
                             "tier": pd.Series(dtype="int8"), "referred": pd.Series(dtype="int8")})
    return pd.concat(parts, ignore_index=True)


_TIER_SOURCE = ("household_id", "subdistrict_code", "referred", *hh.CAPITAL_COLUMNS)


def write_sums(sums: pd.DataFrame, path: Path, secret: bytes) -> None:
    """Write the cell sums with the secret's fingerprint (to a temporary file, then renamed into place)."""
    table = pa.Table.from_pandas(sums.reset_index(), preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), _SECRET_KEY: fingerprint(secret)})
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def read_sums(path: Path, secret: bytes, index=CELL_COLUMNS) -> pd.DataFrame | None:
    """The cell sums kept in ``path`` (indexed by ``index``), or None if there are none made with this secret."""
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid):
        return None
    if (table.schema.metadata or {}).get(_SECRET_KEY) != fingerprint(secret):
        return None
    return table.to_pandas().set_index(list(index))


def kept_sums(make, secret: bytes, keep: Path | None, index=CELL_COLUMNS) -> pd.DataFrame:
    """Sums ``make()`` gives: from ``keep`` when it holds them made with this secret, else made and kept there
    for every server and restart after this one (a folder that cannot be written only costs the next server the
    same work)."""
    if keep is not None and (sums := read_sums(keep, secret, index)) is not None:
        return sums
    sums = make()
    if keep is not None:
        try:
            write_sums(sums, keep, secret)
        except OSError:
            pass
    return sums


def dataset_sums(rows: Path, secret: bytes, keep: Path | None = None) -> pd.DataFrame:
    """The cell sums of the household rows in ``rows``, kept in ``keep`` (:func:`kept_sums`)."""
    return kept_sums(lambda: sums_from_parquet(rows, secret), secret, keep)
