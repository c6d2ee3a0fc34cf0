//! The driver on the engine model: bit-exact against the CPU and the golden vectors, with the
//! register sequence of docs/register-map.md.

use darknet_port::layers::{BinaryConv, MaxPool, QTensor};
use darknet_port::network::{CpuRunner, Network, Segment, SegmentRunner, SegmentStep, Timings};
use darknet_port::qnn_layout;
use pl_driver::model::{ModelCalls, ARENA_BASE};
use pl_driver::regs;
use pl_driver::{model_runner, Driver, DriverConfig, EngineModel, Error, PlRunner};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn tinier_yolo() -> Network {
    Network::load(&repo().join("models/tinier-yolo/tinier-yolo.zdm")).unwrap()
}

/// One accelerator call as the engine saw it: the register file at the moment of the start.
#[derive(Debug, Clone)]
struct Call {
    regs: BTreeMap<u32, u32>,
    /// Registers written since the previous start.
    written: Vec<u32>,
}

impl Call {
    fn get(&self, r: u32) -> u32 {
        self.regs.get(&r).copied().unwrap_or(0)
    }
    fn addr(&self, lo: u32, hi: u32) -> u64 {
        u64::from(self.get(lo)) | (u64::from(self.get(hi)) << 32)
    }
    fn is_init(&self) -> bool {
        self.get(regs::DO_INIT) == 1
    }
}

fn decode_calls(writes: &[(u32, u32)]) -> Vec<Call> {
    let mut state = BTreeMap::new();
    let mut written = Vec::new();
    let mut out = Vec::new();
    for &(r, v) in writes {
        if r == regs::AP_CTRL && v & regs::AP_START != 0 {
            out.push(Call {
                regs: state.clone(),
                written: std::mem::take(&mut written),
            });
        } else {
            state.insert(r, v);
            written.push(r);
        }
    }
    out
}

/// (K, IFM_CH, OFM_CH, IFM_DIM, LAYER_TYPE, POOL_IN, POOL_OUT, POOL_STRIDE) of each compute
/// call, from the table in docs/register-map.md.
type ComputeRegs = (u32, u32, u32, u32, u32, u32, u32, u32);
const TINIER_YOLO_CALLS: [ComputeRegs; 10] = [
    (3, 16, 64, 208, 2, 208, 104, 1),
    (3, 64, 64, 104, 2, 104, 52, 1),
    (3, 64, 128, 52, 2, 52, 26, 1),
    (3, 128, 256, 26, 2, 26, 13, 1),
    (3, 256, 256, 13, 2, 14, 13, 0),
    (3, 256, 256, 13, 2, 14, 13, 0),
    (3, 512, 256, 13, 1, 13, 13, 0),
    (3, 512, 256, 13, 1, 13, 13, 0),
    (3, 512, 256, 13, 1, 13, 13, 0),
    (3, 512, 256, 13, 1, 13, 13, 0),
];

#[test]
fn golden_vectors_through_driver_and_model() {
    let dir = system_tests::golden_dir();
    let input = std::fs::read(dir.join("input.bin")).unwrap();
    let expected = std::fs::read(dir.join("verification.bin")).unwrap();
    let network = tinier_yolo();
    let segments = network.segments().unwrap();
    let segment = &segments[0].2;
    let q = QTensor::from_packed_pixels(&input, 208, 208, 16, 3, 8).unwrap();

    let (mut runner, model) = model_runner(DriverConfig::default()).unwrap();
    let out = runner.run(segment, q.clone(), &mut Timings::new()).unwrap();
    assert_eq!(runner.stats().engine_frames, 1, "{:?}", runner.stats());
    assert_eq!(runner.stats().fallbacks, 0);
    let got = out.to_packed_pixels(192);
    let wrong = got
        .chunks(192)
        .zip(expected.chunks(192))
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(wrong, 0, "{wrong} of 169 pixels differ");
    assert_eq!(got, expected);
    assert_eq!(
        model.calls(),
        ModelCalls {
            inits: 10,
            computes: 10
        }
    );

    // The register sequence: per pass, an init, then a compute with every register written.
    let calls = decode_calls(&model.take_writes());
    assert_eq!(calls.len(), 20);
    let mut prev_out = None;
    for (i, pair) in calls.chunks(2).enumerate() {
        let (init, compute) = (&pair[0], &pair[1]);
        assert!(init.is_init(), "call {} is an init", 2 * i);
        assert_eq!(init.get(regs::LAYER_TYPE), regs::LAYER_CONV);
        assert_eq!(init.get(regs::KERNEL_DIM), 3);
        let (w1, w2) = (
            init.addr(regs::IN1_LO, regs::IN1_HI),
            init.addr(regs::IN2_LO, regs::IN2_HI),
        );
        assert!(w1 >= ARENA_BASE && w2 >= ARENA_BASE && w1 != w2);
        for r in [
            regs::IN1_LO,
            regs::IN1_HI,
            regs::IN2_LO,
            regs::IN2_HI,
            regs::DO_INIT,
        ] {
            assert!(
                init.written.contains(&r),
                "init {i} writes {}",
                regs::describe(r)
            );
        }

        assert!(!compute.is_init(), "call {} computes", 2 * i + 1);
        for r in [
            regs::DO_INIT,
            regs::IN1_LO,
            regs::IN1_HI,
            regs::OUT_LO,
            regs::OUT_HI,
            regs::LAYER_TYPE,
            regs::KERNEL_DIM,
            regs::STRIDE,
            regs::IFM_CH,
            regs::OFM_CH,
            regs::IFM_DIM,
            regs::PADDED_DIM,
            regs::OFM_DIM,
            regs::POOL_IN_DIM,
            regs::POOL_OUT_DIM,
            regs::POOL_STRIDE,
        ] {
            assert!(
                compute.written.contains(&r),
                "compute {i} writes {}",
                regs::describe(r)
            );
        }
        let (k, ifm_ch, ofm_ch, dim, ty, pin, pout, ps) = TINIER_YOLO_CALLS[i];
        let got = (
            compute.get(regs::KERNEL_DIM),
            compute.get(regs::IFM_CH),
            compute.get(regs::OFM_CH),
            compute.get(regs::IFM_DIM),
            compute.get(regs::LAYER_TYPE),
            compute.get(regs::POOL_IN_DIM),
            compute.get(regs::POOL_OUT_DIM),
            compute.get(regs::POOL_STRIDE),
        );
        assert_eq!(
            got,
            (k, ifm_ch, ofm_ch, dim, ty, pin, pout, ps),
            "compute {i}"
        );
        assert_eq!(compute.get(regs::PADDED_DIM), dim + 2);
        assert_eq!(compute.get(regs::OFM_DIM), dim);
        assert_eq!(compute.get(regs::STRIDE), 0);
        let input = compute.addr(regs::IN1_LO, regs::IN1_HI);
        let output = compute.addr(regs::OUT_LO, regs::OUT_HI);
        assert!(input >= ARENA_BASE && output >= ARENA_BASE && input != output);
        // Single-pass layers chain in DMA memory: this call reads what the last one wrote.
        if i < 5 && i > 0 {
            assert_eq!(
                Some(input),
                prev_out,
                "compute {i} reads compute {}'s output",
                i - 1
            );
        }
        prev_out = Some(output);
    }
    // Two passes of one layer read the same input and write different buffers.
    assert_eq!(
        calls[9].addr(regs::IN1_LO, regs::IN1_HI),
        calls[11].addr(regs::IN1_LO, regs::IN1_HI)
    );
    assert_ne!(
        calls[9].addr(regs::OUT_LO, regs::OUT_HI),
        calls[11].addr(regs::OUT_LO, regs::OUT_HI)
    );

    // A second frame reuses the weight buffers and gives the same output.
    let allocated = model.allocated();
    let again = runner.run(segment, q, &mut Timings::new()).unwrap();
    assert_eq!(again, out);
    assert_eq!(
        model.allocated(),
        allocated,
        "no new buffers on the second frame"
    );
    let second = decode_calls(&model.take_writes());
    assert_eq!(second.len(), 20);
    assert_eq!(
        second.iter().filter(|c| c.is_init()).count(),
        10,
        "the engine holds one pass's weights, so each pass is loaded again"
    );
}

/// A deterministic random layer (xorshift), weight bits only below `cin`.
pub fn random_conv(seed: u64, cin: usize, cout: usize, k: usize) -> BinaryConv {
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut conv = qnn_layout::empty_layer(cin, cout, k);
    let chunks = cin.div_ceil(64);
    for (i, w) in conv.weights.iter_mut().enumerate() {
        let tail = cin - (i % chunks) * 64;
        *w = next() & if tail >= 64 { !0 } else { (1 << tail) - 1 };
    }
    // Thresholds within about two standard deviations of the accumulator, ascending as
    // trained ones are, so that every output level occurs.
    let r = (8.0 * ((k * k * cin) as f64).sqrt()) as u64;
    for t in conv.thresholds.chunks_mut(7) {
        let mut v: Vec<i16> = (0..7)
            .map(|_| ((next() % (2 * r + 1)) as i64 - r as i64) as i16)
            .collect();
        v.sort();
        t.copy_from_slice(&v);
    }
    for v in conv.invert.iter_mut() {
        *v = next() % 5 == 0;
    }
    conv
}

pub fn random_input(seed: u64, dim: usize, channels: usize) -> QTensor {
    let mut x = seed | 1;
    let mut t = QTensor::zeros(dim, dim, channels, 3);
    for y in 0..dim {
        for xx in 0..dim {
            for c in 0..channels {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                t.set(y, xx, c, (x % 8) as u8);
            }
        }
    }
    t
}

#[test]
fn random_layers_match_the_cpu() {
    // K=1 and 3, ragged input channels, two passes, every pool form, odd sides.
    let convs = [
        random_conv(1, 70, 64, 3),
        random_conv(2, 64, 96, 1),
        random_conv(3, 96, 512, 3),
        random_conv(4, 512, 256, 3),
        random_conv(5, 256, 128, 1),
    ];
    let pools = [
        Some(MaxPool::new(2, 2)), // 15 -> 8, padded right/bottom
        None,
        Some(MaxPool::new(2, 1)), // 8 -> 8 with the overhang
        Some(MaxPool {
            size: 2,
            stride: 2,
            padding: 0,
        }), // 8 -> 4
        None,
    ];
    let segment = Segment {
        steps: convs
            .iter()
            .zip(pools)
            .enumerate()
            .map(|(i, (conv, pool))| SegmentStep {
                layer: 2 * i,
                conv,
                pool,
            })
            .collect(),
    };
    let input = random_input(9, 15, 70);
    let want = CpuRunner
        .run(&segment, input.clone(), &mut Timings::new())
        .unwrap();
    assert_eq!((want.height, want.channels), (4, 128));
    let levels: std::collections::HashSet<u8> = (0..4)
        .flat_map(|y| (0..4).flat_map(move |x| (0..128).map(move |c| (y, x, c))))
        .map(|(y, x, c)| want.get(y, x, c))
        .collect();
    assert!(
        levels.len() > 3,
        "the test data exercises several levels: {levels:?}"
    );

    let (mut runner, model) = model_runner(DriverConfig::default()).unwrap();
    let got = runner.run(&segment, input, &mut Timings::new()).unwrap();
    assert_eq!(
        runner.stats().fallbacks,
        0,
        "{:?}",
        runner.stats().last_error
    );
    assert_eq!(got, want);
    assert_eq!(
        model.calls(),
        ModelCalls {
            inits: 6,
            computes: 6
        }
    );
}

#[test]
fn a_single_pass_keeps_its_weights_loaded_between_frames() {
    let conv = random_conv(7, 32, 64, 3);
    let segment = Segment {
        steps: vec![SegmentStep {
            layer: 1,
            conv: &conv,
            pool: None,
        }],
    };
    let input = random_input(3, 6, 32);
    let (mut runner, model) = model_runner(DriverConfig::default()).unwrap();
    let first = runner
        .run(&segment, input.clone(), &mut Timings::new())
        .unwrap();
    let second = runner
        .run(&segment, input.clone(), &mut Timings::new())
        .unwrap();
    assert_eq!(first, second);
    assert_eq!(first, conv.forward(&input));
    let c = decode_calls(&model.take_writes());
    let kinds: Vec<bool> = c.iter().map(Call::is_init).collect();
    assert_eq!(
        kinds,
        [true, false, false],
        "init once, then compute per frame"
    );
}

#[test]
fn interrupts_on_the_model() {
    let conv = random_conv(11, 64, 32, 3);
    let segment = Segment {
        steps: vec![SegmentStep {
            layer: 0,
            conv: &conv,
            pool: Some(MaxPool::new(2, 2)),
        }],
    };
    let input = random_input(5, 10, 64);
    let model = EngineModel::new().with_interrupt();
    let config = DriverConfig {
        interrupts: true,
        ..DriverConfig::default()
    };
    let driver = Driver::new(model.registers(), model.memory(), config).unwrap();
    assert!(driver.use_interrupts());
    let mut runner = PlRunner::new(driver);
    let out = runner
        .run(&segment, input.clone(), &mut Timings::new())
        .unwrap();
    assert_eq!(
        out,
        MaxPool::new(2, 2).forward_quantized(&conv.forward(&input))
    );
    assert_eq!(runner.stats().engine_frames, 1);
    let writes = model.take_writes();
    assert_eq!(writes[..2], [(regs::GIE, 1), (regs::IER, regs::IRQ_DONE)]);
    let acks = writes
        .iter()
        .filter(|&&w| w == (regs::ISR, regs::IRQ_DONE))
        .count();
    assert_eq!(acks, 2, "each call's ap_done interrupt is acknowledged");
}

#[test]
fn the_model_rejects_bad_registers_and_unsynced_buffers() {
    use pl_driver::{DmaBuffer, PhysMemory, RegisterWindow};
    let model = EngineModel::new();
    let mut r = model.registers();
    let mem = model.memory();
    assert_eq!(r.read32(regs::AP_CTRL).unwrap(), regs::AP_IDLE);

    // compute before init
    r.write32(regs::DO_INIT, 0).unwrap();
    r.write32(regs::KERNEL_DIM, 3).unwrap();
    r.write32(regs::AP_CTRL, regs::AP_START).unwrap();
    assert_eq!(r.read32(regs::AP_CTRL).unwrap() & regs::AP_DONE, 0);
    let e = r.check().unwrap_err().to_string();
    assert!(e.contains("before any weights"), "{e}");

    // init from a buffer written without sync_for_device
    let mut w = mem.alloc(pl_driver::layout::bank_bytes(3)).unwrap();
    w.write(0, &[1, 2, 3]).unwrap();
    r.write32(regs::IN1_LO, w.phys_addr() as u32).unwrap();
    r.write32(regs::IN1_HI, (w.phys_addr() >> 32) as u32)
        .unwrap();
    r.write32(regs::IN2_LO, w.phys_addr() as u32).unwrap();
    r.write32(regs::IN2_HI, (w.phys_addr() >> 32) as u32)
        .unwrap();
    r.write32(regs::DO_INIT, 1).unwrap();
    r.write32(regs::AP_CTRL, regs::AP_START).unwrap();
    let e = r.check().unwrap_err().to_string();
    assert!(e.contains("IN1_LO") && e.contains("sync_for_device"), "{e}");
    w.sync_for_device().unwrap();
    r.write32(regs::AP_CTRL, regs::AP_START).unwrap();
    assert!(r.check().is_ok());
    assert_ne!(r.read32(regs::AP_CTRL).unwrap() & regs::AP_DONE, 0);
    assert_eq!(
        r.read32(regs::AP_CTRL).unwrap() & regs::AP_DONE,
        0,
        "ap_done is clear-on-read"
    );

    // OFM_CH out of range names the register
    r.write32(regs::DO_INIT, 0).unwrap();
    r.write32(regs::LAYER_TYPE, regs::LAYER_CONV).unwrap();
    r.write32(regs::IFM_CH, 64).unwrap();
    r.write32(regs::OFM_CH, 300).unwrap();
    r.write32(regs::AP_CTRL, regs::AP_START).unwrap();
    let e = r.check().unwrap_err().to_string();
    assert!(e.contains("OFM_CH (0x5C) = 300"), "{e}");

    // an address outside every buffer
    r.write32(regs::OFM_CH, 32).unwrap();
    r.write32(regs::IFM_DIM, 4).unwrap();
    r.write32(regs::PADDED_DIM, 6).unwrap();
    r.write32(regs::OFM_DIM, 4).unwrap();
    r.write32(regs::IN1_LO, 0x1000).unwrap();
    r.write32(regs::IN1_HI, 0).unwrap();
    r.write32(regs::AP_CTRL, regs::AP_START).unwrap();
    let e = r.check().unwrap_err().to_string();
    assert!(e.contains("IN1 = 0x1000"), "{e}");

    // registers outside the window
    assert!(matches!(
        r.write32(0x1_0000, 0),
        Err(Error::RegisterOffset { .. })
    ));
    assert!(r.read32(0x3).is_err());
    assert_eq!(r.read32(0x200).unwrap(), 0, "unlisted offsets read 0");

    // a buffer larger than the arena
    let small = EngineModel::with_arena(1 << 20);
    let e = small.memory().alloc(2 << 20).err().unwrap();
    assert!(matches!(e, Error::BufferTooSmall { requested, .. } if requested == 2 << 20));
}

#[test]
fn the_register_write_log_stays_bounded_when_nobody_takes_it() {
    use pl_driver::model::WRITE_LOG_LIMIT;
    use pl_driver::RegisterWindow;
    let model = EngineModel::new();
    let mut r = model.registers();
    // what a long run on the model backend does: writes, and never a take_writes
    let n = 3 * WRITE_LOG_LIMIT as u32 + 7;
    for i in 0..n {
        r.write32(regs::KERNEL_DIM, i).unwrap();
    }
    let writes = model.take_writes();
    assert!(
        (WRITE_LOG_LIMIT / 2..=WRITE_LOG_LIMIT).contains(&writes.len()),
        "{} writes kept",
        writes.len()
    );
    // the newest ones, in order
    let values: Vec<u32> = writes.iter().map(|w| w.1).collect();
    let first = n - values.len() as u32;
    assert!(values.iter().copied().eq(first..n));
    assert!(model.take_writes().is_empty());
}
