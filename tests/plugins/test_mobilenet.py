"""MobileNet v1 and v2: width multiplier, the shared blocks, bad input, the sanity check."""

from __future__ import annotations

import pytest

import cvkit
from cvkit_mobilenet.blocks import depthwise_separable


def _layer_names(inputs, outputs) -> set[str]:
    import keras

    return {layer.name for layer in keras.Model(inputs, outputs).layers}


@pytest.mark.parametrize(("arch", "alpha", "size"), [
    ("mobilenet_v1", 0.5, 128), ("mobilenet_v2", 0.35, 96), ("mobilenet_v2", 1.4, 96),
])
def test_width_multiplier_matches_keras_applications(arch, alpha, size):
    import keras

    reference = {"mobilenet_v1": keras.applications.MobileNet, "mobilenet_v2": keras.applications.MobileNetV2}[arch]
    theirs = reference(alpha=alpha, weights=None, input_shape=(size, size, 3), classes=10)
    ours = cvkit.create_model(arch, alpha=alpha, num_classes=10, input_shape=(size, size, 3))
    assert cvkit.count_params(ours)[0] == cvkit.count_params(theirs)[0]


def test_feature_maps_at_224():
    model = cvkit.create_model("mobilenet_v2", include_top=False, alpha=0.35)
    assert {s: t.shape[1] for s, t in model.feature_maps.items()} == {2: 112, 4: 56, 8: 28, 16: 14, 32: 7}
    assert model.feature_maps[32].shape[-1] == 1280  # the last conv keeps 1280 when alpha <= 1


def test_depthwise_separable_block():
    import keras

    inputs = keras.Input((16, 16, 8))
    out = depthwise_separable(inputs, name="t", filters=24, strides=2)
    assert tuple(out.shape[1:]) == (8, 8, 24)
    assert {"t_dw_conv", "t_dw_bn", "t_pw_conv", "t_pw_act"} <= _layer_names(inputs, out)


@pytest.mark.parametrize(("arch", "overrides", "message"), [
    ("mobilenet_v1", {"alpha": 0}, "alpha must be > 0"),
    ("mobilenet_v1", {"blocks": [[64, 3]]}, "stride 1 or 2"),
    ("mobilenet_v2", {"blocks": [[6, 24, 2]]}, r"\[expansion, channels, repeats, stride\]"),
    ("mobilenet_v2", {"dropout": 1.5}, r"dropout must be in \[0, 1\)"),
    ("mobilenet_v2", {"depth_multiplier": 2}, "has no parameter 'depth_multiplier'"),
])
def test_bad_parameters_are_refused(arch, overrides, message):
    with pytest.raises(cvkit.CvkitError, match=message):
        cvkit.create_model(arch, input_shape=(32, 32, 3), **overrides)
