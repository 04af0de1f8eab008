"""The ``yolo`` head: YOLO v1's S x S grid, B boxes per cell with objectness, per-cell classes.

Training output ``detections`` (float32 ``(batch, S, S, B*5 + C)``, see :mod:`.yolo`);
``postprocess`` decodes it to at most ``max_detections`` boxes per image after per-class NMS.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from cvkit import DetectionThresholds, Features, Objectives, TaskSpec
from cvkit.boxes import non_max_suppression
from cvkit_head_detection.grid import check_weights, feature_map_for, resolve_grid
from cvkit_head_detection.yolo import BOX_FIELDS, YoloActivation, YoloLoss, decode_boxes, split_cells

DETECTIONS = "detections"


def build_yolo(features: Features, task: TaskSpec, *, grid: int = 0, boxes_per_cell: int = 2,
               coord_weight: float = 5.0, noobj_weight: float = 0.5, width: int = 256, **_: Any) -> dict[str, Any]:
    """A 3x3 convolution on the stride-32 map (pooled or resized to S x S), then a 1x1 to B*5 + C per cell."""
    check_weights(boxes_per_cell, coord_weight, noobj_weight, width)
    size = features.inputs.shape[1:3] if features.inputs is not None else (None, None)
    grid = resolve_grid(size, grid)
    x = feature_map_for(features, grid)
    x = keras.layers.Conv2D(width, 3, padding="same", use_bias=False, name="yolo_conv")(x)
    x = keras.layers.BatchNormalization(name="yolo_bn")(x)
    x = keras.layers.LeakyReLU(0.1, name="yolo_relu")(x)
    raw = keras.layers.Conv2D(boxes_per_cell * BOX_FIELDS + task.num_classes, 1, dtype="float32", name="yolo_out")(x)
    return {DETECTIONS: YoloActivation(boxes_per_cell, dtype="float32", name=DETECTIONS)(raw)}


def yolo_objectives(task: TaskSpec, outputs: list[str], *, boxes_per_cell: int = 2, coord_weight: float = 5.0,
                    noobj_weight: float = 0.5, **params: Any) -> Objectives:
    """The YOLO v1 loss; AP50 on the validation split after each epoch (``val_ap50``)."""
    from cvkit_head_detection.metrics import ValidationAveragePrecision

    check_weights(boxes_per_cell, coord_weight, noobj_weight, params.get("width", 1))
    loss = YoloLoss(boxes_per_cell=boxes_per_cell, coord_weight=coord_weight, noobj_weight=noobj_weight)
    return Objectives(
        losses={DETECTIONS: loss},
        validation_callbacks=[ValidationAveragePrecision],  # called with the validation split
    )


def yolo_targets(batch: dict, outputs: list[str], task: TaskSpec, *, grid: int = 0, **_: Any) -> dict:
    """Each true box goes to the cell holding its centre (the largest box wins a shared cell);
    padding (label -1) and empty boxes are ignored. Target ``(batch, S, S, 5 + C)``."""
    import tensorflow as tf

    from cvkit_head_detection.grid import missing_boxes_error

    if "bounding_boxes" not in batch:
        raise missing_boxes_error()
    grid = resolve_grid(batch["images"].shape[1:3], grid)
    boxes = tf.cast(batch["bounding_boxes"]["boxes"], tf.float32)  # (batch, M, 4) rel_xyxy
    labels = tf.cast(batch["bounding_boxes"]["labels"], tf.int32)  # (batch, M), -1 padding
    area = tf.maximum(boxes[..., 2] - boxes[..., 0], 0.0) * tf.maximum(boxes[..., 3] - boxes[..., 1], 0.0)
    valid = tf.logical_and(labels >= 0, area > 0)
    centre = (boxes[..., :2] + boxes[..., 2:]) / 2
    cell_xy = tf.clip_by_value(tf.cast(tf.floor(centre * grid), tf.int32), 0, grid - 1)
    cell = cell_xy[..., 1] * grid + cell_xy[..., 0]  # row-major: (row, column)
    claim = tf.one_hot(cell, grid * grid) * tf.cast(valid, tf.float32)[..., None]  # (batch, M, S*S)
    winner = tf.argmax(claim * (area[..., None] + 1e-6), axis=1, output_type=tf.int32)  # (batch, S*S)
    has_object = tf.reduce_max(claim, axis=1)
    cell_boxes = tf.gather(boxes, winner, batch_dims=1) * has_object[..., None]
    cell_classes = tf.one_hot(tf.gather(tf.maximum(labels, 0), winner, batch_dims=1), task.num_classes)
    target = tf.concat([cell_boxes, has_object[..., None], cell_classes * has_object[..., None]], axis=-1)
    return {DETECTIONS: tf.reshape(target, (-1, grid, grid, 5 + task.num_classes))}


def yolo_postprocess(outputs: dict[str, Any], *, score_threshold: float, iou_threshold: float, max_detections: int,
                     boxes_per_cell: int = 2, **_: Any) -> dict[str, Any]:
    """Decoded boxes scored objectness x class probability (each box takes its cell's best
    class), then per-class NMS (:func:`cvkit.boxes.non_max_suppression`)."""
    if all(isinstance(v, (int, float)) for v in (score_threshold, iou_threshold)):  # tensors: the caller checks
        DetectionThresholds(score_threshold, iou_threshold, int(max_detections)).checked()
    fields, probabilities = split_cells(ops.cast(outputs[DETECTIONS], "float32"), boxes_per_cell)
    count = fields.shape[1] * fields.shape[2] * boxes_per_cell
    boxes = ops.reshape(decode_boxes(fields), (-1, count, 4))
    best = ops.max(probabilities, axis=-1, keepdims=True)  # (batch, S, S, 1)
    classes = ops.argmax(probabilities, axis=-1)[..., None] * ops.ones_like(fields[..., 4], dtype="int32")
    scores = ops.reshape(fields[..., 4] * best, (-1, count))
    return non_max_suppression(boxes, scores, ops.reshape(classes, (-1, count)), score_threshold=score_threshold,
                               iou_threshold=iou_threshold, max_detections=int(max_detections))
