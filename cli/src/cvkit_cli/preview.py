"""``cvkit augment preview``: a picture of what the augmentation pipeline does: original samples next to augmented ones,
boxes drawn and masks overlaid, so misaligned boxes or masks show at a glance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cvkit.errors import CvkitError

CELL = 128  # pixels per grid cell


def preview_grid(augmentations: list[str], *, dataset: str, head: str, out: str | Path, samples: int = 6,
                 image_size: int = 64, seed: int = 0, data_dir: str | None = None) -> Path:
    """Write a PNG: a row per sample; columns the original, each augmentation alone, then all in order."""
    from cvkit.training.config import RunConfig
    from cvkit.training.plan import resolve_plan

    if not augmentations:
        raise CvkitError("say which augmentations to preview, e.g. --aug flip,rotate,pca")
    if not 1 <= samples <= 32:
        raise CvkitError(f"--samples must be in [1, 32], got {samples}")
    config = RunConfig(head=head, dataset=dataset, augmentations=list(augmentations), image_size=image_size,
                       seed=seed, data_dir=data_dir, batch_size=samples)
    plan = resolve_plan(config)  # unknown names, bad parameters, unsupported tasks: before data loads
    columns = [("original", [])] + [(text, [item]) for text, item in zip(augmentations, plan.augmentation_items())]
    if len(augmentations) > 1:
        columns.append(("all, in order", plan.augmentation_items()))
    batches = _augmented_batches(plan, [items for _, items in columns], samples)
    mask_classes = int(max(np.max(b.get("segmentation_masks", 0)) for b in batches)) + 1
    return _draw(batches, [title for title, _ in columns], Path(out), mask_classes)


def _augmented_batches(plan: Any, stacks: list[list[dict]], samples: int) -> list[dict]:
    """The first ``samples`` training examples through each stack of augmentations."""
    from cvkit.data.augment import build_augmentation
    from cvkit.data.statistics import DatasetStatistics
    from cvkit.training.engine import make_pipeline
    from cvkit.training.run import read_splits

    splits = read_splits(plan)
    info = splits.info
    statistics = DatasetStatistics(num_classes=info.num_classes, task=plan.task, channels=info.image_shape[-1],
                                   train=splits.train, seed=plan.config.seed)
    first = splits.train.take(samples).cache()
    batches = []
    for stack in stacks:
        augment = build_augmentation(stack, image_size=(plan.image_size,) * 2, channels=info.image_shape[-1],
                                     seed=plan.config.seed, statistics=statistics) if stack else None
        pipeline = make_pipeline(first, batch_size=samples, to_xy=lambda batch: batch, augment=augment,
                                 seed=plan.config.seed)
        batches.append(next(iter(pipeline.as_numpy_iterator())))
    return batches


def _outline(inside: np.ndarray) -> np.ndarray:
    """The mask's pixels with a neighbour outside it."""
    padded = np.pad(inside, 1)
    interior = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return inside & ~interior


def _draw(batches: list[dict], titles: list[str], out: Path, mask_classes: int) -> Path:
    from PIL import Image, ImageDraw

    from cvkit.serve.predict import OVERLAY_ALPHA, palette

    rows, header = len(batches[0]["images"]), 16
    grid = Image.new("RGB", (CELL * len(batches), header + CELL * rows), (255, 255, 255))
    draw = ImageDraw.Draw(grid)
    colours = palette(max(mask_classes, 2))
    for column, (batch, title) in enumerate(zip(batches, titles)):
        draw.text((column * CELL + 3, 2), title[:22], fill=(0, 0, 0))
        for row, image in enumerate(batch["images"]):
            rgb = np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image[..., :3]
            rgb = np.clip(rgb, 0, 255).astype("float32")
            if "segmentation_masks" in batch:
                mask = np.round(batch["segmentation_masks"][row][..., 0]).astype("int64")
                inside = mask > 0
                rgb[inside] = (1 - OVERLAY_ALPHA) * rgb[inside] + OVERLAY_ALPHA * colours[mask[inside] % len(colours)]
                rgb[_outline(inside)] = (255.0, 255.0, 0.0)  # a mask off its object shows as a stray outline
            cell = Image.fromarray(rgb.round().astype(np.uint8)).resize((CELL, CELL), Image.NEAREST)
            left, top = column * CELL, header + row * CELL
            grid.paste(cell, (left, top))
            if "bounding_boxes" in batch:  # every real box (detection pads with label -1)
                boxes = batch["bounding_boxes"]
                for box in boxes["boxes"][row][np.asarray(boxes["labels"][row]).reshape(-1) >= 0]:
                    x1, y1, x2, y2 = (float(v) * CELL for v in box)
                    draw.rectangle([left + x1, top + y1, left + max(x1, x2 - 1), top + max(y1, y2 - 1)], outline=(255, 32, 32))
            label = batch.get("label_distribution")
            if label is not None:
                share = ", ".join(f"{c}:{p:.2f}" for c, p in enumerate(label[row]) if p > 0.01)
                draw.text((left + 2, top + CELL - 12), share[:24], fill=(255, 255, 0))
    out.parent.mkdir(parents=True, exist_ok=True)
    grid.save(out)
    return out
