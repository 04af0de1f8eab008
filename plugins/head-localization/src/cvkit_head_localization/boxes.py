"""Box arithmetic, losses and metrics on ``rel_xyxy`` boxes, in keras.ops."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from cvkit import BOX_FORMAT, CvkitError

LOSSES = ("l2", "smooth_l1", "giou")
SMOOTH_L1_BETA = 0.1  # in image fractions: quadratic below a tenth of the image, linear above


def box_iou(a: Any, b: Any) -> Any:
    """IoU of matching boxes ``[..., 4]`` -> ``[...]`` (0 where both are empty)."""
    a = ops.cast(a, "float32")
    b = ops.cast(b, "float32")
    width = ops.maximum(0.0, ops.minimum(a[..., 2], b[..., 2]) - ops.maximum(a[..., 0], b[..., 0]))
    height = ops.maximum(0.0, ops.minimum(a[..., 3], b[..., 3]) - ops.maximum(a[..., 1], b[..., 1]))
    intersection = width * height
    area_a = ops.maximum(0.0, a[..., 2] - a[..., 0]) * ops.maximum(0.0, a[..., 3] - a[..., 1])
    area_b = ops.maximum(0.0, b[..., 2] - b[..., 0]) * ops.maximum(0.0, b[..., 3] - b[..., 1])
    return intersection / ops.maximum(area_a + area_b - intersection, 1e-7)


def split_joint(y_pred: Any, num_classes: int, class_specific: bool) -> tuple[Any, Any]:
    """The joint training output ``[B, C + 4k]`` -> (probabilities ``[B, C]``, boxes ``[B, k, 4]``)."""
    probabilities = y_pred[:, :num_classes]
    boxes = ops.reshape(y_pred[:, num_classes:], (-1, num_classes if class_specific else 1, 4))
    return probabilities, boxes


def pick(boxes: Any, classes: Any) -> Any:
    """``boxes[b, classes[b]]`` for ``[B, k, 4]`` boxes (k = 1 means class-agnostic)."""
    if boxes.shape[1] == 1:
        return boxes[:, 0]
    chosen = ops.one_hot(ops.cast(classes, "int32"), boxes.shape[1], dtype=boxes.dtype)
    return ops.sum(boxes * chosen[..., None], axis=1)


def unpack_target(y_true: Any) -> tuple[Any, Any]:
    """The joint target ``[B, 5]`` = (box ``[B, 4]``, class ``[B]``)."""
    y_true = ops.cast(y_true, "float32")
    return y_true[:, :4], ops.cast(y_true[:, 4], "int32")


@keras.saving.register_keras_serializable(package="cvkit_head_localization")
class BoxLoss(keras.losses.Loss):
    """L2, smooth-L1 or GIoU between the true box and the predicted box of the true class."""

    def __init__(self, kind: str = "giou", num_classes: int = 1, class_specific: bool = False, **kwargs: Any):
        if kind not in LOSSES:
            raise CvkitError(f"unknown box loss {kind!r}; choose one of {', '.join(LOSSES)} (--head-param box_loss=giou)")
        super().__init__(name=kwargs.pop("name", f"{kind}_box_loss"), **kwargs)
        self.kind, self.num_classes, self.class_specific = kind, num_classes, class_specific
        self._giou = None
        if kind == "giou":
            import warnings

            from keras_cv.losses import GIoULoss  # keras-cv only for its verified GIoU

            warnings.filterwarnings("ignore", message=".*no_reduction.*")
            self._giou = GIoULoss(bounding_box_format=BOX_FORMAT, axis="no_reduction")

    def call(self, y_true: Any, y_pred: Any) -> Any:
        true_box, label = unpack_target(y_true)
        _, boxes = split_joint(ops.cast(y_pred, "float32"), self.num_classes, self.class_specific)
        box = pick(boxes, label)
        if self.kind == "giou":
            return self._giou.call(true_box, box)  # per-example 1 - GIoU
        diff = box - true_box
        if self.kind == "l2":
            return ops.sum(ops.square(diff), axis=-1)
        absolute = ops.abs(diff)
        return ops.sum(ops.where(absolute < SMOOTH_L1_BETA, 0.5 * ops.square(diff) / SMOOTH_L1_BETA,
                                 absolute - 0.5 * SMOOTH_L1_BETA), axis=-1)

    def get_config(self) -> dict:
        return {**super().get_config(), "kind": self.kind, "num_classes": self.num_classes,
                "class_specific": self.class_specific}


@keras.saving.register_keras_serializable(package="cvkit_head_localization")
class MeanBoxIoU(keras.metrics.Mean):
    """Mean IoU between the predicted and the true box (``[B, 4]`` each)."""

    def __init__(self, name: str = "mean_iou", **kwargs: Any):
        super().__init__(name=name, **kwargs)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        return super().update_state(box_iou(y_true, y_pred), sample_weight=sample_weight)


@keras.saving.register_keras_serializable(package="cvkit_head_localization")
class LocalizationAccuracy(keras.metrics.Mean):
    """A hit when the predicted class is right and its box overlaps the true one by IoU >= 0.5."""

    def __init__(self, num_classes: int = 1, class_specific: bool = False, threshold: float = 0.5,
                 name: str = "accuracy", **kwargs: Any):
        super().__init__(name=name, **kwargs)
        self.num_classes, self.class_specific, self.threshold = num_classes, class_specific, threshold

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        true_box, label = unpack_target(y_true)
        probabilities, boxes = split_joint(ops.cast(y_pred, "float32"), self.num_classes, self.class_specific)
        predicted = ops.cast(ops.argmax(probabilities, axis=-1), "int32")
        hit = ops.logical_and(ops.equal(predicted, label), box_iou(pick(boxes, predicted), true_box) >= self.threshold)
        return super().update_state(ops.cast(hit, "float32"), sample_weight=sample_weight)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_classes": self.num_classes,
                "class_specific": self.class_specific, "threshold": self.threshold}
