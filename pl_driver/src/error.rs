//! Errors of the driver and its backends; each names the file, device or register concerned.

use std::path::PathBuf;
use std::time::Duration;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A sysfs attribute that is missing, unreadable as a number, or out of range.
    #[error("{path}: {message}")]
    Sysfs { path: PathBuf, message: String },
    #[error("no UIO device named {name:?} under {searched} (found: {found})")]
    UioNotFound {
        name: String,
        searched: PathBuf,
        found: String,
    },
    #[error("{path}: u-dma-buf is not available ({hint})")]
    UdmabufMissing { path: PathBuf, hint: String },
    #[error("{device}: cannot allocate {requested} bytes: {size} bytes in all, largest free block {largest_free}")]
    BufferTooSmall {
        device: String,
        requested: usize,
        size: usize,
        largest_free: usize,
    },
    #[error("{device}: {what} at byte {offset} (+{len}) is outside its {size} bytes")]
    OutOfRange {
        device: String,
        what: &'static str,
        offset: usize,
        len: usize,
        size: usize,
    },
    #[error("{device}: register {register} is not a 32-bit register of the {size}-byte window")]
    RegisterOffset {
        device: String,
        register: String,
        size: usize,
    },
    #[error("{device}: timed out after {waited:?} waiting for ap_done in {register} (last read 0x{last:08X}) during {call}")]
    Timeout {
        device: String,
        register: String,
        last: u32,
        waited: Duration,
        call: String,
    },
    #[error("{device}: engine busy ({register} = 0x{value:08X}, not idle) before {call}; a previous call never finished")]
    Busy {
        device: String,
        register: String,
        value: u32,
        call: String,
    },
    #[error("{path}: the device vanished ({message})")]
    DeviceGone { path: PathBuf, message: String },
    /// The engine (model) rejected the registers or buffers of a call.
    #[error("{device}: {message}")]
    EngineFault { device: String, message: String },
    /// Memory touched by the CPU and the engine without the cache sync between them.
    #[error("{device}: buffer at 0x{phys:X}: {message}")]
    Coherence {
        device: String,
        phys: u64,
        message: String,
    },
    /// A layer that the engine cannot run as it is.
    #[error("layer {layer}: {message}")]
    Unsupported { layer: usize, message: String },
    #[error("{device}: interrupts: {message}")]
    Interrupt { device: String, message: String },
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn sysfs(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Sysfs {
            path: path.into(),
            message: message.into(),
        }
    }

    /// Whether the engine may be left mid-call (so a reset is worth trying).
    pub fn engine_stuck(&self) -> bool {
        matches!(
            self,
            Error::Timeout { .. } | Error::Busy { .. } | Error::EngineFault { .. }
        )
    }
}

impl From<Error> for darknet_port::Error {
    fn from(e: Error) -> Self {
        darknet_port::Error::Engine(e.to_string())
    }
}
