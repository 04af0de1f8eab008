"""Loading Keras and TensorFlow without their start-up chatter on the terminal."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType


def import_keras() -> ModuleType:
    """Import Keras (and so TensorFlow) once, hiding the C++ start-up log lines.

    TensorFlow 2.21 prints oneDNN and CUDA notices to file descriptor 2 before its logging is
    configured, so no environment variable silences them; they are dropped here, and only here.
    Python exceptions still propagate.
    """
    if "keras" in sys.modules:
        return sys.modules["keras"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        keras = importlib.import_module("keras")
        if keras.backend.backend() == "tensorflow":
            importlib.import_module("tensorflow").config.list_physical_devices()
        else:
            hide_gpus_from_tensorflow()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return keras


def hide_gpus_from_tensorflow() -> None:
    """On JAX, TensorFlow only feeds tf.data: keep it off the GPUs, or it reserves most of their memory."""
    tf = importlib.import_module("tensorflow")
    try:
        tf.config.set_visible_devices([], "GPU")
    except RuntimeError:  # TensorFlow already started its devices in this process; too late to hide them
        pass


def _has_gpu(keras: ModuleType) -> bool:
    if keras.backend.backend() == "tensorflow":
        return bool(importlib.import_module("tensorflow").config.list_physical_devices("GPU"))
    if keras.backend.backend() == "jax":
        return any(device.platform == "gpu" for device in importlib.import_module("jax").devices())
    return False


@contextmanager
def precision_policy(mixed: bool) -> Iterator[str]:
    """Build and train in mixed precision inside the block; the previous policy comes back after.

    Mixed means float16 compute on a GPU and bfloat16 on a CPU (which has no fast float16), with
    float32 variables either way. Keras keeps the policy globally, so without the restore every
    model built later in the process would be half precision too. Yields the policy's name.
    """
    keras = import_keras()
    previous = keras.mixed_precision.global_policy()
    if not mixed:
        yield previous.name
        return
    name = "mixed_float16" if _has_gpu(keras) else "mixed_bfloat16"
    keras.mixed_precision.set_global_policy(name)
    try:
        yield name
    finally:
        keras.mixed_precision.set_global_policy(previous)
