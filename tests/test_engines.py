"""The expressions in every Polars context and engine, on every input shape and dtype."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal, assert_series_equal

import polars_zones as pz
from polars_zones.synthetic import ship_positions


@pytest.fixture(scope="module")
def points(bundled_zones) -> pl.DataFrame:
    df = ship_positions(300_000, bundled_zones, seed=1)
    # Some nulls, NaNs, out-of-range latitudes and 0..360 longitudes.
    lat = df["lat"].to_numpy().copy()
    lon = df["lon"].to_numpy().copy()
    lat[::997] = np.nan
    lat[5::1009] = 95.0
    lon[7::503] += 360.0
    return df.with_columns(lat=pl.Series(lat), lon=pl.Series(lon)).with_columns(
        lat=pl.when(pl.int_range(pl.len()) % 1013 == 3).then(None).otherwise(pl.col("lat")),
    )


def expressions(zones):
    return dict(
        zone=pl.col("lat").zones.tag("lon", polygons=zones),
        zones_all=pl.col("lat").zones.tag_all(pl.col("lon"), polygons=zones),
        inside=pl.col("lat").zones.within("lon", polygons=zones),
    )


def test_eager_lazy_streaming_and_sink_agree(points, bundled_zones, tmp_path):
    eager = points.with_columns(**expressions(bundled_zones))
    lazy = points.lazy().with_columns(**expressions(bundled_zones))
    assert_frame_equal(lazy.collect(), eager)
    assert_frame_equal(lazy.collect(engine="streaming"), eager)
    lazy.sink_parquet(tmp_path / "out.parquet")
    assert_frame_equal(pl.read_parquet(tmp_path / "out.parquet"), eager)
    # And the answers are the numpy kernel's.
    codes = bundled_zones.tag_numpy(points["lat"].fill_null(np.nan).to_numpy(), points["lon"].to_numpy())
    names = [bundled_zones.ids[c] if c >= 0 else None for c in codes]
    assert eager["zone"].to_list() == names
    assert eager["zone"].dtype == pl.Enum(bundled_zones.ids)


def test_invalid_points_are_null_and_wrapped_longitudes_are_tagged(points, bundled_zones):
    out = points.with_columns(**expressions(bundled_zones))
    invalid = out.filter(pl.col("lat").is_null() | pl.col("lat").is_nan() | (pl.col("lat") > 90))
    assert invalid.height > 600
    assert invalid["zone"].null_count() == invalid.height
    assert invalid["zones_all"].null_count() == invalid.height
    assert invalid["inside"].null_count() == invalid.height
    valid = out.filter(~(pl.col("lat").is_null() | pl.col("lat").is_nan() | (pl.col("lat") > 90)))
    assert valid["inside"].null_count() == 0
    assert (valid["inside"] == valid["zone"].is_not_null()).all()
    shifted = points.with_columns(lon=pl.col("lon") + 360).with_columns(**expressions(bundled_zones))
    assert_series_equal(shifted["zone"], out["zone"])


def test_filter_group_by_and_over(points, bundled_zones):
    tagged = points.with_columns(zone=pl.col("lat").zones.tag("lon", polygons=bundled_zones))
    filtered = points.filter(pl.col("lat").zones.within("lon", polygons=bundled_zones))
    assert filtered.height == tagged["zone"].is_not_null().sum()

    per_kind = points.group_by("kind").agg(pl.col("lat").zones.tag("lon", polygons=bundled_zones).alias("zone"))
    for kind, zones in per_kind.iter_rows():
        expected = tagged.filter(pl.col("kind") == kind)["zone"].to_list()
        assert zones == expected

    over = points.with_columns(n=pl.col("lat").zones.within("lon", polygons=bundled_zones).sum().over("kind"))
    counts = tagged.group_by("kind").agg(pl.col("zone").is_not_null().sum().alias("n"))
    for kind, n in counts.iter_rows():
        assert over.filter(pl.col("kind") == kind)["n"].unique().to_list() == [n]


def test_multi_chunk_columns(points, bundled_zones):
    parts = [points.slice(i, 37_000) for i in range(0, points.height, 37_000)]
    chunked = pl.concat(parts, rechunk=False)
    assert chunked["lat"].n_chunks() > 1
    # lon in different chunks from lat.
    odd = chunked.with_columns(lon=pl.concat([points["lon"].slice(0, 1000), points["lon"].slice(1000)], rechunk=False))
    expected = points.with_columns(**expressions(bundled_zones))
    assert_frame_equal(chunked.with_columns(**expressions(bundled_zones)), expected)
    assert_frame_equal(odd.with_columns(**expressions(bundled_zones)), expected)


def test_empty_frames_and_all_null_columns(bundled_zones):
    empty = pl.DataFrame({"lat": [], "lon": []}, schema={"lat": pl.Float64, "lon": pl.Float64})
    out = empty.with_columns(**expressions(bundled_zones))
    assert out.height == 0
    assert out.schema["zone"] == pl.Enum(bundled_zones.ids)
    nulls = pl.DataFrame({"lat": [None, None], "lon": [None, None]})
    out = nulls.with_columns(**expressions(bundled_zones))
    assert out["zone"].to_list() == [None, None]
    assert out["inside"].to_list() == [None, None]
    typed_nulls = pl.DataFrame({"lat": [None, 1.0], "lon": [2.0, None]})
    assert typed_nulls.select(**expressions(bundled_zones))["zone"].to_list() == [None, None]


def test_float32_and_integer_columns(bundled_zones):
    # Paris, the Atlantic, Sydney.
    df = pl.DataFrame({"lat": [48.8566, 30.0, -33.8688], "lon": [2.3522, -40.0, 151.2093]})
    expected = ["FRA", None, "AUS"]
    assert df.select(pl.col("lat").zones.tag("lon", polygons=bundled_zones)).to_series().to_list() == expected
    f32 = df.cast(pl.Float32)
    assert f32.select(pl.col("lat").zones.tag("lon", polygons=bundled_zones)).to_series().to_list() == expected
    ints = pl.DataFrame({"lat": [47, 30], "lon": [2, -40]}, schema={"lat": pl.Int16, "lon": pl.Int64})
    assert ints.select(pl.col("lat").zones.tag("lon", polygons=bundled_zones)).to_series().to_list() == ["FRA", None]


def test_unnamed_zones_give_uint32(bundled_collection):
    zones = pz.Zones.from_geojson(bundled_collection)
    assert zones.ids is None
    df = pl.DataFrame({"lat": [48.8566, 30.0], "lon": [2.3522, -40.0]})
    out = df.select(
        zone=pl.col("lat").zones.tag("lon", polygons=zones), all=pl.col("lat").zones.tag_all("lon", polygons=zones)
    )
    assert out.schema["zone"] == pl.UInt32
    assert out.schema["all"] == pl.List(pl.UInt32)
    fra = [f["properties"]["A3"] for f in bundled_collection["features"]].index("FRA")
    assert out["zone"].to_list() == [fra, None]
    assert out["all"].to_list() == [[fra], []]


def test_polygons_accepts_geojson_directly(bundled_collection):
    df = pl.DataFrame({"lat": [48.8566], "lon": [2.3522]})
    square = {"type": "Polygon", "coordinates": [[[2, 48], [3, 48], [3, 49], [2, 49], [2, 48]]]}
    assert df.select(pl.col("lat").zones.tag("lon", polygons=square)).item() == 0
    assert df.select(pl.col("lat").zones.within("lon", polygons=[square, square])).item() is True


def test_unknown_boundary_is_a_value_error(bundled_zones):
    with pytest.raises(ValueError, match="boundary must be one of"):
        pl.col("lat").zones.tag("lon", polygons=bundled_zones, boundary="closed")
