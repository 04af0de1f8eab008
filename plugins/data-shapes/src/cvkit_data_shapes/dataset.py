"""The ``shapes`` data set loader."""

from __future__ import annotations

from typing import Any

from cvkit import CvkitError, DatasetInfo, DatasetSplits, pad_detection_boxes, splits_from_arrays
from cvkit_data_shapes.detection import MAX_OBJECTS, generate_detection
from cvkit_data_shapes.generate import CLASS_NAMES, NATURAL_SIZE, generate

TASKS = frozenset({"classification", "localization", "segmentation", "detection"})
MAX_DRAW_SIDE = 256  # detection images are drawn at the training size up to this, then resized


def load_shapes(*, argument: str, task: str, image_size: tuple[int, int] | None, seed: int,
                validation_fraction: float, limit: int | None = None, count: int = 2000,
                **_: Any) -> DatasetSplits:
    """``count`` seeded shape images; ``shapes:N`` sets the count."""
    if argument:
        try:
            count = int(argument)
        except ValueError:
            raise CvkitError(f"shapes takes an image count, like shapes:500, not {argument!r}") from None
    if count < 2:
        raise CvkitError(f"shapes needs at least 2 images, got {count}")
    if task == "detection":
        return _load_detection(count, image_size, seed, validation_fraction, limit)
    images, labels, boxes, masks = generate(count, seed=seed)
    info = DatasetInfo(
        name="shapes", class_names=CLASS_NAMES, image_shape=(NATURAL_SIZE, NATURAL_SIZE, 3),
        tasks=TASKS, mask_classes=("background", *CLASS_NAMES),
    )
    return splits_from_arrays(
        info, images, labels, image_size=image_size, seed=seed,
        validation_fraction=validation_fraction, limit=limit,
        boxes=boxes if task == "localization" else None,
        masks=masks if task == "segmentation" else None,
    )


def _load_detection(count: int, image_size: tuple[int, int] | None, seed: int, validation_fraction: float,
                    limit: int | None) -> DatasetSplits:
    """Several shapes per image, drawn at the training size so the boxes stay tight."""
    height, width = image_size or (NATURAL_SIZE, NATURAL_SIZE)
    shrink = min(1.0, MAX_DRAW_SIDE / max(height, width))
    draw = (max(1, round(height * shrink)), max(1, round(width * shrink)))
    images, boxes, labels = generate_detection(count, seed=seed, height=draw[0], width=draw[1])
    padded_boxes, padded_labels = pad_detection_boxes(boxes, labels, max_boxes=MAX_OBJECTS)
    info = DatasetInfo(name="shapes", class_names=CLASS_NAMES, image_shape=(*draw, 3), tasks=TASKS)
    return splits_from_arrays(
        info, images, None, image_size=image_size, seed=seed, validation_fraction=validation_fraction,
        limit=limit, boxes=padded_boxes, box_labels=padded_labels,
    )
