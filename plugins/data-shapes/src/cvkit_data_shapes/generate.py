"""A seeded synthetic data set of coloured shapes with a class, a box and a mask each."""

from __future__ import annotations

import numpy as np

CLASS_NAMES = ("circle", "square", "triangle", "diamond", "cross")
NATURAL_SIZE = 64


def _polygon_mask(xx: np.ndarray, yy: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """Pixels inside a convex polygon given counter-clockwise or clockwise vertices."""
    inside_pos = np.ones(xx.shape, dtype=bool)
    inside_neg = np.ones(xx.shape, dtype=bool)
    for (x0, y0), (x1, y1) in zip(vertices, np.roll(vertices, -1, axis=0)):
        cross = (x1 - x0) * (yy - y0) - (y1 - y0) * (xx - x0)
        inside_pos &= cross >= 0
        inside_neg &= cross <= 0
    return inside_pos | inside_neg


def _regular_polygon(cx: float, cy: float, radius: float, sides: int, angle: float) -> np.ndarray:
    theta = angle + 2 * np.pi * np.arange(sides) / sides
    return np.stack([cx + radius * np.cos(theta), cy + radius * np.sin(theta)], axis=1)


def shape_mask(kind: int, size: int, cx: float, cy: float, radius: float, angle: float) -> np.ndarray:
    """A boolean mask of one shape (class index ``kind``) on a ``size`` x ``size`` canvas."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    name = CLASS_NAMES[kind]
    if name == "circle":
        return (xx - cx) ** 2 + (yy - cy) ** 2 <= radius**2
    if name == "square":
        return _polygon_mask(xx, yy, _regular_polygon(cx, cy, radius * 1.2, 4, angle % (np.pi / 2) + np.pi / 4))
    if name == "triangle":
        return _polygon_mask(xx, yy, _regular_polygon(cx, cy, radius * 1.2, 3, angle))
    if name == "diamond":
        # A rhombus: taller than wide, so it differs from a rotated square.
        c, s = np.cos(angle * 0.3), np.sin(angle * 0.3)
        dx, dy = xx - cx, yy - cy
        u, v = c * dx + s * dy, -s * dx + c * dy
        return np.abs(u) / (radius * 0.6) + np.abs(v) / (radius * 1.2) <= 1.0
    arm = radius * 0.35  # cross
    c, s = np.cos(angle), np.sin(angle)
    dx, dy = xx - cx, yy - cy
    u, v = c * dx + s * dy, -s * dx + c * dy
    return ((np.abs(u) <= arm) & (np.abs(v) <= radius)) | ((np.abs(v) <= arm) & (np.abs(u) <= radius))


def generate(count: int, seed: int, size: int = NATURAL_SIZE, num_classes: int = len(CLASS_NAMES)):
    """``count`` images (uint8, size x size x 3), labels, rel_xyxy boxes and masks.

    Masks hold 0 for background and ``label + 1`` on the shape, so background is a class.
    The same seed always gives the same data.
    """
    rng = np.random.default_rng(seed)
    images = np.empty((count, size, size, 3), dtype=np.uint8)
    labels = rng.integers(0, num_classes, count).astype(np.int32)
    boxes = np.empty((count, 4), dtype=np.float32)
    masks = np.empty((count, size, size), dtype=np.int32)
    for i in range(count):
        radius = rng.uniform(0.16, 0.34) * size
        margin = radius * 1.25
        cx, cy = rng.uniform(margin, size - margin, 2)
        mask = shape_mask(labels[i], size, cx, cy, radius, rng.uniform(0, 2 * np.pi))
        background = rng.uniform(0, 110, 3)
        foreground = rng.uniform(140, 255, 3)
        image = np.broadcast_to(background, (size, size, 3)).copy()
        image[mask] = foreground
        image += rng.normal(0, 12, image.shape)
        images[i] = np.clip(image, 0, 255).astype(np.uint8)
        ys, xs = np.nonzero(mask)
        boxes[i] = (xs.min() / size, ys.min() / size, (xs.max() + 1) / size, (ys.max() + 1) / size)
        masks[i] = np.where(mask, labels[i] + 1, 0)
    return images, labels, boxes, masks
