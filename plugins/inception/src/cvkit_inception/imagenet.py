"""ImageNet weights of keras.applications' InceptionV3 on cvkit's inception_v3.

keras.applications leaves the conv and BN layers unnamed, so their names (``conv2d_7``, or
``conv2d_8`` in the Keras 2 file) only count the layers in the order they were made. The
converter pairs them in that order with cvkit's, whose order follows from the names:
stem, then module by module, the branches in the order each module builds them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from cvkit.models.pretrained import TOP_LAYER, ImagenetWeights

# The branches of every module, in the order the module builds them (cvkit_inception.blocks).
BRANCH_ORDER = ("b1x1", "b5x5", "b3x3", "b3x3dbl", "b7x7", "b7x7dbl", "b7x7x3", "bpool")
CONV_ORDER = ("1x3", "3x1", "proj")  # after the numbered convs of a branch


def creation_key(unit: str) -> tuple:
    """Sort key putting cvkit's conv units (``mixed9_b3x3dbl_1x3``) in the order they are made."""
    if match := re.fullmatch(r"stem(\d+)", unit):
        return (0, int(match.group(1)))
    module, branch, conv = unit.split("_")
    position = (int(conv), "") if conv.isdigit() else (99, CONV_ORDER.index(conv))
    return (1, int(module.removeprefix("mixed")), BRANCH_ORDER.index(branch), *position)


def twin_order(names: Iterable[str], prefix: str) -> list[str]:
    """Keras' automatic names ``prefix``, ``prefix_1``, ``prefix_2``... in the order they count."""
    numbered = [(int(match.group(1) or 0), name) for name in names
                if (match := re.fullmatch(rf"{prefix}(?:_(\d+))?", name))]
    return [name for _, name in sorted(numbered)]


def convert(source: Mapping[str, list[Any]], model: Any) -> None:
    from cvkit.models.transfer import load_by_name

    units = sorted((layer.name.removesuffix("_conv") for layer in model.layers
                    if re.fullmatch(r"(stem\d+|mixed\d+_\w+)_conv", layer.name)), key=creation_key)
    pairs = {}
    for suffix, prefix in (("_conv", "conv2d"), ("_bn", "batch_normalization")):
        pairs.update(zip((unit + suffix for unit in units), twin_order(source, prefix)))
    load_by_name(model, source, what=f"the ImageNet weights file of {model.arch}",
                 rename=lambda name: pairs.get(name, name), source_head={TOP_LAYER})


IMAGENET = ImagenetWeights(application="InceptionV3", preprocessing="tf", convert=convert)
