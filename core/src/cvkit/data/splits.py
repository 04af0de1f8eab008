"""The dataset interface and the generic loaders every plugin can use.

Examples are dicts: ``images`` (uint8, HxWxC), ``labels`` (int32), and where the data set has
them ``bounding_boxes`` (``{"boxes": float32 [N, 4] in rel_xyxy, "labels": int32 [N]}``; for detection
padded to ``max_boxes`` with box 0 and label -1, see :mod:`cvkit.data.detection`) and
``segmentation_masks`` (int32 HxWx1 of class ids, background 0).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy loads in the functions that use it, so the CLI starts fast
    import numpy as np

from cvkit.errors import CvkitError

BOX_FORMAT = "rel_xyxy"
BOX_FIX = "boxes are x1,y1,x2,y2 with x1 < x2 and y1 < y2, inside the image"
logger = logging.getLogger("cvkit")


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
    max_boxes: int = 1  # detection: the padding length of bounding_boxes (the most objects per image)

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
    import numpy as np

    if count < 2:
        raise CvkitError(f"the data set has {count} example(s); it needs at least 2 to split into train and validation")
    order = np.random.default_rng(seed).permutation(count)
    n_val = min(count - 1, max(1, int(round(count * validation_fraction))))
    return order[n_val:], order[:n_val]


def splits_from_arrays(
    info: DatasetInfo,
    images: np.ndarray,
    labels: np.ndarray | None,
    *,
    image_size: tuple[int, int] | None,
    seed: int,
    validation_fraction: float,
    boxes: np.ndarray | None = None,
    masks: np.ndarray | None = None,
    limit: int | None = None,
    validation: tuple[np.ndarray, ...] | None = None,
    box_labels: np.ndarray | None = None,
) -> DatasetSplits:
    """Build :class:`DatasetSplits` from in-memory arrays, resized to ``image_size`` (height, width).

    ``boxes`` are ``[N, 4]`` rel_xyxy (one box per image), or for detection padded
    ``[N, max_boxes, 4]`` with ``box_labels`` ``[N, max_boxes]`` (-1 pads; ``labels`` may then be
    None: the class of each image's largest object, 0 without one); ``masks`` are ``[N, H, W]`` class
    ids, 0 for the background and ``label + 1`` for class ``label``. Both are checked first (see
    :func:`check_box` and :func:`check_mask`). ``limit`` keeps the first examples of the train
    split (the overfit sanity check).
    """
    import numpy as np
    import tensorflow as tf

    columns: dict[str, np.ndarray] = {"images": images}
    if box_labels is not None:
        columns.update(_detection_columns(info, images, boxes, box_labels))
        info = DatasetInfo(**{**info.__dict__, "max_boxes": columns["box_labels"].shape[1]})
        labels = columns["labels"] if labels is None else labels
    else:
        check_arrays(info, images, boxes, None)
        if boxes is not None:
            columns["boxes"] = boxes.astype("float32")
    check_arrays(info, images, None, masks)
    columns["labels"] = np.asarray(labels).astype("int32")
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

    shape = (*image_size, info.image_shape[-1]) if image_size else info.image_shape  # of the images returned
    info = DatasetInfo(**{**info.__dict__, "image_shape": tuple(shape), "num_train": len(train_idx),
                          "num_validation": len(val_idx)})
    return DatasetSplits(train=make(train_idx), validation=make(val_idx), info=info)


def _detection_columns(info: DatasetInfo, images: np.ndarray, boxes: np.ndarray | None,
                       box_labels: np.ndarray) -> dict[str, np.ndarray]:
    """Padded detection boxes checked, real boxes first, at least one row, plus each image's label."""
    import numpy as np

    from cvkit.data import detection

    if boxes is None:
        raise ValueError("box_labels needs the padded boxes (N, max_boxes, 4) too")
    boxes, box_labels = np.asarray(boxes, dtype="float32"), np.asarray(box_labels, dtype="int32")
    if boxes.shape[:1] != (len(images),) or box_labels.shape[:1] != (len(images),):
        raise ValueError(f"{len(images)} images but boxes {boxes.shape} and box labels {box_labels.shape}")
    if boxes.shape[1] == 0:
        boxes, box_labels = np.zeros((len(images), 1, 4), "float32"), np.full((len(images), 1), -1, "int32")
    detection.check_detection_arrays(info.name, boxes, box_labels, info.num_classes)
    boxes, box_labels = detection.real_boxes_first(boxes, box_labels)
    return {"boxes": boxes, "box_labels": box_labels, "labels": detection.largest_box_labels(boxes, box_labels)}


def to_example(raw: dict, image_size: tuple[int, int] | None) -> dict:
    """Turn a flat record (images, labels, boxes, masks) into a resized example dict."""
    import tensorflow as tf

    image = raw["images"]
    if image.shape.rank == 2:
        image = image[..., None]
    example = {"images": resize_image(image, image_size), "labels": tf.cast(raw["labels"], tf.int32)}
    if "boxes" in raw:
        example["bounding_boxes"] = {
            "boxes": tf.reshape(tf.cast(raw["boxes"], tf.float32), (-1, 4)),
            "labels": tf.reshape(tf.cast(raw.get("box_labels", raw["labels"]), tf.int32), (-1,)),
        }
    if "masks" in raw:
        mask = raw["masks"]
        if mask.shape.rank == 2:
            mask = mask[..., None]
        example["segmentation_masks"] = resize_mask(mask, image_size)
    return example


def check_box(box: Any, width: float, height: float, where: str, fix: str = BOX_FIX) -> None:
    """Refuse a box ``[x1, y1, x2, y2]`` that is empty, inverted or outside a width x height image.

    ``where`` names the file or row in the one-line error; ``fix`` says how to mend it.
    """
    import numpy as np

    x1, y1, x2, y2 = (float(v) for v in box)
    if not all(np.isfinite((x1, y1, x2, y2))):
        raise CvkitError(f"{where}: the box {_box_text(box)} is not four numbers; {fix}")
    for low, high, axis in ((x1, x2, "x"), (y1, y2, "y")):
        if high <= low:
            raise CvkitError(f"{where}: the box {_box_text(box)} has {axis}2 ({high:g}) <= {axis}1 ({low:g}); {fix}")
    if x1 < 0 or y1 < 0 or x2 > width or y2 > height:
        raise CvkitError(
            f"{where}: the box {_box_text(box)} lies outside the {width:g}x{height:g} image "
            f"(width x height); {fix}"
        )


def _box_text(box: Any) -> str:
    return "(" + ", ".join(f"{float(v):g}" for v in box) + ")"


def check_mask(mask: np.ndarray, image_shape: tuple, num_classes: int, where: str, fix: str = "") -> None:
    """Refuse a class-id mask whose size differs from its image's or whose ids leave 0..num_classes.

    ``num_classes`` counts the object classes; 0 is the background, so valid ids are
    ``0..num_classes``.
    """
    import numpy as np

    if tuple(mask.shape[:2]) != tuple(image_shape[:2]):
        raise CvkitError(
            f"{where}: the mask is {mask.shape[1]}x{mask.shape[0]} but its image is "
            f"{image_shape[1]}x{image_shape[0]} (width x height); {fix or 'give the mask its image size'}"
        )
    low, high = int(mask.min()), int(mask.max())
    if low < 0 or high > num_classes:
        bad = low if low < 0 else high
        raise CvkitError(
            f"{where}: the mask holds class id {bad}, outside 0..{num_classes} (0 = background, then "
            f"{num_classes} classes); {fix or 'fix the mask values'}"
        )


def check_arrays(info: DatasetInfo, images: np.ndarray, boxes: np.ndarray | None, masks: np.ndarray | None) -> None:
    """Check in-memory boxes (rel_xyxy) and masks of a whole data set at once, naming the first bad one."""
    import numpy as np

    name = info.name
    if boxes is not None:
        boxes = np.asarray(boxes, dtype="float64").reshape(len(images), -1, 4)
        bad = ~np.isfinite(boxes).all(-1) | (boxes[..., 2] <= boxes[..., 0]) | (boxes[..., 3] <= boxes[..., 1]) \
            | (boxes[..., :2] < 0).any(-1) | (boxes[..., 2:] > 1).any(-1)
        if bad.any():
            index = int(np.argwhere(bad)[0][0])
            check_box(boxes[index][bad[index]][0], 1.0, 1.0, f"data set {name!r}, example {index}",
                      "relative boxes are x1,y1,x2,y2 in [0, 1] with x1 < x2 and y1 < y2")
    if masks is not None:
        masks = np.asarray(masks)
        if masks.shape[1:3] != images.shape[1:3]:
            check_mask(masks[0], images.shape[1:3], info.num_classes, f"data set {name!r}, example 0")
        low, high = masks.min(axis=(1, 2, *range(3, masks.ndim))), masks.max(axis=(1, 2, *range(3, masks.ndim)))
        bad = (low < 0) | (high > info.num_classes)
        if bad.any():
            index = int(np.argmax(bad))
            check_mask(masks[index], images.shape[1:3], info.num_classes, f"data set {name!r}, example {index}")


def report_skipped(notes: list[str], count: int, what: str, source: str) -> None:
    """Record and report, on stderr, examples the user asked to skip (``?skip_invalid``)."""
    if count:
        note = f"skipped {count} {what} in {source} (asked for with --skip-invalid or ?skip_invalid)"
        notes.append(note)
        logger.warning("cvkit: %s", note)


def resize_image(image: Any, image_size: tuple[int, int] | None) -> Any:
    """Resize a uint8 image to ``image_size`` = (height, width) (bilinear), keeping uint8."""
    import tensorflow as tf

    if image_size is None:
        return tf.cast(image, tf.uint8)
    resized = tf.image.resize(tf.cast(image, tf.float32), tuple(image_size), antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)


def resize_mask(mask: Any, image_size: tuple[int, int] | None) -> Any:
    """Resize a class-id mask with nearest-neighbour sampling, so no new ids appear."""
    import tensorflow as tf

    if image_size is None:
        return tf.cast(mask, tf.int32)
    return tf.cast(tf.image.resize(mask, tuple(image_size), method="nearest"), tf.int32)


def read_image(path: str, channels: int | None = None) -> np.ndarray:
    """Read an image file as uint8 HxWxC, with a one-line error for a bad file."""
    import numpy as np

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
