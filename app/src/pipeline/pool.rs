//! Buffers recycled between frames: a stage takes one, the stage that is done with it gives it
//! back, so a steady run allocates its frame buffers once. And the budget of frames in flight
//! that bounds how many buffers a run ever needs.

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

/// A fixed number of frames in flight. Capture takes a [`Ticket`] before it reads a frame and
/// the frame carries it until it is dropped, wherever that happens. However the stages' speeds
/// vary, no more frames than this are ever alive, so the pools (sized to it) allocate their
/// buffers in the first frames and never again: a long run's memory stays flat, instead of
/// growing a frame's buffers at each hiccup that filled the queues deeper than before.
pub struct FrameBudget {
    give: Sender<()>,
    take: Receiver<()>,
    frames: usize,
}

/// One frame's place in the [`FrameBudget`]; dropping it frees the place.
pub struct Ticket(Option<Sender<()>>);

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Some(give) = &self.0 {
            // the budget's channel holds exactly its tickets: never full here
            let _ = give.try_send(());
        }
    }
}

impl FrameBudget {
    pub fn new(frames: usize) -> FrameBudget {
        let frames = frames.max(1);
        let (give, take) = bounded(frames);
        for _ in 0..frames {
            give.send(()).expect("the budget holds its own receiver");
        }
        FrameBudget { give, take, frames }
    }

    /// The number of frames the budget allows.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// A free place, if there is one now.
    pub fn try_take(&self) -> Option<Ticket> {
        self.take
            .try_recv()
            .ok()
            .map(|()| Ticket(Some(self.give.clone())))
    }

    /// Waits for a free place; `None` once `stopping` says so (checked every few ms, so that a
    /// stop never waits on a stage that will not hand its frame back).
    pub fn take(&self, stopping: impl Fn() -> bool) -> Option<Ticket> {
        loop {
            if stopping() {
                return None;
            }
            if let Ok(()) = self.take.recv_timeout(std::time::Duration::from_millis(20)) {
                return Some(Ticket(Some(self.give.clone())));
            }
        }
    }
}

impl Ticket {
    /// A ticket of no budget: a frame outside the budget's count (the sequential bench's one
    /// frame at a time, tests, and a live camera's frame read only to be dropped at once).
    pub fn unbudgeted() -> Ticket {
        Ticket(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_lends_its_places_and_gets_them_back_when_frames_are_dropped() {
        let budget = FrameBudget::new(2);
        let a = budget.try_take().unwrap();
        let b = budget.take(|| false).unwrap();
        assert!(budget.try_take().is_none(), "only two places");
        // a full budget waits, and gives up when told to stop
        assert!(budget.take(|| true).is_none());
        drop(a);
        let c = budget.try_take().expect("a's place came back");
        drop((b, c));
        let both = (budget.try_take(), budget.try_take());
        assert!(both.0.is_some() && both.1.is_some(), "both places back");
        drop(Ticket::unbudgeted());
        assert_eq!(budget.frames(), 2);
    }

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
