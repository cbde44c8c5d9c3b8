"""How finely to build the index: leaf size and top-grid density against speed and size.

    python bench/leaf_sweep.py

For each zone set of bench/run.py and each (edges per leaf, edges per top cell), builds the
index and times `Zones.tag_numpy` on the 8M AIS-like points (the kernel alone, no Polars; 2
threads; median of 5), and prints bytes per vertex. This is the sweep behind
`BuildOptions::SMALL` and `BuildOptions::LARGE` in src/build.rs. Needs bench/run.py's files
(it makes them if missing).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))

import polars_zones as pz  # noqa: E402
from polars_zones._internal import ZoneIndex  # noqa: E402

from run import ZONE_SETS, points_file, zone_set  # noqa: E402

OPTIONS = [(4, 1), (8, 1), (16, 2), (32, 2)]


def main() -> None:
    points = pl.read_parquet(points_file(8_000_000))
    lat, lon = points["lat"].to_numpy(), points["lon"].to_numpy()
    print("| zones | edges per leaf | edges per top cell | kernel s (8M points) | points/s | index bytes/vertex |")
    print("|---|---|---|---|---|---|")
    for name in ZONE_SETS:
        text = zone_set(name).read_text()
        for leaf, per_top_cell in OPTIONS:
            pz.clear_cache()  # the cache is keyed by the zones, not by the build options
            index, _ = ZoneIndex.from_geojson([text], False, "A3", leaf, per_top_cell)
            zones = pz.Zones(index)
            zones.tag_numpy(lat, lon)
            times = []
            for _ in range(5):
                t = time.perf_counter()
                zones.tag_numpy(lat, lon)
                times.append(time.perf_counter() - t)
            seconds = statistics.median(times)
            print(
                f"| {name} | {leaf} | {per_top_cell} | {seconds:.3f} | {len(lat) / seconds / 1e6:.1f}M | "
                f"{zones.index_bytes / zones.num_vertices:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
