"""DenseNet blocks: the dense layer, the dense block and the transition."""

from __future__ import annotations

from typing import Any

import keras

BN_EPSILON = 1.001e-5


def bn_relu(x: Any, name: str) -> Any:
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_bn")(x)
    return keras.layers.Activation("relu", name=f"{name}_relu")(x)


def dense_layer(x: Any, *, name: str, growth_rate: int, bottleneck_width: int = 4, dropout: float = 0.0) -> Any:
    """BN-ReLU-1x1 conv(4k)-BN-ReLU-3x3 conv(k), concatenated onto its input."""
    y = bn_relu(x, f"{name}_0")
    y = keras.layers.Conv2D(bottleneck_width * growth_rate, 1, use_bias=False, kernel_initializer="he_normal", name=f"{name}_1_conv")(y)
    y = bn_relu(y, f"{name}_1")
    y = keras.layers.Conv2D(growth_rate, 3, padding="same", use_bias=False, kernel_initializer="he_normal", name=f"{name}_2_conv")(y)
    if dropout:
        y = keras.layers.Dropout(dropout, name=f"{name}_drop")(y)
    return keras.layers.Concatenate(name=f"{name}_concat")([x, y])


def dense_block(x: Any, *, name: str, layers: int, growth_rate: int, bottleneck_width: int = 4, dropout: float = 0.0) -> Any:
    """``layers`` dense layers; every layer sees the maps of all layers before it."""
    for i in range(layers):
        x = dense_layer(x, name=f"{name}_block{i + 1}", growth_rate=growth_rate,
                        bottleneck_width=bottleneck_width, dropout=dropout)
    return x


def transition(x: Any, *, name: str, compression: float = 0.5) -> Any:
    """BN-ReLU-1x1 conv (compressing channels) - 2x2 average pool."""
    x = bn_relu(x, name)
    filters = int(x.shape[-1] * compression)
    x = keras.layers.Conv2D(filters, 1, use_bias=False, kernel_initializer="he_normal", name=f"{name}_conv")(x)
    return keras.layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)
