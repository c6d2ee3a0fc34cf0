//! Capture: the next frame from the source, into a buffer from the pool, paced at the
//! recording's rate when a replay is to behave as a camera.

use super::{new_frame, Shared};
use crate::media::source::Source;
use crate::pipeline::frame::{Frame, Stage};
use crate::pipeline::pool::Ticket;
use anyhow::Result;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

pub struct Capture {
    source: Box<dyn Source>,
    shared: Arc<Shared>,
    /// Replay at the recording's pace: frame n is due at pts(n) - pts(0) after `start`.
    realtime: bool,
    start: Instant,
    first_pts: Option<Duration>,
}

impl Capture {
    pub fn new(source: Box<dyn Source>, shared: Arc<Shared>, realtime: bool) -> Capture {
        Capture {
            source,
            shared,
            realtime,
            start: Instant::now(),
            first_pts: None,
        }
    }

    /// The next frame (`None` at the end of the source), its read timed; it holds `ticket`.
    pub fn read_frame(&mut self, ticket: Ticket) -> Result<Option<Frame>> {
        let t0 = Instant::now();
        let Some(raw) = self.source.next_frame(self.shared.raw_pool.take())? else {
            return Ok(None);
        };
        let read_time = t0.elapsed();
        if self.realtime {
            let first = *self.first_pts.get_or_insert(raw.pts);
            let due = self.start + raw.pts.saturating_sub(first);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                thread::sleep(wait);
            }
        }
        let mut frame = new_frame(raw, &self.shared, ticket);
        frame.timed(Stage::Capture, read_time);
        Ok(Some(frame))
    }
}
