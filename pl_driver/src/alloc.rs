//! The arena every backend's buffers come from: first-fit allocation of ranges in one
//! physically contiguous region (a u-dma-buf, or the host backends' memory), the range check of
//! each access and their errors. Few, long-lived buffers: a sorted list is all it takes. A
//! backend adds only how it copies bytes and syncs caches.

use crate::error::{Error, Result};

/// Physical address of byte 0 of the host backends' arenas (engine model, RTL simulation):
/// above 4 GiB, as on a board with its memory there, so that the `_HI` address registers matter.
pub const HOST_ARENA_BASE: u64 = 0x8_0000_0000;

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

/// A region of `size` bytes at physical address `base`, handing out [`Slot`]s; `device` names it
/// in errors.
#[derive(Debug, Clone)]
pub struct Arena {
    device: String,
    base: u64,
    ranges: RangeAllocator,
}

impl Arena {
    pub fn new(device: impl Into<String>, base: u64, size: usize) -> Arena {
        Arena {
            device: device.into(),
            base,
            ranges: RangeAllocator::new(size),
        }
    }

    pub fn size(&self) -> usize {
        self.ranges.size()
    }

    /// A slot of `len` bytes, or the error giving the request, the size and the largest free
    /// block.
    pub fn alloc(&mut self, len: usize) -> Result<Slot> {
        let offset = self
            .ranges
            .alloc(len)
            .ok_or_else(|| Error::BufferTooSmall {
                device: self.device.clone(),
                requested: len,
                size: self.ranges.size(),
                largest_free: self.ranges.largest_free(),
            })?;
        Ok(Slot {
            offset,
            len,
            phys: self.base + offset as u64,
        })
    }

    pub fn free(&mut self, slot: &Slot) {
        self.ranges.free(slot.offset);
    }
}

/// One buffer's place in its arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Bytes from the arena's start.
    pub offset: usize,
    pub len: usize,
    pub phys: u64,
}

impl Slot {
    /// Fails unless `[at, at + len)` lies inside the slot: a `what` ("read", "write") of a
    /// buffer that `buffer` names in the error.
    pub fn check(
        &self,
        buffer: impl FnOnce() -> String,
        what: &'static str,
        at: usize,
        len: usize,
    ) -> Result<()> {
        if at.checked_add(len).is_none_or(|end| end > self.len) {
            return Err(Error::OutOfRange {
                device: buffer(),
                what,
                offset: at,
                len,
                size: self.len,
            });
        }
        Ok(())
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

    #[test]
    fn an_arena_places_slots_and_checks_their_ranges() {
        let mut arena = Arena::new("test", 0x1000_0000, 2 * ALIGN);
        let a = arena.alloc(10).unwrap();
        assert_eq!((a.offset, a.len, a.phys), (0, 10, 0x1000_0000));
        let b = arena.alloc(ALIGN).unwrap();
        assert_eq!(b.phys, 0x1000_0000 + ALIGN as u64);
        let e = arena.alloc(1).unwrap_err().to_string();
        assert_eq!(
            e,
            "test: cannot allocate 1 bytes: 8192 bytes in all, largest free block 0"
        );
        arena.free(&a);
        assert_eq!(arena.alloc(1).unwrap().offset, 0);
        assert!(a.check(|| "buf".into(), "read", 2, 8).is_ok());
        let e = a
            .check(|| "buf".into(), "write", 2, 9)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "buf: write at byte 2 (+9) is outside its 10 bytes");
        assert!(a.check(|| "buf".into(), "read", usize::MAX, 2).is_err());
    }
}
