//! Buffers recycled between frames: a stage takes one, the stage that is done with it gives it
//! back, so a steady run allocates its frame buffers once.

use crossbeam_channel::{bounded, Receiver, Sender};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A bounded free list shared by the threads (cloning shares it).
pub struct Pool<T> {
    free_tx: Sender<T>,
    free_rx: Receiver<T>,
    created: Arc<AtomicUsize>,
}

impl<T> Clone for Pool<T> {
    fn clone(&self) -> Self {
        Pool {
            free_tx: self.free_tx.clone(),
            free_rx: self.free_rx.clone(),
            created: self.created.clone(),
        }
    }
}

impl<T: Default> Pool<T> {
    /// A pool keeping at most `capacity` idle buffers.
    pub fn new(capacity: usize) -> Pool<T> {
        let (free_tx, free_rx) = bounded(capacity.max(1));
        Pool {
            free_tx,
            free_rx,
            created: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// An idle buffer, or a new (empty) one when none is idle.
    pub fn take(&self) -> T {
        self.free_rx.try_recv().unwrap_or_else(|_| {
            self.created.fetch_add(1, Ordering::Relaxed);
            T::default()
        })
    }

    /// Returns a buffer; past the pool's capacity it is freed.
    pub fn give(&self, buffer: T) {
        let _ = self.free_tx.try_send(buffer);
    }

    /// How many buffers the pool has had to create.
    pub fn created(&self) -> usize {
        self.created.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recycles_instead_of_allocating() {
        let pool: Pool<Vec<u8>> = Pool::new(4);
        let mut a = pool.take();
        a.resize(1000, 7);
        let ptr = a.as_ptr();
        pool.give(a);
        let b = pool.take();
        assert_eq!(b.as_ptr(), ptr, "the same allocation comes back");
        assert_eq!(b.capacity(), 1000);
        assert_eq!(pool.created(), 1);
        // beyond its capacity the pool frees what it is given
        for _ in 0..10 {
            pool.give(Vec::new());
        }
        assert_eq!(pool.free_rx.len(), 4);
    }
}
