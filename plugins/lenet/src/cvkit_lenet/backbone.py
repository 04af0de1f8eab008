"""The LeNet-5 builder."""

from __future__ import annotations

from typing import Any

import keras

from cvkit import CvkitError, Features

POOLING = {"avg": keras.layers.AveragePooling2D, "max": keras.layers.MaxPooling2D}


def build_lenet(
    inputs: Any,
    *,
    include_top: bool,
    filters: list[int],
    kernel_size: int,
    fc_units: list[int],
    activation: str,
    pooling: str,
) -> Features:
    """conv -> pool -> conv -> pool -> flatten -> FC 120 -> FC 84 (the pre-logits).

    The convolutions are unpadded, as in the paper, so at 32x32 the maps are 28, 14, 10 and 5
    pixels wide: the stride-2 and stride-4 maps (the pool outputs) are a little smaller than
    size / stride.
    """
    if pooling not in POOLING:
        raise CvkitError(f"lenet pooling must be 'avg' or 'max', got {pooling!r}")
    if not filters or min(filters) < 1 or min(fc_units, default=1) < 1 or kernel_size < 1:
        raise CvkitError(f"lenet filters, fc_units and kernel_size must be positive, got {filters}, {fc_units}, {kernel_size}")
    try:
        keras.activations.get(activation)
    except ValueError:
        raise CvkitError(f"lenet activation {activation!r} is not a Keras activation; try 'tanh' or 'relu'") from None

    maps: dict[int, Any] = {}
    x, stride = inputs, 1
    for i, width in enumerate(filters):
        x = keras.layers.Conv2D(width, kernel_size, activation=activation, name=f"conv{i + 1}")(x)
        x = POOLING[pooling](2, name=f"pool{i + 1}")(x)
        stride *= 2
        maps[stride] = x
    pooled = None
    if include_top:
        x = keras.layers.Flatten(name="flatten")(x)
        for i, units in enumerate(fc_units):
            x = keras.layers.Dense(units, activation=activation, name=f"fc{i + 1}")(x)
        pooled = x
    return Features(maps={s: m for s, m in maps.items() if s in (2, 4, 8, 16, 32)}, pooled=pooled)
