//! Data parallelism for the layers without threads of this crate's own: the caller (the app)
//! owns the threads and lends them as [`Workers`] for a call with [`with_workers`]; a layer splits
//! its work into [`Workers::count`] independent jobs and hands them to [`run`]. Without workers
//! installed every job runs in turn on the calling thread, so results never depend on the
//! thread count: each job writes its own part of the output and computes it the same way.

use std::cell::Cell;

/// One part of a layer's work, run once.
pub type Job<'a> = Box<dyn FnOnce() + Send + 'a>;

/// Something that runs jobs at the same time.
pub trait Workers: Sync {
    /// How many jobs run at once: the number of parts a layer splits its work into.
    fn count(&self) -> usize;
    /// Runs every job once and returns when all are done.
    fn run<'a>(&self, jobs: Vec<Job<'a>>);
}

/// Every job in turn on the calling thread.
#[derive(Debug, Clone, Copy)]
pub struct Serial;

impl Workers for Serial {
    fn count(&self) -> usize {
        1
    }

    fn run<'a>(&self, jobs: Vec<Job<'a>>) {
        for job in jobs {
            job();
        }
    }
}

thread_local! {
    static ACTIVE: Cell<&'static dyn Workers> = const { Cell::new(&Serial) };
}

/// The workers the layers on this thread use: [`Serial`] unless [`with_workers`] says otherwise.
pub fn active() -> &'static dyn Workers {
    ACTIVE.with(Cell::get)
}

/// Runs `f` with the layers on this thread splitting their work over `workers`.
pub fn with_workers<R>(workers: &'static dyn Workers, f: impl FnOnce() -> R) -> R {
    struct Restore(&'static dyn Workers);
    impl Drop for Restore {
        fn drop(&mut self) {
            ACTIVE.with(|a| a.set(self.0));
        }
    }
    let _restore = Restore(ACTIVE.with(|a| a.replace(workers)));
    f()
}

/// How many parts to split `items` into: one a worker, but no part smaller than `min_items`
/// (small layers are not worth a thread).
pub fn parts(items: usize, min_items: usize) -> usize {
    active().count().min(items / min_items.max(1)).max(1)
}

/// Runs `jobs` on the [`active`] workers.
pub fn run(jobs: Vec<Job<'_>>) {
    match jobs.len() {
        0 => {}
        1 => jobs.into_iter().for_each(|job| job()),
        _ => active().run(jobs),
    }
}

/// The common split: `out` holds items of `stride` elements each; they are cut into
/// consecutive parts of at least `min_items` items (see [`parts`]), and `work(items, chunk)`
/// runs on each part over the workers, writing only its own chunk.
pub fn for_each_part<T: Send>(
    out: &mut [T],
    stride: usize,
    min_items: usize,
    work: impl Fn(std::ops::Range<usize>, &mut [T]) + Sync,
) {
    let items = out.len().checked_div(stride).unwrap_or(0);
    let parts = parts(items, min_items);
    let work = &work;
    let mut jobs: Vec<Job> = Vec::with_capacity(parts);
    let mut rest = out;
    for range in ranges(items, parts, 1) {
        let (mine, tail) = rest.split_at_mut(range.len() * stride);
        rest = tail;
        jobs.push(Box::new(move || work(range, mine)));
    }
    run(jobs);
}

/// `len` items split into `parts` consecutive ranges of nearly equal size, each a multiple of
/// `align` items except the last.
pub fn ranges(len: usize, parts: usize, align: usize) -> Vec<std::ops::Range<usize>> {
    let align = align.max(1);
    let units = len.div_ceil(align);
    let parts = parts.clamp(1, units.max(1));
    (0..parts)
        .map(|i| {
            let start = (units * i / parts * align).min(len);
            let end = (units * (i + 1) / parts * align).min(len);
            start..end
        })
        .collect()
}

/// For tests: says it has `N` workers, so layers split their work `N` ways, and runs the parts
/// in turn.
#[cfg(test)]
pub(crate) struct SplitWays<const N: usize>;

#[cfg(test)]
impl<const N: usize> Workers for SplitWays<N> {
    fn count(&self) -> usize {
        N
    }

    fn run<'a>(&self, jobs: Vec<Job<'a>>) {
        Serial.run(jobs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn ranges_cover_everything_once() {
        for (len, parts, align) in [(10, 3, 1), (676, 2, 1), (7, 4, 2), (0, 2, 1), (5, 9, 1)] {
            let r = ranges(len, parts, align);
            assert_eq!(r.first().map_or(0, |r| r.start), 0);
            assert_eq!(r.last().map_or(0, |r| r.end), len);
            for pair in r.windows(2) {
                assert_eq!(pair[0].end, pair[1].start);
                assert_eq!(pair[0].end % align, 0);
            }
        }
        assert_eq!(ranges(10, 3, 1), vec![0..3, 3..6, 6..10]);
    }

    struct Counting(AtomicUsize);
    impl Workers for Counting {
        fn count(&self) -> usize {
            3
        }
        fn run<'a>(&self, jobs: Vec<Job<'a>>) {
            self.0.fetch_add(jobs.len(), Ordering::SeqCst);
            Serial.run(jobs);
        }
    }

    #[test]
    fn installed_workers_are_used_and_restored() {
        static COUNTING: Counting = Counting(AtomicUsize::new(0));
        assert_eq!(parts(100, 10), 1);
        let mut out = [0; 3];
        with_workers(&COUNTING, || {
            assert_eq!(parts(100, 10), 3);
            assert_eq!(parts(20, 10), 2);
            let jobs: Vec<Job> = out
                .iter_mut()
                .enumerate()
                .map(|(i, o)| Box::new(move || *o = i + 1) as Job)
                .collect();
            run(jobs);
        });
        assert_eq!(out, [1, 2, 3]);
        assert_eq!(COUNTING.0.load(Ordering::SeqCst), 3);
        assert_eq!(active().count(), 1);
    }
}
