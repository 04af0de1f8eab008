"""Benchmark: localization and segmentation on `shapes` with a small backbone, on 2 CPU cores.

Trains each head with cvkit's own engine (the path `cvkit train` takes) and prints the
validation mean IoU and the wall time. Not a test: run it by hand and record the numbers in
benchmarks/README.md.

    uv run python benchmarks/bench_heads.py                 # localization and FCN-8s
    uv run python benchmarks/bench_heads.py unet            # one run: localization, segmentation or unet
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

RUNS = {
    # `cvkit train --arch resnet18 --head localization --dataset shapes --image-size 64 --epochs 12`
    "localization": dict(arch="resnet18", head="localization", metric="boxes_mean_iou", epochs=12),
    # `cvkit train --arch resnet18 --head fcn8s --dataset shapes --image-size 64 --epochs 12`
    "segmentation": dict(arch="resnet18", head="fcn8s", metric="mean_iou", epochs=12),
    # `cvkit train --arch resnet18 --head unet --dataset shapes --image-size 64 --epochs 12`
    "unet": dict(arch="resnet18", head="unet", metric="mean_iou", epochs=12),
}
DEFAULT = ("localization", "segmentation")
COMMON = dict(dataset="shapes", image_size=64, batch_size=32, learning_rate=2e-3, optimizer="adam",
              schedule="cosine", seed=0)
TARGET = 0.7
BUDGET_MINUTES = 5.0


def pin_two_cores() -> str:
    """Run on two CPU cores, as the goal states, wherever the machine has more."""
    if hasattr(os, "sched_setaffinity"):
        cores = sorted(os.sched_getaffinity(0))[:2]
        os.sched_setaffinity(0, cores)
        return ",".join(map(str, cores))
    return "unpinned"


def bench(name: str) -> dict:
    import cvkit
    from cvkit.training.config import RunConfig

    spec = dict(RUNS[name])
    metric = spec.pop("metric")
    with tempfile.TemporaryDirectory() as tmp:
        config = RunConfig(**COMMON, **spec, out=os.path.join(tmp, name))
        start = time.perf_counter()
        result = cvkit.train(config, verbose=2)
        minutes = (time.perf_counter() - start) / 60
    value = result.validation[metric]
    return {"task": name, "arch": config.arch, "head": config.head, "epochs": config.epochs,
            "image_size": config.image_size, "mean_iou": round(value, 4), "minutes": round(minutes, 2),
            "passes": value >= TARGET and minutes < BUDGET_MINUTES,
            "validation": {k: round(v, 4) for k, v in result.validation.items()}}


def main(argv: list[str]) -> int:
    cores = pin_two_cores()
    names = argv or list(DEFAULT)
    rows = [bench(name) for name in names]
    print(f"\ncores: {cores}")
    for row in rows:
        print(f"{row['task']:<13} {row['arch']} + {row['head']:<12} mean IoU {row['mean_iou']:.3f}  "
              f"{row['minutes']:.1f} min  {'ok' if row['passes'] else 'MISSED'} (goal >= {TARGET} in < {BUDGET_MINUTES:.0f} min)")
    print(json.dumps(rows, indent=2))
    return 0 if all(r["passes"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
