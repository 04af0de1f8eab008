"""AlexNet and ZFNet: the grouped layout, LRN, the classifier pooling, bad input, the sanity check."""

from __future__ import annotations

import pytest

import cvkit
from cvkit.testing import create_tiny_model


def test_family_name_resolves_to_alexnet():
    assert cvkit.get_backbone("alexnet").name == "alexnet"
    assert cvkit.get_backbone("zfnet").family == "alexnet"
    assert cvkit.get_backbone("alexnet").input_shape == (227, 227, 3)


def _layer(model, name):
    return next(layer for layer in model.layers if layer.name == name)


def _normalised(model) -> list[tuple[str, str]]:
    """(the LRN layer, the layer feeding it) for every local response normalisation."""
    from cvkit.layers import LocalResponseNormalization

    layers = model.layers
    return [(layer.name, layers[i - 1].name) for i, layer in enumerate(layers)
            if isinstance(layer, LocalResponseNormalization)]


def test_alexnet_groups_conv2_conv4_conv5_and_zfnet_does_not():
    alexnet = create_tiny_model("alexnet")
    assert [_layer(alexnet, f"conv{i}_conv").groups for i in range(1, 6)] == [1, 2, 1, 2, 2]
    # AlexNet normalises conv1 and conv2 before their pools, ZFNet after pool1 and pool2.
    assert _normalised(alexnet) == [("conv1_norm", "conv1_act"), ("conv2_norm", "conv2_act")]
    assert alexnet.get_layer("pool1").input is alexnet.get_layer("conv1_norm").output
    zfnet = create_tiny_model("zfnet")
    assert [_layer(zfnet, f"conv{i}_conv").groups for i in range(1, 6)] == [1] * 5
    assert _normalised(zfnet) == [("pool1_norm", "pool1"), ("pool2_norm", "pool2")]
    assert _normalised(create_tiny_model("alexnet", lrn="none")) == []


@pytest.mark.parametrize(("name", "size", "sizes"), [
    ("alexnet", 227, {4: 55, 8: 27, 16: 13, 32: 6}),
    ("zfnet", 224, {2: 110, 4: 55, 8: 26, 16: 13, 32: 6}),
])
def test_paper_map_sizes_and_identity_pooling(name, size, sizes):
    model = create_tiny_model(name, size=size, include_top=False)
    assert {s: t.shape[1] for s, t in model.feature_maps.items()} == sizes
    # At the paper's size the FC trunk sees 6x6 either way: adaptive pooling is the identity.
    adaptive = create_tiny_model(name, size=size)
    strict = create_tiny_model(name, size=size, classifier_pooling="flatten")
    assert cvkit.count_params(adaptive) == cvkit.count_params(strict)
    small = create_tiny_model(name)
    assert cvkit.count_params(small) == cvkit.count_params(adaptive)


def test_flatten_pooling_needs_the_paper_size():
    with pytest.raises(cvkit.CvkitError, match=r"alexnet with include_top and classifier_pooling='flatten' "
                                               r"needs 227x227 input \(its FC layers take 6x6x32\)"):
        create_tiny_model("alexnet", classifier_pooling="flatten")
    with pytest.raises(cvkit.CvkitError, match="zfnet .* needs 224x224 input"):
        create_tiny_model("zfnet", classifier_pooling="flatten")
    headless = create_tiny_model("alexnet", classifier_pooling="flatten", include_top=False)
    assert headless.output.shape[1:] == (1, 1, 32)  # the last pool's map, at the smallest input
    assert not [layer.name for layer in headless.layers if layer.name.startswith(("fc", "predictions"))]


@pytest.mark.parametrize(("overrides", "match"), [
    ({"classifier_pooling": "global"}, "classifier_pooling must be 'adaptive' or 'flatten'"),
    ({"lrn": "sometimes"}, "lrn must be one of"),
    ({"widths": [16, 33, 32, 32, 32]}, "conv2 cannot split 16 -> 33 channels into 2 groups"),
    ({"widths": [16, 32, 32]}, "one value per convolution"),
    ({"pool_padding": ["valid", "full", "valid"]}, "pool_padding needs 3 values"),
    ({"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
])
def test_bad_parameters_are_refused(overrides, match):
    with pytest.raises(cvkit.CvkitError, match=match):
        create_tiny_model("alexnet", **overrides)


def test_too_small_input_is_refused():
    with pytest.raises(cvkit.CvkitError, match="alexnet needs inputs of at least 67x67"):
        cvkit.create_model("alexnet", input_shape=(32, 32, 3))
