"""Test-time augmentation: a model's predictions averaged over flipped and cropped views.

Each view's outputs are mapped back to the original image before averaging: class
probabilities as they are, boxes (``rel_xyxy``) un-flipped and moved out of the crop window,
per-pixel mask probabilities un-flipped and resized back into the window (pixels a crop does not
cover are averaged over the views that do). Views: ``flip`` adds the mirrored image; ``crop``
adds AlexNet's five crops (four corners and the centre, ``CROP_SCALE`` of each side, resized
back). Both together give the ten-crop evaluation with the full image and its mirror.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from cvkit.models.tta_views import crop_windows

JOINT = "aux_localization"  # the localization head's probabilities followed by its boxes


class TestTimeAugmented(keras.Model):
    """Predicts the mean of ``model``'s un-transformed outputs over the views."""

    def __init__(self, model: Any, views: tuple[str, ...], **kwargs: Any):
        super().__init__(**kwargs)
        self.base, self.views = model, tuple(views)
        self.num_classes = getattr(model, "num_classes", 0)

    @property
    def output(self) -> Any:  # the model's output names, for compiling with the task's objectives
        return self.base.output

    def call(self, images: Any, training: bool = False) -> Any:
        height, width = images.shape[1], images.shape[2]
        flips = [False, True] if "flip" in self.views else [False]
        sums: dict[str, Any] = {}
        coverage: Any = 0.0
        for window in crop_windows(height, width, "crop" in self.views):
            for flip in flips:
                view = self._view(images, window, flip)
                outputs = self.base(view, training=False)
                outputs = outputs if isinstance(outputs, dict) else {"probabilities": outputs}
                for key, value in outputs.items():
                    value, weight = self._undo(key, value, window, flip, (height, width))
                    sums[key] = sums.get(key, 0.0) + value * weight
                    if key == "masks":
                        coverage = coverage + weight
        count = len(flips) * len(crop_windows(height, width, "crop" in self.views))
        averaged = {k: v / (ops.maximum(coverage, 1e-6) if k == "masks" else count) for k, v in sums.items()}
        return averaged if isinstance(self.base.output, dict) else averaged["probabilities"]

    @staticmethod
    def _view(images: Any, window: Any, flip: bool) -> Any:
        if window is not None:
            top, left, ch, cw = window
            images = ops.image.resize(images[:, top:top + ch, left:left + cw], (images.shape[1], images.shape[2]))
        return ops.flip(images, axis=2) if flip else images

    def _undo(self, key: str, value: Any, window: Any, flip: bool, size: tuple[int, int]) -> tuple[Any, Any]:
        """The output as the original image would have it, and its weight per pixel (masks)."""
        if key == "masks":
            return _undo_masks(value, window, flip, size)
        if key == "boxes":
            return _undo_boxes(value, window, flip, size), 1.0
        if key == JOINT:  # probabilities, then groups of four box coordinates
            head, boxes = value[:, :self.num_classes], value[:, self.num_classes:]
            return ops.concatenate([head, _undo_boxes(boxes, window, flip, size)], axis=-1), 1.0
        return value, 1.0

def _undo_boxes(boxes: Any, window: Any, flip: bool, size: tuple[int, int]) -> Any:
    """``(batch, 4k)`` rel_xyxy boxes of the view -> of the original image."""
    groups = ops.reshape(boxes, (-1, boxes.shape[-1] // 4, 4))
    x1, y1, x2, y2 = (groups[..., i] for i in range(4))
    if flip:
        x1, x2 = 1.0 - x2, 1.0 - x1
    if window is not None:
        top, left, ch, cw = window
        height, width = size
        x1, x2 = (left + x1 * cw) / width, (left + x2 * cw) / width
        y1, y2 = (top + y1 * ch) / height, (top + y2 * ch) / height
    return ops.reshape(ops.stack([x1, y1, x2, y2], axis=-1), (-1, boxes.shape[-1]))

def _undo_masks(masks: Any, window: Any, flip: bool, size: tuple[int, int]) -> tuple[Any, Any]:
    """Per-pixel probabilities of the view -> placed back on the original image, with coverage."""
    if flip:
        masks = ops.flip(masks, axis=2)
    if window is None:
        return masks, 1.0
    top, left, ch, cw = window
    height, width = size
    masks = ops.image.resize(masks, (ch, cw))
    padding = [[0, 0], [top, height - top - ch], [left, width - left - cw], [0, 0]]
    weight = ops.pad(ops.ones_like(masks[..., :1]), padding)
    return ops.pad(masks, padding), weight

def test_time_augmented(model: Any, views: tuple[str, ...]) -> Any:
    """``model`` wrapped so it predicts the mean over ``views`` (the model itself when none)."""
    return TestTimeAugmented(model, views) if views else model
