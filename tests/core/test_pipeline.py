"""The training input pipeline: seeded per-batch augmentation, memory-bounded cache and shuffle."""

from __future__ import annotations

import numpy as np

SIZE = 32
BATCH = 8


def _copies(count, seed=0):
    """``count`` copies of one random image: any difference between outputs is augmentation."""
    image = np.random.default_rng(seed).integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    return {"images": np.repeat(image[None], count, axis=0), "labels": np.zeros(count, "int32")}


def _augmented_epochs(seed, epochs=2, count=48, augmentations=("flip", "crop", "jitter")):
    """The augmented images of each epoch of a freshly built training pipeline, in order."""
    import tensorflow as tf

    from cvkit.data.augment import build_augmentation
    from cvkit.training.engine import make_pipeline

    augment = build_augmentation(list(augmentations), image_size=(SIZE, SIZE), channels=3, seed=seed)
    pipeline = make_pipeline(tf.data.Dataset.from_tensor_slices(_copies(count)), batch_size=BATCH,
                             to_xy=lambda batch: batch["images"], augment=augment, shuffle=True, seed=seed)
    return [np.concatenate(list(pipeline.as_numpy_iterator())) for _ in range(epochs)]


def test_same_seed_gives_the_same_augmented_stream_with_parallel_maps():
    first, second = _augmented_epochs(seed=5), _augmented_epochs(seed=5)
    for epoch, (a, b) in enumerate(zip(first, second), start=1):
        np.testing.assert_array_equal(a, b, err_msg=f"epoch {epoch} differs between two runs with seed 5")
    assert not np.allclose(first[0], first[1]), "epoch 2 repeated the augmentations of epoch 1"
    other = _augmented_epochs(seed=6, epochs=1)[0]
    assert not np.allclose(first[0], other), "seeds 5 and 6 gave the same augmentations"


def _stages(ds):
    """Every tf.data stage a data set is built from, itself first."""
    stages, stack = [], [ds]
    while stack:
        stage = stack.pop()
        stages.append(stage)
        stack.extend(stage._inputs())
    return stages


def _training_datasets(train, num_train):
    """``training.make_datasets`` over a train split that says it holds ``num_train`` examples."""
    from cvkit.training.config import RunConfig
    from cvkit.data.splits import DatasetInfo, DatasetSplits
    from cvkit.models.head import TaskSpec
    from cvkit.training.plan import resolve_plan
    from cvkit.training.run import Prepared, make_datasets

    classes = ("a", "b")
    info = DatasetInfo(name="test", class_names=classes, image_shape=(SIZE, SIZE, 3),
                       num_train=num_train, num_validation=4)
    splits = DatasetSplits(train=train, validation=train.take(4), info=info)
    task = TaskSpec("classification", len(classes), classes)
    plan = resolve_plan(RunConfig(image_size=SIZE, batch_size=BATCH))
    prepared = Prepared(plan, splits, task, None)
    return make_datasets(prepared, ["output"])


def _split(count):
    import tensorflow as tf

    return tf.data.Dataset.from_tensors({k: v[0] for k, v in _copies(1).items()}).repeat(count)


def _stage(stages, name):
    return next((stage for stage in stages if type(stage).__name__ == name), None)


def test_cache_and_shuffle_buffer_keep_to_the_memory_budget():
    from cvkit.training.engine import MEMORY_CACHE_BYTES, SHUFFLE_BUFFER_CAP

    count = MEMORY_CACHE_BYTES // (SIZE * SIZE * 3) + 1  # decoded, one example more than the budget
    train, validation = _training_datasets(_split(count), count)
    stages = _stages(train)
    assert _stage(stages, "CacheDataset") is None, f"a {count}-example split is cached in memory"
    assert 0 < int(_stage(stages, "_ShuffleDataset")._buffer_size) <= SHUFFLE_BUFFER_CAP
    assert _stage(_stages(validation), "CacheDataset") is not None  # its 4 examples fit

    train, _ = _training_datasets(_split(100), 100)
    stages = _stages(train)
    assert _stage(stages, "CacheDataset") is not None
    assert int(_stage(stages, "_ShuffleDataset")._buffer_size) == 100  # the whole split
    images, _ = next(iter(train))
    assert images.shape == (BATCH, SIZE, SIZE, 3)


def _third_party_augmentations():
    """A plugin with a plain function taking ``seed=`` and a Keras layer holding a SeedGenerator."""
    import types

    import keras
    import tensorflow as tf

    import cvkit

    def noise(batch, training=True, seed=None):
        shape = (tf.shape(batch["images"])[0], 1, 1, 1)
        shift = tf.random.stateless_uniform(shape, seed, 0.0, 40.0)
        return {**batch, "images": batch["images"] + shift}

    class Dim(keras.layers.Layer):  # keras' documented idiom for a random layer
        def __init__(self, seed):
            super().__init__()
            self.seed_generator = keras.random.SeedGenerator(seed)

        def call(self, batch, training=False):
            shape = (keras.ops.shape(batch["images"])[0], 1, 1, 1)
            factor = keras.random.uniform(shape, 0.5, 1.0, seed=self.seed_generator)
            return {**batch, "images": batch["images"] * factor}

    plugin = types.SimpleNamespace()

    @cvkit.hookimpl
    def register_augmentations(register):
        register("test_noise", build=lambda **_: noise, family="test")
        register("test_dim", build=lambda *, seed, **_: Dim(seed), family="test")

    plugin.register_augmentations = register_augmentations
    return plugin


def test_third_party_augmentations_draw_from_the_batch_seed():
    from cvkit.contract.plugins import get_plugin_manager

    manager = get_plugin_manager()
    manager.register(_third_party_augmentations(), name="third-party-test")
    try:
        runs = [_augmented_epochs(seed=5, augmentations=["test_noise", "test_dim"]) for _ in range(2)]
    finally:
        manager.unregister("third-party-test")
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    assert len({image.tobytes() for image in runs[0][0][:BATCH]}) == BATCH  # a draw per sample
    assert not np.allclose(runs[0][0], runs[0][1])


def _epoch_stream(first, seed=5, epochs=3, count=44):
    """Epochs ``first`` to ``epochs - 1`` of a training stream over ``count`` distinct images."""
    import tensorflow as tf

    from cvkit.data.augment import build_augmentation
    from cvkit.training.engine import make_pipeline

    images = np.random.default_rng(0).integers(0, 256, (count, SIZE, SIZE, 3), dtype=np.uint8)
    examples = {"images": images, "labels": np.arange(count, dtype="int32")}
    augment = build_augmentation(["flip", "crop", "jitter"], image_size=(SIZE, SIZE), channels=3, seed=seed)
    pipeline = make_pipeline(tf.data.Dataset.from_tensor_slices(examples), batch_size=BATCH,
                             to_xy=lambda batch: (batch["images"], batch["labels"]), augment=augment,
                             shuffle=True, seed=seed, epochs=range(first, epochs))
    batches = list(pipeline.as_numpy_iterator())
    return np.concatenate([x for x, _ in batches]), np.concatenate([y for _, y in batches])


def test_an_epoch_sees_the_same_batches_whether_the_stream_starts_there_or_earlier():
    """What makes a resumed run exact: epoch 2 depends on (seed, 2) alone, not on epochs 0 and 1."""
    count = 44  # not a multiple of the batch: the epoch boundaries must still hold
    images, labels = _epoch_stream(0, count=count)
    assert len(labels) == 3 * count
    for epoch in range(3):  # every example once per epoch, in a new order
        assert sorted(labels[epoch * count:(epoch + 1) * count]) == list(range(count))
    assert list(labels[:count]) != list(labels[count:2 * count])
    resumed_images, resumed_labels = _epoch_stream(2, count=count)
    np.testing.assert_array_equal(resumed_labels, labels[2 * count:])
    np.testing.assert_array_equal(resumed_images, images[2 * count:])
    assert not np.array_equal(_epoch_stream(2, seed=6, count=count)[1], resumed_labels)
