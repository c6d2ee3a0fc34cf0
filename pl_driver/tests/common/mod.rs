//! The fake board the board-backend tests run on: a temporary tree with `<root>/sys`
//! (`class/uio`, `class/u-dma-buf`) and `<root>/dev`, where plain files stand in for
//! `/dev/uioN` and `/dev/udmabufN` (mmap works on them as on the devices).

use std::fs;
use std::path::PathBuf;

pub struct FakeBoard {
    _root: tempfile::TempDir,
    pub sys: PathBuf,
    pub dev: PathBuf,
}

impl FakeBoard {
    pub fn new() -> FakeBoard {
        let root = tempfile::tempdir().unwrap();
        let (sys, dev) = (root.path().join("sys"), root.path().join("dev"));
        fs::create_dir_all(sys.join("class/uio")).unwrap();
        fs::create_dir_all(&dev).unwrap();
        FakeBoard {
            _root: root,
            sys,
            dev,
        }
    }

    /// `uio<n>` named `name` whose map0 `addr` and `size` attributes hold the given text
    /// (`None`: no such file), and whose device file holds `contents`.
    pub fn add_uio_device(
        &self,
        n: usize,
        name: &str,
        addr: Option<&str>,
        size: Option<&str>,
        contents: Vec<u8>,
    ) -> PathBuf {
        let dir = self.sys.join(format!("class/uio/uio{n}"));
        let map = dir.join("maps/map0");
        fs::create_dir_all(&map).unwrap();
        fs::write(dir.join("name"), format!("{name}\n")).unwrap();
        for (attr, value) in [("addr", addr), ("size", size), ("offset", Some("0x0"))] {
            if let Some(v) = value {
                fs::write(map.join(attr), format!("{v}\n")).unwrap();
            }
        }
        let file = self.dev.join(format!("uio{n}"));
        fs::write(&file, contents).unwrap();
        file
    }

    /// A u-dma-buf device `name` of `size` bytes at `phys`, with its sync attributes; returns
    /// its sysfs directory.
    pub fn add_udmabuf(&self, name: &str, phys: u64, size: usize) -> PathBuf {
        let dir = self.sys.join("class/u-dma-buf").join(name);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("phys_addr"), format!("{phys:#018x}\n")).unwrap();
        fs::write(dir.join("size"), format!("{size}\n")).unwrap();
        for attr in [
            "sync_offset",
            "sync_size",
            "sync_direction",
            "sync_for_cpu",
            "sync_for_device",
        ] {
            fs::write(dir.join(attr), "0\n").unwrap();
        }
        fs::write(self.dev.join(name), vec![0u8; size]).unwrap();
        dir
    }
}
