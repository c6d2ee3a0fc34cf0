//! Builds the co-simulation backend (`rtl`) when it can: with `verilator` on PATH (or named by
//! `VERILATOR`) and the RTL in `../overlay`, it runs `make -C overlay lib`, links
//! `overlay/build/full/libw1a3sim.a` and the C++ runtime, and sets `cfg(rtl_backend)`. Without
//! Verilator, or when cross-compiling, the crate builds without that backend. `ZYNQDET_NO_RTL=1`
//! leaves it out on purpose.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(rtl_backend)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=VERILATOR");
    println!("cargo::rerun-if-env-changed=ZYNQDET_NO_RTL");
    println!("cargo::rerun-if-env-changed=PATH");

    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let overlay = manifest.join("../overlay");
    if std::env::var("ZYNQDET_NO_RTL").is_ok_and(|v| v == "1") {
        note("ZYNQDET_NO_RTL=1: building without the RTL co-simulation backend");
        return;
    }
    // The simulation library is built for the host; a cross build (the board) cannot link it.
    if std::env::var("TARGET").ok() != std::env::var("HOST").ok() {
        note("cross build: building without the RTL co-simulation backend");
        return;
    }
    if !overlay.join("Makefile").is_file() {
        note("no overlay/ beside pl_driver: building without the RTL co-simulation backend");
        return;
    }
    let verilator = std::env::var("VERILATOR").unwrap_or_else(|_| "verilator".into());
    let found = Command::new(&verilator)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        watch_path_for_verilator();
        note(&format!(
            "{verilator} not found: building without the RTL co-simulation backend (--backend rtl)"
        ));
        return;
    }

    for dir in ["rtl", "sim"] {
        println!("cargo::rerun-if-changed={}", overlay.join(dir).display());
    }
    println!(
        "cargo::rerun-if-changed={}",
        overlay.join("Makefile").display()
    );
    build_library(&overlay, &verilator);
    let lib_dir = overlay.join("build/full");
    println!("cargo::rustc-link-search=native={}", lib_dir.display());
    println!("cargo::rustc-link-lib=static=w1a3sim");
    println!("cargo::rustc-link-lib=dylib=stdc++");
    println!("cargo::rustc-cfg=rtl_backend");
}

/// `make -C overlay lib`, under a lock so that builds into several target directories of one
/// checkout do not run it at the same time.
fn build_library(overlay: &Path, verilator: &str) {
    let mut make = Command::new("make");
    make.arg("-C")
        .arg(overlay)
        .arg("lib")
        .arg(format!("VERILATOR={verilator}"));
    let lock = overlay.join("build/.cargo-lock");
    let mut cmd = if Command::new("flock").arg("--version").output().is_ok()
        && std::fs::create_dir_all(overlay.join("build")).is_ok()
    {
        let mut c = Command::new("flock");
        c.arg(&lock).arg(make.get_program()).args(make.get_args());
        c
    } else {
        make
    };
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run make for the RTL model: {e}"));
    if !out.status.success() {
        panic!(
            "`make -C {} lib` failed ({}); set ZYNQDET_NO_RTL=1 to build without the RTL backend\n\
             --- stdout\n{}\n--- stderr\n{}",
            overlay.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Makes cargo run this script again once Verilator is installed: cargo looks at the newest
/// modification time under each directory on PATH, and installing a program there updates the
/// directory's own time. Without this, installing Verilator after a first build changes nothing
/// cargo watches, and the backend stays missing until a clean build.
fn watch_path_for_verilator() {
    let Some(path) = std::env::var_os("PATH") else {
        return;
    };
    for dir in std::env::split_paths(&path) {
        if dir.is_absolute() && dir.is_dir() {
            println!("cargo::rerun-if-changed={}", dir.display());
        }
    }
}

/// A line in the build script's output (`cargo build -vv` shows it); not a cargo warning.
fn note(message: &str) {
    println!("pl_driver: {message}");
}
