"""Pilot areas: from a frame and the user's settings to a ranked, defensible shortlist.

This package holds the feature's parts — the criteria of a frame (``criteria``), LISA and Gi* clusters
(``spatial``), normalisation and the composite score (``scoring``), weight perturbation (``sensitivity``) — and,
here, the run that ties them together. May import :mod:`povmap.core` and :mod:`povmap.userdb`.

Frame-dependent work (criteria, contiguity, clusters) is cached on the engine per frame, in bounded caches, so a
weight change only re-normalises, re-scores and re-ranks. The method is spelled out by :func:`method_lines`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd

from povmap.core.caches import Cache
from povmap.core.engine import Engine
from povmap.core.errors import PovmapError
from povmap.core.i18n import t
from povmap.core.vocab import CRITERION_BY_KEY, CRITERION_KEYS
from povmap.pilot import scoring, sensitivity, spatial
from povmap.pilot.criteria import DATASET_CRITERIA, PILOT_LEVELS, Frame, FrameData, frame_data
from povmap.userdb import areamanagers

ALPHAS = (0.05, 0.01, 0.001)
PERMUTATIONS = 999
SEED = 2566
# Poverty first (issue 15): the poverty criteria carry over four fifths of the default weight; an Area Manager's presence and
# data readiness only break near-ties (with the PPAOS-20 subdistrict frame, every area they bring into the top 20
# is within the top 50 on poverty alone; see tests/test_pilot_defaults.py). "share" ranks like "count" within a
# scope, so it starts at 0 to count the poor once.
DEFAULT_WEIGHTS = {"count": 1.0, "rate": 1.0, "share": 0.0, "lisa": 0.5, "gistar": 0.5, "depth": 1.0,
                   "tier1": 1.0, "trend": 0.5, "coverage": 0.5, "readiness": 0.25}
DEFAULT_ENABLED = tuple(k for k in CRITERION_KEYS if DEFAULT_WEIGHTS[k] > 0)


@dataclass(frozen=True)
class Settings:
    """Everything the user chose besides the frame; saved with a scenario so it reopens exactly."""

    weights: tuple[tuple[str, float], ...] = tuple(DEFAULT_WEIGHTS.items())
    enabled: tuple[str, ...] = DEFAULT_ENABLED
    normalisation: str = "percentile"
    require_coverage: bool = False  # gate: only areas an Area Manager already works in
    min_count: int = 0  # gate: at least this many poor
    top_n: int = 20
    per_district_k: int | None = None  # subdistrict level: best k of each district instead of a national top N
    alpha: float = 0.05
    fdr: bool = False
    permutations: int = PERMUTATIONS
    seed: int = SEED

    def effective_weights(self, available) -> dict[str, float]:
        """Weights of the enabled criteria the frame offers (unvalidated)."""
        on = set(self.enabled) & set(available)
        return {k: float(w) for k, w in self.weights if k in on}

    def as_dict(self) -> dict:
        d = asdict(self)
        d["weights"] = dict(self.weights)
        d["enabled"] = list(self.enabled)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Settings":
        d = dict(d)
        d["weights"] = tuple((k, float(v)) for k, v in d.get("weights", DEFAULT_WEIGHTS).items())
        d["enabled"] = tuple(d.get("enabled", CRITERION_KEYS))
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})


DEFAULTS = Settings()  # what the page and ``povmap pilot`` start from
DEFAULT_FRAME = Frame()
# Household frames start on tiers 1-2 (อยู่ลำบาก, อยู่ยาก): the households the programmes help first.
DEFAULT_HOUSEHOLD_TIERS = (1, 2)


def default_tiers(dataset: str) -> tuple[int, ...]:
    """The tiers a new frame of ``dataset`` starts with (TPMAP counts have no tiers: all of them)."""
    return DEFAULT_HOUSEHOLD_TIERS if dataset == "households" else DEFAULT_FRAME.tiers


NOTE_KINDS = ("no_clusters", "constant")  # clustering failed for the frame; criteria left out of a run


@dataclass(frozen=True)
class Note:
    """Something the user must know about a frame or a run, rendered in the language where it is shown."""

    kind: str  # one of NOTE_KINDS: the catalogue's pilot.note.<kind>
    error: PovmapError | None = None  # shown as {reason}
    criteria: tuple[str, ...] = ()  # shown as {criteria}

    def message(self, lang: str) -> str:
        params = {}
        if self.error is not None:
            params["reason"] = self.error.message(lang)
        if self.criteria:
            params["criteria"] = ", ".join(CRITERION_BY_KEY[c].label(lang) for c in self.criteria)
        return t(f"pilot.note.{self.kind}", lang, **params)


@dataclass
class PilotResult:
    criteria: "CriteriaSet"
    settings: Settings
    norm: pd.DataFrame  # the weighted criteria normalised to 0..1
    weights: dict[str, float]  # validated, positive
    ranked: pd.DataFrame  # index code: names, district, score, rank, group_rank, shortlisted, eligible, gate, values
    stability: "sensitivity.Stability | None"
    # Enabled criteria left out of the score because every rankable area has the same value (no information:
    # e.g. Area Manager coverage with no Area Manager entered); kept in the settings, so a scenario reopens as saved.
    constant: tuple[str, ...] = ()

    @property
    def notes(self) -> list[Note]:
        """The frame's notes, then the run's."""
        extra = [Note("constant", criteria=self.constant)] if self.constant else []
        return [*self.criteria.notes, *extra]

    @property
    def frame(self) -> Frame:
        return self.criteria.frame

    @property
    def values(self) -> pd.DataFrame:
        return self.criteria.values

    @property
    def shortlist(self) -> pd.DataFrame:
        return self.ranked[self.ranked["shortlisted"]]


def available_criteria(frame: Frame) -> tuple[str, ...]:
    """The criteria a frame offers: its dataset's, and the trend only with another round."""
    return tuple(c for c in DATASET_CRITERIA[frame.dataset] if c != "trend" or frame.vs)


# Frame-dependent work, per engine and data version (see povmap.core.caches). A frame's data is a table of its areas
# (≤ 1 MB for all ~7,000 subdistricts); clusters hold a contiguity graph and 999-permutation results of the frame
# (measured 5-10 MB for a subdistrict frame, 0.2 MB for districts). Sessions work on a handful of frames each;
# these bounds keep the frames of a busy server's sessions (worst case ~32 + ~160 MB).
_FRAMES = Cache("pilot.frame", maxsize=32, why="criteria of the frames in use: a few per session, ≤ 1 MB each")
_CLUSTERS = Cache("pilot.clusters", maxsize=16,
                  why="LISA/Gi* of the frames in use per inference setting: seconds to compute, ≤ 10 MB each")
_GRAPHS = Cache("pilot.graph", maxsize=len(PILOT_LEVELS),
                why="the national queen contiguity of each pilot level (district, subdistrict), built once")
_SHAPES = Cache("pilot.shapes", maxsize=len(PILOT_LEVELS), why="the shapes of each pilot level, indexed by code")


def cached_frame_data(engine: Engine, frame: Frame) -> FrameData:
    frame = replace(frame.normalised(), vs=None)  # one round's data: the other round does not change it
    return _FRAMES.get(engine, frame, lambda: frame_data(engine, frame))


def national_graph(engine: Engine, level: str):
    return _GRAPHS.get(engine, level, lambda: spatial.national_contiguity(engine.data.shapes(level).set_index("code")))


def _shapes(engine: Engine, level: str):
    return _SHAPES.get(engine, level, lambda: engine.data.shapes(level).set_index("code"))


def cached_clusters(engine: Engine, frame: Frame, settings: Settings):
    """(contiguity, clusters, error) of the frame's rate; cached per frame and inference settings."""
    frame = replace(frame.normalised(), vs=None)
    key = (frame, settings.alpha, settings.fdr, settings.permutations, settings.seed)

    def compute():
        rate = cached_frame_data(engine, frame).areas["rate"].dropna()
        try:
            cont = spatial.contiguity(national_graph(engine, frame.level), _shapes(engine, frame.level), rate.index)
            cl = spatial.clusters(rate, cont, permutations=settings.permutations, seed=settings.seed,
                                  alpha=settings.alpha, fdr=settings.fdr)
            return (cont, cl, None)
        except PovmapError as exc:
            return (None, None, exc)

    return _CLUSTERS.get(engine, key, compute)


@dataclass
class CriteriaSet:
    """The raw criterion values of a frame (weights do not change them) and the clustering behind two of them."""

    frame: Frame
    data: FrameData
    values: pd.DataFrame  # index code: every available criterion's raw value
    contiguity: "spatial.Contiguity | None"
    clusters: "spatial.Clusters | None"
    notes: list[Note] = field(default_factory=list)


def criteria_set(engine: Engine, frame: Frame, settings: Settings, coverage: pd.DataFrame,
                 other: Engine | None = None) -> CriteriaSet:
    """Raw criterion values per rankable area, with the clustering objects. ``other``: the engine of the frame's
    other round (``frame.vs``), needed for the trend."""
    frame = frame.normalised()
    if frame.vs and other is None:
        raise PovmapError("error.pilot.no_round", id=frame.vs)
    data = cached_frame_data(engine, frame)
    cont, cl, err = cached_clusters(engine, frame, settings)
    values = data.areas[[c for c in ("count", "rate", "share", "depth", "tier1", "readiness") if c in data.areas]].copy()
    if cl is not None:
        t = cl.table.reindex(values.index)
        values["lisa"] = np.where(t["lisa_class"].isna(), np.nan, (t["lisa_class"] == "HH").astype("float64"))
        values["gistar"] = np.where(t["gi_class"].isna(), np.nan, (t["gi_class"] == "hot").astype("float64"))
    if frame.vs:
        values["trend"] = _trend(engine, other, frame).reindex(values.index)
    values["coverage"] = areamanagers.covered(coverage, values.index).astype("float64").to_numpy()
    values = values[[c for c in available_criteria(frame) if c in values.columns]]
    notes = []
    if err is not None:
        notes.append(Note("no_clusters", error=err))
    return CriteriaSet(frame, data, values, cont, cl, notes)


def _trend(engine: Engine, other: Engine, frame: Frame) -> pd.Series:
    """The rate in the later round minus the earlier one's, per area (rounds ordered as in the change view)."""
    from povmap.core import change

    q = frame.query("rate")
    (_, a), (_, b) = change.order((change.info_of(engine, q), engine), (change.info_of(other, q), other))
    if change.info_of(a, q).id == change.info_of(b, q).id:
        raise PovmapError("error.change.same_dataset")
    rates = [cached_frame_data(e, replace(frame, vs=None)).areas["rate"] for e in (a, b)]
    return (rates[1] - rates[0]).rename("trend")


def constant_criteria(values: pd.DataFrame) -> tuple[str, ...]:
    """Criteria with one value (or none) over all rankable areas: they cannot tell areas apart."""
    return tuple(k for k in values.columns if values[k].nunique(dropna=True) <= 1)


def run(crit: CriteriaSet, settings: Settings, *, with_stability: bool = True) -> PilotResult:
    """Score, gate, rank and (optionally) stress-test the shortlist of one frame."""
    frame, data, values = crit.frame, crit.data, crit.values
    if frame.level != "subdistrict" and settings.per_district_k:
        settings = replace(settings, per_district_k=None)
    wanted = settings.effective_weights(values.columns)
    constant = tuple(k for k in constant_criteria(values) if wanted.get(k, 0) > 0)
    if constant and len(constant) == sum(1 for w in wanted.values() if w > 0):
        raise scoring.ScoreError("error.score.all_constant")
    weights = scoring.check_weights({k: w for k, w in wanted.items() if k not in constant}, list(values.columns))
    norm = scoring.normalise(values[list(weights)], settings.normalisation)
    scores = scoring.composite(norm, weights)
    eligible, gate = _gates(values, settings)
    groups = data.areas["district"] if settings.per_district_k else None
    rule = scoring.Rule(top_n=settings.top_n, per_group_k=settings.per_district_k)
    ranked = scoring.rank(scores, eligible=eligible, groups=groups, rule=rule)
    ranked = data.areas[["name_th", "name_en", "district", "province"]].join(ranked, how="right")
    ranked["eligible"] = eligible.reindex(ranked.index).to_numpy()
    ranked["gate"] = gate.reindex(ranked.index).to_numpy()
    ranked = ranked.join(values)
    if crit.clusters is not None:
        ranked = ranked.join(crit.clusters.table[["lisa_class", "gi_class"]])
    stab = None
    if with_stability and ranked["shortlisted"].any():
        stab = sensitivity.stability(norm, weights, eligible=eligible, groups=groups, rule=rule, seed=settings.seed)
        ranked = ranked.join(stab.table[["stay_share", "depends_on", "fragile"]])
    return PilotResult(crit, settings, norm, weights, ranked, stab, constant)


def _gates(values: pd.DataFrame, settings: Settings) -> tuple[pd.Series, pd.Series]:
    """Eligibility per area and, for the excluded, the first gate that excluded it."""
    gate = pd.Series("", index=values.index, dtype=object)
    if settings.min_count > 0:
        gate[(values["count"] < settings.min_count).to_numpy() & (gate == "")] = "min_count"
    if settings.require_coverage:
        gate[(values["coverage"] < 1).to_numpy() & (gate == "")] = "not_covered"
    return gate == "", gate


def shortlist_table(result: PilotResult) -> pd.DataFrame:
    """The shortlist as saved and exported: plain columns, codes as text, sorted by rank."""
    cols = ["rank", "group_rank", "name_th", "name_en", "district", "province", "score", *CRITERION_KEYS, "lisa_class", "gi_class",
            "stay_share", "depends_on", "fragile"]
    s = result.shortlist
    out = s[[c for c in cols if c in s.columns]].reset_index()
    if "depends_on" in out:  # plain types, so a saved scenario reads back identical
        out["depends_on"] = out["depends_on"].fillna("").astype(str)
        out["fragile"] = out["fragile"].astype(bool)
    if not result.settings.per_district_k:
        out = out.drop(columns=["group_rank"], errors="ignore")
    return out
