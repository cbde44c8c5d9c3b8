"""Zone tagging on Ray Data: the same plugin, spread over the processes of a Ray cluster.

    import ray, polars_zones as pz
    from polars_zones.ray import tag_dataset

    ds = ray.data.read_parquet("s3://bucket/positions/")
    tagged = tag_dataset(ds, pz.Zones.load("zones.pzi"), out="zone")
    tagged.write_parquet("s3://bucket/tagged/")

Each batch arrives as a pyarrow Table, which Polars reads without copying; the zone column is
added by the compiled plugin and the batch goes back as Arrow. The work runs in a pool of
actors (one per CPU by default), and the index travels once: `ray.put` stores its serialized
bytes in the object store, every actor receives that one object when it starts and decodes it
once, so nothing index-sized is pickled per batch.
"""

from __future__ import annotations

import os
from typing import Any

import polars as pl

from polars_zones._zones import Zones, check_boundary

try:
    import ray
    import ray.data
except ImportError:  # pragma: no cover - exercised by a test that hides ray
    ray = None

HOW = ("tag", "within")


def _require_ray() -> None:
    if ray is None:
        raise ImportError("polars_zones.ray needs Ray Data: pip install 'polars-zones[ray]'")


class ZoneTagger:
    """The per-actor callable: decodes the index once, then tags pyarrow batches."""

    def __init__(self, index: Any, lat: str, lon: str, out: str, boundary: str, how: str, worker_info: bool) -> None:
        import polars_zones  # noqa: F401  (registers the namespace in the worker)

        # `index` is the ObjectRef of the serialized index: fetched from the object store once
        # per actor (Ray Data hands constructor arguments over as they are).
        data = ray.get(index) if isinstance(index, ray.ObjectRef) else index
        self.zones = Zones.from_bytes(data)
        self.lat, self.lon, self.out, self.boundary, self.how = lat, lon, out, boundary, how
        self.worker_info = worker_info

    def __call__(self, batch: Any) -> Any:
        import polars_zones

        df = pl.from_arrow(batch)
        if not isinstance(df, pl.DataFrame):  # a table with no columns
            df = pl.DataFrame(df)
        zone = pl.col(self.lat).zones  # type: ignore[attr-defined]
        if self.how == "tag":
            # Arrow consumers expect plain strings; a Polars Enum would travel as a dictionary
            # column that every block would encode differently.
            tag = zone.tag(self.lon, polygons=self.zones, boundary=self.boundary)
            if self.zones.ids is not None:
                tag = tag.cast(pl.String)
            df = df.with_columns(tag.alias(self.out))
        else:
            df = df.filter(zone.within(self.lon, polygons=self.zones, boundary=self.boundary))
        if self.worker_info:
            df = df.with_columns(
                _pz_worker_pid=pl.lit(os.getpid(), pl.Int64),
                _pz_index_decodes=pl.lit(polars_zones.index_decode_count(), pl.Int64),
            )
        return df.to_arrow(compat_level=pl.CompatLevel.oldest())


def tag_dataset(
    dataset: Any,
    zones: Zones,
    *,
    lat: str = "lat",
    lon: str = "lon",
    out: str = "zone",
    boundary: str = "half-open",
    how: str = "tag",
    concurrency: int | None = None,
    num_cpus: float = 0.5,
    batch_size: int | None = 262_144,
    worker_info: bool = False,
) -> Any:
    """A Ray Dataset with a zone column added (`how="tag"`: zone names as strings, or zone
    indexes when unnamed; null where in no zone or invalid), or only the rows inside some zone
    (`how="within"`). Lazy, like every Ray Dataset transformation.

    `concurrency` is the actor pool size (default: one actor per CPU of the cluster) and
    `num_cpus` the CPUs each actor reserves: half a CPU by default, so that a pool of one actor
    per CPU leaves room for the tasks that read the input (with whole CPUs, a pool as large as
    the cluster starves the readers and the job waits forever). `batch_size` is the rows per
    batch. `worker_info=True` adds `_pz_worker_pid` and
    `_pz_index_decodes` (the decodes that worker process had done) to every row, for checking
    how the work was spread.
    """
    _require_ray()
    if not isinstance(zones, Zones):
        raise TypeError(f"zones must be a polars_zones.Zones, not {type(zones).__name__}")
    if how not in HOW:
        raise ValueError(f"how must be one of {', '.join(map(repr, HOW))}, not {how!r}")
    check_boundary(boundary)
    if not ray.is_initialized():
        ray.init()
    if concurrency is None:
        concurrency = max(1, int(ray.cluster_resources().get("CPU", 1)))
    index = ray.put(zones.to_bytes())
    return dataset.map_batches(
        ZoneTagger,
        batch_format="pyarrow",
        zero_copy_batch=True,
        batch_size=batch_size,
        fn_constructor_kwargs={
            "index": index,
            "lat": lat,
            "lon": lon,
            "out": out,
            "boundary": boundary,
            "how": how,
            "worker_info": worker_info,
        },
        compute=ray.data.ActorPoolStrategy(size=concurrency),
        num_cpus=num_cpus,
    )


def tag_parquet_files(
    files: list[str],
    zones: Zones,
    output_dir: str,
    *,
    address: str | None = None,
    lat: str = "lat",
    lon: str = "lon",
    out: str = "zone",
    boundary: str = "half-open",
    block_bytes: int = 16 << 20,
    progress: bool = True,
) -> None:
    """Reads Parquet files, tags them on Ray and writes a folder of Parquet files: what
    `polars-zones tag --engine ray` runs. Connects to the cluster at `address`, or starts a
    local one. Ray packs small files into one read task, which would leave one actor doing all
    the work; `block_bytes` caps the bytes per read task (Ray's `target_max_block_size`)."""
    _require_ray()
    if not ray.is_initialized():
        ray.init(address=address, log_to_driver=progress, include_dashboard=False)
    context = ray.data.DataContext.get_current()
    context.target_max_block_size = block_bytes
    context.enable_progress_bars = progress
    dataset = ray.data.read_parquet(files)
    tag_dataset(dataset, zones, lat=lat, lon=lon, out=out, boundary=boundary).write_parquet(output_dir)
