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


def flip(*, image_size: tuple[int, int], channels: int, seed: int | None, mode: str = "horizontal") -> Any:
    if mode not in ("horizontal", "vertical", "horizontal_and_vertical"):
        raise CvkitError(f"flip mode must be horizontal, vertical or horizontal_and_vertical, got {mode!r}")
    return keras.layers.RandomFlip(mode, seed=seed, bounding_box_format=BOX_FORMAT, name="aug_flip")


def crop(*, image_size: tuple[int, int], channels: int, seed: int | None, scale: float = 0.875) -> Any:
    """A random crop keeping ``scale`` of each side, resized back to the input size."""
    _fraction("crop scale", scale, 0.1, 1.0)
    height, width = image_size
    return [
        keras.layers.RandomCrop(max(1, round(height * scale)), max(1, round(width * scale)), seed=seed,
                                bounding_box_format=BOX_FORMAT, name="aug_crop"),
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
    return keras.layers.RandomRotation(degrees / 360.0, fill_mode="constant", seed=seed,
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
