//! Host backend: a software model of the engine behind the same register file and the same
//! physical addresses as the board, so that host mode runs the real driver.
//!
//! Physical memory is an arena of DMA buffers at [`ARENA_BASE`] (above 4 GiB, so the `_HI`
//! address registers matter). A write of `ap_start` executes the call at once, bit-exactly with
//! `darknet_port`'s kernels:
//! - DO_INIT = 1 reads the two init buffers (IN1, IN2) into per-PE weight and threshold memories;
//! - DO_INIT = 0 rebuilds the pass's `BinaryConv` from those memories (cached), reads IFM_DIM^2
//!   pixels at IN1, convolves, pools when LAYER_TYPE = 2, writes the result at OUT, sets ap_done.
//!
//! The model is stricter than the hardware where that finds driver bugs: it rejects register
//! values outside the documented ranges, buffers that are not allocated, and CPU/engine accesses
//! without the cache syncs between them (see [`crate::hw::DmaBuffer`]). A rejected call reports a
//! fault through [`RegisterWindow::check`] and never sets ap_done. It can also be told to hang.

use crate::alloc::{Arena, Slot, HOST_ARENA_BASE};
use crate::error::{Error, Result};
use crate::hw::{DmaBuffer, PhysMemory, RegisterWindow};
use crate::layout::{self, KERNEL_SIZES, MAX_DIM, PES_PER_BANK, TMEM_WORDS};
use crate::regs;
use darknet_port::layers::{BinaryConv, MaxPool};
use darknet_port::qnn_layout::{self, MAX_IN_CHANNELS, MAX_OUT_CHANNELS_PER_PASS, PE_COUNT};
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Physical address of the model's first buffer.
pub const ARENA_BASE: u64 = HOST_ARENA_BASE;
/// Default arena size: more than Tinier-YOLO needs (about 12 MiB).
pub const DEFAULT_ARENA_SIZE: usize = 256 << 20;
const DEVICE: &str = "engine model";
/// Cached layers; one per pass of a network is plenty (Tinier-YOLO has 10).
const CONV_CACHE: usize = 32;

/// Counts of the calls the model executed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ModelCalls {
    pub inits: u64,
    pub computes: u64,
}

/// A handle on the model, shared by its register window, its memory and the test that drives
/// it; clones share the same engine.
#[derive(Clone)]
pub struct EngineModel {
    state: Arc<Mutex<State>>,
}

struct Allocation {
    data: Vec<u8>,
    /// Written by the CPU since its last sync_for_device.
    cpu_dirty: bool,
    /// Written by the engine since its last sync_for_cpu.
    engine_dirty: bool,
}

struct CachedConv {
    wmem: Vec<u64>,
    tmem: Vec<u64>,
    conv: BinaryConv,
}

/// The register writes the model keeps for [`EngineModel::take_writes`]: far more than a test
/// looks at, and a bound for a run that never takes them (the pipeline on the model backend):
/// kept whole, the log grew by about 2 MiB every 1,000 frames.
pub const WRITE_LOG_LIMIT: usize = 1 << 16;

struct State {
    regs: [u32; regs::REGISTER_SPAN / 4],
    busy: bool,
    done: bool,
    ready: bool,
    isr: u32,
    has_irq: bool,
    irq_armed: bool,
    /// Starts to accept before hanging; `Some(0)`: the next start hangs.
    hang_after: Option<u64>,
    fault: Option<String>,
    /// The register writes since the last `take_writes` (bounded, see [`WRITE_LOG_LIMIT`]).
    writes: Vec<(u32, u32)>,
    calls: ModelCalls,
    arena: Arena,
    allocations: BTreeMap<u64, Allocation>,
    /// PE memories: PE_COUNT x wmem_words(3), and PE_COUNT x TMEM_WORDS.
    wmem: Vec<u64>,
    tmem: Vec<u64>,
    /// KERNEL_DIM of the last init, which fixed the layout of `wmem`.
    loaded_k: Option<usize>,
    convs: HashMap<u64, CachedConv>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic elsewhere while holding the lock leaves plain data behind; keep using it.
    state.lock().unwrap_or_else(|e| e.into_inner())
}

impl Default for EngineModel {
    fn default() -> Self {
        EngineModel::new()
    }
}

impl EngineModel {
    pub fn new() -> EngineModel {
        EngineModel::with_arena(DEFAULT_ARENA_SIZE)
    }

    /// A model whose physical memory holds `size` bytes.
    pub fn with_arena(size: usize) -> EngineModel {
        let wmem_max = layout::wmem_words(3);
        EngineModel {
            state: Arc::new(Mutex::new(State {
                regs: [0; regs::REGISTER_SPAN / 4],
                busy: false,
                done: false,
                ready: false,
                isr: 0,
                has_irq: false,
                irq_armed: false,
                hang_after: None,
                fault: None,
                writes: Vec::new(),
                calls: ModelCalls::default(),
                arena: Arena::new(DEVICE, ARENA_BASE, size),
                allocations: BTreeMap::new(),
                wmem: vec![0; PE_COUNT * wmem_max],
                tmem: vec![0; PE_COUNT * TMEM_WORDS],
                loaded_k: None,
                convs: HashMap::new(),
            })),
        }
    }

    /// Gives the model an interrupt line, as a device tree that wires `interrupt` would.
    pub fn with_interrupt(self) -> EngineModel {
        lock(&self.state).has_irq = true;
        self
    }

    pub fn registers(&self) -> ModelRegisters {
        ModelRegisters {
            state: Arc::clone(&self.state),
        }
    }

    pub fn memory(&self) -> ModelMemory {
        ModelMemory {
            state: Arc::clone(&self.state),
        }
    }

    /// Accept `calls` more starts, then hang on the next one: it never sets ap_done and the engine
    /// stays busy until [`EngineModel::release`]. `None` stops hanging in the future.
    pub fn hang_after(&self, calls: Option<u64>) {
        lock(&self.state).hang_after = calls;
    }

    /// Ends a hung call (as a PL reset would) and stops hanging.
    pub fn release(&self) {
        let mut s = lock(&self.state);
        s.hang_after = None;
        s.busy = false;
    }

    /// Register writes since the last call, in order, as (offset, value): all of them up to
    /// [`WRITE_LOG_LIMIT`], and at least the newest half of that beyond.
    pub fn take_writes(&self) -> Vec<(u32, u32)> {
        std::mem::take(&mut lock(&self.state).writes)
    }

    pub fn calls(&self) -> ModelCalls {
        lock(&self.state).calls
    }

    /// Bytes allocated in the arena now.
    pub fn allocated(&self) -> usize {
        lock(&self.state)
            .allocations
            .values()
            .map(|a| a.data.len())
            .sum()
    }
}

/// The model's register window.
pub struct ModelRegisters {
    state: Arc<Mutex<State>>,
}

/// The model's physical memory.
pub struct ModelMemory {
    state: Arc<Mutex<State>>,
}

/// A buffer in the model's arena; freed when dropped.
pub struct ModelBuffer {
    state: Arc<Mutex<State>>,
    slot: Slot,
}

fn check_offset(offset: u32) -> Result<()> {
    regs::check_offset(offset, regs::WINDOW_SIZE, || DEVICE.into())
}

impl RegisterWindow for ModelRegisters {
    fn read32(&mut self, offset: u32) -> Result<u32> {
        check_offset(offset)?;
        let mut s = lock(&self.state);
        Ok(match offset {
            regs::AP_CTRL => {
                let mut v = s.regs[0] & regs::AUTO_RESTART;
                if s.busy {
                    v |= regs::AP_START;
                } else {
                    v |= regs::AP_IDLE;
                }
                if std::mem::take(&mut s.done) {
                    v |= regs::AP_DONE;
                }
                if std::mem::take(&mut s.ready) {
                    v |= regs::AP_READY;
                }
                v
            }
            regs::ISR => s.isr,
            regs::GIE | regs::IER => s.regs[offset as usize / 4],
            // The argument registers are write-only on the released engine: reading them back
            // tells a driver nothing, so the model gives nothing.
            _ => 0,
        })
    }

    fn write32(&mut self, offset: u32, value: u32) -> Result<()> {
        check_offset(offset)?;
        let mut s = lock(&self.state);
        if s.writes.len() >= WRITE_LOG_LIMIT {
            s.writes.drain(..WRITE_LOG_LIMIT / 2);
        }
        s.writes.push((offset, value));
        match offset {
            regs::AP_CTRL => {
                s.regs[0] = value & regs::AUTO_RESTART;
                if value & regs::AP_START != 0 && !s.busy {
                    s.start();
                }
            }
            regs::ISR => s.isr ^= value & (regs::IRQ_DONE | regs::IRQ_READY),
            o if (o as usize) < regs::REGISTER_SPAN => s.regs[o as usize / 4] = value,
            _ => {}
        }
        Ok(())
    }

    fn device(&self) -> String {
        DEVICE.into()
    }

    fn check(&mut self) -> Result<()> {
        match lock(&self.state).fault.take() {
            Some(message) => Err(Error::EngineFault {
                device: DEVICE.into(),
                message,
            }),
            None => Ok(()),
        }
    }

    fn has_interrupt(&self) -> bool {
        lock(&self.state).has_irq
    }

    fn arm_interrupt(&mut self) -> Result<()> {
        let mut s = lock(&self.state);
        if !s.has_irq {
            return Err(self.no_irq());
        }
        s.irq_armed = true;
        Ok(())
    }

    fn wait_interrupt(&mut self, timeout: Duration) -> Result<bool> {
        {
            let mut s = lock(&self.state);
            if !s.has_irq {
                return Err(self.no_irq());
            }
            if s.irq_armed && s.irq_line() {
                s.irq_armed = false; // masked until re-armed, like uio_pdrv_genirq
                return Ok(true);
            }
        }
        // Calls run synchronously, so nothing can arrive but a release from another thread.
        std::thread::sleep(timeout);
        let mut s = lock(&self.state);
        let fired = s.irq_armed && s.irq_line();
        if fired {
            s.irq_armed = false;
        }
        Ok(fired)
    }
}

impl ModelRegisters {
    fn no_irq(&self) -> Error {
        Error::Interrupt {
            device: DEVICE.into(),
            message: "the model was built without an interrupt line".into(),
        }
    }
}

impl State {
    fn reg(&self, offset: u32) -> u32 {
        self.regs[offset as usize / 4]
    }

    fn addr(&self, lo: u32, hi: u32) -> u64 {
        u64::from(self.reg(lo)) | (u64::from(self.reg(hi)) << 32)
    }

    fn irq_line(&self) -> bool {
        self.reg(regs::GIE) & regs::GIE_ENABLE != 0 && self.isr != 0
    }

    fn start(&mut self) {
        if let Some(n) = self.hang_after {
            if n == 0 {
                self.busy = true; // never finishes
                return;
            }
            self.hang_after = Some(n - 1);
        }
        let result = if self.reg(regs::DO_INIT) & 1 == 1 {
            self.init()
        } else {
            self.compute()
        };
        match result {
            Ok(()) => {
                self.done = true;
                self.ready = true;
                let enabled = self.reg(regs::IER);
                self.isr |= enabled & (regs::IRQ_DONE | regs::IRQ_READY);
            }
            Err(message) => self.fault = Some(message),
        }
    }

    /// The bytes at physical [addr, addr+len), named `what` in messages.
    fn region(&self, what: &str, addr: u64, len: usize) -> Result<(u64, usize), String> {
        let outside = || {
            format!("{what} = 0x{addr:X}: {len} bytes there are not inside one allocated buffer")
        };
        let (&base, a) = self
            .allocations
            .range(..=addr)
            .next_back()
            .ok_or_else(outside)?;
        let off = (addr - base) as usize;
        if off + len > a.data.len() {
            return Err(outside());
        }
        Ok((base, off))
    }

    fn read_region(&self, what: &str, addr: u64, len: usize) -> Result<&[u8], String> {
        let (base, off) = self.region(what, addr, len)?;
        let a = self.allocations.get(&base).ok_or("allocation vanished")?;
        if a.cpu_dirty {
            return Err(format!(
                "{what} = 0x{addr:X}: the buffer was written by the CPU without sync_for_device"
            ));
        }
        Ok(&a.data[off..off + len])
    }

    fn init(&mut self) -> Result<(), String> {
        let k = self.reg(regs::KERNEL_DIM) as usize;
        if !KERNEL_SIZES.contains(&k) {
            return Err(format!(
                "{} = {k} on init: the engine loads weights for K = 1 or 3",
                regs::describe(regs::KERNEL_DIM)
            ));
        }
        let (wmem, wmax) = (layout::wmem_words(k), layout::wmem_words(3));
        let len = layout::bank_bytes(k);
        // IN1 feeds PEs 0..16, IN2 PEs 16..32.
        for (bank, (lo, hi)) in [(regs::IN1_LO, regs::IN1_HI), (regs::IN2_LO, regs::IN2_HI)]
            .into_iter()
            .enumerate()
        {
            let addr = self.addr(lo, hi);
            let words = layout::bytes_to_words(self.read_region(
                regs::name(lo).unwrap_or("IN"),
                addr,
                len,
            )?);
            for i in 0..PES_PER_BANK {
                let pe = bank * PES_PER_BANK + i;
                let (w, t) = layout::bank_pe(&words, k, i);
                self.wmem[pe * wmax..pe * wmax + wmem].copy_from_slice(w);
                self.tmem[pe * TMEM_WORDS..(pe + 1) * TMEM_WORDS].copy_from_slice(t);
            }
        }
        self.loaded_k = Some(k);
        self.calls.inits += 1;
        Ok(())
    }

    fn compute(&mut self) -> Result<(), String> {
        let r = |o: u32| self.reg(o) as usize;
        let bad = |o: u32, why: &str| format!("{} = {}: {why}", regs::describe(o), self.reg(o));
        let (k, ifm_ch, ofm_ch) = (r(regs::KERNEL_DIM), r(regs::IFM_CH), r(regs::OFM_CH));
        let (ifm_dim, padded, ofm_dim) = (r(regs::IFM_DIM), r(regs::PADDED_DIM), r(regs::OFM_DIM));
        let layer_type = self.reg(regs::LAYER_TYPE);
        if !KERNEL_SIZES.contains(&k) {
            return Err(bad(regs::KERNEL_DIM, "K must be 1 or 3"));
        }
        if self.loaded_k != Some(k) {
            return Err(match self.loaded_k {
                None => "compute before any weights were loaded (DO_INIT = 1 call)".into(),
                Some(l) => format!("weights were loaded for K = {l}, the call has K = {k}"),
            });
        }
        if self.reg(regs::STRIDE) != 0 {
            return Err(bad(regs::STRIDE, "the model runs stride 1 only"));
        }
        if ifm_ch == 0 || ifm_ch > MAX_IN_CHANNELS {
            return Err(bad(regs::IFM_CH, "must be 1..=512"));
        }
        if ofm_ch == 0 || ofm_ch > MAX_OUT_CHANNELS_PER_PASS || ofm_ch % PE_COUNT != 0 {
            return Err(bad(regs::OFM_CH, "must be a multiple of 32, at most 256"));
        }
        if ifm_dim == 0 || padded != ifm_dim + 2 * (k / 2) || padded > MAX_DIM {
            return Err(bad(
                regs::PADDED_DIM,
                "must be IFM_DIM + 2*(K/2), at most 210",
            ));
        }
        if ofm_dim != ifm_dim {
            return Err(bad(regs::OFM_DIM, "must equal IFM_DIM (stride 1)"));
        }
        let pool = match layer_type {
            regs::LAYER_CONV => None,
            regs::LAYER_CONV_POOL => {
                let stride_log2 = self.reg(regs::POOL_STRIDE);
                let (pin, pout) = (r(regs::POOL_IN_DIM), r(regs::POOL_OUT_DIM));
                if stride_log2 > 1 {
                    return Err(bad(regs::POOL_STRIDE, "must be 0 or 1"));
                }
                if pin < ofm_dim || pin > ofm_dim + 1 || pin > MAX_DIM {
                    return Err(bad(regs::POOL_IN_DIM, "must be OFM_DIM or OFM_DIM + 1"));
                }
                let pool = MaxPool {
                    size: 2,
                    stride: 1 << stride_log2,
                    padding: pin - ofm_dim,
                };
                if pool.output_dim(ofm_dim) != pout {
                    return Err(bad(
                        regs::POOL_OUT_DIM,
                        &format!(
                            "a 2x2 pool of {pin} pixels gives {}",
                            pool.output_dim(ofm_dim)
                        ),
                    ));
                }
                Some(pool)
            }
            _ => return Err(bad(regs::LAYER_TYPE, "must be 1 (conv) or 2 (conv + pool)")),
        };

        let conv = self.conv(k, ifm_ch, ofm_ch)?;
        let in_addr = self.addr(regs::IN1_LO, regs::IN1_HI);
        let bytes = self.read_region("IN1", in_addr, layout::activation_bytes(ifm_dim))?;
        let input = layout::unpack_activations(bytes, ifm_dim, ifm_ch)?;
        let mut out = conv.forward(&input);
        if let Some(pool) = pool {
            out = pool.forward_quantized(&out);
        }
        let out_addr = self.addr(regs::OUT_LO, regs::OUT_HI);
        let len = layout::activation_bytes(out.height);
        let (base, off) = self.region("OUT", out_addr, len)?;
        let a = self
            .allocations
            .get_mut(&base)
            .ok_or("allocation vanished")?;
        layout::pack_rows(&out, 0, &mut a.data[off..off + len])?;
        a.engine_dirty = true;
        self.calls.computes += 1;
        Ok(())
    }

    /// The pass's layer as the PE memories hold it, for this call's shape; cached because a
    /// frame reloads the same few passes over and over.
    fn conv(&mut self, k: usize, ifm_ch: usize, ofm_ch: usize) -> Result<BinaryConv, String> {
        let wmax = layout::wmem_words(3);
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (k, ifm_ch, ofm_ch).hash(&mut h);
        self.wmem.hash(&mut h);
        self.tmem.hash(&mut h);
        let key = h.finish();
        if let Some(c) = self.convs.get(&key) {
            // Compare the memories too: a hash collision must not run the wrong weights.
            let same_shape =
                (c.conv.size, c.conv.in_channels, c.conv.out_channels) == (k, ifm_ch, ofm_ch);
            if same_shape && c.wmem == self.wmem && c.tmem == self.tmem {
                return Ok(c.conv.clone());
            }
        }
        let mut conv = qnn_layout::empty_layer(ifm_ch, ofm_ch, k);
        for pe in 0..PE_COUNT {
            qnn_layout::set_pe_words(
                &mut conv,
                0,
                pe,
                &self.wmem[pe * wmax..(pe + 1) * wmax],
                &self.tmem[pe * TMEM_WORDS..(pe + 1) * TMEM_WORDS],
            )?;
        }
        if self.convs.len() >= CONV_CACHE {
            self.convs.clear();
        }
        self.convs.insert(
            key,
            CachedConv {
                wmem: self.wmem.clone(),
                tmem: self.tmem.clone(),
                conv: conv.clone(),
            },
        );
        Ok(conv)
    }
}

impl PhysMemory for ModelMemory {
    type Buffer = ModelBuffer;

    fn alloc(&self, len: usize) -> Result<ModelBuffer> {
        let mut s = lock(&self.state);
        let slot = s.arena.alloc(len)?;
        s.allocations.insert(
            slot.phys,
            Allocation {
                data: vec![0; len],
                cpu_dirty: false,
                engine_dirty: false,
            },
        );
        Ok(ModelBuffer {
            state: Arc::clone(&self.state),
            slot,
        })
    }

    fn device(&self) -> String {
        DEVICE.into()
    }
}

impl ModelBuffer {
    fn check(&self, what: &'static str, offset: usize, len: usize) -> Result<()> {
        let phys = self.slot.phys;
        let buffer = || format!("{DEVICE} buffer at 0x{phys:X}");
        self.slot.check(buffer, what, offset, len)
    }

    fn with<T>(&self, f: impl FnOnce(&mut Allocation) -> T) -> Result<T> {
        let mut s = lock(&self.state);
        match s.allocations.get_mut(&self.slot.phys) {
            Some(a) => Ok(f(a)),
            None => Err(Error::Coherence {
                device: DEVICE.into(),
                phys: self.slot.phys,
                message: "not allocated".into(),
            }),
        }
    }
}

impl DmaBuffer for ModelBuffer {
    fn phys_addr(&self) -> u64 {
        self.slot.phys
    }

    fn len(&self) -> usize {
        self.slot.len
    }

    fn write(&mut self, offset: usize, data: &[u8]) -> Result<()> {
        self.check("write", offset, data.len())?;
        self.with(|a| {
            a.data[offset..offset + data.len()].copy_from_slice(data);
            a.cpu_dirty = true;
        })
    }

    fn read(&self, offset: usize, out: &mut [u8]) -> Result<()> {
        self.check("read", offset, out.len())?;
        let stale = self.with(|a| {
            if a.engine_dirty {
                return true;
            }
            out.copy_from_slice(&a.data[offset..offset + out.len()]);
            false
        })?;
        if stale {
            return Err(Error::Coherence {
                device: DEVICE.into(),
                phys: self.slot.phys,
                message: "read by the CPU after the engine wrote it, without sync_for_cpu".into(),
            });
        }
        Ok(())
    }

    fn sync_for_device(&mut self) -> Result<()> {
        self.with(|a| a.cpu_dirty = false)
    }

    fn sync_for_cpu(&mut self) -> Result<()> {
        self.with(|a| a.engine_dirty = false)
    }
}

impl Drop for ModelBuffer {
    fn drop(&mut self) {
        let mut s = lock(&self.state);
        s.allocations.remove(&self.slot.phys);
        s.arena.free(&self.slot);
    }
}
