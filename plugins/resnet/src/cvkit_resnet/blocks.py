"""ResNet blocks: the basic block, the (grouped, squeeze-excited) bottleneck and the whole body.

Layer names follow keras.applications: ``conv3_block2_1_conv``, ``conv3_block2_1_bn``...
(``_0_`` is the projection shortcut, ``_1_``, ``_2_``, ``_3_`` the residual branch).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras

import cvkit
from cvkit import CvkitError, Features

BLOCK_TYPES = ("basic", "bottleneck")
STRIDE_CHOICES = ("3x3", "1x1")


def _conv_bn(x: Any, *, name: str, filters: int, kernel_size: int = 1, strides: int = 1,
             padding: str = "same", activation: str | None = "relu") -> Any:
    return cvkit.get_block("conv_bn_act")(
        x, name=name, filters=filters, kernel_size=kernel_size, strides=strides, padding=padding,
        activation=activation, bn_epsilon=1e-5,
    )


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
        return cvkit.get_block("conv_bn_act")(
            x, name=name, filters=filters, kernel_size=3, strides=strides, padding=padding,
            groups=groups, activation=activation, bn_epsilon=1e-5,
        )
    x = cvkit.get_block(conv3x3_block)(
        x, name=name, filters=filters, kernel_size=3, strides=strides, padding=padding, groups=groups,
    )
    x = keras.layers.BatchNormalization(epsilon=1e-5, name=f"{name}_bn")(x)
    if activation:
        x = keras.layers.Activation(activation, name=f"{name}_act")(x)
    return x


def _merge(x: Any, y: Any, *, name: str, filters: int, strides: int, se_ratio: int) -> Any:
    """(SE on the residual) + shortcut (projected when the shape changes) -> ReLU."""
    if se_ratio:
        y = cvkit.get_block("squeeze_excite")(y, name=f"{name}_se", reduction=se_ratio)
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
    if stride_on not in STRIDE_CHOICES:
        raise CvkitError(f"stride_on must be one of {', '.join(STRIDE_CHOICES)}, got {stride_on!r}")
    s1, s3 = (strides, 1) if stride_on == "1x1" else (1, strides)
    y = _conv_bn(x, name=f"{name}_1", filters=width, strides=s1)
    y = conv3x3_bn(y, name=f"{name}_2", filters=width, strides=s3, groups=groups, conv3x3_block=conv3x3_block)
    y = _conv_bn(y, name=f"{name}_3", filters=filters * expansion, activation=None)
    return _merge(x, y, name=name, filters=filters * expansion, strides=strides, se_ratio=se_ratio)


def check_groups(groups: int, width: int) -> None:
    """The cardinality must split the 3x3 conv's channels evenly."""
    if not isinstance(groups, int) or groups < 1 or width % groups:
        valid = [d for d in range(1, width + 1) if width % d == 0]
        raise CvkitError(
            f"groups (cardinality) {groups!r} does not divide the bottleneck width {width}; "
            f"valid choices: {', '.join(map(str, valid))}"
        )


def stage_width(planes: int, groups: int, width_per_group: int | None) -> int:
    """Width of a bottleneck's 3x3 conv: torchvision's ``planes * width_per_group / 64 * groups``.

    ``width_per_group=None`` keeps ``planes`` (split into ``groups`` groups).
    """
    if width_per_group is None:
        return planes
    if width_per_group < 1 or (planes * width_per_group) % 64:
        raise CvkitError(
            f"width_per_group {width_per_group!r} gives a fractional width at stage width {planes}; "
            f"use a width_per_group that makes planes * width_per_group a multiple of 64, or None"
        )
    return planes * width_per_group // 64 * groups


def resnet_body(
    x: Any,
    *,
    name: str = "",
    include_top: bool = False,
    block: str = "bottleneck",
    blocks: Sequence[int] = (3, 4, 6, 3),
    stage_widths: Sequence[int] = (64, 128, 256, 512),
    stem_filters: int = 64,
    groups: int = 1,
    width_per_group: int | None = None,
    stride_on: str = "3x3",
    se_ratio: int = 0,
    conv3x3_block: str | None = None,
    conv3x3_stages: Sequence[int] = (2, 3, 4, 5),
) -> Features:
    """A whole ResNet: 7x7/2 stem, 3x3/2 max-pool, stages conv2_x..conv5_x, global pool.

    This is the builder every ResNet-family plugin shares (ResNeXt, SE-Net, deformable) by
    fetching it with ``cvkit.get_block("resnet_body")``; unlike the other blocks it returns
    :class:`cvkit.Features` (maps at strides 2..32, and the pooled vector when ``include_top``).
    The defaults are ResNet-50's (see ``cvkit_resnet.variants`` for what each parameter means),
    so a caller written before a parameter was added keeps building.
    """
    _check(block, blocks, stage_widths, groups, width_per_group, stride_on, se_ratio, conv3x3_stages)
    if conv3x3_block is not None:
        cvkit.get_block(conv3x3_block)  # an unknown name fails here, with close matches
    p = f"{name}_" if name else ""

    x = keras.layers.ZeroPadding2D(3, name=f"{p}conv1_pad")(x)
    x = _conv_bn(x, name=f"{p}conv1", filters=stem_filters, kernel_size=7, strides=2, padding="valid")
    maps = {2: x}
    x = keras.layers.ZeroPadding2D(1, name=f"{p}pool1_pad")(x)
    x = keras.layers.MaxPooling2D(3, strides=2, name=f"{p}pool1_pool")(x)

    stride = 4
    for i, (depth, planes) in enumerate(zip(blocks, stage_widths)):
        stage = i + 2
        conv3x3 = conv3x3_block if stage in conv3x3_stages else None
        for j in range(depth):
            strides = 2 if (j == 0 and i > 0) else 1
            block_name = f"{p}conv{stage}_block{j + 1}"
            if block == "basic":
                x = basic_block(x, name=block_name, filters=planes, strides=strides, se_ratio=se_ratio,
                                conv3x3_block=conv3x3)
            else:
                x = bottleneck(x, name=block_name, filters=planes, strides=strides, groups=groups,
                               width=stage_width(planes, groups, width_per_group), stride_on=stride_on,
                               se_ratio=se_ratio, conv3x3_block=conv3x3)
        stride = stride * 2 if i > 0 else stride
        maps[stride] = x
    pooled = cvkit.global_pool(x, f"{p}avg_pool") if include_top else None
    return Features(maps=maps, pooled=pooled)


def _check(block, blocks, stage_widths, groups, width_per_group, stride_on, se_ratio, conv3x3_stages) -> None:
    if block not in BLOCK_TYPES:
        raise CvkitError(f"block must be one of {', '.join(BLOCK_TYPES)}, got {block!r}")
    if not 1 <= len(blocks) <= 4 or len(blocks) != len(stage_widths) or min(blocks) < 1 or min(stage_widths) < 1:
        raise CvkitError(
            f"blocks {blocks} and stage_widths {stage_widths} need one positive entry per stage, "
            f"1 to 4 stages (ResNet has 4: [3, 4, 6, 3] and [64, 128, 256, 512])"
        )
    if block == "basic" and (groups != 1 or width_per_group is not None):
        raise CvkitError(
            f"basic blocks have no grouped conv (groups={groups}, width_per_group={width_per_group}); "
            f"use block='bottleneck' for ResNeXt, or groups=1 and width_per_group=None"
        )
    if stride_on not in STRIDE_CHOICES:
        raise CvkitError(f"stride_on must be one of {', '.join(STRIDE_CHOICES)}, got {stride_on!r}")
    if not isinstance(se_ratio, int) or se_ratio < 0:
        raise CvkitError(f"se_ratio must be a whole number >= 0 (0 turns SE off, 16 is the paper's), got {se_ratio!r}")
    stages = list(range(2, 2 + len(blocks)))
    if any(s not in stages for s in conv3x3_stages):
        raise CvkitError(f"conv3x3_stages {conv3x3_stages} must name stages among {stages} (conv2_x is 2)")
