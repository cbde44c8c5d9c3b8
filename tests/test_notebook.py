"""What a notebook user sees: the example notebook runs, `Zones` renders, `plot` draws."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import nbformat
import numpy as np
import polars as pl
import pytest
from nbclient import NotebookClient

import polars_zones as pz

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def points(bundled_zones) -> pl.DataFrame:
    from polars_zones.synthetic import ship_positions

    return ship_positions(5_000, bundled_zones, seed=5).select("lat", "lon")


@pytest.mark.slow
@pytest.mark.parametrize("notebook", sorted(EXAMPLES.glob("*.ipynb")), ids=lambda p: p.name)
def test_example_notebook_runs(notebook, tmp_path):
    nb = nbformat.read(notebook, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # The Zones repr, the summary frame and the figure all rendered.
    html = [o["data"]["text/html"] for o in outputs if "data" in o and "text/html" in o["data"]]
    assert any("polars_zones.Zones" in h for h in html)
    assert any(o.get("data", {}).get("image/png") for o in outputs)


def test_repr_and_html(bundled_zones):
    text = repr(bundled_zones)
    assert text.startswith("Zones(250 zones, ") and bundled_zones.fingerprint[:12] in text
    html = bundled_zones._repr_html_()
    for part in ("250", f"{bundled_zones.num_vertices:,}", bundled_zones.fingerprint, "MB", "CPV"):
        assert part in html
    unnamed = pz.Zones.from_geojson({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]})
    assert "unnamed" in unnamed._repr_html_()
    assert (
        "<script"
        not in pz.Zones.from_geojson(
            {"type": "Feature", "properties": {"id": "<script>"}, "geometry": unnamed_polygon()}, id_property="id"
        )._repr_html_()
    )


def unnamed_polygon() -> dict:
    return {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}


def test_plot_draws_zones_and_points(bundled_zones, points):
    tagged = points.head(5_000).with_columns(zone=pl.col("lat").zones.tag("lon", polygons=bundled_zones))
    ax = bundled_zones.plot(points=tagged)
    assert ax.collections, "no zone outlines"
    outlines = ax.collections[0]
    assert len(outlines.get_segments()) == len(bundled_zones._index.rings()[2]) - 1
    scattered = sum(len(c.get_offsets()) for c in ax.collections[1:])
    assert scattered == tagged.height
    # Points in no zone are drawn grey; points in zones are not.
    grey = ax.collections[1].get_facecolors()
    assert len(ax.collections[1].get_offsets()) == tagged["zone"].null_count()
    assert np.allclose(grey[:, 0], grey[:, 1]) and np.allclose(grey[:, 1], grey[:, 2])
    plt.close("all")


def test_plot_takes_pandas_and_an_axes(bundled_zones, points):
    tagged = points.head(1_000).with_columns(zone=pl.col("lat").zones.tag("lon", polygons=bundled_zones))
    fig, ax = plt.subplots()
    assert bundled_zones.plot(ax, points=tagged.to_pandas(), max_points=500) is ax
    assert sum(len(c.get_offsets()) for c in ax.collections[1:]) == 500
    with pytest.raises(ValueError, match="missing: zone"):
        bundled_zones.plot(ax, points=points.head(10))
    plt.close("all")


def test_plot_takes_a_lazy_frame(bundled_zones, points):
    lazy = points.head(1_000).lazy().with_columns(zone=pl.col("lat").zones.tag("lon", polygons=bundled_zones))
    ax = bundled_zones.plot(points=lazy)
    assert sum(len(c.get_offsets()) for c in ax.collections[1:]) == 1_000
    assert len(ax.collections[1].get_offsets()) == lazy.collect()["zone"].null_count()
    with pytest.raises(ValueError, match="missing: zone"):
        bundled_zones.plot(points=points.head(10).lazy())
    plt.close("all")
