"""``tfds:NAME`` for detection: a prepared TFDS set whose ``objects`` hold boxes and class labels.

``tfds:voc`` (and others laid out alike, such as ``coco``): ``objects/bbox`` (TFDS: rel_yxyx) becomes
padded rel_xyxy boxes and ``objects/label`` their labels, padded to the most objects an image of
the set has. A box with no area or outside the image is an error naming it, or skipped (with
``--skip-invalid``) and counted.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cvkit.data.sources import Skipper
from cvkit.data.splits import BOX_FIX, DatasetInfo, DatasetSplits, check_box, report_skipped, to_example
from cvkit.errors import CvkitError


def object_features(features: Any) -> tuple[str, str, str, str] | None:
    """(sequence key, box key, label key, box format) of a set's objects, or None when it has none."""
    import tensorflow_datasets as tfds

    for key, feature in features.items():
        inner = getattr(feature, "feature", None)
        if not isinstance(feature, tfds.features.Sequence) or not hasattr(inner, "items"):
            continue
        boxes = [k for k, f in inner.items() if isinstance(f, tfds.features.BBoxFeature)]
        labels = [k for k, f in inner.items() if isinstance(f, tfds.features.ClassLabel)]
        if boxes and labels:
            box = "bbox" if "bbox" in boxes else boxes[0]
            fmt = getattr(inner[box], "bbox_format", None)
            fmt = "rel_yxyx" if fmt is None else str(getattr(fmt, "value", fmt)).lower()
            return key, box, "label" if "label" in labels else labels[0], fmt
    return None


def _to_rel_xyxy(boxes: Any, fmt: str) -> Any:
    import keras

    return keras.utils.bounding_boxes.convert_format(boxes, source=fmt, target="rel_xyxy", height=1, width=1)


def _valid(boxes: Any) -> Any:
    x1, y1, x2, y2 = (boxes[..., i] for i in range(4))
    return (x2 > x1) & (y2 > y1) & (x1 >= 0) & (y1 >= 0) & (x2 <= 1) & (y2 <= 1)


def _scan(builder: Any, split: str, objects: tuple[str, str, str, str], source: str, skipper: Skipper) -> int:
    """The most objects an example of ``split`` has; each invalid box goes to ``skipper``."""
    import tensorflow_datasets as tfds

    key, box, _, fmt = objects
    skip = {k: tfds.decode.SkipDecoding() for k, f in builder.info.features.items() if isinstance(f, tfds.features.Image)}
    import tensorflow as tf

    ds = builder.as_dataset(split=split, shuffle_files=False, decoders=skip).map(
        lambda ex: tf.reshape(tf.cast(ex[key][box], tf.float32), (-1, 4)))
    counts = np.concatenate([c for c in ds.map(lambda b: tf.shape(b)[0]).batch(4096).as_numpy_iterator()] or [np.zeros(0, int)])
    chunks = list(ds.unbatch().batch(4096).as_numpy_iterator())
    boxes = np.asarray(_to_rel_xyxy(np.concatenate(chunks), fmt)) if chunks else np.zeros((0, 4), "float32")
    example = np.repeat(np.arange(len(counts)), counts)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int) if len(counts) else counts
    for bad in np.flatnonzero(~_valid(boxes)):
        index = int(example[bad])
        try:
            check_box(boxes[bad], 1.0, 1.0, f"{source} split {split} example {index} ({key}/{box} {bad - first[index]})", BOX_FIX)
        except CvkitError as error:
            skipper(error)
    return int(counts.max()) if len(counts) else 0


def _padded(ex: dict, objects: tuple[str, str, str, str], max_boxes: int) -> dict:
    """One TFDS example -> a flat record with boxes and box labels padded to ``max_boxes``, real ones first."""
    import tensorflow as tf

    key, box, label, fmt = objects
    boxes = tf.reshape(_to_rel_xyxy(tf.reshape(tf.cast(ex[key][box], tf.float32), (-1, 4)), fmt), (-1, 4))
    labels = tf.where(_valid(boxes), tf.cast(ex[key][label], tf.int32), -1)
    order = tf.argsort(tf.cast(labels < 0, tf.int32), stable=True)
    boxes, labels = tf.gather(boxes, order)[:max_boxes], tf.gather(labels, order)[:max_boxes]
    boxes = tf.where(labels[:, None] >= 0, boxes, 0.0)
    missing = max_boxes - tf.shape(labels)[0]
    boxes = tf.pad(boxes, [[0, missing], [0, 0]])
    labels = tf.pad(labels, [[0, missing]], constant_values=-1)
    area = tf.where(labels >= 0, (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), -1.0)
    largest = tf.maximum(tf.gather(labels, tf.argmax(area)), 0)  # the class of the largest object, 0 for none
    return {"images": ex["image"], "labels": largest, "boxes": tf.ensure_shape(boxes, (max_boxes, 4)),
            "box_labels": tf.ensure_shape(labels, (max_boxes,))}


def load_tfds_detection(builder: Any, source: str, splits: tuple[str, str], image_size: tuple[int, int] | None,
                        limit: int | None, skipper: Skipper, notes: list[str]) -> DatasetSplits:
    """Train and validation splits of padded detection examples from a prepared TFDS builder."""
    import tensorflow as tf

    features = builder.info.features
    objects = object_features(features)
    if objects is None or "image" not in features:
        raise CvkitError(f"{source} has no image with objects (a sequence of boxes and class labels) for detection; "
                         f"use a set such as tfds:voc, or folder:PATH with COCO JSON or VOC XML")
    max_boxes = max(1, *(_scan(builder, split, objects, source, skipper) for split in splits))
    report_skipped(notes, skipper.count, "invalid boxes", source)

    def make(split: str) -> Any:
        ds = builder.as_dataset(split=split, shuffle_files=False)  # reads only; never downloads
        return ds.map(lambda ex: to_example(_padded(ex, objects, max_boxes), image_size),
                      num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

    train, validation = make(splits[0]), make(splits[1])
    num_train, num_validation = (builder.info.splits[s].num_examples for s in splits)
    if limit:
        train, num_train = train.take(limit), min(num_train, limit)
    shape = tuple(features["image"].shape)
    info = DatasetInfo(
        name=source, class_names=tuple(features[objects[0]].feature[objects[2]].names),
        image_shape=(*(image_size or (shape[0] or 0, shape[1] or 0)), shape[-1] or 3),
        tasks=frozenset({"detection"}), num_train=num_train, num_validation=num_validation, max_boxes=max_boxes,
    )
    return DatasetSplits(train=train, validation=validation, info=info, notes=notes)
