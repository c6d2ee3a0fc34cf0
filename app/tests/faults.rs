//! `zynqdet` under faults, black-box through the binary: a cfg asking for more memory than
//! the limit, a source that ends mid-frame, an output that fills up, a reader that goes away,
//! SIGTERM. Each must give a clear exit code and one error line, never a panic or a hang, and
//! leave the output valid up to the last whole frame.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn zynqdet() -> Command {
    Command::new(env!("CARGO_BIN_EXE_zynqdet"))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A failure as the CLI reports it: exit 1, no panic, the last line one error with `needles`.
fn assert_clean_failure(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let last = err.trim_end().lines().last().unwrap_or_default();
    assert!(last.starts_with("zynqdet: error: "), "{err}");
    for n in needles {
        assert!(last.contains(n), "`{n}` missing from: {last}");
    }
}

const W: usize = 64;
const H: usize = 48;
const HEADER: &[u8] = b"YUV4MPEG2 W64 H48 F10:1 Ip A1:1 C420jpeg\n";
/// One 4:2:0 frame with its `FRAME\n` marker.
const FRAME_BYTES: usize = 6 + W * H * 3 / 2;

/// Frame `i` of a synthetic clip: grey with a bright square that moves.
fn frame(i: usize) -> Vec<u8> {
    let mut f = b"FRAME\n".to_vec();
    let mut y = vec![60u8; W * H];
    for row in 10..30 {
        for col in (i * 3) % 40..(i * 3) % 40 + 16 {
            y[row * W + col] = 220;
        }
    }
    f.extend(y);
    f.extend(vec![128u8; W * H / 2]);
    f
}

fn clip(path: &Path, frames: usize) {
    let mut bytes = HEADER.to_vec();
    (0..frames).for_each(|i| bytes.extend(frame(i)));
    std::fs::write(path, bytes).unwrap();
}

/// Whole frames in a Y4M file we wrote (our sink writes the header line as given by its size),
/// and whether anything follows the last whole frame.
fn y4m_whole_frames(path: &Path) -> (usize, usize) {
    let bytes = std::fs::read(path).unwrap();
    let nl = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    let header = std::str::from_utf8(&bytes[..nl]).unwrap();
    let dim = |tag: char| -> usize {
        header
            .split_whitespace()
            .find_map(|t| t.strip_prefix(tag))
            .unwrap()
            .parse()
            .unwrap()
    };
    let (w, h) = (dim('W'), dim('H'));
    let frame = 6 + w * h * 3 / 2;
    let body = &bytes[nl..];
    let whole = body.len() / frame;
    for i in 0..whole {
        assert_eq!(&body[i * frame..i * frame + 6], b"FRAME\n", "frame {i}");
    }
    (whole, body.len() % frame)
}

fn json_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

#[test]
fn a_cfg_past_the_memory_limit_is_one_line_with_the_figure() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = |name: &str, side: usize| -> PathBuf {
        let path = dir.path().join(name);
        let text = format!(
            "[net]\nwidth={side}\nheight={side}\nchannels=3\n\
             [convolutional]\nfilters=7\nsize=1\nactivation=linear\n\
             [region]\nanchors=1,1\nclasses=2\ncoords=4\nnum=1\n"
        );
        std::fs::write(&path, text).unwrap();
        path
    };
    // Darknet .weights for that cfg: header 0.2.0, 64-bit `seen`, 7 biases, 7x3 weights.
    let weights = dir.path().join("tiny.weights");
    let mut bytes: Vec<u8> = [0i32, 2, 0].iter().flat_map(|v| v.to_le_bytes()).collect();
    bytes.extend(0u64.to_le_bytes());
    bytes.extend((0..28).flat_map(|i| (i as f32 * 0.01).to_le_bytes()));
    std::fs::write(&weights, bytes).unwrap();
    let image = system_tests::sample("dog.jpg");

    let huge = cfg("huge.cfg", 60000);
    let o = zynqdet()
        .args([
            "detect",
            "--cfg",
            p(&huge),
            "--weights",
            p(&weights),
            p(&image),
        ])
        .env_remove("ZYNQDET_MAX_MEMORY")
        .output()
        .unwrap();
    assert_clean_failure(
        &o,
        &[
            &format!("{}:5: the network needs 174.3 GiB of memory", p(&huge)),
            "ZYNQDET_MAX_MEMORY",
        ],
    );
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));

    // The same network at 32x32 runs; the variable lowers the limit below it.
    let small = cfg("small.cfg", 32);
    let run = |limit: Option<&str>| {
        let mut c = zynqdet();
        c.args([
            "detect",
            "--cfg",
            p(&small),
            "--weights",
            p(&weights),
            p(&image),
        ]);
        match limit {
            Some(l) => c.env("ZYNQDET_MAX_MEMORY", l),
            None => c.env_remove("ZYNQDET_MAX_MEMORY"),
        };
        c.output().unwrap()
    };
    let o = run(None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_clean_failure(&run(Some("1K")), &["more than the limit of 1.0 KiB"]);
    assert_clean_failure(
        &run(Some("lots")),
        &["ZYNQDET_MAX_MEMORY=`lots` is not a size"],
    );
}

#[test]
fn a_fifo_that_closes_mid_frame_gives_the_frames_before_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("camera.y4m");
    let c = std::ffi::CString::new(p(&fifo)).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates the node.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let writer_path = fifo.clone();
    // The "camera": three whole frames, half of the fourth, then it goes away.
    let writer = std::thread::spawn(move || {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&writer_path)
            .unwrap();
        f.write_all(HEADER).unwrap();
        for i in 0..3 {
            f.write_all(&frame(i)).unwrap();
            std::thread::sleep(Duration::from_millis(50));
        }
        f.write_all(&frame(3)[..FRAME_BYTES / 2]).unwrap();
    });
    let (out, dets) = (dir.path().join("out.y4m"), dir.path().join("dets.jsonl"));
    let o = zynqdet()
        .args(["run", "-i", p(&fifo), "-o", p(&out), "--json", p(&dets)])
        .output()
        .unwrap();
    writer.join().unwrap();
    assert_clean_failure(&o, &[p(&fifo), "truncated"]);
    assert_eq!(y4m_whole_frames(&out), (3, 0));
    let lines = json_lines(&dets);
    let frames: Vec<u64> = lines.iter().map(|l| l["frame"].as_u64().unwrap()).collect();
    assert_eq!(frames, [0, 1, 2]);
}

#[test]
fn a_full_output_is_one_error_and_the_file_holds_whole_frames() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.y4m");
    clip(&input, 20);
    let (out, dets) = (dir.path().join("out.y4m"), dir.path().join("dets.jsonl"));
    // Room for the header and 4.5 frames: the fifth frame's write fails with EFBIG.
    let limit = (HEADER.len() + FRAME_BYTES * 9 / 2) as libc::rlim_t;
    let mut cmd = zynqdet();
    cmd.args(["run", "-i", p(&input), "-o", p(&out), "--json", p(&dets)]);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            // Past the limit a write fails with EFBIG instead of the process dying of SIGXFSZ.
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let r = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &r) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let o = cmd.output().unwrap();
    assert_clean_failure(&o, &[p(&out), "cannot write"]);
    let (whole, rest) = y4m_whole_frames(&out);
    assert_eq!(whole, 4, "{rest} bytes after them");
    // Every frame that reached the file whole is also in the detections, in order.
    let frames: Vec<u64> = json_lines(&dets)
        .iter()
        .map(|l| l["frame"].as_u64().unwrap())
        .collect();
    assert!(frames.len() >= whole, "{frames:?}");
    assert!(frames.iter().enumerate().all(|(i, &f)| f == i as u64));
}

#[test]
fn stdout_closed_early_is_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.y4m");
    clip(&input, 200);
    // As `zynqdet run ... --json - | head -1`.
    let mut child = zynqdet()
        .args(["run", "-i", p(&input), "--json", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let line: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(line["frame"], 0);
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    assert_clean_failure(&o, &["-: cannot write"]);
}

#[test]
fn sigterm_drains_and_closes_like_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.y4m");
    clip(&input, 400);
    let (out, dets) = (dir.path().join("out.y4m"), dir.path().join("dets.jsonl"));
    let child = zynqdet()
        .args(["run", "-i", p(&input), "-o", p(&out), "--json", p(&dets)])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while std::fs::read_to_string(&dets).map_or(0, |s| s.lines().count()) < 2 {
        assert!(start.elapsed() < Duration::from_secs(60), "no frames");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: signals our own child, which has not been waited for.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(err.contains("stopping"), "{err}");
    let written = json_lines(&dets).len();
    assert!((2..400).contains(&written), "{written} frames");
    assert_eq!(y4m_whole_frames(&out), (written, 0));
}

#[test]
fn declared_frame_sizes_past_the_limits_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    // Y4M: a 20000x20000 header, no allocation of its 600 MB frame.
    let y4m = dir.path().join("huge.y4m");
    std::fs::write(&y4m, b"YUV4MPEG2 W20000 H20000 F10:1 C420jpeg\nFRAME\n").unwrap();
    let o = zynqdet().args(["run", "-i", p(&y4m)]).output().unwrap();
    assert_clean_failure(&o, &[p(&y4m), "20000x20000"]);

    // AVI: our own two-frame recording with its first frame chunk declaring 2 GB.
    let input = dir.path().join("in.y4m");
    clip(&input, 2);
    let avi = dir.path().join("two.avi");
    let o = zynqdet()
        .args(["run", "-i", p(&input), "-o", p(&avi)])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let mut bytes = std::fs::read(&avi).unwrap();
    let chunk = bytes.windows(4).position(|w| w == b"00dc").unwrap();
    bytes[chunk + 4..chunk + 8].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
    std::fs::write(&avi, &bytes).unwrap();
    let o = zynqdet().args(["run", "-i", p(&avi)]).output().unwrap();
    assert_clean_failure(&o, &[p(&avi), &format!("at byte {chunk}")]);
}

#[test]
fn a_hanging_accelerator_mid_stream_loses_and_reorders_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let frames = dir.path().join("frames");
    std::fs::create_dir(&frames).unwrap();
    for i in 0..6 {
        let name = if i % 2 == 0 { "dog.jpg" } else { "person.jpg" };
        std::fs::copy(
            system_tests::sample(name),
            frames.join(format!("{i:02}.jpg")),
        )
        .unwrap();
    }
    let run = |hang: Option<&str>, json: &Path| {
        let mut c = zynqdet();
        c.args([
            "run",
            "-i",
            p(&frames),
            "--json",
            p(json),
            "--backend",
            "model",
        ]);
        match hang {
            Some(n) => c.env("ZYNQDET_MODEL_HANG_AFTER", n),
            None => c.env_remove("ZYNQDET_MODEL_HANG_AFTER"),
        };
        c.output().unwrap()
    };
    let (clean, hung) = (
        dir.path().join("clean.jsonl"),
        dir.path().join("hung.jsonl"),
    );
    let o = run(None, &clean);
    assert!(o.status.success(), "{}", stderr(&o));
    // Hangs a few segments into the stream; every call after that times out.
    let o = run(Some("5"), &hung);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("this frame runs on the CPU"),
        "no fallback: {err}"
    );
    let (a, b) = (json_lines(&clean), json_lines(&hung));
    assert_eq!(a.len(), 6);
    assert!(a
        .iter()
        .any(|l| !l["detections"].as_array().unwrap().is_empty()));
    // The CPU recomputes what the engine did not finish, bit for bit: the same lines in order.
    assert_eq!(a, b);
}
