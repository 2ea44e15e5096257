"""The one problem type of an upload, the severity of each kind of problem, and the log a check fills.

Every problem has a stable ``code`` (tests and the page key on it), a severity (``error``: the row is
rejected; ``warning``: the row is kept, possibly changed, and the user is told how), the spreadsheet row
(the header row counts, as Excel shows it), the column as the file names it, and a message and advice from the
catalogue (``upload.message.<code>``, ``upload.advice.<code>`` in povmap/core/locales), filled with the problem's
params. A param named ``<name>_en``/``<name>_th`` gives ``{name}`` per language (a vocabulary word); a
:class:`Msg` param is a catalogue text rendered in the language shown.
"""
from __future__ import annotations

import re
import string
from functools import cache

import numpy as np
import pandas as pd

from povmap.core.errors import PovmapError
from povmap.core.errors import render as render_key
from povmap.core.i18n import COUNT, MESSAGES, t

ERROR, WARNING = "error", "warning"

# code -> severity; the texts are the catalogue's upload.message.<code> and upload.advice.<code>.
SEVERITY: dict[str, str] = {
    "file_empty": ERROR,
    "file_too_large": ERROR,
    "too_many_rows": ERROR,
    "too_many_columns": ERROR,
    "too_many_cells": ERROR,
    "cell_too_long": ERROR,
    "xlsx_inflates": ERROR,
    "encoding": ERROR,
    "not_a_table": ERROR,
    "xls_format": ERROR,
    "xlsx_unreadable": ERROR,
    "sheet_not_found": ERROR,
    "no_data": ERROR,
    "missing_column": ERROR,
    "unknown_column": WARNING,
    "unknown_columns": WARNING,
    "duplicate_column": WARNING,
    "no_year": ERROR,
    "several_years": ERROR,
    "missing_value": ERROR,
    "not_a_number": ERROR,
    "not_whole": ERROR,
    "too_large": ERROR,
    "negative": ERROR,
    "score_out_of_range": ERROR,
    "members_out_of_range": ERROR,
    "bad_flag": ERROR,
    "year_out_of_range": ERROR,
    "bad_combo": ERROR,
    "numbers_as_text": WARNING,
    "buddhist_year": WARNING,
    "blank_flag": WARNING,
    "no_dimension_flags": WARNING,
    "names_resolved": WARNING,
    "extra_cells": WARNING,
    "bad_code": ERROR,
    "unknown_code": ERROR,
    "wrong_level": ERROR,
    "abolished_code": WARNING,
    "abolished_ambiguous": ERROR,
    "abolished_no_successor": ERROR,
    "not_dopa_tambon": WARNING,
    "name_not_found": ERROR,
    "name_ambiguous": ERROR,
    "name_chosen": WARNING,
    "duplicate_household": ERROR,
    "duplicate_area": ERROR,
    "exceeds_total": ERROR,
    "rollup_mismatch": ERROR,
    "total_mismatch": ERROR,
    "problems_not_listed": WARNING,
}


class Msg:
    """A catalogue text with its params, rendered in the language where it is shown (an upload problem's
    param: a suggested fix, "did you mean", the closest names)."""

    __slots__ = ("key", "params")

    def __init__(self, key: str, **params):
        self.key, self.params = key, params

    def render(self, lang: str) -> str:
        return render_key(self.key, lang, _given(self.key, lang, self.params))

    def __eq__(self, other):
        return isinstance(other, Msg) and (self.key, self.params) == (other.key, other.params)

    def __hash__(self):
        return hash(self.key)


@cache
def _placeholders(key: str, lang: str) -> frozenset[str]:
    msg = MESSAGES[lang][key]
    forms = [msg] if isinstance(msg, str) else list(msg.values())
    return frozenset(f[1] for text in forms for f in string.Formatter().parse(text) if f[1])


def _for_lang(params: dict, lang: str) -> dict:
    """The params as ``lang`` shows them: ``x_en``/``x_th`` give ``x``, a :class:`Msg` is rendered, a quoted
    value shows its invisible characters."""
    out = {}
    for k, v in params.items():
        if k.endswith(("_en", "_th")):
            if k.endswith("_" + lang):
                out[k[:-3]] = v
        else:
            out.setdefault(k, v)
    out = {k: v.render(lang) if isinstance(v, Msg) else v for k, v in out.items()}
    if isinstance(out.get("value"), str):
        out["value"] = visible(out["value"])
    return out


def _given(key: str, lang: str, params: dict) -> dict:
    """The params ``key`` names, as ``lang`` shows them; a field the problem does not give prints as ''."""
    p = _for_lang(params, lang)
    given = {n: p.get(n, "") for n in _placeholders(key, "th" if lang == "th" else "en")}
    if COUNT in given and isinstance(given[COUNT], str):
        given[COUNT] = 0  # a count the caller did not give (plural forms need a number)
    return given


def render(code: str, params: dict) -> tuple[str, str, str, str]:
    """(message_en, message_th, advice_en, advice_th) of one problem."""
    def both(lang):
        return (t(f"upload.message.{code}", lang, **_given(f"upload.message.{code}", lang, params)),
                t(f"upload.advice.{code}", lang, **_given(f"upload.advice.{code}", lang, params)))
    (en, aen), (th, ath) = both("en"), both("th")
    return en, th, aen, ath


_INVISIBLE = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u00a0\u00ad\u115f\u1160\u180e"
                        "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")


def visible(value: str) -> str:
    """A value as it can be seen: invisible characters (zero-width space, byte-order mark, no-break space,
    direction marks, controls) become their code point, e.g. ``84⟨U+200B⟩0503``."""
    return _INVISIBLE.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", value)


def column_letter(index: int | None) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: how a spreadsheet names a column."""
    if index is None or index < 0:
        return ""
    s, n = "", index + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


class UploadProblem(PovmapError):
    """One problem of an uploaded file. Raised by :func:`parse` when the file cannot be read as a table at
    all; otherwise listed in a :class:`~povmap.data.uploads.validate.Report`.

    ``row`` is the row number a spreadsheet shows (the header row counts; None: the whole file), ``column``
    the header as written in the file (``column_letter`` its letter), ``code`` a key of :data:`SEVERITY`;
    ``messages`` and ``advices`` are its texts per language (rendered from the catalogue when it was found).
    """

    def __init__(self, code: str, *, messages: dict[str, str], advices: dict[str, str], severity: str = ERROR,
                 row: int | None = None, column: str | None = None, column_letter: str = "", value: str = "",
                 candidates: str = "", file: str | None = None):
        self.code, self.severity, self.row, self.column = code, severity, row, column
        self.column_letter, self._messages, self._advices = column_letter, messages, advices
        self.value, self.candidates, self.file = value, candidates, file
        super().__init__(f"upload.message.{code}")

    @classmethod
    def make(cls, code: str, *, row=None, column=None, col_index=None, file=None, **params) -> "UploadProblem":
        en, th, aen, ath = render(code, params)
        return cls(code, messages={"en": en, "th": th}, advices={"en": aen, "th": ath}, severity=SEVERITY[code],
                   row=row, column=column, column_letter=column_letter(col_index), value=str(params.get("value", "")),
                   candidates=str(params.get("candidates", "")), file=file)

    def message(self, lang: str) -> str:
        return self._messages["th" if lang == "th" else "en"]

    def advice(self, lang: str) -> str:
        return self._advices["th" if lang == "th" else "en"]

    def describe(self, lang: str) -> str:
        """One line for a person: where, what, what to do."""
        col = ""
        if self.column:
            col = f"{self.column_letter} '{self.column}'" if self.column_letter else f"'{self.column}'"
        if self.row is not None and col:
            where = t("upload.at.row_column", lang, row=self.row, column=col)
        elif self.row is not None:
            where = t("upload.at.row", lang, row=self.row)
        else:
            where = t("upload.at.column", lang, column=col) if col else ""
        text = t("upload.described", lang, where=where, text=self.message(lang)) if where else self.message(lang)
        todo = self.advice(lang)
        return t("upload.what_to_do", lang, text=text, advice=todo) if todo else text


PROBLEM_COLUMNS = ["row", "column", "column_letter", "code", "severity", "value", "candidates",
                   "message_en", "message_th", "advice_en", "advice_th"]


class Budget:
    """How many row problems may still be listed; the rest are counted per code."""

    def __init__(self, limit: int):
        self.left = limit
        self.unlisted: dict[str, int] = {}

    def take(self, code: str, n: int) -> int:
        k = min(n, self.left)
        self.left -= k
        if n > k:
            self.unlisted[code] = self.unlisted.get(code, 0) + n - k
        return k


class ProblemLog:
    """Collects problems while a file is checked; :meth:`frame` gives them as one table sorted by row."""

    def __init__(self, rownums: np.ndarray, header: list[str], *, listed: Budget | None = None,
                 defer: bool = False):
        self.rownums = rownums  # spreadsheet row number of each data row
        self.header = header
        self._chunks: list[pd.DataFrame] = []
        self.rejected = np.zeros(len(rownums), dtype=bool)
        self.fatal = False  # a problem no row can escape (a required column is missing)
        # A file read in blocks (povmap.data.uploads.blocks) shares one budget of listed row problems, and keeps
        # its file- and column-level problems as (code, arguments), to be added once for the whole file.
        self.listed = listed
        self.deferred: list[tuple[str, dict]] | None = [] if defer else None

    def column(self, col_index: int | None) -> str:
        if col_index is None:
            return ""
        name = self.header[col_index] if col_index < len(self.header) else ""
        return name or f"({column_letter(col_index)})"

    def add(self, code: str, *, positions=None, row: int | None = None, col_index: int | None = None,
            column: str | None = None, fatal: bool = False, **params) -> None:
        """One problem per data row at ``positions``, or one at spreadsheet ``row`` (file/column level).

        Each param is a scalar or an array aligned with ``positions`` (formatted per row).
        """
        severity = SEVERITY[code]
        if positions is None and self.deferred is not None:
            if fatal:
                self.fatal = True
                self.rejected[:] = True
            self.deferred.append((code, dict(row=row, col_index=col_index, column=column, fatal=fatal, **params)))
            return
        col = column if column is not None else self.column(col_index)
        if positions is None:
            en, th, aen, ath = render(code, {"header": col, **params})
            rows = [row]
            values = [str(params.get("value", ""))]
            cands = [str(params.get("candidates", ""))]
            msgs = [(en, th, aen, ath)]
            if fatal:
                self.fatal = True
                self.rejected[:] = True
        else:
            positions = np.asarray(positions, dtype="int64")
            if not len(positions):
                return
            if severity == ERROR:
                self.rejected[positions] = True
            if self.listed is not None:  # rejected all the same; only so many are written out
                positions = positions[:self.listed.take(code, len(positions))]
                if not len(positions):
                    return
            per_row = {k: np.asarray(v, dtype=object)[:len(positions)] for k, v in params.items()
                       if isinstance(v, (np.ndarray, pd.Series, list))}
            fixed = {"header": col, **{k: v for k, v in params.items() if k not in per_row}}
            msgs = []
            for i in range(len(positions)):
                p = dict(fixed)
                for k, v in per_row.items():
                    p[k] = v[i]
                msgs.append(render(code, p))
            rows = self.rownums[positions].tolist()
            values = [str(v) for v in per_row["value"]] if "value" in per_row else [str(params.get("value", ""))] * len(rows)
            cands = ([str(v) for v in per_row["candidates"]] if "candidates" in per_row
                     else [str(params.get("candidates", ""))] * len(rows))
        en, th, aen, ath = (list(x) for x in zip(*msgs))
        n = len(rows)
        self._chunks.append({
            "row": rows, "column": [col] * n, "column_letter": [column_letter(col_index)] * n, "code": [code] * n,
            "severity": [severity] * n, "value": values, "candidates": cands, "message_en": en, "message_th": th,
            "advice_en": aen, "advice_th": ath, "_col": [-1 if col_index is None else col_index] * n,
        })

    def frame(self) -> pd.DataFrame:
        if not self._chunks:
            return pd.DataFrame({c: pd.Series(dtype="Int64" if c == "row" else "str") for c in PROBLEM_COLUMNS})
        # Plain lists per call, one DataFrame at the end: a file can have thousands of problem groups.
        df = pd.DataFrame({k: [x for ch in self._chunks for x in ch[k]] for k in self._chunks[0]})
        df["row"] = pd.array(df["row"].tolist(), dtype="Int64")
        df = df.sort_values(["row", "_col"], kind="stable", na_position="first")
        return df[PROBLEM_COLUMNS].reset_index(drop=True)
