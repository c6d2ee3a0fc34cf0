//! The driver: runs a segment of binarized layers on the engine through a [`RegisterWindow`] and
//! a [`PhysMemory`], following the call sequence of docs/register-map.md. Written once for every
//! backend.
//!
//! Per step (a convolution and its optional pool) and pass: an init call that loads the pass's
//! weights from two DMA buffers (built once per pass and kept), then a compute call. Activations
//! stay in DMA memory between steps: one step's output buffer is the next step's input, except
//! after a layer of several passes, whose per-pass outputs the host concatenates.

use crate::error::{Error, Result};
use crate::hw::{DmaBuffer, PhysMemory, RegisterWindow};
use crate::layout::{self, BANKS, KERNEL_SIZES, MAX_DIM};
use crate::regs;
use darknet_port::layers::{BinaryConv, QTensor};
use darknet_port::network::{Segment, SegmentStep, StepKind, Timings};
use darknet_port::qnn_layout::{self, ACTIVATION_BITS, BYTES_PER_PIXEL, MAX_IN_CHANNELS};
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriverConfig {
    /// Longest wait for one call's `ap_done`. The slowest Tinier-YOLO call takes a few ms on the
    /// board; a second means the engine is stuck.
    pub timeout: Duration,
    /// Wait by interrupt when the device has one; otherwise poll AP_CTRL.
    pub interrupts: bool,
}

impl Default for DriverConfig {
    fn default() -> Self {
        DriverConfig {
            timeout: Duration::from_secs(1),
            interrupts: false,
        }
    }
}

/// The register values of one compute call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallGeometry {
    pub layer_type: u32,
    pub kernel: usize,
    pub stride_log2: u32,
    pub ifm_ch: usize,
    /// Output channels of one pass.
    pub ofm_ch: usize,
    pub passes: usize,
    pub ifm_dim: usize,
    pub padded_dim: usize,
    pub ofm_dim: usize,
    pub pool_in_dim: usize,
    pub pool_out_dim: usize,
    pub pool_stride_log2: u32,
}

impl CallGeometry {
    /// The calls of `step` on a `dim` x `dim` input, or why the engine cannot run it.
    pub fn for_step(step: &SegmentStep, dim: usize) -> Result<CallGeometry> {
        let conv = step.conv;
        let unsupported = |message: String| Error::Unsupported {
            layer: step.layer,
            message,
        };
        if conv.bits != ACTIVATION_BITS {
            return Err(unsupported(format!(
                "{}-bit activations; the engine has {ACTIVATION_BITS}",
                conv.bits
            )));
        }
        if !KERNEL_SIZES.contains(&conv.size) {
            return Err(unsupported(format!(
                "kernel {0}x{0}; the engine runs 1x1 and 3x3",
                conv.size
            )));
        }
        if conv.in_channels == 0 || conv.in_channels > MAX_IN_CHANNELS {
            return Err(unsupported(format!(
                "{} input channels; the engine takes 1..={MAX_IN_CHANNELS}",
                conv.in_channels
            )));
        }
        if conv.out_channels > MAX_IN_CHANNELS {
            // The activation buffers hold MAX_IN_CHANNELS channels per pixel.
            return Err(unsupported(format!(
                "{} output channels do not fit the {MAX_IN_CHANNELS}-channel activation layout",
                conv.out_channels
            )));
        }
        let (passes, ofm_ch, _) = qnn_layout::passes(conv.out_channels).map_err(unsupported)?;
        let padded_dim = dim + 2 * (conv.size / 2);
        if dim == 0 || padded_dim > MAX_DIM {
            return Err(unsupported(format!(
                "a {dim}x{dim} input, padded to {padded_dim}; the engine takes at most {MAX_DIM}"
            )));
        }
        let ofm_dim = dim; // stride 1, same padding: what BinaryConv computes
        let (layer_type, pool_in_dim, pool_out_dim, pool_stride_log2) = match step.pool {
            None => (regs::LAYER_CONV, ofm_dim, ofm_dim, 0),
            Some(pool) => {
                // The engine's pool is 2x2 with stride 1 or 2 and pads only right and bottom,
                // which matches Darknet's pool when its padding puts nothing on the left.
                if pool.size != 2 || !(1..=2).contains(&pool.stride) || pool.padding > 1 {
                    return Err(unsupported(format!(
                        "max-pool size {} stride {} padding {}; the engine pools 2x2, stride 1 or 2, padding at most 1",
                        pool.size, pool.stride, pool.padding
                    )));
                }
                let out = pool.output_dim(ofm_dim);
                let pool_in = ofm_dim.max((out - 1) * pool.stride + 2);
                if pool_in > MAX_DIM {
                    return Err(unsupported(format!(
                        "max-pool input side {pool_in} exceeds {MAX_DIM}"
                    )));
                }
                (
                    regs::LAYER_CONV_POOL,
                    pool_in,
                    out,
                    pool.stride.trailing_zeros(),
                )
            }
        };
        Ok(CallGeometry {
            layer_type,
            kernel: conv.size,
            stride_log2: 0,
            ifm_ch: conv.in_channels,
            ofm_ch,
            passes,
            ifm_dim: dim,
            padded_dim,
            ofm_dim,
            pool_in_dim,
            pool_out_dim,
            pool_stride_log2,
        })
    }

    /// Side of the output the engine writes.
    pub fn out_dim(&self) -> usize {
        self.pool_out_dim
    }
}

/// Which pass's weights: the layer index, a fingerprint of its parameters (so that another
/// network's layer of the same index is not mistaken for it) and the pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct WeightKey {
    layer: usize,
    fingerprint: u64,
    pass: usize,
}

fn fingerprint(conv: &BinaryConv) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (conv.in_channels, conv.out_channels, conv.size, conv.bits).hash(&mut h);
    conv.weights.hash(&mut h);
    conv.thresholds.hash(&mut h);
    conv.invert.hash(&mut h);
    h.finish()
}

pub struct Driver<R: RegisterWindow, M: PhysMemory> {
    regs: R,
    mem: M,
    config: DriverConfig,
    /// Init buffers (IN1, IN2) of every pass seen, built once.
    weights: HashMap<WeightKey, [M::Buffer; BANKS]>,
    /// The pass whose weights the engine holds now; `None` when unknown (after a reset).
    loaded: Option<WeightKey>,
    /// Activation ping-pong buffers, grown on demand.
    act: [Option<M::Buffer>; 2],
    /// Outputs of the passes of a multi-pass layer.
    pass_out: Vec<M::Buffer>,
    /// Reused host memory for packing the input.
    staging: Vec<u8>,
}

/// How often a polling wait asks the device whether it is still there.
const CHECK_INTERVAL: Duration = Duration::from_millis(1);

/// Size of the staging buffer for packing: a few rows, small enough to stay in cache.
const STAGING_BYTES: usize = 256 << 10;

impl<R: RegisterWindow, M: PhysMemory> Driver<R, M> {
    pub fn new(regs: R, mem: M, config: DriverConfig) -> Result<Self> {
        let mut driver = Driver {
            regs,
            mem,
            config,
            weights: HashMap::new(),
            loaded: None,
            act: [None, None],
            pass_out: Vec::new(),
            staging: Vec::new(),
        };
        if driver.use_interrupts() {
            driver.enable_interrupts()?;
        }
        Ok(driver)
    }

    pub fn registers(&self) -> &R {
        &self.regs
    }

    pub fn registers_mut(&mut self) -> &mut R {
        &mut self.regs
    }

    pub fn memory(&self) -> &M {
        &self.mem
    }

    pub fn config(&self) -> DriverConfig {
        self.config
    }

    pub fn use_interrupts(&self) -> bool {
        self.config.interrupts && self.regs.has_interrupt()
    }

    fn enable_interrupts(&mut self) -> Result<()> {
        self.regs.write32(regs::GIE, regs::GIE_ENABLE)?;
        self.regs.write32(regs::IER, regs::IRQ_DONE)?;
        self.regs.arm_interrupt()
    }

    /// Runs every step of `segment` on the engine.
    pub fn run_segment(
        &mut self,
        segment: &Segment,
        input: &QTensor,
        timings: &mut Timings,
    ) -> Result<QTensor> {
        let Some(first_step) = segment.steps.first() else {
            return Ok(input.clone());
        };
        if input.height != input.width
            || input.channels != first_step.conv.in_channels
            || input.bits != ACTIVATION_BITS
        {
            return Err(Error::Unsupported {
                layer: first_step.layer,
                message: format!(
                    "input of {}x{} pixels, {} channels of {} bits; the engine takes a square map of {} {ACTIVATION_BITS}-bit channels",
                    input.height, input.width, input.channels, input.bits, first_step.conv.in_channels
                ),
            });
        }
        // Check every step before touching the engine, so a segment it cannot run fails fast.
        let mut geometry = Vec::with_capacity(segment.steps.len());
        let mut dim = input.height;
        for step in &segment.steps {
            let g = CallGeometry::for_step(step, dim)?;
            dim = g.out_dim();
            geometry.push(g);
        }

        let start = Instant::now();
        let mut cur = 0;
        let row = input.width * BYTES_PER_PIXEL;
        // Through a small reused buffer: no full-size copy, no fresh pages every frame.
        let rows = (STAGING_BYTES / row).max(1);
        let mut staging = std::mem::take(&mut self.staging);
        let buf = self.activation(cur, input.height * row)?;
        for first in (0..input.height).step_by(rows) {
            let n = rows.min(input.height - first);
            staging.resize(n * row, 0);
            layout::pack_rows(input, first, &mut staging).map_err(|message| {
                Error::Unsupported {
                    layer: first_step.layer,
                    message,
                }
            })?;
            buf.write(first * row, &staging)?;
        }
        buf.sync_for_device()?;
        self.staging = staging;
        timings.push(None, StepKind::AcceleratorPack, start.elapsed());

        for (step, g) in segment.steps.iter().zip(&geometry) {
            let start = Instant::now();
            let next = 1 - cur;
            let out_bytes = layout::activation_bytes(g.out_dim());
            let in_phys = self.phys(cur)?;
            let out_phys = self.activation(next, out_bytes)?.phys_addr();
            let fp = fingerprint(step.conv);
            if g.passes == 1 {
                self.load_weights(step, fp, 0)?;
                self.compute(step, g, 0, in_phys, out_phys)?;
            } else {
                while self.pass_out.len() < g.passes {
                    self.pass_out.push(self.mem.alloc(out_bytes)?);
                }
                for pass in 0..g.passes {
                    if self.pass_out[pass].len() < out_bytes {
                        self.pass_out[pass] = self.mem.alloc(out_bytes)?;
                    }
                    let phys = self.pass_out[pass].phys_addr();
                    self.load_weights(step, fp, pass)?;
                    self.compute(step, g, pass, in_phys, phys)?;
                }
                self.concatenate(g, next)?;
            }
            cur = next;
            let kind = StepKind::Accelerated {
                pooled: step.pool.is_some(),
            };
            timings.push(Some(step.layer), kind, start.elapsed());
        }

        let start = Instant::now();
        let last = segment.steps.last().map_or(first_step, |s| s);
        let dim = geometry.last().map_or(input.height, CallGeometry::out_dim);
        let mut bytes = vec![0u8; layout::activation_bytes(dim)];
        let buf = self.activation(cur, bytes.len())?;
        buf.sync_for_cpu()?;
        buf.read(0, &mut bytes)?;
        let out =
            layout::unpack_activations(&bytes, dim, last.conv.out_channels).map_err(|message| {
                Error::Unsupported {
                    layer: last.layer,
                    message,
                }
            })?;
        timings.push(None, StepKind::AcceleratorUnpack, start.elapsed());
        Ok(out)
    }

    /// Ping-pong buffer `i`, at least `len` bytes.
    fn activation(&mut self, i: usize, len: usize) -> Result<&mut M::Buffer> {
        let slot = &mut self.act[i];
        let buf = match slot.take() {
            Some(b) if b.len() >= len => b,
            old => {
                drop(old); // free first: the region may not hold both
                self.mem.alloc(len)?
            }
        };
        Ok(slot.insert(buf))
    }

    fn phys(&self, i: usize) -> Result<u64> {
        self.act[i]
            .as_ref()
            .map(|b| b.phys_addr())
            .ok_or_else(|| self.missing_buffer())
    }

    fn missing_buffer(&self) -> Error {
        Error::EngineFault {
            device: self.mem.device(),
            message: "activation buffer not allocated".into(),
        }
    }

    /// Builds (once) and loads the weights of `pass` of `step`, unless the engine holds them.
    fn load_weights(&mut self, step: &SegmentStep, fp: u64, pass: usize) -> Result<()> {
        let key = WeightKey {
            layer: step.layer,
            fingerprint: fp,
            pass,
        };
        if self.loaded == Some(key) {
            return Ok(());
        }
        let banks = match self.weights.entry(key) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let build = |bank: usize| -> Result<M::Buffer> {
                    let words = layout::weight_bank(step.conv, pass, bank).map_err(|message| {
                        Error::Unsupported {
                            layer: step.layer,
                            message,
                        }
                    })?;
                    let bytes = layout::words_to_bytes(&words);
                    let mut buf = self.mem.alloc(bytes.len())?;
                    buf.write(0, &bytes)?;
                    buf.sync_for_device()?;
                    Ok(buf)
                };
                e.insert([build(0)?, build(1)?])
            }
        };
        let (in1, in2) = (banks[0].phys_addr(), banks[1].phys_addr());
        // The engine's memories are about to change: until this call completes, nothing is loaded.
        self.loaded = None;
        self.write_addr(regs::IN1_LO, regs::IN1_HI, in1)?;
        self.write_addr(regs::IN2_LO, regs::IN2_HI, in2)?;
        self.regs.write32(regs::DO_INIT, 1)?;
        self.regs.write32(regs::LAYER_TYPE, regs::LAYER_CONV)?;
        self.regs.write32(regs::KERNEL_DIM, step.conv.size as u32)?;
        self.start(&format!("init of layer {} pass {pass}", step.layer))?;
        self.loaded = Some(key);
        Ok(())
    }

    fn compute(
        &mut self,
        step: &SegmentStep,
        g: &CallGeometry,
        pass: usize,
        in_phys: u64,
        out_phys: u64,
    ) -> Result<()> {
        self.regs.write32(regs::DO_INIT, 0)?;
        self.write_addr(regs::IN1_LO, regs::IN1_HI, in_phys)?;
        self.write_addr(regs::OUT_LO, regs::OUT_HI, out_phys)?;
        for (reg, value) in [
            (regs::LAYER_TYPE, g.layer_type),
            (regs::KERNEL_DIM, g.kernel as u32),
            (regs::STRIDE, g.stride_log2),
            (regs::IFM_CH, g.ifm_ch as u32),
            (regs::OFM_CH, g.ofm_ch as u32),
            (regs::IFM_DIM, g.ifm_dim as u32),
            (regs::PADDED_DIM, g.padded_dim as u32),
            (regs::OFM_DIM, g.ofm_dim as u32),
            (regs::POOL_IN_DIM, g.pool_in_dim as u32),
            (regs::POOL_OUT_DIM, g.pool_out_dim as u32),
            (regs::POOL_STRIDE, g.pool_stride_log2),
        ] {
            self.regs.write32(reg, value)?;
        }
        self.start(&format!("compute of layer {} pass {pass}", step.layer))
    }

    /// Pass p's channels go to bits `3*ofm_ch*p..` of each pixel: whole bytes, since a pass
    /// is a multiple of 32 channels.
    fn concatenate(&mut self, g: &CallGeometry, into: usize) -> Result<()> {
        let dim = g.out_dim();
        let bytes = layout::activation_bytes(dim);
        let span = g.ofm_ch * ACTIVATION_BITS / 8;
        let mut joined = vec![0u8; bytes];
        let mut part = vec![0u8; bytes];
        for pass in 0..g.passes {
            let buf = &mut self.pass_out[pass];
            buf.sync_for_cpu()?;
            buf.read(0, &mut part)?;
            for (dst, src) in joined
                .chunks_exact_mut(BYTES_PER_PIXEL)
                .zip(part.chunks_exact(BYTES_PER_PIXEL))
            {
                dst[pass * span..(pass + 1) * span].copy_from_slice(&src[..span]);
            }
        }
        let buf = self.activation(into, bytes)?;
        buf.write(0, &joined)?;
        buf.sync_for_device()
    }

    fn write_addr(&mut self, lo: u32, hi: u32, addr: u64) -> Result<()> {
        self.regs.write32(lo, addr as u32)?;
        self.regs.write32(hi, (addr >> 32) as u32)
    }

    /// Starts a call and waits for its `ap_done`.
    fn start(&mut self, call: &str) -> Result<()> {
        let ctrl = self.regs.read32(regs::AP_CTRL)?;
        if ctrl & regs::AP_IDLE == 0 {
            return Err(Error::Busy {
                device: self.regs.device(),
                register: regs::describe(regs::AP_CTRL),
                value: ctrl,
                call: call.to_string(),
            });
        }
        self.regs.write32(regs::AP_CTRL, regs::AP_START)?;
        if self.use_interrupts() {
            self.wait_interrupt(call)
        } else {
            self.poll_done(call)
        }
    }

    fn timeout(&self, last: u32, waited: Duration, call: &str) -> Error {
        Error::Timeout {
            device: self.regs.device(),
            register: regs::describe(regs::AP_CTRL),
            last,
            waited,
            call: call.to_string(),
        }
    }

    fn poll_done(&mut self, call: &str) -> Result<()> {
        let start = Instant::now();
        let mut polls = 0u32;
        let mut checked: Option<Instant> = None;
        loop {
            let ctrl = self.regs.read32(regs::AP_CTRL)?;
            if ctrl & regs::AP_DONE != 0 {
                return Ok(());
            }
            // A vanished device or a faulted model must not look like a slow engine; checking
            // costs system calls, so not at every poll.
            if checked.is_none_or(|t| t.elapsed() >= CHECK_INTERVAL) {
                self.regs.check()?;
                checked = Some(Instant::now());
            }
            let waited = start.elapsed();
            if waited >= self.config.timeout {
                return Err(self.timeout(ctrl, waited, call));
            }
            polls += 1;
            // Spin briefly (most calls end within microseconds to milliseconds), then back off.
            if polls < 1000 {
                std::hint::spin_loop();
            } else {
                std::thread::sleep(Duration::from_micros(50));
            }
        }
    }

    fn wait_interrupt(&mut self, call: &str) -> Result<()> {
        let start = Instant::now();
        loop {
            let remaining = self.config.timeout.saturating_sub(start.elapsed());
            let fired = self.regs.wait_interrupt(remaining)?;
            let ctrl = self.regs.read32(regs::AP_CTRL)?;
            if fired {
                // Acknowledge (ISR is toggle-on-write), then unmask the UIO interrupt again.
                let isr = self.regs.read32(regs::ISR)?;
                if isr != 0 {
                    self.regs.write32(regs::ISR, isr)?;
                }
                self.regs.arm_interrupt()?;
            }
            if ctrl & regs::AP_DONE != 0 {
                return Ok(());
            }
            self.regs.check()?;
            let waited = start.elapsed();
            if waited >= self.config.timeout {
                return Err(self.timeout(ctrl, waited, call));
            }
        }
    }

    /// Recovers after a failed call, as far as the HLS control interface allows: it has no
    /// reset register (only a PL reset or reprogramming stops a stuck engine), so this clears
    /// AP_CTRL (start, auto-restart), acknowledges pending interrupts, and forgets which weights
    /// the engine holds so that the next call loads them again. A still-stuck engine is then
    /// reported as busy at the next start, without waiting for another time-out.
    pub fn reset(&mut self) -> Result<()> {
        self.loaded = None;
        self.regs.write32(regs::AP_CTRL, 0)?;
        let isr = self.regs.read32(regs::ISR)?;
        if isr != 0 {
            self.regs.write32(regs::ISR, isr)?;
        }
        if self.use_interrupts() {
            self.enable_interrupts()?;
        }
        Ok(())
    }
}
