"""Colour augmentations. They change pixels only, never boxes or masks."""

from __future__ import annotations

from typing import Any

from cvkit import Augmentation, CvkitError, DatasetStatistics, RgbPca


def jitter(*, image_size: tuple[int, int], channels: int, seed: int | None, brightness: float = 0.2,
           contrast: float = 0.2, saturation: float = 0.2, hue: float = 0.05) -> Augmentation:
    """Random brightness, contrast, saturation and hue (the last two need colour images)."""
    for name, value in (("brightness", brightness), ("contrast", contrast), ("saturation", saturation), ("hue", hue)):
        if not 0.0 <= value <= 1.0:
            raise CvkitError(f"jitter {name} must be in [0, 1], got {value}")
    colour = channels == 3
    return ColourJitter(brightness, contrast, saturation if colour else 0.0, hue if colour else 0.0)


# RGB -> YIQ and back: hue is the angle of the (I, Q) chroma, so a hue shift is a rotation there.
_RGB_TO_YIQ = ((0.299, 0.587, 0.114), (0.596, -0.274, -0.322), (0.211, -0.523, 0.312))


class ColourJitter:
    """Per image: brightness shifts all values by up to ``brightness`` of the range, contrast
    scales the distance from the image's mean by ``1 +- contrast``, saturation the distance from
    its grey by ``1 +- saturation``, and hue rotates the chroma by up to ``hue`` of a full turn.

    Matrix products on the whole batch: Keras' RandomColorJitter converts every pixel to HSV
    and back and ran at ~450 images/s at 64x64 on two cores, a fifth of what training needs.
    """

    def __init__(self, brightness: float, contrast: float, saturation: float, hue: float):
        import numpy as np

        self.brightness, self.contrast, self.saturation, self.hue = brightness, contrast, saturation, hue
        self.to_yiq = np.asarray(_RGB_TO_YIQ, "float32")
        self.from_yiq = np.linalg.inv(self.to_yiq).astype("float32")

    def __call__(self, batch: dict, training: bool = True, seed: Any = None) -> dict:
        import tensorflow as tf

        images = batch["images"] / 255.0
        count = tf.shape(images)[0]

        def draw(index: int, spread: float) -> Any:
            seed_i = tf.random.experimental.stateless_fold_in(seed, index)
            return tf.random.stateless_uniform((count, 1, 1, 1), seed_i, -spread, spread)

        if self.brightness:
            images = images + draw(1, self.brightness)
        if self.contrast:
            mean = tf.reduce_mean(images, axis=[1, 2], keepdims=True)
            images = mean + (images - mean) * (1.0 + draw(2, self.contrast))
        if self.saturation or self.hue:
            yiq = tf.einsum("bhwc,dc->bhwd", images, self.to_yiq)
            luma, chroma = yiq[..., :1], yiq[..., 1:]
            scale = 1.0 + draw(3, self.saturation)[..., 0] if self.saturation else 1.0
            angle = draw(4, self.hue * 2.0 * 3.141592653589793)[..., 0] if self.hue else 0.0
            cos, sin = tf.cos(angle) * scale, tf.sin(angle) * scale
            i, q = chroma[..., 0], chroma[..., 1]
            yiq = tf.concat([luma, tf.stack([cos * i - sin * q, sin * i + cos * q], axis=-1)], axis=-1)
            images = tf.einsum("bhwd,cd->bhwc", yiq, self.from_yiq)
        return {**batch, "images": tf.clip_by_value(images, 0.0, 1.0) * 255.0}


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
