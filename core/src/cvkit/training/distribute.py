"""Training on several devices: ``--strategy mirrored`` and ``--strategy data-parallel``.

On TensorFlow both open a ``tf.distribute.MirroredStrategy`` scope: a model built and compiled
inside it keeps the strategy, and ``fit`` splits each batch of the (global) ``--batch-size``
across the replicas and sums their gradients. On JAX, ``data-parallel`` sets Keras'
``DataParallel`` distribution for the whole run (the model is built, trained, evaluated and saved
under it): the variables are replicated and each batch is sharded over the devices, so a
BatchNorm mean over the batch axis is a mean over the global batch (XLA adds the all-reduce) and
the replicated moving statistics are one value, the same on every device. Multi-host runs
(:mod:`cvkit.training.multihost`) are data-parallel over every process's devices.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from cvkit.errors import CvkitError, close_matches_hint

STRATEGIES = ("none", "mirrored", "data-parallel")


def check_strategy(name: Any) -> None:
    if name not in STRATEGIES:
        raise CvkitError(f"unknown strategy {name!r}{close_matches_hint(str(name), STRATEGIES)}; "
                         f"choose one of {', '.join(STRATEGIES)}")


def _backend() -> str:
    from cvkit.runtime import import_keras

    return import_keras().backend.backend()


def make_strategy(name: str) -> Any:
    """The tf.distribute strategy called ``name`` (None for ``none``, and on JAX)."""
    check_strategy(name)
    if name == "none" or name == "data-parallel" and _backend() == "jax":
        return None
    if _backend() != "tensorflow":
        raise CvkitError(f"--strategy {name} needs the TensorFlow backend; use --strategy data-parallel on "
                         f"{_backend()}, or pass --backend tensorflow")
    import tensorflow as tf

    return tf.distribute.MirroredStrategy(devices=replica_devices())


def replica_devices() -> list[str]:
    """Every visible GPU, else every (logical) CPU: a host with GPUs leaves its CPU to tf.data."""
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    return [device.name for device in gpus or tf.config.list_logical_devices("CPU")]


def check_batch_split(batch_size: int, devices: int) -> None:
    """A global batch must split evenly over the devices; the error names batch sizes that do."""
    if batch_size % devices:
        lower = batch_size // devices * devices
        works = " or ".join(str(size) for size in (lower, lower + devices) if size)
        raise CvkitError(f"--batch-size {batch_size} does not split evenly over {devices} devices; "
                         f"use a multiple of {devices}, e.g. {works}")


@contextlib.contextmanager
def distribution_scope(name: str) -> Iterator[Any]:
    """The scope models and optimizers are created in: the tf.distribute strategy's, or none."""
    strategy = make_strategy(name)
    if strategy is None:
        yield None
        return
    with strategy.scope():
        yield strategy


def uses_keras_distribution(config: Any) -> bool:
    """Whether the run trains under Keras' DataParallel (JAX data-parallel, and every multi-host run)."""
    from cvkit.training.multihost import is_multi_host

    return is_multi_host(config) or config.strategy == "data-parallel" and _backend() == "jax"


@contextlib.contextmanager
def keras_distribution(config: Any) -> Iterator[Any]:
    """The whole run under Keras' DataParallel over every device of every process (JAX), else as it is.

    Multi-host runs shard the data themselves (each process keeps its slice of each global batch,
    see :func:`batch_layout`), so Keras' own dataset sharding is off there.
    """
    if config.strategy == "data-parallel" and _backend() == "tensorflow":
        check_batch_split(config.batch_size, len(replica_devices()))
    if not uses_keras_distribution(config):
        yield None
        return
    import keras

    devices = keras.distribution.list_devices()
    check_batch_split(config.batch_size, len(devices))
    distribution = keras.distribution.DataParallel(devices=devices, auto_shard_dataset=False)
    with distribution.scope():
        yield distribution


def batch_layout(config: Any) -> tuple[bool, tuple[int, int] | None]:
    """How fit and evaluate get their batches: whether every batch must be whole (JAX shards a
    batch only into equal parts), and this process's (index, count) slice of each global batch."""
    if not uses_keras_distribution(config):
        return False, None
    count = config.num_processes or 1
    return True, ((config.process_id or 0, count) if count > 1 else None)


def check_validation_batches(num_validation: int, batch_size: int) -> None:
    """Data-parallel validation counts whole batches only, so it needs at least one."""
    if num_validation < batch_size:
        raise CvkitError(f"the validation split has {num_validation} images, fewer than one --batch-size "
                         f"{batch_size} batch, and data-parallel runs validate on whole batches; lower "
                         f"--batch-size or raise --validation-fraction")


def strategy_callbacks(name: str) -> list[Any]:
    """Callbacks a strategy's training needs: synchronized BN on TensorFlow's replicas (on JAX a
    sharded batch's moments are already global)."""
    if name == "none" or _backend() == "jax":
        return []
    from cvkit.training.sync_batch_norm import SynchronizedBatchNorm

    return [SynchronizedBatchNorm()]
