"""Distance to zones and the nearest zone, against an independent oracle.

The oracle: for each point, pyproj's azimuthal equidistant projection centred on the point on
the same sphere (+proj=aeqd +R=6371008.8), the zones' boundaries densified along their lon/lat
segments every 0.01 degree (shapely.segmentize), and shapely's distance from the origin. It
is asked only about the boundary pieces inside a box around the point a little wider than the
distance polars-zones gives: a piece closer than that is inside the box (so a too-large answer
is caught), and a too-small answer finds nothing there.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pyproj
import pytest
import shapely
from shapely.geometry import shape

import polars_zones as pz
from polars_zones.synthetic import ship_positions

R = 6_371_008.8
METRES_PER_DEGREE = math.pi * R / 180


class Oracle:
    """Distances in metres from points to a collection's zone boundaries (see the module)."""

    def __init__(self, collection: dict) -> None:
        chunks, zones = [], []
        for z, feature in enumerate(collection["features"]):
            geometry = shape(feature["geometry"])
            for part in getattr(geometry, "geoms", [geometry]):
                # A polygon's rings, or lines given as the borders themselves.
                for ring in [part.exterior, *part.interiors] if hasattr(part, "exterior") else [part]:
                    xy = np.asarray(shapely.segmentize(shapely.LineString(ring.coords), 0.01).coords)
                    for start in range(0, len(xy) - 1, 64):
                        chunks.append(xy[start : start + 65])
                        zones.append(z)
        self.chunks = chunks
        self.zones = np.array(zones)
        self.tree = shapely.STRtree([shapely.LineString(c) for c in chunks])

    def nearest(self, lat: float, lon: float, within_m: float) -> tuple[float, set[int]]:
        """The distance to the nearest boundary within `within_m` metres (inf if none), and
        the zones at that distance (within 1e-6 relative)."""
        dlat = within_m / METRES_PER_DEGREE + 0.02
        if abs(lat) + dlat >= 90:
            boxes = [(-180, -90, 180, 90)]
        else:
            dlon = min(180.0, dlat / math.cos(math.radians(abs(lat) + dlat)))
            boxes = [(lon - dlon + 360 * k, lat - dlat, lon + dlon + 360 * k, lat + dlat) for k in (-1, 0, 1)]
        hits = set()
        for box in boxes:
            hits.update(self.tree.query(shapely.box(*box)).tolist())
        if not hits:
            return math.inf, set()
        project = pyproj.Proj(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +R={R} +units=m")
        distances = {}
        for h in hits:
            if far_side(lat, lon, self.chunks[h]):
                continue
            x, y = project(self.chunks[h][:, 0], self.chunks[h][:, 1])
            d = shapely.distance(shapely.LineString(np.column_stack([x, y])), shapely.Point(0, 0))
            z = int(self.zones[h])
            distances[z] = min(distances.get(z, math.inf), d)
        best = min(distances.values())
        return best, {z for z, d in distances.items() if d <= best * (1 + 1e-6) + 1e-6}


def far_side(lat: float, lon: float, chunk: np.ndarray) -> bool:
    """Whether every vertex of `chunk` is more than 150 degrees from the point: there the
    azimuthal projection stretches a short piece into a long curve, so shapely's straight
    segments between its projected vertices do not follow it (near the antipode they are
    garbage). Such a piece is never nearest unless every piece is that far, which no test has."""
    phi, lam = np.radians(chunk[:, 1]), np.radians(chunk[:, 0])
    p, q = math.radians(lat), math.radians(lon)
    cos_angle = math.sin(p) * np.sin(phi) + math.cos(p) * np.cos(phi) * np.cos(lam - q)
    return bool((cos_angle < math.cos(math.radians(150))).all())


def tolerance(metres: float) -> float:
    """The accuracy asked for: 0.1% + 1 m."""
    return 0.001 * metres + 1.0


def sample_points():
    """20k AIS-like points (coasts, lanes, open sea), 5k within 0.2 degree of ±180, 2k above 80
    degrees north or south."""
    zones = pz.datasets.maritime_zones()
    ais = ship_positions(20_000, zones, seed=21)
    rng = np.random.default_rng(22)
    near = rng.uniform(179.8, 180.2, 5_000)
    lat = np.concatenate(
        [ais["lat"].to_numpy(), rng.uniform(-60, 70, 5_000), rng.uniform(80, 89, 2_000) * rng.choice([-1, 1], 2_000)]
    )
    lon = np.concatenate([ais["lon"].to_numpy(), np.where(near > 180, near - 360, near), rng.uniform(-180, 180, 2_000)])
    return lat.round(6), lon.round(6)


POINTS = sample_points()


def check_against_oracle(zones: pz.Zones, collection: dict, lat: np.ndarray, lon: np.ndarray, max_distance=None):
    oracle = Oracle(collection)
    got = zones.distance_numpy(lat, lon, max_distance=max_distance)
    nearest = zones.nearest_numpy(lat, lon, max_distance=max_distance)
    within = zones.tag_numpy(lat, lon) >= 0
    # 0 exactly where the point is in a zone; the nearest zone there is the tag.
    assert ((got == 0) == within).all()
    assert (nearest[within] == zones.tag_numpy(lat[within], lon[within])).all()
    checked, wrong, largest, measured = 0, [], 0.0, 0
    for i in np.flatnonzero(~within):
        ours = got[i]
        reach = max_distance if max_distance is not None and math.isnan(ours) else ours
        truth, closest = oracle.nearest(lat[i], lon[i], (reach if reach is not None else 2e7) * 1.01 + 100)
        if math.isnan(ours):
            # None within max_distance: the oracle must agree, but for the tolerance.
            if truth < max_distance - tolerance(max_distance):
                wrong.append((lat[i], lon[i], ours, truth))
        else:
            if abs(ours - truth) > tolerance(truth) or (nearest[i] not in closest and abs(ours - truth) > 1e-3):
                wrong.append((lat[i], lon[i], ours, truth, nearest[i], closest))
            largest, measured = max(largest, abs(ours - truth)), measured + 1
        checked += 1
    assert not wrong, f"{len(wrong)} of {checked} wrong: {wrong[:5]}"
    # The README quotes this line (pytest -s): the accuracy found, not only the one asked for.
    print(f"\nlargest difference from the oracle: {largest * 100:.1f} cm on {measured:,} points with a distance")
    return checked


def test_distances_match_the_oracle_on_the_bundled_zones(bundled_zones, bundled_collection):
    """All 27k points within 100 km (null beyond it, where the oracle must find nothing nearer)."""
    lat, lon = POINTS
    checked = check_against_oracle(bundled_zones, bundled_collection, lat, lon, max_distance=100_000.0)
    assert checked > 8_000


def test_unbounded_distances_match_the_oracle(bundled_zones, bundled_collection):
    """Without max_distance every valid point gets a distance, however far (mid-ocean too)."""
    lat, lon = POINTS
    pick = np.random.default_rng(4).choice(len(lat), 1_500, replace=False)
    assert not np.isnan(bundled_zones.distance_numpy(lat, lon)).any()
    check_against_oracle(bundled_zones, bundled_collection, lat[pick], lon[pick])


def test_max_distance_is_the_unbounded_answer_cut_there(bundled_zones):
    lat, lon = POINTS
    full = bundled_zones.distance_numpy(lat, lon)
    for bound in (0.0, 1_000.0, 50_000.0):
        bounded = bundled_zones.distance_numpy(lat, lon, max_distance=bound)
        assert np.array_equal(np.where(full <= bound, full, np.nan), bounded, equal_nan=True)
        nearest = bundled_zones.nearest_numpy(lat, lon, max_distance=bound)
        assert np.array_equal(nearest == -1, np.isnan(bounded))


def test_distances_match_the_oracle_on_the_10m_zones(full_collection):
    """All 27k points within 100 km of the 10 m zones (1.9M vertices)."""
    zones = pz.Zones.from_geojson(full_collection, id_property="A3")
    lat, lon = POINTS
    assert check_against_oracle(zones, full_collection, lat, lon, max_distance=100_000.0) > 8_000


def square(x0, y0, x1, y1):
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


HAND_MADE = {
    "type": "FeatureCollection",
    "features": [
        # A long edge along a parallel: measured as drawn, not as the great circle of its ends.
        {
            "type": "Feature",
            "properties": {"k": "band"},
            "geometry": {"type": "Polygon", "coordinates": [square(-40, 60, 40, 62)]},
        },
        # Across the antimeridian.
        {
            "type": "Feature",
            "properties": {"k": "fiji"},
            "geometry": {"type": "Polygon", "coordinates": [square(179.99, -18, 185, -16)]},
        },
        # A hole whose nearest boundary is the hole's.
        {
            "type": "Feature",
            "properties": {"k": "ring"},
            "geometry": {"type": "Polygon", "coordinates": [square(0, 0, 10, 10), square(4, 4, 6, 6)]},
        },
    ],
}


def test_hand_made_zones():
    zones = pz.Zones.from_geojson(HAND_MADE, id_property="k")
    df = pl.DataFrame(
        {
            "lat": [59.9, 63.0, -17.0, -17.0, 5.0, 5.0],
            "lon": [0.0, 0.0, 179.98, 179.97, 5.0, 4.5],
        }
    )
    got = df.select(
        d=pl.col("lat").zones.distance("lon", polygons=zones),
        n=pl.col("lat").zones.nearest("lon", polygons=zones).cast(pl.String),
    )
    d = got["d"].to_list()
    # 0.1 degree of latitude south of the band's edge at 60 N, the middle of an 80-degree edge.
    assert abs(d[0] - 0.1 * METRES_PER_DEGREE) < 1.0
    assert abs(d[1] - 1.0 * METRES_PER_DEGREE) < 1.0
    # 0.01 degree of longitude west of the zone beginning at 179.99, at 17 S: about 1.06 km.
    expected = R * math.radians(0.01) * math.cos(math.radians(17))
    assert abs(d[2] - expected) < 1.0
    assert d[3] > d[2]
    # In the hole: the hole's edge, 1 degree of longitude away (at 5 N); beside it, 0.5.
    cos5 = math.cos(math.radians(5))
    assert abs(d[4] - METRES_PER_DEGREE * cos5) < 1.0 and abs(d[5] - 0.5 * METRES_PER_DEGREE * cos5) < 1.0
    assert got["n"].to_list() == ["band", "band", "fiji", "fiji", "ring", "ring"]
    check_against_oracle(zones, HAND_MADE, df["lat"].to_numpy(), df["lon"].to_numpy())


def test_a_grid_of_cells_ties_to_the_first_cell():
    """Cells of a 0.5-degree grid share edges and corners; a point outside the grid beside a
    shared corner, or beside an edge that a neighbour draws with a vertex of its own on it, is
    as near to several cells: the first of them, in input order, is its nearest (rounding
    decided it, as often for the one cell as for the other)."""
    features = []
    for row in range(4):
        for col in range(6):
            w, s = 10 + 0.5 * col, 50 + 0.5 * row
            ring = [[w, s], [w + 0.5, s], [w + 0.5, s + 0.5], [w, s + 0.5], [w, s]]
            if (row + col) % 2:  # a vertex in the middle of the northern edge
                ring.insert(3, [w + 0.25, s + 0.5])
            features.append(
                {
                    "type": "Feature",
                    "properties": {"cell": f"{row}-{col}"},
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
            )
    zones = pz.Zones.from_geojson({"type": "FeatureCollection", "features": features}, id_property="cell")
    # Due north of the grid's top corners, and due east and west of its side corners.
    corners_north = [(52.0 + d, 10.5 + 0.5 * k) for k in range(5) for d in (0.001, 0.01, 0.2)]
    corners_east = [(50.5 + 0.5 * k, 13.0 + d) for k in range(3) for d in (0.001, 0.05)]
    corners_west = [(50.5 + 0.5 * k, 10.0 - d) for k in range(3) for d in (0.001, 0.05)]
    points = corners_north + corners_east + corners_west
    lat, lon = np.array([p[0] for p in points]), np.array([p[1] for p in points])
    got = [zones.ids[i] for i in zones.nearest_numpy(lat, lon)]
    expected = [f"3-{k}" for k in range(5) for _ in range(3)]
    expected += [f"{k}-5" for k in range(3) for _ in range(2)] + [f"{k}-0" for k in range(3) for _ in range(2)]
    assert got == expected


def test_points_on_a_border_the_rule_leaves_outside_are_at_zero():
    """Exactly 0 and the first zone whose border it is, whatever max_distance: measured, the
    border was a few centimetres away (the search's arcs pass beside a drawn east-west edge),
    and max_distance=0 lost the point."""
    west = {"type": "Polygon", "coordinates": [square(0, 0, 2, 2)]}
    east = {"type": "Polygon", "coordinates": [[[2, 0], [3, 0], [3, 2], [2, 2], [2, 1], [2, 0]]]}
    zones = pz.Zones.from_geojson([west, east])
    lat, lon = [2.0, 1.0, 0.5], [1.0, 2.0, 1.0]  # west's top edge, the shared edge, inside
    for boundary, nearest in [("half-open", [0, 1, 0]), ("exclusive", [0, 0, 0])]:
        for max_distance in (None, 0.0):
            df = pl.DataFrame({"lat": lat, "lon": lon}).select(
                d=pl.col("lat").zones.distance("lon", polygons=zones, boundary=boundary, max_distance=max_distance),
                n=pl.col("lat").zones.nearest("lon", polygons=zones, boundary=boundary, max_distance=max_distance),
            )
            assert df["d"].to_list() == [0.0, 0.0, 0.0] and df["n"].to_list() == nearest, (boundary, max_distance)


POLAR = {
    "type": "FeatureCollection",
    "features": [
        # A polar grid cell: its top edge lies on the pole (a single point, drawn 10 degrees long).
        {
            "type": "Feature",
            "properties": {"k": "cell"},
            "geometry": {"type": "Polygon", "coordinates": [square(0, 80, 10, 90)]},
        },
        # A cap round the south pole, cut at the antimeridian as RFC 7946 files are.
        {
            "type": "Feature",
            "properties": {"k": "cap"},
            "geometry": {"type": "Polygon", "coordinates": [square(-180, -90, 180, -89.99)]},
        },
    ],
}


def test_zones_with_edges_on_a_pole():
    """An edge along latitude ±90 is one point: measured as an arc between its ends (which
    differ by rounding only), it put points near one meridian almost at distance 0."""
    zones = pz.Zones.from_geojson(POLAR, id_property="k")
    rng = np.random.default_rng(5)
    lat = np.concatenate([[45.0, 89.9, 85.0, -89.95, -89.95], rng.uniform(-90, 90, 150), rng.uniform(75, 90, 50)])
    lon = np.concatenate([[100.0, 100.0, 100.5, 10.0, -170.0], rng.uniform(-180, 180, 200)])
    got = zones.distance_numpy(lat[:5], lon[:5])
    expected = [45 * METRES_PER_DEGREE, 0.1 * METRES_PER_DEGREE, 5 * METRES_PER_DEGREE, 0.04 * METRES_PER_DEGREE]
    assert np.allclose(got[:4], expected, rtol=1e-3) and np.isclose(got[4], got[3]), got
    check_against_oracle(zones, POLAR, lat, lon)


def test_expressions_match_numpy_in_both_engines(bundled_zones):
    lat, lon = POINTS
    df = pl.DataFrame({"lat": lat[:30_000], "lon": lon[:30_000]})
    lf = df.lazy().select(
        d=pl.col("lat").zones.distance("lon", polygons=bundled_zones, max_distance=20_000),
        n=pl.col("lat").zones.nearest("lon", polygons=bundled_zones, max_distance=20_000),
    )
    eager, streaming = lf.collect(), lf.collect(engine="streaming")
    assert eager.equals(streaming)
    expected = bundled_zones.distance_numpy(df["lat"], df["lon"], max_distance=20_000)
    assert np.array_equal(eager["d"].to_numpy(), expected, equal_nan=True)
    codes = bundled_zones.nearest_numpy(df["lat"], df["lon"], max_distance=20_000)
    names = np.array(bundled_zones.ids + [None], dtype=object)[codes]
    assert eager["n"].cast(pl.String).to_list() == names.tolist()
    # Nearest agrees with tag wherever tag has a zone.
    tagged = df.select(pl.col("lat").zones.tag("lon", polygons=bundled_zones))["lat"]
    inside = tagged.is_not_null()
    assert (eager["n"].filter(inside) == tagged.filter(inside)).all()


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), "20km", True, 10**400])
def test_bad_max_distance_is_a_clear_error(bundled_zones, bad):
    with pytest.raises((ValueError, TypeError), match="max_distance"):
        pl.col("lat").zones.distance("lon", polygons=bundled_zones, max_distance=bad)
    with pytest.raises((ValueError, TypeError), match="max_distance"):
        bundled_zones.nearest_numpy([0.0], [0.0], max_distance=bad)


def test_invalid_points_are_null(bundled_zones):
    df = pl.DataFrame({"lat": [None, float("nan"), 95.0, 0.0], "lon": [0.0, 0.0, 0.0, float("inf")]})
    got = df.select(
        d=pl.col("lat").zones.distance("lon", polygons=bundled_zones),
        n=pl.col("lat").zones.nearest("lon", polygons=bundled_zones),
    )
    assert got["d"].null_count() == 4 and got["n"].null_count() == 4


def test_a_serialized_plan_computes_distances_in_a_fresh_process(bundled_zones, tmp_path):
    import subprocess
    import sys

    lat, lon = POINTS
    lf = (
        pl.DataFrame({"lat": lat[:5000], "lon": lon[:5000]})
        .lazy()
        .select(pl.col("lat").zones.distance("lon", polygons=bundled_zones, max_distance=100_000))
    )
    (tmp_path / "plan").write_bytes(lf.serialize())
    script = (
        "import io, polars as pl; "
        f"plan = open({str(tmp_path / 'plan')!r}, 'rb').read(); "
        "print(pl.LazyFrame.deserialize(io.BytesIO(plan)).collect().write_json())"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert pl.read_json(__import__("io").StringIO(out)).equals(lf.collect())


def test_max_distance_takes_any_real_number_and_refuses_the_rest():
    square = pz.Zones.from_geojson({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]})
    frame = pl.DataFrame({"lat": [0.5, 3.0], "lon": [0.5, 3.0]})

    def distances(limit):
        return frame.select(pl.col("lat").zones.distance("lon", polygons=square, max_distance=limit))["lat"].to_list()

    far = distances(None)[1]
    assert far > 300_000
    for limit in (1_000_000, np.float32(1e6), np.int64(1_000_000)):
        assert distances(limit) == [0.0, far]
    assert distances(np.float64(1_000.0)) == [0.0, None]
    for bad in (True, np.bool_(True), "1km"):
        with pytest.raises(TypeError, match="max_distance must be a number of metres or None"):
            distances(bad)
    for bad in (-1, float("nan"), np.float32("inf")):
        with pytest.raises(ValueError, match="max_distance must be a finite number of metres >= 0"):
            distances(bad)


def around(start: float, lat: float) -> list[list[float]]:
    """A line along `lat` once round the globe eastward from `start`, in steps of 10 degrees,
    longitudes continuous (past 180)."""
    return [[start + 10.0 * k, lat] for k in range(37)]


def wrapped(line: list[list[float]]) -> list[list[float]]:
    """`line` with longitudes in [-180, 180), as files write them (jumps at 180)."""
    return [[(x + 180) % 360 - 180, y] for x, y in line]


def cut_at_180(line: list[list[float]]) -> list[list[list[float]]]:
    """A line with continuous longitudes as parts within [-180, 180] (for the oracle, which
    looks for borders there), cut where it crosses 180."""
    parts: list[list[list[float]]] = [[]]
    for (x0, y0), (x1, y1) in zip(line, line[1:]):
        turn0, turn1 = math.floor((x0 + 180) / 360), math.floor((x1 + 180) / 360)
        if not parts[-1]:
            parts[-1].append([x0 - 360 * turn0, y0])
        if turn0 != turn1:
            meridian = 360 * max(turn0, turn1) - 180
            y = y0 + (meridian - x0) / (x1 - x0) * (y1 - y0)
            parts[-1].append([meridian - 360 * turn0, y])
            parts.append([[meridian - 360 * turn1, y]])
        parts[-1].append([x1 - 360 * turn1, y1])
    return [part for part in parts if len(part) > 1]


def test_lines_the_reading_made_are_not_borders():
    """Zones the reading cuts at 180 or closes along a pole: a C whose bay opens across 180 (the
    cut bridged the bay), the Southern Ocean between rings round the pole starting at
    different longitudes (the closures ran down through Antarctica, the hole), a sea round the
    North Pole with an island (the closure ran through it). The distances are those to the
    true borders: the oracle is given only the rings as drawn, longitudes continuous."""
    bay = [[170, -30], [190, -30], [190, -10], [175, -10], [175, 10], [190, 10], [190, 30], [170, 30], [170, -30]]
    island = [[25, 78], [35, 78], [35, 80], [25, 80], [25, 78]]
    cases = {
        "bay": ([bay], [bay], (-40, 40), (160, 200)),
        "southern ocean": (
            [wrapped(around(30, -60)), wrapped(around(-150, -70))],
            [around(30, -60), around(-150, -70)],
            (-90, -50),
            (-180, 180),
        ),
        "arctic island": ([wrapped(around(30, 70)), island], [around(30, 70), island], (55, 85), (-180, 180)),
    }
    rng = np.random.default_rng(31)
    for name, (rings, borders, lats, lons) in cases.items():
        zones = pz.Zones.from_geojson({"type": "Polygon", "coordinates": rings})
        lat = rng.uniform(*lats, 600).round(5)
        lon = ((rng.uniform(*lons, 600) + 180) % 360 - 180).round(5)
        parts = [part for line in borders for part in cut_at_180(line)]
        truth = {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": {}, "geometry": {"type": "MultiLineString", "coordinates": parts}}
            ],
        }
        checked = check_against_oracle(zones, truth, lat, lon)
        assert checked > 150, name
    # And the tags: inside the band, not on the island or in the bay.
    sea = pz.Zones.from_geojson({"type": "Polygon", "coordinates": [wrapped(around(30, 70)), island]})
    assert sea.tag_numpy([79.0, 79.0, 75.0, 85.0], [27.0, 32.0, 32.0, -150.0]).tolist() == [-1, -1, 0, 0]


def test_a_point_exactly_max_distance_away_is_kept(bundled_zones):
    """Only points farther than max_distance are null: at exactly their own distance, every one
    keeps it (the bound in metres and the chords measured rounded differently)."""
    lat, lon = POINTS
    lat, lon = lat[:2_000], lon[:2_000]
    full = bundled_zones.distance_numpy(lat, lon)
    for i in range(len(lat)):
        if full[i] > 0:
            assert bundled_zones.distance_numpy(lat[i : i + 1], lon[i : i + 1], max_distance=full[i])[0] == full[i]
