"""Localization and segmentation SavedModels serve without cvkit and match the Keras models."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import cvkit
from cvkit.export import fully_convolutional

# Runs in a fresh process where cvkit cannot be imported. Argument: a JSON list of
# [savedmodel dir, images .npy, result .npz]; writes every served output, or the error text.
SERVE = r"""
import json, sys
sys.modules["cvkit"] = None
try:
    import cvkit  # noqa: F401
    raise SystemExit("cvkit was importable")
except ImportError:
    pass
import numpy as np
import tensorflow as tf

loaded = {}
for directory, images, result in json.loads(sys.argv[1]):
    if directory not in loaded:  # keep the loaded object referenced while calling it
        loaded[directory] = tf.saved_model.load(directory)
    serve = loaded[directory].signatures["serving_default"]
    try:
        outputs = serve(images=tf.constant(np.load(images)))
        np.savez(result, **{k: v.numpy() for k, v in outputs.items()})
    except tf.errors.InvalidArgumentError as error:
        open(result + ".error", "w").write(error.message)
"""


def _images(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def _serve(tmp_path, cases):
    """Serve every (savedmodel, images) case in one child process; their outputs (or error text)."""
    jobs = []
    for i, (directory, images) in enumerate(cases):
        np.save(tmp_path / f"in{i}.npy", images)
        jobs.append([str(directory), str(tmp_path / f"in{i}.npy"), str(tmp_path / f"out{i}.npz")])
    result = subprocess.run([sys.executable, "-c", SERVE, json.dumps(jobs)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    served = []
    for _, _, out in jobs:
        error = out + ".error"
        served.append(open(error).read() if __import__("os").path.exists(error) else dict(np.load(out)))
    return served


@pytest.mark.slow
def test_localization_and_segmentation_savedmodels_match_keras(tmp_path):
    import keras

    keras.utils.set_random_seed(0)
    tiny = dict(blocks=[1, 1, 1, 1], stage_widths=[8, 16, 32, 64], stem_filters=8)
    localizer = cvkit.create_model("resnet18", head="localization", num_classes=3, input_shape=(32, 32, 3),
                                   head_params={"class_specific": True, "dropout": 0.5}, **tiny)
    segmenter = cvkit.create_model("resnet18", head="fcn8s", num_classes=3, input_shape=(32, 32, 3), **tiny)
    fixed = cvkit.create_model("lenet5", head="unet", num_classes=2, input_shape=(32, 32, 1))
    for model, name in ((localizer, "loc"), (segmenter, "seg"), (fixed, "lenet")):
        cvkit.export_savedmodel(model, tmp_path / name)

    at_size, wide, odd = _images((3, 32, 32, 3)), _images((2, 64, 96, 3), 1), _images((1, 36, 36, 3), 2)
    gray = _images((2, 40, 24, 1), 3)
    loc, seg, seg_wide, seg_odd, lenet = _serve(tmp_path, [
        (tmp_path / "loc", at_size), (tmp_path / "seg", at_size), (tmp_path / "seg", wide),
        (tmp_path / "seg", odd), (tmp_path / "lenet", gray),
    ])

    # localization: probabilities and boxes, nothing training-only; dropout off in the graph
    expected = localizer.predict(at_size.astype("float32"), verbose=0)
    assert sorted(loc) == ["boxes", "probabilities"]
    for key in loc:
        assert np.abs(loc[key] - expected[key]).max() < 1e-5, key

    # segmentation: per-pixel class ids and probabilities at the input size
    expected = segmenter.predict(at_size.astype("float32"), verbose=0)["masks"]
    assert sorted(seg) == ["masks", "probabilities"]
    assert seg["masks"].dtype == np.int32 and seg["masks"].shape == (3, 32, 32)
    assert np.abs(seg["probabilities"] - expected).max() < 1e-5
    np.testing.assert_array_equal(seg["masks"], expected.argmax(-1))

    # any multiple of the total stride runs at its own size, as the fully convolutional model does
    expected = fully_convolutional(segmenter).predict(wide.astype("float32"), verbose=0)["masks"]
    assert seg_wide["masks"].shape == (2, 64, 96)
    assert np.abs(seg_wide["probabilities"] - expected).max() < 1e-5
    np.testing.assert_array_equal(seg_wide["masks"], expected.argmax(-1))
    assert "image height and width must be multiples of 32" in seg_odd

    # LeNet's FC layers fix its size: images are resized in and the masks back out
    assert lenet["masks"].shape == (2, 40, 24) and lenet["probabilities"].shape == (2, 40, 24, 3)
