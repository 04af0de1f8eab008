"""The EfficientNet backbone builder: MBConv stages from ``cvkit.layers``, compound scaling."""

from __future__ import annotations

import math
from typing import Any

import keras

from cvkit import CvkitError, Features
from cvkit.layers import MBConvStage, conv_bn_act, global_pool, make_divisible, mbconv_stages


def _stages(blocks: list[list[int]]) -> list[MBConvStage]:
    try:
        stages = [MBConvStage(float(t), int(c), int(n), int(s), int(k)) for t, c, n, s, k in blocks]
    except (TypeError, ValueError):
        raise CvkitError(
            "efficientnet blocks must be [expansion, channels, repeats, stride, kernel_size] rows, "
            f"got {blocks!r}"
        ) from None
    if not stages or any(st.repeats < 1 or st.stride not in (1, 2) or st.kernel_size < 1 for st in stages):
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
    input_normalization: bool,
) -> Features:
    """EfficientNet: a 3x3/2 stem, seven MBConv stages, a 1x1 conv to 1280 x width, GAP, dropout.

    Compound scaling: every width is ``make_divisible(c * width_coefficient, depth_divisor)``
    and every stage repeats ``ceil(n * depth_coefficient)`` times; the resolution is the input
    size. Drop-connect rises linearly from 0 at the first block to ``drop_connect_rate`` at the last.
    ``input_normalization`` puts keras.applications' input layers first: pixels / 255, then a
    per-channel ``Normalization`` whose mean and variance are weights (the ImageNet file sets them).
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

    def width(channels: float) -> int:
        return make_divisible(channels * width_coefficient, depth_divisor)

    scaled = [stage._replace(filters=width(stage.filters), repeats=int(math.ceil(depth_coefficient * stage.repeats)))
              for stage in _stages(blocks)]
    unit = {"activation": activation, "bn_epsilon": bn_epsilon}
    if input_normalization:
        inputs = keras.layers.Rescaling(1.0 / 255.0, name="rescaling")(inputs)
        inputs = keras.layers.Normalization(axis=-1, name="normalization")(inputs)
    x = conv_bn_act(inputs, name="stem", filters=width(stem_filters), kernel_size=3, strides=2, **unit)
    x, maps, stride = mbconv_stages(x, scaled, block_name="block{stage}_{repeat}", se_ratio=se_ratio,
                                    drop_connect_rate=drop_connect_rate, **unit)
    x = conv_bn_act(x, name="top", filters=width(top_filters), kernel_size=1, **unit)
    maps[stride] = x

    pooled = global_pool(x, "avg_pool", dropout=dropout) if include_top else None
    return Features(maps=maps, pooled=pooled)
