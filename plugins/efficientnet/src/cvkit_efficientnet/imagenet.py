"""ImageNet weights of keras.applications' EfficientNetB0 ... B7 on cvkit's efficientnet_b0 ... b7.

Block for block the same network; the names differ (``block2_1_dw_conv`` is ``block2a_dwconv``)
and the twin normalises its input inside (``input_normalization`` builds those layers).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any

from cvkit import ImagenetWeights
from cvkit.models.pretrained import WeightsFile, application_module, load_twin_weights

APPLICATIONS = {f"efficientnet_b{i}": f"EfficientNetB{i}" for i in range(8)}
PARTS = {"expand_conv": "expand_conv", "expand_bn": "expand_bn", "dw_conv": "dwconv", "dw_bn": "bn",
         "se_reduce": "se_reduce", "se_expand": "se_expand", "project_conv": "project_conv",
         "project_bn": "project_bn"}
NORMALIZATION = "normalization"


def twin_name(name: str) -> str:
    """``block2_1_dw_conv`` -> ``block2a_dwconv``; other names (stem, top, head...) stay."""
    match = re.fullmatch(r"block(\d+)_(\d+)_(\w+)", name)
    if not match or match.group(3) not in PARTS:
        return name
    stage, repeat, part = match.groups()
    return f"block{stage}{string.ascii_lowercase[int(repeat) - 1]}_{PARTS[part]}"


def corrected_normalization(arrays: list[Any]) -> list[Any]:
    """The normalisation keras.applications computes with its ImageNet weights.

    The file's variance is the standard deviation (tensorflow issue 49930), so Keras divides
    once more by its square root: the same as a variance multiplied by the std it keeps.
    """
    import numpy as np

    mean, variance, count = arrays
    stddev = np.asarray(application_module("EfficientNetB0").IMAGENET_STDDEV_RGB, dtype=variance.dtype)
    return [mean, variance * stddev, count]


def convert(source: Mapping[str, list[Any]], model: Any) -> None:
    source = dict(source)
    for name in [name for name in source if name.startswith(NORMALIZATION)]:  # Keras names it itself
        source[NORMALIZATION] = corrected_normalization(source.pop(name))
    load_twin_weights(source, model, rename=twin_name)
    if NORMALIZATION in {layer.name for layer in model.layers}:
        model.get_layer(NORMALIZATION).finalize_state()  # its mean and variance are read once, here


def weights_file(application: str) -> WeightsFile:
    module = application_module(application)
    name = f"{application.lower()}.h5"
    with_top_hash = module.WEIGHTS_HASHES[application[-2:].lower()][0]
    return WeightsFile(name=name, origin=module.BASE_WEIGHTS_PATH + name, file_hash=with_top_hash)


def imagenet_weights(name: str) -> ImagenetWeights:
    application = APPLICATIONS[name]
    return ImagenetWeights(
        application=application, preprocessing="none", convert=convert,
        backbone_overrides={"input_normalization": True},
        weights_file=lambda: weights_file(application),
    )
