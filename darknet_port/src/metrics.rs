//! Detection agreement: average precision of one set of detections scored against another
//! taken as ground truth (PASCAL VOC's all-point interpolated AP at an IoU threshold), with
//! VOC's "difficult" boxes: ambiguous ones that a prediction may find or miss at no cost.

use crate::network::Found;

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    if union <= 0.0 {
        0.0
    } else {
        inter / union
    }
}

/// AP of `predictions` for class `class` against `truth`, frame by frame (all indexed by
/// frame). A prediction whose best match is a box of `ambiguous` (of that frame, when it has
/// one) counts neither as a hit nor as a false alarm, and ambiguous boxes need no hit.
pub fn average_precision(
    truth: &[Vec<Found>],
    ambiguous: &[Vec<Found>],
    predictions: &[Vec<Found>],
    class: usize,
    iou_threshold: f32,
) -> Option<f32> {
    let total: usize = truth
        .iter()
        .map(|f| f.iter().filter(|d| d.class_id == class).count())
        .sum();
    if total == 0 {
        return None;
    }
    let mut preds: Vec<(usize, &Found)> = predictions
        .iter()
        .enumerate()
        .flat_map(|(i, f)| {
            f.iter()
                .filter(|d| d.class_id == class)
                .map(move |d| (i, d))
        })
        .collect();
    preds.sort_by(|a, b| b.1.prob.total_cmp(&a.1.prob));
    let mut used: Vec<Vec<bool>> = truth.iter().map(|f| vec![false; f.len()]).collect();
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut curve = Vec::with_capacity(preds.len());
    for (frame, p) in preds {
        let best = truth[frame]
            .iter()
            .enumerate()
            .filter(|(j, t)| t.class_id == class && !used[frame][*j])
            .map(|(j, t)| (j, iou(&p.bbox, &t.bbox)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let best_ambiguous = ambiguous.get(frame).map_or(0.0, |boxes| {
            boxes
                .iter()
                .filter(|a| a.class_id == class)
                .map(|a| iou(&p.bbox, &a.bbox))
                .fold(0f32, f32::max)
        });
        if best_ambiguous >= iou_threshold && best_ambiguous > best.map_or(0.0, |b| b.1) {
            continue;
        }
        match best {
            Some((j, overlap)) if overlap >= iou_threshold => {
                used[frame][j] = true;
                tp += 1;
            }
            _ => fp += 1,
        }
        curve.push((tp as f32 / total as f32, tp as f32 / (tp + fp) as f32));
    }
    // All-point interpolation: precision made monotone from the right, integrated over recall.
    let mut ap = 0.0;
    let mut previous_recall = 0.0;
    for i in 0..curve.len() {
        let (recall, _) = curve[i];
        let precision = curve[i..].iter().map(|c| c.1).fold(0f32, f32::max);
        ap += (recall - previous_recall) * precision;
        previous_recall = recall;
    }
    Some(ap)
}

/// Mean AP over the classes present in `truth` (see [`average_precision`]).
pub fn mean_average_precision(
    truth: &[Vec<Found>],
    ambiguous: &[Vec<Found>],
    predictions: &[Vec<Found>],
    classes: usize,
    iou_threshold: f32,
) -> f32 {
    let aps: Vec<f32> = (0..classes)
        .filter_map(|c| average_precision(truth, ambiguous, predictions, c, iou_threshold))
        .collect();
    if aps.is_empty() {
        1.0
    } else {
        aps.iter().sum::<f32>() / aps.len() as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(class_id: usize, prob: f32, x: f32) -> Found {
        Found {
            class_id,
            class: String::new(),
            prob,
            bbox: [x, 0.0, x + 10.0, 10.0],
        }
    }

    #[test]
    fn identical_detections_score_one() {
        let frames = vec![
            vec![found(0, 0.9, 0.0), found(1, 0.8, 50.0)],
            vec![found(0, 0.7, 20.0)],
        ];
        assert_eq!(mean_average_precision(&frames, &[], &frames, 2, 0.5), 1.0);
    }

    #[test]
    fn misses_and_false_alarms_cost() {
        let truth = vec![vec![found(0, 1.0, 0.0), found(0, 1.0, 100.0)]];
        // one hit, one box in the wrong place ranked higher
        let preds = vec![vec![found(0, 0.9, 50.0), found(0, 0.8, 1.0)]];
        let ap = average_precision(&truth, &[], &preds, 0, 0.5).unwrap();
        assert!((ap - 0.25).abs() < 1e-6, "{ap}");
        assert_eq!(average_precision(&truth, &[], &preds, 3, 0.5), None);
        assert_eq!(mean_average_precision(&truth, &[], &[vec![]], 1, 0.5), 0.0);
    }

    #[test]
    fn ambiguous_boxes_count_neither_way() {
        let truth = vec![vec![found(0, 1.0, 0.0)], vec![]];
        // frame 1's box is ambiguous: predicted there with a high score, it is no false alarm
        let ambiguous = vec![vec![], vec![found(0, 0.3, 40.0)]];
        let preds = vec![vec![found(0, 0.5, 0.0)], vec![found(0, 0.9, 40.0)]];
        assert_eq!(average_precision(&truth, &[], &preds, 0, 0.5), Some(0.5));
        assert_eq!(
            average_precision(&truth, &ambiguous, &preds, 0, 0.5),
            Some(1.0)
        );
        // and an ambiguous box nobody predicted costs nothing
        assert_eq!(
            average_precision(
                &truth,
                &ambiguous,
                &[vec![found(0, 0.5, 0.0)], vec![]],
                0,
                0.5
            ),
            Some(1.0)
        );
        // a prediction elsewhere in that frame is still a false alarm
        let stray = vec![vec![found(0, 0.5, 0.0)], vec![found(0, 0.9, 200.0)]];
        assert_eq!(
            average_precision(&truth, &ambiguous, &stray, 0, 0.5),
            Some(0.5)
        );
    }
}
