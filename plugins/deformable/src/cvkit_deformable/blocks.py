"""The deformable conv block: a user picks it by name as a ResNet's ``conv3x3_block``."""

from __future__ import annotations

from typing import Any

from cvkit_deformable.layers import DeformableConv2D


def deformable_conv(x: Any, *, name: str, filters: int, kernel_size: int = 3, strides: int = 1,
                    padding: str = "same", groups: int = 1, dilation_rate: int = 1,
                    use_bias: bool = False) -> Any:
    """A drop-in for a conv layer: one :class:`DeformableConv2D` named ``{name}_conv``.

    Takes the arguments a ResNet 3x3 conv takes (``cvkit_resnet``'s ``conv3x3_block``);
    ``use_bias`` defaults to False because a batch norm usually follows.
    """
    return DeformableConv2D(
        filters, kernel_size, strides=strides, padding=padding, groups=groups,
        dilation_rate=dilation_rate, use_bias=use_bias, name=f"{name}_conv",
    )(x)
