"""Geometric augmentations as Keras preprocessing layers that move boxes and masks too.

Boxes travel in cvkit's ``rel_xyxy`` format; masks are resampled with the image.
"""

from __future__ import annotations

from typing import Any

import keras

from cvkit import BOX_FORMAT, CvkitError


def _fraction(name: str, value: float, low: float = 0.0, high: float = 1.0) -> float:
    if not low <= value <= high:
        raise CvkitError(f"augmentation {name} needs a value in [{low}, {high}], got {value}")
    return value


def _to_pixels(boxes: Any, height: Any, width: Any) -> Any:
    from keras.utils import bounding_boxes

    return bounding_boxes.convert_format(boxes, source=BOX_FORMAT, target="xyxy", height=height, width=width)


class _RandomCrop(keras.layers.RandomCrop):
    """keras' RandomCrop with a correct box transform.

    Keras 3.15 converts relative boxes with the crop size instead of the input size and
    subtracts the vertical offset from x; here boxes are shifted by the crop's offset in pixels.
    """

    def __init__(self, height: int, width: int, *, input_size: tuple[int, int], **kwargs: Any):
        super().__init__(height, width, **kwargs)
        self.input_size = input_size

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any, training: bool = True) -> dict:
        if not training:
            return bounding_boxes
        from keras import ops
        from keras.utils import bounding_boxes as bb

        boxes = _to_pixels(bounding_boxes["boxes"], *self.input_size)
        top, left = (ops.cast(v, boxes.dtype) for v in transformation)
        boxes = boxes - ops.stack([left, top, left, top])
        limit = ops.convert_to_tensor([self.width, self.height, self.width, self.height], boxes.dtype)
        boxes = ops.clip(boxes, 0.0, limit)
        boxes = bb.convert_format(boxes, source="xyxy", target=BOX_FORMAT, height=self.height, width=self.width)
        return {**bounding_boxes, "boxes": boxes}


class _RandomRotation(keras.layers.RandomRotation):
    """keras' RandomRotation, given pixel boxes: Keras 3.15 rotates relative boxes as if pixels."""

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any, training: bool = True) -> dict:
        if training:
            pixels = _to_pixels(bounding_boxes["boxes"], transformation["image_height"], transformation["image_width"])
            bounding_boxes = {**bounding_boxes, "boxes": pixels}
        return super().transform_bounding_boxes(bounding_boxes, transformation, training)


def flip(*, image_size: tuple[int, int], channels: int, seed: int | None, mode: str = "horizontal") -> Any:
    if mode not in ("horizontal", "vertical", "horizontal_and_vertical"):
        raise CvkitError(f"flip mode must be horizontal, vertical or horizontal_and_vertical, got {mode!r}")
    return keras.layers.RandomFlip(mode, seed=seed, bounding_box_format=BOX_FORMAT, name="aug_flip")


def crop(*, image_size: tuple[int, int], channels: int, seed: int | None, scale: float = 0.875) -> Any:
    """A random crop keeping ``scale`` of each side, resized back to the input size."""
    _fraction("crop scale", scale, 0.1, 1.0)
    height, width = image_size
    return [
        _RandomCrop(max(1, round(height * scale)), max(1, round(width * scale)), input_size=image_size,
                    seed=seed, bounding_box_format=BOX_FORMAT, name="aug_crop"),
        keras.layers.Resizing(height, width, bounding_box_format=BOX_FORMAT, name="aug_crop_resize"),
    ]


def resized_crop(*, image_size: tuple[int, int], channels: int, seed: int | None, min_scale: float = 0.6) -> Any:
    """Random resized crop: zoom in to between ``min_scale`` and all of each side, independently."""
    _fraction("resized_crop min_scale", min_scale, 0.1, 1.0)
    zoom = (-(1.0 - min_scale), 0.0)
    return keras.layers.RandomZoom(zoom, zoom, fill_mode="reflect", seed=seed,
                                   bounding_box_format=BOX_FORMAT, name="aug_resized_crop")


def translate(*, image_size: tuple[int, int], channels: int, seed: int | None, factor: float = 0.125) -> Any:
    _fraction("translate factor", factor)
    return keras.layers.RandomTranslation(factor, factor, fill_mode="constant", seed=seed,
                                          bounding_box_format=BOX_FORMAT, name="aug_translate")


def rotate(*, image_size: tuple[int, int], channels: int, seed: int | None, degrees: float = 15.0) -> Any:
    _fraction("rotate degrees", degrees, 0.0, 180.0)
    return _RandomRotation(degrees / 360.0, fill_mode="constant", seed=seed,
                           bounding_box_format=BOX_FORMAT, name="aug_rotate")


def shear(*, image_size: tuple[int, int], channels: int, seed: int | None, factor: float = 0.2) -> Any:
    _fraction("shear factor", factor)
    return keras.layers.RandomShear(factor, factor, fill_mode="constant", seed=seed,
                                    bounding_box_format=BOX_FORMAT, name="aug_shear")


def stretch(*, image_size: tuple[int, int], channels: int, seed: int | None, factor: float = 0.2) -> Any:
    """Aspect change: the height is zoomed by up to ``factor`` while the width stays."""
    _fraction("stretch factor", factor, 0.0, 0.9)
    return keras.layers.RandomZoom((-factor, factor), width_factor=(0.0, 0.0), fill_mode="reflect",
                                   seed=seed, bounding_box_format=BOX_FORMAT, name="aug_stretch")
