"""ResNet blocks: the stem, the basic block and the (grouped, squeeze-excited) bottleneck.

Layer names follow keras.applications: ``conv3_block2_1_conv``, ``conv3_block2_1_bn``...
(``_0_`` is the projection shortcut, ``_1_``, ``_2_``, ``_3_`` the residual branch).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import keras

import cvkit
from cvkit.layers import conv_bn_act, squeeze_excite
from cvkit_resnet.backbone import check_groups, check_stride_on

TORCH_BN_EPSILON = 1e-5  # torchvision's, so ported weights normalise alike

# The stem's, shortcuts' and bottlenecks' convs: 1x1 unless told otherwise.
_conv_bn = partial(conv_bn_act, kernel_size=1, bn_epsilon=TORCH_BN_EPSILON)


def stem(x: Any, *, filters: int) -> tuple[Any, Any]:
    """7x7/2 conv-BN-ReLU, then 3x3/2 max-pool; returns both (the conv's map is stride 2)."""
    x = keras.layers.ZeroPadding2D(3, name="conv1_pad")(x)
    conv1 = _conv_bn(x, name="conv1", filters=filters, kernel_size=7, strides=2, padding="valid")
    x = keras.layers.ZeroPadding2D(1, name="pool1_pad")(conv1)
    return conv1, keras.layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)


def conv3x3_bn(x: Any, *, name: str, filters: int, strides: int = 1, groups: int = 1,
               activation: str | None = "relu", conv3x3_block: str | None = None) -> Any:
    """3x3 conv (plain, or the registered block ``conv3x3_block``) -> BN -> activation.

    A strided conv pads one pixel on every side first (``{name}_pad``), as torchvision does, so
    ported weights see the same pixels. A replacement block is called as
    ``block(x, name=name, filters=, kernel_size=3, strides=, padding=, groups=)`` and must name
    its layer ``{name}_conv``.
    """
    padding = "same"
    if strides > 1:
        x = keras.layers.ZeroPadding2D(1, name=f"{name}_pad")(x)
        padding = "valid"
    if conv3x3_block is None:
        return _conv_bn(x, name=name, filters=filters, kernel_size=3, strides=strides, padding=padding,
                        groups=groups, activation=activation)
    x = cvkit.get_block(conv3x3_block)(
        x, name=name, filters=filters, kernel_size=3, strides=strides, padding=padding, groups=groups,
    )
    x = keras.layers.BatchNormalization(epsilon=TORCH_BN_EPSILON, name=f"{name}_bn")(x)
    if activation:
        x = keras.layers.Activation(activation, name=f"{name}_act")(x)
    return x


def _merge(x: Any, y: Any, *, name: str, filters: int, strides: int, se_ratio: int) -> Any:
    """(SE on the residual) + shortcut (projected when the shape changes) -> ReLU."""
    if se_ratio:
        y = squeeze_excite(y, name=f"{name}_se", reduction=se_ratio)
    if strides != 1 or x.shape[-1] != filters:
        x = _conv_bn(x, name=f"{name}_0", filters=filters, strides=strides, activation=None)
    y = keras.layers.Add(name=f"{name}_add")([x, y])
    return keras.layers.Activation("relu", name=f"{name}_out")(y)


def basic_block(x: Any, *, name: str, filters: int, strides: int = 1, se_ratio: int = 0,
                conv3x3_block: str | None = None) -> Any:
    """Two 3x3 convs (the first strided) plus the shortcut: ResNet-18/34."""
    y = conv3x3_bn(x, name=f"{name}_1", filters=filters, strides=strides, conv3x3_block=conv3x3_block)
    y = conv3x3_bn(y, name=f"{name}_2", filters=filters, activation=None, conv3x3_block=conv3x3_block)
    return _merge(x, y, name=name, filters=filters, strides=strides, se_ratio=se_ratio)


def bottleneck(x: Any, *, name: str, filters: int, strides: int = 1, groups: int = 1,
               width: int | None = None, expansion: int = 4, stride_on: str = "3x3",
               se_ratio: int = 0, conv3x3_block: str | None = None) -> Any:
    """1x1 reduce -> 3x3 (``groups`` groups, ``width`` wide) -> 1x1 expand to ``filters * expansion``.

    ``stride_on="3x3"`` downsamples in the 3x3 conv (torchvision, "ResNet v1.5"); ``"1x1"``
    in the first 1x1 conv (the paper). ``se_ratio`` > 0 squeeze-excites the residual before
    the addition (SE-ResNet); ``groups`` > 1 makes it a ResNeXt block.
    """
    width = width or filters
    check_groups(groups, width)
    check_stride_on(stride_on)
    s1, s3 = (strides, 1) if stride_on == "1x1" else (1, strides)
    y = _conv_bn(x, name=f"{name}_1", filters=width, strides=s1)
    y = conv3x3_bn(y, name=f"{name}_2", filters=width, strides=s3, groups=groups, conv3x3_block=conv3x3_block)
    y = _conv_bn(y, name=f"{name}_3", filters=filters * expansion, activation=None)
    return _merge(x, y, name=name, filters=filters * expansion, strides=strides, se_ratio=se_ratio)
