//! Which of several exact ways of computing a layer is fastest on this CPU, found by timing
//! them on the layer's first calls. For choices whose outputs are the same bits either way
//! (INT8's Winograd, its byte product and its 16-bit product), so the race changes the time
//! and nothing else: which wins depends on how many multiplies of each kind the CPU issues a
//! cycle and on the layer's shape, which no table can know ahead.
//!
//! Each way's first call warms it up (packing, allocations) and is not counted; then each is
//! timed [`TIMED`] times, the ways taking turns, and the one with the shortest call wins for
//! the layer's life. Callers on several threads take turns too. The ways that can run depend
//! on the kernel table; another set of them (another table) starts the race afresh.

use std::sync::Mutex;
use std::time::Duration;

/// Calls of each way timed before the race is decided (after one warm-up each).
pub const TIMED: u32 = 2;

/// Ways a race can have: way `i` is bit `i` of the sets [`Race::next`] takes.
pub const MAX_WAYS: usize = 4;

/// The race of one layer (a fresh one for each copy of it).
#[derive(Debug, Default)]
pub struct Race(Mutex<State>);

#[derive(Debug, Default, Clone, Copy)]
struct State {
    /// The ways racing (a bit each).
    ways: u8,
    /// Calls handed out to each way, and calls of each timed.
    started: [u32; MAX_WAYS],
    timed: [u32; MAX_WAYS],
    /// The shortest timed call of each way.
    best: [Option<Duration>; MAX_WAYS],
    winner: Option<usize>,
}

impl State {
    fn racing(&self) -> impl Iterator<Item = usize> + '_ {
        (0..MAX_WAYS).filter(|&way| self.ways & (1 << way) != 0)
    }
}

/// A call handed out by [`Race::next`]: which way to run, and whether its time counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub way: usize,
    counts: bool,
    ways: u8,
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

    /// The way to run now among `ways` (a bit each, at least one): the winner once there is
    /// one, else the way with the fewest calls (the lowest on a tie). A lone way wins at once.
    pub fn next(&self, ways: u8) -> Entry {
        assert!(
            ways != 0 && u32::from(ways) < 1 << MAX_WAYS,
            "ways {ways:#b}"
        );
        let mut state = self.state();
        if state.ways != ways {
            *state = State {
                ways,
                ..State::default()
            };
            if ways.count_ones() == 1 {
                state.winner = Some(ways.trailing_zeros() as usize);
            }
        }
        if let Some(way) = state.winner {
            return Entry {
                way,
                counts: false,
                ways,
            };
        }
        let way = state
            .racing()
            .min_by_key(|&way| state.started[way])
            .expect("a way races");
        state.started[way] += 1;
        Entry {
            way,
            counts: state.started[way] > 1,
            ways,
        }
    }

    /// Notes the time `entry`'s call took; once each way has had [`TIMED`] timed calls, the
    /// fastest wins (the lowest on a tie).
    pub fn finish(&self, entry: Entry, elapsed: Duration) {
        let mut state = self.state();
        if !entry.counts || state.winner.is_some() || state.ways != entry.ways {
            return;
        }
        let way = entry.way;
        state.timed[way] += 1;
        state.best[way] = Some(state.best[way].map_or(elapsed, |best| best.min(elapsed)));
        if state.racing().all(|way| state.timed[way] >= TIMED) {
            state.winner = state.racing().min_by_key(|&way| state.best[way]);
        }
    }

    /// The ways racing (or raced): a bit each.
    #[cfg(test)]
    pub fn ways(&self) -> u8 {
        self.state().ways
    }

    /// The way that won, once decided.
    pub fn winner(&self) -> Option<usize> {
        self.state().winner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs calls of `ways` through `race`, way `i` taking `times[i]`, until it is decided;
    /// returns the ways in the order they ran.
    fn run(race: &Race, ways: u8, times: [u64; MAX_WAYS]) -> Vec<usize> {
        let mut order = Vec::new();
        while race.winner().is_none() {
            let entry = race.next(ways);
            order.push(entry.way);
            // warm-ups take long: they must not count
            let ms = if order.iter().filter(|&&w| w == entry.way).count() == 1 {
                1000
            } else {
                times[entry.way]
            };
            race.finish(entry, Duration::from_millis(ms));
            assert!(order.len() <= 20, "the race ends");
        }
        order
    }

    #[test]
    fn the_fastest_way_wins_after_warm_ups_and_timed_calls() {
        let cases = [
            (0b11, [5, 3, 0, 0], 1),
            (0b11, [3, 5, 0, 0], 0),
            (0b11, [4, 4, 0, 0], 0),
            (0b111, [5, 6, 4, 0], 2),
            (0b101, [5, 1, 6, 0], 0),
            (0b1010, [1, 7, 1, 6], 3),
        ];
        for (ways, times, winner) in cases {
            let race = Race::default();
            let order = run(&race, ways, times);
            assert_eq!(race.winner(), Some(winner), "{times:?}");
            // the ways take turns: one warm-up and TIMED timed calls each
            let n = ways.count_ones() as usize;
            assert_eq!(order.len(), n * (1 + TIMED as usize));
            let racing: Vec<usize> = (0..MAX_WAYS).filter(|w| ways & (1 << w) != 0).collect();
            assert!(order.chunks(n).all(|turn| turn == racing), "{order:?}");
            // then the winner only, and nothing more is counted
            for _ in 0..3 {
                let entry = race.next(ways);
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
                let entry = race.next(0b11);
                assert_eq!(entry.way, way);
                race.finish(entry, Duration::from_millis(ms));
            }
        }
        assert_eq!(race.winner(), Some(0));
    }

    /// One way needs no race; another set of ways (another kernel table) races afresh, and
    /// the calls handed out for the old set no longer count.
    #[test]
    fn a_lone_way_wins_and_new_ways_race_afresh() {
        let race = Race::default();
        assert_eq!(race.next(0b100).way, 2);
        assert_eq!(race.winner(), Some(2));
        // ways 0 and 1: two warm-ups, then a call of way 0 that would count
        let stale = [race.next(0b11), race.next(0b11), race.next(0b11)];
        assert_eq!(race.winner(), None);
        // ways 0 and 2, way 2 the faster: the stale call's zero time must not make 0 win
        let warm_up = race.next(0b101);
        for entry in stale {
            race.finish(entry, Duration::ZERO);
        }
        race.finish(warm_up, Duration::from_secs(1));
        let times = [9, 0, 2, 0];
        while race.winner().is_none() {
            let entry = race.next(0b101);
            race.finish(entry, Duration::from_millis(times[entry.way]));
        }
        assert_eq!(race.winner(), Some(2));
    }

    /// Copies start their own race; any two are equal.
    #[test]
    fn a_copy_races_afresh() {
        let race = Race::default();
        run(&race, 0b11, [5, 3, 0, 0]);
        let copy = race.clone();
        assert_eq!(copy.winner(), None);
        assert_eq!(copy, race);
    }
}
