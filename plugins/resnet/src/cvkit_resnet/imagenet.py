"""ResNet-50/101/152 take the weights of keras.applications' ResNet50/101/152.

The twins downsample in a bottleneck's first 1x1 conv (``stride_on="1x1"``), give every conv a
bias before its BN (folded into the BN's moving mean here, since cvkit's convs have none) and use
BN epsilon 1.001e-5 (cvkit's ResNet: 1e-5; the moving variance absorbs the difference). Layer
names are the twins' own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cvkit import ImagenetWeights
from cvkit.models.pretrained import load_twin_weights

KERAS_BN_EPSILON = 1.001e-5
TWINS = {"resnet50": "ResNet50", "resnet101": "ResNet101", "resnet152": "ResNet152"}


def convert(source: Mapping[str, list[Any]], model: Any) -> None:
    load_twin_weights(source, model, source_bn_epsilon=KERAS_BN_EPSILON)


def imagenet_weights(name: str, params: Mapping[str, Any]) -> ImagenetWeights | None:
    """The twin of a ResNet row, or None for rows keras.applications lacks (ResNet-18/34)."""
    if name not in TWINS:
        return None
    return ImagenetWeights(application=TWINS[name], preprocessing="caffe", convert="cvkit_resnet.imagenet:convert",
                           backbone_overrides={"stride_on": "1x1"})
