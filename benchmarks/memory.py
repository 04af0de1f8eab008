"""Benchmark: peak training memory and step time of a backbone, with and without memory-efficient mode.

Each measurement runs in a fresh process, so the peak resident set size (``ru_maxrss``) is that
one model's: the process builds the model, then trains it on one random batch for a few steps.
The peak is counted from the resident size just before the first step (the TensorFlow runtime,
the built model and its weights are common to both modes), so it holds what training adds: the
traced step, optimizer slots, gradients and the activations kept for the backward pass. The step
time is the median over the steps after the first (which traces).

    uv run python benchmarks/memory.py                         # densenet121, 224 px, batch 32
    uv run python benchmarks/memory.py densenet121 128 16      # arch, size, batch
    uv run python benchmarks/memory.py --speed densenet121 224 32   # only the alternating step times
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

STEPS = 4


def measure_memory(arch: str, size: int, batch: int, memory_efficient: bool, steps: int = STEPS,
                   **backbone_params: object) -> tuple[int, float]:
    """(peak bytes training adds, median seconds per training step) of ``arch`` at ``size`` px.

    ``backbone_params`` override the arch's (tiny widths for a quick run)."""
    command = [sys.executable, os.path.abspath(__file__), "--child", arch, str(size), str(batch),
               str(int(memory_efficient)), str(steps), json.dumps(backbone_params)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"memory measurement of {arch} failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["peak_bytes"], result["step_seconds"]


def _peak_rss_bytes() -> int:
    """This process's peak resident size: Linux's VmHWM (reset by :func:`_reset_peak`), else ru_maxrss."""
    import resource

    status = "/proc/self/status"
    if os.path.exists(status):
        for line in open(status):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024  # kB
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux reports KiB


def _reset_peak() -> None:
    """Start the peak at the current size: a child inherits its parent's peak through fork and exec,
    so a benchmark parent holding several GB hid the child's training peak (section 8 read 0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _child(arch: str, size: int, batch: int, memory_efficient: bool, steps: int, params: dict) -> dict:
    import time

    _reset_peak()
    step = _training_step(arch, size, batch, memory_efficient, params)
    baseline = _peak_rss_bytes()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    later = sorted(times[1:]) or times
    return {"peak_bytes": _peak_rss_bytes() - baseline, "step_seconds": later[len(later) // 2],
            "baseline_bytes": baseline, "first_step_seconds": times[0]}


def _training_step(arch: str, size: int, batch: int, memory_efficient: bool, params: dict) -> object:
    """A function running one training step of a fresh model on one random batch."""
    import numpy as np

    import cvkit

    extra = {"memory_efficient": True} if memory_efficient else {}
    model = cvkit.create_model(arch, num_classes=10, input_shape=(size, size, 3), **params, **extra)
    outputs = list(model.output) if isinstance(model.output, dict) else None
    loss = {name: "sparse_categorical_crossentropy" for name in outputs} if outputs else "sparse_categorical_crossentropy"
    model.compile(optimizer="sgd", loss=loss)
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (batch, size, size, 3)).astype("float32")
    labels = rng.integers(0, 10, batch)
    targets = {name: labels for name in outputs} if outputs else labels
    return lambda: model.train_on_batch(images, targets)


def step_time_ratio(arch: str, size: int, batch: int, rounds: int = 3, **backbone_params: object) -> float:
    """Memory-efficient over plain step time, both models in this process, stepped alternately
    (A B A B) so that other load on the machine falls on both alike; the median of the rounds."""
    import time

    plain = _training_step(arch, size, batch, False, backbone_params)
    efficient = _training_step(arch, size, batch, True, backbone_params)
    plain(), efficient()  # trace
    ratios = []
    for _ in range(rounds):
        seconds = []
        for step in (plain, efficient):
            start = time.perf_counter()
            step()
            seconds.append(time.perf_counter() - start)
        ratios.append(seconds[1] / seconds[0])
    return sorted(ratios)[len(ratios) // 2]


def compare(arch: str = "densenet121", size: int = 224, batch: int = 32, alternate: bool = True) -> dict:
    """Both modes' peak memory (plain first) and step times; the memory saved and the slowdown as
    fractions, the slowdown also from alternate steps in one process (``alternate``)."""
    plain = measure_memory(arch, size, batch, False)
    efficient = measure_memory(arch, size, batch, True)
    result = {
        "arch": arch, "size": size, "batch": batch,
        "plain_peak_mib": round(plain[0] / 2**20, 1), "efficient_peak_mib": round(efficient[0] / 2**20, 1),
        "plain_step_s": round(plain[1], 3), "efficient_step_s": round(efficient[1], 3),
        "memory_saved": round(1 - efficient[0] / plain[0], 3),
        "slowdown": round(efficient[1] / plain[1] - 1, 3),
    }
    if alternate:
        result["slowdown_alternating"] = round(step_time_ratio(arch, size, batch) - 1, 3)
    return result


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        arch, size, batch, efficient, steps, params = sys.argv[2:8]
        print(json.dumps(_child(arch, int(size), int(batch), efficient == "1", int(steps), json.loads(params))))
    elif sys.argv[1:2] == ["--speed"]:  # only the alternating step-time ratio
        arch, size, batch = sys.argv[2], *map(int, sys.argv[3:5])
        print(json.dumps({"arch": arch, "size": size, "batch": batch,
                          "slowdown_alternating": round(step_time_ratio(arch, size, batch) - 1, 3)}))
    else:
        args = sys.argv[1:]
        print(json.dumps(compare(args[0] if args else "densenet121", *map(int, args[1:3])), indent=2))
