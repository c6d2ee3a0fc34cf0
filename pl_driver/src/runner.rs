//! The segment runner of the engine: frames go through the driver; a frame whose call fails is
//! recomputed on the CPU, with a warning, and counted.

use crate::driver::Driver;
use crate::error::Error;
use crate::hw::{PhysMemory, RegisterWindow};
use darknet_port::layers::QTensor;
use darknet_port::network::{CpuRunner, Segment, SegmentRunner, Timings};

/// What happened to the frames a [`PlRunner`] ran.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunnerStats {
    pub frames: u64,
    /// Frames computed by the engine.
    pub engine_frames: u64,
    /// Frames recomputed on the CPU after an engine error.
    pub fallbacks: u64,
    /// Of those, the ones whose error was a time-out.
    pub timeouts: u64,
    /// Resets attempted after an engine that may be stuck, and how many of them failed.
    pub resets: u64,
    pub failed_resets: u64,
    pub last_error: Option<String>,
}

pub struct PlRunner<R: RegisterWindow, M: PhysMemory> {
    driver: Driver<R, M>,
    stats: RunnerStats,
    /// The kind of the previous frame's failure; `None` after a frame the engine computed.
    last_failure: Option<std::mem::Discriminant<Error>>,
}

impl<R: RegisterWindow, M: PhysMemory> PlRunner<R, M> {
    pub fn new(driver: Driver<R, M>) -> Self {
        PlRunner {
            driver,
            stats: RunnerStats::default(),
            last_failure: None,
        }
    }

    pub fn stats(&self) -> &RunnerStats {
        &self.stats
    }

    pub fn driver(&self) -> &Driver<R, M> {
        &self.driver
    }

    pub fn driver_mut(&mut self) -> &mut Driver<R, M> {
        &mut self.driver
    }

    fn record_failure(&mut self, e: &Error) {
        self.stats.fallbacks += 1;
        if matches!(e, Error::Timeout { .. }) {
            self.stats.timeouts += 1;
        }
        // One warning per kind of failure in a row: an engine that stays unusable (absent from
        // the PL, stuck) would otherwise print a line every frame; the stats count them all.
        let repeated = self.last_failure == Some(std::mem::discriminant(e));
        self.last_failure = Some(std::mem::discriminant(e));
        self.stats.last_error = Some(e.to_string());
        if !repeated {
            eprintln!("pl_driver: warning: {e}; this frame runs on the CPU (later frames that fail the same way do so without a warning)");
        }
        if e.engine_stuck() {
            self.stats.resets += 1;
            if let Err(r) = self.driver.reset() {
                self.stats.failed_resets += 1;
                eprintln!("pl_driver: warning: resetting the engine failed: {r}");
            }
        }
    }
}

impl<R: RegisterWindow, M: PhysMemory> SegmentRunner for PlRunner<R, M> {
    fn run(
        &mut self,
        segment: &Segment,
        input: QTensor,
        timings: &mut Timings,
    ) -> darknet_port::Result<QTensor> {
        self.stats.frames += 1;
        let mark = timings.len();
        match self.driver.run_segment(segment, &input, timings) {
            Ok(out) => {
                self.stats.engine_frames += 1;
                self.last_failure = None;
                Ok(out)
            }
            Err(e) => {
                timings.truncate(mark); // the CPU's timings replace the failed attempt's
                self.record_failure(&e);
                CpuRunner.run(segment, input, timings)
            }
        }
    }
}
