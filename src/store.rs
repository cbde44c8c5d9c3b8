//! The process-wide cache of decoded indexes, keyed by fingerprint.
//!
//! Polars calls a plugin once per batch and hands it the index bytes each time; decoding
//! them once per process instead of once per call is what keeps the streaming engine as
//! fast as the in-memory one. Bounded (least recently used first out) and shared by all
//! threads. Besides the bounded list, the cache remembers every index that is still alive
//! elsewhere (held by a `Zones` object), so such an index is never lost to an eviction: a
//! lookup finds it there and puts it back in the list. A plan loaded in a process that holds
//! no `Zones` has only the cache: its `zones_key` loads the index and the expressions look it
//! up afterwards, so an index used in the last `IN_USE` is not evicted either, whatever the
//! capacity (a query over more zone sets than the capacity lost its first ones before).

use std::sync::Weak;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::index::ZoneIndex;
use crate::serialize;

struct Cache {
    capacity: usize,
    /// Most recently used last, with the time of that use.
    entries: Vec<([u8; 16], Arc<ZoneIndex>, Instant)>,
    /// Every index the cache has handed out, while something still holds it.
    alive: Vec<([u8; 16], Weak<ZoneIndex>)>,
}

/// How long after its last use an index counts as in use: a running query looks its indexes up
/// once per batch.
const IN_USE: Duration = Duration::from_secs(30);

static CACHE: Mutex<Cache> = Mutex::new(Cache { capacity: 8, entries: Vec::new(), alive: Vec::new() });
static DECODES: AtomicUsize = AtomicUsize::new(0);
static LOOKUPS: AtomicUsize = AtomicUsize::new(0);

fn cache() -> std::sync::MutexGuard<'static, Cache> {
    // A panic elsewhere cannot leave the list half-updated: every change is one push or
    // remove, so a poisoned lock is still consistent.
    CACHE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn lookup(cache: &mut Cache, fp: &[u8; 16]) -> Option<Arc<ZoneIndex>> {
    if let Some(i) = cache.entries.iter().position(|(k, _, _)| k == fp) {
        let (key, index, _) = cache.entries.remove(i);
        cache.entries.push((key, index.clone(), Instant::now()));
        evict(cache);
        return Some(index);
    }
    let alive = cache.alive.iter().find(|(k, _)| k == fp).and_then(|(_, weak)| weak.upgrade())?;
    Some(store(cache, *fp, alive))
}

fn store(cache: &mut Cache, fp: [u8; 16], index: Arc<ZoneIndex>) -> Arc<ZoneIndex> {
    if let Some(i) = cache.entries.iter().position(|(k, _, _)| *k == fp) {
        return cache.entries[i].1.clone();
    }
    cache.alive.retain(|(k, weak)| *k != fp && weak.strong_count() > 0);
    cache.alive.push((fp, Arc::downgrade(&index)));
    cache.entries.push((fp, index.clone(), Instant::now()));
    evict(cache);
    index
}

/// Drops the least recently used entries beyond the capacity, except those in use.
fn evict(cache: &mut Cache) {
    while cache.entries.len() > cache.capacity.max(1) && cache.entries[0].2.elapsed() > IN_USE {
        cache.entries.remove(0);
    }
}

/// Registers a freshly built index; returns the shared copy.
pub fn insert(fp: [u8; 16], index: ZoneIndex) -> Arc<ZoneIndex> {
    store(&mut cache(), fp, Arc::new(index))
}

/// Serializes decoding, so that batches arriving at once on several threads decode an index
/// once between them (the cache lock itself is never held while decoding).
static DECODING: Mutex<()> = Mutex::new(());

/// The index for these bytes: from the cache when its fingerprint is there, else decoded
/// and cached. For the plugin, whose bytes come from a plan: the fingerprint names the
/// content, so a cached index is the right one without reading the rest.
pub fn get_or_decode(data: &[u8]) -> Result<([u8; 16], Arc<ZoneIndex>), String> {
    let fp = serialize::peek_fingerprint(data)?;
    if let Some(index) = lookup(&mut cache(), &fp) {
        return Ok((fp, index));
    }
    let _decoding = DECODING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(index) = lookup(&mut cache(), &fp) {
        return Ok((fp, index));
    }
    decode(data).map(|loaded| (loaded.fingerprint, loaded.index))
}

/// The cached index with this fingerprint, if the process has it.
pub fn get(fp: &[u8; 16]) -> Option<Arc<ZoneIndex>> {
    LOOKUPS.fetch_add(1, Ordering::Relaxed);
    lookup(&mut cache(), fp)
}

/// An index decoded from bytes and shared through the cache, with the properties the bytes
/// carried.
pub struct Loaded {
    pub fingerprint: [u8; 16],
    pub index: Arc<ZoneIndex>,
    pub properties: Option<Vec<u8>>,
}

/// Decodes and checks the bytes in full (an explicit load must report damage even when an
/// index with the same fingerprint is cached), then shares the cached copy.
pub fn decode(data: &[u8]) -> Result<Loaded, String> {
    let decoded = serialize::from_bytes(data)?;
    DECODES.fetch_add(1, Ordering::Relaxed);
    let fingerprint = decoded.fingerprint;
    let index = store(&mut cache(), fingerprint, Arc::new(decoded.index));
    Ok(Loaded { fingerprint, index, properties: decoded.properties })
}

/// How many times this process decoded an index from bytes.
pub fn decode_count() -> usize {
    DECODES.load(Ordering::Relaxed)
}

/// How many times the plugin asked for an index: once per batch of each expression.
pub fn lookup_count() -> usize {
    LOOKUPS.load(Ordering::Relaxed)
}

pub fn set_capacity(capacity: usize) {
    let mut c = cache();
    c.capacity = capacity.max(1);
    evict(&mut c);
}

pub fn capacity() -> usize {
    cache().capacity
}

/// Empties the bounded list (indexes held elsewhere stay findable while they are held).
pub fn clear() {
    cache().entries.clear();
}
