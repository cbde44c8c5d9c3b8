"""What carrying the index in the plan costs per streaming batch.

The streaming engine calls the plugin once per batch (morsel); each call takes the index from
the process cache by the fingerprint in its kwargs (the plan's copy of the index is read once
per query, by `zones_key`). This runs the same 8M-point `tag` at several morsel sizes (set with
POLARS_IDEAL_MORSEL_SIZE, one process each), counts the plugin's calls with
`pz.index_lookup_count()` and its decodes with `pz.index_decode_count()`, and fits
time = fixed + per_batch * batches. It also times `sink_parquet` against `collect()` followed
by `write_parquet`.

    python bench/streaming_batches.py          # the 10 m zones
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import polars_zones as pz  # noqa: E402

from run import points_file, zone_set  # noqa: E402

MORSEL_SIZES = [None, 50_000, 10_000, 2_000]
RUNS = 5

CHILD = r"""
import json, statistics, sys, time
import polars as pl
import polars_zones as pz

index_path, points_path, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
zones = pz.Zones.load(index_path)
lf = pl.read_parquet(points_path).lazy().select(zone=pl.col("lat").zones.tag("lon", polygons=zones))
lf.collect(engine="streaming")  # warm: the one decode of this process happens here
times, calls = [], []
for _ in range(runs):
    before = pz.index_lookup_count()
    t = time.perf_counter()
    lf.collect(engine="streaming")
    times.append(time.perf_counter() - t)
    calls.append(pz.index_lookup_count() - before)
mem = []
for _ in range(runs):
    t = time.perf_counter()
    lf.collect()
    mem.append(time.perf_counter() - t)
# Writing Parquet: sink_parquet (streaming) against collect() then write_parquet.
out_path = index_path + ".out.parquet"
sink, write = [], []
for _ in range(runs):
    t = time.perf_counter()
    lf.sink_parquet(out_path)
    sink.append(time.perf_counter() - t)
    t = time.perf_counter()
    lf.collect().write_parquet(out_path)
    write.append(time.perf_counter() - t)
print(json.dumps({"streaming": statistics.median(times), "calls": statistics.median(calls),
                  "in_memory": statistics.median(mem), "sink_parquet": statistics.median(sink),
                  "collect_write_parquet": statistics.median(write), "decodes": pz.index_decode_count()}))
"""


def main() -> None:
    console = Console(width=140)
    points = points_file(8_000_000)
    zones = pz.Zones.from_geojson(zone_set("10m"), id_property="A3")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        index_path = Path(tmp) / "zones.pzi"
        zones.save(index_path)
        size_mb = len(zones._index.plan_bytes()) / 1e6
        for morsel in MORSEL_SIZES:
            env = dict(os.environ)
            if morsel is not None:
                env["POLARS_IDEAL_MORSEL_SIZE"] = str(morsel)
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(index_path), str(points), str(RUNS)],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            rows.append((morsel, json.loads(out.strip().splitlines()[-1])))

    batches = np.array([r["calls"] for _, r in rows], dtype=float)
    seconds = np.array([r["streaming"] for _, r in rows])
    per_batch, fixed = np.polyfit(batches, seconds, 1)
    table = Table(
        title=f"8M points x 10 m zones, tag, streaming engine ({size_mb:.1f} MB index in the plan, compressed); "
        f"medians of {RUNS}"
    )
    for col in (
        "POLARS_IDEAL_MORSEL_SIZE",
        "plugin calls",
        "streaming s",
        "in-memory s",
        "streaming / in-memory",
        "decodes in the process",
    ):
        table.add_column(col, justify="right")
    for morsel, r in rows:
        table.add_row(
            "default" if morsel is None else f"{morsel:,}",
            f"{r['calls']:,.0f}",
            f"{r['streaming']:.3f}",
            f"{r['in_memory']:.3f}",
            f"{r['streaming'] / r['in_memory']:.2f}x",
            str(r["decodes"]),
        )
    console.print(table)
    default = rows[0][1]
    console.print(
        f"default morsels, to Parquet: sink_parquet {default['sink_parquet']:.3f} s, collect() + write_parquet "
        f"{default['collect_write_parquet']:.3f} s ({default['sink_parquet'] / default['collect_write_parquet']:.2f}x)"
    )
    console.print(
        f"least-squares fit over the rows: {fixed:.3f} s + {per_batch * 1e6:.1f} µs per batch "
        f"(the kernel and Polars' own per-morsel work included)"
    )


if __name__ == "__main__":
    main()
