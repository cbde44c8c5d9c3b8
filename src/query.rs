//! The query kernel: points in, zones out, through the global index.
//!
//! One descent from the top grid to a resolved cell or a leaf, then (in a leaf only) a
//! handful of exact edge tests. Slices are processed in blocks; with `parallel`, blocks run
//! on rayon's threads. Nothing is allocated per point.

use rayon::prelude::*;

use crate::boundary::Boundary;
use crate::coords::{crosses_horizontal_leg, on_segment, path_crosses, snap_query, Point, HALF_TURN};
use crate::index::{Cell, Group, Node, RecordGroup, ZoneIndex, LEAF_HEAD_BYTES};
use crate::nearest::Nearest;

pub use crate::geometry::NO_ZONE;

/// Points per block of parallel work: large enough to amortize scheduling, small enough
/// to balance coast-heavy blocks against open-sea ones.
const BLOCK: usize = 16 * 1024;

/// Whether a group's polygon contains `p`, from its parity at the leaf corner; its edges read
/// from the geometry.
#[inline(always)]
fn group_contains(index: &ZoneIndex, group: Group, p: Point, x1: i64, y0: i64, boundary: Boundary) -> bool {
    let edges = group.edges.iter().map(|&e| index.geometry().edge(e));
    path_parity(group.odd_at_corner, group.straddling, edges, p, x1, y0, boundary)
}

/// `group_contains` for a group of a leaf record, whose edges are in it.
#[inline(always)]
fn record_group_contains(group: RecordGroup, p: Point, x1: i64, y0: i64, boundary: Boundary) -> bool {
    path_parity(group.odd_at_corner, group.straddling, group.edges(), p, x1, y0, boundary)
}

/// Whether a polygon contains `p`, from its parity at the leaf corner and its edges in the
/// leaf, as (a, b). The first `straddling` edges are the ones that can cross the path's
/// vertical leg; the others (most of them) only need the horizontal one.
#[inline(always)]
fn path_parity(
    odd_at_corner: bool,
    straddling: usize,
    edges: impl Iterator<Item = (Point, Point)> + Clone,
    p: Point,
    x1: i64,
    y0: i64,
    boundary: Boundary,
) -> bool {
    let mut odd = odd_at_corner;
    let (px, py) = (p.x as i64, p.y as i64);
    let mut rest = edges.clone();
    for (a, b) in rest.by_ref().take(straddling) {
        odd ^= path_crosses(a, b, px, py, x1, y0);
    }
    for (a, b) in rest {
        odd ^= crosses_horizontal_leg(a, b, px, py, x1);
    }
    let on_edge = boundary != Boundary::HalfOpen && edges.clone().any(|(a, b)| on_segment(a, b, p));
    boundary.resolve(odd, on_edge)
}

/// Fetches the rest of what a lookup in a leaf reads, once its head has arrived.
#[inline(always)]
fn prefetch_leaf_tail(index: &ZoneIndex, leaf: u32) {
    if let Some((start, bytes)) = index.leaf_tail_address(leaf) {
        let mut line = 0;
        while line < bytes {
            prefetch(start.wrapping_add(line));
            line += 64;
        }
        // The last line, when the run starts part-way into its first one.
        prefetch(start.wrapping_add(bytes - 1));
    }
}

/// The first zone (lowest index) containing `p`, or `NO_ZONE`.
#[inline]
pub fn first_zone(index: &ZoneIndex, p: Point, boundary: Boundary) -> u32 {
    if on_seam(p, boundary) {
        return seam_first_zone(index, p);
    }
    first_zone_at(index, index.locate(p), p, boundary)
}

#[inline(always)]
fn first_zone_at(index: &ZoneIndex, cell: Cell, p: Point, boundary: Boundary) -> u32 {
    match cell {
        Cell::Outside => NO_ZONE,
        Cell::Resolved(set) => index.first_zone_of_set(set),
        // One branch per lookup, the same for every lookup in an index, on where its leaves
        // are read from.
        Cell::Leaf { leaf, x1, y0 } => match index.leaf_record(leaf) {
            Some(record) => {
                let mut best = record.base_first_zone;
                for group in record.groups() {
                    // Only a lower zone can change the answer.
                    if group.zone < best && record_group_contains(group, p, x1, y0, boundary) {
                        best = group.zone;
                    }
                }
                best
            }
            None => {
                let (base, groups) = index.leaf_block(leaf);
                let mut best = index.first_zone_of_set(base);
                for group in groups {
                    if group.zone < best && group_contains(index, group, p, x1, y0, boundary) {
                        best = group.zone;
                    }
                }
                best
            }
        },
    }
}

/// Every zone containing `p`, ascending, appended to `out`.
pub fn all_zones(index: &ZoneIndex, p: Point, boundary: Boundary, out: &mut Vec<u32>) {
    if on_seam(p, boundary) {
        return seam_zones(index, p, out);
    }
    zones_at(index, p, boundary, out)
}

/// `all_zones` at `p` in the plane, whatever its longitude.
fn zones_at(index: &ZoneIndex, p: Point, boundary: Boundary, out: &mut Vec<u32>) {
    let start = out.len();
    match index.locate(p) {
        Cell::Outside => {}
        Cell::Resolved(set) => out.extend_from_slice(index.zone_set(set)),
        Cell::Leaf { leaf, x1, y0 } => {
            let base = match index.leaf_record(leaf) {
                Some(record) => {
                    let inside = record.groups().filter(|&g| record_group_contains(g, p, x1, y0, boundary));
                    out.extend(inside.map(|g| g.zone));
                    record.base_set
                }
                None => {
                    let (base, groups) = index.leaf_block(leaf);
                    out.extend(groups.filter(|&g| group_contains(index, g, p, x1, y0, boundary)).map(|g| g.zone));
                    base
                }
            };
            out.extend_from_slice(index.zone_set(base));
            out[start..].sort_unstable();
            let mut kept = start;
            for i in start..out.len() {
                if i == start || out[i] != out[kept - 1] {
                    out[kept] = out[i];
                    kept += 1;
                }
            }
            out.truncate(kept);
        }
    }
}

// ---- Points on the antimeridian. A longitude of ±180 snaps to x = -HALF_TURN, where the
// zones west of the meridian (read from -180) start; the zones east of it end at x = HALF_TURN.
// The half-open rule nudges the point east, so x = -HALF_TURN alone answers it; under the
// exclusive rule it lies on an edge at either place (a cut where a zone was split when read
// is an edge, as in the cut polygons shapely sees). Under the inclusive rule it is in every
// zone whose closure holds either place, a zone that ends at 180 included.

/// Whether `p` (snapped) lies on the antimeridian and `boundary` needs both of its places.
#[inline(always)]
fn on_seam(p: Point, boundary: Boundary) -> bool {
    boundary == Boundary::Inclusive && p.x as i64 == -HALF_TURN
}

/// `all_zones` of a point on the antimeridian under the inclusive rule (`on_seam`),
/// ascending, appended to `out`.
fn seam_zones(index: &ZoneIndex, p: Point, out: &mut Vec<u32>) {
    let mut zones = Vec::new();
    for place in [p, Point::new(HALF_TURN as i32, p.y)] {
        zones_closing_on_meridian(index, place, &mut zones);
    }
    zones.sort_unstable();
    zones.dedup();
    out.extend_from_slice(&zones);
}

/// The zones whose closure holds `q`, a point on the meridian x = ±HALF_TURN (unsorted,
/// appended to `out`). Clipping a ring at the meridian (`antimeridian`) can leave edges along
/// it where the zone lies on neither side (the clipped ring runs up the meridian and back down
/// across a gap), so lying on an edge along the meridian says nothing by itself. A polygon
/// holds `q` when `q` lies on one of its other edges, or when a point beside `q` on the inner
/// side of the meridian, nudged up or down along it, is inside: a ray from there away from
/// the meridian crosses only the polygon's edges along the meridian, so that is their parity
/// (the edges of a gap cancel out). Those edges all pass through `q`, so `q`'s leaf has them.
fn zones_closing_on_meridian(index: &ZoneIndex, q: Point, out: &mut Vec<u32>) {
    match index.locate(q) {
        Cell::Outside => {}
        Cell::Resolved(set) => out.extend_from_slice(index.zone_set(set)),
        Cell::Leaf { leaf, .. } => {
            let (base, groups) = index.leaf_block(leaf);
            out.extend_from_slice(index.zone_set(base));
            for group in groups {
                let (mut above, mut below, mut on_edge) = (false, false, false);
                for (a, b) in group.edges.iter().map(|&e| index.geometry().edge(e)) {
                    if a.x == q.x && b.x == q.x {
                        let (lo, hi) = (a.y.min(b.y), a.y.max(b.y));
                        above ^= lo <= q.y && q.y < hi;
                        below ^= lo < q.y && q.y <= hi;
                    } else {
                        on_edge |= on_segment(a, b, q);
                    }
                }
                if on_edge || above || below {
                    out.push(group.zone);
                }
            }
        }
    }
}

/// `first_zone` of a point on the antimeridian (`on_seam`).
fn seam_first_zone(index: &ZoneIndex, p: Point) -> u32 {
    let mut zones = Vec::new();
    seam_zones(index, p, &mut zones);
    zones.first().copied().unwrap_or(NO_ZONE)
}

/// Latitudes and longitudes of the same length: one chunk of a column of points.
pub type Chunk<'a> = (&'a [f64], &'a [f64]);

/// First zone of each (lat, lon) into `out` (`NO_ZONE` where none or invalid).
pub fn tag_slices(index: &ZoneIndex, lat: &[f64], lon: &[f64], boundary: Boundary, out: &mut [u32], parallel: bool) {
    tag_chunks(index, &[(lat, lon)], boundary, out, parallel);
}

/// `tag_slices` over consecutive chunks, `out` their concatenation. A column read from
/// Parquet comes in one chunk per row group: blocks span chunks, so that they are all of the
/// same size.
pub fn tag_chunks(index: &ZoneIndex, chunks: &[Chunk], boundary: Boundary, out: &mut [u32], parallel: bool) {
    // Below this, zeroing and summing the buckets costs more than the two passes save (from
    // 4,000 points up, they were faster on every zone set; Polars hands over batches that
    // small when its morsels straddle chunk boundaries).
    if out.len() < 4 * 1024 {
        return tag_in_order(index, chunks, boundary, out);
    }
    let threads = if parallel { rayon::current_num_threads().min(out.len() / MIN_POINTS_PER_THREAD) } else { 1 };
    tag_in_blocks(index, chunks, boundary, out, threads > 1, SORTED_BLOCK);
}

/// The fewest points worth a thread of their own. Polars' streaming engine calls a plugin
/// from each of its threads at once, each with a batch of about 100k rows (its morsel, or a
/// Parquet row group), and with `CallerContext::parallel()` false all the same: a call cannot
/// tell it is one of several. Splitting a batch that small over rayon's threads only makes
/// its blocks smaller and adds a hand-over, on cores that are busy already (the streaming and
/// file-to-file rows of `bench/query_overhead.py`).
pub const MIN_POINTS_PER_THREAD: usize = 1 << 18;

/// `tag_chunks` in spatially sorted blocks of `size` points (and not in input order, whatever
/// their number; `size` >= 1).
pub fn tag_in_blocks(
    index: &ZoneIndex,
    chunks: &[Chunk],
    boundary: Boundary,
    out: &mut [u32],
    parallel: bool,
    size: usize,
) {
    assert!(chunks.iter().all(|(lat, lon)| lat.len() == lon.len()) && size > 0);
    assert_eq!(out.len(), chunks.iter().map(|(lat, _)| lat.len()).sum::<usize>());
    let pool = ScratchPool::new();
    let block = |(i, out): (usize, &mut [u32])| {
        let start = i * size;
        let mut scratch = pool.take();
        tag_spatially(index, &pieces(chunks, start..start + out.len()), boundary, out, &mut scratch);
        pool.give(scratch);
    };
    // One block runs on the calling thread: handing it to rayon would only add a hop.
    if parallel && out.len() > size {
        out.par_chunks_mut(size).enumerate().for_each(block);
    } else {
        out.chunks_mut(size).enumerate().for_each(block);
    }
}

/// The parts of `chunks` at `range` of their concatenation, in order.
fn pieces<'a>(chunks: &[Chunk<'a>], range: std::ops::Range<usize>) -> Vec<Chunk<'a>> {
    let mut parts = Vec::new();
    let mut offset = 0;
    for &(lat, lon) in chunks {
        let (start, end) = (range.start.max(offset), range.end.min(offset + lat.len()));
        if start < end {
            parts.push((&lat[start - offset..end - offset], &lon[start - offset..end - offset]));
        }
        offset += lat.len();
    }
    parts
}

/// Points per block that is reordered for locality: more than a Polars batch (100k rows), so
/// a batch is one block, and few enough that a block's arrays (points, buckets, the sorted
/// points, queued leaf lookups, answers: about 35 bytes a point) stay in cache while the
/// answers are written back out of order. Larger blocks let more points share each of a large
/// index's cache lines, but since its leaves are read as records (`index::LeafRecord`), this
/// size has been the faster for large indexes too (`bench/block_size.py` times each size on
/// each zone set).
const SORTED_BLOCK: usize = 1 << 17;

/// `tag_slices` into a new vector. The kernel writes every element, so the vector starts as
/// zeroed memory from the allocator (fresh pages, zeroed as the kernel's threads first touch
/// them) instead of being filled with `NO_ZONE` on one thread first.
pub fn tag_vec(index: &ZoneIndex, lat: &[f64], lon: &[f64], boundary: Boundary, parallel: bool) -> Vec<u32> {
    let mut out = vec![0; lat.len()];
    tag_slices(index, lat, lon, boundary, &mut out, parallel);
    out
}

fn tag_in_order(index: &ZoneIndex, chunks: &[Chunk], boundary: Boundary, out: &mut [u32]) {
    let points = chunks.iter().flat_map(|&(lat, lon)| lat.iter().zip(lon));
    for (o, (&la, &lo)) in out.iter_mut().zip(points) {
        *o = match snap_query(la, lo) {
            Some(p) => first_zone(index, p, boundary),
            None => NO_ZONE,
        };
    }
}

/// Buckets are 2^24 units (1.68 degree) square: 215 × 108 of them cover the globe.
const BUCKET_SHIFT: u32 = 24;
const BUCKET_COLS: usize = 216;
const BUCKETS: usize = BUCKET_COLS * 108;

/// Tags a block (the concatenation of `pieces`) in the order of a counting sort by coarse
/// spatial bucket, in two passes. Lookups are latency-bound (a random point touches a few cache lines of a large index),
/// and points that are near each other share those lines: in bucket order they stay in
/// cache. The answers are written back in input order, so this changes speed only.
fn tag_spatially(index: &ZoneIndex, pieces: &[Chunk], boundary: Boundary, out: &mut [u32], scratch: &mut BlockScratch) {
    spatial_order(pieces, out.len(), scratch);
    let BlockScratch { sorted, invalid, in_leaves, .. } = scratch;
    for &i in invalid.iter() {
        out[i as usize] = NO_ZONE;
    }
    // First pass, in bucket order: the descent. Most points end in a resolved cell and are
    // answered there; the others wait, with their leaf, for the second pass. Which kind of
    // cell a point ends in is close to a coin toss near coasts, so that is not a branch: every
    // point is answered from a zone set (set 0 for a leaf, answered again below) and written
    // to the queue, which only advances for a leaf. (The queue keeps its length from block to
    // block: refilling it for each was a memset per block.)
    if in_leaves.len() < sorted.len() {
        in_leaves.resize(sorted.len(), (0, 0, 0));
    }
    let mut queued = 0;
    for (k, &(i, p)) in sorted.iter().enumerate() {
        let Some((word, shift)) = index.descend_to_word(p) else {
            out[i as usize] = NO_ZONE;
            continue;
        };
        let (leaf, value) = Node::leaf_or_set(word);
        out[i as usize] = index.first_zone_of_set(if leaf { 0 } else { value });
        in_leaves[queued] = (k as u32, value, shift);
        queued += leaf as usize;
    }
    let in_leaves = &in_leaves[..queued];
    // Second pass: the leaves' edge tests. A leaf block and its vertices are the misses of
    // a lookup in a large index; the next points' leaves are known, so their blocks and then
    // their edges are fetched ahead, overlapping those misses instead of queueing.
    for k in 0..in_leaves.len() {
        if let Some(&(_, leaf, _)) = in_leaves.get(k + LEAF_AHEAD) {
            let head = index.leaf_address(leaf);
            for line in (0..LEAF_HEAD_BYTES).step_by(64) {
                prefetch(head.wrapping_add(line));
            }
            prefetch(head.wrapping_add(LEAF_HEAD_BYTES - 1));
        }
        if let Some(&(_, leaf, _)) = in_leaves.get(k + EDGES_AHEAD) {
            prefetch_leaf_tail(index, leaf);
        }
        let (s, leaf, shift) = in_leaves[k];
        let (i, p) = sorted[s as usize];
        let (x1, y0) = index.leaf_corner(p, shift);
        out[i as usize] = first_zone_at(index, Cell::Leaf { leaf, x1, y0 }, p, boundary);
    }
    if boundary == Boundary::Inclusive {
        retag_seam_points(index, sorted, out);
    }
}

/// Tags again the points on the antimeridian of a sorted block, where the inclusive rule needs
/// both of their places (few or none). Kept out of line: in `tag_spatially`, this loop made
/// the compiler lay out the passes above differently, and the kernel slower (by hand, A/B).
#[inline(never)]
fn retag_seam_points(index: &ZoneIndex, sorted: &[(u32, Point)], out: &mut [u32]) {
    for &(i, p) in sorted {
        if on_seam(p, Boundary::Inclusive) {
            out[i as usize] = seam_first_zone(index, p);
        }
    }
}

/// Puts in `scratch.sorted` the valid points of a block (`n` points in `pieces`) with their
/// positions in it, in the order of a counting sort by coarse spatial bucket, and in
/// `scratch.invalid` the positions of the invalid ones (`snap_query` gives None). The points
/// themselves are moved into that order, so both passes read them in sequence.
fn spatial_order(pieces: &[Chunk], n: usize, scratch: &mut BlockScratch) {
    let BlockScratch { counts, snapped, sorted, invalid, .. } = scratch;
    counts.clear();
    counts.resize(BUCKETS + 1, 0);
    snapped.clear();
    snapped.reserve(n);
    let mut written = 0;
    {
        let slots = &mut snapped.spare_capacity_mut()[..n];
        for &(lat, lon) in pieces {
            for (slot, (&la, &lo)) in slots[written..written + lat.len()].iter_mut().zip(lat.iter().zip(lon)) {
                let (p, bucket) = match snap_query(la, lo) {
                    Some(p) => (p, bucket_of(p)),
                    None => (Point::new(i32::MIN, i32::MIN), BUCKETS),
                };
                counts[bucket] += 1;
                slot.write((p, bucket as u32));
            }
            written += lat.len();
        }
    }
    assert_eq!(written, n);
    // SAFETY: the pieces' points, `n` in all, filled slots 0..n in order.
    unsafe { snapped.set_len(n) };
    // Exclusive prefix sums: where each bucket's run starts.
    let next = counts;
    let mut sum = 0;
    for slot in next.iter_mut() {
        let count = *slot;
        *slot = sum;
        sum += count;
    }
    let valid = next[BUCKETS] as usize;
    // Every slot is written below; only new ones are zeroed (the scatter was slower into
    // memory left uninitialized, which the zeroing has brought into cache).
    sorted.resize(valid, (0u32, Point::new(0, 0)));
    invalid.clear();
    for (i, &(p, b)) in snapped.iter().enumerate() {
        if b as usize == BUCKETS {
            invalid.push(i as u32);
        } else {
            let slot = &mut next[b as usize];
            sorted[*slot as usize] = (i as u32, p);
            *slot += 1;
        }
    }
}

/// A block's working arrays (`spatial_order`, `tag_spatially`).
#[derive(Default)]
struct BlockScratch {
    counts: Vec<u32>,
    snapped: Vec<(Point, u32)>,
    sorted: Vec<(u32, Point)>,
    invalid: Vec<u32>,
    /// Points waiting for the leaf pass: (position in `sorted`, leaf, cell shift).
    in_leaves: Vec<(u32, u32, u32)>,
}

impl BlockScratch {
    fn bytes(&self) -> usize {
        4 * (self.counts.capacity() + self.invalid.capacity())
            + 12 * (self.snapped.capacity() + self.sorted.capacity() + self.in_leaves.capacity())
    }
}

/// Block scratch for one call, reused from block to block: allocating it for every block had
/// the operating system clear fresh pages for each. A thread also keeps one set between calls
/// (Polars' streaming engine tags each batch in a call of its own), unless it is larger than a
/// batch-sized block needs: the arrays of the largest blocks would otherwise stay on every
/// thread that ever ran one.
struct ScratchPool(std::sync::Mutex<Vec<BlockScratch>>);

/// The most scratch a thread keeps between calls.
const SCRATCH_KEPT_BYTES: usize = 8 << 20;

thread_local! {
    static KEPT_SCRATCH: std::cell::Cell<Option<BlockScratch>> = const { std::cell::Cell::new(None) };
}

impl ScratchPool {
    fn new() -> ScratchPool {
        ScratchPool(std::sync::Mutex::new(Vec::new()))
    }

    fn take(&self) -> BlockScratch {
        let pooled = self.0.lock().unwrap_or_else(|e| e.into_inner()).pop();
        pooled.or_else(|| KEPT_SCRATCH.take()).unwrap_or_default()
    }

    fn give(&self, scratch: BlockScratch) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(scratch);
    }
}

impl Drop for ScratchPool {
    fn drop(&mut self) {
        let pool = self.0.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(kept) = pool.drain(..).filter(|s| s.bytes() <= SCRATCH_KEPT_BYTES).max_by_key(|s| s.bytes()) {
            KEPT_SCRATCH.set(Some(kept));
        }
    }
}

/// The sort bucket of a snapped point.
#[inline(always)]
fn bucket_of(p: Point) -> usize {
    let bx = ((p.x as i64 + HALF_TURN) >> BUCKET_SHIFT) as usize;
    let by = ((p.y as i64 + HALF_TURN / 2) >> BUCKET_SHIFT) as usize;
    by * BUCKET_COLS + bx
}

/// How many points ahead the second pass of `tag_spatially` fetches leaf blocks, and their
/// edges (by then the block has arrived).
const LEAF_AHEAD: usize = 8;
const EDGES_AHEAD: usize = 4;

#[inline(always)]
fn prefetch<T>(ptr: *const T) {
    // A hint only: it never faults, whatever the address.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        core::arch::x86_64::_mm_prefetch(ptr as *const i8, core::arch::x86_64::_MM_HINT_T0)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = ptr;
}

/// Every zone of each (lat, lon): list lengths into `lengths`, zones appended to `values`.
pub fn tag_all_slices(
    index: &ZoneIndex,
    lat: &[f64],
    lon: &[f64],
    boundary: Boundary,
    lengths: &mut Vec<u32>,
    values: &mut Vec<u32>,
    parallel: bool,
) {
    assert_eq!(lat.len(), lon.len());
    let block = |i: usize| {
        let range = i * BLOCK..((i + 1) * BLOCK).min(lat.len());
        let mut lens = Vec::with_capacity(range.len());
        let mut vals = Vec::new();
        for k in range {
            let before = vals.len();
            if let Some(p) = snap_query(lat[k], lon[k]) {
                all_zones(index, p, boundary, &mut vals);
            }
            lens.push((vals.len() - before) as u32);
        }
        (lens, vals)
    };
    let blocks = lat.len().div_ceil(BLOCK);
    let parts: Vec<(Vec<u32>, Vec<u32>)> = if parallel && blocks > 1 {
        (0..blocks).into_par_iter().map(block).collect()
    } else {
        (0..blocks).map(block).collect()
    };
    for (lens, vals) in parts {
        lengths.extend_from_slice(&lens);
        values.extend_from_slice(&vals);
    }
}

/// Distance and nearest zone for each (lat, lon) into `out`: a point in a zone (by `boundary`,
/// as `tag`) is at 0 in its first zone; a point on a border that the rule leaves outside is at
/// 0 in the first zone whose border it is on (the exact test: the search measures arcs that
/// may pass centimetres from the drawn edge); others get the nearest piece within
/// `max_chord2`, or `Nearest::NONE` (also for invalid points).
pub fn nearest_slices(
    index: &ZoneIndex,
    lat: &[f64],
    lon: &[f64],
    boundary: Boundary,
    max_chord2: f64,
    out: &mut [Nearest],
    parallel: bool,
) {
    assert!(lat.len() == lon.len() && lat.len() == out.len());
    let zones = tag_vec(index, lat, lon, boundary, parallel);
    let near = index.near();
    let block = |(i, out): (usize, &mut [Nearest])| {
        let base = i * NEAREST_BLOCK;
        for (j, o) in out.iter_mut().enumerate() {
            let k = base + j;
            *o = match (zones[k], snap_query(lat[k], lon[k])) {
                (_, None) => Nearest::NONE,
                (NO_ZONE, Some(p)) => match on_border_of(index, p, boundary) {
                    NO_ZONE => near.search(p, max_chord2),
                    zone => Nearest { chord2: 0.0, zone },
                },
                (zone, Some(_)) => Nearest { chord2: 0.0, zone },
            };
        }
    };
    if parallel && out.len() > NEAREST_BLOCK {
        out.par_chunks_mut(NEAREST_BLOCK).enumerate().for_each(block);
    } else {
        out.chunks_mut(NEAREST_BLOCK).enumerate().for_each(block);
    }
}

/// The first zone on whose border `p` lies, for a point no zone contains under `boundary`.
#[inline]
fn on_border_of(index: &ZoneIndex, p: Point, boundary: Boundary) -> u32 {
    match boundary {
        Boundary::Inclusive => NO_ZONE, // borders are inside already
        _ => first_zone(index, p, Boundary::Inclusive),
    }
}

/// Points per block of parallel work in `nearest_slices`.
const NEAREST_BLOCK: usize = 4096;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::{build, build_with, BuildOptions};
    use crate::geometry::ZoneGeometry;
    use crate::reference::zones_containing;
    use proptest::prelude::*;

    const MODES: [Boundary; 3] = [Boundary::HalfOpen, Boundary::Inclusive, Boundary::Exclusive];

    /// Index and brute force agree on `p` in every mode, for `first_zone` and `all_zones`.
    fn assert_agree(index: &ZoneIndex, p: Point) {
        for mode in MODES {
            let expected = zones_containing(index.geometry(), p, mode);
            let mut got = Vec::new();
            all_zones(index, p, mode, &mut got);
            assert_eq!(got, expected, "all_zones at {p:?}, {mode:?}");
            assert_eq!(
                first_zone(index, p, mode),
                expected.first().copied().unwrap_or(NO_ZONE),
                "first_zone at {p:?}, {mode:?}"
            );
        }
    }

    /// Every vertex, every edge midpoint, their neighbours one unit away, and a lattice.
    fn probe_points(g: &ZoneGeometry, lattice_step: i32) -> Vec<Point> {
        let mut pts = Vec::new();
        for w in g.vertices.windows(2) {
            let (a, b) = (w[0], w[1]);
            for (dx, dy) in [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)] {
                pts.push(Point::new(a.x + dx, a.y + dy));
                pts.push(Point::new(
                    ((a.x as i64 + b.x as i64).div_euclid(2)) as i32 + dx,
                    ((a.y as i64 + b.y as i64).div_euclid(2)) as i32 + dy,
                ));
            }
        }
        let [x0, y0, x1, y1] = g.bounds().unwrap();
        let mut y = y0 - 2 * lattice_step;
        while y <= y1 + 2 * lattice_step {
            let mut x = x0 - 2 * lattice_step;
            while x <= x1 + 2 * lattice_step {
                pts.push(Point::new(x, y));
                x += lattice_step;
            }
            y += lattice_step;
        }
        pts
    }

    /// A ring of (x, y); a zone is a list of polygons, each a list of rings.
    type Ring = Vec<(i32, i32)>;
    type Zones = [Vec<Vec<Ring>>];

    fn geometry(zones: &Zones) -> ZoneGeometry {
        let mut g = ZoneGeometry::new(zones.len() as u32, None);
        for (z, polygons) in zones.iter().enumerate() {
            for rings in polygons {
                let rings: Vec<Vec<Point>> =
                    rings.iter().map(|r| r.iter().map(|&(x, y)| Point::new(x, y)).collect()).collect();
                g.push_polygon(z as u32, &rings);
            }
        }
        g
    }

    /// Builds the default index (small-set options here), one with the large-set options, and
    /// one refined as deep as it goes (single-edge leaves from a single top cell), and checks
    /// each against brute force, with and without leaf records.
    fn check_all(zones: &Zones, lattice_step: i32) {
        let g = geometry(zones);
        let deep = BuildOptions { leaf_max_edges: 1, edges_per_top_cell: i64::MAX };
        let large = BuildOptions::LARGE;
        for index in [build(g.clone()), build_with(g.clone(), large), build_with(g.clone(), deep)] {
            // Each both with leaf records and without (a large index has them).
            for index in [index.clone().with_leaf_records(true), index.with_leaf_records(false)] {
                for p in probe_points(&g, lattice_step) {
                    assert_agree(&index, p);
                }
            }
        }
    }

    fn square(x: i32, y: i32, w: i32) -> Vec<(i32, i32)> {
        vec![(x, y), (x + w, y), (x + w, y + w), (x, y + w)]
    }

    #[test]
    fn tiling_with_shared_borders_and_holes() {
        // A 6×6 checkerboard of zones, a zone with a hole, and a zone inside that hole.
        let mut zones = Vec::new();
        for j in 0..6 {
            for i in 0..6 {
                zones.push(vec![vec![square(i * 1000, j * 1000, 1000)]]);
            }
        }
        zones.push(vec![vec![square(-5000, -5000, 4000), square(-4000, -4000, 2000)]]);
        zones.push(vec![vec![square(-3500, -3500, 1000)]]);
        check_all(&zones, 250);
        // Tiling: every lattice point of the board is in exactly one zone.
        let index = build(geometry(&zones));
        for y in (0..6000).step_by(125) {
            for x in (0..6000).step_by(125) {
                let mut got = Vec::new();
                all_zones(&index, Point::new(x, y), Boundary::HalfOpen, &mut got);
                assert_eq!(got.len(), 1, "({x}, {y})");
            }
        }
    }

    #[test]
    fn many_zones_in_one_cell_and_tiny_zones() {
        // 300 tiny triangles around one spot, plus one huge zone: most cells are far from
        // all edges, and one cell gathers hundreds of edges.
        let mut zones = vec![vec![vec![square(-1_000_000, -1_000_000, 2_000_000)]]];
        for k in 0..300 {
            let (x, y) = ((k % 20) * 3, (k / 20) * 3);
            zones.push(vec![vec![vec![(x, y), (x + 2, y), (x, y + 2)]]]);
        }
        check_all(&zones, 100_000);
        let g = geometry(&zones);
        let index = build(g.clone());
        for y in -2..50 {
            for x in -2..62 {
                assert_agree(&index, Point::new(x, y));
            }
        }
    }

    #[test]
    fn overlapping_zones_and_spikes() {
        let spiky: Vec<(i32, i32)> = (0..200)
            .flat_map(|k| [(k * 100, 0), (k * 100 + 50, 100_000)])
            .chain([(20_000, -5_000), (0, -5_000)])
            .collect();
        let zones = vec![
            vec![vec![square(0, 0, 50_000)]],
            vec![vec![square(25_000, 25_000, 50_000)]],
            vec![vec![spiky]],
            // A self-touching ring and a duplicate polygon in one zone.
            vec![
                vec![vec![(0, 0), (10_000, 0), (5_000, 5_000), (10_000, 10_000), (0, 10_000), (5_000, 5_000)]],
                vec![square(0, 0, 3_000)],
                vec![square(0, 0, 3_000)],
            ],
        ];
        check_all(&zones, 1_250);
    }

    #[test]
    fn points_on_the_antimeridian_are_in_the_zones_on_both_sides() {
        // Zone 0 crosses the meridian (cut into two pieces when read); zones 1 and 2 meet at
        // it; zone 3 has a piece on each side, at different latitudes. Inclusive: the zones on
        // either side; exclusive: none (the cut is an edge); half-open: the side east of it.
        const DEG: i32 = 10_000_000;
        let rect = |x0: i32, y0: i32, x1: i32, y1: i32| {
            vec![(x0 * DEG, y0 * DEG), (x1 * DEG, y0 * DEG), (x1 * DEG, y1 * DEG), (x0 * DEG, y1 * DEG)]
        };
        let zones = vec![
            vec![vec![rect(170, 0, 180, 10)], vec![rect(-180, 0, -170, 10)]],
            vec![vec![rect(170, 20, 180, 30)]],
            vec![vec![rect(-180, 20, -170, 30)]],
            vec![vec![rect(170, 40, 180, 50)], vec![rect(-180, 45, -170, 55)]],
            // A U open to the west, from 176 to 184, as clipping it at 180 leaves its western
            // part: its edges along the meridian overlap across the gap 62..68.
            vec![vec![[(176, 60), (180, 60), (180, 70), (176, 70), (176, 68), (180, 68), (180, 62), (176, 62)]
                .iter()
                .map(|&(x, y)| (x * DEG, y * DEG))
                .collect()]],
        ];
        let index = build(geometry(&zones));
        // (latitude, half-open, inclusive, exclusive)
        type Case = (i32, &'static [u32], &'static [u32], &'static [u32]);
        let cases: [Case; 14] = [
            (61, &[], &[4], &[]),
            (62, &[], &[4], &[]),
            (65, &[], &[], &[]),
            (68, &[], &[4], &[]),
            (70, &[], &[4], &[]),
            (5, &[0], &[0], &[]),
            (0, &[0], &[0], &[]),
            (10, &[], &[0], &[]),
            (25, &[2], &[1, 2], &[]),
            (47, &[3], &[3], &[]),
            (42, &[], &[3], &[]),
            (52, &[3], &[3], &[]),
            (45, &[3], &[3], &[]),
            (35, &[], &[], &[]),
        ];
        for (lat, half_open, inclusive, exclusive) in cases {
            for lon in [180.0, -180.0, 540.0] {
                let p = snap_query(lat as f64, lon).unwrap();
                for (mode, expected) in [
                    (Boundary::HalfOpen, half_open),
                    (Boundary::Inclusive, inclusive),
                    (Boundary::Exclusive, exclusive),
                ] {
                    let mut got = Vec::new();
                    all_zones(&index, p, mode, &mut got);
                    assert_eq!(got, expected, "all_zones at ({lat}, {lon}), {mode:?}");
                    assert_eq!(first_zone(&index, p, mode), expected.first().copied().unwrap_or(NO_ZONE));
                    assert_eq!(
                        zones_containing(index.geometry(), p, mode),
                        expected,
                        "reference at ({lat}, {lon}), {mode:?}"
                    );
                }
            }
        }
        // The kernel's sorted blocks too (more points than it tags in order).
        let lats = [5.0, 0.0, 10.0, 25.0, 47.0, 42.0, 52.0, 45.0, 35.0, 61.0, 62.0, 65.0, 68.0, 70.0];
        let lat: Vec<f64> = (0..5_000).map(|k| lats[k % lats.len()]).collect();
        let lon = vec![180.0; lat.len()];
        for mode in MODES {
            let mut out = vec![0; lat.len()];
            tag_slices(&index, &lat, &lon, mode, &mut out, true);
            for (k, &zone) in out.iter().enumerate() {
                assert_eq!(zone, first_zone(&index, snap_query(lat[k], 180.0).unwrap(), mode), "point {k}, {mode:?}");
            }
        }
    }

    #[test]
    fn huge_coordinates_do_not_overflow() {
        let w = 1_800_000_000;
        let zones = vec![
            vec![vec![vec![(-w, -900_000_000), (w, -900_000_000), (w, 900_000_000), (-w, 900_000_000)]]],
            vec![vec![vec![(-w, -900_000_000), (w, 900_000_000), (-w, 900_000_000)]]],
        ];
        check_all(&zones, 100_000_000);
    }

    #[test]
    fn batches_agree_with_single_lookups() {
        // Degree-sized zones (units of 1e-7 degree): a checkerboard, one with a hole, and a
        // big overlapping one; points on and around them, some exactly on lattice lines and
        // some invalid, through every path of `tag_slices` (in order, and the two passes
        // over spatially sorted blocks, each sequential and parallel), with the leaf edges
        // read from the geometry and from leaf records.
        const DEG: i32 = 10_000_000;
        let mut zones = Vec::new();
        for j in 0..8 {
            for i in 0..8 {
                zones.push(vec![vec![square(i * DEG, j * DEG, DEG)]]);
            }
        }
        zones.push(vec![vec![square(-6 * DEG, -6 * DEG, 4 * DEG), square(-5 * DEG, -5 * DEG, 2 * DEG)]]);
        zones.push(vec![vec![vec![(-3 * DEG, -3 * DEG), (5 * DEG, -DEG), (DEG, 5 * DEG)]]]);
        let index = build(geometry(&zones));
        let mut rng = crate::fuzzing::Rng::new(7);
        let mut degrees = || match rng.below(4) {
            0 => rng.below(41) as f64 * 0.25 - 7.0, // on lattice lines and vertices
            _ => rng.below(1 << 30) as f64 / (1u64 << 30) as f64 * 17.0 - 7.5,
        };
        let (mut lat, mut lon): (Vec<f64>, Vec<f64>) = (0..100_000).map(|_| (degrees(), degrees())).unzip();
        for (k, bad) in [f64::NAN, f64::INFINITY, 95.0, -90.5].into_iter().enumerate() {
            lat[k * 1_000] = bad;
            lon[k * 1_000 + 1] = bad;
        }
        for mode in MODES {
            let expected: Vec<u32> = lat
                .iter()
                .zip(&lon)
                .map(|(&la, &lo)| snap_query(la, lo).map_or(NO_ZONE, |p| first_zone(&index, p, mode)))
                .collect();
            for index in [&index, &index.clone().with_leaf_records(true)] {
                for n in [1_000, 100_000] {
                    for parallel in [false, true] {
                        // A value no answer has: every element must be written (`tag_vec` relies on it).
                        let mut out = vec![NO_ZONE - 1; n];
                        tag_slices(index, &lat[..n], &lon[..n], mode, &mut out, parallel);
                        assert_eq!(out, expected[..n], "{n} points, {mode:?}, parallel {parallel}");
                    }
                }
                // The same points in uneven chunks (a column read from Parquet), in sorted
                // blocks of any size that straddle them, the last one short (large indexes use
                // larger blocks), and through `tag_chunks`.
                let mut chunks = Vec::new();
                let mut start = 0;
                for len in [1, 4_095, 30_000, 17, 65_887] {
                    chunks.push((&lat[start..start + len], &lon[start..start + len]));
                    start += len;
                }
                assert_eq!(start, lat.len());
                for size in [1, 4_999, 33_333] {
                    for parts in [&[(&lat[..], &lon[..])][..], &chunks] {
                        let mut out = vec![NO_ZONE - 1; 100_000];
                        tag_in_blocks(index, parts, mode, &mut out, true, size);
                        assert_eq!(out, expected, "blocks of {size}, {} chunks, {mode:?}", parts.len());
                    }
                }
                for parallel in [false, true] {
                    let mut out = vec![NO_ZONE - 1; 100_000];
                    tag_chunks(index, &chunks, mode, &mut out, parallel);
                    assert_eq!(out, expected, "chunks, {mode:?}, parallel {parallel}");
                    // Under 4,096 points in all: in input order, not sorted.
                    let mut out = vec![NO_ZONE - 1; 3_000];
                    tag_chunks(
                        index,
                        &[(&lat[..1], &lon[..1]), (&lat[1..3_000], &lon[1..3_000])],
                        mode,
                        &mut out,
                        parallel,
                    );
                    assert_eq!(out, expected[..3_000], "two small chunks, in order, {mode:?}");
                }
            }
        }
    }

    fn arb_ring(span: i32) -> impl Strategy<Value = Vec<(i32, i32)>> {
        prop::collection::vec((0..span, 0..span), 3..12)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
        #[test]
        fn random_polygons_agree_with_brute_force(
            zones in prop::collection::vec(prop::collection::vec(prop::collection::vec(arb_ring(40), 1..3), 1..3), 1..5),
            scale in prop::sample::select(vec![1, 7, 1000]),
        ) {
            // Small spans make collinear edges, shared vertices and on-edge points common.
            let zones: Vec<Vec<Vec<Ring>>> = zones.into_iter().map(|z| z.into_iter().map(|p| p.into_iter().map(|r| {
                let mut r: Vec<(i32, i32)> = r.into_iter().map(|(x, y)| (x * scale, y * scale)).collect();
                r.dedup();
                r
            }).filter(|r| r.len() >= 3).collect::<Vec<_>>()).filter(|p: &Vec<_>| !p.is_empty()).collect()).collect();
            prop_assume!(zones.iter().any(|z| !z.is_empty()));
            check_all(&zones, scale * 3);
        }
    }
}
