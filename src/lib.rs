//! polars-zones: tag points with the polygon zone that contains them.
//!
//! The pipeline, one module per step: `ingest` (GeoJSON → `geometry`), `build` (the global
//! grid `index`), `query` (the kernel), `serialize` and `store` (bytes and the process-wide
//! cache), with `coords` and `boundary` holding the exact predicates and `reference` the
//! brute-force oracle.

pub mod antimeridian;
pub mod boundary;
pub mod build;
pub mod coords;
#[cfg(test)]
mod fuzzing;
pub mod geojson_input;
pub mod geometry;
pub mod index;
pub mod ingest;
pub mod nearest;
pub mod query;
#[cfg(any(test, feature = "testing"))]
pub mod reference;
pub mod serialize;
pub mod source;
pub mod sphere;
pub mod store;
pub mod validate;
pub mod wkb_input;

#[cfg(feature = "python")]
mod expressions;
#[cfg(feature = "python")]
mod plan_checks;
#[cfg(feature = "python")]
mod python;
#[cfg(feature = "python")]
mod warn;

#[cfg(feature = "python")]
use pyo3::prelude::*;

// The plugin keeps the system allocator rather than pyo3-polars' `PolarsAllocator` (Polars'
// jemalloc): with it, the kernel's large buffers came back without fresh pages, but loading,
// decoding and serializing an index were slower, and so were the command and file to file
// (`bench/query_overhead.py`, both builds, by hand).

#[cfg(feature = "python")]
/// How many times this process decoded an index from bytes (the cache's misses).
#[pyfunction]
fn index_decode_count() -> usize {
    store::decode_count()
}

#[cfg(feature = "python")]
/// How many times the plugin looked an index up: once per batch of every call.
#[pyfunction]
fn index_lookup_count() -> usize {
    store::lookup_count()
}

#[cfg(feature = "python")]
/// How many points the expressions were handed in this process (for progress reporting).
#[pyfunction]
fn points_seen() -> usize {
    expressions::points_seen()
}

#[cfg(feature = "python")]
/// Sets how many decoded indexes the process keeps (least recently used go first; indexes
/// used in the last 30 seconds stay whatever the capacity).
#[pyfunction]
fn set_cache_capacity(capacity: usize) {
    store::set_capacity(capacity)
}

#[cfg(feature = "python")]
#[pyfunction]
fn cache_capacity() -> usize {
    store::capacity()
}

#[cfg(feature = "python")]
#[pyfunction]
fn clear_cache() {
    store::clear()
}

#[cfg(feature = "python")]
/// The zone name `from_geojson` gives an id that is this JSON text (an object or an array:
/// keys sorted, numbers as the GeoJSON reader writes them), for the other constructors.
#[pyfunction]
fn zone_name_of_json(text: &str) -> PyResult<String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("an id: {e}")))?;
    Ok(geojson_input::zone_name(&value))
}

#[cfg(feature = "python")]
#[pymodule]
fn _internal(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<python::PyZoneIndex>()?;
    m.add("ZonesWarning", m.py().get_type::<warn::ZonesWarning>())?;
    // The magic bytes a saved index starts with, for Python to recognise one.
    m.add("INDEX_MAGIC", pyo3::types::PyBytes::new(m.py(), serialize::MAGIC))?;
    m.add_function(wrap_pyfunction!(index_decode_count, m)?)?;
    m.add_function(wrap_pyfunction!(index_lookup_count, m)?)?;
    m.add_function(wrap_pyfunction!(points_seen, m)?)?;
    m.add_function(wrap_pyfunction!(set_cache_capacity, m)?)?;
    m.add_function(wrap_pyfunction!(cache_capacity, m)?)?;
    m.add_function(wrap_pyfunction!(clear_cache, m)?)?;
    m.add_function(wrap_pyfunction!(zone_name_of_json, m)?)?;
    Ok(())
}
