"""What `tag_all` costs next to `tag` on named zones: time and peak memory of one collect.

    python bench/tag_all_cost.py [--rows 1000000] [--runs 5] [--cases named-50k,bundled-250]

Each (zone set, expression) pair runs in its own process: build the zones, draw `rows`
uniform points over their bounds, collect `select(expression)` `runs` times (in-memory
engine). Seconds is the median; peak is the process's high-water mark (VmHWM) over the
collects minus its resident size just before them. Zone sets: 50,000 named squares on a grid
(most points in one), and the 250 bundled maritime zones. The last line is the results as JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import numpy as np

from scale_limits import reset_peak, status

CASES = ["named-50k", "bundled-250"]
EXPRESSIONS = ["tag", "tag_all"]


def zones_of(case: str):
    import polars_zones as pz

    if case == "bundled-250":
        return pz.datasets.maritime_zones()
    if case == "named-50k":
        features = []
        for i in range(50_000):
            x, y = -150 + (i % 1000) * 0.25, -60 + (i // 1000) * 0.25
            square = [[x, y], [x + 0.2, y], [x + 0.2, y + 0.2], [x, y + 0.2], [x, y]]
            features.append(
                {
                    "type": "Feature",
                    "properties": {"id": f"z{i}"},
                    "geometry": {"type": "Polygon", "coordinates": [square]},
                }
            )
        return pz.Zones.from_geojson({"type": "FeatureCollection", "features": features}, id_property="id")
    raise ValueError(case)


def run(case: str, expression: str, rows: int, runs: int) -> dict:
    import polars as pl

    zones = zones_of(case)
    min_lon, min_lat, max_lon, max_lat = zones.bounds
    rng = np.random.default_rng(3)
    df = pl.DataFrame({"lat": rng.uniform(min_lat, max_lat, rows), "lon": rng.uniform(min_lon, max_lon, rows)})
    lf = df.lazy().select(getattr(pl.col("lat").zones, expression)("lon", polygons=zones))
    before = status("VmRSS")
    reset_peak()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        lf.collect()
        times.append(time.perf_counter() - t)
    return {
        "case": case,
        "expression": expression,
        "rows": rows,
        "seconds": statistics.median(times),
        "peak_bytes": status("VmHWM") - before,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--child", nargs=2, metavar=("CASE", "EXPRESSION"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run(*args.child, args.rows, args.runs)))
        return
    results = []
    print(f"| zones | expression | rows | seconds (median of {args.runs}) | peak RSS MB | ÷ tag (time, memory) |")
    print("|---|---|---|---|---|---|")
    for case in args.cases.split(","):
        for expression in EXPRESSIONS:
            command = [
                sys.executable,
                __file__,
                "--rows",
                str(args.rows),
                "--runs",
                str(args.runs),
                "--child",
                case,
                expression,
            ]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            r = json.loads(done.stdout.strip().splitlines()[-1])
            results.append(r)
            tag = results[-2] if expression == "tag_all" else r
            ratio = f"{r['seconds'] / tag['seconds']:.2f}×, {r['peak_bytes'] / max(tag['peak_bytes'], 1):.2f}×"
            print(
                f"| {case} | {expression} | {args.rows:,} | {r['seconds']:.3f} | {r['peak_bytes'] / 1e6:.0f} "
                f"| {ratio} |",
                flush=True,
            )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
