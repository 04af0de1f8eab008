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


def _weighted_layers(model):
    """Every layer holding weights directly, by name, nested ones included."""
    return {layer.name: layer for layer in model._flatten_layers(include_self=False, recursive=True)
            if layer.weights and not layer._layers}


def test_memory_efficient_densenet_equals_the_plain_one_and_saves(tmp_path, monkeypatch):
    """Same weights, same outputs, gradients and BN statistics; the training pass recomputes; it saves."""
    import keras
    import numpy as np
    import tensorflow as tf

    tiny = dict(num_classes=3, input_shape=(32, 32, 3), blocks=[2, 2], growth_rate=4, stem_filters=8)
    plain = cvkit.create_model("densenet121", **tiny)
    efficient = cvkit.create_model("densenet121", memory_efficient=True, **tiny)
    plain_layers, efficient_layers = _weighted_layers(plain), _weighted_layers(efficient)
    assert set(plain_layers) == set(efficient_layers)  # the same names, so weights load by name
    for name, layer in plain_layers.items():
        efficient_layers[name].set_weights([w + 0.01 * i for i, w in enumerate(layer.get_weights())])
        layer.set_weights(efficient_layers[name].get_weights())  # non-default BN statistics in both
    images = np.random.default_rng(0).uniform(0, 255, (4, 32, 32, 3)).astype("float32")
    recomputed = []
    remat = keras.remat
    monkeypatch.setattr(keras, "remat", lambda f: recomputed.append(f) or remat(f))

    def probabilities_and_gradients(model, layers):
        variables = [v for name in sorted(layers) for v in layers[name].trainable_weights]

        @tf.function  # as fit's train step runs it
        def step():
            with tf.GradientTape() as tape:
                probabilities = model(images, training=True)["probabilities"]
                loss = tf.reduce_sum(probabilities * tf.range(1.0, 4.0))
            return probabilities, tape.gradient(loss, variables)

        return step()

    expected, expected_gradients = probabilities_and_gradients(plain, plain_layers)
    assert not recomputed
    got, gradients = probabilities_and_gradients(efficient, efficient_layers)
    assert len(recomputed) == 4  # one segment per dense layer
    np.testing.assert_allclose(got, expected, atol=1e-5)
    for want, have in zip(expected_gradients, gradients, strict=True):
        np.testing.assert_allclose(have, want, atol=1e-5)
    for name in plain_layers:
        for want, have in zip(plain_layers[name].get_weights(), efficient_layers[name].get_weights()):
            np.testing.assert_allclose(have, want, atol=1e-5, err_msg=name)  # moving statistics updated once
    np.testing.assert_allclose(efficient(images)["probabilities"], plain(images)["probabilities"], atol=1e-5)
    efficient.save(tmp_path / "model.keras")
    loaded = cvkit.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(loaded(images)["probabilities"], efficient(images)["probabilities"], atol=1e-6)
