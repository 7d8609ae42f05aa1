#!/usr/bin/env python3
"""Independent float64 reference for tests/model/test_detection_metrics.cpp (FixedSet tests).

Generates the fixed prediction set (3 classes, 10 images) from a fixed seed, and computes the
metrics the way Ultralytics' validator does (match_predictions, ap_per_class, compute_ap, smooth),
written here with NumPy array operations rather than the C++ code's scalar loops.

Run (NumPy only; a development tool, not a build dependency):
    python3 tests/model/reference/map_reference.py          # the metrics the test compares with
    python3 tests/model/reference/map_reference.py --cpp    # the data set as C++ literals
"""
import sys

import numpy as np

NUM_CLASSES = 3
IOU_THRESHOLDS = np.array([(50.0 + 5.0 * i) / 100 for i in range(10)])


def make_data_set(seed=20240607):
    """Labels (image, cls, x1, y1, x2, y2) and detections (image, x1, y1, x2, y2, conf, cls)."""
    rng = np.random.RandomState(seed)
    labels, detections, used_conf = [], [], set()

    def fresh_conf(lo, hi):
        while True:  # unique confidences: no ties, so no order ambiguity anywhere
            c = round(float(rng.uniform(lo, hi)), 4)
            if c not in used_conf:
                used_conf.add(c)
                return c

    def jitter(box, spread):
        w, h = box[2] - box[0], box[3] - box[1]
        d = rng.normal(0.0, spread, 4) * np.array([w, h, w, h])
        return [round(float(v), 1) for v in np.array(box) + d]

    for image in range(10):
        image_dets = []
        for _ in range(rng.randint(2, 6)):
            cls = int(rng.randint(0, NUM_CLASSES))
            x1, y1 = rng.uniform(0, 500, 2)
            w, h = rng.uniform(20, 140, 2)
            box = [round(float(v), 1) for v in (x1, y1, x1 + w, y1 + h)]
            labels.append([image, cls] + box)
            if rng.rand() < 0.85:
                det_cls = cls if rng.rand() < 0.9 else int(rng.randint(0, NUM_CLASSES))
                image_dets.append(jitter(box, 0.07) + [fresh_conf(0.3, 0.99), det_cls])
                if rng.rand() < 0.3:  # a duplicate, usually lower
                    image_dets.append(jitter(box, 0.12) + [fresh_conf(0.1, 0.9), det_cls])
        for _ in range(rng.randint(0, 3)):  # background false positives
            x1, y1 = rng.uniform(0, 500, 2)
            w, h = rng.uniform(20, 140, 2)
            box = [round(float(v), 1) for v in (x1, y1, x1 + w, y1 + h)]
            image_dets.append(box + [fresh_conf(0.05, 0.6), int(rng.randint(0, NUM_CLASSES))])
        image_dets.sort(key=lambda d: -d[4])  # NMS order
        detections += [[image] + d for d in image_dets]
    return labels, detections


def pairwise_iou(a, b):
    """a [N, 4], b [M, 4] xyxy -> [N, M]."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    return inter / (area_a[:, None] + area_b[None, :] - inter)


def correct_matrix(dets, labels):
    """dets [K, 6], labels [M, 5] (cls, box) -> bool [K, 10], Ultralytics' matching rule."""
    correct = np.zeros((len(dets), len(IOU_THRESHOLDS)), dtype=bool)
    if len(dets) == 0 or len(labels) == 0:
        return correct
    iou = pairwise_iou(labels[:, 1:], dets[:, :4])
    iou = iou * (labels[:, :1] == dets[None, :, 5])  # [M, K], other classes zeroed
    for t, threshold in enumerate(IOU_THRESHOLDS):
        pairs = np.argwhere(iou >= threshold)  # (label, detection)
        if len(pairs) == 0:
            continue
        pairs = pairs[np.argsort(-iou[pairs[:, 0], pairs[:, 1]], kind="stable")]
        _, first = np.unique(pairs[:, 1], return_index=True)  # best label per detection
        pairs = pairs[first]  # now ordered by detection index
        _, first = np.unique(pairs[:, 0], return_index=True)  # earliest detection per label
        correct[pairs[first, 1], t] = True
    return correct


def average_precision(recall, precision):
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([1.0], precision, [0.0]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    x = np.linspace(0, 1, 101)
    y = np.interp(x, mrec, mpre)
    return float(np.sum((y[1:] + y[:-1]) / 2 * np.diff(x)))


def metrics(labels, detections):
    labels = np.array(labels, dtype=np.float64)
    detections = np.array(detections, dtype=np.float64)
    tp = np.concatenate([
        correct_matrix(detections[detections[:, 0] == i, 1:], labels[labels[:, 0] == i, 1:])
        for i in range(10)
    ])
    conf = detections[:, 5]
    pred_cls = detections[:, 6]
    target_cls = labels[:, 1]

    order = np.argsort(-conf, kind="stable")
    tp, conf, pred_cls = tp[order], conf[order], pred_cls[order]
    classes, counts = np.unique(target_cls, return_counts=True)
    grid = np.linspace(0, 1, 1000)
    ap = np.zeros((len(classes), 10))
    p_curve = np.zeros((len(classes), 1000))
    r_curve = np.zeros((len(classes), 1000))
    for ci, (c, n_labels) in enumerate(zip(classes, counts)):
        mine = pred_cls == c
        if not mine.any():
            continue
        tpc = np.cumsum(tp[mine], axis=0).astype(np.float64)
        recall = tpc / (n_labels + 1e-16)
        precision = tpc / np.arange(1, len(tpc) + 1)[:, None]
        ap[ci] = [average_precision(recall[:, j], precision[:, j]) for j in range(10)]
        r_curve[ci] = np.interp(-grid, -conf[mine], recall[:, 0], left=0)
        p_curve[ci] = np.interp(-grid, -conf[mine], precision[:, 0], left=1)
    f1 = 2 * p_curve * r_curve / (p_curve + r_curve + 1e-16)
    mean_f1 = f1.mean(0)
    width = round(len(mean_f1) * 0.1 * 2) // 2 + 1
    padded = np.concatenate((np.full(width // 2, mean_f1[0]), mean_f1,
                             np.full(width // 2, mean_f1[-1])))
    smoothed = np.convolve(padded, np.ones(width) / width, mode="valid")
    best = int(np.argmax(smoothed))
    return classes, counts, ap, p_curve[:, best], r_curve[:, best], tp, best


def main():
    labels, detections = make_data_set()
    if "--cpp" in sys.argv:
        print("// image, class, x1, y1, x2, y2")
        print("const std::vector<std::array<double, 6>> kLabels{")
        for l in labels:
            print("    {%d, %d, %.1f, %.1f, %.1f, %.1f}," % tuple(l))
        print("};")
        print("// image, x1, y1, x2, y2, conf, class")
        print("const std::vector<std::array<double, 7>> kDetections{")
        for d in detections:
            print("    {%d, %.1f, %.1f, %.1f, %.1f, %.4f, %d}," % tuple(d))
        print("};")
        return
    classes, counts, ap, p, r, tp, best = metrics(labels, detections)
    print("labels %d, detections %d, true positives at IoU 0.5: %d, best F1 index %d" %
          (len(labels), len(detections), int(tp[:, 0].sum()), best))
    for c, n, a, pc, rc in zip(classes, counts, ap, p, r):
        print("class %d: instances %d  P %.12f  R %.12f  AP50 %.12f  AP50-95 %.12f" %
              (c, n, pc, rc, a[0], a.mean()))
    map50, map50_95 = ap[:, 0].mean(), ap.mean()
    print("mP %.12f" % p.mean())
    print("mR %.12f" % r.mean())
    print("mAP50 %.12f" % map50)
    print("mAP50-95 %.12f" % map50_95)
    print("fitness %.12f" % (0.1 * map50 + 0.9 * map50_95))


if __name__ == "__main__":
    main()
