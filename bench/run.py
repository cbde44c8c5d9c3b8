"""polars-zones against its peers, side by side, on the same points and zones.

    make bench                      # = python bench/run.py
    python bench/run.py --quick     # 1M points, fewer runs: a smoke test of the harness

Zone sets are derived from ../shared/data/countries-maritime-10m.geojson (250 maritime
zones) with shapely; points are deterministic AIS-like positions (40% near coasts and
borders, 30% along lanes, 30% uniform). Every tool runs in its own process (bench/tools.py)
so its peak memory is its own. Results go to the terminal and bench/out/results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
SOURCE = ROOT.parent / "shared" / "data" / "countries-maritime-10m.geojson"
sys.path.insert(0, str(ROOT / "scripts"))

import polars_zones as pz  # noqa: E402
from polars_zones.synthetic import ship_positions  # noqa: E402

from make_bundled_zones import simplify_collection  # noqa: E402

# Tolerances (degrees) that give the zone sizes: 28.8k, 340k and 1.9M vertices.
ZONE_SETS = {"simplified": 0.05, "medium": 0.002, "10m": None}
console = Console(width=170)


def zone_set(name: str) -> Path:
    path = OUT / f"zones-{name}.geojson"
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        collection = json.loads(SOURCE.read_text())
        tolerance = ZONE_SETS[name]
        if tolerance is not None:
            collection = simplify_collection(collection, tolerance)
        path.write_text(json.dumps(collection, separators=(",", ":")))
    return path


def points_file(n: int, *, coast: float = 0.4, lanes: float = 0.3, tag: str = "ais") -> Path:
    path = OUT / f"points-{tag}-{n}.parquet"
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        zones = pz.Zones.from_geojson(zone_set("10m"), id_property="A3")
        ship_positions(n, zones, seed=0, coast=coast, lanes=lanes).select("lat", "lon").write_parquet(path)
    return path


def run_tool(tool: str, zones: Path, points: Path, runs: int, subsample: int | None = None, env=None) -> dict:
    zones_out = OUT / f"zone-{tool}-{zones.stem}-{points.stem}.npy"
    cmd = [sys.executable, str(HERE / "tools.py"), tool, str(zones), str(points), str(runs), str(zones_out)]
    if subsample:
        cmd.append(str(subsample))
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if done.returncode != 0:
        raise RuntimeError(f"{tool} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["median"] = statistics.median(result["seconds"])
    result["zone_file"] = zones_out
    return result


def timing_cells(r: dict, n_points: int, reference_seconds: float) -> tuple[float, list[str]]:
    """Seconds for all n_points (a subsample's median extrapolated linearly, and labelled so)
    and the cells tool, runs, seconds, points/s, peak RSS (the subsample's), time ÷ the
    reference."""
    seconds, label, rss = r["median"], r["tool"], f"{r['peak_rss'] / 2**30:.2f} GiB"
    if r["points"] < n_points:
        seconds = seconds * n_points / r["points"]
        label += f" (extrapolated from {r['points']:,} points)"
        rss += " (sample)"
    cells = [
        label,
        str(len(r["seconds"])),
        f"{seconds:.3f}",
        f"{n_points / seconds / 1e6:.2f}M",
        rss,
        f"{seconds / reference_seconds:.1f}",
    ]
    return seconds, cells


def build_figures(zones_path: Path, runs: int) -> dict:
    """Index build (from parsed GeoJSON, in Rust), whole `from_geojson`, index memory, and
    loading the saved index with the cache cleared."""
    builds, totals, loads = [], [], []
    for _ in range(runs):
        t = time.perf_counter()
        zones = pz.Zones.from_geojson(zones_path, id_property="A3")
        totals.append(time.perf_counter() - t)
        builds.append(zones._index.build_seconds)
    saved = OUT / f"{zones_path.stem}.pzi"
    zones.save(saved)
    for _ in range(runs):
        pz.clear_cache()
        t = time.perf_counter()
        pz.Zones.load(saved)
        loads.append(time.perf_counter() - t)
    return {
        "vertices": zones.num_vertices,
        "build": statistics.median(builds),
        "from_geojson": statistics.median(totals),
        "load": statistics.median(loads),
        "file_bytes": saved.stat().st_size,
        "bytes_per_vertex": zones.index_bytes / zones.num_vertices,
        "stats": dict(zones._index.stats()),
    }


def index_figures(names: list[str], runs: int, lines: list[str]) -> None:
    md = [
        f"\n**Index build and load** (median of {runs})\n",
        "| zones | vertices | build (Rust) | from_geojson (parse + build) | load saved index | file size "
        "| on disk bytes/vertex | in memory bytes/vertex |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in names:
        f = build_figures(zone_set(name), runs)
        row = [
            name,
            f"{f['vertices']:,}",
            f"{f['build'] * 1000:.0f} ms",
            f"{f['from_geojson'] * 1000:.0f} ms",
            f"{f['load'] * 1000:.1f} ms",
            f"{f['file_bytes'] / 1e6:.1f} MB",
            f"{f['file_bytes'] / f['vertices']:.1f}",
            f"{f['bytes_per_vertex']:.1f}",
        ]
        md.append("| " + " | ".join(row) + " |")
    console.print("\n".join(md))
    lines.extend(md)


def compare(name: str, n_points: int, runs: int, peer_runs: int, matplotlib_points: int, lines: list[str]) -> None:
    zones = zone_set(name)
    points = points_file(n_points)
    build = build_figures(zones, runs)
    console.print(
        f"[bold]{name}[/]: {build['vertices']:,} vertices; index built in {build['build'] * 1000:.0f} ms "
        f"(median of {runs}); index memory {build['bytes_per_vertex']:.1f} bytes/vertex"
    )
    results = [
        run_tool("polars-zones", zones, points, runs),
        run_tool("polars-zones-streaming", zones, points, runs),
        run_tool("shapely", zones, points, peer_runs),
        run_tool("geopandas", zones, points, peer_runs),
        run_tool("sedonadb", zones, points, peer_runs),
        run_tool("sedonadb-split", zones, points, peer_runs),
        run_tool("matplotlib", zones, points, 1, subsample=matplotlib_points),
    ]
    ours = results[0]
    reference = np.load(ours["zone_file"])
    table = Table(title=f"{n_points:,} AIS-like points × {name} zones ({build['vertices']:,} vertices)")
    for col in (
        "tool",
        "runs",
        "seconds (median)",
        "points/s",
        "peak RSS",
        "× polars-zones time",
        "agrees with polars-zones",
    ):
        table.add_column(col, justify="right" if col != "tool" else "left")
    md = [
        f"\n**{n_points:,} AIS-like points × {name} zones ({build['vertices']:,} vertices)**; "
        f"index build {build['build'] * 1000:.0f} ms, {build['bytes_per_vertex']:.1f} bytes/vertex\n",
        "| tool | runs | seconds (median) | points/s | peak RSS | time ÷ polars-zones | agrees with polars-zones |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        zone = np.load(r["zone_file"])
        agree = float(np.mean(zone == reference[: len(zone)]))
        row = timing_cells(r, n_points, ours["median"])[1] + [f"{agree:.4%}"]
        table.add_row(*row)
        md.append("| " + " | ".join(row) + " |")
    console.print(table)
    lines.extend(md)


def scaling(runs: int, lines: list[str], sizes: list[int]) -> None:
    """polars-zones only: points, zone detail, point mix and threads."""
    table = Table(title="polars-zones scaling (in-memory engine, median seconds)")
    for col in ("zones", "points", "mix", "threads", "seconds", "points/s"):
        table.add_column(col, justify="right")
    md = [
        f"\n**Scaling** (polars-zones, in-memory engine, median of {runs} runs)\n",
        "| zones | points | mix | threads | seconds | points/s |",
        "|---|---|---|---|---|---|",
    ]
    cases = [(z, n, "ais", 2) for z in ZONE_SETS for n in sizes]
    cases += [(z, sizes[1], "uniform", 2) for z in ZONE_SETS]
    cases += [(z, sizes[1], "coast", 2) for z in ZONE_SETS]
    cases += [(z, sizes[1], "ais", 1) for z in ZONE_SETS]
    for name, n, mix, threads in cases:
        coast, lanes = {"ais": (0.4, 0.3), "uniform": (0.0, 0.0), "coast": (1.0, 0.0)}[mix]
        points = points_file(n, coast=coast, lanes=lanes, tag=mix)
        env = {"POLARS_MAX_THREADS": str(threads), "RAYON_NUM_THREADS": str(threads)}
        r = run_tool("polars-zones", zone_set(name), points, runs, env=env)
        row = [name, f"{n:,}", mix, str(threads), f"{r['median']:.3f}", f"{n / r['median'] / 1e6:.1f}M"]
        table.add_row(*row)
        md.append("| " + " | ".join(row) + " |")
    console.print(table)
    lines.extend(md)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--points", type=int, default=8_000_000)
    parser.add_argument("--runs", type=int, default=5, help="runs of polars-zones (median reported)")
    parser.add_argument("--peer-runs", type=int, default=1, help="runs of shapely, geopandas and SedonaDB")
    parser.add_argument("--matplotlib-points", type=int, default=20_000)
    parser.add_argument("--zones", nargs="*", default=list(ZONE_SETS), choices=list(ZONE_SETS))
    parser.add_argument("--no-scaling", action="store_true")
    parser.add_argument("--quick", action="store_true", help="1M points, 3 runs, simplified zones only")
    parser.add_argument("--index-only", action="store_true", help="only index build, load and size")
    args = parser.parse_args()
    if not SOURCE.exists():
        sys.exit(f"the benchmark needs {SOURCE}")
    if args.quick:
        args.points, args.runs, args.zones, args.no_scaling = 1_000_000, 3, ["simplified"], True
    OUT.mkdir(exist_ok=True)
    started = time.time()
    lines = [
        f"Benchmark run {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, "
        f"`python bench/run.py {' '.join(sys.argv[1:])}`"
    ]
    index_figures(args.zones, args.runs, lines)
    if args.index_only:
        args.zones, args.no_scaling = [], True
    for name in args.zones:
        compare(name, args.points, args.runs, args.peer_runs, args.matplotlib_points, lines)
    if not args.no_scaling:
        scaling(args.runs, lines, [1_000_000, args.points, 4 * args.points])
    (OUT / "results.md").write_text("\n".join(lines) + "\n")
    console.print(f"written {OUT / 'results.md'} in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
