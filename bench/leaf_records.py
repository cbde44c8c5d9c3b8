"""Whether a large index should read its leaves from leaf records or from the leaf blocks.

    python bench/leaf_records.py   # part of make bench

A lookup in a leaf reads the leaf block, then both ends of each of its edges. In a large index
those ends lie scattered over the vertices, a cache miss each; `index::LEAF_RECORDS_FROM_BYTES`
decides from which size an index keeps each leaf block again as a record with its edges' ends
(`index::LeafRecord`), so that a lookup reads one run of memory. For each zone set of
bench/run.py, this times `tag_numpy` (the kernel alone, no Polars, in its default blocks of
131,072 points, the size of a streaming batch) on the 8M AIS-like points with records and
without them, whatever the default for that size. The rounds are interleaved in one process
(medians of 9: wall clock, and the process's CPU time over the run). It also prints the
index's memory both ways, which way the default goes, and what making the records costs (a
copy of the index with them, less a copy without them).
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
BLOCKS, RECORDS = "leaf blocks and vertices", "leaf records"


def main() -> None:
    points = pl.read_parquet(points_file(8_000_000)).select("lat", "lon")
    lat, lon = points["lat"].to_numpy(), points["lon"].to_numpy()
    print(f"{len(lat):,} AIS-like points; rounds interleaved, medians of {ROUNDS}")
    print("| zones | leaves read from | index in memory MB | kernel s (wall / CPU) | default | making the records s |")
    print("|---|---|---|---|---|---|")
    for name in ZONE_SETS:
        zones = pz.Zones.from_geojson(zone_set(name), id_property="A3")
        variants = {BLOCKS: zones._index.with_leaf_records(False), RECORDS: zones._index.with_leaf_records(True)}
        default = RECORDS if zones.index_bytes > variants[BLOCKS].heap_bytes else BLOCKS
        expected = zones.tag_numpy(lat, lon)
        for index in variants.values():
            np.testing.assert_array_equal(index.tag_numpy(lat, lon), expected)
        runs: dict[str, Callable[[], object]] = {
            label: lambda index=index: index.tag_numpy(lat, lon)  # noqa: B023
            for label, index in variants.items()
        }
        runs["copy with records"] = lambda: zones._index.with_leaf_records(True)  # noqa: B023
        runs["copy without"] = lambda: zones._index.with_leaf_records(False)  # noqa: B023
        medians = interleaved_medians(runs, ROUNDS)
        making = medians["copy with records"][0] - medians["copy without"][0]
        for label, index in variants.items():
            wall, cpu = medians[label]
            mark = "yes" if label == default else ""
            cost = f"{making:.3f}" if label == RECORDS else ""
            print(
                f"| {name} | {label} | {index.heap_bytes / 1e6:.1f} | {wall:.3f} / {cpu:.2f} | {mark} | {cost} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
