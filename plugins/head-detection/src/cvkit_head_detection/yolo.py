"""YOLO v1 in keras.ops: the output layout, decoding to boxes, and the loss.

The ``detections`` output is ``(batch, S, S, B*5 + C)``: per cell, B boxes of
``(x, y, sqrt_w, sqrt_h, objectness)`` (x, y the centre's offset inside the cell, w, h fractions
of the image; all in [0, 1] through a sigmoid), then C class probabilities (softmax). The
target is ``(batch, S, S, 5 + C)``: the cell's true box ``rel_xyxy``, 1 when a box centre lies
in the cell, and the class one-hot.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops
from keras.utils import bounding_boxes

from cvkit.boxes import pairwise_iou

PACKAGE = "cvkit_head_detection"
BOX_FIELDS = 5  # x, y, sqrt_w, sqrt_h, objectness


def split_cells(detections: Any, boxes_per_cell: int) -> tuple[Any, Any]:
    """``(batch, S, S, B*5 + C)`` -> (box fields ``(batch, S, S, B, 5)``, class probabilities ``(batch, S, S, C)``)."""
    grid = detections.shape[1]
    box_part = detections[..., : boxes_per_cell * BOX_FIELDS]
    return ops.reshape(box_part, (-1, grid, grid, boxes_per_cell, BOX_FIELDS)), detections[..., boxes_per_cell * BOX_FIELDS:]


def cell_offsets(grid: int) -> tuple[Any, Any]:
    """Column and row index of every cell, shaped ``(1, S, S, 1)`` to broadcast over boxes."""
    index = ops.arange(grid, dtype="float32")
    columns = ops.reshape(index, (1, 1, grid, 1)) * ops.ones((1, grid, 1, 1))
    rows = ops.reshape(index, (1, grid, 1, 1)) * ops.ones((1, 1, grid, 1))
    return columns, rows


def decode_boxes(fields: Any) -> Any:
    """Box fields ``(batch, S, S, B, 5)`` -> boxes ``(batch, S, S, B, 4)`` ``rel_xyxy``, inside the image."""
    grid, per_cell = fields.shape[1], fields.shape[3]
    columns, rows = cell_offsets(grid)
    centre_x = (columns + fields[..., 0]) / grid
    centre_y = (rows + fields[..., 1]) / grid
    centre_boxes = ops.stack([centre_x, centre_y, ops.square(fields[..., 2]), ops.square(fields[..., 3])], axis=-1)
    flat = ops.reshape(centre_boxes, (-1, grid * grid * per_cell, 4))
    corners = bounding_boxes.convert_format(flat, source="center_xywh", target="xyxy")
    return ops.reshape(ops.clip(corners, 0.0, 1.0), (-1, grid, grid, per_cell, 4))


@keras.saving.register_keras_serializable(package=PACKAGE)
class YoloActivation(keras.layers.Layer):
    """Raw ``(batch, S, S, B*5 + C)`` -> sigmoid box fields and softmax class probabilities."""

    def __init__(self, boxes_per_cell: int = 2, **kwargs: Any):
        super().__init__(**kwargs)
        self.boxes_per_cell = boxes_per_cell

    def call(self, raw: Any) -> Any:
        raw = ops.cast(raw, "float32")
        split = self.boxes_per_cell * BOX_FIELDS
        return ops.concatenate([ops.sigmoid(raw[..., :split]), ops.softmax(raw[..., split:], axis=-1)], axis=-1)

    def get_config(self) -> dict:
        return {**super().get_config(), "boxes_per_cell": self.boxes_per_cell}


@keras.saving.register_keras_serializable(package=PACKAGE)
class YoloLoss(keras.losses.Loss):
    """The YOLO v1 loss, summed over the cells of each image.

    The responsible box of a cell holding an object is the one of its B boxes with the highest
    IoU with the truth; it pays ``coord_weight`` x the squared error of its centre and of the
    square roots of its width and height, and the squared error of its objectness against that
    IoU. Every other box pays ``noobj_weight`` x its objectness squared; cells with an object
    pay the squared error of their class probabilities.
    """

    def __init__(self, boxes_per_cell: int = 2, coord_weight: float = 5.0, noobj_weight: float = 0.5, **kwargs: Any):
        super().__init__(name=kwargs.pop("name", "yolo_loss"), **kwargs)
        self.boxes_per_cell, self.coord_weight, self.noobj_weight = boxes_per_cell, coord_weight, noobj_weight

    def call(self, y_true: Any, y_pred: Any) -> Any:
        y_true, y_pred = ops.cast(y_true, "float32"), ops.cast(y_pred, "float32")
        fields, probabilities = split_cells(y_pred, self.boxes_per_cell)
        grid = y_pred.shape[1]
        true_box, has_object, true_classes = y_true[..., :4], y_true[..., 4], y_true[..., 5:]
        iou = _iou_with_truth(decode_boxes(fields), true_box)  # (batch, S, S, B)
        responsible = ops.one_hot(ops.argmax(iou, axis=-1), self.boxes_per_cell) * has_object[..., None]

        columns, rows = cell_offsets(grid)
        target_fields = ops.stack([
            (true_box[..., 0] + true_box[..., 2]) / 2 * grid - columns[..., 0],
            (true_box[..., 1] + true_box[..., 3]) / 2 * grid - rows[..., 0],
            ops.sqrt(ops.maximum(true_box[..., 2] - true_box[..., 0], 0.0)),
            ops.sqrt(ops.maximum(true_box[..., 3] - true_box[..., 1], 0.0)),
        ], axis=-1)[..., None, :]
        coordinates = ops.sum(ops.square(fields[..., :4] - target_fields), axis=-1)
        objectness = fields[..., 4]
        confidence = ops.square(objectness - ops.stop_gradient(iou))
        classes = has_object * ops.sum(ops.square(probabilities - true_classes), axis=-1)
        per_box = (self.coord_weight * responsible * coordinates + responsible * confidence
                   + self.noobj_weight * (1.0 - responsible) * ops.square(objectness))
        return ops.sum(per_box, axis=(1, 2, 3)) + ops.sum(classes, axis=(1, 2))

    def get_config(self) -> dict:
        return {**super().get_config(), "boxes_per_cell": self.boxes_per_cell,
                "coord_weight": self.coord_weight, "noobj_weight": self.noobj_weight}


def _iou_with_truth(predicted: Any, true_box: Any) -> Any:
    """IoU of each predicted box ``(batch, S, S, B, 4)`` with its cell's truth ``(batch, S, S, 4)``."""
    grid, per_cell = predicted.shape[1], predicted.shape[3]
    flat_predicted = ops.reshape(predicted, (-1, per_cell, 4))
    flat_truth = ops.reshape(true_box, (-1, 1, 4))
    return ops.reshape(pairwise_iou(flat_predicted, flat_truth), (-1, grid, grid, per_cell))
