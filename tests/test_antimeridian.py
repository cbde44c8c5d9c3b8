"""Zones across the 180th meridian and around the poles, in every encoding a file may use.

The oracle is shapely on the zone written with continuous longitudes (170..190, say): a point
(lat, lon) is in the zone when shapely's zone contains (lon + 360k, lat) for some k.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box, mapping

import polars_zones as pz


def wobbly_ring(x0: float, x1: float, y0: float, y1: float, n: int, seed: int) -> list[tuple[float, float]]:
    """A ring with a jagged coast, like real zones: a box whose edges carry noise."""
    rng = np.random.default_rng(seed)
    xs = np.linspace(x0, x1, n)
    ys = np.linspace(y0, y1, n)
    dx, dy = (x1 - x0) / (4 * n), (y1 - y0) / (4 * n)
    south = [(x, y0 + rng.uniform(-dy, dy)) for x in xs[:-1]]
    east = [(x1 + rng.uniform(-dx, dx), y) for y in ys[:-1]]
    north = [(x, y1 + rng.uniform(-dy, dy)) for x in xs[::-1][:-1]]
    west = [(x0 + rng.uniform(-dx, dx), y) for y in ys[::-1][:-1]]
    ring = [(round(x, 6), round(y, 6)) for x, y in south + east + north + west]
    return ring + [ring[0]]


def zone_shapes() -> dict[str, MultiPolygon]:
    """Zones in continuous longitudes, shaped after real ones that cross 180."""
    fiji = Polygon(
        wobbly_ring(176.0, 182.5, -21.0, -15.0, 40, 1), [wobbly_ring(178.0, 179.5, -19.0, -17.5, 12, 2)[::-1]]
    )
    kiribati = MultiPolygon(
        [
            Polygon(wobbly_ring(169.0, 177.0, -3.0, 4.0, 30, 3)),
            Polygon(wobbly_ring(178.5, 186.0, -6.0, 1.0, 30, 4)),  # Phoenix-like group, across 180
            Polygon(wobbly_ring(197.0, 210.0, -12.0, 6.0, 40, 5)),  # Line-like group, far east
        ]
    )
    chukotka = Polygon(wobbly_ring(165.0, 191.0, 62.0, 72.0, 80, 6))
    aleutians = MultiPolygon(
        [
            Polygon(wobbly_ring(172.0 + 4.0 * i, 174.5 + 4.0 * i, 51.0 + 0.3 * i, 52.5 + 0.3 * i, 10, 10 + i))
            for i in range(5)
        ]
    )  # 172..190.5: one island straddles 180
    return {"FJI": MultiPolygon([fiji]), "KIR": kiribati, "RUS": MultiPolygon([chukotka]), "USA": aleutians}


def wrap(lon):
    return (np.asarray(lon) + 180.0) % 360.0 - 180.0


def encode(shape: MultiPolygon, encoding: str) -> dict:
    """The zone as GeoJSON: 'continuous' longitudes past 180, 'jumps' (every longitude wrapped
    into [-180, 180), so edges jump by ~360), or 'rfc7946' (cut at ±180 into pieces)."""
    if encoding == "continuous":
        return mapping(shape)
    if encoding == "jumps":
        return mapping(shapely.transform(shape, lambda xy: np.column_stack([wrap(xy[:, 0]), xy[:, 1]])))
    pieces = []
    for k in (-1, 0, 1):
        window = box(-180 + 360 * k, -90, 180 + 360 * k, 90)
        part = shapely.affinity.translate(shape.intersection(window), xoff=-360 * k)
        pieces.extend(getattr(part, "geoms", [part]))
    return mapping(MultiPolygon([p for p in pieces if isinstance(p, Polygon) and not p.is_empty]))


def feature_collection(encoding: str) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"A3": name}, "geometry": encode(shape, encoding)}
            for name, shape in zone_shapes().items()
        ],
    }


def oracle(lat: np.ndarray, lon: np.ndarray) -> tuple[list, np.ndarray]:
    """Zone of each point by shapely over the continuous shapes (first zone wins, as in
    polars-zones), and whether the point is within 1e-6 degree of a boundary (ambiguous)."""
    names = list(zone_shapes())
    answer = np.full(len(lat), None, dtype=object)
    near = np.zeros(len(lat), dtype=bool)
    for name, shape in reversed(list(zone_shapes().items())):
        for k in (-1, 0, 1):
            x = lon + 360 * k
            inside = shapely.contains_xy(shape, x, lat)
            answer[inside] = name
            near |= shapely.dwithin(shape.boundary, shapely.points(x, lat), 1e-6)
    del names
    return list(answer), near


@pytest.fixture(scope="module")
def points():
    rng = np.random.default_rng(0)
    boxes = [(174, 186, -23, -13), (166, 212, -14, 8), (162, 194, 59, 75), (168, 194, 49, 56)]
    lat, lon = [], []
    for x0, x1, y0, y1 in boxes:
        lon.append(rng.uniform(x0, x1, 20_000))
        lat.append(rng.uniform(y0, y1, 20_000))
    lat, lon = np.concatenate(lat).round(6), wrap(np.concatenate(lon)).round(6)
    # Exactly on the meridian, written both ways, inside and outside the zones.
    on_lat = np.concatenate([rng.uniform(-23, -13, 300), rng.uniform(59, 75, 300), rng.uniform(49, 56, 300)]).round(6)
    lat = np.concatenate([lat, on_lat, on_lat])
    lon = np.concatenate([lon, np.full(len(on_lat), 180.0), np.full(len(on_lat), -180.0)])
    return lat, lon


@pytest.mark.parametrize("encoding", ["continuous", "jumps", "rfc7946"])
def test_zones_across_180_match_the_oracle(encoding, points):
    lat, lon = points
    zones = pz.Zones.from_geojson(feature_collection(encoding), id_property="A3")
    got = pl.DataFrame({"lat": lat, "lon": lon}).select(pl.col("lat").zones.tag("lon", polygons=zones))["lat"]
    want, near = oracle(lat, np.where(lon == 180.0, -180.0, lon))
    got, want = np.array(got.to_list(), dtype=object), np.array(want, dtype=object)
    clear = ~near
    assert clear.sum() > 0.99 * len(lat)
    mismatches = np.flatnonzero((got != want) & clear)
    assert mismatches.size == 0, [(lat[i], lon[i], got[i], want[i]) for i in mismatches[:10]]
    # The meridian itself: 180 and -180 are the same place, and inside a zone that spans it.
    n = 900
    assert (got[-2 * n : -n] == got[-n:]).all()
    assert (got[-n:][clear[-n:]] != None).sum() > 0.3 * n  # noqa: E711


def test_all_encodings_agree_point_for_point(points):
    lat, lon = points
    tags = []
    for encoding in ("continuous", "jumps", "rfc7946"):
        zones = pz.Zones.from_geojson(feature_collection(encoding), id_property="A3")
        tags.append(zones.tag_numpy(lat, lon, boundary="inclusive"))
    # The cuts add vertices on ±180, so only points within a hair of an edge may differ.
    _, near = oracle(lat, wrap(lon))
    assert (tags[0][~near] == tags[1][~near]).all() and (tags[0][~near] == tags[2][~near]).all()


def test_planar_opt_out(points):
    jumps = feature_collection("jumps")
    planar = pz.Zones.from_geojson(jumps, id_property="A3", antimeridian="planar")
    split = pz.Zones.from_geojson(jumps, id_property="A3")
    # Taken literally, Fiji's ring runs the long way round the globe: it covers 0, 0.
    fiji_planar = pz.Zones.from_geojson(jumps["features"][0]["geometry"], antimeridian="planar")
    assert fiji_planar.tag_numpy([-18.0], [0.0])[0] == 0
    assert split.tag_numpy([-18.0], [0.0])[0] == -1
    assert planar.fingerprint != split.fingerprint
    with pytest.raises(ValueError, match="longitude 181.5 is outside \\[-180, 180\\]"):
        pz.Zones.from_geojson(
            {"type": "Polygon", "coordinates": [[[170, 0], [181.5, 0], [181.5, 1], [170, 0]]]}, antimeridian="planar"
        )
    with pytest.raises(ValueError, match="antimeridian must be"):
        pz.Zones.from_geojson(jumps, antimeridian="wrap")


def antarctica(closing: str) -> dict:
    """An Antarctic ring running east along a jagged coast: from -180 to 180 and closed along
    the pole ('pole': down to -90 and back, as Natural Earth writes it), or from -179.75 to
    179.75 and then straight back to its first vertex across the meridian ('open'), which
    goes once round the pole and is closed along it."""
    rng = np.random.default_rng(3)
    lons = np.linspace(-180, 180, 721)
    lats = (-70 + rng.uniform(-3, 3, len(lons))).round(6)
    lats[-1] = lats[0]
    coast = [[float(x), float(y)] for x, y in zip(lons, lats)]
    if closing == "pole":
        ring = coast + [[180.0, -90.0], [-180.0, -90.0], coast[0]]
    else:
        ring = coast[1:-1] + [coast[1]]
    return {"type": "Polygon", "coordinates": [ring]}, (lons, lats)


@pytest.mark.parametrize("closing", ["pole", "open"])
def test_a_zone_around_the_south_pole(closing):
    geometry, (lons, lats) = antarctica(closing)
    zones = pz.Zones.from_geojson(geometry)
    rng = np.random.default_rng(4)
    lon = rng.uniform(-180, 180, 50_000).round(6)
    lat = rng.uniform(-90, -60, 50_000).round(6)
    coast = np.interp(lon, lons, lats)  # the coast's latitude under each point
    clear = np.abs(lat - coast) > 1e-3
    if closing == "open":  # across the meridian the coast is one straight edge, not `coast`
        clear &= np.abs(lon) < 179.5
    got = zones.tag_numpy(lat, lon) == 0
    assert (got[clear] == (lat < coast)[clear]).all()
    # Right at the pole and beside it, on every side.
    assert (zones.tag_numpy([-89.999, -89.999, -89.999, -90.0], [-180.0, 0.0, 179.999, 0.0]) == 0)[:3].all()
    assert zones.tag_numpy([-90.0], [45.0], boundary="inclusive")[0] == 0


def test_wrapped_points_match_unwrapped_ones():
    zones = pz.Zones.from_geojson(feature_collection("jumps"), id_property="A3")
    rng = np.random.default_rng(9)
    lat = rng.uniform(-25, 75, 5_000).round(6)
    lon = rng.uniform(-180, 180, 5_000).round(6)
    base = zones.tag_numpy(lat, lon)
    for shift in (360.0, -360.0, 720.0):
        assert (zones.tag_numpy(lat, lon + shift) == base).all()


def test_points_on_180_under_each_boundary_rule_match_shapely():
    # A point at longitude 180 (or -180, or 540) is one point with two places in the plane.
    # Inclusive: in every zone whose closure holds either place, a zone that ends at 180
    # included; exclusive: on an edge at both places (a cut is an edge, as in the cut polygons
    # shapely sees), so in none; half-open: nudged east, into the zones that start at -180.
    zones_geo = {
        "E": box(170, 20, 180, 30),  # ends at 180
        "W": box(-180, 20, -170, 30),  # starts at -180
        "C": Polygon([(170, 0), (190, 0), (190, 10), (170, 10)]),  # crosses it (past 180)
        "F": box(175, 40, 180, 50),  # ends at 180, nothing beyond
        # A U open to the west across 180: cut there, its western part runs up the meridian
        # and back down across the hollow (62..68), which is outside.
        "U": Polygon([(176, 60), (184, 60), (184, 70), (176, 70), (176, 68), (182, 68), (182, 62), (176, 62)]),
    }
    zones = pz.Zones.from_geojson(
        {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": {"n": n}, "geometry": mapping(g)} for n, g in zones_geo.items()
            ],
        },
        id_property="n",
    )
    world = box(-180, -90, 180, 90)
    # The oracle's pieces: each zone cut to [-180, 180] from itself and its copy 360 degrees west.
    # (Only parts with area: E's copy touches the world along -180, a line.)
    cuts = {
        n: [g.intersection(world), shapely.affinity.translate(g, -360).intersection(world)]
        for n, g in zones_geo.items()
    }
    pieces = {n: shapely.union_all([part for part in parts if part.area > 0]) for n, parts in cuts.items()}
    lats = [-5.0, 0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0, 45.0, 50.0, 60.0, 61.0, 62.0, 65.0, 68.0, 70.0]
    lons = [180.0, -180.0, 540.0, 179.99999999]
    frame = pl.DataFrame({"lat": [a for a in lats for _ in lons], "lon": [o for _ in lats for o in lons]})
    names = list(zones_geo)
    for boundary in ("inclusive", "exclusive", "half-open"):
        tagged = frame.select(
            all=pl.col("lat").zones.tag_all("lon", polygons=zones, boundary=boundary),
            first=pl.col("lat").zones.tag("lon", polygons=zones, boundary=boundary),
            within=pl.col("lat").zones.within("lon", polygons=zones, boundary=boundary),
            distance=pl.col("lat").zones.distance("lon", polygons=zones, boundary=boundary),
        )
        for (lat, lon), got in zip(frame.iter_rows(), tagged.iter_rows(named=True)):
            if boundary == "inclusive":
                places = [shapely.Point(180, lat), shapely.Point(-180, lat)]
                expected = [n for n in names if any(pieces[n].covers(q) for q in places)]
            elif boundary == "exclusive":
                expected = [n for n in names if pieces[n].contains(shapely.Point(-180, lat))]
                assert expected == []
            else:  # nudged east (and less, north) of -180
                expected = [n for n in names if pieces[n].contains(shapely.Point(-180 + 1e-9, lat + 1e-12))]
            where = f"({lat}, {lon}), {boundary}"
            assert [str(z) for z in got["all"]] == expected, where
            assert got["first"] == (expected[0] if expected else None), where
            assert got["within"] == bool(expected), where
            if expected:
                assert got["distance"] == 0.0, where
        if boundary == "inclusive":
            tagged_lats = {lat for (lat, _), z in zip(frame.iter_rows(), tagged["first"]) if z is not None}
            assert {20.0, 25.0, 30.0, 40.0, 45.0, 50.0} <= tagged_lats  # E, F: they end at 180
    # numpy in, the kernel's sorted blocks (more than 4,096 points).
    lat = np.tile(np.array(lats), 500)
    got = zones.tag_numpy(lat, np.full(lat.size, 180.0), boundary="inclusive")
    expected = [
        names.index(zones_at[0])
        if (zones_at := [n for n in names if any(pieces[n].covers(shapely.Point(x, a)) for x in (180, -180))])
        else -1
        for a in lats
    ]
    assert (got == np.tile(np.array(expected), 500)).all()
