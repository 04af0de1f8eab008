"""ONNX export (the optional ``cvkit-core[onnx]`` extra), checked against the Keras model."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from cvkit.errors import CvkitError

INSTALL_HINT = "pip install 'cvkit-core[onnx]' (or uv sync --extra onnx)"
SAMPLES = 4
DETECTION_UNSUPPORTED = ("ONNX export does not support detection models (their NMS is not converted); "
                         "export a SavedModel instead: --format savedmodel")


def require_onnx() -> Any:
    from cvkit.backend import require_tensorflow_backend

    require_tensorflow_backend("ONNX export (through tf2onnx)", "run cvkit export with --backend tensorflow (a run "
                               "trained on JAX loads there) or export --format savedmodel")
    try:
        import onnxruntime
        import tf2onnx  # noqa: F401  (Keras' ONNX export uses it)
    except ImportError as exc:
        raise CvkitError(f"ONNX export needs the onnx extra ({exc.name} is not installed); install it with {INSTALL_HINT}") from None
    return onnxruntime


def export_onnx(model: Any, out: str | Path, seed: int = 0) -> float:
    """Write ``model`` as an ONNX file (float 0-255 NHWC images in) and return the largest
    difference between ONNX Runtime's outputs and the Keras model's on sample images."""
    if getattr(model, "task", None) == "detection":
        raise CvkitError(DETECTION_UNSUPPORTED)
    onnxruntime = require_onnx()
    out = Path(out)
    if out.exists():
        raise CvkitError(f"{out} already exists; pass another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    samples = np.random.default_rng(seed).uniform(0, 255, (SAMPLES, *model.input_shape[1:])).astype("float32")
    expected = model(samples, training=False)  # a model must have been called before Keras exports it
    expected = expected if isinstance(expected, dict) else {"probabilities": expected}
    partial = out.with_name(out.name + ".partial")
    try:
        model.export(str(partial), format="onnx", verbose=False)
        session = onnxruntime.InferenceSession(str(partial))
        actual = session.run(None, {session.get_inputs()[0].name: samples})
        names = [o.name for o in session.get_outputs()]
        shared = [name for name in names if name in expected] or list(expected)[:1]
        outputs = dict(zip(names, actual)) if names[0] in expected else {shared[0]: actual[0]}
        difference = max(float(np.abs(np.asarray(expected[n]) - outputs[n]).max()) for n in shared)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return difference
