"""DenseNet blocks: the dense layer, the dense block and the transition."""

from __future__ import annotations

from typing import Any

import keras

from cvkit.layers import bn_act, conv_bn_act
from cvkit_densenet.efficient import efficient_dense_block

# keras.applications' DenseNet names its activations ``{name}_relu``.
RELU = {"act_suffix": "relu"}
CONV_ONLY = {"batch_norm": False, "activation": None}


def bn_relu(x: Any, name: str) -> Any:
    """BN -> ReLU (``{name}_bn``, ``{name}_relu``), before a pre-activation conv."""
    return bn_act(x, name=name, **RELU)


def dense_layer(x: Any, *, name: str, growth_rate: int, bottleneck_width: int = 4, dropout: float = 0.0) -> Any:
    """BN-ReLU-1x1 conv(4k)-BN-ReLU-3x3 conv(k), concatenated onto its input."""
    y = bn_relu(x, f"{name}_0")
    y = conv_bn_act(y, name=f"{name}_1", filters=bottleneck_width * growth_rate, kernel_size=1, padding="valid", **RELU)
    y = conv_bn_act(y, name=f"{name}_2", filters=growth_rate, kernel_size=3, **CONV_ONLY)
    if dropout:
        y = keras.layers.Dropout(dropout, name=f"{name}_drop")(y)
    return keras.layers.Concatenate(name=f"{name}_concat")([x, y])


def dense_block(x: Any, *, name: str, layers: int, growth_rate: int, bottleneck_width: int = 4, dropout: float = 0.0,
                memory_efficient: bool = False) -> Any:
    """``layers`` dense layers; every layer sees the maps of all layers before it.

    ``memory_efficient`` recomputes each layer's concatenation, BN-ReLUs and bottleneck conv
    in the backward pass instead of storing them (``cvkit_densenet.efficient``).
    """
    if memory_efficient:
        return efficient_dense_block(x, name=name, layers=layers, growth_rate=growth_rate,
                                     bottleneck_width=bottleneck_width, dropout=dropout)
    for i in range(layers):
        x = dense_layer(x, name=f"{name}_block{i + 1}", growth_rate=growth_rate,
                        bottleneck_width=bottleneck_width, dropout=dropout)
    return x


def transition(x: Any, *, name: str, compression: float = 0.5) -> Any:
    """BN-ReLU-1x1 conv (compressing channels) - 2x2 average pool."""
    x = bn_relu(x, name)
    filters = int(x.shape[-1] * compression)
    x = conv_bn_act(x, name=name, filters=filters, kernel_size=1, padding="valid", **CONV_ONLY)
    return keras.layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)
