"""cvkit.coco_average_precision: COCO's AP, AP50 and AP75 through pycocotools."""

from __future__ import annotations

import numpy as np
import pytest

from cvkit import DetectionResult, DetectionTruth, coco_average_precision

CLASSES = ("cat", "dog")


def _truth(boxes, classes, size=200):
    return DetectionTruth(np.asarray(boxes, "float32").reshape(-1, 4), np.asarray(classes, "int32"), size, size)


def _found(boxes, scores, classes):
    return DetectionResult(np.asarray(boxes, "float32").reshape(-1, 4), np.asarray(scores, "float32"),
                           np.asarray(classes, "int32"))


def test_perfect_predictions_give_ap_one_and_empty_images_are_fine(capsys):
    truth = [_truth([[0.1, 0.1, 0.5, 0.6], [0.5, 0.5, 0.9, 0.95]], [0, 1]), _truth([], []), _truth([[0.2, 0.3, 0.4, 0.9]], [0])]
    found = [_found(t.boxes, np.ones(len(t.classes)), t.classes) for t in truth]
    assert coco_average_precision(truth, found, CLASSES) == {"AP": 1.0, "AP50": 1.0, "AP75": 1.0}
    assert capsys.readouterr().out == ""  # pycocotools' printing is silenced


def test_a_shifted_box_splits_ap50_and_ap75():
    # 100x100 px true box; the prediction is 20 px to the right: IoU 80/120 = 0.667, a hit at
    # thresholds 0.50, 0.55, 0.60, 0.65 and a miss at 0.70 ... 0.95, so AP = 4/10.
    truth = [_truth([[0.0, 0.0, 0.5, 0.5]], [1])]
    found = [_found([[0.1, 0.0, 0.6, 0.5]], [0.9], [1])]
    result = coco_average_precision(truth, found, CLASSES)
    assert result["AP50"] == pytest.approx(1.0) and result["AP75"] == pytest.approx(0.0)
    assert result["AP"] == pytest.approx(0.4)


def test_wrong_class_and_missing_predictions_score_zero():
    truth = [_truth([[0.0, 0.0, 0.5, 0.5]], [0])]
    assert coco_average_precision(truth, [_found([[0.0, 0.0, 0.5, 0.5]], [0.9], [1])], CLASSES)["AP50"] == 0.0
    assert coco_average_precision(truth, [_found([], [], [])], CLASSES) == {"AP": 0.0, "AP50": 0.0, "AP75": 0.0}


def test_half_the_objects_found_gives_ap50_near_half():
    truth = [_truth([[0.0, 0.0, 0.4, 0.4], [0.5, 0.5, 0.9, 0.9]], [0, 0])]
    result = coco_average_precision(truth, [_found([[0.0, 0.0, 0.4, 0.4]], [0.9], [0])], CLASSES)
    assert result["AP50"] == pytest.approx(0.5, abs=0.01)  # recall stops at 0.5 (101-point precision)


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="1 truths but 0 predictions"):
        coco_average_precision([_truth([], [])], [], CLASSES)
