"""SE-Net: squeeze-and-excitation in every residual block, and as an option of any ResNet."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import cvkit
import cvkit_senet.backbone
from cvkit.layers import squeeze_excite
from cvkit.testing import create_tiny_model
from cvkit_resnet.backbone import build_resnet


def test_family_name_resolves_to_se_resnet50():
    assert cvkit.get_backbone("senet").name == "se_resnet50"
    assert cvkit.get_backbone("se_resnet50").defaults["se_ratio"] == 16


def test_se_resnet50_is_resnet50_with_se_ratio():
    se = create_tiny_model("se_resnet50", se_ratio=16)
    resnet = create_tiny_model("resnet50", se_ratio=16)
    assert cvkit.count_params(se) == cvkit.count_params(resnet)
    assert [layer.name for layer in se.layers] == [layer.name for layer in resnet.layers]


def test_builds_through_the_resnet_plugins_builder(monkeypatch):
    calls = []

    def recording_build(inputs, **params):
        calls.append(params)
        return build_resnet(inputs, **params)

    monkeypatch.setattr(cvkit_senet.backbone, "build_resnet", recording_build)
    create_tiny_model("se_resnet50")
    assert [call["se_ratio"] for call in calls] == [4]


def test_se_sits_on_the_residual_before_the_addition():
    model = create_tiny_model("se_resnet50", include_top=False)
    excite = model.get_layer("conv3_block1_se_excite")
    add = model.get_layer("conv3_block1_add")
    assert excite.output is add.input[1]
    assert excite.input[0] is model.get_layer("conv3_block1_3_bn").output
    # squeeze (GAP) -> FC C/r -> ReLU -> FC C -> sigmoid; tiny conv3_x outputs 64 channels, r = 4
    reduce, expand = model.get_layer("conv3_block1_se_reduce"), model.get_layer("conv3_block1_se_expand")
    assert (reduce.filters, reduce.activation.__name__) == (16, "relu")
    assert (expand.filters, expand.activation.__name__) == (64, "sigmoid")


def test_squeeze_excite_rescales_channels_by_a_sigmoid_gate():
    inputs = keras.Input((4, 4, 8))
    model = keras.Model(inputs, squeeze_excite(inputs, name="se", reduction=2))
    x = np.random.default_rng(0).normal(size=(2, 4, 4, 8)).astype("float32")
    reduce_w, reduce_b, expand_w, expand_b = model.get_weights()
    squeezed = np.maximum(x.mean(axis=(1, 2)) @ reduce_w[0, 0] + reduce_b, 0)
    gate = 1 / (1 + np.exp(-(squeezed @ expand_w[0, 0] + expand_b)))
    np.testing.assert_allclose(model.predict(x, verbose=0), x * gate[:, None, None, :], rtol=1e-5, atol=1e-6)


def test_reduction_ratio_is_a_parameter():
    counts = [cvkit.count_params(create_tiny_model("se_resnet50", se_ratio=r))[0] for r in (2, 4, 8)]
    assert counts[0] > counts[1] > counts[2]


def test_se_resnext_has_grouped_convs_and_se():
    model = create_tiny_model("se_resnext50_32x4d", include_top=False)
    assert model.get_layer("conv2_block1_2_conv").groups == 4
    assert "conv2_block1_se_excite" in {layer.name for layer in model.layers}
    assert cvkit.get_backbone("se_resnext50_32x4d").defaults["groups"] == 32


def test_senet_without_se_is_refused():
    with pytest.raises(cvkit.CvkitError, match="SE-Net needs se_ratio >= 1.*resnet variants"):
        create_tiny_model("se_resnet50", se_ratio=0)
