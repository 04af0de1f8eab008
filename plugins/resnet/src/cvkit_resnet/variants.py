"""The ResNet family table: ResNet-18/34 (basic blocks) and ResNet-50/101/152 (bottlenecks).

This is the one table of the family. ResNeXt, SE-Net and the deformable ResNet import it
(``from cvkit_resnet.variants import VARIANTS``) and state only what differs from a row here;
they all build through :func:`cvkit_resnet.backbone.build_resnet`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PAPER = "He et al., Deep Residual Learning for Image Recognition (CVPR 2016)"

# Parameters of the builder (cvkit_resnet.backbone:build_resnet). Every one can be overridden.
BASE = {
    "block": "bottleneck",         # "basic" (two 3x3 convs) or "bottleneck" (1x1-3x3-1x1, 4x expansion)
    "blocks": [3, 4, 6, 3],        # residual blocks in stages conv2_x .. conv5_x
    "stage_widths": [64, 128, 256, 512],  # block width per stage (a bottleneck outputs 4x this)
    "stem_filters": 64,            # the 7x7/2 stem conv
    "groups": 1,                   # cardinality of the bottleneck's 3x3 conv (ResNeXt)
    "width_per_group": None,       # None: the 3x3 conv keeps the stage width, split into `groups`;
                                   # a number d: it is groups x d wide at stage conv2_x, doubling after
    "stride_on": "3x3",            # where a bottleneck downsamples: "3x3" (torchvision), "1x1" (paper)
    "se_ratio": 0,                 # squeeze-and-excitation reduction r in every block; 0 = off
    "conv3x3_block": None,         # a registered block replacing the plain 3x3 convs ("deformable_conv")
    "conv3x3_stages": [2, 3, 4, 5],  # the stages whose 3x3 convs use conv3x3_block
}

VARIANTS = {
    "resnet18": {**BASE, "block": "basic", "blocks": [2, 2, 2, 2]},
    "resnet34": {**BASE, "block": "basic", "blocks": [3, 4, 6, 3]},
    "resnet50": {**BASE, "blocks": [3, 4, 6, 3]},
    "resnet101": {**BASE, "blocks": [3, 4, 23, 3]},
    "resnet152": {**BASE, "blocks": [3, 8, 36, 3]},
}

DEFAULT = "resnet50"

# One block per stage and narrow stages: a 32x32 build trains in about a second.
TINY = {"blocks": [1, 1, 1, 1], "stage_widths": [8, 16, 32, 64], "stem_filters": 8}
# Grouped 3x3 convs need wider stages: 4 groups of 16 * 16 / 64 = 4 channels at conv2_x.
TINY_GROUPED = {**TINY, "stage_widths": [16, 32, 64, 128], "groups": 4, "width_per_group": 16}


def tiny(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The tiny override of any row of the family: grouped rows (ResNeXt) keep their groups."""
    return TINY_GROUPED if params["groups"] > 1 else TINY
