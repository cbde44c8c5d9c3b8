"""polars-zones: tag points with the polygon zone that contains them.

    import polars as pl
    import polars_zones as pz

    zones = pz.Zones.from_geojson("zones.geojson", id_property="A3")
    df.with_columns(zone=pl.col("lat").zones.tag(pl.col("lon"), polygons=zones))

    pz.visits(tagged, by="mmsi", time="timestamp", max_gap="6h", min_points=2)

Importing the package registers the `zones` expression namespace, and the `zones`
DataFrame and LazyFrame namespaces (`lf.zones.visits(...)`, `lf.zones.time_in_zone(...)`).
"""

from polars_zones import datasets
from polars_zones._internal import (
    ZonesWarning,
    cache_capacity,
    clear_cache,
    index_decode_count,
    index_lookup_count,
    set_cache_capacity,
)
from polars_zones._namespace import ZonesNamespace
from polars_zones._pandas import tag_pandas
from polars_zones._types import Boundary
from polars_zones._visits import parse_duration, time_in_zone, visits
from polars_zones._zones import Zones, ZonesLike

__all__ = [
    "Boundary",
    "Zones",
    "ZonesNamespace",
    "ZonesLike",
    "ZonesWarning",
    "cache_capacity",
    "clear_cache",
    "datasets",
    "index_decode_count",
    "index_lookup_count",
    "set_cache_capacity",
    "parse_duration",
    "tag_pandas",
    "time_in_zone",
    "visits",
]


def __getattr__(name: str) -> str:
    """`__version__`: the installed distribution's, which maturin takes from Cargo.toml, looked
    up on first use (importing importlib.metadata would add to every command's start-up)."""
    if name != "__version__":
        raise AttributeError(f"module 'polars_zones' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("polars-zones")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0+unknown"
