"""shapes for detection: 0 to 4 seeded shapes per image, each with a class and a tight box."""

from __future__ import annotations

import numpy as np

from cvkit import get_registries, resolve_callable


def _load(count=40, seed=0, image_size=(48, 64)):
    load = resolve_callable(get_registries().datasets.get("shapes").load)
    splits = load(argument=str(count), task="detection", image_size=image_size, seed=seed, data_dir=None,
                  validation_fraction=0.25, limit=None, skip_invalid=False)
    return splits, list(splits.train.concatenate(splits.validation).as_numpy_iterator())


def _iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return w * h / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h)


def test_shapes_detection_has_several_objects_with_tight_boxes_and_is_seeded():
    splits, examples = _load()
    assert "detection" in splits.info.tasks and splits.info.max_boxes == 4
    counts = [int((e["bounding_boxes"]["labels"] >= 0).sum()) for e in examples]
    assert min(counts) == 0 and max(counts) == 4 and len(set(counts)) == 5, counts
    classes = {int(c) for e in examples for c in e["bounding_boxes"]["labels"] if c >= 0}
    assert classes == set(range(5))
    pairs = [_iou(a, b) for e, n in zip(examples, counts) for i, a in enumerate(e["bounding_boxes"]["boxes"][:n])
             for b in e["bounding_boxes"]["boxes"][i + 1:n]]
    assert any(p > 0 for p in pairs) and max(pairs) < 0.5  # some overlap, never much
    height, width = 48, 64
    for example, count in zip(examples, counts):
        if count != 1:
            continue
        bright = np.argwhere(example["images"].astype(float).mean(-1) > 125)  # shapes 150+, background < 100
        (y1, x1), (y2, x2) = bright.min(0), bright.max(0) + 1
        box = example["bounding_boxes"]["boxes"][0] * [width, height, width, height]
        np.testing.assert_allclose(box, [x1, y1, x2, y2], atol=0.5, err_msg="the box is not tight")
        sides = (box[2] - box[0]) / width, (box[3] - box[1]) / height
        assert 0.1 <= min(sides) and max(sides) <= 0.5, sides  # no slivers, no giants
    _, again = _load()
    assert all(np.array_equal(a["images"], b["images"]) for a, b in zip(examples, again))
    _, other = _load(seed=1)
    assert not np.array_equal(examples[0]["images"], other[0]["images"])
