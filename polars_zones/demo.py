"""The demo behind `polars-zones demo` (and `make demo`): synthetic vessel tracks that sail
between ports at sea, tagged with the bundled maritime zones in a lazy query; a table of
positions per zone, a table of visits per zone (port calls and transits, median time in zone)
and a PNG map with a few tracks drawn."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from rich.console import Console

from polars_zones import datasets
from polars_zones._report import summary_table, visits_summary, visits_table, zone_counts
from polars_zones._visits import visits
from polars_zones._zones import Zones
from polars_zones.tracks import vessel_tracks

# How the demo turns positions into visits: a vessel silent for more than 6 hours has left;
# fewer than 3 positions in a zone is a jittery fix, not a visit.
VISIT_OPTIONS: dict[str, Any] = dict(by="mmsi", time="timestamp", max_gap="6h", min_points=3)


def run_demo(
    *, points: int = 2_000_000, seed: int = 42, png: Path | None = None, console: Console | None = None
) -> pl.DataFrame:
    """Runs the demo and returns the tagged positions."""
    console = console or Console()
    t = time.perf_counter()
    zones = datasets.maritime_zones()
    console.print(f"zones: {zones!r}, built in {time.perf_counter() - t:.2f} s")
    console.print(f"       data {datasets.ATTRIBUTION}")

    vessels = max(1, points // 2_000)
    positions = vessel_tracks(points, vessels=vessels, seed=seed)
    n_ports = len(datasets.sea_routes()["ports"])
    console.print(
        f"points: {positions.height:,} positions of {vessels:,} synthetic vessels over 30 days "
        f"(seed {seed}: sea routes between {n_ports} ports, anchorages, dark periods, GPS noise)"
    )

    t = time.perf_counter()
    tag = pl.col("lat").zones.tag("lon", polygons=zones)  # type: ignore[attr-defined]
    tagged = positions.lazy().with_columns(zone=tag).collect()
    seconds = time.perf_counter() - t
    counts = zone_counts(tagged.lazy(), "lat", "lon", "zone")
    console.print(summary_table(counts, tagged.height, seconds, top=15))

    t = time.perf_counter()
    per_visit = visits(tagged.lazy(), **VISIT_OPTIONS).collect()
    seconds = time.perf_counter() - t
    title = f"{per_visit.height:,} visits (port calls and transits; max_gap 6h, min_points 3) in {seconds:.2f} s"
    console.print(visits_table(visits_summary(per_visit.lazy(), "zone", ["mmsi"]), "zone", title, top=15))

    if png is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            console.print("map: skipped, it needs matplotlib (pip install 'polars-zones[plot]')")
            return tagged
        draw_map(zones, tagged, per_visit, png, seed)
        console.print(f"map: {png}")
    return tagged


def draw_map(
    zones: Zones, tagged: pl.DataFrame, per_visit: pl.DataFrame, png: Path, seed: int, tracks: int = 6
) -> None:
    """The positions coloured by zone, and the tracks of the `tracks` vessels with the most
    visits drawn over them (a line per stretch between dark gaps and the antimeridian)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(14, 7), dpi=120)
    zones.plot(ax, points=tagged, max_points=300_000, seed=seed)
    busiest = per_visit.group_by("mmsi").len().sort(["len", "mmsi"], descending=[True, False]).head(tracks)["mmsi"]
    for k, mmsi in enumerate(busiest):
        track = tagged.filter(pl.col("mmsi") == mmsi)
        lon, lat = track["lon"].to_numpy(), track["lat"].to_numpy()
        seconds = track["timestamp"].dt.epoch("s").to_numpy()
        cut = np.flatnonzero((np.abs(np.diff(lon)) > 180) | (np.diff(seconds) > 6 * 3600)) + 1
        for i, (x, y) in enumerate(zip(np.split(lon, cut), np.split(lat, cut))):
            ax.plot(x, y, color=f"C{k}", linewidth=1.6, alpha=0.9, zorder=5, label=f"MMSI {mmsi}" if i == 0 else None)
    ax.legend(loc="lower left", fontsize=7, markerscale=4)
    ax.set_title(
        f"{tagged.height:,} synthetic vessel positions, coloured by maritime zone (grey: in no zone); "
        f"{len(busiest)} tracks drawn"
    )
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png)
    plt.close(fig)
