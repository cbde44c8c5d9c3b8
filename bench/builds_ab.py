"""Two builds of the extension side by side in one process: for judging a change to the kernel.

    cp polars_zones/_internal.abi3.so /tmp/old.so      # before the change
    make build && cp polars_zones/_internal.abi3.so /tmp/new.so
    python bench/builds_ab.py /tmp/old.so /tmp/new.so  # --threads 1, --rounds N

On this shared machine, runs of one build in separate processes minutes apart differ by more
than most changes to the kernel do (see the README's "Read the absolute times"). So this loads
both builds into one process, each from its own copy of the file (so each has its own code,
caches and thread pool), decodes the saved 10 m and simplified indexes of bench/run.py with
each, and times each build's `tag_numpy` on the 8M AIS-like points of bench/run.py with the
rounds interleaved (`interleaved.py`): the machine's drift falls on both alike. It prints the
medians of wall and CPU time, their ratio, and checks that both builds give the same answers.
Not part of `make bench`: it needs a second build, made by hand.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
import tempfile
from functools import partial
from pathlib import Path
from types import ModuleType

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))

from interleaved import interleaved_medians  # noqa: E402

import polars_zones as pz  # noqa: E402

from run import OUT, points_file, zone_set  # noqa: E402


def load_build(path: Path, copy_dir: Path, label: str) -> ModuleType:
    """The extension at `path`, loaded as a module of its own from a copy of the file."""
    copy = copy_dir / label / "_internal.abi3.so"
    copy.parent.mkdir()
    shutil.copy(path, copy)
    spec = importlib.util.spec_from_file_location("polars_zones._internal", copy)
    if spec is None or spec.loader is None:
        raise SystemExit(f"{path}: not a loadable extension")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Each build has its own thread pool, whose threads spin for a while after their work, on the
# same cores as the other build's run: each run starts after a pause, untimed, for them to sleep.
PAUSE_SECONDS = 0.2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="the build before the change")
    parser.add_argument("new", type=Path, help="the build after it")
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--threads", type=int, default=None, help="rayon threads (default: all cores)")
    args = parser.parse_args()
    if args.threads is not None:
        os.environ["RAYON_NUM_THREADS"] = str(args.threads)  # read when each build's pool starts

    points = pl.read_parquet(points_file(8_000_000))
    lat, lon = points["lat"].to_numpy(), points["lon"].to_numpy()
    print(f"{len(lat):,} AIS-like points, {args.rounds} rounds interleaved, threads: {args.threads or 'all'}")
    print("| zones | build | wall s (median) | CPU s (median) | new / old (wall) |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        builds = {label: load_build(path, Path(tmp), label) for label, path in (("old", args.old), ("new", args.new))}
        for name in ("10m", "simplified"):
            saved = OUT / f"zones-{name}.pzi"
            if not saved.exists():
                pz.Zones.from_geojson(zone_set(name), id_property="A3").save(saved)
            data = saved.read_bytes()
            indexes = {label: build.ZoneIndex.from_bytes(data) for label, build in builds.items()}
            answers = {label: index.tag_numpy(lat, lon, "half-open") for label, index in indexes.items()}
            if not np.array_equal(answers["old"], answers["new"]):
                raise SystemExit(f"{name}: the two builds give different answers")
            runs = {label: partial(index.tag_numpy, lat, lon, "half-open") for label, index in indexes.items()}
            medians = interleaved_medians(runs, args.rounds, PAUSE_SECONDS)
            for label, (wall, cpu) in medians.items():
                ratio = f"{wall / medians['old'][0]:.3f}" if label == "new" else ""
                print(f"| {name} | {label} | {wall:.3f} | {cpu:.2f} | {ratio} |", flush=True)


if __name__ == "__main__":
    main()
