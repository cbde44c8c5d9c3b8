//! The Polars plugin: `zones.tag`, `zones.tag_all` and `zones.within` as expressions.
//!
//! Each call receives a batch of latitudes and longitudes (any numeric dtype) and the kwargs
//! carrying the serialized index. The index comes from the process-wide `store`, so it is
//! decoded once per process, not once per batch. The kernel reads the Arrow chunks in place
//! and runs on rayon's threads unless Polars is already running this call in parallel.

use polars::prelude::*;
use polars_arrow::array::{Array, BooleanArray, ListArray, PrimitiveArray};
use polars_arrow::bitmap::Bitmap;
use polars_arrow::datatypes::ArrowDataType;
use polars_arrow::offset::{Offsets, OffsetsBuffer};
use polars_arrow::ffi::ArrowSchema;
use pyo3_polars::derive::CallerContext;
use pyo3_polars::export::polars_ffi;
use rayon::prelude::*;
use serde::Deserialize;
use std::sync::Arc;

use crate::boundary::Boundary;
use crate::coords::{looks_swapped, snap_query};
use crate::index::ZoneIndex;
use crate::query::{tag_all_slices, tag_slices, NO_ZONE};
use crate::store;

/// What each call receives, read from the kwargs without copying the index.
///
/// The kwargs are `{"payload": bytes}`, the payload being `b"PZKW"`, a version byte, the
/// boundary byte, the bit width of `zones.tag`'s codes (8, 16 or 32), then the serialized
/// index. pyo3-polars would unpickle the kwargs into owned memory on every call (every batch
/// of the streaming engine): tens of megabytes for a detailed index. Instead the entry points
/// below find the payload in the pickle buffer and read only its header; the index itself
/// comes from the process-wide cache, keyed by the fingerprint in its header, and is decoded
/// only on a miss.
struct PluginArgs<'a> {
    boundary: Boundary,
    /// `zones.tag`'s output: the zone index as UInt32, or, for named zones, the code in the
    /// physical dtype of their Enum, which the Python side turns into the Enum with
    /// `.cat.to` (a cast per batch, where an Enum built here was converted back from
    /// strings, row by row, by Polars' import of each batch).
    codes: DataType,
    index: &'a [u8],
}

const PAYLOAD_MAGIC: &[u8; 4] = b"PZKW";

/// The first bytes object in a pickle of `{"payload": bytes}`, borrowed. Understands just
/// the opcodes Python's pickler writes for that dict; anything else gives None.
fn pickled_bytes(p: &[u8]) -> Option<&[u8]> {
    let take = |from: usize, n: usize| p.get(from..from.checked_add(n)?);
    let le = |from: usize, n: usize| -> Option<usize> {
        let mut v = 0usize;
        for (k, b) in take(from, n)?.iter().enumerate() {
            v |= (*b as usize) << (8 * k);
        }
        Some(v)
    };
    let mut i = 0;
    loop {
        let op = *p.get(i)?;
        i += 1;
        match op {
            0x80 => i += 1,                     // PROTO
            0x95 => i += 8,                     // FRAME
            b'}' | 0x94 | b'(' => {}            // EMPTY_DICT, MEMOIZE, MARK
            0x8c => i += 1 + le(i, 1)?,         // SHORT_BINUNICODE
            b'X' => i += 4 + le(i, 4)?,         // BINUNICODE
            b'C' => return take(i + 1, le(i, 1)?), // SHORT_BINBYTES
            b'B' => return take(i + 4, le(i, 4)?), // BINBYTES
            0x8e => return take(i + 8, le(i, 8)?), // BINBYTES8
            _ => return None,
        }
    }
}

#[derive(Deserialize)]
struct PickledKwargs {
    #[serde(with = "serde_bytes")]
    payload: Vec<u8>,
}

/// Reads the plugin arguments; `owned` keeps a copy alive when the fast path cannot be used.
fn plugin_args<'a>(kwargs: &'a [u8], owned: &'a mut Vec<u8>) -> PolarsResult<PluginArgs<'a>> {
    let payload = match pickled_bytes(kwargs) {
        Some(p) if p.starts_with(PAYLOAD_MAGIC) => p,
        _ => {
            let k: PickledKwargs = pyo3_polars::derive::_parse_kwargs(kwargs)?;
            *owned = k.payload;
            owned.as_slice()
        }
    };
    let bad = || polars_err!(ComputeError: "zones: malformed plugin arguments (was the plan made by another polars-zones version?)");
    if payload.len() < 7 || !payload.starts_with(PAYLOAD_MAGIC) || payload[4] != 2 {
        return Err(bad());
    }
    let boundary = match payload[5] {
        0 => Boundary::HalfOpen,
        1 => Boundary::Inclusive,
        2 => Boundary::Exclusive,
        _ => return Err(bad()),
    };
    let codes = match payload[6] {
        8 => DataType::UInt8,
        16 => DataType::UInt16,
        32 => DataType::UInt32,
        _ => return Err(bad()),
    };
    Ok(PluginArgs { boundary, codes, index: &payload[7..] })
}

impl PluginArgs<'_> {
    fn resolve(&self) -> PolarsResult<Arc<ZoneIndex>> {
        let (_, index) = store::get_or_decode(self.index).map_err(|e| polars_err!(ComputeError: "{e}"))?;
        // Every zone's code must fit the output dtype.
        let max_code = match self.codes {
            DataType::UInt8 => u8::MAX as u64,
            DataType::UInt16 => u16::MAX as u64,
            _ => u32::MAX as u64,
        };
        polars_ensure!(
            (index.geometry.zone_count as u64) <= max_code,
            ComputeError: "zones.tag: {} zones do not fit {} codes", index.geometry.zone_count, self.codes
        );
        Ok(index)
    }
}

/// Hands a result back through Polars' return pointer, or records the error (a panic
/// becomes Polars' "the plugin panicked" error), as pyo3-polars' generated code does.
///
/// # Safety
/// `return_value` must be valid for writes.
unsafe fn deliver<T>(outcome: std::thread::Result<PolarsResult<T>>, return_value: *mut T) {
    match outcome {
        Ok(Ok(out)) => *return_value = out,
        Ok(Err(err)) => pyo3_polars::derive::_update_last_error(err),
        Err(_) => pyo3_polars::derive::_set_panic(),
    }
}

/// The FFI entry points Polars calls, written out rather than generated by `polars_expr`
/// so that the kwargs are read in place (see `PluginArgs`). Same protocol as the macro: the
/// result or the error goes back through the pointers, and a panic becomes an error.
macro_rules! plugin_function {
    ($symbol:ident, $function:ident) => {
        #[no_mangle]
        /// # Safety
        /// Called by Polars with valid series, kwargs and return pointers.
        pub unsafe extern "C" fn $symbol(
            e: *mut polars_ffi::version_0::SeriesExport,
            input_len: usize,
            kwargs_ptr: *const u8,
            kwargs_len: usize,
            return_value: *mut polars_ffi::version_0::SeriesExport,
            context: *mut polars_ffi::version_0::CallerContext,
        ) {
            let outcome = std::panic::catch_unwind(move || {
                let inputs = polars_ffi::version_0::import_series_buffer(e, input_len)?;
                let kwargs = std::slice::from_raw_parts(kwargs_ptr, kwargs_len);
                let mut owned = Vec::new();
                let args = plugin_args(kwargs, &mut owned)?;
                Ok(polars_ffi::version_0::export_series(&$function(&inputs, *context, &args)?))
            });
            deliver(outcome, return_value)
        }
    };
}

/// The output field of `zones_tag`: an Enum of the zone names, or UInt32.
#[no_mangle]
/// # Safety
/// Called by Polars with valid field, return and kwargs pointers.
pub unsafe extern "C" fn _polars_plugin_field_zones_tag(
    field: *mut ArrowSchema,
    len: usize,
    return_value: *mut ArrowSchema,
    kwargs_ptr: *const u8,
    kwargs_len: usize,
) {
    let outcome = std::panic::catch_unwind(move || -> PolarsResult<ArrowSchema> {
        let fields = std::slice::from_raw_parts(field, len);
        let first = polars_arrow::ffi::import_field_from_c(fields.first().ok_or_else(|| polars_err!(ComputeError: "zones.tag: no input"))?)?;
        let kwargs = std::slice::from_raw_parts(kwargs_ptr, kwargs_len);
        let mut owned = Vec::new();
        let args = plugin_args(kwargs, &mut owned)?;
        let out = Field::new(first.name.clone(), args.codes.clone());
        Ok(polars_arrow::ffi::export_field_to_c(&out.to_arrow(CompatLevel::newest())))
    });
    deliver(outcome, return_value)
}

/// The output field of an expression with a fixed dtype: the first input's name.
macro_rules! fixed_field {
    ($symbol:ident, $dtype:expr) => {
        #[no_mangle]
        /// # Safety
        /// Called by Polars with valid field and return pointers.
        pub unsafe extern "C" fn $symbol(field: *mut ArrowSchema, len: usize, return_value: *mut ArrowSchema) {
            let outcome = std::panic::catch_unwind(move || -> PolarsResult<ArrowSchema> {
                let fields = std::slice::from_raw_parts(field, len);
                let first = fields.first().ok_or_else(|| polars_err!(ComputeError: "zones: no input"))?;
                let name = polars_arrow::ffi::import_field_from_c(first)?.name;
                let out = Field::new(name, $dtype);
                Ok(polars_arrow::ffi::export_field_to_c(&out.to_arrow(CompatLevel::newest())))
            });
            deliver(outcome, return_value)
        }
    };
}

fixed_field!(_polars_plugin_field_zones_within, DataType::Boolean);
fixed_field!(_polars_plugin_field_zones_tag_all, DataType::List(Box::new(DataType::UInt32)));

plugin_function!(_polars_plugin_zones_tag, zones_tag);
plugin_function!(_polars_plugin_zones_tag_all, zones_tag_all);
plugin_function!(_polars_plugin_zones_within, zones_within);

// Not part of the API: panics on purpose inside a rayon job, where a kernel bug would, so the
// test suite can check that such a panic reaches Python as an exception.
fixed_field!(_polars_plugin_field_zones_panic_for_tests, DataType::Boolean);
plugin_function!(_polars_plugin_zones_panic_for_tests, zones_panic_for_tests);

fn zones_panic_for_tests(_inputs: &[Series], _context: CallerContext, _args: &PluginArgs) -> PolarsResult<Series> {
    (0..4).into_par_iter().for_each(|i| {
        if i == 3 {
            panic!("polars-zones: deliberate panic for the test suite");
        }
    });
    unreachable!("the parallel loop panics")
}

/// Latitudes and longitudes as Float64 chunks with the same chunk lengths.
fn coordinates(inputs: &[Series], what: &str) -> PolarsResult<(Float64Chunked, Float64Chunked)> {
    polars_ensure!(inputs.len() == 2, InvalidOperation: "zones.{what} takes a latitude and a longitude expression");
    let as_f64 = |s: &Series, role: &str| -> PolarsResult<Float64Chunked> {
        let dtype = s.dtype();
        polars_ensure!(
            dtype.is_primitive_numeric() || dtype.is_decimal() || dtype == &DataType::Null,
            InvalidOperation: "zones.{what}: the {role} column {:?} has dtype {dtype}; expected a float or integer column",
            s.name()
        );
        Ok(s.cast(&DataType::Float64)?.f64()?.clone())
    };
    let mut lat = as_f64(&inputs[0], "latitude")?;
    let mut lon = as_f64(&inputs[1], "longitude")?;
    // A scalar on either side is broadcast.
    if lat.len() == 1 && lon.len() != 1 {
        lat = lat.new_from_index(0, lon.len());
    } else if lon.len() == 1 && lat.len() != 1 {
        lon = lon.new_from_index(0, lat.len());
    }
    polars_ensure!(
        lat.len() == lon.len(),
        ShapeMismatch: "zones.{what}: latitude has {} rows but longitude has {}",
        lat.len(),
        lon.len()
    );
    if lat.chunk_lengths().ne(lon.chunk_lengths()) {
        lat = lat.rechunk().into_owned();
        lon = lon.rechunk().into_owned();
    }
    POINTS_SEEN.fetch_add(lat.len(), std::sync::atomic::Ordering::Relaxed);
    if let (Some(la), Some(lo)) = (lat.downcast_iter().next(), lon.downcast_iter().next()) {
        if looks_swapped(la.values(), lo.values()) {
            crate::python::warn_swapped_once(&format!("pl.col(lat).zones.{what}(lon, ...)"));
        }
    }
    Ok((lat, lon))
}

/// Points handed to the expressions in this process: what a progress bar polls while a
/// streaming query runs.
static POINTS_SEEN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

pub fn points_seen() -> usize {
    POINTS_SEEN.load(std::sync::atomic::Ordering::Relaxed)
}

/// The null mask of both inputs together.
fn input_validity(lat: &PrimitiveArray<f64>, lon: &PrimitiveArray<f64>) -> Option<Bitmap> {
    match (lat.validity(), lon.validity()) {
        (Some(a), Some(b)) => Some(a & b),
        (Some(a), None) | (None, Some(a)) => Some(a.clone()),
        (None, None) => None,
    }
}

fn and_validity(a: Option<Bitmap>, b: Bitmap) -> Bitmap {
    match a {
        Some(a) => &a & &b,
        None => b,
    }
}

fn zone_chunks<'a>(
    lat: &'a Float64Chunked,
    lon: &'a Float64Chunked,
) -> impl Iterator<Item = (&'a PrimitiveArray<f64>, &'a PrimitiveArray<f64>)> {
    lat.downcast_iter().zip(lon.downcast_iter())
}

/// The first zone of every point of one chunk, `NO_ZONE` where none or invalid, and the
/// mask of points that have one.
fn first_zones(
    index: &ZoneIndex,
    lat: &PrimitiveArray<f64>,
    lon: &PrimitiveArray<f64>,
    boundary: Boundary,
    parallel: bool,
) -> (Vec<u32>, Bitmap) {
    let mut zones = vec![NO_ZONE; lat.len()];
    tag_slices(index, lat.values(), lon.values(), boundary, &mut zones, parallel);
    let found = zones.iter().map(|&z| z != NO_ZONE).collect();
    (zones, found)
}

fn zones_tag(inputs: &[Series], context: CallerContext, args: &PluginArgs) -> PolarsResult<Series> {
    let (index, boundary) = (args.resolve()?, args.boundary);
    let (lat, lon) = coordinates(inputs, "tag")?;
    let parallel = !context.parallel();
    let name = inputs[0].name().clone();
    let chunks = zone_chunks(&lat, &lon).map(|(la, lo)| {
        let (zones, found) = first_zones(&index, la, lo, boundary, parallel);
        (zones, and_validity(input_validity(la, lo), found))
    });
    // `resolve` checked that every zone fits the codes, and `NO_ZONE` is masked as null.
    Ok(match args.codes {
        DataType::UInt8 => UInt8Chunked::from_chunk_iter(name, chunks.map(|(z, v)| narrow_codes::<u8>(&z, v))).into_series(),
        DataType::UInt16 => UInt16Chunked::from_chunk_iter(name, chunks.map(|(z, v)| narrow_codes::<u16>(&z, v))).into_series(),
        _ => UInt32Chunked::from_chunk_iter(
            name,
            chunks.map(|(z, v)| PrimitiveArray::new(ArrowDataType::UInt32, z.into(), Some(v))),
        )
        .into_series(),
    })
}

/// Zone indexes as narrower codes (truncating `NO_ZONE`, which the validity masks).
fn narrow_codes<T: polars_arrow::types::NativeType + TryFrom<u32>>(zones: &[u32], validity: Bitmap) -> PrimitiveArray<T> {
    let codes: Vec<T> = zones.iter().map(|&z| T::try_from(z).unwrap_or_default()).collect();
    PrimitiveArray::new(T::PRIMITIVE.into(), codes.into(), Some(validity))
}

fn zones_within(inputs: &[Series], context: CallerContext, args: &PluginArgs) -> PolarsResult<Series> {
    let (index, boundary) = (args.resolve()?, args.boundary);
    let (lat, lon) = coordinates(inputs, "within")?;
    let parallel = !context.parallel();
    let chunks = zone_chunks(&lat, &lon).map(|(la, lo)| {
        let (_, inside) = first_zones(&index, la, lo, boundary, parallel);
        let valid: Bitmap = valid_points(la, lo);
        BooleanArray::new(ArrowDataType::Boolean, inside, Some(and_validity(input_validity(la, lo), valid)))
    });
    Ok(BooleanChunked::from_chunk_iter(inputs[0].name().clone(), chunks).into_series())
}

/// Points that can be in a zone at all: finite, latitude in range.
fn valid_points(lat: &PrimitiveArray<f64>, lon: &PrimitiveArray<f64>) -> Bitmap {
    lat.values().iter().zip(lon.values().iter()).map(|(&la, &lo)| snap_query(la, lo).is_some()).collect()
}

fn zones_tag_all(inputs: &[Series], context: CallerContext, args: &PluginArgs) -> PolarsResult<Series> {
    let (index, boundary) = (args.resolve()?, args.boundary);
    let (lat, lon) = coordinates(inputs, "tag_all")?;
    let parallel = !context.parallel();
    let mut arrays: Vec<Box<dyn Array>> = Vec::new();
    for (la, lo) in zone_chunks(&lat, &lon) {
        let (mut lengths, mut values) = (Vec::with_capacity(la.len()), Vec::new());
        tag_all_slices(&index, la.values(), lo.values(), boundary, &mut lengths, &mut values, parallel);
        let offsets: OffsetsBuffer<i64> = Offsets::<i64>::try_from_lengths(lengths.iter().map(|&n| n as usize))?.into();
        let values = PrimitiveArray::new(ArrowDataType::UInt32, values.into(), None);
        let validity = and_validity(input_validity(la, lo), valid_points(la, lo));
        let dtype = ListArray::<i64>::default_datatype(ArrowDataType::UInt32);
        arrays.push(Box::new(ListArray::<i64>::new(dtype, offsets, values.boxed(), Some(validity))));
    }
    let name = inputs[0].name().clone();
    let out = unsafe { ListChunked::from_chunks_and_dtype(name, arrays, DataType::List(Box::new(DataType::UInt32))) };
    Ok(out.into_series())
}
