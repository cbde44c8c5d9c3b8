"""`Zones.plot`: the zones' outlines and, optionally, points coloured by zone (matplotlib)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import polars as pl

if TYPE_CHECKING:
    from polars_zones._zones import Zones


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("Zones.plot needs matplotlib: pip install 'polars-zones[plot]'") from None
    return plt


def _palette(plt: Any, cmap: str) -> npt.NDArray[np.float64]:
    """The colormap's colours without its greys, which mean "in no zone" here."""
    colors: npt.NDArray[np.float64] = np.asarray(plt.get_cmap(cmap)(np.linspace(0, 1, plt.get_cmap(cmap).N)))
    saturation = colors[:, :3].max(axis=1) - colors[:, :3].min(axis=1)
    palette: npt.NDArray[np.float64] = colors[saturation > 0.05]
    return palette


def plot_zones(
    zones: Zones,
    ax: Any = None,
    *,
    points: Any = None,
    zone_column: str = "zone",
    lat: str = "lat",
    lon: str = "lon",
    max_points: int = 200_000,
    seed: int = 0,
    outline_color: str = "0.35",
    linewidth: float = 0.4,
    cmap: str = "tab20",
    point_size: float = 0.5,
    no_zone_color: str = "0.75",
) -> Any:
    plt = _pyplot()
    from matplotlib.collections import LineCollection

    if ax is None:
        _, ax = plt.subplots(figsize=(12, 6))
    vlon, vlat, ring_starts, _ = zones._index.rings()
    xy = np.column_stack([vlon, vlat])
    rings = [xy[ring_starts[i] : ring_starts[i + 1]] for i in range(len(ring_starts) - 1)]
    ax.add_collection(LineCollection(rings, colors=outline_color, linewidths=linewidth, zorder=2))

    if points is not None:
        frame = (
            points
            if isinstance(points, (pl.DataFrame, pl.LazyFrame))
            else pl.from_pandas(points)
            if hasattr(points, "iloc")
            else pl.DataFrame(points)
        )
        names = frame.collect_schema().names()
        missing = [c for c in (lat, lon, zone_column) if c not in names]
        if missing:
            raise ValueError(f"points need columns {lat!r}, {lon!r} and {zone_column!r}; missing: {', '.join(missing)}")
        if isinstance(frame, pl.LazyFrame):
            # Only the three columns the plot draws are computed (the zones tagged in the plan).
            frame = frame.select(lat, lon, zone_column).collect()
        if frame.height > max_points:
            frame = frame.sample(max_points, seed=seed)
        zone = frame[zone_column]
        outside = zone.is_null().to_numpy()
        # Colour by zone: a stable code per zone, cycled through the colormap.
        codes = zone.cast(pl.String).rank("dense").fill_null(0).cast(pl.Int64).to_numpy()
        palette = _palette(plt, cmap)
        colors = palette[codes % len(palette)]
        x, y = frame[lon].to_numpy(), frame[lat].to_numpy()
        ax.scatter(x[outside], y[outside], s=point_size, c=no_zone_color, linewidths=0, zorder=1, label="in no zone")
        ax.scatter(x[~outside], y[~outside], s=point_size, c=colors[~outside], linewidths=0, zorder=3)

    bounds = zones.bounds
    if bounds is not None:
        pad = 0.02 * max(bounds[2] - bounds[0], bounds[3] - bounds[1], 1e-9)
        ax.set_xlim(bounds[0] - pad, bounds[2] + pad)
        ax.set_ylim(bounds[1] - pad, bounds[3] + pad)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_aspect("equal", adjustable="box")
    return ax
