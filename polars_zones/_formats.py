"""Zones from files and from WKB: what `Zones.from_file` and `Zones.from_wkb` read, before the
compiled module parses the WKB.

- GeoParquet through pyarrow (its `geo` metadata names the geometry column, its encoding and
  CRS); Shapefile, GeoPackage, FlatGeobuf and anything else GDAL reads through pyogrio
  (`pip install "polars-zones[io]"`). GeoJSON goes to `Zones.from_geojson` unless a layer or a
  filter asks for pyogrio.
- WKB from bytes, lists, numpy object arrays, polars Binary Series and Arrow binary arrays
  (GeoArrow WKB extension arrays and objects with the Arrow PyCapsule interface included).
- The CRS: longitude/latitude on WGS84 is taken as is; any other is reprojected to it with
  pyproj and shapely when they are installed, and refused, saying how to fix it, when not.
"""

from __future__ import annotations

import decimal
import json
import math
import re
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import polars as pl

from polars_zones._internal import ZonesWarning, zone_name_of_json

GEOJSON_SUFFIXES = (".geojson", ".json")
PARQUET_SUFFIXES = (".parquet", ".geoparquet", ".pq")
INSTALL_IO = "pip install 'polars-zones[io]'"

# Names of longitude/latitude on WGS84 recognized without pyproj (GeoParquet and GeoArrow say
# that coordinates are always x = longitude, y = latitude, whatever the CRS's axis order).
LONLAT_NAMES = {
    "EPSG:4326",
    "OGC:CRS84",
    "CRS84",
    "URN:OGC:DEF:CRS:OGC:1.3:CRS84",
    "URN:OGC:DEF:CRS:EPSG::4326",
    "WGS84",
}
# The CRS GeoParquet means when a geometry column's metadata has no "crs" key.
GEOPARQUET_DEFAULT_CRS = "OGC:CRS84"
UNKNOWN = object()  # a file that names no CRS


@dataclass
class Features:
    """One row per feature read from a file: its WKB, its attributes, its CRS."""

    wkb: list[bytes | None]
    attributes: pl.DataFrame
    crs: Any  # a string, a PROJJSON dict, None (longitude/latitude), or UNKNOWN
    source: str


# ---- files -------------------------------------------------------------------------------


def read_features(path: Path, layer: str | None, where: str | None) -> Features:
    if not path.exists():
        raise FileNotFoundError(f"no such zones file: {str(path)!r}")
    if path.suffix.lower() in PARQUET_SUFFIXES:
        if layer is not None:
            raise ValueError(f"{str(path)!r}: a GeoParquet file has no layers (layer={layer!r})")
        return read_geoparquet(path, where)
    return read_ogr(path, layer, where)


def read_geoparquet(path: Path, where: str | None) -> Features:
    """GeoParquet through pyarrow: the primary geometry column of the `geo` metadata (WKB
    encoding), else a GeoArrow WKB column; `where` is a polars SQL condition."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError(f"reading GeoParquet needs pyarrow: {INSTALL_IO}") from None
    source = repr(str(path))
    try:
        table = pq.read_table(path)
    except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
        raise ValueError(f"{source}: cannot read it as Parquet: {error}") from None
    metadata = table.schema.metadata or {}
    skip: list[str] = [n for n in table.column_names if n.startswith("__index_level_")]
    if b"geo" in metadata:
        geo = _geo_metadata(metadata[b"geo"], source)
        column = geo.get("primary_column")
        if not isinstance(column, str):
            raise ValueError(f"{source}: its GeoParquet metadata names no primary geometry column")
        info = _object(geo.get("columns", {}), source, "'columns'").get(column)
        if info is not None:
            info = _object(info, source, f"column {column!r}")
        if info is None or column not in table.column_names:
            raise ValueError(
                f"{source}: its GeoParquet metadata names geometry column {column!r}, which it does not have"
            )
        encoding = str(info.get("encoding", "WKB"))
        if encoding.upper() != "WKB":
            raise ValueError(
                f"{source}: geometry column {column!r} has encoding {encoding!r}; only WKB is read "
                "(geopandas: to_parquet(..., geometry_encoding='WKB'))"
            )
        check_planar_edges(info.get("edges"), f"{source}, geometry column {column!r}")
        crs = info["crs"] if "crs" in info else GEOPARQUET_DEFAULT_CRS
        crs = UNKNOWN if crs is None else crs
        skip += [c for c in geo.get("columns", {}) if c != column]
        # GeoParquet 1.1: {"xmin": ["bbox", "xmin"], ...}
        covering = _object(_object(info.get("covering", {}), source, "'covering'").get("bbox", {}), source, "'bbox'")
        skip += [path[0] for path in covering.values() if isinstance(path, list) and path]
    else:
        wkb_columns = [f.name for f in table.schema if geoarrow_wkb(f)]
        if len(wkb_columns) != 1:
            shown = ", ".join(f"{f.name} ({f.type})" for f in table.schema)
            raise ValueError(
                f"{source}: no geometry column: it has no GeoParquet 'geo' metadata and "
                f"{'no' if not wkb_columns else 'more than one'} GeoArrow WKB column (columns: {shown}); "
                "for a plain column of WKB, use Zones.from_wkb(pl.read_parquet(path)[column])"
            )
        column = wkb_columns[0]
        crs = arrow_crs(table.schema.field(column), f"{source}, geometry column {column!r}")
    stored = table.schema.field(column).type
    stored = getattr(stored, "storage_type", stored)  # GeoArrow's extension type: its binary storage
    if not (pa.types.is_binary(stored) or pa.types.is_large_binary(stored) or pa.types.is_binary_view(stored)):
        raise ValueError(f"{source}: geometry column {column!r} holds {stored}, not WKB (binary)")
    frame = cast(
        pl.DataFrame, pl.from_arrow(table.drop_columns([c for c in dict.fromkeys(skip) if c in table.column_names]))
    )
    if where is not None:
        try:
            frame = pl.SQLContext(zones=frame).execute(f"SELECT * FROM zones WHERE {where}", eager=True)
        except (pl.exceptions.PolarsError, ValueError) as error:
            raise ValueError(f"{source}: where={where!r}: {error}") from None
    return Features(frame[column].to_list(), frame.drop(column), crs, source)


def _geo_metadata(raw: bytes, source: str) -> dict[str, Any]:
    """A GeoParquet file's `geo` metadata, which must be a JSON object."""
    try:
        geo = json.loads(raw)
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError
        raise ValueError(f"{source}: its GeoParquet 'geo' metadata is not JSON: {error}") from None
    return _object(geo, source, "'geo'")


def _object(value: Any, source: str, what: str) -> dict[str, Any]:
    """`value`, an object of a file's GeoParquet metadata, if it is one (null reads as empty)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean"}.get(type(value), "a number")
        raise ValueError(f"{source}: GeoParquet metadata: {what} is {kind}, not an object")
    return value


def read_ogr(path: Path, layer: str | None, where: str | None) -> Features:
    """Any vector format GDAL reads, through pyogrio's Arrow reader (no geopandas)."""
    suffix = path.suffix or "files"
    try:
        import pyogrio
        from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError
    except ImportError:
        raise ImportError(f"reading {suffix} zones needs pyogrio: {INSTALL_IO}") from None
    source = repr(str(path))
    try:
        if layer is not None:
            layers = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
            if layer not in layers:
                raise ValueError(f"{source} has no layer {layer!r}; its layers: {', '.join(layers)}")
        # GDAL's Arrow reader writes a FlatGeobuf's null or empty geometries wrongly: with
        # broken offsets (on which Polars, or GDAL itself under `where`, read out of bounds
        # and the process died) or as empty WKB. Its row reader reads them right, so a
        # FlatGeobuf's geometries come from it, and only its attributes through Arrow.
        driver = pyogrio.read_info(path, layer=layer).get("driver")
        if driver == "ESRI Shapefile":
            check_shapefile_lengths(path, source)
        rows_reader = driver == "FlatGeobuf"
        meta, table = pyogrio.read_arrow(path, layer=layer, where=where, read_geometry=not rows_reader)
        if rows_reader:
            meta, _, geometries, _ = pyogrio.raw.read(path, layer=layer, where=where)
    except (DataLayerError, DataSourceError, FieldError, GeometryError, OSError) as error:  # OSError: from Arrow
        detail = f" (where={where!r})" if where is not None and "where" not in str(error).lower() else ""
        raise ValueError(f"{source}: {error}{detail}") from None
    except IndexError:  # pyogrio, for a source GDAL opens with no layer in it (an empty .shp)
        raise ValueError(f"{source}: no layer to read (an empty or damaged file?)") from None
    no_geometry = ValueError(f"{source}{f', layer {layer!r},' if layer else ''} has no geometry column")
    if meta.get("geometry_type") is None:
        raise no_geometry
    crs = meta.get("crs") or UNKNOWN
    try:
        table.validate(full=True)  # before anything reads it
    except ValueError as error:  # pyarrow.ArrowInvalid
        raise ValueError(f"{source}: GDAL returned an invalid column: {error}") from None
    if rows_reader:
        rows = [None if g is None or len(g) == 0 else bytes(g) for g in geometries]
        if len(rows) != table.num_rows:
            raise ValueError(f"{source}: GDAL's readers disagree on the number of features")
        properties = table
    else:
        columns = [f.name for f in table.schema if geoarrow_wkb(f)]
        if not columns:
            raise no_geometry
        properties = table.drop_columns([columns[0]])
        rows = table.column(columns[0]).to_pylist()
    return Features(rows, cast(pl.DataFrame, pl.from_arrow(properties)), crs, source)


def check_shapefile_lengths(path: Path, source: str) -> None:
    """Refuses a Shapefile whose .shp or .shx is shorter than its header says: GDAL reads the
    features past the end as null geometries without a word, so zones would go missing."""
    for part in (path.with_suffix(".shp"), path.with_suffix(".shx")) if path.is_file() else ():
        if not part.is_file():
            part = part.with_suffix(part.suffix.upper())
        try:
            with part.open("rb") as file:
                header = file.read(28)
        except OSError:
            continue  # GDAL has said what it could not open, if it needed it
        # The file code 9994 and the file's length in 16-bit words, both big-endian.
        if len(header) == 28 and int.from_bytes(header[:4], "big") == 9994:
            declared, actual = 2 * int.from_bytes(header[24:28], "big"), part.stat().st_size
            if actual < declared:
                raise ValueError(
                    f"{source}: {part.name} is truncated: its header says {declared:,} bytes, the file has "
                    f"{actual:,} (GDAL would read the features past its end as null geometries)"
                )


def geoarrow_wkb(field: Any) -> bool:
    """A GeoArrow WKB column: an extension type named geoarrow.wkb, registered or not."""
    name = getattr(field.type, "extension_name", None)
    if name is None and field.metadata:
        name = field.metadata.get(b"ARROW:extension:name", b"").decode()
    return name == "geoarrow.wkb"


def arrow_crs(field: Any, source: str = "the geometries") -> Any:
    """The CRS of a GeoArrow WKB field (its extension metadata), None when it names none.
    Refuses a field whose metadata says its edges are not planar (`check_planar_edges`)."""
    raw = None
    serialized = getattr(field.type, "__arrow_ext_serialize__", None)
    if serialized is not None:
        raw = serialized()
    elif field.metadata:
        raw = field.metadata.get(b"ARROW:extension:metadata")
    return _extension_crs(raw, source)


def _extension_crs(raw: str | bytes | None, source: str) -> Any:
    """The CRS named by GeoArrow extension metadata (JSON), its edges checked."""
    try:
        metadata = json.loads(raw) if raw else {}
    except ValueError:
        return None
    if not isinstance(metadata, dict):
        return None
    check_planar_edges(metadata.get("edges"), source)
    return metadata.get("crs") or None


def check_planar_edges(edges: Any, source: str) -> None:
    """Refuses geometries whose metadata (GeoParquet's or GeoArrow's "edges") says their edges
    are not straight lines in longitude/latitude: the index reads every edge as one, so a long
    spherical edge (a great circle) would be tagged along another line, silently."""
    if edges is None or (isinstance(edges, str) and edges.lower() == "planar"):
        return
    raise ValueError(
        f"{source}: its metadata says the edges are {edges!r}, not planar; polars-zones reads every "
        "edge as a straight line in longitude/latitude, which a long spherical edge is not: add "
        "vertices along the great circles first, and write the edges as planar"
    )


# ---- WKB -----------------------------------------------------------------------------------


def wkb_rows(geometries: Any) -> tuple[list[bytes | None], Any]:
    """`geometries` as one bytes (or None) per row, and the CRS its Arrow type names (or None)."""
    if isinstance(geometries, (bytes, bytearray, memoryview)):
        return [bytes(geometries)], None
    if isinstance(geometries, pl.Series):
        return series_rows(geometries)
    if isinstance(geometries, pl.DataFrame):
        raise TypeError("pass the geometry column (a Series), not the DataFrame")
    if (
        type(geometries).__module__.startswith("pyarrow")
        or hasattr(geometries, "__arrow_c_stream__")
        or hasattr(geometries, "__arrow_c_array__")
    ):
        return arrow_rows(geometries)
    if type(geometries).__module__ == "numpy":
        if getattr(geometries, "ndim", 1) != 1:
            raise ValueError("a numpy array of WKB must be one-dimensional")
        geometries = geometries.tolist()
    if not isinstance(geometries, (list, tuple)):
        raise TypeError(
            f"expected WKB bytes, a list or numpy array of them, a polars Binary Series or an Arrow binary "
            f"array, got {type(geometries).__name__}"
        )
    rows = []
    for i, value in enumerate(geometries):
        if value is None or isinstance(value, bytes):
            rows.append(value)
        elif isinstance(value, (bytearray, memoryview)):
            rows.append(bytes(value))
        else:
            hint = " (hex WKB text? bytes.fromhex(text))" if isinstance(value, str) else ""
            if hasattr(value, "__geo_interface__"):
                hint = " (a geometry object: use Zones.from_shapely)"
            raise TypeError(f"row {i}: expected WKB bytes or None, got {type(value).__name__}{hint}")
    return rows, None


def series_rows(series: pl.Series) -> tuple[list[bytes | None], Any]:
    """A polars Binary Series, or a GeoArrow WKB extension Series (polars reads GeoParquet's
    geometry as one; its metadata may name the CRS)."""
    dtype, crs = series.dtype, None
    extension = getattr(pl, "Extension", None)
    if extension is not None and isinstance(dtype, extension):
        if dtype.ext_name() != "geoarrow.wkb":
            raise TypeError(f"a polars Series of {dtype.ext_name()} is not WKB")
        crs = _extension_crs(dtype.ext_metadata(), f"the Series {series.name!r}")
        dtype = dtype.ext_storage()
    if dtype not in (pl.Binary, pl.Null):
        raise TypeError(f"a polars Series of WKB has dtype Binary, not {dtype}")
    return series.to_list(), crs


def arrow_rows(geometries: Any) -> tuple[list[bytes | None], Any]:
    try:
        import pyarrow as pa
    except ImportError:
        raise ImportError(f"reading Arrow arrays needs pyarrow: {INSTALL_IO}") from None
    if isinstance(geometries, (pa.Table, pa.RecordBatch)):
        raise TypeError("pass the geometry column of the table, not the table")
    if not isinstance(geometries, (pa.Array, pa.ChunkedArray)):
        geometries = pa.chunked_array(geometries) if hasattr(geometries, "__arrow_c_stream__") else pa.array(geometries)
    kind = geometries.type
    crs = None
    if isinstance(kind, pa.ExtensionType):
        if kind.extension_name != "geoarrow.wkb":
            raise TypeError(
                f"an Arrow array of {kind.extension_name} is not WKB (geoarrow: convert with geoarrow.pyarrow.as_wkb)"
            )
        crs = arrow_crs(pa.field("geometry", kind))
        chunks = geometries.chunks if isinstance(geometries, pa.ChunkedArray) else [geometries]
        geometries = pa.chunked_array([c.storage for c in chunks], type=kind.storage_type)
        kind = kind.storage_type
    if not (
        pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
        or pa.types.is_binary_view(kind)
        or pa.types.is_null(kind)
    ):
        raise TypeError(f"an Arrow array of WKB has a binary type, not {kind}")
    return geometries.to_pylist(), crs


def ewkb_srid(row: bytes) -> int | None:
    """The SRID in an EWKB header (PostGIS), or None (plain WKB, or too short to say)."""
    if len(row) < 9 or row[0] not in (0, 1):
        return None
    order = "<" if row[0] == 1 else ">"
    (kind,) = struct.unpack(order + "I", row[1:5])
    return struct.unpack(order + "I", row[5:9])[0] if kind & 0x2000_0000 else None


def srid_crs(rows: list[bytes | None]) -> str | None:
    """The CRS the EWKB rows name (SRID 0 names none), or None; rows naming different ones are refused."""
    srids = {s for s in (ewkb_srid(r) for r in rows if r is not None) if s}
    if len(srids) > 1:
        raise ValueError(f"the rows name several SRIDs ({', '.join(map(str, sorted(srids)))}); zones have one CRS")
    return f"EPSG:{srids.pop()}" if srids else None


def zone_name(value: Any) -> str:
    """The string form of an id, as `from_geojson` names zones: a whole number without a
    fraction, other numbers in positional notation (0.00001, not 1e-05), true/false in lower
    case. numpy scalars and Decimals are the numbers they hold."""
    value = _plain_scalar(value)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value):
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))  # -0.0 too: "0"
        # The shortest digits that read back as the value (as the GeoJSON reader writes
        # them): 1e+20 is 100000000000000000000, not 2^53's neighbours' exact digits.
        return format(decimal.Decimal(repr(value)).normalize(), "f")
    if isinstance(value, decimal.Decimal) and value.is_finite():
        return str(int(value)) if value == value.to_integral_value() else format(value.normalize(), "f")
    if isinstance(value, (dict, list, tuple)):
        try:
            text = json.dumps(value, allow_nan=False)
        except ValueError:
            raise ValueError(f"the id {value!r} holds NaN or infinity, which a zone name (JSON) cannot") from None
        except TypeError as error:
            raise ValueError(f"the id {value!r} is not JSON: {error}") from None
        return zone_name_of_json(text)  # as from_geojson names it
    return str(value)


def _plain_scalar(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (np.float32(1.0) is 1.0, np.True_ True)."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        return value.item()
    return value


def zone_names(values: list[Any], what: str) -> list[str]:
    """`zone_name` of each id; a missing one (None, NaN, pandas' NA or NaT) is an error."""
    plain = [_plain_scalar(v) for v in values]
    for i, value in enumerate(plain):
        missing = isinstance(value, (float, decimal.Decimal)) and math.isnan(value)
        if value is None or missing or type(value).__name__ in ("NAType", "NaTType"):
            raise ValueError(f"{what} {i}: the id is null")
    return [zone_name(v) for v in plain]


def plain_list(values: Any) -> list[Any]:
    """ids given as a list, a numpy array, a polars Series or an Arrow array (not a string,
    which would be its characters)."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"ids must be one id per geometry (a list, an array or a Series), not the string {values!r}")
    for method in ("to_list", "to_pylist", "tolist"):
        if hasattr(values, method):
            return list(getattr(values, method)())
    return list(values)


# ---- the CRS -------------------------------------------------------------------------------


def crs_label(crs: Any) -> str:
    """A short name for messages: AUTHORITY:CODE (and name) when known."""
    if isinstance(crs, dict):
        ident = crs.get("id") or {}
        code = f"{ident['authority']}:{ident['code']}" if "authority" in ident and "code" in ident else None
        name = crs.get("name")
        return " ".join(x for x in (code, name and f"({name})") if x) or "a PROJJSON CRS"
    text = str(crs)
    match = re.match(r"\s*[A-Z_]+\[\s*\"([^\"]*)\"", text)
    return f"{match.group(1)!r} (WKT)" if match else text


def same_crs(a: Any, b: Any) -> bool:
    """Whether two CRSs (strings such as "EPSG:3857", PROJJSON dicts, WKT) are the same:
    both longitude/latitude on WGS84, the same authority code, or equal to pyproj (axis order
    aside) when it is installed."""
    if is_lonlat(a) and is_lonlat(b):
        return True
    codes = [crs_label(crs).split(" ")[0].upper() for crs in (a, b)]
    if codes[0] == codes[1] and ":" in codes[0]:
        return True
    try:
        import pyproj
    except ImportError:
        return False
    try:
        return bool(pyproj.CRS.from_user_input(a).equals(pyproj.CRS.from_user_input(b), ignore_axis_order=True))
    except pyproj.exceptions.CRSError:
        return False


def is_lonlat(crs: Any) -> bool:
    """Longitude/latitude on WGS84, recognized without pyproj."""
    if crs is None:
        return True
    if isinstance(crs, dict):
        ident = crs.get("id") or {}
        return f"{ident.get('authority')}:{ident.get('code')}".upper() in LONLAT_NAMES
    return isinstance(crs, str) and crs.strip().upper() in LONLAT_NAMES


def lonlat_rows(rows: list[bytes | None], crs: Any, source: str) -> list[bytes | None]:
    """The rows in longitude/latitude on WGS84: as they are when they already are (or when the
    source names no CRS: then they are taken as such, with a warning), else reprojected with
    pyproj (and shapely), else refused."""
    if crs is UNKNOWN:
        warnings.warn(
            f"{source} names no CRS: coordinates are taken as longitude/latitude on WGS84", ZonesWarning, stacklevel=4
        )
        return rows
    if is_lonlat(crs):
        return rows
    try:
        import pyproj
        import shapely  # noqa: F401  (reproject needs it: refuse here, with the message below)
    except ImportError:
        raise ValueError(
            f"{source} is in CRS {crs_label(crs)}, not longitude/latitude on WGS84 (EPSG:4326 / OGC:CRS84): "
            f"install pyproj and shapely ({INSTALL_IO}) to reproject it on reading, or reproject it first "
            "(ogr2ogr -t_srs EPSG:4326 out.gpkg in.shp; geopandas: frame.to_crs(4326))"
        ) from None
    try:
        found = pyproj.CRS.from_json_dict(crs) if isinstance(crs, dict) else pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as error:
        raise ValueError(f"{source}: cannot read its CRS {crs_label(crs)}: {error}") from None
    if found.equals("OGC:CRS84", ignore_axis_order=True):
        return rows
    return reproject(rows, found, source)


def reproject(rows: list[bytes | None], crs: Any, source: str) -> list[bytes | None]:
    import numpy as np
    import pyproj
    import shapely

    transformer = pyproj.Transformer.from_crs(crs, "OGC:CRS84", always_xy=True)

    def to_lonlat(xy: np.ndarray) -> np.ndarray:
        lon, lat = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    geometries = np.empty(len(rows), dtype=object)
    for i, row in enumerate(rows):  # shapely's error does not say which row
        try:
            geometries[i] = None if row is None else shapely.from_wkb(row)
        except shapely.errors.ShapelyError as error:
            raise ValueError(f"row {i}: invalid WKB: {error}") from None
    moved = shapely.transform(geometries, to_lonlat)
    return [None if g is None else bytes(g) for g in shapely.to_wkb(moved)]
