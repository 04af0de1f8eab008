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


def test_input_normalization_survives_save_and_load(tmp_path):
    """The ImageNet layout's input layers: pixels / 255, then the stored per-channel mean and
    variance, which the saved model keeps (Normalization reads them once, when they load)."""
    import numpy as np

    from cvkit.models.assembly import load_model
    from cvkit.testing import create_tiny_model

    model = create_tiny_model("efficientnet_b0", preprocessing="none", input_normalization=True)
    layer = model.get_layer("normalization")
    layer.set_weights([np.array([0.4, 0.5, 0.6]), np.array([0.01, 0.04, 0.09]), np.asarray(layer.weights[2])])
    layer.finalize_state()
    pixels = np.full((1, 32, 32, 3), 255.0, dtype="float32")
    normalised = keras_output(model, "normalization", pixels)
    assert np.allclose(normalised[0, 0, 0], [(1 - 0.4) / 0.1, (1 - 0.5) / 0.2, (1 - 0.6) / 0.3], atol=1e-3)
    model.save(tmp_path / "model.keras")
    assert np.allclose(keras_output(load_model(tmp_path / "model.keras"), "normalization", pixels), normalised)


def keras_output(model, layer_name, images):
    import keras
    import numpy as np

    return np.asarray(keras.Model(model.input, model.get_layer(layer_name).output)(images))
