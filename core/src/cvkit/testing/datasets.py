"""Dataset checks: splits, info and examples as the dataset contract says; fake TFDS sets."""

from __future__ import annotations

from typing import Any

import numpy as np

def fake_prepared_tfds(name: str, data_dir: str, splits: dict[str, int] | None = None, num_examples: int = 12,
                       **mock_options: Any):
    """A context in which TFDS set ``name`` looks prepared under ``data_dir``, with fake examples.

    Wraps ``tfds.testing.mock_data`` and writes the set's metadata (its splits), so loaders that
    check ``is_prepared()`` and read split sizes work offline, as with a real prepared copy.
    ``mock_options`` go to ``mock_data`` (``as_dataset_fn=`` gives examples of your own).
    """
    import contextlib
    import os

    import tensorflow_datasets as tfds

    splits = splits or {"train": num_examples, "test": num_examples}

    @contextlib.contextmanager
    def context():
        with tfds.testing.mock_data(num_examples=num_examples, data_dir=data_dir, **mock_options):
            builder = tfds.builder(name, data_dir=data_dir)
            template = lambda split: tfds.core.naming.ShardedFileTemplate(  # noqa: E731
                data_dir=builder.data_dir, dataset_name=builder.name, split=split, filetype_suffix="tfrecord")
            builder.info.set_splits(tfds.core.SplitDict([
                tfds.core.SplitInfo(name=split, shard_lengths=[count], num_bytes=0, filename_template=template(split))
                for split, count in splits.items()
            ]))
            os.makedirs(builder.data_dir, exist_ok=True)
            builder.info.write_to_directory(builder.data_dir)
            yield builder

    return context()


def check_dataset(name: str, argument: str = "", *, tasks: tuple[str, ...] | None = None,
                  data_dir: str | None = None, image_size: tuple[int, int] = (32, 24), examples: int = 4) -> None:
    """Load ``name`` (``argument`` after its colon) for each of its ``tasks`` and check the result.

    The loader returns :class:`cvkit.DatasetSplits` with non-empty train and validation
    ``tf.data.Dataset`` splits and a :class:`cvkit.DatasetInfo` naming the task; its examples are
    dicts of ``images`` (uint8, already resized to ``image_size`` = (height, width), the info's
    channels; the default is not square, so a width/height swap shows),
    ``labels`` (int32 scalar below ``num_classes``), for localization ``bounding_boxes``
    (``boxes`` float32 [N, 4] rel_xyxy inside the image, ``labels`` int32 [N]), for detection
    the same padded to ``info.max_boxes`` (padding: box 0, label -1, after the real boxes), and for
    segmentation ``segmentation_masks`` (int32 [height, width, 1], ids 0 to ``num_classes``).
    ``tasks`` defaults to every task the data set registered.
    """
    from cvkit import DatasetInfo, DatasetSplits, get_registries, resolve_callable

    spec = get_registries().datasets.get(name)
    image_size = tuple(image_size)
    assert not argument or spec.takes_argument, f"dataset {name} takes no argument, got {argument!r}"
    for task in tasks or sorted(spec.tasks):
        assert task in spec.tasks, f"dataset {name} did not register task {task!r}"
        splits = resolve_callable(spec.load)(
            argument=argument, task=task, image_size=image_size, seed=0, data_dir=data_dir,
            validation_fraction=0.5, limit=None, skip_invalid=False)
        where = f"dataset {name} ({task})"
        assert isinstance(splits, DatasetSplits), f"{where}: load returned {type(splits).__name__}, not cvkit.DatasetSplits"
        info = splits.info
        assert isinstance(info, DatasetInfo), f"{where}: splits.info is {type(info).__name__}, not cvkit.DatasetInfo"
        assert task in info.tasks, f"{where}: info.tasks {sorted(info.tasks)} lacks the task it was loaded for"
        assert info.num_classes > 0 and len(info.image_shape) == 3, f"{where}: info needs class names and an HxWxC image_shape"
        for split in ("train", "validation"):
            count = 0
            for example in getattr(splits, split).take(examples).as_numpy_iterator():
                check_example(example, info, task, image_size, f"{where}, {split} split")
                count += 1
            assert count, f"{where}: the {split} split is empty"


def check_example(example: dict, info: Any, task: str, image_size: tuple[int, int], where: str) -> None:
    """One example dict against the dataset contract (see :func:`check_dataset`)."""
    needed = {"images", "labels"} | {"localization": {"bounding_boxes"}, "detection": {"bounding_boxes"},
                                     "segmentation": {"segmentation_masks"}}.get(task, set())
    assert needed <= set(example), f"{where}: example keys {sorted(example)} lack {sorted(needed - set(example))}"
    images, labels = example["images"], example["labels"]
    shape = (*image_size, info.image_shape[-1])
    assert images.dtype == np.uint8 and images.shape == shape, (
        f"{where}: images are {images.dtype} {images.shape}; the contract is uint8 {shape}, resized by the loader")
    assert labels.dtype == np.int32 and labels.shape == (), f"{where}: labels are {labels.dtype} {labels.shape}, not an int32 scalar"
    assert 0 <= labels < info.num_classes, f"{where}: label {labels} is outside 0..{info.num_classes - 1}"
    if task == "detection":
        check_detection_boxes(example["bounding_boxes"], info, where)
    if task == "localization":
        boxes = example["bounding_boxes"]
        assert boxes["boxes"].dtype == np.float32 and boxes["boxes"].ndim == 2 and boxes["boxes"].shape[-1] == 4, (
            f"{where}: boxes are {boxes['boxes'].dtype} {boxes['boxes'].shape}, not float32 [N, 4]")
        assert boxes["labels"].dtype == np.int32 and boxes["labels"].shape == boxes["boxes"].shape[:1], (
            f"{where}: box labels are {boxes['labels'].dtype} {boxes['labels'].shape}, not int32 [N]")
        b = boxes["boxes"]
        assert ((b >= 0) & (b <= 1)).all() and (b[:, :2] < b[:, 2:]).all(), f"{where}: boxes {b} are not rel_xyxy inside the image"
    if task == "segmentation":
        masks = example["segmentation_masks"]
        assert masks.dtype == np.int32 and masks.shape == (*image_size, 1), (
            f"{where}: masks are {masks.dtype} {masks.shape}, not int32 {(*image_size, 1)}")
        assert 0 <= masks.min() and masks.max() <= info.num_classes, f"{where}: mask ids outside 0..{info.num_classes}"


def check_detection_boxes(boxes: dict, info: Any, where: str) -> None:
    """Padded detection boxes: (max_boxes, 4) rel_xyxy and (max_boxes,) labels, -1 rows last and zero."""
    b, labels = boxes["boxes"], boxes["labels"]
    size = info.max_boxes
    assert b.dtype == np.float32 and b.shape == (size, 4), f"{where}: boxes are {b.dtype} {b.shape}, not float32 {(size, 4)} (max_boxes)"
    assert labels.dtype == np.int32 and labels.shape == (size,), f"{where}: box labels are {labels.dtype} {labels.shape}, not int32 {(size,)}"
    real = labels >= 0
    assert (labels[~real] == -1).all() and not b[~real].any(), f"{where}: padding rows must be label -1 and box 0, got {labels} {b}"
    assert (np.sort(~real) == ~real).all(), f"{where}: real boxes come before the padding, got labels {labels}"
    assert (labels[real] < info.num_classes).all(), f"{where}: box labels {labels} outside 0..{info.num_classes - 1}"
    r = b[real]
    assert ((r >= 0) & (r <= 1)).all() and (r[:, :2] < r[:, 2:]).all(), f"{where}: boxes {r} are not rel_xyxy inside the image"
