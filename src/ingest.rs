//! Zones out of what the readers read (GeoJSON in `geojson_input`, WKB in `wkb_input`): which
//! features form which zone, polygons cut at the antimeridian, rings closed and degenerate
//! ones dropped, what was repaired reported; and the problems `Zones.validate` lists.

use std::collections::HashMap;

use crate::antimeridian::{crosses_antimeridian, cut_to_window, note, unwrap_polygon, unwrap_polygon_noting_closures};
use crate::coords::{orient, to_degrees, Point, WidePoint};
use crate::geojson_input::{read_features, ReadFeature};
use crate::geometry::ZoneGeometry;
use crate::source::Location;
pub use crate::source::{Antimeridian, IngestError};
use crate::validate::{feature_problems, Problem};

/// What ingestion repaired or dropped without refusing the input.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct IngestReport {
    /// Rings with fewer than 3 distinct vertices or all vertices on one line: they contain
    /// no point, so they are dropped (quantized TopoJSON produces many).
    pub degenerate_rings: usize,
    /// Polygons written across the antimeridian, unwrapped and cut into planar pieces.
    pub antimeridian_polygons: usize,
    /// Features with `"geometry": null` (RFC 7946 allows them): skipped, id and all. WKB rows
    /// that are null: empty zones, so that zone i stays row i.
    pub null_geometries: usize,
    /// Per zone, the properties of its first feature as a JSON object's text (GeoJSON input).
    pub properties: Vec<Option<String>>,
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

/// The one parse loop behind ingestion and validation: every source's features, read and
/// checked (what is wrong is an error naming where), and how many features had no geometry.
fn read_sources(
    texts: &[&str],
    grouping: Grouping,
    id_property: Option<&str>,
    rule: Antimeridian,
) -> Result<(Vec<Vec<ReadFeature>>, usize), IngestError> {
    if texts.is_empty() {
        return Err(IngestError("no zones: the list of sources is empty".into()));
    }
    let mut per_element = Vec::with_capacity(texts.len());
    let mut null_geometries = 0;
    for (i, text) in texts.iter().enumerate() {
        let at = Location { element: (grouping == Grouping::ElementsAreZones).then_some(i), ..Location::default() };
        let (features, skipped) = read_features(text, &at, id_property, rule)?;
        null_geometries += skipped;
        per_element.push(features);
    }
    Ok((per_element, null_geometries))
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
    let (per_element, null_geometries) = read_sources(texts, grouping, id_property, rule)?;
    let mut report = IngestReport { null_geometries, ..IngestReport::default() };
    let mut keys = ZoneKeys::default();
    let mut assigned: Vec<(u32, ReadFeature)> = Vec::new();
    for (i, features) in per_element.into_iter().enumerate() {
        match grouping {
            Grouping::ElementsAreZones => {
                let zone = keys.zone(common_id(&features, i)?);
                assigned.extend(features.into_iter().map(|f| (zone, f)));
            }
            Grouping::FeaturesAreZones => {
                if features.is_empty() {
                    let what = if null_geometries > 0 {
                        "no feature has a geometry"
                    } else {
                        "the FeatureCollection has no features"
                    };
                    return Err(IngestError(format!("no zones: {what}")));
                }
                assigned.extend(features.into_iter().map(|mut f| (keys.zone(f.id.take()), f)));
            }
        }
    }
    let mut zones = ZoneGeometry::new(keys.count, id_property.map(|_| keys.ids));
    report.properties = vec![None; keys.count as usize];
    for (zone, mut feature) in assigned {
        for polygon in &feature.polygons {
            add_polygon(&mut zones, zone, polygon, rule, &mut report);
        }
        let first = &mut report.properties[zone as usize];
        if first.is_none() {
            *first = feature.properties.take();
        }
    }
    Ok((zones, report))
}

/// Zones from WKB or EWKB geometries, one zone per row, or per distinct id with `ids`. A null
/// row is an empty zone (it contains no point), so that zone i is row i without ids.
pub fn zones_from_wkb(
    rows: &[Option<&[u8]>],
    ids: Option<&[String]>,
    rule: Antimeridian,
) -> Result<(ZoneGeometry, IngestReport), IngestError> {
    if rows.is_empty() {
        return Err(IngestError("no zones: there are no geometries".into()));
    }
    if let Some(ids) = ids.filter(|ids| ids.len() != rows.len()) {
        return Err(IngestError(format!("{} geometries but {} ids", rows.len(), ids.len())));
    }
    let mut report = IngestReport::default();
    let mut keys = ZoneKeys::default();
    let mut assigned = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let at = Location { row: Some(i), ..Location::default() };
        let zone = keys.zone(ids.map(|ids| ids[i].clone()));
        match row {
            Some(bytes) => assigned.push((zone, crate::wkb_input::read_wkb(bytes, &at, rule)?)),
            None => report.null_geometries += 1,
        }
    }
    let mut zones = ZoneGeometry::new(keys.count, ids.map(|_| keys.ids));
    for (zone, polygons) in assigned {
        for polygon in &polygons {
            add_polygon(&mut zones, zone, polygon, rule, &mut report);
        }
    }
    Ok((zones, report))
}

/// Zone keys in order of first appearance: a zone per distinct id, and one per feature (or
/// element) without an id.
#[derive(Default)]
struct ZoneKeys {
    of_id: HashMap<String, u32>,
    ids: Vec<String>,
    count: u32,
}

impl ZoneKeys {
    fn zone(&mut self, id: Option<String>) -> u32 {
        let Some(id) = id else {
            self.count += 1;
            return self.count - 1;
        };
        if let Some(&zone) = self.of_id.get(&id) {
            return zone;
        }
        self.of_id.insert(id.clone(), self.count);
        self.ids.push(id);
        self.count += 1;
        self.count - 1
    }
}

/// Adds one polygon to a zone: cut at the antimeridian when it crosses it, rings closed and
/// degenerate ones dropped (and counted, unless they are slivers the cut made).
fn add_polygon(
    zones: &mut ZoneGeometry,
    zone: u32,
    rings: &[Vec<WidePoint>],
    rule: Antimeridian,
    report: &mut IngestReport,
) {
    // Read across the antimeridian, the rings unwrapped: a shell closed along a pole if it
    // goes round one (a parallel all the way round is a polar cap, not a line).
    let unwrapped = (rule == Antimeridian::Split && crosses_antimeridian(rings)).then(|| unwrap_polygon(rings));
    let shell = unwrapped.as_deref().unwrap_or(rings).first();
    if shell.is_none_or(|shell| degenerate(&distinct(shell))) {
        // Holes cut from nothing are nothing (alone, the even-odd rule would make them parts).
        report.degenerate_rings += rings.len();
        return;
    }
    if let Some(unwrapped) = unwrapped {
        report.antimeridian_polygons += 1;
        let closed: Vec<Vec<Point>> = cut_to_window(&unwrapped).iter().filter_map(|ring| close_ring(ring)).collect();
        if !closed.is_empty() {
            zones.push_polygon(zone, &closed);
        }
        return;
    }
    let mut closed = Vec::with_capacity(rings.len());
    for ring in rings {
        match close_ring(ring) {
            Some(ring) => closed.push(ring),
            None => report.degenerate_rings += 1,
        }
    }
    zones.push_polygon(zone, &closed);
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
    for feature in read_sources(texts, grouping, id_property, rule)?.0.into_iter().flatten() {
        let mut notes = Vec::new();
        let mut unwrapped = Vec::with_capacity(feature.polygons.len());
        // Per polygon, the meridians unwrapping closed rings along (in degrees), and the poles.
        let mut closures: Vec<Vec<f64>> = Vec::with_capacity(feature.polygons.len());
        for (p, rings) in feature.polygons.into_iter().enumerate() {
            if rule == Antimeridian::Split && crosses_antimeridian(&rings) {
                if let Some(kind) = note(&rings) {
                    notes.push(antimeridian_note(p, kind, rings[0].first().copied().unwrap_or_default()));
                }
                let (polygon, meridians) = unwrap_polygon_noting_closures(&rings);
                unwrapped.push(polygon);
                closures.push(meridians.into_iter().map(to_degrees).collect());
            } else {
                unwrapped.push(rings);
                closures.push(Vec::new());
            }
        }
        // Where rings meet on a line the reading drew (closing a ring round a pole: along
        // the pole and down a meridian to it), the input has no problem: tagging's even-odd
        // rule cancels those lines.
        let on_a_closure = |problem: &Problem| {
            let meridians = &closures[problem.polygon];
            !meridians.is_empty()
                && matches!(problem.kind, "rings meet" | "self-intersection")
                // (A crossing's point is rounded to the grid: within two units.)
                && (problem.lat.abs() == 90.0 || meridians.iter().any(|m| (m - problem.lon).abs() < 2e-7))
        };
        let (element, feature_index) = (feature.at.element, feature.at.feature);
        let problems = feature_problems(&unwrapped).into_iter().filter(|p| !on_a_closure(p));
        for problem in notes.into_iter().chain(problems) {
            out.push(FeatureProblem { element, feature: feature_index, problem });
        }
    }
    Ok(out)
}

fn antimeridian_note(polygon: usize, kind: &'static str, at: WidePoint) -> Problem {
    let detail = if kind == "antimeridian seam" {
        "consecutive vertices at -180 and 180: read as a step along the meridian (not an error)"
    } else {
        "written across ±180: unwrapped and cut at the antimeridian (not an error)"
    };
    Problem {
        polygon,
        ring: None,
        vertex: None,
        kind,
        lon: to_degrees(at.x),
        lat: to_degrees(at.y),
        detail: detail.into(),
    }
}

/// The id every feature of one list element shares, if ids are in use.
fn common_id(features: &[ReadFeature], element: usize) -> Result<Option<String>, IngestError> {
    let mut ids = features.iter().map(|f| f.id.clone());
    let Some(first) = ids.next() else {
        return Err(IngestError(format!("element {element}: no feature with a geometry")));
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

/// A snapped ring within [-180, 180] as `Point`s, open (no repeated first vertex), with
/// repeated vertices dropped. `None` for a degenerate ring (fewer than 3 distinct vertices,
/// or all on one line).
fn close_ring(ring: &[WidePoint]) -> Option<Vec<Point>> {
    let ring = distinct(ring);
    // Callers pass rings within [-180, 180] × [-90, 90], which fit an i32.
    (!degenerate(&ring)).then(|| ring.iter().map(|v| Point::new(v.x as i32, v.y as i32)).collect())
}

/// The ring's vertices without repeats, open (its closing vertex dropped).
fn distinct(ring: &[WidePoint]) -> Vec<WidePoint> {
    let mut out: Vec<WidePoint> = Vec::with_capacity(ring.len());
    for &v in ring {
        if out.last() != Some(&v) {
            out.push(v);
        }
    }
    while out.len() > 1 && out.first() == out.last() {
        out.pop();
    }
    out
}

/// Whether an open ring of distinct consecutive vertices contains nothing: fewer than 3 of
/// them, or all on one line.
fn degenerate(ring: &[WidePoint]) -> bool {
    ring.len() < 3 || ring.iter().all(|&p| orient(ring[0], ring[1], p) == 0)
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
        use crate::build::build;
        use crate::coords::Point;
        use crate::fuzzing::{for_a_while, mutate};
        use crate::query::all_zones;
        use crate::reference::zones_containing;
        let interesting: [&[u8]; 14] = [
            b"1e308",
            b"-1e308",
            b"NaN",
            b"[",
            b"]",
            b"{",
            b"}",
            b",",
            b"null",
            b"180.0000001",
            b"-540",
            b"[[[",
            b"\"Polygon\"",
            b"0.5",
        ];
        let mut accepted = 0;
        let cases = for_a_while("fuzz_ingest", |rng, _| {
            let bytes = mutate(rng, FUZZ_SEED_TEXT.as_bytes(), &interesting);
            let Ok(text) = std::str::from_utf8(&bytes) else { return };
            let id = if rng.chance(2) { Some("A3") } else { None };
            let rule = if rng.chance(4) { Antimeridian::Planar } else { Antimeridian::Split };
            let Ok((geometry, _)) = zones_from_geojson_with(&[text], Grouping::FeaturesAreZones, id, rule) else {
                return;
            };
            accepted += 1;
            let index = build(geometry.clone());
            for _ in 0..20 {
                let p = Point::new(
                    (rng.next() % 3_600_000_000) as i64 as i32 - 1_800_000_000,
                    (rng.next() % 1_800_000_001) as i64 as i32 - 900_000_000,
                );
                for mode in [Boundary::HalfOpen, Boundary::Inclusive, Boundary::Exclusive] {
                    let want = zones_containing(&geometry, p, mode);
                    let mut got = Vec::new();
                    all_zones(&index, p, mode, &mut got);
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
        use crate::build::build;
        use crate::coords::Point;
        use crate::fuzzing::for_a_while;
        use crate::query::all_zones;
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
            let index = build(geometry.clone());
            for _ in 0..10 {
                let p = Point::new(
                    (rng.next() % 3_600_000_000) as i64 as i32 - 1_800_000_000,
                    (rng.next() % 1_800_000_001) as i64 as i32 - 900_000_000,
                );
                let want = zones_containing(&geometry, p, Boundary::HalfOpen);
                let mut got = Vec::new();
                all_zones(&index, p, Boundary::HalfOpen, &mut got);
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
        // A degenerate shell takes its holes with it: alone, a hole would be a part.
        let holed = r#"{"type":"Polygon","coordinates":[[[5,5],[6,6],[7,7],[5,5]],[[1,1],[3,1],[3,3],[1,3],[1,1]]]}"#;
        let (z, report) = one(holed).unwrap();
        assert_eq!((z.polygon_count(), report.degenerate_rings), (0, 2));
        // The same across the antimeridian (its shell unwrapped is a line too).
        let across = r#"{"type":"Polygon","coordinates":[[[170,0],[190,0],[200,0],[170,0]],[[175,1],[185,1],[185,2],[175,2],[175,1]]]}"#;
        let (z, report) = one(across).unwrap();
        assert_eq!((z.polygon_count(), report.degenerate_rings), (0, 2));
        // A parallel all the way round is no line: it is read as the cap it goes round.
        let cap = r#"{"type":"Polygon","coordinates":[[[-180,70],[-90,70],[0,70],[90,70],[180,70]]]}"#;
        let (z, report) = one(cap).unwrap();
        assert_eq!((z.polygon_count(), report.degenerate_rings), (1, 0));
    }

    /// Rings round a pole meet the lines unwrapping closed them along (down a meridian to the
    /// pole, and along it) wherever those cross a hole: not reported. A real crossing is.
    #[test]
    fn validate_holds_no_line_the_reading_drew_against_the_input() {
        let around = |start: i32, lat: i32| {
            let r: Vec<String> =
                (0..=36).map(|k| format!("[{},{lat}]", (start + 10 * (k % 36) + 180).rem_euclid(360) - 180)).collect();
            format!("[{}]", r.join(","))
        };
        let kinds = |text: &str| -> Vec<&'static str> {
            let problems = validate_geojson(&[text], Grouping::FeaturesAreZones, None, Antimeridian::Split).unwrap();
            problems.into_iter().map(|p| p.problem.kind).filter(|&k| k != "crosses antimeridian").collect()
        };
        let island = "[[25,78],[35,78],[35,80],[25,80],[25,78]]";
        for start in [-180, 0, 30] {
            assert_eq!(
                kinds(&format!(r#"{{"type":"Polygon","coordinates":[{},{island}]}}"#, around(start, 70))),
                Vec::<&str>::new()
            );
        }
        for (shell, hole) in [(30, -150), (-180, -180), (30, -170)] {
            let ocean = format!(r#"{{"type":"Polygon","coordinates":[{},{}]}}"#, around(shell, -60), around(hole, -70));
            assert_eq!(kinds(&ocean), Vec::<&str>::new(), "rings from {shell}, {hole}");
        }
        let crossing = "[[25,65],[35,65],[35,80],[25,80],[25,65]]";
        assert_eq!(
            kinds(&format!(r#"{{"type":"Polygon","coordinates":[{},{crossing}]}}"#, around(0, 70))),
            vec!["rings meet", "rings meet", "hole outside shell"]
        );
    }

    /// A ring written as a spiral of many turns is cut into a few copies, not one per turn
    /// (each copy costs the whole ring): 5,000 turns read in well under a second.
    #[test]
    fn a_spiral_of_many_turns_costs_a_few_copies() {
        // Longitudes written within [-180, 180], each step 170° east.
        let steps: Vec<String> =
            (0..4_000 * 3).map(|k| format!("[{},{}]", (170 * k + 180) % 360 - 180, (k % 3) as f64 * 0.1)).collect();
        let text = format!(r#"{{"type":"Polygon","coordinates":[[{}]]}}"#, steps.join(","));
        let started = std::time::Instant::now();
        let (z, _) = one(&text).unwrap();
        assert!(z.num_vertices() < 9 * 12_000 + 1_000, "{} vertices", z.num_vertices());
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
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
    fn numbers_are_read_exactly() {
        // serde_json's default parser may miss by a unit in the last place (this one was read
        // as 9007199254740990); `float_roundtrip` reads every number exactly.
        let fc = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"k":9007199254740991.0},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]}"#;
        let (z, _) = zones_from_geojson(&[fc], Grouping::FeaturesAreZones, Some("k")).unwrap();
        assert_eq!(z.ids.unwrap(), ["9007199254740991"]);
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
        let fc = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]}"#;
        let e = zones_from_geojson(&[fc], Grouping::FeaturesAreZones, Some("A3")).unwrap_err().0;
        assert_eq!(e, "feature 0: the feature has no property \"A3\" (id_property)");
        let planar = |t: &str| zones_from_geojson_with(&[t], Grouping::FeaturesAreZones, None, Antimeridian::Planar);
        let e = planar(r#"{"type":"Polygon","coordinates":[[[0,0],[190,0],[1,1],[0,0]]]}"#).unwrap_err().0;
        assert!(e.contains("vertex 1: longitude 190 is outside [-180, 180]"), "{e}");
        let e = one(r#"{"type":"Polygon","coordinates":[[[0,0],[590,0],[1,1],[0,0]]]}"#).unwrap_err().0;
        assert!(e.contains("vertex 1: longitude 590 is outside [-540, 540]"), "{e}");
    }

    /// RFC 7946 allows a null geometry: such a feature is skipped (and counted), not refused.
    #[test]
    fn features_without_geometry_are_skipped_and_counted() {
        let fc = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{},"geometry":null},
          {"type":"Feature","properties":{"A3":"B"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}},
          {"type":"Feature","properties":{"A3":"C"},"geometry":null}]}"#;
        let (z, report) = zones_from_geojson(&[fc], Grouping::FeaturesAreZones, Some("A3")).unwrap();
        assert_eq!(report.null_geometries, 2);
        assert_eq!(z.ids, Some(vec!["B".to_string()]));
        let none = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":null}]}"#;
        assert_eq!(one(none).unwrap_err().0, "no zones: no feature has a geometry");
    }

    /// A legacy `crs` member naming anything but longitude/latitude on WGS84 is refused.
    #[test]
    fn a_projected_legacy_crs_is_refused() {
        let with_crs = |name: &str| {
            format!(
                r#"{{"type":"FeatureCollection","crs":{{"type":"name","properties":{{"name":"{name}"}}}},"features":[
              {{"type":"Feature","properties":{{}},"geometry":{{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}}}]}}"#
            )
        };
        let e = one(&with_crs("urn:ogc:def:crs:EPSG::3857")).unwrap_err().0;
        assert!(
            e.starts_with("input: the GeoJSON's legacy \"crs\" member names the CRS \"urn:ogc:def:crs:EPSG::3857\""),
            "{e}"
        );
        for fine in ["urn:ogc:def:crs:OGC:1.3:CRS84", "EPSG:4326", "urn:ogc:def:crs:EPSG::4326"] {
            assert!(one(&with_crs(fine)).is_ok(), "{fine}");
        }
    }

    /// Zones are named by the string form of their id: 1, 1.0 and "1" are one zone, as are
    /// true and "true"; 1.5 and "1.5" too; 1 and 2 are not.
    #[test]
    fn ids_with_the_same_name_are_one_zone() {
        let fc = |ids: &[&str]| {
            let features: Vec<String> = ids
                .iter()
                .enumerate()
                .map(|(i, id)| format!(r#"{{"type":"Feature","properties":{{"k":{id}}},"geometry":{{"type":"Polygon","coordinates":[[[{i},0],[{i}.5,0],[{i}.5,1],[{i},0]]]}}}}"#))
                .collect();
            format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, features.join(","))
        };
        let ids = |list: &[&str]| {
            zones_from_geojson(&[&fc(list)], Grouping::FeaturesAreZones, Some("k")).unwrap().0.ids.unwrap()
        };
        assert_eq!(ids(&["1", "1.0", "\"1\"", "2"]), vec!["1", "2"]);
        assert_eq!(ids(&["true", "\"true\"", "false"]), vec!["true", "false"]);
        assert_eq!(ids(&["1.5", "\"1.5\"", "-0.0", "0"]), vec!["1.5", "0"]);
        assert_eq!(ids(&["1e3", "1000", "12345678901234567890"]), vec!["1000", "12345678901234567890"]);
    }

    /// Natural Earth writes 180.00000000000006: it snaps to 180 and is neither past the
    /// meridian nor refused as planar.
    #[test]
    fn float_noise_past_180_is_180() {
        let text =
            r#"{"type":"Polygon","coordinates":[[[179,0],[180.00000000000006,0],[180.00000000000006,1],[179,0]]]}"#;
        let planar =
            zones_from_geojson_with(&[text], Grouping::FeaturesAreZones, None, Antimeridian::Planar).unwrap().1;
        assert_eq!(planar.antimeridian_polygons, 0);
        assert_eq!(one(text).unwrap().1.antimeridian_polygons, 0);
    }
}
