"""COCO mean average precision of detections, computed by pycocotools (the reference code).

``AP`` averages over IoU thresholds 0.50:0.05:0.95, ``AP50`` and ``AP75`` take one threshold;
each is the mean over the classes that occur in the truth (COCO leaves a class with no true
object out of the mean), counting up to 100 detections per image, as COCO does.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy loads in the functions that use it, so the CLI starts fast
    import numpy as np

COCO_MAX_DETECTIONS = 100  # per image: COCO's own limit for AP


@dataclass(frozen=True)
class DetectionTruth:
    """One image's true objects: ``boxes`` (n, 4) rel_xyxy, ``classes`` (n,), and its size in pixels."""

    boxes: np.ndarray
    classes: np.ndarray
    height: int
    width: int

    @classmethod
    def from_batch(cls, bounding_boxes: dict, height: int, width: int) -> list[DetectionTruth]:
        """One per image of a batch's padded ``bounding_boxes`` (NumPy ``boxes``, ``labels``; -1 pads)."""
        import numpy as np

        found = []
        for boxes, labels in zip(np.asarray(bounding_boxes["boxes"]), np.asarray(bounding_boxes["labels"])):
            real = labels >= 0
            found.append(cls(boxes=boxes[real], classes=labels[real], height=height, width=width))
        return found


@dataclass(frozen=True)
class DetectionResult:
    """One image's detections (padding removed): ``boxes`` (k, 4) rel_xyxy, ``scores`` and ``classes`` (k,)."""

    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray

    @classmethod
    def from_batch(cls, detected: dict) -> list[DetectionResult]:
        """One per image of a head's ``postprocess`` output (NumPy arrays), rows past ``num_detections`` dropped."""
        import numpy as np

        return [cls(boxes=detected["boxes"][i, :n], scores=detected["scores"][i, :n], classes=detected["classes"][i, :n])
                for i, n in enumerate(np.asarray(detected["num_detections"]).astype(int))]


def _pixel_xywh(boxes: np.ndarray, height: int, width: int) -> np.ndarray:
    import numpy as np

    boxes = np.asarray(boxes, dtype="float64").reshape(-1, 4) * [width, height, width, height]
    return np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)


def _truth_dataset(truth: Sequence[DetectionTruth], num_classes: int) -> dict:
    import numpy as np

    images, annotations = [], []
    for image_id, item in enumerate(truth, start=1):
        images.append({"id": image_id, "height": int(item.height), "width": int(item.width)})
        for box, cls in zip(_pixel_xywh(item.boxes, item.height, item.width), np.asarray(item.classes).reshape(-1)):
            _check_class(int(cls), num_classes, "a true box")
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, "category_id": int(cls) + 1,
                                "bbox": [float(v) for v in box], "area": float(box[2] * box[3]), "iscrowd": 0})
    categories = [{"id": c + 1, "name": str(c)} for c in range(num_classes)]
    return {"images": images, "annotations": annotations, "categories": categories}


def _detections(truth: Sequence[DetectionTruth], predictions: Sequence[DetectionResult], num_classes: int) -> list[dict]:
    import numpy as np

    rows = []
    for image_id, (item, found) in enumerate(zip(truth, predictions), start=1):
        boxes = _pixel_xywh(found.boxes, item.height, item.width)
        for box, score, cls in zip(boxes, np.asarray(found.scores).reshape(-1), np.asarray(found.classes).reshape(-1)):
            _check_class(int(cls), num_classes, "a predicted box")
            rows.append({"image_id": image_id, "category_id": int(cls) + 1, "bbox": [float(v) for v in box],
                         "score": float(score)})
    return rows


def _check_class(cls: int, num_classes: int, what: str) -> None:
    if not 0 <= cls < num_classes:
        raise ValueError(f"{what} has class {cls}, outside 0..{num_classes - 1}")


def coco_average_precision(truth: Sequence[DetectionTruth], predictions: Sequence[DetectionResult],
                           class_names: Sequence[str]) -> dict[str, float]:
    """``{"AP", "AP50", "AP75"}`` over all images (COCO's definitions; see the module).

    ``truth[i]`` and ``predictions[i]`` describe the same image; an image may have neither. With
    no true object at all every value is 0.0 (COCO leaves it undefined).
    """
    if len(truth) != len(predictions):
        raise ValueError(f"{len(truth)} truths but {len(predictions)} predictions; give one of each per image")
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    num_classes = len(class_names)
    dataset = _truth_dataset(truth, num_classes)
    rows = _detections(truth, predictions, num_classes)
    if not dataset["annotations"] or not rows:
        return {"AP": 0.0, "AP50": 0.0, "AP75": 0.0}
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints every step
        coco = COCO()
        coco.dataset = dataset
        coco.createIndex()
        evaluation = COCOeval(coco, coco.loadRes(rows), iouType="bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    ap, ap50, ap75 = (max(0.0, float(v)) for v in evaluation.stats[:3])  # -1: undefined
    return {"AP": ap, "AP50": ap50, "AP75": ap75}
