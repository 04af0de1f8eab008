"""The ``shapes`` data set loader."""

from __future__ import annotations

from typing import Any

from cvkit import CvkitError, DatasetInfo, DatasetSplits, splits_from_arrays
from cvkit_data_shapes.generate import CLASS_NAMES, NATURAL_SIZE, generate

TASKS = frozenset({"classification", "localization", "segmentation"})


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
