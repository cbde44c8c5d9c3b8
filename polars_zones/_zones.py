"""The `Zones` class: a built, immutable zone index and the ways to make one."""

from __future__ import annotations

import json
import math
import os
import re
import stat
import sys
import tempfile
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Union, get_args

import polars as pl

from polars_zones import _formats, _properties
from polars_zones._internal import INDEX_MAGIC, ZoneIndex, ZonesWarning
from polars_zones._types import Boundary, GeoJSONSource, is_real_number

if TYPE_CHECKING:
    # numpy is imported where arrays are read: a command that never reads one starts faster.
    import numpy as np
    import numpy.typing as npt

    from polars_zones._internal import IngestReport  # a type of the stubs only

BOUNDARY_MODES: tuple[Boundary, ...] = get_args(Boundary)

# Notes of Zones.validate that describe how a polygon across ±180 is read, not a problem.
ANTIMERIDIAN_NOTES = ("crosses antimeridian", "antimeridian seam")

# The columns of Zones.validate and their polars dtypes, in the order of the fields of the
# tuples ZoneIndex.validate_geojson returns; the first five say where a problem is.
PROBLEM_COLUMNS = {
    "element": pl.UInt32,
    "feature": pl.UInt32,
    "polygon": pl.UInt32,
    "ring": pl.UInt32,
    "vertex": pl.UInt32,
    "kind": pl.String,
    "lon": pl.Float64,
    "lat": pl.Float64,
    "detail": pl.String,
}
PROBLEM_PLACES = tuple(PROBLEM_COLUMNS)[:5]


def check_boundary(boundary: str) -> Boundary:
    if boundary not in BOUNDARY_MODES:
        raise ValueError(f"boundary must be one of {', '.join(map(repr, BOUNDARY_MODES))}, not {boundary!r}")
    return boundary


class Zones:
    """Polygon zones with a global point-in-polygon index, ready to tag points.

    Build one with `Zones.from_file`, `Zones.from_geojson`, `Zones.from_wkb`,
    `Zones.from_geopandas` or `Zones.from_shapely`; use it with
    `pl.col("lat").zones.tag(pl.col("lon"), polygons=zones)`, `tag_numpy` or
    `polars_zones.tag_pandas`.

    Two named squares, and points tagged in a Polars query:

    >>> import polars as pl
    >>> import polars_zones as pz
    >>> def square(name, x):
    ...     ring = [[x, 0], [x + 1, 0], [x + 1, 1], [x, 1], [x, 0]]
    ...     geometry = {"type": "Polygon", "coordinates": [ring]}
    ...     return {"type": "Feature", "properties": {"name": name}, "geometry": geometry}
    >>> zones = pz.Zones.from_geojson(
    ...     {"type": "FeatureCollection", "features": [square("a", 0), square("b", 1)]}, id_property="name"
    ... )
    >>> zones
    Zones(2 zones, 8 vertices, ids=['a', 'b'], fingerprint=...)
    >>> df = pl.DataFrame({"lat": [0.5, 0.5, 0.5], "lon": [0.5, 1.5, 3.0]})
    >>> df.select(zone=pl.col("lat").zones.tag("lon", polygons=zones))["zone"].to_list()
    ['a', 'b', None]
    """

    __slots__ = ("_index", "_plan_literal", "_properties")

    def __init__(self, index: ZoneIndex) -> None:
        if not isinstance(index, ZoneIndex):
            raise TypeError(
                "use Zones.from_file, from_geojson, from_wkb, from_geopandas, from_shapely or from_bytes to make Zones"
            )
        self._index = index
        self._plan_literal: pl.Expr | None = None
        self._properties: pl.DataFrame | None = None  # the DataFrame of `properties`, read once

    @classmethod
    def _with_attributes(cls, index: ZoneIndex, attributes: pl.DataFrame | None, id_column: str | None) -> Zones:
        """Zones whose index carries the attribute table (`properties`): the id column, named
        `id_column` (or "zone"), then `attributes` (one row per zone, or None)."""
        table = _properties.attribute_table(attributes, index.ids, index.zone_count, id_column)
        zones = cls(index.with_properties(_properties.to_blob(table)))
        zones._properties = table
        return zones

    def _plan_key(self) -> pl.Expr:
        """The expression that carries the index in a Polars plan (see src/expressions.rs):
        `zones_key` over a one-row List(Binary) literal of the index's plan bytes (the bytes it
        was loaded from, or its `to_bytes()` when built here), made once per `Zones`, which Polars
        then shares rather than copies. Deterministic, so that plans over the same input share
        it (`pl.collect_all`); its literal is never hashed (Polars' common-subexpression pass
        skips nested literals)."""
        from polars.plugins import register_plugin_function

        if self._plan_literal is None:
            self._plan_literal = pl.lit(self._index.plan_series())
        return register_plugin_function(
            plugin_path=Path(__file__).parent,
            function_name="zones_key",
            args=[self._plan_literal],
            is_elementwise=False,
            returns_scalar=True,
            is_deterministic=True,
        )

    # ---- construction -------------------------------------------------------------------

    @classmethod
    def from_geojson(
        cls, source: GeoJSONSource, *, id_property: str | None = None, antimeridian: str = "split", strict: bool = False
    ) -> Zones:
        """Zones from GeoJSON.

        `source` is a path, a GeoJSON text, a dict (FeatureCollection, Feature, Polygon,
        MultiPolygon or GeometryCollection of those), or a list of any of these, each
        element then being one zone. Each feature of a FeatureCollection is a zone unless
        `id_property` is given: zones are then named by that property, and features (or
        list elements) sharing a name form one zone.

        `antimeridian="split"` (the default): a ring with longitudes beyond ±180 or with
        consecutive vertices more than 180 degrees apart crosses the antimeridian; it is
        unwrapped (each step the short way round), closed along the pole if it goes round
        one, and cut at ±180. `antimeridian="planar"` takes coordinates literally (for
        data with long east-west edges that really are planar) and refuses longitudes
        outside [-180, 180].

        With `strict=True`, any problem `Zones.validate` reports (other than the note that
        a polygon crosses the antimeridian) is a ValueError listing them.

        An index that would not fit in memory (edges long and packed close together, which
        the index copies into every cell they cross) is a ValueError, raised once the build
        passes a third of the memory available or the environment variable
        `POLARS_ZONES_MAX_BUILD_BYTES`.

        A saved index (a path or bytes starting with its magic bytes) is loaded as
        `Zones.load` does; its zones are fixed, so the other arguments do not apply.

        A list of two squares, one zone each (unnamed: `tag` gives their index):

        >>> import polars_zones as pz
        >>> west = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
        >>> east = {"type": "Polygon", "coordinates": [[[1, 0], [2, 0], [2, 1], [1, 1], [1, 0]]]}
        >>> zones = pz.Zones.from_geojson([west, east])
        >>> len(zones), zones.ids, zones.bounds
        (2, None, (0.0, 0.0, 2.0, 1.0))
        """
        saved = cls._saved(source, id_property)
        if saved is not None:
            return saved
        planar = _planar(antimeridian)
        texts, each_is_zone = _geojson_texts(source)
        if strict:
            problems = _problems(texts, each_is_zone, id_property, planar).filter(
                ~pl.col("kind").is_in(ANTIMERIDIAN_NOTES)
            )
            if problems.height:
                listed = "\n".join(_describe_problem(p) for p in problems.head(20).iter_rows(named=True))
                more = f"\n... and {problems.height - 20} more" if problems.height > 20 else ""
                raise ValueError(f"{problems.height} problem(s) in the zones (strict=True):\n{listed}{more}")
        try:
            index, report = ZoneIndex.from_geojson(texts, each_is_zone, id_property, planar=planar)
        except ValueError as error:
            raise ValueError(_better_message(texts, str(error), each_is_zone)) from None
        _warn_repairs(report, "feature(s) whose geometry is null (they contain no point)")
        return cls._with_attributes(index, _properties.from_json_texts(report["properties"]), id_property)

    @classmethod
    def _saved(
        cls, source: Any, id_property: str | None, layer: str | None = None, where: str | None = None
    ) -> Zones | None:
        """The zones of a saved index passed where a zone file is expected (bytes or a path),
        else None. A layer or an attribute filter (`from_file`) cannot apply to one."""
        saved = _saved_index(source)
        if saved is None:
            return None
        if layer is not None or where is not None:
            raise ValueError(
                f"{str(source)!r} is a saved index: its zones are fixed, so layer and where cannot choose "
                "among them; give the zone file it was built from"
            )
        if id_property is not None:
            warnings.warn(
                "the source is a saved index: its zone names are fixed, id_property is ignored",
                ZonesWarning,
                stacklevel=3,
            )
        return cls.from_bytes(saved)

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        *,
        id_property: str | None = None,
        layer: str | None = None,
        where: str | None = None,
        antimeridian: str = "split",
    ) -> Zones:
        """Zones from a file: GeoJSON, GeoParquet, Shapefile, GeoPackage, FlatGeobuf (anything
        GDAL reads), or a saved index (recognized by its magic bytes).

        GeoParquet is read with pyarrow; the other formats need pyogrio (`pip install
        "polars-zones[io]"`); GeoJSON is read as `from_geojson` reads it unless `layer` or
        `where` is given (then through pyogrio). Each feature is a zone, or, with `id_property`,
        features sharing that attribute's value form one zone (named as `from_geojson` names
        them). `layer`: the layer of a multi-layer file (GeoPackage). `where`: an attribute
        filter, in OGR SQL for pyogrio's formats and in polars SQL for GeoParquet (`"A3 IN
        ('NOR', 'SWE')"`). Features whose geometry is null are skipped, id and all.

        The CRS is read: longitude/latitude on WGS84 (EPSG:4326, OGC:CRS84) is used as is; any
        other is reprojected to it when pyproj and shapely are installed, else refused with an
        error naming it. A file that names no CRS is taken as longitude/latitude, with a
        ZonesWarning. The file's attributes become `properties`, with their types.
        """
        saved = cls._saved(path, id_property, layer, where)
        if saved is not None:
            return saved
        path = Path(path)
        if path.suffix.lower() in _formats.GEOJSON_SUFFIXES and layer is None and where is None:
            return cls.from_geojson(path, id_property=id_property, antimeridian=antimeridian)
        planar = _planar(antimeridian)
        features = _formats.read_features(path, layer, where)
        source, attributes = features.source, features.attributes
        if id_property is not None and id_property not in attributes.columns:
            raise ValueError(
                f"{source} has no attribute {id_property!r}; its attributes: {', '.join(attributes.columns) or 'none'}"
            )
        positions = [i for i, row in enumerate(features.wkb) if row is not None]
        if not positions:
            raise ValueError(
                f"{source}: no zones: {'no feature has' if features.wkb else 'no features with'} a geometry"
            )
        rows = [features.wkb[i] for i in positions]
        if len(rows) < len(features.wkb):
            warnings.warn(
                f"skipped {len(features.wkb) - len(rows)} feature(s) whose geometry is null (they contain no point)",
                ZonesWarning,
                stacklevel=2,
            )
            attributes = attributes[positions]
        names = None
        if id_property is not None:
            values = attributes[id_property]
            if values.null_count():
                first = positions[values.is_null().arg_true()[0]]
                raise ValueError(f"{source}: feature {first}: {id_property!r} is null")
            try:
                names = _formats.zone_names(values.to_list(), "row")
            except ValueError as error:  # a NaN id: named by its feature in the file
                raise ValueError(f"{source}: {_feature_numbers(str(error), positions)}") from None
        try:
            rows = _formats.lonlat_rows(rows, features.crs, source)
            index, report = ZoneIndex.from_wkb(rows, names, planar=planar)
        except ValueError as error:
            message = str(error)
            if message.startswith(source):  # lonlat_rows' own, about the whole file
                raise
            raise ValueError(f"{source}: {_feature_numbers(message, positions)}") from None
        _warn_repairs(report, "feature(s) whose geometry is null (they contain no point)")
        return cls._with_attributes(index, _properties.first_per_zone(attributes, names), id_property)

    @classmethod
    def from_wkb(cls, geometries: Any, *, ids: Any = None, antimeridian: str = "split") -> Zones:
        """Zones from WKB or EWKB (Polygon, MultiPolygon, or a GeometryCollection of those), one
        zone per row, or per distinct id with `ids` (rows sharing an id form one zone, named as
        `from_geojson` names them).

        `geometries`: bytes (one zone), a list or tuple of bytes (None: an empty zone, so that
        zone i stays row i), a numpy object array, a polars Binary Series (polars-st), a
        pyarrow Binary, LargeBinary or BinaryView array or ChunkedArray, a GeoArrow WKB
        extension array (geoarrow-pyarrow, DuckDB, SedonaDB), or any object with the Arrow
        PyCapsule interface. A CRS named by a GeoArrow type or by EWKB SRIDs is handled as
        `from_file` handles a file's. Errors name the row. `properties` is the id column
        alone: "zone", the zone names (Enum) or the zone index (UInt32).
        """
        planar = _planar(antimeridian)
        rows, crs = _formats.wkb_rows(geometries)
        names = None if ids is None else _formats.zone_names(_formats.plain_list(ids), "row")
        if names is not None and len(names) != len(rows):
            raise ValueError(f"{len(rows)} geometries but {len(names)} ids")
        srid = _formats.srid_crs(rows)
        if srid is not None and crs is not None and not _formats.same_crs(srid, crs):
            raise ValueError(f"the rows' SRID says {srid} but their Arrow type says {_formats.crs_label(crs)}")
        rows = _formats.lonlat_rows(rows, srid or crs, "the geometries")
        index, report = ZoneIndex.from_wkb(rows, names, planar=planar)
        _warn_repairs(report, "null geometries: empty zones (they contain no point)")
        return cls._with_attributes(index, None, None)

    @staticmethod
    def validate(source: GeoJSONSource, *, id_property: str | None = None, antimeridian: str = "split") -> pl.DataFrame:
        """What is wrong with the polygons of a GeoJSON source, one row per problem, as a
        polars DataFrame with columns element, feature, polygon, ring, vertex (where; null
        when not applicable), kind, lon, lat (a point at the problem) and detail.

        Kinds: unclosed ring, repeated vertex, degenerate ring, spike, self-intersection,
        rings meet (a hole touching or crossing its shell or another hole), hole outside
        shell, holes nested (a hole inside another), parts meet / parts overlap (polygons of
        one feature), and crosses antimeridian (a note: it is split). None of these is refused
        by `from_geojson`: the even-odd rule per polygon and the union per zone give every one
        of them a defined answer. Input
        that `from_geojson` refuses raises the same ValueError here.

        >>> import polars_zones as pz
        >>> bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
        >>> pz.Zones.validate(bowtie).select("kind", "lon", "lat").rows()
        [('self-intersection', 0.5, 0.5)]
        """
        texts, each_is_zone = _geojson_texts(source)
        return _problems(texts, each_is_zone, id_property, _planar(antimeridian))

    @classmethod
    def from_shapely(cls, geometries: Any, *, ids: Iterable[Any] | None = None, antimeridian: str = "split") -> Zones:
        """Zones from shapely (Multi)Polygons, one zone per geometry (or a single geometry).

        With `ids`, zones are named; geometries sharing an id form one zone.
        """
        if hasattr(geometries, "__geo_interface__") and not hasattr(geometries, "__len__"):
            geometries = [geometries]
        geometries = list(_in_lonlat(geometries))
        # Named as the other constructors name zones (`from_geojson`'s id_property).
        names = None if ids is None else _formats.zone_names(_formats.plain_list(ids), "element")
        if names is not None and len(names) != len(geometries):
            raise ValueError(f"{len(geometries)} geometries but {len(names)} ids")
        elements = []
        for i, g in enumerate(geometries):
            if g is None or not hasattr(g, "__geo_interface__"):
                raise ValueError(f"element {i}: {g!r} is not a geometry")
            try:
                geometry = _shapely_json(g)
            except ValueError as error:
                raise ValueError(f"element {i}, {error}") from None
            if names is None:
                elements.append(geometry)
            else:
                elements.append(
                    f'{{"type":"Feature","properties":{{"id":{json.dumps(names[i])}}},"geometry":{geometry}}}'
                )
        zones = cls.from_geojson(elements, id_property=None if names is None else "id", antimeridian=antimeridian)
        return cls._with_attributes(zones._index, None, None)

    @classmethod
    def from_geopandas(
        cls, frame_or_series: Any, *, id_column: str | None = None, antimeridian: str = "split"
    ) -> Zones:
        """Zones from a GeoDataFrame or GeoSeries, one zone per row (or per distinct
        `id_column` value), read as `from_wkb` reads rows: a missing geometry is an empty zone
        (so that zone i stays row i). A frame in a CRS other than longitude/latitude on WGS84
        is reprojected to it first (`to_crs`, as `from_file` reprojects a file), one without a
        CRS is taken as longitude/latitude. `properties` is the id column, named `id_column`."""
        import numpy as np
        import shapely

        frame_or_series = _in_lonlat(frame_or_series)
        geometries = np.asarray(getattr(frame_or_series, "geometry", frame_or_series), dtype=object)
        ids = None
        if id_column is not None:
            if id_column not in getattr(frame_or_series, "columns", ()):
                raise ValueError(f"no column {id_column!r} in the frame")
            ids = frame_or_series[id_column].tolist()
        zones = cls.from_wkb(list(shapely.to_wkb(geometries)), ids=ids, antimeridian=antimeridian)
        return zones if id_column is None else cls._with_attributes(zones._index, None, id_column)

    @classmethod
    def from_bytes(cls, data: bytes) -> Zones:
        """Zones from `to_bytes()` output (checked: magic, version, checksum)."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"Zones.from_bytes takes the bytes of to_bytes(), not {type(data).__name__}")
        return cls(ZoneIndex.from_bytes(bytes(data)))

    def to_bytes(self) -> bytes:
        """The index in its file format: magic, version, fingerprint, checksum, and the payload
        compressed with zstd (in frames that decompress in parallel)."""
        return self._index.to_bytes()

    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes the index to `path`. A new or regular file is replaced atomically (a
        temporary file beside it, then a rename), keeping the mode of the file it replaces; a
        symbolic link is followed, so the file it names is replaced and the link kept;
        anything else that exists (a device such as /dev/null, a pipe) is written to, not
        replaced, and so is an open descriptor named by path (/dev/stdout, /dev/fd/N,
        /proc/self/fd/N), at its position: `save("/dev/stdout") >> log` appends to the log. A
        directory is an error."""
        name = os.fspath(path)
        if not name:
            raise FileNotFoundError("cannot save zones to '': the path is empty")
        if "\0" in name:
            raise ValueError(f"cannot save zones to {name!r}: the path holds a NUL character")
        data = self.to_bytes()
        descriptor = _open_descriptor(name)
        if descriptor is not None:
            _write_to_descriptor(descriptor, name, data)
            return
        try:
            mode: int | None = os.stat(path).st_mode  # follows links
        except FileNotFoundError:
            mode = None
        if mode is not None and stat.S_ISDIR(mode):
            raise IsADirectoryError(f"cannot save zones to {name!r}: it is a directory")
        if mode is not None and not stat.S_ISREG(mode):
            with open(path, "wb") as f:
                f.write(data)
            return
        target = Path(os.path.realpath(path))
        if not target.parent.is_dir():
            raise FileNotFoundError(f"cannot save zones to {name!r}: no directory {str(target.parent)!r}")
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            if mode is None:  # mkstemp makes the file private; give it the mode a plain open() would
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(tmp, 0o666 & ~umask)
            else:
                os.chmod(tmp, stat.S_IMODE(mode))
            os.replace(tmp, target)
        except BaseException:
            os.unlink(tmp)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Zones:
        """The zones saved at `path` (`save`), read, checked and decoded in full."""
        data = _read_regular_file(path, "Zones.load")
        if not data.startswith(INDEX_MAGIC):
            raise ValueError(
                f"Zones.load: {os.fspath(path)!r} is not a saved index (it does not start with the index's "
                "magic bytes); a zone file is read with Zones.from_file"
            )
        return cls.from_bytes(data)

    def __reduce__(self) -> tuple[Callable[[bytes], Zones], tuple[bytes]]:
        return (Zones.from_bytes, (self.to_bytes(),))

    # ---- description --------------------------------------------------------------------

    @property
    def ids(self) -> list[str] | None:
        """Zone names in zone order, or None when the zones are unnamed."""
        return self._index.ids

    def __len__(self) -> int:
        return self._index.zone_count

    @property
    def bounds(self) -> tuple[float, float, float, float] | None:
        """(min_lon, min_lat, max_lon, max_lat) of all zones."""
        return self._index.bounds

    @property
    def properties(self) -> pl.DataFrame:
        """The zones' attributes as a polars DataFrame, one row per zone in zone order: the id
        column first, then the properties of each zone's first feature.

        The id column is named after `id_property` (or "zone" when there is none) and has the
        dtype `tag` returns: `pl.Enum(zones.ids)` for named zones, the UInt32 zone index for
        unnamed ones, so `df.join(zones.properties, left_on="zone", right_on="A3")` needs no
        cast. From GeoJSON, scalars are typed by polars (ints and floats together are Float64,
        other mixtures strings) and objects and arrays are JSON text; from other files the
        attribute columns keep their types. Kept by save/load, pickling and `to_bytes`.

        >>> import polars_zones as pz
        >>> def square(name, x):
        ...     ring = [[x, 0], [x + 1, 0], [x + 1, 1], [x, 1], [x, 0]]
        ...     geometry = {"type": "Polygon", "coordinates": [ring]}
        ...     return {"type": "Feature", "properties": {"name": name, "port": x == 0}, "geometry": geometry}
        >>> zones = pz.Zones.from_geojson(
        ...     {"type": "FeatureCollection", "features": [square("a", 0), square("b", 1)]}, id_property="name"
        ... )
        >>> zones.properties.rows()
        [('a', True), ('b', False)]
        >>> zones.properties.columns, zones.properties.dtypes
        (['name', 'port'], [Enum(categories=['a', 'b']), Boolean])
        """
        if self._properties is None:
            self._properties = _properties.from_blob(self._index.properties, self.ids, len(self))
        return self._properties.clone()

    @property
    def num_vertices(self) -> int:
        return self._index.num_vertices

    @property
    def fingerprint(self) -> str:
        """A stable content hash of the zones (geometry and ids)."""
        return self._index.fingerprint

    @property
    def index_bytes(self) -> int:
        """Memory held by the index arrays."""
        return self._index.heap_bytes

    def __repr__(self) -> str:
        ids = self.ids
        named = "" if ids is None else f", ids=[{', '.join(map(repr, ids[:3]))}{', ...' if len(ids) > 3 else ''}]"
        return f"Zones({len(self)} zones, {self.num_vertices} vertices{named}, fingerprint={self.fingerprint[:12]})"

    def _repr_html_(self) -> str:
        from html import escape

        ids = self.ids
        names = "unnamed" if ids is None else ", ".join(map(escape, ids[:8])) + (", &hellip;" if len(ids) > 8 else "")
        bounds = self.bounds
        box = "none" if bounds is None else "({:.4f}, {:.4f}) to ({:.4f}, {:.4f})".format(*bounds)
        rows = [
            ("zones", f"{len(self):,}"),
            ("names", names),
            ("bounds (lon, lat)", box),
            ("vertices", f"{self.num_vertices:,}"),
            ("index size", f"{self.index_bytes / 1e6:.1f} MB in memory"),
            ("fingerprint", f"<code>{self.fingerprint}</code>"),
        ]
        body = "".join(
            f"<tr><th style='text-align:left'>{k}</th><td style='text-align:left'>{v}</td></tr>" for k, v in rows
        )
        return f"<table><caption style='text-align:left'><b>polars_zones.Zones</b></caption>{body}</table>"

    def plot(
        self,
        ax: Any = None,
        *,
        points: Any = None,
        zone_column: str = "zone",
        lat: str = "lat",
        lon: str = "lon",
        **style: Any,
    ) -> Any:
        """Draws the zones' outlines and, given a frame with a zone column (a polars
        DataFrame or LazyFrame, or pandas), its points coloured by zone (at most
        `max_points`, sampled). Needs matplotlib; returns the Axes. Style keywords:
        max_points, seed, outline_color, linewidth, cmap, point_size, no_zone_color."""
        from polars_zones._plot import plot_zones

        return plot_zones(self, ax, points=points, zone_column=zone_column, lat=lat, lon=lon, **style)

    # ---- queries outside Polars --------------------------------------------------------

    def tag_numpy(
        self, lat: npt.ArrayLike, lon: npt.ArrayLike, *, boundary: Boundary = "half-open"
    ) -> npt.NDArray[np.int32]:
        """Zone index of each point as int32, -1 for no zone or an invalid point.

        Contiguous float64 arrays are read in place; other float and integer arrays are
        converted first. None and masked entries are no point; text, booleans, dates and
        complex numbers are a TypeError.

        Two squares sharing the edge at longitude 1, and points (lat, lon) at (0.5, 0.5), on that
        edge at (0.5, 1), and at (0.5, 5), in no zone; the edge's point is the east square's
        under the default `"half-open"` rule, and in neither under `"exclusive"`:

        >>> import polars_zones as pz
        >>> west = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
        >>> east = {"type": "Polygon", "coordinates": [[[1, 0], [2, 0], [2, 1], [1, 1], [1, 0]]]}
        >>> zones = pz.Zones.from_geojson([west, east])
        >>> zones.tag_numpy([0.5, 0.5, 0.5], [0.5, 1.0, 5.0])
        array([ 0,  1, -1], dtype=int32)
        >>> zones.tag_numpy([0.5, 0.5, 0.5], [0.5, 1.0, 5.0], boundary="exclusive")
        array([ 0, -1, -1], dtype=int32)
        """
        lat, lon = _coordinate_arrays(lat, lon)
        return self._index.tag_numpy(lat, lon, check_boundary(boundary))

    def distance_numpy(
        self,
        lat: npt.ArrayLike,
        lon: npt.ArrayLike,
        *,
        max_distance: float | None = None,
        boundary: Boundary = "half-open",
    ) -> npt.NDArray[np.float64]:
        """Metres from each point to the nearest zone as float64: 0 inside a zone, NaN beyond
        `max_distance` (metres) and for invalid points. See `pl.Expr.zones.distance`.

        >>> import polars_zones as pz
        >>> square = {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]}
        >>> zones = pz.Zones.from_geojson(square)
        >>> zones.distance_numpy([1.0, 1.0, 1.0], [1.0, 3.0, 30.0], max_distance=200_000).round().tolist()
        [0.0, 111178.0, nan]
        """
        lat, lon = _coordinate_arrays(lat, lon)
        return self._index.nearest_numpy(lat, lon, check_boundary(boundary), check_max_distance(max_distance))[0]

    def nearest_numpy(
        self,
        lat: npt.ArrayLike,
        lon: npt.ArrayLike,
        *,
        max_distance: float | None = None,
        boundary: Boundary = "half-open",
    ) -> npt.NDArray[np.int32]:
        """Index of the nearest zone of each point as int32 (the zone containing it, if any),
        -1 beyond `max_distance` (metres) and for invalid points.

        >>> import polars_zones as pz
        >>> square = {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]}
        >>> zones = pz.Zones.from_geojson(square)
        >>> zones.nearest_numpy([1.0, 1.0, 1.0], [1.0, 3.0, 30.0], max_distance=200_000)
        array([ 0,  0, -1], dtype=int32)
        """
        lat, lon = _coordinate_arrays(lat, lon)
        return self._index.nearest_numpy(lat, lon, check_boundary(boundary), check_max_distance(max_distance))[1]

    def _reference_tag_numpy(
        self, lat: npt.ArrayLike, lon: npt.ArrayLike, *, boundary: Boundary = "half-open"
    ) -> npt.NDArray[np.int32]:
        """`tag_numpy` by brute force over every edge: the oracle the index is tested against."""
        lat, lon = _coordinate_arrays(lat, lon)
        return self._index.reference_tag_numpy(lat, lon, check_boundary(boundary))


def _coordinate_arrays(
    lat: npt.ArrayLike, lon: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Contiguous, aligned float64 arrays (read in place when they already are), one-dimensional."""
    return _coordinate_array(lat, "lat"), _coordinate_array(lon, "lon")


def _coordinate_array(values: npt.ArrayLike, name: str) -> npt.NDArray[np.float64]:
    """Numbers only, as the expressions take them: integers and floats, None and masked
    entries as NaN (no point). Text, booleans, dates and complex numbers are refused rather
    than converted (numpy would read "1" as 1 and a date as a count of days)."""
    import numpy as np

    if isinstance(values, np.ma.MaskedArray):
        values = np.ma.filled(values.astype(np.float64), np.nan)
    array = np.asarray(values)
    if array.dtype == object:
        wrong = next((v for v in array.flat if v is not None and not is_real_number(v)), None)
        if wrong is not None:
            raise TypeError(f"{name} must hold numbers, not {type(wrong).__name__} ({wrong!r})")
    elif array.dtype.kind not in "fiu":
        raise TypeError(f"{name} must hold numbers, not {array.dtype} values")
    array = np.require(array, dtype=np.float64, requirements=["C", "A"])
    if array.ndim != 1:
        raise ValueError("lat and lon must be one-dimensional")
    return array


def check_max_distance(max_distance: float | None) -> float | None:
    """`max_distance` in metres: None (anywhere) or a finite number >= 0."""
    if max_distance is None:
        return None
    if not is_real_number(max_distance):
        raise TypeError(f"max_distance must be a number of metres or None, not {type(max_distance).__name__}")
    try:
        metres = float(max_distance)
    except OverflowError:  # an int past float's range
        metres = math.inf
    if not math.isfinite(metres) or metres < 0:
        raise ValueError(f"max_distance must be a finite number of metres >= 0, not {max_distance!r}")
    return metres


def _warn_repairs(report: IngestReport, null_geometries: str) -> None:
    """One ZonesWarning per kind of repair ingestion made (`report` from the compiled module)."""
    if report["null_geometries"]:
        warnings.warn(f"skipped {report['null_geometries']} {null_geometries}", ZonesWarning, stacklevel=3)
    if report["degenerate_rings"]:
        warnings.warn(
            f"dropped {report['degenerate_rings']} degenerate ring(s) (fewer than 3 distinct vertices, or all on one "
            "line, and the holes of such a shell): they contain no point",
            ZonesWarning,
            stacklevel=3,
        )


def _feature_numbers(message: str, positions: list[int]) -> str:
    """An error about row N of the rows handed to Rust, about the file's feature instead."""
    match = re.match(r"row (\d+)\b", message)
    if match is None or int(match.group(1)) >= len(positions):
        return message
    return f"feature {positions[int(match.group(1))]}{message[match.end() :]}"


def _planar(antimeridian: str) -> bool:
    if antimeridian not in ("split", "planar"):
        raise ValueError(f"antimeridian must be 'split' or 'planar', not {antimeridian!r}")
    return antimeridian == "planar"


def _geojson_texts(source: GeoJSONSource) -> tuple[list[str], bool]:
    """The texts to hand to Rust, and whether each is one zone (a list source)."""
    if isinstance(source, (list, tuple)):
        if not source:
            raise ValueError("no zones: the list of sources is empty")
        return [_geojson_text(element, f"element {i}") for i, element in enumerate(source)], True
    return [_geojson_text(source, "input")], False


def _problems(texts: list[str], each_is_zone: bool, id_property: str | None, planar: bool) -> pl.DataFrame:
    """The problems `ZoneIndex.validate_geojson` finds, one row per problem (`Zones.validate`):
    the compiled module gives a tuple per problem, whose fields `PROBLEM_COLUMNS` names in order."""
    rows = ZoneIndex.validate_geojson(texts, each_is_zone, id_property, planar=planar)
    return pl.DataFrame(rows, schema=PROBLEM_COLUMNS, orient="row")


def _describe_problem(problem: dict[str, Any]) -> str:
    """One row of `_problems` as a line: where, kind, at which point, detail."""
    where = [f"{name} {problem[name]}" for name in PROBLEM_PLACES if problem[name] is not None]
    return f"{', '.join(where)}: {problem['kind']} at ({problem['lon']:.7f}, {problem['lat']:.7f}): {problem['detail']}"


def _non_finite_member(obj: Any) -> str:
    """Where a dict holds the NaN or infinity that JSON cannot: 'features[1].properties["depth"]
    is nan (JSON has no NaN or infinity)'. Iterative, so any nesting is fine."""
    stack: list[tuple[Any, str]] = [(obj, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return f"{path.lstrip('.') or 'the value'} is {value} (JSON has no NaN or infinity)"
        if isinstance(value, dict):
            stack.extend(
                (v, f"{path}.{k}" if re.fullmatch(r"\w+", str(k)) else f"{path}[{k!r}]")
                for k, v in reversed(value.items())
            )
        elif isinstance(value, (list, tuple)):
            stack.extend((v, f"{path}[{i}]") for i, v in reversed(list(enumerate(value))))
    return "a number is not finite"


def _geojson_text(source: Any, where: str) -> str:
    if isinstance(source, dict):
        try:
            return json.dumps(source, allow_nan=False)
        except ValueError:
            problem = _locate_bad_coordinate(source) or _non_finite_member(source)
            raise ValueError(f"{where}: {problem}") from None
        except (TypeError, RecursionError) as error:
            raise ValueError(f"{where}: not JSON-serializable: {error}") from None
    if isinstance(source, bytes):
        return _decoded(source, where, "the bytes")
    if isinstance(source, os.PathLike):
        return _decoded(_read_regular_file(source, where), where, repr(str(source)))
    if isinstance(source, str):
        text = source.removeprefix("\ufeff")  # a byte order mark, as Windows tools write
        if _is_geojson_text(text):
            return text
        if not text.strip():
            raise ValueError(f"{where}: an empty string is neither GeoJSON nor a file name")
        path = Path(text)
        try:
            exists = path.exists()
        except OSError:  # e.g. a text too long for a file name
            raise ValueError(
                f"{where}: {_shorten(text)!r} is neither GeoJSON (no leading {{ or [) nor a file name"
            ) from None
        if not exists:
            raise FileNotFoundError(f"{where}: no such GeoJSON file: {text!r}")
        if not path.is_file():
            raise ValueError(f"{where}: {text!r} is not a file")
        return _decoded(path.read_bytes(), where, repr(text))
    if hasattr(source, "__geo_interface__"):
        return _shapely_json(_in_lonlat(source))
    raise TypeError(f"{where}: expected a path, a GeoJSON text or dict, got {type(source).__name__}")


def _in_lonlat(source: Any) -> Any:
    """A GeoDataFrame or GeoSeries (anything with a pyproj `crs` and `to_crs`) in a CRS other
    than longitude/latitude on WGS84, reprojected to it; anything else as it is. Its
    `__geo_interface__` and its geometries carry their coordinates without their CRS, and grads
    or another prime meridian read as degrees would be tagged wrongly, silently."""
    crs = getattr(source, "crs", None)
    if crs is None or not hasattr(source, "to_crs") or crs.equals("OGC:CRS84", ignore_axis_order=True):
        return source
    return source.to_crs("OGC:CRS84")


def _open_descriptor(name: str) -> tuple[int, bool] | None:
    """For a path that names an open file descriptor through /proc/PID/fd (/dev/stdout,
    /dev/fd/1, /proc/self/fd/1, or a link to one of them): the descriptor's number and whether
    it is this process's own; else None. Opening such a path reopens the file behind the
    descriptor, so replacing or truncating it would destroy what the user redirected into (a
    log appended to with >>)."""
    current = os.path.abspath(name)
    for _ in range(40):  # the kernel's own limit on links followed
        parent = os.path.realpath(os.path.dirname(current))
        found = re.fullmatch(r"/proc/(self|thread-self|\d+)(/task/\d+)?/fd", parent)
        leaf = os.path.basename(current)
        if found is not None and re.fullmatch(r"0|[1-9][0-9]*", leaf):  # as procfs names them
            return int(leaf), found.group(1) in ("self", "thread-self", str(os.getpid()))
        step = os.path.join(parent, leaf)
        if not os.path.islink(step):
            return None
        current = os.path.join(parent, os.readlink(step))
    return None


def _write_to_descriptor(descriptor: tuple[int, bool], name: str, data: bytes) -> None:
    """Writes at the descriptor's own position (and with its O_APPEND): this process's
    descriptor through a duplicate of it, after flushing what Python buffered for stdout and
    stderr; another process's by opening it for appending, never truncating."""
    number, own = descriptor
    if own:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None and _fileno(stream) == number:
                stream.flush()
        try:
            fd = os.dup(number)
        except OSError:
            raise FileNotFoundError(f"cannot save zones to {name!r}: descriptor {number} is not open") from None
    try:
        if not own:
            fd = os.open(name, os.O_WRONLY | os.O_APPEND)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except OSError as error:  # a descriptor open for reading only, or a directory's
        raise type(error)(error.errno, f"cannot save zones to {name!r}: {error.strerror}") from None


def _fileno(stream: Any) -> int | None:
    try:
        return int(stream.fileno())
    except (AttributeError, OSError, ValueError):  # replaced by an object without a descriptor
        return None


def _read_regular_file(path: str | os.PathLike[str], where: str) -> bytes:
    """The bytes of a regular file (or of one a link names): a device such as /dev/zero, or a
    pipe, could be endless, and a directory is no file. Checked on the open descriptor (opened
    without waiting for a pipe's writer), so a link swapped in between cannot slip through."""
    name = os.fspath(path)
    try:
        data = _regular_file_bytes(name)
    except (FileNotFoundError, NotADirectoryError):
        raise FileNotFoundError(f"{where}: no such file: {name!r}") from None
    except ValueError:  # os.open refuses a NUL in the name
        raise ValueError(f"{where}: {name!r} is not a file name: it holds a NUL character") from None
    if data is None:
        raise ValueError(f"{where}: {name!r} is not a file")
    return data


def _regular_file_bytes(name: str | os.PathLike[str], prefix: bytes = b"") -> bytes | None:
    """The bytes of the regular file `name` if they start with `prefix` (only the prefix's
    length is read otherwise), None if it is something else or starts otherwise;
    FileNotFoundError, PermissionError and the like as `open` raises them."""
    fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    with os.fdopen(fd, "rb") as f:
        start = f.read(len(prefix))
        return start + f.read() if start == prefix else None


def _is_geojson_text(text: str) -> bool:
    """A string is GeoJSON text, else a file name: it starts with "{" or "[" and names no file
    ("[v2] zones.geojson" does)."""
    if not text.lstrip().startswith(("{", "[")):
        return False
    try:
        return len(text) > 4096 or not os.path.isfile(text)
    except ValueError:  # a NUL in the text
        return True


# The first bytes of the zone files `from_file` reads that are not text.
_OTHER_ZONE_FORMATS = {
    b"SQLite format 3\x00": "a GeoPackage (SQLite)",
    b"PAR1": "a Parquet file",
    b"fgb\x03": "a FlatGeobuf file",
    b"\x00\x00\x27\x0a": "a Shapefile",
}


def _decoded(data: bytes, where: str, name: str) -> str:
    """File or bytes content as text; "utf-8-sig" drops a leading byte order mark."""
    if data.startswith(INDEX_MAGIC):
        raise ValueError(f"{where}: {name} is a saved index, not GeoJSON: use Zones.load")
    for magic, kind in _OTHER_ZONE_FORMATS.items():
        if data.startswith(magic):
            raise ValueError(
                f"{where}: {name} is {kind}, not GeoJSON: Zones.from_file reads it (this call reads GeoJSON only)"
            )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:  # RFC 7946: GeoJSON is UTF-8
        raise ValueError(
            f"{where}: {name} is not UTF-8 text (byte {error.start}: {data[error.start : error.start + 1]!r}); "
            "GeoJSON is UTF-8: convert it first (e.g. iconv -f latin1 -t utf-8)"
        ) from None


def _saved_index(source: Any) -> bytes | None:
    """The bytes of a saved index passed where GeoJSON is expected (bytes or a path), else None."""
    if isinstance(source, bytes):
        return source if source.startswith(INDEX_MAGIC) else None
    if (
        isinstance(source, os.PathLike)
        or isinstance(source, str)
        and not _is_geojson_text(source.removeprefix("\ufeff"))
    ):
        try:
            return _regular_file_bytes(source, INDEX_MAGIC)
        except (OSError, ValueError):  # not a readable file (or a NUL in the name): _geojson_text says why
            return None
    return None


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _shapely_json(geometry: Any) -> str:
    """A geometry object's GeoJSON text: its `__geo_interface__`, without a shapely geometry's
    Z (ignored anyway, and GEOS fills it with NaN, which JSON cannot hold)."""
    if type(geometry).__module__.startswith("shapely"):
        import shapely

        geometry = shapely.force_2d(geometry)
    try:
        return json.dumps(geometry.__geo_interface__, allow_nan=False)
    except ValueError:
        problem = _locate_bad_coordinate(geometry.__geo_interface__)
        raise ValueError(problem or "a coordinate is not finite") from None


def _better_message(texts: list[str], message: str, each_is_zone: bool) -> str:
    """Rust's JSON parser stops at NaN/Infinity tokens (Python writes them), and the
    geojson crate names the feature but not the vertex of a malformed position; on that
    error path, find the coordinate in Python and say exactly where it is."""
    if "vertex" in message:
        return message
    for i, text in enumerate(texts):
        try:
            problem = _locate_bad_coordinate(json.loads(text))
        except (ValueError, RecursionError):  # Python cannot read it either: Rust's message stands
            continue
        if problem:
            # Only where Rust stopped: a problem in a later feature is not this error.
            named = re.search(r"\bfeature (\d+)\b", message)
            if named is not None and not problem.startswith(f"feature {named.group(1)},"):
                return message
            return f"element {i}, {problem}" if each_is_zone else problem
    return message


def _locate_bad_coordinate(obj: Any) -> str | None:
    """'feature 3, polygon 0, ring 1, vertex 7: coordinate (nan, 1.0) is not finite'.

    It runs after an error, to say where it is: it must take any object and never raise
    (but RecursionError, on nesting deeper than Python's stack), or it would hide that error."""

    def polygons(geometry: Any) -> list[Any]:
        if not isinstance(geometry, dict):
            return []
        kind, coordinates = geometry.get("type"), geometry.get("coordinates")
        sequence = (list, tuple)  # JSON gives lists, __geo_interface__ tuples
        if kind == "Polygon" and isinstance(coordinates, sequence):
            return [coordinates]
        if kind == "MultiPolygon" and isinstance(coordinates, sequence):
            return [p for p in coordinates if isinstance(p, sequence)]
        if kind == "GeometryCollection" and isinstance(geometry.get("geometries"), sequence):
            return [p for g in geometry["geometries"] for p in polygons(g)]
        return []

    def scan(geometry: Any, prefix: str) -> str | None:
        if not isinstance(geometry, dict):
            return None
        for p, rings in enumerate(polygons(geometry)):
            for r, ring in enumerate(rings):
                if not isinstance(ring, (list, tuple)):
                    return f"{prefix}polygon {p}, ring {r}: a ring is a list of positions, got {ring!r}"
                for v, position in enumerate(ring):
                    where = f"{prefix}polygon {p}, ring {r}, vertex {v}"
                    if not isinstance(position, (list, tuple)) or len(position) < 2:
                        return f"{where}: a position needs 2 numbers, got {position!r}"
                    if not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in position[:2]):
                        return f"{where}: coordinate {position!r} is not a pair of numbers"
                    if not all(isinstance(c, int) or math.isfinite(c) for c in position[:2]):
                        return f"{where}: coordinate ({', '.join(map(str, position[:2]))}) is not finite"
        return None

    kind = obj.get("type") if isinstance(obj, dict) else None
    if kind == "FeatureCollection":
        features = obj.get("features")
        for i, feature in enumerate(features if isinstance(features, (list, tuple)) else []):
            found = scan(feature.get("geometry") if isinstance(feature, dict) else None, f"feature {i}, ")
            if found:
                return found
        return None
    if kind == "Feature":
        return scan(obj.get("geometry"), "")
    return scan(obj, "") if isinstance(obj, dict) else None


# What `polygons=` accepts: `Zones`, or anything `Zones.from_geojson` reads.
ZonesLike = Union[Zones, GeoJSONSource]
