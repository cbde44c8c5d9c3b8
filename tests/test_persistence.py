"""Saving, loading and shipping an index; self-contained lazy plans."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import polars_zones as pz
from polars_zones.synthetic import ship_positions


@pytest.fixture(scope="module")
def points(bundled_zones) -> pl.DataFrame:
    return ship_positions(50_000, bundled_zones, seed=9).select("lat", "lon")


def tags(zones, points) -> np.ndarray:
    return zones.tag_numpy(points["lat"].to_numpy(), points["lon"].to_numpy())


def test_save_load_bytes_and_pickle_round_trip(bundled_zones, points, tmp_path):
    path = tmp_path / "maritime.pzi"
    bundled_zones.save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["maritime.pzi"]  # no temporary file left
    for restored in [
        pz.Zones.load(path),
        pz.Zones.from_bytes(bundled_zones.to_bytes()),
        pickle.loads(pickle.dumps(bundled_zones)),
    ]:
        assert restored.fingerprint == bundled_zones.fingerprint
        assert restored.ids == bundled_zones.ids
        np.testing.assert_array_equal(tags(restored, points), tags(bundled_zones, points))


def test_damaged_bytes_are_value_errors(bundled_zones):
    data = bundled_zones.to_bytes()
    with pytest.raises(ValueError, match="truncated"):
        pz.Zones.from_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated"):
        pz.Zones.from_bytes(data[:20])
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF
    with pytest.raises(ValueError, match="checksum"):
        pz.Zones.from_bytes(bytes(flipped))
    future = bytearray(data)
    future[8] = 99
    with pytest.raises(ValueError, match="version 99 is not supported"):
        pz.Zones.from_bytes(bytes(future))
    with pytest.raises(ValueError, match="not a polars-zones index"):
        pz.Zones.from_bytes(b'{"type": "FeatureCollection"}' + bytes(40))


@pytest.mark.parametrize("made", ["built", "loaded"])
def test_lazy_plan_is_self_contained_in_a_fresh_process(bundled_zones, points, tmp_path, made):
    """Serialize the plan here; in a new process that never builds a Zones, deserialize and
    collect: identical results, and the index decoded exactly once there. A built index's plan
    carries its `to_bytes()` (compressed), a loaded one's the saved file's bytes."""
    zones = bundled_zones
    assert zones.to_bytes()[12] & 1, "files, pickles and plans carry the index compressed"
    if made == "loaded":
        bundled_zones.save(tmp_path / "zones.pzi")
        zones = pz.Zones.load(tmp_path / "zones.pzi")
        assert zones._index.plan_bytes() == (tmp_path / "zones.pzi").read_bytes()
    else:
        assert zones._index.plan_bytes() == zones.to_bytes()
    lf = points.lazy().with_columns(
        zone=pl.col("lat").zones.tag("lon", polygons=zones),
        inside=pl.col("lat").zones.within("lon", polygons=zones, boundary="inclusive"),
    )
    expected = lf.collect()
    (tmp_path / "plan.bin").write_bytes(lf.serialize())
    script = textwrap.dedent(
        f"""
        import io, polars as pl
        plan = pl.LazyFrame.deserialize(io.BytesIO(open({str(tmp_path / "plan.bin")!r}, "rb").read()))
        plan.collect().write_parquet({str(tmp_path / "out.parquet")!r})
        plan.collect(engine="streaming")
        import polars_zones
        print(polars_zones.index_decode_count())
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "1"
    got = pl.read_parquet(tmp_path / "out.parquet")
    assert got.equals(expected)


def test_streaming_decodes_once_per_process(bundled_zones, tmp_path):
    """Many batches, one decode: a plan deserialized in a fresh process decodes its index once
    (in `zones_key`) however many batches the plugin is called on."""
    df = ship_positions(400_000, bundled_zones, seed=2)
    df.write_parquet(tmp_path / "points.parquet")
    lf = pl.scan_parquet(tmp_path / "points.parquet").with_columns(
        zone=pl.col("lat").zones.tag("lon", polygons=bundled_zones)
    )
    (tmp_path / "plan.bin").write_bytes(lf.serialize())
    script = textwrap.dedent(
        f"""
        import io, polars as pl, polars_zones as pz
        plan = pl.LazyFrame.deserialize(io.BytesIO(open({str(tmp_path / "plan.bin")!r}, "rb").read()))
        a = plan.collect(engine="streaming")
        b = plan.collect()
        assert a.equals(b)
        print(pz.index_decode_count(), pz.index_lookup_count())
        """
    )
    env = dict(os.environ, POLARS_IDEAL_MORSEL_SIZE="10000")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env)
    decodes, calls = map(int, done.stdout.split())
    assert decodes == 1
    assert calls >= 40  # 400k rows in morsels of 10k in the streaming engine


def test_eight_threads_three_indexes_with_evictions(bundled_zones, bundled_collection, points):
    """Concurrent queries on three indexes through a cache of two: evictions and re-decodes
    happen mid-flight, and every answer stays the single-threaded one."""
    from concurrent.futures import ThreadPoolExecutor

    square = {"type": "Polygon", "coordinates": [[[-10, 30], [40, 30], [40, 60], [-10, 60], [-10, 30]]]}
    # Fresh processes' plans carry bytes: rebuild the three from bytes so the plugin path
    # decodes them.
    sets = [
        pz.Zones.from_bytes(bundled_zones.to_bytes()),
        pz.Zones.from_bytes(pz.Zones.from_geojson(bundled_collection).to_bytes()),
        pz.Zones.from_bytes(pz.Zones.from_geojson([square]).to_bytes()),
    ]
    frames = [points.lazy().select(pl.col("lat").zones.tag("lon", polygons=z)) for z in sets]
    expected = [lf.collect() for lf in frames]
    capacity = pz.cache_capacity()
    pz.set_cache_capacity(2)
    try:
        with ThreadPoolExecutor(8) as pool:
            jobs = [pool.submit(frames[i % 3].collect, engine="streaming" if i % 2 else "in-memory") for i in range(48)]
            for i, job in enumerate(jobs):
                assert job.result().equals(expected[i % 3])
    finally:
        pz.set_cache_capacity(capacity)


def test_a_query_over_more_zone_sets_than_the_cache_holds():
    """In a process that holds no Zones (a deserialized plan, or Zones deleted after building
    the expressions), only the cache holds the indexes between each expression's zones_key and
    its lookup: with more zone sets in one query than its capacity, the first ones were evicted
    ("index ... is not loaded in this process")."""
    script = textwrap.dedent(
        """
        import gc
        import polars as pl, polars_zones as pz
        pz.set_cache_capacity(2)
        def box(i):
            return {"type": "Polygon", "coordinates": [[[i, 0], [i + 1, 0], [i + 1, 1], [i, 1], [i, 0]]]}
        zones = [pz.Zones.from_geojson([box(i)]) for i in range(6)]
        exprs = [pl.col("lat").zones.tag("lon", polygons=z).alias(f"z{i}") for i, z in enumerate(zones)]
        del zones
        gc.collect()
        df = pl.DataFrame({"lat": [0.5] * 6, "lon": [i + 0.5 for i in range(6)]})
        for engine in ("in-memory", "streaming"):
            got = df.lazy().with_columns(exprs).collect(engine=engine)
            print([got[f"z{i}"].to_list() for i in range(6)])
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    expected = [[0 if row == i else None for row in range(6)] for i in range(6)]
    assert done.stdout.splitlines() == [str(expected)] * 2


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_damage_to_saved_bytes_is_a_value_error(small_index_bytes, data):
    """Truncation, a flipped bit anywhere (header, fingerprint or payload), or garbage
    appended: always a ValueError, never a crash or a silently different index."""
    raw = small_index_bytes
    kind = data.draw(st.sampled_from(["truncate", "flip", "append"]))
    if kind == "truncate":
        damaged = raw[: data.draw(st.integers(0, len(raw) - 1))]
    elif kind == "flip":
        i = data.draw(st.integers(0, len(raw) - 1))
        damaged = raw[:i] + bytes([raw[i] ^ (1 << data.draw(st.integers(0, 7)))]) + raw[i + 1 :]
    else:
        damaged = raw + data.draw(st.binary(min_size=1, max_size=64))
    with pytest.raises(ValueError):
        pz.Zones.from_bytes(damaged)


@pytest.fixture(scope="module")
def small_index_bytes() -> bytes:
    zones = pz.Zones.from_geojson(
        [
            {
                "type": "Polygon",
                "coordinates": [[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]], [[1, 1], [2, 1], [2, 2], [1, 1]]],
            },
            {"type": "Polygon", "coordinates": [[[4, 0], [8, 0], [8, 4], [4, 0]]]},
        ]
    )
    return zones.to_bytes()
