"""Area profiles and side-by-side comparison: everything the profile page shows for one area, as plain data.

A profile gathers, for one province, district or subdistrict: the TPMAP headline figures (all 5
dimensions, combo ``11111``) with the parent's and the country's values and the rank among siblings,
the per-dimension and per-indicator counts, the villages (subdistricts), the household file's
aggregates (tiers and capitals; never a household row), DOPA population 2017–2021, the HAI
(provinces) and the areas one level down.

Level-wide indexes are built once per engine and data version (lazily, in bounded :mod:`povmap.core.caches`);
:func:`build_profile` itself only slices them, so a profile takes a few milliseconds when warm.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import geothai
import numpy as np
import pandas as pd

from povmap.core.areas import abolished_successors, admin_areas
from povmap.core.caches import Cache
from povmap.core.cellkey import hidden, share
from povmap.core.engine import BANGKOK, Engine, QueryError
from povmap.core.households import CAPITAL_COLUMNS
from povmap.core.i18n import t
from povmap.core.vocab import CAPITAL_KEYS, DIMENSIONS, INDICATORS, LEVEL_KEYS, TIER_NUMBERS, child_level, level_of

COMBO_ALL = "11111"  # TPMAP's headline: target poor in any of the 5 dimensions
COUNTRY = "TH"  # the country's code in the TPMAP files
FIGURE_KEYS = ("people", "rate", "households", "population")
WORST_INDICATORS = 3
_CODE = re.compile(r"[0-9]{2}(?:[0-9]{2}){0,2}")  # 2, 4 or 6 ASCII digits
_MAX_HOPS = 5  # successor chains in geothai.abolished are short; this only guards against a loop


@dataclass(frozen=True)
class Figure:
    """One headline figure with its context."""

    key: str  # "people" | "rate" | "households" | "population"
    value: float | None  # None = no data (e.g. Bangkok in TPMAP)
    parent: float | None  # the parent area's value (the country for a province)
    country: float | None
    rank: int | None  # among siblings (1 = highest; ties share the best rank); None when no data
    siblings: int  # siblings with data, incl. itself: current DOPA areas with the same parent (all 77 provinces)


@dataclass(frozen=True)
class Profile:
    code: str
    level: str
    name_th: str
    name_en: str
    parents: list[tuple[str, str, str]]  # (code, name_th, name_en) from the province down, excluding itself
    figures: list[Figure]  # people, rate, households, population
    tpmap_note: str | None  # "not_surveyed" (Bangkok) | "no_source_row" | None
    dimensions: pd.DataFrame  # key, people, share (% of the area's target poor); overlapping counts
    indicators: pd.DataFrame  # key, number, tpmap_label, dimension, people, share, worst
    villages: pd.DataFrame | None  # subdistricts only: code, name_th, people, households, rank
    # Household-file aggregates; None when the file does not cover the area's province (an area of a
    # covered province with no households gives zeros). Keys: synthetic, households, members, referred,
    # tiers (tier, households, share), capitals (capital, area, province, ppaos20 = the whole file).
    households: dict | None
    population: pd.DataFrame  # year, population (DOPA registered population 2017–2021)
    hai: pd.DataFrame | None  # provinces only: year, hai, rank (among the 77 that year)
    # One level down: code, name_th, name_en, people, rate, placed. Current codes plus TPMAP's non-DOPA
    # units (placed=False, named "unit in <district>"), so people add up to the area; placed = has a polygon.
    children: pd.DataFrame
    bounds: tuple[float, float, float, float]  # minx, miny, maxx, maxy of the area's polygon
    households_withheld: bool = False  # the user may not see household figures (``households`` is None)

    def figure(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)


# --- codes ----------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _current_codes() -> frozenset[str]:
    return frozenset(admin_areas()["code"])


def _successor(code: str, current) -> tuple[str | None, tuple[str, ...]]:
    """(current code, successors): ``code`` itself if current, else its single current successor
    through ``geothai.abolished`` (None with the successors found when there are none or several)."""
    succ = abolished_successors()
    seen = code
    for _ in range(_MAX_HOPS):
        if seen in current:
            return seen, ()
        nxt = succ.get(seen)
        if nxt is None or len(nxt) != 1:
            return None, tuple(nxt or ())
        seen = nxt[0]
    return None, ()


def profile_codes(text: str) -> list[str]:
    """Area codes from a ``?area=`` value such as ``"840503"`` or ``"46,4601"``.

    Keeps the parts that are 2/4/6-digit current DOPA codes (geothai), maps an abolished code with a
    single successor to that successor, and drops everything else (unknown, malformed, split codes).
    Duplicates are dropped (first kept), so ``profile_codes(",".join(codes)) == codes``.
    """
    if not isinstance(text, str) or not text:
        return []
    current = _current_codes()
    out: list[str] = []
    for part in text.split(","):
        part = part.strip()
        if not _CODE.fullmatch(part):
            continue
        code, _ = _successor(part, current)
        if code is not None and code not in out:
            out.append(code)
    return out


def _resolve(engine: Engine, code) -> str:
    """The current code to profile for ``code``, or a bilingual QueryError."""
    raw = code.strip() if isinstance(code, str) else ""
    shown = raw[:20] + ("…" if len(raw) > 20 else "")
    if not _CODE.fullmatch(raw):
        raise QueryError("error.area.not_code", code=shown)
    current = engine.current[level_of(raw)]
    found, successors = _successor(raw, current)
    if found is not None:
        return found
    if len(successors) > 1:
        alts = ", ".join(successors)
        raise QueryError("error.area.split", code=raw, successors=alts)
    if raw in abolished_successors():
        raise QueryError("error.area.abolished", code=raw)
    if len(raw) == 6 and raw in engine.tpmap_rows("subdistrict", COMBO_ALL).index:
        raise QueryError("error.area.tpmap_unit", code=raw, district=raw[:4])
    raise QueryError("error.area.unknown", code=raw)


# --- per-engine indexes (built once per data version, lazily) -----------------------------------
# Level-wide indexes: one entry each per level (or one in all); bounded by what exists (see povmap.core.caches).
_FIGURES = Cache("profile.figures", maxsize=len(LEVEL_KEYS) + 1,
                 why="the 4 figures with sibling ranks, one table per level (country, province, district, subdistrict)")
_SORTED = Cache("profile.sorted_codes", maxsize=2 * len(LEVEL_KEYS),
                why="sorted current and TPMAP codes of each child level (province, district, subdistrict)")
_POLYGONS = Cache("profile.polygons", maxsize=len(LEVEL_KEYS), why="the codes with a polygon, one set per child level")
_VILLAGES = Cache("profile.villages", maxsize=1, why="the villages sorted by code: one table")
_POPULATION = Cache("profile.population", maxsize=1, why="DOPA population by code and year: one wide table")
_HAI = Cache("profile.hai", maxsize=1, why="the HAI series with ranks of the 77 provinces: one dict")
_HOUSEHOLDS = Cache("profile.households", maxsize=1, why="the provinces the household file covers: one set")


def _prefix_slice(sorted_codes: np.ndarray, prefix: str) -> slice:
    """Rows of a sorted array of digit strings that start with ``prefix`` (':' sorts right after '9')."""
    return slice(int(np.searchsorted(sorted_codes, prefix, "left")),
                 int(np.searchsorted(sorted_codes, prefix + ":", "left")))


def _figure_table(engine: Engine, level: str) -> pd.DataFrame:
    """Current areas of a level: the 4 figures, and per figure its rank and the count with data among siblings."""
    return _FIGURES.get(engine, level, lambda: _build_figure_table(engine, level))


def _build_figure_table(engine: Engine, level: str) -> pd.DataFrame:
    if level == "country":
        # An imported counts file may lack the country row's surveyed people or households: NaN, not an error.
        rows = engine.tpmap_rows("country", COMBO_ALL).reindex([COUNTRY])
        base = engine.surveyed["country"]["surveyed_people"].reindex([COUNTRY]).astype("float64")
        people = float(rows.at[COUNTRY, "people"])
        return pd.DataFrame({
            "people": [people],
            "rate": [100.0 * people / float(base[COUNTRY])],
            "households": [float(rows.at[COUNTRY, "households"])],
            "population": [float(engine.population[""])],
        }, index=pd.Index([COUNTRY], dtype=object))
    codes = engine.current[level]
    rows = engine.tpmap_rows(level, COMBO_ALL).reindex(codes)
    base = engine.surveyed[level]["surveyed_people"].reindex(codes).astype("float64")
    df = pd.DataFrame({
        "people": rows["people"].astype("float64"),
        "rate": 100.0 * rows["people"].astype("float64") / base,
        "households": rows["households"].astype("float64"),
        "population": engine.population.reindex(codes).astype("float64"),
    }, index=codes)
    parent = np.asarray(codes.str[: len(codes[0]) - 2], dtype=object)  # provinces: "" = all siblings
    groups = df.groupby(parent, sort=False)
    for key in FIGURE_KEYS:
        df[f"{key}_rank"] = groups[key].rank(method="min", ascending=False)
        df[f"{key}_n"] = groups[key].transform("count")
    return df


def _sorted_codes(engine: Engine, name: str, codes) -> np.ndarray:
    return _SORTED.get(engine, name, lambda: np.sort(np.asarray(codes, dtype=object)))


def _villages(engine: Engine) -> tuple[np.ndarray, pd.DataFrame]:
    def build() -> tuple[np.ndarray, pd.DataFrame]:
        v = engine.data.villages.sort_values("code", kind="stable").reset_index(drop=True)
        v = pd.DataFrame({
            "code": v["code"].to_numpy(dtype=object),
            "name_th": v["name_th"].to_numpy(dtype=object),
            "people": v["people"].to_numpy(),
            "households": v["households"].to_numpy(),
        })
        return (v["code"].to_numpy(), v)

    return _VILLAGES.get(engine, "v", build)


def _population_wide(engine: Engine) -> pd.DataFrame:
    def build() -> pd.DataFrame:
        pop = engine.data.population
        wide = pop.pivot_table(index="code", columns="year", values="population", aggfunc="first")
        wide.index = pd.Index(wide.index.to_numpy(dtype=object), dtype=object)
        return wide.sort_index(axis=1)

    return _POPULATION.get(engine, "wide", build)


def _hai(engine: Engine) -> dict[str, pd.DataFrame]:
    def build() -> dict[str, pd.DataFrame]:
        hai = engine.data.hai.copy()
        hai["rank"] = hai.groupby("year")["hai"].rank(method="min", ascending=False).astype("Int64")
        return {
            str(p): pd.DataFrame({"year": g["year"].astype("int64").to_numpy(), "hai": g["hai"].to_numpy(),
                                  "rank": g["rank"].to_numpy()}).sort_values("year").reset_index(drop=True)
            for p, g in hai.groupby("province_code")
        }

    return _HAI.get(engine, "by_province", build)


def _household_provinces(engine: Engine) -> frozenset[str]:
    """Provinces the household file covers (a profile outside them has no household section)."""
    return _HOUSEHOLDS.get(engine, "provinces", lambda: frozenset(engine.household_provinces()))


# --- the profile ----------------------------------------------------------------------------
def _num(x) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if np.isnan(x) else x


def _figures(engine: Engine, code: str, level: str) -> list[Figure]:
    own = _figure_table(engine, level).loc[code]
    parent_level = "country" if level == "province" else LEVEL_KEYS[LEVEL_KEYS.index(level) - 1]
    parent_code = COUNTRY if level == "province" else code[: len(code) - 2]
    parent = _figure_table(engine, parent_level).loc[parent_code]
    country = _figure_table(engine, "country").loc[COUNTRY]
    out = []
    for key in FIGURE_KEYS:
        value = _num(own[key])
        rank = own[f"{key}_rank"]
        out.append(Figure(key, value, _num(parent[key]), _num(country[key]),
                          None if value is None or np.isnan(rank) else int(rank), int(own[f"{key}_n"])))
    return out


def _share(part, whole) -> np.ndarray:
    part = np.asarray(part, dtype="float64")
    whole = float(whole) if whole is not None else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(whole > 0, 100.0 * part / whole, np.nan) if whole == whole else part * np.nan


def _dimensions_indicators(row: pd.Series | None, people: float | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    dim_people = (row[[f"dim_{d.key}" for d in DIMENSIONS]].to_numpy(dtype="float64") if row is not None
                  else np.full(len(DIMENSIONS), np.nan))
    dims = pd.DataFrame({"key": [d.key for d in DIMENSIONS], "people": dim_people,
                         "share": _share(dim_people, people)})
    ind_people = (row[[i.key for i in INDICATORS]].to_numpy(dtype="float64") if row is not None
                  else np.full(len(INDICATORS), np.nan))
    # The 3 largest positive counts; ties go to the earlier indicator (vocabulary order).
    order = np.lexsort((np.arange(len(INDICATORS)), -np.nan_to_num(ind_people, nan=-1.0)))
    worst = np.zeros(len(INDICATORS), dtype=bool)
    top = order[:WORST_INDICATORS]
    worst[top[ind_people[top] > 0]] = True
    inds = pd.DataFrame({
        "key": [i.key for i in INDICATORS],
        "number": [i.number for i in INDICATORS],
        "tpmap_label": [i.tpmap_label for i in INDICATORS],
        "dimension": [i.dimension for i in INDICATORS],
        "people": ind_people,
        "share": _share(ind_people, people),
        "worst": worst,
    })
    return dims, inds


def _village_frame(engine: Engine, code: str) -> pd.DataFrame:
    codes, table = _villages(engine)
    v = table.iloc[_prefix_slice(codes, code)]
    v = v.sort_values(["people", "code"], ascending=[False, True], kind="stable").reset_index(drop=True)
    v["rank"] = v["people"].rank(method="min", ascending=False).astype("int64")
    # A village is told apart by its number (หมู่ที่), the 7th-8th digits of its code: names repeat in a subdistrict.
    v["moo"] = v["code"].str[6:8].astype("int64")
    return v


# The title of an area names its level as Thai usage does (ตำบลกาฬสินธุ์, not กาฬสินธุ์, which is also the province);
# Bangkok's districts and subdistricts are เขต and แขวง, and Bangkok itself takes no prefix.
TITLED = ("province", "district", "subdistrict", "province_bkk", "district_bkk", "subdistrict_bkk")


def area_title(code: str, name: str, lang: str) -> str:
    kind = level_of(code) + ("_bkk" if code[:2] == BANGKOK else "")
    return t(f"area.titled.{kind}", lang, name=name)


def _household_aggregates(engine: Engine, code: str) -> dict | None:
    """The area's household figures, every count a sum of the protected base table (povmap.core.cellkey):
    a count of 1 to k-1 is shown as "< k", shares and means only where the count is large enough."""
    if code[:2] not in _household_provinces(engine):
        return None
    pt, k = engine.protected, engine.privacy_k
    n = pt.total(prefix=code)
    tiers = np.array([pt.total(prefix=code, tiers=[t]) for t in TIER_NUMBERS], dtype="int64")
    hide_all = hidden(n, k)
    tier_counts = pd.array(tiers, dtype="Int64")
    tier_counts[[hide_all or hidden(v, k) for v in tiers]] = pd.NA
    members, referred = pt.total("members", prefix=code), pt.total(prefix=code, referred=1)
    return {
        "synthetic": engine.households_synthetic,
        "k": k,
        "hidden": hide_all,
        "households": None if hide_all else n,
        "members": None if hide_all or hidden(members, k) else members,
        "referred": None if hide_all or hidden(referred, k) else referred,
        "tiers": pd.DataFrame({"tier": list(TIER_NUMBERS), "households": tier_counts,
                               "share": [share(None if pd.isna(v) else v, None if hide_all else n, k)
                                         for v in tier_counts]}),
        "capitals": pd.DataFrame({"capital": list(CAPITAL_KEYS), "area": pt.means(CAPITAL_COLUMNS, code),
                                  "province": pt.means(CAPITAL_COLUMNS, code[:2]),
                                  "ppaos20": pt.means(CAPITAL_COLUMNS)}),
    }


def _children(engine: Engine, code: str, level: str) -> pd.DataFrame:
    cols = ["code", "name_th", "name_en", "people", "rate", "placed"]
    child = child_level(level)
    if child is None:
        return pd.DataFrame({c: pd.Series(dtype=("bool" if c == "placed" else "float64" if c in ("people", "rate")
                                                 else object)) for c in cols})
    current = _sorted_codes(engine, f"current_{child}", engine.current[child])
    rows = engine.tpmap_rows(child, COMBO_ALL)
    in_tpmap = _sorted_codes(engine, f"tpmap_{child}", rows.index)
    codes = sorted(set(current[_prefix_slice(current, code)]) | set(in_tpmap[_prefix_slice(in_tpmap, code)]))
    people = rows["people"].reindex(codes).astype("float64").to_numpy()
    base = engine.surveyed[child]["surveyed_people"].reindex(codes).astype("float64").to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = 100.0 * people / base
    polygons = _POLYGONS.get(engine, child, lambda: frozenset(engine.polygons[child]))
    df = pd.DataFrame({"code": pd.array(codes, dtype=object), "count": people, "reason": None})
    df = engine.named(df)  # the explorer's names, incl. "unit in <district>" for non-DOPA units
    return pd.DataFrame({
        "code": df["code"].to_numpy(dtype=object),
        "name_th": df["name_th"].to_numpy(dtype=object),
        "name_en": df["name_en"].to_numpy(dtype=object),
        "people": people,
        "rate": rate,
        "placed": np.array([c in polygons for c in codes], dtype=bool),
    }).sort_values(["people", "code"], ascending=[False, True], na_position="last", kind="stable").reset_index(drop=True)


def _bounds(engine: Engine, code: str) -> tuple[float, float, float, float]:
    """The area's polygon bounds; an area without a polygon falls back to its nearest ancestor's."""
    for c in (code, *(code[:n] for n in (4, 2) if n < len(code))):
        bnd = engine.boundaries(level_of(c))
        if c in bnd.index:
            b = bnd.loc[c, ["minx", "miny", "maxx", "maxy"]]
            return tuple(float(x) for x in b)  # type: ignore[return-value]
    raise QueryError("error.area.no_boundary", code=code)


def build_profile(engine: Engine, code: str, *, households: bool = True) -> Profile:
    """The profile of one area. An abolished code with a single successor profiles the successor.
    ``households=False``: for a user who may not see household figures; none are computed.

    Raises :class:`QueryError` (Thai and English message) for a code that is no current area.
    """
    code = _resolve(engine, code)
    level = level_of(code)
    names = engine.names
    figures = _figures(engine, code, level)
    rows = engine.tpmap_rows(level, COMBO_ALL)
    row = rows.loc[code] if code in rows.index else None
    if code[:2] == BANGKOK:
        note = "not_surveyed"
    elif row is None:
        note = "no_source_row"
    else:
        note = None
    dims, inds = _dimensions_indicators(row, figures[0].value)

    wide = _population_wide(engine)
    if code in wide.index:
        pop_row = wide.loc[code].dropna()
        population = pd.DataFrame({"year": pop_row.index.astype("int64"), "population": pop_row.to_numpy("int64")})
    else:
        population = pd.DataFrame({"year": pd.Series(dtype="int64"), "population": pd.Series(dtype="int64")})

    hai = None
    if level == "province":
        hai = _hai(engine).get(code)
        if hai is not None:
            hai = hai.copy()
    return Profile(
        code=code,
        level=level,
        name_th=str(names.at[code, "name_th"]),
        name_en=str(names.at[code, "name_en"]),
        parents=[(p, str(names.at[p, "name_th"]), str(names.at[p, "name_en"]))
                 for p in (code[:n] for n in (2, 4) if n < len(code))],
        figures=figures,
        tpmap_note=note,
        dimensions=dims,
        indicators=inds,
        villages=_village_frame(engine, code) if level == "subdistrict" else None,
        households=_household_aggregates(engine, code) if households else None,
        households_withheld=not households,
        population=population,
        hai=hai,
        children=_children(engine, code, level),
        bounds=_bounds(engine, code),
    )


# --- search and comparison ------------------------------------------------------------------
def _label(code: str, lang: str) -> str | None:
    """``ต.ในเมือง · อ.เมืองนครราชสีมา · จ.นครราชสีมา`` / ``Nai Mueang Subdistrict · Mueang Nakhon Ratchasima ·
    Nakhon Ratchasima``: the area's own level is named, so a district and its namesake subdistrict differ."""
    names = _admin_names()
    if code not in names:
        return None
    col = 0 if lang == "th" else 1
    own = names[code][col]
    if lang == "th":  # Thai abbreviations; Bangkok's khet names already start with "เขต", and Bangkok takes none
        bkk = code[:2] == BANGKOK
        own = {6: "แขวง" if bkk else "ต.", 4: "" if bkk else "อ.", 2: "" if bkk else "จ."}[len(code)] + own
    else:
        own = area_title(code, own, lang)
    parts = [own]
    if len(code) == 6:
        d = names[code[:4]][col]
        # Bangkok's khet names already start with "เขต".
        parts.append(d if lang != "th" or d.startswith("เขต") else f"อ.{d}")
    if len(code) >= 4:
        p = names[code[:2]][col]
        parts.append(p if lang != "th" or code[:2] == BANGKOK else f"จ.{p}")
    return " · ".join(parts)


@lru_cache(maxsize=1)
def _admin_names() -> dict[str, tuple[str, str]]:
    a = admin_areas()
    return dict(zip(a["code"], zip(a["name_th"], a["name_en"])))


def search_areas(query: str, lang: str, limit: int = 10) -> list[tuple[str, str]]:
    """Areas matching a Thai or English name (``geothai.search``) or an exact code: [(code, label), …].

    Labels name the parents (``ในเมือง · อ.เมืองนครราชสีมา · จ.นครราชสีมา``) so repeated names can be told apart.
    An abolished code with a single successor finds the successor.
    """
    if not isinstance(query, str) or limit <= 0:
        return []
    query = query.strip()[:200]  # names are far shorter; bounds the work on hostile input
    if not query:
        return []
    codes: list[str] = []
    if query.isascii() and query.isdigit():
        codes += profile_codes(query)
    else:
        codes += [r.area.code for r in geothai.search(query, limit=limit)]
    out = []
    for c in codes:
        label = _label(c, lang)
        if label is not None and all(c != o for o, _ in out):
            out.append((c, label))
    return out[:limit]


def compare_table(profiles: list[Profile]) -> pd.DataFrame:
    """One row per profile: code, names, level, the 4 headline figures and the household file's
    households and tier-1 share (NaN where there is no data)."""
    rows = []
    for p in profiles:
        figs = {f.key: f.value for f in p.figures}
        hh = p.households
        tier1 = None
        if hh is not None:
            t = hh["tiers"]
            tier1 = _num(t.loc[t["tier"] == 1, "share"].iloc[0])
        rows.append({
            "code": p.code, "name_th": p.name_th, "name_en": p.name_en, "level": p.level,
            **{k: figs.get(k) for k in FIGURE_KEYS},
            "hh_households": None if hh is None else hh["households"],
            "hh_tier1_share": tier1,
        })
    cols = ["code", "name_th", "name_en", "level", *FIGURE_KEYS, "hh_households", "hh_tier1_share"]
    df = pd.DataFrame(rows, columns=cols)
    for c in (*FIGURE_KEYS, "hh_households", "hh_tier1_share"):
        df[c] = df[c].astype("float64")
    return df
