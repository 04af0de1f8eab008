"""Generic layers every plugin imports directly: ``from cvkit.layers import conv_bn_act``.

Architecture-specific blocks stay in their plugin; what several families share lives here, once.
"""

from __future__ import annotations

from typing import Any

import keras

from cvkit.models.batchnorm import DEFAULT_BN_MOMENTUM

BN_EPSILON = 1.001e-5


def conv_bn_act(
    x: Any,
    *,
    name: str,
    filters: int,
    kernel_size: int | tuple[int, int] = 3,
    strides: int = 1,
    padding: str = "same",
    groups: int = 1,
    activation: str | None = "relu",
    use_bias: bool = False,
    batch_norm: bool = True,
    bn_epsilon: float = BN_EPSILON,
    bn_momentum: float = DEFAULT_BN_MOMENTUM,
    bn_scale: bool = True,
    kernel_initializer: str = "he_normal",
) -> Any:
    """Conv -> BN -> activation, with layers named ``{name}_conv``, ``{name}_bn``, ``{name}_act``."""
    x = keras.layers.Conv2D(
        filters, kernel_size, strides=strides, padding=padding, groups=groups, use_bias=use_bias,
        kernel_initializer=kernel_initializer, name=f"{name}_conv",
    )(x)
    if batch_norm:
        x = keras.layers.BatchNormalization(epsilon=bn_epsilon, momentum=bn_momentum, scale=bn_scale, name=f"{name}_bn")(x)
    if activation:
        x = keras.layers.Activation(activation, name=f"{name}_act")(x)
    return x


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
    fraction of the block's input width).
    """
    channels = x.shape[-1]
    squeezed = squeeze_channels or max(1, channels // reduction)
    s = keras.layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_squeeze")(x)
    s = keras.layers.Conv2D(squeezed, 1, activation=activation, name=f"{name}_reduce")(s)
    s = keras.layers.Conv2D(channels, 1, activation=gate, name=f"{name}_expand")(s)
    return keras.layers.Multiply(name=f"{name}_excite")([x, s])
