"""Which current DOPA area a code or a written name means, from ``geothai`` (never a hand-typed table).

Each function returns a :class:`Place`: the current code when the area is clear, and the problem to report
(a catalogue code with its message fields) when it is not or when the code was changed (abolished codes
are moved to their single successor with a warning; several successors mean the user must choose).
Results are cached per distinct value, so a million rows cost as much as their few thousand codes.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import geothai
from geothai.abolished import abolished_areas, match_abolished

from povmap.core.areas import admin_areas
from povmap.core.vocab import LEVEL_BY_KEY, LEVEL_BY_LEN
from povmap.data.uploads.problems import Msg

MAX_CANDIDATES = 5
_CODE = re.compile(r"\d{2}|\d{4}|\d{6}")
LEVEL_TH = {"province": "จังหวัด", "district": "อำเภอ", "subdistrict": "ตำบล"}
LEVEL_EN = {"province": "province", "district": "district", "subdistrict": "subdistrict"}


@dataclass
class Place:
    code: str | None  # the current code, None when the row cannot be placed
    problem: str | None = None  # catalogue code (an error when ``code`` is None, else a warning)
    params: dict = field(default_factory=dict)
    level: str | None = None


@lru_cache(maxsize=1)
def _areas() -> dict[str, tuple]:
    a = admin_areas()
    return {c: (lv, th, en, p) for c, lv, th, en, p in zip(a["code"], a["level"], a["name_th"], a["name_en"],
                                                          a["parent_code"])}


@lru_cache(maxsize=1)
def _abolished() -> dict:
    return {a.code: a for a in abolished_areas()}


@lru_cache(maxsize=1)
def _by_level() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {lv: [] for lv in LEVEL_BY_KEY}
    for code, (lv, *_rest) in _areas().items():
        out[lv].append(code)
    return out


@lru_cache(maxsize=1)
def _children() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for code, (_lv, _th, _en, parent) in _areas().items():
        if parent:
            out.setdefault(parent, []).append(code)
    return out


def current_codes(level: str | None = None) -> set[str]:
    return set(_areas()) if level is None else set(_by_level()[level])


def label(code: str) -> str:
    """'840503 เกาะเต่า (Ko Tao), อ.เกาะพะงัน, จ.สุราษฎร์ธานี' for a current code; the code itself otherwise."""
    a = _areas().get(code)
    if a is None:
        ab = _abolished().get(code)
        return f"{code} {ab.name_th}" if ab else code
    lv, th, en, _p = a
    parts = [f"{code} {th} ({en})"]
    if lv == "subdistrict":
        parts.append("อ." + _areas()[code[:4]][1])
    if lv in ("subdistrict", "district"):
        parts.append("จ." + _areas()[code[:2]][1])
    return ", ".join(parts)


def _labels(codes) -> str:
    codes = list(codes)
    out = "; ".join(label(c) for c in codes[:MAX_CANDIDATES])
    return out + (f"; … (+{len(codes) - MAX_CANDIDATES})" if len(codes) > MAX_CANDIDATES else "")


def _suggest(cands: list[str]) -> dict:
    if not cands:
        return {}
    text = _labels(cands)
    return {"candidates": text, "closest": Msg("upload.closest", text=text)}


@lru_cache(maxsize=65536)
def place_code(code: str, *, tpmap_units: bool = False) -> Place:
    """The area of a cleaned code. ``tpmap_units``: accept TPMAP's tambon numbers 50–99 inside a current
    district (they are kept at their own code, with a warning that no subdistrict polygon has it)."""
    if not _CODE.fullmatch(code or ""):
        return Place(None, "bad_code", {"value": code})
    level = LEVEL_BY_LEN[len(code)]
    base = {"value": code, "level_en": LEVEL_EN[level], "level_th": LEVEL_TH[level]}
    if code in _areas():
        return Place(code, level=level)
    ab = _abolished().get(code)
    if ab is not None:
        p = {**base, "name": ab.name_th, "on": _on(ab.abolished_on)}
        if len(ab.successors) == 1:
            return Place(ab.successors[0], "abolished_code", {**p, "successor": label(ab.successors[0])}, level)
        if ab.successors:
            return Place(None, "abolished_ambiguous", {**p, "candidates": _labels(ab.successors)}, level)
        return Place(None, "abolished_no_successor", p, level)
    if tpmap_units and level == "subdistrict" and code[:4] in _areas() and int(code[4:]) >= 50:
        return Place(code, "not_dopa_tambon", {**base, "district": label(code[:4])}, level)
    parent = code[:-2] if level != "province" else ""
    pool = _children().get(parent) if parent in _areas() else None
    if pool:
        cands = difflib.get_close_matches(code, pool, n=3, cutoff=0)
    else:
        cands = difflib.get_close_matches(code, _by_level()[level], n=3, cutoff=0.6)
    return Place(None, "unknown_code", {**base, **_suggest(cands)}, level)


# Names. geothai.match places a subdistrict; provinces and districts are matched here with the same rules
# (geothai's own helpers for them are private).
_SHORT = re.compile(r"^\s*(?:จ|อ|ต)\.\s*")
_PREFIX = re.compile(r"^(?:จังหวัด|อำเภอ|กิ่งอำเภอ|เขต|ตำบล|แขวง)")
_MARKS = re.compile(r"[\s.'\-]")
_PROVINCE_ALIASES = {"กทม": "10", "กรุงเทพ": "10", "bangkok": "10", "อยุธยา": "14", "ayutthaya": "14"}


def clean_name(text: str) -> str:
    """NFC, the two-character spelling of sara am (ํ + า) joined, spaces squeezed."""
    return " ".join(unicodedata.normalize("NFC", text or "").replace("ํา", "ำ").split())


def norm(text: str) -> str:
    return _PREFIX.sub("", _MARKS.sub("", _SHORT.sub("", clean_name(text)).lower()))


@lru_cache(maxsize=1)
def _name_index() -> dict[str, dict[str, list[str]]]:
    out: dict[str, dict[str, list[str]]] = {lv: {} for lv in LEVEL_BY_KEY}
    for code, (lv, th, en, _p) in _areas().items():
        for n in {norm(th), norm(en)}:
            out[lv].setdefault(n, []).append(code)
    return out


def _where(district: str, province: str) -> dict:
    if district and province:
        return {"where": Msg("upload.where.district_province", district=district, province=province)}
    if district:
        return {"where": Msg("upload.where.district", district=district)}
    return {"where": Msg("upload.where.province", province=province)} if province else {}


def _on(date) -> Msg | str:
    return Msg("upload.abolished_on", date=date) if date else ""


def _name_problem(level: str, value: str, pool: list[str], district="", province="") -> Place:
    """Not found: suggest the closest names (difflib) among ``pool`` codes."""
    names = {}
    for c in pool:
        names.setdefault(norm(_areas()[c][1]), c)
    hits = difflib.get_close_matches(norm(value), list(names), n=3, cutoff=0.6)
    return Place(None, "name_not_found", {"value": value, "level_en": LEVEL_EN[level], "level_th": LEVEL_TH[level],
                                          **_where(district, province), **_suggest([names[h] for h in hits])}, level)


def _ambiguous(level: str, value: str, codes: list[str]) -> Place:
    return Place(None, "name_ambiguous", {"value": value, "n": len(codes), "level_en": LEVEL_EN[level],
                                          "level_th": LEVEL_TH[level], "candidates": _labels(codes)}, level)


@lru_cache(maxsize=4096)
def place_province(name: str) -> Place:
    n = norm(name)
    codes = _name_index()["province"].get(n) or ([_PROVINCE_ALIASES[n]] if n in _PROVINCE_ALIASES else [])
    if len(codes) == 1:
        return Place(codes[0], level="province")
    return _name_problem("province", name, _by_level()["province"])


@lru_cache(maxsize=65536)
def place_district(name: str, province: str = "") -> Place:
    n = norm(name)
    prov = place_province(province) if province else None
    if prov is not None and prov.code is None:
        return prov
    codes = list(_name_index()["district"].get(n, []))
    if n in ("เมือง", "mueang"):  # the capital district is always XX01 (Bangkok has none)
        codes = [c for c in _by_level()["district"] if c.endswith("01") and not c.startswith("10")]
    if prov is not None:
        codes = [c for c in codes if c.startswith(prov.code)]
    if len(codes) == 1:
        return Place(codes[0], level="district")
    if codes:
        return _ambiguous("district", name, codes)
    pool = _children()[prov.code] if prov is not None else _by_level()["district"]
    return _name_problem("district", name, pool, province=province)


@lru_cache(maxsize=65536)
def place_subdistrict(name: str, district: str = "", province: str = "") -> Place:
    """geothai.match; abolished names go to their single successor; otherwise ask (candidates)."""
    name, district, province = clean_name(name), clean_name(district), clean_name(province)
    found = geothai.match(name, district=district or None, province=province or None)
    if len(found) == 1:
        return Place(found[0].subdistrict.code, level="subdistrict")
    if found:
        return _ambiguous("subdistrict", name, [a.subdistrict.code for a in found])
    old = match_abolished(name, district=district or None, province=province or None)
    successors = sorted({s for a in old for s in a.successors})
    if old and len(successors) == 1:
        a = old[0]
        return Place(successors[0], "abolished_code",
                     {"value": name, "name": a.code, "successor": label(successors[0]),
                      "on": _on(a.abolished_on)}, "subdistrict")
    if successors:
        return Place(None, "abolished_ambiguous", {"value": name, "name": ", ".join(a.code for a in old),
                                                   "candidates": _labels(successors)}, "subdistrict")
    pool = _by_level()["subdistrict"]
    if district:
        d = place_district(district, province)
        if d.code:
            pool = _children()[d.code]
    elif province:
        p = place_province(province)
        if p.code:
            pool = [c for c in pool if c.startswith(p.code)]
    return _name_problem("subdistrict", name, pool, district, province)


def place_names(subdistrict: str, district: str, province: str) -> Place:
    """The finest level that has a name decides what the row is."""
    if subdistrict:
        return place_subdistrict(subdistrict, district, province)
    if district:
        return place_district(district, province)
    return place_province(province)
