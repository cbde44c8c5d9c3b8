"""Property tests: random valid polygons (with holes, sharing a lattice with the query
points so that vertex and edge hits are common) against shapely."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon, mapping

import polars_zones as pz

STEP = 0.125  # binary-exact, so shapely and the integer grid see the same numbers


def star(center, radii, phase):
    n = len(radii)
    return [
        (
            round((center[0] + r * math.cos(phase + 2 * math.pi * k / n)) / STEP) * STEP,
            round((center[1] + r * math.sin(phase + 2 * math.pi * k / n)) / STEP) * STEP,
        )
        for k, r in enumerate(radii)
    ]


@st.composite
def polygons(draw):
    cx = draw(st.integers(-8, 8)) * STEP * 4
    cy = draw(st.integers(-8, 8)) * STEP * 4
    radii = draw(st.lists(st.floats(1.0, 3.0), min_size=3, max_size=14))
    shell = star((cx, cy), radii, draw(st.floats(0, 1)))
    holes = []
    if draw(st.booleans()):
        holes.append(star((cx, cy), [0.5] * draw(st.integers(3, 6)), draw(st.floats(0, 1))))
    polygon = Polygon(shell, holes)
    assume(polygon.is_valid and polygon.area > 0)
    return polygon


@settings(max_examples=150, deadline=None)
@given(st.lists(polygons(), min_size=1, max_size=4))
def test_random_polygons_match_shapely(geoms):
    zones = pz.Zones.from_geojson([mapping(g) for g in geoms])
    xs = np.arange(-6, 6 + STEP, STEP)
    lon, lat = (a.ravel() for a in np.meshgrid(xs, xs))
    points = shapely.points(lon, lat)
    df = pl.DataFrame({"lat": lat, "lon": lon})
    for boundary, predicate in [("inclusive", shapely.covers), ("exclusive", shapely.contains)]:
        got = df.select(pl.col("lat").zones.tag_all("lon", polygons=zones, boundary=boundary)).to_series().to_list()
        hits = np.array([predicate(g, points) for g in geoms])  # zones × points
        expected = [list(np.flatnonzero(hits[:, i])) for i in range(len(lat))]
        assert got == expected, boundary
    # Half-open: one of the tiles' answers wherever shapely's two answers differ, theirs elsewhere.
    first = zones.tag_numpy(lat, lon)
    covers = np.array([shapely.covers(g, points) for g in geoms])
    contains = np.array([shapely.contains(g, points) for g in geoms])
    for i in range(len(lat)):
        if first[i] >= 0:
            assert covers[first[i], i]
        clear = np.flatnonzero(contains[:, i])
        if len(clear):
            assert first[i] <= clear[0]
