"""Derive the bundled land layer and sea routes from Natural Earth 1:110m countries.

    python scripts/make_sea_data.py [tests/data/naturalearth_lowres.geojson]

Needs shapely (the test extra). Writes two files in polars_zones/data/:

- `land-110m.geojson`: the 177 countries of `naturalearth_lowres` dissolved into land (one
  Feature, `name` "land"), holes smaller than 0.01 square degree dropped (slivers between
  country borders), coordinates rounded to 5 decimals.
- `sea-routes.json`: the ports of `PORTS` below, each with an anchorage at sea inside its
  country's bundled maritime zone, and the shortest sea route between every pair of ports.
  Routes are shortest paths in a visibility graph: its nodes are the convex corners of the
  land grown by `MARGIN` degrees (plus the anchorages), its edges the straight lon/lat
  segments that keep more than 0.9 * `MARGIN` from land and stay between latitudes
  `ICE_SOUTH` and `ICE_NORTH` (no polar routes); edge length is the equirectangular distance
  (degrees of longitude scaled by the cosine of the mean latitude). Segments may cross the
  antimeridian (their longitudes are then continued past ±180). So every point of a route is
  at sea, which `tests/test_tracks.py` checks with polars-zones itself.

Natural Earth is in the public domain; see polars_zones/data/LICENSE.md. The `naturalearth_lowres`
GeoJSON is the copy in tests/data (converted from the geopandas 0.14.4 wheel; see its README).
"""

from __future__ import annotations

import heapq
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box, mapping, shape
from shapely.ops import nearest_points

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "polars_zones" / "data"
SOURCE = ROOT / "tests" / "data" / "naturalearth_lowres.geojson"
MARITIME = DATA / "countries-maritime-simplified.geojson"

MARGIN = 0.025  # degrees between routes and land (Gibraltar is 0.07 wide at this scale)
ANCHORAGE = 0.06  # degrees between an anchorage and land
ICE_NORTH, ICE_SOUTH = 66.0, -62.0
SLIVER = 0.01  # square degrees: smaller holes in the dissolved land are dropped

# Container and bulk ports: name, maritime zone (ISO 3166-1 alpha-3), approximate lon, lat.
# The anchorage is the nearest point ANCHORAGE degrees off the 1:110m coast.
PORTS = [
    ("Rotterdam", "NLD", 4.05, 51.95),
    ("Felixstowe", "GBR", 1.32, 51.95),
    ("Southampton", "GBR", -1.40, 50.90),
    ("Le Havre", "FRA", 0.10, 49.48),
    ("Bremerhaven", "DEU", 8.55, 53.55),
    ("Gothenburg", "SWE", 11.85, 57.68),
    ("Gdansk", "POL", 18.67, 54.40),
    ("Sines", "PRT", -8.87, 37.95),
    ("Tanger Med", "MAR", -5.50, 35.88),
    ("Valencia", "ESP", -0.32, 39.44),
    ("Barcelona", "ESP", 2.17, 41.35),
    ("Marseille", "FRA", 5.33, 43.33),
    ("Genoa", "ITA", 8.90, 44.40),
    ("Gioia Tauro", "ITA", 15.90, 38.45),
    ("Piraeus", "GRC", 23.62, 37.94),
    ("Port Said", "EGY", 32.30, 31.26),
    ("Haifa", "ISR", 35.00, 32.82),
    ("Jeddah", "SAU", 39.15, 21.48),
    ("Djibouti", "DJI", 43.13, 11.60),
    ("Salalah", "OMN", 54.00, 16.94),
    ("Jebel Ali", "ARE", 55.03, 25.01),
    ("Dammam", "SAU", 50.20, 26.50),
    ("Karachi", "PAK", 66.98, 24.80),
    ("Nhava Sheva", "IND", 72.95, 18.95),
    ("Colombo", "LKA", 79.85, 6.95),
    ("Chennai", "IND", 80.30, 13.10),
    ("Chittagong", "BGD", 91.80, 22.30),
    ("Singapore", "SGP", 103.85, 1.26),
    ("Port Klang", "MYS", 101.30, 3.00),
    ("Laem Chabang", "THA", 100.88, 13.08),
    ("Cai Mep", "VNM", 107.03, 10.50),
    ("Manila", "PHL", 120.60, 14.45),
    ("Jakarta", "IDN", 106.88, -6.10),
    ("Hong Kong", "HKG", 114.15, 22.30),
    ("Kaohsiung", "TWN", 120.28, 22.60),
    ("Xiamen", "CHN", 118.07, 24.45),
    ("Shanghai", "CHN", 122.05, 30.62),
    ("Qingdao", "CHN", 120.30, 36.00),
    ("Tianjin", "CHN", 117.80, 38.98),
    ("Busan", "KOR", 129.05, 35.08),
    ("Kobe", "JPN", 135.20, 34.67),
    ("Yokohama", "JPN", 139.65, 35.45),
    ("Vladivostok", "RUS", 131.90, 43.10),
    ("Sydney", "AUS", 151.22, -33.97),
    ("Melbourne", "AUS", 144.60, -38.40),
    ("Brisbane", "AUS", 153.17, -27.38),
    ("Fremantle", "AUS", 115.74, -32.05),
    ("Auckland", "NZL", 174.78, -36.84),
    ("Port Moresby", "PNG", 147.15, -9.48),
    ("Suva", "FJI", 178.42, -18.13),
    ("Durban", "ZAF", 31.05, -29.87),
    ("Cape Town", "ZAF", 18.43, -33.90),
    ("Lagos", "NGA", 3.40, 6.30),
    ("Tema", "GHA", 0.00, 5.63),
    ("Abidjan", "CIV", -4.00, 5.25),
    ("Dakar", "SEN", -17.43, 14.68),
    ("Mombasa", "KEN", 39.67, -4.07),
    ("Dar es Salaam", "TZA", 39.30, -6.82),
    ("Luanda", "AGO", 13.23, -8.80),
    ("New York", "USA", -74.05, 40.60),
    ("Savannah", "USA", -80.90, 32.03),
    ("Miami", "USA", -80.15, 25.77),
    ("Houston", "USA", -94.80, 29.30),
    ("Halifax", "CAN", -63.57, 44.64),
    ("Kingston", "JAM", -76.80, 17.95),
    ("Cartagena", "COL", -75.53, 10.40),
    ("Colon", "PAN", -79.90, 9.36),
    ("Balboa", "PAN", -79.57, 8.95),
    ("Santos", "BRA", -46.30, -23.98),
    ("Rio de Janeiro", "BRA", -43.15, -22.90),
    ("Montevideo", "URY", -56.20, -34.92),
    ("Valparaiso", "CHL", -71.62, -33.03),
    ("Callao", "PER", -77.15, -12.05),
    ("Manzanillo", "MEX", -104.30, 19.05),
    ("Los Angeles", "USA", -118.26, 33.73),
    ("Oakland", "USA", -122.30, 37.80),
    ("Vancouver", "CAN", -123.10, 49.29),
    ("Honolulu", "USA", -157.87, 21.30),
]


def rounded(coords):
    if isinstance(coords[0], (int, float)):
        return [round(coords[0], 5), round(coords[1], 5)]
    return [rounded(c) for c in coords]


def dissolve(collection: dict) -> MultiPolygon:
    """The countries united into land, without sliver holes."""
    land = shapely.union_all([shape(f["geometry"]) for f in collection["features"]])
    parts = []
    for part in getattr(land, "geoms", [land]):
        holes = [h for h in part.interiors if Polygon(h).area >= SLIVER]
        parts.append(Polygon(part.exterior, holes))
    return MultiPolygon(parts)


def tripled(geometry):
    """The geometry and its copies 360 degrees east and west, for segments past ±180."""
    return shapely.union_all([shapely.affinity.translate(geometry, dx) for dx in (-360.0, 0.0, 360.0)])


def obstacles(land, margin: float, **buffer):
    """Land grown by `margin`, and the polar ice limits, over three copies of the world."""
    ice = [box(-540, ICE_NORTH, 540, 90), box(-540, -90, 540, ICE_SOUTH)]
    return shapely.union_all([tripled(land).buffer(margin, **buffer), *ice])


def convex_corners(grown) -> np.ndarray:
    """Corners of the grown land's outer rings where the ring turns left (the only corners a
    shortest path can bend at), with longitudes in [-180, 180)."""
    points = []
    for part in getattr(grown, "geoms", [grown]):
        ring = np.asarray(shapely.geometry.polygon.orient(part, 1.0).exterior.coords)[:-1]
        prev, nxt = np.roll(ring, 1, axis=0), np.roll(ring, -1, axis=0)
        cross = (ring[:, 0] - prev[:, 0]) * (nxt[:, 1] - ring[:, 1]) - (ring[:, 1] - prev[:, 1]) * (
            nxt[:, 0] - ring[:, 0]
        )
        points.append(ring[cross > 0])
    pts = np.concatenate(points)
    pts = pts[(pts[:, 0] >= -180) & (pts[:, 0] < 180) & (pts[:, 1] < ICE_NORTH) & (pts[:, 1] > ICE_SOUTH)]
    return np.unique(pts.round(5), axis=0)


def anchorages(land, zones: dict) -> list[tuple[str, str, float, float]]:
    """Each port's anchorage: the nearest point ANCHORAGE degrees off the coast (a little
    further out, so rounding keeps it there), kept only inside the port's maritime zone."""
    grown = land.buffer(ANCHORAGE, quad_segs=4)
    kept = []
    for name, zone, lon, lat in PORTS:
        port = Point(lon, lat)
        if grown.contains(port):
            edge = nearest_points(grown.exterior if hasattr(grown, "exterior") else grown.boundary, port)[0]
            dx, dy = edge.x - lon, edge.y - lat
            norm = math.hypot(dx, dy) or 1.0
            port = Point(edge.x + 0.005 * dx / norm, edge.y + 0.005 * dy / norm)
        if land.distance(port) < ANCHORAGE or not zones[zone].contains(port):
            why = "too near land" if land.distance(port) < ANCHORAGE else f"outside zone {zone}"
            print(f"  skipped {name}: anchorage {port.x:.3f}, {port.y:.3f} {why}")
            continue
        kept.append((name, zone, round(port.x, 5), round(port.y, 5)))
    return kept


def length(lon0, lat0, lon1, lat1):
    """Equirectangular length in degrees of latitude (longitudes scaled at the mean latitude)."""
    return np.hypot((lon1 - lon0) * np.cos(np.radians((lat0 + lat1) / 2)), lat1 - lat0)


def visibility_edges(nodes: np.ndarray, blocked, chunk: int = 200_000):
    """Every pair of nodes whose straight segment (the shorter way round in longitude) keeps
    clear of `blocked`: (i, j, length) arrays."""
    n = len(nodes)
    i, j = np.triu_indices(n, k=1)
    lon0, lat0 = nodes[i, 0], nodes[i, 1]
    lon1, lat1 = nodes[j, 0], nodes[j, 1]
    lon1 = lon1 + np.where(lon1 - lon0 > 180, -360.0, np.where(lon1 - lon0 < -180, 360.0, 0.0))
    shapely.prepare(blocked)
    free = np.zeros(len(i), dtype=bool)
    for s in range(0, len(i), chunk):
        e = min(s + chunk, len(i))
        coords = np.stack([np.stack([lon0[s:e], lat0[s:e]], 1), np.stack([lon1[s:e], lat1[s:e]], 1)], 1)
        free[s:e] = ~shapely.intersects(blocked, shapely.linestrings(coords))
    return i[free], j[free], length(lon0, lat0, lon1, lat1)[free]


def shortest_paths(n: int, edges, sources: list[int]) -> dict[int, list[int]]:
    """Dijkstra from each source: the predecessor list of every node."""
    i, j, w = edges
    adjacency: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for a, b, c in zip(i.tolist(), j.tolist(), w.tolist()):
        adjacency[a].append((b, c))
        adjacency[b].append((a, c))
    trees = {}
    for s in sources:
        dist = [math.inf] * n
        pred = [-1] * n
        dist[s] = 0.0
        heap = [(0.0, s)]
        while heap:
            d, u = heapq.heappop(heap)
            if d > dist[u]:
                continue
            for v, c in adjacency[u]:
                nd = d + c
                if nd < dist[v]:
                    dist[v] = nd
                    pred[v] = u
                    heapq.heappush(heap, (nd, v))
        trees[s] = pred
    return trees


def main(source: Path) -> None:
    t0 = time.perf_counter()
    land = dissolve(json.loads(source.read_text()))
    out = DATA / "land-110m.geojson"
    feature = {
        "type": "Feature",
        "properties": {"name": "land"},
        "geometry": {"type": "MultiPolygon", "coordinates": rounded(mapping(land)["coordinates"])},
    }
    out.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}, separators=(",", ":")))
    land = shape(feature["geometry"])  # the rounded land, as bundled
    print(
        f"{out}: {len(land.geoms)} polygons, {shapely.get_num_coordinates(land)} vertices, "
        f"{out.stat().st_size / 1e3:.0f} kB"
    )

    maritime = json.loads(MARITIME.read_text())
    zones = {f["properties"]["A3"]: shape(f["geometry"]) for f in maritime["features"]}
    ports = anchorages(land, zones)
    # Mitred corners: one node per convex corner of the coast, MARGIN (or a little more) out.
    corners = convex_corners(obstacles(land, MARGIN, join_style="mitre", mitre_limit=3.0))
    nodes = np.concatenate([np.array([[p[2], p[3]] for p in ports]), corners])
    print(f"{len(ports)} ports, {len(corners)} corners ({time.perf_counter() - t0:.1f} s)")

    edges = visibility_edges(nodes, obstacles(land, MARGIN * 0.9, quad_segs=4))
    print(f"{len(edges[0])} visibility edges ({time.perf_counter() - t0:.1f} s)")
    trees = shortest_paths(len(nodes), edges, list(range(len(ports))))
    routes, used = [], {}
    for a in range(len(ports)):
        for b in range(a + 1, len(ports)):
            path, v = [b], b
            while v != a and v != -1:
                v = trees[a][v]
                path.append(v)
            if v == -1:
                print(f"  no route {ports[a][0]} - {ports[b][0]}")
                continue
            path.reverse()
            routes.append([a, b, [used.setdefault(p, len(used)) for p in path[1:-1]]])
    order = sorted(used, key=used.get)
    data = {
        "source": "Natural Earth 1:110m countries (public domain), dissolved; see LICENSE.md",
        "margin_degrees": MARGIN,
        "ports": [{"name": p[0], "zone": p[1], "lon": p[2], "lat": p[3]} for p in ports],
        "waypoints": {
            "lon": [round(float(nodes[k, 0]), 5) for k in order],
            "lat": [round(float(nodes[k, 1]), 5) for k in order],
        },
        "routes": [[a, b, [w for w in path]] for a, b, path in routes],
    }
    out = DATA / "sea-routes.json"
    out.write_text(json.dumps(data, separators=(",", ":")))
    print(
        f"{out}: {len(routes)} routes over {len(order)} waypoints, {out.stat().st_size / 1e3:.0f} kB "
        f"({time.perf_counter() - t0:.1f} s)"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)
