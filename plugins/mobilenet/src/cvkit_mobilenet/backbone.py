"""MobileNet v1 and v2 backbone builders."""

from __future__ import annotations

from typing import Any

from cvkit import CvkitError, Features
from cvkit.layers import FAN_OUT_INITIALIZER, MBConvStage, conv_bn_act, global_pool, make_divisible, mbconv_stages
from cvkit_mobilenet.blocks import depthwise_separable


def _check(arch: str, *, alpha: float, dropout: float, strides: list[int]) -> None:
    if alpha <= 0:
        raise CvkitError(f"{arch} width multiplier alpha must be > 0 (1.0, 0.75, 0.5, 0.35...), got {alpha}")
    if not 0 <= dropout < 1:
        raise CvkitError(f"{arch} dropout must be in [0, 1), got {dropout}")
    if not strides or any(s not in (1, 2) for s in strides):
        raise CvkitError(f"{arch} needs at least one block, each with stride 1 or 2; got strides {strides}")


def _pooled(x: Any, include_top: bool, dropout: float) -> Any:
    """Global average pool, then dropout: what sits before the classifier."""
    if not include_top:
        return None
    return global_pool(x, "avg_pool", dropout=dropout)


def _conv(x: Any, name: str, filters: int, kernel_size: int = 1, **kwargs: Any) -> Any:
    """conv-BN-act with MobileNet's initialisation (He on the fan-out)."""
    return conv_bn_act(x, name=name, filters=filters, kernel_size=kernel_size,
                       kernel_initializer=FAN_OUT_INITIALIZER, **kwargs)


def build_mobilenet_v1(
    inputs: Any,
    *,
    include_top: bool,
    alpha: float,
    depth_multiplier: int,
    stem_filters: int,
    blocks: list[list[int]],
    dropout: float,
    activation: str,
    bn_epsilon: float,
) -> Features:
    """MobileNet v1: a 3x3/2 conv, then depthwise-separable layers; widths scaled by alpha.

    keras.applications ends with GAP -> dropout -> 1x1 conv -> reshape; the classification
    head's Dense on the pooled vector is the same computation with the same parameters.
    """
    try:
        strides = [int(stride) for _, stride in blocks]
    except (TypeError, ValueError):
        raise CvkitError(f"mobilenet_v1 blocks must be [filters, stride] pairs, got {blocks!r}") from None
    _check("mobilenet_v1", alpha=alpha, dropout=dropout, strides=strides)
    if depth_multiplier < 1:
        raise CvkitError(f"mobilenet_v1 depth_multiplier must be an integer >= 1, got {depth_multiplier}")
    bn = {"bn_epsilon": bn_epsilon}

    x = _conv(inputs, "stem", int(stem_filters * alpha), kernel_size=3, strides=2, activation=activation, **bn)
    stride, maps = 2, {}
    for i, (filters, block_stride) in enumerate(blocks):
        if block_stride == 2:
            maps[stride] = x
            stride *= 2
        x = depthwise_separable(x, name=f"block{i + 1}", filters=int(filters * alpha), strides=block_stride,
                                depth_multiplier=depth_multiplier, activation=activation, **bn)
    maps[stride] = x
    return Features(maps=maps, pooled=_pooled(x, include_top, dropout))


def build_mobilenet_v2(
    inputs: Any,
    *,
    include_top: bool,
    alpha: float,
    stem_filters: int,
    blocks: list[list[int]],
    head_filters: int,
    kernel_size: int,
    dropout: float,
    activation: str,
    bn_epsilon: float,
) -> Features:
    """MobileNet v2: a 3x3/2 conv, stages of inverted residuals, a 1x1 conv to 1280 channels.

    Channels are ``alpha`` times the table's, rounded to multiples of 8; the last conv keeps
    ``head_filters`` unless alpha > 1.
    """
    try:
        stages = [(float(t), int(c), int(n), int(s)) for t, c, n, s in blocks]
    except (TypeError, ValueError):
        raise CvkitError(
            f"mobilenet_v2 blocks must be [expansion, channels, repeats, stride] rows, got {blocks!r}"
        ) from None
    _check("mobilenet_v2", alpha=alpha, dropout=dropout, strides=[s for *_, s in stages])
    if any(n < 1 for _, _, n, _ in stages):
        raise CvkitError(f"mobilenet_v2 needs at least one repeat per stage, got {blocks!r}")
    bn = {"bn_epsilon": bn_epsilon}

    x = _conv(inputs, "stem", make_divisible(stem_filters * alpha), kernel_size=3, strides=2, activation=activation, **bn)
    scaled = [MBConvStage(t, make_divisible(int(c * alpha)), n, s, kernel_size) for t, c, n, s in stages]
    x, maps, stride = mbconv_stages(x, scaled, block_name="block{index}", activation=activation, **bn)
    filters = make_divisible(head_filters * alpha) if alpha > 1 else head_filters
    x = _conv(x, "head", filters, activation=activation, **bn)
    maps[stride] = x
    return Features(maps=maps, pooled=_pooled(x, include_top, dropout))
