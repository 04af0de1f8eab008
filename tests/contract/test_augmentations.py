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


@pytest.mark.parametrize("name", cvkit.list_augmentations())
def test_augmentation_draws_per_sample(name):
    import tensorflow as tf

    from cvkit.augment import build_augmentation
    from cvkit.engine import make_pipeline

    # non-uniform and asymmetric, so flips, crops and shifts all change the pixels
    image = np.random.default_rng(0).integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    examples = {"images": np.repeat(image[None], BATCH, axis=0), "labels": np.zeros(BATCH, "int32")}
    augment = build_augmentation([name], image_size=(SIZE, SIZE), channels=3, seed=0)
    pipeline = make_pipeline(tf.data.Dataset.from_tensor_slices(examples), batch_size=BATCH,
                             to_xy=lambda batch: batch["images"], augment=augment, seed=0)
    images = next(iter(pipeline)).numpy()
    distinct = {np.round(im, 3).tobytes() for im in images}
    assert len(distinct) >= 2, f"{name} gave all {BATCH} identical images the same augmentation"
    assert any(not np.allclose(im, image) for im in images), f"{name} changed no image"
