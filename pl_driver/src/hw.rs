//! What the driver needs from a platform: a register window and physically addressed memory.
//! The board implements them with UIO and u-dma-buf, the host with the engine model; the driver
//! above them is the same code.

use crate::error::{Error, Result};
use std::time::Duration;

/// The engine's register window, addressed by byte offsets (see [`crate::regs`]).
pub trait RegisterWindow {
    /// Reads a 32-bit register. Takes `&mut self` because reads have side effects
    /// (`ap_done` is clear-on-read).
    fn read32(&mut self, offset: u32) -> Result<u32>;
    fn write32(&mut self, offset: u32, value: u32) -> Result<()>;
    /// What to call the device in messages, e.g. `BlackBoxJam (/dev/uio0)`.
    fn device(&self) -> String;
    /// Fails when the device is no longer usable (its file vanished, the model faulted); the
    /// driver asks while it waits, so that such a device gives an error instead of a hang.
    fn check(&mut self) -> Result<()> {
        Ok(())
    }
    /// Whether completion can be waited for by interrupt.
    fn has_interrupt(&self) -> bool {
        false
    }
    /// Unmasks the interrupt (UIO: write 1); needed after each interrupt is taken.
    fn arm_interrupt(&mut self) -> Result<()> {
        Ok(())
    }
    /// Waits up to `timeout` for the interrupt: `Ok(true)` when it fired, `Ok(false)` on time-out.
    fn wait_interrupt(&mut self, timeout: Duration) -> Result<bool> {
        let _ = timeout;
        Err(Error::Interrupt {
            device: self.device(),
            message: "this device has no interrupt".into(),
        })
    }
}

/// Physically contiguous memory that the engine reads and writes by physical address.
pub trait PhysMemory {
    type Buffer: DmaBuffer;
    /// A buffer of at least `len` bytes.
    fn alloc(&self, len: usize) -> Result<Self::Buffer>;
    fn device(&self) -> String;
}

/// One allocation. Transfers between the CPU and the engine need the explicit syncs: write, then
/// `sync_for_device` before the engine reads; `sync_for_cpu` after the engine wrote, then read.
pub trait DmaBuffer {
    fn phys_addr(&self) -> u64;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn write(&mut self, offset: usize, data: &[u8]) -> Result<()>;
    fn read(&self, offset: usize, out: &mut [u8]) -> Result<()>;
    fn sync_for_device(&mut self) -> Result<()>;
    fn sync_for_cpu(&mut self) -> Result<()>;
}
