"""ImageNet weights of keras.applications' MobileNet and MobileNetV2 on cvkit's v1 and v2.

The layouts are the same layer for layer; only the names differ, and v1's classifier is a 1x1
conv where cvkit has a Dense layer (the same computation: the kernel is reshaped).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cvkit import ImagenetWeights
from cvkit.models.pretrained import TOP_LAYER, WeightsFile, application_module, load_twin_weights

# The published files were trained at 224x224 with alpha 1.0 (the cvkit variants' defaults).
TRAINING_SIZE = 224

V1_STEM = {"stem_conv": "conv1", "stem_bn": "conv1_bn"}
V2_STEM = {"stem_conv": "Conv1", "stem_bn": "bn_Conv1", "head_conv": "Conv_1", "head_bn": "Conv_1_bn"}
V2_PARTS = {"expand_conv": "expand", "expand_bn": "expand_BN", "dw_conv": "depthwise",
            "dw_bn": "depthwise_BN", "project_conv": "project", "project_bn": "project_BN"}


def v1_twin_name(name: str) -> str:
    """``block3_dw_bn`` -> ``conv_dw_3_bn``; other names (the head's) stay."""
    if name in V1_STEM:
        return V1_STEM[name]
    match = re.fullmatch(r"block(\d+)_(dw|pw)_(conv|bn)", name)
    if not match:
        return name
    index, kind, part = match.groups()
    return f"conv_{kind}_{index}" + ("_bn" if part == "bn" else "")


def v2_twin_name(name: str) -> str:
    """``block0_dw_conv`` -> ``expanded_conv_depthwise``, ``block5_project_bn`` -> ``block_5_project_BN``."""
    if name in V2_STEM:
        return V2_STEM[name]
    match = re.fullmatch(r"block(\d+)_(\w+)", name)
    if not match or match.group(2) not in V2_PARTS:
        return name
    index, part = int(match.group(1)), V2_PARTS[match.group(2)]
    return f"expanded_conv_{part}" if index == 0 else f"block_{index}_{part}"


def convert_v1(source: Mapping[str, list[Any]], model: Any) -> None:
    source = dict(source)
    if "conv_preds" in source:  # the 1x1 conv classifier as the Dense layer it equals
        kernel, bias = source.pop("conv_preds")
        source[TOP_LAYER] = [kernel.reshape(-1, kernel.shape[-1]), bias]
    load_twin_weights(source, model, rename=v1_twin_name)


def convert_v2(source: Mapping[str, list[Any]], model: Any) -> None:
    source = dict(source)
    if "Logits" in source:  # what older Keras versions named the classifier
        source[TOP_LAYER] = source.pop("Logits")
    load_twin_weights(source, model, rename=v2_twin_name)


def v1_weights_file() -> WeightsFile:
    module = application_module("MobileNet")
    name = f"mobilenet_1_0_{TRAINING_SIZE}_tf.h5"
    return WeightsFile(name=name, origin=module.BASE_WEIGHT_PATH + name)


def v2_weights_file() -> WeightsFile:
    module = application_module("MobileNetV2")
    name = f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{TRAINING_SIZE}.h5"
    return WeightsFile(name=name, origin=module.BASE_WEIGHT_PATH + name)


IMAGENET = {
    "mobilenet_v1": ImagenetWeights(application="MobileNet", preprocessing="tf", convert=convert_v1,
                                    weights_file=v1_weights_file),
    "mobilenet_v2": ImagenetWeights(application="MobileNetV2", preprocessing="tf", convert=convert_v2,
                                    weights_file=v2_weights_file),
}
