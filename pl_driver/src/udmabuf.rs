//! DMA memory on the board: one u-dma-buf region (`<dev>/udmabufN`), mapped once and divided
//! into buffers. Its physical address and size come from `<sys>/class/u-dma-buf/udmabufN/`
//! (`/sys/class/udmabuf/` for the module's older name).
//!
//! Cache: [`CacheMode::Cached`] keeps the CPU cache on and syncs each buffer explicitly through
//! the `sync_offset`/`sync_size`/`sync_direction`/`sync_for_{cpu,device}` attributes;
//! [`CacheMode::Uncached`] opens the device with `O_SYNC`, which u-dma-buf maps uncached (its
//! default `sync_mode` 1), and needs no syncs. The region must hold every buffer of a network:
//! Tinier-YOLO needs about 12 MiB (e.g. `modprobe u-dma-buf udmabuf0=16777216`).

use crate::alloc::{Arena, Slot};
use crate::error::{Error, Result};
use crate::hw::{DmaBuffer, PhysMemory};
use crate::sysfs::{check_backing, read_number, write_attr};
use memmap2::{MmapOptions, MmapRaw};
use nix::fcntl::OFlag;
use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub const DEFAULT_UDMABUF: &str = "udmabuf0";
/// The sysfs class directories of u-dma-buf, current name first.
const CLASSES: [&str; 2] = ["u-dma-buf", "udmabuf"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheMode {
    /// CPU cache on, explicit syncs (faster CPU access to the buffers).
    Cached,
    /// `O_SYNC` mapping, no syncs.
    Uncached,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdmabufOptions {
    pub sys_root: PathBuf,
    pub dev_root: PathBuf,
    pub name: String,
    pub cache: CacheMode,
}

impl Default for UdmabufOptions {
    fn default() -> Self {
        UdmabufOptions {
            sys_root: PathBuf::from("/sys"),
            dev_root: PathBuf::from("/dev"),
            name: DEFAULT_UDMABUF.into(),
            cache: CacheMode::Cached,
        }
    }
}

struct Region {
    dev_path: PathBuf,
    sys_dir: PathBuf,
    phys: u64,
    size: usize,
    cache: CacheMode,
    map: MmapRaw,
    arena: Mutex<Arena>,
    /// The four attribute writes of one sync must not interleave with another's.
    sync: Mutex<()>,
}

/// A u-dma-buf region; clones share it.
#[derive(Clone)]
pub struct Udmabuf {
    region: Arc<Region>,
}

impl Udmabuf {
    pub fn open(opts: &UdmabufOptions) -> Result<Udmabuf> {
        let class = CLASSES
            .iter()
            .map(|c| opts.sys_root.join("class").join(c))
            .find(|p| p.is_dir())
            .ok_or_else(|| Error::UdmabufMissing {
                path: opts.sys_root.join("class").join(CLASSES[0]),
                hint: "no such directory: is the u-dma-buf module loaded?".into(),
            })?;
        let sys_dir = class.join(&opts.name);
        if !sys_dir.is_dir() {
            let found: Vec<String> = std::fs::read_dir(&class)
                .map(|d| {
                    d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                        .collect()
                })
                .unwrap_or_default();
            return Err(Error::UdmabufMissing {
                path: sys_dir,
                hint: format!(
                    "no buffer named {:?} (found: {})",
                    opts.name,
                    if found.is_empty() {
                        "none".into()
                    } else {
                        found.join(", ")
                    }
                ),
            });
        }
        let phys = read_number(&sys_dir.join("phys_addr"))?;
        let size_path = sys_dir.join("size");
        let size = read_number(&size_path)? as usize;
        if size == 0 {
            return Err(Error::sysfs(size_path, "the buffer is empty"));
        }
        let dev_path = opts.dev_root.join(&opts.name);
        let mut open = OpenOptions::new();
        open.read(true).write(true);
        if opts.cache == CacheMode::Uncached {
            open.custom_flags(OFlag::O_SYNC.bits());
        }
        let file = open.open(&dev_path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::UdmabufMissing {
                    path: dev_path.clone(),
                    hint: "the device file does not exist".into(),
                }
            } else {
                Error::io(&dev_path, e)
            }
        })?;
        check_backing(&file, &dev_path, size)?;
        let map = MmapOptions::new()
            .len(size)
            .map_raw(&file)
            .map_err(|e| Error::io(&dev_path, e))?;
        let arena = Arena::new(dev_path.display().to_string(), phys, size);
        Ok(Udmabuf {
            region: Arc::new(Region {
                dev_path,
                sys_dir,
                phys,
                size,
                cache: opts.cache,
                map,
                arena: Mutex::new(arena),
                sync: Mutex::new(()),
            }),
        })
    }

    pub fn phys_addr(&self) -> u64 {
        self.region.phys
    }

    pub fn size(&self) -> usize {
        self.region.size
    }

    pub fn dev_path(&self) -> &Path {
        &self.region.dev_path
    }
}

impl PhysMemory for Udmabuf {
    type Buffer = UdmabufBuffer;

    fn alloc(&self, len: usize) -> Result<UdmabufBuffer> {
        let r = &self.region;
        let mut a = r.arena.lock().unwrap_or_else(|e| e.into_inner());
        let slot = a.alloc(len)?;
        Ok(UdmabufBuffer {
            region: Arc::clone(&self.region),
            slot,
        })
    }

    fn device(&self) -> String {
        self.region.dev_path.display().to_string()
    }
}

/// A part of the region; freed when dropped.
pub struct UdmabufBuffer {
    region: Arc<Region>,
    slot: Slot,
}

impl UdmabufBuffer {
    fn check(&self, what: &'static str, offset: usize, len: usize) -> Result<()> {
        let buffer = || {
            let path = self.region.dev_path.display();
            format!("{path} buffer at +{:#x}", self.slot.offset)
        };
        self.slot.check(buffer, what, offset, len)
    }

    /// Syncs this buffer's range; direction 1 = to the device, 2 = from it (DMA_TO_DEVICE,
    /// DMA_FROM_DEVICE), `trigger` the attribute that performs it.
    fn sync(&self, direction: u32, trigger: &str) -> Result<()> {
        let r = &self.region;
        if r.cache == CacheMode::Uncached {
            return Ok(());
        }
        let _guard = r.sync.lock().unwrap_or_else(|e| e.into_inner());
        write_attr(
            &r.sys_dir.join("sync_offset"),
            &self.slot.offset.to_string(),
        )?;
        write_attr(&r.sys_dir.join("sync_size"), &self.slot.len.to_string())?;
        write_attr(&r.sys_dir.join("sync_direction"), &direction.to_string())?;
        write_attr(&r.sys_dir.join(trigger), "1")
    }
}

impl DmaBuffer for UdmabufBuffer {
    fn phys_addr(&self) -> u64 {
        self.slot.phys
    }

    fn len(&self) -> usize {
        self.slot.len
    }

    fn write(&mut self, offset: usize, data: &[u8]) -> Result<()> {
        self.check("write", offset, data.len())?;
        // SAFETY: [self.offset + offset, + data.len()) lies inside this buffer (checked above),
        // which lies inside the mapping and belongs to this buffer alone (the allocator hands
        // out disjoint ranges), so nothing else writes it meanwhile.
        unsafe {
            let dst = self.region.map.as_mut_ptr().add(self.slot.offset + offset);
            std::ptr::copy_nonoverlapping(data.as_ptr(), dst, data.len());
        }
        Ok(())
    }

    fn read(&self, offset: usize, out: &mut [u8]) -> Result<()> {
        self.check("read", offset, out.len())?;
        // SAFETY: the range lies inside this buffer, as in `write`; the engine writes it only
        // during a call, and the driver reads after the call completed.
        unsafe {
            let src = self.region.map.as_ptr().add(self.slot.offset + offset);
            std::ptr::copy_nonoverlapping(src, out.as_mut_ptr(), out.len());
        }
        Ok(())
    }

    fn sync_for_device(&mut self) -> Result<()> {
        self.sync(1, "sync_for_device")
    }

    fn sync_for_cpu(&mut self) -> Result<()> {
        self.sync(2, "sync_for_cpu")
    }
}

impl Drop for UdmabufBuffer {
    fn drop(&mut self) {
        let mut a = self.region.arena.lock().unwrap_or_else(|e| e.into_inner());
        a.free(&self.slot);
    }
}
