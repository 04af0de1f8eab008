"""Geometric augmentations move every box of a detection batch and drop those that leave the image."""

from __future__ import annotations

import numpy as np
import pytest

from cvkit.testing.augmentations import SIZE, run_augmentation

SLACK = 1.5 / SIZE  # a pixel of rounding on either side
# (x1, y1, x2, y2) in pixels of three objects; the fourth row is padding
OBJECTS = ((3, 4, 11, 12), (18, 6, 28, 14), (0, 0, 3, 3))


def _detection_batch(count: int = 16, seed: int = 0) -> dict:
    """Object k painted with value 60 * (k + 1) in channel 0 (0 elsewhere); noise in the others."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (count, SIZE, SIZE, 3)).astype("float32")
    images[..., 0] = 0
    boxes = np.zeros((count, len(OBJECTS) + 1, 4), "float32")
    labels = np.full((count, len(OBJECTS) + 1), -1, "int32")
    for k, (x1, y1, x2, y2) in enumerate(OBJECTS):
        images[:, y1:y2, x1:x2, 0] = 60 * (k + 1)
        boxes[:, k] = np.array([x1, y1, x2, y2]) / SIZE
        labels[:, k] = k
    return {"images": images, "labels": np.zeros(count, "int32"),
            "bounding_boxes": {"boxes": boxes, "labels": labels}}


def _pixel_box(image: np.ndarray, k: int):
    ys, xs = np.nonzero(image[..., 0] == 60 * (k + 1))
    return None if len(xs) == 0 else np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]) / SIZE


def _check_boxes_follow_pixels(name: str, after: dict) -> int:
    """Every kept box fits its object's pixels; a dropped one is label -1 and box 0. Returns the drops."""
    boxes, labels = after["bounding_boxes"]["boxes"], after["bounding_boxes"]["labels"]
    assert labels.dtype == np.int32 and boxes.shape[1:] == (len(OBJECTS) + 1, 4), (name, labels.dtype, boxes.shape)
    assert (labels[:, -1] == -1).all() and not boxes[:, -1].any(), f"{name}: the padding row changed"
    dropped = 0
    for image, image_boxes, image_labels in zip(after["images"], boxes, labels):
        for k in range(len(OBJECTS)):
            pixels, box = _pixel_box(image, k), image_boxes[k]
            if image_labels[k] == -1:
                dropped += 1
                assert not box.any(), f"{name}: a dropped box is {box}, not 0"
                assert pixels is None or min(pixels[2:] - pixels[:2]) <= SLACK, f"{name}: dropped a visible object {pixels}"
                continue
            assert image_labels[k] == k, f"{name}: object {k} got label {image_labels[k]}"
            if pixels is None:  # a sliver the pixels lost to rounding
                assert min(box[2:] - box[:2]) <= SLACK, f"{name}: kept box {box} of an object that left the image"
                continue
            assert (box[:2] <= pixels[:2] + SLACK).all() and (box[2:] >= pixels[2:] - SLACK).all(), (
                f"{name}: box {box} does not enclose object {k} at {pixels}")
            if name in ("flip", "translate"):
                np.testing.assert_allclose(box, pixels, atol=SLACK, err_msg=f"{name}: box {k} did not follow its object")
    return dropped


def test_flip_moves_every_box_exactly():
    before = _detection_batch()
    after = run_augmentation("flip", before, nearest=True)
    flipped = [not np.array_equal(a, b) for a, b in zip(after["images"], before["images"])]
    assert any(flipped) and not all(flipped)
    _check_boxes_follow_pixels("flip", after)
    for was_flipped, boxes in zip(flipped, after["bounding_boxes"]["boxes"]):
        expected = before["bounding_boxes"]["boxes"][0, :3]
        if was_flipped:
            expected = np.stack([1 - expected[:, 2], expected[:, 1], 1 - expected[:, 0], expected[:, 3]], -1)
        np.testing.assert_allclose(boxes[:3], expected, atol=1e-6)


def test_translate_moves_boxes_and_drops_those_pushed_out():
    after = run_augmentation({"name": "translate", "factor": 0.5}, _detection_batch(), nearest=True)
    dropped = _check_boxes_follow_pixels("translate", after)
    labels = after["bounding_boxes"]["labels"]
    assert dropped and (labels[:, 2] == 2).any(), "the corner object should leave some images and stay in others"


@pytest.mark.parametrize("name", ["crop", "resized_crop", "rotate", "shear", "stretch"])
def test_other_geometric_augmentations_keep_padded_boxes_on_their_objects(name):
    _check_boxes_follow_pixels(name, run_augmentation(name, _detection_batch(count=8), nearest=True))

