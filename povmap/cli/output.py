"""Writing tables and records for scripts: CSV (UTF-8) or JSON, with empty values as empty cells or null."""
from __future__ import annotations

import json
import math
import sys

import numpy as np
import pandas as pd


def plain(value):
    """A JSON-ready value: numpy scalars as Python ones, NaN/NA as None."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def records(df: pd.DataFrame) -> list[dict]:
    return [{c: plain(v) for c, v in zip(df.columns, row)} for row in df.itertuples(index=False, name=None)]


def write_table(df: pd.DataFrame, fmt: str, out=None) -> None:
    """A table as CSV (header line, then one line per row) or as a JSON list of records."""
    out = out or sys.stdout
    if fmt == "csv":
        df.to_csv(out, index=False, lineterminator="\n")
    else:
        write_json(records(df), out)


def write_json(obj, out=None) -> None:
    out = out or sys.stdout
    json.dump(plain(obj), out, ensure_ascii=False, indent=1)
    out.write("\n")
