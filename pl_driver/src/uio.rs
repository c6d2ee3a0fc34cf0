//! The engine's registers on the board, through UIO: the device is found by name under
//! `<sys>/class/uio/*/name`, its first map read from sysfs, and `<dev>/uioN` mapped.
//!
//! Completion is polled by default. The released Ultra96 bitstream leaves the engine's
//! `interrupt` pin unconnected, so only an overlay that wires it (and a device tree entry with
//! `interrupts`) can use [`UioOptions::interrupts`].

use crate::error::{Error, Result};
use crate::hw::RegisterWindow;
use crate::regs;
use crate::sysfs::{check_backing, page_size, read_attr, read_number};
use memmap2::{MmapOptions, MmapRaw};
use nix::poll::{PollFd, PollFlags, PollTimeout};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The UIO name of the engine: `uio_pdrv_genirq` names a device after its device-tree node, and
/// the Ultra96 design's node for the HLS block `BlackBoxJam_0` is `BlackBoxJam@a0000000`
/// (with `compatible = "generic-uio"` added), which gives `BlackBoxJam`.
pub const DEFAULT_UIO_NAME: &str = "BlackBoxJam";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UioOptions {
    /// Root of sysfs: `/sys` on the board, a temporary tree in tests.
    pub sys_root: PathBuf,
    /// Directory of the device files: `/dev` on the board.
    pub dev_root: PathBuf,
    pub name: String,
    /// Wait for completion by interrupt instead of polling.
    pub interrupts: bool,
}

impl Default for UioOptions {
    fn default() -> Self {
        UioOptions {
            sys_root: PathBuf::from("/sys"),
            dev_root: PathBuf::from("/dev"),
            name: DEFAULT_UIO_NAME.into(),
            interrupts: false,
        }
    }
}

/// A UIO map as sysfs describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UioMap {
    /// Physical address (the map's, not necessarily page aligned).
    pub addr: u64,
    pub size: usize,
    /// Where the registers start within the mapping (less than a page).
    pub offset: usize,
}

/// A UIO device found in sysfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UioInfo {
    /// `uioN`: the name of its sysfs directory and of its device file.
    pub node: String,
    pub name: String,
    pub sys_dir: PathBuf,
    pub map0: UioMap,
}

/// The UIO device named `name` under `<sys_root>/class/uio`.
pub fn find(sys_root: &Path, name: &str) -> Result<UioInfo> {
    let class = sys_root.join("class/uio");
    let entries = std::fs::read_dir(&class).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::UioNotFound {
                name: name.into(),
                searched: class.clone(),
                found: "nothing: the directory does not exist (is UIO enabled?)".into(),
            }
        } else {
            Error::io(&class, e)
        }
    })?;
    let mut nodes: Vec<(u64, String)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let node = e.file_name().to_str()?.to_string();
            let n = node.strip_prefix("uio")?.parse().ok()?;
            Some((n, node))
        })
        .collect();
    nodes.sort();
    let mut seen = Vec::new();
    for (_, node) in nodes {
        let sys_dir = class.join(&node);
        // A node whose name cannot be read is someone else's problem; keep looking.
        let Ok(found) = read_attr(&sys_dir.join("name")) else {
            continue;
        };
        if found == name {
            let map0 = read_map(&sys_dir.join("maps/map0"))?;
            return Ok(UioInfo {
                node,
                name: found,
                sys_dir,
                map0,
            });
        }
        seen.push(format!("{node} = {found:?}"));
    }
    Err(Error::UioNotFound {
        name: name.into(),
        searched: class,
        found: if seen.is_empty() {
            "no devices".into()
        } else {
            seen.join(", ")
        },
    })
}

fn read_map(dir: &Path) -> Result<UioMap> {
    let addr = read_number(&dir.join("addr"))?;
    let size_path = dir.join("size");
    let size = read_number(&size_path)? as usize;
    let offset_path = dir.join("offset");
    // Kernels before 4.x have no `offset`: there the mapping starts at the page of `addr`.
    let offset = if offset_path.exists() {
        read_number(&offset_path)? as usize
    } else {
        (addr % page_size() as u64) as usize
    };
    if size < regs::REGISTER_SPAN {
        return Err(Error::sysfs(
            &size_path,
            format!(
                "a window of {size} bytes does not cover the engine's registers (0x{:X} bytes)",
                regs::REGISTER_SPAN
            ),
        ));
    }
    if offset >= page_size() || !offset.is_multiple_of(4) {
        return Err(Error::sysfs(
            &offset_path,
            format!(
                "offset {offset:#x} is not a 32-bit aligned place within a {}-byte page",
                page_size()
            ),
        ));
    }
    Ok(UioMap { addr, size, offset })
}

/// A UIO device's interrupt: unmask by writing 1, wait with poll, take it by reading the count.
pub struct UioIrq {
    file: File,
    path: PathBuf,
}

impl UioIrq {
    pub fn new(file: File, path: impl Into<PathBuf>) -> UioIrq {
        UioIrq {
            file,
            path: path.into(),
        }
    }

    fn gone(&self, message: String) -> Error {
        Error::DeviceGone {
            path: self.path.clone(),
            message,
        }
    }

    /// Unmasks the interrupt (uio_pdrv_genirq masks it each time it fires).
    pub fn arm(&mut self) -> Result<()> {
        self.file
            .write_all(&1u32.to_ne_bytes())
            .map_err(|e| Error::io(&self.path, e))
    }

    /// Waits up to `timeout`: the interrupt count when it fired, `None` on time-out.
    pub fn wait(&mut self, timeout: Duration) -> Result<Option<u32>> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let ms = PollTimeout::try_from(left.as_millis().max(1)).unwrap_or(PollTimeout::MAX);
            let mut fds = [PollFd::new(self.file.as_fd(), PollFlags::POLLIN)];
            match nix::poll::poll(&mut fds, ms) {
                Ok(0) if Instant::now() >= deadline => return Ok(None),
                Ok(0) => continue,
                Ok(_) => {}
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(self.gone(format!("poll: {e}"))),
            }
            let revents = fds[0].revents().unwrap_or(PollFlags::empty());
            if revents.intersects(PollFlags::POLLERR | PollFlags::POLLHUP | PollFlags::POLLNVAL) {
                return Err(self.gone(format!("poll reports {revents:?}")));
            }
            let mut count = [0u8; 4];
            return match self.file.read(&mut count) {
                Ok(4) => Ok(Some(u32::from_ne_bytes(count))),
                Ok(n) => Err(self.gone(format!("read {n} bytes of the interrupt count"))),
                Err(e) => Err(self.gone(format!("read: {e}"))),
            };
        }
    }
}

/// The engine's register window, mapped from `/dev/uioN`.
pub struct UioDevice {
    info: UioInfo,
    dev_path: PathBuf,
    map: MmapRaw,
    /// Bytes of the mapping from the first register on.
    window: usize,
    irq: Option<UioIrq>,
}

impl UioDevice {
    pub fn open(opts: &UioOptions) -> Result<UioDevice> {
        let info = find(&opts.sys_root, &opts.name)?;
        let dev_path = opts.dev_root.join(&info.node);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&dev_path)
            .map_err(|e| Error::io(&dev_path, e))?;
        // Map 0 is selected by mmap offset 0. The kernel allows the pages that hold
        // [addr, addr + size), counted from addr's page, exactly what this asks for.
        let map0 = info.map0;
        let page = page_size();
        let len = ((map0.addr % page as u64) as usize + map0.size).next_multiple_of(page);
        let window = len - map0.offset;
        if window < regs::REGISTER_SPAN {
            return Err(Error::sysfs(
                info.sys_dir.join("maps/map0"),
                format!("{window} bytes mapped after the offset do not cover the registers"),
            ));
        }
        check_backing(&file, &dev_path, len)?;
        let map = MmapOptions::new()
            .len(len)
            .map_raw(&file)
            .map_err(|e| Error::io(&dev_path, e))?;
        let irq = if opts.interrupts {
            let f = file.try_clone().map_err(|e| Error::io(&dev_path, e))?;
            Some(UioIrq::new(f, &dev_path))
        } else {
            None
        };
        Ok(UioDevice {
            info,
            dev_path,
            map,
            window,
            irq,
        })
    }

    pub fn info(&self) -> &UioInfo {
        &self.info
    }

    pub fn dev_path(&self) -> &Path {
        &self.dev_path
    }

    /// The register's address in the mapping, checked against the window.
    fn register(&self, offset: u32) -> Result<*mut u32> {
        regs::check_offset(offset, self.window, || self.device())?;
        let off = offset as usize;
        // SAFETY: map0.offset + off + 4 <= map0.offset + window = the mapping's length, so the
        // pointer stays inside the mapping.
        Ok(unsafe { self.map.as_mut_ptr().add(self.info.map0.offset + off) }.cast())
    }
}

impl RegisterWindow for UioDevice {
    fn read32(&mut self, offset: u32) -> Result<u32> {
        let p = self.register(offset)?;
        // SAFETY: `p` is a 4-byte aligned address inside the live mapping (see `register`);
        // volatile because the device changes the register behind the compiler's back.
        Ok(unsafe { p.read_volatile() })
    }

    fn write32(&mut self, offset: u32, value: u32) -> Result<()> {
        let p = self.register(offset)?;
        // SAFETY: as in read32; volatile so that every write reaches the device, in order.
        unsafe { p.write_volatile(value) };
        Ok(())
    }

    fn device(&self) -> String {
        format!("{} ({})", self.info.name, self.dev_path.display())
    }

    fn check(&mut self) -> Result<()> {
        for path in [&self.dev_path, &self.info.sys_dir] {
            if !path.exists() {
                return Err(Error::DeviceGone {
                    path: path.clone(),
                    message: "no longer exists".into(),
                });
            }
        }
        Ok(())
    }

    fn has_interrupt(&self) -> bool {
        self.irq.is_some()
    }

    fn arm_interrupt(&mut self) -> Result<()> {
        match &mut self.irq {
            Some(irq) => irq.arm(),
            None => Err(self.no_irq()),
        }
    }

    fn wait_interrupt(&mut self, timeout: Duration) -> Result<bool> {
        match &mut self.irq {
            Some(irq) => Ok(irq.wait(timeout)?.is_some()),
            None => Err(self.no_irq()),
        }
    }
}

impl UioDevice {
    fn no_irq(&self) -> Error {
        Error::Interrupt {
            device: self.device(),
            message: "opened without interrupts".into(),
        }
    }
}
