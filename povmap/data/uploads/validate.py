"""Check a parsed upload and say, in Thai and English, what can be imported and what must be fixed.

Nothing here writes anything: a :class:`Report` holds the accepted rows in memory until
:func:`povmap.data.uploads.datasets.import_dataset` stores them (or the user cancels and it is dropped).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from povmap.data.uploads import check_counts, check_households
from povmap.data.uploads.checks import AMBIGUOUS, FIRST_YEAR, candidate_codes, year_value
from povmap.data.uploads.columns import KIND_HOUSEHOLDS
from povmap.data.uploads.parse import MAX_UPLOAD_BYTES, Parsed, parse
from povmap.core.i18n import t
from povmap.core.thai import buddhist_year, fmt_number
from povmap.data.uploads.problems import ERROR, PROBLEM_COLUMNS, WARNING, ProblemLog, UploadProblem

VALID_ROWS, ALL_OR_NOTHING = "valid_rows", "all_or_nothing"
MODES = (VALID_ROWS, ALL_OR_NOTHING)
AREA_COUNT_LEVELS = ("province", "district", "subdistrict")  # the levels a counts file's summary names


def _severity(s: pd.Series, lang: str) -> pd.Series:
    return s.map({ERROR: t("upload.severity.error", lang), WARNING: t("upload.severity.warning", lang)})


@dataclass
class Report:
    """The outcome of checking one file. ``rows`` counts data rows (blank rows and total rows are not
    counted); ``accepted`` of them can be imported, ``rejected`` have at least one error. ``problems`` has
    one row per problem: row, column, column_letter, code, severity, value, candidates, message_en,
    message_th, advice_en, advice_th."""

    kind: str
    file_name: str
    rows: int
    accepted: int
    rejected: int
    problems: pd.DataFrame
    fatal: bool
    tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    facts: dict = field(default_factory=dict)
    year: int | None = None
    level: str | None = None
    format: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    header_row: int | None = None
    size_bytes: int = 0
    staged: object = None  # a file checked in blocks: its accepted rows on disk (povmap.data.uploads.blocks.Staged)

    def discard(self) -> None:
        """Drop what a check staged on disk (a report that is not imported, or was)."""
        if self.staged is not None:
            self.staged.discard()

    @property
    def errors(self) -> pd.DataFrame:
        return self.problems[self.problems["severity"] == ERROR]

    @property
    def warnings(self) -> pd.DataFrame:
        return self.problems[self.problems["severity"] == WARNING]

    @property
    def ok(self) -> bool:
        """No errors at all (warnings allowed): every row can be imported."""
        return not self.fatal and self.errors.empty and self.accepted > 0

    def can_import(self, mode: str = VALID_ROWS) -> bool:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        return self.ok if mode == ALL_OR_NOTHING else (not self.fatal and self.accepted > 0)

    @property
    def coverage(self) -> dict:
        """areas (distinct codes, all levels), people, households of what would be imported."""
        if self.staged is not None:
            return self.staged.coverage
        if self.kind == KIND_HOUSEHOLDS:
            df = self.tables.get("households")
            if df is None or df.empty:
                return {"areas": 0, "people": 0, "households": 0}
            return {"areas": int(df["subdistrict_code"].nunique()), "people": int(df["members"].sum()),
                    "households": int(len(df))}
        return {"areas": int(sum(self.facts.get("areas", {}).values())), "people": self.facts.get("people"),
                "households": self.facts.get("households")}

    @property
    def rounds(self) -> list[int]:
        """The survey rounds of a household file (years): several when household ids recur across years, and each
        is then imported as its own dataset."""
        from povmap.data.uploads.check_households import rounds

        if self.staged is not None:
            return self.staged.years
        df = self.tables.get("households")
        return rounds(df) if df is not None and not df.empty else []

    def summary(self, lang: str = "en") -> str:
        """A few sentences for a person: how many rows, what can be imported, what to do next."""
        th = lang == "th"
        n_err, n_warn = len(self.errors), len(self.warnings)
        if self.fatal:
            first = self.errors.iloc[0]
            return t("upload.summary.fatal", lang, file=self.file_name, text=first["message_th" if th else "message_en"],
                     advice=first["advice_th" if th else "advice_en"])
        cov = self.coverage
        if self.kind == KIND_HOUSEHOLDS:
            what = t("upload.summary.households", lang, households=t("upload.n.household", lang, count=cov["households"]),
                     members=t("upload.n.member", lang, count=cov["people"]),
                     areas=t("upload.n.in_subdistricts", lang, count=cov["areas"]))
        else:
            per = self.facts.get("areas", {})
            levels = [t(f"upload.n.{k}", lang, count=v) for k, v in per.items() if k in AREA_COUNT_LEVELS]
            what = t("upload.summary.counts", lang, levels=", ".join(levels), people=fmt_number(cov["people"] or 0),
                     year=buddhist_year(self.year) if th and self.year else self.year)
        parts = [t("upload.summary.checked", lang, file=self.file_name, rows=t("upload.n.row", lang, count=self.rows),
                   accepted=fmt_number(self.accepted), what=what)]
        if self.rejected:
            parts.append(t("upload.summary.rejected", lang, count=self.rejected,
                           problems=t("upload.n.problem", lang, count=n_err)))
        if n_warn:
            parts.append(t("upload.summary.warnings", lang, count=n_warn))
        if self.kind == KIND_HOUSEHOLDS and len(found := self.rounds) > 1:
            parts.append(t("upload.summary.rounds", lang, count=len(found),
                           years=", ".join(str(buddhist_year(y) if th else y) for y in found)))
        return " ".join([*parts, t("upload.summary.pending", lang)])

    def questions(self) -> list[tuple[str, list[str], int]]:
        """The names that fit several places, for the user to choose: (names as written, candidate codes,
        rows). Answer with ``check(..., choices={names: code})``."""
        p = self.problems[self.problems["code"].isin(AMBIGUOUS)]
        out = []
        for value, g in p.groupby("value", sort=False):
            codes = candidate_codes(g["candidates"].iloc[0])
            if codes:
                out.append((str(value), codes, int(len(g))))
        return out

    def problem_table(self, lang: str = "en", limit: int | None = None) -> pd.DataFrame:
        """The problems with headers in ``lang``: row, column, severity, problem, what to do."""
        th = lang == "th"
        p = self.problems if limit is None else self.problems.head(limit)
        col = [f"{letter} {name}".strip() if letter else name for letter, name in zip(p["column_letter"], p["column"])]
        sev = _severity(p["severity"], lang)
        heads = (t("upload.col.row", lang), t("upload.col.column", lang), t("upload.col.severity", lang),
                 t("upload.col.problem", lang), t("upload.col.advice", lang))
        return pd.DataFrame(dict(zip(heads, (p["row"].to_numpy(), col, sev.to_numpy(),
                                             p["message_th" if th else "message_en"].to_numpy(),
                                             p["advice_th" if th else "advice_en"].to_numpy()))))

    def problem_summary(self, lang: str = "en", rows_shown: int = 10, codes: bool = True) -> pd.DataFrame:
        """One line per kind of problem: how many, the first rows, an example message and what to do
        (``codes=False`` leaves out the problem code, for people)."""
        th = lang == "th"
        p = self.problems
        out = []
        for code, g in p.groupby("code", sort=False):
            rows = [str(r) for r in g["row"].dropna().unique()[:rows_shown]]
            more = len(g["row"].dropna().unique()) - len(rows)
            out.append((g["severity"].iloc[0], code, len(g), ", ".join(rows) + (f" … (+{more})" if more > 0 else ""),
                        g["message_th" if th else "message_en"].iloc[0], g["advice_th" if th else "advice_en"].iloc[0]))
        heads = (t("upload.col.severity", lang), t("upload.col.code", lang), t("upload.col.count", lang),
                 t("upload.col.rows", lang), t("upload.col.example", lang), t("upload.col.advice", lang))
        df = pd.DataFrame(out, columns=heads)
        df = df.sort_values(heads[0], key=lambda s: s.map({ERROR: 0, WARNING: 1}), kind="stable").reset_index(drop=True)
        df[heads[0]] = _severity(df[heads[0]], lang)
        return df if codes else df.drop(columns=heads[1])

    def problem_list(self, limit: int | None = None) -> list[UploadProblem]:
        p = self.problems if limit is None else self.problems.head(limit)
        return [UploadProblem(r.code, messages={"en": r.message_en, "th": r.message_th},
                              advices={"en": r.advice_en, "th": r.advice_th}, severity=r.severity,
                              row=None if pd.isna(r.row) else int(r.row), column=r.column or None,
                              column_letter=r.column_letter, value=r.value, candidates=r.candidates,
                              file=self.file_name)
                for r in p.itertuples(index=False)]


def validate(parsed: Parsed, *, year=None, level: str | None = None, choices: dict[str, str] | None = None,
             log: ProblemLog | None = None, seen=None) -> Report:
    """Check every row of ``parsed``. ``year``: the year of the figures (CE or BE; for households the
    survey year used when the file has no year column). ``level``: for area counts, restrict to one level
    (None = any, several levels in one file are checked against each other). ``choices``: the user's answers
    to ambiguous names, keyed by the names as the report shows them ("ตลาด / เมือง") -> code.

    ``log`` and ``seen``: one block of a file read in blocks (:mod:`povmap.data.uploads.blocks`)."""
    log = log if log is not None else ProblemLog(parsed.rows, parsed.header)
    for i, extra in parsed.extra_cells.items():
        log.add("extra_cells", positions=[i], column="", count=extra)
    y = year_value(year)
    if parsed.kind == KIND_HOUSEHOLDS:
        if y is not None and not FIRST_YEAR <= y <= 2100:
            log.add("year_out_of_range", row=parsed.header_row, column="", fatal=True, value=str(year))
            tables, facts = {}, {}
        else:
            df, facts = check_households.check(parsed, log, year=y, choices=choices, seen=seen)
            tables = {"households": df} if not log.fatal else {}
        excluded = np.zeros(len(parsed.rows), dtype=bool)
    else:
        tables, facts = check_counts.check(parsed, log, year=year, level=level, choices=choices)
        y = facts.get("year", y)
        excluded = np.zeros(len(parsed.rows), dtype=bool)
        excluded[facts.get("total_rows", [])] = True
    counted = ~excluded
    rows = int(counted.sum())
    rejected = int((log.rejected & counted).sum())
    if log.fatal:
        tables = {}
    return Report(kind=parsed.kind, file_name=parsed.file_name, rows=rows, accepted=rows - rejected if not log.fatal else 0,
                  rejected=rejected if not log.fatal else rows, problems=log.frame(), fatal=log.fatal, tables=tables,
                  facts=facts, year=y, level=level, format=parsed.format, encoding=parsed.encoding,
                  sheet=parsed.sheet, sheets=parsed.sheets, header_row=parsed.header_row,
                  size_bytes=parsed.size_bytes)


def check(data: bytes, file_name: str = "upload.csv", *, kind: str, sheet=None, year=None, level: str | None = None,
          max_bytes: int = MAX_UPLOAD_BYTES, choices: dict[str, str] | None = None) -> Report:
    """:func:`parse` then :func:`validate`, with a file that cannot be read turned into a fatal report,
    so a page has one thing to show."""
    try:
        parsed = parse(data, file_name, kind=kind, sheet=sheet, max_bytes=max_bytes)
    except UploadProblem as e:
        return report_of_error(e, kind, file_name, size=len(data))
    return validate(parsed, year=year, level=level, choices=choices)


def report_of_error(e: UploadProblem, kind: str, file_name: str, size: int = 0) -> Report:
    """A fatal report holding one problem (a file :func:`parse` refused)."""
    p = pd.DataFrame([{"row": e.row, "column": e.column or "", "column_letter": e.column_letter, "code": e.code,
                       "severity": e.severity, "value": e.value, "candidates": e.candidates, "message_en": e.en,
                       "message_th": e.th, "advice_en": e.advice("en"), "advice_th": e.advice("th")}], columns=PROBLEM_COLUMNS)
    p["row"] = p["row"].astype("Int64")
    return Report(kind=kind, file_name=file_name, rows=0, accepted=0, rejected=0, problems=p, fatal=True,
                  size_bytes=size)
