"""BatchNorm moments over the global batch while a tf.distribute strategy trains."""

from __future__ import annotations

import keras

from cvkit.models.batchnorm import batch_norm_layers


class SynchronizedBatchNorm(keras.callbacks.Callback):
    """BatchNorm statistics over the whole ``--batch-size`` while training, as on one device.

    Each replica sees only its share of the global batch; synchronized BN all-reduces the
    moments, so the loss matches a single-device run. The flag is read when the training step
    is traced (at its first batch) and is off between epochs, so checkpoints and the saved
    model keep plain BN, which loads on any backend.
    """

    def _set(self, on: bool) -> None:
        for layer in batch_norm_layers(self.model):
            layer.synchronized = on

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._set(True)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._set(False)
