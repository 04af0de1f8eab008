"""Section 5: time to the first training step, each side in a fresh process, alternating.

In one process whichever model goes first pays TensorFlow's one-off costs (kernel registration,
first traces of each layer type), and the second side profits from them, so neither order is
fair. A fresh process per measurement is what a user meets; the order runs A B B A so a drift in
machine load falls on both sides alike.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .common import FIRST_STEP_ARCHS, Row, Settings, bench_env, ratio

CHILD = "cvbench.first_step"


def child_command(arch: str, side: str, settings: Settings) -> list[str]:
    return [sys.executable, "-m", CHILD, arch, side, str(settings.image_size), str(settings.batch_size),
            "1" if settings.tiny else "0", "1" if settings.device == "gpu" else "0"]


def measure_once(arch: str, side: str, settings: Settings) -> tuple[float, float]:
    """(build seconds, trace-and-first-batch seconds) of one fresh process."""
    import subprocess

    done = subprocess.run(child_command(arch, side, settings), capture_output=True, text=True, env=bench_env(),
                          cwd=Path(__file__).resolve().parents[1], timeout=3600)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        raise RuntimeError(f"first-step child for {arch} ({side}) failed: {done.stderr.strip().splitlines()[-1:]}")
    found = json.loads(lines[-1])
    return found["build"], found["first_step"]


def measure_arch(arch: str, settings: Settings) -> dict[str, list[tuple[float, float]]]:
    """Each side's (build, first step) per process, in the order A B B A (A B when quick)."""
    order = ["cvkit", "twin"] if settings.quick else ["cvkit", "twin", "twin", "cvkit"]
    found: dict[str, list[tuple[float, float]]] = {"cvkit": [], "twin": []}
    for side in order:
        found[side].append(measure_once(arch, side, settings))
    return found


def section_first_step(settings: Settings) -> list[Row]:
    """5. Graph build, trace and first batch against the twin's (target: <= the twin's)."""
    from .models import TWINS

    archs = [a for a in FIRST_STEP_ARCHS if a in settings.archs] if settings.quick else list(FIRST_STEP_ARCHS)
    rows = []
    for arch in archs or settings.archs[:1]:
        found = measure_arch(arch, settings)
        ours = [build + step for build, step in found["cvkit"]]
        twin = [build + step for build, step in found["twin"]]
        mean_ours, mean_twin = sum(ours) / len(ours), sum(twin) / len(twin)
        detail = "; ".join(f"{side} " + ", ".join(f"{b:.1f}+{s:.1f}" for b, s in found[side]) for side in found)
        rows.append(Row(5, f"{arch} time to first training step ({settings.image_size} px)",
                        round(mean_ours, 1), round(mean_twin, 1), "s", f"keras.applications.{TWINS[arch]}",
                        ratio(mean_ours, mean_twin), "<= twin's", mean_ours <= 1.05 * mean_twin,
                        f"mean of {len(ours)} fresh processes a side, order {'A B' if settings.quick else 'A B B A'}; "
                        f"build + trace-and-first-batch seconds per process: {detail}"))
    return rows


def main(argv: list[str]) -> None:
    """Child: build one side's model, run one training step, print the timings as JSON."""
    import time

    arch, side, size, batch, tiny, gpu = argv[0], argv[1], int(argv[2]), int(argv[3]), argv[4] == "1", argv[5] == "1"
    from cvkit.runtime import precision_policy

    from .models import build_cvkit, build_twin, compile_for_bench, training_data, warm_up

    settings = Settings(tiny=tiny, device="gpu" if gpu else "cpu")
    warm_up(settings)  # TensorFlow's start-up (first op, first trace) lands on neither side
    with precision_policy(gpu):
        start = time.perf_counter()
        model = (build_cvkit if side == "cvkit" else build_twin)(arch, size, tiny)
        compile_for_bench(model, settings, side)
        data = training_data(model, size, batch)
        built = time.perf_counter()
        model.fit(data, steps_per_epoch=1, epochs=1, verbose=0)
        print(json.dumps({"build": built - start, "first_step": time.perf_counter() - built}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
