"""Hypothesis fuzzing of what users hand to polars-zones: GeoJSON-like objects and index bytes.

`make test` runs a few hundred examples each; `make fuzz` sets FUZZ_EXAMPLES for a long run.
Whatever goes in, the outcome is a `Zones` that agrees with the brute-force reference, or a
ValueError/TypeError: never another exception, a crash or a hang.
"""

from __future__ import annotations

import math
import os

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import polars_zones as pz

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

numbers = st.one_of(
    st.floats(-600, 600, allow_nan=False),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-1000, 1000),
    st.sampled_from([180.0, -180.0, 90.0, -90.0, 0.0, 1e-300, 1e308]),
)
junk = st.one_of(st.none(), st.text(max_size=3), st.booleans(), st.lists(st.integers(), max_size=2))
position = st.one_of(st.lists(numbers, min_size=2, max_size=3), st.lists(numbers, max_size=1), junk)
ring = st.lists(position, max_size=12)
polygon = st.lists(ring, max_size=3)
geometry = st.one_of(
    st.builds(lambda rings: {"type": "Polygon", "coordinates": rings}, polygon),
    st.builds(lambda polys: {"type": "MultiPolygon", "coordinates": polys}, st.lists(polygon, max_size=3)),
    st.builds(lambda c: {"type": st.sampled_from, "coordinates": c}, polygon).map(lambda g: dict(g, type="LineString")),
    junk,
)
feature = st.builds(
    lambda g, name: {"type": "Feature", "properties": {"name": name}, "geometry": g},
    geometry,
    st.one_of(st.text(max_size=4), st.integers(), st.none()),
)
collection = st.builds(lambda fs: {"type": "FeatureCollection", "features": fs}, st.lists(feature, max_size=4))
source = st.one_of(geometry, feature, collection, st.lists(st.one_of(geometry, feature), min_size=1, max_size=3))


def sane_ring(points: list) -> bool:
    return all(
        isinstance(p, list) and len(p) >= 2 and all(isinstance(c, (int, float)) and math.isfinite(c) for c in p[:2])
        for p in points
    )


@FUZZ
@given(source, st.booleans(), st.sampled_from(["split", "planar"]))
# Found by this test, kept as regressions: an empty string was opened as the directory "."
# (IsADirectoryError), a geometry that is a string broke the error locator (AttributeError).
@example("", False, "split")
@example({"type": "Feature", "properties": {"name": None}, "geometry": "0"}, False, "split")
def test_geojson_in_zones_or_a_clear_error(obj, named, antimeridian):
    try:
        zones = pz.Zones.from_geojson(obj, id_property="name" if named else None, antimeridian=antimeridian)
    except (ValueError, TypeError) as error:
        assert str(error)
        return
    except FileNotFoundError as error:  # a string that is not GeoJSON is taken as a path
        assert "no such GeoJSON file" in str(error)
        return
    except Warning:
        return
    rng = np.random.default_rng(len(str(obj)))
    lat, lon = rng.uniform(-90, 90, 300).round(3), rng.uniform(-180, 180, 300).round(3)
    for boundary in ("half-open", "inclusive"):
        assert (
            zones.tag_numpy(lat, lon, boundary=boundary) == zones._reference_tag_numpy(lat, lon, boundary=boundary)
        ).all()


@FUZZ
@given(st.lists(st.tuples(st.floats(-540, 540), st.floats(-90, 90)), min_size=3, max_size=40))
def test_any_ring_anywhere_agrees_with_the_reference(points):
    ring = [[round(x, 4), round(y, 4)] for x, y in points]
    try:
        zones = pz.Zones.from_geojson({"type": "Polygon", "coordinates": [ring + [ring[0]]]})
    except ValueError as error:
        assert "no zones" in str(error) or "degenerate" in str(error), error
        return
    except Warning:
        return
    rng = np.random.default_rng(len(ring))
    lat, lon = rng.uniform(-90, 90, 500).round(3), rng.uniform(-180, 180, 500).round(3)
    assert (zones.tag_numpy(lat, lon) == zones._reference_tag_numpy(lat, lon)).all()


@FUZZ
@given(st.binary(max_size=400), st.integers(0, 300))
def test_bytes_are_an_index_or_a_value_error(data, cut):
    valid = _valid_bytes()
    for candidate in (
        data,
        valid[:cut] + data,
        b"PLZONES\0" + data,
        valid[: len(valid) - cut] if cut else valid + data,
    ):
        try:
            pz.Zones.from_bytes(candidate)
        except ValueError as error:
            assert str(error)


_VALID: list[bytes] = []


def _valid_bytes() -> bytes:
    if not _VALID:
        square = {
            "type": "Polygon",
            "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]], [[0.5, 0.5], [1, 0.5], [1, 1], [0.5, 0.5]]],
        }
        _VALID.append(pz.Zones.from_geojson([square, square]).to_bytes())
    return _VALID[0]
