"""SPEC's reference table: trainable parameters of every variant as a 1000-class ImageNet classifier.

Full-size models are only built here, never trained. Variants with ImageNet weights are checked
by tests/plugins/test_imagenet_twins.py, which builds them anyway (each full-size model once).
"""

from __future__ import annotations

import pytest

import cvkit
from cvkit.models.pretrained import imagenet_variants
from param_reference import REFERENCE

SE_RESNET50_BY_RATIO = {2: 45_699_240, 4: 35_635_688, 8: 30_603_912, 32: 26_830_080}

INSTALLED = set(cvkit.list_backbones())
NOT_TWINS = sorted(set(REFERENCE) - set(imagenet_variants()))


def _trainable(name: str, **kwargs) -> int:
    if name not in INSTALLED:
        pytest.fail(f"{name} is not registered by any installed plugin")
    return cvkit.count_params(cvkit.create_model(name, **kwargs))[0]


@pytest.mark.slow
@pytest.mark.parametrize("name", NOT_TWINS)
def test_reference_trainable_params(name):
    expected, kwargs = REFERENCE[name]
    assert _trainable(name, **kwargs) == expected


@pytest.mark.slow
@pytest.mark.parametrize("ratio", sorted(SE_RESNET50_BY_RATIO))
def test_se_resnet50_reduction_ratio_table(ratio):
    assert _trainable("se_resnet50", se_ratio=ratio) == SE_RESNET50_BY_RATIO[ratio]
