"""cvkit recalibrate: fixing the BatchNorm statistics of a run saved with stale ones."""

from __future__ import annotations

import json
import shutil

from helpers import assert_user_error, run_cli_here, write_photo_folder

import cvkit
from cvkit.training.config import RunConfig


def test_recalibrate_fixes_a_stale_run_and_refuses_in_one_line_when_its_data_is_gone(tmp_path):
    photos = write_photo_folder(tmp_path / "photos", per_class=24)
    run = tmp_path / "run"
    spec = cvkit.get_backbone("resnet18")
    # the old behaviour: Keras' slow momentum and no recalibration at the end
    cvkit.train(RunConfig(arch="resnet18", dataset=f"folder:{photos}", epochs=3, batch_size=16,
                          bn_momentum=0.99, bn_recalibration_batches=0, backbone_params=dict(spec.tiny),
                          out=str(run)), verbose=0)
    stale = json.loads((run / "metrics.json").read_text())["validation"]

    result = run_cli_here("recalibrate", str(run))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "recalibrated on 6 training batches" in result.stdout
    fixed = json.loads((run / "metrics.json").read_text())["validation"]
    assert fixed["accuracy"] >= stale["accuracy"] + 0.2, (stale, fixed)
    assert f"validation accuracy: {stale['accuracy']:.4f} -> {fixed['accuracy']:.4f}" in result.stdout
    assert cvkit.evaluate(run)["accuracy"] == fixed["accuracy"]

    saved = (run / "model.keras").read_bytes()
    shutil.rmtree(photos)
    assert_user_error(run_cli_here("recalibrate", str(run)), "cannot recalibrate the BatchNorm statistics", "photos")
    assert (run / "model.keras").read_bytes() == saved
