"""How many points the kernel sorts together: the block size, `query::SORTED_BLOCK`.

    python bench/block_size.py   # part of make bench

The kernel visits each block of points in the order of a counting sort by 1.68-degree bucket,
so that the points of a bucket share the index's cache lines. More points per block means more
points per bucket, and more sharing; it also means larger arrays for the block itself. For each
zone set of bench/run.py, this times `tag_numpy` on the 8M AIS-like points (the kernel alone,
no Polars, both threads) in blocks of each size and with the default for that index, in one
process with the rounds interleaved (medians of 9: wall clock, and the process's CPU time over
the run).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))

from interleaved import interleaved_medians  # noqa: E402

import polars_zones as pz  # noqa: E402

from run import ZONE_SETS, points_file, zone_set  # noqa: E402

ROUNDS = 9
BLOCKS = [1 << 15, 1 << 16, 1 << 17, 1 << 18, 1 << 20, 1 << 21]


def main() -> None:
    points = pl.read_parquet(points_file(8_000_000)).select("lat", "lon")
    lat, lon = points["lat"].to_numpy(), points["lon"].to_numpy()
    print(f"{len(lat):,} AIS-like points; rounds interleaved, medians of {ROUNDS}")
    print("| zones | index MB | points per block | kernel s (wall) | CPU s |")
    print("|---|---|---|---|---|")
    for name in ZONE_SETS:
        zones = pz.Zones.from_geojson(zone_set(name), id_property="A3")
        index = zones._index
        variants: dict[str, Callable[[], object]] = {"default": lambda: zones.tag_numpy(lat, lon)}  # noqa: B023
        for block in BLOCKS:
            variants[f"{block:,}"] = lambda block=block: index.tag_numpy_in_blocks(lat, lon, block)  # noqa: B023
        expected = zones.tag_numpy(lat, lon)
        for run in variants.values():
            np.testing.assert_array_equal(run(), expected)
        for label, (wall, cpu) in interleaved_medians(variants, ROUNDS).items():
            print(f"| {name} | {zones.index_bytes / 1e6:.1f} | {label} | {wall:.3f} | {cpu:.2f} |", flush=True)


if __name__ == "__main__":
    main()
