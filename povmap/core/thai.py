"""Numbers and years as Thai and English readers expect them."""
from __future__ import annotations

import math
from datetime import timedelta, timezone

from povmap.core.i18n import t
from povmap.core.vocab import METRIC_BY_KEY

DECIMALS = {"people": 0, "households": 0, "members": 0, "rate": 2, "share": 2, "per1000": 1}
NO_VALUE = "–"  # a number that is not there (no data, not applicable), in both languages


def fmt_number(x, decimals: int = 0) -> str:
    """``1234567.8`` -> ``1,234,568``; NaN/None -> :data:`NO_VALUE`."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return NO_VALUE
    return f"{x:,.{decimals}f}"


def fmt_metric(metric: str, x, lang: str) -> str:
    """A metric value with its unit, e.g. ``2.81 %`` or ``1,234 คน``."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return t("legend.no_data", lang)
    m = METRIC_BY_KEY[metric]
    unit = m.unit_th if lang == "th" else m.unit_en
    sep = "" if unit == "%" else " "
    return f"{fmt_number(x, DECIMALS[metric])}{sep}{unit}"


def fmt_metric_many(metric: str, values, lang: str) -> list[str]:
    """:func:`fmt_metric` over many values (one pass, for map tooltips of thousands of areas)."""
    m = METRIC_BY_KEY[metric]
    unit = m.unit_th if lang == "th" else m.unit_en
    sep = "" if unit == "%" else " "
    d = DECIMALS[metric]
    nodata = t("legend.no_data", lang)
    return [f"{x:,.{d}f}{sep}{unit}" if x == x else nodata for x in values]  # x != x only for NaN


def fmt_number_many(values, decimals: int = 0) -> list[str]:
    return [f"{x:,.{decimals}f}" if x == x else NO_VALUE for x in values]


def buddhist_year(year_ce: int) -> int:
    """พ.ศ. = ค.ศ. + 543."""
    return int(year_ce) + 543


_THAI_MONTHS = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.")


# Thailand keeps UTC+7 all year (no daylight saving), so a fixed offset needs no time-zone database.
BANGKOK = timezone(timedelta(hours=7), "ICT")


def fmt_datetime(dt, lang: str) -> str:
    """A timestamp in Bangkok time as Thai readers expect it (Buddhist Era: ``23 พ.ย. 2569 11:35 น.``), or
    ``2026-11-23 11:35 (Bangkok)`` in English. A timestamp without a zone is UTC."""
    dt = (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).astimezone(BANGKOK)
    if lang == "th":
        return f"{dt.day} {_THAI_MONTHS[dt.month - 1]} {buddhist_year(dt.year)} {dt:%H:%M} น."
    return f"{dt:%Y-%m-%d %H:%M} (Bangkok)"


_LEADING_VOWELS = "เแโใไ"
_TONE_MARKS = "่้๊๋"


def thai_sort_key(name: str) -> str:
    """Dictionary-order key for Thai names: a leading vowel (เ แ โ ใ ไ) sorts by the consonant
    after it, and tone marks only break ties. Written here because ICU (PyICU) has no wheels and
    the th_TH glibc locale is not installed on the target machines."""
    base = "".join(ch for ch in name if ch not in _TONE_MARKS)
    swapped = []
    i = 0
    while i < len(base):
        if base[i] in _LEADING_VOWELS and i + 1 < len(base):
            swapped += [base[i + 1], base[i]]
            i += 2
        else:
            swapped.append(base[i])
            i += 1
    return "".join(swapped) + "\x00" + "".join(ch for ch in name if ch in _TONE_MARKS)
