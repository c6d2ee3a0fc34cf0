//! Decoding: the detection layers' outputs to boxes, Darknet's NMS, and what the user sees.

use super::{Heads, Layer, Network};
use crate::boxes::{nms_sort, Detection};
use crate::error::{Error, Result};

/// A detection as the user sees it: class, probability and box corners in image pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub class_id: usize,
    pub class: String,
    pub prob: f32,
    /// `[x0, y0, x1, y1]` in pixels, inside the image (see [`BBox::corners_in`]).
    pub bbox: [f32; 4],
}

impl Network {
    /// Decodes the detection layers' outputs for an image of `image_w` x `image_h`: boxes of
    /// every head, Darknet's per-class NMS over all of them, then one entry per (box, class)
    /// above `thresh`, as Darknet's `draw_detections` reports them, most probable first.
    pub fn decode(
        &self,
        heads: &Heads,
        image_w: usize,
        image_h: usize,
        thresh: f32,
        nms: f32,
    ) -> Result<Vec<Found>> {
        let (w, h, nw, nh) = (image_w, image_h, self.width, self.height);
        let mut dets: Vec<Detection> = Vec::new();
        for (i, output) in &heads.0 {
            match self.layers.get(*i) {
                Some(Layer::Region(r)) => dets.extend(r.detections(output, w, h, nw, nh, thresh)),
                Some(Layer::Yolo(y)) => dets.extend(y.detections(output, w, h, nw, nh, thresh)),
                _ => return Err(Error::Model(format!("layer {i} is not a detection layer"))),
            }
        }
        if nms > 0.0 {
            nms_sort(&mut dets, self.names.len(), nms);
        }
        let (iw, ih) = (image_w as f32, image_h as f32);
        let mut found = Vec::new();
        for d in &dets {
            for (class_id, &prob) in d.prob.iter().enumerate() {
                if prob > thresh {
                    found.push(Found {
                        class_id,
                        class: self.names[class_id].clone(),
                        prob,
                        bbox: d.bbox.corners_in(iw, ih),
                    });
                }
            }
        }
        found.sort_by(|a, b| b.prob.total_cmp(&a.prob));
        Ok(found)
    }
}
