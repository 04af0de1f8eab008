"""The Inception v3 backbone builder."""

from __future__ import annotations

import itertools
from typing import Any

import keras

from cvkit import CvkitError, Features, global_pool
from cvkit_inception.blocks import (
    channels, conv_bn, inception_a, inception_b, inception_c, reduction_a, reduction_b,
)


def build_inception_v3(
    inputs: Any,
    *,
    include_top: bool,
    width: float,
    a_pool_filters: list[int],
    b_channels_7x7: list[int],
    c_blocks: int,
    padding: str,
    dropout: float,
    bn_epsilon: float,
) -> Features:
    """Inception v3: a conv stem to 35x35, three module grids (35, 17, 8) joined by reductions.

    Feature maps (at 299x299 with "valid" padding): stride 2 the third stem conv (147x147),
    stride 4 the last stem conv (71x71), stride 8 the last 35x35 module, stride 16 the last
    17x17 module, stride 32 the last 8x8 module. keras.applications has no dropout before the
    classifier; the default 0.2 does not change any weight.
    """
    if padding not in ("valid", "same"):
        raise CvkitError(f"inception_v3 padding must be 'valid' (the paper's grid) or 'same', got {padding!r}")
    if width <= 0 or c_blocks < 0 or any(int(f) < 1 for f in [*a_pool_filters, *b_channels_7x7]):
        raise CvkitError(
            "inception_v3 needs width > 0, c_blocks >= 0 and positive module widths; got "
            f"width={width}, a_pool_filters={a_pool_filters}, b_channels_7x7={b_channels_7x7}, c_blocks={c_blocks}"
        )
    if not 0 <= dropout < 1:
        raise CvkitError(f"inception_v3 dropout must be in [0, 1), got {dropout}")
    common = {"width": width, "bn_epsilon": bn_epsilon}

    def stem(x: Any, index: int, filters: int, kernel: int, **kwargs: Any) -> Any:
        return conv_bn(x, f"stem{index}", channels(filters, width), kernel, bn_epsilon=bn_epsilon, **kwargs)

    maps = {}
    x = stem(inputs, 1, 32, 3, strides=2, padding=padding)
    x = stem(x, 2, 32, 3, padding=padding)
    x = maps[2] = stem(x, 3, 64, 3)
    x = keras.layers.MaxPooling2D(3, strides=2, padding=padding, name="stem_pool1")(x)
    x = stem(x, 4, 80, 1, padding=padding)
    x = maps[4] = stem(x, 5, 192, 3, padding=padding)
    x = keras.layers.MaxPooling2D(3, strides=2, padding=padding, name="stem_pool2")(x)

    names = (f"mixed{i}" for i in itertools.count())  # keras' module names: mixed0 ... mixed10
    for pool_filters in a_pool_filters:
        x = inception_a(x, name=next(names), pool_filters=int(pool_filters), **common)
    maps[8] = x
    x = reduction_a(x, name=next(names), padding=padding, **common)
    for channels_7x7 in b_channels_7x7:
        x = inception_b(x, name=next(names), channels_7x7=int(channels_7x7), **common)
    maps[16] = x
    x = reduction_b(x, name=next(names), padding=padding, **common)
    for _ in range(c_blocks):
        x = inception_c(x, name=next(names), **common)
    maps[32] = x

    pooled = global_pool(x, "avg_pool", dropout=dropout) if include_top else None
    return Features(maps=maps, pooled=pooled)
