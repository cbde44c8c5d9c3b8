//! The index as bytes: one self-checking format for files, pickles and plan kwargs.
//!
//! Layout (little-endian):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `PLZONES\0` |
//! | 8 | 4 | format version (`FORMAT_VERSION`) |
//! | 12 | 4 | reserved, zero |
//! | 16 | 16 | fingerprint: xxh3-128 of the zones (geometry and ids) |
//! | 32 | 8 | payload length |
//! | 40 | 8 | checksum: xxh3-64 of bytes 0..40 and the payload |
//! | 48 | … | payload: the `ZoneIndex` in bincode (fixed-width integers) |
//!
//! Decoding checks all of these and then the index's own invariants, so a truncated,
//! corrupted or foreign input is an error, never a panic or a wrong index.

use xxhash_rust::xxh3::{xxh3_128, Xxh3};

use crate::geometry::ZoneGeometry;
use crate::index::{ZoneIndex, TAG_INTERNAL, TAG_LEAF, TAG_SHIFT, VALUE_MASK};

pub const MAGIC: &[u8; 8] = b"PLZONES\0";
/// 2: leaf groups record how many of their edges straddle the leaf's right side.
pub const FORMAT_VERSION: u32 = 2;
const HEADER_LEN: usize = 48;

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_fixed_int_encoding().with_little_endian()
}

/// Decodes a payload with bincode's byte limit set to the smallest power of 16 at least
/// as large as the payload. bincode allocates a string or vector from its length prefix
/// before reading it, so a damaged prefix could ask for exabytes and abort the process
/// (found by `fuzz_decode`); with the limit, such a claim is an error, and no claim can
/// exceed 16 times the payload's size.
fn decode_payload(payload: &[u8]) -> Result<(ZoneIndex, usize), bincode::error::DecodeError> {
    fn with_limit<const N: usize>(payload: &[u8]) -> Result<(ZoneIndex, usize), bincode::error::DecodeError> {
        let config = bincode::config::standard().with_fixed_int_encoding().with_little_endian().with_limit::<N>();
        bincode::serde::decode_from_slice(payload, config)
    }
    match payload.len() {
        n if n <= 1 << 16 => with_limit::<{ 1 << 16 }>(payload),
        n if n <= 1 << 20 => with_limit::<{ 1 << 20 }>(payload),
        n if n <= 1 << 24 => with_limit::<{ 1 << 24 }>(payload),
        n if n <= 1 << 28 => with_limit::<{ 1 << 28 }>(payload),
        n if n <= 1 << 32 => with_limit::<{ 1 << 32 }>(payload),
        _ => with_limit::<{ 1 << 40 }>(payload),
    }
}

/// A stable content hash of the zones: same geometry and ids, same fingerprint, on any
/// machine (bincode with fixed-width little-endian integers is platform-independent).
pub fn fingerprint(geometry: &ZoneGeometry) -> [u8; 16] {
    let bytes = bincode::serde::encode_to_vec(geometry, config()).expect("geometry encodes");
    xxh3_128(&bytes).to_le_bytes()
}

pub fn fingerprint_hex(fp: &[u8; 16]) -> String {
    fp.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn to_bytes(index: &ZoneIndex, fp: &[u8; 16]) -> Vec<u8> {
    let payload = bincode::serde::encode_to_vec(index, config()).expect("index encodes");
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(fp);
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&checksum(&out, &payload).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

/// Covers the header (fingerprint included: a damaged one would file the index under
/// another's name in the cache) as well as the payload.
fn checksum(header: &[u8], payload: &[u8]) -> u64 {
    let mut hasher = Xxh3::new();
    hasher.update(&header[..40]);
    hasher.update(payload);
    hasher.digest()
}

/// Reads only the header's fingerprint (after checking magic and version).
pub fn peek_fingerprint(data: &[u8]) -> Result<[u8; 16], String> {
    check_header(data)?;
    Ok(data[16..32].try_into().unwrap())
}

fn check_header(data: &[u8]) -> Result<(), String> {
    if data.len() < HEADER_LEN || &data[..8] != MAGIC {
        return Err(if data.len() >= 8 && &data[..8] == MAGIC {
            format!("truncated zone index: {} bytes, the header alone is {HEADER_LEN}", data.len())
        } else {
            "not a polars-zones index (wrong magic bytes)".to_string()
        });
    }
    let version = u32::from_le_bytes(data[8..12].try_into().unwrap());
    if version != FORMAT_VERSION {
        return Err(format!(
            "zone index format version {version} is not supported (this polars-zones reads version {FORMAT_VERSION}); rebuild the index from its GeoJSON"
        ));
    }
    if data[12..16] != [0; 4] {
        return Err("corrupted zone index: reserved header bytes are not zero".to_string());
    }
    Ok(())
}

pub fn from_bytes(data: &[u8]) -> Result<([u8; 16], ZoneIndex), String> {
    check_header(data)?;
    let fp: [u8; 16] = data[16..32].try_into().unwrap();
    let len = u64::from_le_bytes(data[32..40].try_into().unwrap());
    let checksum = u64::from_le_bytes(data[40..48].try_into().unwrap());
    let payload = &data[HEADER_LEN..];
    if (payload.len() as u64) < len {
        return Err(format!("truncated zone index: payload has {} of {len} bytes", payload.len()));
    }
    if payload.len() as u64 > len {
        return Err(format!("zone index has {} trailing bytes after its payload", payload.len() as u64 - len));
    }
    if self::checksum(data, payload) != checksum {
        return Err("corrupted zone index: checksum mismatch".to_string());
    }
    let (index, read) = decode_payload(payload).map_err(|e| format!("corrupted zone index: {e}"))?;
    if read != payload.len() {
        return Err("corrupted zone index: payload length mismatch".to_string());
    }
    validate(&index).map_err(|e| format!("corrupted zone index: {e}"))?;
    Ok((fp, index.with_derived_tables()))
}

/// A leaf block must lie inside `leaf_data` and name only existing sets, zones and edges.
fn validate_leaf(ix: &ZoneIndex, offset: usize, sets: u32) -> Result<(), String> {
    let data = &ix.leaf_data;
    let word = |i: usize| data.get(i).copied().ok_or_else(|| "leaf block runs past the end".to_string());
    if word(offset)? >= sets {
        return Err("leaf zone set out of range".into());
    }
    let groups = word(offset + 1)?;
    let mut i = offset + 2;
    for _ in 0..groups {
        let (zone, n, straddling) = (word(i)? & !crate::index::PARITY_BIT, word(i + 1)? as usize, word(i + 2)? as usize);
        if zone >= ix.geometry.zone_count {
            return Err("leaf zone out of range".into());
        }
        if straddling > n {
            return Err("leaf group has more straddling edges than edges".into());
        }
        let edges = data.get(i + 3..i + 3 + n).ok_or("leaf block runs past the end")?;
        // The end vertex of each edge must exist.
        if edges.iter().any(|&e| e as usize + 1 >= ix.geometry.vertices.len()) {
            return Err("edges out of range".into());
        }
        i += 3 + n;
    }
    Ok(())
}

/// Checks every invariant the query kernel relies on for memory safety and termination.
fn validate(ix: &ZoneIndex) -> Result<(), String> {
    let g = &ix.geometry;
    let offsets_ok = |o: &[u32], end: usize, what: &str| -> Result<(), String> {
        if o.first() != Some(&0) || o.windows(2).any(|w| w[0] > w[1]) || *o.last().unwrap() as usize != end {
            return Err(format!("{what} offsets are inconsistent"));
        }
        Ok(())
    };
    offsets_ok(&g.ring_starts, g.vertices.len(), "ring")?;
    offsets_ok(&g.polygon_rings, g.ring_starts.len() - 1, "polygon")?;
    if g.polygon_rings.len() != g.polygon_zone.len() + 1 || g.polygon_zone.iter().any(|&z| z >= g.zone_count) {
        return Err("polygon zones out of range".into());
    }
    if g.ids.as_ref().is_some_and(|ids| ids.len() != g.zone_count as usize) {
        return Err("zone ids do not match the zone count".into());
    }
    offsets_ok(&ix.set_offsets, ix.set_zones.len(), "zone set")?;
    if ix.set_zones.iter().any(|&z| z >= g.zone_count) {
        return Err("zone sets out of range".into());
    }
    let sets = ix.set_offsets.len() as u32 - 1;
    let top = ix.cols as usize * ix.rows as usize;
    if ix.top_shift > 40 || top == 0 || top > ix.nodes.len() || (ix.nodes.len() - top) % 16 != 0 {
        return Err("grid is inconsistent".into());
    }
    // Children always lie after their parent and the shift must stay >= 0 down the tree:
    // check each block's depth so a lookup can neither loop nor shift below zero.
    let mut depth = vec![0u32; ix.nodes.len()];
    for i in 0..ix.nodes.len() {
        let word = ix.nodes[i];
        let value = (word & VALUE_MASK) as usize;
        match word >> TAG_SHIFT {
            TAG_INTERNAL => {
                if value <= i.max(top - 1) || value + 16 > ix.nodes.len() || (value - top) % 16 != 0 {
                    return Err("internal node points outside the node array".into());
                }
                let d = depth[i] + 1;
                if 2 * d > ix.top_shift {
                    return Err("tree deeper than its cells allow".into());
                }
                for c in &mut depth[value..value + 16] {
                    *c = d;
                }
            }
            TAG_LEAF => validate_leaf(ix, value, sets)?,
            0 if value as u32 >= sets => return Err("zone set out of range".into()),
            0 => {}
            _ => return Err("unknown node tag".into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{zones_from_geojson, Grouping};

    fn sample() -> (ZoneIndex, [u8; 16]) {
        let text = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"n":"a"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[1,1],[2,1],[2,2],[1,1]]]}},
          {"type":"Feature","properties":{"n":"b"},"geometry":{"type":"Polygon","coordinates":[[[4,0],[8,0],[8,4],[4,0]]]}}]}"#;
        let (g, _) = zones_from_geojson(&[text], Grouping::FeaturesAreZones, Some("n")).unwrap();
        let fp = fingerprint(&g);
        (ZoneIndex::build(g), fp)
    }

    /// The first input `fuzz_decode` found: a string's length prefix damaged to an enormous
    /// value under a valid checksum made bincode allocate it and abort the process.
    #[test]
    fn a_huge_length_prefix_is_an_error_not_an_abort() {
        let (index, fp) = sample();
        let mut bytes = to_bytes(&index, &fp);
        let needle = [1u8, 0, 0, 0, 0, 0, 0, 0, b'a'];
        let at = HEADER_LEN + bytes[HEADER_LEN..].windows(needle.len()).position(|w| w == needle).expect("id \"a\"");
        bytes[at..at + 8].copy_from_slice(&(u64::MAX / 3).to_le_bytes());
        let sum = checksum(&bytes, &bytes[HEADER_LEN..]);
        bytes[40..48].copy_from_slice(&sum.to_le_bytes());
        let error = from_bytes(&bytes).unwrap_err();
        assert!(error.starts_with("corrupted zone index"), "{error}");
    }

    /// Decoding damaged bytes never panics, and whatever it accepts is safe to query. Half
    /// the cases re-seal the checksum after damaging the payload, so the structural checks
    /// behind it get fuzzed too.
    #[test]
    fn fuzz_decode() {
        use crate::boundary::Boundary;
        use crate::coords::Point;
        use crate::fuzzing::{for_a_while, mutate};
        let (index, fp) = sample();
        let valid = to_bytes(&index, &fp);
        let interesting: [&[u8]; 5] = [&[0xff; 4], &[0; 8], &[0x80, 0, 0, 0], &u32::MAX.to_le_bytes(), &[1, 0, 0, 0]];
        let mut accepted = 0;
        let cases = for_a_while("fuzz_decode", |rng, _| {
            let mut bytes = mutate(rng, &valid, &interesting);
            if rng.chance(2) && bytes.len() >= HEADER_LEN {
                // Keep the header well formed; damage only the payload, then re-seal it.
                bytes[..40].copy_from_slice(&valid[..40]);
                let len = (bytes.len() - HEADER_LEN) as u64;
                bytes[32..40].copy_from_slice(&len.to_le_bytes());
                let sum = checksum(&bytes, &bytes[HEADER_LEN..]);
                bytes[40..48].copy_from_slice(&sum.to_le_bytes());
            }
            if let Ok((_, decoded)) = from_bytes(&bytes) {
                accepted += 1;
                for (x, y) in [(0, 0), (1, 1), (5, 2), (40_000_000, 20_000_000), (-7, 3)] {
                    let p = Point::new(x * 1_000_000 / 7, y * 1_000_000 / 7);
                    for mode in [Boundary::HalfOpen, Boundary::Inclusive, Boundary::Exclusive] {
                        let _ = decoded.first_zone(p, mode);
                        let mut all = Vec::new();
                        decoded.all_zones(p, mode, &mut all);
                    }
                }
            }
        });
        assert!(cases > 100);
        eprintln!("fuzz_decode: {accepted} damaged inputs decoded (and were queried safely)");
    }

    #[test]
    fn round_trip_is_identical() {
        let (index, fp) = sample();
        let bytes = to_bytes(&index, &fp);
        let (fp2, back) = from_bytes(&bytes).unwrap();
        assert_eq!(fp2, fp);
        assert_eq!(back, index);
        assert_eq!(peek_fingerprint(&bytes).unwrap(), fp);
    }

    #[test]
    fn fingerprint_depends_on_content_only() {
        let (a, fa) = sample();
        let (_, fb) = sample();
        assert_eq!(fa, fb);
        let mut g = a.geometry.clone();
        g.ids = Some(vec!["a".into(), "c".into()]);
        assert_ne!(fingerprint(&g), fa);
    }

    #[test]
    fn every_truncation_and_bit_flip_is_an_error() {
        let (index, fp) = sample();
        let bytes = to_bytes(&index, &fp);
        for len in 0..bytes.len() {
            assert!(from_bytes(&bytes[..len]).is_err(), "truncated to {len}");
        }
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x10;
            assert!(from_bytes(&bad).is_err(), "flipped byte {i}");
        }
        let mut future = bytes.clone();
        future[8] = FORMAT_VERSION as u8 + 1;
        let message = from_bytes(&future).unwrap_err();
        assert!(message.contains(&format!("version {} is not supported", FORMAT_VERSION + 1)), "{message}");
        assert!(from_bytes(b"PK\x03\x04 a zip file, not an index at all....................")
            .unwrap_err()
            .contains("wrong magic"));
    }
}
