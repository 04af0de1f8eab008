"""Data sets: shapes, digits, folder:PATH, tfds:NAME, and their bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import cvkit
from cvkit import CvkitError
from cvkit.training.config import RunConfig
from cvkit.training.run import load_splits

COMMON = dict(task="classification", image_size=32, seed=0, data_dir=None, validation_fraction=0.25)


def _first(ds):
    return next(iter(ds.take(1)))


def test_shapes_is_seeded_and_serves_every_task():
    from cvkit_data_shapes.generate import generate

    a, b = generate(8, seed=3), generate(8, seed=3)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    images, labels, boxes, masks = a
    assert images.shape == (8, 64, 64, 3) and images.dtype == np.uint8
    assert set(np.unique(masks[0])) == {0, labels[0] + 1}
    ys, xs = np.nonzero(masks[0])
    np.testing.assert_allclose(boxes[0], [xs.min() / 64, ys.min() / 64, (xs.max() + 1) / 64, (ys.max() + 1) / 64])
    splits = load_splits(RunConfig(dataset="shapes:40"), "classification", 32)
    assert splits.info.num_train == 32 and splits.info.num_validation == 8
    assert _first(splits.train)["images"].shape == (32, 32, 3)


def test_digits_are_scikit_learns_real_images():
    splits = load_splits(RunConfig(dataset="digits"), "classification", 32)
    assert splits.info.num_train + splits.info.num_validation == 1797
    assert splits.info.num_classes == 10
    example = _first(splits.train)
    assert example["images"].shape == (32, 32, 1) and example["images"].dtype.name == "uint8"


def _folder(tmp_path, classes=("cat", "dog"), per_class=3):
    rng = np.random.default_rng(0)
    for name in classes:
        (tmp_path / name).mkdir()
        for i in range(per_class):
            Image.fromarray(rng.integers(0, 255, (20, 24, 3), dtype=np.uint8)).save(tmp_path / name / f"{i}.png")
    return tmp_path


def test_folder_of_class_folders(tmp_path):
    root = _folder(tmp_path)
    splits = load_splits(RunConfig(dataset=f"folder:{root}"), "classification", 32)
    assert splits.info.class_names == ("cat", "dog")
    assert splits.info.num_train + splits.info.num_validation == 6


def test_folder_with_a_corrupt_image_names_the_file(tmp_path):
    root = _folder(tmp_path)
    (root / "dog" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(CvkitError, match=r"cannot read image .*broken\.png.*replace or remove"):
        load_splits(RunConfig(dataset=f"folder:{root}"), "classification", 32)


def test_empty_folder_says_how_to_lay_it_out(tmp_path):
    with pytest.raises(CvkitError, match="no images found"):
        load_splits(RunConfig(dataset=f"folder:{tmp_path}"), "classification", 32)


def test_tfds_set_not_prepared_says_how_to_prepare_it(tmp_path):
    with pytest.raises(CvkitError, match=r"not prepared under .*tfds build mnist"):
        load_splits(RunConfig(dataset="tfds:mnist", data_dir=str(tmp_path)), "classification", 32)


def test_tfds_unknown_name_suggests_close_ones(tmp_path):
    with pytest.raises(CvkitError, match="did you mean 'mnist'"):
        load_splits(RunConfig(dataset="tfds:mnistt", data_dir=str(tmp_path)), "classification", 32)


def test_tfds_prepared_set_loads_offline(tmp_path):
    from cvkit.testing import fake_prepared_tfds

    with fake_prepared_tfds("mnist", str(tmp_path), splits={"train": 12, "test": 4}):
        splits = load_splits(RunConfig(dataset="tfds:mnist", data_dir=str(tmp_path)), "classification", 32)
        example = _first(splits.train)
    assert splits.info.num_classes == 10
    assert (splits.info.num_train, splits.info.num_validation) == (12, 4)
    assert example["images"].shape == (32, 32, 1)


def test_tfds_records_become_examples_on_parallel_threads_in_order(tmp_path):
    import tensorflow as tf

    from cvkit.testing import fake_prepared_tfds

    sources = {}

    def as_dataset(self, split, **kwargs):  # a method: mock_data patches it onto the builder
        count = 12 if str(split) == "train" else 4
        ds = tf.data.Dataset.range(count).map(
            lambda i: {"image": tf.fill((28, 28, 1), tf.cast(i, tf.uint8)), "label": i % 10})
        sources[str(split)] = ds
        return ds

    with fake_prepared_tfds("mnist", str(tmp_path), splits={"train": 12, "test": 4}, as_dataset_fn=as_dataset):
        splits = load_splits(RunConfig(dataset="tfds:mnist", data_dir=str(tmp_path)), "classification", 32)
        labels = [int(ex["labels"]) for ex in splits.train]
    assert labels == [i % 10 for i in range(12)]  # in the order TFDS reads them
    stages, stage = [], splits.train
    while stage is not sources["train"]:  # cvkit's stages, down to what TFDS returned
        stages.append(type(stage).__name__)
        (stage,) = stage._inputs()
    assert "_ParallelMapDataset" in stages and "_MapDataset" not in stages, stages


def test_dataset_that_takes_no_argument():
    class Plugin:
        @cvkit.hookimpl
        def register_datasets(self, register):
            register("plain", load=lambda **_: None, tasks={"classification"})

    cvkit.register_plugin(Plugin(), "plain-dataset")
    try:
        with pytest.raises(CvkitError, match="takes no argument"):
            cvkit.train(RunConfig(dataset="plain:extra"))
    finally:
        cvkit.unregister_plugin("plain-dataset")


def test_digits_keeps_the_digits_asked_for():
    splits = load_splits(RunConfig(dataset="digits:5-9", validation_fraction=0.25), "classification", None)
    assert splits.info.class_names == ("5", "6", "7", "8", "9")
    labels = {int(ex["labels"]) for ex in splits.train}
    assert labels == {0, 1, 2, 3, 4}
    assert splits.info.num_train + splits.info.num_validation == 896  # sklearn has 182+181+179+174+180 of 5..9
    listed = load_splits(RunConfig(dataset="digits:1,3"), "classification", None).info.class_names
    assert listed == ("1", "3")
    for bad in ("digits:7", "digits:3-12", "digits:a"):
        with pytest.raises(CvkitError, match="at least two digits 0-9"):
            load_splits(RunConfig(dataset=bad), "classification", None)
