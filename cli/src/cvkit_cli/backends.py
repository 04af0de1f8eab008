"""``--backend``: the option every command that builds or loads a model takes."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

BACKEND_HELP = ("Keras backend: tensorflow or jax (default: $KERAS_BACKEND, else tensorflow); "
                "the input pipeline stays in tf.data. See docs/backends.md.")

BackendOption = Annotated[Optional[str], typer.Option("--backend", help=BACKEND_HELP)]


def use_backend(name: Optional[str]) -> str:
    """Fix Keras' backend before the command imports Keras (a one-line error if it cannot)."""
    from cvkit.backend import set_backend

    return set_backend(name)
