"""Detection examples: padded boxes from splits_from_arrays, checked, with DatasetInfo.max_boxes."""

from __future__ import annotations

import numpy as np
import pytest

import cvkit
from cvkit import CvkitError, DatasetInfo


def _info(**kw):
    return DatasetInfo(name="toy", class_names=("a", "b", "c"), image_shape=(8, 8, 3),
                       tasks=frozenset({"detection"}), **kw)


def test_pad_detection_boxes_pads_with_zero_boxes_and_minus_one():
    boxes, labels = cvkit.pad_detection_boxes(
        [np.array([[0.1, 0.1, 0.5, 0.5], [0.2, 0.2, 0.9, 0.9]]), np.zeros((0, 4))], [np.array([2, 1]), np.zeros(0)])
    assert boxes.shape == (2, 2, 4) and labels.tolist() == [[2, 1], [-1, -1]]
    assert not boxes[1].any()
    assert cvkit.largest_box_labels(boxes, labels).tolist() == [1, 0]  # the 0.7x0.7 box; none -> 0
    assert cvkit.pad_detection_boxes([], [])[0].shape == (0, 1, 4)


def test_splits_from_arrays_gives_padded_detection_examples():
    images = np.zeros((4, 8, 8, 3), np.uint8)
    boxes = np.zeros((4, 3, 4), np.float32)
    labels = np.full((4, 3), -1, np.int32)
    boxes[0, :2] = [[0.1, 0.1, 0.4, 0.4], [0.5, 0.5, 1.0, 1.0]]
    labels[0, :2] = [0, 2]
    boxes[1, 2], labels[1, 2] = [0.0, 0.0, 0.5, 0.25], 1  # a real box after padding moves first
    splits = cvkit.splits_from_arrays(_info(), images, None, image_size=(16, 16), seed=0,
                                      validation_fraction=0.25, boxes=boxes, box_labels=labels)
    assert splits.info.max_boxes == 3
    examples = list(splits.train.concatenate(splits.validation).as_numpy_iterator())
    by_count = {int((e["bounding_boxes"]["labels"] >= 0).sum()): e for e in examples}
    assert set(by_count) == {0, 1, 2}
    two = by_count[2]
    assert two["bounding_boxes"]["boxes"].shape == (3, 4) and two["bounding_boxes"]["labels"].tolist() == [0, 2, -1]
    assert int(two["labels"]) == 2  # the class of the largest object
    one = by_count[1]
    assert one["bounding_boxes"]["labels"].tolist() == [1, -1, -1]
    np.testing.assert_allclose(one["bounding_boxes"]["boxes"][0], [0.0, 0.0, 0.5, 0.25])
    assert int(by_count[0]["labels"]) == 0 and not by_count[0]["bounding_boxes"]["boxes"].any()
    assert two["images"].shape == (16, 16, 3)


@pytest.mark.parametrize("box, label, fragment", [
    ([0.5, 0.1, 0.5, 0.4], 0, "example 1, box 0"),  # zero width
    ([0.1, 0.1, 0.4, 1.2], 1, "outside"),
    ([0.1, 0.1, 0.4, 0.4], 3, "class 3"),
])
def test_bad_detection_box_is_one_line_error_naming_it(box, label, fragment):
    boxes = np.zeros((2, 1, 4), np.float32)
    labels = np.full((2, 1), -1, np.int32)
    boxes[1, 0], labels[1, 0] = box, label
    with pytest.raises(CvkitError, match=fragment) as info:
        cvkit.splits_from_arrays(_info(), np.zeros((2, 8, 8, 3), np.uint8), None, image_size=None, seed=0,
                                 validation_fraction=0.5, boxes=boxes, box_labels=labels)
    assert "\n" not in str(info.value)
