//! The Python class behind `polars_zones.Zones`: building, saving and querying an index
//! from Python. The Polars expressions go through `expressions` instead.

use std::sync::{Arc, OnceLock};

use numpy::{PyArray1, PyReadonlyArray1};
use polars::prelude::{IntoSeries, NamedFrom, Series};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use pyo3_polars::PySeries;

use crate::boundary::Boundary;
use crate::build::{build_with, try_build, BuildOptions, TooLarge};
use crate::coords::{looks_swapped, to_degrees};
use crate::geometry::ZoneGeometry;
use crate::index::ZoneIndex;
use crate::ingest::{validate_geojson, zones_from_geojson_with, zones_from_wkb, Grouping, IngestReport};
use crate::nearest::Nearest;
use crate::query::{nearest_slices, tag_vec, NO_ZONE};
use crate::serialize;
use crate::source::Antimeridian;
use crate::sphere::max_chord2;
use crate::store;

/// A built zone index. Immutable, so it is shared freely between threads.
#[pyclass(name = "ZoneIndex", module = "polars_zones._internal", frozen)]
pub struct PyZoneIndex {
    index: Arc<ZoneIndex>,
    fingerprint: [u8; 16],
    /// `to_bytes`, made once.
    bytes: OnceLock<Py<PyBytes>>,
    /// The bytes a Polars plan carries when they are not `bytes`: those it was decoded from.
    plan_bytes: OnceLock<Py<PyBytes>>,
    /// Seconds `build` took (parsing excluded); 0 when decoded from bytes.
    #[pyo3(get)]
    build_seconds: f64,
    /// The zones' attribute table as the Python package wrote it (Arrow IPC), saved with the
    /// index but not part of its fingerprint.
    properties: Option<Py<PyBytes>>,
}

impl PyZoneIndex {
    fn new(index: Arc<ZoneIndex>, fingerprint: [u8; 16], build_seconds: f64) -> Self {
        let (bytes, plan_bytes) = (OnceLock::new(), OnceLock::new());
        PyZoneIndex { index, fingerprint, bytes, plan_bytes, build_seconds, properties: None }
    }

    /// Builds the index of ingested zones (with explicit leaf options for benchmarks) and
    /// registers it in the process cache. A ValueError where the index would not fit in memory
    /// (`build_memory_limit`).
    fn build(geometry: ZoneGeometry, leaf_max_edges: Option<usize>, edges_per_top_cell: Option<i64>) -> PyResult<Self> {
        let fingerprint = serialize::fingerprint(&geometry);
        let started = std::time::Instant::now();
        let index = if leaf_max_edges.is_none() && edges_per_top_cell.is_none() {
            let (limit, why) = build_memory_limit().map_err(PyValueError::new_err)?;
            try_build(geometry, limit).map_err(|TooLarge| {
                PyValueError::new_err(format!(
                    "the zone index would need more memory than {why}: its build stopped at {:.0} MB of index words. \
                     Such an index comes from edges that are long and packed close together (the index copies an edge \
                     into every cell it crosses): simplify or split those edges",
                    limit as f64 / 1e6
                ))
            })?
        } else {
            let defaults = BuildOptions::for_edges(geometry.num_vertices());
            let options = BuildOptions {
                leaf_max_edges: leaf_max_edges.unwrap_or(defaults.leaf_max_edges).max(1),
                edges_per_top_cell: edges_per_top_cell.unwrap_or(defaults.edges_per_top_cell).max(1),
            };
            build_with(geometry, options)
        };
        let build_seconds = started.elapsed().as_secs_f64();
        Ok(PyZoneIndex::new(store::insert(fingerprint, index), fingerprint, build_seconds))
    }
}

/// The most index words (bytes) a build may write, and what that limit is, for its error: the
/// environment variable `POLARS_ZONES_MAX_BUILD_BYTES` if set, else a third of the memory
/// available (a build holds more than its index words at its peak: the edges per cell, the
/// subtrees, their merge; see the README's Scale limits), else none.
fn build_memory_limit() -> Result<(usize, String), String> {
    const VARIABLE: &str = "POLARS_ZONES_MAX_BUILD_BYTES";
    if let Some(value) = std::env::var_os(VARIABLE) {
        let value = value.to_string_lossy();
        let bytes = value
            .trim()
            .parse::<usize>()
            .map_err(|_| format!("{VARIABLE} must be a whole number of bytes (such as 4000000000), not {value:?}"))?;
        return Ok((bytes, format!("{VARIABLE} allows ({bytes} bytes)")));
    }
    Ok(match memory_available() {
        Some(bytes) => (bytes / 3, format!("this machine has available ({:.0} MB)", bytes as f64 / 1e6)),
        None => (usize::MAX, "is available".to_string()),
    })
}

/// Memory the process may still take: Linux's MemAvailable, or less if its cgroup (v2) caps
/// it below that. The cgroup's usage counts file pages the kernel can drop (a container that
/// read large files is mostly those), so its inactive file pages count as available.
fn memory_available() -> Option<usize> {
    let value = |line: &str| line.split_whitespace().nth(1)?.parse::<usize>().ok();
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let available = meminfo.lines().find(|l| l.starts_with("MemAvailable:")).and_then(value)? * 1024;
    let read = |path: &str| std::fs::read_to_string(path).ok();
    let max = read("/sys/fs/cgroup/memory.max").and_then(|t| t.trim().parse::<usize>().ok());
    let current = read("/sys/fs/cgroup/memory.current").and_then(|t| t.trim().parse::<usize>().ok());
    let droppable = read("/sys/fs/cgroup/memory.stat")
        .and_then(|stat| stat.lines().find(|l| l.starts_with("inactive_file ")).and_then(value))
        .unwrap_or(0);
    match (max, current) {
        (Some(max), Some(current)) => Some(available.min(max.saturating_sub(current.saturating_sub(droppable)))),
        _ => Some(available),
    }
}

/// What ingestion repaired or dropped, for Python: degenerate_rings, antimeridian_polygons,
/// null_geometries, and properties (per zone, its first feature's as JSON text, or None).
fn report_dict<'py>(py: Python<'py>, report: IngestReport) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("degenerate_rings", report.degenerate_rings)?;
    out.set_item("antimeridian_polygons", report.antimeridian_polygons)?;
    out.set_item("null_geometries", report.null_geometries)?;
    out.set_item("properties", report.properties)?;
    Ok(out)
}

fn boundary(value: &str) -> PyResult<Boundary> {
    value.parse().map_err(PyValueError::new_err)
}

fn slices<'a>(
    lat: &'a PyReadonlyArray1<'_, f64>,
    lon: &'a PyReadonlyArray1<'_, f64>,
) -> PyResult<(&'a [f64], &'a [f64])> {
    let (lat, lon) = (lat.as_slice()?, lon.as_slice()?);
    if lat.len() != lon.len() {
        return Err(PyValueError::new_err(format!("lat and lon differ in length ({} and {})", lat.len(), lon.len())));
    }
    Ok((lat, lon))
}

/// A zone index as the numpy entry points give it: -1 for none.
fn numpy_zone(zone: u32) -> i32 {
    if zone == NO_ZONE {
        -1
    } else {
        zone as i32
    }
}

/// Runs a first-zone kernel on numpy arrays without the GIL; -1 for no zone.
fn first_zones<'py>(
    py: Python<'py>,
    lat: &PyReadonlyArray1<'py, f64>,
    lon: &PyReadonlyArray1<'py, f64>,
    boundary: &str,
    kernel: impl Fn(&[f64], &[f64], Boundary) -> Vec<u32> + Send + Sync,
) -> PyResult<Bound<'py, PyArray1<i32>>> {
    let mode = self::boundary(boundary)?;
    let (lat, lon) = slices(lat, lon)?;
    if looks_swapped(lat, lon) {
        crate::warn::swapped_coordinates_once("zones.tag_numpy(lat, lon) and pz.tag_pandas(df, zones, lat=, lon=)");
    }
    let out = py.detach(|| {
        // `numpy_zone` is a zone's bits read as i32 (`NO_ZONE` is u32::MAX, -1), so the
        // answers are handed over as they are, without a second array.
        const _: () = assert!(NO_ZONE as i32 == -1);
        bytemuck::cast_vec::<u32, i32>(kernel(lat, lon, mode))
    });
    Ok(PyArray1::from_vec(py, out))
}

/// The ingestion options behind the Python flags.
fn ingest_options(each_is_zone: bool, planar: bool) -> (Grouping, Antimeridian) {
    let grouping = if each_is_zone { Grouping::ElementsAreZones } else { Grouping::FeaturesAreZones };
    (grouping, if planar { Antimeridian::Planar } else { Antimeridian::Split })
}

#[pymethods]
impl PyZoneIndex {
    /// The problems in GeoJSON texts' polygons (see `validate`): one tuple per problem,
    /// (element, feature, polygon, ring, vertex, kind, lon, lat, detail).
    #[staticmethod]
    #[pyo3(signature = (texts, each_is_zone, id_property=None, planar=false))]
    #[allow(clippy::type_complexity)]
    fn validate_geojson(
        py: Python<'_>,
        texts: Vec<String>,
        each_is_zone: bool,
        id_property: Option<String>,
        planar: bool,
    ) -> PyResult<
        Vec<(Option<usize>, Option<usize>, usize, Option<usize>, Option<usize>, &'static str, f64, f64, String)>,
    > {
        let (grouping, rule) = ingest_options(each_is_zone, planar);
        py.detach(|| {
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let problems = validate_geojson(&refs, grouping, id_property.as_deref(), rule)
                .map_err(|e| PyValueError::new_err(e.0))?;
            Ok(problems
                .into_iter()
                .map(|f| {
                    let p = f.problem;
                    (f.element, f.feature, p.polygon, p.ring, p.vertex, p.kind, p.lon, p.lat, p.detail)
                })
                .collect())
        })
    }

    /// Builds from GeoJSON texts: one text whose features are zones, or (with
    /// `each_is_zone`) one text per zone. `planar` takes longitudes literally instead of
    /// splitting rings across the antimeridian. Returns the index and what ingestion repaired
    /// (`report_dict`).
    #[staticmethod]
    #[pyo3(signature = (texts, each_is_zone, id_property=None, leaf_max_edges=None, edges_per_top_cell=None, planar=false))]
    fn from_geojson<'py>(
        py: Python<'py>,
        texts: Vec<String>,
        each_is_zone: bool,
        id_property: Option<String>,
        leaf_max_edges: Option<usize>,
        edges_per_top_cell: Option<i64>,
        planar: bool,
    ) -> PyResult<(Self, Bound<'py, PyDict>)> {
        let (grouping, rule) = ingest_options(each_is_zone, planar);
        let (zones, report) = py.detach(|| {
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let (geometry, report) = zones_from_geojson_with(&refs, grouping, id_property.as_deref(), rule)
                .map_err(|e| PyValueError::new_err(e.0))?;
            PyResult::Ok((PyZoneIndex::build(geometry, leaf_max_edges, edges_per_top_cell)?, report))
        })?;
        Ok((zones, report_dict(py, report)?))
    }

    /// Builds from WKB or EWKB geometries, one zone per row (None: an empty zone) or per
    /// distinct id. Returns the index and what ingestion repaired (`report_dict`).
    #[staticmethod]
    #[pyo3(signature = (rows, ids=None, planar=false))]
    fn from_wkb<'py>(
        py: Python<'py>,
        rows: Vec<Option<Vec<u8>>>,
        ids: Option<Vec<String>>,
        planar: bool,
    ) -> PyResult<(Self, Bound<'py, PyDict>)> {
        let (_, rule) = ingest_options(true, planar);
        let (zones, report) = py.detach(|| {
            let rows: Vec<Option<&[u8]>> = rows.iter().map(Option::as_deref).collect();
            let (geometry, report) =
                zones_from_wkb(&rows, ids.as_deref(), rule).map_err(|e| PyValueError::new_err(e.0))?;
            PyResult::Ok((PyZoneIndex::build(geometry, None, None)?, report))
        })?;
        Ok((zones, report_dict(py, report)?))
    }

    /// The index of `to_bytes` output. The bytes themselves are kept as the plan's payload:
    /// any valid index is one, of any format version this package reads.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: Bound<'_, PyBytes>) -> PyResult<Self> {
        let raw = data.as_bytes();
        let loaded = py.detach(|| store::decode(raw)).map_err(PyValueError::new_err)?;
        let mut zones = PyZoneIndex::new(loaded.index, loaded.fingerprint, 0.0);
        zones.properties = loaded.properties.map(|p| PyBytes::new(py, &p).unbind());
        let _ = zones.plan_bytes.set(data.unbind());
        Ok(zones)
    }

    /// The same index with this attribute table (Arrow IPC bytes), or none.
    #[pyo3(signature = (properties=None))]
    fn with_properties(&self, py: Python<'_>, properties: Option<Py<PyBytes>>) -> Self {
        let mut zones = PyZoneIndex::new(self.index.clone(), self.fingerprint, self.build_seconds);
        zones.properties = properties;
        // The plan's payload need not carry the properties: any bytes of the index will do.
        if let Some(plan) = self.plan_bytes.get().or(self.bytes.get()) {
            let _ = zones.plan_bytes.set(plan.clone_ref(py));
        }
        zones
    }

    #[getter]
    fn properties(&self, py: Python<'_>) -> Option<Py<PyBytes>> {
        self.properties.as_ref().map(|p| p.clone_ref(py))
    }

    /// The index in its file format, compressed, with its properties.
    fn to_bytes(&self, py: Python<'_>) -> PyResult<Py<PyBytes>> {
        if let Some(bytes) = self.bytes.get() {
            return Ok(bytes.clone_ref(py));
        }
        let properties = self.properties.as_ref().map(|p| p.as_bytes(py));
        let packed = py
            .detach(|| serialize::to_compressed_bytes(&self.index, &self.fingerprint, properties))
            .map_err(PyValueError::new_err)?;
        Ok(self.bytes.get_or_init(|| PyBytes::new(py, &packed).unbind()).clone_ref(py))
    }

    /// The index as a Polars plan carries it: the bytes it was loaded from, or `to_bytes`.
    fn plan_bytes(&self, py: Python<'_>) -> PyResult<Py<PyBytes>> {
        match self.plan_bytes.get() {
            Some(bytes) => Ok(bytes.clone_ref(py)),
            None => self.to_bytes(py),
        }
    }

    /// `plan_bytes` as the one-row List(Binary) Series a plan carries (src/expressions.rs),
    /// made here with one copy of the bytes (from Python, the Binary Series and its implode
    /// copied them twice).
    fn plan_series(&self, py: Python<'_>) -> PyResult<PySeries> {
        let bytes = self.plan_bytes(py)?;
        let values = Series::new("zones_index".into(), [bytes.as_bytes(py)]);
        let list = values.implode().map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(PySeries(list.into_series()))
    }

    #[getter]
    fn fingerprint(&self) -> String {
        serialize::fingerprint_hex(&self.fingerprint)
    }

    #[getter]
    fn ids(&self) -> Option<Vec<String>> {
        self.index.geometry().ids.clone()
    }

    #[getter]
    fn zone_count(&self) -> u32 {
        self.index.geometry().zone_count
    }

    #[getter]
    fn num_vertices(&self) -> usize {
        self.index.geometry().num_vertices()
    }

    #[getter]
    fn num_polygons(&self) -> usize {
        self.index.geometry().polygon_count()
    }

    /// (min_lon, min_lat, max_lon, max_lat), or None when no polygon is left.
    #[getter]
    fn bounds(&self) -> Option<(f64, f64, f64, f64)> {
        self.index.geometry().bounds().map(|[a, b, c, d]| (to_degrees(a), to_degrees(b), to_degrees(c), to_degrees(d)))
    }

    #[getter]
    fn heap_bytes(&self) -> usize {
        self.index.heap_bytes()
    }

    /// Structure counts, for reports and benchmarks.
    fn stats(&self) -> Vec<(&'static str, usize)> {
        let ix = &self.index;
        vec![
            ("top_cells", ix.grid().cells()),
            ("nodes", ix.node_count()),
            ("leaf_words", ix.leaf_words()),
            ("zone_sets", ix.zone_set_count()),
            ("top_shift", ix.grid().shift as usize),
        ]
    }

    /// (lon, lat, ring_starts, ring_zone): every ring's vertices (closed) in degrees, the
    /// offsets of the rings in them, and each ring's zone; for plots and generators.
    #[allow(clippy::type_complexity)]
    fn rings<'py>(
        &self,
        py: Python<'py>,
    ) -> (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<u32>>, Bound<'py, PyArray1<u32>>)
    {
        let g = self.index.geometry();
        let lon: Vec<f64> = g.vertices.iter().map(|v| to_degrees(v.x)).collect();
        let lat: Vec<f64> = g.vertices.iter().map(|v| to_degrees(v.y)).collect();
        let mut ring_zone = Vec::with_capacity(g.ring_starts.len() - 1);
        for p in 0..g.polygon_count() {
            let rings = g.polygon_rings[p + 1] - g.polygon_rings[p];
            ring_zone.extend(std::iter::repeat_n(g.polygon_zone[p], rings as usize));
        }
        (
            PyArray1::from_vec(py, lon),
            PyArray1::from_vec(py, lat),
            PyArray1::from_vec(py, g.ring_starts.clone()),
            PyArray1::from_vec(py, ring_zone),
        )
    }

    /// First zone per point through the index, -1 for none; reads the arrays in place.
    #[pyo3(signature = (lat, lon, boundary="half-open"))]
    fn tag_numpy<'py>(
        &self,
        py: Python<'py>,
        lat: PyReadonlyArray1<'py, f64>,
        lon: PyReadonlyArray1<'py, f64>,
        boundary: &str,
    ) -> PyResult<Bound<'py, PyArray1<i32>>> {
        first_zones(py, &lat, &lon, boundary, |lat, lon, mode| tag_vec(&self.index, lat, lon, mode, true))
    }

    /// Distance in metres (NaN for none) and nearest zone (-1 for none) per point, within
    /// `max_distance` metres (None: anywhere); reads the arrays in place.
    #[pyo3(signature = (lat, lon, boundary="half-open", max_distance=None))]
    #[allow(clippy::type_complexity)]
    fn nearest_numpy<'py>(
        &self,
        py: Python<'py>,
        lat: PyReadonlyArray1<'py, f64>,
        lon: PyReadonlyArray1<'py, f64>,
        boundary: &str,
        max_distance: Option<f64>,
    ) -> PyResult<(Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<i32>>)> {
        let mode = self::boundary(boundary)?;
        let max_chord2 = max_chord2(max_distance).map_err(PyValueError::new_err)?;
        let (lat, lon) = slices(&lat, &lon)?;
        if looks_swapped(lat, lon) {
            crate::warn::swapped_coordinates_once("zones.distance_numpy(lat, lon) and zones.nearest_numpy(lat, lon)");
        }
        let (metres, zones) = py.detach(|| {
            let mut out = vec![Nearest::NONE; lat.len()];
            nearest_slices(&self.index, lat, lon, mode, max_chord2, &mut out, true);
            let metres: Vec<f64> = out.iter().map(Nearest::metres).collect();
            let zones: Vec<i32> = out.iter().map(|n| numpy_zone(n.zone)).collect();
            (metres, zones)
        });
        Ok((PyArray1::from_vec(py, metres), PyArray1::from_vec(py, zones)))
    }

    /// First zone per point by brute force over every edge (the test oracle), -1 for none.
    /// Built only with the `testing` feature (release wheels do not enable it).
    #[cfg(feature = "testing")]
    #[pyo3(signature = (lat, lon, boundary="half-open"))]
    fn reference_tag_numpy<'py>(
        &self,
        py: Python<'py>,
        lat: PyReadonlyArray1<'py, f64>,
        lon: PyReadonlyArray1<'py, f64>,
        boundary: &str,
    ) -> PyResult<Bound<'py, PyArray1<i32>>> {
        use crate::coords::snap_query;
        use crate::reference::{polygon_bounds, zones_containing_bounded};
        use rayon::prelude::*;
        first_zones(py, &lat, &lon, boundary, |lat, lon, mode| {
            let geometry = self.index.geometry();
            let bounds = polygon_bounds(geometry);
            lat.par_iter()
                .zip(lon.par_iter())
                .map(|(&la, &lo)| match snap_query(la, lo) {
                    Some(p) => zones_containing_bounded(geometry, &bounds, p, mode).first().copied().unwrap_or(NO_ZONE),
                    None => NO_ZONE,
                })
                .collect()
        })
    }

    /// `tag_numpy` in spatially sorted blocks of `block` points instead of the default
    /// (`query::SORTED_BLOCK`), for benchmarks. Built only with the
    /// `testing` feature (release wheels do not enable it).
    #[cfg(feature = "testing")]
    fn tag_numpy_in_blocks<'py>(
        &self,
        py: Python<'py>,
        lat: PyReadonlyArray1<'py, f64>,
        lon: PyReadonlyArray1<'py, f64>,
        block: usize,
    ) -> PyResult<Bound<'py, PyArray1<i32>>> {
        if block == 0 {
            return Err(PyValueError::new_err("block must be at least 1"));
        }
        first_zones(py, &lat, &lon, "half-open", |lat, lon, mode| {
            let mut out = vec![0; lat.len()];
            crate::query::tag_in_blocks(&self.index, &[(lat, lon)], mode, &mut out, true, block);
            out
        })
    }

    /// A copy of this index with leaf records or without them, whatever its size (`index::LEAF_RECORDS_FROM_BYTES`), for `tag_numpy` in tests and benchmarks.
    /// Not registered in the process cache: expressions over its zones use the cached index.
    /// Built only with the `testing` feature (release wheels do not enable it).
    #[cfg(feature = "testing")]
    fn with_leaf_records(&self, py: Python<'_>, records: bool) -> Self {
        let index = py.detach(|| Arc::new(ZoneIndex::clone(&self.index).with_leaf_records(records)));
        PyZoneIndex::new(index, self.fingerprint, self.build_seconds)
    }

    fn __reduce__(slf: &Bound<'_, Self>) -> PyResult<(Py<PyAny>, (Py<PyBytes>,))> {
        let py = slf.py();
        let from_bytes = py.get_type::<PyZoneIndex>().getattr("from_bytes")?.unbind();
        Ok((from_bytes, (slf.get().to_bytes(py)?,)))
    }
}
