"""Training on several devices of one host: ``--strategy mirrored``.

Keras does the work: a model built and compiled inside a ``tf.distribute`` strategy's scope
keeps the strategy, and ``fit`` splits each batch of the (global) ``--batch-size`` across the
replicas and sums their gradients. cvkit only opens the scope.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from cvkit.errors import CvkitError, close_matches_hint

STRATEGIES = ("none", "mirrored")


def check_strategy(name: Any) -> None:
    if name not in STRATEGIES:
        raise CvkitError(f"unknown strategy {name!r}{close_matches_hint(str(name), STRATEGIES)}; "
                         f"choose one of {', '.join(STRATEGIES)}")


def make_strategy(name: str) -> Any:
    """The tf.distribute strategy called ``name`` (None for ``none``)."""
    check_strategy(name)
    if name == "none":
        return None
    from cvkit.runtime import import_keras

    if import_keras().backend.backend() != "tensorflow":
        raise CvkitError(f"--strategy {name} needs the TensorFlow backend; set KERAS_BACKEND=tensorflow or drop --strategy")
    import tensorflow as tf

    return tf.distribute.MirroredStrategy(devices=replica_devices())


def replica_devices() -> list[str]:
    """Every visible GPU, else every (logical) CPU: a host with GPUs leaves its CPU to tf.data."""
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    return [device.name for device in gpus or tf.config.list_logical_devices("CPU")]


@contextlib.contextmanager
def distribution_scope(name: str) -> Iterator[Any]:
    """The scope models and optimizers are created in: the strategy's, or none."""
    strategy = make_strategy(name)
    if strategy is None:
        yield None
        return
    with strategy.scope():
        yield strategy


def strategy_callbacks(name: str) -> list[Any]:
    """Callbacks a strategy's training needs (none without one)."""
    if name == "none":
        return []
    from cvkit.training.sync_batch_norm import SynchronizedBatchNorm

    return [SynchronizedBatchNorm()]

