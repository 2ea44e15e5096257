"""The map's geometry files: each area's rings, already cut into triangles, packed as typed arrays.

The browser used to fetch GeoJSON, parse it and cut every polygon into triangles (earcut) before the first paint:
~0.25 s for the 7,423 subdistricts in software WebGL, paid by every new visitor (issue 16). The triangles are the
same for everyone, so they are cut here, once per store build, with ``mapbox_earcut`` (the earcut algorithm deck.gl
itself runs), and the file holds typed arrays the browser views without parsing (``map.js``: ``unpack``).

File layout (little-endian; every part starts on a 4-byte boundary)::

    "PVG1"                       magic
    uint32                       length in bytes of the header (padded with spaces to a multiple of 4)
    header (JSON, UTF-8)         {"codes": [...], "names": [...], "vertices": V, "rings": R, "triangles": T,
                                  "index": "u16" | "u32"}
    float32[2V]                  positions (longitude, latitude), ring after ring, area after area
    uint32[R]                    vertices of each ring (GeoJSON rings: the last point repeats the first)
    uint32[n]                    vertices of each area
    uint32[n]                    rings of each area (outer ring first, then its holes; polygon after polygon)
    uint32[n]                    triangle corners of each area (3 per triangle)
    uint16[T] or uint32[T]       triangle corners, as vertex numbers within their area (padded to 4 bytes)

Areas without geometry are left out of a file (the map shows what it can place; the page says what it cannot).
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import mapbox_earcut
import numpy as np
import pandas as pd

MAGIC = b"PVG1"


@dataclass(frozen=True)
class AreaShapes:
    """The packed geometry of one level at one resolution: per area (in ``codes`` order) its share of each array."""

    codes: list[str]
    names: list[str]
    positions: np.ndarray  # float32, (V, 2)
    ring_sizes: np.ndarray  # uint32, (R,)
    area_vertices: np.ndarray  # uint32, (n,)
    area_rings: np.ndarray  # uint32, (n,)
    area_corners: np.ndarray  # uint32, (n,)
    corners: np.ndarray  # uint32, (T,): vertex numbers within their area

    def subset(self, keep) -> "AreaShapes":
        """The areas where ``keep`` (a boolean per area) is true, in the same order."""
        rows = np.flatnonzero(np.asarray(keep, dtype=bool))

        def take(arr, sizes):
            ends = np.cumsum(sizes, dtype=np.int64)
            parts = [arr[ends[i] - sizes[i]:ends[i]] for i in rows]
            return np.concatenate(parts) if parts else arr[:0]

        return AreaShapes([self.codes[i] for i in rows], [self.names[i] for i in rows],
                          take(self.positions, self.area_vertices), take(self.ring_sizes, self.area_rings),
                          self.area_vertices[rows], self.area_rings[rows], self.area_corners[rows],
                          take(self.corners, self.area_corners))

    def to_bytes(self) -> bytes:
        wide = len(self.corners) and int(self.corners.max()) > 0xFFFF
        head = json.dumps({"codes": self.codes, "names": self.names, "vertices": len(self.positions),
                           "rings": len(self.ring_sizes), "triangles": len(self.corners),
                           "index": "u32" if wide else "u16"}, ensure_ascii=False, separators=(",", ":"))
        head_bytes = head.encode("utf-8")
        head_bytes += b" " * (-len(head_bytes) % 4)
        corners = self.corners.astype("<u4" if wide else "<u2").tobytes()
        corners += b"\0" * (-len(corners) % 4)
        arrays = [self.positions.astype("<f4"), *(a.astype("<u4") for a in (
            self.ring_sizes, self.area_vertices, self.area_rings, self.area_corners))]
        return b"".join([MAGIC, np.uint32(len(head_bytes)).astype("<u4").tobytes(), head_bytes,
                         *(a.tobytes() for a in arrays), corners])

    def chunk(self, prefix: str) -> "AreaShapes":
        """The areas whose code starts with ``prefix`` (all for "")."""
        return self if not prefix else self.subset([c.startswith(prefix) for c in self.codes])


def _polygons(geometry: dict) -> list:
    kind = geometry.get("type")
    if kind == "Polygon":
        return [geometry["coordinates"]]
    if kind == "MultiPolygon":
        return geometry["coordinates"]
    return []


def pack(geojson: pd.Series, names: pd.Series) -> AreaShapes:
    """The areas of ``geojson`` (GeoJSON geometry text by code, as the store keeps it) with their ``names``."""
    codes, labels, positions, ring_sizes, corners = [], [], [], [], []
    area_vertices, area_rings, area_corners = [], [], []
    for code, text in geojson.items():
        if not isinstance(text, str) or not text:
            continue
        polys = _polygons(json.loads(text))
        base, n_rings, n_corners = 0, 0, 0
        for poly in polys:
            rings = [np.asarray(r, dtype=np.float64)[:, :2] for r in poly if len(r) >= 4]
            if not rings:
                continue
            vertices = np.concatenate(rings)
            ends = np.cumsum([len(r) for r in rings]).astype(np.uint32)
            tri = mapbox_earcut.triangulate_float64(vertices, ends)
            positions.append(vertices)
            ring_sizes.extend(len(r) for r in rings)
            corners.append(tri.astype(np.uint32) + base)
            base += len(vertices)
            n_rings += len(rings)
            n_corners += len(tri)
        if not n_rings:
            continue
        codes.append(str(code))
        labels.append(str(names.get(code, "")))
        area_vertices.append(base)
        area_rings.append(n_rings)
        area_corners.append(n_corners)
    return AreaShapes(
        codes, labels,
        np.concatenate(positions).astype(np.float32) if positions else np.zeros((0, 2), np.float32),
        *(np.asarray(a, dtype=np.uint32) for a in (ring_sizes, area_vertices, area_rings, area_corners)),
        np.concatenate(corners).astype(np.uint32) if corners else np.zeros(0, np.uint32))


def unpack(data: bytes) -> AreaShapes:
    """The areas of a geometry file (what ``map.js`` reads from it); ValueError for anything else."""
    if data[:4] != MAGIC or len(data) < 8:
        raise ValueError("not a povmap geometry file")
    size = int(np.frombuffer(data, "<u4", 1, 4)[0])
    head = json.loads(data[8:8 + size].decode("utf-8"))
    n, at, out = len(head["codes"]), 8 + size, []
    for dtype, count in (("<f4", 2 * head["vertices"]), ("<u4", head["rings"]), ("<u4", n), ("<u4", n), ("<u4", n),
                         ("<u4" if head["index"] == "u32" else "<u2", head["triangles"])):
        out.append(np.frombuffer(data, dtype, count, at))
        at += out[-1].nbytes
    positions, *sizes, corners = out
    return AreaShapes(head["codes"], head["names"], positions.reshape(-1, 2), *(s.astype(np.uint32) for s in sizes),
                      corners.astype(np.uint32))
