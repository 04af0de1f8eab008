"""The contract on the JAX backend, in one process (run by test_jax_backend.py; one JAX start-up for all).

``python jax_contract.py WORK_DIR [--all]``: backbone families (the default variant, tiny) run a
forward pass and a training step, heads their contract's training steps, geometric and mixing
augmentations their contract (a sample of each; every one with ``--all``); a tiny cvkit.train run (EMA, recalibration, checkpoints) goes
through the engine, its model is exported as a SavedModel and compared with the JAX model; a
.keras file written on TensorFlow (WORK_DIR/tf.keras) is loaded and compared. Results go to
WORK_DIR/report.json: {"backend", "failures": {check: error}, "passed": [...], "seconds": {...}}.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path

import cvkit

cvkit.set_backend("jax")  # before Keras loads: the Python API's way to pick the backend

import keras  # noqa: E402
import numpy as np  # noqa: E402

from cvkit.testing import check_augmentation, check_head, create_tiny_model  # noqa: E402

# The default run's sample, kept small for the suite's time (--all: every family and head):
# resnet18 and the classification head through cvkit.train below.
SAMPLE_FAMILIES = ()
SAMPLE_HEADS = ()
AUGMENTATIONS = ("flip", "rotate", "translate", "mixup")  # box transforms switch backends; mixing is ops


def family_steps(family: str) -> None:
    """Forward and one training step of the family's default variant, tiny, without XLA (quicker here)."""
    model = create_tiny_model(cvkit.get_backbone(family).name, num_classes=3)
    images = np.random.default_rng(0).uniform(0, 255, (4, *model.input_shape[1:])).astype("float32")
    probabilities = np.asarray(model(images, training=False)["probabilities"])
    assert probabilities.shape == (4, 3) and np.allclose(probabilities.sum(-1), 1, atol=1e-4), probabilities
    model.compile(optimizer="adam", loss={"probabilities": "sparse_categorical_crossentropy"}, jit_compile=False)
    loss = model.train_on_batch(images, {"probabilities": np.arange(4) % 3})
    assert np.isfinite(loss), loss


def same_outputs(expected: dict, model, images: np.ndarray, what: str, tolerance: float = 1e-5) -> None:
    outputs = model(images, training=False)
    for name, value in expected.items():
        np.testing.assert_allclose(np.asarray(outputs[name]), value, atol=tolerance, err_msg=f"{what}: {name}")


def keras_file_from_tensorflow(work: Path) -> None:
    """A .keras file written on TensorFlow loads here with the same outputs."""
    images = np.load(work / "images.npy")
    expected = dict(np.load(work / "tf_outputs.npz"))
    same_outputs(expected, cvkit.load_model(work / "tf.keras"), images, "TensorFlow .keras on JAX")


def train_and_export(work: Path) -> None:
    """cvkit.train on JAX through the engine's callbacks; the run's model and its SavedModel agree."""
    import tensorflow as tf

    from cvkit.training.run import load_run

    config = cvkit.RunConfig(arch="resnet18", backbone_params=dict(cvkit.get_backbone("resnet18").tiny),
                             dataset="shapes:32", epochs=2, batch_size=16, ema=0.9, augmentations=["flip"],
                             bn_recalibration_batches=2, out=str(work / "run"))
    result = cvkit.train(config, verbose=0)
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["backend"] == "jax", manifest["backend"]
    assert len(list((result.run_dir / "checkpoints").glob("*"))) >= 1, "no epoch checkpoint written"
    _, _, model = load_run(result.run_dir)
    images = np.load(work / "images.npy")
    outputs = {name: np.asarray(value) for name, value in model(images, training=False).items()}
    np.savez(work / "jax_outputs.npz", **outputs)
    cvkit.export_savedmodel(model, work / "savedmodel")
    served = tf.saved_model.load(str(work / "savedmodel")).signatures["serving_default"]
    for batch in (images.astype("uint8"), images[:3].astype("uint8")):  # the batch is dynamic
        probabilities = served(images=tf.constant(batch))["probabilities"].numpy()
        np.testing.assert_allclose(probabilities, outputs["probabilities"][: len(batch)], atol=1e-5,
                                   err_msg="SavedModel exported from JAX vs the JAX model")


def main(work: Path, everything: bool) -> None:
    report = {"backend": keras.backend.backend(), "failures": {}, "passed": [], "seconds": {}}
    families = sorted({spec.family for spec in cvkit.get_registries().backbones}) if everything else SAMPLE_FAMILIES
    heads = cvkit.list_heads() if everything else SAMPLE_HEADS
    checks = [(f"family {f}", lambda f=f: family_steps(f)) for f in families]
    checks += [(f"head {h}", lambda h=h: check_head(h)) for h in heads]
    checks += [(f"augmentation {a}", lambda a=a: check_augmentation(a)) for a in AUGMENTATIONS[:None if everything else 1]]
    checks += [("keras file from tensorflow", lambda: keras_file_from_tensorflow(work)),
               ("train and export", lambda: train_and_export(work))]
    for name, check in checks:
        start = time.perf_counter()
        try:
            check()
            report["passed"].append(name)
        except Exception:  # every failure reported, not just the first
            report["failures"][name] = traceback.format_exc(limit=-6)
        report["seconds"][name] = round(time.perf_counter() - start, 1)
        print(f"{name}: {'failed' if name in report['failures'] else 'ok'} in {report['seconds'][name]} s",
              file=sys.stderr, flush=True)
        keras.backend.clear_session()
    (work / "report.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]), "--all" in sys.argv[2:])
