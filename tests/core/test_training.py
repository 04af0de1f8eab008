"""The training engine: run directories, training-only outputs, NaN losses."""

from __future__ import annotations

import json

import pytest

import cvkit
from cvkit import CvkitError
from cvkit.config import RunConfig

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
    assert "accuracy" in result["validation"]


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
    results = cvkit.evaluate(run)
    assert set(results) >= {"accuracy", "loss"}


@pytest.mark.parametrize("arch,size", [("densenet", 32), ("zfnet", 64), ("alexnet", 96), ("inception_v3", 96)])
def test_default_training_size_fits_the_arch(arch, size):
    config = RunConfig(arch=arch)
    from cvkit.training import preflight

    preflight(config)
    assert config.image_size == size
    assert RunConfig(arch=arch, image_size=40).image_size == 40
