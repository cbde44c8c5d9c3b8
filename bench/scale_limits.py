"""Scale limits: a 10M-vertex zone, 100k small zones, a zone of thousands of overlapping
spikes, a comb of long parallel edges, next to the realistic case (the 10 m maritime zones).

    python bench/scale_limits.py

Each case runs in its own process: build the GeoJSON text, then `Zones.from_geojson` (parse +
build), then tag 4M uniform points over the zones' bounds through the Polars expression
(median of 3). Peak memory is the process's high-water mark (VmHWM) during the build minus
its resident size just before, per vertex: it includes the GeoJSON parse, not only the index.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent.parent / "shared" / "data" / "countries-maritime-10m.geojson"
CASES = ["maritime-10m", "one-zone-10M-vertices", "100k-small-zones", "spiky-zone-5000-spikes", "comb-40000-long-edges"]


def status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def reset_peak() -> None:
    # Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0).
    Path("/proc/self/clear_refs").write_text("5")


def geojson(case: str) -> tuple[str, str | None]:
    """The case's GeoJSON text and its id property."""
    rng = np.random.default_rng(0)
    if case == "maritime-10m":
        return SOURCE.read_text(), "A3"
    if case == "one-zone-10M-vertices":
        # A coastline: a wavy circle with a random walk on top, every edge about as long
        # as the spacing of the vertices (2.5e-5 degree), as in a detailed survey.
        n = 10_000_000
        angle = np.linspace(0, 2 * math.pi, n, endpoint=False)
        walk = np.cumsum(rng.normal(0, 2e-5, n))
        walk -= np.linspace(0, walk[-1], n)  # ends where it starts
        radius = 40 + 2 * np.sin(7 * angle) + np.sin(31 * angle) + walk
        ring = np.column_stack([(radius * np.cos(angle) * 2).round(6), (radius * np.sin(angle)).round(6)])
        coords = ring.tolist()
        coords.append(coords[0])
        return json.dumps({"type": "Polygon", "coordinates": [coords]}), None
    if case == "100k-small-zones":
        features = []
        side = 316
        for i in range(100_000):
            x, y = -170 + (i % side) * 1.07, -80 + (i // side) * 0.5
            hexagon = [
                [round(x + 0.4 * math.cos(a), 6), round(y + 0.2 * math.sin(a), 6)]
                for a in np.linspace(0, 2 * math.pi, 7)
            ]
            hexagon[-1] = hexagon[0]
            features.append(
                {
                    "type": "Feature",
                    "properties": {"id": f"z{i}"},
                    "geometry": {"type": "Polygon", "coordinates": [hexagon]},
                }
            )
        return json.dumps({"type": "FeatureCollection", "features": features}), "id"
    if case == "spiky-zone-5000-spikes":
        # A star: 5000 spikes from near the centre out to 80 degrees; every row of the grid
        # near the centre crosses all of them.
        n = 5000
        angle = np.linspace(0, 2 * math.pi, 2 * n, endpoint=False)
        radius = np.where(np.arange(2 * n) % 2 == 0, 85.0, 0.5)
        ring = np.column_stack(
            [(radius * np.cos(angle) * 2).clip(-179, 179).round(6), (radius * np.sin(angle)).clip(-89, 89).round(6)]
        )
        coords = ring.tolist()
        coords.append(coords[0])
        return json.dumps({"type": "Polygon", "coordinates": [coords]}), None
    if case == "comb-40000-long-edges":
        # A zigzag of 40,000 edges, each 10 degrees long and 0.0001 degree above the last:
        # every cell fine enough to separate them is crossed by its neighbours' edges too.
        n = 40_000
        coords = [[0.0 if i % 2 == 0 else 10.0, round(i * 1e-4, 6)] for i in range(n)]
        coords += [[-1.0, round(n * 1e-4, 6)], [-1.0, 0.0], coords[0]]
        return json.dumps({"type": "Polygon", "coordinates": [coords]}), None
    raise ValueError(case)


def run_case(case: str) -> dict:
    import polars as pl

    import polars_zones as pz

    text, id_property = geojson(case)
    before = status("VmRSS")
    reset_peak()
    t = time.perf_counter()
    zones = pz.Zones.from_geojson(text, id_property=id_property)
    build = time.perf_counter() - t
    peak = status("VmHWM") - before
    del text
    min_lon, min_lat, max_lon, max_lat = zones.bounds
    rng = np.random.default_rng(1)
    n = 4_000_000
    df = pl.DataFrame({"lat": rng.uniform(min_lat, max_lat, n), "lon": rng.uniform(min_lon, max_lon, n)})
    lf = df.lazy().select(pl.col("lat").zones.tag("lon", polygons=zones))
    flags = pl.QueryOptFlags(comm_subexpr_elim=False)
    lf.collect(optimizations=flags)
    times = []
    for _ in range(3):
        t = time.perf_counter()
        lf.collect(optimizations=flags)
        times.append(time.perf_counter() - t)
    return {
        "case": case,
        "zones": len(zones),
        "vertices": zones.num_vertices,
        "from_geojson_s": build,
        "index_build_s": zones._index.build_seconds,
        "peak_bytes_per_vertex": peak / zones.num_vertices,
        "index_bytes_per_vertex": zones.index_bytes / zones.num_vertices,
        "points_per_s": n / statistics.median(times),
    }


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--case":
        print(json.dumps(run_case(sys.argv[2])))
        return
    print(
        "| case | zones | vertices | from_geojson s | index build s | peak RSS of the build, bytes/vertex "
        "| index bytes/vertex | 4M uniform points, points/s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for case in CASES:
        if case == "maritime-10m" and not SOURCE.exists():
            continue
        done = subprocess.run([sys.executable, __file__, "--case", case], capture_output=True, text=True, check=True)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"| {r['case']} | {r['zones']:,} | {r['vertices']:,} | {r['from_geojson_s']:.2f} "
            f"| {r['index_build_s']:.2f} | "
            f"{r['peak_bytes_per_vertex']:.0f} | {r['index_bytes_per_vertex']:.1f} | {r['points_per_s'] / 1e6:.1f}M |",
            flush=True,
        )


if __name__ == "__main__":
    main()
