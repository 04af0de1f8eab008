"""Benchmark: the yolo head on `shapes` detection, ResNet-18 at 128 px, on 2 CPU cores.

What `cvkit train` does with the flags in RUN, then the SAVED model (model.keras, loaded back)
judged on the validation split: COCO AP and AP50 after the head's postprocess, and the wall
time. Optionally draws the predicted boxes on a few validation images (PNG) to look at.

    uv run python benchmarks/bench_detection.py [--out DIR] [--pngs 8]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from bench_heads import pin_two_cores

# `cvkit train --arch resnet18 --head yolo --image-size 128 --dataset shapes:1200 --batch-size 16 --epochs 10`
RUN = dict(arch="resnet18", head="yolo", image_size=128, dataset="shapes:1200", batch_size=16, epochs=10,
           learning_rate=1e-3, optimizer="adam", schedule="cosine", seed=0)
TARGET_AP50 = 0.6


def judge_saved_model(run_dir: Path, pngs: int = 0) -> dict:
    """AP, AP50 and AP75 of RUN_DIR/model.keras on the run's validation split, and the AP pass time."""
    import cvkit
    from cvkit.training.config import read_run_config
    from cvkit.training.run import load_splits
    from cvkit_head_detection.metrics import average_precision, read_split

    config, _ = read_run_config(run_dir)
    model = cvkit.load_model(run_dir / "model.keras")
    splits = load_splits(config, "detection", config.image_size)
    images, truth = read_split(splits.validation)
    start = time.perf_counter()
    scores = average_precision(model, images, truth, model.task_spec, dict(model.head_params))
    seconds = time.perf_counter() - start
    if pngs:
        draw_predictions(model, images[:pngs], truth[:pngs], run_dir / "predicted", splits.info.class_names)
    return {**{k: round(v, 4) for k, v in scores.items()}, "validation_images": len(images),
            "ap_pass_seconds": round(seconds, 1)}


def draw_predictions(model, images, truth, out: Path, class_names) -> None:
    """Validation images with the true boxes (green) and the detections (red, class and score)."""
    from PIL import Image, ImageDraw

    import cvkit
    from cvkit_head_detection.metrics import detection_results

    spec = cvkit.get_registries().heads.get("yolo")
    found = detection_results(spec.load_postprocess()(model(images, training=False), **cvkit.DETECTION_DEFAULTS.as_kwargs(),
                                                      **dict(model.head_params)))
    out.mkdir(parents=True, exist_ok=True)
    for index, (image, true, result) in enumerate(zip(images, truth, found)):
        picture = Image.fromarray(image.astype("uint8")).resize((image.shape[1] * 3, image.shape[0] * 3))
        pen = ImageDraw.Draw(picture)
        scale = [picture.width, picture.height] * 2
        for box in true.boxes:
            pen.rectangle([float(v) * s for v, s in zip(box, scale)], outline=(0, 200, 0), width=2)
        for box, score, cls in zip(result.boxes, result.scores, result.classes):
            corners = [float(v) * s for v, s in zip(box, scale)]
            pen.rectangle(corners, outline=(230, 0, 0), width=2)
            pen.text((corners[0] + 3, corners[1] + 2), f"{class_names[int(cls)]} {score:.2f}", fill=(230, 0, 0))
        picture.save(out / f"val{index:02d}.png")


def bench(out: Path | None, pngs: int) -> dict:
    import cvkit
    from cvkit.training.config import RunConfig

    with tempfile.TemporaryDirectory() as tmp:
        run_dir = out or Path(tmp) / "yolo"
        start = time.perf_counter()
        result = cvkit.train(RunConfig(**RUN, out=str(run_dir)), verbose=2)
        minutes = (time.perf_counter() - start) / 60
        judged = judge_saved_model(result.run_dir, pngs)
        history = (result.run_dir / "metrics.csv").read_text()
    return {"task": "detection", **RUN, "train_minutes": round(minutes, 1), "saved_model": judged,
            "passes": judged["AP50"] >= TARGET_AP50, "metrics_csv": history}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=None, help="keep the run directory here")
    parser.add_argument("--pngs", type=int, default=0, help="draw this many validation predictions")
    args = parser.parse_args(argv)
    cores = pin_two_cores()
    row = bench(args.out, args.pngs)
    print(f"\ncores: {cores}")
    print(json.dumps(row, indent=2))
    return 0 if row["passes"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
