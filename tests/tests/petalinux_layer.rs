//! The PetaLinux layer (petalinux/meta-zynqdet) against the rest of the repo: its crate list
//! against Cargo.lock, the files its recipes and README name, the start-up script's handling of
//! a bad configuration and of a missing camera, and (where systemd is installed) its units.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn layer() -> PathBuf {
    repo().join("petalinux/meta-zynqdet")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// (name, version) -> checksum of every registry package in Cargo.lock.
fn lock_crates() -> BTreeMap<(String, String), String> {
    let lock = read(&repo().join("Cargo.lock"));
    let mut out = BTreeMap::new();
    for block in lock.split("[[package]]").skip(1) {
        let field = |key: &str| {
            block.lines().find_map(|l| {
                l.strip_prefix(key)
                    .and_then(|v| v.strip_prefix(" = "))
                    .map(|v| v.trim_matches('"').to_string())
            })
        };
        let (Some(name), Some(version)) = (field("name"), field("version")) else {
            panic!("Cargo.lock: a package without name or version: {block}");
        };
        if field("source").is_some_and(|s| s.starts_with("registry+")) {
            let sum = field("checksum").unwrap_or_default();
            out.insert((name, version), sum);
        }
    }
    out
}

#[test]
fn the_recipes_crate_list_matches_cargo_lock() {
    let want = lock_crates();
    assert!(
        want.len() > 50,
        "Cargo.lock parsed to {} crates",
        want.len()
    );
    let inc_path = layer().join("recipes-apps/zynqdet/zynqdet-crates.inc");
    let inc = read(&inc_path);
    let mut urls = BTreeMap::new();
    let mut sums = BTreeMap::new();
    for line in inc.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("crate://crates.io/") {
            let rest = rest.trim_end_matches('\\').trim();
            let (name, version) = rest
                .split_once('/')
                .expect("crate://crates.io/NAME/VERSION");
            urls.insert((name.to_string(), version.to_string()), ());
        } else if let Some(rest) = line.strip_prefix("SRC_URI[") {
            let (key, value) = rest.split_once(".sha256sum] = ").expect("SRC_URI[...]");
            sums.insert(key.to_string(), value.trim_matches('"').to_string());
        }
    }
    let mut problems = Vec::new();
    for ((name, version), sum) in &want {
        if !urls.contains_key(&(name.clone(), version.clone())) {
            problems.push(format!("{name} {version}: in Cargo.lock, not in the list"));
        }
        match sums.get(&format!("{name}-{version}")) {
            Some(s) if s == sum => {}
            Some(s) => problems.push(format!("{name} {version}: sha256 {s}, Cargo.lock {sum}")),
            None => problems.push(format!("{name} {version}: no sha256sum")),
        }
    }
    for (name, version) in urls.keys() {
        if !want.contains_key(&(name.clone(), version.clone())) {
            problems.push(format!("{name} {version}: in the list, not in Cargo.lock"));
        }
    }
    if sums.len() != want.len() {
        problems.push(format!(
            "{} checksums for {} crates",
            sums.len(),
            want.len()
        ));
    }
    assert!(
        problems.is_empty(),
        "{}: disagrees with Cargo.lock (run scripts/yocto-crates.sh):\n{}",
        inc_path.display(),
        problems.join("\n")
    );
}

/// Every `file://NAME` of a recipe is in one of its `files/` folders; every layer path the
/// README names exists.
#[test]
fn the_files_the_recipes_and_the_readme_name_exist() {
    let mut recipes = Vec::new();
    let mut stack = vec![layer()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .extension()
                .is_some_and(|x| x == "bb" || x == "bbappend" || x == "inc")
            {
                recipes.push(p);
            }
        }
    }
    assert!(recipes.len() >= 5, "{recipes:?}");
    let mut missing = Vec::new();
    for r in &recipes {
        for word in read(r).split(|c: char| c.is_whitespace() || c == '"') {
            let Some(name) = word.strip_prefix("file://") else {
                continue;
            };
            let name = name.split(';').next().unwrap_or(name);
            if name.contains("${") || word.contains(";md5=") {
                continue; // a user's file (the bitstream), or a licence in the fetched source
            }
            let dir = r.parent().unwrap();
            let found = ["files", r.file_stem().unwrap().to_str().unwrap(), "."]
                .iter()
                .any(|sub| dir.join(sub).join(name).exists());
            if !found {
                missing.push(format!("{}: file://{name}", r.display()));
            }
        }
    }
    let readme = read(&repo().join("petalinux/README.md"));
    let mut named = 0;
    for word in readme.split(|c: char| c.is_whitespace() || "`()[],:".contains(c)) {
        if let Some(rest) = word.strip_prefix("meta-zynqdet/") {
            named += 1;
            let rest = rest.trim_end_matches('.');
            if !layer().join(rest).exists() {
                missing.push(format!("petalinux/README.md: {word}"));
            }
        }
    }
    assert!(named >= 5, "the README names {named} files of the layer");
    assert!(missing.is_empty(), "missing:\n{}", missing.join("\n"));
}

fn start_script(conf: &str, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zynqdet.conf");
    fs::write(&path, conf).unwrap();
    let out = Command::new("sh")
        .arg(layer().join("recipes-apps/zynqdet/files/zynqdet-start"))
        .args(args)
        .env("ZYNQDET_CONF", &path)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_bad_setting_is_one_line_and_exit_2() {
    for (conf, expect) in [
        (
            "thresh=1.5\n",
            ":1: thresh: '1.5' is not a number in [0, 1)",
        ),
        (
            "# camera\ninput=/dev/video0\nbackend = fpga\n",
            ":3: backend: 'fpga' is not a backend",
        ),
        (
            "output=/tmp/out.mp4\n",
            ":1: output: '/tmp/out.mp4' is not an output",
        ),
        ("size=640*480\n", ":1: size: '640*480' is not WIDTHxHEIGHT"),
        ("inptu=/dev/video0\n", ":1: unknown setting 'inptu'"),
        ("input /dev/video0\n", ":1: expected KEY=VALUE"),
    ] {
        let (code, stdout, stderr) = start_script(conf, &[], &[("ZYNQDET_BIN", "/bin/false")]);
        assert_eq!(code, 2, "{conf:?}: {stderr}");
        assert_eq!(stdout, "", "{conf:?}");
        assert_eq!(stderr.lines().count(), 1, "{conf:?}: {stderr}");
        assert!(
            stderr.starts_with("zynqdet-start: ")
                && stderr.contains("zynqdet.conf")
                && stderr.contains(expect),
            "{conf:?}: {stderr}"
        );
    }
    let (code, stdout, _) = start_script(
        "input=/dev/video0\noutput=/dev/fb0\nbackend=uio\nthresh=0.3\nsize=640x480\nfps=30\n",
        &["--check"],
        &[],
    );
    assert_eq!((code, stdout.contains(": good")), (0, true));
}

#[test]
fn a_missing_camera_is_retried_with_back_off() {
    // A /dev/video* path (so the script treats it as a camera) that no machine has.
    let (code, _, stderr) = start_script(
        "input=/dev/video-zynqdet-absent\n",
        &[],
        &[("ZYNQDET_TRIES", "2"), ("ZYNQDET_BIN", "/bin/false")],
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(lines[0]
        .ends_with("camera /dev/video-zynqdet-absent is not there (unplugged?); retrying in 1 s"));
    assert!(lines[1].ends_with("retrying in 2 s"), "{stderr}");
    assert!(lines[2].ends_with("gave up after 2 retries"), "{stderr}");
}

/// `systemd-analyze verify` on the layer's units, in a root holding them, the scripts they
/// start and the system's own units (which they order themselves against).
#[test]
fn systemd_accepts_the_units() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("SKIPPED: systemd-analyze not installed (Debian package systemd)");
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let units = root.path().join("usr/lib/systemd/system");
    let bin = root.path().join("usr/bin");
    fs::create_dir_all(&bin).unwrap();
    fs::create_dir_all(root.path().join("usr/lib/systemd")).unwrap();
    let copied = Command::new("cp")
        .args(["-r", "/usr/lib/systemd/system"])
        .arg(root.path().join("usr/lib/systemd"))
        .status()
        .unwrap();
    assert!(copied.success());
    let files = layer().join("recipes-apps/zynqdet/files");
    let pl_files = layer().join("recipes-bsp/zynqdet-pl/files");
    for (dir, unit) in [
        (&files, "zynqdet.service"),
        (&pl_files, "zynqdet-pl.service"),
    ] {
        fs::copy(dir.join(unit), units.join(unit)).unwrap();
    }
    for (dir, script) in [(&files, "zynqdet-start"), (&pl_files, "zynqdet-pl-load")] {
        fs::copy(dir.join(script), bin.join(script)).unwrap();
    }
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(format!("--root={}", root.path().display()))
        .args(["zynqdet.service", "zynqdet-pl.service"])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    // verify exits 0 on some faults (unknown keys, bad values) and only says so: any word fails.
    assert!(out.status.success() && text.trim().is_empty(), "{text}");
}
