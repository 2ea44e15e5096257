"""Every cache on the shared engine is bounded, owned by a feature, keyed by the data version and thread-safe."""
from __future__ import annotations

import threading
import time
from dataclasses import replace
from types import SimpleNamespace

import pytest

import povmap.core.change  # noqa: F401
import povmap.pilot  # noqa: F401
import povmap.present.explorer  # noqa: F401  (each feature module declares its caches on import)
import povmap.present.mapimage  # noqa: F401
import povmap.present.pilotview  # noqa: F401
import povmap.present.profile as profile
from povmap.core import caches
from povmap.core.caches import Cache
from povmap.core.engine import Query
from povmap.data.datasource import choose, open_engine
from povmap.present.explorer import PAGE_VIEW, build_view, shared_view


class FakeEngine:
    """What a cache needs of an engine: a data source with a version."""

    def __init__(self, version: str = "v1"):
        self.data = SimpleNamespace(version=version)

    def memo(self, cache):
        return caches.entries(self, cache)


class Counter:
    def __init__(self):
        self.calls = 0

    def __call__(self, value):
        def compute():
            self.calls += 1
            return value
        return compute


LRU4 = Cache("test.lru4", maxsize=4, why="a test cache")
SLOW = Cache("test.slow", maxsize=2, why="a test cache")


def test_fill_beyond_the_bound_keeps_the_bound_and_evicts_the_least_recently_used():
    eng, n = FakeEngine(), Counter()
    for i in range(10):
        assert LRU4.get(eng, i, n(i * 10)) == i * 10
    assert len(LRU4.entries(eng)) == 4 and n.calls == 10
    assert {k for _, k in LRU4.entries(eng).keys()} == {6, 7, 8, 9}
    for i in (6, 7, 8, 9):  # hits still hit: no recomputation
        assert LRU4.get(eng, i, n(-1)) == i * 10
    assert n.calls == 10 and LRU4.entries(eng).hits == 4
    LRU4.get(eng, 6, n(-1))  # 6 becomes the most recently used, so 7 goes first
    LRU4.get(eng, 10, n(100))
    assert {k for _, k in LRU4.entries(eng).keys()} == {8, 9, 6, 10}
    assert LRU4.get(eng, 7, n(70)) == 70 and n.calls == 12  # evicted: computed again


@pytest.mark.parametrize("name", sorted(caches.declared()))
def test_every_declared_cache_holds_at_most_its_size(name):
    cache = caches.declared()[name]
    eng, n = FakeEngine(), Counter()
    for i in range(cache.maxsize + 25):
        cache.get(eng, ("filler", i), n(i))
    assert len(cache.entries(eng)) == cache.maxsize
    assert caches.sizes(eng)[name] == cache.maxsize
    last = ("filler", cache.maxsize + 24)
    assert cache.get(eng, last, n(None)) == cache.maxsize + 24 and n.calls == cache.maxsize + 25
    assert cache.why and cache.name.split(".")[0] in {"engine", "explorer", "profile", "pilot", "pilotview",
                                                       "mapimage", "change", "test"}


def test_the_feature_caches_are_declared_with_their_bounds():
    got = {n: c.maxsize for n, c in caches.declared().items() if not n.startswith("test.")}
    assert got == {
        "engine.combos": 1, "engine.protected": 1, "change.transitions": 2,
        "explorer.province_order": 2, "explorer.shapes": 6, "explorer.bounds": 4096, "explorer.panels": 8,
        "explorer.views": 8,
        "mapimage.paths": 6,
        "profile.figures": 4, "profile.sorted_codes": 6, "profile.polygons": 3, "profile.villages": 1,
        "profile.population": 1, "profile.hai": 1, "profile.households": 1,
        "pilot.frame": 32, "pilot.clusters": 16, "pilot.graph": 2, "pilot.shapes": 2,
        "pilotview.canvas": 8, "pilotview.smallmaps": 64,
    }


def test_two_versions_never_share_an_entry():
    eng, n = FakeEngine("v1"), Counter()
    assert LRU4.get(eng, "k", n("figure of v1")) == "figure of v1"
    eng.data.version = "v2"  # the source changed under a live engine
    assert LRU4.get(eng, "k", n("figure of v2")) == "figure of v2"
    assert n.calls == 2
    assert sorted(LRU4.entries(eng).keys()) == [("v1", "k"), ("v2", "k")]
    eng.data.version = "v1"
    assert LRU4.get(eng, "k", n("wrong")) == "figure of v1"
    other = FakeEngine("v1")  # another engine keeps its own entries
    assert LRU4.get(other, "k", n("other engine")) == "other engine"


def test_engines_of_two_data_versions_keep_apart(store, engine):
    stricter = open_engine(replace(choose(), k=engine.privacy_k + 7), store=store)
    assert stricter.data.version != engine.data.version
    for eng in (engine, stricter):
        profile.build_profile(eng, "4601")
        build_view(eng, Query(level="district", scope="46"), lang="th")
    for eng in (engine, stricter):
        for name, cache in caches.declared().items():
            held = cache.entries(eng).keys()
            assert all(version == eng.data.version for version, _ in held), name
    sizes = caches.sizes(stricter)
    assert sizes["profile.figures"] >= 1 and sizes["explorer.bounds"] == 1


def test_a_real_feature_hits_after_its_first_build(engine):
    figures = caches.declared()["profile.figures"].entries(engine)
    profile.build_profile(engine, "4601")
    before = (figures.hits, figures.misses)
    profile.build_profile(engine, "4602")
    assert figures.misses == before[1] and figures.hits > before[0]


def test_concurrent_misses_of_one_key_compute_once():
    eng, calls = FakeEngine(), []

    def compute():
        calls.append(1)
        time.sleep(0.2)
        return object()

    got = []
    threads = [threading.Thread(target=lambda: got.append(SLOW.get(eng, "k", compute))) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(calls) == 1 and len(got) == 8 and all(g is got[0] for g in got)


def test_a_slow_build_does_not_block_hits_on_other_keys():
    eng = FakeEngine()
    SLOW.get(eng, "ready", lambda: "ready")
    started = threading.Event()

    def slow():
        started.set()
        time.sleep(0.5)
        return "slow"

    th = threading.Thread(target=lambda: SLOW.get(eng, "slow", slow))
    th.start()
    started.wait()
    t0 = time.perf_counter()
    assert SLOW.get(eng, "ready", lambda: "wrong") == "ready"
    assert time.perf_counter() - t0 < 0.2
    th.join()


def test_an_exception_is_not_cached():
    eng, n = FakeEngine(), Counter()

    def fail():
        raise ValueError("broken file")

    with pytest.raises(ValueError):
        LRU4.get(eng, "x", fail)
    assert LRU4.get(eng, "x", n("ok")) == "ok" and n.calls == 1


def test_a_name_is_declared_once():
    with pytest.raises(ValueError, match="declared twice"):
        Cache("test.lru4", maxsize=5, why="another feature")


def test_a_view_is_worked_out_once_for_every_session_that_opens_it(engine):
    q = Query(dataset="tpmap", level="subdistrict")
    first = shared_view(engine, q, lang="th", labels=12)
    # the same view asked for the way the page asks (defaults spelled out, dimensions in another order)
    again = shared_view(engine, Query(dataset="tpmap", level="subdistrict",
                                      dimensions=("access", "income", "education", "living", "health")),
                        lang="th", scheme="quantiles", k=5, labels=12, label_px=13)
    assert again is first
    other = shared_view(engine, q, lang="en", labels=12)
    assert other is not first and other.ranking["name"].tolist() != first.ranking["name"].tolist()
    fresh = build_view(engine, q, lang="th", labels=12)
    assert fresh.map.args == first.map.args and fresh.ranking.equals(first.ranking)
    assert shared_view(engine, q, lang="th", labels=12, selected="100101") is not first


def test_the_start_up_warm_up_fills_the_entry_the_first_page_reads(engine):
    """The warm-up (app_pages/_startup.py) and the explorer's first run ask with the same arguments."""
    from povmap.present.urlstate import DEFAULT

    warm = shared_view(engine, Query(dataset=DEFAULT.dataset, level=DEFAULT.level, metric=DEFAULT.metric),
                       lang="th", **PAGE_VIEW)
    page = shared_view(engine, Query(dataset=DEFAULT.dataset, level=DEFAULT.level, scope=DEFAULT.scope,
                                     metric=DEFAULT.metric), lang="th", scheme="quantiles", k=5, selected=None,
                       **PAGE_VIEW)
    assert page is warm
