"""Peer for the tests: scores detections against ground truth with the PyPI package
mean-average-precision (MeanAveragePrecision2d), VOC2007's 11-point and VOC2010's all-point AP
per class at IoU 0.5.
Reads JSON {"classes": N, "images": [{"truth": [[x0, y0, x1, y1, class]],
"detections": [[x0, y0, x1, y1, class, score]]}]} on stdin; prints
{"ap11": {class: AP}, "ap": {class: AP}} for the classes with ground truth."""
import json
import sys
import warnings

import numpy as np
from mean_average_precision import MetricBuilder

warnings.simplefilter("ignore")  # pandas' FutureWarnings on concatenating empty frames
case = json.load(sys.stdin)
metric = MetricBuilder.build_evaluation_metric("map_2d", async_mode=False, num_classes=case["classes"])
present = set()
for image in case["images"]:
    # ground truth: [xmin, ymin, xmax, ymax, class_id, difficult, crowd]
    gt = np.array([t + [0, 0] for t in image["truth"]], dtype=np.float64).reshape(-1, 7)
    preds = np.array(image["detections"], dtype=np.float64).reshape(-1, 6)
    present.update(int(t[4]) for t in image["truth"])
    metric.add(preds, gt)
eleven = metric.value(iou_thresholds=0.5, recall_thresholds=np.arange(0.0, 1.1, 0.1))
every = metric.value(iou_thresholds=0.5)
print(json.dumps({
    "ap11": {str(c): float(eleven[0.5][c]["ap"]) for c in sorted(present)},
    "ap": {str(c): float(every[0.5][c]["ap"]) for c in sorted(present)},
}))
