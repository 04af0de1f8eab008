"""``cvkit evaluate``, ``predict`` and ``export`` on a detection run (tiny resnet18, yolo, shapes)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import cvkit
from cvkit.training.config import RunConfig
from cvkit_cli.main import main


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("detection") / "run"
    spec = cvkit.get_backbone("resnet18")
    cvkit.train(RunConfig(arch="resnet18", head="yolo", dataset="shapes:48", image_size=64, epochs=1, batch_size=16,
                          backbone_params=dict(spec.tiny), out=str(out)), verbose=0)
    return out


def _reference_ap(run_dir):
    """COCO AP of the run's model on its validation split, computed here from the head's own
    postprocess at the AP score threshold the training log uses."""
    from cvkit_head_detection.head import yolo_postprocess

    from cvkit.training.plan import plan_for_model
    from cvkit.training.run import load_run, read_splits

    config, _, model = load_run(run_dir)
    examples = list(read_splits(plan_for_model(config, model)).validation.as_numpy_iterator())
    images = np.stack([e["images"] for e in examples]).astype("float32")
    found = yolo_postprocess(model(images, training=False), score_threshold=0.01, iou_threshold=0.5,
                             max_detections=100, **model.head_params)
    found = {k: np.asarray(v) for k, v in found.items()}
    truth, predictions = [], []
    for i, example in enumerate(examples):
        labels, n = example["bounding_boxes"]["labels"], int(found["num_detections"][i])
        truth.append(cvkit.DetectionTruth(boxes=example["bounding_boxes"]["boxes"][labels >= 0], classes=labels[labels >= 0],
                                          height=64, width=64))
        predictions.append(cvkit.DetectionResult(boxes=found["boxes"][i, :n], scores=found["scores"][i, :n],
                                                 classes=found["classes"][i, :n]))
    return cvkit.coco_average_precision(truth, predictions, model.class_names)


@pytest.mark.slow
def test_evaluate_reports_coco_ap_of_the_postprocessed_boxes(run, capsys):
    assert main(["evaluate", str(run), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert {"AP", "AP50", "AP75", "loss"} <= set(scores)
    expected = _reference_ap(run)
    for key in ("AP", "AP50", "AP75"):
        assert scores[key] == pytest.approx(expected[key], abs=1e-6), key
    assert 0 <= scores["AP75"] <= scores["AP50"] <= 1
    saved = json.loads((run / "metrics.json").read_text())["validation"]  # the training run's own record
    for key in ("AP", "AP50", "AP75"):
        assert saved[key] == pytest.approx(expected[key], abs=1e-6), key


@pytest.mark.slow
def test_predict_prints_boxes_and_writes_pictures_and_onnx_refuses(run, tmp_path, capsys):
    picture = tmp_path / "wide.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (48, 80, 3), dtype=np.uint8)).save(picture)
    assert main(["predict", str(run), str(picture), "--score-threshold", "0", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["detections"] and row["output"].startswith(str(run / "predictions"))
    best = row["detections"][0]
    from cvkit.models.assembly import read_saved_config

    assert best["class"] in read_saved_config(run / "model.keras")["config"]["class_names"]
    assert main(["predict", str(run), str(picture), "--score-threshold", "0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    count = len(row["detections"])
    assert f"{count} detection{'' if count == 1 else 's'} (x1,y1,x2,y2 px)" in lines[0]
    assert lines[1].split() == [best["class"], f"{best['score']:.3f}", "box", ",".join(f"{v:.0f}" for v in best["box_pixels"])]

    for argv, message in (
        (["predict", str(run), str(picture), "--score-threshold", "1.5"], "score_threshold must be in [0, 1], got 1.5"),
        (["predict", str(run), str(picture), "--iou-threshold", "-1"], "iou_threshold must be in [0, 1], got -1"),
        (["export", str(run), "--out", str(tmp_path / "m.onnx"), "--format", "onnx"], "ONNX export does not support detection"),
    ):
        assert main(argv) == 2
        error = capsys.readouterr().err.strip().splitlines()
        assert len(error) == 1 and error[0].startswith("cvkit: error: ") and message in error[0], error
