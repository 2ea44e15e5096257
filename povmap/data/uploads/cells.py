"""Reading text cells as numbers, codes and 0/1 flags, a whole column at a time (pyarrow compute).

A column is read on a fast path (one arrow cast) and only falls back to per-value work for the values
that need it: thousands separators (``1,234``), Thai digits (``๑๒๓``), blanks, and text that is not a
number. Each reader says which cells were blank, unreadable or read after such a change.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙"
# Digits other scripts' keyboards and Excel's full-width input write: read as 0-9, as Thai digits are.
OTHER_DIGITS = ("٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "０１２３４５６７８９")
_ALL_DIGITS = THAI_DIGITS + "".join(OTHER_DIGITS)
_TO_ASCII = str.maketrans(_ALL_DIGITS, "0123456789" * (1 + len(OTHER_DIGITS)))
BLANK_MARKS = ("-", "–", "—")  # a dash in a Thai statistics table means "nothing here"
FLAG_YES = ("1", "1.0", "yes", "y", "true", "t", "ใช่", "มี", "ส่งต่อ", "✓")
FLAG_NO = ("0", "0.0", "no", "n", "false", "f", "ไม่ใช่", "ไม่มี", "ไม่", "ไม่ส่งต่อ")
_PLAIN = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_COMMA_GROUPS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_SPACE_GROUPS = re.compile(r"[+-]?\d{1,3}(?: \d{3})+(?:\.\d+)?")


def arrow(s: pd.Series) -> pa.Array:
    """The column as an arrow string array (no copy for pyarrow-backed text)."""
    arr = pa.array(s.array) if isinstance(s.dtype, pd.StringDtype) else pa.array(s.astype(str).to_numpy(), pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.large_string()) if arr.type != pa.large_string() else arr


def trimmed(s: pd.Series) -> pa.Array:
    return pc.utf8_trim_whitespace(arrow(s))


def to_ascii_digits(arr: pa.Array) -> pa.Array:
    """Thai, Arabic-Indic and full-width digits -> 0-9 (only scans when one is present)."""
    if not pc.any(pc.match_substring_regex(arr, f"[{_ALL_DIGITS}]")).as_py():
        return arr
    for i, d in enumerate(_ALL_DIGITS):
        arr = pc.replace_substring(arr, d, str(i % 10))
    return arr


def fix_number(text: str) -> float | None:
    """A number written as text for people: ``'1,234'``, ``'๑๒๓'``, ``'1 234'`` (None when it is not one)."""
    t = text.translate(_TO_ASCII).replace("\u00a0", " ").replace("\u202f", " ").replace("\u2009", " ").strip()
    if _COMMA_GROUPS.fullmatch(t):
        t = t.replace(",", "")
    elif _SPACE_GROUPS.fullmatch(t):
        t = t.replace(" ", "")
    if not _PLAIN.fullmatch(t):
        return None
    try:
        v = float(t)
    except (ValueError, OverflowError):
        return None
    return v if np.isfinite(v) else None


@dataclass
class Numbers:
    values: np.ndarray  # float64; NaN where blank or bad
    text: np.ndarray  # the trimmed cell text (object), for messages
    blank: np.ndarray
    bad: np.ndarray
    converted: np.ndarray  # read after removing separators / translating Thai digits


def read_numbers(s: pd.Series) -> Numbers:
    t = trimmed(s)
    blank = pc.or_(pc.equal(t, ""), pc.is_in(t, value_set=pa.array(BLANK_MARKS, pa.large_string())))
    blank_np = blank.to_numpy(zero_copy_only=False)
    nulled = pc.if_else(blank, pa.scalar(None, pa.large_string()), t)
    n = len(t)
    converted = np.zeros(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    try:
        values = pc.cast(nulled, pa.float64()).to_numpy(zero_copy_only=False).copy()  # writable
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        values = pd.to_numeric(pd.Series(nulled.to_numpy(zero_copy_only=False), dtype=object),
                               errors="coerce").to_numpy(dtype="float64", na_value=np.nan, copy=True)
        failed = np.flatnonzero(np.isnan(values) & ~blank_np)
        if len(failed):
            texts = pd.Series(t.take(pa.array(failed)).to_numpy(zero_copy_only=False), dtype=object)
            fixed = texts.map({u: fix_number(u) for u in texts.unique()}).to_numpy(dtype=object)
            ok = np.array([v is not None for v in fixed], dtype=bool)
            values[failed[ok]] = fixed[ok].astype("float64")
            converted[failed[ok]] = True
            bad[failed[~ok]] = True
    nonfinite = ~np.isfinite(values) & ~np.isnan(values)
    if nonfinite.any():  # 'inf' is not a count
        bad |= nonfinite
        values[nonfinite] = np.nan
    values[bad | blank_np] = np.nan
    return Numbers(values, _lazy_text(t), blank_np, bad, converted)


class _lazy_text:
    """Cell text by position, built only for the few cells a message quotes."""

    def __init__(self, arr: pa.Array):
        self._arr = arr

    def __getitem__(self, idx):
        if isinstance(idx, (int, np.integer)):
            return self._arr[int(idx)].as_py()
        idx = np.asarray(idx)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        return np.asarray(self._arr.take(pa.array(idx, pa.int64())).to_pylist(), dtype=object)


def read_codes(s: pd.Series) -> np.ndarray:
    """Area codes as text: spaces, a leading apostrophe (Excel's text mark), a trailing '.0' and Thai
    digits removed, so ``'๘๔๐๕๐๓'``, ``"'840503"`` and ``'840503.0'`` all read ``'840503'``."""
    t = to_ascii_digits(trimmed(s))
    t = pc.replace_substring_regex(t, r"^'|\s+|\.0+$", "")
    return t.to_numpy(zero_copy_only=False)


def read_text(s: pd.Series) -> np.ndarray:
    return trimmed(s).to_numpy(zero_copy_only=False)


@dataclass
class Flags:
    values: np.ndarray  # int8 0/1 (0 where blank or bad)
    text: object
    blank: np.ndarray
    bad: np.ndarray


def read_flags(s: pd.Series) -> Flags:
    t = pc.utf8_lower(to_ascii_digits(trimmed(s)))
    blank = pc.or_(pc.equal(t, ""), pc.is_in(t, value_set=pa.array(BLANK_MARKS, pa.large_string())))
    yes = pc.is_in(t, value_set=pa.array(FLAG_YES, pa.large_string()))
    no = pc.is_in(t, value_set=pa.array(FLAG_NO, pa.large_string()))
    blank_np, yes_np, no_np = (x.to_numpy(zero_copy_only=False) for x in (blank, yes, no))
    return Flags(yes_np.astype("int8"), _lazy_text(trimmed(s)), blank_np, ~(blank_np | yes_np | no_np))
