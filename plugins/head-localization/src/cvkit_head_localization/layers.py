"""Layers of the localization head, registered under ``cvkit_head_localization``.

Boxes are ``rel_xyxy``: ``[x1, y1, x2, y2]`` as fractions of the image width and height.
Importing this module also registers the box loss and metrics (``boxes``), which a trained
model's saved compile settings name: ``cvkit.load_model`` imports a plugin's ``layers``.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from cvkit_head_localization import boxes  # noqa: F401  (registers BoxLoss and the metrics)

PACKAGE = "cvkit_head_localization"


@keras.saving.register_keras_serializable(package=PACKAGE)
class DecodeBoxes(keras.layers.Layer):
    """``[B, 4k]`` raw regressions -> ``[B, k, 4]`` boxes that are valid by construction.

    ``x1 = sigmoid(a)`` and ``x2 = x1 + (1 - x1) * sigmoid(b)`` (the same for y), so every box
    lies inside the image and has ``x2 >= x1``: no clipping, and the GIoU loss always sees a
    proper box.
    """

    def __init__(self, boxes: int = 1, **kwargs: Any):
        super().__init__(**kwargs)
        self.boxes = boxes

    def call(self, raw: Any) -> Any:
        raw = ops.sigmoid(ops.reshape(ops.cast(raw, "float32"), (-1, self.boxes, 4)))
        start = raw[..., :2]
        end = start + (1.0 - start) * raw[..., 2:]
        return ops.concatenate([start, end], axis=-1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], self.boxes, 4)

    def get_config(self) -> dict:
        return {**super().get_config(), "boxes": self.boxes}


@keras.saving.register_keras_serializable(package=PACKAGE)
class SelectBox(keras.layers.Layer):
    """The box of the most probable class: ``([B, C, 4], [B, C]) -> [B, 4]``."""

    def call(self, boxes: Any, probabilities: Any) -> Any:
        chosen = ops.one_hot(ops.argmax(probabilities, axis=-1), ops.shape(boxes)[1], dtype=boxes.dtype)
        return ops.sum(boxes * chosen[..., None], axis=1)

    def compute_output_shape(self, boxes_shape: tuple, probabilities_shape: tuple) -> tuple:
        return (boxes_shape[0], 4)
