"""The Keras side of fine-tuning: freezing stages during training and the overfit check's data.

Keras traces the train step with the trainable variables of that moment, so changing what
trains needs a new train function. ``StageFreezer`` does it inside one ``fit``: it builds the
optimizer over every variable first (unfreezing then needs no new optimizer, and its state
carries over), freezes before the first epoch and unfreezes at the start of the
``--unfreeze-at`` epoch, each time asking Keras for a fresh train function. A resumed run
decides from its first epoch, so a run resumed past the unfreeze epoch trains everything.
A BatchNorm layer with ``trainable=False`` runs in inference mode in Keras, so frozen stages
keep their statistics too (and recalibration leaves them alone).
"""

from __future__ import annotations

from typing import Any

import keras

from cvkit.training.config import RunConfig
from cvkit.training.finetune import stage_layers

DROPOUT_LAYERS = (keras.layers.Dropout, keras.layers.GaussianDropout, keras.layers.AlphaDropout)


@keras.saving.register_keras_serializable(package="cvkit")
class ScaledAfter(keras.optimizers.schedules.LearningRateSchedule):
    """``schedule``'s value, times ``factor`` from optimizer step ``step`` on."""

    def __init__(self, schedule: Any, step: int, factor: float):
        self.schedule = schedule
        self.step = int(step)
        self.factor = float(factor)

    def __call__(self, step: Any) -> Any:
        value = self.schedule(step)
        return keras.ops.where(keras.ops.greater_equal(step, self.step), value * self.factor, value)

    def get_config(self) -> dict[str, Any]:
        return {"schedule": keras.saving.serialize_keras_object(self.schedule), "step": self.step, "factor": self.factor}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ScaledAfter:
        return cls(keras.saving.deserialize_keras_object(config["schedule"]), config["step"], config["factor"])


class StageFreezer(keras.callbacks.Callback):
    """Keeps the stem and the first ``--freeze-stages`` stages frozen until ``--unfreeze-at``."""

    def __init__(self, model: Any, config: RunConfig, steps_per_epoch: int, first_epoch: int):
        super().__init__()
        # layers that train unless frozen; checked now, so a bad --freeze-stages fails before anything is written
        self.layers = [layer for layer in stage_layers(model, config.freeze_stages) if layer.trainable]
        self.unfreeze_epoch = config.unfreeze_at - 1 if config.unfreeze_at else None  # 0-based, as Keras counts
        self.factor = config.finetune_lr_factor
        self.steps_per_epoch = steps_per_epoch
        self.first_epoch = first_epoch

    def on_train_begin(self, logs: dict | None = None) -> None:
        optimizer = self.model.optimizer
        if not optimizer.built:
            optimizer.build(self.model.trainable_variables)
        if self.unfreeze_epoch is not None and isinstance(optimizer._learning_rate, keras.optimizers.schedules.LearningRateSchedule):
            optimizer.learning_rate = ScaledAfter(optimizer._learning_rate, self.unfreeze_epoch * self.steps_per_epoch, self.factor)
        if self.unfreeze_epoch is None or self.first_epoch < self.unfreeze_epoch:
            self._set_trainable(False)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if epoch != self.unfreeze_epoch:
            return
        optimizer = self.model.optimizer
        if not isinstance(optimizer._learning_rate, keras.optimizers.schedules.LearningRateSchedule):
            # a plain rate (constant, plateau) is a variable the checkpoints keep, scaled once here
            optimizer.learning_rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate)) * self.factor
        self._set_trainable(True)

    def _set_trainable(self, trainable: bool) -> None:
        for layer in self.layers:
            layer.trainable = trainable
        self.model.make_train_function(force=True)


def fixed_batches(model: Any, train: Any, count: int) -> Any:
    """The overfit check's training data: the same first ``count`` batches every epoch, with
    every dropout layer of ``model`` and its optimizer's weight decay switched off."""
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, DROPOUT_LAYERS):
            layer.rate = 0.0
    model.optimizer.weight_decay = None  # AdamW decays even at --weight-decay 0
    return train.take(count).cache()
