"""Colour augmentations. They change pixels only, never boxes or masks."""

from __future__ import annotations

from typing import Any

import keras

from cvkit import BOX_FORMAT, Augmentation, CvkitError, DatasetStatistics, RgbPca


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


class PcaColour:
    """AlexNet's PCA colour augmentation: each image gets one RGB offset along the principal
    components of the training pixels, ``sum_i alpha_i * sqrt(lambda_i) * p_i`` with
    ``alpha_i ~ N(0, sigma)`` per image (pixels scaled to [0, 1], as fb.resnet.torch implements
    the paper), so colours shift the way they vary across the training set."""

    def __init__(self, components: RgbPca, sigma: float):
        import numpy as np

        scale = np.sqrt(np.asarray(components.eigenvalues, "float32"))[:, None]
        self.directions = (scale * np.asarray(components.eigenvectors, "float32") * 255.0).astype("float32")
        self.sigma = sigma

    def __call__(self, batch: dict, training: bool = True, seed: Any = None) -> dict:
        import tensorflow as tf

        if not training:
            return batch
        images = batch["images"]
        alphas = tf.random.stateless_normal((tf.shape(images)[0], 3), seed, stddev=self.sigma)
        offsets = tf.matmul(alphas, tf.constant(self.directions))  # (batch, 3) in pixel values
        return {**batch, "images": tf.clip_by_value(images + offsets[:, None, None, :], 0.0, 255.0)}


def pca(*, image_size: tuple[int, int], channels: int, seed: int | None, statistics: DatasetStatistics | None = None,
        sigma: float = 0.1) -> Augmentation:
    """PCA colour augmentation from the run's training pixels (see :class:`PcaColour`)."""
    if not 0.0 <= sigma <= 1.0:
        raise CvkitError(f"pca sigma must be in [0, 1], got {sigma}")
    if channels != 3:
        raise CvkitError(f"pca needs RGB images but this data set has {channels} channel(s); "
                         f"use jitter(brightness=0.2, contrast=0.2, saturation=0, hue=0) instead")
    if statistics is None:
        raise CvkitError("pca needs the training set's colour statistics; pass statistics= to build_augmentation")
    return PcaColour(statistics.rgb_pca(), sigma)
