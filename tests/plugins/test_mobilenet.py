"""MobileNet v1 and v2: width multiplier, the shared blocks, bad input, the sanity check."""

from __future__ import annotations

import pytest

import cvkit
from cvkit.testing import assert_overfits


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
    out = cvkit.get_block("depthwise_separable")(inputs, name="t", filters=24, strides=2)
    assert tuple(out.shape[1:]) == (8, 8, 24)
    assert {"t_dw_conv", "t_dw_bn", "t_pw_conv", "t_pw_act"} <= _layer_names(inputs, out)


def test_inverted_residual_shortcut_only_when_shapes_match():
    import keras

    block = cvkit.get_block("inverted_residual")
    inputs = keras.Input((16, 16, 24))
    same = block(inputs, name="same", filters=24, expansion=6)
    names = _layer_names(inputs, same)
    assert "same_add" in names and "same_expand_conv" in names
    expand = next(layer for layer in keras.Model(inputs, same).layers if layer.name == "same_expand_conv")
    assert expand.filters == 144  # in_channels * expansion

    down = block(inputs, name="down", filters=32, strides=2)
    assert tuple(down.shape[1:]) == (8, 8, 32)
    assert "down_add" not in _layer_names(inputs, down)

    flat = block(inputs, name="flat", filters=16, expansion=1)
    assert "flat_expand_conv" not in _layer_names(inputs, flat)


def test_inverted_residual_as_mbconv_with_se_and_drop_connect():
    import keras

    inputs = keras.Input((8, 8, 40))
    out = cvkit.get_block("inverted_residual")(
        inputs, name="mb", filters=40, expansion=6, kernel_size=5, activation="swish", se_ratio=0.25,
        drop_rate=0.1,
    )
    layers = {layer.name: layer for layer in keras.Model(inputs, out).layers}
    assert layers["mb_dw_conv"].kernel_size == (5, 5)
    assert layers["mb_se_reduce"].filters == 10  # a quarter of the block's input width
    assert layers["mb_se_expand"].filters == 240
    assert layers["mb_drop"].rate == 0.1
    explicit = cvkit.get_block("inverted_residual")(inputs, name="ex", filters=40, squeeze_channels=7)
    assert {layer.name: layer for layer in keras.Model(inputs, explicit).layers}["ex_se_reduce"].filters == 7


def test_inverted_residual_refuses_bad_stride():
    import keras

    with pytest.raises(cvkit.CvkitError, match="strides 1 or 2"):
        cvkit.get_block("inverted_residual")(keras.Input((8, 8, 8)), name="b", filters=8, strides=3)


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
