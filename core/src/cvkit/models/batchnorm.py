"""BatchNorm statistics that match the trained weights.

Keras' default BN momentum (0.99) averages the last few hundred steps, so after a short run the
moving statistics still describe the early, untrained network, and a model that scores well
with batch statistics predicts one class with its saved ones. cvkit builds every model with a
faster momentum (0.9, as torchvision's 0.1), and before the final evaluation and save it
recalibrates: the moving mean and variance become the average batch statistics of the final
weights over a few training batches.
"""

from __future__ import annotations

import weakref
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


class BatchNormRecalibrator:
    """Sets every BN layer's moving statistics to its mean batch statistics over some batches.

    With momentum 0 each forward pass in training mode leaves one batch's statistics in the
    moving variables; their average is written back at the end and the momenta restored. The
    compiled forward pass is traced once (with momentum 0) and reused, so recalibrating before
    every validation costs only the forward passes.
    """

    def __init__(self, model: Any):
        self.model = model
        self.layers = batch_norm_layers(model)
        self._forward: Any = None

    def _compiled_forward(self) -> Any:
        import keras

        def forward(images: Any) -> None:
            self.model(images, training=True)

        if self._forward is None:
            if keras.backend.backend() == "tensorflow":
                import tensorflow as tf

                self._forward = tf.function(forward, reduce_retracing=True)
            else:
                self._forward = forward  # eager: the variable updates stay visible outside a trace
        return self._forward

    def __call__(self, images: Iterable[Any], max_batches: int = DEFAULT_RECALIBRATION_BATCHES) -> int:
        """Recalibrate on up to ``max_batches`` of ``images`` (input batches, unaugmented
        training data). Returns the batches used; with none (no BN, no data) nothing changes."""
        import numpy as np

        if not self.layers or max_batches < 1:
            return 0
        momenta = [layer.momentum for layer in self.layers]
        before = [(np.array(layer.moving_mean), np.array(layer.moving_variance)) for layer in self.layers]
        sums = [(np.zeros_like(mean, dtype="float64"), np.zeros_like(var, dtype="float64")) for mean, var in before]
        count = 0
        try:
            for layer in self.layers:
                layer.momentum = 0.0
            forward = self._compiled_forward()
            for batch in images:
                forward(batch)
                for (mean_sum, var_sum), layer in zip(sums, self.layers):
                    mean_sum += np.asarray(layer.moving_mean, dtype="float64")
                    var_sum += np.asarray(layer.moving_variance, dtype="float64")
                count += 1
                if count >= max_batches:
                    break
        finally:
            for layer, momentum in zip(self.layers, momenta):
                layer.momentum = momentum
        for (mean_sum, var_sum), (mean, var), layer in zip(sums, before, self.layers):
            layer.moving_mean.assign((mean_sum / count).astype(mean.dtype) if count else mean)
            layer.moving_variance.assign((var_sum / count).astype(var.dtype) if count else var)
        return count


_RECALIBRATORS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def recalibrator_for(model: Any) -> BatchNormRecalibrator:
    """``model``'s one recalibrator: the per-epoch recalibration, the EMA's and the final one share
    its traced forward pass instead of tracing the whole model again each."""
    found = _RECALIBRATORS.get(model)
    if found is None:
        found = _RECALIBRATORS[model] = BatchNormRecalibrator(model)
    return found


def recalibrate_batch_norm(model: Any, images: Iterable[Any], max_batches: int = DEFAULT_RECALIBRATION_BATCHES) -> int:
    """Recalibrate ``model``'s BN statistics on ``images``; see :class:`BatchNormRecalibrator`."""
    return recalibrator_for(model)(images, max_batches)
