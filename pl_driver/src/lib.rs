//! Driver of the W1A3 engine in the PL (the QNN-MO-PYNQ `BlackBoxJam` offload engine), as
//! docs/register-map.md specifies it.
//!
//! - [`regs`]: the register offsets and bits, named once.
//! - [`hw`]: what a platform provides: a register window and physically addressed DMA memory.
//! - [`driver`]: the call sequence (weight loading, compute per pass, completion with a
//!   time-out), written once against [`hw`].
//! - Backends: [`uio`] + [`udmabuf`] on the board, [`model`] (a bit-exact software engine) on a PC.
//! - [`runner`]: a `SegmentRunner` that falls back to the CPU, with a warning, when a call fails.

pub mod alloc;
pub mod driver;
pub mod error;
pub mod hw;
pub mod layout;
pub mod model;
pub mod regs;
pub mod runner;
pub mod sysfs;
pub mod udmabuf;
pub mod uio;

pub use driver::{Driver, DriverConfig};
pub use error::{Error, Result};
pub use hw::{DmaBuffer, PhysMemory, RegisterWindow};
pub use model::EngineModel;
pub use runner::{PlRunner, RunnerStats};

/// The host backend: the driver over a fresh engine model.
pub type ModelRunner = PlRunner<model::ModelRegisters, model::ModelMemory>;
/// The board backend.
pub type UioRunner = PlRunner<uio::UioDevice, udmabuf::Udmabuf>;

/// A runner over a new engine model, and the model (to inspect it).
pub fn model_runner(config: DriverConfig) -> Result<(ModelRunner, EngineModel)> {
    let model = EngineModel::new();
    let driver = Driver::new(model.registers(), model.memory(), config)?;
    Ok((PlRunner::new(driver), model))
}

/// A runner over the engine found through UIO, with buffers from u-dma-buf.
pub fn uio_runner(
    uio: &uio::UioOptions,
    dma: &udmabuf::UdmabufOptions,
    config: DriverConfig,
) -> Result<UioRunner> {
    let regs = uio::UioDevice::open(uio)?;
    let mem = udmabuf::Udmabuf::open(dma)?;
    Ok(PlRunner::new(Driver::new(regs, mem, config)?))
}
