"""The dataset interface and the generic loaders every plugin can use.

Examples are dicts: ``images`` (uint8, HxWxC), ``labels`` (int32), and where the data set has
them ``bounding_boxes`` (``{"boxes": float32 [N, 4] in rel_xyxy, "labels": int32 [N]}``) and
``segmentation_masks`` (int32 HxWx1 of class ids, background 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cvkit.errors import CvkitError

BOX_FORMAT = "rel_xyxy"


@dataclass(frozen=True)
class DatasetInfo:
    """What a data set holds."""

    name: str
    class_names: tuple[str, ...]
    image_shape: tuple[int, int, int]
    tasks: frozenset[str] = frozenset({"classification"})
    num_train: int | None = None
    num_validation: int | None = None
    mask_classes: tuple[str, ...] = ()

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


@dataclass
class DatasetSplits:
    """Train and validation ``tf.data.Dataset`` of example dicts, with their info."""

    train: Any
    validation: Any
    info: DatasetInfo
    notes: list[str] = field(default_factory=list)


def split_indices(count: int, validation_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded shuffle split into train and validation indices (validation never empty)."""
    if count < 2:
        raise CvkitError(f"the data set has {count} example(s); it needs at least 2 to split into train and validation")
    order = np.random.default_rng(seed).permutation(count)
    n_val = min(count - 1, max(1, int(round(count * validation_fraction))))
    return order[n_val:], order[:n_val]


def splits_from_arrays(
    info: DatasetInfo,
    images: np.ndarray,
    labels: np.ndarray,
    *,
    image_size: int | None,
    seed: int,
    validation_fraction: float,
    boxes: np.ndarray | None = None,
    masks: np.ndarray | None = None,
    limit: int | None = None,
    validation: tuple[np.ndarray, ...] | None = None,
) -> DatasetSplits:
    """Build :class:`DatasetSplits` from in-memory arrays, resized to ``image_size``.

    ``boxes`` are ``[N, 4]`` rel_xyxy (one box per image); ``masks`` are ``[N, H, W]`` class
    ids. ``limit`` keeps the first examples of the train split (the overfit sanity check).
    """
    import tensorflow as tf

    columns = {"images": images, "labels": labels.astype("int32")}
    if boxes is not None:
        columns["boxes"] = boxes.astype("float32")
    if masks is not None:
        columns["masks"] = masks.astype("int32")
    if len(images) == 0:
        raise CvkitError(f"data set {info.name!r} is empty; give it at least 2 images")
    train_idx, val_idx = split_indices(len(images), validation_fraction, seed)
    if limit:
        train_idx = train_idx[:limit]

    def make(idx: np.ndarray) -> Any:
        ds = tf.data.Dataset.from_tensor_slices({k: v[idx] for k, v in columns.items()})
        return ds.map(lambda ex: to_example(ex, image_size), num_parallel_calls=tf.data.AUTOTUNE)

    info = DatasetInfo(**{**info.__dict__, "num_train": len(train_idx), "num_validation": len(val_idx)})
    return DatasetSplits(train=make(train_idx), validation=make(val_idx), info=info)


def to_example(raw: dict, image_size: int | None) -> dict:
    """Turn a flat record (images, labels, boxes, masks) into a resized example dict."""
    import tensorflow as tf

    image = raw["images"]
    if image.shape.rank == 2:
        image = image[..., None]
    example = {"images": resize_image(image, image_size), "labels": tf.cast(raw["labels"], tf.int32)}
    if "boxes" in raw:
        example["bounding_boxes"] = {
            "boxes": tf.reshape(tf.cast(raw["boxes"], tf.float32), (-1, 4)),
            "labels": tf.reshape(tf.cast(raw["labels"], tf.int32), (-1,)),
        }
    if "masks" in raw:
        mask = raw["masks"]
        if mask.shape.rank == 2:
            mask = mask[..., None]
        example["segmentation_masks"] = resize_mask(mask, image_size)
    return example


def resize_image(image: Any, image_size: int | None) -> Any:
    """Resize a uint8 image to a square ``image_size`` (bilinear), keeping uint8."""
    import tensorflow as tf

    if image_size is None:
        return tf.cast(image, tf.uint8)
    resized = tf.image.resize(tf.cast(image, tf.float32), (image_size, image_size), antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)


def resize_mask(mask: Any, image_size: int | None) -> Any:
    """Resize a class-id mask with nearest-neighbour sampling, so no new ids appear."""
    import tensorflow as tf

    if image_size is None:
        return tf.cast(mask, tf.int32)
    return tf.cast(tf.image.resize(mask, (image_size, image_size), method="nearest"), tf.int32)


def read_image(path: str, channels: int | None = None) -> np.ndarray:
    """Read an image file as uint8 HxWxC, with a one-line error for a bad file."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
            if channels == 1:
                img = img.convert("L")
            elif channels == 3 or img.mode not in ("L", "RGB"):
                img = img.convert("RGB")
            array = np.asarray(img, dtype=np.uint8)
    except FileNotFoundError:
        raise CvkitError(f"image {path} does not exist; check the path") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise CvkitError(f"cannot read image {path} ({exc}); replace or remove the file") from None
    return array[..., None] if array.ndim == 2 else array
