"""The ResNet-family builder: ResNet, and with other params ResNeXt, SE-ResNet and ResNet-DCN.

This is the public builder the resnext, senet and deformable plugins import and register. Its
parameters are a row of :data:`cvkit_resnet.variants.VARIANTS` (what each means is said there);
it has no defaults of its own, so that table is the only one. Importing this module is cheap:
Keras is imported inside the builder, so plugins can import it when they register.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cvkit
from cvkit import CvkitError, Features

BLOCK_TYPES = ("basic", "bottleneck")
STRIDE_CHOICES = ("3x3", "1x1")


def build_resnet(
    inputs: Any,
    *,
    include_top: bool,
    block: str,
    blocks: Sequence[int],
    stage_widths: Sequence[int],
    stem_filters: int,
    groups: int,
    width_per_group: int | None,
    stride_on: str,
    se_ratio: int,
    conv3x3_block: str | None,
    conv3x3_stages: Sequence[int],
) -> Features:
    """A whole ResNet: 7x7/2 stem, 3x3/2 max-pool, stages conv2_x..conv5_x, global pool.

    ``block`` switches the residual block ("basic" or "bottleneck"); ``groups`` and
    ``width_per_group`` make bottlenecks ResNeXt's; ``se_ratio`` squeeze-excites every block;
    ``conv3x3_block`` names a registered block (the swap point, e.g. ``"deformable_conv"``) that
    replaces the plain 3x3 convs of the stages in ``conv3x3_stages``. Returns maps at strides
    2..32, and the pooled vector when ``include_top``.
    """
    _check(block, blocks, stage_widths, groups, width_per_group, stride_on, se_ratio, conv3x3_stages)
    if conv3x3_block is not None:
        cvkit.get_block(conv3x3_block)  # an unknown name fails here, with close matches
    from cvkit_resnet.blocks import basic_block, bottleneck, stem  # Keras loads with the first build

    conv1, x = stem(inputs, filters=stem_filters)
    maps, stride = {2: conv1}, 4
    for i, (depth, planes) in enumerate(zip(blocks, stage_widths)):
        stage = i + 2
        conv3x3 = conv3x3_block if stage in conv3x3_stages else None
        for j in range(depth):
            strides = 2 if (j == 0 and i > 0) else 1
            name = f"conv{stage}_block{j + 1}"
            if block == "basic":
                x = basic_block(x, name=name, filters=planes, strides=strides, se_ratio=se_ratio,
                                conv3x3_block=conv3x3)
            else:
                x = bottleneck(x, name=name, filters=planes, strides=strides, groups=groups,
                               width=stage_width(planes, groups, width_per_group), stride_on=stride_on,
                               se_ratio=se_ratio, conv3x3_block=conv3x3)
        stride = stride * 2 if i > 0 else stride
        maps[stride] = x
    pooled = cvkit.global_pool(x, "avg_pool") if include_top else None
    return Features(maps=maps, pooled=pooled)


def check_groups(groups: int, width: int) -> None:
    """The cardinality must split the 3x3 conv's channels evenly."""
    if not isinstance(groups, int) or groups < 1 or width % groups:
        valid = [d for d in range(1, width + 1) if width % d == 0]
        raise CvkitError(
            f"groups (cardinality) {groups!r} does not divide the bottleneck width {width}; "
            f"valid choices: {', '.join(map(str, valid))}"
        )


def check_stride_on(stride_on: str) -> None:
    if stride_on not in STRIDE_CHOICES:
        raise CvkitError(f"stride_on must be one of {', '.join(STRIDE_CHOICES)}, got {stride_on!r}")


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
    check_stride_on(stride_on)
    if not isinstance(se_ratio, int) or se_ratio < 0:
        raise CvkitError(f"se_ratio must be a whole number >= 0 (0 turns SE off, 16 is the paper's), got {se_ratio!r}")
    stages = list(range(2, 2 + len(blocks)))
    if any(s not in stages for s in conv3x3_stages):
        raise CvkitError(f"conv3x3_stages {conv3x3_stages} must name stages among {stages} (conv2_x is 2)")
