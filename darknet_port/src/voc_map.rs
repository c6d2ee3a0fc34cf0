//! Accuracy against ground truth: PASCAL VOC's average precision per class and its mean, with
//! both of VOC's conventions, as the devkit's `voc_eval` computes them:
//! - VOC2007's 11-point interpolation: the mean over recall thresholds 0, 0.1, ..., 1 of the
//!   best precision at that recall or above;
//! - VOC2010's all-point area: precision made monotone from the right, integrated over recall.
//!
//! Boxes are in VOC's convention, inclusive pixel coordinates (a box from 1 to 10 is 10 pixels
//! wide: the devkit adds 1 to widths and heights). A detection matches the ground-truth box of
//! its class it overlaps most in its image when the IoU is above the threshold (strictly, as
//! the devkit) and that box is not taken yet by a higher-ranked detection; otherwise it is a
//! false positive. A detection whose best box is "difficult" counts neither way, and difficult
//! boxes are not among the positives.

/// A ground-truth object of one image.
#[derive(Debug, Clone, PartialEq)]
pub struct Truth {
    pub class_id: usize,
    /// xmin, ymin, xmax, ymax, inclusive pixels.
    pub bbox: [f64; 4],
    pub difficult: bool,
}

/// A detection, with the index of its image.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub image: usize,
    pub class_id: usize,
    pub score: f64,
    /// xmin, ymin, xmax, ymax, inclusive pixels.
    pub bbox: [f64; 4],
}

/// One class's result.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassAp {
    pub class_id: usize,
    /// Ground-truth objects that are not difficult.
    pub positives: usize,
    pub difficult: usize,
    pub detections: usize,
    /// VOC2007's 11-point AP.
    pub ap11: f64,
    /// VOC2010+'s all-point AP.
    pub ap: f64,
    /// Precision and recall after each ranked detection that counted (difficult ones do not).
    pub precision: Vec<f64>,
    pub recall: Vec<f64>,
}

/// Every class's AP and the means over the classes that have positives.
#[derive(Debug, Clone, PartialEq)]
pub struct VocMap {
    /// One entry per class id; `None` for a class with no positives (AP is undefined there,
    /// as in the devkit, and it is left out of the means).
    pub classes: Vec<Option<ClassAp>>,
    pub map11: f64,
    pub map: f64,
}

/// IoU with the devkit's inclusive-pixel arithmetic.
pub fn iou(a: &[f64; 4], b: &[f64; 4]) -> f64 {
    let w = (a[2].min(b[2]) - a[0].max(b[0]) + 1.0).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1]) + 1.0).max(0.0);
    let inter = w * h;
    let area = |r: &[f64; 4]| (r[2] - r[0] + 1.0) * (r[3] - r[1] + 1.0);
    let union = area(a) + area(b) - inter;
    if union <= 0.0 {
        0.0
    } else {
        inter / union
    }
}

/// VOC2007's 11-point AP. The thresholds are `k * 0.1` as the devkit's `np.arange` makes them
/// (0.30000000000000004, not 0.3), so that a recall of exactly 3/10 falls as it does there.
pub fn ap_11_point(precision: &[f64], recall: &[f64]) -> f64 {
    (0..11)
        .map(|k| {
            let t = k as f64 * 0.1;
            precision
                .iter()
                .zip(recall)
                .filter(|(_, r)| **r >= t)
                .map(|(p, _)| *p)
                .fold(0.0, f64::max)
        })
        .sum::<f64>()
        / 11.0
}

/// VOC2010+'s all-point AP: the area under the precision envelope.
pub fn ap_all_point(precision: &[f64], recall: &[f64]) -> f64 {
    let mut mpre: Vec<f64> = std::iter::once(0.0)
        .chain(precision.iter().copied())
        .chain(std::iter::once(0.0))
        .collect();
    let mrec: Vec<f64> = std::iter::once(0.0)
        .chain(recall.iter().copied())
        .chain(std::iter::once(1.0))
        .collect();
    for i in (1..mpre.len()).rev() {
        mpre[i - 1] = mpre[i - 1].max(mpre[i]);
    }
    (1..mrec.len())
        .filter(|&i| mrec[i] != mrec[i - 1])
        .map(|i| (mrec[i] - mrec[i - 1]) * mpre[i])
        .sum()
}

/// One class's ranked matches against `truth` (indexed by image).
fn class_ap(
    truth: &[Vec<Truth>],
    detections: &[Detection],
    class_id: usize,
    iou_threshold: f64,
) -> Option<ClassAp> {
    let of_class = |t: &&Truth| t.class_id == class_id;
    let positives = truth
        .iter()
        .flatten()
        .filter(of_class)
        .filter(|t| !t.difficult)
        .count();
    let difficult = truth
        .iter()
        .flatten()
        .filter(of_class)
        .filter(|t| t.difficult)
        .count();
    if positives == 0 {
        return None;
    }
    let mut ranked: Vec<&Detection> = detections
        .iter()
        .filter(|d| d.class_id == class_id)
        .collect();
    // Stable, so that equal scores keep their input order (the devkit leaves ties unspecified).
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut taken: Vec<Vec<bool>> = truth.iter().map(|t| vec![false; t.len()]).collect();
    let (mut tp, mut fp) = (0usize, 0usize);
    let (mut precision, mut recall) = (Vec::new(), Vec::new());
    for d in &ranked {
        let best = truth
            .get(d.image)
            .into_iter()
            .flatten()
            .enumerate()
            .filter(|(_, t)| t.class_id == class_id)
            .map(|(j, t)| (j, iou(&d.bbox, &t.bbox)))
            // the first of equal overlaps, as numpy's argmax
            .fold(None, |best: Option<(usize, f64)>, (j, o)| match best {
                Some((_, b)) if b >= o => best,
                _ => Some((j, o)),
            });
        match best {
            Some((j, overlap)) if overlap > iou_threshold => {
                if truth[d.image][j].difficult {
                    continue;
                }
                if taken[d.image][j] {
                    fp += 1;
                } else {
                    taken[d.image][j] = true;
                    tp += 1;
                }
            }
            _ => fp += 1,
        }
        precision.push(tp as f64 / (tp + fp) as f64);
        recall.push(tp as f64 / positives as f64);
    }
    Some(ClassAp {
        class_id,
        positives,
        difficult,
        detections: ranked.len(),
        ap11: ap_11_point(&precision, &recall),
        ap: ap_all_point(&precision, &recall),
        precision,
        recall,
    })
}

/// AP of every class `0..classes` and the means over the classes with positives (0 when none
/// has any).
pub fn evaluate(
    truth: &[Vec<Truth>],
    detections: &[Detection],
    classes: usize,
    iou_threshold: f64,
) -> VocMap {
    let per_class: Vec<Option<ClassAp>> = (0..classes)
        .map(|c| class_ap(truth, detections, c, iou_threshold))
        .collect();
    let scored: Vec<&ClassAp> = per_class.iter().flatten().collect();
    let mean = |f: fn(&ClassAp) -> f64| {
        if scored.is_empty() {
            0.0
        } else {
            scored.iter().map(|c| f(c)).sum::<f64>() / scored.len() as f64
        }
    };
    VocMap {
        map11: mean(|c| c.ap11),
        map: mean(|c| c.ap),
        classes: per_class,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn truth(class_id: usize, x: f64, difficult: bool) -> Truth {
        Truth {
            class_id,
            bbox: [x, 10.0, x + 49.0, 59.0],
            difficult,
        }
    }

    fn det(image: usize, class_id: usize, score: f64, x: f64) -> Detection {
        Detection {
            image,
            class_id,
            score,
            bbox: [x, 10.0, x + 49.0, 59.0],
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn iou_counts_inclusive_pixels() {
        // 10x10 boxes overlapping in 5x10 pixels: 50 / (100 + 100 - 50)
        let a = [1.0, 1.0, 10.0, 10.0];
        let b = [6.0, 1.0, 15.0, 10.0];
        assert!(close(iou(&a, &b), 50.0 / 150.0));
        assert!(close(iou(&a, &a), 1.0));
        assert_eq!(iou(&a, &[20.0, 20.0, 30.0, 30.0]), 0.0);
    }

    #[test]
    fn one_box_found_scores_one() {
        let r = evaluate(
            &[vec![truth(0, 0.0, false)]],
            &[det(0, 0, 0.9, 2.0)],
            1,
            0.5,
        );
        let c = r.classes[0].as_ref().unwrap();
        assert_eq!((c.ap11, c.ap, r.map11, r.map), (1.0, 1.0, 1.0, 1.0));
        assert_eq!((c.positives, c.detections), (1, 1));
        // and missed (the box elsewhere) it scores zero
        let r = evaluate(
            &[vec![truth(0, 0.0, false)]],
            &[det(0, 0, 0.9, 200.0)],
            1,
            0.5,
        );
        assert_eq!((r.map11, r.map), (0.0, 0.0));
    }

    #[test]
    fn a_duplicate_is_a_false_positive() {
        // two objects; the first found twice, the duplicate ranked before the second object
        let gt = vec![vec![truth(0, 0.0, false), truth(0, 100.0, false)]];
        let dets = [
            det(0, 0, 0.9, 0.0),
            det(0, 0, 0.8, 1.0),
            det(0, 0, 0.7, 100.0),
        ];
        let r = evaluate(&gt, &dets, 1, 0.5);
        let c = r.classes[0].as_ref().unwrap();
        assert_eq!(c.precision, vec![1.0, 0.5, 2.0 / 3.0]);
        assert_eq!(c.recall, vec![0.5, 0.5, 1.0]);
        // all points: recall 0..0.5 at precision 1, 0.5..1 at 2/3
        assert!(close(c.ap, 0.5 + 0.5 * 2.0 / 3.0), "{}", c.ap);
        // 11 points: 0, 0.1, ..., 0.5 at 1; 0.6, ..., 1.0 at 2/3
        assert!(close(c.ap11, (6.0 + 5.0 * 2.0 / 3.0) / 11.0), "{}", c.ap11);
    }

    #[test]
    fn difficult_objects_count_neither_way() {
        let gt = vec![vec![truth(0, 0.0, false), truth(0, 100.0, true)]];
        // found, the difficult one found too (ranked first): no false positive, no extra positive
        let dets = [det(0, 0, 0.95, 100.0), det(0, 0, 0.9, 0.0)];
        let r = evaluate(&gt, &dets, 1, 0.5);
        let c = r.classes[0].as_ref().unwrap();
        assert_eq!((c.positives, c.difficult, c.detections), (1, 1, 2));
        assert_eq!((c.ap11, c.ap), (1.0, 1.0));
        assert_eq!(
            c.precision,
            vec![1.0],
            "the difficult match is not on the curve"
        );
        // the difficult one missed costs nothing either
        let r = evaluate(&gt, &dets[1..], 1, 0.5);
        assert_eq!(r.map, 1.0);
        // a class whose only objects are difficult is not scored
        let r = evaluate(&[vec![truth(0, 0.0, true)]], &dets, 1, 0.5);
        assert_eq!(r.classes[0], None);
    }

    #[test]
    fn a_class_without_ground_truth_is_left_out_of_the_mean() {
        let gt = vec![vec![truth(0, 0.0, false)], vec![]];
        // class 1 has detections but no object anywhere; class 2 nothing at all
        let dets = [det(0, 0, 0.9, 0.0), det(1, 1, 0.9, 0.0)];
        let r = evaluate(&gt, &dets, 3, 0.5);
        assert!(r.classes[0].is_some());
        assert_eq!((&r.classes[1], &r.classes[2]), (&None, &None));
        assert_eq!((r.map11, r.map), (1.0, 1.0));
        assert_eq!(evaluate(&[vec![]], &dets, 3, 0.5).map, 0.0);
    }

    #[test]
    fn detections_in_other_images_and_classes_do_not_match() {
        let gt = vec![vec![truth(0, 0.0, false)], vec![truth(1, 0.0, false)]];
        // right place, wrong image; right place, wrong class
        let dets = [det(1, 0, 0.9, 0.0), det(0, 1, 0.8, 0.0)];
        let r = evaluate(&gt, &dets, 2, 0.5);
        assert_eq!((r.map11, r.map), (0.0, 0.0));
    }

    #[test]
    fn the_iou_threshold_is_strict() {
        // an IoU of exactly 1/3 is not above a threshold of 1/3
        let gt = vec![vec![Truth {
            class_id: 0,
            bbox: [1.0, 1.0, 10.0, 10.0],
            difficult: false,
        }]];
        let d = Detection {
            image: 0,
            class_id: 0,
            score: 0.5,
            bbox: [6.0, 1.0, 15.0, 10.0],
        };
        assert_eq!(
            evaluate(&gt, std::slice::from_ref(&d), 1, 50.0 / 150.0).map,
            0.0
        );
        assert_eq!(evaluate(&gt, &[d], 1, 0.3).map, 1.0);
    }

    #[test]
    fn eleven_point_thresholds_fall_as_in_the_devkit() {
        // recall exactly 3/10 does not reach the 0.30000000000000004 threshold
        let ap = ap_11_point(&[1.0], &[0.3]);
        assert!(close(ap, 3.0 / 11.0), "{ap}");
        assert!(close(ap_11_point(&[1.0], &[0.5]), 6.0 / 11.0));
    }
}
