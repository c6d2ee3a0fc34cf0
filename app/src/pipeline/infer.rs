//! The network split over threads.
//!
//! The binarized segments run on one accelerator thread, which owns the `SegmentRunner` (the PL
//! on the board, the CPU kernels in host mode). The float layers around them run on CPU worker
//! threads that call `Network::forward` with a [`RemoteRunner`]: when `forward` reaches a
//! segment, the worker hands it to the accelerator thread and waits. With two workers, one runs
//! the first layer of frame n+1 and the last layer of frame n-1 while the accelerator works on
//! frame n, so the accelerator never waits for the CPU layers. Using `forward` itself (rather
//! than a copy of its layer loop) keeps the results identical to `zynqdet detect`.

use super::Stage;
use anyhow::anyhow;
use crossbeam_channel::{bounded, Receiver, Sender};
use darknet_port::layers::QTensor;
use darknet_port::network::{Network, Segment, SegmentRunner, Timings};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A segment to run: which one (its first layer) and its input.
pub struct AccelRequest {
    first_layer: usize,
    input: QTensor,
    /// Whether the caller keeps the runner's timings.
    timed: bool,
    reply: Sender<AccelReply>,
}

pub struct AccelReply {
    result: Result<QTensor, String>,
    /// Time the runner spent on the segment (not counting the queue).
    busy: Duration,
    timings: Timings,
}

/// The accelerator thread's loop: serves segment requests in arrival order until every worker
/// has gone. A runner failure is answered to the worker and ends the thread with that error.
pub fn serve(
    network: Arc<Network>,
    mut runner: Box<dyn SegmentRunner + Send>,
    requests: Receiver<AccelRequest>,
) -> anyhow::Result<()> {
    let segments = network.segments().map_err(|m| anyhow!("model: {m}"))?;
    for req in requests {
        let Some((_, _, segment)) = segments.iter().find(|(s, _, _)| *s == req.first_layer) else {
            let msg = format!("no binarized segment starts at layer {}", req.first_layer);
            let _ = req.reply.send(AccelReply {
                result: Err(msg.clone()),
                busy: Duration::ZERO,
                timings: Timings::off(),
            });
            return Err(anyhow!("accelerator: {msg}"));
        };
        let mut timings = match req.timed {
            true => Timings::new(),
            false => Timings::off(),
        };
        let start = Instant::now();
        let result = runner.run(segment, req.input, &mut timings);
        let busy = start.elapsed();
        let failed = result.as_ref().err().map(|e| e.to_string());
        let _ = req.reply.send(AccelReply {
            result: result.map_err(|e| e.to_string()),
            busy,
            timings,
        });
        if let Some(msg) = failed {
            return Err(anyhow!("accelerator: {msg}"));
        }
    }
    Ok(())
}

/// One call of a worker's `forward` into the accelerator thread.
#[derive(Debug, Clone, Copy)]
struct Call {
    called: Instant,
    returned: Instant,
    busy: Duration,
}

/// The worker side: a `SegmentRunner` that sends the segment to the accelerator thread.
pub struct RemoteRunner {
    requests: Sender<AccelRequest>,
    calls: Vec<Call>,
    /// Set when the accelerator thread stopped or failed: that thread reports the cause.
    pub accel_gone: bool,
}

impl RemoteRunner {
    pub fn new(requests: Sender<AccelRequest>) -> RemoteRunner {
        RemoteRunner {
            requests,
            calls: Vec::new(),
            accel_gone: false,
        }
    }

    /// Splits the wall time of one `forward` that started at `start` and ended at `end` into
    /// the stage times: CPU layers before the first segment, the accelerator's busy time, and
    /// CPU layers after it (and between segments). Time spent queueing for the accelerator
    /// belongs to no stage.
    pub fn stage_times(&self, start: Instant, end: Instant) -> [(Stage, Duration); 3] {
        let total = end - start;
        let front = self.calls.first().map_or(total, |c| c.called - start);
        let inside: Duration = self.calls.iter().map(|c| c.returned - c.called).sum();
        let busy: Duration = self.calls.iter().map(|c| c.busy).sum();
        [
            (Stage::CpuFront, front),
            (Stage::Accel, busy),
            (Stage::CpuBack, total.saturating_sub(front + inside)),
        ]
    }

    pub fn clear(&mut self) {
        self.calls.clear();
    }
}

impl SegmentRunner for RemoteRunner {
    fn run(
        &mut self,
        segment: &Segment,
        input: QTensor,
        timings: &mut Timings,
    ) -> darknet_port::Result<QTensor> {
        let gone = || darknet_port::Error::Model("the accelerator thread has stopped".into());
        let first_layer = segment.steps.first().map(|s| s.layer).ok_or_else(gone)?;
        let called = Instant::now();
        // A reply channel per call, whose only sender travels with the request: if the
        // accelerator thread dies (even by a panic) the request is dropped and recv returns.
        let (reply_tx, reply_rx) = bounded(1);
        let sent = self.requests.send(AccelRequest {
            first_layer,
            input,
            timed: timings.is_on(),
            reply: reply_tx,
        });
        let reply = match sent.ok().and_then(|_| reply_rx.recv().ok()) {
            Some(r) => r,
            None => {
                self.accel_gone = true;
                return Err(gone());
            }
        };
        self.calls.push(Call {
            called,
            returned: Instant::now(),
            busy: reply.busy,
        });
        timings.append(reply.timings);
        reply.result.map_err(|m| {
            self.accel_gone = true;
            darknet_port::Error::Model(m)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::tests::builtin_network;
    use darknet_port::image_input::{letterbox, load_image};
    use darknet_port::network::CpuRunner;
    use std::path::PathBuf;

    #[test]
    fn remote_segments_give_the_same_detections_as_forward() {
        let network = Arc::new(builtin_network());
        let image =
            load_image(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../samples/dog.jpg"))
                .unwrap();
        let input = letterbox(&image, network.width, network.height, network.resize);
        let direct = network
            .forward(&input, &mut CpuRunner, &mut Timings::new())
            .unwrap();

        let (tx, rx) = bounded(1);
        let net = network.clone();
        let accel = std::thread::spawn(move || serve(net, Box::new(CpuRunner), rx));
        let mut remote = RemoteRunner::new(tx);
        let start = Instant::now();
        let via_thread = network
            .forward(&input, &mut remote, &mut Timings::new())
            .unwrap();
        let times = remote.stage_times(start, Instant::now());
        drop(remote);
        accel.join().unwrap().unwrap();

        assert!(via_thread == direct, "the outputs differ");
        // Tinier-YOLO has one segment: one call, with CPU work on both sides of it
        assert!(times.iter().all(|(_, d)| !d.is_zero()), "{times:?}");
        assert!(
            times[1].1 > times[0].1,
            "the segment is the big part: {times:?}"
        );
    }

    struct PanickingRunner;

    impl SegmentRunner for PanickingRunner {
        fn run(
            &mut self,
            _: &Segment,
            _: QTensor,
            _: &mut Timings,
        ) -> darknet_port::Result<QTensor> {
            panic!("a runner bug");
        }
    }

    #[test]
    fn a_panicking_accelerator_is_an_error_not_a_hang() {
        let network = Arc::new(builtin_network());
        let (tx, rx) = bounded(1);
        let net = network.clone();
        let accel = std::thread::spawn(move || serve(net, Box::new(PanickingRunner), rx));
        let mut remote = RemoteRunner::new(tx);
        let input = darknet_port::layers::Tensor::zeros(3, network.height, network.width);
        assert!(network
            .forward(&input, &mut remote, &mut Timings::new())
            .is_err());
        assert!(remote.accel_gone);
        assert!(accel.join().is_err(), "the accelerator thread panicked");
    }

    #[test]
    fn a_stopped_accelerator_is_an_error_not_a_hang() {
        let network = builtin_network();
        let (tx, rx) = bounded(1);
        drop(rx);
        let mut remote = RemoteRunner::new(tx);
        let input = darknet_port::layers::Tensor::zeros(3, network.height, network.width);
        let e = network.forward(&input, &mut remote, &mut Timings::new());
        assert!(e.is_err());
        assert!(remote.accel_gone);
    }
}
