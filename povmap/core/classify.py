"""Class breaks (mapclassify; quantiles here, to its arithmetic) and a sequential, colour-blind-safe palette for choropleths."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from plotly.colors import colorbrewer, hex_to_rgb

from povmap.core.vocab import CLASS_SCHEME_KEYS
from povmap.core.compiled import import_cached

SCHEMES = {"quantiles": "Quantiles", "fisher_jenks": "FisherJenks", "equal_interval": "EqualInterval"}


def check_schemes(schemes: dict[str, str], keys) -> None:
    """Every class scheme the vocabulary offers has a mapclassify classifier here, and no other (RuntimeError)."""
    if set(schemes) != set(keys):
        raise RuntimeError(f"classify.SCHEMES {sorted(schemes)} do not match vocab.CLASS_SCHEME_KEYS {sorted(keys)}: "
                           f"missing {sorted(set(keys) - set(schemes))}, unknown {sorted(set(schemes) - set(keys))}")


check_schemes(SCHEMES, CLASS_SCHEME_KEYS)
NO_DATA_RGBA = (189, 189, 189, 200)  # neutral grey: distinct from every class, including zero
# ColorBrewer YlOrRd (sequential, colour-blind safe); the palest step is skipped so low classes
# stay visible against the background.
_YLORRD = [hex_to_rgb(c) if c.startswith("#") else tuple(int(v) for v in c[4:-1].split(","))
           for c in colorbrewer.YlOrRd]


def mapclassify():
    """mapclassify, imported on first use. With scipy.stats and scikit-learn it costs ~1.1 s in a new process (plus
    a numba kernel, cached on disk by :func:`import_cached`), which the first map, in quantiles, does not need: the
    server's later warm-up loads it (``app_pages/_ui.py``)."""
    return import_cached("mapclassify")


def quantile_bins(data: np.ndarray, k: int) -> np.ndarray:
    """``mapclassify.Quantiles(data, k).bins``: the upper bounds of ``k`` equal-count classes, with repeats dropped.

    Written here, to the same arithmetic as mapclassify's ``quantile`` (scipy's ``scoreatpercentile``, fraction
    interpolation), so that a server's first map does not import mapclassify (issue 16's cold start);
    tests/test_classify_map.py checks that both give the same bins and classes."""
    v = np.sort(np.asarray(data, dtype="float64"))
    w = 100.0 / k
    p = np.arange(w, 100 + w, w)
    if p[-1] > 100.0:
        p[-1] = 100.0
    out = []
    for per in p:
        idx = per / 100.0 * (len(v) - 1)
        i = int(idx)
        if i == idx:
            out.append(v[i])
        else:
            lo, hi = (i + 1) - idx, idx - i
            out.append((v[i] * lo + v[i + 1] * hi) / (lo + hi))
    return np.unique(np.asarray(out, dtype="float64"))


def palette(k: int) -> list[tuple[int, int, int]]:
    idx = np.round(np.linspace(1, len(_YLORRD) - 1, k)).astype(int)
    return [tuple(_YLORRD[i]) for i in idx]


@dataclass(frozen=True)
class Classes:
    scheme: str
    lower: tuple[float, ...]  # lower bound of each class (the data minimum for the first)
    upper: tuple[float, ...]  # upper bound of each class (mapclassify's bins)
    counts: tuple[int, ...]
    colors: tuple[tuple[int, int, int], ...]
    index: np.ndarray  # class of each value, -1 for no data
    no_data: int

    @property
    def k(self) -> int:
        return len(self.upper)

    def rgba(self, alpha: int = 210) -> list[list[int]]:
        """Fill colour per value as plain Python ints (numpy ints would be serialised as strings)."""
        table = [list(c) + [alpha] for c in self.colors] + [list(NO_DATA_RGBA)]
        return [table[i] for i in self.index.tolist()]

    def fill_json(self, alpha: int = 210) -> list[str]:
        """:meth:`rgba` as JSON array literals, for assembling map JSON without re-encoding."""
        table = [f"[{c[0]},{c[1]},{c[2]},{c[3]}]" for c in ([*c, alpha] for c in (*self.colors,))]
        table.append("[{},{},{},{}]".format(*NO_DATA_RGBA))
        return [table[i] for i in self.index.tolist()]


def classify(values, scheme: str = "quantiles", k: int = 5) -> Classes:
    """Classify values (NaN = no data) into at most ``k`` classes."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown classification scheme: {scheme!r}")
    y = np.asarray(values, dtype="float64")
    ok = ~np.isnan(y)
    index = np.full(len(y), -1, dtype=int)
    data = y[ok]
    if data.size == 0:
        return Classes(scheme, (), (), (), (), index, int((~ok).sum()))
    k = int(max(1, min(k, np.unique(data).size)))
    if k == 1:
        upper, yb = np.array([data.max()]), np.zeros(data.size, dtype=int)
    elif scheme == "quantiles":
        upper = quantile_bins(data, k)
        yb = np.searchsorted(upper, data, side="left")  # mapclassify's bin1d: bins[j-1] < y <= bins[j]
    else:
        mc = mapclassify().classify(data, SCHEMES[scheme], k=k)
        upper, yb = np.asarray(mc.bins, dtype=float), np.asarray(mc.yb, dtype=int)
        # Quantiles on tied data can repeat a bin; drop empty duplicate classes.
        keep = np.r_[True, np.diff(upper) > 0]
        if not keep.all():
            upper = upper[keep]
            yb = np.searchsorted(upper, data, side="left")
    index[ok] = yb
    lower = np.r_[data.min(), upper[:-1]]
    counts = np.bincount(yb, minlength=len(upper))
    return Classes(scheme, tuple(lower.tolist()), tuple(upper.tolist()), tuple(int(c) for c in counts),
                   tuple(palette(len(upper))), index, int((~ok).sum()))
