"""How `Zones.validate` grows with its input: the 10 m maritime zones, and three shapes that
used to make it quadratic, each at two sizes (4x apart), next to shapely's
`is_valid_reason` (GEOS) on the same geometries.

    python bench/validate_scaling.py

The shapes: one MultiPolygon of small squares stacked north to south (every edge spans the
same longitudes), one polygon whose shell has many vertices and many small holes, and the
same as a MultiPolygon of the big part and small parts nested in it. Medians of 3, in this
process; GeoJSON is built before the timed region, and both tools parse it inside it.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from functools import partial
from pathlib import Path
from typing import Any, Callable

import shapely

import polars_zones as pz

SOURCE = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "countries-maritime-10m.geojson"
RUNS = 3


def median_seconds(run: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(RUNS):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def square(x: float, y: float, side: float, clockwise: bool = False) -> list[list[float]]:
    ring = [[x, y], [x + side, y], [x + side, y + side], [x, y + side], [x, y]]
    return ring[::-1] if clockwise else ring


def circle(n: int) -> list[list[float]]:
    points = [[math.cos(math.tau * i / n), math.sin(math.tau * i / n)] for i in range(n)]
    return points + [points[0]]


def small_squares_inside(k: int, clockwise: bool) -> list[list[list[float]]]:
    m = math.isqrt(k) + 1
    return [square(-0.5 + (i % m) / m, -0.5 + (i // m) / m, 0.2 / m, clockwise) for i in range(k)]


def column(n: int) -> dict:
    return {"type": "MultiPolygon", "coordinates": [[square(0.0, i * 0.001, 0.0005)] for i in range(n)]}


def holes(n: int) -> dict:
    return {"type": "Polygon", "coordinates": [circle(10 * n), *small_squares_inside(n, clockwise=True)]}


def nested(n: int) -> dict:
    parts = [[circle(10 * n)], *([s] for s in small_squares_inside(n, clockwise=False))]
    return {"type": "MultiPolygon", "coordinates": parts}


def shapely_geometries(text: str) -> list[Any]:
    data = json.loads(text)
    features = data["features"] if data.get("type") == "FeatureCollection" else [{"geometry": data}]
    return [shapely.geometry.shape(f["geometry"]) for f in features if f.get("geometry")]


def shapely_reasons(text: str) -> list[str]:
    return [r for r in shapely.is_valid_reason(shapely_geometries(text)) if r != "Valid Geometry"]


def main() -> None:
    print("| input | vertices | polars-zones validate | problems found | shapely is_valid_reason | invalid (shapely) |")
    print("|---|---|---|---|---|---|")
    cases: list[tuple[str, str, Any]] = []
    if SOURCE.exists():
        cases.append(("10 m maritime zones", SOURCE.read_text(), "A3"))
    shapes = {"parts stacked north to south": column, "shell with holes": holes, "parts nested in a part": nested}
    sizes = {"parts stacked north to south": (4000, 16000)}
    for name, make in shapes.items():
        for n in sizes.get(name, (2000, 8000)):
            cases.append((f"{name}, {n:,}", json.dumps(make(n)), None))
    seconds: dict[str, float] = {}
    for name, text, id_property in cases:
        vertices = int(shapely.get_num_coordinates(shapely_geometries(text)).sum())
        ours, problems = median_seconds(partial(pz.Zones.validate, text, id_property=id_property))
        theirs, reasons = median_seconds(partial(shapely_reasons, text))
        seconds[name] = ours
        print(f"| {name} | {vertices:,} | {ours:.3f} s | {problems.height:,} | {theirs:.3f} s | {len(reasons):,} |")
    print()
    for name in shapes:
        small, large = (seconds[k] for k in seconds if k.startswith(name))
        print(f"{name}: 4x the input, {large / small:.1f}x the time")


if __name__ == "__main__":
    main()
