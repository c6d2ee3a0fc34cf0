//! Co-simulation: the driver over the Verilator model of overlay/'s RTL (built only where
//! Verilator was found, `cfg(rtl_backend)`). The simulation runs at roughly 150 k cycles per
//! second and a frame is about 1.8 M cycles, so there are two full frames here (the golden
//! vectors, and dog.jpg through the whole network) and otherwise short calls.

#[cfg(not(rtl_backend))]
#[test]
fn rtl_backend() {
    system_tests::skipped(pl_driver::NO_RTL);
}

#[cfg(rtl_backend)]
mod with_rtl {
    use darknet_port::image_input::{letterbox, load_image};
    use darknet_port::layers::QTensor;
    use darknet_port::network::{CpuRunner, Network, SegmentRunner, Timings};
    use pl_driver::rtl::{self, RtlEngine, RtlOptions};
    use pl_driver::{regs, rtl_runner, Driver, DriverConfig, Error, PlRunner, RegisterWindow};
    use std::path::PathBuf;

    fn repo() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    fn tinier_yolo() -> Network {
        Network::load(&repo().join("models/tinier-yolo/tinier-yolo.zdm")).unwrap()
    }

    #[test]
    fn the_linked_model_has_the_geometry_of_the_register_map() {
        let g = rtl::geometry();
        assert_eq!((g.pe, g.simd, g.max_out, g.max_in), (32, 64, 256, 512));
        let engine = RtlEngine::new().unwrap();
        let mut regs_ = engine.registers();
        let ctrl = regs_.read32(regs::AP_CTRL).unwrap();
        assert_eq!(ctrl & (regs::AP_IDLE | regs::AP_START), regs::AP_IDLE);
        assert_eq!(regs_.read32(0x100).unwrap(), 0, "unlisted offsets read 0");
        assert!(matches!(
            regs_.read32(0x2),
            Err(Error::RegisterOffset { .. })
        ));
        assert!(engine.cycles() > 0, "register accesses take cycles");
        assert!(engine.error().is_none());
    }

    /// conv1..conv7 of the reference system on its golden input, polling, from another thread than
    /// the one that built the runner (as `zynqdet run` does): bit-exact with verification.bin.
    #[test]
    fn golden_vectors_through_driver_and_rtl() {
        let dir = system_tests::golden_dir();
        let input = std::fs::read(dir.join("input.bin")).unwrap();
        let expected = std::fs::read(dir.join("verification.bin")).unwrap();
        let q = QTensor::from_packed_pixels(&input, 208, 208, 16, 3, 8).unwrap();

        let (mut runner, engine) = rtl_runner(rtl::driver_config()).unwrap();
        assert!(!runner.driver().use_interrupts());
        let out = std::thread::spawn(move || {
            let network = tinier_yolo();
            let segments = network.segments().unwrap();
            let out = runner.run(&segments[0].2, q, &mut Timings::new()).unwrap();
            assert_eq!(runner.stats().engine_frames, 1, "{:?}", runner.stats());
            assert_eq!(runner.stats().fallbacks, 0, "{:?}", runner.stats());
            out
        })
        .join()
        .unwrap();
        let got = out.to_packed_pixels(192);
        let wrong = got
            .chunks(192)
            .zip(expected.chunks(192))
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(wrong, 0, "{wrong} of 169 pixels differ");
        assert_eq!(got, expected);

        // 10 passes: an init and a compute each, in the engine's own cycles.
        assert_eq!(engine.starts(), 20);
        let calls = engine.call_cycles();
        assert_eq!(calls.len(), 20);
        let total: u64 = calls.iter().sum();
        assert!(
            (1_700_000..2_000_000).contains(&total),
            "{total} cycles per frame"
        );
        let conv1 = calls[1];
        assert!((780_000..800_000).contains(&conv1), "conv1: {conv1} cycles");
        let t = engine.traffic();
        assert!(t.read_beats > 0 && t.write_beats > 0);
        assert!(engine.error().is_none(), "{:?}", engine.error());
    }

    /// The whole detector with its middle layers on the RTL, waiting by interrupt: the CPU's
    /// detections, to the last bit (car 86%, dog 86%, bicycle 78%).
    #[test]
    fn dog_jpg_gives_the_cpu_detections_through_the_rtl() {
        let image_path = repo().join("samples/dog.jpg");
        let network = tinier_yolo();
        let image = load_image(&image_path).unwrap();
        let input = letterbox(&image, network.width, network.height, network.resize);
        let nms = network.nms.unwrap_or(0.45);

        let cpu = network
            .forward(&input, &mut CpuRunner, &mut Timings::new())
            .unwrap();
        let want = network
            .decode(&cpu, image.width, image.height, 0.3, nms)
            .unwrap();

        let config = DriverConfig {
            interrupts: true,
            ..rtl::driver_config()
        };
        let (mut runner, engine) = rtl_runner(config).unwrap();
        assert!(runner.driver().use_interrupts());
        let mut timings = Timings::new();
        let out = network.forward(&input, &mut runner, &mut timings).unwrap();
        assert_eq!(runner.stats().engine_frames, 1, "{:?}", runner.stats());
        assert_eq!(runner.stats().fallbacks, 0, "{:?}", runner.stats());
        assert_eq!(engine.starts(), 20);
        assert!(timings
            .steps()
            .iter()
            .any(|t| t.kind.name().starts_with("pl ")));
        let got = network
            .decode(&out, image.width, image.height, 0.3, nms)
            .unwrap();
        assert_eq!(got, want);
        let summary: Vec<(String, u32)> = got
            .iter()
            .map(|f| (f.class.clone(), (f.prob * 100.0).round() as u32))
            .collect();
        assert_eq!(
            summary,
            [
                ("dog".to_string(), 86),
                ("car".to_string(), 86),
                ("bicycle".to_string(), 78)
            ]
        );
        assert!(engine.error().is_none(), "{:?}", engine.error());
    }

    /// A call that runs past the cycle limit is an engine fault (not a wall-clock wait): the runner
    /// recomputes the frame on the CPU.
    #[test]
    fn a_call_past_its_cycle_limit_falls_back_to_the_cpu() {
        let network = tinier_yolo();
        let segments = network.segments().unwrap();
        let segment = &segments[0].2;
        // conv1 alone: a 208x208 call of about 0.8 M cycles, against a limit of 50 k.
        let mut first = segment.clone();
        first.steps.truncate(1);
        let input = {
            let mut q = QTensor::zeros(208, 208, 16, 3);
            for y in 0..208 {
                for x in 0..208 {
                    for c in 0..16 {
                        q.set(y, x, c, ((y * 5 + x * 3 + c) % 8) as u8);
                    }
                }
            }
            q
        };
        let engine = RtlEngine::with_options(RtlOptions {
            arena_bytes: 16 << 20,
            max_call_cycles: 50_000,
            ..RtlOptions::default()
        })
        .unwrap();
        let driver =
            Driver::new(engine.registers(), engine.memory(), rtl::driver_config()).unwrap();
        let mut runner = PlRunner::new(driver);
        let want = CpuRunner
            .run(&first, input.clone(), &mut Timings::new())
            .unwrap();
        let got = runner.run(&first, input, &mut Timings::new()).unwrap();
        assert_eq!(got, want);
        let stats = runner.stats();
        assert_eq!((stats.fallbacks, stats.engine_frames), (1, 0), "{stats:?}");
        let err = stats.last_error.as_deref().unwrap();
        assert!(err.contains("without ap_done (limit 50000)"), "{err}");
        assert!(engine.cycles() < 200_000, "{} cycles", engine.cycles());
    }
}
