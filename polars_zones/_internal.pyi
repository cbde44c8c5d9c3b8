"""Types of the compiled module (src/lib.rs, src/python.rs, src/warn.rs)."""

from typing import TypedDict, final

import numpy as np
import numpy.typing as npt
import polars as pl

from polars_zones._types import Boundary

INDEX_MAGIC: bytes

class ZonesWarning(UserWarning):
    """Input was repaired rather than refused (for example, degenerate rings dropped), or looks wrong."""

class IngestReport(TypedDict):
    """What ingestion repaired or dropped (`ZoneIndex.from_geojson`, `ZoneIndex.from_wkb`)."""

    degenerate_rings: int
    antimeridian_polygons: int
    null_geometries: int
    # Per zone, its first feature's properties as JSON text, or None.
    properties: list[str | None]

# One problem `validate_geojson` finds: element, feature, polygon, ring, vertex (where; None
# when not applicable), kind, lon, lat, detail.
ProblemRow = tuple[int | None, int | None, int, int | None, int | None, str, float, float, str]

@final
class ZoneIndex:
    """A built zone index. Immutable, so it is shared freely between threads."""

    @property
    def build_seconds(self) -> float: ...
    @staticmethod
    def validate_geojson(
        texts: list[str], each_is_zone: bool, id_property: str | None = None, planar: bool = False
    ) -> list[ProblemRow]: ...
    @staticmethod
    def from_geojson(
        texts: list[str],
        each_is_zone: bool,
        id_property: str | None = None,
        leaf_max_edges: int | None = None,
        edges_per_top_cell: int | None = None,
        planar: bool = False,
    ) -> tuple[ZoneIndex, IngestReport]: ...
    @staticmethod
    def from_wkb(
        rows: list[bytes | None], ids: list[str] | None = None, planar: bool = False
    ) -> tuple[ZoneIndex, IngestReport]: ...
    @staticmethod
    def from_bytes(data: bytes) -> ZoneIndex: ...
    def with_properties(self, properties: bytes | None = None) -> ZoneIndex: ...
    @property
    def properties(self) -> bytes | None: ...
    def to_bytes(self) -> bytes: ...
    def plan_bytes(self) -> bytes: ...
    def plan_series(self) -> pl.Series: ...
    @property
    def fingerprint(self) -> str: ...
    @property
    def ids(self) -> list[str] | None: ...
    @property
    def zone_count(self) -> int: ...
    @property
    def num_vertices(self) -> int: ...
    @property
    def num_polygons(self) -> int: ...
    @property
    def bounds(self) -> tuple[float, float, float, float] | None: ...
    @property
    def heap_bytes(self) -> int: ...
    def stats(self) -> list[tuple[str, int]]: ...
    def rings(
        self,
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.uint32], npt.NDArray[np.uint32]]: ...
    def tag_numpy(
        self, lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64], boundary: Boundary = "half-open"
    ) -> npt.NDArray[np.int32]: ...
    def nearest_numpy(
        self,
        lat: npt.NDArray[np.float64],
        lon: npt.NDArray[np.float64],
        boundary: Boundary = "half-open",
        max_distance: float | None = None,
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int32]]: ...
    # Built only with the cargo feature `testing` (`make build`), not in release wheels.
    def reference_tag_numpy(
        self, lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64], boundary: Boundary = "half-open"
    ) -> npt.NDArray[np.int32]: ...
    # Also `testing` only: the kernel in sorted blocks of `block` points, whatever the default.
    def tag_numpy_in_blocks(
        self, lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64], block: int
    ) -> npt.NDArray[np.int32]: ...
    # Also `testing` only: a copy with or without leaf records, whatever its size.
    def with_leaf_records(self, records: bool) -> ZoneIndex: ...
    def __reduce__(self) -> tuple[object, tuple[bytes]]: ...

def index_decode_count() -> int:
    """How many times this process decoded an index from bytes (the cache's misses)."""

def index_lookup_count() -> int:
    """How many times the plugin looked an index up: once per batch of every call."""

def points_seen() -> int:
    """How many points the expressions were handed in this process (for progress reporting)."""

def set_cache_capacity(capacity: int) -> None:
    """Sets how many decoded indexes the process keeps (least recently used go first; indexes
    used in the last 30 seconds stay whatever the capacity)."""

def cache_capacity() -> int: ...
def clear_cache() -> None: ...
def zone_name_of_json(text: str) -> str: ...
