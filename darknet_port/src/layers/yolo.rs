//! Darknet's `[yolo]` layer (YOLOv3/v4): per cell and masked anchor, 4 box values, an
//! objectness and `classes` independent class scores. Forward applies the logistic to x, y
//! (scaled by `scale_x_y` around the cell centre, as AlexeyAB's Darknet does), the objectness
//! and the classes; decoding follows `get_yolo_detections` and `correct_yolo_boxes`.

use super::region::correct_letterbox;
use super::Tensor;
use crate::boxes::{BBox, Detection};

#[derive(Debug, Clone, PartialEq)]
pub struct Yolo {
    pub classes: usize,
    /// Anchor indices this head predicts.
    pub mask: Vec<usize>,
    /// All anchors, `2*total` sizes in network-input pixels.
    pub anchors: Vec<f32>,
    pub scale_x_y: f32,
}

fn logistic(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

impl Yolo {
    pub fn channels(&self) -> usize {
        self.mask.len() * (self.classes + 5)
    }

    pub fn validate(&self) -> Result<(), String> {
        if let Some(&bad) = self.mask.iter().find(|&&m| 2 * m + 1 >= self.anchors.len()) {
            return Err(format!(
                "mask names anchor {bad}, but only {} anchors are given",
                self.anchors.len() / 2
            ));
        }
        if !self.anchors.len().is_multiple_of(2) {
            return Err("anchors must come in (w, h) pairs".into());
        }
        Ok(())
    }

    pub fn forward(&self, input: &Tensor) -> Tensor {
        assert_eq!(input.channels, self.channels());
        let mut out = input.clone();
        let plane = input.height * input.width;
        let entries = self.classes + 5;
        let (scale, shift) = (self.scale_x_y, -0.5 * (self.scale_x_y - 1.0));
        for n in 0..self.mask.len() {
            let base = n * entries * plane;
            for v in &mut out.data[base..base + 2 * plane] {
                *v = logistic(*v) * scale + shift;
            }
            for v in &mut out.data[base + 4 * plane..base + entries * plane] {
                *v = logistic(*v);
            }
        }
        out
    }

    /// Boxes whose objectness exceeds `thresh`, relative to the original image.
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
        let entries = self.classes + 5;
        let p = &output.data;
        let mut dets = Vec::new();
        for i in 0..plane {
            let (row, col) = (i / lw, i % lw);
            for (n, &anchor) in self.mask.iter().enumerate() {
                let base = n * entries * plane + i;
                let at = |entry: usize| p[base + entry * plane];
                let objectness = at(4);
                if objectness <= thresh {
                    continue;
                }
                let bbox = BBox {
                    x: (col as f32 + at(0)) / lw as f32,
                    y: (row as f32 + at(1)) / lh as f32,
                    w: at(2).exp() * self.anchors[2 * anchor] / net_w as f32,
                    h: at(3).exp() * self.anchors[2 * anchor + 1] / net_h as f32,
                };
                let prob = (0..self.classes)
                    .map(|j| {
                        let prob = objectness * at(5 + j);
                        if prob > thresh {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_confident_cell() {
        let yolo = Yolo {
            classes: 2,
            mask: vec![1],
            anchors: vec![10.0, 10.0, 20.0, 40.0],
            scale_x_y: 1.0,
        };
        yolo.validate().unwrap();
        let mut t = Tensor::zeros(7, 2, 2);
        let at = |entry: usize, loc: usize| entry * 4 + loc;
        t.data[at(4, 3)] = 8.0; // cell (1,1) has an object
        t.data[at(6, 3)] = 8.0; // of class 1
        t.data[at(4, 0)] = -8.0;
        let out = yolo.forward(&t);
        let dets = yolo.detections(&out, 100, 100, 100, 100, 0.5);
        assert_eq!(dets.len(), 1);
        let d = &dets[0];
        assert!((d.bbox.x - 0.75).abs() < 1e-6 && (d.bbox.y - 0.75).abs() < 1e-6);
        assert!((d.bbox.w - 0.2).abs() < 1e-6 && (d.bbox.h - 0.4).abs() < 1e-6);
        assert_eq!(d.prob[0], 0.0);
        assert!(d.prob[1] > 0.99);
    }

    #[test]
    fn scale_x_y_widens_the_logistic() {
        let yolo = Yolo {
            classes: 1,
            mask: vec![0],
            anchors: vec![1.0, 1.0],
            scale_x_y: 1.05,
        };
        let mut t = Tensor::zeros(6, 1, 1);
        t.data[0] = 100.0;
        let out = yolo.forward(&t);
        assert!((out.data[0] - 1.025).abs() < 1e-6);
        assert!(Yolo {
            mask: vec![3],
            ..yolo
        }
        .validate()
        .is_err());
    }
}
