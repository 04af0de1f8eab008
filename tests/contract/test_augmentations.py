"""Every registered augmentation draws its randomness per sample, as the training pipeline runs it.

Augmentation runs on whole batches (after ``batch()``), so a layer that draws once per call gives
every image of a batch the same crop, flip or colour. Parametrised over the registry: a new
augmentation plugin is checked the moment it registers.
"""

from __future__ import annotations

import numpy as np
import pytest

import cvkit

SIZE = 32
BATCH = 8


def _pipeline(name, count, seed=0):
    """``count`` copies of one asymmetric image through the training pipeline, augmented by ``name``."""
    import tensorflow as tf

    from cvkit.data.augment import build_augmentation
    from cvkit.training.engine import make_pipeline

    image = np.random.default_rng(0).integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    examples = {"images": np.repeat(image[None], count, axis=0), "labels": np.zeros(count, "int32")}
    augment = build_augmentation([name], image_size=(SIZE, SIZE), channels=3, seed=seed)
    pipeline = make_pipeline(tf.data.Dataset.from_tensor_slices(examples), batch_size=BATCH,
                             to_xy=lambda batch: batch["images"], augment=augment, seed=seed)
    return image, pipeline


@pytest.mark.parametrize("name", cvkit.list_augmentations())
def test_augmentation_draws_per_sample(name):
    image, pipeline = _pipeline(name, BATCH)
    images = next(iter(pipeline)).numpy()
    distinct = {np.round(im, 3).tobytes() for im in images}
    assert len(distinct) >= 2, f"{name} gave all {BATCH} identical images the same augmentation"
    assert any(not np.allclose(im, image) for im in images), f"{name} changed no image"


@pytest.mark.parametrize("name", cvkit.list_augmentations())
def test_augmentation_is_reproducible_under_parallel_maps(name):
    runs = [np.concatenate(list(_pipeline(name, 4 * BATCH, seed=7)[1].as_numpy_iterator())) for _ in range(2)]
    np.testing.assert_array_equal(runs[0], runs[1], err_msg=f"{name} differs between two pipelines with one seed")
