"""Derive the bundled zone set from the 10 m maritime zones.

    python scripts/make_bundled_zones.py ../shared/data/countries-maritime-10m.geojson

Writes polars_zones/data/countries-maritime-simplified.geojson: each country's zone
simplified with shapely (Douglas-Peucker, topology-preserving, tolerance 0.01 degree),
coordinates rounded to 5 decimals (what the source has), property A3 kept.
Source data: © OpenStreetMap contributors, geo-maps; ODbL 1.0 (see data/LICENSE.md).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import shapely
from shapely.geometry import mapping, shape

TOLERANCE = 0.01
OUT = Path(__file__).resolve().parent.parent / "polars_zones" / "data" / "countries-maritime-simplified.geojson"


def rounded(coords):
    if isinstance(coords[0], (int, float)):
        return [round(coords[0], 5), round(coords[1], 5)]
    return [rounded(c) for c in coords]


def simplify_collection(collection: dict, tolerance: float) -> dict:
    """Each feature's geometry simplified (topology-preserving), property A3 kept."""
    features = []
    for feature in collection["features"]:
        geometry = shape(feature["geometry"]).simplify(tolerance, preserve_topology=True)
        g = mapping(geometry)
        features.append(
            {
                "type": "Feature",
                "properties": {"A3": feature["properties"]["A3"]},
                "geometry": {"type": g["type"], "coordinates": rounded(json.loads(json.dumps(g["coordinates"])))},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def main(source: str) -> None:
    collection = simplify_collection(json.loads(Path(source).read_text()), TOLERANCE)
    vertices = sum(shapely.get_num_coordinates(shape(f["geometry"])) for f in collection["features"])
    OUT.write_text(json.dumps(collection, separators=(",", ":")))
    print(f"{OUT}: {len(collection['features'])} zones, {vertices} vertices, {OUT.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/countries-maritime-10m.geojson")
