//! The index as bytes: one self-checking format for files, pickles and Polars plans.
//!
//! Layout (little-endian):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `PLZONES\0` |
//! | 8 | 4 | format version (`FORMAT_VERSION`; versions 2 to 4 are still read) |
//! | 12 | 4 | flags: bit 0, the payload is zstd-compressed; bit 1, it ends with the zones' properties (zero in version 2) |
//! | 16 | 16 | fingerprint: xxh3-128 of the zones (geometry and ids) |
//! | 32 | 8 | stored payload length |
//! | 40 | 8 | checksum: xxh3-64 of bytes 0..40 and the stored payload |
//! | 48 | … | payload: the index (`Packed`, in bincode with fixed-width integers), then (bit 1) the properties and their length as 8 bytes; compressed, the length of all that, then `compress_payload`'s frames of it |
//!
//! The payload holds the zones' geometry and the index's own arrays. From version 4 each
//! array is one byte string (`Packed`), which decodes as a copy: in version 4 the array's
//! little-endian values; from version 5 its byte planes (`to_planes`: every value's lowest
//! byte, then every value's next byte, ...), and the vertices as the differences between
//! consecutive vertices (`vertex_deltas`) before that. Neighbouring vertices are close and
//! most index words share their high bytes, so planes of small numbers compress to about
//! a third less than the values themselves. Versions 2 and 3 wrote each array as a sequence
//! of integers (the `ZoneIndex` itself in bincode), which decodes one call per element, and
//! are still read that way.
//!
//! The properties are the zones' attribute table as the Python package writes it (Arrow IPC):
//! opaque here, carried with the index so that a saved or pickled `Zones` keeps them, and
//! not part of the fingerprint, which names the geometry and ids the kernels answer from.
//!
//! Files, pickles and Polars plans carry the compressed form (`to_compressed_bytes`): about a
//! third of the index's bytes from version 5 (half in version 4), which is what Polars copies
//! and serializes with a plan, in frames that decompress on all cores. Uncompressed bytes
//! (version 4's, and earlier versions' files) load too; the tests make them with `to_bytes`
//! and `compress` them.
//!
//! Decoding checks all of these and then the index's own invariants, so a truncated,
//! corrupted or foreign input is an error, never a panic or a wrong index.

use std::borrow::Cow;

use bytemuck::Pod;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_bytes::Bytes;
use xxhash_rust::xxh3::{xxh3_128, Xxh3};

use crate::coords::Point;
use crate::geometry::ZoneGeometry;
use crate::index::{TopGrid, ZoneIndex};

pub const MAGIC: &[u8; 8] = b"PLZONES\0";
/// 2: leaf groups record how many of their edges straddle the leaf's right side.
/// 3: the header's reserved word holds flags (a compressed payload).
/// 4: the payload's arrays are byte strings (`Packed`).
/// 5: those byte strings are byte planes, and the vertices deltas (`to_planes`).
pub const FORMAT_VERSION: u32 = 5;
/// The oldest version read: 2 and 3 differ only in the header's flags.
const OLDEST_VERSION: u32 = 2;
/// The first version whose arrays are byte strings (`Packed`) and whose compressed payload is
/// in frames (`compress_payload`).
const PACKED_SINCE: u32 = 4;
/// The first version whose arrays are stored as byte planes, and vertices as deltas.
const PLANES_SINCE: u32 = 5;
const HEADER_LEN: usize = 48;
const COMPRESSED: u32 = 1;
const HAS_PROPERTIES: u32 = 2;
/// zstd level 1, the fastest: on version 4's payload, higher levels saved a few percent more
/// for twice the time (measured ad hoc on the 10 m zones); the byte planes of version 5 are
/// what made the payload smaller.
const ZSTD_LEVEL: i32 = 1;

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_fixed_int_encoding().with_little_endian()
}

/// Version 4's payload: the geometry's and the index's arrays, in the order versions 2 and 3
/// wrote them, each as the bytes of its little-endian values.
#[derive(Serialize, Deserialize)]
struct Packed<'a> {
    ids: Option<Vec<String>>,
    zone_count: u32,
    #[serde(borrow)]
    polygon_zone: &'a Bytes,
    #[serde(borrow)]
    polygon_rings: &'a Bytes,
    #[serde(borrow)]
    ring_starts: &'a Bytes,
    /// Each vertex's x, then its y.
    #[serde(borrow)]
    vertices: &'a Bytes,
    grid: TopGrid,
    /// `ZoneIndex::stored_arrays`, in its order.
    #[serde(borrow)]
    arrays: [&'a Bytes; 4],
}

/// The bytes of values made of 4-byte words (`u32`, `Point`), little-endian: the values'
/// own memory on a little-endian machine.
fn le_bytes<T: Pod>(values: &[T]) -> Cow<'_, [u8]> {
    let bytes: &[u8] = bytemuck::cast_slice(values);
    if cfg!(target_endian = "little") {
        return Cow::Borrowed(bytes);
    }
    let mut swapped = bytes.to_vec();
    swapped.chunks_exact_mut(4).for_each(<[u8]>::reverse);
    Cow::Owned(swapped)
}

/// How many values of `size` bytes a stored array holds, or an error if not a whole number.
fn value_count(bytes: &Bytes, size: usize) -> Result<usize, String> {
    match bytes.len() % size {
        0 => Ok(bytes.len() / size),
        _ => Err("corrupted zone index: an array's length is not a whole number of values".to_string()),
    }
}

/// `le_bytes` read back: one copy (and, on a big-endian machine, a swap per word).
fn from_le_bytes<T: Pod>(bytes: &Bytes) -> Result<Vec<T>, String> {
    let mut values: Vec<T> = bytemuck::zeroed_vec(value_count(bytes, std::mem::size_of::<T>())?);
    bytemuck::cast_slice_mut::<T, u8>(&mut values).copy_from_slice(bytes);
    if cfg!(target_endian = "big") {
        bytemuck::cast_slice_mut::<T, u8>(&mut values).chunks_exact_mut(4).for_each(<[u8]>::reverse);
    }
    Ok(values)
}

/// Version 5's form of an array of 4-byte words: byte 0 (the least significant) of every word,
/// then byte 1 of every word, and so on. The same bytes on any machine.
fn to_planes(words: &[u32]) -> Vec<u8> {
    let mut planes = vec![0u8; words.len() * 4];
    if words.is_empty() {
        return planes;
    }
    planes.par_chunks_mut(words.len()).enumerate().for_each(|(k, plane)| {
        for (byte, word) in plane.iter_mut().zip(words) {
            *byte = (word >> (8 * k)) as u8;
        }
    });
    planes
}

/// `to_planes` read back, on all cores.
fn from_planes(bytes: &Bytes) -> Result<Vec<u32>, String> {
    let n = value_count(bytes, 4)?;
    let planes: [&[u8]; 4] = std::array::from_fn(|k| &bytes[k * n..(k + 1) * n]);
    let mut words: Vec<u32> = bytemuck::zeroed_vec(n);
    const CHUNK: usize = 1 << 16;
    words.par_chunks_mut(CHUNK).enumerate().for_each(|(c, out)| {
        let at = c * CHUNK..c * CHUNK + out.len();
        let [p0, p1, p2, p3] = planes.map(|plane| &plane[at.clone()]);
        for (i, word) in out.iter_mut().enumerate() {
            *word = u32::from_le_bytes([p0[i], p1[i], p2[i], p3[i]]);
        }
    });
    Ok(words)
}

/// Each vertex coordinate as its difference from the previous vertex's (wrapping, so any
/// coordinates round-trip), zigzag-encoded so that small negative differences, like small
/// positive ones, have zero high bytes: x0, y0, x1 - x0, y1 - y0, ...
fn vertex_deltas(vertices: &[Point]) -> Vec<u32> {
    let coords: &[i32] = bytemuck::cast_slice(vertices);
    let zigzag = |d: i32| ((d << 1) ^ (d >> 31)) as u32;
    (0..coords.len()).map(|i| zigzag(coords[i].wrapping_sub(if i < 2 { 0 } else { coords[i - 2] }))).collect()
}

/// `vertex_deltas` undone.
fn from_vertex_deltas(words: &[u32]) -> Result<Vec<Point>, String> {
    if words.len() % 2 != 0 {
        return Err("corrupted zone index: the vertices' length is not a whole number of points".to_string());
    }
    let unzigzag = |w: u32| ((w >> 1) as i32) ^ -((w & 1) as i32);
    let mut vertices: Vec<Point> = bytemuck::zeroed_vec(words.len() / 2);
    let coords: &mut [i32] = bytemuck::cast_slice_mut(&mut vertices);
    let mut previous = [0i32; 2];
    for (i, (coord, word)) in coords.iter_mut().zip(words).enumerate() {
        previous[i % 2] = previous[i % 2].wrapping_add(unzigzag(*word));
        *coord = previous[i % 2];
    }
    Ok(vertices)
}

/// The payload's index part in the form of `version` (4 or 5; the tests write version 4's).
fn encode_payload(index: &ZoneIndex, version: u32) -> Vec<u8> {
    let g = index.geometry();
    let planes = version >= PLANES_SINCE;
    fn stored(words: &[u32], planes: bool) -> Cow<'_, [u8]> {
        if planes {
            Cow::Owned(to_planes(words))
        } else {
            le_bytes(words)
        }
    }
    let vertices = if planes { Cow::Owned(to_planes(&vertex_deltas(&g.vertices))) } else { le_bytes(&g.vertices) };
    let [polygon_zone, polygon_rings, ring_starts] =
        [&g.polygon_zone, &g.polygon_rings, &g.ring_starts].map(|a| stored(a, planes));
    let [a, b, c, d] = index.stored_arrays().map(|a| stored(a, planes));
    let packed = Packed {
        ids: g.ids.clone(),
        zone_count: g.zone_count,
        polygon_zone: Bytes::new(&polygon_zone),
        polygon_rings: Bytes::new(&polygon_rings),
        ring_starts: Bytes::new(&ring_starts),
        vertices: Bytes::new(&vertices),
        grid: index.grid(),
        arrays: [Bytes::new(&a), Bytes::new(&b), Bytes::new(&c), Bytes::new(&d)],
    };
    bincode::serde::encode_to_vec(&packed, config()).expect("index encodes")
}

/// The index of a payload of `version`, unchecked (`from_bytes` checks it).
fn decode_payload(payload: &[u8], version: u32) -> Result<ZoneIndex, String> {
    let corrupted = |e: bincode::error::DecodeError| format!("corrupted zone index: {e}");
    if version < PACKED_SINCE {
        let (index, read) = with_limit::<ZoneIndex>(payload).map_err(corrupted)?;
        return whole(read, payload).map(|()| index);
    }
    let (packed, read) = with_limit::<Packed>(payload).map_err(corrupted)?;
    whole(read, payload)?;
    let planes = version >= PLANES_SINCE;
    let words = if planes { from_planes } else { from_le_bytes::<u32> };
    let vertices =
        if planes { from_vertex_deltas(&from_planes(packed.vertices)?)? } else { from_le_bytes(packed.vertices)? };
    let geometry = ZoneGeometry {
        ids: packed.ids,
        zone_count: packed.zone_count,
        polygon_zone: words(packed.polygon_zone)?,
        polygon_rings: words(packed.polygon_rings)?,
        ring_starts: words(packed.ring_starts)?,
        vertices,
    };
    let [a, b, c, d] = packed.arrays;
    let arrays = [words(a)?, words(b)?, words(c)?, words(d)?];
    Ok(ZoneIndex::from_stored(geometry, packed.grid, arrays))
}

fn whole(read: usize, payload: &[u8]) -> Result<(), String> {
    match read == payload.len() {
        true => Ok(()),
        false => Err("corrupted zone index: payload length mismatch".to_string()),
    }
}

/// Decodes with bincode's byte limit set to the smallest power of 16 at least as large as the
/// payload. bincode allocates a string or vector from its length prefix before reading it,
/// so a damaged prefix could ask for exabytes and abort the process (found by
/// `fuzz_decode`); with the limit, such a claim is an error, and no claim can exceed 16 times
/// the payload's size.
fn with_limit<'a, T: Deserialize<'a>>(payload: &'a [u8]) -> Result<(T, usize), bincode::error::DecodeError> {
    fn with_limit<'a, T: Deserialize<'a>, const N: usize>(
        payload: &'a [u8],
    ) -> Result<(T, usize), bincode::error::DecodeError> {
        let config = bincode::config::standard().with_fixed_int_encoding().with_little_endian().with_limit::<N>();
        bincode::serde::borrow_decode_from_slice(payload, config)
    }
    match payload.len() {
        n if n <= 1 << 16 => with_limit::<T, { 1 << 16 }>(payload),
        n if n <= 1 << 20 => with_limit::<T, { 1 << 20 }>(payload),
        n if n <= 1 << 24 => with_limit::<T, { 1 << 24 }>(payload),
        n if n <= 1 << 28 => with_limit::<T, { 1 << 28 }>(payload),
        n if n <= 1 << 32 => with_limit::<T, { 1 << 32 }>(payload),
        _ => with_limit::<T, { 1 << 40 }>(payload),
    }
}

/// A stable content hash of the zones: same geometry and ids, same fingerprint, on any
/// machine (bincode with fixed-width little-endian integers is platform-independent), and in
/// every format version (it hashes the `ZoneGeometry` as versions 2 and 3 stored it).
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

/// The index's bytes, uncompressed: a form `from_bytes` still reads, and the input of
/// `compress`. Nothing writes it any more but the tests.
#[cfg(test)]
pub fn to_bytes(index: &ZoneIndex, fp: &[u8; 16], properties: Option<&[u8]>) -> Vec<u8> {
    let (payload, flags) = payload(index, properties);
    with_header(fp, FORMAT_VERSION, flags, &payload)
}

/// `compress(&to_bytes(..))` without the uncompressed bytes in between: what files, pickles
/// and Polars plans carry.
pub fn to_compressed_bytes(index: &ZoneIndex, fp: &[u8; 16], properties: Option<&[u8]>) -> Result<Vec<u8>, String> {
    let (payload, flags) = payload(index, properties);
    Ok(with_header(fp, FORMAT_VERSION, flags | COMPRESSED, &compress_payload(&payload, FORMAT_VERSION)?))
}

/// The payload, uncompressed, and its flags: the index, then the properties if any.
fn payload(index: &ZoneIndex, properties: Option<&[u8]>) -> (Vec<u8>, u32) {
    let mut payload = encode_payload(index, FORMAT_VERSION);
    let Some(properties) = properties else { return (payload, 0) };
    payload.extend_from_slice(properties);
    payload.extend_from_slice(&(properties.len() as u64).to_le_bytes());
    (payload, HAS_PROPERTIES)
}

fn with_header(fp: &[u8; 16], version: u32, flags: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&flags.to_le_bytes());
    out.extend_from_slice(fp);
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&checksum(&out, payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// The compressed form of index bytes (`to_bytes` output), properties included: what files,
/// pickles and Polars plans carry. Bytes that are compressed already are returned as they are.
/// For the tests, which make every form `from_bytes` reads.
#[cfg(test)]
pub fn compress(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let header = check_header(bytes)?;
    if header.flags & COMPRESSED != 0 {
        return Ok(bytes.to_vec());
    }
    // Version 2 had no flags; version 3 has the same payload and can say it is compressed.
    let version = header.version.max(3);
    let stored = compress_payload(&bytes[HEADER_LEN..], version)?;
    Ok(with_header(&header.fingerprint, version, header.flags | COMPRESSED, &stored))
}

/// Uncompressed bytes per zstd frame of a compressed payload (version 4): the frames are
/// compressed and decompressed independently, on rayon's threads.
const FRAME_BYTES: usize = 4 << 20;

/// A payload of `version` compressed: its length, then (version 4) `FRAME_BYTES` and each
/// frame's length and bytes, or (version 3) one zstd frame.
fn compress_payload(payload: &[u8], version: u32) -> Result<Vec<u8>, String> {
    let failed = |e: std::io::Error| format!("cannot compress the index: {e}");
    let mut stored = (payload.len() as u64).to_le_bytes().to_vec();
    if version < PACKED_SINCE {
        stored.extend(zstd::bulk::compress(payload, ZSTD_LEVEL).map_err(failed)?);
        return Ok(stored);
    }
    let frames: Vec<Vec<u8>> = payload
        .par_chunks(FRAME_BYTES)
        .map(|chunk| zstd::bulk::compress(chunk, ZSTD_LEVEL))
        .collect::<Result<_, _>>()
        .map_err(failed)?;
    stored.extend_from_slice(&(FRAME_BYTES as u64).to_le_bytes());
    for frame in &frames {
        stored.extend_from_slice(&(frame.len() as u64).to_le_bytes());
        stored.extend_from_slice(frame);
    }
    Ok(stored)
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
    version: u32,
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
    if !(OLDEST_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(format!(
            "zone index format version {version} is not supported (this polars-zones reads versions {OLDEST_VERSION} to {FORMAT_VERSION}); rebuild the index from its GeoJSON"
        ));
    }
    let flags = u32::from_le_bytes(data[12..16].try_into().unwrap());
    if (version == 2 && flags != 0) || flags & !(COMPRESSED | HAS_PROPERTIES) != 0 {
        return Err("corrupted zone index: unknown header flags".to_string());
    }
    Ok(Header { version, fingerprint: data[16..32].try_into().unwrap(), flags })
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
    let intact = || self::checksum(data, stored) == checksum;
    let mismatch = || Err("corrupted zone index: checksum mismatch".to_string());
    let decode = |payload: &[u8]| -> Result<_, String> {
        let (payload, properties) = split_properties(payload, header.flags)?;
        Ok((decode_payload(payload, header.version)?, properties.map(<[u8]>::to_vec)))
    };
    let (index, properties) = if header.flags & COMPRESSED != 0 {
        // Checked before decompressing: a damaged length could ask for gigabytes.
        if !intact() {
            return mismatch();
        }
        decode(&decompress(stored, header.version)?)?
    } else {
        // Decoded while the checksum is computed: decoding damaged bytes is an error, never a
        // panic (`fuzz_decode`), with its allocations bounded (`with_limit`); a mismatch is
        // still what is reported.
        let (intact, decoded) = rayon::join(intact, || decode(stored));
        if !intact {
            return mismatch();
        }
        decoded?
    };
    let index = index.checked().map_err(|e| format!("corrupted zone index: {e}"))?;
    Ok(Decoded { fingerprint: header.fingerprint, index, properties })
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

/// `compress_payload` undone. The length it claims is bounded by what zstd can reach from
/// the stored size, and every frame's by what is left, so damage cannot ask for exabytes.
fn decompress(stored: &[u8], version: u32) -> Result<Vec<u8>, String> {
    let corrupted = |what: &str| format!("corrupted zone index: {what}");
    fn word(bytes: &[u8]) -> Result<(u64, &[u8]), String> {
        let (word, rest) = bytes.split_at_checked(8).ok_or("corrupted zone index: compressed payload too short")?;
        Ok((u64::from_le_bytes(word.try_into().unwrap()), rest))
    }
    let (len, rest) = word(stored)?;
    if len > 1024 * (rest.len() as u64 + 64) {
        return Err(corrupted("implausible uncompressed length"));
    }
    if version < PACKED_SINCE {
        let payload = zstd::bulk::decompress(rest, len as usize).map_err(|e| corrupted(&e.to_string()))?;
        return match payload.len() as u64 == len {
            true => Ok(payload),
            false => Err(corrupted("uncompressed length mismatch")),
        };
    }
    let (frame_bytes, mut rest) = word(rest)?;
    if frame_bytes == 0 || len.div_ceil(frame_bytes) > rest.len() as u64 / 8 {
        return Err(corrupted("implausible compressed frames"));
    }
    let mut frames = Vec::with_capacity(len.div_ceil(frame_bytes) as usize);
    while frames.len() < frames.capacity() {
        let (n, after) = word(rest)?;
        let (frame, after) =
            after.split_at_checked(n as usize).ok_or_else(|| corrupted("compressed frame too short"))?;
        frames.push(frame);
        rest = after;
    }
    if !rest.is_empty() {
        return Err(corrupted("bytes after the last compressed frame"));
    }
    let mut payload: Vec<u8> = bytemuck::zeroed_vec(len as usize);
    payload.par_chunks_mut(frame_bytes as usize).zip(frames).try_for_each(|(out, frame)| {
        match zstd::bulk::decompress_to_buffer(frame, out) {
            Ok(n) if n == out.len() => Ok(()),
            Ok(_) => Err(corrupted("uncompressed length mismatch")),
            Err(e) => Err(corrupted(&e.to_string())),
        }
    })?;
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
        let legacy = legacy_bytes(&index, &fp, 3);
        let version_4 = version_4_bytes(&index, &fp);
        let interesting: [&[u8]; 5] = [&[0xff; 4], &[0; 8], &[0x80, 0, 0, 0], &u32::MAX.to_le_bytes(), &[1, 0, 0, 0]];
        let mut accepted = 0;
        let cases = for_a_while("fuzz_decode", |rng, _| {
            let valid = if rng.chance(2) {
                &plain
            } else if rng.chance(2) {
                &packed
            } else if rng.chance(2) {
                &version_4
            } else {
                &legacy
            };
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
        assert_eq!(to_compressed_bytes(&index, &fp, None).unwrap(), compressed);
        assert_eq!(compressed[12], 1);
        assert_eq!(peek_fingerprint(&compressed).unwrap(), fp);
        assert_eq!(from_bytes(&compressed).unwrap().index, index);
        // Properties travel with the bytes, compressed or not.
        let with = to_bytes(&index, &fp, Some(b"a table"));
        assert_eq!(to_compressed_bytes(&index, &fp, Some(b"a table")).unwrap(), compress(&with).unwrap());
        for with in [with.clone(), compress(&with).unwrap()] {
            let back = from_bytes(&with).unwrap();
            assert_eq!((back.index, back.properties), (index.clone(), Some(b"a table".to_vec())));
        }
        assert_eq!(compress(&compressed).unwrap(), compressed);
    }

    /// Bytes as versions 2 and 3 wrote them: the `ZoneIndex` itself in bincode.
    fn legacy_bytes(index: &ZoneIndex, fp: &[u8; 16], version: u32) -> Vec<u8> {
        with_header(fp, version, 0, &bincode::serde::encode_to_vec(index, config()).unwrap())
    }

    /// Files written by versions 2 and 3 (arrays as sequences of integers) still load, as
    /// the same index, and compress into a plan's bytes that load too.
    #[test]
    fn version_2_and_3_bytes_still_load() {
        let (index, fp) = sample();
        for version in [2, 3] {
            let bytes = legacy_bytes(&index, &fp, version);
            assert_ne!(bytes, to_bytes(&index, &fp, None));
            assert_eq!(
                from_bytes(&bytes).unwrap(),
                Decoded { fingerprint: fp, index: index.clone(), properties: None }
            );
            let packed = compress(&bytes).unwrap();
            assert_eq!(u32::from_le_bytes(packed[8..12].try_into().unwrap()), 3);
            assert_eq!(from_bytes(&packed).unwrap().index, index);
        }
    }

    /// Version 4's bytes: each array as its little-endian values.
    fn version_4_bytes(index: &ZoneIndex, fp: &[u8; 16]) -> Vec<u8> {
        with_header(fp, 4, 0, &encode_payload(index, 4))
    }

    /// Version 4 stores each array as its bytes: the payload is the arrays' bytes plus a few
    /// words of lengths and grid, and an array whose length is not a whole number of values
    /// is an error. Such files still load, as the same index, compressed or not.
    #[test]
    fn version_4_arrays_are_stored_as_their_bytes() {
        let (index, fp) = sample();
        let bytes = version_4_bytes(&index, &fp);
        assert!(bytes.len() < HEADER_LEN + index.array_bytes() + 200, "{} bytes", bytes.len());
        let (_, payload) = bytes.split_at(HEADER_LEN);
        let vertices = le_bytes(&index.geometry().vertices);
        assert!(payload.windows(vertices.len()).any(|w| w == &vertices[..]));
        assert!(from_le_bytes::<u32>(Bytes::new(&[1, 0, 0, 0, 2])).is_err());
        assert_eq!(from_le_bytes::<u32>(Bytes::new(&[1, 0, 0, 0, 2, 1, 0, 0])).unwrap(), vec![1, 258]);
        let points = [Point::new(-1, 7)];
        assert_eq!(from_le_bytes::<Point>(Bytes::new(&le_bytes(&points))).unwrap(), points);
        for bytes in [bytes.clone(), compress(&bytes).unwrap()] {
            assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), 4);
            assert_eq!(
                from_bytes(&bytes).unwrap(),
                Decoded { fingerprint: fp, index: index.clone(), properties: None }
            );
        }
        assert_ne!(bytes, to_bytes(&index, &fp, None));
    }

    /// Version 5 stores each array as its byte planes and the vertices as zigzagged deltas
    /// first: the same length as version 4's, and the nodes' planes are in the payload.
    #[test]
    fn version_5_arrays_are_stored_as_byte_planes() {
        let (index, fp) = sample();
        let bytes = to_bytes(&index, &fp, None);
        assert_eq!(bytes.len(), version_4_bytes(&index, &fp).len());
        let nodes = to_planes(index.stored_arrays()[0]);
        assert!(bytes[HEADER_LEN..].windows(nodes.len()).any(|w| w == &nodes[..]));
        assert_eq!(to_planes(&[0x0403_0201, 0x0807_0605]), [1, 5, 2, 6, 3, 7, 4, 8]);
        assert_eq!(to_planes(&[]), Vec::<u8>::new());
        assert!(from_planes(Bytes::new(&[1, 2, 3])).is_err());
        let words: Vec<u32> = (0..200_000u32).map(|i| i.wrapping_mul(2_654_435_761)).collect();
        assert_eq!(from_planes(Bytes::new(&to_planes(&words))).unwrap(), words);
        let extremes = [i32::MIN, i32::MAX, 0, -1, 1, i32::MIN + 1, i32::MAX - 1];
        let vertices: Vec<Point> =
            extremes.iter().flat_map(|&x| extremes.iter().map(move |&y| Point::new(x, y))).collect();
        assert_eq!(from_vertex_deltas(&vertex_deltas(&vertices)).unwrap(), vertices);
        assert_eq!(vertex_deltas(&[Point::new(5, -5), Point::new(4, -3)]), [10, 9, 1, 4]);
        assert!(from_vertex_deltas(&[1, 2, 3]).is_err());
    }

    /// A payload of several frames (the last one shorter) comes back whole; damaged frame
    /// lengths or counts are errors.
    #[test]
    fn compressed_frames_round_trip() {
        let payload: Vec<u8> = (0..FRAME_BYTES * 5 / 2).map(|i| (i % 251) as u8 ^ (i >> 16) as u8).collect();
        let stored = compress_payload(&payload, 4).unwrap();
        assert_eq!(decompress(&stored, 4).unwrap(), payload);
        assert!(stored.len() < payload.len() / 10);
        let frames = u64::from_le_bytes(stored[8..16].try_into().unwrap());
        assert_eq!(frames, FRAME_BYTES as u64);
        for (at, value) in [(8, 0u64), (8, 1), (16, u64::MAX), (16, 3), (0, payload.len() as u64 + 1)] {
            let mut bad = stored.clone();
            bad[at..at + 8].copy_from_slice(&value.to_le_bytes());
            assert!(decompress(&bad, 4).is_err(), "word at {at} = {value}");
        }
        assert!(decompress(&stored[..stored.len() - 1], 4).is_err());
        let mut longer = stored.clone();
        longer.push(0);
        assert!(decompress(&longer, 4).is_err());
        assert_eq!(decompress(&compress_payload(&[], 4).unwrap(), 4).unwrap(), Vec::<u8>::new());
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
