"""Model EMA: an exponential moving average of the weights, validated beside them and saved.

Keras optimizers have ``use_ema``, but with a fixed momentum from the second step on: with 0.999
the average holds the random start for thousands of steps, and its accuracy sits near chance for
many epochs (keras-team/keras#18949, pytorch-image-models#1182). This average warms up as
TensorFlow's ``ExponentialMovingAverage(num_updates=...)`` does: after step t the decay is
``min(decay, (1 + t) / (10 + t))``, so early on it follows the weights and later it smooths them.
Like timm's ModelEmaV3 it averages every float weight, BatchNorm statistics included; those are
recalibrated for the averaged weights before each validation and before the save.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import keras
import numpy as np

from cvkit.errors import CvkitError
from cvkit.training.files import CHECKPOINT_DIR

EMA_PREFIX = "val_ema_"
_EMA_FILE = re.compile(r"^ema-epoch-(\d+)\.npz$")


def warmup_decay(decay: float, step: Any) -> Any:
    """The decay after ``step`` optimizer steps: ``min(decay, (1 + step) / (10 + step))``."""
    step = keras.ops.cast(step, "float32")
    return keras.ops.minimum(decay, (1.0 + step) / (10.0 + step))


def ema_file(run_dir: Path, epoch: int) -> Path:
    """The averaged weights after ``epoch`` (1-based), beside that epoch's checkpoint."""
    return Path(run_dir) / CHECKPOINT_DIR / f"ema-epoch-{epoch:03d}.npz"


def averaged_variables(model: Any) -> list[Any]:
    """The weights the average covers: every float weight (seed states and counters are not)."""
    return [v for v in model.weights if "float" in str(v.dtype)]


class WeightEma(keras.callbacks.Callback):
    """Keeps the moving average after every training step and validates it after every epoch.

    The epoch's logs get ``val_ema_<metric>`` (a CSVLogger after this callback writes them), and
    the average is stored in ``checkpoints/ema-epoch-NNN.npz`` before the epoch checkpoint that
    a resumed run starts from. ``apply`` puts the average into the model for the final save.
    """

    def __init__(self, decay: float, run_dir: Path | None = None, *, validation: Any = None,
                 recalibration_images: Any = None, recalibration_batches: int = 0,
                 first_epoch: int = 0, warmup: bool = True):
        super().__init__()
        self.decay = float(decay)
        self.run_dir = Path(run_dir) if run_dir else None
        self.validation = validation
        self.recalibration_images = recalibration_images
        self.recalibration_batches = recalibration_batches
        self.first_epoch = first_epoch
        self.warmup = warmup
        self.averages: list[Any] = []
        self._update: Any = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        variables = averaged_variables(self.model)
        self.averages = [keras.Variable(np.array(v), trainable=False, name="ema") for v in variables]
        if self.first_epoch and self.run_dir:
            self.load(ema_file(self.run_dir, self.first_epoch))

    def _current_decay(self) -> Any:
        iterations = self.model.optimizer.iterations
        return warmup_decay(self.decay, iterations) if self.warmup else keras.ops.convert_to_tensor(self.decay)

    def _step(self) -> None:
        decay = self._current_decay()
        for average, variable in zip(self.averages, averaged_variables(self.model)):
            average.assign(decay * average + (1.0 - decay) * keras.ops.cast(variable, average.dtype))

    def _jax_step(self) -> Any:
        """The step on JAX: fit keeps the weights outside the variables during an epoch, so they
        are synced back first; one compiled blend, not 3 eager ops per weight."""
        import jax

        @jax.jit
        def blend(averages: list, values: list, decay: Any) -> list:
            return [decay * a + (1.0 - decay) * v.astype(a.dtype) for a, v in zip(averages, values)]

        def step() -> None:
            self.model.jax_state_sync()
            values = [v.value for v in averaged_variables(self.model)]
            for average, new in zip(self.averages, blend([a.value for a in self.averages], values, self._current_decay())):
                average.assign(new)

        return step

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self._update is None:
            self._update = self._step
            if keras.backend.backend() == "tensorflow":
                import tensorflow as tf

                self._update = tf.function(self._step, autograph=False)  # one graph, not 3 eager ops per weight
            elif keras.backend.backend() == "jax":
                self._update = self._jax_step()
        self._update()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is None or not all(math.isfinite(float(v)) for k, v in logs.items() if "loss" in k):
            return  # a NaN epoch: the run stops without a checkpoint, so the average is not kept either
        if self.validation is not None:
            logs.update(self.evaluate())
        if self.run_dir:
            self.save(ema_file(self.run_dir, epoch + 1))
            self.prune(epoch + 1)

    def evaluate(self) -> dict[str, float]:
        """The averaged model's validation metrics, the training weights put back afterwards."""
        variables = averaged_variables(self.model)
        training = [np.array(v) for v in variables]
        try:
            self.apply(self.model)
            scores = self.model.evaluate(self.validation, verbose=0, return_dict=True)
        finally:
            for variable, value in zip(variables, training):
                variable.assign(value)
        return {EMA_PREFIX + name: float(value) for name, value in scores.items()}

    def apply(self, model: Any, recalibrate: bool = True) -> None:
        """Put the average into ``model`` and (unless the caller does) recalibrate its BN statistics."""
        for variable, average in zip(averaged_variables(model), self.averages):
            variable.assign(keras.ops.copy(average))  # a buffer of its own: JAX's fit and evaluate donate theirs
        if recalibrate and self.recalibration_images is not None and self.recalibration_batches:
            from cvkit.models.batchnorm import recalibrator_for

            recalibrator_for(model)(self.recalibration_images, self.recalibration_batches)

    def save(self, path: Path) -> None:
        from cvkit.fileio import write_atomic

        arrays = {f"w{i}": np.array(a) for i, a in enumerate(self.averages)}
        write_atomic(path, lambda tmp: _save_npz(tmp, arrays))

    def load(self, path: Path) -> None:
        """The average a run stored with its checkpoint (a resumed run continues it)."""
        if not path.is_file():
            raise CvkitError(f"{path} is missing, so the weight average (--ema) cannot continue; "
                             f"delete the run and start again with --out")
        with np.load(path) as stored:
            if len(stored.files) != len(self.averages):
                raise CvkitError(f"{path} does not hold this model's weight average; delete the run and start again")
            for i, average in enumerate(self.averages):
                average.assign(stored[f"w{i}"])

    def prune(self, newest: int) -> None:
        """Drop averages whose epoch checkpoint pruning removed (the newest is always kept)."""
        folder = self.run_dir / CHECKPOINT_DIR
        for path in folder.glob("ema-epoch-*.npz"):
            match = _EMA_FILE.match(path.name)
            epoch = int(match.group(1)) if match else newest
            if epoch < newest and not (folder / f"epoch-{epoch:03d}.keras").is_file():
                path.unlink(missing_ok=True)


def ema_callback(config: Any, run_dir: Path, validation: Any, recalibration_images: Any,
                 first_epoch: int) -> WeightEma | None:
    """The run's weight average (None without ``--ema``), validated with the same BN recalibration
    as the training weights get before each validation."""
    if not config.ema:
        return None
    from cvkit.training.run import EPOCH_RECALIBRATION_BATCHES

    batches = min(EPOCH_RECALIBRATION_BATCHES, config.bn_recalibration_batches)
    return WeightEma(config.ema, run_dir, validation=validation, recalibration_images=recalibration_images,
                     recalibration_batches=batches, first_epoch=first_epoch)


def _save_npz(path: str, arrays: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as f:  # a file object: np.savez would append .npz to the name
        np.savez(f, **arrays)
