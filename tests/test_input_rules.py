"""Input rules a hostile user's afternoon pinned down: points a hair from the antimeridian,
features without geometry, legacy CRS members, what makes two ids the same zone, Decimal
coordinates."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import polars as pl
import pytest

import polars_zones as pz


def square(x0: float, y0: float, size: float = 1.0) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [[[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]],
    }


def features(*pairs) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"k": key}, "geometry": geometry} for key, geometry in pairs],
    }


def test_points_a_hair_from_the_antimeridian_are_where_180_is(bundled_zones):
    """Longitudes within 1e-6 of ±180 on either side: those that round to ±180 at 1e-7 degree
    are on the meridian (in Fiji's zone, like 180 itself), the others beside it."""
    fiji = bundled_zones.ids.index("FJI")
    lat = -17.0
    assert bundled_zones.tag_numpy([lat, lat], [180.0, -180.0]).tolist() == [fiji, fiji]
    for lon in [
        179.99999999,
        179.99999996,
        180.00000001,
        180.00000004,
        -180.00000000000003,
        -179.99999999,
        -179.99999996,
        -180.00000004,
        179.9999999,
        -179.9999999,
        179.999999,
        -179.999999,
    ]:
        assert bundled_zones.tag_numpy([lat], [lon])[0] == fiji, lon
    got = (
        pl.DataFrame({"lat": [lat] * 2, "lon": [179.99999999, -180.00000000000003]})
        .select(pl.col("lat").zones.tag("lon", polygons=bundled_zones))["lat"]
        .to_list()
    )
    assert got == ["FJI", "FJI"]


def test_a_feature_without_geometry_is_skipped_with_a_warning():
    collection = features(("A", None), ("B", square(0, 0)), ("C", None))
    with pytest.warns(pz.ZonesWarning, match="skipped 2 feature\\(s\\) whose geometry is null"):
        zones = pz.Zones.from_geojson(collection, id_property="k")
    assert zones.ids == ["B"]
    with pytest.raises(ValueError, match="no zones: no feature has a geometry"):
        pz.Zones.from_geojson(features(("A", None)), id_property="k")


def test_a_legacy_crs_other_than_wgs84_is_refused():
    collection = features(("A", square(0, 0)))
    collection["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}
    with pytest.raises(ValueError, match='names the CRS "urn:ogc:def:crs:EPSG::3857".*reproject'):
        pz.Zones.from_geojson(collection, id_property="k")
    collection["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    assert len(pz.Zones.from_geojson(collection, id_property="k")) == 1


def test_ids_are_the_same_zone_when_their_names_are():
    """A zone is named by its id's string form: 1, 1.0 and "1" are zone "1"; true and "true"
    are zone "true"; 1 and 2 differ."""
    cases = [(1, "1"), (1.0, "1"), ("1", "1"), (2, "2"), (True, "true"), ("true", "true"), (2.5, "2.5")]
    collection = features(*[(key, square(i, 0, 0.5)) for i, (key, _) in enumerate(cases)])
    zones = pz.Zones.from_geojson(collection, id_property="k")
    assert zones.ids == ["1", "2", "true", "2.5"]
    got = zones.tag_numpy(np.full(len(cases), 0.25), np.arange(len(cases)) + 0.25)
    assert [zones.ids[z] for z in got] == [name for _, name in cases]


def test_decimal_coordinates_are_numbers():
    zones = pz.Zones.from_geojson(square(0, 0))
    df = pl.DataFrame(
        {"lat": [Decimal("0.5"), Decimal("2.5"), None], "lon": [Decimal("0.5"), Decimal("0.5"), Decimal("0.5")]}
    )
    assert df.schema["lat"].is_decimal()
    got = df.select(pl.col("lat").zones.tag("lon", polygons=zones), w=pl.col("lat").zones.within("lon", polygons=zones))
    assert got["lat"].to_list() == [0, None, None]
    assert got["w"].to_list() == [True, False, None]
