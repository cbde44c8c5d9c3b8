"""Building zones from every accepted source, describing them, and refusing bad input."""

from __future__ import annotations

import importlib.metadata
import io
import json
import pickle
import re
import subprocess
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import polars as pl
import pytest
from shapely.geometry import MultiPolygon, Polygon

import polars_zones as pz

SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
FAR = {"type": "Polygon", "coordinates": [[[10, 10], [11, 10], [11, 11], [10, 10]]]}


def feature(geometry, **properties):
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def collection(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def at(zones, lon, lat):
    return int(zones.tag_numpy(np.array([lat], float), np.array([lon], float))[0])


def test_every_source_form(tmp_path, bundled_zones):
    fc = collection(feature(SQUARE, name="a"), feature(FAR, name="b"))
    path = tmp_path / "zones.geojson"
    path.write_text(json.dumps(fc))
    for source in [fc, json.dumps(fc), str(path), path]:
        zones = pz.Zones.from_geojson(source, id_property="name")
        assert zones.ids == ["a", "b"] and len(zones) == 2
        assert at(zones, 10.2, 10.1) == 1
    assert len(pz.Zones.from_geojson(feature(SQUARE))) == 1
    assert len(pz.Zones.from_geojson(SQUARE)) == 1
    gc = {"type": "GeometryCollection", "geometries": [SQUARE, FAR]}
    zones = pz.Zones.from_geojson(gc)
    assert len(zones) == 1 and at(zones, 10.2, 10.1) == 0
    # A list: each element one zone; a list of GeoJSON strings is what the in-house library took.
    zones = pz.Zones.from_geojson([json.dumps(SQUARE), json.dumps(FAR), fc])
    assert len(zones) == 3 and zones.ids is None
    assert at(zones, 10.2, 10.1) == 1


def test_features_sharing_an_id_form_one_zone():
    fc = collection(feature(SQUARE, k="x"), feature(FAR, k=7), feature(FAR, k="x"))
    zones = pz.Zones.from_geojson(fc, id_property="k")
    assert zones.ids == ["x", "7"]
    assert at(zones, 10.2, 10.1) == 0  # the third feature joined zone "x", first in order


def test_description(bundled_zones):
    assert len(bundled_zones) == 250
    assert bundled_zones.ids[:3] == ["CPV", "BES", "LIE"]
    assert 90_000 < bundled_zones.num_vertices < 110_000
    min_lon, min_lat, max_lon, max_lat = bundled_zones.bounds
    assert -180 <= min_lon < -170 and max_lon <= 180 and -90 <= min_lat < -60 and 70 < max_lat <= 90
    assert len(bundled_zones.fingerprint) == 32
    assert "250 zones" in repr(bundled_zones)


def test_from_shapely_and_geopandas():
    a = Polygon([(0, 0), (1, 0), (1, 1)])
    b = MultiPolygon([Polygon([(5, 5), (6, 5), (6, 6)]), Polygon([(7, 7), (8, 7), (8, 8)])])
    zones = pz.Zones.from_shapely([a, b])
    assert len(zones) == 2 and zones.ids is None
    assert at(zones, 7.9, 7.1) == 1
    assert len(pz.Zones.from_shapely(a)) == 1
    named = pz.Zones.from_shapely([a, b, a], ids=["A", "B", "A"])
    assert named.ids == ["A", "B"]
    frame = gpd.GeoDataFrame({"name": ["A", "B"]}, geometry=[a, b], crs=4326)
    from_frame = pz.Zones.from_geopandas(frame, id_column="name")
    assert from_frame.ids == ["A", "B"]
    assert from_frame.fingerprint == pz.Zones.from_shapely([a, b], ids=["A", "B"]).fingerprint
    assert len(pz.Zones.from_geopandas(frame.geometry)) == 2
    # Another CRS is reprojected, as from_file reprojects a file: a projected one, and a
    # geographic one that is not WGS84 lon/lat (NTF Paris: grads from the Paris meridian) too.
    mercator = pz.Zones.from_geopandas(frame.to_crs(3857), id_column="name")
    assert mercator.ids == ["A", "B"] and at(mercator, 7.9, 7.1) == 1 and at(mercator, 0.6, 0.2) == 0
    paris = gpd.GeoDataFrame({"name": ["P"]}, geometry=[Polygon([(2, 48), (3, 48), (3, 49), (2, 49)])], crs=4807)
    reprojected = pz.Zones.from_geopandas(paris, id_column="name")
    assert reprojected.fingerprint == pz.Zones.from_geopandas(paris.to_crs(4326), id_column="name").fingerprint
    assert reprojected.bounds[0] > 4.1  # 2 grads east of Paris, not 2 degrees east of Greenwich
    assert paris.crs.to_epsg() == 4807  # the frame itself is not changed
    # The id column keeps its name; a missing geometry is an empty zone, as in from_wkb.
    assert from_frame.properties.columns == ["name"]
    with pytest.warns(pz.ZonesWarning, match="1 null geometries"):
        gaps = pz.Zones.from_geopandas(gpd.GeoDataFrame(geometry=[a, None, b], crs=4326))
    assert len(gaps) == 3 and at(gaps, 7.9, 7.1) == 2
    with pytest.raises(ValueError, match="no column 'nope'"):
        pz.Zones.from_geopandas(frame, id_column="nope")


def test_shapely_and_geopandas_ids_name_zones_as_the_other_constructors_do():
    squares = [Polygon([(x, 0), (x + 1, 0), (x + 1, 1), (x, 1)]) for x in range(4)]
    ids = [1, 1.0, np.float64(2.0), "1"]
    expected = pz.Zones.from_wkb([g.wkb for g in squares], ids=ids)
    assert expected.ids == ["1", "2"]
    assert pz.Zones.from_shapely(squares, ids=ids).fingerprint == expected.fingerprint
    frame = gpd.GeoDataFrame({"id": [1.0, 2.0, 3.5]}, geometry=squares[:3], crs=4326)
    assert pz.Zones.from_geopandas(frame, id_column="id").ids == ["1", "2", "3.5"]
    # A missing id is an error, as in from_wkb, not a zone named "None" or "nan".
    for missing in (None, float("nan")):
        with pytest.raises(ValueError, match="element 1: the id is null"):
            pz.Zones.from_shapely(squares[:2], ids=["a", missing])
    with pytest.raises(ValueError, match="row 2: the id is null"):
        pz.Zones.from_geopandas(frame.assign(id=[1.0, 2.0, np.nan]), id_column="id")


def test_ids_of_every_kind_are_named_as_the_geojson_reader_names_them():
    """The GeoJSON reader (Rust) is the rule; the Python constructors' names must match it."""
    import decimal

    ids = [1.5, 1e-05, 1e20, 1e300, -0.0, 2.5e-10, 2.0**60, 12345678901234567890, True, "x"]
    features = [
        {"type": "Feature", "properties": {"k": v}, "geometry": {"type": "Polygon", "coordinates": [square(i)]}}
        for i, v in enumerate(ids)
    ]
    rule = pz.Zones.from_geojson({"type": "FeatureCollection", "features": features}, id_property="k").ids
    wkb = [Polygon(square(i)[:-1]).wkb for i in range(len(ids))]
    assert pz.Zones.from_wkb(wkb, ids=ids).ids == rule
    # numpy scalars and Decimals are the numbers they hold.
    held = [np.float32(1.5), decimal.Decimal("0.00001"), np.float64(1e20), 1e300, np.float32(-0.0), 2.5e-10]
    held += [np.float64(2.0**60), np.uint64(12345678901234567890), np.True_, np.str_("x")]
    assert pz.Zones.from_wkb(wkb, ids=held).ids == rule
    for missing in (np.float32("nan"), decimal.Decimal("NaN")):
        with pytest.raises(ValueError, match="row 1: the id is null"):
            pz.Zones.from_wkb(wkb[:2], ids=["a", missing])
    # A string is not a list of ids (it was its characters: "A3" named two zones, A and 3).
    with pytest.raises(TypeError, match="ids must be one id per geometry .* not the string 'A3'"):
        pz.Zones.from_wkb(wkb[:2], ids="A3")


def square(x):
    return [[x, 0], [x + 1, 0], [x + 1, 1], [x, 1], [x, 0]]


def test_fingerprint_is_content_based_and_bytes_round_trip(bundled_zones, bundled_collection):
    again = pz.Zones.from_geojson(json.dumps(bundled_collection), id_property="A3")
    assert again.fingerprint == bundled_zones.fingerprint
    unnamed = pz.Zones.from_geojson(bundled_collection)
    assert unnamed.fingerprint != bundled_zones.fingerprint
    restored = pickle.loads(pickle.dumps(bundled_zones))
    assert restored.fingerprint == bundled_zones.fingerprint and restored.ids == bundled_zones.ids
    lat = np.linspace(-60, 70, 10_001)
    lon = np.linspace(-170, 170, 10_001)
    np.testing.assert_array_equal(restored.tag_numpy(lat, lon), bundled_zones.tag_numpy(lat, lon))


def test_input_is_not_modified(bundled_collection):
    fc = collection(feature(SQUARE, name="a"))
    before = json.dumps(fc)
    pz.Zones.from_geojson(fc, id_property="name")
    assert json.dumps(fc) == before
    lat = np.array([0.5, 0.25])
    lon = np.array([0.5, 0.25])
    pz.Zones.from_geojson(SQUARE).tag_numpy(lat, lon)
    assert lat.tolist() == [0.5, 0.25] and lon.tolist() == [0.5, 0.25]


def test_tag_numpy_reads_non_contiguous_and_other_dtypes():
    zones = pz.Zones.from_geojson(SQUARE)
    lat = np.array([[0.5, 9], [0.5, 9]])[:, 0]  # strided view
    lon = np.array([0.5, 0.5], dtype=np.float32)
    assert zones.tag_numpy(lat, lon).tolist() == [0, 0]
    assert zones.tag_numpy(lat, lon).dtype == np.int32
    with pytest.raises(ValueError, match="differ in length"):
        zones.tag_numpy(np.zeros(3), np.zeros(2))
    # Integers, big-endian and misaligned floats are numbers; None and masked entries no point.
    assert zones.tag_numpy(np.array([0, 2], dtype=">i8"), [0.5, 0.5]).tolist() == [0, -1]
    misaligned = np.frombuffer(b"\0" + np.array([0.5, 0.5]).tobytes(), dtype=np.float64, offset=1)
    assert not misaligned.flags.aligned and zones.tag_numpy(misaligned, misaligned).tolist() == [0, 0]
    assert zones.tag_numpy([0.5, None], [0.5, 0.5]).tolist() == [0, -1]
    masked = np.ma.array([0.5, 0.5], mask=[False, True])
    assert zones.tag_numpy(masked, [0.5, 0.5]).tolist() == [0, -1]
    assert zones.distance_numpy(masked, [0.5, 0.5])[1] != zones.distance_numpy(masked, [0.5, 0.5])[1]  # NaN
    # What numpy would convert (text, booleans, dates, complex numbers) is refused, as by the expressions.
    for bad, message in [
        (["0.5", "0.5"], "lat must hold numbers, not <U3 values"),
        (np.array([True, False]), "lat must hold numbers, not bool values"),
        (np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]"), "not datetime64"),
        (np.array([0.5 + 0j, 0.5]), "not complex128"),
        (np.array([0.5, "x"], dtype=object), "lat must hold numbers, not str"),
    ]:
        with pytest.raises(TypeError, match=message):
            zones.tag_numpy(bad, [0.5, 0.5])


def test_degenerate_rings_are_dropped_with_one_warning():
    multi = {
        "type": "MultiPolygon",
        "coordinates": [SQUARE["coordinates"], [[[5, 5], [6, 6], [7, 7], [5, 5]]], [[[8, 8], [8, 8], [9, 9]]]],
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        zones = pz.Zones.from_geojson(multi)
    assert [str(w.message) for w in caught if issubclass(w.category, pz.ZonesWarning)] == [
        "dropped 2 degenerate ring(s) (fewer than 3 distinct vertices, or all on one line, and the holes of such a "
        "shell): they contain no point"
    ]
    assert at(zones, 0.5, 0.5) == 0 and at(zones, 6, 6) == -1


NAN_RING = [[0, 0], [1, 0], [float("nan"), 1], [0, 0]]


@pytest.mark.parametrize(
    "source, message",
    [
        ("{not json", r"input: invalid JSON: key must be a string at line 1 column 2"),
        ({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, "a LineString is not a zone"),
        (collection(feature({"type": "Point", "coordinates": [0, 0]})), "feature 0: a Point is not a zone"),
        (collection(), "no zones: the FeatureCollection has no features"),
        ([], "no zones: the list of sources is empty"),
        (
            collection(feature(SQUARE), feature({"type": "Polygon", "coordinates": [NAN_RING]})),
            r"feature 1, polygon 0, ring 0, vertex 2: coordinate \(nan, 1\) is not finite",
        ),
        (
            json.dumps(collection(feature(SQUARE), feature({"type": "Polygon", "coordinates": [NAN_RING]}))),
            r"feature 1, polygon 0, ring 0, vertex 2: coordinate \(nan, 1\) is not finite",
        ),
        (
            collection(feature({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, "a"], [0, 0]]]})),
            r"feature 0, polygon 0, ring 0, vertex 2: coordinate \[1, 'a'\] is not a pair of numbers",
        ),
        (
            collection(feature({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 95], [0, 0]]]})),
            r"feature 0, polygon 0, ring 0, vertex 2: latitude 95 is outside \[-90, 90\]",
        ),
        (
            collection(feature({"type": "Polygon", "coordinates": [[[0, 0], [1], [1, 1], [0, 0]]]})),
            r"feature 0, polygon 0, ring 0, vertex 1: a position needs 2 numbers",
        ),
        # A NaN elsewhere than in a coordinate: where it is.
        (
            collection(feature(SQUARE, name="a"), feature(SQUARE, depth=float("nan"))),
            r"input: features\[1\]\.properties\.depth is nan \(JSON has no NaN or infinity\)",
        ),
        # The first problem is the one reported, not a bad coordinate further on.
        (
            collection(
                feature({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}),
                feature({"type": "Polygon", "coordinates": [[[0, 0], [1], [1, 1], [0, 0]]]}),
            ),
            r"^feature 0: a LineString is not a zone",
        ),
    ],
)
def test_bad_input_says_what_and_where(source, message):
    with pytest.raises(ValueError, match=message):
        pz.Zones.from_geojson(source)


def test_missing_id_property_and_missing_file(tmp_path):
    with pytest.raises(ValueError, match=r"feature 1: the feature has no property \"name\""):
        pz.Zones.from_geojson(collection(feature(SQUARE, name="a"), feature(FAR)), id_property="name")
    with pytest.raises(FileNotFoundError, match="no such GeoJSON file"):
        pz.Zones.from_geojson(str(tmp_path / "missing.geojson"))
    latin1 = tmp_path / "latin1.geojson"
    latin1.write_bytes(json.dumps(feature(SQUARE, name="Zürich"), ensure_ascii=False).encode("latin-1"))
    for read in (pz.Zones.from_geojson, pz.Zones.from_file):
        with pytest.raises(ValueError, match=r"latin1.geojson' is not UTF-8 text \(byte \d+: b'\\xfc'\)"):
            read(latin1)
    with pytest.raises(ValueError, match="not a polars-zones index"):
        pz.Zones.from_bytes(b"hello world, this is not an index at all, no sir")


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_shapely_input_with_nan_is_located():
    bad = Polygon([(0, 0), (1, 0), (float("nan"), 1)])
    with pytest.raises(ValueError, match=r"^element 2, polygon 0, ring 0, vertex 2: coordinate \(nan, 1.0\)"):
        pz.Zones.from_shapely([Polygon(SQUARE["coordinates"][0])] * 2 + [bad])


@pytest.mark.parametrize("n", [255, 256, 70_000])
def test_named_zones_of_every_code_width(n):
    """The plugin returns codes in the physical dtype of the zones' Enum (UInt8 up to 255
    names, UInt16, then UInt32) and the plan casts them: the Enum dtype, the column name and
    the answers are the same at every width, in both engines."""
    # Triangles on a 600-wide grid of quarter-degree steps.
    corners = [((i % 600) * 0.25, (i // 600) * 0.25) for i in range(n)]
    features = [
        {
            "type": "Feature",
            "properties": {"id": f"z{i}"},
            "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + 0.2, y], [x, y + 0.2], [x, y]]]},
        }
        for i, (x, y) in enumerate(corners)
    ]
    zones = pz.Zones.from_geojson({"type": "FeatureCollection", "features": features}, id_property="id")
    rng = np.random.default_rng(0)
    rows = n // 600 + 1
    df = pl.DataFrame({"lat": rng.uniform(0, rows * 0.25, 20_000), "lon": rng.uniform(0, 150, 20_000)})
    last_x, last_y = corners[-1]  # and a point in the last zone, whose code is next to no zone's
    df = pl.concat([df, pl.DataFrame({"lat": [last_y + 0.05], "lon": [last_x + 0.05]})])
    got = df.lazy().select(pl.col("lat").zones.tag("lon", polygons=zones))
    in_memory, streaming = got.collect(), got.collect(engine="streaming")
    assert in_memory.columns == ["lat"] and in_memory.dtypes[0] == pl.Enum(zones.ids)
    assert in_memory.equals(streaming)
    codes = zones.tag_numpy(df["lat"].to_numpy(), df["lon"].to_numpy())
    ids = zones.ids
    want = [ids[c] if c >= 0 else None for c in codes]
    assert in_memory.to_series().cast(pl.String).to_list() == want
    assert sum(w is not None for w in want) > 1000
    assert want[-1] == ids[-1]
    assert_round_trips(in_memory)


def assert_round_trips(frame: pl.DataFrame) -> None:
    """The frame comes back equal from pickle, Arrow IPC and `DataFrame.serialize`: all three
    read Arrow IPC, whose reader refuses an Enum code out of range even under a null."""
    assert pickle.loads(pickle.dumps(frame)).equals(frame)
    assert pl.read_ipc(io.BytesIO(frame.write_ipc(None).getvalue())).equals(frame)
    assert pl.DataFrame.deserialize(io.BytesIO(frame.serialize())).equals(frame)


@pytest.mark.parametrize("engine", ["in-memory", "streaming"])
def test_frames_with_nulls_for_no_zone_survive_pickle_and_ipc(engine):
    """A point in no zone (or null, or invalid) is a null Enum: a tagged frame holding one
    pickles (multiprocessing, joblib), goes through `write_ipc`/`read_ipc` and serializes.
    Until the plugin put the code 0 under such a null, the null hid the code the Enum lacks,
    and reading the frame back failed."""
    zones = pz.datasets.maritime_zones()
    df = pl.DataFrame(
        {
            "lat": [50.0, 0.0, None, float("nan"), 95.0, 43.2],
            "lon": [-5.0, -30.0, 1.0, 1.0, 1.0, 5.3],
        }
    )
    tagged = (
        df.lazy()
        .with_columns(
            zone=pl.col("lat").zones.tag("lon", polygons=zones),
            nearest=pl.col("lat").zones.nearest("lon", polygons=zones, max_distance=10_000),
            all=pl.col("lat").zones.tag_all("lon", polygons=zones),
        )
        .collect(engine=engine)
    )
    assert tagged["zone"].dtype == pl.Enum(zones.ids)
    assert tagged["zone"].null_count() >= 4 and tagged["zone"].drop_nulls().len() >= 1
    assert tagged["nearest"].null_count() >= 3
    assert_round_trips(tagged)
    assert_round_trips(tagged.select(pl.col("zone").cast(pl.Categorical)))


def test_a_null_point_is_null_whatever_value_lies_under_it():
    """Arrow keeps a value under each null; here it is a point inside the zone. Every
    expression answers null for it, not the zone of the hidden value."""
    import pyarrow as pa

    box = {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]}
    named = pz.Zones.from_geojson(
        {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"id": "a"}, "geometry": box}]},
        id_property="id",
    )
    unnamed = pz.Zones.from_geojson([box])
    lat = pl.from_arrow(pa.array([1.0, 1.0, 1.0], mask=[False, True, False]))
    lon = pl.from_arrow(pa.array([1.0, 1.0, 1.0], mask=[False, False, True]))
    df = pl.DataFrame({"lat": lat, "lon": lon})
    for zones, inside in ((named, "a"), (unnamed, 0)):
        got = df.select(
            tag=pl.col("lat").zones.tag("lon", polygons=zones),
            nearest=pl.col("lat").zones.nearest("lon", polygons=zones),
            within=pl.col("lat").zones.within("lon", polygons=zones),
        )
        assert got["tag"].to_list() == [inside, None, None]
        assert got["nearest"].to_list() == [inside, None, None]
        assert got["within"].to_list() == [True, None, None]


@pytest.mark.parametrize(
    "source, message",
    [
        ({"type": "FeatureCollection", "features": None}, "features"),
        ({"type": "FeatureCollection", "features": ["x"]}, "feature 0"),
        ({"type": "FeatureCollection", "features": "abc"}, "features"),
        ({"type": "FeatureCollection", "features": {"a": 1}}, "features"),
        (
            collection(feature({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [10**400, 1], [0, 0]]]})),
            "number out of range",
        ),
    ],
)
def test_malformed_geojson_is_a_value_error_not_the_locators_crash(source, message):
    """Issue 18.6: the Python code that locates a bad coordinate after Rust refused the input
    must never replace Rust's message with its own TypeError or AttributeError."""
    with pytest.raises(ValueError, match=message):
        pz.Zones.from_geojson(source)


def test_deeply_nested_geojson_is_a_value_error():
    nested = '{"type": "GeometryCollection", "geometries": [' * 3000 + json.dumps(SQUARE) + "]}" * 3000
    with pytest.raises(ValueError):
        pz.Zones.from_geojson(nested)


def test_a_leading_utf8_bom_is_accepted(tmp_path):
    """Issue 18.7: Windows tools write a BOM before the JSON; as a file, bytes or a string."""
    fc = collection(feature(SQUARE, name="a"), feature(FAR, name="b"))
    text = "\ufeff" + json.dumps(fc)
    path = tmp_path / "bom.geojson"
    path.write_text(text, encoding="utf-8")
    want = pz.Zones.from_geojson(fc, id_property="name").fingerprint
    for source in (path, str(path), text, text.encode("utf-8")):
        assert pz.Zones.from_geojson(source, id_property="name").fingerprint == want
    assert pz.Zones.from_geojson([text]).fingerprint == pz.Zones.from_geojson([fc]).fingerprint


def test_a_long_text_that_is_not_geojson_is_a_value_error():
    with pytest.raises(ValueError, match="neither GeoJSON .* nor a file name"):
        pz.Zones.from_geojson("<xml>" + "x" * 5000)


def test_a_saved_index_where_geojson_is_expected_is_loaded(tmp_path):
    """Issue 18.8: `from_geojson("zones.pzi")`, or `polygons="zones.pzi"`, loads the index
    (recognized by its magic bytes, as the command line does) instead of a UnicodeDecodeError."""
    zones = pz.Zones.from_geojson(collection(feature(SQUARE, name="a"), feature(FAR, name="b")), id_property="name")
    path = tmp_path / "zones.pzi"
    zones.save(path)
    for source in (path, str(path), zones.to_bytes()):
        assert pz.Zones.from_geojson(source).fingerprint == zones.fingerprint
    with pytest.warns(pz.ZonesWarning, match="saved index.*id_property is ignored"):
        assert pz.Zones.from_geojson(path, id_property="name").ids == ["a", "b"]
    df = pl.DataFrame({"lat": [0.5, 10.1, 50.0], "lon": [0.5, 10.2, 50.0]})
    got = df.select(pl.col("lat").zones.tag("lon", polygons=str(path))).to_series()
    assert got.dtype == pl.Enum(["a", "b"]) and got.to_list() == ["a", "b", None]
    # In a list each element is one zone's GeoJSON: a saved index there is a clear error.
    with pytest.raises(ValueError, match="element 1: .*zones.pzi.* is a saved index, not GeoJSON: use Zones.load"):
        pz.Zones.from_geojson([SQUARE, str(path)])
    # A damaged index is still the index's own error.
    damaged = tmp_path / "damaged.pzi"
    damaged.write_bytes(zones.to_bytes()[:60])
    with pytest.raises(ValueError, match="truncated"):
        pz.Zones.from_geojson(damaged)


def test_tag_all_on_many_named_zones_costs_about_what_tag_does():
    """Issue 18.2: tag_all gathered each row's names from a literal of all names, so its time
    and memory grew with rows x zones (20k rows x 50k names: 3.4 s and 2 GB, against 6 ms and
    10 MB for tag). bench/tag_all_cost.py measures each expression in its own process."""
    script = Path(__file__).resolve().parents[1] / "bench" / "tag_all_cost.py"
    done = subprocess.run(
        [sys.executable, str(script), "--rows", "20000", "--runs", "3", "--cases", "named-50k"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    tag, tag_all = json.loads(done.stdout.strip().splitlines()[-1])
    assert tag_all["peak_bytes"] < 3 * tag["peak_bytes"] + 64e6, done.stdout
    assert tag_all["seconds"] < 3 * tag["seconds"] + 0.1, done.stdout


def test_version_is_the_installed_distributions():
    """`__version__` is the installed distribution's, which maturin takes from Cargo.toml."""
    assert pz.__version__ == importlib.metadata.version("polars-zones")
    assert re.fullmatch(r"\d+\.\d+\.\d+", pz.__version__), pz.__version__


def test_a_relative_path_starting_with_a_bracket_is_a_file(tmp_path, monkeypatch, bundled_collection):
    monkeypatch.chdir(tmp_path)
    Path("[v2] zones.geojson").write_text(json.dumps(bundled_collection))
    zones = pz.Zones.from_geojson("[v2] zones.geojson", id_property="A3")
    assert zones.fingerprint == pz.Zones.from_geojson(bundled_collection, id_property="A3").fingerprint
    # Text that names no file is still GeoJSON text.
    with pytest.raises(ValueError, match="invalid JSON"):
        pz.Zones.from_geojson("[v3] zones.geojson")


def test_tag_all_null_rows_hold_no_zones():
    """A null lat or lon hides a value the kernel tags like any other; its row's list is null
    and holds nothing, so the list values read raw (Arrow offsets) are the valid rows' alone."""
    square = pz.Zones.from_geojson({"type": "Polygon", "coordinates": [[[-1, -1], [1, -1], [1, 1], [-1, 1], [-1, -1]]]})
    frame = pl.DataFrame({"lat": [None, 0.5, None, 0.0], "lon": [0.5, 0.5, 0.5, None]})
    tagged = frame.select(pl.col("lat").zones.tag_all("lon", polygons=square)).to_series()
    assert tagged.to_list() == [None, [0], None, None]
    raw = tagged.to_arrow()
    assert raw.offsets.to_pylist() == [0, 0, 1, 1, 1] and raw.values.to_pylist() == [0]
