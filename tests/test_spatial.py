"""Spatial clusters: Queen contiguity with islands linked, LISA and Gi* equal to direct esda calls."""
from __future__ import annotations

import esda
import numpy as np
import pandas as pd
import pytest
from scipy.sparse.csgraph import connected_components

from povmap.core.engine import Query
from povmap.core.errors import PovmapError
from povmap.pilot import spatial

KALASIN = "46"
SEED = 2566
LABELS = {"High-High": "HH", "Low-High": "LH", "Low-Low": "LL", "High-Low": "HL", "Insignificant": "ns"}
QUADS = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}  # esda's PySAL coding
# Direct esda calls below warn that their default alternative will change; povmap's own calls do not.
pytestmark = pytest.mark.filterwarnings("ignore:The alternative hypothesis:DeprecationWarning")


@pytest.fixture(scope="module")
def shapes(store):
    return store.shapes("subdistrict")


@pytest.fixture(scope="module")
def national(shapes):
    return spatial.national_contiguity(shapes)


@pytest.fixture(scope="module")
def everywhere(national, shapes):
    return spatial.contiguity(national, shapes, shapes["code"])


@pytest.fixture(scope="module")
def rate(engine):
    t = engine.compute(Query(level="subdistrict", scope=KALASIN, metric="rate")).table
    return t.set_index("code")["value"].dropna()


@pytest.fixture(scope="module")
def cont(national, shapes, rate):
    return spatial.contiguity(national, shapes, rate.index)


@pytest.fixture(scope="module")
def result(rate, cont):
    return spatial.clusters(rate, cont, seed=SEED)


def edges(graph) -> set[tuple[str, str]]:
    adj = graph.adjacency
    return set(adj[adj != 0].index)


def neighbours(graph, code) -> set[str]:
    adj = graph.adjacency
    adj = adj[adj != 0]
    return set(adj.loc[code].index)


# --- contiguity -------------------------------------------------------------------------------------------

def test_national_graph_is_queen_with_known_islands(national, shapes):
    assert national.n == len(shapes) and list(national.unique_ids) == list(shapes["code"])
    assert {"840503", "200801"} <= set(national.isolates)
    assert len(national.isolates) == 11 and national.n_components == 18


def test_islands_linked_to_nearest_area(everywhere, national, shapes):
    cont = everywhere
    assert set(cont.islands) == set(national.isolates)
    assert {"840503", "200801"} <= set(cont.islands)
    assert len(cont.graph.isolates) == 0
    # Nearest area by centroid, computed independently from projected polygons.
    geo = shapes.set_index("code")
    cen = geo.geometry.to_crs(32647).centroid
    links = {i: (nn, km) for i, nn, km in cont.links}
    assert set(links) == set(cont.islands)
    for island in cont.islands:
        d = cen.distance(cen[island]).drop(island)
        assert links[island][0] == d.idxmin()
        assert links[island][1] == pytest.approx(d.min() / 1000, abs=0.1)
    # An island's neighbours: its own nearest area plus any island that picked it (Ko Chang's pair).
    for island, (nn, _) in links.items():
        assert neighbours(cont.graph, island) == {nn} | {j for j, (n, _) in links.items() if n == island}
    for island in ("840503", "200801"):
        assert neighbours(cont.graph, island) == {links[island][0]}
    # Linking only adds the island pairs, both ways; the contiguity itself is unchanged.
    added = {(i, nn) for i, (nn, _) in links.items()} | {(nn, i) for i, (nn, _) in links.items()}
    assert edges(cont.graph) == edges(national) | added
    assert cont.components == connected_components(cont.graph.sparse)[0] == cont.graph.n_components
    assert cont.components == 8  # 18 − 11 isolates + 1 (Ko Chang's two subdistricts link to each other)


def test_subset_is_induced_subgraph_in_national_order(cont, national, rate):
    assert cont.codes.dtype == object and cont.codes.name == "code"
    with_data = set(rate.index)
    assert set(cont.codes) == with_data
    assert list(cont.codes) == [c for c in national.unique_ids if c in with_data]
    assert list(cont.graph.unique_ids) == list(cont.codes)
    links = {(i, nn) for i, nn, _ in cont.links} | {(nn, i) for i, nn, _ in cont.links}
    codes = set(cont.codes)
    inner = {(a, b) for a, b in edges(national) if a in codes and b in codes}
    assert edges(cont.graph) == inner | links
    assert list(cont.islands) == [c for c in cont.codes if c not in {a for a, _ in inner}]
    # The sparse matrix esda uses follows the same order: its lag equals the sum over listed neighbours.
    y = rate.reindex(cont.codes)
    adj = cont.graph.adjacency
    by_list = y.reindex(adj.index.get_level_values("neighbor")).to_numpy() * adj.to_numpy()
    expect = pd.Series(by_list).groupby(adj.index.get_level_values("focal").to_numpy()).sum().reindex(cont.codes)
    np.testing.assert_allclose(cont.graph.sparse @ y.to_numpy(), expect.to_numpy())
    assert set(np.unique(cont.graph.sparse.data)) == {1.0}


def test_unknown_code_is_refused(national, shapes):
    with pytest.raises(PovmapError) as exc:
        spatial.contiguity(national, shapes, ["460102", "460103", "999999"])
    assert "999999" in exc.value.en and "999999" in exc.value.th


# --- clusters ---------------------------------------------------------------------------------------------

def test_equal_to_direct_esda_calls(result, rate, cont):
    y = rate.reindex(cont.codes).to_numpy()
    lm = esda.Moran_Local(y, cont.graph, transformation="r", permutations=999, seed=SEED)
    gl = esda.G_Local(y, cont.graph, transform="B", star=True, permutations=999, seed=SEED, n_jobs=1)
    gm = esda.Moran(y, cont.graph.transform("r"))
    t = result.table
    assert list(t.index) == list(cont.codes)
    np.testing.assert_array_equal(t["value"], y)
    np.testing.assert_array_equal(t["lisa_I"], lm.Is)
    assert list(t["lisa_q"]) == [QUADS[q] for q in lm.q]
    np.testing.assert_array_equal(t["lisa_p"], lm.p_sim)  # esda's own float64 p (keep_simulations=True)
    np.testing.assert_array_equal(t["gi_z"], gl.Zs)
    # G_Local's p is float32; ours is the same count of extremes as an exact float64.
    np.testing.assert_array_equal(np.rint(t["gi_p"] * 1000), np.rint(gl.p_sim.astype(float) * 1000))
    np.testing.assert_allclose(t["gi_p"], gl.p_sim, rtol=1e-6)
    assert result.moran_I == pytest.approx(gm.I, rel=1e-12)
    assert 0 < result.moran_p <= 1 and result.moran_I > 0  # poverty clusters
    assert t["island"].tolist() == [c in cont.islands for c in cont.codes]


def test_classes_derived_from_p_and_sign(result, rate, cont):
    t = result.table
    y = rate.reindex(cont.codes).to_numpy()
    lm = esda.Moran_Local(y, cont.graph, transformation="r", permutations=999, seed=SEED)
    # esda labels with p < crit; we use p <= alpha (GeoDa), i.e. esda's rule just above alpha.
    assert list(t["lisa_class"]) == [LABELS[x] for x in lm.get_cluster_labels(np.nextafter(0.05, 1))]
    sig = t["gi_p"] <= 0.05
    expect = np.where(sig & (t["gi_z"] > 0), "hot", np.where(sig & (t["gi_z"] < 0), "cold", "ns"))
    assert list(t["gi_class"]) == list(expect)
    assert set(t["lisa_class"]) <= set(spatial.LISA_CLASSES) and set(t["gi_class"]) <= set(spatial.GI_CLASSES)
    assert (t["lisa_class"] != "ns").any() and (t["gi_class"] == "hot").any()
    assert result.counts().index.tolist() == list(spatial.LISA_CLASSES)
    assert result.counts().sum() == len(t) and result.counts("gi").sum() == len(t)


def test_alpha_is_monotonic_and_exact_at_the_smallest_p(rate, cont):
    sig = {}
    for alpha in (0.05, 0.01, 0.001):
        r = spatial.clusters(rate, cont, seed=SEED, alpha=alpha)
        assert r.threshold == r.gi_threshold == alpha
        sig[alpha] = (r.table["lisa_class"] != "ns", r.table["gi_class"] != "ns", r.table)
    for lo, hi in ((0.01, 0.05), (0.001, 0.01)):
        for k in (0, 1):
            assert not (sig[lo][k] & ~sig[hi][k]).any()  # significant at the stricter level ⇒ at the looser
            assert sig[lo][k].sum() <= sig[hi][k].sum()
    assert sig[0.01][0].sum() < sig[0.05][0].sum()
    # p = 1/(999+1) is significant at 0.001 (a float32 p of 0.0010000000475 would not be).
    t = sig[0.001][2]
    smallest = (t["lisa_p"] == 0.001) | (t["gi_p"] == 0.001)
    assert smallest.any()
    assert ((t["lisa_class"] != "ns") == (t["lisa_p"] == 0.001)).all()
    assert ((t["gi_class"] != "ns") == (t["gi_p"] == 0.001)).all()


def test_fdr_thresholds(rate, cont, result):
    r = spatial.clusters(rate, cont, seed=SEED, fdr=True)
    assert r.fdr and r.alpha == 0.05
    assert r.threshold == esda.fdr(r.table["lisa_p"].to_numpy(), 0.05) <= 0.05
    assert r.gi_threshold == esda.fdr(r.table["gi_p"].to_numpy(), 0.05) <= 0.05
    assert not ((r.table["lisa_class"] != "ns") & (result.table["lisa_class"] == "ns")).any()
    assert not ((r.table["gi_class"] != "ns") & (result.table["gi_class"] == "ns")).any()
    assert (r.table["lisa_class"] != "ns").sum() == (r.table["lisa_p"] <= r.threshold).sum()


def test_reproducible_and_independent_of_input_order(result, rate, cont):
    again = spatial.clusters(rate.sample(frac=1, random_state=1), cont, seed=SEED)
    pd.testing.assert_frame_equal(again.table, result.table)
    assert (again.moran_I, again.moran_p) == (result.moran_I, result.moran_p)
    state = np.random.get_state()[1].copy()
    other = spatial.clusters(rate, cont, seed=SEED + 1)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # the global generator is left alone
    np.testing.assert_array_equal(other.table["lisa_I"], result.table["lisa_I"])
    assert not np.array_equal(other.table["lisa_p"], result.table["lisa_p"])
    assert (result.permutations, result.seed, result.alpha, result.fdr) == (999, SEED, 0.05, False)


def test_islands_in_a_subset_take_part(rate, cont, result):
    # Kalasin's subdistricts next to areas without data still get a neighbour and a proper p.
    assert len(cont.graph.isolates) == 0
    assert result.table.loc[list(cont.islands), "island"].all()
    assert result.table["lisa_p"].gt(0).all() and result.table["gi_p"].gt(0).all()


@pytest.mark.parametrize("change, needle", [
    (lambda r: r.where(r.index != r.index[0]), "NaN"),
    (lambda r: r.iloc[1:], "missing"),
    (lambda r: pd.concat([r, pd.Series([1.0], index=["999999"])]), "not in the graph"),
    (lambda r: pd.concat([r, r.iloc[:1]]), "Duplicate"),
    (lambda r: r * 0 + 1.5, "same in every area"),
    (lambda r: r.astype(str) + "x", "not numbers"),
])
def test_bad_values_raise_bilingual_error(rate, cont, change, needle):
    with pytest.raises(PovmapError) as exc:
        spatial.clusters(change(rate), cont)
    assert needle in exc.value.en
    assert any("\u0e00" <= ch <= "\u0e7f" for ch in exc.value.th)


def test_too_few_areas(national, shapes):
    with pytest.raises(PovmapError) as exc:
        spatial.contiguity(national, shapes, ["460102", "460103"])
    assert "Too few areas for spatial statistics" in exc.value.en
    assert "พื้นที่น้อยเกินไปสำหรับสถิติเชิงพื้นที่" in exc.value.th
    three = spatial.contiguity(national, shapes, ["460102", "460103", "460104"])
    r = spatial.clusters(pd.Series([1.0, 2.0, 3.0], index=three.codes), three, permutations=99)
    assert len(r.table) == 3
    with pytest.raises(PovmapError, match="Too few areas"):
        spatial.clusters(pd.Series([1.0, 2.0], index=three.codes[:2]),
                         spatial.Contiguity(three.graph.subgraph(three.codes[:2]), three.codes[:2], (), 1))


def test_bad_settings(rate, cont):
    for kw in ({"alpha": 0}, {"alpha": 1.5}, {"permutations": 0}, {"permutations": 9.5}):
        with pytest.raises(PovmapError):
            spatial.clusters(rate, cont, **kw)


def test_geoda_colours():
    c = spatial.GEODA_COLOURS
    assert c["ns"] == (240, 240, 240) and c["HH"] == (255, 0, 0) and c["LL"] == (0, 0, 255)
    assert c["LH"] == (150, 150, 255) and c["HL"] == (255, 150, 150) and c["neighborless"] == (140, 140, 140)
    assert c["hot"] == (255, 0, 0) and c["cold"] == (0, 0, 255)
    assert set(spatial.LISA_CLASSES) | set(spatial.GI_CLASSES) | {"neighborless"} == set(c)


def test_esda_kernels_exist_and_cache_in_installed_esda(recwarn):
    """The private esda kernels povmap caches are there in the installed esda, each a numba dispatcher."""
    import importlib

    for module_name, attr in spatial.ESDA_KERNELS:
        f = getattr(importlib.import_module(f"esda.{module_name}"), attr)
        assert hasattr(f, "enable_caching"), f"esda {esda.__version__}: esda.{module_name}.{attr} is not numba-compiled"
    assert spatial._cache_esda_kernels() == []
    assert not [w for w in recwarn if issubclass(w.category, spatial.EsdaKernelWarning)]


def test_esda_kernel_missing_or_uncacheable_warns_by_name(monkeypatch):
    from esda import moran, significance

    monkeypatch.delattr(moran, "_moran_local_crand")
    monkeypatch.setattr(significance, "_permutation_significance", lambda *a: None)  # plain Python, no numba
    with pytest.warns(spatial.EsdaKernelWarning) as caught:
        problems = spatial._cache_esda_kernels()
    assert len(problems) == 2
    text = [str(w.message) for w in caught]
    assert any("esda.moran._moran_local_crand: no such function" in m for m in text)
    assert any("esda.significance._permutation_significance: not a numba dispatcher" in m for m in text)
    assert all(f"esda {esda.__version__}" in m for m in text)
