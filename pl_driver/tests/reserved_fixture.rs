//! DMA buffers from a reserved-memory region behind a second UIO device, on a fake sysfs: a
//! temporary tree with `class/uio/uioN/{name,maps/map0/*}` and plain files standing in for
//! `/dev/uioN` (mmap works on them as on the device).

use darknet_port::layers::{BinaryConv, QTensor};
use darknet_port::network::{CpuRunner, Segment, SegmentRunner, SegmentStep, Timings};
use darknet_port::qnn_layout;
use pl_driver::reserved::{DmaMemory, ReservedMem, ReservedOptions, DEFAULT_DMA_UIO_NAME};
use pl_driver::udmabuf::{CacheMode, UdmabufOptions};
use pl_driver::uio::UioOptions;
use pl_driver::{regs, DmaBuffer, DriverConfig, Error, PhysMemory};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

const REGION_PHYS: u64 = 0x6000_0000;

mod common;
use common::FakeBoard;

impl FakeBoard {
    /// `uio<n>` named `name` over `size` bytes at `addr`; its device file holds those bytes
    /// (`first_word` at offset 0).
    fn add_uio(&self, n: usize, name: &str, addr: u64, size: usize, first_word: u32) -> PathBuf {
        let mut bytes = vec![0u8; size];
        bytes[..4].copy_from_slice(&first_word.to_le_bytes());
        let (addr, size) = (format!("{addr:#018x}"), format!("{size:#010x}"));
        self.add_uio_device(n, name, Some(&addr), Some(&size), bytes)
    }

    /// The engine (registers reading "idle", nothing ever done) and the DMA region.
    fn add_engine_and_region(&self, region: usize) -> PathBuf {
        self.add_uio(0, "BlackBoxJam", 0xA000_0000, 0x1_0000, regs::AP_IDLE);
        self.add_uio(1, DEFAULT_DMA_UIO_NAME, REGION_PHYS, region, 0)
    }

    fn reserved(&self) -> ReservedOptions {
        ReservedOptions {
            sys_root: self.sys.clone(),
            dev_root: self.dev.clone(),
            ..ReservedOptions::default()
        }
    }

    fn udmabuf(&self) -> UdmabufOptions {
        UdmabufOptions {
            sys_root: self.sys.clone(),
            dev_root: self.dev.clone(),
            cache: CacheMode::Cached,
            ..UdmabufOptions::default()
        }
    }
}

#[test]
fn buffers_lie_in_the_region_at_its_physical_address() {
    let board = FakeBoard::new();
    let file = board.add_engine_and_region(64 << 10);
    let mem = ReservedMem::open(&board.reserved()).unwrap();
    assert_eq!((mem.phys_addr(), mem.size()), (REGION_PHYS, 64 << 10));
    assert_eq!(mem.dev_path(), file);

    let mut a = mem.alloc(5000).unwrap();
    let mut b = mem.alloc(100).unwrap();
    assert_eq!(a.phys_addr(), REGION_PHYS);
    assert_eq!(b.phys_addr(), REGION_PHYS + 8192, "page aligned after a");
    let data: Vec<u8> = (0..200u32).map(|i| (i * 7 + 3) as u8).collect();
    // Odd offsets and lengths: the aligned copy's head and tail paths.
    a.write(4093, &data[..123]).unwrap();
    b.write(1, &data[..99]).unwrap();
    a.sync_for_device().unwrap();
    b.sync_for_cpu().unwrap();
    let mut back = vec![0u8; 123];
    a.read(4093, &mut back).unwrap();
    assert_eq!(back, data[..123]);
    // The mapping is shared with the file: the bytes are where the physical addresses say.
    let bytes = fs::read(&file).unwrap();
    assert_eq!(&bytes[4093..4093 + 123], &data[..123]);
    assert_eq!(&bytes[8193..8193 + 99], &data[..99]);
    assert_eq!(bytes[8192], 0);

    let e = a.write(5000, &[1]).unwrap_err();
    assert!(matches!(e, Error::OutOfRange { .. }), "{e}");
    let e = mem.alloc(60 << 10).err().unwrap().to_string();
    assert!(
        e.contains("uio1") && e.contains("reserved memory") && e.contains("largest free"),
        "{e}"
    );
    drop(a);
    assert_eq!(
        mem.alloc(8192).unwrap().phys_addr(),
        REGION_PHYS,
        "a freed range is reused"
    );
}

#[test]
fn u_dma_buf_is_preferred_and_the_region_is_the_fallback() {
    let board = FakeBoard::new();
    board.add_engine_and_region(64 << 10);
    let mem = DmaMemory::open(&board.udmabuf()).unwrap();
    assert!(matches!(mem, DmaMemory::Reserved(_)));
    assert_eq!(mem.alloc(10).unwrap().phys_addr(), REGION_PHYS);

    board.add_udmabuf("udmabuf0", 0x7000_0000, 64 << 10);
    let mem = DmaMemory::open(&board.udmabuf()).unwrap();
    assert!(matches!(mem, DmaMemory::Udmabuf(_)));
    assert_eq!(mem.alloc(10).unwrap().phys_addr(), 0x7000_0000);
}

#[test]
fn neither_source_is_one_error_naming_both() {
    let board = FakeBoard::new();
    board.add_uio(0, "BlackBoxJam", 0xA000_0000, 0x1_0000, regs::AP_IDLE);
    let e = DmaMemory::open(&board.udmabuf()).err().unwrap();
    let msg = e.to_string();
    assert!(!msg.contains('\n'), "{msg}");
    assert!(
        msg.contains("u-dma-buf")
            && msg.contains(&format!("{DEFAULT_DMA_UIO_NAME:?}"))
            && msg.contains("uio0 = \"BlackBoxJam\""),
        "{msg}"
    );

    // A region whose sysfs is broken is reported as such, not as "missing".
    let dir = board.sys.join("class/uio/uio1");
    fs::create_dir_all(dir.join("maps/map0")).unwrap();
    fs::write(dir.join("name"), format!("{DEFAULT_DMA_UIO_NAME}\n")).unwrap();
    fs::write(dir.join("maps/map0/addr"), "0x60000000\n").unwrap();
    fs::write(dir.join("maps/map0/size"), "lots\n").unwrap();
    let msg = DmaMemory::open(&board.udmabuf()).err().unwrap().to_string();
    assert!(
        msg.contains("maps/map0/size") && msg.contains("\"lots\""),
        "{msg}"
    );
}

fn conv() -> BinaryConv {
    let mut c = qnn_layout::empty_layer(16, 32, 3);
    for (i, w) in c.weights.iter_mut().enumerate() {
        *w = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) & 0xFFFF;
    }
    for (i, t) in c.thresholds.iter_mut().enumerate() {
        *t = (i % 7) as i16 * 4 - 12;
    }
    c
}

fn word_at(path: &Path, offset: u32) -> u32 {
    let bytes = fs::read(path).unwrap();
    let o = offset as usize;
    u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]])
}

/// The board backend over the region: the engine is programmed with the region's physical
/// addresses, never answers, and the frame falls back to the CPU.
#[test]
fn the_board_runner_uses_the_region_without_u_dma_buf() {
    let board = FakeBoard::new();
    let region = board.add_engine_and_region(4 << 20);
    let uio = UioOptions {
        sys_root: board.sys.clone(),
        dev_root: board.dev.clone(),
        ..UioOptions::default()
    };
    let config = DriverConfig {
        timeout: Duration::from_millis(50),
        interrupts: false,
    };
    let mut runner = pl_driver::uio_runner(&uio, &board.udmabuf(), config).unwrap();
    let conv = conv();
    let segment = Segment {
        steps: vec![SegmentStep {
            layer: 1,
            conv: &conv,
            pool: None,
        }],
    };
    let mut input = QTensor::zeros(8, 8, 16, 3);
    for y in 0..8 {
        for x in 0..8 {
            for c in 0..16 {
                input.set(y, x, c, ((y + 2 * x + 3 * c) % 8) as u8);
            }
        }
    }
    let want = CpuRunner
        .run(&segment, input.clone(), &mut Timings::new())
        .unwrap();
    let got = runner.run(&segment, input, &mut Timings::new()).unwrap();
    assert_eq!(got, want);
    assert_eq!(runner.stats().timeouts, 1);
    let regs_file = board.dev.join("uio0");
    let lo = |r| word_at(&regs_file, r) as u64;
    let in1 = lo(regs::IN1_LO) | lo(regs::IN1_HI) << 32;
    let in2 = lo(regs::IN2_LO) | lo(regs::IN2_HI) << 32;
    for addr in [in1, in2] {
        assert!(
            (REGION_PHYS..REGION_PHYS + (4 << 20)).contains(&addr),
            "{addr:#x} outside the region"
        );
    }
    // The weights the init call points at are in the region's file at that offset.
    let bytes = fs::read(region).unwrap();
    let off = (in1 - REGION_PHYS) as usize;
    assert!(
        bytes[off..off + 64].iter().any(|&b| b != 0),
        "weights written"
    );
}
