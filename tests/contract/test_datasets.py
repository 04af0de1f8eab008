"""Every registered data set gives splits, info and examples as the dataset contract says.

Parametrised over the registry. Data sets that read from disk get a tiny one: a class folder
for ``folder:``, a faked prepared MNIST for ``tfds:``.
"""

from __future__ import annotations

import numpy as np
import pytest

import cvkit
from cvkit.testing import check_dataset, fake_prepared_tfds


def _class_folder(root):
    from PIL import Image

    rng = np.random.default_rng(0)
    for label in ("cat", "dog"):
        (root / label).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(rng.integers(0, 256, (20, 28, 3), dtype=np.uint8)).save(root / label / f"{i}.png")
    return root


def _check_with_data(name, tmp_path):
    if name == "folder":
        check_dataset("folder", str(_class_folder(tmp_path / "classes")), tasks=("classification",))
    elif name == "tfds":
        with fake_prepared_tfds("mnist", str(tmp_path), splits={"train": 8, "test": 4}):
            check_dataset("tfds", "mnist", tasks=("classification",), data_dir=str(tmp_path))
    elif name == "shapes":
        check_dataset("shapes", "24")
    else:
        check_dataset(name)


@pytest.mark.parametrize("name", cvkit.list_datasets())
def test_dataset_keeps_the_contract(name, tmp_path):
    _check_with_data(name, tmp_path)


def test_a_loader_that_does_not_resize_is_caught():
    from cvkit import DatasetInfo, splits_from_arrays

    def load(*, seed, validation_fraction, **_):  # ignores image_size: examples stay 20x20
        images = np.zeros((6, 20, 20, 3), np.uint8)
        info = DatasetInfo(name="unsized", class_names=("a", "b"), image_shape=(20, 20, 3))
        return splits_from_arrays(info, images, np.arange(6) % 2, image_size=None, seed=seed,
                                  validation_fraction=validation_fraction)

    class Plugin:
        @cvkit.hookimpl
        def register_datasets(self, register):
            register("unsized", load=load, tasks={"classification"})

    cvkit.register_plugin(Plugin(), "unsized-plugin")
    try:
        with pytest.raises(AssertionError, match="resized by the loader"):
            check_dataset("unsized")
    finally:
        cvkit.unregister_plugin("unsized-plugin")
