//! The machine's AND+popcount ceiling: the rate of a loop that does nothing but AND two arrays
//! of 64-bit words and count the ones, to set the binarized layers' speed against.

use crate::parallel;
use std::time::{Duration, Instant};

/// What [`popcount_limit`] measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PopcountLimit {
    /// 64-bit words ANDed and counted a second, summed over the workers.
    pub words_per_s: f64,
    /// How many workers ran the loop at once.
    pub workers: usize,
    /// The loop that gave the rate (the fastest of those this CPU runs): "popcnt", "avx2
    /// nibbles", ...
    pub method: &'static str,
}

impl PopcountLimit {
    /// The rate as W1A`bits` multiply-accumulates a second: one word is 64 one-bit products,
    /// and a `bits`-bit activation takes `bits` of them.
    pub fn macs_per_s(&self, bits: usize) -> f64 {
        self.words_per_s * 64.0 / bits as f64
    }
}

/// One way of counting: the ones of `a[i] & b[i]` over both arrays (of equal length).
type Count = fn(a: &[u64], b: &[u64]) -> u64;

/// The ways this CPU runs, each with its name.
fn methods() -> Vec<(&'static str, Count)> {
    #[allow(unused_mut)]
    let mut methods: Vec<(&'static str, Count)> = vec![("count_ones", count_generic)];
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("popcnt") {
            methods.push(("popcnt", x86::count_popcnt));
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            methods.push(("avx2 nibbles", x86::count_avx2));
            methods.push(("avx2 harley-seal", harley_seal::count));
        }
    }
    methods
}

/// The AND+popcount ceiling on the [`parallel::active`] workers: each worker counts the ones
/// of `a & b` over its own two arrays of `words` words (pick the size of the layer's data: the
/// same cache level) again and again for `time`, with each of the loops this CPU runs, and the
/// fastest loop's rate, summed over the workers, is returned. Each worker's rate is its best
/// short spell: the ceiling, not an average lowered by other processes taking the core.
///
/// `with_workers(one_thread, ..)` gives the one-core limit, all the cores' workers the
/// machine's. It takes `time` for each loop (up to four on x86_64 with AVX2); the binconv
/// bench uses 100 ms, on conv3's kernels (1152 words, in the first-level cache) and on the
/// largest layer's, keeps the faster, and divides the layers' W1A3 multiply-accumulates a
/// second by its [`PopcountLimit::macs_per_s`]`(3)`.
pub fn popcount_limit(words: usize, time: Duration) -> PopcountLimit {
    popcount_limits(words, time)
        .into_iter()
        .max_by(|a, b| a.words_per_s.total_cmp(&b.words_per_s))
        .expect("the portable loop runs everywhere")
}

/// What [`popcount_limit`] measures, for each of the loops this CPU runs (to compare them).
pub fn popcount_limits(words: usize, time: Duration) -> Vec<PopcountLimit> {
    let words = words.max(64);
    let workers = parallel::active().count().max(1);
    methods()
        .into_iter()
        .map(|(method, count)| {
            let mut rates = vec![0.0f64; workers];
            let jobs: Vec<parallel::Job> = rates
                .iter_mut()
                .enumerate()
                .map(|(i, rate)| {
                    Box::new(move || *rate = rate_of(count, words, time, i as u64)) as parallel::Job
                })
                .collect();
            parallel::run(jobs);
            PopcountLimit {
                words_per_s: rates.iter().sum(),
                workers,
                method,
            }
        })
        .collect()
}

/// Words a second of `count` over two fresh arrays of `words` words, run for `time`: the best
/// of short spells (the ceiling, not an average that other processes' turns on the core pull
/// down).
fn rate_of(count: Count, words: usize, time: Duration, seed: u64) -> f64 {
    let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ seed.wrapping_mul(0x2545_f491_4f6c_dd1d);
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let a: Vec<u64> = (0..words).map(|_| next()).collect();
    let b: Vec<u64> = (0..words).map(|_| next()).collect();
    // one pass first, to bring the arrays into the cache
    let mut total = count(&a, &b);
    // spells of about 2^18 words (a fraction of a millisecond at several words a cycle)
    let passes = (1 << 18) / words + 1;
    let mut best = 0.0f64;
    let start = Instant::now();
    while start.elapsed() < time || best == 0.0 {
        let spell = Instant::now();
        for _ in 0..passes {
            total = total.wrapping_add(count(std::hint::black_box(&a), &b));
        }
        let seconds = spell.elapsed().as_secs_f64();
        if seconds > 0.0 {
            best = best.max((passes * words) as f64 / seconds);
        }
    }
    std::hint::black_box(total);
    best
}

/// The portable loop (on aarch64 `count_ones` is NEON's `cnt`).
fn count_generic(a: &[u64], b: &[u64]) -> u64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| u64::from((x & y).count_ones()))
        .sum()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    pub(super) fn count_popcnt(a: &[u64], b: &[u64]) -> u64 {
        #[target_feature(enable = "popcnt")]
        fn body(a: &[u64], b: &[u64]) -> u64 {
            // four sums, so the adds do not wait on each other
            let mut sums = [0u64; 4];
            let (a4, b4) = (a.chunks_exact(4), b.chunks_exact(4));
            let tail: u64 = a4
                .remainder()
                .iter()
                .zip(b4.remainder())
                .map(|(x, y)| u64::from((x & y).count_ones()))
                .sum();
            for (x, y) in a4.zip(b4) {
                for i in 0..4 {
                    sums[i] += u64::from((x[i] & y[i]).count_ones());
                }
            }
            sums.iter().sum::<u64>() + tail
        }
        // SAFETY: listed by `methods` only after POPCNT was detected.
        unsafe { body(a, b) }
    }

    pub(super) fn count_avx2(a: &[u64], b: &[u64]) -> u64 {
        // SAFETY: listed by `methods` only after AVX2 was detected.
        unsafe { body_avx2(a, b) }
    }

    /// Four words a vector: each nibble counted by a 16-entry table (`vpshufb`), byte counts
    /// added up over 16 vectors (at most 8 a vector, so a byte holds 16 * 8 = 128), then
    /// summed into u64 lanes (`vpsadbw`).
    #[target_feature(enable = "avx2")]
    fn body_avx2(a: &[u64], b: &[u64]) -> u64 {
        let n = a.len().min(b.len());
        let table = _mm256_setr_epi8(
            0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2,
            3, 3, 4,
        );
        let nibble = _mm256_set1_epi8(0x0f);
        let zero = _mm256_setzero_si256();
        let mut sums = [zero; 2];
        let mut i = 0;
        while i + 8 <= n {
            let end = n.min(i + 8 * 16);
            let mut bytes = [zero; 2];
            while i + 8 <= end {
                for (j, count) in bytes.iter_mut().enumerate() {
                    // SAFETY: i + 4j + 4 <= i + 8 <= n, inside both arrays.
                    let v = unsafe {
                        _mm256_and_si256(
                            _mm256_loadu_si256(a.as_ptr().add(i + 4 * j).cast()),
                            _mm256_loadu_si256(b.as_ptr().add(i + 4 * j).cast()),
                        )
                    };
                    let low = _mm256_shuffle_epi8(table, _mm256_and_si256(v, nibble));
                    let high = _mm256_shuffle_epi8(
                        table,
                        _mm256_and_si256(_mm256_srli_epi16::<4>(v), nibble),
                    );
                    *count = _mm256_add_epi8(*count, _mm256_add_epi8(low, high));
                }
                i += 8;
            }
            for (sum, count) in sums.iter_mut().zip(bytes) {
                *sum = _mm256_add_epi64(*sum, _mm256_sad_epu8(count, zero));
            }
        }
        let mut lanes = [0u64; 4];
        // SAFETY: `lanes` holds one 256-bit vector.
        unsafe {
            _mm256_storeu_si256(
                lanes.as_mut_ptr().cast(),
                _mm256_add_epi64(sums[0], sums[1]),
            )
        };
        lanes.iter().sum::<u64>() + super::count_generic(&a[i..n], &b[i..n])
    }
}

#[cfg(target_arch = "x86_64")]
mod harley_seal {
    use std::arch::x86_64::*;

    /// A carry-save adder of three vectors of bits: (carries, sums).
    #[target_feature(enable = "avx2")]
    #[inline]
    fn csa(a: __m256i, b: __m256i, c: __m256i) -> (__m256i, __m256i) {
        let u = _mm256_xor_si256(a, b);
        let carries = _mm256_or_si256(_mm256_and_si256(a, b), _mm256_and_si256(u, c));
        (carries, _mm256_xor_si256(u, c))
    }

    /// The ones of each u64 lane (nibble table and `vpsadbw`).
    #[target_feature(enable = "avx2")]
    #[inline]
    fn lane_counts(v: __m256i) -> __m256i {
        let table = _mm256_setr_epi8(
            0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2,
            3, 3, 4,
        );
        let nibble = _mm256_set1_epi8(0x0f);
        let low = _mm256_shuffle_epi8(table, _mm256_and_si256(v, nibble));
        let high = _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16::<4>(v), nibble));
        _mm256_sad_epu8(_mm256_add_epi8(low, high), _mm256_setzero_si256())
    }

    pub(super) fn count(a: &[u64], b: &[u64]) -> u64 {
        // SAFETY: listed by `methods` only after AVX2 was detected.
        unsafe { body(a, b) }
    }

    /// Harley and Seal's count: sixteen vectors of `a & b` at a time go through a tree of
    /// carry-save adders into vectors of ones, twos, fours and eights, and only the
    /// sixteens are counted; the rest are counted once at the end.
    #[target_feature(enable = "avx2")]
    fn body(a: &[u64], b: &[u64]) -> u64 {
        let n = a.len().min(b.len());
        let zero = _mm256_setzero_si256();
        let (mut ones, mut twos, mut fours, mut eights) = (zero, zero, zero, zero);
        let mut total = zero;
        let load = |i: usize| {
            // SAFETY: callers keep i + 4 <= n, inside both arrays.
            unsafe {
                _mm256_and_si256(
                    _mm256_loadu_si256(a.as_ptr().add(i).cast()),
                    _mm256_loadu_si256(b.as_ptr().add(i).cast()),
                )
            }
        };
        let mut i = 0;
        while i + 64 <= n {
            let mut eights_pair = [zero; 2];
            for (half, e) in eights_pair.iter_mut().enumerate() {
                let at = i + half * 32;
                let mut fours_pair = [zero; 2];
                for (quarter, f) in fours_pair.iter_mut().enumerate() {
                    let at = at + quarter * 16;
                    let (twos_a, o) = csa(ones, load(at), load(at + 4));
                    let (twos_b, o) = csa(o, load(at + 8), load(at + 12));
                    ones = o;
                    let (four, t) = csa(twos, twos_a, twos_b);
                    twos = t;
                    *f = four;
                }
                let (eight, f) = csa(fours, fours_pair[0], fours_pair[1]);
                fours = f;
                *e = eight;
            }
            let (sixteens, e) = csa(eights, eights_pair[0], eights_pair[1]);
            eights = e;
            total = _mm256_add_epi64(total, lane_counts(sixteens));
            i += 64;
        }
        total = _mm256_slli_epi64::<4>(total);
        for (v, shift) in [(eights, 3), (fours, 2), (twos, 1), (ones, 0)] {
            let counts = lane_counts(v);
            total = _mm256_add_epi64(total, _mm256_sll_epi64(counts, _mm_cvtsi32_si128(shift)));
        }
        let mut lanes = [0u64; 4];
        // SAFETY: `lanes` holds one 256-bit vector.
        unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), total) };
        lanes.iter().sum::<u64>() + super::count_generic(&a[i..n], &b[i..n])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_loop_counts_the_same() {
        for words in [0usize, 1, 7, 8, 9, 63, 64, 65, 100, 128, 1027] {
            let a: Vec<u64> = (0..words as u64)
                .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
                .collect();
            let b: Vec<u64> = (0..words as u64).map(|i| !i.rotate_left(7)).collect();
            let want: u64 = a
                .iter()
                .zip(&b)
                .map(|(x, y)| u64::from((x & y).count_ones()))
                .sum();
            let full = vec![!0u64; words];
            for (name, count) in methods() {
                assert_eq!(count(&a, &b), want, "{name}, {words} words");
                assert_eq!(
                    count(&full, &full),
                    64 * words as u64,
                    "{name}, {words} full words"
                );
            }
        }
    }

    #[test]
    fn the_limit_runs_on_every_worker() {
        let one = popcount_limit(256, Duration::from_millis(2));
        assert_eq!(one.workers, 1);
        assert!(one.words_per_s > 0.0);
        let three = parallel::with_workers(&parallel::SplitWays::<3>, || {
            popcount_limit(256, Duration::from_millis(2))
        });
        assert_eq!(three.workers, 3);
        assert!(three.words_per_s > 0.0 && three.macs_per_s(3) > 0.0);
    }
}
