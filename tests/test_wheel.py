"""The release wheel of `make wheel`, installed into a fresh virtualenv with no Rust toolchain on
PATH: `polars-zones demo` and a `polars-zones tag` of a small file run from it.

It builds nothing: `make test` makes the wheel first (`test-python` depends on `wheel`); run alone
without a wheel in dist/, it is skipped. It needs PyPI (or pip's cache) for the wheel's
dependencies. It prints the wheel's size and the time from `pip install` to the tagged file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from polars_zones.synthetic import ship_positions

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def newest_wheel() -> Path:
    wheels = sorted((ROOT / "dist").glob("polars_zones-*.whl"), key=lambda p: p.stat().st_mtime)
    if not wheels:
        pytest.skip("no wheel in dist/: run `make wheel` first (`make test` does)")
    return wheels[-1]


def without_rust(path: str) -> str:
    """PATH less every directory holding cargo or rustc."""
    return os.pathsep.join(
        d
        for d in path.split(os.pathsep)
        if d and not any(os.path.exists(os.path.join(d, tool)) for tool in ("cargo", "rustc"))
    )


def test_the_wheel_installs_and_runs_without_a_rust_toolchain(tmp_path, bundled_zones):
    wheel = newest_wheel()
    assert "abi3" in wheel.name and "manylinux" in wheel.name, wheel.name
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV", "CARGO_HOME", "RUSTUP_HOME", "CARGO_TARGET_DIR")
    }
    env["PATH"] = str(venv / "bin") + os.pathsep + without_rust(os.environ.get("PATH", ""))
    env["COLUMNS"] = "200"
    assert shutil.which("cargo", path=env["PATH"]) is None and shutil.which("rustc", path=env["PATH"]) is None

    def run(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run(args, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900)
        assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}\n{done.stderr[-4000:]}"
        return done

    points = ship_positions(5_000, bundled_zones, seed=3).select("lat", "lon").with_row_index("MMSI")
    points.rename({"lat": "LAT", "lon": "LON"}).write_csv(tmp_path / "ais.csv")

    start = time.perf_counter()
    run(str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel))
    installed = time.perf_counter()
    located = run(
        str(venv / "bin" / "python"),
        "-c",
        "import polars_zones, polars_zones.datasets as d; print(polars_zones.__file__); "
        "print(d.maritime_zones_path()); print(polars_zones.__version__)",
    )
    module, zones_path, version = located.stdout.split()
    assert Path(module).is_relative_to(venv), module  # the wheel's package, not this checkout's
    assert version == wheel.name.split("-")[1], (version, wheel.name)  # Cargo.toml's version, single-sourced
    for typing_file in ("py.typed", "_internal.pyi"):  # the package's types travel with it
        assert (Path(module).parent / typing_file).is_file(), typing_file
    run("polars-zones", "tag", "ais.csv", "--zones", zones_path, "--id-property", "A3", "-o", "tagged.parquet", "-q")
    tagged = time.perf_counter()

    got = pl.read_parquet(tmp_path / "tagged.parquet")
    expected = points.select(pl.col("lat").zones.tag("lon", polygons=bundled_zones).cast(pl.String))["lat"]
    assert got["zone"].cast(pl.String).to_list() == expected.to_list()

    demo = run("polars-zones", "demo", "--points", "100000")
    assert "100,000 rows" in demo.stdout and "in no zone" in demo.stdout
    assert "map: skipped, it needs matplotlib" in demo.stdout  # the wheel alone has no matplotlib

    print(
        f"\nwheel {wheel.name}: {wheel.stat().st_size / 2**20:.1f} MiB; pip install {installed - start:.1f} s, "
        f"pip install to tagged file {tagged - start:.1f} s"
    )
