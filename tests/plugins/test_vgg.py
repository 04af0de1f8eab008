"""VGG: configurations, batch norm, the classifier pooling, bad input, the sanity check."""

from __future__ import annotations

import numpy as np
import pytest

import cvkit
from cvkit.testing import create_tiny_model


@pytest.mark.parametrize(("name", "convs"), [("vgg11", 8), ("vgg13", 10), ("vgg16", 13), ("vgg19", 16)])
def test_configurations_count_their_3x3_convs(name, convs):
    plain = create_tiny_model(name)
    kernels = [layer.kernel_size for layer in plain.layers if layer.name.endswith("_conv")]
    assert kernels == [(3, 3)] * convs
    assert not [layer for layer in plain.layers if "_bn" in layer.name]
    bn = create_tiny_model(f"{name}_bn")
    assert len([layer for layer in bn.layers if layer.name.endswith("_bn")]) == convs
    assert all(layer.use_bias for layer in bn.layers if layer.name.endswith("_conv"))  # torchvision keeps the bias


def test_feature_maps_are_the_pool_outputs():
    model = create_tiny_model("vgg16", size=64, include_top=False)
    assert {s: (t.shape[1], t.shape[-1]) for s, t in model.feature_maps.items()} == {
        2: (32, 8), 4: (16, 16), 8: (8, 16), 16: (4, 32), 32: (2, 32)}


def test_adaptive_pooling_keeps_the_paper_classifier_at_any_size():
    at_paper = create_tiny_model("vgg16", size=224)
    assert create_tiny_model("vgg16", size=224, classifier_pooling="flatten").count_params() == at_paper.count_params()
    for size in (32, 96, 256):
        assert create_tiny_model("vgg16", size=size).count_params() == at_paper.count_params()
    fc1 = at_paper.get_layer("fc1")
    assert fc1.kernel.shape == (7 * 7 * 32, 32)


def test_flatten_pooling_needs_224():
    message = (
        "vgg16 with include_top and classifier_pooling='flatten' needs 224x224 input (its FC layers take 7x7x512); "
        "use --image-size 224, classifier_pooling='adaptive', or include_top=False"
    )
    with pytest.raises(cvkit.CvkitError) as error:
        cvkit.create_model("vgg16", input_shape=(32, 32, 3), classifier_pooling="flatten")
    assert str(error.value) == message
    with pytest.raises(cvkit.CvkitError, match="^vgg19_bn with include_top"):
        create_tiny_model("vgg19_bn", classifier_pooling="flatten")
    headless = create_tiny_model("vgg16", classifier_pooling="flatten", include_top=False)
    assert headless.output.shape[1:] == (1, 1, 32)  # block5_pool at 32x32: no FC trunk to refuse it
    assert not [layer.name for layer in headless.layers if layer.name.startswith(("fc", "predictions"))]


def test_classifier_needs_a_fixed_input_size():
    tiny = dict(cvkit.get_backbone("vgg16").tiny)
    with pytest.raises(cvkit.CvkitError, match="vgg16 with include_top needs a fixed input size"):
        cvkit.create_model("vgg16", input_shape=(None, None, 3), **tiny)
    headless = cvkit.create_model("vgg16", input_shape=(None, None, 3), include_top=False, **tiny)
    assert headless.output.shape[1:] == (None, None, 32)
    for height, width in ((64, 48), (32, 32)):  # any size runs: a map at stride 32
        out = headless.predict(np.zeros((1, height, width, 3), "float32"), verbose=0)
        assert out.shape == (1, height // 32, width // 32, 32)


@pytest.mark.parametrize(("overrides", "match"), [
    ({"classifier_pooling": "max"}, "classifier_pooling must be 'adaptive' or 'flatten'"),
    ({"depths": [2, 2, 3]}, "one positive depth and width per block"),
    ({"widths": [8, 16, 0, 32, 32]}, "one positive depth and width per block"),
    ({"fc_units": 0}, "fc_units must be at least 1"),
    ({"se_ratio": 16}, "has no parameter 'se_ratio'"),
])
def test_bad_parameters_are_refused(overrides, match):
    with pytest.raises(cvkit.CvkitError, match=match):
        create_tiny_model("vgg16", **overrides)
