"""The DenseNet backbone builder."""

from __future__ import annotations

from typing import Any

import keras

from cvkit import CvkitError, Features
from cvkit.layers import conv_bn_act, global_pool
from cvkit_densenet.blocks import CONV_ONLY, RELU, bn_relu, dense_block, transition


def build_densenet(
    inputs: Any,
    *,
    include_top: bool,
    blocks: list[int],
    growth_rate: int,
    bottleneck_width: int,
    compression: float,
    stem: str,
    stem_filters: int,
    dropout: float,
    memory_efficient: bool = False,
) -> Features:
    """DenseNet: a stem, dense blocks joined by transitions, BN-ReLU at the end.

    The ImageNet stem (7x7/2 conv, 3x3/2 max-pool) puts the first block at stride 4; the CIFAR
    stem (one 3x3 conv) keeps stride 1, so DenseNet-BC's three blocks sit at strides 1, 2, 4.
    ``memory_efficient`` trades recomputation for memory in the dense blocks (Pleiss et al.).
    """
    if growth_rate < 1 or not blocks or min(blocks) < 1:
        raise CvkitError("densenet needs growth_rate >= 1 and at least one block of >= 1 layers")
    if not 0 < compression <= 1:
        raise CvkitError(f"densenet compression must be in (0, 1], got {compression}")
    if stem not in ("imagenet", "cifar"):
        raise CvkitError(f"densenet stem must be 'imagenet' or 'cifar', got {stem!r}")

    maps: dict[int, Any] = {}
    if stem == "imagenet":
        x = keras.layers.ZeroPadding2D(3, name="stem_pad")(inputs)
        x = conv_bn_act(x, name="stem", filters=stem_filters, kernel_size=7, strides=2, padding="valid", **RELU)
        maps[2] = x
        x = keras.layers.ZeroPadding2D(1, name="stem_pool_pad")(x)
        x = keras.layers.MaxPooling2D(3, strides=2, name="stem_pool")(x)
        stride = 4
    else:
        x = conv_bn_act(inputs, name="stem", filters=stem_filters, kernel_size=3, **CONV_ONLY)
        stride = 1

    for i, layers in enumerate(blocks):
        x = dense_block(x, name=f"conv{i + 2}", layers=layers, growth_rate=growth_rate,
                        bottleneck_width=bottleneck_width, dropout=dropout, memory_efficient=memory_efficient)
        if i < len(blocks) - 1:
            if stride >= 2:
                maps[stride] = x
            x = transition(x, name=f"pool{i + 2}", compression=compression)
            stride *= 2
    x = bn_relu(x, "final")
    maps[stride] = x
    pooled = global_pool(x, "avg_pool") if include_top else None
    return Features(maps=maps, pooled=pooled)
