"""SPEC's reference table: trainable parameters of every variant as a 1000-class ImageNet classifier.

Full-size models are only built here, never trained.
"""

from __future__ import annotations

import pytest

import cvkit

# name -> (trainable params, overrides). LeNet is the 10-class, 32x32x1 reference.
REFERENCE = {
    "lenet5": (61_706, {"num_classes": 10}),
    "alexnet": (60_965_224, {}),
    "zfnet": (62_357_608, {}),
    "vgg11": (132_863_336, {}),
    "vgg13": (133_047_848, {}),
    "vgg16": (138_357_544, {}),
    "vgg19": (143_667_240, {}),
    "googlenet": (6_998_552, {}),
    "inception_v3": (23_817_352, {}),
    "resnet18": (11_689_512, {}),
    "resnet34": (21_797_672, {}),
    "resnet50": (25_557_032, {}),
    "resnet101": (44_549_160, {}),
    "resnet152": (60_192_808, {}),
    "resnext50_32x4d": (25_028_904, {}),
    "resnext101_32x8d": (88_791_336, {}),
    "se_resnet50": (28_088_024, {}),
    "se_resnext50_32x4d": (27_559_896, {}),
    "densenet121": (7_978_856, {}),
    "densenet169": (14_149_480, {}),
    "densenet201": (20_013_928, {}),
    "densenet264": (33_337_704, {}),
    "mobilenet_v1": (4_231_976, {}),
    "mobilenet_v2": (3_504_872, {}),
    "efficientnet_b0": (5_288_548, {}),
    "efficientnet_b1": (7_794_184, {}),
    "efficientnet_b2": (9_109_994, {}),
    "efficientnet_b3": (12_233_232, {}),
    "efficientnet_b4": (19_341_616, {}),
    "efficientnet_b5": (30_389_784, {}),
    "efficientnet_b6": (43_040_704, {}),
    "efficientnet_b7": (66_347_960, {}),
}

SE_RESNET50_BY_RATIO = {2: 45_699_240, 4: 35_635_688, 8: 30_603_912, 32: 26_830_080}

INSTALLED = set(cvkit.list_backbones())


def _trainable(name: str, **kwargs) -> int:
    if name not in INSTALLED:
        pytest.fail(f"{name} is not registered by any installed plugin")
    return cvkit.count_params(cvkit.create_model(name, **kwargs))[0]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_reference_trainable_params(name):
    expected, kwargs = REFERENCE[name]
    assert _trainable(name, **kwargs) == expected


@pytest.mark.slow
@pytest.mark.parametrize("ratio", sorted(SE_RESNET50_BY_RATIO))
def test_se_resnet50_reduction_ratio_table(ratio):
    assert _trainable("se_resnet50", se_ratio=ratio) == SE_RESNET50_BY_RATIO[ratio]
