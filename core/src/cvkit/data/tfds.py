"""The ``tfds:NAME`` loader: a TensorFlow Datasets set already prepared offline; it never downloads.

``tfds:NAME?skip_invalid`` skips examples whose box is invalid instead of failing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from cvkit.data.sources import Skipper, split_options
from cvkit.data.splits import DatasetInfo, DatasetSplits, check_box, report_skipped, to_example
from cvkit.errors import CvkitError, close_matches_hint


def _pet_trimap(mask: Any, label: Any) -> Any:
    """Oxford-IIIT Pet trimaps: 1 = pet, 2 = background, 3 = the pet's outline (counted as pet)."""
    import tensorflow as tf

    return tf.where(tf.equal(mask, 2), tf.zeros_like(mask), tf.cast(label + 1, mask.dtype))


# How a TFDS set's mask feature becomes cvkit's masks (0 = background, label + 1 on the object).
TFDS_MASKS: dict[str, tuple[str, Any]] = {"oxford_iiit_pet": ("segmentation_mask", _pet_trimap)}
# Sets whose validation split carries no boxes: localization validates on part of train instead.
KERAS_REL_FORMATS = {"rel_xyxy", "rel_yxyx", "rel_xywh", "rel_center_xywh"}


def _box_feature(features: Any) -> tuple[str, str] | None:
    """The top-level box feature of a TFDS set and its keras format name (TFDS default: rel_yxyx)."""
    import tensorflow_datasets as tfds

    keys = [k for k, f in features.items() if isinstance(f, tfds.features.BBoxFeature)]
    if not keys:
        return None
    key = "bbox" if "bbox" in keys else keys[0]
    fmt = getattr(features[key], "bbox_format", None)
    fmt = "rel_yxyx" if fmt is None else str(getattr(fmt, "value", fmt)).lower()
    if fmt not in KERAS_REL_FORMATS:
        raise CvkitError(f"TFDS box feature {key!r} is in format {fmt}; cvkit reads relative formats only ({', '.join(sorted(KERAS_REL_FORMATS))})")
    return key, fmt


def _to_rel_xyxy(boxes: Any, fmt: str) -> Any:
    import keras

    return keras.utils.bounding_boxes.convert_format(boxes, source=fmt, target="rel_xyxy", height=1, width=1)


def _valid_boxes(boxes: Any) -> Any:
    """rel_xyxy boxes ``[..., 4]`` -> valid (non-empty, inside the image)."""
    from keras import ops

    x1, y1, x2, y2 = (boxes[..., i] for i in range(4))
    return ops.all(ops.stack([x2 > x1, y2 > y1, x1 >= 0, y1 >= 0, x2 <= 1, y2 <= 1], axis=-1), axis=-1)


def _scan_boxes(builder: Any, split: str, key: str, fmt: str) -> tuple[np.ndarray, np.ndarray]:
    """Every box of a split (images left undecoded), as rel_xyxy, and which are valid."""
    import tensorflow_datasets as tfds

    skip = {k: tfds.decode.SkipDecoding() for k, f in builder.info.features.items() if isinstance(f, tfds.features.Image)}
    ds = builder.as_dataset(split=split, shuffle_files=False, decoders=skip).map(lambda ex: ex[key]).batch(4096)
    chunks = list(ds.as_numpy_iterator())
    boxes = np.concatenate(chunks).reshape(-1, 4) if chunks else np.zeros((0, 4), "float32")
    boxes = np.asarray(_to_rel_xyxy(boxes.astype("float32"), fmt))
    return boxes, np.asarray(_valid_boxes(boxes))


def load_tfds(*, argument: str, task: str, image_size: tuple[int, int] | None, seed: int, data_dir: str | None,
              validation_fraction: float, limit: int | None = None, skip_invalid: bool = False,
              **_: Any) -> DatasetSplits:
    """A TensorFlow Datasets set already prepared under ``data_dir``; never downloads.

    Classification reads ``image`` and ``label``. Detection reads ``objects`` (tfds:voc; see
    :mod:`cvkit.data.tfds_detection`). Localization reads the set's top-level box
    feature (oxford_iiit_pet: ``head_bbox``), converted to rel_xyxy. Segmentation reads the
    sets in ``TFDS_MASKS`` (oxford_iiit_pet: trimaps; pet and outline are ``label + 1``).
    """
    name, options = split_options(argument, "tfds")
    if not name:
        raise CvkitError("tfds data set needs a name: --dataset tfds:NAME --data-dir DIR")
    source = f"tfds:{name}"
    builder = _prepared_builder(name, data_dir or os.environ.get("TFDS_DATA_DIR") or str(Path.home() / "tensorflow_datasets"))
    notes: list[str] = []
    if task == "detection":
        from cvkit.data.tfds_detection import load_tfds_detection

        skipper = Skipper(f"tfds:{argument}", options["skip_invalid"] or skip_invalid)
        splits = _choose_splits(builder, task, None, validation_fraction, source, notes)
        return load_tfds_detection(builder, source, splits, image_size, limit, skipper, notes)
    box, mask, tasks = _task_features(builder, name, task)
    train_split, val_split = _choose_splits(builder, task, box, validation_fraction, source, notes)
    splits = builder.info.splits
    num_train, num_validation = splits[train_split].num_examples, splits[val_split].num_examples
    if task == "localization":
        skipper = Skipper(f"tfds:{argument}", options["skip_invalid"] or skip_invalid)
        num_train, num_validation = [_count_valid_boxes(builder, split, box, source, skipper)
                                     for split in (train_split, val_split)]
        report_skipped(notes, skipper.count, "examples without a valid box", source)
    to_examples = _example_mapper(task, box, mask, source, image_size)
    read = dict(shuffle_files=False)  # as_dataset only reads; it never downloads
    train = to_examples(builder.as_dataset(split=train_split, **read))
    validation = to_examples(builder.as_dataset(split=val_split, **read))
    if limit:
        train = train.take(limit)
        num_train = min(num_train, limit)
    features = builder.info.features
    class_names = tuple(features["label"].names)
    shape = tuple(features["image"].shape)
    info = DatasetInfo(
        name=source, class_names=class_names,
        image_shape=(*(image_size or (shape[0] or 0, shape[1] or 0)), shape[-1] or 3),
        tasks=frozenset(tasks), num_train=num_train, num_validation=num_validation,
        mask_classes=("background", *class_names) if mask else (),
    )
    return DatasetSplits(train=train, validation=validation, info=info, notes=notes)


def _prepared_builder(name: str, data_dir: str) -> Any:
    """The TFDS builder of a set prepared under ``data_dir``, or a one-line error saying what to do."""
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError:
        hint = close_matches_hint(name.split(":")[0].split("/")[0], tfds.list_builders())
        raise CvkitError(f"TFDS has no data set {name!r}{hint}; `tfds.list_builders()` lists them") from None
    if not builder.is_prepared():
        raise CvkitError(
            f"TFDS set {name!r} is not prepared under {data_dir}; this machine cannot download it, so "
            f"run `tfds build {name} --data_dir DIR` where there is internet, copy DIR here and pass "
            f"--data-dir DIR"
        )
    return builder


def _task_features(builder: Any, name: str, task: str) -> tuple[tuple[str, str] | None, tuple[str, Any] | None, set[str]]:
    """The set's box feature, mask mapping and the tasks they serve; an error when ``task`` is not one."""
    features = builder.info.features
    if "label" not in features or "image" not in features:
        raise CvkitError(f"TFDS set {name!r} has no 'image' and 'label' features; cvkit cannot map it to {task}")
    box = _box_feature(features)
    mask = TFDS_MASKS.get(builder.name)
    from cvkit.data.tfds_detection import object_features

    tasks = {"classification"} | ({"localization"} if box else set()) | ({"segmentation"} if mask else set())
    tasks |= {"detection"} if object_features(features) else set()
    if task not in tasks:
        raise CvkitError(
            f"TFDS set {name!r} gives no {'boxes' if task == 'localization' else 'masks cvkit can map'} for "
            f"{task}; it serves {', '.join(sorted(tasks))} (use a head for that, or folder:PATH with "
            f"{'boxes.csv' if task == 'localization' else 'images/ and masks/'})"
        )
    return box, mask, tasks


def _choose_splits(builder: Any, task: str, box: tuple[str, str] | None, validation_fraction: float,
                   source: str, notes: list[str]) -> tuple[str, str]:
    """(train split, validation split): the set's validation or test split, else part of train."""
    splits = builder.info.splits
    val_split = next((s for s in ("validation", "test") if s in splits), None)
    if task == "localization" and val_split:
        _, valid = _scan_boxes(builder, val_split, *box)
        if not valid.any():  # oxford_iiit_pet: head boxes exist for trainval images only
            notes.append(f"the {val_split} split of {source} has no boxes; validating on {validation_fraction:.0%} of train")
            val_split = None
    if val_split:
        return "train", val_split
    percent = max(1, int(round(validation_fraction * 100)))
    return f"train[{percent}%:]", f"train[:{percent}%]"


def _count_valid_boxes(builder: Any, split: str, box: tuple[str, str], source: str, skipper: Skipper) -> int:
    """How many examples of a split have a valid box; each invalid one goes to ``skipper``."""
    boxes, valid = _scan_boxes(builder, split, *box)
    for index in np.flatnonzero(~valid):
        try:
            check_box(boxes[index], 1.0, 1.0, f"{source} split {split} example {index} ({box[0]})",
                      "TFDS boxes must be non-empty and inside the image")
        except CvkitError as error:
            skipper(error)
    return int(valid.sum())


def _example_mapper(task: str, box: tuple[str, str] | None, mask: tuple[str, Any] | None, source: str,
                    image_size: tuple[int, int] | None) -> Any:
    """A function from a TFDS split to cvkit examples (resized, with the task's labels)."""
    import tensorflow as tf

    def flat(ex: dict) -> dict:
        record = {"images": ex["image"], "labels": tf.cast(ex["label"], tf.int32)}
        if task == "localization":
            record["boxes"] = _to_rel_xyxy(tf.reshape(tf.cast(ex[box[0]], tf.float32), (1, 4)), box[1])
        if task == "segmentation":
            key, convert = mask
            values = tf.cast(ex[key], tf.int32)
            tf.debugging.assert_equal(
                tf.shape(values)[:2], tf.shape(ex["image"])[:2],
                message=f"{source}: a {key} differs in size from its image; the prepared set is damaged, rebuild it",
            )
            record["masks"] = convert(values, record["labels"])
        return record

    def make(ds: Any) -> Any:
        # one parallel map (order kept) from record to resized example: a sequential stage here
        # would run every record through one thread, however many TFDS decodes with
        ds = ds.map(lambda ex: to_example(flat(ex), image_size), num_parallel_calls=tf.data.AUTOTUNE,
                    deterministic=True)
        if task == "localization":
            ds = ds.filter(lambda r: _valid_boxes(r["bounding_boxes"]["boxes"])[0])
        return ds

    return make
