//! Large arrays on huge pages.
//!
//! Loading an index allocates tens of megabytes at once (the decompressed payload, the
//! arrays, the leaf records) and touches every page of it; with 4 KiB pages, taking those
//! page faults was a large part of a load's time (perf, on the 10 m zones). Memory advised
//! for transparent huge pages faults in 2 MiB at a time. Linux only, and only advice: where
//! huge pages are off or unavailable, nothing changes.

use bytemuck::Zeroable;

/// `n` zeroed values, their memory advised for huge pages before it is touched.
pub fn zeroed_vec<T: Zeroable>(n: usize) -> Vec<T> {
    let values = bytemuck::zeroed_vec(n);
    advise_huge_pages(&values);
    values
}

/// An empty vector with room for `n` values, that room advised for huge pages.
pub fn vec_with_capacity<T>(n: usize) -> Vec<T> {
    let values = Vec::with_capacity(n);
    advise_huge_pages(&values);
    values
}

/// Advises the whole 2 MiB pages inside a vector's allocation.
fn advise_huge_pages<T>(values: &Vec<T>) {
    #[cfg(target_os = "linux")]
    {
        const HUGE_PAGE: usize = 2 << 20;
        let start = values.as_ptr() as usize;
        let end = start + values.capacity() * std::mem::size_of::<T>();
        let (from, to) = (start.next_multiple_of(HUGE_PAGE), end / HUGE_PAGE * HUGE_PAGE);
        if to > from {
            // SAFETY: advice about pages of this vector's own allocation, which changes how
            // they are backed, never what they hold; a failure leaves them as they were.
            unsafe { libc::madvise(from as *mut libc::c_void, to - from, libc::MADV_HUGEPAGE) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = values;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advised_vectors_are_ordinary_vectors() {
        let zeros: Vec<u32> = zeroed_vec(3 << 20);
        assert_eq!(zeros.len(), 3 << 20);
        assert!(zeros.iter().all(|&z| z == 0));
        let mut room: Vec<u64> = vec_with_capacity(1 << 20);
        assert!(room.is_empty() && room.capacity() >= 1 << 20);
        room.extend(0..1 << 20);
        assert_eq!(room.iter().sum::<u64>(), (1u64 << 20) * ((1 << 20) - 1) / 2);
        assert!(zeroed_vec::<u8>(0).is_empty() && vec_with_capacity::<u8>(0).is_empty());
    }
}
