"""Whether a leaf's edges should be read from the vertices or from a copy kept in leaf order.

    python bench/inline_edges.py   # part of make bench

A lookup in a leaf reads the leaf block, then both ends of each of its edges. In a large index
those ends lie scattered over the vertices, a cache miss each; `index::INLINE_EDGES_FROM_BYTES`
decides from which size an index keeps a copy of them beside its leaf blocks instead. For each
zone set of bench/run.py, this times `tag_numpy` (the kernel alone, no Polars) on the 8M
AIS-like points with the copy and without it, whatever the default for that size: in the
default blocks for the index (`bench/block_size.py`), and in blocks of 131,072 points, the size
of a streaming batch, where fewer points share each leaf. The rounds are interleaved in one
process (medians of 9: wall clock, and the process's CPU time over the run). It also prints the
index's memory both ways, which way the default goes, and what making the copy costs (a copy of
the index with it, less a copy without it).
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
BATCH = 1 << 17


def main() -> None:
    points = pl.read_parquet(points_file(8_000_000)).select("lat", "lon")
    lat, lon = points["lat"].to_numpy(), points["lon"].to_numpy()
    print(f"{len(lat):,} AIS-like points; rounds interleaved, medians of {ROUNDS}")
    print(
        "| zones | leaf edges | index in memory MB | kernel s, default blocks (wall / CPU) "
        f"| kernel s, {BATCH:,}-point blocks (wall / CPU) | default | making the copy s |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in ZONE_SETS:
        zones = pz.Zones.from_geojson(zone_set(name), id_property="A3")
        variants = {"from the vertices": zones._index.with_inline_edges(False)}
        variants["copied inline"] = zones._index.with_inline_edges(True)
        without = variants["from the vertices"].heap_bytes
        default = "copied inline" if zones.index_bytes > without else "from the vertices"
        expected = zones.tag_numpy(lat, lon)
        for index in variants.values():
            np.testing.assert_array_equal(index.tag_numpy(lat, lon), expected)
        runs: dict[str, Callable[[], object]] = {}
        for label, index in variants.items():
            runs[label] = lambda index=index: index.tag_numpy(lat, lon)  # noqa: B023
            runs[label + " in batches"] = lambda index=index: index.tag_numpy_in_blocks(lat, lon, BATCH)  # noqa: B023
        runs["make a copy with"] = lambda: zones._index.with_inline_edges(True)  # noqa: B023
        runs["make a copy without"] = lambda: zones._index.with_inline_edges(False)  # noqa: B023
        medians = interleaved_medians(runs, ROUNDS)
        making = medians["make a copy with"][0] - medians["make a copy without"][0]
        for label, index in variants.items():
            (wall, cpu), (batch_wall, batch_cpu) = medians[label], medians[label + " in batches"]
            mark = "yes" if label == default else ""
            cost = f"{making:.3f}" if label == "copied inline" else ""
            print(
                f"| {name} | {label} | {index.heap_bytes / 1e6:.1f} | {wall:.3f} / {cpu:.2f} "
                f"| {batch_wall:.3f} / {batch_cpu:.2f} | {mark} | {cost} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
