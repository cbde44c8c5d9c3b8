"""Zones.from_file and Zones.from_wkb: the bundled zones written by geopandas/pyogrio to each
format, and as WKB through polars, pyarrow, GeoArrow and DuckDB, read back; CRS handling; bad
input."""

from __future__ import annotations

import shutil
import struct
import sys

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely

import polars_zones as pz

gpd = pytest.importorskip("geopandas")
pytest.importorskip("pyogrio")


@pytest.fixture(scope="module")
def frame():
    return gpd.read_file(pz.datasets.maritime_zones_path())


@pytest.fixture(scope="module")
def written(frame, tmp_path_factory):
    """The bundled zones in every format, by name."""
    d = tmp_path_factory.mktemp("formats")
    paths = {
        "GeoParquet": d / "zones.parquet",
        "Shapefile": d / "zones.shp",
        "GeoPackage": d / "zones.gpkg",
        "FlatGeobuf": d / "zones.fgb",
        "FlatGeobuf with spatial index": d / "zones-indexed.fgb",
    }
    frame.to_parquet(paths["GeoParquet"])
    frame.to_file(paths["Shapefile"])
    frame.to_file(paths["GeoPackage"])
    frame.to_file(paths["FlatGeobuf"], SPATIAL_INDEX="NO")
    frame.to_file(paths["FlatGeobuf with spatial index"])
    return paths


def zone_sets(zones: pz.Zones, lat, lon) -> list:
    """Every zone containing each point, by name (`tag` gives the first in zone order)."""
    tagged = pl.DataFrame({"lat": lat, "lon": lon}).select(pl.col("lat").zones.tag_all("lon", polygons=zones))
    return [sorted(names) for names in tagged.to_series().cast(pl.List(pl.String)).to_list()]


@pytest.mark.parametrize("kind", ["GeoParquet", "Shapefile", "GeoPackage", "FlatGeobuf"])
def test_each_format_gives_the_geojson_zones(written, kind, bundled_zones, oracle_points):
    """Identical fingerprints (geometry and ids: nothing a writer did changed a snapped vertex or
    the zone order) and identical tags on the 220k oracle points."""
    zones = pz.Zones.from_file(written[kind], id_property="A3")
    assert zones.fingerprint == bundled_zones.fingerprint
    lat, lon = oracle_points
    np.testing.assert_array_equal(zones.tag_numpy(lat, lon), bundled_zones.tag_numpy(lat, lon))
    assert zones.properties["A3"].cast(pl.String).to_list() == bundled_zones.ids


def test_flatgeobuf_spatial_index_reorders_features_but_not_tags(written, bundled_zones, oracle_points):
    """GDAL writes a FlatGeobuf with a packed Hilbert R-tree by default, and that sorts the
    features: the zones come back in another order (so another fingerprint, which hashes the
    order), with the same names and the same zones for every point (`tag`, the first zone in
    zone order, differs where zones overlap: 0.05% of these points)."""
    zones = pz.Zones.from_file(written["FlatGeobuf with spatial index"], id_property="A3")
    assert zones.ids != bundled_zones.ids and sorted(zones.ids) == sorted(bundled_zones.ids)
    assert zones.fingerprint != bundled_zones.fingerprint and zones.num_vertices == bundled_zones.num_vertices
    lat, lon = oracle_points
    assert zone_sets(zones, lat, lon) == zone_sets(bundled_zones, lat, lon)


def test_a_wkb_column_through_polars(written, bundled_zones, tmp_path):
    """Polars reads GeoParquet's geometry as a GeoArrow WKB extension column (with the CRS),
    and keeps plain WKB as Binary: both through a Parquet file written by polars and back."""
    table = pl.read_parquet(written["GeoParquet"])
    assert table.schema["geometry"].ext_name() == "geoarrow.wkb"
    table.with_columns(plain=pl.Series(table["geometry"].to_list(), dtype=pl.Binary)).write_parquet(
        tmp_path / "p.parquet"
    )
    back = pl.read_parquet(tmp_path / "p.parquet")
    assert back.schema["plain"] == pl.Binary
    for column in ("geometry", "plain"):
        zones = pz.Zones.from_wkb(back[column], ids=back["A3"])
        assert zones.fingerprint == bundled_zones.fingerprint
        assert zones.properties.columns == ["zone"] and zones.properties["zone"].dtype == pl.Enum(bundled_zones.ids)


def test_every_wkb_container(frame, bundled_zones):
    wkb = shapely.to_wkb(frame.geometry.values)  # numpy object array
    ids = frame["A3"].tolist()
    storage = pa.array(list(wkb), type=pa.binary())
    containers = {
        "list": list(wkb),
        "tuple": tuple(wkb),
        "numpy": wkb,
        "polars": pl.Series(list(wkb), dtype=pl.Binary),
        "pyarrow binary": storage,
        "pyarrow large_binary": storage.cast(pa.large_binary()),
        "pyarrow binary_view": storage.cast(pa.binary_view()),
        "pyarrow chunked": pa.chunked_array([storage[:100], storage[100:]]),
        "bytearrays": [bytearray(b) for b in wkb],
    }
    for name, geometries in containers.items():
        assert pz.Zones.from_wkb(geometries, ids=ids).fingerprint == bundled_zones.fingerprint, name
    assert pz.Zones.from_wkb(wkb, ids=np.array(ids)).fingerprint == bundled_zones.fingerprint
    assert pz.Zones.from_wkb(wkb, ids=pa.array(ids)).fingerprint == bundled_zones.fingerprint
    one = pz.Zones.from_wkb(wkb[0])  # bytes: one zone
    assert len(one) == 1 and one.ids is None


def test_multipolygon_parts_in_their_own_byte_order(frame, bundled_zones):
    """WKB gives each part of a MultiPolygon a header of its own, byte order included: every
    other part written in the other order than the whole reads as the same zones."""

    def mixed(geometry, whole_order: int) -> bytes:
        parts = shapely.get_parts(geometry)
        word = "<I" if whole_order == 1 else ">I"
        head = bytes([whole_order]) + struct.pack(word, 6) + struct.pack(word, len(parts))
        return head + b"".join(shapely.to_wkb(part, byte_order=(whole_order + k) % 2) for k, part in enumerate(parts))

    ids = frame["A3"].tolist()
    multi = [g for g in frame.geometry.values if g.geom_type == "MultiPolygon"]
    assert len(multi) > 50
    for whole_order in (0, 1):
        wkb = [mixed(g, whole_order) for g in frame.geometry.values]
        assert pz.Zones.from_wkb(wkb, ids=ids).fingerprint == bundled_zones.fingerprint


def test_geoarrow_wkb_extension_arrays(frame, bundled_zones):
    ga = pytest.importorskip("geoarrow.pyarrow")
    wkb = shapely.to_wkb(frame.geometry.values)
    array = ga.as_wkb(pa.array(list(wkb)))
    assert isinstance(array.type, pa.ExtensionType) and array.type.extension_name == "geoarrow.wkb"
    assert pz.Zones.from_wkb(array, ids=frame["A3"]).fingerprint == bundled_zones.fingerprint

    # The PyCapsule interface (what geoarrow-rust and SedonaDB results offer) goes the same way.
    class Capsule:
        def __arrow_c_array__(self, requested_schema=None):
            return array.__arrow_c_array__(requested_schema)

    assert pz.Zones.from_wkb(Capsule(), ids=frame["A3"]).fingerprint == bundled_zones.fingerprint
    # A GeoArrow type naming a projected CRS is refused or reprojected like a file's.
    mercator = ga.with_crs(ga.as_wkb(pa.array(list(shapely.to_wkb(frame.to_crs(3857).geometry.values)))), "EPSG:3857")
    assert pz.Zones.from_wkb(mercator, ids=frame["A3"]).ids == bundled_zones.ids


def test_duckdb(written, bundled_zones):
    """DuckDB reads GeoParquet's geometry as its GEOMETRY type and hands it to Arrow as a
    GeoArrow WKB column."""
    duckdb = pytest.importorskip("duckdb")
    result = duckdb.sql(f"SELECT A3, geometry FROM read_parquet('{written['GeoParquet']}')").arrow()
    table = result.read_all() if hasattr(result, "read_all") else result
    zones = pz.Zones.from_wkb(table["geometry"], ids=table["A3"])
    assert zones.fingerprint == bundled_zones.fingerprint


def test_ewkb_srid(frame, bundled_zones):
    geometries = shapely.set_srid(frame.geometry.values, 4326)
    ewkb = shapely.to_wkb(geometries, include_srid=True)
    assert ewkb[0][1:5] != shapely.to_wkb(frame.geometry.values[0])[1:5]  # the SRID flag is set
    assert pz.Zones.from_wkb(ewkb, ids=frame["A3"]).fingerprint == bundled_zones.fingerprint
    mixed = list(ewkb[:2]) + list(shapely.to_wkb(shapely.set_srid(frame.geometry.values[2:4], 3857), include_srid=True))
    with pytest.raises(ValueError, match="several SRIDs"):
        pz.Zones.from_wkb(mixed)


def test_ewkb_srid_against_the_arrow_crs(frame, bundled_zones):
    """SRIDs and a GeoArrow type naming the same CRS are read (the check compared a string with
    a PROJJSON dict and refused EPSG:3857 against EPSG:3857); naming different ones is refused,
    lon/lat rows under a projected type included (they were read as lon/lat, silently)."""
    ga = pytest.importorskip("geoarrow.pyarrow")
    pyproj = pytest.importorskip("pyproj")
    part = frame.head(5)
    projected = shapely.to_wkb(shapely.set_srid(part.to_crs(3857).geometry.values, 3857), include_srid=True)
    lonlat = shapely.to_wkb(shapely.set_srid(part.geometry.values, 4326), include_srid=True)
    typed = lambda rows, crs: ga.wkb().with_crs(pyproj.CRS(crs).to_json_dict()).wrap_array(pa.array(list(rows)))  # noqa: E731
    expected = pz.Zones.from_geopandas(part, id_column="A3")
    zones = pz.Zones.from_wkb(typed(projected, 3857), ids=part["A3"])
    assert zones.ids == expected.ids and np.allclose(zones.bounds, expected.bounds, atol=1e-6)
    assert pz.Zones.from_wkb(typed(lonlat, 4326), ids=part["A3"]).fingerprint == expected.fingerprint
    for rows, crs in ((lonlat, 3857), (projected, 4326)):
        with pytest.raises(ValueError, match="the rows' SRID says EPSG:.* but their Arrow type says EPSG:"):
            pz.Zones.from_wkb(typed(rows, crs))


def test_shapely_z_and_messages_for_other_formats(frame, written, tmp_path):
    """A NaN Z (GEOS makes them) is ignored like any Z; a zone file of another format given
    where GeoJSON is read, or to Zones.load, says which call reads it."""
    square = shapely.Polygon([(0, 0, float("nan")), (1, 0, float("nan")), (1, 1, float("nan")), (0, 1, float("nan"))])
    for zones in (
        pz.Zones.from_shapely(square),
        pz.Zones.from_geojson(square),
        pz.Zones.from_wkb(shapely.to_wkb(square)),
    ):
        assert zones.tag_numpy([0.5, 2.0], [0.5, 2.0]).tolist() == [0, -1]
    for kind in ("GeoPackage", "GeoParquet", "Shapefile", "FlatGeobuf"):
        with pytest.raises(ValueError, match="not GeoJSON: Zones.from_file reads it"):
            pz.Zones.validate(str(written[kind]))
    with pytest.raises(ValueError, match=r"Zones.load: '.*zones.gpkg' is not a saved index.*Zones.from_file"):
        pz.Zones.load(written["GeoPackage"])
    with pytest.raises(TypeError, match="Zones.from_bytes takes the bytes"):
        pz.Zones.from_bytes("abc")  # type: ignore[arg-type]


# ---- the CRS -----------------------------------------------------------------------------------

MERCATOR_TOLERANCE_DEGREES = 2e-7  # two steps of the 1e-7 grid


@pytest.fixture(scope="module")
def mercator(frame, tmp_path_factory):
    d = tmp_path_factory.mktemp("mercator")
    projected = frame.to_crs(3857)
    paths = {"GeoPackage": d / "zones-3857.gpkg", "GeoParquet": d / "zones-3857.parquet"}
    projected.to_file(paths["GeoPackage"])
    projected.to_parquet(paths["GeoParquet"])
    return paths


@pytest.mark.parametrize("kind", ["GeoPackage", "GeoParquet"])
def test_a_projected_file_is_reprojected(mercator, kind, bundled_zones, oracle_points):
    """EPSG:3857 (Web Mercator) back to longitude/latitude: pyproj's inverse of its forward
    projection lands within 2e-7 degree (2 cm) of every original vertex, after snapping to the
    1e-7 grid, and the tags on the 220k oracle points are the original's but for points that
    close to a border."""
    pytest.importorskip("pyproj")
    zones = pz.Zones.from_file(mercator[kind], id_property="A3")
    assert zones.ids == bundled_zones.ids and zones.num_vertices == bundled_zones.num_vertices
    got, want = zones._index.rings(), bundled_zones._index.rings()
    worst = max(np.abs(got[0] - want[0]).max(), np.abs(got[1] - want[1]).max())
    assert worst <= MERCATOR_TOLERANCE_DEGREES, worst
    lat, lon = oracle_points
    differ = int((zones.tag_numpy(lat, lon) != bundled_zones.tag_numpy(lat, lon)).sum())
    print(f"\n{kind} in EPSG:3857: worst vertex shift {worst:.1e} degree, {differ} of {len(lat):,} tags differ")
    assert differ <= len(lat) * 1e-4


def test_a_projected_wkb_column_read_by_polars_is_reprojected(mercator, bundled_zones):
    """Polars keeps the GeoParquet CRS in the extension dtype's metadata: from_wkb reads it."""
    pytest.importorskip("pyproj")
    table = pl.read_parquet(mercator["GeoParquet"])
    assert "3857" in table.schema["geometry"].ext_metadata()
    assert pz.Zones.from_wkb(table["geometry"], ids=table["A3"]).fingerprint == bundled_zones.fingerprint


def test_a_projected_file_without_pyproj_is_refused(mercator, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyproj", None)  # `import pyproj` now raises ImportError
    for path in mercator.values():
        with pytest.raises(ValueError) as error:
            pz.Zones.from_file(path, id_property="A3")
        message = str(error.value)
        assert "EPSG:3857" in message and "pip install 'polars-zones[io]'" in message and "ogr2ogr" in message
        assert message.count(str(path)) == 1, message  # named once, not "'z.gpkg': 'z.gpkg' is in CRS"


def test_wgs84_needs_no_pyproj(written, bundled_zones, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyproj", None)
    for kind in ("GeoParquet", "GeoPackage"):
        assert pz.Zones.from_file(written[kind], id_property="A3").fingerprint == bundled_zones.fingerprint


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_a_file_without_a_crs_is_taken_as_lonlat_with_a_warning(frame, bundled_zones, tmp_path):
    frame.set_crs(None, allow_override=True).to_file(tmp_path / "z.gpkg")
    with pytest.warns(pz.ZonesWarning, match="names no CRS"):
        zones = pz.Zones.from_file(tmp_path / "z.gpkg", id_property="A3")
    assert zones.fingerprint == bundled_zones.fingerprint


# ---- layers, filters, GeoJSON ------------------------------------------------------------------


def test_layers_and_where(frame, tmp_path, written):
    path = tmp_path / "two.gpkg"
    frame.to_file(path, layer="all")
    frame[frame["A3"].isin(["NOR", "SWE"])].to_file(path, layer="nordic")
    assert pz.Zones.from_file(path, id_property="A3", layer="nordic").ids == ["SWE", "NOR"]
    assert len(pz.Zones.from_file(path, id_property="A3", layer="all")) == 250
    for source in (written["GeoPackage"], written["GeoParquet"], pz.datasets.maritime_zones_path()):
        zones = pz.Zones.from_file(source, id_property="A3", where="A3 IN ('DNK', 'NOR')")
        assert zones.ids == ["DNK", "NOR"], source


def test_geojson_goes_through_from_geojson(bundled_zones):
    zones = pz.Zones.from_file(pz.datasets.maritime_zones_path(), id_property="A3")
    assert zones.fingerprint == bundled_zones.fingerprint
    assert zones.properties.equals(bundled_zones.properties)


def test_a_saved_index(bundled_zones, tmp_path):
    bundled_zones.save(tmp_path / "z.pzi")
    assert pz.Zones.from_file(tmp_path / "z.pzi").fingerprint == bundled_zones.fingerprint
    # Its zones are fixed: a filter or a layer would be ignored, so it is refused.
    for options in ({"where": "A3 = 'NOR'"}, {"layer": "zones"}):
        with pytest.raises(ValueError, match="z.pzi' is a saved index: its zones are fixed, so layer and where"):
            pz.Zones.from_file(tmp_path / "z.pzi", **options)


@pytest.mark.parametrize("missing", [None, shapely.Polygon()], ids=["null", "empty"])
@pytest.mark.parametrize("position", [0, 1])
def test_a_flatgeobuf_with_a_null_or_empty_geometry(frame, tmp_path, missing, position, oracle_points):
    """GDAL's Arrow reader gives such a file's WKB column broken offsets (Polars, or GDAL itself
    under `where`, read out of bounds and the process died) or, first in the file, an empty
    WKB (refused as invalid): a FlatGeobuf's geometries are read by GDAL's row reader."""
    part = frame.head(4).copy()
    part.loc[position, "geometry"] = missing
    part.to_file(tmp_path / "z.fgb", SPATIAL_INDEX="NO")
    kept = part.drop(index=position)
    lat, lon = oracle_points
    for where, names in ((None, kept["A3"].tolist()), (f"A3 <> '{kept['A3'].iloc[0]}'", kept["A3"].tolist()[1:])):
        with pytest.warns(pz.ZonesWarning, match="skipped 1 feature"):
            zones = pz.Zones.from_file(tmp_path / "z.fgb", id_property="A3", where=where)
        assert zones.ids == names
        expected = pz.Zones.from_geopandas(kept[kept["A3"].isin(names)], id_column="A3")
        assert zone_sets(zones, lat, lon) == zone_sets(expected, lat, lon)


def test_spherical_edges_are_refused(frame, tmp_path):
    """A file that says its edges are great circles would be tagged along straight lon/lat
    lines instead, silently: GeoParquet's "edges" and GeoArrow's extension metadata."""
    import json

    frame.head(3).to_parquet(tmp_path / "z.parquet")
    table = pq.read_table(tmp_path / "z.parquet")
    geo = json.loads(table.schema.metadata[b"geo"])
    geo["columns"]["geometry"]["edges"] = "spherical"
    pq.write_table(table.replace_schema_metadata({b"geo": json.dumps(geo).encode()}), tmp_path / "s.parquet")
    with pytest.raises(ValueError, match=r"s.parquet', geometry column 'geometry': .*'spherical', not planar"):
        pz.Zones.from_file(tmp_path / "s.parquet")
    # A GeoArrow WKB column without GeoParquet metadata, and the same array given to from_wkb.
    field = pa.field(
        "geometry",
        pa.binary(),
        metadata={b"ARROW:extension:name": b"geoarrow.wkb", b"ARROW:extension:metadata": b'{"edges":"spherical"}'},
    )
    plain = pa.table({"geometry": table["geometry"].cast(pa.binary())}, schema=pa.schema([field]))
    pq.write_table(plain, tmp_path / "g.parquet")
    with pytest.raises(ValueError, match=r"'spherical', not planar"):
        pz.Zones.from_file(tmp_path / "g.parquet")
    # Planar edges, said or not, are read.
    geo["columns"]["geometry"]["edges"] = "planar"
    pq.write_table(table.replace_schema_metadata({b"geo": json.dumps(geo).encode()}), tmp_path / "p.parquet")
    assert len(pz.Zones.from_file(tmp_path / "p.parquet")) == 3


def test_a_geodataframe_in_another_lonlat_crs_is_reprojected_by_every_constructor(frame, oracle_points):
    """Grads from the Paris meridian (EPSG:4807) read as degrees from Greenwich tag wrong
    places: a GeoDataFrame or GeoSeries is reprojected however it is passed, as from_geopandas
    and from_file reproject."""
    pytest.importorskip("pyproj")
    part = frame.head(12)
    paris = part.to_crs(4807)
    expected = pz.Zones.from_geopandas(part, id_column="A3")
    lat, lon = oracle_points
    for zones in (
        pz.Zones.from_geojson(paris, id_property="A3"),
        pz.Zones.from_shapely(paris.geometry, ids=paris["A3"]),
        pz.Zones.from_geopandas(paris, id_column="A3"),
    ):
        assert zones.ids == expected.ids
        assert zone_sets(zones, lat, lon) == zone_sets(expected, lat, lon)
    tagged = pl.DataFrame({"lat": lat, "lon": lon}).select(pl.col("lat").zones.tag("lon", polygons=paris))
    assert np.array_equal(
        tagged.to_series().fill_null(-1).to_numpy(), pz.Zones.from_geopandas(part).tag_numpy(lat, lon)
    )


def test_null_geometries_are_skipped_like_geojson_features(frame, tmp_path):
    part = frame.head(4).copy()
    part.loc[1, "geometry"] = None
    part.to_parquet(tmp_path / "z.parquet")
    with pytest.warns(pz.ZonesWarning, match="skipped 1 feature"):
        zones = pz.Zones.from_file(tmp_path / "z.parquet", id_property="A3")
    assert zones.ids == [part["A3"][0], part["A3"][2], part["A3"][3]]
    # A NaN id is named by its feature in the file, the skipped one counted.
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "z.parquet")  # pandas would write the NaN as a null
    table = table.append_column("n", pa.array([1.0, 2.0, float("nan"), 4.0], from_pandas=False))
    pq.write_table(table, tmp_path / "n.parquet")
    with pytest.warns(pz.ZonesWarning), pytest.raises(ValueError, match=r"n.parquet': feature 2: the id is null"):
        pz.Zones.from_file(tmp_path / "n.parquet", id_property="n")
    # from_wkb keeps row i as zone i: a null row is an empty zone.
    with pytest.warns(pz.ZonesWarning, match="1 null geometries"):
        assert len(pz.Zones.from_wkb([shapely.to_wkb(frame.geometry[0]), None])) == 2


# ---- bad input -----------------------------------------------------------------------------------

SQUARE = shapely.to_wkb(shapely.box(0, 0, 1, 1))


@pytest.mark.parametrize(
    "rows, message",
    [
        ([SQUARE, SQUARE[:-5]], "row 1: invalid WKB"),
        ([SQUARE, shapely.to_wkb(shapely.Point(1, 2))], "row 1: a Point is not a zone"),
        ([shapely.to_wkb(shapely.LineString([(0, 0), (1, 1)]))], "row 0: a LineString is not a zone"),
        ([shapely.to_wkb(shapely.box(0, 0, 1, 95))], "row 0, polygon 0, ring 0, vertex "),
        ([b"", SQUARE], "row 0: invalid WKB"),
        # A second polygon in the same row, or garbage after the first, was dropped silently.
        ([SQUARE, SQUARE + shapely.to_wkb(shapely.box(5, 5, 6, 6))], r"row 1: invalid WKB: 93 bytes after"),
        ([SQUARE + b"garbage"], r"row 0: invalid WKB: 7 bytes after the geometry's 93"),
    ],
)
def test_bad_wkb_names_the_row(rows, message):
    with pytest.raises(ValueError, match=message):
        pz.Zones.from_wkb(rows)


@pytest.mark.parametrize(
    "geometries, message",
    [
        ("POLYGON ((0 0, 1 0, 1 1, 0 0))", "expected WKB bytes"),
        (["0103000000"], "row 0: expected WKB bytes or None, got str .hex WKB text"),
        ([shapely.box(0, 0, 1, 1)], "use Zones.from_shapely"),
        (pl.Series(["a"]), "dtype Binary, not String"),
        (pl.DataFrame({"g": [SQUARE]}), "not the DataFrame"),
        (pa.table({"g": [SQUARE]}), "not the table"),
        (pa.array([1, 2]), "binary type, not int64"),
        (np.array([[SQUARE]], dtype=object), "one-dimensional"),
        (12, "got int"),
    ],
)
def test_wrong_wkb_types(geometries, message):
    with pytest.raises((TypeError, ValueError), match=message):
        pz.Zones.from_wkb(geometries)


def test_wkb_ids_must_match_and_not_be_null():
    with pytest.raises(ValueError, match="2 geometries but 1 ids"):
        pz.Zones.from_wkb([SQUARE, SQUARE], ids=["a"])
    with pytest.raises(ValueError, match="row 1: the id is null"):
        pz.Zones.from_wkb([SQUARE, SQUARE], ids=["a", None])


def test_a_parquet_file_without_a_geometry_column(tmp_path):
    pl.DataFrame({"A3": ["NOR"], "geometry": [SQUARE]}).write_parquet(tmp_path / "plain.parquet")
    with pytest.raises(
        ValueError,
        match=r"plain.parquet'?: no geometry column: .*columns: A3 \(large_string\), "
        r"geometry \(large_binary\).*Zones.from_wkb",
    ):
        pz.Zones.from_file(tmp_path / "plain.parquet")


def test_bad_geometry_in_a_file_names_the_file_and_feature(frame, tmp_path):
    path = tmp_path / "bad.parquet"
    frame.head(3).to_parquet(path)
    table = pq.read_table(path)
    geometry = table["geometry"].to_pylist()
    geometry[2] = geometry[2][:-9]
    pq.write_table(table.set_column(table.column_names.index("geometry"), "geometry", pa.array(geometry)), path)
    with pytest.raises(ValueError, match=r"bad.parquet'?: feature 2: invalid WKB"):
        pz.Zones.from_file(path, id_property="A3")
    lines = frame.head(2).copy()
    lines.loc[1, "geometry"] = shapely.LineString([(0, 0), (1, 1)])
    lines.to_file(tmp_path / "lines.gpkg")
    with pytest.raises(ValueError, match=r"lines.gpkg'?: feature 1: a LineString is not a zone"):
        pz.Zones.from_file(tmp_path / "lines.gpkg")


def test_file_errors(written, tmp_path):
    with pytest.raises(ValueError, match=r"has no layer 'nope'; its layers: zones"):
        pz.Zones.from_file(written["GeoPackage"], layer="nope")
    with pytest.raises(ValueError, match="has no attribute 'NAME'; its attributes: A3"):
        pz.Zones.from_file(written["GeoPackage"], id_property="NAME")
    with pytest.raises(FileNotFoundError, match="no such zones file"):
        pz.Zones.from_file(tmp_path / "nope.gpkg")
    with pytest.raises(ValueError, match="where="):
        pz.Zones.from_file(written["GeoParquet"], where="no_such_column = 1")
    with pytest.raises(ValueError, match="zones.gpkg"):
        pz.Zones.from_file(written["GeoPackage"], where="no_such_column = 1")
    with pytest.raises(ValueError, match="has no layers"):
        pz.Zones.from_file(written["GeoParquet"], layer="x")


@pytest.mark.parametrize("part", [".shp", ".shx"])
def test_a_truncated_shapefile_is_refused(written, tmp_path, part):
    """GDAL reads the features past the end of a cut .shp as null geometries, silently: the
    header's length says the file is short, and zones are not left out."""
    for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
        source = written["Shapefile"].with_suffix(suffix)
        if source.exists():
            shutil.copy(source, tmp_path / f"cut{suffix}")
    cut = tmp_path / f"cut{part}"
    size = cut.stat().st_size
    with cut.open("r+b") as file:
        file.truncate(size // 2)
    with pytest.raises(ValueError, match=r"cut\.sh[px]'?: .*(truncated|Failed to read)"):
        pz.Zones.from_file(tmp_path / "cut.shp", id_property="A3")


def test_a_null_id_names_the_feature(frame, tmp_path):
    part = frame.head(3).copy()
    part.loc[2, "A3"] = None
    part.to_file(tmp_path / "z.gpkg")
    with pytest.raises(ValueError, match=r"z.gpkg'?: feature 2: 'A3' is null"):
        pz.Zones.from_file(tmp_path / "z.gpkg", id_property="A3")


def test_without_pyogrio_the_message_says_how_to_install(written, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyogrio", None)
    with pytest.raises(ImportError, match=r"reading \.gpkg zones needs pyogrio: pip install 'polars-zones\[io\]'"):
        pz.Zones.from_file(written["GeoPackage"])
    assert len(pz.Zones.from_file(written["GeoParquet"])) == 250  # GeoParquet needs pyarrow only


def test_object_and_array_ids_are_named_alike_by_every_constructor():
    """from_geojson names an object or array id as its reader writes it (keys sorted, 1e-7 not
    1e-07); from_wkb, from_shapely and from_geopandas named it as Python's json writes it, so
    the same data gave different zone names by format."""
    square = shapely.box(0, 0, 1, 1)
    ids = [
        {"b": 1, "a": 2.5},
        [1e20, 0.5, 1e-7, 123456789.125, 2.0, -0.0],
        [True, None, "x"],
        {"n": {"z": 1, "y": [1e-5]}},
    ]
    features = [{"type": "Feature", "properties": {"id": v}, "geometry": shapely.geometry.mapping(square)} for v in ids]
    expected = pz.Zones.from_geojson({"type": "FeatureCollection", "features": features}, id_property="id").ids
    assert expected == [
        '{"a":2.5,"b":1}',
        "[1e+20,0.5,1e-7,123456789.125,2.0,-0.0]",
        '[true,null,"x"]',
        '{"n":{"y":[0.00001],"z":1}}',
    ]
    assert pz.Zones.from_shapely([square] * 4, ids=ids).ids == expected
    assert pz.Zones.from_wkb([shapely.to_wkb(square)] * 4, ids=ids).ids == expected
    with pytest.raises(ValueError, match="holds NaN or infinity"):
        pz.Zones.from_shapely([square], ids=[[float("nan")]])
