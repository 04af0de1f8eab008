"""Detection outside training: the head's ``postprocess`` (decode + NMS) on a model's outputs.

``cvkit predict`` lists the boxes of each image and draws them, ``cvkit evaluate`` scores them
with COCO AP, and the SavedModel traces the same postprocess into its serving functions
(:mod:`cvkit.serve.detection_export`), so all three give the same boxes.
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


def detection_limits(model: Any, score_threshold: float | None, iou_threshold: float | None) -> Any:
    """The checked thresholds for a detection model; None for a model of another task (which
    takes no thresholds: giving one is an error)."""
    if is_detection(model):
        return detection_thresholds(score_threshold, iou_threshold)
    if score_threshold is not None or iou_threshold is not None:
        raise CvkitError(f"score and IoU thresholds apply to detection models, and this model's task is "
                         f"{getattr(model, 'task', None) or 'classification'}; drop --score-threshold and --iou-threshold")
    return None


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


def detection_rows(detected: dict[str, np.ndarray], index: int, class_names: list[str],
                   size: tuple[int, int]) -> list[dict[str, Any]]:
    """Image ``index``'s detections, best first: ``box`` (rel_xyxy), ``box_pixels`` (x1, y1, x2, y2
    in the image's ``size`` = (height, width)), ``class`` (name), ``class_id`` and ``score``."""
    height, width = size
    rows = []
    for k in range(int(detected["num_detections"][index])):
        box = np.asarray(detected["boxes"][index][k], dtype="float64")
        class_id = int(detected["classes"][index][k])
        rows.append({
            "box": [float(v) for v in box],
            "box_pixels": [float(v) for v in box * [width, height, width, height]],
            "class": class_names[class_id] if 0 <= class_id < len(class_names) else str(class_id),
            "class_id": class_id,
            "score": float(detected["scores"][index][k]),
        })
    return rows


def draw_detections(draw: Any, detections: list[dict[str, Any]], colours: np.ndarray, line_width: int) -> None:
    """Each box in its class's colour, with ``name score`` in black on a tag of that colour
    above the box (inside it when the box touches the top), readable on any background."""
    for found in reversed(detections):  # the best box drawn last, on top
        x1, y1, x2, y2 = found["box_pixels"]
        colour = tuple(int(c) for c in colours[(found["class_id"] + 1) % len(colours)])
        draw.rectangle([x1, y1, max(x1, x2 - 1), max(y1, y2 - 1)], outline=colour, width=line_width)
        text = f"{found['class']} {found['score']:.2f}"
        left, top, right, bottom = draw.textbbox((0, 0), text)
        tag_height = bottom - top + 2
        tag_top = y1 - tag_height if y1 >= tag_height else y1
        draw.rectangle([x1, tag_top, x1 + right - left + 3, tag_top + tag_height], fill=colour)
        draw.text((x1 + 2 - left, tag_top + 1 - top), text, fill=(0, 0, 0))


def detection_scores(model: Any, examples: Any) -> dict[str, float]:
    """COCO ``AP``, ``AP50`` and ``AP75`` of ``model`` on ``examples`` (unbatched tf.data examples
    with ``images`` and padded ``bounding_boxes``); ``{}`` for a model of another task."""
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
