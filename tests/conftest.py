"""Fixtures and the independent oracle: shapely (GEOS), one polygon part at a time."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

import polars_zones as pz
from polars_zones.synthetic import ship_positions

FULL_10M = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "countries-maritime-10m.geojson"


@dataclass
class OracleAnswer:
    """Per point: zones by shapely `intersects_xy` (boundary inside) and `contains_xy`
    (boundary outside), each the union over a zone's polygon parts."""

    inclusive: list[set[int]]
    exclusive: list[set[int]]

    @property
    def unambiguous(self) -> np.ndarray:
        return np.array([a == b for a, b in zip(self.inclusive, self.exclusive)])

    def first(self) -> np.ndarray:
        """Lowest zone index per point (-1 for none), from the unambiguous answer."""
        return np.array([min(s) if s else -1 for s in self.exclusive], dtype=np.int32)


def polygon_parts(collection: dict) -> tuple[np.ndarray, np.ndarray]:
    """Every Polygon part of every feature, and the feature (zone) index of each.

    GEOS judges a MultiPolygon as a whole, and 32 of the maritime zones are invalid ones
    (island shells nested in other shells) for which it says outside; our semantics are per
    part, united per zone, so the oracle is too."""
    parts, zone = [], []
    for i, feature in enumerate(collection["features"]):
        geometry = shape(feature["geometry"])
        for part in getattr(geometry, "geoms", [geometry]):
            parts.append(part)
            zone.append(i)
    parts = np.array(parts, dtype=object)
    shapely.prepare(parts)
    return parts, np.array(zone)


def shapely_oracle(parts: np.ndarray, part_zone: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> OracleAnswer:
    tree = shapely.STRtree(parts)
    points = shapely.points(lon, lat)
    point_idx, part_idx = tree.query(points, predicate="intersects")
    contains = shapely.contains_xy(parts[part_idx], lon[point_idx], lat[point_idx])
    inclusive = [set() for _ in range(len(lat))]
    exclusive = [set() for _ in range(len(lat))]
    for p, q, c in zip(point_idx, part_idx, contains):
        inclusive[p].add(int(part_zone[q]))
        if c:
            exclusive[p].add(int(part_zone[q]))
    return OracleAnswer(inclusive, exclusive)


@pytest.fixture(scope="session")
def bundled_collection() -> dict:
    return json.loads(pz.datasets.maritime_zones_path().read_text())


@pytest.fixture(scope="session")
def bundled_zones() -> pz.Zones:
    return pz.datasets.maritime_zones()


@pytest.fixture(scope="session")
def bundled_parts(bundled_collection):
    return polygon_parts(bundled_collection)


@pytest.fixture(scope="session")
def full_collection() -> dict:
    if not FULL_10M.exists():
        pytest.skip(f"the 10 m maritime zones are not at {FULL_10M} (shared data absent on this machine)")
    return json.loads(FULL_10M.read_text())


@pytest.fixture(scope="session")
def oracle_points(bundled_zones):
    """200k AIS-like points (40% near coasts and borders, 30% along lanes) plus 20k points
    within ~100 m of a zone vertex: deterministic."""
    df = ship_positions(200_000, bundled_zones, seed=7)
    rng = np.random.default_rng(11)
    vlon, vlat, _, _ = bundled_zones._index.rings()
    pick = rng.integers(0, len(vlon), 20_000)
    lat = np.concatenate([df["lat"].to_numpy(), (vlat[pick] + rng.normal(0, 0.001, 20_000)).round(6)])
    lon = np.concatenate([df["lon"].to_numpy(), (vlon[pick] + rng.normal(0, 0.001, 20_000)).round(6)])
    # Real positions stay in [-180, 180): wrap the few jittered past the antimeridian.
    return lat, (((lon + 180) % 360) - 180).round(6)
