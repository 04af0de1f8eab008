"""MobileNet v1's depthwise-separable conv (v2's inverted residual is ``cvkit.layers.inverted_residual``)."""

from __future__ import annotations

from typing import Any

from cvkit.layers import FAN_OUT_INITIALIZER, TF_BN_EPSILON, conv_bn_act, depthwise_bn_act


def depthwise_separable(
    x: Any,
    *,
    name: str,
    filters: int,
    strides: int = 1,
    kernel_size: int = 3,
    depth_multiplier: int = 1,
    activation: str = "relu6",
    bn_epsilon: float = TF_BN_EPSILON,
) -> Any:
    """MobileNet v1's layer: depthwise k x k conv-BN-act, then pointwise 1x1 conv-BN-act.

    Layers: ``{name}_dw_conv/_bn/_act`` and ``{name}_pw_conv/_bn/_act``.
    """
    x = depthwise_bn_act(x, name=f"{name}_dw", kernel_size=kernel_size, strides=strides,
                         depth_multiplier=depth_multiplier, activation=activation, bn_epsilon=bn_epsilon)
    return conv_bn_act(x, name=f"{name}_pw", filters=filters, kernel_size=1, activation=activation,
                       bn_epsilon=bn_epsilon, kernel_initializer=FAN_OUT_INITIALIZER)
