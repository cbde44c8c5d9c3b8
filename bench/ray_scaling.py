"""Ray Data next to the single-process streaming CLI, on the same 16 Parquet files.

    python bench/ray_scaling.py          # 8M AIS-like points, the 10 m zones

Measures, medians of 3 after a warm-up:
- `polars-zones tag DIR -o OUT.parquet` (one process, Polars streaming engine);
- `polars-zones tag DIR -o OUTDIR --engine ray` (starts a local Ray cluster of 2 CPUs each time);
- in an already running local cluster (2 CPUs, an actor per CPU): `tag_dataset(...).write_parquet`,
  and the same pipeline with a callable class that returns its batch untouched, whose time per
  batch is Ray Data's own overhead per batch.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import polars_zones as pz  # noqa: E402

from run import points_file, zone_set  # noqa: E402

FILES = 16
RUNS = 3
BATCH = 262_144


class Identity:
    """A callable class like the tagger that does nothing: Ray's overhead alone."""

    def __call__(self, batch):
        return batch


def median_time(fn, runs: int = RUNS) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    import ray
    import ray.data

    from polars_zones.ray import tag_dataset

    points = pl.read_parquet(points_file(8_000_000))
    zones = pz.Zones.from_geojson(zone_set("10m"), id_property="A3")
    cli = str(Path(sys.executable).parent / "polars-zones")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        inputs = tmp / "in"
        inputs.mkdir()
        for i, part in enumerate(points.iter_slices(points.height // FILES)):
            part.write_parquet(inputs / f"part-{i:02d}.parquet")
        index = tmp / "zones.pzi"
        zones.save(index)
        n = points.height

        def run_cli(*extra: str, out: Path) -> None:
            subprocess.run(
                [cli, "tag", str(inputs), "--zones", str(index), "-o", str(out), "--quiet", *extra],
                check=True,
                capture_output=True,
            )
            # A Parquet file from the single process, a folder of them from Ray.
            shutil.rmtree(out) if out.is_dir() else out.unlink()

        single = median_time(lambda: run_cli(out=tmp / "single.parquet"))
        ray_cli = median_time(lambda: run_cli("--engine", "ray", out=tmp / "ray-out"))

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.target_max_block_size = 16 << 20

        def pipeline(transform, batch_size: int):
            """read_parquet -> transform -> write_parquet on the warm cluster, output removed."""

            def run() -> None:
                out = tmp / "ray-warm"
                transform(ray.data.read_parquet(str(inputs)), batch_size).write_parquet(str(out))
                shutil.rmtree(out)

            return run

        def tagged(ds, batch_size):
            return tag_dataset(ds, zones, batch_size=batch_size)

        def untouched(ds, batch_size):
            return ds.map_batches(
                Identity,
                batch_format="pyarrow",
                zero_copy_batch=True,
                batch_size=batch_size,
                compute=ray.data.ActorPoolStrategy(size=2),
                num_cpus=0.5,
            )

        warm = median_time(pipeline(tagged, BATCH))
        identity = median_time(pipeline(untouched, BATCH))
        batches = -(-n // BATCH)

        # Per batch: time the tagger with 4x more, 4x smaller batches; the difference over the
        # extra batches is what each batch costs beyond its rows.
        small = BATCH // 4
        warm_small = median_time(pipeline(tagged, small))
        ray.shutdown()

    extra_batches = -(-n // small) - batches
    print(
        f"{n:,} AIS-like points in {FILES} Parquet files x 10 m zones ({zones.num_vertices:,} vertices); "
        f"2 cores; medians of {RUNS}"
    )
    print("| pipeline | seconds | points/s | vs single process |")
    print("|---|---|---|---|")
    rows = [
        ("single process: `polars-zones tag DIR -o OUT.parquet` (streaming engine)", single),
        ("`polars-zones tag DIR -o OUTDIR --engine ray` (starts a local 2-CPU cluster)", ray_cli),
        ("warm local cluster: `tag_dataset(read_parquet(DIR), zones).write_parquet(...)`", warm),
        ("warm local cluster, same pipeline with an identity callable (no tagging)", identity),
    ]
    for label, seconds in rows:
        print(f"| {label} | {seconds:.2f} | {n / seconds / 1e6:.2f}M | {seconds / single:.2f}x |")
    print(
        f"batches of {BATCH:,} rows: {batches}; with batches of {small:,}: {warm_small:.2f} s, "
        f"so each extra batch cost {(warm_small - warm) / extra_batches * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
