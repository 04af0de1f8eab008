"""VGG-16/19 take the weights of keras.applications' VGG16/19.

The twins call a conv ``block1_conv1`` where cvkit calls it ``block1_conv1_conv`` (cvkit's
conv units name the conv, BN and activation apart); ``fc1``, ``fc2`` and ``predictions`` agree.
At 224x224 cvkit's adaptive pooling before ``fc1`` is the identity, so the twin's FC weights fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cvkit import ImagenetWeights
from cvkit.models.pretrained import load_twin_weights

TWINS = {"vgg16": "VGG16", "vgg19": "VGG19"}


def twin_name(name: str) -> str:
    return name.removesuffix("_conv") if name.startswith("block") else name


def convert(source: Mapping[str, list[Any]], model: Any) -> None:
    load_twin_weights(source, model, rename=twin_name)


def imagenet_weights(name: str, params: Mapping[str, Any]) -> ImagenetWeights | None:
    """The twin of a VGG row: plain VGG-16 and VGG-19 (keras.applications has no BN VGG)."""
    if name not in TWINS:
        return None
    return ImagenetWeights(application=TWINS[name], preprocessing="caffe", convert="cvkit_vgg.imagenet:convert")
