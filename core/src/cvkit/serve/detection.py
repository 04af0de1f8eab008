"""Detection for ``cvkit predict``: thresholds from the command line, boxes listed in pixels and drawn.

The decoding itself (the head's ``postprocess``) is :mod:`cvkit.models.detection`'s, which the
SavedModel (:mod:`cvkit.serve.detection_export`) and ``cvkit evaluate`` use too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cvkit.errors import CvkitError
from cvkit.models.detection import detection_thresholds, is_detection


def detection_limits(model: Any, score_threshold: float | None, iou_threshold: float | None) -> Any:
    """The checked thresholds for a detection model; None for a model of another task (which
    takes no thresholds: giving one is an error)."""
    if is_detection(model):
        return detection_thresholds(score_threshold, iou_threshold)
    if score_threshold is not None or iou_threshold is not None:
        raise CvkitError(f"score and IoU thresholds apply to detection models, and this model's task is "
                         f"{getattr(model, 'task', None) or 'classification'}; drop --score-threshold and --iou-threshold")
    return None


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
