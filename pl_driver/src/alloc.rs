//! First-fit allocation of ranges in one physically contiguous region (a u-dma-buf, or the
//! model's arena). Few, long-lived buffers: a sorted list is all it takes.

/// Buffers start on this boundary: cache-line and page aligned, so that syncing one buffer
/// never touches the lines of its neighbour.
pub const ALIGN: usize = 4096;

#[derive(Debug, Clone)]
pub struct RangeAllocator {
    size: usize,
    /// (offset, len), sorted by offset, disjoint.
    used: Vec<(usize, usize)>,
}

impl RangeAllocator {
    pub fn new(size: usize) -> RangeAllocator {
        RangeAllocator {
            size,
            used: Vec::new(),
        }
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// The offset of a free range of `len` bytes (rounded up to [`ALIGN`]), or `None`.
    pub fn alloc(&mut self, len: usize) -> Option<usize> {
        let len = len.max(1).checked_next_multiple_of(ALIGN)?;
        let mut start = 0;
        for (i, &(off, used)) in self.used.iter().enumerate() {
            if off - start >= len {
                self.used.insert(i, (start, len));
                return Some(start);
            }
            start = (off + used).next_multiple_of(ALIGN);
        }
        if self.size.saturating_sub(start) >= len {
            self.used.push((start, len));
            return Some(start);
        }
        None
    }

    pub fn free(&mut self, offset: usize) {
        self.used.retain(|&(off, _)| off != offset);
    }

    /// The largest request that would succeed now.
    pub fn largest_free(&self) -> usize {
        let mut best = 0;
        let mut start = 0;
        for &(off, len) in &self.used {
            best = best.max(off - start);
            start = (off + len).next_multiple_of(ALIGN);
        }
        best.max(self.size.saturating_sub(start)) / ALIGN * ALIGN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_fit_reuses_freed_ranges_and_refuses_when_full() {
        let mut a = RangeAllocator::new(5 * ALIGN);
        assert_eq!(a.alloc(10), Some(0));
        assert_eq!(a.alloc(ALIGN + 1), Some(ALIGN));
        assert_eq!(a.alloc(ALIGN), Some(3 * ALIGN));
        assert_eq!(a.largest_free(), ALIGN);
        assert_eq!(a.alloc(2 * ALIGN), None);
        a.free(ALIGN);
        assert_eq!(a.largest_free(), 2 * ALIGN);
        assert_eq!(a.alloc(2 * ALIGN), Some(ALIGN));
        assert_eq!(a.alloc(1), Some(4 * ALIGN));
        assert_eq!(a.alloc(1), None);
        assert_eq!(a.largest_free(), 0);
    }
}
