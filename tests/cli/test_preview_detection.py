"""cvkit augment preview draws every real box of a detection batch, and no padding row."""

from __future__ import annotations

import numpy as np

from cvkit_cli.preview import CELL, _draw


def test_preview_draws_every_real_detection_box(tmp_path):
    from PIL import Image

    images = np.zeros((1, 32, 32, 3), "float32")
    boxes = np.array([[[0.1, 0.1, 0.3, 0.3], [0.5, 0.5, 0.9, 0.9], [0.0, 0.0, 0.0, 0.0]]], "float32")
    batch = {"images": images, "labels": np.zeros(1, "int32"),
             "bounding_boxes": {"boxes": boxes, "labels": np.array([[2, 0, -1]], "int32")}}
    grid = np.asarray(Image.open(_draw([batch], ["original"], tmp_path / "p.png", 2)))[16:16 + CELL, :CELL]
    red = (grid[..., 0] > 200) & (grid[..., 1] < 100)
    for x1, y1, x2, y2 in (np.round(b * CELL).astype(int) for b in boxes[0, :2]):
        top_edge, left_edge = red[y1 - 1:y1 + 2, x1 + 2:x2 - 2].any(0), red[y1 + 2:y2 - 2, x1 - 1:x1 + 2].any(1)
        assert top_edge.all() and left_edge.all(), (x1, y1, x2, y2)  # within a pixel of rounding
    assert not red[0, 0], "the padding row was drawn"
