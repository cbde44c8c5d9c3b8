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
use pyo3_polars::derive::{polars_expr, CallerContext};
use serde::Deserialize;
use std::sync::Arc;

use crate::boundary::Boundary;
use crate::coords::snap_query;
use crate::index::ZoneIndex;
use crate::query::{tag_all_slices, tag_slices, NO_ZONE};
use crate::store;

#[derive(Deserialize)]
struct ZonesKwargs {
    #[serde(with = "serde_bytes")]
    index: Vec<u8>,
    boundary: String,
    /// Zone names: the output is then an Enum of them.
    ids: Option<Vec<String>>,
}

/// What the output dtype needs, without the index.
#[derive(Deserialize)]
struct OutputKwargs {
    ids: Option<Vec<String>>,
}

fn zone_dtype(ids: &Option<Vec<String>>) -> PolarsResult<DataType> {
    Ok(match ids {
        Some(ids) => DataType::from_frozen_categories(FrozenCategories::new(ids.iter().map(String::as_str))?),
        None => DataType::UInt32,
    })
}

fn tag_output(input_fields: &[Field], kwargs: OutputKwargs) -> PolarsResult<Field> {
    Ok(Field::new(input_fields[0].name().clone(), zone_dtype(&kwargs.ids)?))
}

impl ZonesKwargs {
    fn resolve(&self) -> PolarsResult<(Arc<ZoneIndex>, Boundary)> {
        let boundary: Boundary = self.boundary.parse().map_err(|e: String| polars_err!(InvalidOperation: "{e}"))?;
        let (_, index) = store::get_or_decode(&self.index).map_err(|e| polars_err!(ComputeError: "{e}"))?;
        Ok((index, boundary))
    }
}

/// Latitudes and longitudes as Float64 chunks with the same chunk lengths.
fn coordinates(inputs: &[Series], what: &str) -> PolarsResult<(Float64Chunked, Float64Chunked)> {
    polars_ensure!(inputs.len() == 2, InvalidOperation: "zones.{what} takes a latitude and a longitude expression");
    let as_f64 = |s: &Series, role: &str| -> PolarsResult<Float64Chunked> {
        let dtype = s.dtype();
        polars_ensure!(
            dtype.is_primitive_numeric() || dtype == &DataType::Null,
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
    Ok((lat, lon))
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

#[polars_expr(output_type_func_with_kwargs=tag_output)]
fn zones_tag(inputs: &[Series], context: CallerContext, kwargs: ZonesKwargs) -> PolarsResult<Series> {
    let (index, boundary) = kwargs.resolve()?;
    let (lat, lon) = coordinates(inputs, "tag")?;
    let parallel = !context.parallel();
    let chunks = zone_chunks(&lat, &lon).map(|(la, lo)| {
        let mut zones = vec![NO_ZONE; la.len()];
        tag_slices(&index, la.values(), lo.values(), boundary, &mut zones, parallel);
        let found: Bitmap = zones.iter().map(|&z| z != NO_ZONE).collect();
        let validity = and_validity(input_validity(la, lo), found);
        PrimitiveArray::new(ArrowDataType::UInt32, zones.into(), Some(validity))
    });
    let codes = UInt32Chunked::from_chunk_iter(inputs[0].name().clone(), chunks).into_series();
    match &kwargs.ids {
        None => Ok(codes),
        Some(_) => {
            let dtype = zone_dtype(&kwargs.ids)?;
            let physical = codes.cast(&DataType::from(dtype.cat_physical()?))?;
            Series::from_cats_and_dtype(&physical, &dtype, true)
        }
    }
}

#[polars_expr(output_type=Boolean)]
fn zones_within(inputs: &[Series], context: CallerContext, kwargs: ZonesKwargs) -> PolarsResult<Series> {
    let (index, boundary) = kwargs.resolve()?;
    let (lat, lon) = coordinates(inputs, "within")?;
    let parallel = !context.parallel();
    let chunks = zone_chunks(&lat, &lon).map(|(la, lo)| {
        let mut zones = vec![NO_ZONE; la.len()];
        tag_slices(&index, la.values(), lo.values(), boundary, &mut zones, parallel);
        let inside: Bitmap = zones.iter().map(|&z| z != NO_ZONE).collect();
        let valid: Bitmap = valid_points(la, lo);
        BooleanArray::new(ArrowDataType::Boolean, inside, Some(and_validity(input_validity(la, lo), valid)))
    });
    Ok(BooleanChunked::from_chunk_iter(inputs[0].name().clone(), chunks).into_series())
}

/// Points that can be in a zone at all: finite, latitude in range.
fn valid_points(lat: &PrimitiveArray<f64>, lon: &PrimitiveArray<f64>) -> Bitmap {
    lat.values().iter().zip(lon.values().iter()).map(|(&la, &lo)| snap_query(la, lo).is_some()).collect()
}

fn list_of_u32(_input_fields: &[Field]) -> PolarsResult<Field> {
    Ok(Field::new("zones".into(), DataType::List(Box::new(DataType::UInt32))))
}

#[polars_expr(output_type_func=list_of_u32)]
fn zones_tag_all(inputs: &[Series], context: CallerContext, kwargs: ZonesKwargs) -> PolarsResult<Series> {
    let (index, boundary) = kwargs.resolve()?;
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
