//! Co-simulation backend: the driver over the Verilator model of our RTL (`overlay/`), through
//! the C API of `overlay/sim/engine_api.h` (linked from `overlay/build/full/libw1a3sim.a` by
//! `build.rs`; present only with `cfg(rtl_backend)`).
//!
//! - Registers are AXI-Lite transactions on the model's `s_axi_control` port.
//! - Physical memory is the model's arena at [`ARENA_BASE`]: buffers are ranges of it, and the
//!   engine's AXI4 master reads and writes them by physical address. The arena is coherent, so
//!   the syncs only check nothing.
//! - The model's clock advances only inside these calls. A read of AP_CTRL while a call runs first
//!   lets [`RtlOptions::poll_cycles`] cycles pass (the time between two polls), and waiting for
//!   the interrupt steps until the `irq` line rises. A call that runs more than
//!   [`RtlOptions::max_call_cycles`] is reported by [`RegisterWindow::check`] as an engine fault,
//!   as are the model's AXI protocol errors.
//!
//! The simulation runs at roughly 150 k cycles per second, so a Tinier-YOLO frame (about
//! 1.8 M cycles) takes seconds: the driver's time-out, which is wall-clock time, must allow for
//! that ([`driver_config`]).

use crate::alloc::{Arena, Slot, HOST_ARENA_BASE};
use crate::driver::DriverConfig;
use crate::error::{Error, Result};
use crate::hw::{DmaBuffer, PhysMemory, RegisterWindow};
use crate::regs;
use std::ffi::CStr;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Physical address of arena byte 0: the engine model's, above 4 GiB.
pub const ARENA_BASE: u64 = HOST_ARENA_BASE;
const DEVICE: &str = "W1A3 RTL (Verilator)";

/// The C API of overlay/sim/engine_api.h.
mod ffi {
    use std::ffi::{c_char, c_int};

    /// `w1a3_sim`, opaque.
    #[repr(C)]
    pub struct Sim {
        _private: [u8; 0],
    }

    #[repr(C)]
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Geometry {
        pub pe: u32,
        pub simd: u32,
        pub max_out: u32,
        pub max_in: u32,
        pub lb_depth: u32,
        pub pool_depth: u32,
    }

    #[repr(C)]
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Traffic {
        pub read_beats: u64,
        pub write_beats: u64,
        pub read_bursts: u64,
        pub write_bursts: u64,
    }

    extern "C" {
        pub fn w1a3_sim_geometry() -> Geometry;
        pub fn w1a3_sim_new(mem: *mut u8, mem_phys: u64, mem_bytes: usize) -> *mut Sim;
        pub fn w1a3_sim_free(sim: *mut Sim);
        pub fn w1a3_sim_mem(sim: *mut Sim) -> *mut u8;
        pub fn w1a3_sim_set_memory_model(
            sim: *mut Sim,
            read_latency: u32,
            shared_bandwidth: c_int,
            beat_interval: u32,
        );
        pub fn w1a3_reg_read(sim: *mut Sim, offset: u32) -> u32;
        pub fn w1a3_reg_write(sim: *mut Sim, offset: u32, value: u32);
        pub fn w1a3_step(sim: *mut Sim, cycles: u64);
        pub fn w1a3_irq(sim: *const Sim) -> c_int;
        pub fn w1a3_wait_irq(sim: *mut Sim, max_cycles: u64) -> c_int;
        pub fn w1a3_cycles(sim: *const Sim) -> u64;
        pub fn w1a3_sim_traffic(sim: *const Sim) -> Traffic;
        pub fn w1a3_sim_error(sim: *const Sim) -> *const c_char;
    }
}

pub use ffi::{Geometry, Traffic};

/// The geometry compiled into the linked model (the RTL parameters).
pub fn geometry() -> Geometry {
    // SAFETY: takes no arguments and returns a plain struct by value.
    unsafe { ffi::w1a3_sim_geometry() }
}

/// The driver configuration for the simulation: the defaults with a wall-clock time-out long
/// enough for a simulated call (the longest Tinier-YOLO call, conv1, takes about 0.8 M cycles).
/// Hangs are caught in simulated time instead ([`RtlOptions::max_call_cycles`]).
pub fn driver_config() -> DriverConfig {
    DriverConfig {
        timeout: Duration::from_secs(600),
        ..DriverConfig::default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtlOptions {
    /// Bytes of physical memory (allocated zeroed, lazily by the OS).
    pub arena_bytes: usize,
    /// Cycles that pass before each read of AP_CTRL while a call runs.
    pub poll_cycles: u64,
    /// A call running longer than this is reported as stuck. The largest call that the
    /// engine's line buffer allows takes under 8 M cycles (Tinier-YOLO's, under 0.8 M).
    pub max_call_cycles: u64,
}

impl Default for RtlOptions {
    fn default() -> Self {
        RtlOptions {
            arena_bytes: 256 << 20,
            poll_cycles: 1024,
            max_call_cycles: 10_000_000,
        }
    }
}

/// The C model, owned. All access goes through the mutex in [`RtlEngine`].
struct Sim {
    ptr: NonNull<ffi::Sim>,
    /// The arena, `size` bytes, owned by the model.
    mem: NonNull<u8>,
    options: RtlOptions,
    arena: Arena,
    /// Cycle count at the last start, while that call has not been seen done.
    started: Option<u64>,
    /// The UIO-style mask: an interrupt is delivered once, then needs re-arming.
    irq_armed: bool,
    starts: u64,
    /// Cycles from start to the read that saw ap_done, per call.
    call_cycles: Vec<u64>,
}

// SAFETY: the model keeps no thread-affine state (Verilator's context is per model and the
// model is not built with threads); it is used by one thread at a time, under the mutex of
// `RtlEngine`, and the arena pointer is only dereferenced under that mutex.
unsafe impl Send for Sim {}

impl Drop for Sim {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from w1a3_sim_new and is freed once, here; the arena goes with it,
        // and no buffer can outlive the `Sim` (each holds an `Arc` to it).
        unsafe { ffi::w1a3_sim_free(self.ptr.as_ptr()) }
    }
}

impl Sim {
    fn cycles(&self) -> u64 {
        // SAFETY: `ptr` is a live model (freed only in Drop).
        unsafe { ffi::w1a3_cycles(self.ptr.as_ptr()) }
    }

    fn step(&mut self, cycles: u64) {
        // SAFETY: `ptr` is a live model; `&mut self` means no other call on it runs.
        unsafe { ffi::w1a3_step(self.ptr.as_ptr(), cycles) }
    }

    fn irq(&self) -> bool {
        // SAFETY: `ptr` is a live model.
        unsafe { ffi::w1a3_irq(self.ptr.as_ptr()) != 0 }
    }

    fn error(&self) -> Option<String> {
        // SAFETY: `ptr` is a live model; the returned string, when not NULL, is NUL-terminated
        // and valid until the model changes, and it is copied before that.
        unsafe {
            let p = ffi::w1a3_sim_error(self.ptr.as_ptr());
            (!p.is_null()).then(|| CStr::from_ptr(p).to_string_lossy().into_owned())
        }
    }

    fn running_for(&self) -> Option<u64> {
        self.started.map(|t| self.cycles() - t)
    }
}

/// A handle on one simulated engine, shared by its register window, its memory and whoever
/// wants its figures; clones share the same model.
#[derive(Clone)]
pub struct RtlEngine {
    sim: Arc<Mutex<Sim>>,
}

fn lock(sim: &Mutex<Sim>) -> MutexGuard<'_, Sim> {
    sim.lock().unwrap_or_else(|e| e.into_inner())
}

impl RtlEngine {
    pub fn new() -> Result<RtlEngine> {
        RtlEngine::with_options(RtlOptions::default())
    }

    pub fn with_options(options: RtlOptions) -> Result<RtlEngine> {
        let fail = |message: &str| Error::EngineFault {
            device: DEVICE.into(),
            message: message.into(),
        };
        // SAFETY: a NULL arena asks the model to allocate `arena_bytes` itself.
        let raw =
            unsafe { ffi::w1a3_sim_new(std::ptr::null_mut(), ARENA_BASE, options.arena_bytes) };
        let ptr = NonNull::new(raw).ok_or_else(|| fail("w1a3_sim_new failed"))?;
        // SAFETY: `ptr` is the live model just created.
        let mem = unsafe { ffi::w1a3_sim_mem(ptr.as_ptr()) };
        let sim = Sim {
            ptr,
            // A model that failed to allocate returned NULL above; this is the arena it made.
            mem: NonNull::new(mem).ok_or_else(|| fail("the model has no memory arena"))?,
            options,
            arena: Arena::new(DEVICE, ARENA_BASE, options.arena_bytes),
            started: None,
            irq_armed: false,
            starts: 0,
            call_cycles: Vec::new(),
        };
        Ok(RtlEngine {
            sim: Arc::new(Mutex::new(sim)),
        })
    }

    pub fn registers(&self) -> RtlRegisters {
        RtlRegisters {
            sim: Arc::clone(&self.sim),
        }
    }

    pub fn memory(&self) -> RtlMemory {
        RtlMemory {
            sim: Arc::clone(&self.sim),
        }
    }

    /// Clock cycles since the model was created.
    pub fn cycles(&self) -> u64 {
        lock(&self.sim).cycles()
    }

    /// AXI traffic since the model was created.
    pub fn traffic(&self) -> Traffic {
        let s = lock(&self.sim);
        // SAFETY: `ptr` is a live model.
        unsafe { ffi::w1a3_sim_traffic(s.ptr.as_ptr()) }
    }

    /// Starts (`ap_start` writes) so far.
    pub fn starts(&self) -> u64 {
        lock(&self.sim).starts
    }

    /// Cycles of each finished call, from its start to the poll that saw `ap_done` (so rounded
    /// up to [`RtlOptions::poll_cycles`] when polling).
    pub fn call_cycles(&self) -> Vec<u64> {
        lock(&self.sim).call_cycles.clone()
    }

    /// The first AXI protocol or address error the model saw.
    pub fn error(&self) -> Option<String> {
        lock(&self.sim).error()
    }

    /// The DDR model (see engine_api.h): read latency in cycles, whether reads and writes share
    /// the data beats, and the cycles per 16-byte beat.
    pub fn set_memory_model(&self, read_latency: u32, shared_bandwidth: bool, beat_interval: u32) {
        let s = lock(&self.sim);
        // SAFETY: `ptr` is a live model, used by no one else while the lock is held.
        unsafe {
            ffi::w1a3_sim_set_memory_model(
                s.ptr.as_ptr(),
                read_latency,
                i32::from(shared_bandwidth),
                beat_interval,
            )
        }
    }
}

/// The model's register window.
pub struct RtlRegisters {
    sim: Arc<Mutex<Sim>>,
}

fn check_offset(offset: u32) -> Result<()> {
    regs::check_offset(offset, regs::WINDOW_SIZE, || DEVICE.into())
}

impl RegisterWindow for RtlRegisters {
    fn read32(&mut self, offset: u32) -> Result<u32> {
        check_offset(offset)?;
        let mut s = lock(&self.sim);
        if offset == regs::AP_CTRL && s.started.is_some() {
            let n = s.options.poll_cycles;
            s.step(n);
        }
        // SAFETY: `ptr` is a live model, used by no one else while the lock is held.
        let value = unsafe { ffi::w1a3_reg_read(s.ptr.as_ptr(), offset) };
        if offset == regs::AP_CTRL && value & regs::AP_DONE != 0 {
            if let Some(n) = s.running_for() {
                s.call_cycles.push(n);
            }
            s.started = None;
        }
        Ok(value)
    }

    fn write32(&mut self, offset: u32, value: u32) -> Result<()> {
        check_offset(offset)?;
        let mut s = lock(&self.sim);
        // SAFETY: `ptr` is a live model, used by no one else while the lock is held.
        unsafe { ffi::w1a3_reg_write(s.ptr.as_ptr(), offset, value) };
        if offset == regs::AP_CTRL && value & regs::AP_START != 0 {
            s.started = Some(s.cycles());
            s.starts += 1;
        }
        Ok(())
    }

    fn device(&self) -> String {
        DEVICE.into()
    }

    fn check(&mut self) -> Result<()> {
        let s = lock(&self.sim);
        if let Some(e) = s.error() {
            return Err(Error::EngineFault {
                device: DEVICE.into(),
                message: format!("AXI: {e}"),
            });
        }
        match s.running_for() {
            Some(n) if n > s.options.max_call_cycles => Err(Error::EngineFault {
                device: DEVICE.into(),
                message: format!(
                    "the call has run for {n} cycles without ap_done (limit {})",
                    s.options.max_call_cycles
                ),
            }),
            _ => Ok(()),
        }
    }

    /// The RTL's `irq` output is wired (the released bitstream leaves it open).
    fn has_interrupt(&self) -> bool {
        true
    }

    fn arm_interrupt(&mut self) -> Result<()> {
        lock(&self.sim).irq_armed = true;
        Ok(())
    }

    /// Steps the clock until the interrupt line rises, the call has run past its cycle limit,
    /// or `timeout` of wall-clock time has passed.
    fn wait_interrupt(&mut self, timeout: Duration) -> Result<bool> {
        let start = Instant::now();
        let mut s = lock(&self.sim);
        loop {
            if s.irq_armed && s.irq() {
                s.irq_armed = false; // masked until re-armed, like uio_pdrv_genirq
                return Ok(true);
            }
            let overdue = s
                .running_for()
                .is_some_and(|n| n > s.options.max_call_cycles);
            if overdue || s.error().is_some() || start.elapsed() >= timeout {
                return Ok(false);
            }
            if s.irq_armed {
                let chunk = 64 * s.options.poll_cycles;
                // SAFETY: `ptr` is a live model, used by no one else while the lock is held.
                unsafe { ffi::w1a3_wait_irq(s.ptr.as_ptr(), chunk) };
            } else {
                // Masked: time passes, nothing is delivered.
                let n = s.options.poll_cycles;
                s.step(n);
            }
        }
    }
}

/// The model's physical memory.
pub struct RtlMemory {
    sim: Arc<Mutex<Sim>>,
}

/// A range of the model's arena; freed when dropped.
pub struct RtlBuffer {
    sim: Arc<Mutex<Sim>>,
    slot: Slot,
}

impl PhysMemory for RtlMemory {
    type Buffer = RtlBuffer;

    fn alloc(&self, len: usize) -> Result<RtlBuffer> {
        let mut s = lock(&self.sim);
        let slot = s.arena.alloc(len)?;
        Ok(RtlBuffer {
            sim: Arc::clone(&self.sim),
            slot,
        })
    }

    fn device(&self) -> String {
        DEVICE.into()
    }
}

impl RtlBuffer {
    fn check_range(&self, what: &'static str, offset: usize, len: usize) -> Result<()> {
        let phys = self.slot.phys;
        let buffer = || format!("{DEVICE} buffer at 0x{phys:X}");
        self.slot.check(buffer, what, offset, len)
    }
}

impl DmaBuffer for RtlBuffer {
    fn phys_addr(&self) -> u64 {
        self.slot.phys
    }

    fn len(&self) -> usize {
        self.slot.len
    }

    fn write(&mut self, offset: usize, data: &[u8]) -> Result<()> {
        self.check_range("write", offset, data.len())?;
        let s = lock(&self.sim);
        // SAFETY: the arena placed [slot.offset, slot.offset + slot.len) inside its
        // `arena_bytes` bytes and check_range kept the copy inside that; the model touches
        // the arena only inside API calls, which the held lock excludes; `data` is Rust memory,
        // not the arena, so the ranges do not overlap.
        unsafe {
            let dst = s.mem.as_ptr().add(self.slot.offset + offset);
            std::ptr::copy_nonoverlapping(data.as_ptr(), dst, data.len());
        }
        Ok(())
    }

    fn read(&self, offset: usize, out: &mut [u8]) -> Result<()> {
        self.check_range("read", offset, out.len())?;
        let s = lock(&self.sim);
        // SAFETY: as in `write`, with source and destination swapped.
        unsafe {
            let src = s.mem.as_ptr().add(self.slot.offset + offset);
            std::ptr::copy_nonoverlapping(src, out.as_mut_ptr(), out.len());
        }
        Ok(())
    }

    /// The arena is plain memory that the model reads at its accesses: nothing to flush.
    fn sync_for_device(&mut self) -> Result<()> {
        Ok(())
    }

    fn sync_for_cpu(&mut self) -> Result<()> {
        Ok(())
    }
}

impl Drop for RtlBuffer {
    fn drop(&mut self) {
        lock(&self.sim).arena.free(&self.slot);
    }
}
