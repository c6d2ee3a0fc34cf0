//! Boxes, detections and Darknet's per-class NMS (`do_nms_sort`).

/// A box in Darknet's form: centre and size, relative to the image (0..1) until scaled.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BBox {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

fn overlap(x1: f32, w1: f32, x2: f32, w2: f32) -> f32 {
    let left = (x1 - w1 / 2.0).max(x2 - w2 / 2.0);
    let right = (x1 + w1 / 2.0).min(x2 + w2 / 2.0);
    right - left
}

impl BBox {
    pub fn intersection(&self, other: &BBox) -> f32 {
        let w = overlap(self.x, self.w, other.x, other.w);
        let h = overlap(self.y, self.h, other.y, other.h);
        if w < 0.0 || h < 0.0 {
            0.0
        } else {
            w * h
        }
    }

    /// The corners `[x0, y0, x1, y1]` in the pixels of an image of `w` x `h`, each clamped to
    /// the image (`0..=w-1`, `0..=h-1`) as Darknet's `draw_detections` clamps its box: a box
    /// past an edge ends at the edge, and one wholly outside lies flat on it (never `x0 > x1`,
    /// never a negative zero).
    pub fn corners_in(&self, w: f32, h: f32) -> [f32; 4] {
        // `+ 0.0` turns -0.0 into 0.0; a NaN coordinate stays NaN rather than panicking
        let along = |v: f32, len: f32| v.clamp(0.0, (len - 1.0).max(0.0)) + 0.0;
        [
            along((self.x - self.w / 2.0) * w, w),
            along((self.y - self.h / 2.0) * h, h),
            along((self.x + self.w / 2.0) * w, w),
            along((self.y + self.h / 2.0) * h, h),
        ]
    }

    pub fn iou(&self, other: &BBox) -> f32 {
        let i = self.intersection(other);
        let u = self.w * self.h + other.w * other.h - i;
        if u <= 0.0 {
            0.0
        } else {
            i / u
        }
    }
}

/// One candidate box with its objectness and per-class probabilities (zero below threshold).
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub bbox: BBox,
    pub objectness: f32,
    pub prob: Vec<f32>,
}

/// Darknet's `do_nms_sort`: drop boxes without objectness, then for each class sort by that
/// class's probability (descending) and zero the class in every box that overlaps a better one
/// by more than `threshold` IoU.
pub fn nms_sort(dets: &mut Vec<Detection>, classes: usize, threshold: f32) {
    dets.retain(|d| d.objectness != 0.0);
    for k in 0..classes {
        dets.sort_by(|a, b| b.prob[k].total_cmp(&a.prob[k]));
        for i in 0..dets.len() {
            if dets[i].prob[k] == 0.0 {
                continue;
            }
            let a = dets[i].bbox;
            for other in &mut dets[i + 1..] {
                if a.iou(&other.bbox) > threshold {
                    other.prob[k] = 0.0;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corners_stay_inside_the_image() {
        let b = |x, y, w, h| BBox { x, y, w, h };
        // inside: plain corners
        assert_eq!(
            b(0.5, 0.5, 0.5, 0.5).corners_in(100.0, 80.0),
            [25.0, 20.0, 75.0, 60.0]
        );
        // over every edge: the image's corners
        assert_eq!(
            b(0.5, 0.5, 3.0, 3.0).corners_in(100.0, 80.0),
            [0.0, 0.0, 99.0, 79.0]
        );
        // wholly below and to the right: flat on the far edges, still ordered
        let c = b(1.5, 1.2, 0.2, 0.1).corners_in(8.0, 72.0);
        assert_eq!(c, [7.0, 71.0, 7.0, 71.0]);
        // a corner a hair left of the edge is 0, not -0
        let c = b(0.1, 0.5, 0.2000001, 0.2).corners_in(100.0, 100.0);
        assert!(c[0].is_sign_positive() && c[0] == 0.0, "{c:?}");
        assert_eq!(format!("{:.0}", c[0]), "0");
        let c = b(-0.0, 0.5, 0.0, 0.2).corners_in(100.0, 100.0);
        assert!(c[0].is_sign_positive() && c[2].is_sign_positive(), "{c:?}");
        for c in [
            b(-0.5, -0.5, 0.1, 0.1).corners_in(10.0, 10.0),
            b(0.5, 0.5, 0.1, 0.1).corners_in(1.0, 1.0),
        ] {
            assert!(c.iter().all(|&v| v == 0.0 && v.is_sign_positive()), "{c:?}");
        }
    }

    fn det(x: f32, p0: f32, p1: f32) -> Detection {
        Detection {
            bbox: BBox {
                x,
                y: 0.5,
                w: 0.2,
                h: 0.2,
            },
            objectness: 1.0,
            prob: vec![p0, p1],
        }
    }

    #[test]
    fn iou_of_known_boxes() {
        let a = BBox {
            x: 0.5,
            y: 0.5,
            w: 0.2,
            h: 0.2,
        };
        assert!((a.iou(&a) - 1.0).abs() < 1e-6);
        let b = BBox { x: 0.6, ..a };
        assert!((a.iou(&b) - (0.02 / 0.06)).abs() < 1e-6);
        let c = BBox { x: 0.9, ..a };
        assert_eq!(a.iou(&c), 0.0);
    }

    #[test]
    fn nms_is_per_class() {
        let mut dets = vec![det(0.50, 0.9, 0.0), det(0.52, 0.8, 0.7), det(0.9, 0.6, 0.0)];
        dets.push(Detection {
            objectness: 0.0,
            ..det(0.1, 0.0, 0.0)
        });
        nms_sort(&mut dets, 2, 0.45);
        assert_eq!(dets.len(), 3);
        let find = |x: f32| dets.iter().find(|d| d.bbox.x == x).unwrap();
        assert_eq!(find(0.50).prob, vec![0.9, 0.0]);
        // suppressed for class 0 by the better overlapping box, kept for class 1
        assert_eq!(find(0.52).prob, vec![0.0, 0.7]);
        assert_eq!(find(0.9).prob, vec![0.6, 0.0]);
    }
}
