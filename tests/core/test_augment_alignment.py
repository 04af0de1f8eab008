"""Every registered augmentation keeps boxes and masks on the image, in the tf.data pipeline.

The examples go through the training pipeline itself (``make_pipeline`` mapping
``build_augmentation``'s function over batches on parallel threads), so each sample of a batch
is checked with its own random draw. Parametrised over the registry: a new augmentation plugin
is checked the moment it registers.
"""

from __future__ import annotations

import numpy as np
import pytest

import cvkit

SIZE = 32
BATCH = 8
AUGMENTATIONS = cvkit.list_augmentations()


def _examples(count=8, seed=0):
    """Shapes whose image channel 0 is the mask itself (255 on the object), with their boxes.

    ``count`` different shapes, then a batch of copies of the first: the copies must come out
    moved differently, since every sample draws its own augmentation.
    """
    from cvkit_data_shapes.generate import generate

    images, labels, boxes, masks = generate(count, seed=seed, size=SIZE)
    images[..., 0] = np.where(masks > 0, 255, 0)
    order = np.concatenate([np.arange(count), np.zeros(BATCH, int)])
    return {
        "images": images[order].astype("float32"),
        "labels": labels[order],
        "bounding_boxes": {"boxes": boxes[order, None, :], "labels": labels[order, None]},
        "segmentation_masks": masks[order, ..., None].astype("int32"),
    }


def _augment(name, examples, nearest_images=False, seed=3):
    """Run ``name`` as training does: batched, on parallel map calls, a seed per batch."""
    import tensorflow as tf

    from cvkit.data.augment import build_augmentation
    from cvkit.training.engine import make_pipeline

    augment = build_augmentation([name], image_size=(SIZE, SIZE), channels=3, seed=seed)
    if nearest_images:  # resample the image like the mask, so the two must agree pixel for pixel
        for layer in augment.layers:
            if hasattr(layer, "interpolation"):
                layer.interpolation = "nearest"
    pipeline = make_pipeline(tf.data.Dataset.from_tensor_slices(examples), batch_size=BATCH,
                             to_xy=lambda batch: batch, augment=augment, seed=seed)
    batches = list(pipeline.as_numpy_iterator())
    return tf.nest.map_structure(lambda *parts: np.concatenate(parts), *batches)


def _tight_boxes(masks):
    """The rel_xyxy box around the object pixels of each mask (None where none are left)."""
    out = []
    for mask in masks[..., 0]:
        ys, xs = np.nonzero(mask)
        out.append(None if len(xs) == 0 else np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]) / SIZE)
    return out


def _geometric(name):
    return cvkit.get_registries().augmentations.get(name).geometric


@pytest.mark.parametrize("name", AUGMENTATIONS)
def test_image_box_and_mask_stay_aligned(name):
    batch = _examples()
    out = _augment(name, batch, nearest_images=True)
    masks, images, boxes = out["segmentation_masks"], out["images"], out["bounding_boxes"]["boxes"][:, 0]
    # the mask moved exactly as the image did
    np.testing.assert_array_equal(images[..., 0] > 127, masks[..., 0] > 0)
    copies = images[-BATCH:]
    assert any(not np.array_equal(copies[0], other) for other in copies[1:]), f"{name} drew once per batch"
    if not _geometric(name):
        np.testing.assert_array_equal(masks, batch["segmentation_masks"])
        np.testing.assert_array_equal(boxes, batch["bounding_boxes"]["boxes"][:, 0])
        return
    assert not np.array_equal(masks, batch["segmentation_masks"]), f"{name} moved nothing"
    axis_aligned = name not in ("rotate", "shear")
    for box, tight in zip(boxes, _tight_boxes(masks)):
        if tight is None:
            continue
        slack = 1.5 / SIZE  # a pixel of rounding on either side
        # the box still encloses the object, and (without rotation or shear) fits it
        assert (box[:2] <= tight[:2] + slack).all() and (box[2:] >= tight[2:] - slack).all(), (name, box, tight)
        if axis_aligned:
            np.testing.assert_allclose(box, tight, atol=slack, err_msg=name)


@pytest.mark.parametrize("name", [n for n in AUGMENTATIONS if _geometric(n)])
def test_masks_are_resampled_by_nearest_neighbour(name):
    batch = _examples()
    masks = _augment(name, batch)["segmentation_masks"]
    for original, moved in zip(batch["segmentation_masks"], masks):
        assert set(np.unique(moved)) <= set(np.unique(original)), f"{name} made new class ids"
