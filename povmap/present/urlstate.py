"""The explorer's view as a URL query string, validated on the way in.

Only small, checked values travel (never pickles): a link opens the nearest valid view and
reports what it had to ignore.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields, replace

from povmap.core.i18n import LANGS
from povmap.core.vocab import (
    CLASS_SCHEME_KEYS,
    DATASET_KEYS,
    DATASET_METRICS,
    DIMENSION_KEYS,
    INDICATOR_KEYS,
    LEVEL_KEYS,
    SCOPE_GROUP_KEYS,
    TIER_NUMBERS,
    level_of,
    levels_below,
    metrics_for,
)

_DATASET_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{2,80}")  # the form of a dataset id (built-in or imported)
MAX_VALUE_CHARS = 200  # anything longer is not a value this app writes
SHOWN_CHARS = 40  # how much of an ignored name or value the notice repeats


@dataclass(frozen=True)
class ExplorerState:
    lang: str = "th"
    dataset: str = "tpmap"
    scope: str = "all"  # all | ppaos20 | sra7 | a province code
    level: str = "province"
    parent: str | None = None
    selected: str | None = None
    dims: tuple[str, ...] = DIMENSION_KEYS
    tiers: tuple[int, ...] = TIER_NUMBERS
    metric: str = "rate"  # the rate: counts crown the most populous provinces
    indicator: str | None = None
    scheme: str = "quantiles"
    k: int = 5
    present: bool = False  # presentation mode: full-width map, large type, controls hidden
    vs: str | None = None  # the other round of a change view: a dataset id (the page checks the user may see it)


DEFAULT = ExplorerState()


def encode(state: ExplorerState) -> dict[str, str]:
    """Query parameters for a view: only what differs from the default view."""
    out = {}
    for f in fields(ExplorerState):
        value = getattr(state, f.name)
        if value == getattr(DEFAULT, f.name) or value is None:
            continue
        if isinstance(value, bool):
            out[f.name] = "1" if value else "0"
        else:
            out[f.name] = ",".join(str(v) for v in value) if isinstance(value, tuple) else str(value)
    return out


def decode(params, area_codes: set[str]) -> tuple[ExplorerState, list[str]]:
    """(state, ignored) from query parameters; ``area_codes`` are the valid DOPA codes.

    Each parameter is checked on its own; a bad one falls back to its default and is named
    in ``ignored`` (as ``name=value``, shortened), so the rest of the link still applies.
    """
    raw = {k: (v[-1] if isinstance(v, (list, tuple)) and v else v) for k, v in dict(params).items()}
    known = {f.name for f in fields(ExplorerState)}
    ignored = [shown(k) for k in raw if k not in known]
    state = {}

    def bad(name: str, value: str) -> None:
        ignored.append(f"{name}={shown(value)}")

    for name in known & raw.keys():
        value = str(raw[name]).strip()
        if len(value) > MAX_VALUE_CHARS:
            bad(name, value)
            continue
        parsed = _parse(name, value, area_codes)
        if parsed is None:
            bad(name, value)
        else:
            state[name] = parsed
    s = replace(DEFAULT, **state)

    def fallback(name: str, **value) -> None:
        """A value that does not fit the rest of the view falls back; say so only if the link set it."""
        nonlocal s
        if name in state:
            bad(name, str(getattr(s, name)))
        s = replace(s, **value)

    if s.indicator and s.dataset != "tpmap":
        fallback("indicator", indicator=None)
    if s.metric not in metrics_for(s.dataset, s.indicator):
        fallback("metric", metric=metrics_for(s.dataset, s.indicator)[0])
    if s.parent and s.scope not in ("all", *SCOPE_GROUP_KEYS) and s.parent[:2] != s.scope:
        fallback("parent", parent=None)
    if s.level not in levels_below(s.parent):
        fallback("level", level=levels_below(s.parent)[0])
    if s.selected and (level_of(s.selected) != s.level or (s.parent and not s.selected.startswith(s.parent))):
        fallback("selected", selected=None)
    return s, ignored


def _parse(name: str, value: str, area_codes: set[str]):
    """The typed value of one parameter, or None if it is not valid."""
    one_of = {"lang": LANGS, "dataset": DATASET_KEYS, "level": LEVEL_KEYS, "metric": tuple(DATASET_METRICS["tpmap"])
              + tuple(DATASET_METRICS["households"]), "indicator": INDICATOR_KEYS, "scheme": CLASS_SCHEME_KEYS}
    if name in one_of:
        return value if value in one_of[name] else None
    if name == "scope":
        return value if value in ("all", *SCOPE_GROUP_KEYS) or (len(value) == 2 and value in area_codes) else None
    if name in ("parent", "selected"):
        ok = value in area_codes and (name == "selected" or len(value) in (2, 4))
        return value if ok else None
    if name == "dims":
        dims = tuple(d for d in DIMENSION_KEYS if d in value.split(","))
        return dims if dims and set(value.split(",")) <= set(DIMENSION_KEYS) else None
    if name == "tiers":
        parts = value.split(",")
        if not all(p.isdecimal() and int(p) in TIER_NUMBERS for p in parts):  # "²".isdigit(), but int() fails
            return None
        return tuple(sorted({int(p) for p in parts}))
    if name == "vs":
        return value if _DATASET_ID.fullmatch(value) else None
    if name == "present":
        return {"1": True, "0": False}.get(value)
    if name == "k":
        return int(value) if value.isdecimal() and 3 <= int(value) <= 7 else None
    return None


def shown(text) -> str:
    """A link's name or value as the "ignored" notice repeats it: shortened, never thousands of characters."""
    text = str(text)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"


def page_params(params, known) -> tuple[dict[str, str], list[str]]:
    """(the page's own parameters, ignored) for the pages other than the explorer.

    ``known`` names the page's parameters; ``lang`` (read by the entry point) is known everywhere.
    ``ignored`` names every other parameter, and a ``lang`` that is not a language, for the notice.
    """
    raw = {k: str(v[-1] if isinstance(v, (list, tuple)) and v else v) for k, v in dict(params).items()}
    ignored = [shown(k) for k in raw if k not in {*known, "lang"}]
    if "lang" in raw and raw["lang"] not in LANGS:
        ignored.append(f"lang={shown(raw['lang'])}")
    return {k: v for k, v in raw.items() if k in known}, ignored


def as_dict(state: ExplorerState) -> dict:
    return asdict(state)
