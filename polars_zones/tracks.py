"""Deterministic synthetic vessel tracks that sail at sea: for the demo, the visits benchmark
and the visits tests.

    from polars_zones.tracks import vessel_tracks
    positions = vessel_tracks(1_000_000, vessels=500, seed=0)   # mmsi, timestamp, lat, lon

Each vessel (`mmsi`) goes from port to port along the bundled sea routes
(`datasets.sea_routes()`: shortest paths that keep 0.025 degree off the Natural Earth 1:110m
land, see scripts/make_sea_data.py) at its own speed, waits at each port's anchorage for
hours to days (swinging round its anchor), reports its position at irregular intervals,
sometimes goes dark for hours to days, and its GPS fixes carry noise and rare outliers.
Before the noise no position is on land (the tests check it with polars-zones). The ports
lie on the 1:110m coast, which has no canals: routes between oceans go round the continents.

Everything is vectorised numpy (a loop over legs, not over positions): 8M positions take a
few seconds. Same arguments, same frame.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl

from polars_zones import datasets

KM_PER_DEGREE = 111.32
KNOT_KMH = 1.852
STATUS = pl.Enum(["at anchor", "underway"])


class _Network:
    """Ports, the route between each pair as one polyline (longitudes continued across
    ±180), and the routes' cumulative lengths in km, all flattened into arrays."""

    def __init__(self, data: dict[str, Any]) -> None:
        ports = data["ports"]
        self.names = [p["name"] for p in ports]
        self.zones = [p["zone"] for p in ports]
        self.lon = np.array([p["lon"] for p in ports])
        self.lat = np.array([p["lat"] for p in ports])
        n = len(ports)
        wlon, wlat = np.array(data["waypoints"]["lon"]), np.array(data["waypoints"]["lat"])
        self.route = np.full((n, n), -1, dtype=np.int64)
        lons, lats, dists, starts, lengths = [], [], [], [0], []
        for r, (a, b, path) in enumerate(data["routes"]):
            lon = np.concatenate([[self.lon[a]], wlon[path], [self.lon[b]]])
            lat = np.concatenate([[self.lat[a]], wlat[path], [self.lat[b]]])
            lon = np.degrees(np.unwrap(np.radians(lon)))
            step = np.hypot(np.diff(lon) * np.cos(np.radians((lat[1:] + lat[:-1]) / 2)), np.diff(lat)) * KM_PER_DEGREE
            dist = np.concatenate([[0.0], np.cumsum(step)])
            lons.append(lon)
            lats.append(lat)
            dists.append(dist)
            starts.append(starts[-1] + len(lon))
            lengths.append(dist[-1])
            self.route[a, b] = self.route[b, a] = r
        self.vlon, self.vlat, self.vdist = np.concatenate(lons), np.concatenate(lats), np.concatenate(dists)
        self.vstart = np.array(starts[:-1])
        self.vcount = np.diff(starts)
        self.length = np.array(lengths)
        # Route of each ordered pair (a, b): its length, and whether it is stored b -> a.
        self.reverse = np.zeros((n, n), dtype=bool)
        for a, b, _ in data["routes"]:
            self.reverse[b, a] = True
        known = self.route >= 0
        self.km = np.where(known, self.length[np.maximum(self.route, 0)], np.inf)

    def along(self, route: np.ndarray, km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Position `km` along each `route` (from its stored start)."""
        # Vertex k of route r is at global index vstart[r] + k; find the segment by a
        # binary search inside each route's slice (routes are short: a few dozen vertices).
        lo = self.vstart[route]
        hi = lo + self.vcount[route] - 1
        while True:
            active = hi - lo > 1
            if not active.any():
                break
            mid = (lo + hi) // 2
            right = self.vdist[mid] <= km
            lo = np.where(active & right, mid, lo)
            hi = np.where(active & ~right, mid, hi)
        d0, d1 = self.vdist[lo], self.vdist[hi]
        f = np.clip((km - d0) / np.maximum(d1 - d0, 1e-12), 0.0, 1.0)
        return self.vlon[lo] + f * (self.vlon[hi] - self.vlon[lo]), self.vlat[lo] + f * (self.vlat[hi] - self.vlat[lo])


def _mmsi(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` distinct nine-digit MMSIs (maritime identification digits 201-775), ascending."""
    out = np.unique(rng.integers(201_000_000, 776_000_000, n + n // 10 + 10))
    while len(out) < n:
        out = np.unique(np.concatenate([out, rng.integers(201_000_000, 776_000_000, n)]))
    return np.sort(rng.choice(out, n, replace=False))


def vessel_tracks(
    n: int = 1_000_000,
    *,
    vessels: int = 1_000,
    seed: int = 0,
    start: dt.datetime = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    days: float = 30.0,
    jitter_m: float = 10.0,
    outliers: float = 0.002,
    dark: float = 0.15,
    truth: bool = False,
) -> pl.DataFrame:
    """`n` AIS-like positions of `vessels` vessels over `days` days from `start`: columns
    `mmsi` (Int64), `timestamp` (Datetime[us, UTC], whole seconds), `lat`, `lon`, sorted
    by mmsi and timestamp.

    Each vessel has its own speed (8-22 knots), reporting rate (positions are spread over
    vessels unevenly) and range (most hops are regional, some ocean-crossing); it waits
    2 hours to 6 days at each port's anchorage. A share `dark` of the vessels goes silent
    once or twice, for 2 hours to 4 days. GPS noise: normal, `jitter_m` metres; a share
    `outliers` of fixes is off by 2-50 km. With `truth=True` the frame also has `true_lat`,
    `true_lon` (before the noise), `status` (at anchor / underway) and `port` (the port
    whose anchorage the vessel is at, else null).
    """
    if n < 0 or vessels < 1:
        raise ValueError("n must be >= 0 and vessels >= 1")
    if not days > 0:  # (NaN too)
        raise ValueError(f"days must be > 0, not {days!r}")
    rng = np.random.default_rng(seed)
    net = _Network(datasets.sea_routes())
    span = days * 86_400.0
    n_ports = len(net.names)

    # Per vessel: speed, positions, how far it ranges, where it starts.
    speed_kmh = np.clip(rng.lognormal(np.log(14.0), 0.25, vessels), 8.0, 22.0) * KNOT_KMH
    share = rng.lognormal(0.0, 0.5, vessels)
    counts = rng.multinomial(n, share / share.sum())
    reach_km = np.clip(rng.lognormal(np.log(2_500.0), 0.8, vessels), 500.0, 20_000.0)
    port = rng.integers(0, n_ports, vessels)

    # Itineraries: dwell at a port, sail to the next, until the span is covered. The first
    # event starts before time 0 so that vessels are caught mid-dwell or mid-voyage.
    vessel_parts, start_parts, end_parts, port_parts, route_parts, reverse_parts = [], [], [], [], [], []
    clock = -rng.uniform(0.0, 3.0, vessels) * 86_400.0
    live = np.arange(vessels)
    while len(live):
        dwell = np.clip(rng.lognormal(np.log(30.0), 0.8, len(live)), 2.0, 144.0) * 3_600.0
        vessel_parts.append(live)
        start_parts.append(clock[live])
        end_parts.append(clock[live] + dwell)
        port_parts.append(port[live])
        route_parts.append(np.full(len(live), -1))
        reverse_parts.append(np.zeros(len(live), dtype=bool))
        clock[live] += dwell
        # Next port: weighted by exp(-distance / reach), never the same port.
        weights = np.exp(-net.km[port[live]] / reach_km[live, None])
        weights[np.arange(len(live)), port[live]] = 0.0
        weights /= weights.sum(axis=1, keepdims=True) + 1e-300
        nxt = (weights.cumsum(axis=1) < rng.uniform(0, 1, (len(live), 1))).sum(axis=1).clip(0, n_ports - 1)
        route = net.route[port[live], nxt]
        sail = net.length[route] / speed_kmh[live] * 3_600.0
        vessel_parts.append(live)
        start_parts.append(clock[live])
        end_parts.append(clock[live] + sail)
        port_parts.append(np.full(len(live), -1))
        route_parts.append(route)
        reverse_parts.append(net.reverse[port[live], nxt])
        clock[live] += sail
        port[live] = nxt
        live = live[clock[live] < span]
    ev_vessel = np.concatenate(vessel_parts)
    order = np.lexsort((np.concatenate(start_parts), ev_vessel))
    ev_vessel = ev_vessel[order]
    ev_start, ev_end = np.concatenate(start_parts)[order], np.concatenate(end_parts)[order]
    ev_port, ev_route, ev_reverse = (
        np.concatenate(port_parts)[order],
        np.concatenate(route_parts)[order],
        np.concatenate(reverse_parts)[order],
    )
    # Where each dwell is spent: a spot within about 2 km of the anchorage.
    spot = rng.normal(0.0, 0.008, (len(ev_port), 2)).clip(-0.02, 0.02)

    # Reporting times: sorted uniform times per vessel (cumulated exponential gaps), over the
    # span less the vessel's dark periods, which are then cut back in.
    # A vessel with k reports has k + 1 gaps; the last one only closes the span.
    vessel = np.repeat(np.arange(vessels), counts)
    cum = np.cumsum(rng.exponential(1.0, n + vessels))
    ends = np.cumsum(counts + 1) - 1
    base = np.concatenate([[0.0], cum[ends[:-1]]])
    keep = np.ones(n + vessels, dtype=bool)
    keep[ends] = False
    fraction = ((cum - np.repeat(base, counts + 1)) / np.repeat(cum[ends] - base, counts + 1))[keep]

    goes_dark = rng.uniform(0, 1, vessels) < dark
    outages = np.where(
        goes_dark[:, None], np.clip(rng.lognormal(np.log(18.0), 0.9, (vessels, 2)), 2.0, 96.0) * 3_600.0, 0.0
    )
    outages[:, 1] *= rng.uniform(0, 1, vessels) < 0.4  # a second outage for some
    outages = np.minimum(outages, span * 0.3)
    lit = span - outages.sum(axis=1)
    marks = np.sort(rng.uniform(0, 1, (vessels, 2)), axis=1) * lit[:, None]
    t = fraction * lit[vessel]
    t = t + outages[vessel, 0] * (t >= marks[vessel, 0]) + outages[vessel, 1] * (t >= marks[vessel, 1])
    t = np.floor(t)  # AIS reports whole seconds: some timestamps repeat

    # The event of each report, and the position it gives.
    key_events = ev_vessel * (4.0 * span + 1e7) + ev_start
    event = np.searchsorted(key_events, vessel * (4.0 * span + 1e7) + t, side="right") - 1
    sailing = ev_route[event] >= 0
    lat = np.empty(n)
    lon = np.empty(n)
    at = ~sailing
    p = ev_port[event[at]]
    swing = rng.normal(0.0, 0.0006, (int(at.sum()), 2)).clip(-0.002, 0.002)
    lon[at] = net.lon[p] + spot[event[at], 0] + swing[:, 0]
    lat[at] = net.lat[p] + spot[event[at], 1] + swing[:, 1]
    e = event[sailing]
    r = ev_route[e]
    progress = np.clip((t[sailing] - ev_start[e]) / np.maximum(ev_end[e] - ev_start[e], 1.0), 0.0, 1.0)
    km = np.where(ev_reverse[e], 1.0 - progress, progress) * net.length[r]
    lon[sailing], lat[sailing] = net.along(r, km)
    true_lon = (lon + 180.0) % 360.0 - 180.0
    true_lat = lat

    # GPS noise, then rare outliers.
    noise = rng.normal(0.0, jitter_m / 1_000.0 / KM_PER_DEGREE, (n, 2))
    rep_lat = true_lat + noise[:, 1]
    rep_lon = true_lon + noise[:, 0] / np.maximum(np.cos(np.radians(true_lat)), 0.05)
    wild = rng.uniform(0, 1, n) < outliers
    k = int(wild.sum())
    bearing = rng.uniform(0, 2 * np.pi, k)
    reach = rng.uniform(2.0, 50.0, k) / KM_PER_DEGREE
    rep_lat[wild] += reach * np.sin(bearing)
    rep_lon[wild] += reach * np.cos(bearing) / np.maximum(np.cos(np.radians(true_lat[wild])), 0.05)
    rep_lat = rep_lat.clip(-90.0, 90.0)
    rep_lon = (rep_lon + 180.0) % 360.0 - 180.0

    mmsi = _mmsi(rng, vessels)  # ascending, so the frame comes out sorted by (mmsi, timestamp)
    epoch = int(start.timestamp()) if start.tzinfo else int(start.replace(tzinfo=dt.timezone.utc).timestamp())
    frame = pl.DataFrame(
        {
            "mmsi": mmsi[vessel],
            "timestamp": pl.Series((t.astype(np.int64) + epoch) * 1_000_000).cast(pl.Datetime("us", "UTC")),
            "lat": rep_lat.round(6),
            "lon": rep_lon.round(6),
        }
    )
    if truth:
        port_code = pl.Series(np.where(at, ev_port[event], -1))
        frame = frame.with_columns(
            true_lat=pl.Series(true_lat),
            true_lon=pl.Series(true_lon),
            status=pl.Series(np.where(sailing, "underway", "at anchor")).cast(STATUS),
            port=pl.Series(net.names, dtype=pl.Enum(net.names)).gather(pl.when(port_code >= 0).then(port_code)),
        )
    return frame
