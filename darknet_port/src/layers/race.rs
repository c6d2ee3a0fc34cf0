//! Which of two exact ways of computing a layer is faster on this CPU, found by timing both on
//! the layer's first calls. For choices whose outputs are the same bits either way (INT8's
//! Winograd and its matrix product), so the race changes the time and nothing else: which
//! wins depends on how many multiplies the CPU issues a cycle and on the layer's shape, which
//! no table can know ahead.
//!
//! Each way's first call warms it up (packing, allocations) and is not counted; then each is
//! timed [`TIMED`] times, the ways taking turns, and the one with the shortest call wins for
//! the layer's life. Callers on several threads take turns too.

use std::sync::Mutex;
use std::time::Duration;

/// Calls of each way timed before the race is decided (after one warm-up each).
pub const TIMED: u32 = 2;

/// The race of one layer (a fresh one for each copy of it).
#[derive(Debug, Default)]
pub struct Race(Mutex<State>);

#[derive(Debug, Default, Clone, Copy)]
struct State {
    /// Calls handed out to each way, and calls of each timed.
    started: [u32; 2],
    timed: [u32; 2],
    /// The shortest timed call of each way.
    best: [Option<Duration>; 2],
    winner: Option<usize>,
}

/// A call handed out by [`Race::next`]: which way to run, and whether its time counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub way: usize,
    counts: bool,
}

impl Clone for Race {
    fn clone(&self) -> Race {
        Race::default()
    }
}

impl PartialEq for Race {
    /// Two copies of a layer are alike whatever their races found.
    fn eq(&self, _: &Race) -> bool {
        true
    }
}

impl Race {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // the state is a few counters, consistent after any step: a panic elsewhere while it
        // was held leaves nothing to repair
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The way to run now: the winner once there is one, else the way with fewer calls.
    pub fn next(&self) -> Entry {
        let mut state = self.state();
        if let Some(way) = state.winner {
            return Entry { way, counts: false };
        }
        let way = usize::from(state.started[1] < state.started[0]);
        state.started[way] += 1;
        Entry {
            way,
            counts: state.started[way] > 1,
        }
    }

    /// Notes the time `entry`'s call took; once each way has had [`TIMED`] timed calls, the
    /// faster one wins (the first on a tie).
    pub fn finish(&self, entry: Entry, elapsed: Duration) {
        let mut state = self.state();
        if !entry.counts || state.winner.is_some() {
            return;
        }
        let way = entry.way;
        state.timed[way] += 1;
        state.best[way] = Some(state.best[way].map_or(elapsed, |best| best.min(elapsed)));
        if let ([Some(first), Some(second)], true) =
            (state.best, state.timed.iter().all(|&n| n >= TIMED))
        {
            state.winner = Some(usize::from(second < first));
        }
    }

    /// The way that won, once decided.
    pub fn winner(&self) -> Option<usize> {
        self.state().winner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs calls through `race`, way 0 taking `times[0]` and way 1 `times[1]`, until it is
    /// decided; returns the ways in the order they ran.
    fn run(race: &Race, times: [u64; 2]) -> Vec<usize> {
        let mut ways = Vec::new();
        while race.winner().is_none() {
            let entry = race.next();
            ways.push(entry.way);
            // warm-ups take long: they must not count
            let ms = if ways.iter().filter(|&&w| w == entry.way).count() == 1 {
                1000
            } else {
                times[entry.way]
            };
            race.finish(entry, Duration::from_millis(ms));
            assert!(ways.len() <= 10, "the race ends");
        }
        ways
    }

    #[test]
    fn the_faster_way_wins_after_warm_ups_and_timed_calls() {
        for (times, winner) in [([5, 3], 1), ([3, 5], 0), ([4, 4], 0)] {
            let race = Race::default();
            let ways = run(&race, times);
            assert_eq!(race.winner(), Some(winner), "{times:?}");
            // the ways take turns: one warm-up and TIMED timed calls each
            assert_eq!(ways.len(), 2 * (1 + TIMED as usize));
            assert!(ways.chunks(2).all(|pair| pair == [0, 1]), "{ways:?}");
            // then the winner only, and nothing more is counted
            for _ in 0..3 {
                let entry = race.next();
                assert_eq!(entry.way, winner);
                race.finish(entry, Duration::from_millis(1));
            }
            assert_eq!(race.winner(), Some(winner));
        }
    }

    /// The shortest call counts: one slow call (another process had the CPU) does not lose
    /// the race for the faster way.
    #[test]
    fn the_shortest_call_of_each_way_counts() {
        let race = Race::default();
        let durations = [[0, 0], [9, 5], [2, 6]];
        for round in durations {
            for (way, ms) in round.into_iter().enumerate() {
                let entry = race.next();
                assert_eq!(entry.way, way);
                race.finish(entry, Duration::from_millis(ms));
            }
        }
        assert_eq!(race.winner(), Some(0));
    }

    /// Copies start their own race; any two are equal.
    #[test]
    fn a_copy_races_afresh() {
        let race = Race::default();
        run(&race, [5, 3]);
        let copy = race.clone();
        assert_eq!(copy.winner(), None);
        assert_eq!(copy, race);
    }
}
