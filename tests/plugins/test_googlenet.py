"""GoogLeNet: the inception module, the auxiliary classifiers, bad input, the sanity check."""

from __future__ import annotations

import pytest

import cvkit
from cvkit_googlenet.blocks import inception_module
from cvkit.testing import create_tiny_model


def test_family_name_resolves_to_googlenet():
    spec = cvkit.get_backbone("googlenet")
    assert spec.name == "googlenet"
    assert dict(spec.training_overrides) == {"aux_classifiers": True}
    assert spec.defaults["aux_classifiers"] is False


def test_inception_module_concatenates_its_four_branches():
    import keras

    inputs = keras.Input((8, 8, 32))
    block = inception_module
    out = block(inputs, name="m", filters_1x1=4, filters_3x3_reduce=3, filters_3x3=5, filters_5x5_reduce=2,
                filters_5x5=6, filters_pool_proj=7)
    assert tuple(out.shape[1:]) == (8, 8, 4 + 5 + 6 + 7)
    model = keras.Model(inputs, out)
    assert model.get_layer("m_5x5_conv").kernel_size == (5, 5)
    assert model.get_layer("m_pool").pool_size == (3, 3)


def test_paper_parameter_count_without_auxiliary_heads():
    # Global average pooling: the count does not depend on the input size, so 32x32 is enough.
    model = cvkit.create_model("googlenet", input_shape=(32, 32, 3))
    assert cvkit.count_params(model)[0] == 6_998_552
    assert list(model.output) == ["probabilities"]
    assert cvkit.count_params(cvkit.create_model("googlenet", input_shape=(32, 32, 3), lrn=False))[0] == 6_998_552


def test_auxiliary_classifiers_add_two_outputs_and_keep_every_other_name():
    plain = create_tiny_model("googlenet")
    aux = create_tiny_model("googlenet", aux_classifiers=True)
    assert set(aux.output) == {"probabilities", "aux1_probabilities", "aux2_probabilities"}
    assert cvkit.count_params(aux)[0] > cvkit.count_params(plain)[0]
    aux_weights = {w.path: tuple(w.shape) for w in aux.weights}
    for weight in plain.weights:  # the engine copies trained weights into the inference model by name
        assert aux_weights[weight.path] == tuple(weight.shape)
    assert {w.path.split("/")[0] for w in aux.weights} - {w.path.split("/")[0] for w in plain.weights} == {
        "aux1_conv", "aux1_fc", "aux1_predictions", "aux2_conv", "aux2_fc", "aux2_predictions"}


def test_auxiliary_pooling_is_the_paper_5x5_stride_3_at_224():
    model = create_tiny_model("googlenet", size=224, aux_classifiers=True)
    pool = model.get_layer("aux1_pool")
    assert (pool.pool_size, pool.strides) == ((5, 5), (3, 3))
    assert tuple(pool.output.shape[1:3]) == (4, 4)
    assert tuple(model.get_layer("inception4a_concat").output.shape[1:3]) == (14, 14)


def test_headless_model_has_no_auxiliary_heads():
    model = create_tiny_model("googlenet", aux_classifiers=True, include_top=False)
    assert not [layer for layer in model.layers if layer.name.startswith("aux")]
    assert sorted(model.feature_maps) == [2, 4, 8, 16, 32]


@pytest.mark.parametrize(("overrides", "match"), [
    ({"aux_after": ["4z"]}, r"aux_after names unknown modules \['4z'\]"),
    ({"width_multiplier": 0}, "width_multiplier must be positive"),
    ({"inception_modules": {"3a": [64, 96, 128, 16, 32]}}, "module '3a' needs 6 positive widths"),
    ({"inception_modules": {"a3": [64, 96, 128, 16, 32, 32]}}, "start with their stage number"),
    ({"stem_filters": [64, 192]}, "stem_filters needs 3 positive widths"),
    ({"aux_dropout": 1.5}, r"aux_dropout must be in \[0, 1\)"),
])
def test_bad_parameters_are_refused(overrides, match):
    with pytest.raises(cvkit.CvkitError, match=match):
        create_tiny_model("googlenet", **overrides)
