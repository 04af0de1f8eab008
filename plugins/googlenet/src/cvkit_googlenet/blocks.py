"""GoogLeNet blocks: the inception module and the auxiliary classifier."""

from __future__ import annotations

from typing import Any

import keras

from cvkit.layers import adaptive_pool, conv_bn_act


def inception_module(
    x: Any,
    *,
    name: str,
    filters_1x1: int,
    filters_3x3_reduce: int,
    filters_3x3: int,
    filters_5x5_reduce: int,
    filters_5x5: int,
    filters_pool_proj: int,
    batch_norm: bool = False,
) -> Any:
    """Four parallel branches concatenated on channels: 1x1; 1x1 -> 3x3; 1x1 -> 5x5;
    3x3/1 max-pool -> 1x1. Every conv has a bias and a ReLU (``batch_norm=True`` puts BN in
    place of the bias). Layers: ``{name}_1x1_conv``, ``{name}_3x3_reduce_conv``... ``{name}_concat``.
    """
    def unit(y: Any, filters: int, kernel: int, suffix: str) -> Any:
        return conv_bn_act(y, name=f"{name}_{suffix}", filters=filters, kernel_size=kernel, use_bias=not batch_norm,
                           batch_norm=batch_norm)

    b1 = unit(x, filters_1x1, 1, "1x1")
    b2 = unit(unit(x, filters_3x3_reduce, 1, "3x3_reduce"), filters_3x3, 3, "3x3")
    b3 = unit(unit(x, filters_5x5_reduce, 1, "5x5_reduce"), filters_5x5, 5, "5x5")
    b4 = keras.layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    b4 = unit(b4, filters_pool_proj, 1, "pool_proj")
    return keras.layers.Concatenate(name=f"{name}_concat")([b1, b2, b3, b4])


def aux_classifier(x: Any, *, name: str, filters: int = 128, units: int = 1024, dropout: float = 0.7) -> Any:
    """The auxiliary pre-logits: 5x5/3 avg-pool -> 1x1 conv (ReLU) -> FC (ReLU) -> dropout.

    At 224x224 the 14x14 map pools to 4x4; at other sizes the map is pooled adaptively to 4x4,
    so the FC layer keeps the paper's 2048 inputs.
    """
    height, width = x.shape[1:3]
    if height is not None and width is not None and (height - 5) // 3 + 1 == 4 and (width - 5) // 3 + 1 == 4:
        x = keras.layers.AveragePooling2D(5, strides=3, name=f"{name}_pool")(x)
    else:
        x = adaptive_pool(x, name=f"{name}_pool", size=4)
    x = conv_bn_act(x, name=name, filters=filters, kernel_size=1, use_bias=True, batch_norm=False)
    x = keras.layers.Flatten(name=f"{name}_flatten")(x)
    x = keras.layers.Dense(units, activation="relu", name=f"{name}_fc")(x)
    return keras.layers.Dropout(dropout, name=f"{name}_dropout")(x)
