"""The `polars-zones` command through its real entry point, in subprocesses."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import polars_zones as pz
from polars_zones.synthetic import ship_positions

ROOT = Path(__file__).resolve().parents[1]
COMMAND = shutil.which("polars-zones", path=str(Path(sys.executable).parent)) or "polars-zones"
BUNDLED = str(pz.datasets.maritime_zones_path())


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="200")
    return subprocess.run([COMMAND, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


@pytest.fixture(scope="module")
def files(tmp_path_factory, bundled_zones):
    """The same 20k positions as Parquet, CSV and NDJSON (plus an `mmsi` column), and the
    expected zones from the library."""
    d = tmp_path_factory.mktemp("cli")
    df = ship_positions(20_000, bundled_zones, seed=11).select("lat", "lon").with_row_index("mmsi")
    df = df.with_columns(pl.col("mmsi").cast(pl.Int64))
    df.write_parquet(d / "points.parquet")
    df.write_csv(d / "points.csv")
    df.write_ndjson(d / "points.ndjson")
    expected = df.with_columns(zone=pl.col("lat").zones.tag("lon", polygons=bundled_zones).cast(pl.String))
    return d, expected


def test_help():
    done = cli("--help")
    assert done.returncode == 0
    for command in ("tag", "index", "demo"):
        assert command in done.stdout
    done = cli("tag", "--help")
    assert done.returncode == 0 and "--zones" in done.stdout and "--id-property" in done.stdout
    # The coordinate options say how they are found when not given (rich's markup once ate it).
    text = " ".join(done.stdout.replace("│", " ").split())
    assert "found among lat, latitude, y, in any case" in text, done.stdout
    assert "found among lon, lng, long, longitude, x, in any case" in text, done.stdout
    # Arguments are named as the README names them (typer showed the list as "{points}").
    assert "Usage: polars-zones tag [OPTIONS] {POINTS...}" in text, done.stdout
    done = cli("--version")
    assert done.returncode == 0 and done.stdout == f"polars-zones {pz.__version__}\n", done.stdout


@pytest.mark.parametrize("source", ["points.parquet", "points.csv", "points.ndjson"])
@pytest.mark.parametrize("out", ["out.parquet", "out.csv"])
def test_tag_each_format(files, source, out, tmp_path):
    d, expected = files
    target = tmp_path / out
    done = cli("tag", str(d / source), "--zones", BUNDLED, "--id-property", "A3", "-o", str(target))
    assert done.returncode == 0, done.stderr
    got = (
        pl.read_parquet(target)
        if out.endswith(".parquet")
        else pl.read_csv(target, schema_overrides={"zone": pl.String})
    )
    got = got.with_columns(pl.col("zone").cast(pl.String))
    assert got.select("mmsi", "zone").equals(expected.select("mmsi", "zone"))
    # The summary: a row per zone, open sea, invalid coordinates, throughput.
    n_outside = expected["zone"].null_count()
    assert "in no zone" in done.stdout and f"{n_outside:,}" in done.stdout
    assert "invalid coordinates" in done.stdout and "rows/s" in done.stdout
    assert [p.name for p in tmp_path.iterdir()] == [out]  # no temporary file left


def test_tag_globs_saved_index_and_options(files, tmp_path, bundled_zones):
    d, expected = files
    renamed = expected.rename({"lat": "latitude", "lon": "longitude"})
    for i, part in enumerate(renamed.iter_slices(7_000)):
        part.drop("zone").write_parquet(tmp_path / f"part-{i}.parquet")
    index = tmp_path / "zones.pzi"
    assert cli("index", "build", BUNDLED, "--id-property", "A3", "-o", str(index)).returncode == 0
    target = tmp_path / "tagged.parquet"
    done = cli(
        "tag",
        str(tmp_path / "part-*.parquet"),
        "--zones",
        str(index),
        "--lat",
        "latitude",
        "--lon",
        "longitude",
        "--boundary",
        "inclusive",
        "--column",
        "eez",
        "-o",
        str(target),
    )
    assert done.returncode == 0, done.stderr
    got = pl.read_parquet(target)
    want = (
        renamed.lazy()
        .select("mmsi", eez=pl.col("latitude").zones.tag("longitude", polygons=bundled_zones, boundary="inclusive"))
        .collect()
    )
    assert got.select("mmsi", "eez").equals(want)


def test_invalid_coordinates_are_counted(tmp_path):
    pl.DataFrame({"lat": [10.0, None, 95.0, float("nan"), -20.0], "lon": [20.0, 1.0, 0.0, 1.0, 300.0]}).write_csv(
        tmp_path / "p.csv"
    )
    done = cli(
        "tag", str(tmp_path / "p.csv"), "--zones", BUNDLED, "--id-property", "A3", "-o", str(tmp_path / "o.parquet")
    )
    assert done.returncode == 0, done.stderr
    invalid_line = next(line for line in done.stdout.splitlines() if "invalid coordinates" in line)
    assert " 3 " in invalid_line  # null, lat 95, NaN; lon 300 wraps to -60 and is valid


@pytest.mark.parametrize("out", ["out.parquet", "out.csv"])
def test_an_empty_input_gives_an_empty_output(tmp_path, out):
    """Issue 18.9d: a header-only CSV has String columns for Polars, which the command took
    for text coordinates; an empty input now writes an empty output with the zone column."""
    (tmp_path / "p.csv").write_text("mmsi,lat,lon\n")
    done = cli("tag", str(tmp_path / "p.csv"), "--zones", BUNDLED, "--id-property", "A3", "-o", str(tmp_path / out))
    assert done.returncode == 0, done.stderr
    got = pl.read_parquet(tmp_path / out) if out.endswith(".parquet") else pl.read_csv(tmp_path / out)
    assert got.columns == ["mmsi", "lat", "lon", "zone"] and got.height == 0
    assert "0 rows" in done.stdout


def test_index_build_and_info(tmp_path, bundled_zones):
    index = tmp_path / "zones.pzi"
    done = cli("index", "build", BUNDLED, "--id-property", "A3", "-o", str(index))
    assert done.returncode == 0, done.stderr
    assert pz.Zones.load(index).fingerprint == bundled_zones.fingerprint
    info = cli("index", "info", str(index))
    assert info.returncode == 0
    for text in ("250", f"{bundled_zones.num_vertices:,}", bundled_zones.fingerprint, "bytes"):
        assert text in info.stdout
    # An attribute filter cannot apply to a saved index: refused, not ignored.
    points = tmp_path / "points.csv"
    pl.DataFrame({"lat": [60.0], "lon": [24.6]}).write_csv(points)
    args = [str(points), "--zones", str(index), "--zones-where", "A3 = 'NOR'", "-o", str(tmp_path / "out.csv")]
    done = cli("tag", *args)
    assert done.returncode == 1 and "is a saved index: its zones are fixed" in done.stderr, done.stderr
    assert not (tmp_path / "out.csv").exists()


def bad_geojson(tmp_path: Path) -> Path:
    path = tmp_path / "bad.geojson"
    polygon = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, "x"], [0, 0]]]}
    path.write_text(
        json.dumps(
            {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": polygon}]}
        )
    )
    return path


def directory(path: Path) -> Path:
    path.mkdir()
    return path


def with_extra_column(d: Path, tmp_path: Path) -> Path:
    path = tmp_path / "extra.parquet"
    pl.read_parquet(d / "points.parquet").with_columns(extra=pl.lit(1)).write_parquet(path)
    return path


ERROR_CASES = {
    "missing points file": (lambda d, t: ["tag", str(t / "nope.parquet"), "--zones", BUNDLED], "no such file"),
    "glob matching nothing": (lambda d, t: ["tag", str(t / "nope-*.parquet"), "--zones", BUNDLED], "no file matches"),
    "unknown point format": (lambda d, t: ["tag", BUNDLED, "--zones", BUNDLED], "unknown point format"),
    "missing zones file": (
        lambda d, t: ["tag", str(d / "points.parquet"), "--zones", str(t / "z.geojson")],
        "no such zones file",
    ),
    "missing column": (
        lambda d, t: ["tag", str(d / "points.parquet"), "--zones", BUNDLED, "--lat", "latitude"],
        "column 'latitude' not found",
    ),
    "existing output column": (
        lambda d, t: ["tag", str(d / "points.parquet"), "--zones", BUNDLED, "--column", "mmsi"],
        "already have a column 'mmsi'",
    ),
    "bad GeoJSON": (
        lambda d, t: ["tag", str(d / "points.parquet"), "--zones", str(bad_geojson(t))],
        "feature 0, polygon 0, ring 0, vertex 2",
    ),
    "unknown output format": (
        lambda d, t: ["tag", str(d / "points.parquet"), "--zones", BUNDLED, "-o", str(t / "o.txt")],
        "unknown format '.txt'",
    ),
    # Issue 18.3: these two were tracebacks.
    "output is a directory": (
        lambda d, t: ["tag", str(d / "points.parquet"), "--zones", BUNDLED, "-o", str(directory(t / "o.parquet"))],
        "is a directory",
    ),
    "output is a directory without a suffix": (
        lambda d, t: ["tag", str(d / "points.parquet"), "--zones", BUNDLED, "-o", str(directory(t / "out"))],
        "is a directory",
    ),
    "Parquet files of different columns": (
        lambda d, t: ["tag", str(d / "points.parquet"), str(with_extra_column(d, t)), "--zones", BUNDLED],
        "extra column in file outside of expected schema: extra",
    ),
}


def one_error_line(stderr: str) -> bool:
    """One `error: ...` line, after nothing but notes (which coordinate columns were chosen)."""
    lines = stderr.strip().splitlines()
    return lines[-1].startswith("error: ") and all(line.startswith("note: ") for line in lines[:-1])


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_user_errors(files, tmp_path, case):
    d, _ = files
    make_args, message = ERROR_CASES[case]
    args = make_args(d, tmp_path)
    if "-o" not in args:
        args += ["-o", str(tmp_path / "out.parquet")]
    before = set(tmp_path.iterdir())
    done = cli(*args)
    assert done.returncode == 1
    assert message in done.stderr
    assert one_error_line(done.stderr) and "Traceback" not in done.stderr
    assert set(tmp_path.iterdir()) == before  # no output, no temporary file


def test_the_output_is_never_read_back_as_input(files, tmp_path):
    """Issue 18.4: a directory or glob that holds the output read the previous run's output
    as points (duplicated rows, exit 0), and an output equal to an input replaced it."""
    d, expected = files
    shutil.copy(d / "points.csv", tmp_path / "points.csv")
    for source in (str(tmp_path), str(tmp_path / "*.csv")):
        target = tmp_path / "out.csv"
        for _ in range(2):
            done = cli("tag", source, "--zones", BUNDLED, "-o", str(target), "-q")
            assert done.returncode == 0, done.stderr
            # -q: no progress bar and no summary, only the line naming the output.
            assert done.stdout.strip().splitlines() == [f"wrote {target} (csv, column 'zone' added)"]
            assert pl.read_csv(target).height == expected.height
        target.unlink()
    # A leftover temporary file of the output is not an input either.
    (tmp_path / ".out.parquet.0123abcd.tmp").write_text("junk")
    done = cli(
        "tag",
        str(tmp_path / "*"),
        str(tmp_path / ".*.tmp"),
        "--zones",
        BUNDLED,
        "-o",
        str(tmp_path / "out.parquet"),
        "-q",
    )
    assert done.returncode == 1 and "error: no file matches" in done.stderr and "other than the output" in done.stderr
    before = (tmp_path / "points.csv").read_bytes()
    for output in (tmp_path / "points.csv", tmp_path / "." / "points.csv"):
        done = cli("tag", str(tmp_path / "points.csv"), "--zones", BUNDLED, "-o", str(output))
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert done.stderr.startswith("error: output") and "is also an input" in done.stderr
    assert (tmp_path / "points.csv").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.parquet.0123abcd.tmp", "points.csv"]
    # A directory or glob that holds a file of points named as the output: that file is no
    # earlier output (no zone column), so it is refused, not left out and replaced.
    shutil.copy(d / "points.csv", tmp_path / "more.csv")
    for source in (str(tmp_path), str(tmp_path / "*.csv")):
        done = cli("tag", source, "--zones", BUNDLED, "-o", str(tmp_path / "more.csv"), "-q")
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert "no earlier output (it has no column 'zone')" in done.stderr
        assert (tmp_path / "more.csv").read_bytes() == before


def test_damaged_index_and_usage_error(tmp_path, bundled_zones):
    damaged = tmp_path / "damaged.pzi"
    damaged.write_bytes(bundled_zones.to_bytes()[:5000])
    done = cli("index", "info", str(damaged))
    assert done.returncode == 1 and "truncated" in done.stderr and "Traceback" not in done.stderr
    done = cli("tag", str(damaged))  # no --zones, no -o: a usage error
    assert done.returncode == 2 and "Missing option" in done.stderr


def test_failure_mid_stream_leaves_no_output(tmp_path):
    """A CSV whose bad value comes after the rows used to infer the schema fails while
    streaming: the message says why, and neither the output nor a temporary file remains."""
    rows = ["lat,lon"] + ["1.5,2.5"] * 5000 + ["north,2.5"]
    (tmp_path / "p.csv").write_text("\n".join(rows) + "\n")
    target = tmp_path / "o.parquet"
    done = cli("tag", str(tmp_path / "p.csv"), "--zones", BUNDLED, "-o", str(target))
    assert done.returncode == 1
    assert "\nerror: tagging failed: could not parse `north`" in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.csv"]


def test_ctrl_c_leaves_no_temporary_or_partial_output(tmp_path):
    """Issue 18.1: SIGINT (Ctrl-C) at moments spread over a 5M-row `tag`, from when its
    temporary output appears to its end, most near the end, where the summary reads the
    finished temporary file back: Polars answered with a KeyboardInterrupt of its own and
    Python raised a second one inside the cleanup, which left the full-size temporary file.
    (A Popen child, not a shell background job: those ignore SIGINT.) Whatever the moment:
    exit 130 and nothing left, or, when the signal came after the output was in place, the
    complete output."""
    n = 5_000_000
    rng = np.random.default_rng(0)
    points = tmp_path / "points.parquet"
    pl.DataFrame({"lat": rng.uniform(-60, 70, n), "lon": rng.uniform(-180, 180, n)}).write_parquet(points)
    target = tmp_path / "out.parquet"
    args = [COMMAND, "tag", str(points), "--zones", BUNDLED, "-o", str(target), "-q"]
    env = dict(os.environ, COLUMNS="200")

    def start() -> tuple[subprocess.Popen, float]:
        """The command, once its temporary output exists (imports and zones done)."""
        child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        while child.poll() is None and not any(name.endswith(".tmp") for name in os.listdir(tmp_path)):
            time.sleep(0.002)
        return child, time.perf_counter()

    durations = []  # of the sink, the summary and the rename
    for _ in range(2):
        child, started = start()
        assert child.wait(timeout=120) == 0
        durations.append(time.perf_counter() - started)
        target.unlink()
    outcomes = []
    for fraction in (0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0):
        child, started = start()
        time.sleep(fraction * min(durations))
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=120)
        left = sorted(p.name for p in tmp_path.iterdir() if p != points)
        outcomes.append((fraction, child.returncode, left))
        assert "Traceback" not in stderr, stderr
        assert child.returncode in (130, 0, -signal.SIGINT) and not [name for name in left if name.endswith(".tmp")], (
            outcomes
        )
        if left:  # the signal came after the output was in place: it is complete
            assert left == ["out.parquet"] and pl.scan_parquet(target).select(pl.len()).collect().item() == n, outcomes
            target.unlink()
    assert sum(code == 130 and not left for _, code, left in outcomes) >= 3, outcomes


def test_the_progress_bar_counts_rows_not_plugin_calls(tmp_path, bundled_zones):
    """With --nearest, every row goes through two plugin expressions (nearest and distance);
    the bar, drawn on a terminal while the query runs, counts rows and never passes the total
    (it reached twice the total before)."""
    import pty
    import re

    n = 1_000_000
    ship_positions(n, bundled_zones, seed=5).select("lat", "lon").write_parquet(tmp_path / "points.parquet")
    args = ["tag", str(tmp_path / "points.parquet"), "--zones", BUNDLED, "-o", str(tmp_path / "out.parquet")]
    leader, follower = pty.openpty()
    env = dict(os.environ, COLUMNS="200")
    child = subprocess.Popen([COMMAND, *args, "--nearest"], stdout=follower, stderr=follower, env=env)
    os.close(follower)
    drawn = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closes when the command exits
            break
        if not chunk:
            break
        drawn += chunk
    assert child.wait(timeout=600) == 0, drawn.decode(errors="replace")
    text = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", drawn)  # colours and cursor moves
    counts = [int(done) for done, total in re.findall(rb"([0-9]+)/([0-9]+) rows", text) if int(total) == n]
    assert len(counts) >= 3, drawn.decode(errors="replace")  # redrawn while it ran, not only at the end
    assert max(counts) == n and counts == sorted(counts), counts


def test_demo_writes_a_png(tmp_path):
    png = tmp_path / "map.png"
    done = cli("demo", "--points", "50000", "--png", str(png))
    assert done.returncode == 0, done.stderr
    assert "in no zone" in done.stdout and "rows/s" in done.stdout
    assert png.stat().st_size > 10_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bounded_memory_on_a_file_larger_than_the_limit(tmp_path):
    """70M rows (1.6 GiB of columns, a 1.5 GiB Parquet file) through `polars-zones tag` with
    a hard 450 MiB memory limit where the machine allows a cgroup, else with the peak RSS
    checked against the same figure. (The command's peak RSS grows slowly with the input:
    283 MiB at 10M rows, 350-377 MiB at 120M.)"""
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "bounded_memory.py"),
            "--rows",
            "70000000",
            "--limit-mb",
            "450",
            "--dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    limit = 450 * 1024 * 1024
    assert result["exit_status"] == 0, done.stdout
    assert result["output_rows"] == 70_000_000
    assert result["input_file_bytes"] > 3 * limit
    assert result["peak_rss_bytes"] < limit


# ---- coordinate columns, zone formats, zone properties (issue 17) ---------------------------

NOAA_HEADER = (
    "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,Length,Width,Draft,Cargo,"
    "TransceiverClass"
)
DMA_HEADER = (
    "# Timestamp,Type of mobile,MMSI,Latitude,Longitude,Navigational status,ROT,SOG,COG,Heading,IMO,Callsign,"
    "Name,Ship type,Cargo type,Width,Length,Type of position fixing device,Draught,Destination,ETA,"
    "Data source type,A,B,C,D"
)


@pytest.mark.parametrize(
    "header, expected",
    [
        (NOAA_HEADER, ("LAT", "LON")),
        (DMA_HEADER, ("Latitude", "Longitude")),
        ("id,lat,lng", ("lat", "lng")),
        ("x,y,t", ("y", "x")),
        ("lat,lon,x,y", ("lat", "lon")),  # lat/lon names win over x/y
        ("Long, Lat ", (" Lat ", "Long")),
    ],
)
def test_detect_coordinates(header, expected):
    from polars_zones.cli import detect_coordinates

    assert detect_coordinates(header.split(",")) == expected
    schema = pl.Schema({name: pl.Float64 for name in header.split(",")})
    assert detect_coordinates(schema) == expected


@pytest.mark.parametrize(
    "header, message",
    [
        (
            "lat,latitude,lon",
            "several columns look like the latitude: 'lat', 'latitude'; choose one with --lat "
            "(the points have columns: lat, latitude, lon)",
        ),
        ("LAT,lat,lon", "several columns look like the latitude: 'LAT', 'lat'"),
        ("lat,lon,LONGITUDE", "several columns look like the longitude: 'lon', 'LONGITUDE'; choose one with --lon"),
        (
            "mmsi,breite,laenge",
            "no latitude column among the common names (lat, latitude, y, in any case); name it with "
            "--lat (the points have columns: mmsi, breite, laenge)",
        ),
        ("mmsi,lat,laenge", "no longitude column among the common names (lon, lng, long, longitude, x, in any case)"),
    ],
)
def test_detect_coordinates_errors(header, message):
    from polars_zones.cli import UserError, detect_coordinates

    with pytest.raises(UserError) as error:
        detect_coordinates(header.split(","))
    assert message in str(error.value)


def test_given_columns_are_not_detected():
    from polars_zones.cli import detect_coordinates

    assert detect_coordinates(["lat", "latitude", "lon"], lat="latitude") == ("latitude", "lon")


@pytest.fixture(scope="module")
def ais_files(tmp_path_factory, bundled_zones):
    """1,000 positions under the NOAA and the Danish Maritime Authority headers, and their zones."""
    d = tmp_path_factory.mktemp("ais")
    positions = ship_positions(1_000, bundled_zones, seed=5)
    lat, lon = positions["lat"], positions["lon"]
    expected = positions.select(pl.col("lat").zones.tag("lon", polygons=bundled_zones).cast(pl.String))["lat"].to_list()
    noaa = pl.DataFrame({name: [1] * len(lat) for name in NOAA_HEADER.split(",")}).with_columns(LAT=lat, LON=lon)
    noaa.write_csv(d / "noaa.csv")
    dma = pl.DataFrame({name: ["x"] * len(lat) for name in DMA_HEADER.split(",")}).with_columns(
        Latitude=lat, Longitude=lon
    )
    dma.write_csv(d / "dma.csv")
    return d, expected


@pytest.mark.parametrize("name, columns", [("noaa.csv", ("LAT", "LON")), ("dma.csv", ("Latitude", "Longitude"))])
def test_tag_finds_the_coordinate_columns(ais_files, name, columns, tmp_path):
    d, expected = ais_files
    done = cli(
        "tag", str(d / name), "--zones", BUNDLED, "--id-property", "A3", "-o", str(tmp_path / "out.parquet"), "-q"
    )
    assert done.returncode == 0, done.stderr
    assert f"coordinates from columns {columns[0]!r} (latitude) and {columns[1]!r} (longitude)" in done.stderr
    assert pl.read_parquet(tmp_path / "out.parquet")["zone"].cast(pl.String).to_list() == expected


def test_tag_refuses_ambiguous_or_missing_coordinates(tmp_path):
    pl.DataFrame({"lat": [1.0], "Latitude": [1.0], "lon": [2.0]}).write_csv(tmp_path / "two.csv")
    pl.DataFrame({"north": [1.0], "east": [2.0]}).write_csv(tmp_path / "none.csv")
    for name, message in (
        ("two.csv", "several columns look like the latitude: 'lat', 'Latitude'"),
        ("none.csv", "no latitude column among the common names"),
    ):
        done = cli("tag", str(tmp_path / name), "--zones", BUNDLED, "-o", str(tmp_path / "out.parquet"))
        assert done.returncode == 1 and one_error_line(done.stderr) and message in done.stderr, done.stderr
        assert "the points have columns" in done.stderr and not (tmp_path / "out.parquet").exists()


@pytest.fixture(scope="module")
def zone_files(tmp_path_factory):
    """The bundled zones, with two more properties, as GeoPackage and GeoParquet."""
    gpd = pytest.importorskip("geopandas")
    pytest.importorskip("pyogrio")
    d = tmp_path_factory.mktemp("zonefiles")
    frame = gpd.read_file(pz.datasets.maritime_zones_path())
    frame["NAME"] = "zone " + frame["A3"]
    frame["RANK"] = range(len(frame))
    frame.to_file(d / "zones.gpkg")
    frame.to_parquet(d / "zones.parquet")
    return d


@pytest.mark.parametrize("zones_name", ["zones.gpkg", "zones.parquet"])
@pytest.mark.parametrize("out", ["out.parquet", "out.csv"])
def test_tag_with_zone_files_and_keep_properties(files, zone_files, zones_name, out, tmp_path):
    d, expected = files
    target = tmp_path / out
    done = cli(
        "tag",
        str(d / "points.csv"),
        "--zones",
        str(zone_files / zones_name),
        "--id-property",
        "A3",
        "--keep-properties",
        "NAME,RANK",
        "-o",
        str(target),
        "-q",
    )
    assert done.returncode == 0, done.stderr
    assert "columns 'zone', 'NAME', 'RANK' added" in done.stdout
    got = pl.read_parquet(target) if out.endswith("parquet") else pl.read_csv(target)
    assert got.columns == ["mmsi", "lat", "lon", "zone", "NAME", "RANK"]
    assert got["mmsi"].to_list() == expected["mmsi"].to_list()  # rows in input order
    assert got["zone"].cast(pl.String).to_list() == expected["zone"].to_list()
    named = got.filter(pl.col("zone").is_not_null())
    assert (named["NAME"] == "zone " + named["zone"].cast(pl.String)).all()
    assert got.filter(pl.col("zone").is_null())["NAME"].null_count() == got["zone"].null_count()


def test_keep_properties_errors_and_zone_filters(files, zone_files, tmp_path):
    d, _ = files
    base = [
        "tag",
        str(d / "points.parquet"),
        "--zones",
        str(zone_files / "zones.gpkg"),
        "--id-property",
        "A3",
        "-o",
        str(tmp_path / "out.parquet"),
    ]
    done = cli(*base, "--keep-properties", "POPULATION")
    assert done.returncode == 1 and "the zones have no property 'POPULATION'; they have: A3, NAME, RANK" in done.stderr
    done = cli(*base, "--keep-properties", "NAME", "--column", "NAME")
    assert done.returncode == 1 and "the output already gets a column 'NAME'" in done.stderr
    done = cli(*base, "--zones-layer", "nope")
    assert done.returncode == 1 and "has no layer 'nope'; its layers: zones" in done.stderr
    done = cli(*base, "--zones-where", "A3 IN ('NOR', 'SWE')", "-q")
    assert done.returncode == 0, done.stderr
    assert set(pl.read_parquet(tmp_path / "out.parquet")["zone"].drop_nulls().cast(pl.String)) <= {"NOR", "SWE"}


def test_index_build_from_a_geopackage_keeps_properties(zone_files, bundled_zones, tmp_path):
    done = cli("index", "build", str(zone_files / "zones.gpkg"), "--id-property", "A3", "-o", str(tmp_path / "z.pzi"))
    assert done.returncode == 0, done.stderr
    saved = pz.Zones.load(tmp_path / "z.pzi")
    assert saved.fingerprint == bundled_zones.fingerprint
    assert saved.properties.columns == ["A3", "NAME", "RANK"]


def test_demo_without_a_map(tmp_path):
    done = cli("demo", "--points", "20000", "--no-map", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "in no zone" in done.stdout and not list(tmp_path.iterdir())


def test_the_demo_imports_no_command_module():
    """The demo shares its summary tables with the commands through polars_zones._report:
    importing it loads neither polars_zones.cli nor polars_zones._cli_visits."""
    code = (
        "import sys, polars_zones.demo; "
        "print(sorted(m for m in sys.modules if m.startswith('polars_zones.') and 'cli' in m))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "max_distance, metres", [("20km", 20_000.0), ("12nm", 12 * 1852.0), ("500 m", 500.0), ("7000", 7000.0)]
)
def test_nearest_zone_within_a_distance(files, bundled_zones, tmp_path, max_distance, metres):
    d, _ = files
    target = tmp_path / "near.parquet"
    done = cli(
        "tag",
        str(d / "points.parquet"),
        "--zones",
        BUNDLED,
        "--id-property",
        "A3",
        "--nearest",
        "--max-distance",
        max_distance,
        "-o",
        str(target),
    )
    assert done.returncode == 0, done.stderr
    got = pl.read_parquet(target)
    points = pl.read_parquet(d / "points.parquet")
    expected = points.with_columns(
        zone=pl.col("lat").zones.nearest("lon", polygons=bundled_zones, max_distance=metres),
        distance_m=pl.col("lat").zones.distance("lon", polygons=bundled_zones, max_distance=metres),
    )
    assert got.select("zone", "distance_m").equals(expected.select("zone", "distance_m"))
    assert (got["distance_m"].drop_nulls() <= metres).all()
    assert "'distance_m'" in done.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--nearest", "--max-distance", "20 furlongs"], "unknown unit 'furlongs' (use m, km or nm)"),
        (["--nearest", "--max-distance", "far"], "expected a number and a unit"),
        (["--max-distance", "20km"], "--max-distance needs --nearest"),
    ],
)
def test_bad_distances_are_one_error_line(files, tmp_path, args, message):
    d, _ = files
    done = cli("tag", str(d / "points.parquet"), "--zones", BUNDLED, *args, "-o", str(tmp_path / "x.parquet"))
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: --max-distance") and message in last
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "x.parquet").exists()


def test_brackets_in_zone_names_and_paths_print_as_they_are(tmp_path):
    # rich reads "[...]" as markup: "[/]" once crashed the summary after the output was written,
    # and "Zone [north]" printed as "Zone ".
    names = ["[/]", "[red]Red Sea", "Zone [north]"]
    features = [
        {
            "type": "Feature",
            "properties": {"n": name},
            "geometry": {"type": "Polygon", "coordinates": [[[x, 0], [x + 1, 0], [x + 1, 1], [x, 1], [x, 0]]]},
        }
        for x, name in enumerate(names)
    ]
    zones = tmp_path / "[v2] zones.geojson"
    zones.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    points = tmp_path / "points.csv"
    pl.DataFrame({"lat": [0.5] * 3, "lon": [0.5, 1.5, 2.5], "t": [0, 1, 2]}).write_csv(points)
    runs = {
        "tag": cli("tag", str(points), "-z", str(zones), "--id-property", "n", "-o", str(tmp_path / "t.parquet")),
        "visits": cli(
            "visits", str(points), "-z", str(zones), "--id-property", "n", "--time", "t", "-o", str(tmp_path / "v.csv")
        ),
        "index": cli("index", "build", str(zones), "--id-property", "n", "-o", str(tmp_path / "[out].pzi")),
    }
    for command, done in runs.items():
        assert done.returncode == 0, (command, done.stderr)
        assert "Traceback" not in done.stderr
        for name in names:
            assert name in done.stdout, (command, name, done.stdout)
    assert "[out].pzi" in runs["index"].stdout
    tagged = pl.read_parquet(tmp_path / "t.parquet")
    assert tagged["zone"].cast(pl.String).to_list() == names


def test_negative_counts_are_usage_errors(tmp_path):
    points = tmp_path / "points.csv"
    pl.DataFrame({"lat": [0.5], "lon": [0.5]}).write_csv(points)
    for args, option in [
        (["tag", str(points), "-z", BUNDLED, "-o", str(tmp_path / "out.parquet"), "--top", "-1"], "--top"),
        (["demo", "--points", "-5", "--no-map"], "--points"),
    ]:
        done = cli(*args)
        assert done.returncode == 2 and option in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "out.parquet").exists()


def test_names_that_look_like_globs_are_the_files_they_name(tmp_path, bundled_zones):
    """Polars' scans expand globs: "b[1].csv" read "b1.csv" (its rows twice, b[1]'s lost), and
    an output named "res[1].parquet" failed when the summary read it back."""
    d = tmp_path / "in[put]"
    d.mkdir()
    # A German and a Danish position, in files whose names differ by the brackets only.
    pl.DataFrame({"lat": [54.5], "lon": [10.5]}).write_csv(d / "b[1].csv")
    pl.DataFrame({"lat": [54.6], "lon": [11.5]}).write_csv(d / "b1.csv")
    pl.DataFrame({"lat": [54.5], "lon": [10.5]}).write_ndjson(d / "n[1].ndjson")
    pl.DataFrame({"lat": [54.6], "lon": [11.5]}).write_ndjson(d / "n1.ndjson")
    pl.DataFrame({"lat": [54.5], "lon": [10.5]}).write_parquet(d / "p[1].parquet")
    pl.DataFrame({"lat": [54.6], "lon": [11.5]}).write_parquet(d / "p1.parquet")
    expected = "DEU"
    assert [bundled_zones.ids[i] for i in bundled_zones.tag_numpy([54.5, 54.6], [10.5, 11.5])] == ["DEU", "DNK"]
    for source in ("b[1].csv", "n[1].ndjson", "p[1].parquet"):
        target = tmp_path / f"res[{source}].parquet"
        done = cli("tag", str(d / source), "--zones", BUNDLED, "--id-property", "A3", "-o", str(target))
        assert done.returncode == 0, done.stderr
        assert pl.read_parquet(target, glob=False)["zone"].cast(pl.String).to_list() == [expected], source
    target = tmp_path / "all.csv"
    done = cli("tag", str(d), "--zones", BUNDLED, "--id-property", "A3", "-o", str(target), "-q")
    assert done.returncode == 0, done.stderr
    assert sorted(pl.read_csv(target)["zone"].to_list()) == sorted(["DEU", "DNK"] * 3)
    # visits, in buckets, into a bracketed output (its staging directory is named after it).
    track = tmp_path / "track.csv"
    pl.DataFrame({"t": [0, 60, 120], "lat": [54.5] * 3, "lon": [10.5] * 3, "v": [1] * 3}).write_csv(track)
    target = tmp_path / "v[1].parquet"
    done = cli(
        "visits", str(track), "--zones", BUNDLED, "--id-property", "A3", "--time", "t", "--by", "v",
        "--buckets", "2", "-o", str(target),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert pl.read_parquet(target, glob=False).select("enter", "exit", "points").row(0) == (0, 120, 3)


def test_csv_coordinates_are_numbers_whatever_their_first_rows(tmp_path, bundled_zones):
    """Polars guesses a CSV column's type from its first 100 rows: integer latitudes there, or
    empty cells, made a later 54.5 an error or the whole column text."""
    lat = [10] * 150 + [54.5]
    lon = [10] * 150 + [10.5]
    pl.DataFrame({"lat": lat, "lon": lon}, schema={"lat": pl.Float64, "lon": pl.Float64}).with_columns(
        pl.col("lat", "lon").cast(pl.String).str.replace(r"\.0$", "")
    ).write_csv(tmp_path / "ints.csv")
    (tmp_path / "gaps.csv").write_text("lat,lon\n" + ",\n" * 120 + "54.5,10.5\n")
    for name, rows in (("ints.csv", 151), ("gaps.csv", 121)):
        target = tmp_path / f"{name}.parquet"
        done = cli("tag", str(tmp_path / name), "--zones", BUNDLED, "--id-property", "A3", "-o", str(target), "-q")
        assert done.returncode == 0, done.stderr
        got = pl.read_parquet(target)
        assert got.height == rows and got.schema["lat"] == pl.Float64
        assert got["zone"].cast(pl.String)[-1] == bundled_zones.ids[bundled_zones.tag_numpy([54.5], [10.5])[0]]


def test_csv_files_whose_columns_differ_are_joined_by_name(tmp_path, bundled_zones):
    """Polars' multi-file CSV scan needs one header; files with their columns in another order,
    or with a column the others lack, failed with "schema names differ" and no file named."""
    (tmp_path / "a.csv").write_text("lat,lon\n54.5,10.5\n")
    (tmp_path / "b.csv").write_text("lon,lat,mmsi\n10.5,54.5,7\n")
    target = tmp_path / "out.parquet"
    a, b = str(tmp_path / "a.csv"), str(tmp_path / "b.csv")
    done = cli("tag", a, b, "--zones", BUNDLED, "--id-property", "A3", "-o", str(target), "-q")
    assert done.returncode == 0, done.stderr
    got = pl.read_parquet(target)
    zone = bundled_zones.ids[bundled_zones.tag_numpy([54.5], [10.5])[0]]
    assert got.select("lat", "lon", "mmsi").rows() == [(54.5, 10.5, None), (54.5, 10.5, 7)]
    assert got["zone"].cast(pl.String).to_list() == [zone, zone]


def test_options_that_would_clash_or_overflow_are_one_error_line(tmp_path, bundled_zones):
    points = tmp_path / "p.csv"
    pl.DataFrame({"lat": [54.5], "lon": [10.5]}).write_csv(points)
    zones = tmp_path / "z.geojson"
    square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    feature = {"type": "Feature", "properties": {"name": "a", "distance_m": 5}, "geometry": square}
    zones.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    base = ["tag", str(points), "--zones", str(zones), "--id-property", "name", "-o", str(tmp_path / "o.csv")]
    for extra, message in [
        (["--nearest", "--keep-properties", "distance_m"], "the output already gets a column 'distance_m'"),
        (["--keep-properties", "name", "--column", "name"], "the output already gets a column 'name'"),
        (["--nearest", "--max-distance", "1e400"], "--max-distance '1e400': too large to be a distance"),
    ]:
        done = cli(*base, *extra)
        lines = [line for line in done.stderr.strip().splitlines() if not line.startswith("note:")]
        assert done.returncode == 1 and len(lines) == 1 and lines[0].startswith(f"error: {message}"), done.stderr
    assert not (tmp_path / "o.csv").exists()


def test_warnings_are_one_line(tmp_path):
    zones = tmp_path / "z.geojson"
    square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    features = [{"type": "Feature", "properties": {}, "geometry": g} for g in (square, None)]
    zones.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    points = tmp_path / "p.csv"
    pl.DataFrame({"lat": [0.5], "lon": [0.5]}).write_csv(points)
    done = cli("tag", str(points), "--zones", str(zones), "-o", str(tmp_path / "o.csv"), "-q")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if not line.startswith("note:")]
    assert lines == ["warning: skipped 1 feature(s) whose geometry is null (they contain no point)"], done.stderr


@pytest.mark.parametrize(
    "error",
    [RuntimeError("boom"), type("PanicException", (BaseException,), {})("boom")],
    ids=["exception", "rust-panic"],
)
def test_an_unforeseen_error_is_one_line_unless_asked_for_the_traceback(monkeypatch, capsys, error):
    """An error no check foresaw, a Rust panic included (a BaseException named PanicException,
    one class per copy of pyo3), ends the command with one line on stderr and status 1;
    POLARS_ZONES_TRACEBACK=1 lets it through with its traceback; exits pass untouched."""
    import warnings

    from polars_zones import cli

    # main() installs its SIGINT handler and warning format: restored after the test.
    monkeypatch.setattr(warnings, "formatwarning", warnings.formatwarning)
    handler = signal.getsignal(signal.SIGINT)
    monkeypatch.setattr(cli.signal, "signal", lambda *_: handler)

    def fail() -> None:
        raise error

    monkeypatch.setattr(cli, "app", fail)
    monkeypatch.delenv("POLARS_ZONES_TRACEBACK", raising=False)
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 1
    assert (
        capsys.readouterr().err
        == f"error: {type(error).__name__}: boom (unexpected: POLARS_ZONES_TRACEBACK=1 shows where)\n"
    )
    monkeypatch.setenv("POLARS_ZONES_TRACEBACK", "1")
    with pytest.raises(type(error), match="boom"):
        cli.main()

    def leave() -> None:
        raise SystemExit(3)

    monkeypatch.setattr(cli, "app", leave)
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 3
