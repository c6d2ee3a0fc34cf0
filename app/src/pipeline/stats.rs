//! Counters and latency distributions of a run.

use super::frame::{Frame, Stage, STAGES};
use std::fmt;
use std::time::{Duration, Instant};

/// Bucket width: 2% (latencies are reported to within that).
const GROWTH: f64 = 1.02;
/// Buckets from 1 µs up to about 1000 s.
const BUCKETS: usize = 1100;

/// A latency distribution in logarithmic buckets: constant memory however long the run.
#[derive(Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    n: u64,
    sum: Duration,
    max: Duration,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            n: 0,
            sum: Duration::ZERO,
            max: Duration::ZERO,
        }
    }
}

impl Histogram {
    fn bucket(d: Duration) -> usize {
        let us = d.as_secs_f64() * 1e6;
        if us < 1.0 {
            0
        } else {
            ((us.ln() / GROWTH.ln()) as usize + 1).min(BUCKETS - 1)
        }
    }

    /// The upper edge of bucket `i`.
    fn edge(i: usize) -> Duration {
        Duration::from_secs_f64(GROWTH.powi(i as i32) * 1e-6)
    }

    pub fn record(&mut self, d: Duration) {
        self.counts[Self::bucket(d)] += 1;
        self.n += 1;
        self.sum += d;
        self.max = self.max.max(d);
    }

    pub fn count(&self) -> u64 {
        self.n
    }

    pub fn mean(&self) -> Duration {
        if self.n == 0 {
            Duration::ZERO
        } else {
            self.sum / self.n as u32
        }
    }

    /// The `q` quantile (0..=1), to within a bucket; never above the largest sample.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.n == 0 {
            return Duration::ZERO;
        }
        let target = ((q * self.n as f64).ceil() as u64).clamp(1, self.n);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= target {
                return Self::edge(i).min(self.max);
            }
        }
        self.max
    }
}

/// What a run did.
#[derive(Clone, Default)]
pub struct Report {
    pub frames_in: u64,
    pub frames_out: u64,
    pub dropped: u64,
    /// From the first frame captured to the last one written.
    pub elapsed: Duration,
    /// Frames written after the first few, and the time they took: the steady-state rate,
    /// without the start-up (model load, first frame through every stage).
    pub steady: Option<(u64, Duration)>,
    /// Processing time of each stage, per frame.
    pub stages: Vec<(Stage, Histogram)>,
    /// From capture to written.
    pub end_to_end: Histogram,
    /// Frame buffers the pools had to allocate: a handful however long the run.
    pub buffers_allocated: usize,
    /// When each stage worked on each of the first `TIMELINE_FRAMES` frames written.
    pub timeline: Vec<FrameSpans>,
}

/// Frames whose stage times are kept for a timeline (memory stays bounded on long runs).
pub const TIMELINE_FRAMES: usize = 200;

/// One frame's (start, end) in each stage of `STAGES`, from the pipeline's start.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameSpans {
    pub seq: u64,
    pub spans: [(Duration, Duration); STAGES.len()],
}

impl FrameSpans {
    pub fn of(frame: &Frame, start: Instant) -> FrameSpans {
        let mut spans = [(Duration::ZERO, Duration::ZERO); STAGES.len()];
        // Backwards: a stage ends before the next begins. The three inference stages are
        // timed together at their end, and this lays them end to end.
        let mut next_start: Option<Duration> = None;
        for i in (0..STAGES.len()).rev() {
            let Some(end) = frame.ends[i] else { continue };
            let mut end = end.saturating_duration_since(start);
            if let Some(n) = next_start {
                end = end.min(n);
            }
            let begin = end.saturating_sub(frame.times[i]);
            spans[i] = (begin, end);
            next_start = Some(begin);
        }
        FrameSpans {
            seq: frame.seq,
            spans,
        }
    }
}

/// Frames written before the steady-state rate is measured.
pub const STEADY_AFTER: u64 = 3;

/// The output's running account of the frames written: what [`Report`] is made from.
pub struct Tally {
    start: Instant,
    stages: Vec<(Stage, Histogram)>,
    end_to_end: Histogram,
    timeline: Vec<FrameSpans>,
    frames_out: u64,
    steady_from: Option<Instant>,
    last_out: Instant,
}

impl Tally {
    /// A tally of a run that started at `start`.
    pub fn new(start: Instant) -> Tally {
        Tally {
            start,
            stages: STAGES.iter().map(|s| (*s, Histogram::default())).collect(),
            end_to_end: Histogram::default(),
            timeline: Vec::new(),
            frames_out: 0,
            steady_from: None,
            last_out: start,
        }
    }

    /// Counts `frame`, written just now.
    pub fn record(&mut self, frame: &Frame) {
        self.last_out = Instant::now();
        for ((_, h), d) in self.stages.iter_mut().zip(frame.times) {
            h.record(d);
        }
        self.end_to_end.record(self.last_out - frame.captured);
        if self.timeline.len() < TIMELINE_FRAMES {
            self.timeline.push(FrameSpans::of(frame, self.start));
        }
        self.frames_out += 1;
        if self.frames_out == STEADY_AFTER {
            self.steady_from = Some(self.last_out);
        }
    }

    /// The statistics line printed while a run goes on (`--stats`).
    pub fn progress_line(&self, frames_in: u64, dropped: u64, buffers: usize) -> String {
        let secs = self.start.elapsed().as_secs_f64();
        let slowest = self
            .stages
            .iter()
            .max_by_key(|(_, h)| h.mean())
            .map(|(s, h)| format!("{} {:.1} ms", s.name(), ms(h.mean())))
            .unwrap_or_default();
        format!(
            "[{secs:6.1} s] {frames_in} in, {} out, {dropped} dropped, {:.2} frames/s, end-to-end p50 {:.0} ms p99 {:.0} ms, slowest {slowest}, {buffers} frame buffers",
            self.frames_out,
            self.frames_out as f64 / secs.max(1e-9),
            ms(self.end_to_end.quantile(0.5)),
            ms(self.end_to_end.quantile(0.99)),
        )
    }

    /// The run's report, given what the other stages counted.
    pub fn report(self, frames_in: u64, dropped: u64, buffers_allocated: usize) -> Report {
        let steady = self
            .steady_from
            .map(|t| (self.frames_out - STEADY_AFTER, self.last_out - t));
        Report {
            frames_in,
            frames_out: self.frames_out,
            dropped,
            elapsed: self.last_out - self.start,
            steady,
            stages: self.stages,
            end_to_end: self.end_to_end,
            buffers_allocated,
            timeline: self.timeline,
        }
    }
}

impl Report {
    pub fn throughput(&self) -> f64 {
        if self.elapsed.is_zero() {
            0.0
        } else {
            self.frames_out as f64 / self.elapsed.as_secs_f64()
        }
    }

    pub fn steady_throughput(&self) -> Option<f64> {
        self.steady
            .filter(|(n, d)| *n > 0 && !d.is_zero())
            .map(|(n, d)| n as f64 / d.as_secs_f64())
    }
}

/// A duration in milliseconds, as every report prints it.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "frames: {} in, {} out, {} dropped; {:.2} frames/s over {:.1} s; {} frame buffers allocated",
            self.frames_in,
            self.frames_out,
            self.dropped,
            self.throughput(),
            self.elapsed.as_secs_f64(),
            self.buffers_allocated
        )?;
        writeln!(
            f,
            "  {:<12} {:>6} {:>9} {:>9} {:>9}",
            "stage", "frames", "mean ms", "p50 ms", "p99 ms"
        )?;
        for (stage, h) in self
            .stages
            .iter()
            .chain([(Stage::EndToEnd, self.end_to_end.clone())].iter())
        {
            writeln!(
                f,
                "  {:<12} {:>6} {:>9.2} {:>9.2} {:>9.2}",
                stage.name(),
                h.count(),
                ms(h.mean()),
                ms(h.quantile(0.5)),
                ms(h.quantile(0.99))
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_within_two_percent() {
        let mut h = Histogram::default();
        for ms in 1..=100u64 {
            h.record(Duration::from_millis(ms));
        }
        let close = |d: Duration, want: f64| (ms(d) - want).abs() <= want * 0.021;
        assert!(close(h.quantile(0.5), 50.0), "{:?}", h.quantile(0.5));
        assert!(close(h.quantile(0.99), 99.0), "{:?}", h.quantile(0.99));
        assert_eq!(h.quantile(1.0), Duration::from_millis(100));
        assert_eq!(h.count(), 100);
        assert!((ms(h.mean()) - 50.5).abs() < 0.01);
        assert_eq!(Histogram::default().quantile(0.5), Duration::ZERO);
    }

    #[test]
    fn report_prints_every_stage_and_counts() {
        let mut h = Histogram::default();
        h.record(Duration::from_millis(8));
        let r = Report {
            frames_in: 3,
            frames_out: 2,
            dropped: 1,
            elapsed: Duration::from_secs(1),
            steady: None,
            stages: vec![(Stage::Preprocess, h.clone())],
            end_to_end: h,
            buffers_allocated: 4,
            timeline: Vec::new(),
        };
        let text = r.to_string();
        assert!(
            text.contains("3 in, 2 out, 1 dropped; 2.00 frames/s"),
            "{text}"
        );
        assert!(text.contains("preprocess"), "{text}");
        assert!(text.contains("end-to-end"), "{text}");
    }
}
