"""`polars-zones visits` through its real entry point, in subprocesses."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import polars_zones as pz
from polars_zones.tracks import vessel_tracks

COMMAND = shutil.which("polars-zones", path=str(Path(sys.executable).parent)) or "polars-zones"
BUNDLED = str(pz.datasets.maritime_zones_path())
OPTIONS = dict(by="mmsi", time="timestamp", max_gap="6h", min_points=3, min_duration="10m")
FLAGS = ["--time", "timestamp", "--by", "mmsi", "--max-gap", "6h", "--min-points", "3", "--min-duration", "10m"]


def cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="200")
    return subprocess.run([COMMAND, *args], capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def points(tmp_path_factory, bundled_zones):
    d = tmp_path_factory.mktemp("visits")
    df = vessel_tracks(60_000, vessels=40, seed=8)
    df.write_parquet(d / "tracks.parquet")
    df.write_csv(d / "tracks.csv")
    tagged = df.with_columns(zone=pl.col("lat").zones.tag("lon", polygons=bundled_zones))
    return d, pz.visits(tagged, **OPTIONS)


@pytest.mark.parametrize("buckets", ["1", "3"])
def test_visits_parquet_match_the_library(points, tmp_path, buckets):
    d, expected = points
    target = tmp_path / "visits.parquet"
    done = cli(
        "visits",
        str(d / "tracks.parquet"),
        "--zones",
        BUNDLED,
        "--id-property",
        "A3",
        *FLAGS,
        "--buckets",
        buckets,
        "-o",
        str(target),
    )
    assert done.returncode == 0, done.stderr
    got = pl.read_parquet(target)
    assert got.with_columns(pl.col("zone").cast(pl.String)).equals(
        expected.with_columns(pl.col("zone").cast(pl.String))
    )
    # The summary: visits per zone with the median time in zone.
    assert f"{expected.height:,} visits from 60,000 rows" in done.stdout
    top = expected.group_by("zone").len().sort(["len", "zone"], descending=[True, False]).row(0)
    assert str(top[0]) in done.stdout and "median time in zone" in done.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["visits.parquet"]  # nothing left behind


def test_visits_from_csv_to_csv(points, tmp_path):
    d, expected = points
    target = tmp_path / "visits.csv"
    done = cli(
        "visits", str(d / "tracks.csv"), "--zones", BUNDLED, "--id-property", "A3", *FLAGS, "-o", str(target), "-q"
    )
    assert done.returncode == 0, done.stderr
    # -q: no progress bar and no summary, only the line naming the output.
    assert done.stdout.strip() == f"wrote {target} (csv, one row per visit; one streaming query)", done.stdout
    got = pl.read_csv(target, try_parse_dates=True)
    assert got.columns == ["mmsi", "zone", "enter", "exit", "duration", "points"]
    assert (
        got.select("mmsi", "zone", "points").rows()
        == expected.select("mmsi", pl.col("zone").cast(pl.String), "points").rows()
    )
    assert got["enter"].to_list() == expected["enter"].to_list()
    assert got["duration"][0] == expected["duration"].dt.to_string()[0]  # ISO 8601, e.g. P1DT2H


def test_visits_errors_are_one_line(points, tmp_path):
    d, _ = points
    target = tmp_path / "out.parquet"
    source = str(d / "tracks.parquet")
    cases = [
        (["--time", "ts"], "time column 'ts' not found; the points have columns: mmsi, timestamp, lat, lon"),
        (["--time", "timestamp", "--by", "ship"], "vessel (--by) column 'ship' not found"),
        (["--time", "timestamp", "--max-gap", "6 hours"], "--max-gap: cannot read '6 hours' as a duration"),
        (["--time", "lat", "--min-duration", "10m"], "the time column is Float64, so give a number in its units"),
        (["--time", "timestamp", "--min-points", "0"], "min_points must be an integer >= 1"),
        (["--time", "timestamp", "--buckets", "0"], "--buckets must be at least 1"),
        (["--time", "mmsi", "--by", "mmsi"], "column 'mmsi' is given twice among --time and --by"),
        (["--time", "timestamp", "--by", "mmsi", "--by", "mmsi"], "column 'mmsi' is given twice"),
    ]
    for args, message in cases:
        done = cli("visits", source, "--zones", BUNDLED, "--id-property", "A3", *args, "-o", str(target))
        assert done.returncode == 1, (args, done.stderr)
        # One error line, after the note naming the coordinate columns found (as for tag).
        lines = [line for line in done.stderr.strip().splitlines() if not line.startswith("note: coordinates from")]
        assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], done.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_plans_own_checks_are_one_line(tmp_path):
    """A check the visits plan makes on the data (src/plan_checks.rs) reads as its message."""
    source = tmp_path / "points.parquet"
    pl.DataFrame({"v": [None, -(2**63)], "time": [1, 2], "lat": [0.0, 0.0], "lon": [0.0, 0.0]}).write_parquet(source)
    args = ["--time", "time", "--by", "v", "--buckets", "1", "-q", "-o", str(tmp_path / "out.parquet")]
    done = cli("visits", str(source), "--zones", BUNDLED, *args)
    assert done.returncode == 1
    lines = [line for line in done.stderr.strip().splitlines() if not line.startswith("note: coordinates from")]
    assert lines == [
        "error: visits failed: the vessel column 'v' holds both nulls and -9223372036854775808, which share a "
        "place in the sort key; fill the nulls or cast the column to String"
    ], done.stderr


def test_help_lists_visits():
    done = cli("--help")
    assert done.returncode == 0 and "visits" in done.stdout
    done = cli("visits", "--help")
    assert done.returncode == 0
    for option in ("--time", "--by", "--max-gap", "--min-points", "--min-duration", "--buckets"):
        assert option in done.stdout


def test_demo_prints_visits_and_draws_tracks(tmp_path):
    png = tmp_path / "map.png"
    done = cli("demo", "--points", "60000", "--png", str(png))
    assert done.returncode == 0, done.stderr
    assert "positions of 30 synthetic vessels" in done.stdout
    assert "in no zone" in done.stdout and "rows/s" in done.stdout  # the tag table
    assert "visits (port calls and transits" in done.stdout and "median time in zone" in done.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_visits_of_an_empty_csv_and_the_output_among_the_inputs(tmp_path):
    (tmp_path / "empty.csv").write_text("mmsi,timestamp,lat,lon\n")
    target = tmp_path / "visits.parquet"
    done = cli(
        "visits",
        str(tmp_path / "empty.csv"),
        "--zones",
        BUNDLED,
        "--id-property",
        "A3",
        "--time",
        "timestamp",
        "--by",
        "mmsi",
        "-o",
        str(target),
    )
    assert done.returncode == 0, done.stderr
    assert pl.read_parquet(target).height == 0 and "0 visits from 0 rows" in done.stdout
    done = cli("visits", str(target), "--zones", BUNDLED, "--time", "enter", "-o", str(target))
    assert done.returncode == 1 and "is also an input" in done.stderr


def test_text_times_with_and_without_offsets_in_one_file(tmp_path):
    """ISO 8601 text: a time with an offset is read by its offset, one without as UTC, and one
    file may hold both (a single parse of the column failed on the second kind)."""
    # Two positions in the Gulf of Finland (FIN), one in open water, one more in FIN.
    lat, lon = [60.0, 60.0, 0.0, 60.0], [24.6, 24.6, -20.0, 24.6]
    times = ["2024-05-01T10:00:00Z", "2024-05-01 12:30:00+02:00", "2024-05-01T11:00:00", "2024-05-01T14:00:00.5"]
    source = tmp_path / "mixed.csv"
    pl.DataFrame({"mmsi": [7] * 4, "t": times, "lat": lat, "lon": lon}).write_csv(source)
    target = tmp_path / "visits.parquet"
    done = cli("visits", str(source), "--zones", BUNDLED, "--id-property", "A3", "--time", "t", "-o", str(target), "-q")
    assert done.returncode == 0, done.stderr
    utc = [pl.datetime(2024, 5, 1, h, m, s, time_zone="UTC") for h, m, s in [(10, 0, 0), (10, 30, 0)]]
    expected = pl.select(enter=utc[0], exit=utc[1]).row(0)
    got = pl.read_parquet(target)
    assert got.select("zone", "enter", "exit").rows()[0] == ("FIN", *expected), got
    # (11:00 at sea splits the visits: the last position is a second visit to FIN.)
    assert got["zone"].to_list() == ["FIN", "FIN"] and got["points"].to_list() == [2, 1]
    pl.DataFrame({"mmsi": [7, 7], "t": ["2024-05-01T10:00:00Z", "soon"], "lat": lat[:2], "lon": lon[:2]}).write_csv(
        source
    )
    done = cli("visits", str(source), "--zones", BUNDLED, "--id-property", "A3", "--time", "t", "-o", str(target), "-q")
    assert done.returncode == 1 and "error: visits failed: cannot read time column 't' as ISO 8601" in done.stderr
    times = ["2024-05-01T10:00:00", "soon"]
    pl.DataFrame({"mmsi": [7, 7], "t": times, "lat": lat[:2], "lon": lon[:2]}).write_csv(source)
    done = cli("visits", str(source), "--zones", BUNDLED, "--id-property", "A3", "--time", "t", "-o", str(target), "-q")
    assert done.returncode == 1 and "cannot read time column 't'" in done.stderr and "soon" in done.stderr, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mixed.csv", "visits.parquet"]
    # Not ISO 8601: refused, never guessed (Polars would read 01/05/2024 day first, silently).
    for times in (["01/05/2024 10:00", "01/05/2024 12:00"], ["2024-05-01T10:00:00", "05/01/2024 12:00"]):
        pl.DataFrame({"mmsi": [7, 7], "t": times, "lat": lat[:2], "lon": lon[:2]}).write_csv(source)
        args = ["--zones", BUNDLED, "--id-property", "A3", "--time", "t", "-o", str(target), "-q"]
        done = cli("visits", str(source), *args)
        assert done.returncode == 1 and "cannot read time column 't' as ISO 8601" in done.stderr, done.stderr
        assert repr(times[-1]) in done.stderr or repr(times[0]) in done.stderr, done.stderr


def test_inputs_that_disagree_on_the_time_and_empty_buckets(tmp_path):
    """A time that is a Datetime in one input and epoch seconds in another was joined as raw
    integers of two units (wrong visits, exit 0): refused. `--buckets` on no rows gives no
    rows, as one bucket does (it failed looking for the buckets' folder). A numeric threshold
    beyond 2^53 is read exactly."""
    when = pl.datetime(2024, 1, 1, time_zone="UTC") + pl.duration(minutes=pl.int_range(4))
    frame = pl.select(mmsi=pl.lit(1), lat=pl.lit(60.0), lon=pl.lit(5.0), timestamp=when)
    frame.write_parquet(tmp_path / "a.parquet")
    frame.with_columns(pl.col("timestamp").dt.epoch("s")).write_csv(tmp_path / "b.csv")
    common = ["--zones", BUNDLED, "--time", "timestamp", "--by", "mmsi", "-q"]
    done = cli("visits", str(tmp_path / "a.parquet"), str(tmp_path / "b.csv"), *common, "-o", str(tmp_path / "v.csv"))
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert "column 'timestamp' is Datetime" in done.stderr and "Int64 in the csv input" in done.stderr
    assert not (tmp_path / "v.csv").exists()

    (tmp_path / "empty.csv").write_text("mmsi,timestamp,lat,lon\n")
    for buckets in ("1", "2"):
        target = tmp_path / f"empty-{buckets}.csv"
        done = cli("visits", str(tmp_path / "empty.csv"), *common, "--buckets", buckets, "-o", str(target))
        assert done.returncode == 0, done.stderr
        assert pl.read_csv(target).columns == ["mmsi", "zone", "enter", "exit", "duration", "points"]

    big = 2**53 + 1
    pl.DataFrame({"mmsi": [1, 1], "lat": [60.0, 60.0], "lon": [5.0, 5.0], "timestamp": [0, big]}).write_csv(
        tmp_path / "big.csv"
    )
    for gap, visits in ((str(big), 1), (str(big - 1), 2)):
        target = tmp_path / "big-out.csv"
        done = cli("visits", str(tmp_path / "big.csv"), *common, "--max-gap", gap, "-o", str(target))
        assert done.returncode == 0, done.stderr
        assert pl.read_csv(target).height == visits, gap
