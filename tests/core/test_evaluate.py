"""Evaluating a run on another data set: only one whose classes are the model's."""

from __future__ import annotations

from helpers import assert_user_error, run_cli_here

import cvkit
from cvkit.training.config import RunConfig


def test_evaluate_on_another_dataset_refuses_mismatched_classes(tmp_path):
    run = tmp_path / "run"
    spec = cvkit.get_backbone("resnet18")
    cvkit.train(RunConfig(arch="resnet18", dataset="shapes:48", epochs=1, batch_size=16,
                          backbone_params=dict(spec.tiny), out=str(run)), verbose=0)
    same = cvkit.evaluate(run, dataset="shapes:40")  # other images, the same classes
    assert "accuracy" in same

    result = run_cli_here("evaluate", str(run), "--dataset", "digits")
    assert_user_error(result, "do not match the model's", "the dataset has 0, 1", "circle")
