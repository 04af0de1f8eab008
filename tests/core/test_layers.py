"""cvkit.layers: every public layer's shapes, names and values, and old files that name LRN the old way."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import cvkit

DATA = Path(__file__).parent / "data"


def _model(inputs, outputs):
    import keras

    return keras.Model(inputs, outputs)


def _layers(inputs, outputs) -> dict:
    return {layer.name: layer for layer in _model(inputs, outputs).layers}


def test_conv_bn_act_names_and_options():
    import keras

    from cvkit.layers import BN_EPSILON, conv_bn_act

    inputs = keras.Input((8, 8, 4))
    out = conv_bn_act(inputs, name="u", filters=6, strides=2)
    layers = _layers(inputs, out)
    assert tuple(out.shape[1:]) == (4, 4, 6)
    assert {"u_conv", "u_bn", "u_act"} <= set(layers)
    assert not layers["u_conv"].use_bias and layers["u_bn"].epsilon == BN_EPSILON
    plain = conv_bn_act(inputs, name="p", filters=6, groups=2, use_bias=True, batch_norm=False, act_suffix="relu")
    names = set(_layers(inputs, plain))
    assert {"p_conv", "p_relu"} <= names and "p_bn" not in names
    assert _layers(inputs, plain)["p_conv"].groups == 2
    linear = conv_bn_act(inputs, name="l", filters=6, activation=None, bn_scale=False)
    layers = _layers(inputs, linear)
    assert "l_act" not in layers and not layers["l_bn"].scale


def test_bn_act_and_depthwise_bn_act():
    import keras

    from cvkit.layers import FAN_OUT_INITIALIZER, TF_BN_EPSILON, bn_act, depthwise_bn_act

    inputs = keras.Input((8, 8, 4))
    layers = _layers(inputs, bn_act(inputs, name="pre", act_suffix="relu"))
    assert [type(layer).__name__ for layer in layers.values()] == ["InputLayer", "BatchNormalization", "Activation"]
    assert list(layers)[1:] == ["pre_bn", "pre_relu"]
    out = depthwise_bn_act(inputs, name="dw", kernel_size=5, strides=2, depth_multiplier=2)
    layers = _layers(inputs, out)
    assert tuple(out.shape[1:]) == (4, 4, 8)
    assert layers["dw_conv"].kernel_size == (5, 5) and layers["dw_bn"].epsilon == TF_BN_EPSILON
    assert layers["dw_conv"].get_config()["depthwise_initializer"]["config"]["mode"] == \
        FAN_OUT_INITIALIZER["config"]["mode"]


def test_squeeze_excite_widths():
    import keras

    from cvkit.layers import squeeze_excite

    inputs = keras.Input((4, 4, 32))
    layers = _layers(inputs, squeeze_excite(inputs, name="se", reduction=8))
    assert (layers["se_reduce"].filters, layers["se_expand"].filters) == (4, 32)
    exact = _layers(inputs, squeeze_excite(inputs, name="ex", squeeze_channels=3, activation="swish"))
    assert exact["ex_reduce"].filters == 3


@pytest.mark.parametrize(("value", "divisor", "expected"), [
    (32 * 0.35, 8, 16),  # 11.2 rounds to 8, below 90% of it: one step up
    (3, 8, 8),  # never below the divisor
    (44, 8, 48),  # the nearest multiple, halves round up
    (43.9, 8, 40),
    (1280 * 1.4, 8, 1792),
    (40 * 1.1, 8, 48),  # EfficientNet-B2's stage 3
    (100, 10, 100),
])
def test_make_divisible(value, divisor, expected):
    from cvkit.layers import make_divisible

    assert make_divisible(value, divisor) == expected


def test_local_response_norm_matches_numpy():
    import keras

    from cvkit.layers import LocalResponseNormalization, local_response_norm

    x = np.random.default_rng(0).normal(size=(2, 3, 3, 7)).astype("float32")
    inputs = keras.Input((3, 3, 7))
    model = _model(inputs, local_response_norm(inputs, name="lrn"))
    squared = np.pad(x**2, [(0, 0), (0, 0), (0, 0), (2, 2)])
    expected = x / (2.0 + 1e-4 * sum(squared[..., i:i + 7] for i in range(5))) ** 0.75
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5)
    layer = model.get_layer("lrn")
    assert isinstance(layer, LocalResponseNormalization) and not layer.weights
    assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()
    assert keras.saving.get_registered_name(LocalResponseNormalization) == "cvkit>LocalResponseNormalization"
    with pytest.raises(cvkit.CvkitError, match="at least 1 channel"):
        LocalResponseNormalization(size=0)


def _old_lrn_expected(images: np.ndarray) -> np.ndarray:
    """What the file's model computes: a 1x1 conv of ones (6 channels of the pixel sum), then
    LRN with size 3, alpha 0.5, beta 0.75, bias 1."""
    summed = np.repeat(images.sum(-1, keepdims=True), 6, axis=-1)
    padded = np.pad(summed**2, [(0, 0), (0, 0), (0, 0), (1, 1)])
    return summed / (1.0 + 0.5 * sum(padded[..., i:i + 6] for i in range(3))) ** 0.75


def test_a_file_saved_with_the_old_alexnet_lrn_name_still_loads():
    """tests/core/data/old_alexnet_lrn.keras was written by cvkit_alexnet before the layer moved."""
    import json
    import zipfile

    from cvkit.layers import LocalResponseNormalization

    path = DATA / "old_alexnet_lrn.keras"
    with zipfile.ZipFile(path) as archive:
        assert "cvkit_alexnet>LocalResponseNormalization" in archive.read("config.json").decode()
    model = cvkit.load_model(path)
    layer = model.get_layer("conv_norm")
    assert type(layer) is LocalResponseNormalization
    assert json.loads(json.dumps(layer.get_config()))["size"] == 3
    images = np.random.default_rng(1).uniform(-1, 1, (2, 4, 4, 3)).astype("float32")
    np.testing.assert_allclose(model.predict(images, verbose=0), _old_lrn_expected(images), rtol=1e-5)


@pytest.mark.parametrize(("size", "side"), [(4, 8), (3, 7), (2, 1), (5, 3)])
def test_adaptive_pool_to_any_size(size, side):
    import keras

    from cvkit.layers import adaptive_pool

    inputs = keras.Input((side, side, 2))
    model = _model(inputs, adaptive_pool(inputs, name="ap", size=size))
    x = np.arange(side * side * 2, dtype="float32").reshape(1, side, side, 2)
    out = model.predict(x, verbose=0)
    assert out.shape == (1, size, size, 2)
    if side % size == 0:  # an exact tiling is plain average pooling
        k = side // size
        expected = x.reshape(1, size, k, size, k, 2).mean(axis=(2, 4))
        np.testing.assert_allclose(out, expected, rtol=1e-6)
    if side == 1:  # a one-pixel map is stretched
        np.testing.assert_allclose(out, np.broadcast_to(x, out.shape))
    with pytest.raises(cvkit.CvkitError, match="needs a fixed input size"):
        adaptive_pool(keras.Input((None, None, 2)), name="dyn", size=2)


def test_global_pool_and_fc_trunk():
    import keras

    from cvkit.layers import fc_trunk, global_pool

    assert cvkit.global_pool is global_pool  # still importable from cvkit
    inputs = keras.Input((5, 5, 3))
    layers = _layers(inputs, global_pool(inputs, "gap", dropout=0.3, dropout_name="drop"))
    assert layers["drop"].rate == 0.3 and "gap" in layers
    trunk = fc_trunk(inputs, name="fc", units=16, pooled_size=2, dropout=0.5)
    layers = _layers(inputs, trunk)
    assert tuple(trunk.shape[1:]) == (16,)
    assert layers["fc1"].kernel.shape == (2 * 2 * 3, 16) and layers["fc2_dropout"].rate == 0.5
    assert {"fc_pool", "fc_flatten"} <= set(layers)
    with pytest.raises(cvkit.CvkitError, match="net with include_top and classifier_pooling='flatten' needs 64x64"):
        fc_trunk(inputs, pooling="flatten", pooled_size=2, arch="net", input_size=64)
    with pytest.raises(cvkit.CvkitError, match="net fc_units must be at least 1"):
        fc_trunk(inputs, units=0, arch="net")


def test_inverted_residual_shortcut_only_when_shapes_match():
    import keras

    from cvkit.layers import inverted_residual

    inputs = keras.Input((16, 16, 24))
    same = inverted_residual(inputs, name="same", filters=24, expansion=6)
    layers = _layers(inputs, same)
    assert "same_add" in layers and layers["same_expand_conv"].filters == 144  # in_channels * expansion
    assert layers["same_project_conv"].kernel_size == (1, 1) and "same_project_act" not in layers  # linear
    x = np.random.default_rng(0).normal(size=(1, 16, 16, 24)).astype("float32")
    branch = _model(inputs, layers["same_project_bn"].output).predict(x, verbose=0)
    np.testing.assert_allclose(_model(inputs, same).predict(x, verbose=0), branch + x, rtol=1e-5, atol=1e-5)

    down = inverted_residual(inputs, name="down", filters=32, strides=2)
    assert tuple(down.shape[1:]) == (8, 8, 32) and "down_add" not in _layers(inputs, down)
    flat = inverted_residual(inputs, name="flat", filters=16, expansion=1)
    assert "flat_expand_conv" not in _layers(inputs, flat)
    with pytest.raises(cvkit.CvkitError, match="strides 1 or 2"):
        inverted_residual(inputs, name="bad", filters=24, strides=3)


def test_inverted_residual_as_mbconv_with_se_and_drop_connect():
    import keras

    from cvkit.layers import inverted_residual

    inputs = keras.Input((8, 8, 40))
    out = inverted_residual(inputs, name="mb", filters=40, expansion=6, kernel_size=5, activation="swish",
                            se_ratio=0.25, drop_rate=0.1)
    layers = _layers(inputs, out)
    assert layers["mb_dw_conv"].kernel_size == (5, 5)
    assert layers["mb_se_reduce"].filters == 10  # a quarter of the block's input width
    assert layers["mb_se_expand"].filters == 240
    assert layers["mb_drop"].rate == 0.1
    explicit = inverted_residual(inputs, name="ex", filters=40, squeeze_channels=7)
    assert _layers(inputs, explicit)["ex_se_reduce"].filters == 7


def test_mbconv_stages_names_strides_and_drop_connect():
    import keras

    from cvkit.layers import MBConvStage, mbconv_stages

    inputs = keras.Input((16, 16, 8))
    stages = [MBConvStage(1, 8, 1, 1), MBConvStage(6, 16, 2, 2, 5), MBConvStage(6, 24, 2, 2)]
    out, maps, stride = mbconv_stages(inputs, stages, block_name="block{stage}_{repeat}", drop_connect_rate=0.4)
    layers = _layers(inputs, out)
    assert stride == 8 and sorted(maps) == [2, 4]  # the maps before each stride-2 block
    assert tuple(maps[2].shape[1:]) == (16, 16, 8) and tuple(maps[4].shape[1:]) == (8, 8, 16)
    assert tuple(out.shape[1:]) == (4, 4, 24)
    assert {"block1_1_project_conv", "block2_2_add", "block3_2_add"} <= set(layers)
    assert layers["block2_1_dw_conv"].kernel_size == (5, 5)
    # drop-connect rises with the block index (0 to 4 of 5): 0, 0.08, 0.16, 0.24, 0.32.
    assert [round(layers[f"block{s}_2_drop"].rate, 6) for s in (2, 3)] == [0.16, 0.32]
    default, _, _ = mbconv_stages(inputs, stages[:2])  # MobileNet v2's names: block0, block1...
    assert {"block0_add", "block1_expand_conv", "block2_add"} <= set(_layers(inputs, default))


@pytest.mark.parametrize("arch", ["vgg11", "googlenet", "efficientnet_b0"])
def test_families_build_without_any_other_architecture_plugin(arch, monkeypatch):
    """VGG and GoogLeNet once needed cvkit-alexnet's blocks, EfficientNet cvkit-mobilenet's."""
    family = cvkit.get_backbone(arch).family
    tiny = cvkit.get_backbone(arch).tiny
    monkeypatch.setenv("CVKIT_LOAD_PLUGINS", f"{family},classification")
    cvkit.reset_plugin_manager()
    try:
        assert {cvkit.get_backbone(name).family for name in cvkit.list_backbones()} == {family}
        model = cvkit.create_model(arch, num_classes=3, input_shape=(32, 32, 3), **tiny)
        assert model.output["probabilities"].shape[-1] == 3
    finally:
        monkeypatch.delenv("CVKIT_LOAD_PLUGINS")
        cvkit.reset_plugin_manager()


def test_hooks_md_lists_every_public_layer_with_its_parameters():
    import inspect
    import re

    import cvkit.layers

    text = (Path(__file__).parents[2] / "docs" / "hooks.md").read_text()
    section = text[text.index("## `cvkit.layers`"):]
    documented = dict(re.findall(r"`(\w+)\((.*?)\)", section))
    for name in cvkit.layers.__all__:
        obj = getattr(cvkit.layers, name)
        if name not in documented:  # a constant or a layer class: named, at least
            assert f"`{name}`" in section, f"docs/hooks.md's cvkit.layers section lacks {name}"
            continue
        params = [p.split("=")[0].split(":")[0].strip() for p in documented[name].split(", ")]
        assert [p for p in params if p != "*"] == list(inspect.signature(obj).parameters), name
