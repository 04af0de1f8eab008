"""Pieces the training engine assembles: data pipelines, optimizers, schedules, callbacks."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import keras

from cvkit.training.config import RunConfig
from cvkit.fileio import write_atomic, write_text_atomic
from cvkit.training.files import CHECKPOINT_DIR, KEEP_FILE, STATE_FILE



# A split is cached in memory only when its decoded examples fit in this many bytes; a larger
# one is read again each epoch (TFDS decodes in parallel) rather than exhausting memory.
MEMORY_CACHE_BYTES = 1 << 30
SHUFFLE_BUFFER_CAP = 10_000  # examples
SHUFFLE_BUFFER_BYTES = 256 << 20


def example_bytes(element_spec: Any) -> int | None:
    """The bytes one example of a data set takes once decoded (None when a size is dynamic)."""
    import tensorflow as tf

    total = 0
    for spec in tf.nest.flatten(element_spec):
        count = spec.shape.num_elements()
        if count is None:
            return None
        total += count * spec.dtype.size
    return total


def shuffle_buffer_size(num_examples: int | None, one_example: int | None) -> int:
    """Examples in the shuffle buffer: the whole split when small, capped in count and in bytes."""
    size = min(num_examples or SHUFFLE_BUFFER_CAP, SHUFFLE_BUFFER_CAP)
    if one_example:
        size = min(size, max(1, SHUFFLE_BUFFER_BYTES // one_example))
    return size


def make_pipeline(ds: Any, *, batch_size: int, to_xy: Any, augment: Any = None, shuffle: bool = False,
                  seed: int = 0, num_examples: int | None = None, epochs: range | None = None,
                  steps_per_epoch: int | None = None, full_batches: bool = False,
                  shard: tuple[int, int] | None = None) -> Any:
    """Cache (when it fits in memory), shuffle, batch, augment on parallel threads, map to (x, y), prefetch.

    ``augment(batch, batch_seed)`` gets a stateless seed per batch, so runs with the same seed
    see the same augmented batches in any thread order. Without ``epochs`` each pass over the
    data set is one epoch with fresh draws. With ``epochs`` (a range of epoch indices) one data
    set holds them all, each ``steps_per_epoch`` batches (default: one pass) shuffled and
    augmented by (seed, epoch) alone, so a run resumed at epoch e sees what an uninterrupted one does.
    ``full_batches``: every batch whole (an epoch's last one filled from the epoch's start, a
    validation remainder dropped); ``shard`` (index, count): keep this process's slice of each batch.
    """
    import tensorflow as tf

    if num_examples is None:
        count = int(ds.cardinality())  # negative: unknown or infinite
        num_examples = count if count >= 0 else None
    one_example = example_bytes(ds.element_spec)
    if one_example and num_examples is not None and one_example * num_examples <= MEMORY_CACHE_BYTES:
        ds = ds.cache()
    buffer = shuffle_buffer_size(num_examples, one_example)
    if epochs is not None and num_examples:
        epoch_examples = steps_per_epoch * batch_size if steps_per_epoch else num_examples
        if full_batches:
            epoch_examples = -(-epoch_examples // batch_size) * batch_size
        ds = _epoch_stream(ds, epochs, batch_size, epoch_examples, seed, buffer if shuffle else None)
    else:
        if shuffle:
            ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
        batch_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        ds = tf.data.Dataset.zip(ds.batch(batch_size, drop_remainder=full_batches), batch_seeds)
    if shard is not None:
        ds = ds.map(lambda b, batch_seed: _slice_batch(b, batch_seed, batch_size, *shard))
    parallel = dict(num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.map(lambda b, batch_seed: ({**b, "images": tf.cast(b["images"], tf.float32)}, batch_seed), **parallel)
    ds = ds.map(augment if augment is not None else lambda b, _: b, **parallel)
    ds = ds.map(to_xy, **parallel)
    return ds.prefetch(tf.data.AUTOTUNE)


def _slice_batch(batch: Any, batch_seed: Any, batch_size: int, index: int, count: int) -> tuple[Any, Any]:
    """Process ``index``'s contiguous part of a global batch, and a batch seed of its own (the
    same seed on every slice would give each process's k-th image the same augmentation)."""
    import tensorflow as tf

    size = batch_size // count
    part = tf.nest.map_structure(lambda t: t[index * size:(index + 1) * size], batch)
    return part, tf.stack([batch_seed[0], batch_seed[1] * count + index])


def _epoch_stream(ds: Any, epochs: range, batch_size: int, epoch_examples: int, seed: int, buffer: int | None) -> Any:
    """(batch, batch_seed) pairs of ``epochs``, ``epoch_examples`` examples each; epoch e's order and
    seeds depend only on (seed, e). The split repeats to fill the epoch, so a split smaller than
    its stated size cannot shift the epoch boundaries Keras counts in steps."""
    import tensorflow as tf

    def one_epoch(epoch: Any) -> Any:
        # Traced as a graph function: this fixes its own graph-level seed (not the process's), so the
        # shuffle seed is epoch_key alone (TensorFlow also cannot take a tensor seed with global seed 0).
        tf.random.set_seed(1)
        epoch_key = tf.constant(seed, tf.int64) * 1_000_003 + epoch
        examples = ds.shuffle(buffer, seed=epoch_key) if buffer else ds
        batches = examples.repeat().take(epoch_examples).batch(batch_size)
        batch_seeds = tf.data.Dataset.range(-(-epoch_examples // batch_size)).map(lambda step: tf.stack([epoch_key, step]))
        return tf.data.Dataset.zip(batches, batch_seeds)

    return tf.data.Dataset.range(epochs.start, epochs.stop, dtype=tf.int64).flat_map(one_epoch)


def make_schedule(config: RunConfig, steps_per_epoch: int) -> Any:
    """The learning rate as a float or a Keras schedule (plateau is a callback instead)."""
    lr = config.scaled_learning_rate()
    total = max(1, config.epochs * steps_per_epoch)
    warmup = config.warmup_epochs * steps_per_epoch
    if config.schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(
            0.0 if warmup else lr, decay_steps=max(1, total - warmup),
            warmup_target=lr if warmup else None, warmup_steps=warmup,
        )
    if config.schedule == "step":
        boundaries = [e * steps_per_epoch for e in range(config.step_epochs, config.epochs, config.step_epochs)]
        values = [lr * config.decay_rate**i for i in range(len(boundaries) + 1)]
        return keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values) if boundaries else lr
    if config.schedule == "exponential":
        return keras.optimizers.schedules.ExponentialDecay(lr, decay_steps=steps_per_epoch, decay_rate=config.decay_rate ** (1 / max(1, config.step_epochs)))
    return lr


def make_optimizer(config: RunConfig, steps_per_epoch: int, model: Any = None) -> keras.optimizers.Optimizer:
    """The configured optimizer; with ``model``, weight decay skips its BatchNorm and bias variables."""
    lr = make_schedule(config, steps_per_epoch)
    common: dict[str, Any] = {"learning_rate": lr}
    if config.clipnorm:
        common["clipnorm"] = config.clipnorm
    if config.weight_decay and config.optimizer != "adamw":
        common["weight_decay"] = config.weight_decay
    if config.optimizer == "sgd":
        optimizer = keras.optimizers.SGD(momentum=config.momentum, nesterov=config.nesterov, **common)
    elif config.optimizer == "adam":
        optimizer = keras.optimizers.Adam(**common)
    elif config.optimizer == "adamw":
        optimizer = keras.optimizers.AdamW(weight_decay=config.weight_decay or 0.004, **common)
    elif config.optimizer == "rmsprop":
        optimizer = keras.optimizers.RMSprop(momentum=config.momentum, **common)
    else:
        optimizer = keras.optimizers.Adagrad(**common)
    if model is not None and optimizer.weight_decay:
        optimizer.exclude_from_weight_decay(var_list=decay_exempt_variables(model))
    return optimizer


def decay_exempt_variables(model: Any) -> list[Any]:
    """Variables weight decay should not shrink: biases and normalisation scales and offsets.

    Decaying them only fights the normalisation (a BN scale has no size to regularise), so
    every vector-shaped trainable variable is exempt, as in timm and torchvision's recipes.
    """
    return [variable for variable in model.trainable_variables if len(variable.shape) <= 1]


def head_callbacks(prepared: Any, outputs: list[str]) -> list[Any]:
    """The head's ``Objectives.validation_callbacks``, each given the validation split."""
    from cvkit.contract.registry import resolve_callable

    plan = prepared.plan
    objectives = resolve_callable(plan.head.objectives)(prepared.task, outputs, **plan.head_params)
    return [make(prepared.splits.validation) for make in objectives.validation_callbacks]


class RecalibrateBeforeValidation(keras.callbacks.Callback):
    """Recalibrates the BN statistics on a few training batches before each validation.

    Momentum 0.9 follows the weights, but its average over the last few batches is noisy: a
    validation score can dip 10+ points below what the same weights score with settled
    statistics. A few forward passes per epoch remove the dip.
    """

    def __init__(self, images: Any, batches: int, stream: bool = False):
        super().__init__()
        self.images = images  # with ``stream``: one data set of ``batches`` batches per epoch, read on
        self.batches = batches
        self._source = iter(images) if stream else None

    def on_test_begin(self, logs: dict | None = None) -> None:
        from cvkit.models.batchnorm import recalibrator_for

        recalibrator_for(self.model)(self.images if self._source is None else self._source, self.batches)


class AtomicCheckpoint(keras.callbacks.Callback):
    """Saves the model with its optimizer state after every epoch, atomically, plus the epoch.

    A NaN loss stops the run before the bad weights are saved, so the last checkpoint stays good.
    It is checked once an epoch from the epoch's mean loss (NaN if any batch's was): a per-batch
    check would copy the loss to the host after every step and stall a GPU.
    """

    def __init__(self, run_dir: Path, keep: int = 3, states: Any = None):
        super().__init__()
        self.dir = Path(run_dir) / CHECKPOINT_DIR
        self.keep = keep
        self.states = states  # () -> the other callbacks' state, saved in state.json for a resume
        self.nan_epoch: int | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if self.nan_epoch is not None or not all(math.isfinite(float(v)) for k, v in logs.items() if "loss" in k):
            self.nan_epoch = epoch + 1
            self.model.stop_training = True
            return
        path = self.dir / f"epoch-{epoch + 1:03d}.keras"
        write_atomic(path, lambda tmp: self.model.save(tmp))
        state = {"epoch": epoch + 1, "checkpoint": path.name, "metrics": {k: float(v) for k, v in logs.items()}}
        if self.states:
            state["callbacks"] = self.states()
        write_text_atomic(self.dir / STATE_FILE, json.dumps(state, indent=2) + "\n")
        prune_checkpoints(self.dir, self.keep)  # only once state.json names a newer one


def prune_checkpoints(checkpoint_dir: Path, keep: int) -> None:
    """Delete all but the last ``keep`` epoch checkpoints, sparing those keep.json names
    (``cvkit average --keep-best``)."""
    keep_file = checkpoint_dir / KEEP_FILE
    spared = set(json.loads(keep_file.read_text()).get("keep", [])) if keep_file.is_file() else set()
    for old in epoch_checkpoints(checkpoint_dir)[:-keep]:
        if old.name not in spared:
            old.unlink(missing_ok=True)


def epoch_checkpoints(checkpoint_dir: Path) -> list[Path]:
    """The epoch checkpoints of a run, oldest first."""
    return sorted(Path(checkpoint_dir).glob("epoch-*.keras"))



def plot_curves(metrics_csv: Path, out_png: Path) -> None:
    """Loss and accuracy curves, train and validation, from metrics.csv."""
    import csv

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(metrics_csv) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return
    epochs = [int(r["epoch"]) + 1 for r in rows]
    panels = [("loss", "loss"), ("accuracy", "accuracy")]
    keys = rows[0].keys()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, (title, suffix) in zip(axes, panels):
        train_keys = [k for k in keys if k.endswith(suffix) and not k.startswith("val_") and ("aux" not in k)]
        for key in train_keys[:1]:
            ax.plot(epochs, [float(r[key]) for r in rows], "o-", label=f"train {key}")
            if f"val_{key}" in keys:
                ax.plot(epochs, [float(r[f"val_{key}"]) for r in rows], "s-", label=f"validation {key}")
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend()
    fig.tight_layout()
    write_atomic(out_png, lambda tmp: fig.savefig(tmp, dpi=100))
    plt.close(fig)
