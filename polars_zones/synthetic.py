"""Deterministic AIS-like ship positions, for the demo, the tests and the benchmarks.

Real traffic is not uniform: it crowds coasts, ports and the lanes between them, exactly
where zone borders are detailed. The mix here: points scattered around zone vertices
(coasts and borders), points along lanes between "ports" (vertices picked at random), and
a uniform background over the oceans' latitudes.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from polars_zones._zones import Zones


def ship_positions(
    n: int,
    zones: Zones,
    *,
    seed: int = 0,
    coast: float = 0.4,
    lanes: float = 0.3,
    decimals: int = 6,
) -> pl.DataFrame:
    """`n` positions (columns `lat`, `lon`, `kind`): a fraction `coast` near zone
    vertices, `lanes` along shipping lanes, the rest uniform. Same seed, same points."""
    rng = np.random.default_rng(seed)
    vlon, vlat, _, _ = zones._index.rings()
    n_coast = int(n * coast)
    n_lanes = int(n * lanes)
    n_uniform = n - n_coast - n_lanes

    # Near coasts and borders: a vertex, moved by a heavy-tailed distance (most within a
    # few km, some tens of km out).
    pick = rng.integers(0, len(vlon), n_coast)
    distance = rng.exponential(0.05, n_coast) * rng.choice([0.05, 1.0, 4.0], n_coast, p=[0.3, 0.5, 0.2])
    angle = rng.uniform(0, 2 * np.pi, n_coast)
    coast_lon = vlon[pick] + distance * np.cos(angle)
    coast_lat = vlat[pick] + distance * np.sin(angle)

    # Lanes: 200 routes between 120 ports, positions spread along each with a little drift.
    ports = rng.integers(0, len(vlon), 120)
    routes = rng.integers(0, len(ports), (200, 2))
    route = rng.integers(0, len(routes), n_lanes)
    a, b = ports[routes[route, 0]], ports[routes[route, 1]]
    t = rng.uniform(0, 1, n_lanes)
    lane_lon = vlon[a] + t * (vlon[b] - vlon[a]) + rng.normal(0, 0.03, n_lanes)
    lane_lat = vlat[a] + t * (vlat[b] - vlat[a]) + rng.normal(0, 0.03, n_lanes)

    uniform_lon = rng.uniform(-180, 180, n_uniform)
    uniform_lat = rng.uniform(-80, 80, n_uniform)

    lat = np.concatenate([coast_lat, lane_lat, uniform_lat]).clip(-90, 90).round(decimals)
    lon = np.concatenate([coast_lon, lane_lon, uniform_lon])
    lon = (((lon + 180) % 360) - 180).round(decimals)
    kind = np.repeat(np.array(["coast", "lane", "uniform"]), [n_coast, n_lanes, n_uniform])
    order = rng.permutation(n)
    return pl.DataFrame(
        {
            "lat": lat[order],
            "lon": lon[order],
            "kind": pl.Series(kind[order], dtype=pl.Enum(["coast", "lane", "uniform"])),
        }
    )
