"""Layers of the segmentation heads: size matching for skips and a bilinear initializer.

Both are registered under ``cvkit_head_segmentation`` so saved models load back.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

PACKAGE = "cvkit_head_segmentation"


def _resample_axis(x: Any, size: Any, axis: int) -> Any:
    """Nearest-neighbour resampling of ``x`` along ``axis`` to ``size`` (identity when equal)."""
    current = ops.shape(x)[axis]
    index = ops.floor_divide((2 * ops.arange(size, dtype="int32") + 1) * current, 2 * size)
    return ops.take(x, ops.minimum(index, current - 1), axis=axis)


@keras.saving.register_keras_serializable(package=PACKAGE)
class MatchSize(keras.layers.Layer):
    """Give ``x`` the height and width of ``reference``.

    With a backbone whose maps are exactly ``size / stride`` (same padding, an input that is a
    multiple of the total stride) the sizes already agree and this is the identity. Backbones
    with valid padding (AlexNet, LeNet, Inception v3's default) give maps a pixel or two off;
    they are resampled by nearest neighbour, which only gathers (dynamic sizes export).
    """

    def call(self, x: Any, reference: Any) -> Any:
        shape = ops.shape(reference)
        x = _resample_axis(x, shape[1], axis=1)
        return _resample_axis(x, shape[2], axis=2)

    def compute_output_shape(self, x_shape: tuple, reference_shape: tuple) -> tuple:
        return (x_shape[0], reference_shape[1], reference_shape[2], x_shape[3])


@keras.saving.register_keras_serializable(package=PACKAGE)
class BilinearUpsampling(keras.initializers.Initializer):
    """A transposed-conv kernel that starts as bilinear interpolation, channel by channel (FCN)."""

    def __call__(self, shape: tuple, dtype: Any = None) -> Any:
        size = shape[0]
        factor = (size + 1) // 2
        center = factor - 1 if size % 2 == 1 else factor - 0.5
        grid = np.arange(size)
        line = 1 - np.abs(grid - center) / factor
        kernel = np.zeros(shape, dtype="float32")
        for channel in range(min(shape[2], shape[3])):
            kernel[:, :, channel, channel] = np.outer(line, line)
        return ops.convert_to_tensor(kernel, dtype=dtype or "float32")

    def get_config(self) -> dict:
        return {}
