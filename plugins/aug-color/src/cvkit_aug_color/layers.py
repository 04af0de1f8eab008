"""Colour augmentations. They change pixels only, never boxes or masks."""

from __future__ import annotations

import keras

from cvkit import BOX_FORMAT, Augmentation, CvkitError


def jitter(*, image_size: tuple[int, int], channels: int, seed: int | None, brightness: float = 0.2,
           contrast: float = 0.2, saturation: float = 0.2, hue: float = 0.05) -> Augmentation:
    """Random brightness, contrast, saturation and hue (the last two need colour images)."""
    for name, value in (("brightness", brightness), ("contrast", contrast), ("saturation", saturation), ("hue", hue)):
        if not 0.0 <= value <= 1.0:
            raise CvkitError(f"jitter {name} must be in [0, 1], got {value}")
    colour = channels == 3
    return keras.layers.RandomColorJitter(
        value_range=(0, 255),
        brightness_factor=brightness or None,
        contrast_factor=contrast or None,
        saturation_factor=(max(0.0, 0.5 - saturation / 2), min(1.0, 0.5 + saturation / 2)) if colour and saturation else None,
        hue_factor=hue if colour and hue else None,
        seed=seed,
        bounding_box_format=BOX_FORMAT,  # boxes and masks pass through untouched
        name="aug_jitter",
    )
