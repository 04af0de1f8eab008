"""Detection examples: several boxes per image, padded to a fixed ``max_boxes``.

Boxes are rel_xyxy, padded with box 0 and label -1 (Keras' dense-box convention), real boxes
first; an image with no objects has all labels -1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy loads in the functions that use it, so the CLI starts fast
    import numpy as np

from cvkit.data.splits import check_box
from cvkit.errors import CvkitError

PAD_LABEL = -1


def pad_detection_boxes(boxes: Sequence[np.ndarray], labels: Sequence[np.ndarray],
                        max_boxes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-image boxes ``(n_i, 4)`` and labels ``(n_i,)`` -> ``(N, max_boxes, 4)`` and ``(N, max_boxes)``.

    ``max_boxes`` defaults to the most boxes any image has (at least 1); images with more raise.
    """
    import numpy as np

    counts = [len(np.reshape(b, (-1, 4))) for b in boxes]
    size = max(1, max(counts, default=0)) if max_boxes is None else max(1, int(max_boxes))
    if counts and max(counts) > size:
        raise ValueError(f"an image has {max(counts)} boxes, more than max_boxes={size}")
    padded = np.zeros((len(counts), size, 4), dtype="float32")
    padded_labels = np.full((len(counts), size), PAD_LABEL, dtype="int32")
    for i, (image_boxes, image_labels) in enumerate(zip(boxes, labels)):
        padded[i, :counts[i]] = np.reshape(image_boxes, (-1, 4))
        padded_labels[i, :counts[i]] = np.reshape(image_labels, (-1,))
    return padded, padded_labels


def largest_box_labels(boxes: np.ndarray, box_labels: np.ndarray) -> np.ndarray:
    """The class of each image's largest object, 0 for an image with none (generic code reads it)."""
    import numpy as np

    boxes = np.asarray(boxes, dtype="float32")
    area = (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])
    area = np.where(np.asarray(box_labels) >= 0, area, -1.0)
    largest = np.take_along_axis(np.asarray(box_labels), area.argmax(-1)[:, None], axis=-1)[:, 0]
    return np.maximum(largest, 0).astype("int32")


def real_boxes_first(boxes: np.ndarray, box_labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Padding rows moved to the end (kept stable) and zeroed."""
    import numpy as np

    box_labels = np.asarray(box_labels, dtype="int32")
    order = np.argsort(box_labels < 0, axis=-1, kind="stable")
    labels = np.take_along_axis(box_labels, order, axis=-1)
    boxes = np.take_along_axis(np.asarray(boxes, dtype="float32"), order[..., None], axis=-2)
    labels = np.where(labels < 0, PAD_LABEL, labels)
    return np.where(labels[..., None] >= 0, boxes, 0.0).astype("float32"), labels


def check_detection_arrays(name: str, boxes: np.ndarray, box_labels: np.ndarray, num_classes: int) -> None:
    """Refuse a bad real box (empty, inverted, outside [0, 1]) or class id, naming the first."""
    import numpy as np

    if boxes.ndim != 3 or boxes.shape[-1] != 4 or box_labels.shape != boxes.shape[:2]:
        raise ValueError(f"detection boxes are (N, max_boxes, 4) with labels (N, max_boxes); got "
                         f"{boxes.shape} and {box_labels.shape}")
    real = box_labels >= 0
    b = boxes.astype("float64")
    bad = real & (~np.isfinite(b).all(-1) | (b[..., 2] <= b[..., 0]) | (b[..., 3] <= b[..., 1])
                  | (b[..., :2] < 0).any(-1) | (b[..., 2:] > 1).any(-1))
    if bad.any():
        index, row = (int(v) for v in np.argwhere(bad)[0])
        check_box(b[index, row], 1.0, 1.0, f"data set {name!r}, example {index}, box {row}",
                  "relative boxes are x1,y1,x2,y2 in [0, 1] with x1 < x2 and y1 < y2")
    wrong = real & (box_labels >= num_classes)
    if wrong.any():
        index, row = (int(v) for v in np.argwhere(wrong)[0])
        raise CvkitError(f"data set {name!r}, example {index}, box {row} has class {int(box_labels[index, row])}, "
                         f"outside 0..{num_classes - 1}; give it one of the data set's {num_classes} classes")
