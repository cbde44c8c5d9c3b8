//! GeoJSON in, validated and snapped zones out.
//!
//! The `geojson` crate does the parsing and typing; this module decides what a zone is,
//! checks every coordinate, and says where the input is wrong (element, feature, polygon,
//! ring, vertex) so the user can find it in their file.

use std::collections::HashMap;
use std::fmt;

use geojson::{Feature, Geometry, Value};
use serde_json::Value as Json;

use crate::antimeridian::{crosses_antimeridian, split_polygon, unwrap_polygon, Position};
use crate::validate::{feature_problems, Problem, Vertex};
use crate::coords::{orient, snap, Point};
use crate::geometry::ZoneGeometry;

/// A problem in the input, with where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestError(pub String);

impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for IngestError {}

/// What ingestion repaired or dropped without refusing the input.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct IngestReport {
    /// Rings with fewer than 3 distinct vertices or all vertices on one line: they contain
    /// no point, so they are dropped (quantized TopoJSON produces many).
    pub degenerate_rings: usize,
    /// Polygons written across the antimeridian, unwrapped and cut into planar pieces.
    pub antimeridian_polygons: usize,
}

/// What to make of longitudes past ±180 and of jumps of more than 180° between vertices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Antimeridian {
    /// They cross the antimeridian: unwrap the ring and cut it at ±180 (see `antimeridian`).
    #[default]
    Split,
    /// Take coordinates literally; refuse longitudes outside [-180, 180].
    Planar,
}

/// How the sources map to zones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grouping {
    /// One source: each feature of a FeatureCollection is a zone (or, with an id property,
    /// each distinct id); a lone Feature or geometry is one zone.
    FeaturesAreZones,
    /// A list of sources: each element is one zone (elements sharing an id form one zone).
    ElementsAreZones,
}

/// Where in the input something is.
#[derive(Clone, Debug, Default)]
struct Location {
    element: Option<usize>,
    feature: Option<usize>,
    polygon: Option<usize>,
    ring: Option<usize>,
    vertex: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts = [
            ("element", self.element),
            ("feature", self.feature),
            ("polygon", self.polygon),
            ("ring", self.ring),
            ("vertex", self.vertex),
        ];
        let mut first = true;
        for (name, value) in parts {
            if let Some(v) = value {
                write!(f, "{}{name} {v}", if first { "" } else { ", " })?;
                first = false;
            }
        }
        if first {
            f.write_str("input")?;
        }
        Ok(())
    }
}

fn error(at: &Location, message: impl fmt::Display) -> IngestError {
    IngestError(format!("{at}: {message}"))
}

/// A feature's geometry with where it came from and the zone key it belongs to.
struct RawFeature {
    at: Location,
    id: Option<String>,
    geometry: Geometry,
}

/// Parses GeoJSON texts into zones. With `Grouping::ElementsAreZones`, `texts` holds one
/// text per zone; otherwise exactly one text. Rings across the antimeridian are split.
pub fn zones_from_geojson(
    texts: &[&str],
    grouping: Grouping,
    id_property: Option<&str>,
) -> Result<(ZoneGeometry, IngestReport), IngestError> {
    zones_from_geojson_with(texts, grouping, id_property, Antimeridian::Split)
}

/// `zones_from_geojson` with a choice of antimeridian rule.
pub fn zones_from_geojson_with(
    texts: &[&str],
    grouping: Grouping,
    id_property: Option<&str>,
    rule: Antimeridian,
) -> Result<(ZoneGeometry, IngestReport), IngestError> {
    if texts.is_empty() {
        return Err(IngestError("no zones: the list of sources is empty".into()));
    }
    // Parse every source into features, remembering which element each came from.
    let mut per_element = Vec::with_capacity(texts.len());
    for (i, text) in texts.iter().enumerate() {
        let at = Location {
            element: (grouping == Grouping::ElementsAreZones).then_some(i),
            ..Location::default()
        };
        per_element.push(read_features(text, &at, id_property)?);
    }

    // Zone keys in order of first appearance.
    let mut zone_of_key: HashMap<String, u32> = HashMap::new();
    let mut ids: Vec<String> = Vec::new();
    let mut assigned: Vec<(u32, RawFeature)> = Vec::new();
    let mut next_zone = 0u32;
    for (i, features) in per_element.into_iter().enumerate() {
        match grouping {
            Grouping::ElementsAreZones => {
                let element_id = common_id(&features, i)?;
                let zone = match element_id {
                    Some(id) => *zone_of_key.entry(id.clone()).or_insert_with(|| {
                        ids.push(id);
                        next_zone += 1;
                        next_zone - 1
                    }),
                    None => {
                        next_zone += 1;
                        next_zone - 1
                    }
                };
                assigned.extend(features.into_iter().map(|f| (zone, f)));
            }
            Grouping::FeaturesAreZones => {
                if features.is_empty() {
                    return Err(IngestError(
                        "no zones: the FeatureCollection has no features".into(),
                    ));
                }
                for f in features {
                    let zone = match &f.id {
                        Some(id) => *zone_of_key.entry(id.clone()).or_insert_with(|| {
                            ids.push(id.clone());
                            next_zone += 1;
                            next_zone - 1
                        }),
                        None => {
                            next_zone += 1;
                            next_zone - 1
                        }
                    };
                    assigned.push((zone, f));
                }
            }
        }
    }

    let ids = id_property.map(|_| ids);
    let mut zones = ZoneGeometry::new(next_zone, ids);
    let mut report = IngestReport::default();
    for (zone, feature) in assigned {
        let mut polygons = Vec::new();
        collect_polygons(&feature.geometry.value, &feature.at, &mut polygons)?;
        for (p, rings) in polygons.into_iter().enumerate() {
            let read = read_polygon(rings, &Location { polygon: Some(p), ..feature.at.clone() }, rule)?;
            if rule == Antimeridian::Split && crosses_antimeridian(&read) {
                report.antimeridian_polygons += 1;
                // Pieces of clipped rings may be degenerate (a sliver on ±180): dropped, not
                // counted, since the input ring was fine.
                for piece in split_polygon(&read) {
                    let snapped: Vec<Vec<Point>> = piece.iter().filter_map(|ring| snap_ring(ring)).collect();
                    if !snapped.is_empty() {
                        zones.push_polygon(zone, &snapped);
                    }
                }
                continue;
            }
            let mut snapped = Vec::with_capacity(read.len());
            for ring in &read {
                match snap_ring(ring) {
                    Some(ring) => snapped.push(ring),
                    None => report.degenerate_rings += 1,
                }
            }
            if !snapped.is_empty() {
                zones.push_polygon(zone, &snapped);
            }
        }
    }
    Ok((zones, report))
}

/// A problem `validate_geojson` found, with the element and feature it is in.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureProblem {
    pub element: Option<usize>,
    pub feature: Option<usize>,
    pub problem: Problem,
}

/// Every problem in the polygons of the input (see `validate`), in input order. Input the
/// ingestion would refuse is the same error here.
pub fn validate_geojson(
    texts: &[&str],
    grouping: Grouping,
    id_property: Option<&str>,
    rule: Antimeridian,
) -> Result<Vec<FeatureProblem>, IngestError> {
    let mut out = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let at = Location { element: (grouping == Grouping::ElementsAreZones).then_some(i), ..Location::default() };
        for feature in read_features(text, &at, id_property)? {
            let mut polygons = Vec::new();
            collect_polygons(&feature.geometry.value, &feature.at, &mut polygons)?;
            let mut snapped = Vec::with_capacity(polygons.len());
            let mut notes = Vec::new();
            for (p, rings) in polygons.iter().enumerate() {
                let mut read = read_polygon(rings, &Location { polygon: Some(p), ..feature.at.clone() }, rule)?;
                if rule == Antimeridian::Split && crosses_antimeridian(&read) {
                    let first = read[0].first().copied().unwrap_or([0.0, 0.0]);
                    notes.push(Problem {
                        polygon: p, ring: None, vertex: None, kind: "crosses antimeridian", lon: first[0], lat: first[1],
                        detail: "written across ±180: unwrapped and cut at the antimeridian (not an error)".into(),
                    });
                    read = unwrap_polygon(&read);
                }
                let units = |x: f64| (x * crate::coords::UNITS_PER_DEGREE).round() as i64;
                snapped.push(read.iter().map(|ring| ring.iter().map(|&[lon, lat]| (units(lon), units(lat))).collect()).collect::<Vec<Vec<Vertex>>>());
            }
            let (element, feature_index) = (feature.at.element, feature.at.feature);
            for problem in notes.into_iter().chain(feature_problems(&snapped)) {
                out.push(FeatureProblem { element, feature: feature_index, problem });
            }
        }
    }
    Ok(out)
}

/// The id every feature of one list element shares, if ids are in use.
fn common_id(features: &[RawFeature], element: usize) -> Result<Option<String>, IngestError> {
    let mut ids = features.iter().map(|f| f.id.clone());
    let Some(first) = ids.next() else {
        return Err(IngestError(format!("element {element}: no features")));
    };
    if let Some(other) = ids.find(|id| *id != first) {
        return Err(IngestError(format!(
            "element {element}: features name different zones ({:?} and {:?}); \
             each list element is one zone",
            first.unwrap_or_default(),
            other.unwrap_or_default()
        )));
    }
    Ok(first)
}

fn read_features(
    text: &str,
    at: &Location,
    id_property: Option<&str>,
) -> Result<Vec<RawFeature>, IngestError> {
    let mut json: Json = serde_json::from_str(text).map_err(|e| error(at, format!("invalid JSON: {e}")))?;
    let kind = json.get("type").and_then(Json::as_str).unwrap_or("").to_string();
    match kind.as_str() {
        "FeatureCollection" => {
            let Some(Json::Array(features)) = json.get_mut("features").map(Json::take) else {
                return Err(error(at, "a FeatureCollection needs a \"features\" array"));
            };
            let mut out = Vec::with_capacity(features.len());
            for (i, f) in features.into_iter().enumerate() {
                let at = Location { feature: Some(i), ..at.clone() };
                out.push(read_feature(f, &at, id_property)?);
            }
            Ok(out)
        }
        "Feature" => Ok(vec![read_feature(json, at, id_property)?]),
        "Polygon" | "MultiPolygon" | "GeometryCollection" => {
            if let Some(name) = id_property {
                return Err(error(
                    at,
                    format!("id_property {name:?} needs Features, but this is a bare {kind} geometry"),
                ));
            }
            let geometry = Geometry::from_json_value(json).map_err(|e| error(at, e))?;
            Ok(vec![RawFeature { at: at.clone(), id: None, geometry }])
        }
        "" => Err(error(at, "not a GeoJSON object (no \"type\" member)")),
        other => Err(error(
            at,
            format!("a {other} is not a zone: expected a FeatureCollection, Feature, Polygon, MultiPolygon or GeometryCollection"),
        )),
    }
}

fn read_feature(json: Json, at: &Location, id_property: Option<&str>) -> Result<RawFeature, IngestError> {
    let feature = Feature::from_json_value(json).map_err(|e| error(at, e))?;
    let id = match id_property {
        None => None,
        Some(name) => Some(match feature.property(name) {
            None | Some(Json::Null) => {
                return Err(error(at, format!("the feature has no property {name:?} (id_property)")))
            }
            Some(Json::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        }),
    };
    let Some(geometry) = feature.geometry else {
        return Err(error(at, "the feature has no geometry"));
    };
    Ok(RawFeature { at: at.clone(), id, geometry })
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

/// Reads and validates a polygon's rings (`at` names the polygon).
fn read_polygon(rings: &[Vec<Vec<f64>>], at: &Location, rule: Antimeridian) -> Result<Vec<Vec<Position>>, IngestError> {
    rings.iter().enumerate().map(|(r, ring)| read_ring(ring, &Location { ring: Some(r), ..at.clone() }, rule)).collect()
}

/// Reads and validates a ring's positions. With `Antimeridian::Planar`, longitudes must lie
/// in [-180, 180]; with `Split`, up to ±540 (a ring written as 170..190 or -190..-170).
fn read_ring(ring: &[Vec<f64>], at: &Location, rule: Antimeridian) -> Result<Vec<Position>, IngestError> {
    let mut out = Vec::with_capacity(ring.len());
    for (v, position) in ring.iter().enumerate() {
        let at = Location { vertex: Some(v), ..at.clone() };
        let [lon, lat] = match position.as_slice() {
            [lon, lat, ..] => [*lon, *lat],
            _ => return Err(error(&at, format!("a position needs 2 numbers, got {position:?}"))),
        };
        if !lon.is_finite() || !lat.is_finite() {
            return Err(error(&at, format!("coordinate ({lon}, {lat}) is not finite")));
        }
        match rule {
            Antimeridian::Planar if !(-180.0..=180.0).contains(&lon) => {
                return Err(error(
                    &at,
                    format!(
                        "longitude {lon} is outside [-180, 180] (planar zones: with antimeridian=\"split\", \
                         the default, rings crossing 180 are unwrapped and cut)"
                    ),
                ))
            }
            Antimeridian::Split if !(-540.0..=540.0).contains(&lon) => {
                return Err(error(&at, format!("longitude {lon} is outside [-540, 540]")))
            }
            _ => {}
        }
        if !(-90.0..=90.0).contains(&lat) {
            return Err(error(&at, format!("latitude {lat} is outside [-90, 90]")));
        }
        out.push([lon, lat]);
    }
    Ok(out)
}

/// Snaps a ring; closes it and drops repeated vertices. `None` for a degenerate ring (fewer
/// than 3 distinct vertices, or all on one line).
fn snap_ring(ring: &[Position]) -> Option<Vec<Point>> {
    let mut out: Vec<Point> = Vec::with_capacity(ring.len());
    for &[lon, lat] in ring {
        let p = Point::new(snap(lon), snap(lat));
        if out.last() != Some(&p) {
            out.push(p);
        }
    }
    while out.len() > 1 && out.first() == out.last() {
        out.pop();
    }
    if out.len() < 3 {
        return None;
    }
    let (a, b) = (out[0], out[1]);
    if out.iter().all(|&p| orient(a, b, p) == 0) {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Result<(ZoneGeometry, IngestReport), IngestError> {
        zones_from_geojson(&[text], Grouping::FeaturesAreZones, None)
    }

    /// GeoJSON that exercises holes, multipolygons, ids and the antimeridian paths.
    const FUZZ_SEED_TEXT: &str = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"A3":"AAA"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[1,1],[2,1],[2,2],[1,1]]]}},
      {"type":"Feature","properties":{"A3":"BBB"},"geometry":{"type":"MultiPolygon","coordinates":[[[[170,-20],[190,-20],[190,-10],[170,-10],[170,-20]]],[[[4,0],[8,0],[8,4],[4,0]]]]}},
      {"type":"Feature","properties":{"A3":"CCC"},"geometry":{"type":"Polygon","coordinates":[[[175,60],[-175,60],[-175,65],[175,65],[175,60]]]}},
      {"type":"Feature","properties":{"A3":"DDD"},"geometry":{"type":"Polygon","coordinates":[[[-180,-60],[180,-60],[180,-90],[-180,-90],[-180,-60]]]}}]}"#;

    /// Ingestion never panics on damaged GeoJSON; whatever it accepts builds an index that
    /// agrees with the brute-force reference.
    #[test]
    fn fuzz_ingest() {
        use crate::boundary::Boundary;
        use crate::coords::Point;
        use crate::fuzzing::{for_a_while, mutate};
        use crate::index::ZoneIndex;
        use crate::reference::zones_containing;
        let interesting: [&[u8]; 14] = [
            b"1e308", b"-1e308", b"NaN", b"[", b"]", b"{", b"}", b",", b"null", b"180.0000001", b"-540",
            b"[[[", b"\"Polygon\"", b"0.5",
        ];
        let mut accepted = 0;
        let cases = for_a_while("fuzz_ingest", |rng, _| {
            let bytes = mutate(rng, FUZZ_SEED_TEXT.as_bytes(), &interesting);
            let Ok(text) = std::str::from_utf8(&bytes) else { return };
            let id = if rng.chance(2) { Some("A3") } else { None };
            let rule = if rng.chance(4) { Antimeridian::Planar } else { Antimeridian::Split };
            let Ok((geometry, _)) = zones_from_geojson_with(&[text], Grouping::FeaturesAreZones, id, rule) else { return };
            accepted += 1;
            let index = ZoneIndex::build(geometry.clone());
            for _ in 0..20 {
                let p = Point::new(
                    (rng.next() % 3_600_000_000) as i64 as i32 - 1_800_000_000 + 0,
                    (rng.next() % 1_800_000_001) as i64 as i32 - 900_000_000,
                );
                for mode in [Boundary::HalfOpen, Boundary::Inclusive, Boundary::Exclusive] {
                    let want = zones_containing(&geometry, p, mode);
                    let mut got = Vec::new();
                    index.all_zones(p, mode, &mut got);
                    assert_eq!(got, want, "{p:?} {mode:?} in {text}");
                }
            }
        });
        assert!(cases > 50);
        eprintln!("fuzz_ingest: {accepted} mutated inputs accepted (index agreed with the reference)");
    }

    /// Random rings anywhere in [-540, 540] × [-90, 90], jumps and poles included: split
    /// zones agree with the reference, and never panic.
    #[test]
    fn fuzz_antimeridian_rings() {
        use crate::boundary::Boundary;
        use crate::coords::Point;
        use crate::fuzzing::for_a_while;
        use crate::index::ZoneIndex;
        use crate::reference::zones_containing;
        for_a_while("fuzz_antimeridian_rings", |rng, _| {
            let n = 3 + rng.below(12);
            let centre = rng.below(1081) as f64 - 540.0;
            let ring: Vec<String> = (0..n)
                .map(|_| {
                    let lon = centre + (rng.below(200_001) as f64 - 100_000.0) / 500.0;
                    let lat = (rng.below(180_001) as f64 - 90_000.0) / 1000.0;
                    format!("[{},{}]", lon.clamp(-540.0, 540.0), lat)
                })
                .collect();
            let text = format!(r#"{{"type":"Polygon","coordinates":[[{}]]}}"#, ring.join(","));
            let (geometry, _) = zones_from_geojson(&[&text], Grouping::FeaturesAreZones, None).expect("valid input");
            let index = ZoneIndex::build(geometry.clone());
            for _ in 0..10 {
                let p = Point::new(
                    (rng.next() % 3_600_000_000) as i64 as i32 - 1_800_000_000,
                    (rng.next() % 1_800_000_001) as i64 as i32 - 900_000_000,
                );
                let want = zones_containing(&geometry, p, Boundary::HalfOpen);
                let mut got = Vec::new();
                index.all_zones(p, Boundary::HalfOpen, &mut got);
                assert_eq!(got, want, "{p:?} in {text}");
            }
        });
    }

    const SQUARE: &str = r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}"#;

    #[test]
    fn polygon_is_one_zone_with_closed_ring() {
        let (z, report) = one(SQUARE).unwrap();
        assert_eq!(z.zone_count, 1);
        assert_eq!(z.polygon_count(), 1);
        assert_eq!(z.vertices.len(), 5);
        assert_eq!(z.num_vertices(), 4);
        assert_eq!(z.vertices[0], z.vertices[4]);
        assert_eq!(report.degenerate_rings, 0);
        assert_eq!(z.ids, None);
    }

    #[test]
    fn unclosed_rings_are_closed_and_repeats_dropped() {
        let (z, _) = one(r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,0],[1,1],[0,1]]]}"#).unwrap();
        assert_eq!(z.num_vertices(), 4);
    }

    #[test]
    fn degenerate_rings_are_dropped_and_counted() {
        let text = r#"{"type":"MultiPolygon","coordinates":[
            [[[0,0],[1,0],[1,1],[0,0]]],
            [[[0,0],[1,1],[2,2],[0,0]]],
            [[[5,5],[5,5],[6,6]]]]}"#;
        let (z, report) = one(text).unwrap();
        assert_eq!(z.polygon_count(), 1);
        assert_eq!(report.degenerate_rings, 2);
    }

    #[test]
    fn features_sharing_an_id_form_one_zone_in_first_seen_order() {
        let fc = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"k":"B"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}},
          {"type":"Feature","properties":{"k":"A"},"geometry":{"type":"Polygon","coordinates":[[[2,0],[3,0],[3,1],[2,0]]]}},
          {"type":"Feature","properties":{"k":"B"},"geometry":{"type":"Polygon","coordinates":[[[4,0],[5,0],[5,1],[4,0]]]}}]}"#;
        let (z, _) = zones_from_geojson(&[fc], Grouping::FeaturesAreZones, Some("k")).unwrap();
        assert_eq!(z.ids, Some(vec!["B".to_string(), "A".to_string()]));
        assert_eq!(z.polygon_zone, vec![0, 1, 0]);
    }

    #[test]
    fn list_elements_are_zones() {
        let (z, _) = zones_from_geojson(&[SQUARE, SQUARE, SQUARE], Grouping::ElementsAreZones, None).unwrap();
        assert_eq!(z.zone_count, 3);
        assert_eq!(z.polygon_zone, vec![0, 1, 2]);
    }

    #[test]
    fn errors_say_what_and_where() {
        let bad_lat = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}},
          {"type":"Feature","properties":{},"geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[0,0],[1,0],[1,95],[0,0]]]]}}]}"#;
        let e = one(bad_lat).unwrap_err().0;
        assert_eq!(e, "feature 1, polygon 1, ring 0, vertex 2: latitude 95 is outside [-90, 90]");

        let e = one(r#"{"type":"LineString","coordinates":[[0,0],[1,1]]}"#).unwrap_err().0;
        assert!(e.contains("LineString is not a zone"), "{e}");
        let e = one("{not json").unwrap_err().0;
        assert!(e.starts_with("input: invalid JSON"), "{e}");
        let e = one(r#"{"type":"FeatureCollection","features":[]}"#).unwrap_err().0;
        assert!(e.contains("no features"), "{e}");
        let e = one(r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,"x"],[0,0]]]}"#).unwrap_err().0;
        assert!(e.starts_with("input:"), "{e}");
        let fc = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":null}]}"#;
        let e = zones_from_geojson(&[fc], Grouping::FeaturesAreZones, Some("A3")).unwrap_err().0;
        assert_eq!(e, "feature 0: the feature has no property \"A3\" (id_property)");
        let planar = |t: &str| zones_from_geojson_with(&[t], Grouping::FeaturesAreZones, None, Antimeridian::Planar);
        let e = planar(r#"{"type":"Polygon","coordinates":[[[0,0],[190,0],[1,1],[0,0]]]}"#).unwrap_err().0;
        assert!(e.contains("vertex 1: longitude 190 is outside [-180, 180]"), "{e}");
        let e = one(r#"{"type":"Polygon","coordinates":[[[0,0],[590,0],[1,1],[0,0]]]}"#).unwrap_err().0;
        assert!(e.contains("vertex 1: longitude 590 is outside [-540, 540]"), "{e}");
    }
}
