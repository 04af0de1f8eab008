"""Inception v3: the module blocks, the paper's grid, bad input, the sanity check."""

from __future__ import annotations

import pytest

import cvkit
from cvkit_inception.blocks import inception_a, inception_b, inception_c, reduction_a, reduction_b


@pytest.mark.parametrize(("padding", "sides"), [
    ("valid", {2: 147, 4: 71, 8: 35, 16: 17, 32: 8}),  # keras.applications / the paper's table 1
    ("same", {2: 150, 4: 75, 8: 38, 16: 19, 32: 10}),  # ceil(299 / stride), for dense heads
])
def test_feature_map_grid_at_299(padding, sides):
    model = cvkit.create_model("inception_v3", include_top=False, width=0.0625, padding=padding)
    assert {s: t.shape[1] for s, t in model.feature_maps.items()} == sides


def test_full_width_channels_per_grid():
    import keras

    model = cvkit.create_model("inception_v3", include_top=False, input_shape=(75, 75, 3))
    assert {s: t.shape[-1] for s, t in model.feature_maps.items()} == {2: 64, 4: 192, 8: 288, 16: 768, 32: 2048}
    batch_norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert batch_norms and not any(bn.scale for bn in batch_norms)  # keras.applications' layout


def test_modules_as_blocks():
    import keras

    x35, x17, x8 = keras.Input((35, 35, 192)), keras.Input((17, 17, 768)), keras.Input((8, 8, 1280))
    assert inception_a(x35, name="a", pool_filters=32).shape[-1] == 256
    assert tuple(reduction_a(x35, name="ra").shape[1:]) == (17, 17, 384 + 96 + 192)
    factorised = inception_b(x17, name="b", channels_7x7=160)
    assert factorised.shape[-1] == 768
    kernels = {layer.name: layer.kernel_size for layer in keras.Model(x17, factorised).layers
               if isinstance(layer, keras.layers.Conv2D)}
    assert kernels["b_b7x7_2_conv"] == (1, 7) and kernels["b_b7x7_3_conv"] == (7, 1)
    assert tuple(reduction_b(x17, name="rb").shape[1:]) == (8, 8, 320 + 192 + 768)
    assert tuple(inception_c(x8, name="c").shape[1:]) == (8, 8, 2048)
    assert inception_c(x8, name="half", width=0.5).shape[-1] == 1024


def test_input_smaller_than_75_is_refused():
    with pytest.raises(cvkit.CvkitError, match="at least 75x75"):
        cvkit.create_model("inception_v3", input_shape=(64, 64, 3))


@pytest.mark.parametrize(("overrides", "message"), [
    ({"padding": "reflect"}, "padding must be 'valid'"),
    ({"width": 0}, "width > 0"),
    ({"a_pool_filters": [32, 0]}, "positive module widths"),
    ({"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
    ({"aux_logits": True}, "has no parameter 'aux_logits'"),
])
def test_bad_parameters_are_refused(overrides, message):
    with pytest.raises(cvkit.CvkitError, match=message):
        cvkit.create_model("inception_v3", input_shape=(75, 75, 3), **overrides)
