//! DMA memory without u-dma-buf: a `no-map` `reserved-memory` region that the device tree
//! exposes through a second `generic-uio` node (named [`DEFAULT_DMA_UIO_NAME`]). Its physical
//! address and size come from `<sys>/class/uio/uioN/maps/map0/{addr,size}`, and `<dev>/uioN`
//! maps it; the region is divided into buffers as a u-dma-buf region is.
//!
//! UIO maps physical memory uncached (`pgprot_noncached`: Device memory on arm64), so the
//! engine and the CPU see the same bytes with no cache maintenance, but Device memory faults on
//! unaligned accesses: copies go through [`copy_to_device`]/[`copy_from_device`], which touch it
//! only with naturally aligned loads and stores, never through `memcpy`.
//!
//! [`DmaMemory`] picks the source at run time: u-dma-buf when its buffer exists, else this region.

use crate::alloc::{Arena, Slot};
use crate::error::{Error, Result};
use crate::hw::{DmaBuffer, PhysMemory};
use crate::sysfs::{check_backing, page_size};
use crate::udmabuf::{Udmabuf, UdmabufBuffer, UdmabufOptions};
use crate::uio;
use memmap2::{MmapOptions, MmapRaw};
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::atomic::{fence, Ordering};
use std::sync::{Arc, Mutex};

/// The UIO name of the reserved DMA region: its device-tree node is `zynqdet-dma@<addr>`.
pub const DEFAULT_DMA_UIO_NAME: &str = "zynqdet-dma";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservedOptions {
    pub sys_root: PathBuf,
    pub dev_root: PathBuf,
    pub name: String,
}

impl Default for ReservedOptions {
    fn default() -> Self {
        ReservedOptions {
            sys_root: PathBuf::from("/sys"),
            dev_root: PathBuf::from("/dev"),
            name: DEFAULT_DMA_UIO_NAME.into(),
        }
    }
}

struct Region {
    dev_path: PathBuf,
    phys: u64,
    size: usize,
    map: MmapRaw,
    /// Where the region starts within the mapping (the map's offset within its first page).
    start: usize,
    arena: Mutex<Arena>,
}

/// A reserved-memory region mapped through UIO; clones share it.
#[derive(Clone)]
pub struct ReservedMem {
    region: Arc<Region>,
}

impl ReservedMem {
    pub fn open(opts: &ReservedOptions) -> Result<ReservedMem> {
        let info = uio::find(&opts.sys_root, &opts.name)?;
        let map0 = info.map0;
        let dev_path = opts.dev_root.join(&info.node);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&dev_path)
            .map_err(|e| Error::io(&dev_path, e))?;
        // Map 0 is mmap offset 0; the kernel maps the pages holding [addr, addr + size).
        let page = page_size() as u64;
        let start = (map0.addr % page) as usize;
        let len = (start + map0.size).next_multiple_of(page as usize);
        check_backing(&file, &dev_path, len)?;
        let map = MmapOptions::new()
            .len(len)
            .map_raw(&file)
            .map_err(|e| Error::io(&dev_path, e))?;
        let device = format!("{} (reserved memory)", dev_path.display());
        Ok(ReservedMem {
            region: Arc::new(Region {
                dev_path,
                phys: map0.addr,
                size: map0.size,
                map,
                start,
                arena: Mutex::new(Arena::new(device, map0.addr, map0.size)),
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

impl PhysMemory for ReservedMem {
    type Buffer = ReservedBuffer;

    fn alloc(&self, len: usize) -> Result<ReservedBuffer> {
        let mut arena = self.region.arena.lock().unwrap_or_else(|e| e.into_inner());
        Ok(ReservedBuffer {
            region: Arc::clone(&self.region),
            slot: arena.alloc(len)?,
        })
    }

    fn device(&self) -> String {
        format!("{} (reserved memory)", self.region.dev_path.display())
    }
}

/// A part of the region; freed when dropped.
pub struct ReservedBuffer {
    region: Arc<Region>,
    slot: Slot,
}

impl ReservedBuffer {
    fn check(&self, what: &'static str, offset: usize, len: usize) -> Result<()> {
        let name = || {
            format!(
                "{} buffer at +{:#x}",
                self.region.dev_path.display(),
                self.slot.offset
            )
        };
        self.slot.check(name, what, offset, len)
    }

    /// The mapped address of byte `offset` of this buffer.
    ///
    /// # Safety
    /// `offset` must be at most the buffer's length (as `check` ensures).
    unsafe fn at(&self, offset: usize) -> *mut u8 {
        // SAFETY: offset is within the buffer (the caller's contract), which lies inside the
        // region, which lies inside the mapping from `start` on.
        unsafe {
            self.region
                .map
                .as_mut_ptr()
                .add(self.region.start + self.slot.offset + offset)
        }
    }
}

impl DmaBuffer for ReservedBuffer {
    fn phys_addr(&self) -> u64 {
        self.slot.phys
    }

    fn len(&self) -> usize {
        self.slot.len
    }

    fn write(&mut self, offset: usize, data: &[u8]) -> Result<()> {
        self.check("write", offset, data.len())?;
        // SAFETY: the destination range lies inside this buffer (checked above), which the
        // allocator gave to this buffer alone.
        unsafe { copy_to_device(self.at(offset), data) };
        Ok(())
    }

    fn read(&self, offset: usize, out: &mut [u8]) -> Result<()> {
        self.check("read", offset, out.len())?;
        // SAFETY: as in `write`; the engine writes the range only during a call, and the driver
        // reads after the call completed.
        unsafe { copy_from_device(self.at(offset), out) };
        Ok(())
    }

    /// The mapping is uncached: only the CPU's own ordering matters, so that the data is
    /// written before the register write that starts the engine.
    fn sync_for_device(&mut self) -> Result<()> {
        fence(Ordering::SeqCst);
        Ok(())
    }

    fn sync_for_cpu(&mut self) -> Result<()> {
        fence(Ordering::SeqCst);
        Ok(())
    }
}

impl Drop for ReservedBuffer {
    fn drop(&mut self) {
        let mut arena = self.region.arena.lock().unwrap_or_else(|e| e.into_inner());
        arena.free(&self.slot);
    }
}

/// Copies `src` to `dst` with naturally aligned volatile stores only: bytes up to an 8-byte
/// boundary, then 8-byte words, then the remaining bytes.
///
/// # Safety
/// `dst..dst + src.len()` must be valid for writes and not overlap `src`.
unsafe fn copy_to_device(dst: *mut u8, src: &[u8]) {
    let head = dst.align_offset(8).min(src.len());
    let (bytes, rest) = src.split_at(head);
    let (words, tail) = rest.split_at(rest.len() / 8 * 8);
    // SAFETY (whole body): every address written is within dst..dst + src.len(), by the
    // caller's contract; the word stores are at dst + head + 8i, 8-byte aligned by the choice
    // of head.
    unsafe {
        for (i, &b) in bytes.iter().enumerate() {
            dst.add(i).write_volatile(b);
        }
        let wdst = dst.add(head).cast::<u64>();
        for (i, w) in words.chunks_exact(8).enumerate() {
            let v = u64::from_ne_bytes(w.try_into().unwrap_or_default());
            wdst.add(i).write_volatile(v);
        }
        let tdst = dst.add(head + words.len());
        for (i, &b) in tail.iter().enumerate() {
            tdst.add(i).write_volatile(b);
        }
    }
}

/// The reverse of [`copy_to_device`], with aligned volatile loads only.
///
/// # Safety
/// `src..src + dst.len()` must be valid for reads and not overlap `dst`.
unsafe fn copy_from_device(src: *const u8, dst: &mut [u8]) {
    let head = src.align_offset(8).min(dst.len());
    let (bytes, rest) = dst.split_at_mut(head);
    let n_words = rest.len() / 8 * 8;
    let (words, tail) = rest.split_at_mut(n_words);
    // SAFETY (whole body): as in copy_to_device, for reads.
    unsafe {
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = src.add(i).read_volatile();
        }
        let wsrc = src.add(head).cast::<u64>();
        for (i, w) in words.chunks_exact_mut(8).enumerate() {
            w.copy_from_slice(&wsrc.add(i).read_volatile().to_ne_bytes());
        }
        let tsrc = src.add(head + n_words);
        for (i, b) in tail.iter_mut().enumerate() {
            *b = tsrc.add(i).read_volatile();
        }
    }
}

/// The DMA memory of the board backend: u-dma-buf when its buffer exists, otherwise the
/// reserved-memory region behind the UIO device [`DEFAULT_DMA_UIO_NAME`].
#[derive(Clone)]
pub enum DmaMemory {
    Udmabuf(Udmabuf),
    Reserved(ReservedMem),
}

impl DmaMemory {
    /// Opens u-dma-buf's buffer `dma.name`; when u-dma-buf or that buffer is absent, the
    /// reserved region under the same sysfs and device roots. Failing both, one error that
    /// says why each was not used.
    pub fn open(dma: &UdmabufOptions) -> Result<DmaMemory> {
        let missing = match Udmabuf::open(dma) {
            Ok(u) => return Ok(DmaMemory::Udmabuf(u)),
            Err(e @ Error::UdmabufMissing { .. }) => e,
            Err(e) => return Err(e),
        };
        let reserved = ReservedOptions {
            sys_root: dma.sys_root.clone(),
            dev_root: dma.dev_root.clone(),
            ..ReservedOptions::default()
        };
        match ReservedMem::open(&reserved) {
            Ok(r) => Ok(DmaMemory::Reserved(r)),
            Err(Error::UioNotFound { .. }) => {
                let Error::UdmabufMissing { path, hint } = missing else {
                    unreachable!("matched above")
                };
                let found = uio::find(&reserved.sys_root, &reserved.name)
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_default();
                Err(Error::UdmabufMissing {
                    path,
                    hint: format!("{hint}; nor a reserved-memory region: {found}"),
                })
            }
            Err(e) => Err(e),
        }
    }

    pub fn phys_addr(&self) -> u64 {
        match self {
            DmaMemory::Udmabuf(u) => u.phys_addr(),
            DmaMemory::Reserved(r) => r.phys_addr(),
        }
    }

    pub fn size(&self) -> usize {
        match self {
            DmaMemory::Udmabuf(u) => u.size(),
            DmaMemory::Reserved(r) => r.size(),
        }
    }
}

impl PhysMemory for DmaMemory {
    type Buffer = DmaMemoryBuffer;

    fn alloc(&self, len: usize) -> Result<DmaMemoryBuffer> {
        Ok(match self {
            DmaMemory::Udmabuf(u) => DmaMemoryBuffer::Udmabuf(u.alloc(len)?),
            DmaMemory::Reserved(r) => DmaMemoryBuffer::Reserved(r.alloc(len)?),
        })
    }

    fn device(&self) -> String {
        match self {
            DmaMemory::Udmabuf(u) => u.device(),
            DmaMemory::Reserved(r) => r.device(),
        }
    }
}

pub enum DmaMemoryBuffer {
    Udmabuf(UdmabufBuffer),
    Reserved(ReservedBuffer),
}

impl DmaMemoryBuffer {
    fn inner(&self) -> &dyn DmaBuffer {
        match self {
            DmaMemoryBuffer::Udmabuf(b) => b,
            DmaMemoryBuffer::Reserved(b) => b,
        }
    }

    fn inner_mut(&mut self) -> &mut dyn DmaBuffer {
        match self {
            DmaMemoryBuffer::Udmabuf(b) => b,
            DmaMemoryBuffer::Reserved(b) => b,
        }
    }
}

impl DmaBuffer for DmaMemoryBuffer {
    fn phys_addr(&self) -> u64 {
        self.inner().phys_addr()
    }

    fn len(&self) -> usize {
        self.inner().len()
    }

    fn write(&mut self, offset: usize, data: &[u8]) -> Result<()> {
        self.inner_mut().write(offset, data)
    }

    fn read(&self, offset: usize, out: &mut [u8]) -> Result<()> {
        self.inner().read(offset, out)
    }

    fn sync_for_device(&mut self) -> Result<()> {
        self.inner_mut().sync_for_device()
    }

    fn sync_for_cpu(&mut self) -> Result<()> {
        self.inner_mut().sync_for_cpu()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_copies_round_trip_at_every_misalignment() {
        let mut backing = vec![0u64; 16];
        let base = backing.as_mut_ptr().cast::<u8>();
        let data: Vec<u8> = (0..=60).collect();
        for start in 0..9 {
            for len in [0, 1, 7, 8, 9, 23, 61] {
                // SAFETY: start + len <= 70 < 128 bytes of `backing`.
                unsafe {
                    std::ptr::write_bytes(base, 0xEE, 128);
                    copy_to_device(base.add(start), &data[..len]);
                }
                let mut out = vec![0u8; len + 2];
                // SAFETY: start + len + 2 <= 72 < 128; `out` is separate memory.
                unsafe { copy_from_device(base.add(start), &mut out) };
                assert_eq!(&out[..len], &data[..len], "start {start} len {len}");
                assert_eq!(&out[len..], [0xEE, 0xEE], "wrote past the end");
                let mut before = [0u8; 1];
                if start > 0 {
                    // SAFETY: start - 1 is inside `backing`.
                    unsafe { copy_from_device(base.add(start - 1), &mut before) };
                    assert_eq!(before, [0xEE], "wrote before the start");
                }
            }
        }
    }
}
