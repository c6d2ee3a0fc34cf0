//! Drawing detections: boxes in Darknet's class colours, labels rasterized from DejaVu Sans.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use anyhow::{Context, Result};
use darknet_port::network::Found;
use image::{Rgb, RgbImage};
use std::path::Path;

/// Darknet's class colour: a position on a magenta-blue-cyan-green-yellow-red ramp.
pub fn class_color(class_id: usize, classes: usize) -> Rgb<u8> {
    const RAMP: [[f32; 3]; 6] = [
        [1.0, 0.0, 1.0],
        [0.0, 0.0, 1.0],
        [0.0, 1.0, 1.0],
        [0.0, 1.0, 0.0],
        [1.0, 1.0, 0.0],
        [1.0, 0.0, 0.0],
    ];
    let classes = classes.max(1);
    let offset = (class_id * 123_457) % classes;
    let channel = |c: usize| {
        let ratio = offset as f32 / classes as f32 * 5.0;
        let (i, j) = (ratio.floor() as usize, ratio.ceil() as usize);
        let f = ratio - i as f32;
        (((1.0 - f) * RAMP[i][c] + f * RAMP[j][c]) * 255.0) as u8
    };
    Rgb([channel(2), channel(1), channel(0)])
}

fn fill_rect(img: &mut RgbImage, x0: i64, y0: i64, x1: i64, y1: i64, color: Rgb<u8>) {
    let (w, h) = (img.width() as i64, img.height() as i64);
    for y in y0.max(0)..=y1.min(h - 1) {
        for x in x0.max(0)..=x1.min(w - 1) {
            img.put_pixel(x as u32, y as u32, color);
        }
    }
}

fn draw_box(img: &mut RgbImage, b: [f32; 4], thickness: i64, color: Rgb<u8>) {
    let [x0, y0, x1, y1] = b.map(|v| v.round() as i64);
    fill_rect(img, x0, y0, x1, y0 + thickness - 1, color);
    fill_rect(img, x0, y1 - thickness + 1, x1, y1, color);
    fill_rect(img, x0, y0, x0 + thickness - 1, y1, color);
    fill_rect(img, x1 - thickness + 1, y0, x1, y1, color);
}

/// Draws `text` with its top-left corner at (x, y), alpha-blending the glyph coverage.
fn draw_text(
    img: &mut RgbImage,
    font: &FontRef,
    size: f32,
    x: f32,
    y: f32,
    text: &str,
    color: Rgb<u8>,
) {
    let scaled = font.as_scaled(PxScale::from(size));
    let mut caret = x;
    let baseline = y + scaled.ascent();
    let mut previous = None;
    for ch in text.chars() {
        let id = scaled.glyph_id(ch);
        if let Some(p) = previous {
            caret += scaled.kern(p, id);
        }
        let glyph = id.with_scale_and_position(size, ab_glyph::point(caret, baseline));
        caret += scaled.h_advance(id);
        previous = Some(id);
        if let Some(outlined) = font.outline_glyph(glyph) {
            let bounds = outlined.px_bounds();
            outlined.draw(|gx, gy, coverage| {
                let px = bounds.min.x as i64 + gx as i64;
                let py = bounds.min.y as i64 + gy as i64;
                if px < 0 || py < 0 || px >= img.width() as i64 || py >= img.height() as i64 {
                    return;
                }
                let dst = img.get_pixel_mut(px as u32, py as u32);
                for c in 0..3 {
                    let v = f32::from(dst[c]) * (1.0 - coverage) + f32::from(color[c]) * coverage;
                    dst[c] = v.round() as u8;
                }
            });
        }
    }
}

fn text_width(font: &FontRef, size: f32, text: &str) -> f32 {
    let scaled = font.as_scaled(PxScale::from(size));
    text.chars()
        .map(|c| scaled.h_advance(scaled.glyph_id(c)))
        .sum()
}

/// Draws the detections onto `img`: one box per detection, its label on a filled tab.
pub fn annotate(img: &mut RgbImage, found: &[Found], classes: usize) {
    let font = FontRef::try_from_slice(dejavu::sans::regular()).expect("DejaVu Sans parses");
    let thickness = ((img.height() as f32 * 0.006) as i64).max(1);
    let size = (img.height() as f32 * 0.03).max(12.0);
    for f in found {
        let color = class_color(f.class_id, classes);
        draw_box(img, f.bbox, thickness, color);
        let label = format!("{} {:.0}%", f.class, f.prob * 100.0);
        let (w, h) = (text_width(&font, size, &label) + 6.0, size * 1.2);
        let x = f.bbox[0];
        let y = if f.bbox[1] - h >= 0.0 {
            f.bbox[1] - h
        } else {
            f.bbox[1]
        };
        fill_rect(
            img,
            x as i64,
            y as i64,
            (x + w) as i64,
            (y + h) as i64,
            color,
        );
        draw_text(
            img,
            &font,
            size,
            x + 3.0,
            y + size * 0.1,
            &label,
            Rgb([0, 0, 0]),
        );
    }
}

/// Reads `source`, draws the detections and writes a PNG to `out` (through a temporary file, so
/// a failure never leaves a partial image).
pub fn save_annotated(source: &Path, found: &[Found], classes: usize, out: &Path) -> Result<()> {
    let mut img = image::open(source)
        .with_context(|| format!("{}: not a readable image", source.display()))?
        .to_rgb8();
    annotate(&mut img, found, classes);
    let tmp = out.with_extension("png.partial");
    img.save_with_format(&tmp, image::ImageFormat::Png)
        .with_context(|| format!("{}: cannot write", tmp.display()))?;
    std::fs::rename(&tmp, out).with_context(|| format!("{}: cannot write", out.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn darknet_colours() {
        // Darknet gives VOC's dog (11 of 20) and person (14) these colours
        assert_eq!(class_color(0, 20), Rgb([255, 0, 255]));
        assert_ne!(class_color(11, 20), class_color(14, 20));
    }

    #[test]
    fn draws_box_and_label() {
        let mut img = RgbImage::from_pixel(200, 100, Rgb([255, 255, 255]));
        let found = [Found {
            class_id: 0,
            class: "dog".into(),
            prob: 0.9,
            bbox: [20.0, 40.0, 120.0, 90.0],
        }];
        annotate(&mut img, &found, 20);
        assert_eq!(*img.get_pixel(20, 60), class_color(0, 20));
        assert_eq!(*img.get_pixel(70, 65), Rgb([255, 255, 255]));
        // the label's text leaves dark pixels on the tab above the box
        let dark = (20..100)
            .flat_map(|x| (25..40).map(move |y| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y)[1] < 80)
            .count();
        assert!(dark > 10, "{dark}");
    }
}
