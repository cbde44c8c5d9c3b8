"""polars-zones against shapely on real maritime zones, through every entry point."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

import polars_zones as pz

from conftest import polygon_parts, shapely_oracle, ship_positions


def exact_sets(zones: pz.Zones, lat, lon, boundary: str) -> list[set[int]]:
    df = pl.DataFrame({"lat": lat, "lon": lon})
    named = df.select(pl.col("lat").zones.tag_all("lon", polygons=zones, boundary=boundary)).to_series().to_list()
    index = {name: i for i, name in enumerate(zones.ids)}
    return [{index[n] for n in names} for names in named]


def check_against_oracle(zones: pz.Zones, parts, part_zone, lat, lon, label: str) -> None:
    oracle = shapely_oracle(parts, part_zone, lat, lon)
    # Points on an edge in exact arithmetic: GEOS, working on the binary approximations
    # of the decimal coordinates, may see them a hair to either side and call them
    # unambiguous. There, shapely's answer must still lie between ours.
    inclusive = exact_sets(zones, lat, lon, "inclusive")
    exclusive = exact_sets(zones, lat, lon, "exclusive")
    on_edge = np.array([a != b for a, b in zip(inclusive, exclusive)])
    for i in np.flatnonzero(on_edge & oracle.unambiguous):
        assert exclusive[i] <= oracle.exclusive[i] <= inclusive[i], (lat[i], lon[i])
    clear = oracle.unambiguous & ~on_edge
    ambiguous = int((~oracle.unambiguous).sum())
    print(
        f"\n{label}: {len(lat):,} points; {ambiguous} ambiguous to shapely (contains_xy != intersects_xy), "
        f"{int(on_edge.sum())} exactly on an edge in exact arithmetic "
        f"({int((on_edge & oracle.unambiguous).sum())} of them unambiguous to shapely's floating point)"
    )
    # Points exactly on an edge are rare in this data; more would mean the generator or
    # the oracle is off.
    assert ambiguous < len(lat) * 0.001 and on_edge.sum() < len(lat) * 0.001

    ids = zones.ids
    expected_first = oracle.first()[clear]
    expected_names = [ids[i] if i >= 0 else None for i in expected_first]
    expected_all = [sorted(s) for s, c in zip(oracle.exclusive, clear) if c]

    df = pl.DataFrame({"lat": lat, "lon": lon})
    out = df.select(
        tag=pl.col("lat").zones.tag(pl.col("lon"), polygons=zones),
        tag_all=pl.col("lat").zones.tag_all("lon", polygons=zones),
        within=pl.col("lat").zones.within("lon", polygons=zones),
    ).filter(pl.Series(clear))
    assert out["tag"].to_list() == expected_names
    names_all = [[ids[i] for i in s] for s in expected_all]
    assert out["tag_all"].to_list() == names_all
    assert out["within"].to_list() == [bool(s) for s in expected_all]

    for boundary in ("half-open", "inclusive", "exclusive"):
        got = zones.tag_numpy(lat, lon, boundary=boundary)[clear]
        np.testing.assert_array_equal(got, expected_first, err_msg=boundary)

    series = pz.tag_pandas(pd.DataFrame({"lat": lat, "lon": lon}, index=np.arange(len(lat)) * 3), zones)
    assert list(series.index[:3]) == [0, 3, 6]
    got_names = [None if pd.isna(v) else v for v in series[clear]]
    assert got_names == expected_names


def test_bundled_zones_match_shapely(bundled_zones, bundled_parts, oracle_points):
    parts, part_zone = bundled_parts
    lat, lon = oracle_points
    check_against_oracle(bundled_zones, parts, part_zone, lat, lon, "bundled zones")


def test_full_10m_zones_match_shapely(full_collection):
    zones = pz.Zones.from_geojson(full_collection, id_property="A3")
    assert len(zones) == 250 and zones.num_vertices > 1_800_000
    parts, part_zone = polygon_parts(full_collection)
    df = ship_positions(200_000, zones, seed=3)
    check_against_oracle(zones, parts, part_zone, df["lat"].to_numpy(), df["lon"].to_numpy(), "10 m zones")


def test_index_agrees_with_brute_force_on_a_million_points(bundled_zones):
    """The global index against the brute-force kernel (every edge, no grid), all modes, with
    the leaf edges read from the vertices (as in an index this small) and from leaf records (as
    in a large one)."""
    df = ship_positions(1_000_000, bundled_zones, seed=5, coast=0.6, lanes=0.2)
    lat, lon = df["lat"].to_numpy(), df["lon"].to_numpy()
    records = bundled_zones._index.with_leaf_records(True)
    assert records.heap_bytes > bundled_zones.index_bytes  # the records are there
    for boundary in ("half-open", "inclusive", "exclusive"):
        expected = bundled_zones._reference_tag_numpy(lat, lon, boundary=boundary)
        for index in (bundled_zones._index, records):
            np.testing.assert_array_equal(index.tag_numpy(lat, lon, boundary=boundary), expected, err_msg=boundary)


@pytest.mark.parametrize("boundary", ["half-open", "inclusive", "exclusive"])
def test_index_agrees_with_brute_force_on_every_vertex_and_midpoint(bundled_zones, boundary):
    """Points exactly on vertices and edges (snapped midpoints) of the real zones, with leaf
    edges from the vertices and from leaf records."""
    lon, lat, starts, _ = bundled_zones._index.rings()
    mid_lon = (lon[:-1] + lon[1:]) / 2
    mid_lat = (lat[:-1] + lat[1:]) / 2
    qlat = np.concatenate([lat, mid_lat.round(7)])
    qlon = np.concatenate([lon, mid_lon.round(7)])
    expected = bundled_zones._reference_tag_numpy(qlat, qlon, boundary=boundary)
    for index in (bundled_zones._index, bundled_zones._index.with_leaf_records(True)):
        np.testing.assert_array_equal(index.tag_numpy(qlat, qlon, boundary=boundary), expected)
