"""Tagging on Ray Data, on a real local Ray cluster of two CPUs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import polars as pl
import pytest

import polars_zones as pz

ray = pytest.importorskip("ray")
import ray.data  # noqa: E402, F811

from polars_zones.ray import tag_dataset  # noqa: E402

pytestmark = pytest.mark.slow  # each test starts or joins a Ray cluster

BUNDLED = str(pz.datasets.maritime_zones_path())


@pytest.fixture(scope="module")
def oracle_files(tmp_path_factory, oracle_points):
    """The oracle points as 8 Parquet files, with an id to put the output back in order."""
    lat, lon = oracle_points
    df = pl.DataFrame({"lat": lat, "lon": lon}).with_row_index("id")
    d = tmp_path_factory.mktemp("ray-points")
    for i, part in enumerate(df.iter_slices(df.height // 8 + 1)):
        part.write_parquet(d / f"part-{i}.parquet")
    return d, df


@pytest.mark.parametrize("quiet", [True, False])
def test_cli_engine_ray(oracle_files, tmp_path, bundled_zones, quiet):
    """`polars-zones tag --engine ray` (its own local cluster): a folder of Parquet files
    whose zones are the single-process ones, and the summary read back from that folder unless
    --quiet. Runs before the module's cluster starts."""
    d, df = oracle_files
    out = tmp_path / "tagged"
    command = [
        str(Path(sys.executable).parent / "polars-zones"),
        "tag",
        str(d),
        "--zones",
        BUNDLED,
        "--id-property",
        "A3",
        "-o",
        str(out),
        "--engine",
        "ray",
        *(["--quiet"] if quiet else []),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    got = pl.read_parquet(out / "*.parquet").sort("id")
    want = df.with_columns(zone=pl.col("lat").zones.tag("lon", polygons=bundled_zones).cast(pl.String))
    assert got.select("id", "zone").equals(want.select("id", "zone"))
    if quiet:  # no summary, so the output is not read back; only the line naming it
        assert "in no zone" not in done.stdout and done.stdout.startswith(f"wrote {out}/")
    else:  # the summary: rows in no zone, as the single-process tagging counts them
        assert "in no zone" in done.stdout and f"{want['zone'].null_count():,}" in done.stdout
        assert "rows/s" in done.stdout and f"wrote {out}/" in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tagged"]


@pytest.fixture(scope="module")
def cluster(oracle_files):
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    # Small read tasks, so both actors get blocks of these small files.
    context.target_max_block_size = 1 << 20
    yield
    ray.shutdown()


def expected(df: pl.DataFrame, zones: pz.Zones, boundary: str = "half-open") -> pl.DataFrame:
    return df.with_columns(zone=pl.col("lat").zones.tag("lon", polygons=zones, boundary=boundary).cast(pl.String))


@pytest.mark.parametrize("boundary", ["half-open", "inclusive"])
def test_same_answers_as_one_process_and_one_decode_per_worker(cluster, oracle_files, bundled_zones, boundary):
    d, df = oracle_files
    dataset = ray.data.read_parquet(str(d))
    got = pl.concat(
        [
            pl.from_arrow(ray.get(ref))
            for ref in tag_dataset(
                dataset, bundled_zones, boundary=boundary, worker_info=True, batch_size=20_000
            ).to_arrow_refs()
        ]
    ).sort("id")
    assert got.select("id", "lat", "lon", "zone").equals(
        expected(df, bundled_zones, boundary).select("id", "lat", "lon", "zone")
    )
    per_worker = got.group_by("_pz_worker_pid").agg(decodes=pl.col("_pz_index_decodes").max(), rows=pl.len())
    assert per_worker.height == 2, per_worker  # both actors worked
    assert per_worker["decodes"].to_list() == [1, 1]  # and each decoded the index once


def test_within_filters(cluster, oracle_files, bundled_zones):
    d, df = oracle_files
    got = pl.from_pandas(tag_dataset(ray.data.read_parquet(str(d)), bundled_zones, how="within").to_pandas())
    want = df.filter(pl.col("lat").zones.within("lon", polygons=bundled_zones))
    assert got.sort("id").equals(want)


def tagger_pids() -> list[int]:
    """Processes of this machine running the zone-tagging actors (Ray names them after the
    callable class in their command line)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if b"ZoneTagger" in (proc / "cmdline").read_bytes():
                    pids.append(int(proc.name))
            except OSError:
                continue
    return pids


def test_killed_worker_is_replaced_and_output_complete(cluster, oracle_files, bundled_zones):
    d, df = oracle_files
    # Many small batches, so the job is still running when a worker dies.
    big = pl.concat([df] * 20).with_row_index("row")
    dataset = ray.data.from_arrow(big.to_arrow()).repartition(80)
    killed: list[int] = []
    earlier = set(tagger_pids())  # actors of earlier tests may still be exiting

    def kill_one_worker() -> None:
        deadline = time.time() + 120
        first_seen = None
        while time.time() < deadline:
            pids = [p for p in tagger_pids() if p not in earlier]
            if pids and first_seen is None:
                first_seen = time.time()
            # Once this job's actors have run for a while, kill one of them.
            if pids and time.time() - first_seen > 2.5:
                try:
                    os.kill(pids[0], signal.SIGKILL)
                except ProcessLookupError:
                    continue
                killed.append(pids[0])
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_worker, daemon=True)
    killer.start()
    tagged = tag_dataset(dataset, bundled_zones, worker_info=True, batch_size=5_000)
    got = pl.concat([pl.from_arrow(ray.get(ref)) for ref in tagged.to_arrow_refs()]).sort("row")
    killer.join()
    assert killed, "no worker was found to kill"
    assert got.height == big.height and got["row"].n_unique() == big.height
    want = expected(big, bundled_zones)
    assert got.select("row", "zone").equals(want.select("row", "zone"))
    # The killed process had tagged batches (its finished outputs live on in the object
    # store), Ray started a replacement, and every process decoded the index once.
    per_worker = got.group_by("_pz_worker_pid").agg(pl.col("_pz_index_decodes").max(), rows=pl.len())
    assert killed[0] in per_worker["_pz_worker_pid"].to_list()
    assert per_worker.height >= 3
    assert per_worker["_pz_index_decodes"].max() == 1


def test_clear_error_without_ray(tmp_path):
    script = textwrap.dedent(
        """
        import sys
        sys.modules["ray"] = None  # as if Ray were not installed
        import polars_zones as pz
        from polars_zones.ray import tag_dataset
        try:
            tag_dataset(None, pz.datasets.maritime_zones())
        except ImportError as error:
            print(error)
        from polars_zones.cli import main
        sys.argv = ["polars-zones", "tag", sys.argv[1], "--zones", sys.argv[2], "-o", sys.argv[3], "--engine", "ray"]
        main()
        """
    )
    points = tmp_path / "p.parquet"
    pl.DataFrame({"lat": [1.0], "lon": [2.0]}).write_parquet(points)
    done = subprocess.run(
        [sys.executable, "-c", script, str(points), BUNDLED, str(tmp_path / "out")], capture_output=True, text=True
    )
    assert "pip install 'polars-zones[ray]'" in done.stdout
    assert done.returncode == 1
    assert done.stderr.strip() == "error: --engine ray needs Ray Data: pip install 'polars-zones[ray]'"
