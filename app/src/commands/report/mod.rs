//! `zynqdet report`: the JSON of `eval`, `bench`, `bench-pipeline` and `agreement` runs as an
//! HTML page with SVG plots, and a Markdown summary beside it.

mod plots;

use crate::results::{AgreementJson, BenchJson, BenchPipelineJson, BenchRow, EvalReport};
use anyhow::{bail, Context, Result};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// JSON files written by `eval`, `bench`, `bench-pipeline` and `agreement` with `--json`.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Folder to write index.html, summary.md and the plots into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

#[derive(Default)]
struct Inputs {
    evals: Vec<EvalReport>,
    benches: Vec<BenchJson>,
    pipelines: Vec<BenchPipelineJson>,
    agreements: Vec<AgreementJson>,
}

fn read(paths: &[PathBuf]) -> Result<Inputs> {
    let mut inputs = Inputs::default();
    for path in paths {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        let value: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
        let kind = value
            .get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or("")
            .to_string();
        let bad = || format!("{}: not a `{kind}` result of this zynqdet", path.display());
        match kind.as_str() {
            "eval" => inputs
                .evals
                .push(serde_json::from_value(value).with_context(bad)?),
            "bench" => inputs
                .benches
                .push(serde_json::from_value(value).with_context(bad)?),
            "bench-pipeline" => inputs
                .pipelines
                .push(serde_json::from_value(value).with_context(bad)?),
            "agreement" => inputs
                .agreements
                .push(serde_json::from_value(value).with_context(bad)?),
            _ => bail!(
                "{}: not the JSON of eval, bench, bench-pipeline or agreement (no known \"kind\")",
                path.display()
            ),
        }
    }
    Ok(inputs)
}

/// A plot: its file name, title and a sentence on how to read it.
struct Plot {
    file: String,
    title: String,
    note: String,
}

fn slug(text: &str) -> String {
    let s: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    s.split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A table as Markdown and as HTML.
struct Table {
    title: String,
    head: Vec<String>,
    rows: Vec<Vec<String>>,
    note: String,
}

impl Table {
    fn markdown(&self, out: &mut String) {
        let _ = writeln!(out, "## {}\n", self.title);
        let _ = writeln!(out, "| {} |", self.head.join(" | "));
        let _ = writeln!(out, "|{}", "---|".repeat(self.head.len()));
        for r in &self.rows {
            let _ = writeln!(out, "| {} |", r.join(" | "));
        }
        if !self.note.is_empty() {
            let _ = writeln!(out, "\n{}", self.note);
        }
        out.push('\n');
    }

    fn html(&self, out: &mut String) {
        let _ = writeln!(out, "<h2>{}</h2>\n<table>", html_escape(&self.title));
        let _ = write!(out, "<tr>");
        for h in &self.head {
            let _ = write!(out, "<th>{}</th>", html_escape(h));
        }
        let _ = writeln!(out, "</tr>");
        for r in &self.rows {
            let _ = write!(out, "<tr>");
            for c in r {
                // numbers right-aligned, so that their digits line up
                let class = if c.parse::<f64>().is_ok() {
                    " class=\"n\""
                } else {
                    ""
                };
                let _ = write!(out, "<td{class}>{}</td>", html_escape(c));
            }
            let _ = writeln!(out, "</tr>");
        }
        let _ = writeln!(out, "</table>");
        if !self.note.is_empty() {
            let _ = writeln!(out, "<p class=\"note\">{}</p>", html_escape(&self.note));
        }
    }
}

fn tables(inputs: &Inputs) -> Vec<Table> {
    let mut tables = Vec::new();
    if !inputs.evals.is_empty() {
        tables.push(eval_table(&inputs.evals));
    }
    tables.extend(inputs.benches.iter().map(bench_table));
    tables.extend(inputs.pipelines.iter().map(pipeline_table));
    tables.extend(inputs.agreements.iter().map(agreement_table));
    tables
}

fn eval_table(evals: &[EvalReport]) -> Table {
    Table {
        title: "Accuracy against ground truth (zynqdet eval)".into(),
        head: [
            "model",
            "level",
            "mAP@0.5 VOC07 11-pt",
            "mAP@0.5 all-pt",
            "frame ms p50",
            "images",
            "objects",
        ]
        .map(String::from)
        .to_vec(),
        rows: evals
            .iter()
            .map(|r| {
                vec![
                    r.model.clone(),
                    r.level.clone(),
                    format!("{:.1}", r.map11 * 100.0),
                    format!("{:.1}", r.map * 100.0),
                    format!("{:.1}", r.frame_ms_p50),
                    r.images.to_string(),
                    r.objects.to_string(),
                ]
            })
            .collect(),
        note: {
            let mut sets: Vec<&str> = evals.iter().map(|r| r.dataset.as_str()).collect();
            sets.dedup();
            format!(
                "mAP in percent over the classes that have objects in the dataset ({}); a \
                 few images decide it, so it is no estimate of the full VOC2007 test figure.",
                sets.join(", ")
            )
        },
    }
}

fn bench_table(b: &BenchJson) -> Table {
    Table {
        title: format!(
            "Frame times (zynqdet bench, {}, {} cores)",
            b.input, b.cores
        ),
        head: [
            "model", "level", "backend", "threads", "mode", "p50 ms", "p99 ms", "frames/s",
        ]
        .map(String::from)
        .to_vec(),
        rows: b
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.model.clone(),
                    r.level.clone(),
                    r.backend.clone(),
                    if r.threads == 0 {
                        "own".into()
                    } else {
                        r.threads.to_string()
                    },
                    r.mode.clone(),
                    format!("{:.1}", r.p50_ms),
                    format!("{:.1}", r.p99_ms),
                    format!("{:.2}", r.fps),
                ]
            })
            .collect(),
        note: format!(
            "single: one frame at a time (letterbox, network, decode); pipeline: latency \
             from capture to output, and the steady frame rate with frames in flight. {}",
            if b.skipped.is_empty() {
                String::new()
            } else {
                format!("Not measured: {}.", b.skipped.join("; "))
            }
        ),
    }
}

fn pipeline_table(p: &BenchPipelineJson) -> Table {
    Table {
        title: format!(
            "Pipeline stages (bench-pipeline, {}, {} frames, {} workers, backend {})",
            p.model, p.frames, p.workers, p.backend
        ),
        head: ["stage", "alone ms/frame", "in pipeline p50 ms"]
            .map(String::from)
            .to_vec(),
        rows: p
            .stages
            .iter()
            .map(|s| {
                vec![
                    s.stage.clone(),
                    format!("{:.2}", s.alone_ms),
                    format!("{:.2}", s.pipeline_p50_ms),
                ]
            })
            .collect(),
        note: format!(
            "sequential {:.2} frames/s, slowest-stage bound {:.2}, pipeline {:.2}",
            p.sequential_fps, p.bound_fps, p.pipeline_fps
        ),
    }
}

fn agreement_table(a: &AgreementJson) -> Table {
    Table {
        title: format!(
            "Agreement with FP32 (zynqdet agreement, {}, {} frames)",
            a.model, a.frames
        ),
        head: [
            "level",
            "mAP@0.5 vs FP32",
            "borderline",
            "class set changed",
            "output SNR dB",
            "frame ms",
        ]
        .map(String::from)
        .to_vec(),
        rows: a
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.level.clone(),
                    format!("{:.3}", r.map),
                    format!("{:.3}", r.borderline_map),
                    r.class_set_changed.to_string(),
                    r.output_snr_db
                        .map_or_else(|| "-".into(), |db| format!("{db:.1}")),
                    format!("{:.1}", r.frame_ms),
                ]
            })
            .collect(),
        note: "FP32's own detections are the ground truth here: agreement, not accuracy.".into(),
    }
}

fn draw(inputs: &Inputs, out: &Path) -> Result<Vec<Plot>> {
    let mut plots = Vec::new();
    let mut add = |file: String, title: &str, note: &str| {
        plots.push(Plot {
            file,
            title: title.into(),
            note: note.into(),
        })
    };
    if !inputs.evals.is_empty() {
        plots::speed_accuracy(&inputs.evals, &out.join("speed_accuracy.svg"))?;
        add(
            "speed_accuracy.svg".into(),
            "Speed against accuracy",
            "Each model and level measured here; the dashed line is a published figure on the \
             full VOC2007 test set, which the few images here cannot estimate.",
        );
        plots::per_class_ap(&inputs.evals, &out.join("per_class_ap.svg"))?;
        add(
            "per_class_ap.svg".into(),
            "AP per class",
            "Classes with objects in the dataset.",
        );
        for r in &inputs.evals {
            let file = format!("pr_{}.svg", slug(&format!("{} {}", r.model, r.level)));
            plots::pr_curves(r, &out.join(&file))?;
            add(
                file,
                &format!("Precision-recall, {} {}", r.model, r.level),
                "",
            );
        }
    }
    let singles: Vec<&BenchRow> = inputs
        .benches
        .iter()
        .flat_map(|b| &b.rows)
        .filter(|r| r.mode == "single" && !r.samples_ms.is_empty())
        .collect();
    // per-layer bars: each model and level on the most threads measured
    let mut seen = Vec::new();
    for r in &singles {
        let key = (&r.model, &r.level, &r.backend);
        if seen.contains(&key) || r.layers_ms.is_empty() {
            continue;
        }
        seen.push(key);
        let best = singles
            .iter()
            .filter(|s| (&s.model, &s.level, &s.backend) == key)
            .max_by_key(|s| s.threads)
            .expect("r itself");
        let file = format!(
            "layers_{}.svg",
            slug(&format!("{} {} {}", r.model, r.level, r.backend))
        );
        plots::layer_times(best, &out.join(&file))?;
        add(
            file,
            &format!("Time per layer, {} {}", r.model, r.level),
            "Mean over the bench's frames.",
        );
    }
    let timeline = inputs
        .pipelines
        .last()
        .map(|p| {
            (
                &p.timeline,
                format!(
                    "Pipeline stages over time: {}, {} workers",
                    p.model, p.workers
                ),
            )
        })
        .or_else(|| {
            inputs
                .benches
                .iter()
                .rev()
                .find_map(|b| b.timeline.as_ref())
                .map(|t| {
                    (
                        t,
                        "Pipeline stages over time (the bench's last pipeline run)".to_string(),
                    )
                })
        });
    if let Some((t, title)) = timeline {
        if !t.frames.is_empty() {
            plots::timeline(t, &title, &out.join("timeline.svg"))?;
            add(
                "timeline.svg".into(),
                "Pipeline timeline",
                "One bar a frame and stage, one colour a frame (the first frames): stages \
                 working on different frames at the same time is what pipelining buys.",
            );
        }
    }
    if !singles.is_empty() {
        // on the most threads measured: one outline a model and level stays readable
        let most = singles.iter().map(|r| r.threads).max().unwrap_or(1);
        let rows: Vec<&BenchRow> = singles
            .iter()
            .copied()
            .filter(|r| r.threads == most)
            .collect();
        plots::latency_histogram(&rows, &out.join("latency.svg"))?;
        add(
            "latency.svg".into(),
            "Frame time distribution",
            "Single frames (letterbox, network, decode) on the most threads measured.",
        );
    }
    Ok(plots)
}

pub fn run(args: &ReportArgs) -> Result<ExitCode> {
    let inputs = read(&args.inputs)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create", args.out.display()))?;
    let plots = draw(&inputs, &args.out)?;
    let tables = tables(&inputs);

    let mut md = String::from("# zynqdet report\n\n");
    let mut html = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>zynqdet report</title>\n\
         <style>body{font-family:'DejaVu Sans',sans-serif;max-width:1000px;margin:2em auto;\
         color:#222}table{border-collapse:collapse;margin:0.5em 0}td,th{border:1px solid #bbb;\
         padding:3px 8px;text-align:left;white-space:nowrap}th{background:#eee}\
         td.n{text-align:right}img{max-width:100%;border:1px solid #ddd;margin:0.5em 0}\
         .note{color:#555;font-size:90%}</style></head><body>\n<h1>zynqdet report</h1>\n",
    );
    for t in &tables {
        t.markdown(&mut md);
        t.html(&mut html);
    }
    for p in &plots {
        let _ = writeln!(md, "## {}\n\n![{}]({})\n", p.title, p.title, p.file);
        if !p.note.is_empty() {
            let _ = writeln!(md, "{}\n", p.note);
        }
        let _ = writeln!(
            html,
            "<h2>{}</h2>\n<img src=\"{}\" alt=\"{}\">",
            html_escape(&p.title),
            html_escape(&p.file),
            html_escape(&p.title)
        );
        if !p.note.is_empty() {
            let _ = writeln!(html, "<p class=\"note\">{}</p>", html_escape(&p.note));
        }
    }
    html.push_str("</body></html>\n");
    for (name, text) in [("index.html", &html), ("summary.md", &md)] {
        let path = args.out.join(name);
        std::fs::write(&path, text).with_context(|| format!("{}: cannot write", path.display()))?;
    }
    println!(
        "{}: index.html, summary.md and {} plots ({} tables)",
        args.out.display(),
        plots.len(),
        tables.len()
    );
    Ok(ExitCode::SUCCESS)
}
