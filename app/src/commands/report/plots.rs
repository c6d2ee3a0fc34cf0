//! The report's plots, as SVG files drawn by plotters (text measured with DejaVu Sans through
//! ab_glyph: no system fonts or libraries).

use crate::results::{BenchRow, EvalReport, TimelineJson};
use anyhow::{anyhow, Result};
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle, Palette99};
use std::path::Path;
use std::sync::Once;

const FONT: &str = "sans-serif";

/// A published accuracy to show next to the measured ones.
pub struct Anchor {
    pub label: &'static str,
    /// mAP@0.5 in percent, VOC2007 11-point.
    pub map: f64,
}

pub const ANCHORS: [Anchor; 1] = [Anchor {
    label: "Tinier-YOLO published: 48.5 (VOC2007 test, 4,952 images)",
    map: 48.5,
}];

fn fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            // DejaVu Sans is built in (the `dejavu` crate): it parses
            let _ = register_font(FONT, style, dejavu::sans::regular());
        }
    });
}

/// Colours that read on white, as text too (Palette99's yellows and cyans do not).
const COLOURS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(90, 90, 90),
    RGBColor(150, 150, 20),
    RGBColor(23, 170, 190),
];

fn colour(i: usize) -> RGBColor {
    if i < COLOURS.len() {
        COLOURS[i]
    } else {
        let c = Palette99::pick(i).to_rgba();
        RGBColor(c.0, c.1, c.2)
    }
}

/// A legend in its own panel beside the chart, so that it covers no data.
fn side_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    items: &[(String, RGBColor)],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    for (i, (label, c)) in items.iter().enumerate() {
        let y = 60 + 22 * i as i32;
        area.draw(&Rectangle::new([(8, y), (22, y + 12)], c.filled()))?;
        area.draw(&Text::new(label.clone(), (30, y), (FONT, 13)))?;
    }
    Ok(())
}

fn err<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> anyhow::Error + '_ {
    move |e| anyhow!("{}: cannot draw: {e}", path.display())
}

/// mAP (VOC2007 11-point, %) against p50 frame time, one labelled point per model and level,
/// the published anchors as dashed lines.
pub fn speed_accuracy(evals: &[EvalReport], path: &Path) -> Result<()> {
    fonts();
    let e = err(path);
    let root = SVGBackend::new(path, (1000, 520)).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let (left, right) = root.split_horizontally(660);
    let x_max = evals.iter().map(|r| r.frame_ms_p50).fold(1.0, f64::max) * 1.15;
    let mut chart = ChartBuilder::on(&left)
        .caption("Accuracy against frame time", (FONT, 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(55)
        .build_cartesian_2d(0.0..x_max, 0.0..100.0)
        .map_err(&e)?;
    chart
        .configure_mesh()
        .x_desc("frame time, p50 (ms, this machine)")
        .y_desc("mAP@0.5, VOC2007 11-point (%)")
        .label_style((FONT, 14))
        .draw()
        .map_err(&e)?;
    for a in &ANCHORS {
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, a.map), (x_max, a.map)],
                6,
                4,
                BLACK.stroke_width(1),
            ))
            .map_err(&e)?;
        chart
            .draw_series([Text::new(
                a.label.to_string(),
                (x_max * 0.02, a.map - 4.0),
                (FONT, 13),
            )])
            .map_err(&e)?;
    }
    for (i, r) in evals.iter().enumerate() {
        let c = colour(i);
        let p = (r.frame_ms_p50, r.map11 * 100.0);
        chart
            .draw_series([Circle::new(p, 6, c.filled())])
            .map_err(&e)?;
    }
    // labels beside the chart: points of one model's levels often lie close together
    let items: Vec<(String, RGBColor)> = evals
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let label = format!(
                "{} {}: {:.1}, {:.0} ms",
                r.model,
                r.level,
                r.map11 * 100.0,
                r.frame_ms_p50
            );
            (label, colour(i))
        })
        .collect();
    side_legend(&right, &items).map_err(&e)?;
    root.present().map_err(&e)?;
    Ok(())
}

/// All-point AP per class, one bar a run.
pub fn per_class_ap(evals: &[EvalReport], path: &Path) -> Result<()> {
    fonts();
    let e = err(path);
    let mut classes: Vec<&str> = Vec::new();
    for r in evals {
        for c in &r.classes {
            if !classes.contains(&c.class.as_str()) {
                classes.push(&c.class);
            }
        }
    }
    let root = SVGBackend::new(path, (1000, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let (left, right) = root.split_horizontally(740);
    let n = classes.len().max(1);
    let mut chart = ChartBuilder::on(&left)
        .caption("AP per class (VOC2010 all-point, IoU 0.5)", (FONT, 22))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..n as f64, 0.0..1.0)
        .map_err(&e)?;
    let names = classes.clone();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n * 2 + 1)
        .x_label_formatter(&|x| {
            // a label at each bar group's centre only
            let i = (x - 0.5).round();
            if (x - 0.5 - i).abs() < 1e-6 && i >= 0.0 {
                names
                    .get(i as usize)
                    .map_or(String::new(), |s| s.to_string())
            } else {
                String::new()
            }
        })
        .y_desc("AP")
        .label_style((FONT, 14))
        .draw()
        .map_err(&e)?;
    let width = 0.8 / evals.len().max(1) as f64;
    for (k, r) in evals.iter().enumerate() {
        let c = colour(k);
        let bars: Vec<_> = r
            .classes
            .iter()
            .filter_map(|cl| {
                let i = classes.iter().position(|n| *n == cl.class)? as f64;
                let x0 = i + 0.1 + width * k as f64;
                Some(Rectangle::new([(x0, 0.0), (x0 + width, cl.ap)], c.filled()))
            })
            .collect();
        chart.draw_series(bars).map_err(&e)?;
    }
    let items: Vec<(String, RGBColor)> = evals
        .iter()
        .enumerate()
        .map(|(k, r)| (format!("{} {}", r.model, r.level), colour(k)))
        .collect();
    side_legend(&right, &items).map_err(&e)?;
    root.present().map_err(&e)?;
    Ok(())
}

/// One run's precision-recall curve of each class.
pub fn pr_curves(r: &EvalReport, path: &Path) -> Result<()> {
    fonts();
    let e = err(path);
    let root = SVGBackend::new(path, (860, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let (left, right) = root.split_horizontally(640);
    let mut chart = ChartBuilder::on(&left)
        .caption(
            format!("Precision-recall: {} {}", r.model, r.level),
            (FONT, 18),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..1.0, 0.0..1.05)
        .map_err(&e)?;
    chart
        .configure_mesh()
        .x_desc("recall")
        .y_desc("precision (VOC's envelope: its area is the all-point AP)")
        .label_style((FONT, 14))
        .draw()
        .map_err(&e)?;
    for (i, c) in r.classes.iter().enumerate() {
        chart
            .draw_series(LineSeries::new(envelope(&c.pr), colour(i).stroke_width(2)))
            .map_err(&e)?;
    }
    let items: Vec<(String, RGBColor)> = r
        .classes
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("{} (AP {:.2})", c.class, c.ap), colour(i)))
        .collect();
    side_legend(&right, &items).map_err(&e)?;
    root.present().map_err(&e)?;
    Ok(())
}

/// The precision envelope of (recall, precision) points as steps: at each recall, the best
/// precision at that recall or above.
fn envelope(pr: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut best = vec![0.0; pr.len()];
    let mut m = 0.0f64;
    for i in (0..pr.len()).rev() {
        m = m.max(pr[i].1);
        best[i] = m;
    }
    let mut points = Vec::with_capacity(2 * pr.len());
    let mut previous = 0.0;
    for (&(recall, _), &p) in pr.iter().zip(&best) {
        if recall > previous || points.is_empty() {
            points.push((previous, p));
            points.push((recall, p));
            previous = recall;
        }
    }
    points
}

/// The mean time of each layer of one single-frame row, as horizontal bars.
pub fn layer_times(row: &BenchRow, path: &Path) -> Result<()> {
    fonts();
    let e = err(path);
    let layers = &row.layers_ms;
    let n = layers.len().max(1);
    let height = (120 + 22 * n) as u32;
    let root = SVGBackend::new(path, (800, height)).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let x_max = layers.iter().map(|l| l.1).fold(0.1, f64::max) * 1.15;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "Time per layer: {} {}, {} threads",
                row.model, row.level, row.threads
            ),
            (FONT, 18),
        )
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(150)
        .build_cartesian_2d(0.0..x_max, 0.0..n as f64)
        .map_err(&e)?;
    let names: Vec<String> = layers.iter().map(|l| l.0.clone()).collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n * 2 + 1)
        .y_label_formatter(&|y| {
            let i = (y - 0.5).round();
            if (y - 0.5 - i).abs() < 1e-6 && i >= 0.0 {
                // the first layer at the top
                let k = n - 1 - i as usize;
                names.get(k).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_desc("ms per frame (mean)")
        .label_style((FONT, 13))
        .draw()
        .map_err(&e)?;
    chart
        .draw_series(layers.iter().enumerate().map(|(k, (_, ms))| {
            let y = (n - 1 - k) as f64;
            Rectangle::new([(0.0, y + 0.15), (*ms, y + 0.85)], colour(0).filled())
        }))
        .map_err(&e)?;
    root.present().map_err(&e)?;
    Ok(())
}

/// When each stage worked on each frame: one row a stage, one colour a frame.
pub fn timeline(t: &TimelineJson, title: &str, path: &Path) -> Result<()> {
    fonts();
    let e = err(path);
    // the first frames are enough to see the overlap, and stay readable
    let frames = &t.frames[..t.frames.len().min(24)];
    let x_max = frames.iter().flatten().map(|s| s.1).fold(1.0, f64::max) * 1.02;
    let x_min = frames
        .iter()
        .flatten()
        .filter(|s| s.1 > 0.0)
        .map(|s| s.0)
        .fold(x_max, f64::min);
    let n = t.stages.len().max(1);
    let root = SVGBackend::new(path, (1000, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 18))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(110)
        .build_cartesian_2d(x_min..x_max, 0.0..n as f64)
        .map_err(&e)?;
    let stages = t.stages.clone();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n * 2 + 1)
        .y_label_formatter(&|y| {
            let i = (y - 0.5).round();
            if (y - 0.5 - i).abs() < 1e-6 && i >= 0.0 {
                stages.get(n - 1 - i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_desc("ms since the pipeline started")
        .label_style((FONT, 13))
        .draw()
        .map_err(&e)?;
    for (f, spans) in frames.iter().enumerate() {
        let c = colour(f);
        chart
            .draw_series(
                spans
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.1 > 0.0)
                    .map(|(k, s)| {
                        let y = (n - 1 - k) as f64;
                        // at least a hair wide: some stages take microseconds
                        let end = s.1.max(s.0 + (x_max - x_min) * 0.002);
                        Rectangle::new([(s.0, y + 0.15), (end, y + 0.85)], c.filled())
                    }),
            )
            .map_err(&e)?;
    }
    root.present().map_err(&e)?;
    Ok(())
}

/// Histograms of single-frame times, one outline a row.
pub fn latency_histogram(rows: &[&BenchRow], path: &Path) -> Result<()> {
    fonts();
    let e = err(path);
    let all = rows.iter().flat_map(|r| r.samples_ms.iter().copied());
    let hi = all.clone().fold(0.0, f64::max) * 1.05;
    let lo = all.fold(hi, f64::min) * 0.95;
    let bins = 30usize;
    let width = ((hi - lo) / bins as f64).max(1e-6);
    let counts: Vec<Vec<u32>> = rows
        .iter()
        .map(|r| {
            let mut c = vec![0u32; bins];
            for s in &r.samples_ms {
                c[(((s - lo) / width) as usize).min(bins - 1)] += 1;
            }
            c
        })
        .collect();
    let y_max = counts.iter().flatten().copied().max().unwrap_or(1) + 1;
    let height = 460.max(80 + 22 * rows.len() as u32);
    let root = SVGBackend::new(path, (1000, height)).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let (left, right) = root.split_horizontally(680);
    let mut chart = ChartBuilder::on(&left)
        .caption("Single-frame time distribution", (FONT, 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(50)
        .build_cartesian_2d(lo..hi, 0u32..y_max)
        .map_err(&e)?;
    chart
        .configure_mesh()
        .x_desc("frame time (ms)")
        .y_desc("frames")
        .label_style((FONT, 14))
        .draw()
        .map_err(&e)?;
    for (i, c) in counts.iter().enumerate() {
        let col = colour(i);
        // a step outline, so that overlapping distributions stay visible
        let mut points = vec![(lo, 0u32)];
        for (b, &n) in c.iter().enumerate() {
            let x0 = lo + width * b as f64;
            points.push((x0, n));
            points.push((x0 + width, n));
        }
        points.push((hi, 0));
        chart
            .draw_series(LineSeries::new(points, col.stroke_width(2)))
            .map_err(&e)?;
    }
    let items: Vec<(String, RGBColor)> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let backend = if r.backend == "-" {
                String::new()
            } else {
                format!(" {}", r.backend)
            };
            (
                format!("{} {}{}, {} thr", r.model, r.level, backend, r.threads),
                colour(i),
            )
        })
        .collect();
    side_legend(&right, &items).map_err(&e)?;
    root.present().map_err(&e)?;
    Ok(())
}
