"""DenseNet: the blocks, DenseNet-BC, the sanity check."""

from __future__ import annotations

import pytest

import cvkit
from cvkit_densenet.blocks import dense_layer


def test_densenet_bc_depth_and_growth_are_parameters():
    model = cvkit.create_model("densenet_bc_100_12", num_classes=10, input_shape=(32, 32, 3))
    assert cvkit.count_params(model)[0] == 769_162  # 0.8M in the paper's table
    grown = cvkit.create_model("densenet_bc_100_12", num_classes=10, input_shape=(32, 32, 3), growth_rate=24)
    assert cvkit.count_params(grown)[0] > cvkit.count_params(model)[0]


def test_unknown_override_names_the_valid_ones():
    with pytest.raises(cvkit.CvkitError, match="has no parameter 'cardinality'.*growth_rate"):
        cvkit.create_model("densenet121", cardinality=32)


def test_dense_layer_concatenates_growth_rate_channels():
    import keras

    inputs = keras.Input((8, 8, 16))
    out = dense_layer(inputs, name="t", growth_rate=12)
    assert out.shape[-1] == 16 + 12
