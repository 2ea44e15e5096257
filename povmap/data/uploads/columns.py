"""The columns an upload may hold, the header spellings accepted for each, and header matching.

Headers are compared after :func:`normalize_header`: case, spaces, dots, underscores and hyphens and a
trailing unit in brackets do not matter, so ``poor.JPT.MOFval.CNT``, ``poor_jpt_mofval_cnt`` and
``Poor JPT MOFval CNT`` are one header, and so are ``ทุนมนุษย์`` and ``ทุนมนุษย์ (1-4)``.
:func:`aliases_markdown` prints the table README.md shows.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from povmap.core.vocab import DIMENSIONS, INDICATORS

KIND_COUNTS, KIND_HOUSEHOLDS = "tpmap", "households"  # = vocab.DATASET_KEYS
KINDS = (KIND_COUNTS, KIND_HOUSEHOLDS)


@dataclass(frozen=True)
class Column:
    key: str  # our name; the first accepted header
    th: str
    en: str
    aliases: tuple[str, ...]  # other accepted headers (the file format's own name first where it differs)
    required: bool = False

    @property
    def headers(self) -> tuple[str, ...]:
        return (self.key, *self.aliases)


def _c(key, th, en, *aliases, required=False) -> Column:
    return Column(key, th, en, tuple(aliases), required)


_AREA_COLUMNS = (
    _c("code", "รหัสพื้นที่", "DOPA area code (2, 4 or 6 digits)", "รหัส", "รหัสพื้นที่", "area_code", "dopa_code",
       "geocode"),
    _c("province_code", "รหัสจังหวัด", "province code", "รหัสจังหวัด", "province_id", "prov_code", "pv_code"),
    _c("district_code", "รหัสอำเภอ", "district code", "รหัสอำเภอ", "amphur_code", "amphoe_code", "amphur_id",
       "dist_code"),
    _c("subdistrict_code", "รหัสตำบล", "subdistrict code", "รหัสตำบล", "tambol_code", "tambon_code", "tambol_id",
       "tambon_id", "subdist_code"),
    _c("province_name", "ชื่อจังหวัด", "province name", "จังหวัด", "ชื่อจังหวัด", "province", "changwat",
       "province_th", "province_en"),
    _c("district_name", "ชื่ออำเภอ", "district name", "อำเภอ", "ชื่ออำเภอ", "เขต", "อำเภอ/เขต", "district", "amphoe",
       "amphur", "district_th", "district_en"),
    _c("subdistrict_name", "ชื่อตำบล", "subdistrict name", "ตำบล", "ชื่อตำบล", "แขวง", "ตำบล/แขวง", "subdistrict",
       "tambon", "tambol", "subdistrict_th", "subdistrict_en"),
)
_LOCATION_KEYS = {c.key for c in _AREA_COLUMNS}

COUNT_COLUMNS: tuple[Column, ...] = (
    *_AREA_COLUMNS,
    _c("people", "คนจนเป้าหมาย", "target poor (people)", "poor.JPT.MOFval.CNT", "คนจนเป้าหมาย",
       "จำนวนคนจนเป้าหมาย", "คนจน", "จำนวนคนจน", "target_poor", "poor_people", required=True),
    _c("households", "ครัวเรือนคนจนเป้าหมาย", "target-poor households", "poor.household.CNT",
       "ครัวเรือนคนจนเป้าหมาย", "จำนวนครัวเรือนคนจนเป้าหมาย", "ครัวเรือนยากจน", "จำนวนครัวเรือนยากจน",
       "poor_households"),
    *(_c(f"dim_{d.key}", d.th, f"target poor failing {d.en.lower()}", f"poor.JPT.MOFval.{d.tpmap_column}", d.th,
         "มิติ" + d.th.removeprefix("ด้าน"), d.th.removeprefix("ด้าน"), d.tpmap_column,
         *(["access"] if d.key == "access" else []))
      for d in DIMENSIONS),
    *(_c(i.key, f"ตัวชี้วัดที่ {i.number}", f"target poor failing indicator {i.number}",
         f"poor.JPT.MOFval.{i.key}.CNT", f"ตัวชี้วัดที่ {i.number}", f"ตัวชี้วัด {i.number}")
      for i in INDICATORS),
    _c("surveyed_households", "ครัวเรือนที่สำรวจ", "households surveyed", "household.CNT", "ครัวเรือนที่สำรวจ",
       "จำนวนครัวเรือนที่สำรวจ"),
    _c("surveyed_people", "ผู้ถูกสำรวจ", "people surveyed", "HOUSEMEMBER_CNT", "ผู้ถูกสำรวจ", "จำนวนผู้ถูกสำรวจ",
       "จำนวนคนที่สำรวจ", "คนที่สำรวจ"),
    _c("combo", "ชุดมิติ", "combination of dimensions (5 digits 0/1; default 11111)", "ชุดมิติ", "dims_combo"),
    _c("year", "ปี", "year of the figures (CE or BE)", "ปี", "ปีข้อมูล", "ปี พ.ศ.", "data_year"),
)
COUNT_KEYS = ("people", "households", *(f"dim_{d.key}" for d in DIMENSIONS), *(i.key for i in INDICATORS))
BASE_KEYS = ("surveyed_households", "surveyed_people")

HOUSEHOLD_UPLOAD_COLUMNS: tuple[Column, ...] = (
    _c("household_id", "รหัสครัวเรือน", "household id (unique)", "รหัสครัวเรือน", "เลขรหัสครัวเรือน", "รหัสบ้าน",
       "hh_id", "hhid", required=True),
    *(c for c in _AREA_COLUMNS if c.key in ("subdistrict_code", "subdistrict_name", "district_name", "province_name")),
    _c("members", "จำนวนสมาชิก", "household members (≥ 1)", "จำนวนสมาชิก", "สมาชิก", "จำนวนสมาชิกในครัวเรือน",
       "household_size", "hh_size", required=True),
    _c("capital_human", "ทุนมนุษย์", "human capital score 1–4", "ทุนมนุษย์", "human_capital", "human",
       required=True),
    _c("capital_physical", "ทุนกายภาพ", "physical capital score 1–4", "ทุนกายภาพ", "physical_capital", "physical",
       required=True),
    _c("capital_financial", "ทุนการเงิน", "financial capital score 1–4", "ทุนการเงิน", "ทุนเศรษฐกิจ",
       "ทุนทางการเงิน", "financial_capital", "financial", required=True),
    _c("capital_natural", "ทุนทรัพยากรธรรมชาติ", "natural capital score 1–4", "ทุนทรัพยากรธรรมชาติ",
       "ทุนธรรมชาติ", "natural_capital", "natural", required=True),
    _c("capital_social", "ทุนสังคม", "social capital score 1–4", "ทุนสังคม", "ทุนทางสังคม", "social_capital",
       "social", required=True),
    *(_c(f"deprived_{d.key}", f"ขาด{d.th}", f"deprived in {d.en.lower()} (0/1)", f"ขาด{d.th}", d.th,
         "มิติ" + d.th.removeprefix("ด้าน"), d.tpmap_column, *(["access"] if d.key == "access" else []))
      for d in DIMENSIONS),
    _c("referred", "ส่งต่อ", "referred to an agency (0/1)", "ส่งต่อ", "การส่งต่อ", "ได้รับการส่งต่อ", "referral",
       required=True),
    _c("survey_year", "ปีที่สำรวจ", "survey year (CE or BE)", "ปีที่สำรวจ", "ปีสำรวจ", "ปี", "year",
       required=True),
)

SPECS: dict[str, tuple[Column, ...]] = {KIND_COUNTS: COUNT_COLUMNS, KIND_HOUSEHOLDS: HOUSEHOLD_UPLOAD_COLUMNS}

# Headers known to the format but not imported: never reported as unknown (row numbers, TPMAP's
# derived rate, the source's other counts, a tier column: the tier is always recomputed).
_IGNORED = {
    KIND_COUNTS: (r"no", r"ลำดับ(ที่)?", r"#", r"name(th|en)?", r"ชื่อ(พื้นที่)?", r"level", r"ระดับ",
                  r"poorjpt(mofreg)?cnt", r"jptmofvalpovrate", r"sel\w*", r"indicator\d+(all|cnt)",
                  r"mof(reg|val)cnt", r"(elderly|disabled|chronicpatient)cnt", r"happiness",
                  r"poorjptmofvalind\d+cnt", r"rate", r"อัตรา\w*"),
    KIND_HOUSEHOLDS: (r"no", r"ลำดับ(ที่)?", r"#", r"tier", r"กลุ่ม", r"meanscore", r"คะแนนเฉลี่ย"),
}

_BRACKETS = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]\s*$")
_MARKS = re.compile(r"[\s._\-:/'\"]+")


def normalize_header(text) -> str:
    """The form headers are compared in (see the module docstring)."""
    s = unicodedata.normalize("NFC", str(text or "")).replace("\ufeff", "").replace("ํา", "ำ")
    s = _BRACKETS.sub("", s.strip())
    return _MARKS.sub("", s).casefold()


def _index(kind: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for col in SPECS[kind]:
        for h in col.headers:
            out.setdefault(normalize_header(h), col.key)
    return out


_INDEX = {k: _index(k) for k in KINDS}
_IGNORED_RE = {k: re.compile("|".join(f"(?:{p})" for p in v)) for k, v in _IGNORED.items()}


def known_header(kind: str, header: str) -> str | None:
    """Our key for a header, ``""`` for a known header that is not imported, None for an unknown one."""
    n = normalize_header(header)
    if n in _INDEX[kind]:
        return _INDEX[kind][n]
    return "" if n and _IGNORED_RE[kind].fullmatch(n) else None


def header_score(kind: str, cells) -> float:
    """How much a row looks like this kind's header: 1 per known cell, 0.5 per near miss."""
    return sum(_cell_score(kind, str(c)) for c in cells)


@lru_cache(maxsize=8192)
def _cell_score(kind: str, cell: str) -> float:
    n = normalize_header(cell)
    if not n or not any(ch.isalpha() for ch in n):  # numbers and blanks are never headers
        return 0.0
    if known_header(kind, cell) is not None:
        return 1.0
    return 0.5 if difflib.get_close_matches(n, _INDEX[kind], n=1, cutoff=0.8) else 0.0


@dataclass
class HeaderMap:
    positions: dict[str, int]  # key -> column index
    unknown: list[int]  # columns neither known nor ignored
    duplicates: list[tuple[int, str, int]]  # (column, key, first column)


def match_header(kind: str, header: list[str]) -> HeaderMap:
    positions: dict[str, int] = {}
    unknown, dups = [], []
    for i, cell in enumerate(header):
        key = known_header(kind, cell)
        if key is None:
            if normalize_header(cell):
                unknown.append(i)
        elif key:
            if key in positions:
                dups.append((i, key, positions[key]))
            else:
                positions[key] = i
    return HeaderMap(positions, unknown, dups)


def closest(kind: str, key: str, header: list[str], candidates: list[int]) -> int | None:
    """The unused column whose header is closest to any accepted spelling of ``key`` (difflib), or None."""
    col = next(c for c in SPECS[kind] if c.key == key)
    wanted = [normalize_header(h) for h in col.headers]
    best, best_ratio = None, 0.0
    for i in candidates:
        n = normalize_header(header[i])
        for w in wanted:
            r = difflib.SequenceMatcher(None, n, w).ratio()
            if r > best_ratio:
                best, best_ratio = i, r
    return best if best_ratio >= 0.75 else None


def closest_key(kind: str, header: str, exclude=()) -> str | None:
    """The key whose accepted spellings are closest to a header that matched none, or None."""
    n = normalize_header(header)
    keys = {h: k for h, k in _INDEX[kind].items() if k not in exclude}
    hit = difflib.get_close_matches(n, list(keys), n=1, cutoff=0.8)
    return keys[hit[0]] if hit else None


def spec(kind: str, key: str) -> Column:
    return next(c for c in SPECS[kind] if c.key == key)


def aliases_markdown() -> str:
    """The accepted headers of both kinds as a Markdown table (for README.md)."""
    lines = ["| upload | column | meaning | required | accepted headers |", "|---|---|---|---|---|"]
    for kind, title in ((KIND_COUNTS, "area counts (TPMAP layout)"), (KIND_HOUSEHOLDS, "households")):
        for c in SPECS[kind]:
            req = "yes" if c.required else ""
            if kind == KIND_COUNTS and c.key in _LOCATION_KEYS:
                req = "one of the code or name columns"
            if kind == KIND_HOUSEHOLDS and c.key in ("subdistrict_code", "subdistrict_name"):
                req = "code or name"
            if kind == KIND_HOUSEHOLDS and c.key.startswith("deprived_"):
                req = "all five or none"
            if c.key == "survey_year":
                req = "yes, or the year given on upload"
            if c.key == "year":
                req = "if no year is given on upload"
            heads = ", ".join(f"`{h}`" for h in dict.fromkeys(c.headers))
            lines.append(f"| {title} | `{c.key}` | {c.en} ({c.th}) | {req} | {heads} |")
    return "\n".join(lines)
