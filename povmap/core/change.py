"""Change between two rounds: the same view computed on two datasets of one kind, area by area.

Round A is the earlier dataset (by year, then import time), round B the later one. Each round's figures are
exactly what the explorer shows for it (:meth:`Engine.compute`), so A + change = B for every area, and each
round keeps its own reconciliation. Household figures are each round's protected figures; an area hidden for
privacy in either round has no change shown. Transitions between tiers are :mod:`povmap.core.transitions`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from povmap.core.caches import Cache
from povmap.core.engine import Engine, Query, QueryError, Result
from povmap.core.transitions import Transitions

_TRANSITIONS = Cache("change.transitions", maxsize=2,
                     why="one transition table per earlier round compared with this engine's households (~20k cells)")


@dataclass(frozen=True)
class Definition:
    """What a dataset's figures mean, as far as it says: compared between rounds."""

    text: str  # "" when the dataset does not say

    @classmethod
    def of(cls, info) -> "Definition":
        return cls(str((getattr(info, "extra", None) or {}).get("definition", "")).strip())


@dataclass
class Change:
    """The view in both rounds. ``table``: one row per mapped area with ``value_a``, ``value_b``, ``change``
    (B − A), ``relative`` (% of A), ``count_a``, ``count_b`` and ``hidden`` (either round hides it)."""

    query: Query
    a: Result
    b: Result
    table: pd.DataFrame
    info_a: object
    info_b: object



def same_definition(info_a, info_b) -> bool | None:
    """True when both datasets state the same definition, False when they differ, None when one is silent."""
    da, db = Definition.of(info_a).text, Definition.of(info_b).text
    return None if not da or not db else da == db


def order(first, second) -> tuple:
    """The two ``(info, engine)`` pairs as (round A, round B): earlier year first, then earlier import."""
    def key(pair):
        info = pair[0]
        return (info.year or 0, info.created_at or "", info.id)

    return tuple(sorted((first, second), key=key))


def dataset_kind(query: Query) -> str:
    return "households" if query.dataset == "households" else "tpmap"


def info_of(engine: Engine, query: Query):
    return engine.data.households_info if query.dataset == "households" else engine.data.counts_info


def compare(a: Engine, b: Engine, query: Query) -> Change:
    """The query on round A's and round B's data (the same geography); raises :class:`QueryError` if the two
    engines read the same dataset."""
    ia, ib = info_of(a, query), info_of(b, query)
    if ia.id == ib.id:
        raise QueryError("error.change.same_dataset")
    ra, rb = a.compute(query), b.compute(query)
    ta, tb = ra.table.set_index("code"), rb.table.set_index("code")
    out = ta[["name_th", "name_en"]].copy()
    hidden = _hidden(ta) | _hidden(tb).reindex(ta.index, fill_value=False)
    out["value_a"] = ta["value"].astype("float64").where(~hidden)
    out["value_b"] = tb["value"].reindex(ta.index).astype("float64").where(~hidden)
    out["change"] = out["value_b"] - out["value_a"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["relative"] = np.where(out["value_a"] > 0, 100.0 * out["change"] / out["value_a"], np.nan)
    out["count_a"] = _counts(ta["count"]).where(~hidden)
    out["count_b"] = _counts(tb["count"].reindex(ta.index)).where(~hidden)
    out["hidden"] = hidden
    return Change(ra.query, ra, rb, out.reset_index(), ia, ib)


def _hidden(t: pd.DataFrame) -> pd.Series:
    return t["hidden"].astype(bool) if "hidden" in t else pd.Series(False, index=t.index)


def _counts(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce").astype("float64")


def movers(change: Change, n: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``n`` areas whose value fell most (improved: fewer poor) and rose most (worsened)."""
    t = change.table.dropna(subset=["change"])
    down = t[t["change"] < 0].sort_values(["change", "code"], ascending=[True, True]).head(n)
    up = t[t["change"] > 0].sort_values(["change", "code"], ascending=[False, True]).head(n)
    return down, up


def transitions(a: Engine, b: Engine) -> Transitions:
    """The protected transition table from round A's households to round B's (built once per pair)."""
    if a.data.households_info.id == b.data.households_info.id:
        raise QueryError("error.change.same_dataset")
    if a.privacy_k != b.privacy_k:
        raise QueryError("error.change.different_k")
    return _TRANSITIONS.get(b, a.data.version, lambda: Transitions.from_sums(b.data.transition_sums(a.data),
                                                                             b.privacy_k))
