"""MobileNet blocks: the depthwise-separable conv (v1) and the inverted residual / MBConv (v2).

``inverted_residual`` is general enough for EfficientNet (kernel 5, swish, squeeze-and-excitation,
drop-connect), which fetches it with ``cvkit.get_block("inverted_residual")``.
"""

from __future__ import annotations

from typing import Any

import keras

from cvkit import CvkitError, get_block

BN_EPSILON = 1e-3
BN_MOMENTUM = 0.99
# He initialisation on the fan-out, as the EfficientNet and MnasNet reference code does: for a
# depthwise kernel the fan-in counts every input channel, which would make it far too small.
CONV_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"},
}


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round a channel count to the nearest multiple of ``divisor``, never dropping below 90%."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return int(rounded)


def bn_act(x: Any, name: str, *, activation: str | None, bn_epsilon: float, bn_momentum: float) -> Any:
    """BatchNorm (``{name}_bn``), then the activation (``{name}_act``) when there is one."""
    x = keras.layers.BatchNormalization(epsilon=bn_epsilon, momentum=bn_momentum, name=f"{name}_bn")(x)
    if activation:
        x = keras.layers.Activation(activation, name=f"{name}_act")(x)
    return x


def conv_bn_act(
    x: Any,
    *,
    name: str,
    filters: int,
    kernel_size: int = 1,
    strides: int = 1,
    activation: str | None = "relu6",
    bn_epsilon: float = BN_EPSILON,
    bn_momentum: float = BN_MOMENTUM,
    kernel_initializer: str | dict = CONV_INITIALIZER,
) -> Any:
    """Core's conv (no bias, 'same' padding) -> BN -> activation, with MobileNet's defaults."""
    return get_block("conv_bn_act")(
        x, name=name, filters=filters, kernel_size=kernel_size, strides=strides, activation=activation,
        bn_epsilon=bn_epsilon, bn_momentum=bn_momentum, kernel_initializer=kernel_initializer,
    )


def depthwise_bn_act(
    x: Any,
    *,
    name: str,
    kernel_size: int = 3,
    strides: int = 1,
    depth_multiplier: int = 1,
    activation: str | None = "relu6",
    bn_epsilon: float = BN_EPSILON,
    bn_momentum: float = BN_MOMENTUM,
    kernel_initializer: str | dict = CONV_INITIALIZER,
) -> Any:
    """Depthwise conv (one k x k filter per channel, 'same' padding) -> BN -> activation."""
    x = keras.layers.DepthwiseConv2D(
        kernel_size, strides=strides, padding="same", depth_multiplier=depth_multiplier,
        use_bias=False, depthwise_initializer=kernel_initializer, name=f"{name}_conv",
    )(x)
    return bn_act(x, name, activation=activation, bn_epsilon=bn_epsilon, bn_momentum=bn_momentum)


def depthwise_separable(
    x: Any,
    *,
    name: str,
    filters: int,
    strides: int = 1,
    kernel_size: int = 3,
    depth_multiplier: int = 1,
    activation: str = "relu6",
    bn_epsilon: float = BN_EPSILON,
    bn_momentum: float = BN_MOMENTUM,
) -> Any:
    """MobileNet v1's layer: depthwise k x k conv-BN-act, then pointwise 1x1 conv-BN-act.

    Layers: ``{name}_dw_conv/_bn/_act`` and ``{name}_pw_conv/_bn/_act``.
    """
    bn = {"bn_epsilon": bn_epsilon, "bn_momentum": bn_momentum}
    x = depthwise_bn_act(x, name=f"{name}_dw", kernel_size=kernel_size, strides=strides,
                         depth_multiplier=depth_multiplier, activation=activation, **bn)
    return conv_bn_act(x, name=f"{name}_pw", filters=filters, activation=activation, **bn)


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
    bn_epsilon: float = BN_EPSILON,
    bn_momentum: float = BN_MOMENTUM,
    kernel_initializer: str | dict = CONV_INITIALIZER,
) -> Any:
    """Inverted residual with a linear bottleneck (MobileNet v2), a.k.a. MBConv (EfficientNet).

    1x1 expansion to ``in_channels * expansion`` (skipped when ``expansion == 1``) -> depthwise
    k x k conv with the stride -> optional squeeze-and-excitation -> linear 1x1 projection to
    ``filters`` (BN, no activation) -> identity shortcut when the shape allows and ``residual``
    is set, with drop-connect (whole-sample dropout of the residual branch) at ``drop_rate``.

    Squeeze-and-excitation uses core's ``squeeze_excite`` block: ``squeeze_channels`` units, or
    ``max(1, int(in_channels * se_ratio))`` when only ``se_ratio`` is given (EfficientNet's
    rule: the fraction is of the block's *input* width), with the block's activation.
    """
    in_channels = x.shape[-1]
    if expansion <= 0 or strides not in (1, 2) or kernel_size < 1 or not 0 <= drop_rate < 1:
        raise CvkitError(
            f"inverted_residual {name}: needs expansion > 0, strides 1 or 2, kernel_size >= 1 and "
            f"0 <= drop_rate < 1; got expansion={expansion}, strides={strides}, "
            f"kernel_size={kernel_size}, drop_rate={drop_rate}"
        )
    bn = {"bn_epsilon": bn_epsilon, "bn_momentum": bn_momentum}
    inputs = x
    if expansion != 1:
        x = conv_bn_act(x, name=f"{name}_expand", filters=int(in_channels * expansion),
                        activation=activation, kernel_initializer=kernel_initializer, **bn)
    x = depthwise_bn_act(x, name=f"{name}_dw", kernel_size=kernel_size, strides=strides,
                         activation=activation, kernel_initializer=kernel_initializer, **bn)
    if squeeze_channels is None and se_ratio > 0:
        squeeze_channels = max(1, int(in_channels * se_ratio))
    if squeeze_channels:
        x = get_block("squeeze_excite")(x, name=f"{name}_se", squeeze_channels=squeeze_channels,
                                        activation=activation)
    x = conv_bn_act(x, name=f"{name}_project", filters=filters, activation=None,
                    kernel_initializer=kernel_initializer, **bn)
    if residual and strides == 1 and in_channels == filters:
        if drop_rate > 0:
            x = keras.layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}_drop")(x)
        x = keras.layers.Add(name=f"{name}_add")([x, inputs])
    return x
