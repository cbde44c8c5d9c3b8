"""Hand-made geometry where point-in-polygon code usually goes wrong, checked against
shapely (`covers` for inclusive, `contains` for exclusive) and the tiling property."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping

import polars_zones as pz


def tag(zones: pz.Zones, points, boundary="half-open") -> list:
    lat = np.array([p[1] for p in points], dtype=float)
    lon = np.array([p[0] for p in points], dtype=float)
    return list(zones.tag_numpy(lat, lon, boundary=boundary))


def tag_all(zones: pz.Zones, points, boundary="half-open") -> list[list[int]]:
    df = pl.DataFrame(
        {"lat": [p[1] for p in points], "lon": [p[0] for p in points]}, schema={"lat": pl.Float64, "lon": pl.Float64}
    )
    return df.select(pl.col("lat").zones.tag_all("lon", polygons=zones, boundary=boundary)).to_series().to_list()


def shapely_sets(geoms, points, predicate) -> list[list[int]]:
    return [[i for i, g in enumerate(geoms) if predicate(g, shapely.Point(p))] for p in points]


def zones_of(geoms) -> pz.Zones:
    return pz.Zones.from_geojson([mapping(g) for g in geoms])


def probe_points(geoms, extra=()) -> list[tuple[float, float]]:
    """Every vertex, every edge midpoint and quarter point, and a lattice around them."""
    pts = set(extra)
    for g in geoms:
        for part in getattr(g, "geoms", [g]):
            for ring in [part.exterior, *part.interiors]:
                coords = list(ring.coords)
                for (x0, y0), (x1, y1) in zip(coords, coords[1:]):
                    for t in (0, 0.25, 0.5, 0.75):
                        pts.add((x0 + t * (x1 - x0), y0 + t * (y1 - y0)))
    xmin, ymin, xmax, ymax = shapely.total_bounds(np.array(geoms, dtype=object))
    for x in np.arange(xmin - 1, xmax + 1.01, 0.25):
        for y in np.arange(ymin - 1, ymax + 1.01, 0.25):
            pts.add((float(x), float(y)))
    return sorted(pts)


def assert_matches_shapely(geoms, extra=()):
    zones = zones_of(geoms)
    points = probe_points(geoms, extra)
    assert tag_all(zones, points, "inclusive") == shapely_sets(geoms, points, shapely.covers)
    assert tag_all(zones, points, "exclusive") == shapely_sets(geoms, points, shapely.contains)
    # Half-open agrees with both wherever they agree.
    inclusive = shapely_sets(geoms, points, shapely.covers)
    exclusive = shapely_sets(geoms, points, shapely.contains)
    half_open = tag_all(zones, points, "half-open")
    for p, h, i, e in zip(points, half_open, inclusive, exclusive):
        if i == e:
            assert h == i, p
        else:
            assert set(e) <= set(h) <= set(i), p


def box(x0, y0, x1, y1):
    return Polygon([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])


def test_tiling_gives_every_point_exactly_one_zone():
    """A 4×4 board of squares plus a row of triangles (diagonal shared borders): every
    point of the tiled area, vertices included, is in exactly one zone under half-open."""
    tiles = [box(i, j, i + 1, j + 1) for i in range(4) for j in range(4)]
    tiles += [Polygon([(i, 4), (i + 1, 4), (i + 1, 5)]) for i in range(4)]
    tiles += [Polygon([(i, 4), (i + 1, 5), (i, 5)]) for i in range(4)]
    zones = zones_of(tiles)
    xs = np.arange(0, 4, 0.125)
    ys = np.arange(0, 5, 0.125)
    points = [(float(x), float(y)) for x in xs for y in ys]
    counts = [len(z) for z in tag_all(zones, points)]
    assert counts == [1] * len(points)
    # The far edges of the area are outside (nudged right and up, off the tiling).
    assert tag_all(zones, [(4.0, 2.5), (2.5, 5.0)]) == [[], []]
    assert_matches_shapely(tiles)


def test_horizontal_top_and_bottom_edges_and_collinear_points():
    # tg #16: horizontal top edges; cuSpatial #1103: collinear but outside.
    triangle = Polygon([(0, 0), (4, 0), (2, 2)])
    trapezoid = Polygon([(6, 0), (10, 0), (9, 2), (7, 2)])
    extra = [(5, 0), (-1, 0), (11, 2), (8, 2), (6.5, 2), (3, 3), (-1, -1), (10.5, -1)]
    assert_matches_shapely([triangle, trapezoid], extra)
    zones = zones_of([triangle, trapezoid])
    assert tag(zones, [(5, 0), (11, 2), (3, 3)], "inclusive") == [-1, -1, -1]


def test_holes_zone_in_hole_and_orientation():
    ccw_shell = [(0, 0), (10, 0), (10, 10), (0, 10)]
    cw_hole = [(2, 2), (2, 8), (8, 8), (8, 2)]
    with_hole = Polygon(ccw_shell, [cw_hole])
    inside_hole = box(3, 3, 7, 7)  # a zone in the other's hole, sharing no border
    touching_hole = box(2, 2, 4, 4)  # shares the hole's corner and two edges
    cw_polygon = Polygon(list(reversed([(12, 0), (15, 0), (15, 3), (12, 3)])))
    geoms = [with_hole, inside_hole, touching_hole, cw_polygon]
    assert_matches_shapely(geoms)
    zones = zones_of(geoms)
    assert tag(zones, [(5, 5), (1, 1), (9, 9), (13, 1), (2.5, 2.5)]) == [1, 0, 0, 3, 2]


def test_multipolygon_parts_and_overlaps_first_zone_wins():
    a = MultiPolygon([box(0, 0, 2, 2), box(1, 1, 3, 3)])  # overlapping parts never cancel
    b = box(1.5, 1.5, 5, 5)
    zones = zones_of([a, b])
    assert tag(zones, [(1.5, 1.5), (1.75, 1.75), (4, 4)]) == [0, 0, 1]
    assert tag_all(zones, [(1.75, 1.75)]) == [[0, 1]]


def test_spikes_and_duplicate_vertices():
    spiky = Polygon([(0, 0), (4, 0), (4, 2), (6, 2.5), (4, 2.5), (4, 4), (2, 4), (2, 8), (1.75, 4), (0, 4)])
    dup = {"type": "Polygon", "coordinates": [[[10, 0], [12, 0], [12, 0], [12, 2], [12, 2], [10, 2], [10, 0]]]}
    zones = pz.Zones.from_geojson([mapping(spiky), dup])
    points = probe_points([spiky, shapely.geometry.shape(dup)])
    expected = shapely_sets([spiky, shapely.geometry.shape(dup)], points, shapely.covers)
    assert tag_all(zones, points, "inclusive") == expected
    expected = shapely_sets([spiky, shapely.geometry.shape(dup)], points, shapely.contains)
    assert tag_all(zones, points, "exclusive") == expected


def test_shared_border_point_on_each_kind_of_edge_goes_right_and_up():
    left, right = box(0, 0, 1, 1), box(1, 0, 2, 1)
    below, above = box(5, 0, 6, 1), box(5, 1, 6, 2)
    zones = zones_of([left, right, below, above])
    # Vertical shared edge: the point goes right; horizontal: up.
    assert tag(zones, [(1, 0.5), (5.5, 1)]) == [1, 3]
    assert tag(zones, [(1, 0.5), (5.5, 1)], "inclusive") == [0, 2]
    assert tag(zones, [(1, 0.5), (5.5, 1)], "exclusive") == [-1, -1]


@pytest.mark.parametrize("n", [3, 7, 64])
def test_regular_polygons_on_a_fine_lattice(n):
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ring = [(round(float(np.cos(a)) * 3, 5), round(float(np.sin(a)) * 3, 5)) for a in angles]
    geoms = [Polygon(ring)]
    zones = zones_of(geoms)
    grid = [(float(x), float(y)) for x, y in itertools.product(np.arange(-3.5, 3.6, 0.0625), repeat=2)]
    assert tag_all(zones, grid, "exclusive") == shapely_sets(geoms, grid, shapely.contains)
    assert tag_all(zones, grid, "inclusive") == shapely_sets(geoms, grid, shapely.covers)
