"""Benchmark: does the augmentation pipeline keep up with training?

Measures the input pipeline's images per second with the full stack (geometric + colour +
mixing), as training runs it (tf.data, parallel map calls, prefetch), and resnet18's training
images per second at the same size and batch, and prints the ratio. The target is >= 5x.
Not a test: run it by hand and record the result in benchmarks/results/.

    uv run python benchmarks/pipeline.py                    # 64x64, batch 32
    uv run python benchmarks/pipeline.py --image-size 32
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass

FULL_STACK = ["flip", "crop", "rotate", "jitter", "pca", "randaugment", "mixup"]


@dataclass(frozen=True)
class PipelineSpeed:
    """Images per second of the input pipeline and of resnet18's training steps, and their ratio."""

    augmentations: list[str]
    image_size: int
    batch_size: int
    pipeline_images_per_second: float
    training_images_per_second: float

    @property
    def ratio(self) -> float:
        return self.pipeline_images_per_second / self.training_images_per_second


def _timed(iterator, batches: int, batch_size: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return batches * batch_size / (time.perf_counter() - start)


def measure_pipeline(augmentations: list[str] | None = None, *, image_size: int = 64, batch_size: int = 32,
                     batches: int = 20, arch: str = "resnet18", dataset: str = "shapes") -> PipelineSpeed:
    """The input pipeline's and ``arch``'s training throughput on ``dataset`` (see the module doc)."""
    from cvkit.training.config import RunConfig
    from cvkit.training.run import compile_model, make_datasets, prepare, preflight

    augmentations = list(FULL_STACK if augmentations is None else augmentations)
    config = RunConfig(arch=arch, head="classification", dataset=dataset, image_size=image_size,
                       batch_size=batch_size, augmentations=augmentations, epochs=1, optimizer="sgd")
    prepared = prepare(preflight(config))
    outputs = compile_model(prepared.model, prepared.plan, prepared.task, "sgd")
    train, _ = make_datasets(prepared, outputs)
    pipeline = _timed(iter(train.repeat()), batches, batch_size)
    x, y = next(iter(train))
    model = prepared.model
    model.train_on_batch(x, y)  # build and trace
    start = time.perf_counter()
    steps = max(3, batches // 4)
    for _ in range(steps):
        model.train_on_batch(x, y)
    training = steps * batch_size / (time.perf_counter() - start)
    return PipelineSpeed(augmentations, image_size, batch_size, pipeline, training)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--aug", default=",".join(FULL_STACK))
    args = parser.parse_args()
    speed = measure_pipeline(args.aug.split(","), image_size=args.image_size, batch_size=args.batch_size,
                             batches=args.batches)
    print(json.dumps({**asdict(speed), "ratio": round(speed.ratio, 2)}, indent=2))


if __name__ == "__main__":
    main()
