"""The inverted residual / MBConv block (MobileNet v2, EfficientNet) and its stage loop."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import keras

from cvkit.models.batchnorm import DEFAULT_BN_MOMENTUM
from cvkit.errors import CvkitError
from cvkit.layers.conv import (
    FAN_OUT_INITIALIZER, TF_BN_EPSILON, Initializer, conv_bn_act, depthwise_bn_act, squeeze_excite,
)


class MBConvStage(NamedTuple):
    """One stage of inverted residuals: ``repeats`` blocks, the first with ``stride``."""

    expansion: float
    filters: int
    repeats: int
    stride: int
    kernel_size: int = 3


def inverted_residual(
    x: Any,
    *,
    name: str,
    filters: int,
    expansion: float = 6,
    kernel_size: int = 3,
    strides: int = 1,
    activation: str = "relu6",
    se_ratio: float = 0.0,
    squeeze_channels: int | None = None,
    drop_rate: float = 0.0,
    residual: bool = True,
    bn_epsilon: float = TF_BN_EPSILON,
    bn_momentum: float = DEFAULT_BN_MOMENTUM,
    kernel_initializer: Initializer = FAN_OUT_INITIALIZER,
) -> Any:
    """Inverted residual with a linear bottleneck (MobileNet v2), a.k.a. MBConv (EfficientNet).

    1x1 expansion to ``in_channels * expansion`` (skipped when ``expansion == 1``) -> depthwise
    k x k conv with the stride -> optional squeeze-and-excitation (``squeeze_channels`` units,
    or ``max(1, int(in_channels * se_ratio))``: EfficientNet's fraction of the *input* width)
    -> linear 1x1 projection to ``filters`` -> identity shortcut when the shape allows and
    ``residual`` is set, with drop-connect (whole-sample dropout of the branch) at ``drop_rate``.
    Layers: ``{name}_expand_*``, ``{name}_dw_*``, ``{name}_se_*``, ``{name}_project_*``,
    ``{name}_drop``, ``{name}_add``.
    """
    in_channels = x.shape[-1]
    if expansion <= 0 or strides not in (1, 2) or kernel_size < 1 or not 0 <= drop_rate < 1:
        raise CvkitError(
            f"inverted_residual {name}: needs expansion > 0, strides 1 or 2, kernel_size >= 1 and "
            f"0 <= drop_rate < 1; got expansion={expansion}, strides={strides}, "
            f"kernel_size={kernel_size}, drop_rate={drop_rate}"
        )
    unit = {"bn_epsilon": bn_epsilon, "bn_momentum": bn_momentum, "kernel_initializer": kernel_initializer}
    inputs = x
    if expansion != 1:
        x = conv_bn_act(x, name=f"{name}_expand", filters=int(in_channels * expansion), kernel_size=1,
                        activation=activation, **unit)
    x = depthwise_bn_act(x, name=f"{name}_dw", kernel_size=kernel_size, strides=strides, activation=activation, **unit)
    if squeeze_channels is None and se_ratio > 0:
        squeeze_channels = max(1, int(in_channels * se_ratio))
    if squeeze_channels:
        x = squeeze_excite(x, name=f"{name}_se", squeeze_channels=squeeze_channels, activation=activation)
    x = conv_bn_act(x, name=f"{name}_project", filters=filters, kernel_size=1, activation=None, **unit)
    if residual and strides == 1 and in_channels == filters:
        if drop_rate > 0:
            x = keras.layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}_drop")(x)
        x = keras.layers.Add(name=f"{name}_add")([x, inputs])
    return x


def mbconv_stages(
    x: Any,
    stages: Sequence[MBConvStage],
    *,
    block_name: str = "block{index}",
    stride: int = 2,
    activation: str = "relu6",
    se_ratio: float = 0.0,
    drop_connect_rate: float = 0.0,
    bn_epsilon: float = TF_BN_EPSILON,
) -> tuple[Any, dict[int, Any], int]:
    """Stack ``stages`` of inverted residuals on ``x``, which sits at ``stride``.

    Blocks are named by ``block_name``, formatted with ``index`` (from 0, over all blocks),
    ``stage`` and ``repeat`` (both from 1): MobileNet v2's ``block{index}``, EfficientNet's
    ``block{stage}_{repeat}``. Drop-connect rises linearly from 0 at the first block to
    ``drop_connect_rate`` at the last. Returns the output, the map before each stride-2 block by
    its stride (where a feature pyramid taps), and the stride reached.
    """
    total = sum(stage.repeats for stage in stages)
    maps: dict[int, Any] = {}
    index = 0
    for stage_number, stage in enumerate(stages, start=1):
        for repeat in range(stage.repeats):
            block_stride = stage.stride if repeat == 0 else 1
            if block_stride == 2:
                maps[stride] = x
                stride *= 2
            x = inverted_residual(
                x, name=block_name.format(index=index, stage=stage_number, repeat=repeat + 1),
                filters=stage.filters, expansion=stage.expansion, kernel_size=stage.kernel_size,
                strides=block_stride, activation=activation, se_ratio=se_ratio,
                drop_rate=drop_connect_rate * index / total, bn_epsilon=bn_epsilon,
            )
            index += 1
    return x, maps, stride
