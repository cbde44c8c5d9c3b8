"""Instructions the kernel executes per point, counted by valgrind: a figure the machine's noise
does not move, for comparing two versions of the kernel.

    python bench/kernel_instructions.py   # part of make bench; needs valgrind

For the saved 10 m and simplified indexes of bench/run.py and the first 2M of its 8M AIS-like
points, runs `tag_numpy_in_blocks` once in blocks of 131,072 points (a streaming batch) on one
thread under `valgrind --tool=callgrind`, collecting only inside `query::tag_in_blocks`, and
prints the instructions per point. Instructions are not time: a cache miss costs many, and so
does a mispredicted branch, which is why the branch-free edge tests of commit 8c0c1c8 execute
more instructions in less time. Between two kernels written the same way, fewer instructions
is most of what makes one faster; the timed benchmarks (and bench/builds_ab.py) say how much.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

POINTS = 2_000_000
BLOCK = 1 << 17


def count(zones: str, lat: str, lon: str) -> int:
    """Runs this script's child mode under callgrind and returns the instructions it collected."""
    env = dict(os.environ, RAYON_NUM_THREADS="1", POLARS_MAX_THREADS="1")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            "valgrind",
            "--tool=callgrind",
            "--toggle-collect=*tag_in_blocks*",
            f"--callgrind-out-file={tmp}/callgrind.out",
            sys.executable,
            __file__,
            "--child",
            zones,
            lat,
            lon,
        ]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def child(zones_path: str, lat_path: str, lon_path: str) -> None:
    import numpy as np

    import polars_zones as pz

    zones = pz.Zones.load(zones_path)
    zones._index.tag_numpy_in_blocks(np.load(lat_path), np.load(lon_path), BLOCK)


def main() -> None:
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: no instruction counts")
        return
    import numpy as np
    import polars as pl

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import polars_zones as pz

    from run import OUT, points_file, zone_set

    points = pl.read_parquet(points_file(8_000_000)).head(POINTS)
    print(f"{POINTS:,} AIS-like points, blocks of {BLOCK:,}, one thread, under callgrind")
    print("| zones | instructions | per point |")
    print("|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        lat, lon = f"{tmp}/lat.npy", f"{tmp}/lon.npy"
        np.save(lat, points["lat"].to_numpy())
        np.save(lon, points["lon"].to_numpy())
        for name in ("10m", "simplified"):
            saved = OUT / f"zones-{name}.pzi"
            if not saved.exists():
                pz.Zones.from_geojson(zone_set(name), id_property="A3").save(saved)
            n = count(str(saved), lat, lon)
            print(f"| {name} | {n:,} | {n / POINTS:.0f} |", flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
    else:
        main()
