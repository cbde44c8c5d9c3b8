"""Zones.properties: the attribute table beside the index (dtypes, first feature per id, joins,
and what keeps it)."""

from __future__ import annotations

import datetime
import pickle

import polars as pl
import pytest

import polars_zones as pz


def square(x: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[x, 0], [x + 1, 0], [x + 1, 1], [x, 1], [x, 0]]]}


def feature(x: float, properties: dict | None) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": square(x)}


COLLECTION = {
    "type": "FeatureCollection",
    "features": [
        feature(
            0, {"code": "A", "n": 1, "area": 2.5, "name": "first", "tags": ["x", "y"], "meta": {"k": 1}, "flag": True}
        ),
        feature(2, {"code": "B", "n": 2, "area": 3, "name": None, "flag": False, "mixed": 1}),
        feature(4, {"code": "A", "n": 99, "area": 0.5, "name": "later"}),  # shares A's id: not in the table
        feature(6, {"code": "C", "n": None, "area": None, "mixed": "one"}),
    ],
}


def test_dtypes_from_geojson():
    zones = pz.Zones.from_geojson(COLLECTION, id_property="code")
    table = zones.properties
    # The id column, then the names in order of first appearance, each feature's own in sorted
    # order: the compiled GeoJSON reader keeps an object's members sorted by name.
    assert table.columns == ["code", "area", "flag", "meta", "n", "name", "tags", "mixed"]
    assert table.schema["code"] == pl.Enum(["A", "B", "C"])
    assert table.schema["n"] == pl.Int64
    assert table.schema["area"] == pl.Float64  # 2.5 and 3 together
    assert table.schema["name"] == pl.String and table.schema["flag"] == pl.Boolean
    assert table.schema["tags"] == pl.String and table.schema["meta"] == pl.String  # nested: JSON text
    assert table.schema["mixed"] == pl.String  # numbers and strings: each value's JSON text
    assert table.select("code", "n", "area", "name", "tags", "meta", "flag", "mixed").rows() == [
        ("A", 1, 2.5, "first", '["x","y"]', '{"k":1}', True, None),
        ("B", 2, 3.0, None, None, None, False, "1"),
        ("C", None, None, None, None, None, None, "one"),
    ]


def test_features_sharing_an_id_keep_the_first_features_properties():
    table = pz.Zones.from_geojson(COLLECTION, id_property="code").properties
    assert table.filter(pl.col("code") == "A")[["n", "name"]].row(0) == (1, "first")


def test_unnamed_zones_have_a_zone_index_column():
    zones = pz.Zones.from_geojson(COLLECTION)
    table = zones.properties
    assert table.columns[0] == "zone" and table.schema["zone"] == pl.UInt32 and "code" in table.columns
    assert table["zone"].to_list() == [0, 1, 2, 3] and table["n"].to_list() == [1, 2, 99, None]
    with pytest.warns(pz.ZonesWarning, match="named 'zone'"):
        shadowed = pz.Zones.from_geojson([feature(0, {"zone": "x"})]).properties
    assert shadowed.columns == ["zone"] and shadowed.schema["zone"] == pl.UInt32
    assert pz.Zones.from_geojson(square(0)).properties.columns == ["zone"]  # no properties at all


def test_properties_survive_save_load_pickle_and_bytes(tmp_path):
    zones = pz.Zones.from_geojson(COLLECTION, id_property="code")
    zones.save(tmp_path / "z.pzi")
    for back in (
        pz.Zones.load(tmp_path / "z.pzi"),
        pickle.loads(pickle.dumps(zones)),
        pz.Zones.from_bytes(zones.to_bytes()),
        pz.Zones.from_geojson(str(tmp_path / "z.pzi")),
        pz.Zones.from_file(tmp_path / "z.pzi"),
    ):
        assert back.properties.equals(zones.properties)
        assert back.properties.schema == zones.properties.schema
        assert back.fingerprint == zones.fingerprint


def test_properties_are_not_part_of_the_fingerprint():
    other = {
        "type": "FeatureCollection",
        "features": [{**f, "properties": {**f["properties"], "n": 0}} for f in COLLECTION["features"]],
    }
    a = pz.Zones.from_geojson(COLLECTION, id_property="code")
    b = pz.Zones.from_geojson(other, id_property="code")
    assert a.fingerprint == b.fingerprint and not a.properties.equals(b.properties)


def test_the_table_is_a_copy():
    zones = pz.Zones.from_geojson(COLLECTION, id_property="code")
    table = zones.properties
    table.drop_in_place("n")
    assert "n" in zones.properties.columns


def test_joins_on_the_tag_without_a_cast():
    zones = pz.Zones.from_geojson(COLLECTION, id_property="code")
    points = pl.DataFrame({"lat": [0.5, 0.5, 0.5, 5.0], "lon": [0.5, 2.5, 6.5, 5.0]})
    tagged = points.with_columns(zone=pl.col("lat").zones.tag("lon", polygons=zones))
    joined = tagged.join(zones.properties, left_on="zone", right_on="code", how="left", maintain_order="left")
    assert joined["name"].to_list() == ["first", None, None, None]
    assert joined["n"].to_list() == [1, 2, None, None]
    # Unnamed zones: the UInt32 zone index on both sides.
    unnamed = pz.Zones.from_geojson(COLLECTION)
    tagged = points.with_columns(zone=pl.col("lat").zones.tag("lon", polygons=unnamed))
    assert tagged.join(unnamed.properties, on="zone", how="left", maintain_order="left")["n"].to_list() == [
        1,
        2,
        None,
        None,
    ]
    # A String key (the zone names read from elsewhere): cast it to the Enum (names not among
    # the zones become null), or the Enum to String; as the README says.
    names = pl.DataFrame({"country": ["B", "A", "Z"]})
    with pytest.raises(pl.exceptions.SchemaError):
        names.join(zones.properties, left_on="country", right_on="code")
    enum = zones.properties["code"].dtype
    by_enum = names.with_columns(pl.col("country").cast(enum, strict=False)).join(
        zones.properties, left_on="country", right_on="code", how="left", maintain_order="left"
    )
    by_string = names.join(
        zones.properties.with_columns(pl.col("code").cast(pl.String)),
        left_on="country",
        right_on="code",
        how="left",
        maintain_order="left",
    )
    assert by_enum["n"].to_list() == by_string["n"].to_list() == [2, 1, None]


def test_file_attributes_keep_their_types(tmp_path):
    gpd = pytest.importorskip("geopandas")
    pytest.importorskip("pyogrio")
    from shapely.geometry import shape

    frame = gpd.GeoDataFrame(
        {
            "code": ["A", "B", "A", "C"],
            "n": [1, 2, 99, 3],
            "area": [2.5, None, 0.5, 1.0],
            "name": ["first", "second", "later", None],
            "when": [datetime.datetime(2024, 1, d, 12, tzinfo=datetime.timezone.utc) for d in (1, 2, 3, 4)],
        },
        geometry=[shape(square(x)) for x in (0, 2, 4, 6)],
        crs=4326,
    )
    frame.to_file(tmp_path / "z.gpkg")
    frame.to_parquet(tmp_path / "z.parquet")
    for path in (tmp_path / "z.gpkg", tmp_path / "z.parquet"):
        zones = pz.Zones.from_file(path, id_property="code")
        table = zones.properties
        assert table.columns == ["code", "n", "area", "name", "when"], path
        assert table.schema["code"] == pl.Enum(["A", "B", "C"])
        assert (
            table.schema["n"] == pl.Int64 and table.schema["area"] == pl.Float64 and table.schema["name"] == pl.String
        )
        assert isinstance(table.schema["when"], pl.Datetime), table.schema["when"]
        assert table.select("n", "area", "name").rows() == [(1, 2.5, "first"), (2, None, "second"), (3, 1.0, None)]
        assert pickle.loads(pickle.dumps(zones)).properties.equals(table)
        unnamed = pz.Zones.from_file(path).properties
        assert unnamed.columns == ["zone", "code", "n", "area", "name", "when"] and unnamed.height == 4


def test_wkb_and_shapely_zones_have_the_id_column_alone():
    shapely = pytest.importorskip("shapely")
    from shapely.geometry import shape

    geometries = [shape(square(x)) for x in (0, 2)]
    for zones in (
        pz.Zones.from_shapely(geometries, ids=["p", "q"]),
        pz.Zones.from_wkb(shapely.to_wkb(geometries), ids=["p", "q"]),
    ):
        assert zones.properties.columns == ["zone"] and zones.properties.schema["zone"] == pl.Enum(["p", "q"])
    assert pz.Zones.from_shapely(geometries).properties.schema["zone"] == pl.UInt32
