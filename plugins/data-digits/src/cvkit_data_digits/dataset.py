"""scikit-learn's 8x8 handwritten digits (1,797 real images, 10 classes), upscaled."""

from __future__ import annotations

from typing import Any

import numpy as np

from cvkit import CvkitError, DatasetInfo, DatasetSplits, splits_from_arrays


def load_digits(*, argument: str, task: str, image_size: tuple[int, int] | None, seed: int,
                validation_fraction: float, limit: int | None = None, **_: Any) -> DatasetSplits:
    if argument:
        raise CvkitError(f"digits takes no argument, got digits:{argument}; use --dataset digits")
    from sklearn.datasets import load_digits as sklearn_digits

    digits = sklearn_digits()
    images = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
    info = DatasetInfo(
        name="digits", class_names=tuple(str(d) for d in range(10)), image_shape=(8, 8, 1),
        tasks=frozenset({"classification"}),
    )
    return splits_from_arrays(
        info, images, digits.target, image_size=image_size, seed=seed,
        validation_fraction=validation_fraction, limit=limit,
    )
