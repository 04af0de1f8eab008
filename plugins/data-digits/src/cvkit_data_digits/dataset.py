"""scikit-learn's 8x8 handwritten digits (1,797 real images, 10 classes), upscaled.

``digits:0-4`` (or ``digits:5,6,7``) keeps only those digits, relabelled 0..k-1 in order, with
the digits as class names: two disjoint halves make a transfer-learning pair.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cvkit import CvkitError, DatasetInfo, DatasetSplits, splits_from_arrays

ALL_DIGITS = tuple(range(10))


def parse_digit_classes(argument: str) -> tuple[int, ...]:
    """``""`` -> all digits; ``"0-4"`` -> 0..4; ``"1,3,5-7"`` -> 1, 3, 5, 6, 7."""
    if not argument:
        return ALL_DIGITS
    chosen: set[int] = set()
    try:
        for part in argument.split(","):
            low, _, high = part.strip().partition("-")
            chosen.update(range(int(low), int(high or low) + 1))
    except ValueError:
        chosen = {-1}
    if not chosen <= set(ALL_DIGITS) or len(chosen) < 2:
        raise CvkitError(f"digits:{argument} must name at least two digits 0-9, as a range or list: "
                         f"--dataset digits:0-4 or digits:5,6,7,8,9")
    return tuple(sorted(chosen))


def load_digits(*, argument: str, task: str, image_size: tuple[int, int] | None, seed: int,
                validation_fraction: float, limit: int | None = None, **_: Any) -> DatasetSplits:
    classes = parse_digit_classes(argument)
    from sklearn.datasets import load_digits as sklearn_digits

    digits = sklearn_digits()
    keep = np.isin(digits.target, classes)
    images = np.round(digits.images[keep] * (255.0 / 16.0)).astype(np.uint8)[..., None]
    labels = np.searchsorted(np.asarray(classes), digits.target[keep])
    info = DatasetInfo(
        name="digits", class_names=tuple(str(d) for d in classes), image_shape=(8, 8, 1),
        tasks=frozenset({"classification"}),
    )
    return splits_from_arrays(
        info, images, labels, image_size=image_size, seed=seed,
        validation_fraction=validation_fraction, limit=limit,
    )
