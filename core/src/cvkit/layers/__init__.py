"""Generic layers every plugin imports directly: ``from cvkit.layers import conv_bn_act``.

Architecture-specific blocks stay in their plugin; what several families share lives here,
once. Every function takes the tensor first and a ``name`` that prefixes its layers' names, so
trained weights load by name. Importing this module imports Keras.
"""

from __future__ import annotations

from cvkit.layers.conv import (
    BN_EPSILON,
    FAN_OUT_INITIALIZER,
    TF_BN_EPSILON,
    TORCH_BN_EPSILON,
    bn_act,
    conv_bn_act,
    depthwise_bn_act,
    make_divisible,
    squeeze_excite,
)
from cvkit.layers.mbconv import MBConvStage, inverted_residual, mbconv_stages
from cvkit.layers.normalization import LocalResponseNormalization, local_response_norm
from cvkit.layers.pooling import adaptive_pool, fc_trunk, global_pool

__all__ = [
    "BN_EPSILON", "FAN_OUT_INITIALIZER", "TF_BN_EPSILON", "TORCH_BN_EPSILON",
    "LocalResponseNormalization", "MBConvStage", "adaptive_pool", "bn_act", "conv_bn_act",
    "depthwise_bn_act", "fc_trunk", "global_pool", "inverted_residual", "local_response_norm",
    "make_divisible", "mbconv_stages", "squeeze_excite",
]
