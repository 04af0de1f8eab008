"""The EfficientNet backbone builder.

MBConv is the mobilenet plugin's ``inverted_residual`` block, fetched through the block registry
(this plugin never imports cvkit_mobilenet).
"""

from __future__ import annotations

import math
from typing import Any

import keras

from cvkit import CvkitError, Features, UnknownNameError, get_block, global_pool


def round_filters(filters: float, width: float, divisor: int) -> int:
    """``filters * width`` rounded to a multiple of ``divisor``, never below 90% of it."""
    filters *= width
    rounded = max(divisor, int(filters + divisor / 2) // divisor * divisor)
    return int(rounded + divisor if rounded < 0.9 * filters else rounded)


def _mbconv():
    try:
        return get_block("inverted_residual")
    except UnknownNameError:
        raise CvkitError(
            "efficientnet needs the 'inverted_residual' block of the mobilenet plugin; install "
            "cvkit-mobilenet (or add mobilenet to CVKIT_LOAD_PLUGINS)"
        ) from None


def _stages(blocks: list[list[int]]) -> list[tuple[float, int, int, int, int]]:
    try:
        stages = [(float(t), int(c), int(n), int(s), int(k)) for t, c, n, s, k in blocks]
    except (TypeError, ValueError):
        raise CvkitError(
            "efficientnet blocks must be [expansion, channels, repeats, stride, kernel_size] rows, "
            f"got {blocks!r}"
        ) from None
    if not stages or any(n < 1 or s not in (1, 2) or k < 1 for _, _, n, s, k in stages):
        raise CvkitError(
            f"efficientnet stages need repeats >= 1, stride 1 or 2 and kernel_size >= 1; got {blocks!r}"
        )
    return stages


def build_efficientnet(
    inputs: Any,
    *,
    include_top: bool,
    width_coefficient: float,
    depth_coefficient: float,
    depth_divisor: int,
    stem_filters: int,
    blocks: list[list[int]],
    top_filters: int,
    se_ratio: float,
    activation: str,
    dropout: float,
    drop_connect_rate: float,
    bn_epsilon: float,
) -> Features:
    """EfficientNet: a 3x3/2 stem, seven MBConv stages, a 1x1 conv to 1280 x width, GAP, dropout.

    Compound scaling: every width is ``round_filters(c, width_coefficient)`` and every stage
    repeats ``ceil(n * depth_coefficient)`` times; the resolution is the input size. Drop-connect
    rises linearly from 0 at the first block to ``drop_connect_rate`` at the last.
    """
    if width_coefficient <= 0 or depth_coefficient <= 0 or depth_divisor < 1:
        raise CvkitError(
            "efficientnet needs width_coefficient > 0, depth_coefficient > 0 and depth_divisor >= 1; got "
            f"{width_coefficient}, {depth_coefficient}, {depth_divisor}"
        )
    if not 0 <= dropout < 1 or not 0 <= drop_connect_rate < 1:
        raise CvkitError(
            f"efficientnet dropout and drop_connect_rate must be in [0, 1), got {dropout}, {drop_connect_rate}"
        )
    stages = _stages(blocks)
    mbconv = _mbconv()
    conv_bn_act = get_block("conv_bn_act")

    def width(channels: float) -> int:
        return round_filters(channels, width_coefficient, depth_divisor)

    repeats = [int(math.ceil(depth_coefficient * n)) for _, _, n, _, _ in stages]
    total = sum(repeats)

    x = conv_bn_act(inputs, name="stem", filters=width(stem_filters), kernel_size=3, strides=2,
                    activation=activation, bn_epsilon=bn_epsilon)
    stride, maps, index = 2, {}, 0
    for i, ((expansion, channels, _, first_stride, kernel_size), count) in enumerate(zip(stages, repeats)):
        for j in range(count):
            block_stride = first_stride if j == 0 else 1
            if block_stride == 2:
                maps[stride] = x
                stride *= 2
            x = mbconv(
                x, name=f"block{i + 1}_{j + 1}", filters=width(channels),
                expansion=expansion, kernel_size=kernel_size, strides=block_stride,
                activation=activation, se_ratio=se_ratio, drop_rate=drop_connect_rate * index / total,
                bn_epsilon=bn_epsilon,
            )
            index += 1
    x = conv_bn_act(x, name="top", filters=width(top_filters), kernel_size=1, activation=activation,
                    bn_epsilon=bn_epsilon)
    maps[stride] = x

    pooled = global_pool(x, "avg_pool", dropout=dropout) if include_top else None
    return Features(maps=maps, pooled=pooled)
