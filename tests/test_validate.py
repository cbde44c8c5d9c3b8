"""Zones.validate and strict=True: broken polygons are reported with where they are."""

from __future__ import annotations

import polars as pl
import pytest

import polars_zones as pz


def feature(name: str, geometry: dict) -> dict:
    return {"type": "Feature", "properties": {"id": name}, "geometry": geometry}


BROKEN = {
    "type": "FeatureCollection",
    "features": [
        feature(
            "clean",
            {
                "type": "Polygon",
                "coordinates": [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]], [[2, 2], [4, 2], [4, 4], [2, 2]]],
            },
        ),
        feature("bowtie", {"type": "Polygon", "coordinates": [[[20, 0], [30, 10], [30, 0], [20, 10], [20, 0]]]}),
        feature(
            "spike",
            {
                "type": "Polygon",
                "coordinates": [[[40, 0], [50, 0], [50, 5], [50, 9], [50, 5], [50, 10], [40, 10], [40, 0]]],
            },
        ),
        feature(
            "sliver+repeat",
            {
                "type": "MultiPolygon",
                "coordinates": [
                    [[[60, 0], [70, 0], [70, 0], [70, 10], [60, 10], [60, 0]]],
                    [[[80, 0], [85, 0], [90, 0], [80, 0]]],
                ],
            },
        ),
        feature(
            "hole-touches",
            {
                "type": "Polygon",
                "coordinates": [[[0, 20], [10, 20], [10, 30], [0, 30], [0, 20]], [[0, 25], [4, 24], [4, 26], [0, 25]]],
            },
        ),
        feature(
            "hole-outside",
            {
                "type": "Polygon",
                "coordinates": [
                    [[20, 20], [30, 20], [30, 30], [20, 30], [20, 20]],
                    [[40, 40], [41, 40], [41, 41], [40, 40]],
                ],
            },
        ),
        feature(
            "overlapping-parts",
            {
                "type": "MultiPolygon",
                "coordinates": [
                    [[[40, 20], [50, 20], [50, 30], [40, 30], [40, 20]]],
                    [[[42, 22], [44, 22], [44, 24], [42, 22]]],
                ],
            },
        ),
        feature(
            "fiji", {"type": "Polygon", "coordinates": [[[175, -20], [-175, -20], [-175, -15], [175, -15], [175, -20]]]}
        ),
        # Wrangel Island as the d3 world map writes it: the closing step runs from 180 to -180.
        feature(
            "wrangel",
            {
                "type": "Polygon",
                "coordinates": [
                    [
                        [-180, 70.99172],
                        [179.874, 70.95964],
                        [178.73, 71.1],
                        [179.85, 71.55],
                        [180, 71.53713],
                        [-180, 70.99172],
                    ]
                ],
            },
        ),
    ],
}


def test_each_problem_is_reported_with_feature_and_location():
    problems = pz.Zones.validate(BROKEN, id_property="id")
    assert problems.columns == ["element", "feature", "polygon", "ring", "vertex", "kind", "lon", "lat", "detail"]
    found = {(row["feature"], row["kind"]) for row in problems.iter_rows(named=True)}
    assert found == {
        (1, "self-intersection"),
        (2, "spike"),
        (2, "self-intersection"),  # the spike's edges overlap the ring's next edge
        (3, "repeated vertex"),
        (3, "degenerate ring"),
        (4, "rings meet"),
        (5, "hole outside shell"),
        (6, "parts overlap"),
        (7, "crosses antimeridian"),
        (8, "antimeridian seam"),
    }
    bowtie = problems.filter(pl.col("kind") == "self-intersection").row(0, named=True)
    assert (bowtie["lon"], bowtie["lat"]) == (25.0, 5.0)
    spike = problems.filter(pl.col("kind") == "spike").row(0, named=True)
    assert (spike["polygon"], spike["ring"], spike["vertex"], spike["lon"], spike["lat"]) == (0, 0, 3, 50.0, 9.0)
    repeat = problems.filter(pl.col("kind") == "repeated vertex").row(0, named=True)
    assert (repeat["polygon"], repeat["vertex"]) == (0, 2)
    assert problems.filter(pl.col("kind") == "degenerate ring")["polygon"].to_list() == [1]


def test_broken_zones_still_get_defined_answers():
    zones = pz.Zones.from_geojson(BROKEN, id_property="id")
    # Even-odd per polygon: the bow-tie's two triangles are in and the gap between them out,
    # a spike adds nothing, overlapping parts unite, and a "hole" outside its shell is
    # one more piece of the zone.
    points = pl.DataFrame({"lat": [5.0, 1.0, 5.0, 23.0, 25.0, 40.2], "lon": [21.0, 25.0, 45.0, 43.5, 21.0, 40.8]})
    got = points.select(pl.col("lat").zones.tag("lon", polygons=zones).cast(pl.String)).to_series().to_list()
    assert got == ["bowtie", None, "spike", "overlapping-parts", "hole-outside", "hole-outside"]


def test_strict_refuses_with_the_list():
    with pytest.raises(ValueError) as caught:
        pz.Zones.from_geojson(BROKEN, id_property="id", strict=True)
    message = str(caught.value)
    notes = ["crosses antimeridian", "antimeridian seam"]
    reported = pz.Zones.validate(BROKEN, id_property="id").filter(~pl.col("kind").is_in(notes)).height
    assert message.startswith(f"{reported} problem(s) in the zones (strict=True):")
    assert "feature 1, polygon 0, ring 0: self-intersection at (25.0000000, 5.0000000)" in message
    assert "crosses antimeridian" not in message and "antimeridian seam" not in message
    clean = {"type": "FeatureCollection", "features": [BROKEN["features"][i] for i in (0, 7, 8)]}
    assert len(pz.Zones.from_geojson(clean, id_property="id", strict=True)) == 3


def test_validate_reports_unreadable_input_like_from_geojson():
    bad = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 95], [0, 0]]]}
    with pytest.raises(ValueError, match="polygon 0, ring 0, vertex 2: latitude 95 is outside"):
        pz.Zones.validate(bad)


def test_the_bundled_zones_report_their_nested_parts(bundled_collection):
    problems = pz.Zones.validate(bundled_collection, id_property="A3")
    kinds = set(problems["kind"])
    assert "parts overlap" in kinds and kinds <= {
        "parts overlap",
        "parts meet",
        "hole outside shell",
        "rings meet",
        "self-intersection",
        "repeated vertex",
        "spike",
        "degenerate ring",
    }
    assert problems["feature"].is_not_null().all()


def test_nested_holes_and_holes_of_a_degenerate_shell():
    """A hole inside another hole is part of the zone again by the even-odd rule (shapely:
    "Holes are nested"): reported, so strict=True refuses it. A shell with no area takes its
    holes with it: alone, a hole was tagged as the zone."""
    shapely = pytest.importorskip("shapely")
    from shapely.geometry import shape

    outer, inner = (
        [[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]],
        [[1.5, 1.5], [2.5, 1.5], [2.5, 2.5], [1.5, 2.5], [1.5, 1.5]],
    )
    nested = {"type": "Polygon", "coordinates": [[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]], outer, inner]}
    assert "nested" in shapely.is_valid_reason(shape(nested)).lower()
    problems = pz.Zones.validate(nested)
    assert problems.select("polygon", "ring", "kind").rows() == [(0, 2, "holes nested")]
    with pytest.raises(ValueError, match="holes nested"):
        pz.Zones.from_geojson(nested, strict=True)
    # Its answer stays defined (even-odd): the inner hole is in the zone.
    assert pz.Zones.from_geojson(nested).tag_numpy([0.5, 1.2, 2.0], [0.5, 1.2, 2.0]).tolist() == [0, -1, 0]

    flat_shell = {"type": "Polygon", "coordinates": [[[5, 5], [6, 6], [7, 7], [5, 5]], outer]}
    kinds = pz.Zones.validate(flat_shell)["kind"].to_list()
    assert kinds == ["degenerate ring"] and "with its polygon's holes" in pz.Zones.validate(flat_shell)["detail"][0]
    with pytest.warns(pz.ZonesWarning, match="dropped 2 degenerate ring"):
        zones = pz.Zones.from_geojson(
            [flat_shell, {"type": "Polygon", "coordinates": [[[8, 8], [9, 8], [9, 9], [8, 8]]]}]
        )
    assert zones.tag_numpy([2.0, 8.2], [2.0, 8.8]).tolist() == [-1, 1]
