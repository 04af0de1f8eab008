"""Seeded detection images: 0 to MAX_OBJECTS shapes each, a class and a tight box per shape.

Shapes are drawn at the size asked for (so boxes stay tight, with no resizing after), a tenth
to a third of the image across, and placed so that they overlap at most moderately.
"""

from __future__ import annotations

import numpy as np

from cvkit_data_shapes.generate import CLASS_NAMES, shape_mask

MAX_OBJECTS = 4
OBJECT_COUNT_ODDS = (0.05, 0.2, 0.25, 0.25, 0.25)  # of 0, 1, ..., MAX_OBJECTS shapes in an image
RADIUS_RANGE = (0.08, 0.15)  # of the shorter side; a shape spans about 2.4 radii
MIN_CENTRE_DISTANCE = 0.8  # x (r1 + r2): shapes may touch and overlap a little, never hide each other
PLACEMENT_TRIES = 20


def _place(rng: np.random.Generator, count: int, height: int, width: int) -> list[tuple[float, float, float]]:
    """(cx, cy, radius) of up to ``count`` shapes, inside the image and apart from each other."""
    side = min(height, width)
    placed: list[tuple[float, float, float]] = []
    for _ in range(count):
        for _ in range(PLACEMENT_TRIES):
            radius = rng.uniform(*RADIUS_RANGE) * side
            margin = radius * 1.25
            cx, cy = rng.uniform(margin, width - margin), rng.uniform(margin, height - margin)
            if all(np.hypot(cx - x, cy - y) >= MIN_CENTRE_DISTANCE * (radius + r) for x, y, r in placed):
                placed.append((cx, cy, radius))
                break
    return placed


def _draw(image: np.ndarray, kind: int, cx: float, cy: float, radius: float, angle: float,
          colour: np.ndarray) -> tuple[float, float, float, float]:
    """Paint one shape into ``image`` in place; its tight box in pixels (x1, y1, x2, y2)."""
    height, width = image.shape[:2]
    reach = int(np.ceil(radius * 1.3)) + 1
    x0, y0 = max(0, int(cx) - reach), max(0, int(cy) - reach)
    window = 2 * reach + 2
    mask = shape_mask(kind, window, cx - x0, cy - y0, radius, angle)[: height - y0, : width - x0]
    image[y0:y0 + mask.shape[0], x0:x0 + mask.shape[1]][mask] = colour
    ys, xs = np.nonzero(mask)
    return x0 + xs.min(), y0 + ys.min(), x0 + xs.max() + 1.0, y0 + ys.max() + 1.0


def generate_detection(count: int, seed: int, height: int, width: int, num_classes: int = len(CLASS_NAMES)):
    """``count`` images (uint8, height x width x 3) with per-image rel_xyxy boxes and class ids (lists)."""
    rng = np.random.default_rng(seed)
    images = np.empty((count, height, width, 3), dtype=np.uint8)
    boxes, labels = [], []
    for i in range(count):
        image = np.broadcast_to(rng.uniform(0, 100, 3), (height, width, 3)).copy()
        shapes = _place(rng, int(rng.choice(len(OBJECT_COUNT_ODDS), p=OBJECT_COUNT_ODDS)), height, width)
        kinds = rng.integers(0, num_classes, len(shapes))
        image_boxes = [
            _draw(image, kind, cx, cy, radius, rng.uniform(0, 2 * np.pi), rng.uniform(150, 255, 3))
            for kind, (cx, cy, radius) in zip(kinds, shapes)
        ]
        image += rng.normal(0, 10, image.shape)
        images[i] = np.clip(image, 0, 255).astype(np.uint8)
        boxes.append(np.asarray(image_boxes, dtype="float32").reshape(-1, 4) / [width, height, width, height])
        labels.append(kinds.astype("int32"))
    return images, boxes, labels
