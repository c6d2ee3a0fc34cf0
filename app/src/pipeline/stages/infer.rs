//! Infer: the network on a frame. In the threaded pipeline the network is split over threads:
//!
//! The binarized segments run on one accelerator thread, which owns the `SegmentRunner` (the PL
//! on the board, the CPU kernels in host mode). The float layers around them run on CPU worker
//! threads that call `Network::forward` with a [`RemoteRunner`]: when `forward` reaches a
//! segment, the worker hands it to the accelerator thread and waits. With two workers, one runs
//! the first layer of frame n+1 and the last layer of frame n-1 while the accelerator works on
//! frame n, so the accelerator never waits for the CPU layers. Using `forward` itself (rather
//! than a copy of its layer loop) keeps the results identical to `zynqdet detect`.

//!
//! Run stage after stage (`bench-pipeline`), the same [`Infer`] stage calls the runner itself
//! through [`LocalRunner`], which times the calls the same way. So does each worker of the
//! pipeline when the runner owns no device (the CPU kernels, see
//! [`SegmentRunner::duplicate`](darknet_port::network::SegmentRunner::duplicate)): then
//! every worker runs whole frames, and there is no accelerator thread.

use super::{Process, Processed, Shared};
use crate::pipeline::frame::{Frame, Stage};
use anyhow::{anyhow, Result};
use crossbeam_channel::{bounded, Receiver, Sender};
use darknet_port::layers::{QTensor, Tensor};
use darknet_port::network::{Network, Segment, SegmentRunner, Timings};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The network on a frame: its heads, and the time of its CPU layers and of the accelerator.
pub struct Infer<R> {
    network: Arc<Network>,
    runner: R,
    shared: Arc<Shared>,
}

impl<R: TimedRunner> Infer<R> {
    pub fn new(network: Arc<Network>, runner: R, shared: Arc<Shared>) -> Infer<R> {
        Infer {
            network,
            runner,
            shared,
        }
    }
}

impl<R: TimedRunner> Process for Infer<R> {
    fn process(&mut self, mut frame: Frame) -> Result<Processed> {
        self.runner.calls().clear();
        let network = &self.network;
        let input = Tensor {
            channels: 3,
            height: network.height,
            width: network.width,
            data: std::mem::take(&mut frame.input),
        };
        // the stages' own clocks time the pipeline; per-layer steps are not kept
        let t0 = Instant::now();
        let result = network.forward(&input, &mut self.runner, &mut Timings::off());
        let t1 = Instant::now();
        frame.input = input.data;
        match result {
            Ok(heads) => frame.heads = Some(heads),
            // the accelerator thread reports its own failure
            Err(_) if self.runner.gone() => {
                self.shared.recycle(frame);
                return Ok(Processed::Stop);
            }
            Err(e) => return Err(anyhow!("{}: {e}", frame.origin)),
        }
        self.shared
            .input_pool
            .give(std::mem::take(&mut frame.input));
        for (stage, took) in stage_times(self.runner.calls(), t0, t1) {
            frame.timed(stage, took);
        }
        Ok(Processed::Forward(frame))
    }
}

/// One call of `forward` into the runner of the binarized segments.
#[derive(Debug, Clone, Copy)]
pub struct Call {
    called: Instant,
    returned: Instant,
    /// Time the runner worked (a remote call also waits in the accelerator's queue).
    busy: Duration,
}

/// A segment runner that keeps the times of its calls.
pub trait TimedRunner: SegmentRunner + Send {
    /// The calls since the list was last cleared.
    fn calls(&mut self) -> &mut Vec<Call>;
    /// Whether the runner has gone for good (the accelerator thread stopped).
    fn gone(&self) -> bool {
        false
    }
}

/// Splits the wall time of one `forward` that started at `start` and ended at `end` into the
/// stage times: CPU layers before the first segment, the accelerator's busy time, and CPU
/// layers after it (and between segments). Time spent queueing for the accelerator belongs
/// to no stage.
pub fn stage_times(calls: &[Call], start: Instant, end: Instant) -> [(Stage, Duration); 3] {
    let total = end - start;
    let front = calls.first().map_or(total, |c| c.called - start);
    let inside: Duration = calls.iter().map(|c| c.returned - c.called).sum();
    let busy: Duration = calls.iter().map(|c| c.busy).sum();
    [
        (Stage::CpuFront, front),
        (Stage::Accel, busy),
        (Stage::CpuBack, total.saturating_sub(front + inside)),
    ]
}

/// A runner called on this thread, its calls timed.
pub struct LocalRunner {
    inner: Box<dyn SegmentRunner + Send>,
    calls: Vec<Call>,
}

impl LocalRunner {
    pub fn new(inner: Box<dyn SegmentRunner + Send>) -> LocalRunner {
        LocalRunner {
            inner,
            calls: Vec::new(),
        }
    }
}

impl SegmentRunner for LocalRunner {
    fn run(
        &mut self,
        segment: &Segment,
        input: QTensor,
        timings: &mut Timings,
    ) -> darknet_port::Result<QTensor> {
        let called = Instant::now();
        let out = self.inner.run(segment, input, timings);
        let returned = Instant::now();
        self.calls.push(Call {
            called,
            returned,
            busy: returned - called,
        });
        out
    }
}

impl TimedRunner for LocalRunner {
    fn calls(&mut self) -> &mut Vec<Call> {
        &mut self.calls
    }
}

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

impl TimedRunner for RemoteRunner {
    fn calls(&mut self) -> &mut Vec<Call> {
        &mut self.calls
    }

    fn gone(&self) -> bool {
        self.accel_gone
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
        let times = stage_times(remote.calls(), start, Instant::now());
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
