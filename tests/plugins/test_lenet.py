"""LeNet-5: the paper's layout, its small feature maps, bad input, the sanity check."""

from __future__ import annotations

import pytest

import cvkit


def test_family_name_resolves_to_lenet5():
    spec = cvkit.get_backbone("lenet")
    assert spec.name == "lenet5"
    assert spec.input_shape == (32, 32, 1)


def test_layout_and_parameters():
    model = cvkit.create_model("lenet5", num_classes=10)
    assert cvkit.count_params(model)[0] == 61_706
    shapes = {layer.name: tuple(layer.output.shape[1:]) for layer in model.layers}
    assert shapes["conv1"] == (28, 28, 6)
    assert shapes["pool1"] == (14, 14, 6)
    assert shapes["conv2"] == (10, 10, 16)
    assert shapes["pool2"] == (5, 5, 16)
    assert shapes["fc1"] == (120,)
    assert shapes["fc2"] == (84,)


def test_feature_maps_are_the_pool_outputs():
    # Unpadded convolutions: the maps are at strides 2 and 4, a few pixels under size / stride.
    model = cvkit.create_model("lenet5", include_top=False)
    assert {s: tuple(t.shape[1:]) for s, t in model.feature_maps.items()} == {2: (14, 14, 6), 4: (5, 5, 16)}


def test_builds_on_colour_images_and_its_smallest_input():
    assert cvkit.create_model("lenet5", num_classes=3, input_shape=(32, 32, 3)).output["probabilities"].shape[-1] == 3
    smallest = cvkit.create_model("lenet5", num_classes=3, input_shape=(16, 16, 1))
    # Two unpadded 5x5 convs and 2x2 pools leave one pixel: 16 -> 12 -> 6 -> 2 -> 1.
    assert tuple(smallest.get_layer("pool2").output.shape[1:]) == (1, 1, 16)
    assert cvkit.count_params(smallest)[0] == 156 + 2_416 + (16 + 1) * 120 + 121 * 84 + 85 * 3


@pytest.mark.parametrize(("overrides", "match"), [
    ({"pooling": "median"}, "pooling must be 'avg' or 'max'"),
    ({"activation": "sigmoidish"}, "not a Keras activation"),
    ({"filters": [6, 0]}, "must be positive"),
    ({"dropout": 0.5}, "has no parameter 'dropout'"),
])
def test_bad_parameters_are_refused(overrides, match):
    with pytest.raises(cvkit.CvkitError, match=match):
        cvkit.create_model("lenet5", **overrides)


def test_too_small_input_is_refused():
    with pytest.raises(cvkit.CvkitError, match="at least 16x16"):
        cvkit.create_model("lenet5", input_shape=(12, 12, 1))
