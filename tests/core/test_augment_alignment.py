"""Every registered augmentation keeps boxes and masks on the image, in the tf.data pipeline.

Parametrised over the registry: a new augmentation plugin is checked the moment it registers.
"""

from __future__ import annotations

import numpy as np
import pytest

import cvkit

SIZE = 32
AUGMENTATIONS = cvkit.list_augmentations()


def _batch(count=8, seed=0):
    """Shapes whose image channel 0 is the mask itself (255 on the object), with their boxes."""
    from cvkit_data_shapes.generate import generate

    images, labels, boxes, masks = generate(count, seed=seed, size=SIZE)
    images[..., 0] = np.where(masks > 0, 255, 0)
    return {
        "images": images.astype("float32"),
        "labels": labels,
        "bounding_boxes": {"boxes": boxes[:, None, :], "labels": labels[:, None]},
        "segmentation_masks": masks[..., None].astype("int32"),
    }


def _augment(name, batch, nearest_images=False, seed=3):
    """Run ``name`` as the pipeline does (layers in order, on a batch dict, in a tf.data map)."""
    import tensorflow as tf

    spec = cvkit.get_registries().augmentations.get(name)
    built = spec.load()(image_size=(SIZE, SIZE), channels=3, seed=seed, **spec.defaults)
    layers = list(built) if isinstance(built, list | tuple) else [built]
    if nearest_images:  # resample the image like the mask, so the two must agree pixel for pixel
        for layer in layers:
            if hasattr(layer, "interpolation"):
                layer.interpolation = "nearest"

    def augment(data):
        for layer in layers:
            data = layer(data, training=True)
        return data

    ds = tf.data.Dataset.from_tensors(batch).map(augment)
    return next(iter(ds.as_numpy_iterator()))


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
    batch = _batch()
    out = _augment(name, batch, nearest_images=True)
    masks, images, boxes = out["segmentation_masks"], out["images"], out["bounding_boxes"]["boxes"][:, 0]
    # the mask moved exactly as the image did
    np.testing.assert_array_equal(images[..., 0] > 127, masks[..., 0] > 0)
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
    batch = _batch()
    masks = _augment(name, batch)["segmentation_masks"]
    for original, moved in zip(batch["segmentation_masks"], masks):
        assert set(np.unique(moved)) <= set(np.unique(original)), f"{name} made new class ids"
