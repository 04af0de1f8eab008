"""Loading Keras and TensorFlow without their start-up chatter on the terminal."""

from __future__ import annotations

import importlib
import os
import sys
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
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return keras
