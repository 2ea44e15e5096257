"""Spatial clusters of a rate on Queen contiguity: Local Moran (LISA) and Getis-Ord Gi*, as GeoDa presents them.

Build the national contiguity graph once per store (:func:`national_contiguity`), restrict it to the areas of a
view that have data (:func:`contiguity`, which links islands to their nearest area), then run
:func:`clusters`. Inference is esda's conditional permutation with a fixed seed, so a map is reproducible.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from libpysal.graph import Graph
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from povmap.core.errors import PovmapError

# Not imported with numba's cache on for every kernel (povmap.core.compiled.import_cached): esda's compute_chunk takes
# another kernel as an argument, and numba cannot cache that one (each process added a cache file, and saving its
# index could fail with "ReferenceError: underlying object has vanished" in the middle of a pilot computation).
# _cache_esda_kernels() below caches the kernels that can be.
import esda

# GeoDa's cluster-map colours (Explore/LisaMapNewView.cpp); Gi* High/Low reuse the HH/LL colours as GeoDa does.
GEODA_COLOURS: dict[str, tuple[int, int, int]] = {
    "HH": (255, 0, 0),
    "LL": (0, 0, 255),
    "LH": (150, 150, 255),
    "HL": (255, 150, 150),
    "ns": (240, 240, 240),
    "neighborless": (140, 140, 140),
    "hot": (255, 0, 0),
    "cold": (0, 0, 255),
}
LISA_CLASSES = ("HH", "LL", "LH", "HL", "ns")  # display order
GI_CLASSES = ("hot", "cold", "ns")
PERMUTATIONS = 999
SEED = 12345
# 1 job: on 2 cores esda's joblib path is slower (thread start-up, chunking) and compiles a second set of
# numba kernels (~50 s once per process); results do not depend on n_jobs (see bench/bench_spatial.py).
N_JOBS = 1
MIN_AREAS = 3
# Nearest-area search in metres: UTM 47N covers Thailand well enough to rank distances.
_METRIC_CRS = 32647
_PYSAL_QUADS = np.array(["", "HH", "LH", "LL", "HL"], dtype=object)  # esda's default coding: 1 HH, 2 LH, 3 LL, 4 HL


@dataclass(frozen=True, eq=False)
class Contiguity:
    """Binary Queen contiguity over ``codes`` (that order is the order of values), islands linked."""

    graph: Graph
    codes: pd.Index  # object dtype
    islands: tuple[str, ...]  # codes with no Queen neighbour in the set, linked to their nearest area
    components: int  # connected components after linking
    links: tuple[tuple[str, str, float], ...] = ()  # (island, nearest area, centroid distance in km)


@dataclass(frozen=True, eq=False)
class Clusters:
    """LISA and Gi* results per area (``table``, indexed by code in ``Contiguity.codes`` order) and their settings."""

    table: pd.DataFrame  # value, lisa_I, lisa_q, lisa_p, lisa_class, gi_z, gi_p, gi_class, island
    # (gi_z is NaN, class "ns", for an area whose Gi* neighbourhood is every area: no variance to test)
    permutations: int
    seed: int
    alpha: float
    fdr: bool
    threshold: float  # p cut used for LISA: alpha, or esda.fdr of the LISA p-values
    gi_threshold: float  # p cut used for Gi*: alpha, or esda.fdr of the Gi* p-values
    moran_I: float  # global Moran's I, row-standardised weights
    moran_p: float  # its pseudo p (same permutations and seed)

    def counts(self, kind: str = "lisa") -> pd.Series:
        """Areas per class in display order (the legend's counts); ``kind`` is "lisa" or "gi"."""
        col, classes = ("lisa_class", LISA_CLASSES) if kind == "lisa" else ("gi_class", GI_CLASSES)
        return self.table[col].value_counts().reindex(list(classes), fill_value=0)


def _by_code(shapes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Accept the store's frame (``code`` column) or one already indexed by code."""
    return shapes.set_index("code") if "code" in shapes.columns else shapes


def national_contiguity(shapes: gpd.GeoDataFrame) -> Graph:
    """Queen contiguity of all polygons of a level (code-indexed); build once per store and reuse."""
    geo = _by_code(shapes)
    geo = gpd.GeoDataFrame(geometry=geo.geometry.values, index=pd.Index(geo.index.astype(str), dtype=object))
    return Graph.build_contiguity(geo, rook=False)


def _too_few(n: int) -> PovmapError:
    return PovmapError("error.spatial.too_few", n=n, min=MIN_AREAS)


def _examples(codes) -> str:
    codes = list(codes)
    return ", ".join(map(str, codes[:5])) + (" …" if len(codes) > 5 else "")


def contiguity(national: Graph, shapes: gpd.GeoDataFrame, codes) -> Contiguity:
    """Queen contiguity restricted to ``codes`` (the scope's areas with data), taken from the national graph.

    Each island (no neighbour within the subset) is linked to its nearest area by centroid distance (k=1,
    symmetrised), so every unit takes part; the islands and their links are reported. Codes keep the
    national order, so the same set of areas always gives the same permutations.
    """
    # Work on the national sparse matrix by position: pandas' string-dtype isin (used by Graph.subgraph)
    # is ~100x slower than these object/NumPy operations.
    ids = pd.Index(national.unique_ids.to_numpy(dtype=object), dtype=object, name="code")
    wanted = pd.Index(pd.Index(codes).astype(str).to_numpy(dtype=object), dtype=object).unique()
    missing = wanted.difference(ids)
    if len(missing):
        raise PovmapError("error.spatial.no_polygon", count=len(missing), examples=_examples(missing))
    pos = np.flatnonzero(ids.isin(wanted))
    if len(pos) < MIN_AREAS:
        raise _too_few(len(pos))
    ordered = ids[pos]
    adj = sparse.csr_array(national.sparse[pos][:, pos])  # the induced subgraph; rows follow `ordered`
    adj.eliminate_zeros()
    lonely = np.flatnonzero(np.diff(adj.indptr) == 0)
    links: tuple[tuple[str, str, float], ...] = ()
    if len(lonely):
        xy = _centroids_m(_by_code(shapes), ordered)
        dist, hit = cKDTree(xy).query(xy[lonely], k=2)
        # Hit 0 is the island itself, unless another centroid coincides with it: then that one is nearest.
        other = hit[:, 0] == lonely
        nearest = np.where(other, hit[:, 1], hit[:, 0])
        km = np.where(other, dist[:, 1], dist[:, 0]) / 1000.0
        rows, cols = np.r_[lonely, nearest], np.r_[nearest, lonely]
        adj = adj + sparse.csr_array((np.ones(len(rows)), (rows, cols)), shape=adj.shape)
        adj.data[:] = 1.0  # two islands nearest to each other add the same pair twice
        links = tuple(zip(ordered[lonely], ordered[nearest], np.round(km, 1).tolist()))
    graph = Graph.from_sparse(adj, ids=ordered)
    return Contiguity(graph, ordered, tuple(ordered[lonely]), int(connected_components(adj)[0]), links)


def _centroids_m(geo: gpd.GeoDataFrame, codes: pd.Index) -> np.ndarray:
    """Centroids in metres. Taken in lon/lat then projected: metres off the true centroid, enough to rank."""
    c = shapely.centroid(geo.geometry.reindex(codes).values)
    x, y = pyproj.Transformer.from_crs(4326, _METRIC_CRS, always_xy=True).transform(
        shapely.get_x(c), shapely.get_y(c))
    return np.column_stack([x, y])


def _aligned(values: pd.Series, cont: Contiguity) -> np.ndarray:
    """The values as floats in ``cont.codes`` order; PovmapError unless they cover exactly those codes."""
    if not isinstance(values, pd.Series):
        raise PovmapError("error.spatial.not_series")
    idx = pd.Index(values.index.astype(str), dtype=object)
    if idx.has_duplicates:
        dup = idx[idx.duplicated()].unique()
        raise PovmapError("error.spatial.duplicates", examples=_examples(dup))
    extra, lacking = idx.difference(cont.codes), cont.codes.difference(idx)
    if len(extra) or len(lacking):
        raise PovmapError("error.spatial.mismatch", lacking=len(lacking), lacking_examples=_examples(lacking) or "–",
                          extra=len(extra), extra_examples=_examples(extra) or "–")
    try:
        y = pd.Series(values.to_numpy(), index=idx).reindex(cont.codes).to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise PovmapError("error.spatial.not_numbers", exc=exc) from exc
    bad = cont.codes[~np.isfinite(y)]
    if len(bad):
        raise PovmapError("error.spatial.nan", count=len(bad), examples=_examples(bad))
    if len(y) < MIN_AREAS:
        raise _too_few(len(y))
    if np.ptp(y) == 0:
        raise PovmapError("error.spatial.constant")
    return y


def _exact_p(p: np.ndarray, permutations: int) -> np.ndarray:
    """Pseudo p as an exact float64 (k+1)/(permutations+1).

    esda's crand returns float32, so its smallest p (0.001 at 999 permutations) is 0.0010000000475 and would
    fail ``p <= 0.001``; Moran_Local recomputes p in float64 but G_Local does not.
    """
    return np.rint(np.asarray(p, dtype=float) * (permutations + 1)) / (permutations + 1)


def _seeded_moran(y: np.ndarray, graph: Graph, permutations: int, seed: int) -> esda.Moran:
    # esda.Moran permutes with NumPy's global generator and takes no seed: seed it, then put it back.
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        return esda.Moran(y, graph, transformation="r", permutations=permutations)
    finally:
        np.random.set_state(state)


def clusters(values: pd.Series, cont: Contiguity, *, permutations: int = PERMUTATIONS, seed: int = SEED,
             alpha: float = 0.05, fdr: bool = False, n_jobs: int = N_JOBS) -> Clusters:
    """LISA (esda.Moran_Local, row-standardised, PySAL quadrant coding) and Gi* (esda.G_Local, transform="B",
    star=True) with the same permutations and seed; a unit is significant when its pseudo p <= the threshold
    (alpha, or with ``fdr`` the Benjamini-Hochberg cut of esda.fdr, computed for LISA and Gi* separately)."""
    if not 0 < alpha < 1:
        raise PovmapError("error.spatial.alpha", value=alpha)
    if int(permutations) != permutations or permutations < 1:
        raise PovmapError("error.spatial.permutations", value=permutations)
    permutations, seed = int(permutations), int(seed)
    y = _aligned(values, cont)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        # esda warns on every call that the default alternative will change; we use (and document) the
        # current "directed" pseudo p, which is GeoDa's. Gi* z is 0/0 for an area touching all others.
        warnings.filterwarnings("ignore", message="The alternative hypothesis", category=DeprecationWarning)
        lisa = esda.Moran_Local(y, cont.graph, transformation="r", permutations=permutations, seed=seed,
                                n_jobs=n_jobs, keep_simulations=False)
        gi = esda.G_Local(y, cont.graph, transform="B", star=True, permutations=permutations, seed=seed,
                          n_jobs=n_jobs, keep_simulations=False)
        moran = _seeded_moran(y, cont.graph, permutations, seed)  # its analytic variance is 0/0 below 4 areas

    lisa_p, gi_p = _exact_p(lisa.p_sim, permutations), _exact_p(gi.p_sim, permutations)
    cut = float(esda.fdr(lisa_p, alpha)) if fdr else float(alpha)
    gi_cut = float(esda.fdr(gi_p, alpha)) if fdr else float(alpha)
    quad = _PYSAL_QUADS[lisa.q]
    gi_sig = gi_p <= gi_cut
    table = pd.DataFrame({
        "value": y,
        "lisa_I": lisa.Is,
        "lisa_q": quad,
        "lisa_p": lisa_p,
        "lisa_class": np.where(lisa_p <= cut, quad, "ns"),
        "gi_z": gi.Zs,
        "gi_p": gi_p,
        "gi_class": np.where(gi_sig & (gi.Zs > 0), "hot", np.where(gi_sig & (gi.Zs < 0), "cold", "ns")),
        "island": cont.codes.isin(cont.islands),
    }, index=cont.codes)
    return Clusters(table, permutations, seed, float(alpha), bool(fdr), cut, gi_cut,
                    float(moran.I), float(moran.p_sim))


# esda's numba kernels that :func:`_cache_esda_kernels` caches on disk: private names, checked at import.
ESDA_KERNELS: tuple[tuple[str, str], ...] = (
    ("crand", "vec_permutations"),
    ("crand", "_prepare_univariate"),
    ("significance", "_permutation_significance"),
    ("moran", "_moran_local_crand"),
    ("getisord", "_g_local_star_crand"),
)


class EsdaKernelWarning(RuntimeWarning):
    """esda's permutation kernels could not be cached: results are the same, a new process starts slower."""


def _cache_esda_kernels() -> list[str]:
    """Let numba keep esda's permutation kernels on disk, so a new process does not recompile them.

    esda's kernels are plain ``njit`` (no ``cache=True``): the first LISA in a process spends ~45-60 s in
    numba compilation. With these cached it is ~10-15 s. ``crand.compute_chunk`` stays uncached on
    purpose: it takes the statistic as a function argument, which numba cannot look up in its cache, so
    caching it only adds a new ~650 kB file per process.

    The kernels are esda internals (:data:`ESDA_KERNELS`). Returns the problems found (a missing module or
    function, a function that is not a numba dispatcher, a cache numba refused), each also issued as an
    :class:`EsdaKernelWarning` naming the esda version; an empty list means every kernel is cached.
    """
    import importlib

    problems: list[str] = []
    for module_name, attr in ESDA_KERNELS:
        where = f"esda.{module_name}.{attr}"
        try:
            module = importlib.import_module(f"esda.{module_name}")
        except ImportError as exc:
            problems.append(f"{where}: module missing ({exc})")
            continue
        f = getattr(module, attr, None)
        if f is None:
            problems.append(f"{where}: no such function")
        elif not hasattr(f, "enable_caching"):
            problems.append(f"{where}: not a numba dispatcher (is numba installed?)")
        else:
            try:
                f.enable_caching()
            except RuntimeError as exc:  # numba: no writable cache location
                problems.append(f"{where}: numba cannot cache it ({exc})")
    for problem in problems:
        warnings.warn(f"esda {getattr(esda, '__version__', '?')}: {problem}; LISA and Gi* stay correct but each new "
                      "process recompiles esda's kernels (~45-60 s before the first cluster map)",
                      EsdaKernelWarning, stacklevel=2)
    return problems


_cache_esda_kernels()


def warm_up() -> None:
    """Compile esda's numba kernels on a toy problem, so the first real map is fast.

    Costs what the first :func:`clusters` call would (10-60 s, once per process; bench/bench_spatial.py).
    """
    ids = pd.Index([f"w{i}" for i in range(6)], dtype=object)
    ring = [(ids[i], ids[(i + d) % 6]) for i in range(6) for d in (1, 5)]
    graph = Graph.from_arrays([a for a, _ in ring], [b for _, b in ring], np.ones(len(ring)))
    cont = Contiguity(graph, ids, (), 1)
    clusters(pd.Series(np.arange(6.0), index=ids), cont, permutations=9)
