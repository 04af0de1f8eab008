"""ImageNet weights of keras.applications' InceptionV3 on cvkit's inception_v3.

keras.applications leaves the conv and BN layers unnamed, so their names (``conv2d_7``, or
``conv2d_8`` in the Keras 2 file) only count the layers in the order they were made. The
converter pairs convs and BNs in that order with cvkit's, whose order follows from the names:
stem, then module by module, the branches in the order each module builds them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from cvkit import ImagenetWeights
from cvkit.models.pretrained import load_twin_weights

# The branches of every module, in the order the module builds them (cvkit_inception.blocks).
BRANCH_ORDER = ("b1x1", "b5x5", "b3x3", "b3x3dbl", "b7x7", "b7x7dbl", "b7x7x3", "bpool")
CONV_ORDER = ("1x3", "3x1", "proj")  # after the numbered convs of a branch


def creation_key(unit: str) -> tuple:
    """Sort key putting cvkit's conv units (``mixed9_b3x3dbl_1x3``) in the order they are made."""
    if match := re.fullmatch(r"stem(\d+)", unit):
        return (0, int(match.group(1)))
    module, branch, conv = unit.split("_")
    position = (int(conv), 0) if conv.isdigit() else (99, CONV_ORDER.index(conv))
    return (1, int(module.removeprefix("mixed")), BRANCH_ORDER.index(branch), *position)


def creation_order(source: Mapping[str, list[Any]], is_kind: Callable[[list[Any]], bool]) -> list[str]:
    """The source layers whose arrays are of a kind, in the order their automatic names
    (``conv2d``, ``conv2d_1``, ``conv2d_2``...) count them."""
    numbered = [(int(match.group(1)) if (match := re.search(r"_(\d+)$", name)) else 0, name)
                for name, arrays in source.items() if is_kind(arrays)]
    return [name for _, name in sorted(numbered)]


def is_conv(arrays: list[Any]) -> bool:
    return len(arrays) == 1 and arrays[0].ndim == 4


def is_batchnorm(arrays: list[Any]) -> bool:  # no scale: beta, moving mean, moving variance
    return len(arrays) == 3 and all(array.ndim == 1 for array in arrays)


def convert(source: Mapping[str, list[Any]], model: Any) -> None:
    units = sorted((layer.name.removesuffix("_conv") for layer in model.layers
                    if re.fullmatch(r"(stem\d+|mixed\d+_\w+)_conv", layer.name)), key=creation_key)
    pairs = {}
    for suffix, is_kind in (("_conv", is_conv), ("_bn", is_batchnorm)):
        pairs.update(zip((unit + suffix for unit in units), creation_order(source, is_kind)))
    load_twin_weights(source, model, rename=lambda name: pairs.get(name, name))


IMAGENET = ImagenetWeights(application="InceptionV3", preprocessing="tf", convert=convert)
