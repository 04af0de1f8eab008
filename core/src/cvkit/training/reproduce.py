"""Reproducible runs: per-epoch seeds, deterministic ops, callback state across a resume, the manifest."""

from __future__ import annotations

import json
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import keras

from cvkit.errors import CvkitError
from cvkit.training.config import REFERENCE_BATCH, RUN_FACTS, RunConfig

MANIFEST_FILE = "manifest.json"
# The fields of Keras callbacks that carry over from epoch to epoch (their on_train_begin resets them).
CALLBACK_STATE = {
    "EarlyStopping": ("wait", "best", "best_epoch"),
    "ReduceLROnPlateau": ("wait", "best", "cooldown_counter"),
}


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of epoch ``epoch`` (0-based) of a run seeded ``seed``; epoch 0 uses ``seed`` itself."""
    return seed if epoch == 0 else (seed * 1_000_003 + epoch) % (1 << 31)


@contextmanager
def op_determinism(enabled: bool) -> Iterator[None]:
    """Deterministic TensorFlow ops inside the block, the previous setting restored after.

    TensorFlow exposes no public way to turn determinism off again; the private switch restores
    it so a library caller's later code runs at full speed.
    """
    if not enabled or keras.backend.backend() != "tensorflow":
        yield
        return
    import tensorflow as tf
    from tensorflow.python.framework import config as tf_config

    was_enabled = tf_config.is_op_determinism_enabled()
    tf.config.experimental.enable_op_determinism()
    try:
        yield
    finally:
        if not was_enabled:
            tf_config.disable_op_determinism()


class EpochSeeds(keras.callbacks.Callback):
    """Reseeds Python, NumPy and the model's own random layers (dropout, noise) at each epoch's
    start from (seed, epoch), so an epoch's draws do not depend on the epochs before it in this
    process: a resumed run draws what an uninterrupted one does.

    Not TensorFlow's global seed: setting it clears the eager kernel cache, and every later
    training step of the process ran 2-3x slower on fewer cores (benchmarks/results). The traced
    steps draw only from the seed generators reseeded here and the pipeline's explicit seeds.
    """

    def __init__(self, seed: int):
        super().__init__()
        self.seed = seed

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        import random

        import numpy as np

        from cvkit.data.augment import _seed_generators

        seed = epoch_seed(self.seed, epoch)
        random.seed(seed)
        np.random.seed(seed)
        for index, generator in enumerate(_seed_generators(self.model)):
            generator.state.assign(np.array([seed + index, 0]).astype(generator.state.dtype))


def callback_states(callbacks: list[Any]) -> dict[str, dict[str, float]]:
    """The carried-over fields of the callbacks that have some, by class name (for state.json)."""
    states = {}
    for callback in callbacks:
        names = CALLBACK_STATE.get(type(callback).__name__)
        if names:
            states[type(callback).__name__] = {name: float(getattr(callback, name)) for name in names}
    return states


class RestoreCallbackStates(keras.callbacks.Callback):
    """Puts the saved fields back after the callbacks' own on_train_begin reset them; goes after
    them in the list. EarlyStopping's best weights come from the best epoch's checkpoint when kept."""

    def __init__(self, callbacks: list[Any], saved: dict[str, dict[str, float]], checkpoint_dir: Path):
        super().__init__()
        self.callbacks, self.saved, self.checkpoint_dir = callbacks, saved, checkpoint_dir

    def on_train_begin(self, logs: dict | None = None) -> None:
        for callback in self.callbacks:
            fields = self.saved.get(type(callback).__name__, {})
            for name, value in fields.items():
                setattr(callback, name, int(value) if name in ("wait", "best_epoch", "cooldown_counter") else value)
            if fields and getattr(callback, "restore_best_weights", False):
                best = self.checkpoint_dir / f"epoch-{int(fields['best_epoch']) + 1:03d}.keras"
                if best.is_file():
                    from cvkit.models.assembly import load_model

                    callback.best_weights = load_model(best).get_weights()


def run_facts(prepared: Any) -> dict[str, Any]:
    """What a run learns from its data and model, stored beside its config in config.json."""
    info, model = prepared.splits.info, prepared.model
    return {"resolved_arch": model.arch, "task": prepared.task.task, "class_names": list(info.class_names),
            "num_train": info.num_train, "num_validation": info.num_validation,
            "input_shape": list(model.input_shape[1:])}


def check_run_facts(expected: dict[str, Any], prepared: Any) -> None:
    """Refuse to reproduce a run whose data or model no longer gives what its config.json recorded."""
    found = run_facts(prepared)
    for key in RUN_FACTS:
        if key in expected and expected[key] != found[key]:
            raise CvkitError(f"the run config says {key}={_short(expected[key])} but this data and model give "
                             f"{_short(found[key])}, so the run cannot be reproduced; check --dataset and "
                             f"--data-dir, or delete {key} from the config file to train anyway")


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."


def manifest(config: RunConfig) -> dict[str, Any]:
    """Package versions, backend, devices and the settings that decide a run's numbers."""
    from importlib import metadata

    from cvkit.contract.plugins import get_plugin_manager

    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    devices = []
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        devices = [device.name for device in tf.config.list_logical_devices()]
    elif keras.backend.backend() == "jax":
        import jax

        devices = [str(device) for device in jax.devices()]
    return {
        "python": platform.python_version(),
        "packages": {name: version(name) for name in ("cvkit", "keras", "tensorflow", "jax", "jaxlib", "numpy")},
        "plugins": {info.distribution: info.version for info in get_plugin_manager().infos.values()},
        "backend": keras.backend.backend(), "devices": devices, "platform": platform.platform(),
        "seed": config.seed, "deterministic": config.deterministic,
        "global_batch_size": config.batch_size, "learning_rate": config.learning_rate,
        "lr_scale": config.lr_scale, "lr_reference_batch": REFERENCE_BATCH,
        "scaled_learning_rate": config.scaled_learning_rate(),
    }


def write_manifest(run_dir: Path, config: RunConfig, first_epoch: int) -> None:
    """RUN_DIR/manifest.json, atomically; a resume keeps the first entry and appends its own
    software under ``resumes``, so a run finished on other versions says so."""
    from cvkit.fileio import write_text_atomic

    path = run_dir / MANIFEST_FILE
    current = manifest(config)
    if first_epoch and path.is_file():
        kept = json.loads(path.read_text())
        software = {key: current[key] for key in ("python", "packages", "plugins", "backend", "devices")}
        kept.setdefault("resumes", []).append({"from_epoch": first_epoch, **software})
        current = kept
    write_text_atomic(path, json.dumps(current, indent=2) + "\n")
