//! `ZonesWarning`, and the one warning the kernels raise themselves: latitude and longitude
//! that look swapped.

use std::sync::atomic::{AtomicBool, Ordering};

use pyo3::exceptions::PyUserWarning;
use pyo3::prelude::*;

pyo3::create_exception!(
    polars_zones,
    ZonesWarning,
    PyUserWarning,
    "Input was repaired rather than refused (for example, degenerate rings dropped), or looks wrong."
);

static WARNED_SWAPPED: AtomicBool = AtomicBool::new(false);

/// Warns once per process (a `ZonesWarning`) that latitude and longitude look swapped. Called
/// from the plugin on a Polars thread: Polars runs queries with the GIL released, so taking
/// it here cannot deadlock. A warning filter that turns it into an error is ignored here,
/// since a hint must not fail the query.
pub fn swapped_coordinates_once(call: &str) {
    if WARNED_SWAPPED.swap(true, Ordering::Relaxed) {
        return;
    }
    let message = format!(
        "most latitudes are outside [-90, 90] while their longitudes would be valid latitudes: are \
         lat and lon swapped? The latitude comes first in {call}. Points with an invalid latitude are \
         in no zone. (polars-zones warns about this once per process.)"
    );
    Python::attach(|py| {
        let Ok(message) = std::ffi::CString::new(message) else { return };
        let _ = PyErr::warn(py, &py.get_type::<ZonesWarning>(), &message, 1);
    });
}
