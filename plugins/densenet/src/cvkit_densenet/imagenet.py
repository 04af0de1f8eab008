"""DenseNet-121/169/201 take the weights of keras.applications' DenseNet121/169/201.

Layer names agree except the stem (the twins' ``conv1``) and the final BN (the twins' ``bn``);
the BN epsilon (1.001e-5) is the same. Keras 2 files spell ``conv1/conv``: the reader turns
``/`` into ``_``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cvkit import ImagenetWeights
from cvkit.models.pretrained import load_twin_weights

TWINS = {"densenet121": "DenseNet121", "densenet169": "DenseNet169", "densenet201": "DenseNet201"}
TWIN_NAMES = {"stem_conv": "conv1_conv", "stem_bn": "conv1_bn", "final_bn": "bn"}


def twin_name(name: str) -> str:
    return TWIN_NAMES.get(name, name)


def convert(source: Mapping[str, list[Any]], model: Any) -> None:
    load_twin_weights(source, model, rename=twin_name)


def imagenet_weights(name: str, params: Mapping[str, Any]) -> ImagenetWeights | None:
    """The twin of a DenseNet row (DenseNet-264 and the CIFAR DenseNet-BCs have none)."""
    if name not in TWINS:
        return None
    return ImagenetWeights(application=TWINS[name], preprocessing="torch", convert="cvkit_densenet.imagenet:convert")
