//! Timing shared by the benchmarks (a subdirectory, so cargo does not take it for a bench).

use std::time::{Duration, Instant};

/// Median wall time of `runs` calls.
pub fn median_time(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}
