"""A plugin's bug inside the data pipeline reaches the user as one line naming the plugin."""

from __future__ import annotations

import pytest

from helpers import assert_user_error, run_cli, write_dist

BROKEN = '''
import cvkit


class Broken:
    def __call__(self, batch, training=True):
        raise ValueError("boom while tracing")


class BrokenAtRunTime:
    def __call__(self, batch, training=True):
        import tensorflow as tf

        def fail(images):
            raise RuntimeError("boom while running")

        images = tf.py_function(fail, [batch["images"]], tf.float32)
        return {**batch, "images": tf.ensure_shape(images, batch["images"].shape)}


def build_broken(*, image_size, channels, seed):
    return Broken()


def build_broken_at_run_time(*, image_size, channels, seed):
    return BrokenAtRunTime()


def load_broken(**_):
    raise KeyError("no such column")


@cvkit.hookimpl
def register_augmentations(register):
    register("broken", build="cvkit_broken_aug:build_broken", family="test")
    register("broken_at_run_time", build="cvkit_broken_aug:build_broken_at_run_time", family="test")


def build_head(features, task, **_):
    import keras

    pooled = keras.layers.GlobalAveragePooling2D()(features.last)
    return {"probabilities": keras.layers.Dense(task.num_classes, activation="softmax")(pooled)}


def head_objectives(task, outputs, **_):
    import keras

    return cvkit.Objectives(losses={name: keras.losses.SparseCategoricalCrossentropy() for name in outputs})


def broken_targets(batch, outputs, task, **_):
    raise IndexError("no target for you")


@cvkit.hookimpl
def register_heads(register):
    register("brokenhead", build=build_head, objectives=head_objectives, targets=broken_targets,
             tasks={"classification"})


@cvkit.hookimpl
def register_datasets(register):
    register("brokenset", load="cvkit_broken_aug:load_broken", tasks={"classification"})
'''

TRAIN = ("train", "--arch", "lenet", "--epochs", "1", "--batch-size", "8", "--image-size", "32")


@pytest.fixture
def env(tmp_path):
    write_dist(tmp_path / "site", "cvkit-broken-aug", {"brokenaug": "cvkit_broken_aug"}, {"cvkit_broken_aug": BROKEN})
    return {"PYTHONPATH": str(tmp_path / "site")}


@pytest.mark.parametrize("aug", ["broken", "broken_at_run_time"])
def test_a_failing_augmentation_is_one_line_naming_it(env, tmp_path, aug):
    out = tmp_path / "run"
    result = run_cli(*TRAIN, "--dataset", "shapes:16", "--aug", aug, "--out", str(out), env=env)
    assert_user_error(result, f"augmentation {aug!r}", "'cvkit-broken-aug'", "boom while")
    assert not out.exists() or not any(out.iterdir())


def test_a_failing_dataset_loader_is_one_line_naming_it(env, tmp_path):
    result = run_cli(*TRAIN, "--dataset", "brokenset", "--out", str(tmp_path / "run"), env=env)
    assert_user_error(result, "dataset 'brokenset'", "'cvkit-broken-aug'", "KeyError")


def test_a_failing_head_targets_function_is_one_line_naming_it(env, tmp_path):
    result = run_cli(*TRAIN, "--dataset", "shapes:16", "--head", "brokenhead", "--out", str(tmp_path / "run"), env=env)
    assert_user_error(result, "head 'brokenhead'", "'cvkit-broken-aug'", "IndexError: no target for you")
