"""The Data page's list of datasets as a table in the user's language (no rows of any dataset)."""
from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd

from povmap.core.i18n import t
from povmap.core.thai import fmt_datetime, fmt_number
from povmap.core.vocab import LEVEL_BY_KEY
from povmap.data.uploads.datasets import KIND_HOUSEHOLDS, DatasetInfo


def licence_text(licence: str, lang: str) -> str:
    """Built-in licences are stored as "English / ไทย": show the user's half."""
    if " / " in licence:
        en, th = licence.split(" / ", 1)
        return th if lang == "th" else en
    return licence


def _when(iso: str, lang: str) -> str:
    try:
        dt = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return "–"
    return fmt_datetime(dt.astimezone(timezone.utc) if dt.tzinfo else dt, lang)


def _private(d: DatasetInfo) -> bool:
    """An imported household file's own totals are exact counts of households: the shared list does not show
    them, whatever the file says it is (the pages show protected figures; the import report tells the importer
    what was kept). The built-in synthetic file's totals are PPAOS's published ones."""
    return d.kind == KIND_HOUSEHOLDS and not d.builtin


def datasets_table(infos: list[DatasetInfo], active: str, lang: str, default: str | None = None) -> pd.DataFrame:
    """One row per dataset: in use (this session), default (new sessions), name, source, year, levels, coverage,
    licence, synthetic, who may see it, who imported it and when."""
    def cov(d: DatasetInfo, key: str) -> str:
        v = d.coverage.get(key)
        return "–" if v is None or _private(d) else fmt_number(v)

    return pd.DataFrame({
        t("data.col.active", lang): ["✔" if d.id == active else "" for d in infos],
        t("data.col.default", lang): ["✔" if d.id == (default or active) else "" for d in infos],
        t("data.col.name", lang): [("⚠ " if d.damaged else "") + d.label(lang) for d in infos],
        t("data.col.source", lang): [d.source_label(lang) for d in infos],
        t("data.col.year", lang): [d.year_label(lang) for d in infos],
        t("data.col.levels", lang): [", ".join(LEVEL_BY_KEY[lv].label(lang) for lv in d.levels) for d in infos],
        t("data.col.areas", lang): [cov(d, "areas") for d in infos],
        t("data.col.people", lang): [cov(d, "people") for d in infos],
        t("data.col.households", lang): [cov(d, "households") for d in infos],
        t("data.col.licence", lang): [licence_text(d.licence, lang) or "–" for d in infos],
        t("data.col.synthetic", lang): [t("data.yes", lang) if d.synthetic else t("data.no", lang) for d in infos],
        t("data.col.rows", lang): ["–" if d.builtin or _private(d)
                                   else f"{fmt_number(d.rows_accepted)} / {fmt_number(d.rows_rejected)}"
                                   for d in infos],
        t("data.col.shared", lang): [t("data.shared.all" if d.published else "data.shared.owner", lang) for d in infos],
        t("data.col.owner", lang): [d.owner_name or d.owner or "–" for d in infos],
        t("data.col.created", lang): [_when(d.created_at, lang) for d in infos],
    })
