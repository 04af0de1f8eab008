"""MixUp and CutMix: each image is blended with its partner in the batch (the batch reversed),
and the labels with it, as ``"label_distribution"`` (batch, num_classes) soft targets.

The batch is shuffled, so the reversed batch is a random partner; a batch of one mixes with
itself (a no-op). Each sample draws its own mixing weight from Beta(alpha, alpha).
"""

from __future__ import annotations

from typing import Any

from cvkit import Augmentation, CvkitError, DatasetStatistics

LABELS = "label_distribution"


def _check(name: str, alpha: float, probability: float, statistics: DatasetStatistics | None) -> None:
    if not 0.0 < alpha <= 10.0:
        raise CvkitError(f"{name} alpha must be in (0, 10], got {alpha}")
    if not 0.0 <= probability <= 1.0:
        raise CvkitError(f"{name} probability must be in [0, 1], got {probability}")
    if statistics is None:
        raise CvkitError(f"{name} needs the class count; pass statistics= to build_augmentation")


def _beta(shape: Any, alpha: float, seed: Any) -> Any:
    """Beta(alpha, alpha) as the share of one of two gamma draws (TensorFlow has no stateless beta)."""
    import tensorflow as tf

    first = tf.random.stateless_gamma(shape, tf.random.experimental.stateless_fold_in(seed, 1), alpha)
    second = tf.random.stateless_gamma(shape, tf.random.experimental.stateless_fold_in(seed, 2), alpha)
    return first / tf.maximum(first + second, 1e-12)


def _mixed(batch: dict, num_classes: int, own_weight: Any, images: Any) -> dict:
    """``batch`` with ``images`` and labels mixed ``own_weight`` own to ``1 - own_weight`` partner."""
    import tensorflow as tf

    labels = batch.get(LABELS)
    if labels is None:  # the first mixing augmentation: one-hot labels to mix
        labels = tf.one_hot(tf.cast(batch["labels"], tf.int32), num_classes, dtype=tf.float32)
    weight = own_weight[:, None]
    return {**batch, "images": images, LABELS: weight * labels + (1.0 - weight) * labels[::-1]}


class MixUp:
    """``x = w * x + (1 - w) * partner``; labels likewise. ``probability``: share of samples mixed."""

    def __init__(self, alpha: float, probability: float, num_classes: int):
        self.alpha, self.probability, self.num_classes = alpha, probability, num_classes

    def __call__(self, batch: dict, training: bool = True, seed: Any = None) -> dict:
        import tensorflow as tf

        images = batch["images"]
        count = tf.shape(images)[0]
        weight = _beta((count,), self.alpha, seed)
        chosen = tf.random.stateless_uniform((count,), tf.random.experimental.stateless_fold_in(seed, 3)) < self.probability
        weight = tf.where(chosen, weight, 1.0)
        w = weight[:, None, None, None]
        return _mixed(batch, self.num_classes, weight, w * images + (1.0 - w) * images[::-1])


class CutMix:
    """A box of the partner pasted into each image; labels mixed by the pasted share of the area."""

    def __init__(self, alpha: float, probability: float, num_classes: int):
        self.alpha, self.probability, self.num_classes = alpha, probability, num_classes

    def __call__(self, batch: dict, training: bool = True, seed: Any = None) -> dict:
        import tensorflow as tf

        images = batch["images"]
        shape = tf.shape(images)
        count, height, width = shape[0], shape[1], shape[2]
        fold = tf.random.experimental.stateless_fold_in
        side = tf.sqrt(1.0 - _beta((count,), self.alpha, seed))  # box side as a share of the image side
        chosen = tf.random.stateless_uniform((count,), fold(seed, 3)) < self.probability
        side = tf.where(chosen, side, 0.0)
        centres = tf.random.stateless_uniform((count, 2), fold(seed, 4))
        inside = tf.ones_like(images[..., :1], dtype=tf.bool)
        for axis, size in ((0, height), (1, width)):
            size_f = tf.cast(size, tf.float32)
            low = tf.cast(tf.round(tf.clip_by_value(centres[:, axis] - side / 2, 0.0, 1.0) * size_f), tf.int32)
            high = tf.cast(tf.round(tf.clip_by_value(centres[:, axis] + side / 2, 0.0, 1.0) * size_f), tf.int32)
            positions = tf.range(size)[None, :]
            covered = (positions >= low[:, None]) & (positions < high[:, None])  # (batch, size)
            covered = covered[:, :, None, None] if axis == 0 else covered[:, None, :, None]
            inside = inside & covered
        pasted = tf.reduce_mean(tf.cast(inside, tf.float32), axis=[1, 2, 3])
        mixed = tf.where(inside, images[::-1], images)
        return _mixed(batch, self.num_classes, 1.0 - pasted, mixed)


def mixup(*, image_size: tuple[int, int], channels: int, seed: int | None, statistics: DatasetStatistics | None = None,
          alpha: float = 0.2, probability: float = 1.0) -> Augmentation:
    _check("mixup", alpha, probability, statistics)
    return MixUp(alpha, probability, statistics.num_classes)


def cutmix(*, image_size: tuple[int, int], channels: int, seed: int | None, statistics: DatasetStatistics | None = None,
           alpha: float = 1.0, probability: float = 1.0) -> Augmentation:
    _check("cutmix", alpha, probability, statistics)
    return CutMix(alpha, probability, statistics.num_classes)
