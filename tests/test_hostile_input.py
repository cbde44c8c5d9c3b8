"""Bad input reaching the expressions, panics, and determinism across threads, chunks and engines."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import warnings
from datetime import date

import numpy as np
import polars as pl
import pytest
import shapely
from polars.plugins import register_plugin_function

import polars_zones as pz
from polars_zones._namespace import PLUGIN_PATH
from polars_zones.synthetic import ship_positions


@pytest.fixture(scope="module")
def frame(bundled_zones) -> pl.DataFrame:
    return ship_positions(50_000, bundled_zones, seed=21).select("lat", "lon")


NUMBERS = [1.0, 2.0]
DATES = [date(2020, 1, 1), date(2020, 1, 2)]


@pytest.mark.parametrize(
    "lat, lon, column, dtype",
    [
        (["10.5", "x"], NUMBERS, 'latitude column "lat"', "str"),
        (DATES, NUMBERS, 'latitude column "lat"', "date"),
        ([{"a": 1.0}, {"a": 2.0}], NUMBERS, 'latitude column "lat"', "struct[1]"),
        ([[1.0], [2.0]], NUMBERS, 'latitude column "lat"', "list[f64]"),
        (NUMBERS, DATES, 'longitude column "lon"', "date"),
    ],
)
def test_wrong_dtypes_are_clear_errors(bundled_zones, lat, lon, column, dtype):
    """Every expression refuses coordinates that are not numbers, naming the column and its dtype."""
    df = pl.DataFrame([pl.Series("lat", lat), pl.Series("lon", lon)])
    for expression in ("tag", "tag_all", "within", "distance", "nearest"):
        message = f"zones.{expression}: the {column} has dtype {dtype}; expected a float or integer column"
        with pytest.raises(pl.exceptions.PolarsError, match=re.escape(message)):
            df.select(getattr(pl.col("lat").zones, expression)("lon", polygons=bundled_zones))


@pytest.mark.parametrize(
    "values, dtype",
    [
        (["10.5", "20.5"], "object"),
        (["10.5", "20.5"], "string"),
        (["2020-01-01", "2020-01-02"], "datetime64[ns]"),
        ([True, False], "bool"),
    ],
)
def test_tag_pandas_refuses_non_numeric_columns(bundled_zones, values, dtype):
    """Issue 18.9f: strings were parsed as numbers, dates became NaN (and the swapped-coordinates
    warning): refused, as the expressions refuse them."""
    import pandas as pd

    df = pd.DataFrame({"lat": pd.Series(values).astype(dtype), "lon": [1.0, 2.0]})
    message = f"tag_pandas: the latitude column 'lat' has dtype {dtype}; expected a float or integer column"
    with pytest.raises(TypeError, match=re.escape(message)):
        pz.tag_pandas(df, bundled_zones)
    swapped = df.rename(columns={"lat": "lon", "lon": "lat"})
    with pytest.raises(TypeError, match="the longitude column 'lon' has dtype"):
        pz.tag_pandas(swapped, bundled_zones)


def test_tag_pandas_refuses_what_is_not_one_column_each(bundled_zones):
    import pandas as pd

    twice = pd.DataFrame([[1.0, 2.0, 3.0]], columns=["lat", "lat", "lon"])
    with pytest.raises(ValueError, match="the frame has 2 columns named 'lat'; rename them"):
        pz.tag_pandas(twice, bundled_zones)
    with pytest.raises(TypeError, match="tag_pandas takes a pandas DataFrame, not Series"):
        pz.tag_pandas(pd.Series([1.0]), bundled_zones)


def test_tag_pandas_takes_every_numeric_dtype(bundled_zones):
    import pandas as pd

    lat, lon = [59.0, 10.0, None], [5.0, -30.0, 1.0]
    want = pz.tag_pandas(pd.DataFrame({"lat": lat, "lon": lon}), bundled_zones)
    for dtype in ("float32", "Float64", "Int64"):
        df = pd.DataFrame({"lat": pd.Series(lat).round().astype(dtype), "lon": pd.Series(lon).astype(dtype)})
        assert pz.tag_pandas(df, bundled_zones).tolist() == want.tolist()
    assert want.tolist()[0] == "NOR"


def test_mismatched_lengths_are_a_clear_error(bundled_zones):
    lat, lon = pl.Series("lat", [1.0, 2.0, 3.0]), pl.Series("lon", [1.0, 2.0])
    with pytest.raises(pl.exceptions.PolarsError, match="latitude has 3 rows but longitude has 2"):
        pl.select(pl.lit(lat).zones.tag(pl.lit(lon), polygons=bundled_zones))


def test_all_null_columns_give_nulls(bundled_zones):
    df = pl.DataFrame({"lat": pl.Series([None, None], dtype=pl.Float64), "lon": [None, None]})
    out = df.select(
        tag=pl.col("lat").zones.tag("lon", polygons=bundled_zones),
        all=pl.col("lat").zones.tag_all("lon", polygons=bundled_zones),
        within=pl.col("lat").zones.within("lon", polygons=bundled_zones),
    )
    assert out.null_count().row(0) == (2, 2, 2)


def test_swapped_lat_lon_warns_once_per_process():
    """A fresh process, since the warning is once per process."""
    script = textwrap.dedent(
        """
        import warnings
        import polars as pl, polars_zones as pz
        zones = pz.datasets.maritime_zones()
        df = pl.DataFrame({"lat": [120.5, 150.0, -170.0, 10.0], "lon": [30.0, 45.0, -20.0, 5.0]})
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            first = df.select(pl.col("lat").zones.tag("lon", polygons=zones))
            df.select(pl.col("lat").zones.within("lon", polygons=zones))
            zones.tag_numpy(df["lat"].to_numpy(), df["lon"].to_numpy())
            ok = pl.DataFrame({"lat": [30.0], "lon": [120.0]}).select(pl.col("lat").zones.tag("lon", polygons=zones))
        print(len(caught), caught[0].category.__name__ if caught else None)
        print(str(caught[0].message) if caught else "")
        print(first.to_series().null_count(), ok.to_series().to_list())
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    counted, message, nulls = done.stdout.strip().split("\n")
    assert counted == "1 ZonesWarning"
    assert "are lat and lon swapped?" in message
    assert "The latitude comes first in pl.col(lat).zones.tag(lon, ...)." in message
    assert nulls.startswith("3 ")  # the three out-of-range latitudes are in no zone, as documented


def test_valid_points_do_not_warn(bundled_zones, frame):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame.select(pl.col("lat").zones.tag("lon", polygons=bundled_zones))
        bundled_zones.tag_numpy(frame["lat"].to_numpy(), frame["lon"].to_numpy())


def test_a_panic_in_the_kernel_is_a_python_exception(bundled_zones, frame):
    """The plugin has a test-only function that panics inside a rayon job, where a kernel bug
    would: the panic must come back as an exception, and the process must go on working."""
    expr = register_plugin_function(
        plugin_path=PLUGIN_PATH,
        function_name="zones_panic_for_tests",
        args=[pl.col("lat"), pl.col("lon")],
        is_elementwise=True,
    )
    for _ in range(3):
        with pytest.raises(pl.exceptions.ComputeError, match="the plugin panicked"):
            frame.select(expr)
    assert frame.select(pl.col("lat").zones.within("lon", polygons=bundled_zones)).height == frame.height


DETERMINISM = textwrap.dedent(
    """
    import hashlib, sys
    import polars as pl, polars_zones as pz
    from polars_zones.synthetic import ship_positions
    source = pz.datasets.maritime_zones_path()
    zones = pz.Zones.from_geojson(source, id_property="A3")
    df = ship_positions(300_000, zones, seed=5).select("lat", "lon")
    chunked = pl.concat([df.slice(i, 7_777) for i in range(0, df.height, 7_777)], rechunk=False)
    outputs = []
    for frame in (df, chunked):
        for engine in ("in-memory", "streaming"):
            outputs.append(frame.lazy().select(
                tag=pl.col("lat").zones.tag("lon", polygons=zones),
                all=pl.col("lat").zones.tag_all("lon", polygons=zones),
                within=pl.col("lat").zones.within("lon", polygons=zones, boundary="inclusive"),
            ).collect(engine=engine))
    numpy = zones.tag_numpy(df["lat"].to_numpy(), df["lon"].to_numpy(), boundary="exclusive")
    assert all(o.equals(outputs[0]) for o in outputs), "chunking or engine changed an answer"
    digest = hashlib.sha256()
    digest.update(zones.to_bytes())
    digest.update(outputs[0].write_ipc(None).getvalue())
    digest.update(numpy.tobytes())
    print(digest.hexdigest())
    """
)


def test_bit_identical_whatever_the_threads_chunks_and_engine():
    """Index bytes and every output, hashed, in processes with 1, 2 and 3 threads (rayon and
    Polars), frames in one chunk or many, in-memory and streaming engines."""
    digests = set()
    for threads in ("1", "2", "3"):
        env = dict(os.environ, RAYON_NUM_THREADS=threads, POLARS_MAX_THREADS=threads)
        done = subprocess.run([sys.executable, "-c", DETERMINISM], capture_output=True, text=True, env=env, check=True)
        digests.add(done.stdout.strip())
    assert len(digests) == 1, digests


def test_build_order_does_not_change_answers(bundled_collection, frame):
    """The same zones listed in reverse order number the zones differently, so compare the
    names of every zone containing each point; and building twice gives identical bytes."""
    forward = pz.Zones.from_geojson(bundled_collection, id_property="A3")
    reverse = pz.Zones.from_geojson(
        dict(bundled_collection, features=bundled_collection["features"][::-1]), id_property="A3"
    )
    assert sorted(forward.ids) == sorted(reverse.ids)
    a = frame.select(
        pl.col("lat").zones.tag_all("lon", polygons=forward).list.eval(pl.element().cast(pl.String)).list.sort()
    )
    b = frame.select(
        pl.col("lat").zones.tag_all("lon", polygons=reverse).list.eval(pl.element().cast(pl.String)).list.sort()
    )
    assert a.equals(b)
    assert pz.Zones.from_geojson(bundled_collection, id_property="A3").to_bytes() == forward.to_bytes()


def comb(edges: int) -> dict:
    """Edges 10 degrees long and 0.0001 degree apart, joined at alternate ends: the index copies
    each into every cell it crosses, so its memory grows with edges times cells."""
    ring = [[0.0 if i % 2 == 0 else 10.0, round(i * 1e-4, 6)] for i in range(edges)]
    ring += [[-1.0, round(edges * 1e-4, 6)], [-1.0, 0.0], ring[0]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_an_index_too_large_for_memory_is_a_clear_error_not_the_end_of_the_process(monkeypatch):
    # The limit is a third of the memory available; the variable stands in for a small machine.
    zones = comb(4000)
    monkeypatch.setenv("POLARS_ZONES_MAX_BUILD_BYTES", str(2_000_000))
    with pytest.raises(ValueError, match=r"more memory than POLARS_ZONES_MAX_BUILD_BYTES allows .* simplify or split"):
        pz.Zones.from_geojson(zones)
    monkeypatch.setenv("POLARS_ZONES_MAX_BUILD_BYTES", "2GB")
    with pytest.raises(ValueError, match=r'POLARS_ZONES_MAX_BUILD_BYTES must be a whole number of bytes .*"2GB"'):
        pz.Zones.from_geojson(zones)
    monkeypatch.delenv("POLARS_ZONES_MAX_BUILD_BYTES")
    built = pz.Zones.from_geojson(zones)
    # The same comb built within the limit: answers as shapely's, off its edges.
    rng = np.random.default_rng(5)
    lon, lat = rng.uniform(-1, 10, 2000), rng.uniform(0, 0.4, 2000)
    polygon = shapely.geometry.shape(zones)
    expected = np.where(shapely.contains_xy(polygon, lon, lat), 0, -1)
    off_edges = shapely.distance(polygon.boundary, shapely.points(lon, lat)) > 1e-6
    np.testing.assert_array_equal(built.tag_numpy(lat, lon)[off_edges], expected[off_edges])


def test_save_keeps_links_and_devices_and_refuses_directories(bundled_zones, tmp_path):
    """`save` replaced whatever its path named with a new file: a symbolic link lost its
    target, and, as root, `save("/dev/null")` put a regular file where the device was. A link
    is now followed (its target replaced, the link kept), a device written to, a directory
    refused; reading a device or a directory is refused too (/dev/zero never ends)."""
    real, link = tmp_path / "real.pzi", tmp_path / "link.pzi"
    real.write_bytes(b"old")
    link.symlink_to(real.name)
    bundled_zones.save(link)
    assert link.is_symlink() and pz.Zones.load(real).fingerprint == bundled_zones.fingerprint
    bundled_zones.save(os.devnull)
    assert not os.path.isfile(os.devnull) and os.path.exists(os.devnull)
    with pytest.raises(IsADirectoryError, match="is a directory"):
        bundled_zones.save(tmp_path)
    with pytest.raises(FileNotFoundError, match="the path is empty"):
        bundled_zones.save("")
    with pytest.raises(FileNotFoundError, match="no directory"):
        bundled_zones.save(tmp_path / "nowhere" / "x.pzi")
    # The mode of a file it replaces is kept; through a pipe (/dev/stdout of a shell pipeline)
    # the index is written, not a file created where the pipe's name points.
    os.chmod(real, 0o600)
    bundled_zones.save(real)
    assert os.stat(real).st_mode & 0o777 == 0o600
    script = f"import polars_zones as pz; pz.Zones.load({str(real)!r}).save('/dev/stdout')"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert done.returncode == 0 and done.stdout == real.read_bytes(), done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.pzi", "real.pzi"]
    from pathlib import Path

    for source in ("/dev/zero", Path("/dev/zero"), tmp_path):
        with pytest.raises(ValueError, match="is not a file"):
            pz.Zones.load(source)
        with pytest.raises(ValueError, match="is not a file"):
            pz.Zones.from_geojson(source)


def test_save_to_a_redirected_stdout_appends_instead_of_replacing(bundled_zones, tmp_path):
    """/dev/stdout redirected to a regular file (`>> log`) looked like a regular file, so save
    replaced that file with a new one: the log's earlier lines were lost, and whatever the
    process printed afterwards went to the unlinked old file. Such a path names an open
    descriptor: save now writes at its position, after what Python printed before it."""
    saved = tmp_path / "zones.pzi"
    bundled_zones.save(saved)
    log = tmp_path / "log.txt"
    log.write_bytes(b"earlier line\n")
    inode = os.stat(log).st_ino
    for name in ("/dev/stdout", "/dev/fd/1", "/proc/self/fd/1", "/proc/thread-self/fd/1"):
        save = f"pz.Zones.load({str(saved)!r}).save({name!r})"
        script = f"import polars_zones as pz; print('before'); {save}; print('after')"
        with open(log, "ab") as out:
            done = subprocess.run([sys.executable, "-c", script], stdout=out, stderr=subprocess.PIPE, timeout=120)
        assert done.returncode == 0, done.stderr
    assert os.stat(log).st_ino == inode
    block = b"before\n" + saved.read_bytes() + b"after\n"
    assert log.read_bytes() == b"earlier line\n" + block * 4
    with pytest.raises(FileNotFoundError, match="descriptor 987 is not open"):
        bundled_zones.save("/proc/self/fd/987")
    # Names procfs has no entry for are ordinary paths: no such directory.
    for name in ("/proc/self/fd/01", "/proc/self/fd/\u0661"):
        with pytest.raises(FileNotFoundError):
            bundled_zones.save(name)
    with open(saved, "rb") as readable:  # a descriptor open for reading only: named, not raw
        with pytest.raises(OSError, match="cannot save zones to .*Bad file descriptor"):
            bundled_zones.save(f"/dev/fd/{readable.fileno()}")


def test_paths_that_cannot_name_a_file_are_clear_errors(bundled_zones, tmp_path):
    """A path through a regular file, or with a NUL in it, escaped as NotADirectoryError or
    "embedded null byte", without saying which call failed."""
    regular = tmp_path / "regular"
    regular.write_bytes(b"x")
    with pytest.raises(FileNotFoundError, match="Zones.load: no such file"):
        pz.Zones.load(regular / "x.pzi")
    with pytest.raises(ValueError, match="Zones.load: .* holds a NUL character"):
        pz.Zones.load("a\0b.pzi")
    with pytest.raises(ValueError, match="cannot save zones to .* holds a NUL character"):
        bundled_zones.save("a\0b.pzi")


def test_damaged_geoparquet_metadata_is_a_clear_error(tmp_path):
    """The `geo` metadata of a GeoParquet file is JSON written by someone else: a list, a null,
    a string where an object belongs, or no JSON at all were AttributeErrors and a bare
    JSONDecodeError; a String geometry column a TypeError from the Rust side."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "zones.parquet"
    square = shapely.to_wkb(shapely.box(0, 0, 1, 1))

    def read(geo: object, column: pa.Array) -> str:
        raw = geo if isinstance(geo, bytes) else json.dumps(geo).encode()
        pq.write_table(pa.table({"geometry": column}).replace_schema_metadata({b"geo": raw}), path)
        with pytest.raises(ValueError) as error:
            pz.Zones.from_file(path)
        return str(error.value)

    wkb = pa.array([square])
    meta = {"primary_column": "geometry", "columns": {"geometry": {"encoding": "WKB"}}}
    assert "'geo' is an array, not an object" in read([1, 2], wkb)
    assert "'geo' metadata is not JSON" in read(b"{oops", wkb)
    assert "which it does not have" in read({"primary_column": "geometry", "columns": None}, wkb)
    bbox = {"primary_column": "geometry", "columns": {"geometry": {"covering": {"bbox": "x"}}}}
    assert "'bbox' is a string, not an object" in read(bbox, wkb)
    assert "geometry column 'geometry' holds string, not WKB" in read(meta, pa.array(["POLYGON ((0 0, 1 0, 1 1))"]))
    pq.write_table(pa.table({"geometry": wkb}).replace_schema_metadata({b"geo": json.dumps(meta).encode()}), path)
    assert len(pz.Zones.from_file(path)) == 1


def test_index_build_refuses_to_overwrite_its_zone_file(tmp_path):
    """`polars-zones index build z.geojson -o z.geojson` replaced the zone file by the index."""
    zones = tmp_path / "z.geojson"
    zones.write_bytes(pz.datasets.maritime_zones_path().read_bytes())
    command = [sys.executable, "-m", "polars_zones", "index", "build", str(zones), "--id-property", "A3", "-o"]
    for output, message in [(zones, "is the zone file itself"), (tmp_path, "is a directory")]:
        done = subprocess.run([*command, str(output)], capture_output=True, text=True, timeout=120)
        assert done.returncode == 1 and f"error: output {str(output)!r} {message}" in done.stderr, done.stderr
    assert zones.read_bytes() == pz.datasets.maritime_zones_path().read_bytes()
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "a.shp").write_bytes(b"")
    done = subprocess.run(
        [*command[:-4], str(tmp_path / "empty"), "-o", str(tmp_path / "x.pzi")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and done.stderr.strip().splitlines()[-1].startswith("error: "), done.stderr


def test_geojson_numbers_are_read_exactly_as_wkb_reads_them():
    """A 17-digit coordinate one unit in the last place from a half step of 1e-7 degree:
    GeoJSON's parser read it a unit off and snapped it to the other step, so the same polygon
    from GeoJSON and from WKB had different fingerprints, and a point on that vertex fell
    outside its own zone under `inclusive`."""
    x = -11.543416950000001
    ring = [(x, 0.0), (x + 1, 0.0), (x + 1, 1.0), (x, 1.0), (x, 0.0)]
    text = '{"type": "Polygon", "coordinates": [[' + ", ".join(f"[{a!r}, {b!r}]" for a, b in ring) + "]]}"
    from_json = pz.Zones.from_geojson(text)
    from_wkb = pz.Zones.from_wkb([shapely.to_wkb(shapely.Polygon(ring))])
    assert from_json.fingerprint == from_wkb.fingerprint
    got = from_json.tag_numpy(np.array([0.0, 0.5]), np.array([x, x]), boundary="inclusive")
    assert got.tolist() == [0, 0]
    # And many vertices of 17 significant digits, half of them one ulp from a half step.
    rng = np.random.default_rng(5)
    steps = rng.integers(-1_700_000_000, 1_700_000_000, 400) + 0.5
    corners = np.nextafter(steps / 1e7, rng.choice([-np.inf, np.inf], 400))
    squares = [shapely.box(c, 0, c + 0.5, 0.5) for c in corners]
    texts = [json.dumps(shapely.geometry.mapping(square)) for square in squares]
    assert pz.Zones.from_geojson(texts).fingerprint == pz.Zones.from_wkb(shapely.to_wkb(squares)).fingerprint


def test_property_types_do_not_depend_on_feature_order():
    """Polars' inference typed [1, True] as Int64 [1, 1] and [True, 1] as an error (then
    strings): a boolean became the number 1 depending on which feature came first."""

    def column(values: list) -> pl.Series:
        features = [
            {
                "type": "Feature",
                "properties": {"p": v, "id": str(i)},
                "geometry": {"type": "Polygon", "coordinates": [[[i, 0], [i + 1, 0], [i + 1, 1], [i, 0]]]},
            }
            for i, v in enumerate(values)
        ]
        zones = pz.Zones.from_geojson({"type": "FeatureCollection", "features": features}, id_property="id")
        return zones.properties["p"]

    for values in ([1, True], [True, 1]):
        got = column(values)
        assert got.dtype == pl.String and sorted(got.to_list()) == ["1", "true"]
    assert column([1, 2.5]).to_list() == [1.0, 2.5]
    assert column([2**63, 1]).dtype == pl.UInt64
    assert column([True, None, False]).dtype == pl.Boolean


@pytest.mark.parametrize("unit", ["ms", "us", "ns"])
def test_thresholds_beyond_any_time_difference_mean_no_limit(unit):
    """`max_gap=timedelta.max` (for "no limit") failed converting the threshold to the time
    column's unit, in an error that named neither argument."""
    from datetime import datetime, timedelta

    times = [datetime(2024, 1, 1), datetime(2024, 1, 2), datetime(2200, 1, 1)]
    df = pl.DataFrame({"v": [1, 1, 1], "zone": ["a"] * 3, "t": times}).with_columns(pl.col("t").cast(pl.Datetime(unit)))
    options = dict(by="v", time="t", zone="zone")
    assert pz.visits(df, max_gap=timedelta.max, **options).height == 1
    assert pz.visits(df, max_gap="400000d", **options).height == 1
    assert pz.visits(df, max_gap="1d", **options).height == 2
    assert pz.visits(df, min_duration=timedelta.max, **options).height == 0
