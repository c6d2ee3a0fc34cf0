//! Darknet's `[region]` layer (YOLOv2): per cell and anchor, `coords` box values, an
//! objectness and `classes` scores. Forward applies the logistic to x, y and the objectness and
//! a softmax over the classes; decoding follows `get_region_detections` and
//! `correct_region_boxes` (the letterbox correction), with `relative` boxes.

use super::Tensor;
use crate::boxes::{BBox, Detection};

#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    pub classes: usize,
    pub coords: usize,
    pub num: usize,
    /// `2*num` anchor sizes in cells.
    pub anchors: Vec<f32>,
    pub softmax: bool,
}

fn logistic(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

impl Region {
    pub fn channels(&self) -> usize {
        self.num * (self.coords + self.classes + 1)
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.anchors.len() != 2 * self.num {
            return Err(format!(
                "{} anchor values for num={} (need {})",
                self.anchors.len(),
                self.num,
                2 * self.num
            ));
        }
        if self.coords != 4 {
            return Err(format!("coords={} is not supported (only 4)", self.coords));
        }
        Ok(())
    }

    /// Activations in place: the layer's output in Darknet's layout.
    pub fn forward(&self, input: &Tensor) -> Tensor {
        assert_eq!(input.channels, self.channels());
        let mut out = input.clone();
        let plane = input.height * input.width;
        let entries = self.coords + self.classes + 1;
        for n in 0..self.num {
            let base = n * entries * plane;
            for v in &mut out.data[base..base + 2 * plane] {
                *v = logistic(*v);
            }
            let obj = base + self.coords * plane;
            for v in &mut out.data[obj..obj + plane] {
                *v = logistic(*v);
            }
            if self.softmax {
                let cls = base + (self.coords + 1) * plane;
                for loc in 0..plane {
                    let at = |j: usize| cls + j * plane + loc;
                    let largest = (0..self.classes)
                        .map(|j| out.data[at(j)])
                        .fold(f32::NEG_INFINITY, f32::max);
                    let mut sum = 0.0f32;
                    for j in 0..self.classes {
                        let e = (out.data[at(j)] - largest).exp();
                        sum += e;
                        out.data[at(j)] = e;
                    }
                    for j in 0..self.classes {
                        out.data[at(j)] /= sum;
                    }
                }
            }
        }
        out
    }

    /// Candidate boxes (one per cell and anchor) of an activated output, relative to the
    /// original image of `image_w` x `image_h` that was letterboxed to `net_w` x `net_h`.
    pub fn detections(
        &self,
        output: &Tensor,
        image_w: usize,
        image_h: usize,
        net_w: usize,
        net_h: usize,
        thresh: f32,
    ) -> Vec<Detection> {
        let (lw, lh) = (output.width, output.height);
        let plane = lw * lh;
        let entries = self.coords + self.classes + 1;
        let p = &output.data;
        let mut dets = Vec::with_capacity(plane * self.num);
        for i in 0..plane {
            let (row, col) = (i / lw, i % lw);
            for n in 0..self.num {
                let base = n * entries * plane + i;
                let at = |entry: usize| p[base + entry * plane];
                let scale = at(self.coords);
                let bbox = BBox {
                    x: (col as f32 + at(0)) / lw as f32,
                    y: (row as f32 + at(1)) / lh as f32,
                    w: at(2).exp() * self.anchors[2 * n] / lw as f32,
                    h: at(3).exp() * self.anchors[2 * n + 1] / lh as f32,
                };
                let objectness = if scale > thresh { scale } else { 0.0 };
                let prob = (0..self.classes)
                    .map(|j| {
                        let prob = scale * at(self.coords + 1 + j);
                        if objectness != 0.0 && prob > thresh {
                            prob
                        } else {
                            0.0
                        }
                    })
                    .collect();
                dets.push(Detection {
                    bbox: correct_letterbox(bbox, image_w, image_h, net_w, net_h),
                    objectness,
                    prob,
                });
            }
        }
        dets
    }
}

/// Darknet's `correct_region_boxes` for relative boxes: undo the letterbox's scale and offset.
pub fn correct_letterbox(b: BBox, w: usize, h: usize, net_w: usize, net_h: usize) -> BBox {
    let (new_w, new_h) = crate::image_input::letterbox_size(w, h, net_w, net_h);
    let (net_w, net_h, new_w, new_h) = (net_w as f32, net_h as f32, new_w as f32, new_h as f32);
    BBox {
        x: (b.x - (net_w - new_w) / 2.0 / net_w) / (new_w / net_w),
        y: (b.y - (net_h - new_h) / 2.0 / net_h) / (new_h / net_h),
        w: b.w * net_w / new_w,
        h: b.h * net_h / new_h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_and_decode_one_cell() {
        let region = Region {
            classes: 2,
            coords: 4,
            num: 1,
            anchors: vec![2.0, 1.0],
            softmax: true,
        };
        region.validate().unwrap();
        // 1x2 grid; cell 1 holds a confident box of class 1
        let mut input = Tensor::zeros(7, 1, 2);
        let set = |t: &mut Tensor, entry: usize, loc: usize, v: f32| t.data[entry * 2 + loc] = v;
        set(&mut input, 4, 0, -10.0);
        set(&mut input, 4, 1, 10.0);
        set(&mut input, 6, 1, 5.0);
        set(&mut input, 2, 1, 0.0);
        let out = region.forward(&input);
        let dets = region.detections(&out, 200, 100, 200, 100, 0.3);
        assert_eq!(dets.len(), 2);
        assert_eq!(dets[0].objectness, 0.0);
        let d = &dets[1];
        assert!((d.bbox.x - 0.75).abs() < 1e-6, "{:?}", d.bbox);
        assert!((d.bbox.w - 1.0).abs() < 1e-6);
        assert!((d.prob[1] - 0.993_264).abs() < 1e-3, "{:?}", d.prob);
        assert_eq!(d.prob[0], 0.0);
    }

    #[test]
    fn letterbox_correction_inverts_the_embedding() {
        // 768x576 into 416x416: scaled to 416x312, bars of 52 at top and bottom
        let b = correct_letterbox(
            BBox {
                x: 0.5,
                y: 52.0 / 416.0,
                w: 1.0,
                h: 312.0 / 416.0,
            },
            768,
            576,
            416,
            416,
        );
        assert!((b.y - 0.0).abs() < 1e-6 && (b.h - 1.0).abs() < 1e-6 && (b.w - 1.0).abs() < 1e-6);
    }
}
