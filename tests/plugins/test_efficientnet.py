"""EfficientNet: compound scaling, MBConv from cvkit.layers, bad input, the sanity check."""

from __future__ import annotations

import pytest

import cvkit

SIZES = {"b0": 224, "b1": 240, "b2": 260, "b3": 300, "b4": 380, "b5": 456, "b6": 528, "b7": 600}


@pytest.mark.parametrize(("variant", "size"), sorted(SIZES.items()))
def test_default_resolution_follows_compound_scaling(variant, size):
    assert cvkit.get_backbone(f"efficientnet_{variant}").input_shape == (size, size, 3)


def test_scaled_widths_and_depths_match_keras_applications():
    """Off the eight named points too: rounding of channels (to 8) and repeats (ceil)."""
    from keras.src.applications.efficientnet import EfficientNet

    theirs = EfficientNet(0.7, 0.45, 64, weights=None, input_shape=(64, 64, 3), classes=10)
    ours = cvkit.create_model("efficientnet_b0", width_coefficient=0.7, depth_coefficient=0.45,
                              num_classes=10, input_shape=(64, 64, 3))
    assert cvkit.count_params(ours)[0] == cvkit.count_params(theirs)[0]


def test_mbconv_has_se_and_rising_drop_connect():
    model = cvkit.create_model("efficientnet_b0", head=None, width_coefficient=0.25, input_shape=(32, 32, 3))
    layers = {layer.name: layer for layer in model.layers}
    assert "block1_1_se_reduce" in layers and "block1_1_expand_conv" not in layers  # expansion 1
    assert layers["block6_1_dw_conv"].kernel_size == (5, 5)
    rates = [layer.rate for name, layer in layers.items() if name.endswith("_drop")]
    assert rates == sorted(rates) and 0 < rates[0] and rates[-1] < 0.2
    assert "block1_1_drop" not in layers  # the first block's rate is 0


@pytest.mark.parametrize(("overrides", "message"), [
    ({"width_coefficient": 0}, "width_coefficient > 0"),
    ({"blocks": [[6, 24, 2, 2]]}, r"\[expansion, channels, repeats, stride, kernel_size\]"),
    ({"blocks": [[6, 24, 0, 2, 3]]}, "repeats >= 1"),
    ({"drop_connect_rate": 1.0}, r"must be in \[0, 1\)"),
    ({"se_reduction": 16}, "has no parameter 'se_reduction'"),
])
def test_bad_parameters_are_refused(overrides, message):
    with pytest.raises(cvkit.CvkitError, match=message):
        cvkit.create_model("efficientnet_b0", input_shape=(32, 32, 3), **overrides)
