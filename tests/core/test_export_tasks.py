"""Localization and segmentation SavedModels serve without cvkit and match the Keras models.

The references are computed here, independently of cvkit.serve.export: the Keras model run on the
image resized to its input size (and its probabilities resized back), ``cvkit.predict`` on the
same images as PNG files, and a model built for any size holding the same weights.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import cvkit

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


def _resized(images, size):
    import tensorflow as tf

    return tf.image.resize(images.astype("float32"), size, antialias=True).numpy()


def _reference_masks(model, images):
    """The Keras model at its own input size, its probabilities resized back to the images."""
    size = model.input_shape[1:3]
    probabilities = model.predict(_resized(images, size), verbose=0)["masks"]
    return _resized(probabilities, images.shape[1:3])


def _predict_masks(model, images, tmp_path):
    """``cvkit.predict`` on the images saved as PNG files: its class-id masks."""
    from PIL import Image

    paths = []
    for i, image in enumerate(images):
        paths.append(str(tmp_path / f"predict{i}.png"))
        Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(paths[-1])
    return np.stack([row["mask"] for row in cvkit.predict(model, paths)])


@pytest.mark.slow
def test_localization_and_segmentation_savedmodels_match_keras(tmp_path):
    import keras

    keras.utils.set_random_seed(0)
    tiny = dict(blocks=[1, 1, 1, 1], stage_widths=[8, 16, 32, 64], stem_filters=8)
    localizer = cvkit.create_model("resnet18", head="localization", num_classes=3, input_shape=(32, 32, 3),
                                   head_params={"class_specific": True, "dropout": 0.5}, **tiny)
    segmenter = cvkit.create_model("resnet18", head="unet", num_classes=3, input_shape=(32, 32, 3), **tiny)
    fixed = cvkit.create_model("lenet5", head="unet", num_classes=2, input_shape=(32, 32, 1))
    for model, name in ((localizer, "loc"), (segmenter, "seg"), (fixed, "lenet")):
        cvkit.export_savedmodel(model, tmp_path / name)
    cvkit.export_savedmodel(segmenter, tmp_path / "native", native_size=True)

    at_size, tall = _images((3, 32, 32, 3)), _images((2, 48, 80, 3), 1)
    wide, odd = _images((2, 64, 96, 3), 4), _images((1, 36, 36, 3), 2)
    gray = _images((2, 40, 24, 1), 3)
    loc, loc_tall, seg, seg_tall, native_wide, native_odd, lenet = _serve(tmp_path, [
        (tmp_path / "loc", at_size), (tmp_path / "loc", tall), (tmp_path / "seg", at_size), (tmp_path / "seg", tall),
        (tmp_path / "native", wide), (tmp_path / "native", odd), (tmp_path / "lenet", gray),
    ])

    # localization: probabilities and boxes, nothing training-only; dropout off in the graph;
    # other sizes are resized to the input size
    assert sorted(loc) == ["boxes", "probabilities"]
    for served, images in ((loc, at_size), (loc_tall, tall)):
        expected = localizer.predict(_resized(images, (32, 32)), verbose=0)
        for key in ("boxes", "probabilities"):
            assert np.abs(served[key] - expected[key]).max() < 1e-4, key

    # segmentation at the training size: per-pixel class ids and probabilities
    expected = segmenter.predict(at_size.astype("float32"), verbose=0)["masks"]
    assert sorted(seg) == ["masks", "probabilities"]
    assert seg["masks"].dtype == np.int32 and seg["masks"].shape == (3, 32, 32)
    assert np.abs(seg["probabilities"] - expected).max() < 1e-5
    np.testing.assert_array_equal(seg["masks"], expected.argmax(-1))

    # a 48x80 image (not square, not the training size) gives what the model gives at 32x32,
    # brought back to 48x80, and the masks of cvkit.predict
    assert seg_tall["masks"].shape == (2, 48, 80) and seg_tall["probabilities"].shape == (2, 48, 80, 4)
    assert np.abs(seg_tall["probabilities"] - _reference_masks(segmenter, tall)).max() < 1e-4
    predicted = _predict_masks(segmenter, tall, tmp_path)
    assert predicted.shape == (2, 48, 80)
    assert len(np.unique(predicted)) > 1, "a constant mask would agree whatever the resizing"
    assert (seg_tall["masks"] == predicted).mean() > 0.999

    # --native-size: any multiple of the total stride runs at its own size, as a model built
    # for any size with the same weights does
    anywhere = cvkit.create_model("resnet18", head="unet", num_classes=3, input_shape=(None, None, 3), **tiny)
    anywhere.set_weights(segmenter.get_weights())
    expected = anywhere.predict(wide.astype("float32"), verbose=0)["masks"]
    assert native_wide["masks"].shape == (2, 64, 96)
    assert np.abs(native_wide["probabilities"] - expected).max() < 1e-5
    np.testing.assert_array_equal(native_wide["masks"], expected.argmax(-1))
    assert "image height and width must be multiples of 32" in native_odd

    # LeNet's FC layers fix its size: images are resized in and the masks back out
    assert lenet["masks"].shape == (2, 40, 24) and lenet["probabilities"].shape == (2, 40, 24, 3)
    assert np.abs(lenet["probabilities"] - _reference_masks(fixed, gray)).max() < 1e-4
