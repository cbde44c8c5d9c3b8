//! The Polars plugin: `zones.tag`, `zones.tag_all` and `zones.within` as expressions.
//!
//! A plan must carry everything needed to rebuild the index, yet Polars copies a plugin's
//! kwargs when an expression is built, hashes them in its common-subexpression pass on every
//! collect, and writes them byte by byte when a plan is serialized. So the index travels as
//! a literal input instead: `zones_key(lit(payload))`, where the payload is the index's bytes
//! (those it was loaded from, or `serialize::to_compressed_bytes` of a built one) in a one-row
//! List(Binary) Series that the `Zones` object keeps. Polars shares such a literal instead of
//! copying it, its common-subexpression pass skips nested literals, and a plan serializes it
//! as one byte string. `zones_key` runs once per query (it returns a scalar): it makes sure the
//! process has the index, decoding it on a cache miss, and returns null. The expressions take
//! it as a third input they do not read, which orders them after it; their kwargs are small
//! (`ZonesKwargs`), and each call takes the index from the process-wide `store` by the
//! fingerprint in them.

use polars::prelude::*;
use polars_arrow::array::{Array, BooleanArray, ListArray, PrimitiveArray};
use polars_arrow::bitmap::Bitmap;
use polars_arrow::datatypes::ArrowDataType;
use polars_arrow::offset::{Offsets, OffsetsBuffer};
use pyo3_polars::derive::{polars_expr, CallerContext};
use rayon::prelude::*;
use serde::Deserialize;
use std::borrow::Cow;
use std::sync::Arc;

use crate::boundary::Boundary;
use crate::coords::{looks_swapped, snap_query};
use crate::index::ZoneIndex;
use crate::nearest::Nearest;
use crate::query::{nearest_slices, tag_all_slices, tag_chunks, Chunk, MIN_POINTS_PER_THREAD, NO_ZONE};
use crate::serialize::fingerprint_from_hex;
use crate::sphere::max_chord2;
use crate::store;

/// The kwargs of `zones_tag`, `zones_tag_all` and `zones_within`.
#[derive(Deserialize)]
struct ZonesKwargs {
    /// The index's fingerprint (hex), as `zones_key` loaded it.
    fingerprint: String,
    boundary: Boundary,
    /// `zones_tag`'s output: the zone index as UInt32, or, for named zones, the code in the
    /// physical dtype of their Enum (8, 16 or 32 bits), which the Python side turns into the
    /// Enum with a cast (a cast per batch, where an Enum built here was converted back from
    /// strings, row by row, by Polars' import of each batch).
    #[serde(default = "default_code_bits")]
    code_bits: u8,
    /// For codes that become an Enum: a point in no zone (or invalid) is a null whose code is
    /// 0, a name the Enum has (under a null input lies the code of whatever its hidden value
    /// found, a name too). Polars keeps the code under a null through the cast and writes
    /// it into Arrow IPC (pickle, `write_ipc`, `DataFrame.serialize`), whose reader refuses a
    /// frame with any code the Enum lacks, null or not.
    #[serde(default)]
    enum_codes: bool,
    /// For `zones_distance` and `zones_nearest`: how far to look, in metres (None: anywhere).
    #[serde(default)]
    max_distance: Option<f64>,
}

fn default_code_bits() -> u8 {
    32
}

impl ZonesKwargs {
    /// The index, from the process cache, where `zones_key` put it.
    fn index(&self) -> PolarsResult<Arc<ZoneIndex>> {
        let fingerprint = fingerprint_from_hex(&self.fingerprint).ok_or_else(
            || polars_err!(ComputeError: "zones: malformed fingerprint {:?} in the plugin arguments", self.fingerprint),
        )?;
        store::get(&fingerprint).ok_or_else(|| {
            polars_err!(ComputeError:
                "zones: index {} is not loaded in this process (more zone sets were in use at once than the cache holds: raise polars_zones.set_cache_capacity)",
                self.fingerprint)
        })
    }

    /// The squared chord of `max_distance` (4, the antipode, for none).
    fn max_chord2(&self) -> PolarsResult<f64> {
        max_chord2(self.max_distance).map_err(|e| polars_err!(ComputeError: "zones: {e}"))
    }

    fn codes(&self) -> PolarsResult<DataType> {
        Ok(match self.code_bits {
            8 => DataType::UInt8,
            16 => DataType::UInt16,
            32 => DataType::UInt32,
            other => polars_bail!(ComputeError: "zones.tag: code_bits must be 8, 16 or 32, not {other}"),
        })
    }

    /// The code under the null of a point in no zone: 0 for an Enum's codes (`enum_codes`),
    /// else `NO_ZONE` itself.
    fn no_zone_code(&self) -> u32 {
        if self.enum_codes {
            0
        } else {
            NO_ZONE
        }
    }
}

fn null_field(inputs: &[Field]) -> PolarsResult<Field> {
    Ok(Field::new(inputs.first().map(|f| f.name.clone()).unwrap_or_default(), DataType::Null))
}

/// Loads the index a plan carries (decoding it only if the process lacks it) and returns a
/// null scalar, the third input of the expressions below.
#[polars_expr(output_type_func=null_field)]
fn zones_key(inputs: &[Series]) -> PolarsResult<Series> {
    let payload = inputs.first().ok_or_else(|| polars_err!(ComputeError: "zones_key: no input"))?;
    let list = payload.list()?;
    let bytes = list.get_as_series(0).ok_or_else(|| polars_err!(ComputeError: "zones_key: empty index literal"))?;
    let value = bytes.binary()?.get(0).ok_or_else(|| polars_err!(ComputeError: "zones_key: null index literal"))?;
    store::get_or_decode(value).map_err(|e| polars_err!(ComputeError: "zones: {e}"))?;
    Ok(Series::new_null(payload.name().clone(), 1))
}

fn tag_field(inputs: &[Field], kwargs: ZonesKwargs) -> PolarsResult<Field> {
    let name = inputs.first().map(|f| f.name.clone()).unwrap_or_default();
    Ok(Field::new(name, kwargs.codes()?))
}

fn distance_field(inputs: &[Field]) -> PolarsResult<Field> {
    Ok(Field::new(inputs.first().map(|f| f.name.clone()).unwrap_or_default(), DataType::Float64))
}

fn within_field(inputs: &[Field]) -> PolarsResult<Field> {
    Ok(Field::new(inputs.first().map(|f| f.name.clone()).unwrap_or_default(), DataType::Boolean))
}

fn tag_all_field(inputs: &[Field]) -> PolarsResult<Field> {
    let name = inputs.first().map(|f| f.name.clone()).unwrap_or_default();
    Ok(Field::new(name, DataType::List(Box::new(DataType::UInt32))))
}

/// Latitudes and longitudes as Float64 chunks with the same chunk lengths. The third input
/// (the `zones_key` scalar) is not read.
fn coordinates(inputs: &[Series], what: &str) -> PolarsResult<(Float64Chunked, Float64Chunked)> {
    polars_ensure!(inputs.len() == 3, InvalidOperation: "zones.{what} takes a latitude, a longitude and the zones' key");
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
            crate::warn::swapped_coordinates_once(&format!("pl.col(lat).zones.{what}(lon, ...)"));
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

/// `f` over each chunk pair, in order; in parallel when the call may be (a frame read from
/// Parquet arrives in one chunk per row group, often smaller than a kernel block, so the
/// chunks themselves are the parallel work).
fn map_chunks<T: Send>(
    lat: &Float64Chunked,
    lon: &Float64Chunked,
    parallel: bool,
    f: impl Fn(&PrimitiveArray<f64>, &PrimitiveArray<f64>) -> T + Sync,
) -> Vec<T> {
    in_order(lat.downcast_iter().zip(lon.downcast_iter()).collect(), parallel, |(la, lo)| f(la, lo))
}

/// `f` over each chunk's part of `zones` (`first_zones`) and its coordinates, as `map_chunks`.
fn map_zoned_chunks<T: Send>(
    zones: &mut [u32],
    lat: &Float64Chunked,
    lon: &Float64Chunked,
    parallel: bool,
    f: impl Fn(&mut [u32], &PrimitiveArray<f64>, &PrimitiveArray<f64>) -> T + Sync,
) -> Vec<T> {
    let mut parts = Vec::with_capacity(lat.chunks().len());
    let mut rest = zones;
    for (la, lo) in lat.downcast_iter().zip(lon.downcast_iter()) {
        let (part, after) = rest.split_at_mut(la.len());
        parts.push((part, (la, lo)));
        rest = after;
    }
    in_order(parts, parallel, |(zones, (la, lo))| f(zones, la, lo))
}

/// `zones` (`first_zones`) cut at the chunks of `lat`, borrowed (with one chunk, a caller
/// hands over the vector itself instead).
fn zone_parts<'a>(zones: &'a [u32], lat: &Float64Chunked) -> Vec<Cow<'a, [u32]>> {
    let mut start = 0;
    lat.downcast_iter()
        .map(|la| {
            start += la.len();
            Cow::Borrowed(&zones[start - la.len()..start])
        })
        .collect()
}

/// `f` over each item, results in order: on rayon's threads when `parallel` and there is more
/// than one.
fn in_order<I: Send, T: Send>(items: Vec<I>, parallel: bool, f: impl Fn(I) -> T + Sync) -> Vec<T> {
    if parallel && items.len() > 1 {
        items.into_par_iter().map(&f).collect()
    } else {
        items.into_iter().map(f).collect()
    }
}

/// The points that have a zone.
fn found(zones: &[u32]) -> Bitmap {
    zones.iter().map(|&z| z != NO_ZONE).collect()
}

/// The first zone of every point, `NO_ZONE` where none or invalid, for all chunks in one
/// kernel call, so that its blocks can span them (`map_zoned_chunks` and `zone_parts` cut
/// the answers at the chunks again, without copying them).
fn first_zones(
    index: &ZoneIndex,
    lat: &Float64Chunked,
    lon: &Float64Chunked,
    boundary: Boundary,
    parallel: bool,
) -> Vec<u32> {
    let chunks: Vec<Chunk> = lat
        .downcast_iter()
        .zip(lon.downcast_iter())
        .map(|(la, lo)| (la.values().as_slice(), lo.values().as_slice()))
        .collect();
    // Zeroed pages from the allocator: the kernel writes every element (see `tag_vec`).
    let mut zones = vec![0; lat.len()];
    tag_chunks(index, &chunks, boundary, &mut zones, parallel);
    zones
}

#[polars_expr(output_type_func_with_kwargs=tag_field)]
fn zones_tag(inputs: &[Series], context: CallerContext, kwargs: ZonesKwargs) -> PolarsResult<Series> {
    let (index, codes) = (kwargs.index()?, kwargs.codes()?);
    let (lat, lon) = coordinates(inputs, "tag")?;
    let parallel = !context.parallel();
    let mut zones = first_zones(&index, &lat, &lon, kwargs.boundary, parallel);
    let validity =
        map_zoned_chunks(&mut zones, &lat, &lon, parallel, |zones, la, lo| Some(marked(zones, input_validity(la, lo))));
    let parts = if lat.chunks().len() == 1 { vec![Cow::Owned(zones)] } else { zone_parts(&zones, &lat) };
    zone_codes(
        inputs[0].name().clone(),
        &index,
        codes,
        kwargs.no_zone_code(),
        parts.into_iter().zip(validity),
        parallel,
    )
}

/// The validity of a chunk's answers: null where the point is null or in no zone (`NO_ZONE`).
fn marked(zones: &[u32], input_validity: Option<Bitmap>) -> Bitmap {
    and_validity(input_validity, found(zones))
}

/// Zone indexes (chunk by chunk, with their validity) as `codes`: UInt32, or the narrower
/// physical dtype of the zones' Enum. `NO_ZONE`, always under a null, becomes `no_zone`
/// (`ZonesKwargs::no_zone_code`; the dtype's largest code where that does not fit it).
fn zone_codes<'a>(
    name: PlSmallStr,
    index: &ZoneIndex,
    codes: DataType,
    no_zone: u32,
    chunks: impl Iterator<Item = (Cow<'a, [u32]>, Option<Bitmap>)>,
    parallel: bool,
) -> PolarsResult<Series> {
    let max_code = match codes {
        DataType::UInt8 => u8::MAX as u64,
        DataType::UInt16 => u16::MAX as u64,
        _ => u32::MAX as u64,
    };
    // The largest code stays free for `NO_ZONE` where it is kept (plain UInt32 indexes); Polars
    // gives an Enum of up to 255 names UInt8 codes, so the narrow widths leave it free too.
    let zones = index.geometry().zone_count;
    polars_ensure!((zones as u64) <= max_code, ComputeError: "zones: {zones} zones do not fit {codes} codes");
    Ok(match codes {
        DataType::UInt8 => {
            let no_zone = u8::try_from(no_zone).unwrap_or(u8::MAX);
            UInt8Chunked::from_chunk_iter(name, chunks.map(|(z, v)| narrow_codes(&z, v, no_zone, parallel)))
                .into_series()
        }
        DataType::UInt16 => {
            let no_zone = u16::try_from(no_zone).unwrap_or(u16::MAX);
            UInt16Chunked::from_chunk_iter(name, chunks.map(|(z, v)| narrow_codes(&z, v, no_zone, parallel)))
                .into_series()
        }
        _ => UInt32Chunked::from_chunk_iter(
            name,
            chunks.map(|(z, v)| {
                // Handed over without a copy, unless `NO_ZONE` must change.
                let mut z = z.into_owned();
                if no_zone != NO_ZONE {
                    z.iter_mut().filter(|c| **c == NO_ZONE).for_each(|c| *c = no_zone);
                }
                PrimitiveArray::new(ArrowDataType::UInt32, z.into(), v)
            }),
        )
        .into_series(),
    })
}

/// Zone indexes as narrower codes, `NO_ZONE` as `no_zone`.
fn narrow_codes<T: polars_arrow::types::NativeType + TryFrom<u32>>(
    zones: &[u32],
    validity: Option<Bitmap>,
    no_zone: T,
    parallel: bool,
) -> PrimitiveArray<T> {
    let narrow = |&z: &u32| T::try_from(z).unwrap_or(no_zone);
    let codes: Vec<T> = if parallel {
        zones.par_iter().with_min_len(MIN_POINTS_PER_THREAD).map(narrow).collect()
    } else {
        zones.iter().map(narrow).collect()
    };
    PrimitiveArray::new(T::PRIMITIVE.into(), codes.into(), validity)
}

/// Builds the index's distance index, if it is not built yet, before any parallel work. Its
/// build runs on rayon's threads too: a chunk's job that started it would wait for its parts,
/// and, waiting, could pick up another chunk's job, which would then wait for the build it
/// is itself part of.
fn build_near_index_first(index: &ZoneIndex) {
    index.near();
}

/// The nearest zone of every point of one chunk within the kwargs' distance, `Nearest::NONE`
/// where none or invalid.
fn nearest_chunk(
    index: &ZoneIndex,
    lat: &PrimitiveArray<f64>,
    lon: &PrimitiveArray<f64>,
    kwargs: &ZonesKwargs,
    parallel: bool,
) -> PolarsResult<Vec<Nearest>> {
    let mut out = vec![Nearest::NONE; lat.len()];
    nearest_slices(index, lat.values(), lon.values(), kwargs.boundary, kwargs.max_chord2()?, &mut out, parallel);
    Ok(out)
}

#[polars_expr(output_type_func=distance_field)]
fn zones_distance(inputs: &[Series], context: CallerContext, kwargs: ZonesKwargs) -> PolarsResult<Series> {
    let index = kwargs.index()?;
    build_near_index_first(&index);
    let (lat, lon) = coordinates(inputs, "distance")?;
    let parallel = !context.parallel();
    let chunks = map_chunks(&lat, &lon, parallel, |la, lo| {
        let nearest = nearest_chunk(&index, la, lo, &kwargs, parallel)?;
        let metres: Vec<f64> = nearest.iter().map(Nearest::metres).collect();
        let found: Bitmap = nearest.iter().map(|n| n.zone != NO_ZONE).collect();
        let validity = and_validity(input_validity(la, lo), found);
        Ok(PrimitiveArray::new(ArrowDataType::Float64, metres.into(), Some(validity)))
    });
    let chunks = chunks.into_iter().collect::<PolarsResult<Vec<_>>>()?;
    Ok(Float64Chunked::from_chunk_iter(inputs[0].name().clone(), chunks).into_series())
}

#[polars_expr(output_type_func_with_kwargs=tag_field)]
fn zones_nearest(inputs: &[Series], context: CallerContext, kwargs: ZonesKwargs) -> PolarsResult<Series> {
    let (index, codes) = (kwargs.index()?, kwargs.codes()?);
    build_near_index_first(&index);
    let (lat, lon) = coordinates(inputs, "nearest")?;
    let parallel = !context.parallel();
    let chunks = map_chunks(&lat, &lon, parallel, |la, lo| {
        let nearest = nearest_chunk(&index, la, lo, &kwargs, parallel)?;
        let zones: Vec<u32> = nearest.iter().map(|n| n.zone).collect();
        let validity = marked(&zones, input_validity(la, lo));
        Ok((Cow::Owned(zones), Some(validity)))
    });
    let chunks = chunks.into_iter().collect::<PolarsResult<Vec<_>>>()?;
    zone_codes(inputs[0].name().clone(), &index, codes, kwargs.no_zone_code(), chunks.into_iter(), parallel)
}

#[polars_expr(output_type_func=within_field)]
fn zones_within(inputs: &[Series], context: CallerContext, kwargs: ZonesKwargs) -> PolarsResult<Series> {
    let index = kwargs.index()?;
    let (lat, lon) = coordinates(inputs, "within")?;
    let parallel = !context.parallel();
    let mut zones = first_zones(&index, &lat, &lon, kwargs.boundary, parallel);
    let chunks = map_zoned_chunks(&mut zones, &lat, &lon, parallel, |zones, la, lo| {
        let valid: Bitmap = valid_points(la, lo);
        BooleanArray::new(ArrowDataType::Boolean, found(zones), Some(and_validity(input_validity(la, lo), valid)))
    });
    Ok(BooleanChunked::from_chunk_iter(inputs[0].name().clone(), chunks).into_series())
}

/// Points that can be in a zone at all: finite, latitude in range.
fn valid_points(lat: &PrimitiveArray<f64>, lon: &PrimitiveArray<f64>) -> Bitmap {
    lat.values().iter().zip(lon.values().iter()).map(|(&la, &lo)| snap_query(la, lo).is_some()).collect()
}

#[polars_expr(output_type_func=tag_all_field)]
fn zones_tag_all(inputs: &[Series], context: CallerContext, kwargs: ZonesKwargs) -> PolarsResult<Series> {
    let index = kwargs.index()?;
    let (lat, lon) = coordinates(inputs, "tag_all")?;
    let parallel = !context.parallel();
    let arrays = map_chunks(&lat, &lon, parallel, |la, lo| -> PolarsResult<Box<dyn Array>> {
        let (mut lengths, mut values) = (Vec::with_capacity(la.len()), Vec::new());
        tag_all_slices(&index, la.values(), lo.values(), kwargs.boundary, &mut lengths, &mut values, parallel);
        let validity = and_validity(input_validity(la, lo), valid_points(la, lo));
        if validity.unset_bits() > 0 {
            (lengths, values) = without_null_rows(&lengths, &values, &validity);
        }
        let offsets: OffsetsBuffer<i64> = Offsets::<i64>::try_from_lengths(lengths.iter().map(|&n| n as usize))?.into();
        let values = PrimitiveArray::new(ArrowDataType::UInt32, values.into(), None);
        let dtype = ListArray::<i64>::default_datatype(ArrowDataType::UInt32);
        Ok(Box::new(ListArray::<i64>::new(dtype, offsets, values.boxed(), Some(validity))))
    });
    let arrays = arrays.into_iter().collect::<PolarsResult<Vec<_>>>()?;
    let name = inputs[0].name().clone();
    let out = unsafe { ListChunked::from_chunks_and_dtype(name, arrays, DataType::List(Box::new(DataType::UInt32))) };
    Ok(out.into_series())
}

/// Lists (as lengths and values) with the null rows' lists emptied: a null lat or lon hides a
/// value the kernel tagged like any other, and a consumer reading the list values raw would
/// find its zones.
fn without_null_rows(lengths: &[u32], values: &[u32], validity: &Bitmap) -> (Vec<u32>, Vec<u32>) {
    let (mut kept_lengths, mut kept) = (Vec::with_capacity(lengths.len()), Vec::with_capacity(values.len()));
    let mut start = 0;
    for (row, &n) in lengths.iter().enumerate() {
        let end = start + n as usize;
        if validity.get_bit(row) {
            kept.extend_from_slice(&values[start..end]);
            kept_lengths.push(n);
        } else {
            kept_lengths.push(0);
        }
        start = end;
    }
    (kept_lengths, kept)
}

/// Not part of the API (built only with the `testing` feature, which release wheels do not
/// enable): panics on purpose inside a rayon job, where a kernel bug would, so the test suite
/// can check that such a panic reaches Python as an exception.
#[cfg(feature = "testing")]
#[polars_expr(output_type=Boolean)]
fn zones_panic_for_tests(_inputs: &[Series]) -> PolarsResult<Series> {
    (0..4).into_par_iter().for_each(|i| {
        if i == 3 {
            panic!("polars-zones: deliberate panic for the test suite");
        }
    });
    unreachable!("the parallel loop panics")
}
