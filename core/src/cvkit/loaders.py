"""Generic data set loaders that live in core: ``folder:PATH`` and ``tfds:NAME``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from cvkit.data import DatasetInfo, DatasetSplits, read_image, splits_from_arrays, to_example
from cvkit.errors import CvkitError, close_matches_hint

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
FOLDER_DEFAULT_SIZE = 64


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _load_resized(path: Path, size: int, channels: int = 3) -> np.ndarray:
    from PIL import Image

    array = read_image(str(path), channels=channels)
    if array.shape[:2] != (size, size):
        mode = "L" if channels == 1 else "RGB"
        img = Image.fromarray(array[..., 0] if channels == 1 else array, mode=mode)
        array = np.asarray(img.resize((size, size), Image.BILINEAR), dtype=np.uint8)
        array = array[..., None] if array.ndim == 2 else array
    return array


def load_folder(*, argument: str, task: str, image_size: int | None, seed: int,
                validation_fraction: float, limit: int | None = None, **_: Any) -> DatasetSplits:
    """A folder with one sub-folder of images per class (``PATH/<class>/<image>``)."""
    root = Path(argument).expanduser()
    if not argument:
        raise CvkitError("folder data set needs a path: --dataset folder:PATH")
    if not root.is_dir():
        raise CvkitError(f"folder data set {root} does not exist or is not a directory; check the path")
    if task != "classification":
        raise CvkitError(
            f"folder:{argument} is a class-per-folder data set, which serves classification only; "
            f"use --head classification"
        )
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    size = image_size or FOLDER_DEFAULT_SIZE
    images, labels = [], []
    for label, class_dir in enumerate(class_dirs):
        for path in _image_files(class_dir):
            images.append(_load_resized(path, size))
            labels.append(label)
    if not images:
        raise CvkitError(
            f"no images found in {root}; put them in one sub-folder per class, "
            f"like {root}{os.sep}cat{os.sep}001.png"
        )
    if len(class_dirs) < 2:
        raise CvkitError(f"{root} has {len(class_dirs)} class folder(s); classification needs at least 2")
    info = DatasetInfo(
        name=f"folder:{argument}", class_names=tuple(p.name for p in class_dirs),
        image_shape=(size, size, 3), tasks=frozenset({"classification"}),
    )
    return splits_from_arrays(
        info, np.stack(images), np.asarray(labels), image_size=image_size, seed=seed,
        validation_fraction=validation_fraction, limit=limit,
    )


def load_tfds(*, argument: str, task: str, image_size: int | None, seed: int, data_dir: str | None,
              validation_fraction: float, limit: int | None = None, **_: Any) -> DatasetSplits:
    """A TensorFlow Datasets set already prepared under ``data_dir``; never downloads."""
    import tensorflow as tf
    import tensorflow_datasets as tfds

    name = argument
    if not name:
        raise CvkitError("tfds data set needs a name: --dataset tfds:NAME --data-dir DIR")
    data_dir = data_dir or os.environ.get("TFDS_DATA_DIR") or str(Path.home() / "tensorflow_datasets")
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
    features = builder.info.features
    if "label" not in features or "image" not in features:
        raise CvkitError(f"TFDS set {name!r} has no 'image' and 'label' features; cvkit cannot map it to {task}")
    class_names = tuple(features["label"].names)
    splits = builder.info.splits
    val_split = next((s for s in ("validation", "test") if s in splits), None)
    read = dict(shuffle_files=False)  # as_dataset only reads; it never downloads
    if val_split:
        train_split, val_split = "train", val_split
    else:
        percent = max(1, int(round(validation_fraction * 100)))
        train_split, val_split = f"train[{percent}%:]", f"train[:{percent}%]"
    train = builder.as_dataset(split=train_split, **read)
    validation = builder.as_dataset(split=val_split, **read)
    num_train, num_validation = splits[train_split].num_examples, splits[val_split].num_examples
    if limit:
        num_train = min(num_train, limit)
    if limit:
        train = train.take(limit)

    def flat(ex: dict) -> dict:
        return {"images": ex["image"], "labels": tf.cast(ex["label"], tf.int32)}

    def make(ds: Any) -> Any:
        return ds.map(flat).map(lambda r: to_example(r, image_size), num_parallel_calls=tf.data.AUTOTUNE)

    shape = tuple(features["image"].shape)
    channels = shape[-1] or 3
    info = DatasetInfo(
        name=f"tfds:{name}", class_names=class_names,
        image_shape=(image_size or shape[0] or 0, image_size or shape[1] or 0, channels),
        tasks=frozenset({"classification"}), num_train=num_train, num_validation=num_validation,
    )
    return DatasetSplits(train=make(train), validation=make(validation), info=info)
