//! The engine's AXI4-Lite register file (`s_axi_control`), as docs/register-map.md defines it.
//! The one place in code that names the offsets and bits: the driver, the host model and the
//! tests all use these.

use crate::error::{Error, Result};

/// Control: start, done, idle, ready, auto-restart.
pub const AP_CTRL: u32 = 0x00;
/// Global interrupt enable (bit 0).
pub const GIE: u32 = 0x04;
/// Interrupt enable: bit 0 on `ap_done`, bit 1 on `ap_ready`.
pub const IER: u32 = 0x08;
/// Interrupt status, toggle-on-write: bit 0 `ap_done` pending, bit 1 `ap_ready` pending.
pub const ISR: u32 = 0x0C;
/// Physical address of input buffer 1 (activations, or weights of PEs 0..15 on init).
pub const IN1_LO: u32 = 0x10;
pub const IN1_HI: u32 = 0x14;
/// Physical address of input buffer 2 (weights of PEs 16..31 on init).
pub const IN2_LO: u32 = 0x1C;
pub const IN2_HI: u32 = 0x20;
/// Physical address of the output buffer.
pub const OUT_LO: u32 = 0x28;
pub const OUT_HI: u32 = 0x2C;
/// 1: the next start loads weights and thresholds; 0: it computes.
pub const DO_INIT: u32 = 0x34;
/// [`LAYER_CONV`] or [`LAYER_CONV_POOL`].
pub const LAYER_TYPE: u32 = 0x3C;
/// K: 1 or 3.
pub const KERNEL_DIM: u32 = 0x44;
/// log2 of the convolution stride.
pub const STRIDE: u32 = 0x4C;
pub const IFM_CH: u32 = 0x54;
/// Output channels of this pass.
pub const OFM_CH: u32 = 0x5C;
pub const IFM_DIM: u32 = 0x64;
/// Input side plus twice the padding.
pub const PADDED_DIM: u32 = 0x6C;
pub const OFM_DIM: u32 = 0x74;
/// Max-pool input side: OFM_DIM, or OFM_DIM + 1 when the pool pads right and bottom.
pub const POOL_IN_DIM: u32 = 0x7C;
pub const POOL_OUT_DIM: u32 = 0x84;
/// log2 of the max-pool stride.
pub const POOL_STRIDE: u32 = 0x8C;

/// Bytes of the register window that the engine decodes (the AXI4-Lite window is 64 KiB).
pub const WINDOW_SIZE: usize = 0x1_0000;

/// The check every backend makes before it touches a register: `offset` 4-byte aligned and
/// inside a window of `window` bytes. The error names the register and the device (`device`
/// is called only then).
pub fn check_offset(offset: u32, window: usize, device: impl FnOnce() -> String) -> Result<()> {
    let at = offset as usize;
    if !at.is_multiple_of(4) || at + 4 > window {
        return Err(Error::RegisterOffset {
            device: device(),
            register: describe(offset),
            size: window,
        });
    }
    Ok(())
}
/// One past the last register: a mapped window must cover at least this much.
pub const REGISTER_SPAN: usize = POOL_STRIDE as usize + 4;

/// AP_CTRL bit 0: write 1 to start; self-clearing.
pub const AP_START: u32 = 1 << 0;
/// AP_CTRL bit 1: the call finished; clear-on-read.
pub const AP_DONE: u32 = 1 << 1;
/// AP_CTRL bit 2: the engine is not running a call.
pub const AP_IDLE: u32 = 1 << 2;
/// AP_CTRL bit 3: the engine accepts a new start.
pub const AP_READY: u32 = 1 << 3;
/// AP_CTRL bit 7: restart automatically after each call (never used by the driver).
pub const AUTO_RESTART: u32 = 1 << 7;

/// GIE bit 0.
pub const GIE_ENABLE: u32 = 1 << 0;
/// IER / ISR bit 0: the `ap_done` interrupt.
pub const IRQ_DONE: u32 = 1 << 0;
/// IER / ISR bit 1: the `ap_ready` interrupt.
pub const IRQ_READY: u32 = 1 << 1;

/// LAYER_TYPE values.
pub const LAYER_FULLY_CONNECTED: u32 = 0;
pub const LAYER_CONV: u32 = 1;
pub const LAYER_CONV_POOL: u32 = 2;

/// Every register, in offset order, with the name the document gives it.
pub const ALL: [(u32, &str); 22] = [
    (AP_CTRL, "AP_CTRL"),
    (GIE, "GIE"),
    (IER, "IER"),
    (ISR, "ISR"),
    (IN1_LO, "IN1_LO"),
    (IN1_HI, "IN1_HI"),
    (IN2_LO, "IN2_LO"),
    (IN2_HI, "IN2_HI"),
    (OUT_LO, "OUT_LO"),
    (OUT_HI, "OUT_HI"),
    (DO_INIT, "DO_INIT"),
    (LAYER_TYPE, "LAYER_TYPE"),
    (KERNEL_DIM, "KERNEL_DIM"),
    (STRIDE, "STRIDE"),
    (IFM_CH, "IFM_CH"),
    (OFM_CH, "OFM_CH"),
    (IFM_DIM, "IFM_DIM"),
    (PADDED_DIM, "PADDED_DIM"),
    (OFM_DIM, "OFM_DIM"),
    (POOL_IN_DIM, "POOL_IN_DIM"),
    (POOL_OUT_DIM, "POOL_OUT_DIM"),
    (POOL_STRIDE, "POOL_STRIDE"),
];

/// The register's name, for messages; `None` for an offset the engine does not decode.
pub fn name(offset: u32) -> Option<&'static str> {
    ALL.iter().find(|(o, _)| *o == offset).map(|(_, n)| *n)
}

/// `NAME (0xOFF)`, or just the offset when it names no register.
pub fn describe(offset: u32) -> String {
    match name(offset) {
        Some(n) => format!("{n} (0x{offset:02X})"),
        None => format!("offset 0x{offset:X}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_distinct_aligned_and_inside_the_span() {
        for (i, (a, _)) in ALL.iter().enumerate() {
            assert_eq!(a % 4, 0, "{}", describe(*a));
            assert!((*a as usize) < REGISTER_SPAN);
            assert!(ALL[i + 1..].iter().all(|(b, _)| a < b), "sorted and unique");
        }
        assert_eq!(REGISTER_SPAN, 0x90);
        assert_eq!(describe(OFM_CH), "OFM_CH (0x5C)");
        assert_eq!(describe(0x18), "offset 0x18");
    }
}
