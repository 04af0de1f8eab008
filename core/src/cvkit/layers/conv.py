"""Convolution units: conv-BN-activation, BN-activation, depthwise conv-BN-activation, SE, channel rounding."""

from __future__ import annotations

from typing import Any

import keras

from cvkit.models.batchnorm import DEFAULT_BN_MOMENTUM

# BatchNorm epsilons by origin, each defined once: keras.applications' ResNet and DenseNet,
# torchvision, and the TensorFlow references of MobileNet, Inception and EfficientNet.
BN_EPSILON = 1.001e-5
TORCH_BN_EPSILON = 1e-5
TF_BN_EPSILON = 1e-3

Initializer = str | dict[str, Any]

# He initialisation on the fan-out, as the EfficientNet and MnasNet reference code does: for a
# depthwise kernel the fan-in counts every input channel, which would make it far too small.
FAN_OUT_INITIALIZER: dict[str, Any] = {
    "class_name": "VarianceScaling",
    "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"},
}


def bn_act(
    x: Any,
    *,
    name: str,
    activation: str | None = "relu",
    bn_epsilon: float = BN_EPSILON,
    bn_momentum: float = DEFAULT_BN_MOMENTUM,
    bn_scale: bool = True,
    act_suffix: str = "act",
) -> Any:
    """BN (``{name}_bn``), then the activation (``{name}_{act_suffix}``) when there is one.

    Pre-activation networks (DenseNet) put this before their convolutions.
    """
    x = keras.layers.BatchNormalization(epsilon=bn_epsilon, momentum=bn_momentum, scale=bn_scale, name=f"{name}_bn")(x)
    if activation:
        x = keras.layers.Activation(activation, name=f"{name}_{act_suffix}")(x)
    return x


def conv_bn_act(
    x: Any,
    *,
    name: str,
    filters: int,
    kernel_size: int | tuple[int, int] = 3,
    strides: int | tuple[int, int] = 1,
    padding: str = "same",
    groups: int = 1,
    activation: str | None = "relu",
    use_bias: bool = False,
    batch_norm: bool = True,
    bn_epsilon: float = BN_EPSILON,
    bn_momentum: float = DEFAULT_BN_MOMENTUM,
    bn_scale: bool = True,
    kernel_initializer: Initializer = "he_normal",
    act_suffix: str = "act",
) -> Any:
    """Conv -> BN -> activation, with layers named ``{name}_conv``, ``{name}_bn``, ``{name}_act``.

    ``batch_norm=False`` leaves the BN out (plain networks keep the conv bias then:
    ``use_bias=True``); ``activation=None`` leaves the activation out. ``act_suffix`` renames
    the activation layer (Inception and DenseNet call it ``{name}_relu``).
    """
    x = keras.layers.Conv2D(
        filters, kernel_size, strides=strides, padding=padding, groups=groups, use_bias=use_bias,
        kernel_initializer=kernel_initializer, name=f"{name}_conv",
    )(x)
    if batch_norm:
        return bn_act(x, name=name, activation=activation, bn_epsilon=bn_epsilon, bn_momentum=bn_momentum,
                      bn_scale=bn_scale, act_suffix=act_suffix)
    if activation:
        x = keras.layers.Activation(activation, name=f"{name}_{act_suffix}")(x)
    return x


def depthwise_bn_act(
    x: Any,
    *,
    name: str,
    kernel_size: int = 3,
    strides: int = 1,
    depth_multiplier: int = 1,
    activation: str | None = "relu6",
    bn_epsilon: float = TF_BN_EPSILON,
    bn_momentum: float = DEFAULT_BN_MOMENTUM,
    kernel_initializer: Initializer = FAN_OUT_INITIALIZER,
) -> Any:
    """Depthwise conv (one k x k filter per channel, 'same' padding, no bias) -> BN -> activation.

    Layers: ``{name}_conv``, ``{name}_bn``, ``{name}_act``.
    """
    x = keras.layers.DepthwiseConv2D(
        kernel_size, strides=strides, padding="same", depth_multiplier=depth_multiplier,
        use_bias=False, depthwise_initializer=kernel_initializer, name=f"{name}_conv",
    )(x)
    return bn_act(x, name=name, activation=activation, bn_epsilon=bn_epsilon, bn_momentum=bn_momentum)


def squeeze_excite(
    x: Any,
    *,
    name: str,
    reduction: int | None = 16,
    squeeze_channels: int | None = None,
    activation: str = "relu",
    gate: str = "sigmoid",
) -> Any:
    """Squeeze (global average pool) -> FC C/r -> act -> FC C -> gate -> channel rescale.

    Give either ``reduction`` (r) or the exact ``squeeze_channels`` (EfficientNet uses a
    fraction of the block's input width). Layers: ``{name}_squeeze``, ``{name}_reduce``,
    ``{name}_expand``, ``{name}_excite``.
    """
    channels = x.shape[-1]
    squeezed = squeeze_channels or max(1, channels // reduction)
    s = keras.layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_squeeze")(x)
    s = keras.layers.Conv2D(squeezed, 1, activation=activation, name=f"{name}_reduce")(s)
    s = keras.layers.Conv2D(channels, 1, activation=gate, name=f"{name}_expand")(s)
    return keras.layers.Multiply(name=f"{name}_excite")([x, s])


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round a channel count to the nearest multiple of ``divisor`` (at least ``divisor``),
    never dropping below 90% of ``value``: MobileNet's and EfficientNet's width rounding."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return int(rounded)
