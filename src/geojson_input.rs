//! GeoJSON in: features read with the `geojson` crate, their ids turned into zone names and
//! their polygons checked and snapped (`source`), legacy CRS members refused.

use geojson::{Feature, Geometry, Value};
use serde_json::Value as Json;

use crate::coords::WidePoint;
use crate::source::{check_position, error, Antimeridian, IngestError, Location};

/// A feature as read: where it is, the zone key it belongs to, and its polygons, each a list
/// of rings snapped to `WidePoint`s (not yet cut at the antimeridian).
pub struct ReadFeature {
    pub at: Location,
    pub id: Option<String>,
    pub polygons: Vec<Vec<Vec<WidePoint>>>,
    /// The feature's properties, as JSON text.
    pub properties: Option<String>,
}

/// The features of one GeoJSON text, and how many were skipped for a null geometry.
pub fn read_features(
    text: &str,
    at: &Location,
    id_property: Option<&str>,
    rule: Antimeridian,
) -> Result<(Vec<ReadFeature>, usize), IngestError> {
    let mut json: Json = serde_json::from_str(text).map_err(|e| error(at, format!("invalid JSON: {e}")))?;
    check_legacy_crs(&json, at)?;
    let kind = json.get("type").and_then(Json::as_str).unwrap_or("").to_string();
    let mut skipped = 0;
    let mut keep = |feature: Option<ReadFeature>| {
        skipped += usize::from(feature.is_none());
        feature
    };
    let features = match kind.as_str() {
        "FeatureCollection" => {
            let Some(Json::Array(features)) = json.get_mut("features").map(Json::take) else {
                return Err(error(at, "a FeatureCollection needs a \"features\" array"));
            };
            let mut out = Vec::with_capacity(features.len());
            for (i, f) in features.into_iter().enumerate() {
                let at = Location { feature: Some(i), ..at.clone() };
                out.extend(keep(read_feature(f, &at, id_property, rule)?));
            }
            out
        }
        "Feature" => keep(read_feature(json, at, id_property, rule)?).into_iter().collect(),
        "Polygon" | "MultiPolygon" | "GeometryCollection" => {
            if let Some(name) = id_property {
                return Err(error(
                    at,
                    format!("id_property {name:?} needs Features, but this is a bare {kind} geometry"),
                ));
            }
            let geometry = Geometry::from_json_value(json).map_err(|e| error(at, e))?;
            vec![ReadFeature { at: at.clone(), id: None, polygons: read_geometry(&geometry, at, rule)?, properties: None }]
        }
        "" => return Err(error(at, "not a GeoJSON object (no \"type\" member)")),
        other => {
            return Err(error(
                at,
                format!("a {other} is not a zone: expected a FeatureCollection, Feature, Polygon, MultiPolygon or GeometryCollection"),
            ))
        }
    };
    Ok((features, skipped))
}

/// CRS names a legacy (pre-RFC 7946) `crs` member may give for longitude/latitude on WGS84.
const LON_LAT_CRS_NAMES: [&str; 7] = [
    "urn:ogc:def:crs:OGC:1.3:CRS84",
    "urn:ogc:def:crs:OGC::CRS84",
    "OGC:CRS84",
    "CRS84",
    "urn:ogc:def:crs:EPSG::4326",
    "EPSG:4326",
    "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
];

/// RFC 7946 GeoJSON is always longitude/latitude on WGS84, but older files may name another
/// CRS in a `crs` member: coordinates in metres (EPSG:3857, a UTM zone) would be refused
/// as out of range at best and tagged wrongly at worst, so a CRS other than WGS84 is refused.
fn check_legacy_crs(json: &Json, at: &Location) -> Result<(), IngestError> {
    let Some(crs) = json.get("crs").filter(|c| !c.is_null()) else { return Ok(()) };
    let name = crs.pointer("/properties/name").and_then(Json::as_str);
    if name.is_some_and(|n| LON_LAT_CRS_NAMES.iter().any(|known| known.eq_ignore_ascii_case(n))) {
        return Ok(());
    }
    let named = name.map_or_else(|| crs.to_string(), |n| format!("{n:?}"));
    Err(error(
        at,
        format!(
            "the GeoJSON's legacy \"crs\" member names the CRS {named}; polars-zones reads longitude/latitude \
             on WGS84 (EPSG:4326 / CRS84): reproject the file first (e.g. ogr2ogr -t_srs EPSG:4326, or \
             geopandas .to_crs(4326)), or remove the member if the coordinates already are longitude/latitude"
        ),
    ))
}

/// A feature, or `None` when its geometry is null (skipped, id and all).
fn read_feature(
    json: Json,
    at: &Location,
    id_property: Option<&str>,
    rule: Antimeridian,
) -> Result<Option<ReadFeature>, IngestError> {
    let mut feature = Feature::from_json_value(json).map_err(|e| error(at, e))?;
    let Some(geometry) = feature.geometry.take() else { return Ok(None) };
    let id = match id_property {
        None => None,
        Some(name) => match feature.property(name) {
            None | Some(Json::Null) => {
                return Err(error(at, format!("the feature has no property {name:?} (id_property)")))
            }
            Some(value) => Some(zone_name(value)),
        },
    };
    let properties = feature.properties.as_ref().map(|p| Json::Object(p.clone()).to_string());
    Ok(Some(ReadFeature { at: at.clone(), id, polygons: read_geometry(&geometry, at, rule)?, properties }))
}

/// The name of the zone an id property gives: features whose ids have the same name form
/// one zone. A string is its own name; a number is written in its shortest form, an
/// integer-valued one without a fraction (1, 1.0 and "1" all name zone "1"); true and false
/// are "true" and "false"; an array or object is its JSON text.
pub fn zone_name(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        Json::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 => (f as i64).to_string(),
            (_, _, Some(f)) => f.to_string(),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// The polygons of a geometry, read and snapped (`at` names the feature).
fn read_geometry(
    geometry: &Geometry,
    at: &Location,
    rule: Antimeridian,
) -> Result<Vec<Vec<Vec<WidePoint>>>, IngestError> {
    let mut polygons = Vec::new();
    collect_polygons(&geometry.value, at, &mut polygons)?;
    polygons
        .into_iter()
        .enumerate()
        .map(|(p, rings)| read_polygon(rings, &Location { polygon: Some(p), ..at.clone() }, rule))
        .collect()
}

/// The polygons (lists of rings) of a geometry.
fn collect_polygons<'g>(
    value: &'g Value,
    at: &Location,
    out: &mut Vec<&'g Vec<Vec<Vec<f64>>>>,
) -> Result<(), IngestError> {
    match value {
        Value::Polygon(rings) => out.push(rings),
        Value::MultiPolygon(polygons) => out.extend(polygons.iter()),
        Value::GeometryCollection(members) => {
            for g in members {
                collect_polygons(&g.value, at, out)?;
            }
        }
        other => {
            return Err(error(
                at,
                format!("a {} is not a zone: only Polygon and MultiPolygon geometries are", other.type_name()),
            ))
        }
    }
    Ok(())
}

/// Reads, validates and snaps a polygon's rings (`at` names the polygon).
fn read_polygon(
    rings: &[Vec<Vec<f64>>],
    at: &Location,
    rule: Antimeridian,
) -> Result<Vec<Vec<WidePoint>>, IngestError> {
    rings.iter().enumerate().map(|(r, ring)| read_ring(ring, &Location { ring: Some(r), ..at.clone() }, rule)).collect()
}

/// Reads, validates and snaps a ring's positions. With `Antimeridian::Planar`, longitudes must
/// lie in [-180, 180]; with `Split`, up to ±540 (a ring written as 170..190 or -190..-170).
/// Ranges are checked on the snapped values, so float noise past 180 (180.00000000000006,
/// as Natural Earth has) is 180.
fn read_ring(ring: &[Vec<f64>], at: &Location, rule: Antimeridian) -> Result<Vec<WidePoint>, IngestError> {
    let mut out = Vec::with_capacity(ring.len());
    for (v, position) in ring.iter().enumerate() {
        let at = Location { vertex: Some(v), ..at.clone() };
        let [lon, lat] = match position.as_slice() {
            [lon, lat, ..] => [*lon, *lat],
            _ => return Err(error(&at, format!("a position needs 2 numbers, got {position:?}"))),
        };
        out.push(check_position(lon, lat, &at, rule)?);
    }
    Ok(out)
}
