"""--strategy mirrored on two logical CPU devices: the loss of a one-device run, and a whole run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

PROBE = Path(__file__).with_name("mirrored_probe.py")
LOSS_TOLERANCE = 1e-4  # measured: 2e-6 (float sums in another order on two devices)


@pytest.mark.slow
@pytest.mark.heavy  # a 30-second subprocess; the extended suite (-m heavy) runs it
def test_mirrored_training_matches_one_device_and_writes_a_whole_run(tmp_path):
    run = tmp_path / "run"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, str(PROBE), "resnet18", str(run)], capture_output=True, text=True,
                            env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["devices"] == 2 and report["replicas"] == 2  # the run was built under a two-device strategy
    single, mirrored = np.array(report["single"]), np.array(report["mirrored"])
    assert len(single) == len(mirrored) >= 4
    np.testing.assert_allclose(mirrored, single, rtol=0, atol=LOSS_TOLERANCE)
    assert "accuracy" in report["validation"]
    assert report["saved_batch_norm"] > 0 and not report["saved_synchronized"]  # plain BN, loads anywhere
    for name in ("model.keras", "metrics.json", "checkpoints/epoch-001.keras", "checkpoints/ema-epoch-001.npz"):
        assert (run / name).is_file(), name
    saved = json.loads((run / "config.json").read_text())
    assert saved["strategy"] == "mirrored"
