"""The training engine: run directories, training-only outputs, NaN losses."""

from __future__ import annotations

import json

import pytest

import cvkit
from cvkit import CvkitError
from cvkit.training.config import RunConfig

TINY_DENSENET = {"blocks": [1, 1, 1, 1], "growth_rate": 4}


def test_training_only_outputs_are_dropped_from_the_saved_model(tmp_path):
    spec = cvkit.get_backbone("googlenet")
    assert spec.training_overrides, "googlenet trains with auxiliary classifiers"
    config = RunConfig(arch="googlenet", dataset="shapes:48", epochs=1, batch_size=16, image_size=64,
                       backbone_params=dict(spec.tiny), out=str(tmp_path / "run"))
    result = cvkit.train(config, verbose=0)
    saved = cvkit.load_model(tmp_path / "run" / "model.keras")
    assert list(saved.output) == ["probabilities"]
    training_model = cvkit.create_model("googlenet", num_classes=5, input_shape=(64, 64, 3),
                                        **{**spec.tiny, **spec.training_overrides})
    assert len(training_model.output) == 3
    assert cvkit.count_params(saved)[0] < cvkit.count_params(training_model)[0]
    assert isinstance(result, cvkit.TrainResult) and result.run_dir == tmp_path / "run"
    assert "accuracy" in result.validation


def test_nan_loss_stops_with_a_clear_message(tmp_path):
    config = RunConfig(arch="densenet", dataset="shapes:64", epochs=3, batch_size=16, optimizer="sgd",
                       learning_rate=1e30, schedule="constant", backbone_params=TINY_DENSENET,
                       out=str(tmp_path / "run"))
    with pytest.raises(CvkitError, match="loss became NaN.*lower --lr"):
        cvkit.train(config, verbose=0)
    assert not (tmp_path / "run" / "model.keras").exists()
    assert (tmp_path / "run" / "config.json").exists()  # the run is kept for inspection


def test_run_directory_holds_config_metrics_and_checkpoints(tmp_path):
    run = tmp_path / "run"
    config = RunConfig(arch="densenet", dataset="digits", epochs=2, batch_size=64, limit=128,
                       backbone_params=TINY_DENSENET, augmentations=["flip"], out=str(run))
    cvkit.train(config, verbose=0)
    saved = json.loads((run / "config.json").read_text())
    assert saved["arch"] == "densenet" and saved["resolved_arch"] == "densenet121"
    assert saved["class_names"] == [str(d) for d in range(10)] and saved["num_train"] == 128
    lines = (run / "metrics.csv").read_text().strip().splitlines()
    assert lines[0].startswith("epoch") and len(lines) == 3
    state = json.loads((run / "checkpoints" / "state.json").read_text())
    assert state["epoch"] == 2 and (run / "checkpoints" / state["checkpoint"]).is_file()
    assert (run / "curves.png").stat().st_size > 1000
    results = cvkit.evaluate(run)  # the saved model alone reproduces the run's final scores
    assert set(results) >= {"accuracy", "loss"}
    assert results == pytest.approx(json.loads((run / "metrics.json").read_text())["validation"], abs=1e-5)


@pytest.mark.parametrize("arch,size", [("densenet", 32), ("zfnet", 64), ("alexnet", 96), ("inception_v3", 96)])
def test_default_training_size_fits_the_arch(arch, size):
    config = RunConfig(arch=arch)
    from cvkit.training.run import preflight

    plan = preflight(config)
    assert plan.image_size == plan.config.image_size == size
    assert config.image_size is None  # the user's config is not changed
    explicit = RunConfig(arch=arch, image_size=size + 8)
    assert preflight(explicit).image_size == size + 8  # a size the user gave is kept



def _conv_policies(model) -> set[str]:
    import keras

    return {layer.dtype_policy.name for layer in model.layers if isinstance(layer, keras.layers.Conv2D)}


def _mixed_policy() -> str:
    import tensorflow as tf

    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"


def test_mixed_precision_is_scoped_to_the_run(tmp_path, monkeypatch):
    import keras

    seen, fit = [], keras.Model.fit

    def recording_fit(model, *args, **kwargs):
        seen.append(_conv_policies(model))
        return fit(model, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", recording_fit)
    config = RunConfig(arch="densenet", dataset="shapes:32", epochs=1, batch_size=16, mixed_precision=True,
                       backbone_params=TINY_DENSENET, out=str(tmp_path / "run"))
    cvkit.train(config, verbose=0)
    assert seen == [{_mixed_policy()}]  # the run computed in half precision
    assert keras.mixed_precision.global_policy().name == "float32"  # and the process does not any more
    later = cvkit.create_model("densenet", num_classes=3, input_shape=(32, 32, 3), **TINY_DENSENET)
    assert {v.dtype for v in later.weights} == {"float32"} and _conv_policies(later) == {"float32"}


def test_precision_policy_is_restored_after_an_error():
    import keras

    from cvkit.runtime import precision_policy

    keras.mixed_precision.set_global_policy("float64")
    try:
        with pytest.raises(RuntimeError, match="inside"), precision_policy(True) as name:
            assert keras.mixed_precision.global_policy().name == name == _mixed_policy()
            raise RuntimeError("inside")
        assert keras.mixed_precision.global_policy().name == "float64"
        with precision_policy(False) as name:
            assert keras.mixed_precision.global_policy().name == name == "float64"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_jit_compile_follows_keras_auto_unless_a_flag_says(monkeypatch):
    from cvkit.models.head import TaskSpec
    from cvkit.training.run import compile_model, preflight

    plan = preflight(RunConfig(arch="densenet", backbone_params=TINY_DENSENET))
    model = cvkit.create_model("densenet", num_classes=3, input_shape=(32, 32, 3), **TINY_DENSENET)
    task = TaskSpec(task="classification", num_classes=3, class_names=("a", "b", "c"))
    passed = []
    compile_ = model.compile
    monkeypatch.setattr(model, "compile", lambda **kw: passed.append(kw["jit_compile"]) or compile_(**kw))
    compile_model(model, plan, task, "adam", RunConfig().jit_compile)
    compile_model(model, plan, task, "adam", RunConfig(jit_compile=False).jit_compile)
    assert passed == ["auto", False]  # auto: XLA on a GPU, off on a CPU


def test_no_callback_copies_the_loss_to_the_host_every_step():
    import keras

    from cvkit.training.engine import AtomicCheckpoint

    # A per-batch hook makes Keras hand over the step's logs as numbers: a host sync per step.
    assert AtomicCheckpoint.on_train_batch_end is keras.callbacks.Callback.on_train_batch_end


def test_the_optimizer_is_built_before_the_first_traced_step(tmp_path, monkeypatch):
    """Keras without a strategy builds the optimizer inside the first traced step, where each slot
    variable takes the slow lifted-initializer path (20 s of densenet121's first step)."""
    import keras

    built, fit = [], keras.Model.fit

    def recording_fit(model, *args, **kwargs):
        built.append((model.optimizer.built, len(model.optimizer.variables)))
        return fit(model, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", recording_fit)
    config = RunConfig(arch="densenet", dataset="shapes:32", epochs=1, batch_size=16,
                       backbone_params=TINY_DENSENET, out=str(tmp_path / "run"))
    cvkit.train(config, verbose=0)
    assert built and built[0][0] and built[0][1] > 2  # the slots exist, not only the iteration count
