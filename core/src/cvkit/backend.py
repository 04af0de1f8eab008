"""Which Keras backend cvkit runs on: TensorFlow (the default) or JAX.

Keras fixes its backend when it is first imported, from the ``KERAS_BACKEND`` environment
variable, so the choice must be made before that: ``cvkit train --backend jax`` sets it at the
start of the command, and Python code calls :func:`set_backend` before anything imports Keras.
This module imports nothing heavy.
"""

from __future__ import annotations

import os
import sys

from cvkit.errors import CvkitError, close_matches_hint

BACKENDS = ("tensorflow", "jax")
DEFAULT_BACKEND = "tensorflow"
ENV_VARIABLE = "KERAS_BACKEND"


def check_backend_name(name: str, origin: str = "--backend") -> str:
    """``name`` if cvkit supports it, else the one-line error."""
    if name not in BACKENDS:
        raise CvkitError(f"unknown backend {name!r} from {origin}{close_matches_hint(str(name), BACKENDS)}; "
                         f"choose one of {', '.join(BACKENDS)}")
    return name


def loaded_backend() -> str | None:
    """The backend of the Keras this process has imported, or None before the first import."""
    keras = sys.modules.get("keras")
    if keras is None or not hasattr(keras, "backend"):
        return None
    return keras.backend.backend()


def active_backend() -> str:
    """The backend Keras has, or will have once imported (``KERAS_BACKEND``, else TensorFlow)."""
    loaded = loaded_backend()
    if loaded is not None:
        return loaded
    return check_backend_name(os.environ.get(ENV_VARIABLE, DEFAULT_BACKEND), f"${ENV_VARIABLE}")


def set_backend(name: str | None = None) -> str:
    """Make ``name`` Keras' backend for this process (None: ``KERAS_BACKEND``, else TensorFlow).

    Call it before anything imports Keras; once Keras is loaded the backend cannot change, and
    asking for another one is an error (asking for the loaded one is fine). Returns the backend.
    """
    requested = check_backend_name(name) if name is not None else active_backend()
    loaded = loaded_backend()
    if loaded is not None and loaded != requested:
        raise CvkitError(f"Keras is already loaded with the {loaded} backend in this process, so it cannot switch to "
                         f"{requested}; set {ENV_VARIABLE}={requested} (or call cvkit.set_backend({requested!r})) "
                         f"before the first import of Keras, or use cvkit's --backend {requested}")
    os.environ[ENV_VARIABLE] = requested
    return requested


def require_tensorflow_backend(what: str, alternative: str) -> None:
    """The one-line error for a feature that only exists on TensorFlow, naming what to do instead."""
    backend = active_backend()
    if backend != "tensorflow":
        raise CvkitError(f"{what} needs the TensorFlow backend, not {backend}; {alternative}")
