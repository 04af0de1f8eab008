"""Helpers plugin tests call to prove they keep the contract.

>>> from cvkit.testing import assert_overfits
>>> assert_overfits("resnet18")  # a tiny instance memorises 32 images
"""

from __future__ import annotations

from typing import Any

import numpy as np


def tiny_input_shape(arch: str, size: int = 32) -> tuple[int, int, int]:
    """The smallest square input ``arch`` takes, at least ``size``, with its channel count."""
    from cvkit import get_backbone

    spec = get_backbone(arch)
    side = max(size, spec.min_input_size)
    return (side, side, spec.input_shape[-1])


def create_tiny_model(arch: str, num_classes: int = 4, size: int = 32, **overrides: Any):
    """``arch`` shrunk by its registered ``tiny`` overrides, at 32x32 (or its smallest input)."""
    from cvkit import create_model, get_backbone

    spec = get_backbone(arch)
    return create_model(
        arch, num_classes=num_classes, input_shape=tiny_input_shape(arch, size),
        **{**spec.tiny, **overrides},
    )


def assert_overfits(
    arch: str,
    *,
    num_images: int = 32,
    num_classes: int = 4,
    max_epochs: int = 150,
    learning_rate: float = 3e-3,
    target: float = 0.99,
    seed: int = 0,
    **overrides: Any,
) -> float:
    """The sanity check from the lecture notes: a tiny model memorises a tiny data set.

    Trains full-batch on ``num_images`` random images with random labels and returns the
    training accuracy; fails if it never reaches ``target`` within ``max_epochs`` steps.
    """
    import keras

    keras.utils.set_random_seed(seed)
    model = create_tiny_model(arch, num_classes=num_classes, **overrides)
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 255, (num_images, *model.input_shape[1:])).astype("float32")
    labels = rng.integers(0, num_classes, num_images)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss={"probabilities": keras.losses.SparseCategoricalCrossentropy()},
        metrics={"probabilities": [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]},
    )

    class StopAtTarget(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if (logs or {}).get("accuracy", 0.0) >= target:
                self.model.stop_training = True

    history = model.fit(
        images, {"probabilities": labels}, batch_size=num_images, epochs=max_epochs, verbose=0,
        callbacks=[StopAtTarget()],
    )
    accuracy = max(history.history["accuracy"])
    assert accuracy >= target, (
        f"{arch} reached only {accuracy:.3f} training accuracy on {num_images} images in "
        f"{len(history.history['accuracy'])} steps; the model cannot learn"
    )
    return accuracy


def fake_prepared_tfds(name: str, data_dir: str, splits: dict[str, int] | None = None, num_examples: int = 12,
                       **mock_options: Any):
    """A context in which TFDS set ``name`` looks prepared under ``data_dir``, with fake examples.

    Wraps ``tfds.testing.mock_data`` and writes the set's metadata (its splits), so loaders that
    check ``is_prepared()`` and read split sizes work offline, as with a real prepared copy.
    ``mock_options`` go to ``mock_data`` (``as_dataset_fn=`` gives examples of your own).
    """
    import contextlib
    import os

    import tensorflow_datasets as tfds

    splits = splits or {"train": num_examples, "test": num_examples}

    @contextlib.contextmanager
    def context():
        with tfds.testing.mock_data(num_examples=num_examples, data_dir=data_dir, **mock_options):
            builder = tfds.builder(name, data_dir=data_dir)
            template = lambda split: tfds.core.naming.ShardedFileTemplate(  # noqa: E731
                data_dir=builder.data_dir, dataset_name=builder.name, split=split, filetype_suffix="tfrecord")
            builder.info.set_splits(tfds.core.SplitDict([
                tfds.core.SplitInfo(name=split, shard_lengths=[count], num_bytes=0, filename_template=template(split))
                for split, count in splits.items()
            ]))
            os.makedirs(builder.data_dir, exist_ok=True)
            builder.info.write_to_directory(builder.data_dir)
            yield builder

    return context()
