"""The synthetic vessel tracks (polars_zones.tracks) and the bundled land and sea routes they
sail on: at sea (checked with polars-zones on the land layer), deterministic, realistic
enough; and visits over them the same in every engine and input order."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

import polars_zones as pz
from polars_zones.tracks import _Network, vessel_tracks


@pytest.fixture(scope="module")
def tracks():
    return vessel_tracks(300_000, vessels=300, seed=3, truth=True)


@pytest.fixture(scope="module")
def land():
    return pz.datasets.land()


def test_land_layer(land):
    assert land.ids == ["land"]
    places = pl.DataFrame(
        {
            "name": ["Paris", "Sahara", "Chad", "Brasilia", "Siberia", "mid-Atlantic", "Mediterranean", "Caspian"],
            "lat": [48.85, 23.0, 15.0, -15.8, 62.0, 30.0, 35.0, 42.0],
            "lon": [2.35, 5.0, 19.0, -47.9, 100.0, -40.0, 18.0, 51.0],
        }
    )
    on = places.with_columns(land=pl.col("lat").zones.within("lon", polygons=land))
    assert dict(on.select("name", "land").iter_rows()) == {
        "Paris": True,
        "Sahara": True,
        "Chad": True,
        "Brasilia": True,
        "Siberia": True,
        "mid-Atlantic": False,
        "Mediterranean": False,
        "Caspian": False,
    }


def test_no_route_crosses_land(land):
    """Every route of the bundled network, sampled every 0.02 degree, is off land."""
    net = _Network(pz.datasets.sea_routes())
    lon, lat = [], []
    for r in range(len(net.length)):
        s, k = net.vstart[r], net.vcount[r]
        for i in range(s, s + k - 1):
            steps = max(2, int(np.hypot(net.vlon[i + 1] - net.vlon[i], net.vlat[i + 1] - net.vlat[i]) / 0.02) + 1)
            f = np.linspace(0.0, 1.0, steps)
            lon.append(net.vlon[i] + f * (net.vlon[i + 1] - net.vlon[i]))
            lat.append(net.vlat[i] + f * (net.vlat[i + 1] - net.vlat[i]))
    lon, lat = np.concatenate(lon), np.concatenate(lat)
    assert len(lon) > 1_000_000
    on_land = land.tag_numpy(lat, (lon + 180.0) % 360.0 - 180.0) >= 0
    assert not on_land.any(), f"{on_land.sum()} route points on land, e.g. {lon[on_land][:3]}, {lat[on_land][:3]}"


def test_ports_are_at_sea_in_their_zone(land, bundled_zones):
    ports = pl.DataFrame(pz.datasets.sea_routes()["ports"])
    assert ports.height >= 70
    tagged = ports.with_columns(
        tagged=pl.col("lat").zones.tag("lon", polygons=bundled_zones).cast(pl.String),
        on_land=pl.col("lat").zones.within("lon", polygons=land),
    )
    assert tagged.filter(pl.col("tagged") != pl.col("zone")).is_empty()
    assert not tagged["on_land"].any()
    routes = pz.datasets.sea_routes()["routes"]
    assert len(routes) == ports.height * (ports.height - 1) // 2  # every pair is connected


def test_no_track_position_is_on_land_before_the_noise(tracks, land):
    on_land = tracks.select(pl.col("true_lat").zones.within("true_lon", polygons=land)).to_series()
    assert on_land.sum() == 0
    # After the GPS noise and outliers, a few fixes may be (that is what outliers are).
    assert tracks.select(pl.col("lat").zones.within("lon", polygons=land)).to_series().sum() < tracks.height * 0.002


def test_shape_order_and_determinism(tracks):
    assert tracks.height == 300_000
    assert tracks.schema["mmsi"] == pl.Int64 and tracks.schema["timestamp"] == pl.Datetime("us", "UTC")
    assert tracks["mmsi"].n_unique() == 300 and tracks["mmsi"].is_between(201_000_000, 775_999_999).all()
    keys = tracks.select("mmsi", "timestamp")
    assert keys.equals(keys.sort("mmsi", "timestamp"))
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    assert tracks["timestamp"].min() >= start and tracks["timestamp"].max() < start + dt.timedelta(days=30)
    again = vessel_tracks(300_000, vessels=300, seed=3, truth=True)
    assert again.equals(tracks)
    other = vessel_tracks(300_000, vessels=300, seed=4)
    assert not other.equals(tracks.select(other.columns))
    assert vessel_tracks(0, vessels=5).height == 0


def test_tracks_look_like_ais(tracks):
    # Anchored and underway, in many ports.
    status = dict(tracks.group_by("status").len().iter_rows())
    assert 0.15 < status["at anchor"] / tracks.height < 0.6
    assert tracks["port"].n_unique() > 40
    # GPS noise of about 10 m, and rare outliers kilometres off.
    km = (
        np.hypot(
            (tracks["lon"] - tracks["true_lon"]).to_numpy() * np.cos(np.radians(tracks["true_lat"].to_numpy())),
            (tracks["lat"] - tracks["true_lat"]).to_numpy(),
        )
        * 111.32
    )
    km = np.minimum(km, np.abs(km - 360 * 111.32 * np.cos(np.radians(tracks["true_lat"].to_numpy()))))
    assert 0.005 < np.median(km) < 0.03
    assert 0.0005 < (km > 2.0).mean() < 0.005
    # Some vessels go dark for more than 6 hours; reports are minutes apart otherwise.
    gaps = tracks.select("mmsi", gap=pl.col("timestamp").diff().over("mmsi")).group_by("mmsi").agg(pl.col("gap").max())
    assert (gaps["gap"] > dt.timedelta(hours=6)).mean() > 0.1
    median_gap = tracks.select(pl.col("timestamp").diff().over("mmsi").median()).item()
    assert dt.timedelta(minutes=1) < median_gap < dt.timedelta(hours=1)
    # Speeds under way: 8-22 knots, measured between reports a few minutes apart.
    moving = (
        tracks.filter(pl.col("status") == "underway")
        .with_columns(
            dt_h=pl.col("timestamp").diff().over("mmsi").dt.total_seconds() / 3600,
            dlat=pl.col("true_lat").diff().over("mmsi"),
            dlon=pl.col("true_lon").diff().over("mmsi"),
        )
        .filter(pl.col("dt_h").is_between(0.05, 0.5) & (pl.col("dlon").abs() < 10))
    )
    knots = (
        np.hypot(
            moving["dlon"].to_numpy() * np.cos(np.radians(moving["true_lat"].to_numpy())), moving["dlat"].to_numpy()
        )
        * 111.32
        / 1.852
        / moving["dt_h"].to_numpy()
    )
    assert 8 < np.median(knots) < 22


def test_visits_over_tracks_same_in_every_engine_and_input_order(tracks, bundled_zones):
    # One fix per (vessel, second): with ties, input order decides (rule 1), so a shuffle
    # would legitimately change the answer.
    positions = tracks.select("mmsi", "timestamp", "lat", "lon").unique(
        ["mmsi", "timestamp"], keep="first", maintain_order=True
    )
    tagged = positions.lazy().with_columns(zone=pl.col("lat").zones.tag("lon", polygons=bundled_zones))
    options = dict(by="mmsi", time="timestamp", max_gap="6h", min_points=3, min_duration="10m")
    eager = pz.visits(tagged.collect(), **options)
    assert eager.height > 1_000
    assert pz.visits(tagged, **options).collect().equals(eager)
    assert pz.visits(tagged, **options).collect(engine="streaming").equals(eager)
    shuffled = tagged.collect().sample(fraction=1.0, shuffle=True, seed=5)
    assert pz.visits(shuffled, **options).equals(eager)
    # Port calls: most visits with a stay of a day or more are to the zone of a port.
    ports = {p["zone"] for p in pz.datasets.sea_routes()["ports"]}
    long_stays = eager.filter(pl.col("duration") > dt.timedelta(days=1))
    assert long_stays["zone"].cast(pl.String).is_in(list(ports)).mean() > 0.9
    totals = pz.time_in_zone(tagged, **options).collect(engine="streaming")
    assert totals["visits"].sum() == eager.height and totals["points"].sum() == eager["points"].sum()


def test_bad_sizes_are_refused():
    for kwargs, message in [({"n": -1}, "n must be >= 0"), ({"days": -1}, "days must be > 0, not -1")]:
        with pytest.raises(ValueError, match=message):
            vessel_tracks(**{"n": 10, **kwargs})
