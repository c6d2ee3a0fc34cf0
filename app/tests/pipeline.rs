//! `zynqdet run` as a user runs it: recordings in, annotated video and detections out, checked
//! with ffprobe (apt-get install ffmpeg), and damaged inputs.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn zynqdet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zynqdet"))
        .args(args)
        .output()
        .expect("zynqdet runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn shared_video() -> Option<PathBuf> {
    system_tests::shared("video/vtest-768x576-10fps.mjpeg.avi")
}

/// Whether ffmpeg and ffprobe are installed; when not, a SKIPPED line for what needs them.
fn ffmpeg_installed(what: &str) -> bool {
    let runs = |tool: &str| {
        Command::new(tool)
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let installed = runs("ffmpeg") && runs("ffprobe");
    if !installed {
        system_tests::skipped(&format!(
            "{what} needs ffmpeg, which is not installed (apt-get install ffmpeg)"
        ));
    }
    installed
}

/// ffprobe's view of a video, `want`, where ffprobe is installed.
fn assert_probe(path: &Path, want: (&str, usize, usize, usize)) {
    if ffmpeg_installed("the ffprobe check") {
        let (codec, w, h, n) = ffprobe(path);
        assert_eq!((codec.as_str(), w, h, n), want, "{}", path.display());
    }
}

/// What ffprobe finds in a video: (codec, width, height, frames decoded).
fn ffprobe(path: &Path) -> (String, usize, usize, usize) {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
        .args([
            "-show_entries",
            "stream=codec_name,width,height,nb_read_frames",
        ])
        .args(["-of", "csv=p=0"])
        .arg(path)
        .output()
        .expect("ffprobe runs (apt-get install ffmpeg)");
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "ffprobe on {}: {} {}",
        path.display(),
        text,
        String::from_utf8_lossy(&out.stderr)
    );
    let f: Vec<&str> = text.split(',').collect();
    assert_eq!(f.len(), 4, "{text}");
    (
        f[0].to_string(),
        f[1].parse().unwrap(),
        f[2].parse().unwrap(),
        f[3].parse().unwrap(),
    )
}

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-nostdin"])
        .args(args)
        .output()
        .expect("ffmpeg runs (apt-get install ffmpeg)");
    assert!(out.status.success(), "ffmpeg {args:?}: {}", stderr(&out));
}

fn json_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
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

const W: usize = 160;
const H: usize = 120;

/// Where the moving rectangle's left edge is in frame `i`.
fn rect_x(i: usize) -> usize {
    8 + 9 * i
}

/// A synthetic clip: black, with a white 24x40 rectangle moving right and a red one moving
/// down, as Y4M (4:4:4, so every pixel is exact) at `fps`.
fn synthetic_y4m(path: &Path, frames: usize, fps: u32) {
    let mut out = format!("YUV4MPEG2 W{W} H{H} F{fps}:1 Ip A1:1 C444\n").into_bytes();
    for i in 0..frames {
        let mut y = vec![16u8; W * H];
        let mut u = vec![128u8; W * H];
        let mut v = vec![128u8; W * H];
        for row in 30..70 {
            for col in rect_x(i)..rect_x(i) + 24 {
                y[row * W + col] = 235;
            }
        }
        let ry = 4 + 6 * i;
        for row in ry..(ry + 20).min(H) {
            for col in 120..150 {
                (y[row * W + col], u[row * W + col], v[row * W + col]) = (82, 90, 240);
            }
        }
        out.extend(b"FRAME\n");
        out.extend(y);
        out.extend(u);
        out.extend(v);
    }
    std::fs::write(path, out).unwrap();
}

/// Frames of a 4:2:0 Y4M file as luma planes.
fn y4m_luma_frames(path: &Path) -> (usize, usize, Vec<Vec<u8>>) {
    let bytes = std::fs::read(path).unwrap();
    let nl = bytes.iter().position(|&b| b == b'\n').unwrap();
    let header = String::from_utf8_lossy(&bytes[..nl]).to_string();
    let get = |k: char| -> usize {
        header
            .split(' ')
            .find_map(|w| w.strip_prefix(k))
            .unwrap()
            .parse()
            .unwrap()
    };
    let (w, h) = (get('W'), get('H'));
    assert!(header.contains("C420"), "{header}");
    let frame = w * h + 2 * w.div_ceil(2) * h.div_ceil(2);
    let mut frames = Vec::new();
    let mut at = nl + 1;
    while at < bytes.len() {
        assert_eq!(&bytes[at..at + 6], b"FRAME\n");
        frames.push(bytes[at + 6..at + 6 + w * h].to_vec());
        at += 6 + frame;
    }
    assert_eq!(at, bytes.len(), "whole frames only");
    (w, h, frames)
}

#[test]
fn recording_to_annotated_avi_and_json_lines() {
    let Some(video) = shared_video() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (out, dets) = (dir.path().join("out.avi"), dir.path().join("dets.jsonl"));
    let o = zynqdet(&[
        "run",
        "--input",
        p(&video),
        "--output",
        p(&out),
        "--json",
        p(&dets),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("120 frames in, 120 out, 0 dropped"),
        "{}",
        stderr(&o)
    );
    assert_probe(&out, ("mjpeg", 768, 576, 120));
    let lines = json_lines(&dets);
    assert_eq!(lines.len(), 120);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["frame"], i);
        assert!((l["timestamp"].as_f64().unwrap() - i as f64 * 0.1).abs() < 1e-6);
        assert_eq!(
            (l["width"].as_u64(), l["height"].as_u64()),
            (Some(768), Some(576))
        );
    }
    // pedestrians: most frames have a person in them
    let with_person = lines
        .iter()
        .filter(|l| {
            l["detections"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["class"] == "person")
        })
        .count();
    assert!(
        with_person > 90,
        "{with_person} of 120 frames with a person"
    );
    let d = &lines[0]["detections"][0];
    assert!(d["prob"].as_f64().unwrap() > 0.3 && d["box"].as_array().unwrap().len() == 4);
}

#[test]
fn synthetic_clip_keeps_count_order_and_times_through_every_stage() {
    let dir = tempfile::tempdir().unwrap();
    let (input, out, dets) = (
        dir.path().join("clip.y4m"),
        dir.path().join("out.y4m"),
        dir.path().join("dets.jsonl"),
    );
    let frames = 12;
    synthetic_y4m(&input, frames, 5);
    // --thresh 0.99: no boxes drawn over the rectangles whose positions are checked
    let o = zynqdet(&[
        "run",
        "--input",
        p(&input),
        "--output",
        p(&out),
        "--json",
        p(&dets),
        "--stats",
        "--thresh",
        "0.99",
    ]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("12 in, 12 out, 0 dropped"), "{err}");
    // every stage handled every frame
    for stage in [
        "capture",
        "preprocess",
        "cpu-front",
        "accelerator",
        "cpu-back",
        "postprocess",
        "annotate",
        "output",
        "end-to-end",
    ] {
        let line = err
            .lines()
            .find(|l| l.split_whitespace().next() == Some(stage))
            .unwrap_or_else(|| panic!("no `{stage}` line in {err}"));
        assert_eq!(line.split_whitespace().nth(1), Some("12"), "{line}");
    }
    // the output frames are the input frames, in order
    let (w, h, luma) = y4m_luma_frames(&out);
    assert_eq!((w, h, luma.len()), (W, H, frames));
    for (i, f) in luma.iter().enumerate() {
        let cols: Vec<usize> = (0..W).filter(|&x| f[50 * W + x] > 150).collect();
        let left = *cols.first().expect("the white rectangle");
        assert!(
            left.abs_diff(rect_x(i)) <= 1,
            "frame {i}: rectangle at {left}, expected {}",
            rect_x(i)
        );
    }
    // and the detections file has one line per frame, in order, at the clip's times
    let lines = json_lines(&dets);
    assert_eq!(lines.len(), frames);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["frame"], i);
        assert!(
            (l["timestamp"].as_f64().unwrap() - i as f64 * 0.2).abs() < 1e-6,
            "{l}"
        );
    }

    // the same clip as an MJPEG AVI made by ffmpeg reads the same way
    if !ffmpeg_installed("reading an AVI that ffmpeg made") {
        return;
    }
    let avi = dir.path().join("clip.avi");
    ffmpeg(&["-i", p(&input), "-c:v", "mjpeg", "-q:v", "3", p(&avi)]);
    let out_avi = dir.path().join("out.avi");
    let o = zynqdet(&["run", "-i", p(&avi), "-o", p(&out_avi), "--json", p(&dets)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_probe(&out_avi, ("mjpeg", W, H, frames));
    let lines = json_lines(&dets);
    assert_eq!(lines.len(), frames);
    assert!((lines[11]["timestamp"].as_f64().unwrap() - 2.2).abs() < 1e-6);
}

/// An MJPEG AVI made by ffmpeg from the synthetic clip: (path, offsets of its frame chunks).
fn synthetic_avi(dir: &Path, frames: usize) -> Option<(PathBuf, Vec<usize>)> {
    if !ffmpeg_installed("an AVI that ffmpeg made") {
        return None;
    }
    let y4m = dir.join("clip.y4m");
    synthetic_y4m(&y4m, frames, 10);
    let avi = dir.join("clip.avi");
    ffmpeg(&["-i", p(&y4m), "-c:v", "mjpeg", "-q:v", "3", p(&avi)]);
    let bytes = std::fs::read(&avi).unwrap();
    let movi = bytes.windows(4).position(|w| w == b"movi").unwrap();
    let mut chunks = Vec::new();
    let mut at = movi + 4;
    while chunks.len() < frames {
        let size = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        if &bytes[at..at + 4] == b"00dc" {
            chunks.push(at);
        }
        at += 8 + size + (size & 1);
    }
    Some((avi, chunks))
}

#[test]
fn truncated_avi_is_an_error_and_the_output_plays() {
    let dir = tempfile::tempdir().unwrap();
    let Some((avi, chunks)) = synthetic_avi(dir.path(), 8) else {
        return;
    };
    let cut = chunks[5] + 100; // inside frame 5
    let bytes = std::fs::read(&avi).unwrap();
    let damaged = dir.path().join("cut.avi");
    std::fs::write(&damaged, &bytes[..cut]).unwrap();
    let (out, dets) = (dir.path().join("out.avi"), dir.path().join("dets.jsonl"));
    let o = zynqdet(&["run", "-i", p(&damaged), "-o", p(&out), "--json", p(&dets)]);
    assert_clean_failure(
        &o,
        &[
            p(&damaged),
            &format!("at byte {}: truncated: chunk '00dc' declares", chunks[5]),
        ],
    );
    // the five frames before the damage went all the way through
    assert_probe(&out, ("mjpeg", W, H, 5));
    assert_eq!(json_lines(&dets).len(), 5);
}

#[test]
fn avi_with_bad_headers_is_an_error_and_the_output_plays() {
    let dir = tempfile::tempdir().unwrap();
    let Some((avi, chunks)) = synthetic_avi(dir.path(), 6) else {
        return;
    };
    let good = std::fs::read(&avi).unwrap();
    let out = dir.path().join("out.avi");

    // a damaged file header: nothing can be read, so no output is made
    let mut bytes = good.clone();
    bytes[8..12].copy_from_slice(b"WAVE");
    let damaged = dir.path().join("riff.avi");
    std::fs::write(&damaged, &bytes).unwrap();
    let o = zynqdet(&["run", "-i", p(&damaged), "-o", p(&out)]);
    assert_clean_failure(&o, &[p(&damaged), "at byte 0: not an AVI file"]);
    assert!(!out.exists(), "no output for an unreadable input");

    // the 'strf' header giving a zero-sized picture
    let mut bytes = good.clone();
    let strf = bytes.windows(4).position(|w| w == b"strf").unwrap();
    bytes[strf + 12..strf + 16].copy_from_slice(&0u32.to_le_bytes());
    std::fs::write(&damaged, &bytes).unwrap();
    let o = zynqdet(&["run", "-i", p(&damaged), "-o", p(&out)]);
    assert_clean_failure(
        &o,
        &[&format!(
            "at byte {strf}: bad header: the video stream's frames are 0x{H}"
        )],
    );

    // a damaged chunk header in the middle of the frames: the frames before it come out
    let mut bytes = good.clone();
    bytes[chunks[3]..chunks[3] + 4].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    std::fs::write(&damaged, &bytes).unwrap();
    let o = zynqdet(&["run", "-i", p(&damaged), "-o", p(&out)]);
    assert_clean_failure(
        &o,
        &[&format!(
            "at byte {}: bad chunk header: id 0xdeadbeef",
            chunks[3]
        )],
    );
    assert_probe(&out, ("mjpeg", W, H, 3));
}

#[test]
fn ctrl_c_stops_and_leaves_a_valid_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("long.y4m");
    synthetic_y4m(&input, 40, 10);
    let (out, dets) = (dir.path().join("out.avi"), dir.path().join("dets.jsonl"));
    let child = Command::new(env!("CARGO_BIN_EXE_zynqdet"))
        .args(["run", "-i", p(&input), "-o", p(&out), "--json", p(&dets)])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while json_lines_so_far(&dets) < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no frames written"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(err.contains("stopping"), "{err}");
    let written = json_lines(&dets).len();
    assert!((2..40).contains(&written), "{written} frames");
    assert_probe(&out, ("mjpeg", W, H, written));
}

fn json_lines_so_far(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |s| s.lines().count())
}

#[test]
fn realtime_replay_paces_and_drops_like_a_camera() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("fast.y4m");
    // 200 frames/s is faster than the network on any machine: frames must be dropped
    synthetic_y4m(&input, 16, 200);
    let dets = dir.path().join("dets.jsonl");
    let start = Instant::now();
    let o = zynqdet(&["run", "-i", p(&input), "--json", p(&dets), "--realtime"]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    // the last frame is not read before its time
    assert!(
        start.elapsed() >= Duration::from_millis(75),
        "{:?}",
        start.elapsed()
    );
    let summary = err.lines().find(|l| l.contains("frames in,")).unwrap();
    // "PATH: 16 frames in, 5 out, 11 dropped, 60.1 frames/s"
    let counts: Vec<u64> = summary
        .rsplit(": ")
        .next()
        .unwrap()
        .split(", ")
        .take(3)
        .map(|part| part.split(' ').next().unwrap().parse().unwrap())
        .collect();
    let n = |word: &str| {
        counts[["in", "out", "dropped"]
            .iter()
            .position(|w| *w == word)
            .unwrap()]
    };
    assert_eq!(n("in"), 16, "{summary}");
    assert!(n("dropped") > 0, "{summary}");
    assert_eq!(n("out") + n("dropped"), 16, "{summary}");
    // what was kept is in order, with the recording's times
    let lines = json_lines(&dets);
    assert_eq!(lines.len() as u64, n("out"));
    let frames: Vec<u64> = lines.iter().map(|l| l["frame"].as_u64().unwrap()).collect();
    assert!(frames.windows(2).all(|w| w[0] < w[1]), "{frames:?}");
    for l in &lines {
        let t = l["timestamp"].as_f64().unwrap();
        assert!((t - l["frame"].as_f64().unwrap() / 200.0).abs() < 1e-6);
    }
}

#[test]
fn image_folder_gives_the_still_image_detections_as_png_frames() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images");
    std::fs::create_dir(&images).unwrap();
    for name in ["a.jpg", "b.jpg"] {
        std::fs::copy(repo().join("samples/dog.jpg"), images.join(name)).unwrap();
    }
    let (frames, dets) = (dir.path().join("frames/"), dir.path().join("dets.jsonl"));
    let o = zynqdet(&[
        "run",
        "-i",
        p(&images),
        "-o",
        p(&frames),
        "--json",
        p(&dets),
        "--backend",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for i in 0..2 {
        let png = image::open(frames.join(format!("{i:06}.png"))).unwrap();
        assert_eq!((png.width(), png.height()), (768, 576));
    }
    let still = zynqdet(&[
        "detect",
        "--json",
        "--backend",
        "cpu",
        p(&repo().join("samples/dog.jpg")),
    ]);
    let still: Value = serde_json::from_slice(&still.stdout).unwrap();
    for l in json_lines(&dets) {
        assert_eq!(l["detections"], still["detections"]);
    }
}

#[test]
fn other_containers_go_through_ffmpeg_or_say_it_is_missing() {
    if !ffmpeg_installed("reading other containers") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let y4m = dir.path().join("clip.y4m");
    synthetic_y4m(&y4m, 4, 10);
    let mkv = dir.path().join("clip.mkv");
    ffmpeg(&["-i", p(&y4m), "-c:v", "ffv1", p(&mkv)]);
    let dets = dir.path().join("dets.jsonl");
    let o = zynqdet(&[
        "run",
        "-i",
        p(&mkv),
        "--json",
        p(&dets),
        "--max-frames",
        "3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json_lines(&dets).len(), 3);

    let o = Command::new(env!("CARGO_BIN_EXE_zynqdet"))
        .args(["run", "-i", p(&mkv)])
        .env("ZYNQDET_FFMPEG", dir.path().join("no-such-ffmpeg"))
        .output()
        .unwrap();
    assert_clean_failure(&o, &[p(&mkv), "needs ffmpeg, which is not installed"]);

    let text = dir.path().join("notes.mp4");
    std::fs::write(&text, "not a video").unwrap();
    let o = zynqdet(&["run", "-i", p(&text)]);
    assert_clean_failure(&o, &[p(&text), "ffmpeg cannot read it"]);
}

#[test]
fn bad_options_and_missing_inputs_are_one_line_errors() {
    let o = zynqdet(&["run", "-i", "/nonexistent/clip.avi"]);
    assert_clean_failure(&o, &["/nonexistent/clip.avi: no such file or directory"]);
    let o = zynqdet(&["run", "-i", "/nonexistent/clip.avi", "-o", "out.mp4"]);
    assert_clean_failure(&o, &["out.mp4: cannot tell the output format"]);
}

#[test]
fn camera_device() {
    let dev = Path::new("/dev/video0");
    if !dev.exists() {
        system_tests::skipped("no /dev/video0 on this machine");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dets = dir.path().join("dets.jsonl");
    let o = zynqdet(&["run", "-i", p(dev), "--json", p(&dets), "--max-frames", "5"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!json_lines(&dets).is_empty());
}

#[test]
fn framebuffer_device() {
    let dev = Path::new("/dev/fb0");
    if !dev.exists() {
        system_tests::skipped("no /dev/fb0 on this machine");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("clip.y4m");
    synthetic_y4m(&input, 3, 10);
    let o = zynqdet(&["run", "-i", p(&input), "-o", p(dev)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("3 frames in, 3 out"), "{}", stderr(&o));
}

/// A one-frame MJPEG AVI whose frame is `jpeg`'s bytes, as a camera recording would hold it.
fn one_frame_mjpeg_avi(jpeg: &[u8], w: u32, h: u32) -> Vec<u8> {
    fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut c = id.to_vec();
        c.extend((body.len() as u32).to_le_bytes());
        c.extend(body);
        if body.len() % 2 == 1 {
            c.push(0);
        }
        c
    }
    fn list(kind: &[u8; 4], items: &[Vec<u8>]) -> Vec<u8> {
        let mut body = kind.to_vec();
        items.iter().for_each(|i| body.extend(i));
        chunk(b"LIST", &body)
    }
    let words = |v: &[u32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    // avih: 10 frames/s, one frame, one stream, the size
    let avih = words(&[100_000, 0, 0, 0x10, 1, 0, 1, 0, w, h, 0, 0, 0, 0]);
    let mut strh = b"vidsMJPG".to_vec();
    // flags, priority+language, initial frames, scale, rate, start, length, buffer, quality,
    // sample size, frame rectangle
    strh.extend(words(&[0, 0, 0, 1, 10, 0, 1, 0, u32::MAX, 0, 0, 0]));
    let mut strf = words(&[40, w, h]);
    strf.extend(1u16.to_le_bytes());
    strf.extend(24u16.to_le_bytes());
    strf.extend(b"MJPG");
    strf.extend(words(&[w * h * 3, 0, 0, 0, 0]));
    let hdrl = list(
        b"hdrl",
        &[
            chunk(b"avih", &avih),
            list(b"strl", &[chunk(b"strh", &strh), chunk(b"strf", &strf)]),
        ],
    );
    let movi = list(b"movi", &[chunk(b"00dc", jpeg)]);
    let mut body = b"AVI ".to_vec();
    body.extend(hdrl);
    body.extend(movi);
    chunk(b"RIFF", &body)
}

/// One picture, three ways in: `detect` on the file, `run` on a folder holding it, and `run`
/// on an MJPEG AVI whose one frame is its JPEG bytes. One letterbox serves all three, so the
/// detections are identical, to the last digit of every probability.
#[test]
fn a_picture_gives_one_set_of_detections_through_every_path() {
    let dir = tempfile::tempdir().unwrap();
    let jpeg_path = repo().join("samples/person.jpg");
    let jpeg = std::fs::read(&jpeg_path).unwrap();
    let still = zynqdet(&["detect", "--json", p(&jpeg_path)]);
    assert!(still.status.success(), "{}", stderr(&still));
    let still: Value = serde_json::from_str(String::from_utf8_lossy(&still.stdout).trim()).unwrap();
    assert!(
        !still["detections"].as_array().unwrap().is_empty(),
        "{still}"
    );
    let (w, h) = (
        still["width"].as_u64().unwrap(),
        still["height"].as_u64().unwrap(),
    );

    let folder = dir.path().join("images");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("person.jpg"), &jpeg).unwrap();
    let avi = dir.path().join("person.avi");
    std::fs::write(&avi, one_frame_mjpeg_avi(&jpeg, w as u32, h as u32)).unwrap();
    for input in [&folder, &avi] {
        let dets = dir.path().join("dets.jsonl");
        let o = zynqdet(&["run", "-i", p(input), "--json", p(&dets)]);
        assert!(o.status.success(), "{}: {}", input.display(), stderr(&o));
        let lines = json_lines(&dets);
        assert_eq!(lines.len(), 1, "{}", input.display());
        assert_eq!(
            lines[0]["detections"],
            still["detections"],
            "{}",
            input.display()
        );
    }
}
