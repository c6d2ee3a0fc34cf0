//! Driver of the W1A3 engine in the PL (the QNN-MO-PYNQ `BlackBoxJam` offload engine), as
//! docs/register-map.md specifies it.
//!
//! - [`regs`]: the register offsets and bits, named once.
//! - [`hw`]: what a platform provides: a register window and physically addressed DMA memory.
//! - [`driver`]: the call sequence (weight loading, compute per pass, completion with a
//!   time-out), written once against [`hw`].
//! - Backends: [`uio`] + [`udmabuf`] (or [`reserved`]) on the board, [`model`] (a bit-exact software engine) on a PC,
//!   and `rtl` (the Verilator model of overlay/'s RTL; built only when Verilator was found, see
//!   [`HAS_RTL`]).
//! - [`runner`]: a `SegmentRunner` that falls back to the CPU, with a warning, when a call fails.

pub mod alloc;
pub mod driver;
pub mod error;
pub mod hw;
pub mod layout;
pub mod model;
pub mod regs;
pub mod reserved;
#[cfg(rtl_backend)]
pub mod rtl;
pub mod runner;
pub mod sysfs;
pub mod udmabuf;
pub mod uio;

pub use driver::{Driver, DriverConfig};
pub use error::{Error, Result};
pub use hw::{DmaBuffer, PhysMemory, RegisterWindow};
pub use model::EngineModel;
pub use runner::{PlRunner, RunnerStats};

use darknet_port::network::SegmentRunner;

/// The host backend: the driver over a fresh engine model.
pub type ModelRunner = PlRunner<model::ModelRegisters, model::ModelMemory>;
/// The board backend.
pub type UioRunner = PlRunner<uio::UioDevice, reserved::DmaMemory>;

/// Whether this build has the RTL co-simulation backend (`rtl`, `rtl_runner`): `build.rs`
/// includes it when `verilator` was on PATH and overlay/ was beside the crate.
pub const HAS_RTL: bool = cfg!(rtl_backend);

/// The co-simulation backend: the driver over the Verilator model of the RTL.
#[cfg(rtl_backend)]
pub type RtlRunner = PlRunner<rtl::RtlRegisters, rtl::RtlMemory>;

/// A runner over a new simulation of the RTL, and its handle (cycles, traffic). The driver's
/// time-out is wall-clock time: pass one that allows for the simulation's speed
/// ([`rtl::driver_config`]).
#[cfg(rtl_backend)]
pub fn rtl_runner(config: DriverConfig) -> Result<(RtlRunner, rtl::RtlEngine)> {
    let engine = rtl::RtlEngine::new()?;
    let driver = Driver::new(engine.registers(), engine.memory(), config)?;
    Ok((PlRunner::new(driver), engine))
}

/// `rtl_runner` with `rtl::driver_config`'s time-out, boxed for a caller that picks a backend
/// at run time; in a build without the RTL backend ([`HAS_RTL`] false), an error that says so.
pub fn rtl_segment_runner() -> Result<Box<dyn SegmentRunner + Send>> {
    #[cfg(rtl_backend)]
    {
        Ok(Box::new(rtl_runner(rtl::driver_config())?.0))
    }
    #[cfg(not(rtl_backend))]
    {
        Err(Error::EngineFault {
            device: "W1A3 RTL (Verilator)".into(),
            message: NO_RTL.into(),
        })
    }
}

/// Why [`HAS_RTL`] is false.
pub const NO_RTL: &str = "this build has no RTL co-simulation backend: Verilator was not found \
     when pl_driver was built, or ZYNQDET_NO_RTL=1 was set (install verilator, put it on PATH, \
     and rebuild)";

/// A runner over a new engine model, and the model (to inspect it).
pub fn model_runner(config: DriverConfig) -> Result<(ModelRunner, EngineModel)> {
    let model = EngineModel::new();
    // For fault tests through the binary (app/tests/faults.rs): the engine hangs after this many
    // starts, as a wedged PL would, and the driver must time out and recompute on the CPU.
    if let Some(n) = std::env::var("ZYNQDET_MODEL_HANG_AFTER")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        model.hang_after(Some(n));
    }
    let driver = Driver::new(model.registers(), model.memory(), config)?;
    Ok((PlRunner::new(driver), model))
}

/// A runner over the engine found through UIO, with buffers from u-dma-buf or, without it, from
/// the reserved-memory region behind a second UIO device ([`reserved::DmaMemory::open`]).
pub fn uio_runner(
    uio: &uio::UioOptions,
    dma: &udmabuf::UdmabufOptions,
    config: DriverConfig,
) -> Result<UioRunner> {
    let regs = uio::UioDevice::open(uio)?;
    let mem = reserved::DmaMemory::open(dma)?;
    Ok(PlRunner::new(Driver::new(regs, mem, config)?))
}
