"""Sections 1, 2 and 5: cvkit's models against their keras.applications twins in one fit loop."""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from typing import Any

from cvkit.runtime import import_keras

from .common import Row, Settings, alternate, median, ratio

NUM_CLASSES = 10
TWINS = {"resnet50": "ResNet50", "densenet121": "DenseNet121", "mobilenet_v2": "MobileNetV2",
         "efficientnet_b0": "EfficientNetB0"}


@dataclass
class Timing:
    """One model's figures: build and first-step seconds, then images per second in training."""

    build: float
    first_step: float
    rates: list[float]

    @property
    def rate(self) -> float:
        return median(self.rates)


def build_cvkit(arch: str, size: int, tiny: bool) -> Any:
    from cvkit import create_model, get_backbone

    overrides = dict(get_backbone(arch).tiny) if tiny else {}
    return create_model(arch, num_classes=NUM_CLASSES, input_shape=(size, size, 3), **overrides)


def build_twin(arch: str, size: int, tiny: bool) -> Any:
    keras = import_keras()
    if tiny:  # a smoke test: the smallest keras.applications model stands in for every twin
        return keras.applications.MobileNetV2(weights=None, input_shape=(size, size, 3), classes=NUM_CLASSES, alpha=0.35)
    return getattr(keras.applications, TWINS[arch])(weights=None, input_shape=(size, size, 3), classes=NUM_CLASSES)


def training_data(model: Any, size: int, batch: int) -> Any:
    """Random images and labels, cached in memory and repeated: the model is all that is timed."""
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (batch * 4, size, size, 3)).astype("float32")
    labels = rng.integers(0, NUM_CLASSES, batch * 4).astype("int32")
    targets = {name: labels for name in model.output} if isinstance(model.output, dict) else labels
    return tf.data.Dataset.from_tensor_slices((images, targets)).batch(batch, drop_remainder=True).cache().repeat().prefetch(2)


def compile_for_bench(model: Any, settings: Settings, side: str = "twin") -> None:
    """Adam, sparse cross-entropy, jit_compile="auto"; cvkit's side also builds the optimizer
    before fit, as ``cvkit train`` does, and the twin runs as a keras.applications user runs it."""
    keras = import_keras()
    loss = ({name: "sparse_categorical_crossentropy" for name in model.output}
            if isinstance(model.output, dict) else "sparse_categorical_crossentropy")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss, jit_compile="auto")
    if side == "cvkit":
        model.optimizer.build(model.trainable_variables)


def prepare(build: Any, arch: str, settings: Settings, size: int, batch: int) -> tuple[Any, Any, Timing]:
    """Build, compile and run the first step; returns the model, its data and the first timings."""
    start = time.perf_counter()
    model = build(arch, size, settings.tiny)
    compile_for_bench(model, settings, "cvkit" if build is build_cvkit else "twin")
    data = training_data(model, size, batch)
    built = time.perf_counter()
    model.fit(data, steps_per_epoch=1, epochs=1, verbose=0)
    return model, data, Timing(built - start, time.perf_counter() - built, [])


def step_seconds(model: Any, data: Any, steps: int) -> float:
    """Seconds of ``steps`` training steps, from the end of a first step to the end of the last.

    Timing the whole ``fit`` call let TensorFlow's teardown in: on this VM about one ``fit`` in
    three took 4.5 s after its last step to return (both sides alike; ``cvkit train`` calls ``fit``
    once per run), which made the rates bimodal."""
    keras = import_keras()
    ends: list[float] = []
    clock = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: ends.append(time.perf_counter()))
    model.fit(data, steps_per_epoch=steps + 1, epochs=1, verbose=0, callbacks=[clock])
    return ends[-1] - ends[0]


def measure_pair(arch: str, settings: Settings, size: int, batch: int, steps: int) -> tuple[Timing, Timing]:
    """cvkit's ``arch`` and its twin, timed A B A B; cached per (arch, size, batch)."""
    key = ("pair", arch, size, batch)
    if key in settings.cache:
        return settings.cache[key]
    from cvkit.runtime import precision_policy

    warm_up(settings)
    with precision_policy(settings.device == "gpu"):
        ours, our_data, our_timing = prepare(build_cvkit, arch, settings, size, batch)
        twin, twin_data, twin_timing = prepare(build_twin, arch, settings, size, batch)
        a, b = alternate(lambda: step_seconds(ours, our_data, steps), lambda: step_seconds(twin, twin_data, steps),
                         settings.rounds)
        our_timing.rates = [steps * batch / s for s in a]
        twin_timing.rates = [steps * batch / s for s in b]
        settings.cache[("flops", arch, size)] = (forward_flops(ours, size), forward_flops(twin, size))
    del ours, twin, our_data, twin_data
    gc.collect()
    settings.cache[key] = (our_timing, twin_timing)
    print(f"    {arch} at {size} px: cvkit {our_timing.rate:.1f} img/s, first step {our_timing.first_step:.0f} s; "
          f"twin {twin_timing.rate:.1f} img/s, first step {twin_timing.first_step:.0f} s", flush=True)
    return our_timing, twin_timing


def warm_up(settings: Settings) -> None:
    """One small fit first, so TensorFlow's one-off start-up costs land on neither side."""
    if settings.cache.get("warm"):
        return
    keras = import_keras()
    import numpy as np

    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3), keras.layers.BatchNormalization(),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(np.zeros((4, 8, 8, 3), "float32"), np.zeros(4, "int32"), epochs=1, verbose=0)
    settings.cache["warm"] = True


def section_throughput(settings: Settings) -> list[Row]:
    """1. Training images per second against the twin (target: ratio >= 1)."""
    rows = []
    for arch in settings.archs:
        ours, twin = measure_pair(arch, settings, settings.image_size, settings.batch_size, settings.steps)
        r = ratio(ours.rate, twin.rate)
        rows.append(Row(1, f"{arch} training images/s ({settings.image_size} px, batch {settings.batch_size})",
                        round(ours.rate, 2), round(twin.rate, 2), "img/s", f"keras.applications.{TWINS[arch]}",
                        r, ">= 1.0", r is not None and r >= 0.95,
                        note=f"median of {settings.rounds} A/B rounds of {settings.steps} steps; Adam, jit_compile=auto"
                             + ("; within 5% counts as parity" if r is not None and 0.95 <= r < 1 else "")))
    return rows


def forward_flops(model: Any, size: int) -> float:
    """Floating-point operations of one image's forward pass: 2 x the multiply-adds of every
    convolution and matrix product in the traced graph."""
    import tensorflow as tf

    graph = tf.function(lambda x: model(x, training=False)).get_concrete_function(
        tf.TensorSpec((1, size, size, 3), tf.float32)).graph
    total = 0.0
    for op in graph.get_operations():
        if op.type in ("Conv2D", "DepthwiseConv2dNative"):
            out = op.outputs[0].shape.as_list()  # [1, h, w, c_out]
            kh, kw, cin, mult = op.inputs[1].shape.as_list()
            total += 2.0 * out[1] * out[2] * kh * kw * cin * mult  # Conv2D: cin per group, mult = c_out
        elif op.type in ("MatMul", "BatchMatMulV2"):
            a, b = op.inputs[0].shape.as_list(), op.outputs[0].shape.as_list()
            inner = a[-2] if op.get_attr("transpose_a" if op.type == "MatMul" else "adj_x") else a[-1]
            total += 2.0 * inner * b[-2] * b[-1]
    return total


def matmul_peak(seconds: float = 3.0, n: int = 1024) -> float:
    """The machine's dense float32 matmul FLOP/s now: the best of repeated n x n products."""
    import tensorflow as tf

    a = tf.random.normal((n, n))
    product = tf.function(lambda x: tf.reduce_sum(tf.matmul(x, x)))
    product(a).numpy()
    best, deadline = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        product(a).numpy()
        best = max(best, 2.0 * n**3 / (time.perf_counter() - start))
    return best


def section_flops(settings: Settings) -> list[Row]:
    """2. Achieved training FLOP/s of resnet50 as a share of the matmul peak (target: >= the twin's)."""
    arch = settings.archs[0] if settings.tiny else "resnet50"  # tiny: whatever section 1 built
    size, batch = settings.flops_size, settings.flops_batch
    peak_before = matmul_peak()
    ours, twin = measure_pair(arch, settings, size, batch, settings.flops_steps)
    peak = max(peak_before, matmul_peak())
    our_flops, twin_flops = settings.cache[("flops", arch, size)]
    # Training is about 3 forward passes of work: the forward, and two products per layer backward.
    ours_share, twin_share = 3 * our_flops * ours.rate / peak, 3 * twin_flops * twin.rate / peak
    note = (f"{size} px, batch {batch}; peak {peak / 1e9:.1f} GFLOP/s (float32 1024x1024 matmul, best of "
            f"before/after); forward {our_flops / 1e6:.1f} vs {twin_flops / 1e6:.1f} MFLOP per image")
    return [Row(2, f"{arch} training FLOP/s as share of matmul peak", round(ours_share, 3), round(twin_share, 3),
                "share", f"keras.applications.{TWINS[arch]}", ratio(ours_share, twin_share), ">= twin's share",
                ours_share >= 0.95 * twin_share, note)]
