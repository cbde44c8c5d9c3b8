//! WKB and EWKB geometries in (what GeoParquet, GeoPackage, DuckDB, SedonaDB and polars-st
//! hold), the same snapped polygons as GeoJSON out. The `wkb` crate parses; this module says
//! what is a zone and where the input is wrong.

use geo_traits::{
    CoordTrait, GeometryCollectionTrait, GeometryTrait, GeometryType, LineStringTrait, MultiPolygonTrait, PolygonTrait,
};

use crate::coords::WidePoint;
use crate::source::{check_position, error, Antimeridian, IngestError, Location};

/// The polygons of one WKB geometry (`at` names its row): a Polygon, a MultiPolygon, or a
/// GeometryCollection of those; empty ones give no polygon.
pub(crate) fn read_wkb(
    bytes: &[u8],
    at: &Location,
    rule: Antimeridian,
) -> Result<Vec<Vec<Vec<WidePoint>>>, IngestError> {
    check_type_code(bytes, at)?;
    let rewritten = in_one_byte_order(bytes);
    let bytes = rewritten.as_deref().unwrap_or(bytes);
    let geometry = wkb::reader::read_wkb(bytes).map_err(|e| error(at, format!("invalid WKB: {e}")))?;
    // The reader stops after one geometry: bytes after it (a second geometry written into the
    // same row, or garbage) would be lost without a word.
    let used = geometry.buf().len();
    if used != bytes.len() {
        return Err(error(
            at,
            format!("invalid WKB: {} bytes after the geometry's {used} (one geometry per row)", bytes.len() - used),
        ));
    }
    let mut polygons = Vec::new();
    collect(&geometry, at, rule, &mut polygons)?;
    Ok(polygons)
}

/// Refuses a geometry type code that is not one of the seven simple features types, in 2D, in
/// ISO's Z, M and ZM ranges (1001 to 3007) or with EWKB's flags. The `wkb` crate reads a code
/// by its low three bits, so 99 or 4003 passed for a Polygon and a Triangle (17) for a Point.
/// (`collect` checks the parts of multi-geometries and the members of collections.)
fn check_type_code(bytes: &[u8], at: &Location) -> Result<(), IngestError> {
    let Some((_, code)) = header(bytes) else {
        return Ok(()); // the reader says what is wrong
    };
    const EWKB_FLAGS: u32 = 0xE000_0000;
    let (flags, base) = (code & EWKB_FLAGS, code & !EWKB_FLAGS);
    let (kind, iso_dimensions) = (base % 1000, base / 1000);
    if (1..=7).contains(&kind) && iso_dimensions <= 3 && (flags == 0 || iso_dimensions == 0) {
        return Ok(());
    }
    const CURVED_AND_SURFACES: [&str; 10] = [
        "CircularString",
        "CompoundCurve",
        "CurvePolygon",
        "MultiCurve",
        "MultiSurface",
        "Curve",
        "Surface",
        "PolyhedralSurface",
        "TIN",
        "Triangle",
    ];
    Err(error(
        at,
        match CURVED_AND_SURFACES.get((kind as usize).wrapping_sub(8)).filter(|_| iso_dimensions <= 3) {
            Some(name) => format!("WKB geometry type {code} ({name}) is not a zone: give Polygons or MultiPolygons"),
            None => format!("invalid WKB: unknown geometry type code {code}"),
        },
    ))
}

/// A geometry's byte order byte and type code, if it has a header at all.
fn header(bytes: &[u8]) -> Option<(u8, u32)> {
    match *bytes.get(..5)? {
        [1, a, b, c, d] => Some((1, u32::from_le_bytes([a, b, c, d]))),
        [0, a, b, c, d] => Some((0, u32::from_be_bytes([a, b, c, d]))),
        _ => None,
    }
}

/// The geometry rewritten in little-endian throughout, when its parts are not all in its own
/// byte order. WKB gives every part of a multi-geometry a header of its own, byte order
/// included, but the `wkb` crate reads a MultiPolygon's parts in the whole's order: a part in
/// the other one was misread (a ring count of billions, an error about a buffer length).
/// `None` when the order is uniform already, or when the bytes are not a well-formed
/// geometry of the seven simple kinds (the reader and the checks then say what is wrong).
fn in_one_byte_order(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut rewrite = LittleEndian { bytes, at: 0, out: Vec::with_capacity(bytes.len()), mixed: false };
    rewrite.geometry(None, 0)?;
    (rewrite.mixed && rewrite.at == bytes.len()).then_some(rewrite.out)
}

/// The state of `in_one_byte_order`: where it is in `bytes`, and what it has written.
struct LittleEndian<'a> {
    bytes: &'a [u8],
    at: usize,
    out: Vec<u8>,
    /// Whether a part's byte order differed from its parent's.
    mixed: bool,
}

impl LittleEndian<'_> {
    /// Nesting deeper than this is not rewritten (the reader refuses it).
    const MAX_DEPTH: usize = 64;

    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let taken = self.bytes.get(self.at..self.at + N)?.try_into().ok()?;
        self.at += N;
        Some(taken)
    }

    fn u32(&mut self, big: bool) -> Option<u32> {
        let word = self.take::<4>()?;
        let value = if big { u32::from_be_bytes(word) } else { u32::from_le_bytes(word) };
        self.out.extend(value.to_le_bytes());
        Some(value)
    }

    /// `count` points of `dimensions` coordinates each.
    fn coordinates(&mut self, big: bool, count: u32, dimensions: usize) -> Option<()> {
        for _ in 0..count as usize * dimensions {
            let word = self.take::<8>()?;
            self.out.extend(if big { u64::from_be_bytes(word) } else { u64::from_le_bytes(word) }.to_le_bytes());
        }
        Some(())
    }

    fn geometry(&mut self, parent_order: Option<u8>, depth: usize) -> Option<()> {
        let [order] = self.take::<1>()?;
        if order > 1 || depth > Self::MAX_DEPTH {
            return None;
        }
        self.mixed |= parent_order.is_some_and(|parent| parent != order);
        let big = order == 0;
        self.out.push(1);
        let code = self.u32(big)?;
        if code & 0x2000_0000 != 0 {
            self.u32(big)?; // the SRID
        }
        let (kind, dimensions) = kind_and_dimensions(code);
        let dimensions = if dimensions == 3 { 4 } else { 2 + (dimensions > 0) as usize };
        match kind {
            1 => self.coordinates(big, 1, dimensions),
            2 => {
                let count = self.u32(big)?;
                self.coordinates(big, count, dimensions)
            }
            3 => {
                for _ in 0..self.u32(big)? {
                    let count = self.u32(big)?;
                    self.coordinates(big, count, dimensions)?;
                }
                Some(())
            }
            4..=7 => {
                for _ in 0..self.u32(big)? {
                    self.geometry(Some(order), depth + 1)?;
                }
                Some(())
            }
            _ => None,
        }
    }
}

/// A checked type code's kind (1 to 7) and dimensions (0 XY, 1 XYZ, 2 XYM, 3 XYZM).
fn kind_and_dimensions(code: u32) -> (u32, u32) {
    let base = code & 0x1FFF_FFFF;
    let flags = match (code & 0x8000_0000 != 0, code & 0x4000_0000 != 0) {
        (true, true) => 3,
        (true, false) => 1,
        (false, true) => 2,
        (false, false) => 0,
    };
    (base % 1000, (base / 1000).max(flags))
}

fn collect(
    geometry: &wkb::reader::Wkb<'_>,
    at: &Location,
    rule: Antimeridian,
    out: &mut Vec<Vec<Vec<WidePoint>>>,
) -> Result<(), IngestError> {
    match geometry.as_type() {
        GeometryType::Polygon(polygon) => out.extend(read_polygon(polygon, at, out.len(), rule)?),
        GeometryType::MultiPolygon(multi) => {
            // The crate reads each part as a Polygon written like the whole, whatever its own
            // header says: a part that is not is an error, not a misreading.
            let (order, code) = header(multi.buf()).unwrap_or_default();
            let (_, dimensions) = kind_and_dimensions(code);
            for (k, polygon) in multi.polygons().enumerate() {
                let (part_order, part_code) = header(polygon.buf()).unwrap_or_default();
                if part_order != order || kind_and_dimensions(part_code) != (3, dimensions) {
                    return Err(error(
                        at,
                        format!(
                            "invalid WKB: part {k} of the MultiPolygon has type code {part_code} and byte order \
                             {part_order}, not those of a Polygon written like the MultiPolygon ({code}, {order})"
                        ),
                    ));
                }
                out.extend(read_polygon(&polygon, at, out.len(), rule)?);
            }
        }
        GeometryType::GeometryCollection(collection) => {
            for member in collection.geometries() {
                check_type_code(member.buf(), at)?;
                collect(member, at, rule, out)?;
            }
        }
        other => {
            let kind = match other {
                GeometryType::Point(_) => "Point",
                GeometryType::LineString(_) | GeometryType::Line(_) => "LineString",
                GeometryType::MultiPoint(_) => "MultiPoint",
                GeometryType::MultiLineString(_) => "MultiLineString",
                _ => "geometry of another kind",
            };
            return Err(error(at, format!("a {kind} is not a zone: only Polygon and MultiPolygon geometries are")));
        }
    }
    Ok(())
}

/// A polygon's rings, shell first, checked and snapped; `None` for an empty polygon.
fn read_polygon(
    polygon: &impl PolygonTrait<T = f64>,
    at: &Location,
    index: usize,
    rule: Antimeridian,
) -> Result<Option<Vec<Vec<WidePoint>>>, IngestError> {
    let Some(shell) = polygon.exterior() else { return Ok(None) };
    let at = Location { polygon: Some(index), ..at.clone() };
    let mut rings = vec![read_ring(&shell, &Location { ring: Some(0), ..at.clone() }, rule)?];
    for (r, hole) in polygon.interiors().enumerate() {
        rings.push(read_ring(&hole, &Location { ring: Some(r + 1), ..at.clone() }, rule)?);
    }
    Ok(Some(rings))
}

fn read_ring(
    ring: &impl LineStringTrait<T = f64>,
    at: &Location,
    rule: Antimeridian,
) -> Result<Vec<WidePoint>, IngestError> {
    ring.coords()
        .enumerate()
        .map(|(v, c)| check_position(c.x(), c.y(), &Location { vertex: Some(v), ..at.clone() }, rule))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::zones_from_wkb;

    /// Little-endian WKB of a polygon (rings as given).
    fn polygon(rings: &[&[(f64, f64)]]) -> Vec<u8> {
        polygon_in(1, rings)
    }

    /// `polygon` in big-endian.
    fn big_endian_polygon(rings: &[&[(f64, f64)]]) -> Vec<u8> {
        polygon_in(0, rings)
    }

    /// WKB of a polygon in the byte order `order` (1 little-endian, 0 big-endian).
    fn polygon_in(order: u8, rings: &[&[(f64, f64)]]) -> Vec<u8> {
        let word = |v: u32| if order == 0 { v.to_be_bytes() } else { v.to_le_bytes() };
        let float = |v: f64| if order == 0 { v.to_be_bytes() } else { v.to_le_bytes() };
        let mut out = vec![order];
        out.extend(word(3));
        out.extend(word(rings.len() as u32));
        for ring in rings {
            out.extend(word(ring.len() as u32));
            for &(x, y) in *ring {
                out.extend(float(x));
                out.extend(float(y));
            }
        }
        out
    }

    const SQUARE: &[(f64, f64)] = &[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)];

    #[test]
    fn unknown_and_unsupported_type_codes_are_errors() {
        let with_code = |code: u32| {
            let mut wkb = polygon(&[SQUARE]);
            wkb[1..5].copy_from_slice(&code.to_le_bytes());
            zones_from_wkb(&[Some(&wkb[..])], None, Antimeridian::Split).map(|(zones, _)| zones.zone_count)
        };
        let message = |code: u32| with_code(code).unwrap_err().to_string();
        assert!(message(99).contains("unknown geometry type code 99"), "{}", message(99));
        assert!(message(4003).contains("unknown geometry type code 4003"));
        assert!(message(7003).contains("unknown geometry type code 7003"));
        assert!(message(17).contains("(Triangle) is not a zone"), "{}", message(17));
        assert!(message(1015).contains("(PolyhedralSurface) is not a zone"));
        assert!(message(0x8000_03EB).contains("unknown geometry type code"), "EWKB flags with an ISO code");
        // The polygon's own code, big-endian, and the codes the reader's Z/M handling knows
        // (their coordinates are then read as XY here only for code 3).
        assert_eq!(with_code(3).unwrap(), 1);
        // The parts of a MultiPolygon and the members of a collection are checked too.
        let wrap = |kind: u32, part: &[u8]| {
            let mut whole = vec![1u8];
            whole.extend(kind.to_le_bytes());
            whole.extend(2u32.to_le_bytes());
            whole.extend(polygon(&[SQUARE]));
            whole.extend(part);
            zones_from_wkb(&[Some(&whole[..])], None, Antimeridian::Split).map(|(zones, _)| zones.zone_count)
        };
        let mut odd = polygon(&[SQUARE]);
        assert_eq!(wrap(6, &odd).unwrap(), 1);
        assert_eq!(wrap(7, &odd).unwrap(), 1);
        odd[1..5].copy_from_slice(&99u32.to_le_bytes());
        assert!(wrap(6, &odd).unwrap_err().to_string().contains("part 1 of the MultiPolygon has type code 99"));
        assert!(wrap(7, &odd).unwrap_err().to_string().contains("unknown geometry type code 99"));
        odd[1..5].copy_from_slice(&1003u32.to_le_bytes());
        assert!(wrap(6, &odd).unwrap_err().to_string().contains("type code 1003"));
        let mut big = polygon(&[SQUARE]);
        big[0] = 0;
        big[1..5].copy_from_slice(&3u32.to_be_bytes());
        assert!(!zones_from_wkb(&[Some(&big[..])], None, Antimeridian::Split)
            .err()
            .is_some_and(|e| e.to_string().contains("type code")));
    }

    /// A multi-geometry (`kind`) in the byte order `order` of already written parts.
    fn multi(order: u8, kind: u32, parts: &[&[u8]]) -> Vec<u8> {
        let word = |v: u32| if order == 0 { v.to_be_bytes() } else { v.to_le_bytes() };
        let mut out = vec![order];
        out.extend(word(kind));
        out.extend(word(parts.len() as u32));
        for part in parts {
            out.extend_from_slice(part);
        }
        out
    }

    #[test]
    fn parts_in_another_byte_order_than_their_whole_read_alike() {
        // WKB lets each part have its own byte order (the crate read them in the whole's).
        const HOLED: &[&[(f64, f64)]] = &[SQUARE, &[(0.2, 0.2), (0.4, 0.2), (0.4, 0.4), (0.2, 0.2)]];
        let far: &[(f64, f64)] = &[(5.0, 5.0), (6.0, 5.0), (6.0, 6.0), (5.0, 5.0)];
        let (little, big) = (polygon(HOLED), big_endian_polygon(HOLED));
        let (little_far, big_far) = (polygon(&[far]), big_endian_polygon(&[far]));
        let uniform = multi(1, 6, &[&little, &little_far]);
        let read = |b: &[u8]| zones_from_wkb(&[Some(b)], None, Antimeridian::Split).map(|(zones, _)| zones);
        let expected = read(&uniform).unwrap();
        assert_eq!(expected.polygon_zone.len(), 2);
        for mixed in [
            multi(1, 6, &[&big, &little_far]),
            multi(0, 6, &[&little, &big_far]),
            multi(0, 6, &[&big, &little_far]),
            multi(1, 7, &[&multi(0, 6, &[&little, &big_far])]),
            multi(0, 7, &[&big, &multi(1, 6, &[&little_far])]),
        ] {
            assert_eq!(read(&mixed).unwrap(), expected, "{mixed:?}");
        }
        // With an SRID (EWKB) on the whole, and Z coordinates in a part.
        let mut ewkb = multi(1, 6 | 0x2000_0000, &[&big, &little_far]);
        ewkb.splice(5..5, 4326u32.to_le_bytes());
        assert_eq!(read(&ewkb).unwrap(), expected);
        let z_part = {
            let mut out = vec![0u8];
            out.extend(1003u32.to_be_bytes());
            out.extend(1u32.to_be_bytes());
            out.extend((far.len() as u32).to_be_bytes());
            for &(x, y) in far {
                for value in [x, y, 7.0] {
                    out.extend(value.to_be_bytes());
                }
            }
            out
        };
        let z_whole = multi(1, 7, &[&little, &multi(1, 1006, &[&z_part])]);
        let zones = read(&z_whole).unwrap();
        assert_eq!(zones.polygon_zone, expected.polygon_zone);
        assert_eq!(zones.vertices, expected.vertices);
        // Truncated, a mixed geometry is still an error, not a panic.
        let mixed = multi(1, 6, &[&big, &little_far]);
        for cut in 1..mixed.len() {
            assert!(read(&mixed[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn polygons_and_ids_make_zones_and_null_rows_stay_empty_zones() {
        let a = polygon(&[SQUARE]);
        let rows = [Some(&a[..]), None, Some(&a[..])];
        let (zones, report) = zones_from_wkb(&rows, None, Antimeridian::Split).unwrap();
        assert_eq!(zones.zone_count, 3);
        assert_eq!(zones.polygon_zone, vec![0, 2]);
        assert_eq!(report.null_geometries, 1);
        let ids = ["x".to_string(), "y".to_string(), "x".to_string()];
        let (zones, _) = zones_from_wkb(&rows, Some(&ids), Antimeridian::Split).unwrap();
        assert_eq!(zones.ids, Some(vec!["x".to_string(), "y".to_string()]));
        assert_eq!(zones.polygon_zone, vec![0, 0]);
    }

    #[test]
    fn ewkb_with_an_srid_reads_like_wkb() {
        let plain = polygon(&[SQUARE]);
        let mut ewkb = vec![1u8];
        ewkb.extend((3u32 | 0x2000_0000).to_le_bytes());
        ewkb.extend(4326u32.to_le_bytes());
        ewkb.extend_from_slice(&plain[5..]);
        let read = |b: &[u8]| zones_from_wkb(&[Some(b)], None, Antimeridian::Split).unwrap().0;
        assert_eq!(read(&ewkb), read(&plain));
    }

    #[test]
    fn bad_wkb_is_an_error_naming_the_row() {
        let good = polygon(&[SQUARE]);
        let point = {
            let mut p = vec![1u8];
            p.extend(1u32.to_le_bytes());
            p.extend(1.0f64.to_le_bytes());
            p.extend(2.0f64.to_le_bytes());
            p
        };
        let far = polygon(&[&[(0.0, 0.0), (1.0, 0.0), (1.0, 95.0), (0.0, 0.0)]]);
        let two = [&good[..], &good[..]].concat();
        for (bytes, message) in [
            (&two[..], "row 1: invalid WKB: 93 bytes after the geometry's 93 (one geometry per row)"),
            (&good[..good.len() - 3], "row 1: invalid WKB"),
            (&point[..], "row 1: a Point is not a zone"),
            (&far[..], "row 1, polygon 0, ring 0, vertex 2: latitude 95 is outside [-90, 90]"),
            (&b"\x07nonsense"[..], "row 1: invalid WKB"),
        ] {
            let e = zones_from_wkb(&[Some(&good), Some(bytes)], None, Antimeridian::Split).unwrap_err().0;
            assert!(e.starts_with(message), "{e}");
        }
    }

    /// Damaged WKB never panics: an error, or zones.
    #[test]
    fn fuzz_wkb() {
        use crate::fuzzing::{for_a_while, mutate};
        let valid = polygon(&[SQUARE, &[(0.2, 0.2), (0.4, 0.2), (0.4, 0.4), (0.2, 0.2)]]);
        let interesting: [&[u8]; 4] = [&[0xff; 4], &[0; 8], &u32::MAX.to_le_bytes(), &[6, 0, 0, 0]];
        let cases = for_a_while("fuzz_wkb", |rng, _| {
            let bytes = mutate(rng, &valid, &interesting);
            let _ = zones_from_wkb(&[Some(&bytes)], None, Antimeridian::Split);
        });
        assert!(cases > 100);
    }
}
