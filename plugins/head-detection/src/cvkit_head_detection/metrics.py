"""AP50 on the validation split after each epoch, as COCO defines it (``cvkit.coco_average_precision``).

Average precision ranks every detection of the whole split, so no per-batch Keras metric can
give it. The callback keeps the validation images and boxes in memory (read once), predicts
them after Keras' own validation pass, decodes with the head's ``postprocess`` and adds
``val_ap50`` to the epoch's logs, which metrics.csv and the history record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from cvkit import TaskSpec

# Below the serving default (0.25): AP integrates precision over all recall levels, so the
# evaluation keeps the low-scoring detections too, as COCO evaluations do.
AP_SCORE_THRESHOLD = 0.01
AP_IOU_THRESHOLD = 0.5
AP_MAX_DETECTIONS = 100
PREDICT_BATCH = 64


def average_precision_callback(task: TaskSpec, **params: Any) -> Callable[[Any], keras.callbacks.Callback]:
    """The ``Objectives.validation_callbacks`` entry: validation split -> the AP50 callback."""
    return lambda validation: ValidationAveragePrecision(validation, task, params)


def read_split(split: Any) -> tuple[np.ndarray, list[Any]]:
    """Images (float32, 0-255) and each image's true boxes (padding dropped) of an unbatched split."""
    from cvkit import DetectionTruth

    images, truth = [], []
    for batch in split.batch(PREDICT_BATCH).as_numpy_iterator():
        images.append(batch["images"].astype("float32"))
        truth.extend(DetectionTruth.from_batch(batch["bounding_boxes"], *batch["images"].shape[1:3]))
    return np.concatenate(images), truth


def detection_results(decoded: dict[str, Any]) -> list[Any]:
    """``postprocess`` output (a batch) -> one ``cvkit.DetectionResult`` per image, padding dropped."""
    from cvkit import DetectionResult

    return DetectionResult.from_batch({key: keras.ops.convert_to_numpy(value) for key, value in decoded.items()})


def average_precision(model: Any, images: np.ndarray, truth: list[Any], task: TaskSpec, params: dict) -> dict[str, float]:
    """COCO AP, AP50 and AP75 of ``model`` (a yolo head) on ``images`` against ``truth``."""
    from cvkit import coco_average_precision
    from cvkit_head_detection.head import DETECTIONS, yolo_postprocess

    found = []
    for start in range(0, len(images), PREDICT_BATCH):
        outputs = model(images[start:start + PREDICT_BATCH], training=False)
        decoded = yolo_postprocess({DETECTIONS: outputs[DETECTIONS]}, score_threshold=AP_SCORE_THRESHOLD,
                                   iou_threshold=AP_IOU_THRESHOLD, max_detections=AP_MAX_DETECTIONS, **params)
        found.extend(detection_results(decoded))
    names = task.class_names or tuple(str(c) for c in range(task.num_classes))
    return coco_average_precision(truth, found, names)


class ValidationAveragePrecision(keras.callbacks.Callback):
    """Adds ``val_ap50`` (COCO AP at IoU 0.5 on the validation split) to each epoch's logs."""

    def __init__(self, validation: Any, task: TaskSpec, params: dict):
        super().__init__()
        self.validation, self.task, self.params = validation, task, params
        self._data: tuple[np.ndarray, list[Any]] | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is None:
            return
        if self._data is None:
            self._data = read_split(self.validation)
        logs["val_ap50"] = average_precision(self.model, *self._data, self.task, self.params)["AP50"]
