"""The contract on the JAX backend too, and model files moving between the backends.

A process holds one backend, so the JAX side runs in one subprocess (jax_contract.py: one
start-up and one set of compiles for every family, head and augmentation); this process is on
TensorFlow and writes, then reads, the .keras files that cross over.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cvkit

SCRIPT = Path(__file__).with_name("jax_contract.py")


def _tensorflow_model_file(work: Path) -> None:
    from cvkit.testing import create_tiny_model

    model = create_tiny_model("resnet18", num_classes=3)
    # whole numbers: the SavedModel takes uint8 images, the Keras models the same values as floats
    images = np.round(np.random.default_rng(1).uniform(0, 255, (4, 32, 32, 3))).astype("float32")
    np.save(work / "images.npy", images)
    np.savez(work / "tf_outputs.npz", **{k: np.asarray(v) for k, v in model(images, training=False).items()})
    model.save(work / "tf.keras")


def _run_jax_side(work: Path, *options: str) -> dict:
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"}  # the script itself picks JAX
    result = subprocess.run([sys.executable, str(SCRIPT), str(work), *options], capture_output=True, text=True,
                            env=env, timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((work / "report.json").read_text())
    assert report["backend"] == "jax"
    assert not report["failures"], "\n".join(f"{name}:\n{error}" for name, error in report["failures"].items())
    print({name: seconds for name, seconds in report["seconds"].items() if seconds >= 1})
    return report


@pytest.mark.slow
@pytest.mark.heavy  # every family and head on JAX: minutes; the default run takes a sample of each
def test_every_family_head_and_augmentation_keeps_the_contract_on_jax(tmp_path):
    _tensorflow_model_file(tmp_path)
    report = _run_jax_side(tmp_path, "--all")
    families = {spec.family for spec in cvkit.get_registries().backbones}
    assert {f"family {f}" for f in families} | {f"head {h}" for h in cvkit.list_heads()} <= set(report["passed"])


@pytest.mark.slow
def test_a_sample_of_the_contract_holds_on_jax_and_models_cross_backends(tmp_path):
    _tensorflow_model_file(tmp_path)
    report = _run_jax_side(tmp_path)
    assert "augmentation flip" in report["passed"]
    assert {"keras file from tensorflow", "train and export"} <= set(report["passed"])
    # the JAX-trained run's model.keras loads on TensorFlow with the JAX model's outputs
    from cvkit.training.run import load_run

    _, _, model = load_run(tmp_path / "run")
    images = np.load(tmp_path / "images.npy")
    expected = dict(np.load(tmp_path / "jax_outputs.npz"))
    for name, value in expected.items():
        np.testing.assert_allclose(np.asarray(model(images, training=False)[name]), value, atol=1e-5, err_msg=name)
