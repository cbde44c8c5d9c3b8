"""The `zones` expression namespace: thin wrappers over the compiled plugin."""

from __future__ import annotations

from pathlib import Path
from typing import Union

import polars as pl
from polars.plugins import register_plugin_function

from polars_zones._types import Boundary
from polars_zones._zones import Zones, ZonesLike, check_boundary, check_max_distance

PLUGIN_PATH = Path(__file__).parent
# What Polars writes before the message of an error a plugin function returns.
PLUGIN_FAILED = "the plugin failed with message: "

IntoExpr = Union[pl.Expr, str]


def as_zones(polygons: ZonesLike) -> Zones:
    """A `Zones`, or anything `Zones.from_geojson` accepts."""
    return polygons if isinstance(polygons, Zones) else Zones.from_geojson(polygons)


_CODE_BITS: dict[type[pl.DataType], int] = {pl.UInt8: 8, pl.UInt16: 16, pl.UInt32: 32}


def _call(
    function: str,
    lat: pl.Expr,
    lon: IntoExpr,
    zones: Zones,
    boundary: str,
    codes: type[pl.DataType] = pl.UInt32,
    max_distance: float | None = None,
    enum_codes: bool = False,
) -> pl.Expr:
    """A plugin expression: latitude, longitude and the zones' key (which carries the index
    in the plan; see src/expressions.rs), with small kwargs naming the index."""
    lon = pl.col(lon) if isinstance(lon, str) else lon
    kwargs = {
        "fingerprint": zones.fingerprint,
        "boundary": check_boundary(boundary),
        "code_bits": _CODE_BITS[codes],
        "enum_codes": enum_codes,
        "max_distance": check_max_distance(max_distance),
    }
    return register_plugin_function(
        plugin_path=PLUGIN_PATH,
        function_name=function,
        args=[lat, lon, zones._plan_key()],
        kwargs=kwargs,
        is_elementwise=True,
    )


def _zone_column(
    function: str, lat: pl.Expr, lon: IntoExpr, zones: Zones, boundary: str, max_distance: float | None = None
) -> pl.Expr:
    """A plugin expression answering one zone per point: the UInt32 zone index, or for named
    zones the code in the physical dtype of `pl.Enum(zones.ids)`, cast to the Enum (cheaper
    than returning the Enum: Polars' import of an Enum from a plugin converts every row back
    from its string). A point in no zone is a null over the code 0 (see `enum_codes` in
    src/expressions.rs): every code is one of the Enum's, so the cast is strict."""
    if zones.ids is None:
        return _call(function, lat, lon, zones, boundary, max_distance=max_distance)
    names = pl.Enum(zones.ids)
    codes = type(pl.Series(dtype=names).to_physical().dtype)
    coded = _call(function, lat, lon, zones, boundary, codes=codes, max_distance=max_distance, enum_codes=True)
    return coded.cat.to(names)


@pl.api.register_expr_namespace("zones")
class ZonesNamespace:
    """`pl.col("lat").zones.tag(pl.col("lon"), polygons=zones)` and friends.

    The expression it is called on is the latitude; `lon` is an expression or a column
    name. Coordinates are degrees (any float or integer dtype); longitudes outside
    [-180, 180] are wrapped; null, NaN, infinite and out-of-range points give null.

    Zones "a" and "b" overlapping between longitudes 1 and 2; a point in "a", one in both, one
    in neither (222 km east of "b") and one with an invalid latitude:

    >>> import polars as pl
    >>> import polars_zones as pz
    >>> def box(name, west, east):
    ...     ring = [[west, 0], [east, 0], [east, 2], [west, 2], [west, 0]]
    ...     geometry = {"type": "Polygon", "coordinates": [ring]}
    ...     return {"type": "Feature", "properties": {"name": name}, "geometry": geometry}
    >>> zones = pz.Zones.from_geojson(
    ...     {"type": "FeatureCollection", "features": [box("a", 0, 2), box("b", 1, 3)]}, id_property="name"
    ... )
    >>> df = pl.DataFrame({"lat": [1.0, 1.0, 1.0, 95.0], "lon": [0.5, 1.5, 5.0, 0.5]})
    >>> out = df.select(
    ...     tag=pl.col("lat").zones.tag("lon", polygons=zones),
    ...     all=pl.col("lat").zones.tag_all("lon", polygons=zones),
    ...     within=pl.col("lat").zones.within("lon", polygons=zones),
    ...     km=(pl.col("lat").zones.distance("lon", polygons=zones) / 1000).round(1),
    ...     nearest=pl.col("lat").zones.nearest("lon", polygons=zones),
    ... )
    >>> out.to_dict(as_series=False)
    {'tag': ['a', 'a', None, None], 'all': [['a'], ['a', 'b'], [], None], 'within': [True, True, False, None],
     'km': [0.0, 0.0, 222.4, None], 'nearest': ['a', 'a', 'b', None]}
    >>> out.schema["tag"]
    Enum(categories=['a', 'b'])
    """

    def __init__(self, expr: pl.Expr) -> None:
        self._lat = expr

    def tag(self, lon: IntoExpr, *, polygons: ZonesLike, boundary: Boundary = "half-open") -> pl.Expr:
        """The zone containing each point (the first in input order where zones overlap),
        null where none: `pl.Enum(zones.ids)` when the zones are named, else the UInt32
        zone index."""
        return _zone_column("zones_tag", self._lat, lon, as_zones(polygons), boundary)

    def distance(
        self, lon: IntoExpr, *, polygons: ZonesLike, max_distance: float | None = None, boundary: Boundary = "half-open"
    ) -> pl.Expr:
        """Metres from each point to the nearest zone (Float64), on a sphere of radius
        6,371,008.8 m along great circles, to the zones' edges as drawn in lon/lat: 0 where the
        point is in a zone (by `boundary`, as `tag`), null beyond `max_distance` (metres; the
        search stops there) and for invalid points."""
        return _call("zones_distance", self._lat, lon, as_zones(polygons), boundary, max_distance=max_distance)

    def nearest(
        self, lon: IntoExpr, *, polygons: ZonesLike, max_distance: float | None = None, boundary: Boundary = "half-open"
    ) -> pl.Expr:
        """The nearest zone of each point, dtype as `tag`: the zone containing it (the first
        in input order, as `tag`), else the zone of the nearest edge (ties: the first zone),
        null beyond `max_distance` (metres) and for invalid points."""
        zones = as_zones(polygons)
        return _zone_column("zones_nearest", self._lat, lon, zones, boundary, max_distance=max_distance)

    def tag_all(self, lon: IntoExpr, *, polygons: ZonesLike, boundary: Boundary = "half-open") -> pl.Expr:
        """Every zone containing each point, in input order (empty list for none)."""
        zones = as_zones(polygons)
        indexes = _call("zones_tag_all", self._lat, lon, zones, boundary)
        if zones.ids is None:
            return indexes
        # The codes become the Enum in one pass over the lists' values, as in `tag` (a gather
        # from a literal of the names cost rows x zones: the literal was rebuilt per row).
        return indexes.list.eval(pl.element().cat.to(pl.Enum(zones.ids)))

    def within(self, lon: IntoExpr, *, polygons: ZonesLike, boundary: Boundary = "half-open") -> pl.Expr:
        """Whether each point is in any zone (null for invalid points): for `filter`."""
        return _call("zones_within", self._lat, lon, as_zones(polygons), boundary)
