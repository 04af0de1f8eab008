"""Augmentation checks, run as training runs them: batched, on parallel map calls, seeded.

Each augmentation declares its ``effect`` on boxes and masks when it registers: ``geometric``
moves them with the pixels, ``photometric`` only recolours, ``erasing`` fills patches of pixels
with a fill value and leaves boxes and masks alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SIZE = 32
BATCH = 8


OBJECT, BACKGROUND = (200.0, 60.0, 120.0), (40.0, 170.0, 90.0)


def aligned_examples(count: int = 8, seed: int = 0, two_colour: bool = False) -> dict[str, np.ndarray]:
    """``count`` rectangles in the top-left quarter, then ``BATCH`` copies of the first.

    Image channel 0 is the mask itself (255 on the object), so a mask that moves with its image
    agrees with it pixel for pixel; the other channels are noise, so every pixel is distinct.
    ``two_colour`` paints the object and the background one colour each instead.
    """
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (count, SIZE, SIZE, 3)).astype("float32")
    masks = np.zeros((count, SIZE, SIZE), "int32")
    labels = (np.arange(count) % 3).astype("int32")
    boxes = np.zeros((count, 4), "float32")
    for i in range(count):
        x1, y1 = rng.integers(3, 7, 2)  # off-centre: a flip or shift moves the object away
        x2, y2 = x1 + rng.integers(6, 10), y1 + rng.integers(6, 10)
        masks[i, y1:y2, x1:x2] = labels[i] + 1
        boxes[i] = np.array([x1, y1, x2, y2]) / SIZE
    images[..., 0] = np.where(masks > 0, 255, 0)
    if two_colour:
        images = np.where(masks[..., None] > 0, np.float32(OBJECT), np.float32(BACKGROUND)).astype("float32")
    order = np.concatenate([np.arange(count), np.zeros(BATCH, int)])
    return {
        "images": images[order], "labels": labels[order],
        "bounding_boxes": {"boxes": boxes[order, None, :], "labels": labels[order, None]},
        "segmentation_masks": masks[order, ..., None],
    }


def run_augmentation(augmentation: str | dict, examples: dict, *, seed: int = 3, nearest: bool = False) -> dict:
    """``examples`` through the training pipeline with one augmentation (a name or a dict with params)."""
    import tensorflow as tf

    from cvkit.data.augment import build_augmentation
    from cvkit.data.statistics import DatasetStatistics
    from cvkit.training.engine import make_pipeline

    statistics = DatasetStatistics(num_classes=int(examples["labels"].max()) + 1, task="segmentation",
                                   channels=3, train=examples["images"])
    augment = build_augmentation([augmentation], image_size=(SIZE, SIZE), channels=3, seed=seed,
                                 statistics=statistics)
    if nearest:  # resample the image like the mask, so the two must agree pixel for pixel
        layers = list(augment.layers)
        while layers:  # RandAugment and the like hold layers of their own
            layer = layers.pop()
            layers.extend(getattr(layer, "layers", []) if not hasattr(layer, "interpolation") else [])
            if hasattr(layer, "interpolation"):
                layer.interpolation = "nearest"
    pipeline = make_pipeline(tf.data.Dataset.from_tensor_slices(examples), batch_size=BATCH,
                             to_xy=lambda batch: batch, augment=augment, seed=seed)
    batches = list(pipeline.as_numpy_iterator())
    return tf.nest.map_structure(lambda *parts: np.concatenate(parts), *batches)


def _tight_box(mask: np.ndarray) -> np.ndarray | None:
    ys, xs = np.nonzero(mask)
    return None if len(xs) == 0 else np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]) / SIZE


def check_geometric(name: str, before: dict, after: dict) -> None:
    """Masks move exactly as the image, by nearest neighbour, and each box still fits its object."""
    masks, images = after["segmentation_masks"], after["images"]
    assert np.array_equal(images[..., 0] > 127, masks[..., 0] > 0), f"{name}: masks did not move with the image"
    assert not np.array_equal(masks, before["segmentation_masks"]), f"{name} is geometric but moved no mask"
    for original, moved in zip(before["segmentation_masks"], masks):
        assert set(np.unique(moved)) <= set(np.unique(original)), f"{name} made new mask ids: resample masks by nearest"
    slack = 1.5 / SIZE  # a pixel of rounding on either side
    for box, mask in zip(after["bounding_boxes"]["boxes"][:, 0], masks[..., 0]):
        tight = _tight_box(mask)
        if tight is None:
            continue  # the object left the image
        assert (box[:2] <= tight[:2] + slack).all() and (box[2:] >= tight[2:] - slack).all(), (
            f"{name}: box {box} does not enclose its object {tight}")
        # an affine map sends a rectangle's corner box to the object's box, unless the image edge cut it
        if (tight[:2] > slack).all() and (tight[2:] < 1 - slack).all():
            np.testing.assert_allclose(box, tight, atol=slack, err_msg=f"{name}: box does not fit its moved object")


def check_unmoved(name: str, effect: str, before: dict, after: dict) -> None:
    """Boxes and masks come out as they went in; an erasing one fills patches with one value."""
    assert np.array_equal(after["segmentation_masks"], before["segmentation_masks"]), f"{name} is {effect} but changed masks"
    assert np.array_equal(after["bounding_boxes"]["boxes"], before["bounding_boxes"]["boxes"]), f"{name} is {effect} but moved boxes"
    if effect == "photometric":
        _check_pixels_stay(name, after)
        return
    erased = 0
    for original, image in zip(before["images"], after["images"]):
        changed = (original != image).any(axis=-1)
        if changed.any():
            fills = np.unique(image[changed], axis=0)
            assert len(fills) == 1, f"{name} is erasing but changed pixels to {len(fills)} values, not one fill value"
            erased += 1
    assert erased, f"{name} is erasing but erased no pixels"


def _check_pixels_stay(name: str, after: dict) -> None:
    """Recoloured, each pixel still belongs to its side of the mask: its colour is nearer its own
    side's mean than the other's (a two-colour image, so only moving pixels breaks this)."""
    for image, mask in zip(after["images"], after["segmentation_masks"][..., 0] > 0):
        inside, outside = image[mask].mean(axis=0), image[~mask].mean(axis=0)
        nearer_inside = np.linalg.norm(image - inside, axis=-1) < np.linalg.norm(image - outside, axis=-1)
        agree = (nearer_inside == mask).mean()
        assert agree >= 0.99, f"{name} is photometric but moved pixels ({1 - agree:.1%} left their side of the mask)"


def check_augmentation(name: str, **params: Any) -> None:
    """Every rule a registered augmentation keeps; AssertionError names the broken one.

    Mixing ones blend each image with its partner (the batch reversed) and their labels alike.
    Run as training runs it (batched, on parallel map calls, a seed per batch) on rectangles
    with their boxes and masks: it draws per sample (identical images come out different), it
    repeats under one seed, and it keeps its declared ``effect``: geometric ones move boxes and
    masks with the pixels, photometric ones only recolour, erasing ones leave boxes and masks
    and fill patches with one value. ``params`` override its defaults.
    """
    from cvkit import get_registries

    effect = get_registries().augmentations.get(name).effect
    augmentation = {"name": name, **params}
    before = aligned_examples(two_colour=effect not in ("geometric", "mixing"))
    after = run_augmentation(augmentation, before, nearest=effect == "geometric")
    if effect == "mixing":
        check_mixing(name, before, after)
    else:
        _check_per_sample(name, after)
    if effect == "geometric":
        check_geometric(name, before, after)
    elif effect != "mixing":
        check_unmoved(name, effect, before, after)
    again = [run_augmentation(augmentation, before, seed=7)["images"] for _ in range(2)]
    assert np.array_equal(*again), f"{name} differs between two pipelines with one seed: derive draws from the batch seed"


def _check_per_sample(name: str, after: dict) -> None:
    copies = after["images"][-BATCH:]
    assert any(not np.array_equal(copies[0], other) for other in copies[1:]), (
        f"{name} gave {BATCH} identical images the same augmentation: draw per sample, not per batch")


def check_mixing(name: str, before: dict, after: dict) -> None:
    """Each image is its own and its partner's pixels blended by a per-pixel weight in [0, 1]
    (MixUp: one weight; CutMix: 0 or 1), and its label distribution gives its own class the
    mean of that weight; the weights differ between samples."""
    distributions = after.get("label_distribution")
    assert distributions is not None, f"{name} is mixing but added no label_distribution"
    np.testing.assert_allclose(distributions.sum(axis=1), 1.0, atol=1e-5, err_msg=f"{name}: label rows must sum to 1")
    own_weights = []
    for start in range(0, len(before["images"]) - BATCH, BATCH):  # the batches of distinct images
        images, labels = before["images"][start:start + BATCH], before["labels"][start:start + BATCH]
        for i in range(BATCH):
            own, partner, mixed = images[i], images[BATCH - 1 - i], after["images"][start + i]
            differ = np.abs(own - partner) > 20
            weight = np.clip((mixed - partner)[differ] / (own - partner)[differ], -1, 2)
            assert weight.size and (weight > -0.02).all() and (weight < 1.02).all(), (
                f"{name}: image {start + i} is not a blend of itself and its partner")
            if labels[i] != labels[BATCH - 1 - i]:
                expected = distributions[start + i, labels[i]]
                assert abs(weight.mean() - expected) < 0.05, (
                    f"{name}: label weight {expected:.3f} but {weight.mean():.3f} of the image is its own")
                own_weights.append(expected)
    assert len(set(np.round(own_weights, 4))) > 1, f"{name} mixed every sample alike: draw per sample"
