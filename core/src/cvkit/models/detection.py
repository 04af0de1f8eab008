"""Detection models' decoded boxes: the head's ``postprocess`` (decode + NMS) on a model's outputs,
and COCO AP of them. ``cvkit predict`` and the SavedModel (:mod:`cvkit.serve`) and ``cvkit evaluate``
and the run's own metrics (:mod:`cvkit.training`) all decode through here, so all give the same boxes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

import numpy as np

from cvkit.errors import CvkitError

# COCO AP ranks every detection by score: a high floor would cut the recall it integrates over
EVALUATION_SCORE_THRESHOLD = 0.01  # as the val_ap50 logged in training
EVALUATION_BATCH = 32


def is_detection(model: Any) -> bool:
    return getattr(model, "task", None) == "detection"


def detection_thresholds(score_threshold: float | None = None, iou_threshold: float | None = None,
                         max_detections: int | None = None) -> Any:
    """``cvkit.DETECTION_DEFAULTS`` with the given values in, checked (outside [0, 1]: one line)."""
    import cvkit

    given = {"score_threshold": score_threshold, "iou_threshold": iou_threshold, "max_detections": max_detections}
    return replace(cvkit.DETECTION_DEFAULTS, **{k: v for k, v in given.items() if v is not None}).checked()


def head_postprocess(model: Any) -> Callable[..., dict[str, Any]]:
    """The model's head's ``postprocess`` with the model's head params bound:
    ``fn(outputs, score_threshold=, iou_threshold=, max_detections=)``."""
    from cvkit.contract.guard import guarded
    from cvkit.contract.plugins import get_registries
    from cvkit.contract.registry import resolve_callable

    spec = get_registries().heads.get(model.head)
    if not getattr(spec, "postprocess", None):
        raise CvkitError(f"head {spec.name!r} registers no postprocess, so its detections cannot be decoded; "
                         f"register the head with register_head(..., postprocess=...)")
    postprocess = guarded("head", spec, resolve_callable(spec.postprocess))
    params = dict(model.head_params)

    def run(outputs: dict[str, Any], **limits: Any) -> dict[str, Any]:
        return postprocess(outputs, **limits, **params)

    return run


def detect(model: Any, images: np.ndarray, limits: Any) -> dict[str, np.ndarray]:
    """Post-NMS ``boxes`` (rel_xyxy), ``scores``, ``classes``, ``num_detections`` of a batch of
    float images already at the model's input size."""
    from keras import ops

    outputs = model(ops.convert_to_tensor(images, dtype="float32"), training=False)
    if not isinstance(outputs, dict):
        raise CvkitError(f"head {model.head!r} has a single output; a detection head returns a dict of named outputs")
    result = head_postprocess(model)(outputs, score_threshold=limits.score_threshold,
                                     iou_threshold=limits.iou_threshold, max_detections=limits.max_detections)
    return {key: np.asarray(ops.convert_to_numpy(value)) for key, value in result.items()}


def detection_scores(model: Any, examples: Any) -> dict[str, float]:
    """COCO ``AP``, ``AP50`` and ``AP75`` of ``model`` on ``examples`` (unbatched tf.data examples
    with ``images`` and padded ``bounding_boxes``); ``{}`` for a model of another task.

    Public as ``cvkit.detection_scores``: ``cvkit evaluate``, the run's metrics.json and a head's
    per-epoch callback (the yolo head's ``val_ap50``) all score detections through it, with the
    head's own ``postprocess`` at score threshold 0.01."""
    if not is_detection(model):
        return {}
    import cvkit

    limits = detection_thresholds(score_threshold=EVALUATION_SCORE_THRESHOLD)
    truth, predictions = [], []
    for batch in examples.batch(EVALUATION_BATCH).as_numpy_iterator():
        images = batch["images"]
        truth.extend(cvkit.DetectionTruth.from_batch(batch["bounding_boxes"], *images.shape[1:3]))
        predictions.extend(cvkit.DetectionResult.from_batch(detect(model, images.astype("float32"), limits)))
    names = list(model.class_names) or [str(c) for c in range(model.num_classes)]
    return cvkit.coco_average_precision(truth, predictions, names)
