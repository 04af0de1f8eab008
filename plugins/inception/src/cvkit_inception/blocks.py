"""Inception-v3 modules, as keras.applications.InceptionV3 lays them out.

Every conv is conv (no bias) -> BN (no scale: ReLU follows, so a scale would be redundant) ->
ReLU. Channel counts are the paper's (Szegedy et al. 2016, figures 5 to 7 and table 1) times
``width``; ``width=1`` is the published network.
"""

from __future__ import annotations

from typing import Any

import keras

from cvkit.layers import TF_BN_EPSILON, conv_bn_act


def channels(filters: int, width: float) -> int:
    """``filters`` scaled by the width multiplier, at least one."""
    return max(1, int(filters * width))


def conv_bn(x: Any, name: str, filters: int, kernel_size: int | tuple[int, int], *,
            bn_epsilon: float = TF_BN_EPSILON, **kwargs: Any) -> Any:
    """``cvkit.layers.conv_bn_act`` as keras.applications' InceptionV3 names and sets it up:
    ``{name}_conv``, ``{name}_bn`` (center only), ``{name}_relu``; ``kwargs`` are strides, padding."""
    return conv_bn_act(x, name=name, filters=filters, kernel_size=kernel_size, bn_epsilon=bn_epsilon,
                       bn_scale=False, act_suffix="relu", **kwargs)


def _chain(x: Any, name: str, convs: list[tuple[int, Any]], width: float, bn_epsilon: float, **last: Any) -> Any:
    """A branch of convs ``(filters, kernel)`` named ``{name}_1``, ``{name}_2``...; ``last``
    (strides, padding) applies to the final conv only."""
    for i, (filters, kernel) in enumerate(convs):
        extra = last if i == len(convs) - 1 else {}
        x = conv_bn(x, f"{name}_{i + 1}", channels(filters, width), kernel, bn_epsilon=bn_epsilon, **extra)
    return x


def _pool_branch(x: Any, name: str, filters: int, width: float, bn_epsilon: float) -> Any:
    """3x3/1 average pool -> 1x1 projection."""
    x = keras.layers.AveragePooling2D(3, strides=1, padding="same", name=f"{name}_avgpool")(x)
    return conv_bn(x, f"{name}_proj", channels(filters, width), 1, bn_epsilon=bn_epsilon)


def _concat(name: str, branches: list[Any]) -> Any:
    return keras.layers.Concatenate(name=name)(branches)


def inception_a(x: Any, *, name: str, pool_filters: int = 32, width: float = 1.0,
                bn_epsilon: float = TF_BN_EPSILON) -> Any:
    """The 35x35 module (mixed0-2): 1x1 | 1x1 -> 5x5 | 1x1 -> 3x3 -> 3x3 | avg-pool -> 1x1.

    Outputs 224 + ``pool_filters`` channels (times ``width``).
    """
    args = (width, bn_epsilon)
    return _concat(f"{name}_concat", [
        _chain(x, f"{name}_b1x1", [(64, 1)], *args),
        _chain(x, f"{name}_b5x5", [(48, 1), (64, 5)], *args),
        _chain(x, f"{name}_b3x3dbl", [(64, 1), (96, 3), (96, 3)], *args),
        _pool_branch(x, f"{name}_bpool", pool_filters, *args),
    ])


def reduction_a(x: Any, *, name: str, width: float = 1.0, padding: str = "valid",
                bn_epsilon: float = TF_BN_EPSILON) -> Any:
    """35x35 -> 17x17 grid reduction (mixed3): 3x3/2 | 1x1 -> 3x3 -> 3x3/2 | 3x3/2 max-pool."""
    args = (width, bn_epsilon)
    down = {"strides": 2, "padding": padding}
    return _concat(f"{name}_concat", [
        _chain(x, f"{name}_b3x3", [(384, 3)], *args, **down),
        _chain(x, f"{name}_b3x3dbl", [(64, 1), (96, 3), (96, 3)], *args, **down),
        keras.layers.MaxPooling2D(3, strides=2, padding=padding, name=f"{name}_bpool")(x),
    ])


def inception_b(x: Any, *, name: str, channels_7x7: int = 128, width: float = 1.0,
                bn_epsilon: float = TF_BN_EPSILON) -> Any:
    """The 17x17 module (mixed4-7) with 7x7 convs factorised into 1x7 and 7x1.

    1x1 | 1x1 -> 1x7 -> 7x1 | 1x1 -> 7x1 -> 1x7 -> 7x1 -> 1x7 | avg-pool -> 1x1; 768 channels.
    """
    c = channels_7x7
    args = (width, bn_epsilon)
    return _concat(f"{name}_concat", [
        _chain(x, f"{name}_b1x1", [(192, 1)], *args),
        _chain(x, f"{name}_b7x7", [(c, 1), (c, (1, 7)), (192, (7, 1))], *args),
        _chain(x, f"{name}_b7x7dbl", [(c, 1), (c, (7, 1)), (c, (1, 7)), (c, (7, 1)), (192, (1, 7))], *args),
        _pool_branch(x, f"{name}_bpool", 192, *args),
    ])


def reduction_b(x: Any, *, name: str, width: float = 1.0, padding: str = "valid",
                bn_epsilon: float = TF_BN_EPSILON) -> Any:
    """17x17 -> 8x8 grid reduction (mixed8): 1x1 -> 3x3/2 | 1x1 -> 1x7 -> 7x1 -> 3x3/2 | max-pool."""
    args = (width, bn_epsilon)
    down = {"strides": 2, "padding": padding}
    return _concat(f"{name}_concat", [
        _chain(x, f"{name}_b3x3", [(192, 1), (320, 3)], *args, **down),
        _chain(x, f"{name}_b7x7x3", [(192, 1), (192, (1, 7)), (192, (7, 1)), (192, 3)], *args, **down),
        keras.layers.MaxPooling2D(3, strides=2, padding=padding, name=f"{name}_bpool")(x),
    ])


def inception_c(x: Any, *, name: str, width: float = 1.0, bn_epsilon: float = TF_BN_EPSILON) -> Any:
    """The 8x8 module with expanded filter banks (mixed9-10); 2048 channels.

    1x1 | 1x1 -> (1x3, 3x1) | 1x1 -> 3x3 -> (1x3, 3x1) | avg-pool -> 1x1.
    """
    args = (width, bn_epsilon)

    def split(y: Any, branch: str) -> Any:
        return _concat(f"{branch}_split", [
            conv_bn(y, f"{branch}_1x3", channels(384, width), (1, 3), bn_epsilon=bn_epsilon),
            conv_bn(y, f"{branch}_3x1", channels(384, width), (3, 1), bn_epsilon=bn_epsilon),
        ])

    return _concat(f"{name}_concat", [
        _chain(x, f"{name}_b1x1", [(320, 1)], *args),
        split(_chain(x, f"{name}_b3x3", [(384, 1)], *args), f"{name}_b3x3"),
        split(_chain(x, f"{name}_b3x3dbl", [(448, 1), (384, 3)], *args), f"{name}_b3x3dbl"),
        _pool_branch(x, f"{name}_bpool", 192, *args),
    ])
