"""A real world map written in every antimeridian encoding real files use, against the
`antimeridian` package (which repairs exactly these encodings into RFC 7946 pieces) and
shapely as the oracle.

The map: the 177 countries of Natural Earth 1:110m (tests/data). Fiji and Russia are cut at
±180 there and Antarctica is one ring closed along -90. Each encoding writes the same map:

- cut: as shipped (RFC 7946 MultiPolygons whose parts run along x = ±180);
- continuous: the pieces east of 180 moved by +360 and united with their western part, so
  rings run past 180 (170 ... 190);
- jumps: those rings with every longitude past 180 wrapped, so consecutive vertices jump by
  nearly 360 (179 -> -179);
- seams: the cut pieces with some vertices on x = 180 written as -180 and some on -180 as
  180, as TopoJSON's quantization and d3 output do;
- open pole: Antarctica's ring left open along the pole (its vertices on -90 removed), the
  rest cut.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import antimeridian
import numpy as np
import polars as pl
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Polygon, mapping, shape

import polars_zones as pz

NATURAL_EARTH = Path(__file__).parent / "data" / "naturalearth_lowres.geojson"
ENCODINGS = ["cut", "continuous", "jumps", "seams", "open pole"]
ON_MERIDIAN = 1e-9


def parts(geometry) -> list[Polygon]:
    return list(getattr(geometry, "geoms", [geometry]))


def whole_width(polygon: Polygon) -> bool:
    x0, _, x1, _ = polygon.bounds
    return x1 - x0 > 359.0


def continuous(geometry):
    """Pieces east of 180 moved past it and united with their western neighbours."""
    pieces = parts(geometry)
    east = [p for p in pieces if p.bounds[0] <= -180 + ON_MERIDIAN and not whole_width(p)]
    if not east:
        return geometry
    rest = [p for p in pieces if p not in east]
    return shapely.union_all([*rest, *(shapely.affinity.translate(p, xoff=360) for p in east)])


def map_coordinates(geometry, f):
    """`geometry` with each ring's (x, y) array passed through f(xy, ring_index)."""
    out = []
    for polygon in parts(geometry):
        rings = [np.asarray(polygon.exterior.coords)] + [np.asarray(r.coords) for r in polygon.interiors]
        rings = [f(r.copy(), k) for k, r in enumerate(rings)]
        out.append(Polygon(rings[0], rings[1:]))
    return MultiPolygon(out)


def jumps(geometry):
    def wrap(xy, _):
        xy[:, 0] = np.where(xy[:, 0] > 180, xy[:, 0] - 360, xy[:, 0])
        return xy

    return map_coordinates(continuous(geometry), wrap)


def seams(geometry):
    """Every other vertex on the meridian written on its other side."""

    def flip(xy, _):
        on = np.flatnonzero(np.abs(np.abs(xy[:, 0]) - 180) < ON_MERIDIAN)
        xy[on[::2], 0] = -np.sign(xy[on[::2], 0]) * 180
        if (xy[0] != xy[-1]).any():  # keep the ring closed
            xy[-1] = xy[0]
        return xy

    return map_coordinates(geometry, flip)


def open_pole(geometry):
    """Antarctica's ring with its vertices on the pole removed: it then ends where it started
    only after going once round the pole, and the reader must close it along -90."""
    out = []
    for polygon in parts(geometry):
        if not whole_width(polygon):
            out.append(mapping(polygon)["coordinates"])
            continue
        xy = np.asarray(polygon.exterior.coords)
        coast = xy[xy[:, 1] > -90 + ON_MERIDIAN]
        out.append([coast.tolist() + [coast[0].tolist()]])
    return {"type": "MultiPolygon", "coordinates": out}


def encode(geometry, encoding: str) -> dict:
    if encoding == "cut":
        return mapping(geometry)
    if encoding == "continuous":
        return mapping(continuous(geometry))
    if encoding == "jumps":
        return mapping(jumps(geometry))
    if encoding == "seams":
        return mapping(seams(geometry))
    return open_pole(geometry)


@pytest.fixture(scope="module")
def world() -> list[tuple[str, object]]:
    collection = json.loads(NATURAL_EARTH.read_text())
    return [(f["properties"]["name"], shape(f["geometry"])) for f in collection["features"]]


def feature_collection(world, encoding: str) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"name": name}, "geometry": encode(geometry, encoding)}
            for name, geometry in world
        ],
    }


def package_fix(geometry: dict, force_south_pole: bool = False) -> list[Polygon]:
    """The antimeridian package's reading of an encoded geometry: RFC 7946 pieces. Edges are
    straight in lon/lat here, as in polars-zones (great_circle=False). With
    `force_south_pole`, rings spanning every longitude in the south are read as going round
    the South Pole (the package's documentation asks for that help where it cannot tell)."""
    fixed = []
    for polygon in parts(shape(geometry)):
        around_pole = force_south_pole and whole_width(polygon) and polygon.bounds[3] < 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # it warns when it fixes a clockwise ring
            fixed.extend(parts(antimeridian.fix_polygon(polygon, great_circle=False, force_south_pole=around_pole)))
    return fixed


def oracle_pieces(geometry: dict, shipped) -> tuple[list[Polygon], bool]:
    """The package's pieces for an encoded feature, with help for a polar ring if its plain
    reading is not the shipped feature; and whether either reading matched."""
    for force in (False, True):
        try:
            fixed = package_fix(geometry, force)
        except ValueError:  # it refuses what it cannot make valid
            continue
        if abs(sum(p.area for p in fixed) - shipped.area) <= 1e-9 * shipped.area:
            return fixed, True
    return parts(shipped), False


@pytest.fixture(scope="module")
def points() -> tuple[np.ndarray, np.ndarray]:
    """200k points: 80k within 2 degrees of ±180, 60k within 2 degrees of the poles, 60k over
    the whole globe."""
    rng = np.random.default_rng(12)
    near_180 = rng.uniform(178, 182, 80_000)
    lon = np.concatenate([np.where(near_180 > 180, near_180 - 360, near_180), rng.uniform(-180, 180, 120_000)])
    poles = rng.uniform(88, 90, 60_000) * rng.choice([-1, 1], 60_000)
    lat = np.concatenate([rng.uniform(-90, 90, 80_000), poles, rng.uniform(-90, 90, 60_000)])
    return lat, lon


def zone_sets(geometries: list, names: list[str], lat, lon) -> list[frozenset]:
    """The names of the geometries containing each point (a zone may be several geometries)."""
    found = [set() for _ in range(len(lat))]
    point, zone = shapely.STRtree(geometries).query(shapely.points(lon, lat), predicate="within")
    for p, z in zip(point, zone):
        found[p].add(names[z])
    return [frozenset(s) for s in found]


def near_boundary(geometries, lat, lon, distance=1e-6) -> np.ndarray:
    tree = shapely.STRtree([g.boundary for g in geometries])
    point, _ = tree.query(shapely.points(lon, lat), predicate="dwithin", distance=distance)
    near = np.zeros(len(lat), dtype=bool)
    near[point] = True
    return near


@pytest.fixture(scope="module")
def truth(world, points):
    """Zones of each point in the map as shipped, and which points lie within 1e-6 degree of a
    border there."""
    lat, lon = points
    names = [n for n, _ in world]
    geometries = [g for _, g in world]
    return zone_sets(geometries, names, lat, lon), near_boundary(geometries, lat, lon)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_encoding_of_a_real_world_map_matches_the_oracle(world, points, truth, encoding):
    lat, lon = points
    collection = feature_collection(world, encoding)
    zones = pz.Zones.from_geojson(collection, id_property="name")
    got = pl.DataFrame({"lat": lat, "lon": lon}).select(pl.col("lat").zones.tag_all("lon", polygons=zones))["lat"]
    got = [frozenset(z) for z in got.to_list()]

    pieces, misread = [], []
    for (name, shipped), feature in zip(world, collection["features"]):
        fixed, read_right = oracle_pieces(feature["geometry"], shipped)
        if not read_right:  # the shipped map is then this feature's oracle
            misread.append(name)
        pieces.extend((name, piece) for piece in fixed)
    # antimeridian 0.4.9 reads every feature of every encoding as shipped (Antarctica's open
    # ring with force_south_pole), except seamed Antarctica: 68k square degrees instead of 6k
    # without help, invalid with it.
    assert misread == (["Antarctica"] if encoding == "seams" else []), misread
    fixed = [piece for _, piece in pieces]
    oracle = zone_sets(fixed, [name for name, _ in pieces], lat, lon)
    expected, near_shipped = truth
    clear = ~near_boundary(fixed, lat, lon) & ~near_shipped
    assert clear.sum() > 0.99 * len(lat)
    # The encoder and the package agree on the map (a check of the oracle itself).
    disagree = [i for i in np.flatnonzero(clear) if oracle[i] != expected[i]]
    assert not disagree, [(lat[i], lon[i], oracle[i], expected[i]) for i in disagree[:10]]
    wrong = [i for i in np.flatnonzero(clear) if got[i] != oracle[i]]
    assert not wrong, [(lat[i], lon[i], sorted(got[i]), sorted(oracle[i])) for i in wrong[:10]]


def test_the_encodings_are_what_they_claim(world):
    """The encoder writes what each encoding is meant to exercise."""
    fiji = dict(world)["Fiji"]
    assert max(x for p in parts(continuous(fiji)) for x, _ in p.exterior.coords) > 180
    xs = [x for p in parts(jumps(fiji)) for x, _ in p.exterior.coords]
    assert max(xs) <= 180 and min(xs) < -179
    seamed = [x for p in parts(seams(fiji)) for x, _ in p.exterior.coords]
    assert 180.0 in seamed and -180.0 in seamed
    antarctica = open_pole(dict(world)["Antarctica"])
    assert all(y > -90 for ring in antarctica["coordinates"] for x, y in ring[0])


def wrangel() -> dict:
    """The eastern part of Wrangel Island as the d3 world map (Natural Earth through TopoJSON)
    writes it: from (-180, 70.99172) round the island west of 180, back through
    (180, 71.53713), closing with a step from 180 to -180 along the meridian."""
    ring = [
        (-180.0, 70.99172),
        (179.874, 70.95964),
        (179.3, 70.88),
        (178.73, 71.1),
        (179.2, 71.45),
        (179.85, 71.55),
        (180.0, 71.53713),
        (-180.0, 70.99172),
    ]
    return {"type": "Feature", "properties": {"name": "Russia"}, "geometry": {"type": "Polygon", "coordinates": [ring]}}


def test_wrangel_island_is_an_island_not_the_arctic(world):
    greenland = next(g for n, g in world if n == "Greenland")
    collection = {
        "type": "FeatureCollection",
        "features": [
            wrangel(),
            {"type": "Feature", "properties": {"name": "Greenland"}, "geometry": mapping(greenland)},
        ],
    }
    zones = pz.Zones.from_geojson(collection, id_property="name")
    got = (
        pl.DataFrame({"lat": [72.0, 85.0, 71.2, 71.2, 80.0], "lon": [-40.0, 0.0, 179.5, -179.5, 179.5]})
        .select(pl.col("lat").zones.tag_all("lon", polygons=zones))["lat"]
        .to_list()
    )
    assert got == [["Greenland"], [], ["Russia"], [], []]


# ---- property test: random rings across ±180 and round the poles, in every encoding ---------


def star(cx: float, cy: float, radius: float, angles: list[float], radii: list[float]) -> np.ndarray:
    """A star-shaped (so simple) ring around (cx, cy), in continuous longitudes."""
    order = np.argsort(angles)
    a, r = np.asarray(angles)[order], np.asarray(radii)[order] * radius
    xy = np.column_stack([cx + r * np.cos(a), np.clip(cy + r * np.sin(a), -89.9, 89.9)]).round(6)
    return np.vstack([xy, xy[:1]])


def cut(polygon: Polygon) -> MultiPolygon:
    pieces = []
    for k in (-1, 0, 1):
        window = shapely.box(-180 + 360 * k, -90, 180 + 360 * k, 90)
        part = shapely.affinity.translate(polygon.intersection(window), xoff=-360 * k)
        pieces.extend(p for p in parts(part) if isinstance(p, Polygon) and not p.is_empty)
    return MultiPolygon(pieces)


def ring_encodings(xy: np.ndarray) -> dict[str, dict]:
    polygon = Polygon(xy)
    pieces = cut(polygon)
    wrapped = xy.copy()
    wrapped[:, 0] = np.where(wrapped[:, 0] > 180, wrapped[:, 0] - 360, wrapped[:, 0])
    wrapped[:, 0] = np.where(wrapped[:, 0] < -180, wrapped[:, 0] + 360, wrapped[:, 0])
    return {
        "continuous": mapping(polygon),
        "jumps": {"type": "Polygon", "coordinates": [wrapped.tolist()]},
        "cut": mapping(pieces),
        "seams": mapping(seams(pieces)),
    }


def polar_encodings(lats: list[float], south: bool) -> tuple[dict[str, dict], np.ndarray, np.ndarray]:
    """A coast round a pole at the given latitudes (evenly spaced longitudes from -180 to 180),
    closed along the pole or left open."""
    lons = np.linspace(-180, 180, len(lats) + 1)
    coast = np.asarray(lats + lats[:1]) * (-1 if south else 1)
    ring = [[float(x), float(y)] for x, y in zip(lons, coast)]
    pole = -90.0 if south else 90.0
    closed = ring + [[180.0, pole], [-180.0, pole], ring[0]]
    open_ring = ring[:-1] + [ring[0]]
    return (
        {"pole": {"type": "Polygon", "coordinates": [closed]}, "open": {"type": "Polygon", "coordinates": [open_ring]}},
        lons,
        coast,
    )


@settings(max_examples=60, deadline=None)
@given(
    cx=st.floats(172, 188),
    cy=st.floats(-80, 80),
    radius=st.floats(0.2, 7.5),
    angles=st.lists(st.floats(0, 2 * np.pi, exclude_max=True), min_size=3, max_size=14, unique=True),
    radii=st.lists(st.floats(0.2, 1.0), min_size=14, max_size=14),
    seed=st.integers(0, 2**16),
)
def test_random_rings_across_180_agree_in_every_encoding(cx, cy, radius, angles, radii, seed):
    xy = star(cx, cy, radius, angles, radii[: len(angles)])
    polygon = Polygon(xy)
    if not polygon.is_valid or polygon.area < 1e-6:
        return
    rng = np.random.default_rng(seed)
    lat = np.clip(cy + rng.uniform(-radius, radius, 2_000), -90, 90)
    lon = cx + rng.uniform(-radius, radius, 2_000)
    lon = (lon + 180) % 360 - 180
    shifted = [lon + 360 * k for k in (-1, 0, 1)]
    inside = np.any([shapely.contains_xy(polygon, x, lat) for x in shifted], axis=0)
    near = np.any([shapely.dwithin(polygon.boundary, shapely.points(x, lat), 1e-6) for x in shifted], axis=0)
    for name, geometry in ring_encodings(xy).items():
        zones = pz.Zones.from_geojson(geometry)
        got = zones.tag_numpy(lat, lon) == 0
        wrong = np.flatnonzero((got != inside) & ~near)
        assert wrong.size == 0, (name, [(lat[i], lon[i], got[i]) for i in wrong[:5]])


@settings(max_examples=30, deadline=None)
@given(
    lats=st.lists(st.floats(60, 85), min_size=3, max_size=40),
    south=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_random_rings_round_a_pole_are_closed_along_it(lats, south, seed):
    encodings, lons, coast = polar_encodings(lats, south)
    rng = np.random.default_rng(seed)
    lon = rng.uniform(-180, 180, 3_000)
    lat = rng.uniform(55, 90, 3_000) * (-1 if south else 1)
    # The coast is straight in lon/lat between its vertices: its latitude under each point.
    under = np.interp(lon, lons, coast)
    inside = lat < under if south else lat > under
    # (The open ring's closing step, from its last vertex across the meridian to its first, is
    # the coast's last edge: the coast ends at 180 on the latitude it starts with at -180.)
    clear = np.abs(lat - under) > 1e-6
    for name, geometry in encodings.items():
        got = pz.Zones.from_geojson(geometry).tag_numpy(lat, lon) == 0
        wrong = np.flatnonzero((got != inside) & clear)
        assert wrong.size == 0, (name, [(lat[i], lon[i], got[i]) for i in wrong[:5]])
