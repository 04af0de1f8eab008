"""BatchNorm statistics that match the trained weights.

Keras' default BN momentum (0.99) averages the last few hundred steps, so after a short run the
moving statistics still describe the early, untrained network, and a model that scores well
with batch statistics predicts one class with its saved ones. cvkit builds every model with a
faster momentum (0.9, as torchvision's 0.1), and before the final evaluation and save it
recalibrates: the moving mean and variance become the average batch statistics of the final
weights over a few training batches.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

DEFAULT_BN_MOMENTUM = 0.9
DEFAULT_RECALIBRATION_BATCHES = 32


def batch_norm_layers(model: Any) -> list[Any]:
    """Every BatchNormalization layer in ``model``, nested models included."""
    import keras

    return [layer for layer in model._flatten_layers(include_self=False, recursive=True)
            if isinstance(layer, keras.layers.BatchNormalization)]


def set_batch_norm_momentum(model: Any, momentum: float) -> int:
    """Give every BN layer ``momentum``; returns how many there are.

    Momentum is read at call time and saved in each layer's config, so this works on any
    plugin's backbone and the saved model keeps the value.
    """
    layers = batch_norm_layers(model)
    for layer in layers:
        layer.momentum = float(momentum)
    return len(layers)


def _training_forward(model: Any) -> Any:
    """``model(images, training=True)`` compiled where the backend allows, for its BN updates."""
    import keras

    def forward(images: Any) -> None:
        model(images, training=True)

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.function(forward, reduce_retracing=True)
    return forward  # eager: the variable updates stay visible outside a trace


def recalibrate_batch_norm(model: Any, images: Iterable[Any], max_batches: int = DEFAULT_RECALIBRATION_BATCHES) -> int:
    """Set every BN layer's moving statistics to its mean batch statistics over ``images``.

    ``images`` yields input batches (training data, unaugmented). With momentum 0 each forward
    pass leaves one batch's statistics in the moving variables; their running average is
    written back at the end and the momenta restored. Returns the number of batches used
    (0 when the model has no BatchNorm or ``images`` is empty; the statistics are then untouched).
    """
    import numpy as np

    layers = batch_norm_layers(model)
    if not layers or max_batches < 1:
        return 0
    momenta = [layer.momentum for layer in layers]
    before = [(np.array(layer.moving_mean), np.array(layer.moving_variance)) for layer in layers]
    means = [np.zeros_like(mean, dtype="float64") for mean, _ in before]
    variances = [np.zeros_like(variance, dtype="float64") for _, variance in before]
    forward = _training_forward(model)
    count = 0
    try:
        for layer in layers:
            layer.momentum = 0.0
        for batch in images:
            forward(batch)
            for i, layer in enumerate(layers):
                means[i] += np.asarray(layer.moving_mean, dtype="float64")
                variances[i] += np.asarray(layer.moving_variance, dtype="float64")
            count += 1
            if count >= max_batches:
                break
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
    for i, layer in enumerate(layers):
        mean, variance = (means[i] / count, variances[i] / count) if count else before[i]
        layer.moving_mean.assign(mean.astype(before[i][0].dtype))
        layer.moving_variance.assign(variance.astype(before[i][1].dtype))
    return count
