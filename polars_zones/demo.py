"""The demo behind `polars-zones demo` (and `make demo`): synthetic ship positions tagged with
the bundled maritime zones, a summary table and a PNG map."""

from __future__ import annotations

import time
from pathlib import Path

import polars as pl
from rich.console import Console

from polars_zones import datasets
from polars_zones.synthetic import ship_positions


def run_demo(*, points: int = 2_000_000, seed: int = 42, png: Path | None = None, console: Console | None = None) -> pl.DataFrame:
    """Runs the demo and returns the tagged positions."""
    from polars_zones.cli import summary_table, zone_counts

    console = console or Console()
    t = time.perf_counter()
    zones = datasets.maritime_zones()
    console.print(f"zones: {zones!r}, built in {time.perf_counter() - t:.2f} s")
    console.print(f"       data {datasets.ATTRIBUTION}")

    positions = ship_positions(points, zones, seed=seed)
    console.print(f"points: {positions.height:,} synthetic ship positions (seed {seed}: coasts, lanes, open sea)")

    t = time.perf_counter()
    tagged = positions.lazy().with_columns(zone=pl.col("lat").zones.tag("lon", polygons=zones)).collect()
    seconds = time.perf_counter() - t

    counts = zone_counts(tagged.lazy(), "lat", "lon", "zone")
    console.print(summary_table(counts, tagged.height, seconds, top=20))

    if png is not None:
        try:
            import matplotlib
        except ImportError:
            console.print("map: skipped, it needs matplotlib (pip install 'polars-zones[plot]')")
            return tagged

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(14, 7), dpi=120)
        zones.plot(ax, points=tagged, max_points=300_000, seed=seed)
        ax.set_title(f"{tagged.height:,} synthetic ship positions, coloured by maritime zone (grey: in no zone)")
        fig.tight_layout()
        png.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(png)
        plt.close(fig)
        console.print(f"map: {png}")
    return tagged
