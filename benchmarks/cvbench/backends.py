"""Section 9: training images/s of the same cvkit model on JAX against TensorFlow.

A process holds one backend, so each measurement is a child process (``python -m
cvbench.backends BACKEND ARCH SIZE BATCH STEPS``) that builds, compiles and warms up the model,
then prints the images/s of ``STEPS`` timed steps; the two backends alternate A B A B.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from .common import Row, Settings, bench_env, median, ratio

ARCHS = ("resnet18", "densenet121")
BENCH_DIR = Path(__file__).resolve().parents[1]
WHY = ("Same model, data (in memory), batch, Adam and jit_compile='auto' (XLA on JAX always; TensorFlow "
       "does not use XLA on a CPU). On a CPU both end in the same Eigen/oneDNN-class kernels, so the gap is "
       "the step around them: JAX runs one compiled XLA program per step, TensorFlow a graph of kernels "
       "with its own scheduling; convolution-heavy DenseNet concatenations favour XLA's fusion.")


def measure(backend: str, arch: str, size: int, batch: int, steps: int) -> float:
    """Images/s of ``arch`` training on ``backend``, in this process (which must not have loaded Keras)."""
    import cvkit

    cvkit.set_backend(backend)
    import numpy as np
    import tensorflow as tf

    import keras

    model = cvkit.create_model(arch, num_classes=10, input_shape=(size, size, 3))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss={"probabilities": "sparse_categorical_crossentropy"},
                  jit_compile="auto")
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (batch * 4, size, size, 3)).astype("float32")
    labels = {"probabilities": rng.integers(0, 10, batch * 4).astype("int32")}
    data = tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch, drop_remainder=True).cache().repeat()
    for _ in range(2):  # compile, then once more: a second fit can trace again (weights now committed arrays)
        model.fit(data, steps_per_epoch=1, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
    return steps * batch / (time.perf_counter() - start)


def measure_in_child(backend: str, arch: str, settings: Settings) -> float:
    args = [backend, arch, str(settings.image_size), str(settings.batch_size), str(settings.steps)]
    result = subprocess.run([sys.executable, "-m", "cvbench.backends", *args], capture_output=True, text=True,
                            cwd=BENCH_DIR, env=bench_env(), timeout=3600)
    if result.returncode != 0:
        raise RuntimeError(f"{backend} {arch}: {result.stderr.strip().splitlines()[-1:]}")
    return float(json.loads(result.stdout.strip().splitlines()[-1])["images_per_second"])


def section_backends(settings: Settings) -> list[Row]:
    """9. JAX against TensorFlow, images/s of cvkit's resnet18 and densenet121 (a ratio; no target)."""
    rows = []
    for arch in ("resnet18",) if settings.tiny else ARCHS:
        rates = {"jax": [], "tensorflow": []}
        for _ in range(settings.rounds):
            for backend in rates:
                rates[backend].append(measure_in_child(backend, arch, settings))
        jax_rate, tf_rate = median(rates["jax"]), median(rates["tensorflow"])
        print(f"    {arch}: JAX {jax_rate:.1f} img/s, TensorFlow {tf_rate:.1f} img/s", flush=True)
        rows.append(Row(9, f"{arch} training images/s, JAX vs TensorFlow ({settings.image_size} px, "
                           f"batch {settings.batch_size})", round(jax_rate, 2), round(tf_rate, 2), "img/s",
                        "the TensorFlow backend", ratio(jax_rate, tf_rate), "report", None,
                        note=f"median of {settings.rounds} alternating child processes of {settings.steps} steps. {WHY}"))
    return rows


if __name__ == "__main__":
    backend_name, arch_name, size_, batch_, steps_ = sys.argv[1:6]
    rate = measure(backend_name, arch_name, int(size_), int(batch_), int(steps_))
    print(json.dumps({"images_per_second": rate}))
