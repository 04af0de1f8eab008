"""Memory-efficient dense blocks (Pleiss et al., Memory-Efficient Implementation of DenseNets, 2017).

A dense layer's input is the concatenation of every earlier feature map, and its BN-ReLU output
is as wide again, so storing both for the backward pass makes a block's memory quadratic in its
depth. Here each dense layer's concatenation, BN-ReLU, 1x1 bottleneck conv and second BN-ReLU
run as one rematerialised segment (``keras.remat``): the backward pass keeps only the narrow
feature maps and recomputes the wide tensors from them, so memory grows linearly. The moving
statistics are updated outside the segment, so recomputing never updates them twice. Outputs
and gradients equal the plain block's.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from cvkit.layers import BN_EPSILON, conv_bn_act


@keras.saving.register_keras_serializable(package="cvkit_densenet")
class RecomputedBottleneck(keras.layers.Layer):
    """Concatenate -> BN (``{name}_0_bn``) -> ReLU -> 1x1 conv (``{name}_1_conv``) -> BN
    (``{name}_1_bn``) -> ReLU, recomputed in the backward pass.

    Takes the list of a block's feature maps so far; named after its dense layer
    (``conv2_block1``), so the BNs and the conv keep the plain layer's names.
    """

    def __init__(self, filters: int, epsilon: float = BN_EPSILON, momentum: float = 0.9, **kwargs: Any):
        super().__init__(**kwargs)
        self.filters = filters
        self.norm = keras.layers.BatchNormalization(epsilon=epsilon, momentum=momentum, name=f"{self.name}_0_bn")
        self.conv = keras.layers.Conv2D(filters, 1, padding="valid", use_bias=False,
                                        kernel_initializer="he_normal", name=f"{self.name}_1_conv")
        self.conv_norm = keras.layers.BatchNormalization(epsilon=epsilon, momentum=momentum, name=f"{self.name}_1_bn")

    def build(self, input_shape: list[tuple]) -> None:
        shape = (*input_shape[0][:-1], sum(s[-1] for s in input_shape))
        self.norm.build(shape)
        self.conv.build(shape)
        self.conv_norm.build((*shape[:-1], self.filters))

    def call(self, features: list[Any], training: bool | None = None) -> Any:
        training = bool(training)
        batch_stats = training and self.conv_norm.trainable
        if not (training and self.norm.trainable):
            mean, variance = self.norm.moving_mean, self.norm.moving_variance
        else:
            # BN's moments are per channel: those of the concatenation are the maps' own, joined
            moments = [ops.moments(ops.cast(f, "float32"), axes=[0, 1, 2]) for f in features]
            mean = ops.concatenate([m for m, _ in moments], axis=0)
            variance = ops.concatenate([v for _, v in moments], axis=0)
            _update_moving_statistics(self.norm, mean, variance)
        segment = self._segment(batch_stats)
        outputs, conv_mean, conv_variance = keras.remat(segment)(mean, variance, *features) if training \
            else segment(mean, variance, *features)
        if batch_stats:
            _update_moving_statistics(self.conv_norm, conv_mean, conv_variance)
        return outputs

    def _segment(self, batch_stats: bool) -> Any:
        """The recomputed function; it returns the second BN's statistics so that they are
        updated outside it, once."""
        def segment(mean: Any, variance: Any, *features: Any) -> tuple[Any, Any, Any]:
            x = _normalize(ops.concatenate(list(features), axis=-1), self.norm, mean, variance)
            x = ops.cast(self.conv(ops.relu(ops.cast(x, self.compute_dtype))), "float32")
            if batch_stats:
                conv_mean, conv_variance = ops.moments(x, axes=[0, 1, 2])
            else:
                conv_mean, conv_variance = self.conv_norm.moving_mean, self.conv_norm.moving_variance
            x = _normalize(x, self.conv_norm, conv_mean, conv_variance)
            return ops.relu(ops.cast(x, self.compute_dtype)), conv_mean, conv_variance

        return segment

    def compute_output_shape(self, input_shape: list[tuple]) -> tuple:
        return (*input_shape[0][:-1], self.filters)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filters": self.filters, "epsilon": self.norm.epsilon,
                "momentum": self.norm.momentum}


def _normalize(x: Any, norm: Any, mean: Any, variance: Any) -> Any:
    """``norm``'s batch normalisation of ``x`` with the given statistics, in float32 as Keras' BN."""
    return ops.batch_normalization(ops.cast(x, "float32"), ops.cast(mean, "float32"), ops.cast(variance, "float32"),
                                   axis=-1, offset=norm.beta, scale=norm.gamma, epsilon=norm.epsilon)


def _update_moving_statistics(norm: Any, mean: Any, variance: Any) -> None:
    """What Keras' BN does in training: a moving average with the layer's momentum."""
    momentum = norm.momentum
    norm.moving_mean.assign(norm.moving_mean * momentum + mean * (1.0 - momentum))
    norm.moving_variance.assign(norm.moving_variance * momentum + variance * (1.0 - momentum))


def efficient_dense_block(x: Any, *, name: str, layers: int, growth_rate: int, bottleneck_width: int = 4,
                          dropout: float = 0.0) -> Any:
    """``dense_block`` with each layer's concatenation, BN-ReLU and bottleneck recomputed.

    The layers and weights are the plain block's, except that ``{layer}_0_bn``,
    ``{layer}_1_conv`` and ``{layer}_1_bn`` live inside a ``{layer}`` layer; the block ends in one
    concatenation (``{last layer}_concat``).
    """
    features = [x]
    for i in range(layers):
        layer = f"{name}_block{i + 1}"
        y = RecomputedBottleneck(bottleneck_width * growth_rate, name=layer)(features)
        y = conv_bn_act(y, name=f"{layer}_2", filters=growth_rate, kernel_size=3, batch_norm=False, activation=None)
        if dropout:
            y = keras.layers.Dropout(dropout, name=f"{layer}_drop")(y)
        features.append(y)
    return keras.layers.Concatenate(name=f"{name}_block{layers}_concat")(features)
