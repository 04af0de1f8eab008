"""The SavedModel serves uint8 images without cvkit and matches the Keras model."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import cvkit

SERVE = r"""
import json, sys
sys.modules["cvkit"] = None  # prove the SavedModel needs no cvkit
import numpy as np
import tensorflow as tf

try:
    import cvkit  # noqa: F401
    raise SystemExit("cvkit was importable")
except ImportError:
    pass
images = np.load(sys.argv[2])
loaded = tf.saved_model.load(sys.argv[1])
serve = loaded.signatures["serving_default"]
outputs = serve(images=tf.constant(images))
odd = serve(images=tf.constant(images[:1, :37, :45]))
print(json.dumps({
    "outputs": sorted(outputs),
    "probabilities": outputs["probabilities"].numpy().tolist(),
    "odd_shape": list(odd["probabilities"].shape),
}))
"""


@pytest.mark.slow
def test_savedmodel_matches_keras_without_cvkit(tmp_path):
    model = cvkit.create_model("densenet121", num_classes=4, input_shape=(32, 32, 3), blocks=[1, 1, 1, 1],
                               growth_rate=8, head_params={"dropout": 0.5})
    images = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    expected = model.predict(images.astype("float32"), verbose=0)["probabilities"]
    cvkit.export_savedmodel(model, tmp_path / "sm")
    np.save(tmp_path / "images.npy", images)
    result = subprocess.run([sys.executable, "-c", SERVE, str(tmp_path / "sm"), str(tmp_path / "images.npy")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    served = json.loads(result.stdout.strip().splitlines()[-1])
    assert served["outputs"] == ["probabilities"]
    # Dropout 0.5 in the head: equal numbers prove training=False inside the graph.
    assert np.abs(np.array(served["probabilities"]) - expected).max() < 1e-5
    assert served["odd_shape"] == [1, 4]


def test_export_refuses_a_non_empty_directory(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    model = cvkit.create_model("densenet121", num_classes=2, input_shape=(32, 32, 3), blocks=[1, 1, 1, 1], growth_rate=4)
    with pytest.raises(cvkit.CvkitError, match="not empty"):
        cvkit.export_savedmodel(model, tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_native_size_is_only_for_savedmodels(tmp_path, capsys):
    from cvkit_cli.main import main

    assert main(["export", str(tmp_path), "--out", str(tmp_path / "m.keras"), "--format", "keras", "--native-size"]) == 2
    assert "--native-size shapes the SavedModel's serving function" in capsys.readouterr().err
