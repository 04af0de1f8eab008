"""Classification + localization: one box per image, regressed from the pooled features.

Outputs: ``probabilities`` ``[B, C]``; ``boxes`` ``[B, 4]`` in ``rel_xyxy`` (for a
class-specific head, the box of the most probable class); and ``aux_localization``, the
training-only joint output ``[probabilities | every box]`` that the box loss and the
class-and-IoU accuracy read (export and predict drop ``aux`` outputs).
"""

from __future__ import annotations

from typing import Any

import keras

from cvkit import CvkitError, Features, Objectives, TaskSpec, global_pool
from cvkit_head_localization.boxes import LOSSES, BoxLoss, LocalizationAccuracy, MeanBoxIoU
from cvkit_head_localization.layers import DecodeBoxes, SelectBox

PROBABILITIES, BOXES, JOINT = "probabilities", "boxes", "aux_localization"


def _check(box_loss: str, box_weight: float) -> None:
    if box_loss not in LOSSES:
        raise CvkitError(f"unknown box loss {box_loss!r}; choose one of {', '.join(LOSSES)} (--head-param box_loss=giou)")
    if not box_weight > 0:
        raise CvkitError(f"box_weight must be positive, got {box_weight}; it weighs the box loss against the class loss")


def build_localizer(features: Features, task: TaskSpec, *, class_specific: bool = False, dropout: float = 0.0,
                    box_loss: str = "giou", box_weight: float = 1.0, **_: Any) -> dict[str, Any]:
    """A softmax classifier and a box regressor side by side on the pooled features."""
    _check(box_loss, box_weight)
    pooled = features.pooled if features.pooled is not None else global_pool(features.last, "avg_pool")
    if dropout:
        pooled = keras.layers.Dropout(dropout, name="head_dropout")(pooled)
    probabilities = keras.layers.Dense(task.num_classes, activation="softmax", dtype="float32", name="predictions")(pooled)
    per_class = task.num_classes if class_specific else 1
    # Every layer from the regression on is float32 whatever the precision policy: boxes are
    # fractions of the image, and float16/bfloat16 would round them (and the GIoU) to ~1e-3.
    exact = dict(dtype="float32")
    raw = keras.layers.Dense(4 * per_class, name="box_regression", **exact)(pooled)
    boxes = DecodeBoxes(per_class, name="box_decode", **exact)(raw)
    if class_specific:
        box = SelectBox(name="box_select", **exact)(boxes, probabilities)
    else:
        box = keras.layers.Reshape((4,), name="box", **exact)(boxes)
    flat = keras.layers.Flatten(name="box_flatten", **exact)(boxes)
    joint = keras.layers.Concatenate(name="joint", **exact)([probabilities, flat])
    return {PROBABILITIES: probabilities, BOXES: box, JOINT: joint}


def localization_objectives(task: TaskSpec, outputs: list[str], *, class_specific: bool = False,
                            box_loss: str = "giou", box_weight: float = 1.0, **_: Any) -> Objectives:
    """Cross-entropy plus ``box_weight`` x the box loss; accuracy, mean IoU, and accuracy at IoU >= 0.5."""
    _check(box_loss, box_weight)
    joint = dict(num_classes=task.num_classes, class_specific=class_specific)
    return Objectives(
        losses={PROBABILITIES: keras.losses.SparseCategoricalCrossentropy(), JOINT: BoxLoss(box_loss, **joint)},
        loss_weights={PROBABILITIES: 1.0, JOINT: float(box_weight)},
        metrics={
            PROBABILITIES: [keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
            BOXES: [MeanBoxIoU(name="mean_iou")],
            JOINT: [LocalizationAccuracy(**joint, name="accuracy")],
        },
    )


def localization_targets(batch: dict, outputs: list[str], task: TaskSpec, **_: Any) -> dict:
    """The class, the box (the first and only one per image) and both packed for the joint output."""
    import tensorflow as tf

    if "bounding_boxes" not in batch:
        raise CvkitError(
            "this data set gives no boxes; the localization head needs one box per image "
            "(shapes, folder:PATH with boxes.csv, tfds:oxford_iiit_pet)"
        )
    labels = tf.cast(batch["labels"], tf.int32)
    box = tf.reshape(tf.cast(batch["bounding_boxes"]["boxes"], tf.float32), (-1, 4))
    joint = tf.concat([box, tf.cast(labels, tf.float32)[:, None]], axis=-1)
    return {PROBABILITIES: labels, BOXES: box, JOINT: joint}
