"""The `zones` expression namespace: thin wrappers over the compiled plugin."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Union

import polars as pl
from polars.plugins import register_plugin_function

from polars_zones._zones import Zones, check_boundary

PLUGIN_PATH = Path(__file__).parent

IntoExpr = Union[pl.Expr, str]


def as_zones(polygons: Any) -> Zones:
    """A `Zones`, or anything `Zones.from_geojson` accepts."""
    return polygons if isinstance(polygons, Zones) else Zones.from_geojson(polygons)


_CODE_BITS = {pl.UInt8: 8, pl.UInt16: 16, pl.UInt32: 32}


def _call(function: str, lat: pl.Expr, lon: IntoExpr, zones: Zones, boundary: str, codes=pl.UInt32) -> pl.Expr:
    """A plugin expression: latitude, longitude and the zones' key (which carries the index
    in the plan; see src/expressions.rs), with small kwargs naming the index."""
    lon = pl.col(lon) if isinstance(lon, str) else lon
    kwargs = {"fingerprint": zones.fingerprint, "boundary": check_boundary(boundary), "code_bits": _CODE_BITS[codes]}
    return register_plugin_function(
        plugin_path=PLUGIN_PATH,
        function_name=function,
        args=[lat, lon, zones._plan_key()],
        kwargs=kwargs,
        is_elementwise=True,
    )


@pl.api.register_expr_namespace("zones")
class ZonesNamespace:
    """`pl.col("lat").zones.tag(pl.col("lon"), polygons=zones)` and friends.

    The expression it is called on is the latitude; `lon` is an expression or a column
    name. Coordinates are degrees (any float or integer dtype); longitudes outside
    [-180, 180] are wrapped; null, NaN, infinite and out-of-range points give null.
    """

    def __init__(self, expr: pl.Expr) -> None:
        self._lat = expr

    def tag(self, lon: IntoExpr, *, polygons: Any, boundary: str = "half-open") -> pl.Expr:
        """The zone containing each point (the first in input order where zones overlap),
        null where none: `pl.Enum(zones.ids)` when the zones are named, else the UInt32
        zone index."""
        zones = as_zones(polygons)
        if zones.ids is None:
            return _call("zones_tag", self._lat, lon, zones, boundary)
        # The plugin returns each zone's code in the physical dtype of the Enum, and the
        # cast makes it the Enum (cheaper than returning the Enum: Polars' import of an Enum
        # from a plugin converts every row back from its string).
        names = pl.Enum(zones.ids)
        codes = pl.Series(dtype=names).to_physical().dtype
        return _call("zones_tag", self._lat, lon, zones, boundary, codes=type(codes)).cat.to(names)

    def tag_all(self, lon: IntoExpr, *, polygons: Any, boundary: str = "half-open") -> pl.Expr:
        """Every zone containing each point, in input order (empty list for none)."""
        zones = as_zones(polygons)
        indexes = _call("zones_tag_all", self._lat, lon, zones, boundary)
        if zones.ids is None:
            return indexes
        # The codes become the Enum in one pass over the lists' values, as in `tag` (a gather
        # from a literal of the names cost rows x zones: the literal was rebuilt per row).
        return indexes.list.eval(pl.element().cat.to(pl.Enum(zones.ids)))

    def within(self, lon: IntoExpr, *, polygons: Any, boundary: str = "half-open") -> pl.Expr:
        """Whether each point is in any zone (null for invalid points): for `filter`."""
        return _call("zones_within", self._lat, lon, as_zones(polygons), boundary)
