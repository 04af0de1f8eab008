"""Benchmark: peak training memory and step time of a backbone, with and without memory-efficient mode.

Each measurement runs in a fresh process, so the peak resident set size (``ru_maxrss``) is that
one model's: the process builds the model, then trains it on one random batch for a few steps.
The peak is counted from the resident size just before the first step (the TensorFlow runtime,
the built model and its weights are common to both modes), so it holds what training adds: the
traced step, optimizer slots, gradients and the activations kept for the backward pass. The step
time is the median over the steps after the first (which traces).

    uv run python benchmarks/memory.py                         # densenet121, 224 px, batch 32
    uv run python benchmarks/memory.py densenet121 128 16      # arch, size, batch
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

STEPS = 4


def measure_memory(arch: str, size: int, batch: int, memory_efficient: bool, steps: int = STEPS) -> tuple[int, float]:
    """(peak bytes training adds, median seconds per training step) of ``arch`` at ``size`` px."""
    command = [sys.executable, os.path.abspath(__file__), "--child", arch, str(size), str(batch),
               str(int(memory_efficient)), str(steps)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"memory measurement of {arch} failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["peak_bytes"], result["step_seconds"]


def _peak_rss_bytes() -> int:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux reports KiB


def _child(arch: str, size: int, batch: int, memory_efficient: bool, steps: int) -> dict:
    import time

    import numpy as np

    import cvkit

    extra = {"memory_efficient": True} if memory_efficient else {}
    model = cvkit.create_model(arch, num_classes=10, input_shape=(size, size, 3), **extra)
    outputs = list(model.output) if isinstance(model.output, dict) else None
    loss = {name: "sparse_categorical_crossentropy" for name in outputs} if outputs else "sparse_categorical_crossentropy"
    model.compile(optimizer="sgd", loss=loss)
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (batch, size, size, 3)).astype("float32")
    labels = rng.integers(0, 10, batch)
    targets = {name: labels for name in outputs} if outputs else labels
    baseline = _peak_rss_bytes()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        model.train_on_batch(images, targets)
        times.append(time.perf_counter() - start)
    later = sorted(times[1:]) or times
    return {"peak_bytes": _peak_rss_bytes() - baseline, "step_seconds": later[len(later) // 2],
            "baseline_bytes": baseline, "first_step_seconds": times[0]}


def compare(arch: str = "densenet121", size: int = 224, batch: int = 32) -> dict:
    """Both modes, plain first; the memory saved and the slowdown as fractions."""
    plain = measure_memory(arch, size, batch, False)
    efficient = measure_memory(arch, size, batch, True)
    return {
        "arch": arch, "size": size, "batch": batch,
        "plain_peak_mib": round(plain[0] / 2**20, 1), "efficient_peak_mib": round(efficient[0] / 2**20, 1),
        "plain_step_s": round(plain[1], 3), "efficient_step_s": round(efficient[1], 3),
        "memory_saved": round(1 - efficient[0] / plain[0], 3),
        "slowdown": round(efficient[1] / plain[1] - 1, 3),
    }


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        arch, size, batch, efficient, steps = sys.argv[2:7]
        print(json.dumps(_child(arch, int(size), int(batch), efficient == "1", int(steps))))
    else:
        args = sys.argv[1:]
        print(json.dumps(compare(args[0] if args else "densenet121", *map(int, args[1:3])), indent=2))
