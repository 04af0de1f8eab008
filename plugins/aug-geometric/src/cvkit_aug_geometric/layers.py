"""Geometric augmentations as Keras preprocessing layers that move boxes and masks too.

Boxes travel in cvkit's ``rel_xyxy`` format; masks are resampled with the image.
"""

from __future__ import annotations

from typing import Any

import keras

from cvkit import BOX_FORMAT, Augmentation, CvkitError


def _fraction(name: str, value: float, low: float = 0.0, high: float = 1.0) -> float:
    if not low <= value <= high:
        raise CvkitError(f"augmentation {name} needs a value in [{low}, {high}], got {value}")
    return value


def _to_pixels(boxes: Any, height: Any, width: Any) -> Any:
    from keras.utils import bounding_boxes

    return bounding_boxes.convert_format(boxes, source=BOX_FORMAT, target="xyxy", height=height, width=width)


class _RandomCrop(keras.layers.RandomCrop):
    """keras' RandomCrop drawing an offset per sample, with a correct box transform.

    Keras 3.15 draws one offset for the whole batch, converts relative boxes with the crop size
    instead of the input size and subtracts the vertical offset from x. Here every sample gets
    its own offset and boxes are shifted by it in pixels. Channels-last batches only.
    """

    def __init__(self, height: int, width: int, *, input_size: tuple[int, int], **kwargs: Any):
        super().__init__(height, width, data_format="channels_last", **kwargs)
        self.input_size = input_size

    def get_random_transformation(self, data: Any, training: bool = True, seed: Any = None) -> Any:
        images = data["images"] if isinstance(data, dict) else data
        shape = self.backend.shape(images)
        batch = shape[0] if len(shape) == 4 else 1
        if seed is None:
            seed = self._get_seed_generator(self.backend._backend)
        starts = []
        for size, crop in zip(self.input_size, (self.height, self.width)):
            draw = self.backend.random.uniform((batch,), 0.0, float(size - crop + 1), seed=seed)
            starts.append(self.backend.numpy.minimum(self.backend.cast(draw, "int32"), size - crop))
        return tuple(starts)  # (top, left), one of each per sample

    def transform_images(self, images: Any, transformation: Any, training: bool = True) -> Any:
        if not training:
            return images
        import tensorflow as tf  # the tf.data pipeline runs it; gather by batch is ~40x faster than take_along_axis

        top, left = transformation
        rows = top[:, None] + tf.range(self.height, dtype="int32")  # (batch, crop height)
        cols = left[:, None] + tf.range(self.width, dtype="int32")
        images = tf.gather(images, rows, axis=1, batch_dims=1)
        return tf.gather(images, cols, axis=2, batch_dims=1)

    def transform_segmentation_masks(self, masks: Any, transformation: Any, training: bool = True) -> Any:
        return self.transform_images(masks, transformation, training)

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any, training: bool = True) -> dict:
        if not training:
            return bounding_boxes
        from keras.utils import bounding_boxes as bb

        np_ = self.backend.numpy
        boxes = _to_pixels(bounding_boxes["boxes"], *self.input_size)
        top, left = (self.backend.cast(v, boxes.dtype) for v in transformation)
        boxes = boxes - np_.stack([left, top, left, top], axis=-1)[:, None, :]
        limit = self.backend.convert_to_tensor([self.width, self.height, self.width, self.height], boxes.dtype)
        boxes = np_.clip(boxes, 0.0, limit)
        boxes = bb.convert_format(boxes, source="xyxy", target=BOX_FORMAT, height=self.height, width=self.width)
        return {**bounding_boxes, "boxes": boxes}


class _RandomRotation(keras.layers.RandomRotation):
    """keras' RandomRotation, given pixel boxes: Keras 3.15 rotates relative boxes as if pixels."""

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any, training: bool = True) -> dict:
        if training:
            pixels = _to_pixels(bounding_boxes["boxes"], transformation["image_height"], transformation["image_width"])
            bounding_boxes = {**bounding_boxes, "boxes": pixels}
        return super().transform_bounding_boxes(bounding_boxes, transformation, training)


def flip(*, image_size: tuple[int, int], channels: int, seed: int | None, mode: str = "horizontal") -> Augmentation:
    if mode not in ("horizontal", "vertical", "horizontal_and_vertical"):
        raise CvkitError(f"flip mode must be horizontal, vertical or horizontal_and_vertical, got {mode!r}")
    return keras.layers.RandomFlip(mode, seed=seed, bounding_box_format=BOX_FORMAT, name="aug_flip")


def crop(*, image_size: tuple[int, int], channels: int, seed: int | None, scale: float = 0.875) -> Augmentation:
    """A random crop keeping ``scale`` of each side, resized back to the input size."""
    _fraction("crop scale", scale, 0.1, 1.0)
    height, width = image_size
    return [
        _RandomCrop(max(1, round(height * scale)), max(1, round(width * scale)), input_size=image_size,
                    seed=seed, bounding_box_format=BOX_FORMAT, name="aug_crop"),
        keras.layers.Resizing(height, width, bounding_box_format=BOX_FORMAT, name="aug_crop_resize"),
    ]


def resized_crop(*, image_size: tuple[int, int], channels: int, seed: int | None, min_scale: float = 0.6) -> Augmentation:
    """Random resized crop: zoom in to between ``min_scale`` and all of each side, independently."""
    _fraction("resized_crop min_scale", min_scale, 0.1, 1.0)
    zoom = (-(1.0 - min_scale), 0.0)
    return keras.layers.RandomZoom(zoom, zoom, fill_mode="reflect", seed=seed,
                                   bounding_box_format=BOX_FORMAT, name="aug_resized_crop")


def translate(*, image_size: tuple[int, int], channels: int, seed: int | None, factor: float = 0.125) -> Augmentation:
    _fraction("translate factor", factor)
    return keras.layers.RandomTranslation(factor, factor, fill_mode="constant", seed=seed,
                                          bounding_box_format=BOX_FORMAT, name="aug_translate")


def rotate(*, image_size: tuple[int, int], channels: int, seed: int | None, degrees: float = 15.0) -> Augmentation:
    _fraction("rotate degrees", degrees, 0.0, 180.0)
    return _RandomRotation(degrees / 360.0, fill_mode="constant", seed=seed,
                           bounding_box_format=BOX_FORMAT, name="aug_rotate")


def shear(*, image_size: tuple[int, int], channels: int, seed: int | None, factor: float = 0.2) -> Augmentation:
    _fraction("shear factor", factor)
    return keras.layers.RandomShear(factor, factor, fill_mode="constant", seed=seed,
                                    bounding_box_format=BOX_FORMAT, name="aug_shear")


def stretch(*, image_size: tuple[int, int], channels: int, seed: int | None, factor: float = 0.2) -> Augmentation:
    """Aspect change: the height is zoomed by up to ``factor`` while the width stays."""
    _fraction("stretch factor", factor, 0.0, 0.9)
    # constant fill: reflecting into the border of a squashed image would mirror objects there,
    # a copy the mask shows and the box cannot
    return keras.layers.RandomZoom((-factor, factor), width_factor=(0.0, 0.0), fill_mode="constant",
                                   seed=seed, bounding_box_format=BOX_FORMAT, name="aug_stretch")
