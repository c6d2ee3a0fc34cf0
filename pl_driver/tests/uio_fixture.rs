//! The board backends on a fake sysfs: a temporary tree with `class/uio` and `class/u-dma-buf`,
//! and plain files standing in for `/dev/uioN` and `/dev/udmabufN` (mmap works on both).

use darknet_port::layers::{MaxPool, QTensor};
use darknet_port::network::{CpuRunner, Segment, SegmentRunner, SegmentStep, Timings};
use darknet_port::qnn_layout;
use pl_driver::udmabuf::{CacheMode, Udmabuf, UdmabufOptions};
use pl_driver::uio::{self, UioDevice, UioIrq, UioOptions};
use pl_driver::RegisterWindow;
use pl_driver::{regs, DmaBuffer, Driver, DriverConfig, Error, PhysMemory, PlRunner};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const REG_FILE_SIZE: usize = 0x1_0000;
const UDMABUF_PHYS: u64 = 0x7000_0000;

mod common;
use common::FakeBoard;

impl FakeBoard {
    /// `uio<n>` named `name` whose map0 attributes hold the given text (`None`: no such file),
    /// with a register file reading "idle".
    fn add_uio(&self, n: usize, name: &str, addr: Option<&str>, size: Option<&str>) -> PathBuf {
        let mut regs = vec![0u8; REG_FILE_SIZE];
        regs[..4].copy_from_slice(&regs::AP_IDLE.to_le_bytes());
        self.add_uio_device(n, name, addr, size, regs)
    }

    fn add_engine(&self) -> PathBuf {
        self.add_uio(0, "fabric", Some("0x80000000"), Some("0x1000"));
        self.add_uio(1, "BlackBoxJam", Some("0xa0000000"), Some("0x00010000"))
    }

    fn uio(&self, name: &str) -> UioOptions {
        UioOptions {
            sys_root: self.sys.clone(),
            dev_root: self.dev.clone(),
            name: name.into(),
            interrupts: false,
        }
    }

    fn udmabuf(&self, name: &str) -> UdmabufOptions {
        UdmabufOptions {
            sys_root: self.sys.clone(),
            dev_root: self.dev.clone(),
            name: name.into(),
            cache: CacheMode::Cached,
        }
    }
}

fn word_at(path: &Path, offset: u32) -> u32 {
    let bytes = fs::read(path).unwrap();
    let o = offset as usize;
    u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]])
}

#[test]
fn discovery_by_name_maps_the_window() {
    let board = FakeBoard::new();
    let file = board.add_engine();
    let info = uio::find(&board.sys, "BlackBoxJam").unwrap();
    assert_eq!(info.node, "uio1");
    assert_eq!(
        (info.map0.addr, info.map0.size, info.map0.offset),
        (0xA000_0000, 0x1_0000, 0)
    );

    let mut dev = UioDevice::open(&board.uio("BlackBoxJam")).unwrap();
    assert_eq!(dev.dev_path(), file);
    assert!(dev.device().contains("BlackBoxJam") && dev.device().contains("uio1"));
    assert_eq!(dev.read32(regs::AP_CTRL).unwrap(), regs::AP_IDLE);
    dev.write32(regs::IN1_LO, 0x1234_5678).unwrap();
    dev.write32(regs::POOL_STRIDE, 1).unwrap();
    // The mapping is shared with the file: the writes are where the register map puts them.
    assert_eq!(word_at(&file, regs::IN1_LO), 0x1234_5678);
    assert_eq!(word_at(&file, regs::POOL_STRIDE), 1);
    assert!(matches!(
        dev.read32(0x1_0000),
        Err(Error::RegisterOffset { .. })
    ));
    assert!(dev.write32(0x11, 0).is_err(), "unaligned");
    assert!(dev.check().is_ok());
}

#[test]
fn a_wrong_name_lists_what_there_is() {
    let board = FakeBoard::new();
    board.add_engine();
    let e = UioDevice::open(&board.uio("qnn_engine")).err().unwrap();
    let msg = e.to_string();
    assert!(matches!(e, Error::UioNotFound { .. }), "{msg}");
    assert!(
        msg.contains("\"qnn_engine\"")
            && msg.contains("uio0 = \"fabric\"")
            && msg.contains("uio1 = \"BlackBoxJam\""),
        "{msg}"
    );

    let empty = tempfile::tempdir().unwrap();
    let e = uio::find(empty.path(), "BlackBoxJam")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("class/uio") && e.contains("does not exist"),
        "{e}"
    );
}

#[test]
fn malformed_maps_name_the_attribute() {
    let cases: [(Option<&str>, Option<&str>, &str); 4] = [
        (Some("0xzz"), Some("0x10000"), "maps/map0/addr"),
        (Some("0xa0000000"), Some("sixty-four k"), "maps/map0/size"),
        (Some("0xa0000000"), None, "maps/map0/size"),
        (Some("0xa0000000"), Some("0x40"), "maps/map0/size"), // smaller than the registers
    ];
    for (addr, size, attr) in cases {
        let board = FakeBoard::new();
        board.add_uio(0, "BlackBoxJam", addr, size);
        let e = UioDevice::open(&board.uio("BlackBoxJam"))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains(attr), "{addr:?} {size:?}: {e}");
    }

    let board = FakeBoard::new();
    board.add_uio(0, "BlackBoxJam", Some("0xa0000000"), Some("0x10000"));
    fs::write(
        board.sys.join("class/uio/uio0/maps/map0/offset"),
        "0x1002\n",
    )
    .unwrap();
    let e = UioDevice::open(&board.uio("BlackBoxJam"))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("maps/map0/offset"), "{e}");

    // a register file shorter than the map would fault when touched: refused at open
    let board = FakeBoard::new();
    let file = board.add_uio(0, "BlackBoxJam", Some("0xa0000000"), Some("0x10000"));
    fs::write(&file, [0u8; 64]).unwrap();
    let e = UioDevice::open(&board.uio("BlackBoxJam"))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains(file.to_str().unwrap()), "{e}");
}

#[test]
fn missing_udmabuf_is_explained() {
    let board = FakeBoard::new();
    let e = Udmabuf::open(&board.udmabuf("udmabuf0")).err().unwrap();
    let msg = e.to_string();
    assert!(matches!(e, Error::UdmabufMissing { .. }), "{msg}");
    assert!(
        msg.contains("class/u-dma-buf") && msg.contains("module loaded"),
        "{msg}"
    );

    board.add_udmabuf("udmabuf1", UDMABUF_PHYS, 1 << 16);
    let msg = Udmabuf::open(&board.udmabuf("udmabuf0"))
        .err()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("udmabuf0") && msg.contains("found: udmabuf1"),
        "{msg}"
    );

    fs::remove_file(board.dev.join("udmabuf1")).unwrap();
    let msg = Udmabuf::open(&board.udmabuf("udmabuf1"))
        .err()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("dev/udmabuf1") && msg.contains("device file"),
        "{msg}"
    );
}

#[test]
fn udmabuf_allocates_writes_and_syncs_by_range() {
    let board = FakeBoard::new();
    let sys = board.add_udmabuf("udmabuf0", UDMABUF_PHYS, 64 << 10);
    let mem = Udmabuf::open(&board.udmabuf("udmabuf0")).unwrap();
    assert_eq!((mem.phys_addr(), mem.size()), (UDMABUF_PHYS, 64 << 10));

    let a = mem.alloc(100).unwrap();
    let mut b = mem.alloc(5000).unwrap();
    assert_eq!(a.phys_addr(), UDMABUF_PHYS);
    assert_eq!(b.phys_addr(), UDMABUF_PHYS + 4096);
    b.write(10, b"engine").unwrap();
    b.sync_for_device().unwrap();
    let attr = |n: &str| fs::read_to_string(sys.join(n)).unwrap();
    assert_eq!(
        (
            attr("sync_offset"),
            attr("sync_size"),
            attr("sync_direction"),
            attr("sync_for_device")
        ),
        ("4096".into(), "5000".into(), "1".into(), "1".into())
    );
    b.sync_for_cpu().unwrap();
    assert_eq!(
        (attr("sync_direction"), attr("sync_for_cpu")),
        ("2".into(), "1".into())
    );
    let mut back = [0u8; 6];
    b.read(10, &mut back).unwrap();
    assert_eq!(&back, b"engine");
    let file = fs::read(board.dev.join("udmabuf0")).unwrap();
    assert_eq!(
        &file[4096 + 10..4096 + 16],
        b"engine",
        "written through the mapping"
    );
    assert!(b.write(4999, b"xy").is_err(), "past the buffer's end");

    // Too small: the error names the device and the sizes.
    let e = mem.alloc(1 << 20).err().unwrap();
    let msg = e.to_string();
    assert!(matches!(e, Error::BufferTooSmall { .. }), "{msg}");
    assert!(msg.contains("udmabuf0") && msg.contains("1048576"), "{msg}");
    drop(a);
    assert_eq!(
        mem.alloc(4096).unwrap().phys_addr(),
        UDMABUF_PHYS,
        "freed space is reused"
    );
}

fn small_segment(conv: &darknet_port::layers::BinaryConv) -> Segment<'_> {
    Segment {
        steps: vec![SegmentStep {
            layer: 1,
            conv,
            pool: Some(MaxPool::new(2, 2)),
        }],
    }
}

fn small_conv() -> darknet_port::layers::BinaryConv {
    let mut c = qnn_layout::empty_layer(16, 32, 3);
    for (i, w) in c.weights.iter_mut().enumerate() {
        *w = (i as u64 * 0x9E37_79B9) & 0xffff;
    }
    for (i, t) in c.thresholds.iter_mut().enumerate() {
        *t = (i % 7) as i16 * 4 - 12;
    }
    c
}

fn small_input() -> QTensor {
    let mut t = QTensor::zeros(8, 8, 16, 3);
    for y in 0..8 {
        for x in 0..8 {
            for c in 0..16 {
                t.set(y, x, c, ((y + 2 * x + 3 * c) % 8) as u8);
            }
        }
    }
    t
}

/// Nothing answers on the fake board: the call times out, the frame runs on the CPU.
#[test]
fn an_engine_that_never_finishes_times_out_and_falls_back() {
    let board = FakeBoard::new();
    let regs_file = board.add_engine();
    board.add_udmabuf("udmabuf0", UDMABUF_PHYS, 4 << 20);
    let timeout = Duration::from_millis(100);
    let config = DriverConfig {
        timeout,
        interrupts: false,
    };
    let mut runner = pl_driver::uio_runner(
        &board.uio("BlackBoxJam"),
        &board.udmabuf("udmabuf0"),
        config,
    )
    .unwrap();
    let conv = small_conv();
    let segment = small_segment(&conv);
    let want = CpuRunner
        .run(&segment, small_input(), &mut Timings::new())
        .unwrap();
    let t0 = Instant::now();
    let got = runner
        .run(&segment, small_input(), &mut Timings::new())
        .unwrap();
    assert!(t0.elapsed() >= timeout);
    assert_eq!(got, want);
    let s = runner.stats();
    assert_eq!((s.fallbacks, s.timeouts, s.resets), (1, 1, 1));
    let e = s.last_error.clone().unwrap();
    assert!(
        e.contains("BlackBoxJam")
            && e.contains("uio1")
            && e.contains("AP_CTRL")
            && e.contains("timed out"),
        "{e}"
    );
    // The init call was programmed as documented before the engine failed to answer.
    assert_eq!(word_at(&regs_file, regs::DO_INIT), 1);
    assert_eq!(word_at(&regs_file, regs::KERNEL_DIM), 3);
    let in1 =
        word_at(&regs_file, regs::IN1_LO) as u64 | (word_at(&regs_file, regs::IN1_HI) as u64) << 32;
    let in2 =
        word_at(&regs_file, regs::IN2_LO) as u64 | (word_at(&regs_file, regs::IN2_HI) as u64) << 32;
    assert!(in1 >= UDMABUF_PHYS && in2 > in1 && in2 < UDMABUF_PHYS + (4 << 20));
    // ... and the reset cleared AP_CTRL (start included).
    assert_eq!(word_at(&regs_file, regs::AP_CTRL), 0);
}

#[test]
fn a_vanished_device_is_an_error_not_a_hang() {
    let board = FakeBoard::new();
    let regs_file = board.add_engine();
    board.add_udmabuf("udmabuf0", UDMABUF_PHYS, 4 << 20);
    let config = DriverConfig {
        timeout: Duration::from_secs(30),
        interrupts: false,
    };
    let regs = UioDevice::open(&board.uio("BlackBoxJam")).unwrap();
    let mem = Udmabuf::open(&board.udmabuf("udmabuf0")).unwrap();
    let mut driver = Driver::new(regs, mem, config).unwrap();
    fs::remove_file(&regs_file).unwrap();
    let conv = small_conv();
    let t0 = Instant::now();
    let e = driver
        .run_segment(&small_segment(&conv), &small_input(), &mut Timings::new())
        .err()
        .unwrap();
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    let msg = e.to_string();
    assert!(matches!(e, Error::DeviceGone { .. }), "{msg}");
    assert!(
        msg.contains(regs_file.to_str().unwrap()) && msg.contains("vanished"),
        "{msg}"
    );

    // Through the runner the same frame still completes, on the CPU.
    let mut runner = PlRunner::new(driver);
    let got = runner
        .run(&small_segment(&conv), small_input(), &mut Timings::new())
        .unwrap();
    assert_eq!(
        got,
        MaxPool::new(2, 2).forward_quantized(&conv.forward(&small_input()))
    );
    assert_eq!(runner.stats().fallbacks, 1);
}

/// The interrupt path over a socket pair standing in for the UIO file descriptor.
#[test]
fn uio_interrupts_arm_wait_and_report_a_closed_device() {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;
    let (ours, mut theirs) = UnixStream::pair().unwrap();
    let file = fs::File::from(std::os::fd::OwnedFd::from(ours));
    let mut irq = UioIrq::new(file, "/dev/uio7");

    irq.arm().unwrap();
    let mut word = [0u8; 4];
    theirs.read_exact(&mut word).unwrap();
    assert_eq!(u32::from_ne_bytes(word), 1, "arming writes 1");

    let t0 = Instant::now();
    assert_eq!(irq.wait(Duration::from_millis(50)).unwrap(), None);
    assert!(t0.elapsed() >= Duration::from_millis(50));

    theirs.write_all(&5u32.to_ne_bytes()).unwrap();
    assert_eq!(irq.wait(Duration::from_secs(5)).unwrap(), Some(5));

    drop(theirs);
    let e = irq.wait(Duration::from_secs(5)).unwrap_err().to_string();
    assert!(e.contains("/dev/uio7") && e.contains("vanished"), "{e}");
}
