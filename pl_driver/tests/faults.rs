//! An engine that never finishes: time-out, reset, CPU fallback, and what the next frames do.

use darknet_port::layers::{BinaryConv, MaxPool, QTensor};
use darknet_port::network::{CpuRunner, Segment, SegmentRunner, SegmentStep, Timings};
use darknet_port::qnn_layout;
use pl_driver::{regs, Driver, DriverConfig, EngineModel, PlRunner};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_millis(150);

fn conv(seed: u64, cin: usize, cout: usize) -> BinaryConv {
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut c = qnn_layout::empty_layer(cin, cout, 3);
    let mask = if cin >= 64 { !0 } else { (1u64 << cin) - 1 };
    for w in c.weights.iter_mut() {
        *w = next() & mask;
    }
    for (i, t) in c.thresholds.iter_mut().enumerate() {
        *t = (i % 7) as i16 * 6 - 18;
    }
    c
}

fn input(dim: usize, channels: usize) -> QTensor {
    let mut t = QTensor::zeros(dim, dim, channels, 3);
    for y in 0..dim {
        for x in 0..dim {
            for c in 0..channels {
                t.set(y, x, c, ((y * 5 + x * 3 + c * 7) % 8) as u8);
            }
        }
    }
    t
}

fn runner(
    model: &EngineModel,
) -> PlRunner<pl_driver::model::ModelRegisters, pl_driver::model::ModelMemory> {
    let config = DriverConfig {
        timeout: TIMEOUT,
        interrupts: false,
    };
    PlRunner::new(Driver::new(model.registers(), model.memory(), config).unwrap())
}

/// (is init) of each start in `writes`.
fn starts(writes: &[(u32, u32)]) -> Vec<bool> {
    let mut init = false;
    let mut out = Vec::new();
    for &(r, v) in writes {
        if r == regs::DO_INIT {
            init = v == 1;
        }
        if r == regs::AP_CTRL && v & regs::AP_START != 0 {
            out.push(init);
        }
    }
    out
}

#[test]
fn a_hung_call_times_out_and_the_frame_falls_back_to_the_cpu() {
    let (c1, c2) = (conv(1, 32, 64), conv(2, 64, 32));
    let segment = Segment {
        steps: vec![
            SegmentStep {
                layer: 0,
                conv: &c1,
                pool: Some(MaxPool::new(2, 2)),
            },
            SegmentStep {
                layer: 2,
                conv: &c2,
                pool: None,
            },
        ],
    };
    let x = input(12, 32);
    let want = CpuRunner
        .run(&segment, x.clone(), &mut Timings::new())
        .unwrap();

    let model = EngineModel::new();
    let mut runner = runner(&model);
    model.hang_after(Some(2)); // layer 0's init and compute finish, layer 2's init hangs
    let t0 = Instant::now();
    let mut timings = Timings::new();
    let got = runner.run(&segment, x.clone(), &mut timings).unwrap();
    let took = t0.elapsed();
    assert_eq!(got, want, "the CPU computed the frame");
    assert!(took >= TIMEOUT, "waited for the time-out: {took:?}");
    assert!(
        timings
            .steps()
            .iter()
            .all(|t| !t.kind.name().starts_with("pl ")),
        "only the CPU's timings remain: {timings:?}"
    );
    let s = runner.stats().clone();
    assert_eq!(
        (s.frames, s.engine_frames, s.fallbacks, s.timeouts, s.resets),
        (1, 0, 1, 1, 1)
    );
    let e = s.last_error.unwrap();
    assert!(
        e.contains("engine model")
            && e.contains("AP_CTRL (0x00)")
            && e.contains("init of layer 2 pass 0"),
        "{e}"
    );
    let writes = model.take_writes();
    assert_eq!(starts(&writes), [true, false, true]);
    assert_eq!(
        writes.last(),
        Some(&(regs::AP_CTRL, 0)),
        "the reset clears AP_CTRL after the hung start"
    );

    // Still hung: the next frame sees a busy engine at once instead of waiting again.
    let t0 = Instant::now();
    let got = runner
        .run(&segment, x.clone(), &mut Timings::new())
        .unwrap();
    assert_eq!(got, want);
    assert!(t0.elapsed() < TIMEOUT, "{:?}", t0.elapsed());
    let s = runner.stats();
    assert_eq!((s.fallbacks, s.timeouts), (2, 1));
    assert!(
        s.last_error.as_deref().unwrap_or("").contains("busy"),
        "{s:?}"
    );

    // After the engine recovers, frames run on it again.
    model.release();
    model.take_writes();
    let got = runner.run(&segment, x, &mut Timings::new()).unwrap();
    assert_eq!(got, want);
    assert_eq!(runner.stats().engine_frames, 1);
    assert_eq!(starts(&model.take_writes()), [true, false, true, false]);
}

#[test]
fn after_a_reset_the_weights_are_loaded_again() {
    let c = conv(3, 64, 64);
    let segment = Segment {
        steps: vec![SegmentStep {
            layer: 5,
            conv: &c,
            pool: None,
        }],
    };
    let x = input(7, 64);
    let model = EngineModel::new();
    let mut runner = runner(&model);
    runner
        .run(&segment, x.clone(), &mut Timings::new())
        .unwrap();
    assert_eq!(starts(&model.take_writes()), [true, false]);

    model.hang_after(Some(0)); // the compute of the next frame hangs
    let got = runner
        .run(&segment, x.clone(), &mut Timings::new())
        .unwrap();
    assert_eq!(got, c.forward(&x));
    assert_eq!(
        starts(&model.take_writes()),
        [false],
        "weights were still loaded"
    );
    assert_eq!(runner.stats().timeouts, 1);

    model.release();
    let got = runner
        .run(&segment, x.clone(), &mut Timings::new())
        .unwrap();
    assert_eq!(got, c.forward(&x));
    assert_eq!(
        starts(&model.take_writes()),
        [true, false],
        "the reset forgot the engine's weights, so they are loaded again"
    );
    assert_eq!(runner.stats().engine_frames, 2);
}

#[test]
fn a_layer_the_engine_cannot_run_falls_back_without_touching_it() {
    let c = conv(4, 32, 32);
    let segment = Segment {
        steps: vec![SegmentStep {
            layer: 3,
            conv: &c,
            pool: Some(MaxPool::new(3, 2)), // the engine pools 2x2 only
        }],
    };
    let x = input(8, 32);
    let model = EngineModel::new();
    let mut runner = runner(&model);
    let got = runner
        .run(&segment, x.clone(), &mut Timings::new())
        .unwrap();
    assert_eq!(got, MaxPool::new(3, 2).forward_quantized(&c.forward(&x)));
    let s = runner.stats();
    assert_eq!((s.fallbacks, s.timeouts, s.resets), (1, 0, 0));
    assert!(
        s.last_error
            .as_deref()
            .unwrap_or("")
            .starts_with("layer 3: max-pool size 3"),
        "{s:?}"
    );
    assert!(model.take_writes().is_empty(), "no register was written");
}
