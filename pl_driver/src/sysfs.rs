//! Small readers of sysfs attributes and device files, shared by the UIO and u-dma-buf backends.

use crate::error::{Error, Result};
use std::fs::File;
use std::path::Path;

/// An attribute's text, trimmed.
pub fn read_attr(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .map_err(|e| Error::io(path, e))
}

/// A number as the kernel prints it: `0x`-prefixed hex or decimal.
pub fn parse_number(path: &Path, text: &str) -> Result<u64> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|_| Error::sysfs(path, format!("expected a number, found {text:?}")))
}

pub fn read_number(path: &Path) -> Result<u64> {
    parse_number(path, &read_attr(path)?)
}

pub fn write_attr(path: &Path, value: &str) -> Result<()> {
    std::fs::write(path, value).map_err(|e| Error::io(path, e))
}

pub fn page_size() -> usize {
    match nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE) {
        Ok(Some(n)) if n > 0 => n as usize,
        _ => 4096,
    }
}

/// Refuses to map `len` bytes of a regular file that is shorter (a test's stand-in for a
/// device): touching the mapping past its end would raise SIGBUS. Device files have no length.
pub fn check_backing(file: &File, path: &Path, len: usize) -> Result<()> {
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if meta.is_file() && (meta.len() as usize) < len {
        return Err(Error::sysfs(
            path,
            format!(
                "a regular file of {} bytes cannot back a {len}-byte mapping",
                meta.len()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_hex_and_decimal() {
        let p = Path::new("/sys/x");
        assert_eq!(parse_number(p, "0xa0000000").unwrap(), 0xA000_0000);
        assert_eq!(parse_number(p, "0X10").unwrap(), 16);
        assert_eq!(parse_number(p, "16777216").unwrap(), 16 << 20);
        let e = parse_number(p, "0xzz").unwrap_err().to_string();
        assert!(e.contains("/sys/x") && e.contains("\"0xzz\""), "{e}");
        assert!(parse_number(p, "").is_err());
        assert!(parse_number(p, "-1").is_err());
    }
}
