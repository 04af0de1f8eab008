"""The augmentation features end to end: a run with PCA colour and MixUp stores its colour
statistics and trains on mixed labels; evaluate --tta reports the gain; bad input is one line."""

from __future__ import annotations

import json

import pytest

from helpers import assert_user_error, run_cli_here

import cvkit
from cvkit.data.statistics import STATISTICS_FILE
from cvkit.training.config import RunConfig


@pytest.mark.slow
def test_pca_and_mixup_train_and_tta_evaluates(tmp_path):
    run = tmp_path / "run"
    spec = cvkit.get_backbone("resnet18")
    cvkit.train(RunConfig(arch="resnet18", dataset="shapes:64", epochs=1, batch_size=16, augmentations=["pca", "mixup"],
                          backbone_params=dict(spec.tiny), out=str(run)), verbose=0)
    stored = json.loads((run / STATISTICS_FILE).read_text())["rgb_pca"]
    assert len(stored["eigenvalues"]) == 3 and stored["eigenvalues"][0] >= stored["eigenvalues"][-1] > 0

    result = run_cli_here("evaluate", str(run), "--tta", "flip,crop", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["plain"] == {k: v for k, v in json.loads((run / "metrics.json").read_text())["validation"].items()
                               if k in report["plain"]}
    assert report["tta"]["loss"] != report["plain"]["loss"], "TTA changed nothing"
    assert report["gain"]["accuracy"] == report["tta"]["accuracy"] - report["plain"]["accuracy"]
    assert_user_error(run_cli_here("evaluate", str(run), "--tta", "rotate"), "has no inverse for classification")


def test_bad_augmentation_input_is_one_line_before_data_loads(tmp_path):
    out = tmp_path / "r"
    assert_user_error(run_cli_here("train", "--dataset", "digits", "--aug", "pca", "--out", str(out)),
                      "pca needs RGB images", "use jitter")
    assert not out.exists()
    assert_user_error(run_cli_here("augment", "preview", "--aug", "mixup", "--head", "localization",
                              "--out", str(tmp_path / "g.png")), "supports classification")
