"""Section 3: cvkit's input pipeline with every registered augmentation, against the model's appetite."""

from __future__ import annotations

import time
from typing import Any

from .common import Row, Settings
from .models import measure_pair

EXAMPLES = 2048


def full_stack(size: int) -> tuple[Any, list[str], list[str]]:
    """Every augmentation the installed plugins register, with its defaults; those that refuse
    a plain classification batch are left out and named."""
    from cvkit import get_registries
    from cvkit.data.augment import build_augmentation
    from cvkit.errors import CvkitError

    used, refused = [], []
    for spec in get_registries().augmentations:
        try:
            build_augmentation([spec.name], image_size=(size, size), channels=3, seed=0)
        except CvkitError:
            refused.append(spec.name)
        else:
            used.append(spec.name)
    return build_augmentation(used, image_size=(size, size), channels=3, seed=0), used, refused


def pipeline_rate(settings: Settings, augment: Any) -> float:
    """Images per second out of ``make_pipeline`` (cached uint8 examples, shuffled, batched, augmented)."""
    import numpy as np
    import tensorflow as tf

    from cvkit.training.engine import make_pipeline

    rng = np.random.default_rng(0)
    size = settings.image_size
    examples = {"images": rng.integers(0, 256, (EXAMPLES, size, size, 3), dtype=np.uint8),
                "labels": rng.integers(0, 10, EXAMPLES).astype("int32")}
    ds = make_pipeline(tf.data.Dataset.from_tensor_slices(examples), batch_size=settings.batch_size,
                       to_xy=lambda b: (b["images"], b["labels"]), augment=augment, shuffle=True,
                       num_examples=EXAMPLES).repeat()
    batches = iter(ds)
    for _ in range(3):  # traces and fills the cache
        next(batches)
    start = time.perf_counter()
    for _ in range(settings.pipeline_batches):
        next(batches)
    return settings.pipeline_batches * settings.batch_size / (time.perf_counter() - start)


def section_pipeline(settings: Settings) -> list[Row]:
    """3. The pipeline's images per second with the full augmentation stack vs the fastest model's
    training images per second (target: the pipeline keeps ahead)."""
    augment, used, refused = full_stack(settings.image_size)
    rate = pipeline_rate(settings, augment)
    consumers = {arch: measure_pair(arch, settings, settings.image_size, settings.batch_size, settings.steps)[0].rate
                 for arch in settings.archs}
    hungriest = max(consumers, key=consumers.get)
    note = (f"augmentations: {', '.join(used)}" + (f" (left out, they refuse a plain batch: {', '.join(refused)})"
                                                   if refused else "")
            + f"; pipeline timed alone over {settings.pipeline_batches} batches; during training it shares the cores")
    return [Row(3, f"input pipeline images/s with full augmentation ({settings.image_size} px)", round(rate, 1),
                round(consumers[hungriest], 1), "img/s", f"cvkit {hungriest} training consumption",
                rate / consumers[hungriest], "> 1.0 (pipeline not the bottleneck)", rate > consumers[hungriest], note)]
