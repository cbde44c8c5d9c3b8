//! The index as bytes: one self-checking format for files, pickles and Polars plans.
//!
//! Layout (little-endian):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `PLZONES\0` |
//! | 8 | 4 | format version (`FORMAT_VERSION`; version 2 is still read) |
//! | 12 | 4 | flags: bit 0, the payload is zstd-compressed; bit 1, it ends with the zones' properties (zero in version 2) |
//! | 16 | 16 | fingerprint: xxh3-128 of the zones (geometry and ids) |
//! | 32 | 8 | stored payload length |
//! | 40 | 8 | checksum: xxh3-64 of bytes 0..40 and the stored payload |
//! | 48 | … | payload: the `ZoneIndex` in bincode (fixed-width integers), then (bit 1) the properties and their length as 8 bytes; compressed, the length of all that, then a zstd frame of it |
//!
//! The properties are the zones' attribute table as the Python package writes it (Arrow IPC):
//! opaque here, carried with the index so that a saved or pickled `Zones` keeps them, and
//! not part of the fingerprint, which names the geometry and ids the kernels answer from.
//!
//! Files and pickles are uncompressed (loading them is one checked decode). A Polars plan
//! carries the compressed form (`compress`), about half the size, because Polars copies and
//! serializes what a plan carries.
//!
//! Decoding checks all of these and then the index's own invariants, so a truncated,
//! corrupted or foreign input is an error, never a panic or a wrong index.

use xxhash_rust::xxh3::{xxh3_128, Xxh3};

use crate::geometry::ZoneGeometry;
use crate::index::ZoneIndex;

pub const MAGIC: &[u8; 8] = b"PLZONES\0";
/// 2: leaf groups record how many of their edges straddle the leaf's right side.
/// 3: the header's reserved word holds flags (a compressed payload).
pub const FORMAT_VERSION: u32 = 3;
const HEADER_LEN: usize = 48;
const COMPRESSED: u32 = 1;
const HAS_PROPERTIES: u32 = 2;
/// zstd level 1: 44.7 MB of the 10 m zones' index become 24.5 MB in about 0.12 s (measured
/// ad hoc); higher levels gain 4% for twice the time.
const ZSTD_LEVEL: i32 = 1;

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

/// The fingerprint `fingerprint_hex` wrote, or None.
pub fn fingerprint_from_hex(hex: &str) -> Option<[u8; 16]> {
    if hex.len() != 32 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// What `from_bytes` reads back.
#[derive(Debug, PartialEq)]
pub struct Decoded {
    pub fingerprint: [u8; 16],
    pub index: ZoneIndex,
    pub properties: Option<Vec<u8>>,
}

pub fn to_bytes(index: &ZoneIndex, fp: &[u8; 16], properties: Option<&[u8]>) -> Vec<u8> {
    let mut payload = bincode::serde::encode_to_vec(index, config()).expect("index encodes");
    let Some(properties) = properties else { return with_header(fp, 0, &payload) };
    payload.extend_from_slice(properties);
    payload.extend_from_slice(&(properties.len() as u64).to_le_bytes());
    with_header(fp, HAS_PROPERTIES, &payload)
}

fn with_header(fp: &[u8; 16], flags: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&flags.to_le_bytes());
    out.extend_from_slice(fp);
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&checksum(&out, payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// The compressed form of uncompressed index bytes (`to_bytes` output), without the
/// properties: what a Polars plan carries.
pub fn compress(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let header = check_header(bytes)?;
    if header.flags & COMPRESSED != 0 {
        return Ok(bytes.to_vec());
    }
    let (payload, _) = split_properties(&bytes[HEADER_LEN..], header.flags)?;
    let mut stored = (payload.len() as u64).to_le_bytes().to_vec();
    stored.extend(zstd::bulk::compress(payload, ZSTD_LEVEL).map_err(|e| format!("cannot compress the index: {e}"))?);
    Ok(with_header(&header.fingerprint, COMPRESSED, &stored))
}

/// Covers the header (fingerprint included: a damaged one would file the index under
/// another's name in the cache) as well as the payload.
fn checksum(header: &[u8], payload: &[u8]) -> u64 {
    let mut hasher = Xxh3::new();
    hasher.update(&header[..40]);
    hasher.update(payload);
    hasher.digest()
}

/// What the header says.
struct Header {
    fingerprint: [u8; 16],
    flags: u32,
}

/// Reads only the header's fingerprint (after checking magic and version).
pub fn peek_fingerprint(data: &[u8]) -> Result<[u8; 16], String> {
    Ok(check_header(data)?.fingerprint)
}

fn check_header(data: &[u8]) -> Result<Header, String> {
    if data.len() < HEADER_LEN || &data[..8] != MAGIC {
        return Err(if data.len() >= 8 && &data[..8] == MAGIC {
            format!("truncated zone index: {} bytes, the header alone is {HEADER_LEN}", data.len())
        } else {
            "not a polars-zones index (wrong magic bytes)".to_string()
        });
    }
    let version = u32::from_le_bytes(data[8..12].try_into().unwrap());
    if version != FORMAT_VERSION && version != 2 {
        return Err(format!(
            "zone index format version {version} is not supported (this polars-zones reads versions 2 and {FORMAT_VERSION}); rebuild the index from its GeoJSON"
        ));
    }
    let flags = u32::from_le_bytes(data[12..16].try_into().unwrap());
    if (version == 2 && flags != 0) || flags & !(COMPRESSED | HAS_PROPERTIES) != 0 {
        return Err("corrupted zone index: unknown header flags".to_string());
    }
    Ok(Header { fingerprint: data[16..32].try_into().unwrap(), flags })
}

pub fn from_bytes(data: &[u8]) -> Result<Decoded, String> {
    let header = check_header(data)?;
    let len = u64::from_le_bytes(data[32..40].try_into().unwrap());
    let checksum = u64::from_le_bytes(data[40..48].try_into().unwrap());
    let stored = &data[HEADER_LEN..];
    if (stored.len() as u64) < len {
        return Err(format!("truncated zone index: payload has {} of {len} bytes", stored.len()));
    }
    if stored.len() as u64 > len {
        return Err(format!("zone index has {} trailing bytes after its payload", stored.len() as u64 - len));
    }
    if self::checksum(data, stored) != checksum {
        return Err("corrupted zone index: checksum mismatch".to_string());
    }
    let decompressed;
    let payload = if header.flags & COMPRESSED != 0 {
        decompressed = decompress(stored)?;
        &decompressed[..]
    } else {
        stored
    };
    let (payload, properties) = split_properties(payload, header.flags)?;
    let (index, read) = decode_payload(payload).map_err(|e| format!("corrupted zone index: {e}"))?;
    if read != payload.len() {
        return Err("corrupted zone index: payload length mismatch".to_string());
    }
    index.check().map_err(|e| format!("corrupted zone index: {e}"))?;
    let properties = properties.map(<[u8]>::to_vec);
    Ok(Decoded { fingerprint: header.fingerprint, index: index.with_derived_tables(), properties })
}

/// The index's part of a payload, and the properties that end it if the flags say so.
fn split_properties(payload: &[u8], flags: u32) -> Result<(&[u8], Option<&[u8]>), String> {
    if flags & HAS_PROPERTIES == 0 {
        return Ok((payload, None));
    }
    let bad = || "corrupted zone index: the properties run past the payload".to_string();
    let (rest, len) = payload.split_at_checked(payload.len().checked_sub(8).ok_or_else(bad)?).ok_or_else(bad)?;
    let len = usize::try_from(u64::from_le_bytes(len.try_into().unwrap())).map_err(|_| bad())?;
    let (index, properties) = rest.split_at_checked(rest.len().checked_sub(len).ok_or_else(bad)?).ok_or_else(bad)?;
    Ok((index, Some(properties)))
}

/// A compressed payload: its length, then a zstd frame. The length it claims is bounded by
/// what zstd can reach from the stored size, so damage cannot ask for exabytes.
fn decompress(stored: &[u8]) -> Result<Vec<u8>, String> {
    let (len, frame) = stored.split_at_checked(8).ok_or("corrupted zone index: compressed payload too short")?;
    let len = u64::from_le_bytes(len.try_into().unwrap());
    if len > 1024 * (frame.len() as u64 + 64) {
        return Err("corrupted zone index: implausible uncompressed length".to_string());
    }
    let payload = zstd::bulk::decompress(frame, len as usize).map_err(|e| format!("corrupted zone index: {e}"))?;
    if payload.len() as u64 != len {
        return Err("corrupted zone index: uncompressed length mismatch".to_string());
    }
    Ok(payload)
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
        (crate::build::build(g), fp)
    }

    /// The first input `fuzz_decode` found: a string's length prefix damaged to an enormous
    /// value under a valid checksum made bincode allocate it and abort the process.
    #[test]
    fn a_huge_length_prefix_is_an_error_not_an_abort() {
        let (index, fp) = sample();
        let mut bytes = to_bytes(&index, &fp, None);
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
        let plain = to_bytes(&index, &fp, None);
        let packed = compress(&plain).unwrap();
        let interesting: [&[u8]; 5] = [&[0xff; 4], &[0; 8], &[0x80, 0, 0, 0], &u32::MAX.to_le_bytes(), &[1, 0, 0, 0]];
        let mut accepted = 0;
        let cases = for_a_while("fuzz_decode", |rng, _| {
            let valid = if rng.chance(2) { &plain } else { &packed };
            let mut bytes = mutate(rng, valid, &interesting);
            if rng.chance(2) && bytes.len() >= HEADER_LEN {
                // Keep the header well formed; damage only the payload, then re-seal it.
                bytes[..40].copy_from_slice(&valid[..40]);
                let len = (bytes.len() - HEADER_LEN) as u64;
                bytes[32..40].copy_from_slice(&len.to_le_bytes());
                let sum = checksum(&bytes, &bytes[HEADER_LEN..]);
                bytes[40..48].copy_from_slice(&sum.to_le_bytes());
            }
            if let Ok(Decoded { index: decoded, .. }) = from_bytes(&bytes) {
                accepted += 1;
                for (x, y) in [(0, 0), (1, 1), (5, 2), (40_000_000, 20_000_000), (-7, 3)] {
                    let p = Point::new(x * 1_000_000 / 7, y * 1_000_000 / 7);
                    for mode in [Boundary::HalfOpen, Boundary::Inclusive, Boundary::Exclusive] {
                        let _ = crate::query::first_zone(&decoded, p, mode);
                        let mut all = Vec::new();
                        crate::query::all_zones(&decoded, p, mode, &mut all);
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
        let bytes = to_bytes(&index, &fp, None);
        let back = from_bytes(&bytes).unwrap();
        assert_eq!(back, Decoded { fingerprint: fp, index: index.clone(), properties: None });
        assert_eq!(peek_fingerprint(&bytes).unwrap(), fp);
        let compressed = compress(&bytes).unwrap();
        assert_eq!(compressed[12], 1);
        assert_eq!(peek_fingerprint(&compressed).unwrap(), fp);
        assert_eq!(from_bytes(&compressed).unwrap().index, index);
        // Properties travel with the bytes, and a plan's compressed bytes leave them out.
        let with = to_bytes(&index, &fp, Some(b"a table"));
        let back = from_bytes(&with).unwrap();
        assert_eq!((back.index, back.properties), (index.clone(), Some(b"a table".to_vec())));
        assert_eq!(from_bytes(&compress(&with).unwrap()).unwrap().properties, None);
        assert_eq!(compress(&with).unwrap(), compressed);
        assert_eq!(compress(&compressed).unwrap(), compressed);
    }

    /// Files written by version 2 (flags zero, otherwise the same layout) still load.
    #[test]
    fn version_2_bytes_still_load() {
        let (index, fp) = sample();
        let mut bytes = to_bytes(&index, &fp, None);
        bytes[8..12].copy_from_slice(&2u32.to_le_bytes());
        let sum = checksum(&bytes, &bytes[HEADER_LEN..]);
        bytes[40..48].copy_from_slice(&sum.to_le_bytes());
        assert_eq!(from_bytes(&bytes).unwrap().index, index);
    }

    #[test]
    fn fingerprints_read_back_from_hex() {
        let fp: [u8; 16] = std::array::from_fn(|i| (i * 17) as u8);
        assert_eq!(fingerprint_from_hex(&fingerprint_hex(&fp)), Some(fp));
        assert_eq!(fingerprint_from_hex("zz"), None);
        assert_eq!(fingerprint_from_hex(&"g".repeat(32)), None);
        assert_eq!(fingerprint_from_hex(&"é".repeat(16)), None);
    }

    #[test]
    fn fingerprint_depends_on_content_only() {
        let (a, fa) = sample();
        let (_, fb) = sample();
        assert_eq!(fa, fb);
        let mut g = a.geometry().clone();
        g.ids = Some(vec!["a".into(), "c".into()]);
        assert_ne!(fingerprint(&g), fa);
    }

    #[test]
    fn every_truncation_and_bit_flip_is_an_error() {
        let (index, fp) = sample();
        let bytes = to_bytes(&index, &fp, None);
        for bytes in [bytes.clone(), compress(&bytes).unwrap(), to_bytes(&index, &fp, Some(b"props"))] {
            for len in 0..bytes.len() {
                assert!(from_bytes(&bytes[..len]).is_err(), "truncated to {len}");
            }
            for i in 0..bytes.len() {
                let mut bad = bytes.clone();
                bad[i] ^= 0x10;
                assert!(from_bytes(&bad).is_err(), "flipped byte {i}");
            }
        }
        let mut future = bytes.clone();
        future[8] = FORMAT_VERSION as u8 + 1;
        let message = from_bytes(&future).unwrap_err();
        assert!(message.contains(&format!("version {} is not supported", FORMAT_VERSION + 1)), "{message}");
        let mut flagged = bytes.clone();
        flagged[13] = 1;
        assert!(from_bytes(&flagged).is_err());
        assert!(from_bytes(b"PK\x03\x04 a zip file, not an index at all....................")
            .unwrap_err()
            .contains("wrong magic"));
    }
}
