"""`polars-zones tag` on a Parquet file several times larger than the memory it may use.

    python bench/bounded_memory.py [--rows 120000000] [--limit-mb 400] [--dir DIR]

Writes ship-like points (lat, lon, mmsi) to DIR/points.parquet in chunks, then runs the
real command (`python -m polars_zones tag ...`) in a child process. Where this machine lets
us create a memory cgroup (v1 or v2, as root), the child runs inside one whose hard limit is
`--limit-mb`: going over it gets the child killed. Either way the child's peak RSS is read
with wait4. The last line printed is a JSON summary (the test suite runs this script small).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import polars_zones as pz

CHUNK = 4_000_000
# Row groups of the size Polars writes by default (512² rows), 12 MiB each here.
ROW_GROUP = 512 * 512


def write_points(path: Path, rows: int, seed: int = 0) -> int:
    """Points in chunks, so this process never holds the whole file; returns the bytes the
    columns take in memory (8 bytes per value)."""
    rng = np.random.default_rng(seed)
    schema = pa.schema([("lat", pa.float64()), ("lon", pa.float64()), ("mmsi", pa.int64())])
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for start in range(0, rows, CHUNK):
            n = min(CHUNK, rows - start)
            lat = np.round(rng.uniform(-80, 80, n), 6)
            lon = np.round(rng.uniform(-180, 180, n), 6)
            mmsi = rng.integers(200_000_000, 800_000_000, n)
            table = pa.table({"lat": lat, "lon": lon, "mmsi": mmsi}, schema=schema)
            writer.write_table(table, row_group_size=ROW_GROUP)
    return rows * 24


def memory_cgroup(limit: int) -> Path | None:
    """A fresh memory cgroup under this process's own, limited to `limit` bytes, or None when
    the machine does not allow it."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        v1 = "memory" in controllers.split(",")
        if v1 or controllers == "":
            base = Path("/sys/fs/cgroup/memory" + path) if v1 else Path("/sys/fs/cgroup" + path)
            group = base / f"polars-zones-bench-{os.getpid()}"
            try:
                group.mkdir()
                if v1:
                    (group / "memory.limit_in_bytes").write_text(str(limit))
                    swap = group / "memory.memsw.limit_in_bytes"
                    if swap.exists():
                        swap.write_text(str(limit))
                else:
                    (group / "memory.max").write_text(str(limit))
                    (group / "memory.swap.max").write_text("0")
                return group
            except OSError:
                if group.exists():
                    group.rmdir()
                continue
    return None


def run_in_group(command: list[str], group: Path | None, env: dict | None = None) -> tuple[int, int, float, str, str]:
    """Runs `command` inside the memory cgroup `group` (if any) and removes the group: exit
    status, peak RSS in bytes (wait4), seconds, stdout, stderr."""

    def join_group() -> None:
        if group is not None:
            (group / "cgroup.procs").write_text(str(os.getpid()))

    t = time.perf_counter()
    child = subprocess.Popen(command, preexec_fn=join_group, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - t
    stdout, stderr = child.stdout.read().decode(), child.stderr.read().decode()
    if group is not None:
        group.rmdir()
    return os.waitstatus_to_exitcode(status), usage.ru_maxrss * 1024, seconds, stdout, stderr


def run(rows: int, limit_mb: int, directory: Path) -> dict:
    points = directory / "points.parquet"
    output = directory / "tagged.parquet"
    in_memory = write_points(points, rows)
    limit = limit_mb * 1024 * 1024
    group = memory_cgroup(limit)
    zones = pz.datasets.maritime_zones_path()
    command = [
        sys.executable,
        "-m",
        "polars_zones",
        "tag",
        str(points),
        "--zones",
        str(zones),
        "--id-property",
        "A3",
        "-o",
        str(output),
        "--quiet",
        "--top",
        "3",
    ]

    code, peak, seconds, stdout, stderr = run_in_group(command, group)
    output_rows = pq.ParquetFile(output).metadata.num_rows if code == 0 and output.exists() else None
    return {
        "rows": rows,
        "input_bytes_in_memory": in_memory,
        "input_file_bytes": points.stat().st_size,
        "hard_limit_bytes": limit if group is not None else None,
        "peak_rss_bytes": peak,
        "seconds": round(seconds, 2),
        "exit_status": code,
        "output_rows": output_rows,
        "stdout": stdout,
        "stderr": stderr[-2000:],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=120_000_000)
    parser.add_argument("--limit-mb", type=int, default=400)
    parser.add_argument(
        "--dir", type=Path, default=None, help="where to write the files (default: a temporary directory)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        result = run(args.rows, args.limit_mb, Path(tmp))
    mb = 1024 * 1024
    cap = (
        f"a hard cgroup limit of {args.limit_mb} MiB"
        if result["hard_limit_bytes"]
        else "no hard limit (no cgroup here)"
    )
    print(result["stdout"])
    if result["exit_status"] != 0:
        print(result["stderr"])
    print(
        f"{result['rows']:,} rows: {result['input_bytes_in_memory'] / mb:,.0f} MiB of columns, "
        f"{result['input_file_bytes'] / mb:,.0f} MiB Parquet file; under {cap}: exit status "
        f"{result['exit_status']}, peak RSS {result['peak_rss_bytes'] / mb:,.0f} MiB, {result['seconds']} s, "
        f"{result['output_rows']} rows written"
    )
    print(json.dumps({k: v for k, v in result.items() if k not in ("stdout", "stderr")}))


if __name__ == "__main__":
    main()
