"""Local response normalisation (AlexNet section 3.3), a layer without weights."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from cvkit.errors import CvkitError


@keras.saving.register_keras_serializable(package="cvkit")
class LocalResponseNormalization(keras.layers.Layer):
    """``b_c = a_c / (bias + alpha * sum_{c' near c} a_c'^2) ** beta`` over ``size`` adjacent channels.

    The paper's form (alpha is not divided by ``size``), as ``tf.nn.local_response_normalization``
    with ``depth_radius = size // 2``. Channels past the edges count as zero.
    """

    def __init__(self, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, bias: float = 2.0, **kwargs: Any):
        super().__init__(**kwargs)
        if int(size) < 1:
            raise CvkitError(f"local response normalisation size must be at least 1 channel, got {size}")
        self.size, self.alpha, self.beta, self.bias = int(size), float(alpha), float(beta), float(bias)

    def call(self, x: Any) -> Any:
        channels = x.shape[-1]
        before = (self.size - 1) // 2
        squared = ops.pad(ops.square(x), [[0, 0], [0, 0], [0, 0], [before, self.size - 1 - before]])
        total = squared[..., :channels]
        for offset in range(1, self.size):
            total = total + squared[..., offset:offset + channels]
        return x / ops.power(self.bias + self.alpha * total, self.beta)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "size": self.size, "alpha": self.alpha, "beta": self.beta, "bias": self.bias}


def local_response_norm(x: Any, *, name: str, size: int = 5, alpha: float = 1e-4, beta: float = 0.75,
                        bias: float = 2.0) -> Any:
    """AlexNet's local response normalisation across ``size`` adjacent channels (k=2, n=5,
    alpha=1e-4, beta=0.75 as in the paper); no weights. One layer, named ``name``."""
    return LocalResponseNormalization(size=size, alpha=alpha, beta=beta, bias=bias, name=name)(x)
