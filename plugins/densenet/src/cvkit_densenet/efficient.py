"""Memory-efficient dense blocks (Pleiss et al., Memory-Efficient Implementation of DenseNets, 2017).

A dense layer's input is the concatenation of every earlier feature map, and its BN-ReLU output
is as wide again, so storing both for the backward pass makes a block's memory quadratic in its
depth. Here each dense layer's concatenation, BN, ReLU and 1x1 bottleneck conv run as one
rematerialised segment (``keras.remat``): the backward pass keeps only the narrow feature maps
and recomputes the wide tensors from them, so memory grows linearly. The batch statistics are
computed outside the segment, so recomputing never updates BN's moving statistics twice and
skips the reductions. Outputs and gradients equal the plain block's.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from cvkit.layers import BN_EPSILON, bn_act, conv_bn_act


@keras.saving.register_keras_serializable(package="cvkit_densenet")
class RecomputedBottleneck(keras.layers.Layer):
    """Concatenate -> BN (``{name}_0_bn``) -> ReLU -> 1x1 conv (``{name}_1_conv``), recomputed
    in the backward pass. Takes the list of a block's feature maps so far; named after its
    dense layer (``conv2_block1``), so the BN and conv keep the plain layer's names."""

    def __init__(self, filters: int, epsilon: float = BN_EPSILON, momentum: float = 0.9, **kwargs: Any):
        super().__init__(**kwargs)
        self.filters = filters
        self.norm = keras.layers.BatchNormalization(epsilon=epsilon, momentum=momentum, name=f"{self.name}_0_bn")
        self.conv = keras.layers.Conv2D(filters, 1, padding="valid", use_bias=False,
                                        kernel_initializer="he_normal", name=f"{self.name}_1_conv")

    def build(self, input_shape: list[tuple]) -> None:
        shape = (*input_shape[0][:-1], sum(s[-1] for s in input_shape))
        self.norm.build(shape)
        self.conv.build(shape)

    def call(self, features: list[Any], training: bool | None = None) -> Any:
        training = bool(training) and self.norm.trainable
        if not training:
            return self._bottleneck(ops.cast(self.norm.moving_mean, "float32"),
                                    ops.cast(self.norm.moving_variance, "float32"), *features)
        # BN's moments are per channel, so those of the concatenation are the maps' own, joined
        moments = [ops.moments(ops.cast(f, "float32"), axes=[0, 1, 2]) for f in features]
        mean = ops.concatenate([m for m, _ in moments], axis=0)
        variance = ops.concatenate([v for _, v in moments], axis=0)
        momentum = self.norm.momentum
        self.norm.moving_mean.assign(self.norm.moving_mean * momentum + mean * (1.0 - momentum))
        self.norm.moving_variance.assign(self.norm.moving_variance * momentum + variance * (1.0 - momentum))
        return keras.remat(self._bottleneck)(mean, variance, *features)

    def _bottleneck(self, mean: Any, variance: Any, *features: Any) -> Any:
        x = ops.cast(ops.concatenate(list(features), axis=-1), "float32")
        x = ops.batch_normalization(x, mean, variance, axis=-1, offset=self.norm.beta,
                                    scale=self.norm.gamma, epsilon=self.norm.epsilon)
        return self.conv(ops.relu(ops.cast(x, self.compute_dtype)))

    def compute_output_shape(self, input_shape: list[tuple]) -> tuple:
        return (*input_shape[0][:-1], self.filters)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filters": self.filters, "epsilon": self.norm.epsilon,
                "momentum": self.norm.momentum}


def efficient_dense_block(x: Any, *, name: str, layers: int, growth_rate: int, bottleneck_width: int = 4,
                          dropout: float = 0.0) -> Any:
    """``dense_block`` with each layer's concatenation, BN-ReLU and bottleneck recomputed.

    The layers and weights are the plain block's, except that ``{layer}_0_bn`` and
    ``{layer}_1_conv`` live inside a ``{layer}`` layer; the block ends in one
    concatenation (``{last layer}_concat``).
    """
    features = [x]
    for i in range(layers):
        layer = f"{name}_block{i + 1}"
        y = RecomputedBottleneck(bottleneck_width * growth_rate, name=layer)(features)
        y = bn_act(y, name=f"{layer}_1", act_suffix="relu")
        y = conv_bn_act(y, name=f"{layer}_2", filters=growth_rate, kernel_size=3, batch_norm=False, activation=None)
        if dropout:
            y = keras.layers.Dropout(dropout, name=f"{layer}_drop")(y)
        features.append(y)
    return keras.layers.Concatenate(name=f"{name}_block{layers}_concat")(features)
