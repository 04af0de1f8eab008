"""Multiply-accumulates per image at the default size, against published figures (2%)."""

from __future__ import annotations

import pytest

import cvkit

REFERENCE_MACS = {
    "resnet50": 4.1e9,
    "densenet121": 2.83e9,
    "vgg16": 15.5e9,
    "mobilenet_v2": 0.30e9,
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REFERENCE_MACS))
def test_macs_match_published_figures(name):
    if name not in cvkit.list_backbones():
        pytest.fail(f"{name} is not registered by any installed plugin")
    macs = cvkit.count_macs(cvkit.create_model(name))
    assert macs == pytest.approx(REFERENCE_MACS[name], rel=0.02)


@pytest.mark.slow
def test_resnet50_paper_layout_puts_the_stride_on_the_first_1x1():
    if "resnet50" not in cvkit.list_backbones():
        pytest.fail("resnet50 is not registered by any installed plugin")
    macs = cvkit.count_macs(cvkit.create_model("resnet50", stride_on="1x1"))
    assert macs == pytest.approx(3.8e9, rel=0.03)
