"""From positions to visits: polars-zones against the pandas way and movingpandas, and the
`polars-zones visits` command under a memory limit.

    python bench/visits.py                  # part of make bench
    python bench/visits.py --quick          # 1M positions, fewer runs: a smoke test
    python bench/visits.py --skip-memory    # without the memory-limit runs (minutes)

Input: `polars_zones.tracks.vessel_tracks` (8M positions of 5,000 vessels over 30 days,
seed 0), once sorted by vessel and time as generated and once shuffled; zones: the bundled
maritime zones. Visits with max_gap 6h, min_points 3, min_duration 10m. Every tool runs in
its own process (this script with --tool), medians of several runs; peak RSS is the process's
VmHWM (input included). Results go to the terminal and bench/out/visits.md.

- polars-zones: `pz.visits(lf.with_columns(zone=tag(...)), ...)`, tagging included, in the
  in-memory and the streaming engine; and the visits step alone on positions already tagged.
- pandas: the straightforward way on the same tagged positions (stable sort, shift, cumsum run
  ids, groupby; then the same jitter rules), checked row for row against polars-zones.
- movingpandas: `TrajectoryCollection(...).clip(zone)` for every zone, on the first vessels'
  positions, extrapolated linearly to all positions (its visits are clipped line segments,
  without max_gap or jitter rules: not comparable row for row).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
sys.path.insert(0, str(HERE))

import polars_zones as pz  # noqa: E402
from polars_zones.tracks import vessel_tracks  # noqa: E402

from tools import peak_rss  # noqa: E402

OPTIONS = dict(by="mmsi", time="timestamp", max_gap="6h", min_points=3, min_duration="10m")
GOAL_SECONDS = 1.5
GOAL_STREAMING = 1.5
GOAL_MOVINGPANDAS = 100


# ---- the tools (each run in its own process) ----------------------------------------------------


def timed(runs: int, f):
    times, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    return times, out


def tool_polars(path: str, runs: int, engine: str, tag: bool):
    df = pl.read_parquet(path)
    zones = pz.datasets.maritime_zones()
    lf = df.lazy().with_columns(zone=pl.col("lat").zones.tag("lon", polygons=zones)) if tag else df.lazy()
    query = pz.visits(lf, **OPTIONS)
    times, out = timed(runs, lambda: query.collect(engine=engine))
    return times, out.with_columns(pl.col("zone").cast(pl.String))


def pandas_visits(d, max_gap, min_points, min_duration):
    """Rules 1-5 written the usual pandas way: sort, shift, cumsum run ids, groupby."""
    import pandas as pd

    d = d.dropna(subset=["timestamp"]).sort_values(["mmsi", "timestamp"], kind="stable")
    code = d["zone"].cat.codes  # -1 for no zone
    new_vessel = d["mmsi"].ne(d["mmsi"].shift())
    gap = ~new_vessel & (d["timestamp"].diff() > max_gap)
    start = new_vessel | code.ne(code.shift()) | gap
    d = d.assign(run=start.cumsum(), gap=gap, code=code)
    runs = d.groupby("run", sort=False).agg(
        mmsi=("mmsi", "first"),
        code=("code", "first"),
        enter=("timestamp", "first"),
        exit=("timestamp", "last"),
        points=("timestamp", "size"),
        gap=("gap", "first"),
    )
    runs["segment"] = runs["gap"].cumsum()
    kept = runs[(runs["points"] >= min_points) & ((runs["exit"] - runs["enter"]) >= min_duration)]
    new = (
        kept["mmsi"].ne(kept["mmsi"].shift())
        | kept["code"].ne(kept["code"].shift())
        | kept["segment"].ne(kept["segment"].shift())
    )
    kept = kept.assign(visit=new.cumsum())
    out = kept.groupby("visit", sort=False).agg(
        mmsi=("mmsi", "first"),
        code=("code", "first"),
        enter=("enter", "min"),
        exit=("exit", "max"),
        points=("points", "sum"),
    )
    out = out[out["code"] >= 0]
    out["zone"] = pd.Categorical.from_codes(out["code"], d["zone"].cat.categories)
    out["duration"] = out["exit"] - out["enter"]
    return out[["mmsi", "zone", "enter", "exit", "duration", "points"]].sort_values(["mmsi", "enter"], kind="stable")


def tool_pandas(path: str, runs: int):
    import pandas as pd

    d = pl.read_parquet(path).with_columns(pl.col("zone").cast(pl.String)).to_pandas()
    d["zone"] = d["zone"].astype("category")
    gap, minimum = pd.Timedelta(hours=6), pd.Timedelta(minutes=10)
    times, out = timed(runs, lambda: pandas_visits(d, gap, 3, minimum))
    result = pl.from_pandas(out.reset_index(drop=True)).with_columns(
        pl.col("zone").cast(pl.String),
        pl.col("points").cast(pl.UInt32),
        pl.col("enter", "exit").dt.cast_time_unit("us"),
        pl.col("duration").dt.cast_time_unit("us"),
    )
    return times, result


def tool_movingpandas(path: str, runs: int, vessels: int):
    """Visits as movingpandas finds them: a TrajectoryCollection, clipped by every zone."""
    import warnings

    import geopandas as gpd
    import movingpandas as mpd
    from shapely.geometry import shape

    warnings.filterwarnings("ignore")
    df = pl.read_parquet(path)
    first = df["mmsi"].unique().sort().head(vessels)
    sample = df.filter(pl.col("mmsi").is_in(first.implode())).to_pandas()
    features = json.loads(pz.datasets.maritime_zones_path().read_text())["features"]
    zones = [(f["properties"]["A3"], shape(f["geometry"])) for f in features]

    def run():
        points = gpd.GeoDataFrame(sample, geometry=gpd.points_from_xy(sample["lon"], sample["lat"]), crs=4326)
        collection = mpd.TrajectoryCollection(points, traj_id_col="mmsi", t="timestamp")
        return sum(len(collection.clip(polygon)) for _, polygon in zones)

    times, found = timed(runs, run)
    return times, pl.DataFrame({"visits": [found], "positions": [len(sample)]})


def tool_main(args) -> None:
    if args.tool == "write-big":
        write_big(Path(args.output), args.runs, 4_000_000, 2_500)
        return
    if args.tool == "polars-zones":
        times, out = tool_polars(args.input, args.runs, "in-memory", tag=True)
    elif args.tool == "polars-zones-streaming":
        times, out = tool_polars(args.input, args.runs, "streaming", tag=True)
    elif args.tool == "polars-zones-visits-only":
        times, out = tool_polars(args.input, args.runs, "in-memory", tag=False)
    elif args.tool == "pandas":
        times, out = tool_pandas(args.input, args.runs)
    elif args.tool == "movingpandas":
        times, out = tool_movingpandas(args.input, args.runs, args.vessels)
    else:
        raise SystemExit(f"unknown tool {args.tool}")
    out.write_parquet(args.output)
    print(json.dumps({"tool": args.tool, "seconds": times, "peak_rss": peak_rss(), "rows": out.height}))


# ---- the harness ------------------------------------------------------------------------------


def run_tool(tool: str, path: Path, runs: int, **extra) -> dict:
    output = OUT / f"visits-{tool}-{path.stem}.parquet"
    cmd = [sys.executable, __file__, "--tool", tool, "--input", str(path), "--runs", str(runs), "--output", str(output)]
    for key, value in extra.items():
        cmd += [f"--{key}", str(value)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{tool} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["median"] = statistics.median(result["seconds"])
    result["output"] = pl.read_parquet(output)
    return result


def inputs(n: int, vessels: int) -> tuple[Path, Path, Path]:
    """The tracks as generated (sorted by vessel and time), shuffled, and tagged (for the
    tools that take the zones as given)."""
    OUT.mkdir(exist_ok=True)
    ordered, shuffled, tagged = (OUT / f"tracks-{n}-{k}.parquet" for k in ("sorted", "shuffled", "tagged"))
    if not (ordered.exists() and shuffled.exists() and tagged.exists()):
        t = time.perf_counter()
        df = vessel_tracks(n, vessels=vessels, seed=0)
        print(f"generated {n:,} positions of {vessels:,} vessels in {time.perf_counter() - t:.1f} s")
        df.write_parquet(ordered)
        df.sample(fraction=1.0, shuffle=True, seed=1).write_parquet(shuffled)
        zones = pz.datasets.maritime_zones()
        df.with_columns(zone=pl.col("lat").zones.tag("lon", polygons=zones)).select(
            "mmsi", "timestamp", "zone"
        ).write_parquet(tagged)
    return ordered, shuffled, tagged


def gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def compare(n: int, vessels: int, runs: int, peer_runs: int, sample_vessels: int, lines: list[str]) -> None:
    ordered, shuffled, tagged = inputs(n, vessels)
    rows = []
    ours = {}
    for label, path in (("sorted", ordered), ("shuffled", shuffled)):
        for tool in ("polars-zones", "polars-zones-streaming"):
            r = run_tool(tool, path, runs)
            ours[tool, label] = r
            rows.append((f"{tool} (tag + visits), {label} input", r, "1 process, 2 threads"))
    reference = ours["polars-zones", "sorted"]["output"]
    for label in ("sorted", "shuffled"):
        same = ours["polars-zones-streaming", label]["output"].equals(ours["polars-zones", label]["output"])
        assert same, f"streaming and in-memory visits differ on the {label} input"
    # Shuffling reorders positions with the same timestamp (reports land on whole seconds), and
    # ties keep input order (rule 1), so a few visits may legitimately differ.
    shuffled_visits = ours["polars-zones", "shuffled"]["output"]
    differ = reference.join(shuffled_visits, on=reference.columns, how="anti").height
    only = run_tool("polars-zones-visits-only", tagged, runs)
    pandas = run_tool("pandas", tagged, peer_runs)
    agree = pandas["output"].equals(only["output"])
    mp = run_tool("movingpandas", ordered, 1, vessels=sample_vessels)
    positions = mp["output"]["positions"][0]
    mp_seconds = mp["median"] * n / positions

    md = [
        f"\n**{n:,} positions of {vessels:,} vessels** (`vessel_tracks`, seed 0), bundled maritime zones, "
        f"max_gap 6h, min_points 3, min_duration 10m: {reference.height:,} visits\n",
        "| tool | runs | seconds (median) | positions/s | peak RSS | × polars-zones (tag + visits, sorted) |",
        "|---|---|---|---|---|---|",
    ]
    base = ours["polars-zones", "sorted"]["median"]
    for name, r, _ in rows:
        md.append(
            f"| {name} | {len(r['seconds'])} | {r['median']:.3f} | {n / r['median'] / 1e6:.1f}M "
            f"| {gib(r['peak_rss'])} | {r['median'] / base:.2f} |"
        )
    md.append(
        f"| polars-zones, visits only (zones given) | {len(only['seconds'])} | {only['median']:.3f} "
        f"| {n / only['median'] / 1e6:.1f}M | {gib(only['peak_rss'])} | {only['median'] / base:.2f} |"
    )
    md.append(
        f"| pandas, visits only (zones given; {'same visits' if agree else 'DIFFERENT visits'}) "
        f"| {len(pandas['seconds'])} | {pandas['median']:.3f} | {n / pandas['median'] / 1e6:.2f}M "
        f"| {gib(pandas['peak_rss'])} | {pandas['median'] / base:.1f} |"
    )
    md.append(
        f"| movingpandas `clip` per zone, extrapolated from {positions:,} positions of {sample_vessels} vessels "
        f"({mp['median']:.1f} s) | 1 | {mp_seconds:,.0f} | {n / mp_seconds / 1e3:.1f}k "
        f"| {gib(mp['peak_rss'])} (sample) | {mp_seconds / base:,.0f} |"
    )

    worst = max(ours["polars-zones", k]["median"] for k in ("sorted", "shuffled"))
    ratio = max(
        ours["polars-zones-streaming", k]["median"] / ours["polars-zones", k]["median"] for k in ("sorted", "shuffled")
    )
    md.append("")
    md.append(
        f"- goal: tag + visits in-memory ≤ {GOAL_SECONDS} s: {worst:.3f} s (slower of sorted and shuffled input): "
        f"{'reached' if worst <= GOAL_SECONDS else 'NOT reached'}"
    )
    md.append(
        f"- goal: streaming within {GOAL_STREAMING}× of in-memory: {ratio:.2f}× (worse of the two inputs): "
        f"{'reached' if ratio <= GOAL_STREAMING else 'NOT reached'}"
    )
    md.append(
        f"- goal: ≥ {GOAL_MOVINGPANDAS}× movingpandas: {mp_seconds / base:,.0f}× (extrapolated): "
        f"{'reached' if mp_seconds / base >= GOAL_MOVINGPANDAS else 'NOT reached'}"
    )
    md.append(
        f"- streaming and in-memory give the same visits; the shuffled input gives {shuffled_visits.height:,} visits, "
        f"{differ:,} of the sorted input's not among them (positions with equal timestamps keep input order)"
    )
    md.append(
        f"- pandas (visits step alone) takes {pandas['median'] / only['median']:.1f}× polars-zones' visits step alone; "
        f"its visits {'are the same, row for row' if agree else 'DIFFER'}"
    )
    print("\n".join(md))
    lines.extend(md)


# ---- memory: the command on a file larger than its memory limit ---------------------------------


def write_big(path: Path, n: int, chunk: int, vessels_per_chunk: int) -> int:
    """`n` positions written chunk by chunk (each chunk its own vessels: MMSI + chunk * 1e9,
    so they stay distinct); returns the bytes of the columns in memory."""
    import pyarrow.parquet as pq

    writer = None
    for k, start in enumerate(range(0, n, chunk)):
        df = vessel_tracks(min(chunk, n - start), vessels=vessels_per_chunk, seed=100 + k)
        df = df.with_columns(pl.col("mmsi") + k * 1_000_000_000).to_arrow()
        writer = writer or pq.ParquetWriter(path, df.schema, compression="zstd")
        writer.write_table(df, row_group_size=512 * 512)
    writer.close()
    return n * 32


def memory_runs(n: int, limit_mb: int, lines: list[str]) -> None:
    from bounded_memory import memory_cgroup, run_in_group

    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        tmp = Path(tmp)
        points = tmp / "positions.parquet"
        t = time.perf_counter()
        # Written by a child, so that this process stays small: a child forked from it to run
        # the command starts with this process's resident pages in its peak RSS.
        subprocess.run(
            [sys.executable, __file__, "--tool", "write-big", "--output", str(points), "--runs", str(n)], check=True
        )
        in_memory = n * 32
        print(
            f"wrote {n:,} positions ({gib(in_memory)} of columns, {gib(points.stat().st_size)} Parquet) "
            f"in {time.perf_counter() - t:.0f} s"
        )
        md = [
            f"\n**`polars-zones visits` on {n:,} positions ({gib(in_memory)} of columns in memory, "
            f"a {gib(points.stat().st_size)} "
            f"Parquet file) with a hard memory limit of {limit_mb} MiB** (a memory cgroup; peak RSS from wait4)\n",
            "| mode | exit status | peak RSS | seconds | visits | how (from the command's last line) |",
            "|---|---|---|---|---|---|",
        ]
        budget = max(limit_mb // 4, 64)
        modes = (
            ("--buckets auto (default)", [], {}),
            ("--buckets 1 (one query: Polars' sort spills when near its memory budget)", ["--buckets", "1"], {}),
            (
                f"--buckets 1, POLARS_OOC_MEMORY_BUDGET_MB={budget}",
                ["--buckets", "1"],
                {"POLARS_OOC_MEMORY_BUDGET_MB": str(budget)},
            ),
        )
        for label, extra, env in modes:
            group = memory_cgroup(limit_mb * 1024 * 1024)
            output = tmp / "visits.parquet"
            command = [
                sys.executable,
                "-m",
                "polars_zones",
                "visits",
                str(points),
                "--zones",
                str(pz.datasets.maritime_zones_path()),
                "--id-property",
                "A3",
                "--time",
                "timestamp",
                "--by",
                "mmsi",
                "--max-gap",
                "6h",
                "--min-points",
                "3",
                "--min-duration",
                "10m",
                "-o",
                str(output),
                "--quiet",
                "--top",
                "3",
                *extra,
            ]

            code, peak, seconds, stdout, stderr = run_in_group(command, group, env={**os.environ, **env})
            found = pl.scan_parquet(output).select(pl.len()).collect().item() if code == 0 and output.exists() else None
            limit = f"{limit_mb} MiB limit" if group is not None else "no cgroup on this machine: unlimited"
            # The command's last line: "wrote OUT (parquet, one row per visit; 20 buckets)".
            wrote = stdout.strip().splitlines()[-1] if stdout.strip() else ""
            how = wrote.split("per visit; ", 1)[1].rstrip(")") if "per visit; " in wrote else ""
            md.append(
                f"| {label} ({limit}) | {code} | {peak / 2**20:.0f} MiB | {seconds:.1f} | "
                f"{'' if found is None else f'{found:,}'} | {how} |"
            )
            if code != 0 and stderr.strip():
                md.append(f"|  | stderr: {stderr.strip().splitlines()[-1][:200]} | | | | |")
            output.unlink(missing_ok=True)
        print("\n".join(md))
        lines.extend(md)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--only-memory", action="store_true")
    parser.add_argument("--memory-rows", type=int, default=40_000_000)
    parser.add_argument("--limit-mb", type=int, default=500)
    parser.add_argument("--tool")
    parser.add_argument("--input")
    parser.add_argument("--output")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--vessels", type=int, default=10)
    args = parser.parse_args()
    if args.tool:
        return tool_main(args)
    OUT.mkdir(exist_ok=True)
    lines = [f"# visits benchmark ({time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs)"]
    n, vessels = (1_000_000, 625) if args.quick else (8_000_000, 5_000)
    if not args.only_memory:
        compare(
            n,
            vessels,
            runs=3 if args.quick else 5,
            peer_runs=1 if args.quick else 3,
            sample_vessels=3 if args.quick else 10,
            lines=lines,
        )
    if args.only_memory:
        memory_runs(4_000_000 if args.quick else args.memory_rows, args.limit_mb, lines)
    elif not args.skip_memory:
        # In a fresh process, small when it starts the command (see memory_runs).
        command = [
            sys.executable,
            __file__,
            "--only-memory",
            "--memory-rows",
            str(args.memory_rows),
            "--limit-mb",
            str(args.limit_mb),
        ]
        subprocess.run(command + (["--quick"] if args.quick else []), check=True)
        lines.extend((OUT / "visits.md").read_text().splitlines()[1:])
    (OUT / "visits.md").write_text("\n".join(lines) + "\n")
    print(f"\nwritten to {OUT / 'visits.md'}")


if __name__ == "__main__":
    main()
