"""Run by test_distribute.py in a fresh process: two logical CPUs must exist before TensorFlow starts.

Prints one JSON line: the per-step training losses of a one-device and a mirrored run of the same
model on the same fixed batches, and what a whole ``cvkit.train`` under the strategy wrote.
"""

from __future__ import annotations

import json
import sys

import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

import cvkit  # noqa: E402
from cvkit.models.batchnorm import batch_norm_layers  # noqa: E402
from cvkit.training import run as run_module  # noqa: E402
from cvkit.training.config import RunConfig  # noqa: E402
from cvkit.training.distribute import distribution_scope, strategy_callbacks  # noqa: E402
from cvkit.training.engine import make_optimizer  # noqa: E402
from cvkit.training.plan import resolve_plan  # noqa: E402


class StepLosses(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.losses: list[float] = []

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(float(logs["loss"]))


def step_losses(config: RunConfig, epochs: int = 1) -> list[float]:
    """Keras' running training loss after each step, on batches fixed in advance (so both runs see the same)."""
    keras.utils.set_random_seed(0)
    with distribution_scope(config.strategy):
        prepared = run_module.prepare(resolve_plan(config))
        outputs = run_module.compile_model(prepared.model, prepared.plan, prepared.task,
                                           make_optimizer(config, 4, prepared.model))
    train, _ = run_module.make_datasets(prepared, outputs, augment=False)
    images, targets = zip(*[(np.array(x), {k: np.array(v) for k, v in y.items()}) for x, y in train])
    fixed = tf.data.Dataset.from_tensor_slices(
        (np.concatenate(images), {k: np.concatenate([t[k] for t in targets]) for k in targets[0]})
    ).batch(config.batch_size)
    recorder = StepLosses()
    prepared.model.fit(fixed, epochs=epochs, verbose=0, shuffle=False,
                       callbacks=[*strategy_callbacks(config.strategy), recorder])
    return recorder.losses


def main(arch: str, out: str) -> None:
    tiny = dict(cvkit.get_backbone(arch).tiny)
    common = dict(arch=arch, dataset="shapes:80", batch_size=16, image_size=32, backbone_params=tiny,
                  optimizer="sgd", learning_rate=0.01, schedule="constant")
    single = step_losses(RunConfig(**common))
    mirrored = step_losses(RunConfig(**common, strategy="mirrored"))
    replicas = []
    compile_model = run_module.compile_model

    def recording_compile(model, *args, **kwargs):
        replicas.append(tf.distribute.get_strategy().num_replicas_in_sync)
        return compile_model(model, *args, **kwargs)

    run_module.compile_model = recording_compile
    result = cvkit.train(RunConfig(**common, strategy="mirrored", epochs=1, ema=0.99, out=out), verbose=0)
    saved = batch_norm_layers(cvkit.load_model(f"{out}/model.keras"))
    print(json.dumps({"single": single, "mirrored": mirrored, "replicas": replicas[0],
                      "saved_batch_norm": len(saved), "saved_synchronized": any(layer.synchronized for layer in saved),
                      "devices": len(tf.config.list_logical_devices("CPU")), "validation": result.validation}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
