"""``cvkit explain`` on segmentation (a chosen pixel) and localization (the predicted box) runs.

Untrained tiny models saved as run directories: enough to check which score is explained, the
title, the drawn box and the one-line errors.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import assert_user_error, run_cli, run_cli_here
from PIL import Image

import cvkit
from cvkit.errors import CvkitError

TINY = dict(blocks=[1, 1, 1, 1], stage_widths=[8, 16, 32, 64], stem_filters=8)
SIZE = 32


def _run(root, head):
    import keras

    keras.utils.set_random_seed(0)
    model = cvkit.create_model("resnet18", head=head, num_classes=2, input_shape=(SIZE, SIZE, 3),
                               class_names=["circle", "square"], **TINY)
    root.mkdir()
    (root / "config.json").write_text(json.dumps({"arch": "resnet18", "head": head, "image_size": SIZE}))
    model.save(root / "model.keras")
    return root, model


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("explain-tasks")
    image = np.random.default_rng(0).integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    Image.fromarray(image).save(root / "pic.png")
    return dict(image=str(root / "pic.png"), segmentation=_run(root / "seg", "unet"), localization=_run(root / "loc", "localization"))


def test_a_pixel_is_explained_by_its_own_neighbourhood(runs):
    from cvkit.insight.explain import explain

    _, model = runs["segmentation"]
    corners = {(3, 3): (slice(0, 10), slice(0, 10)), (28, 28): (slice(22, 32), slice(22, 32))}
    for pixel, (rows, columns) in corners.items():
        [item] = explain(model, [runs["image"]], "saliency", pixel=pixel)
        inside = item.heat[rows, columns].mean()
        outside = (item.heat.sum() - item.heat[rows, columns].sum()) / (item.heat.size - 100)
        assert inside > 2 * outside, (pixel, inside, outside)
        assert item.subject == f"pixel ({pixel[0]}, {pixel[1]})" and item.pixel == pixel
        assert item.class_name in ("background", "circle", "square")
        probabilities = model(item.image[None], training=False)["masks"][0, pixel[0], pixel[1]]
        assert item.probability == pytest.approx(float(np.max(probabilities)), abs=1e-5)


@pytest.mark.slow
def test_explain_cli_on_a_pixel_and_on_a_box(runs, tmp_path):
    run_dir, _ = runs["segmentation"]
    # a fresh process: loading a segmentation run finds its head's objects (the box is in-process)
    result = run_cli("explain", str(run_dir), runs["image"], "--method", "occlusion", "--pixel", "5,7", "--out", str(tmp_path / "seg"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "for pixel (5, 7)" in result.stdout and "the pixel's class log-probability" in result.stdout
    assert (tmp_path / "seg" / "pic_occlusion.png").is_file()
    run_dir, model = runs["localization"]
    result = run_cli_here("explain", str(run_dir), runs["image"], "--out", str(tmp_path / "loc"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "for the image's object (its predicted box drawn)" in result.stdout
    assert (tmp_path / "loc" / "pic_gradcam.png").is_file()


def test_a_localization_explanation_carries_the_predicted_box(runs):
    from cvkit.insight.explain import explain

    _, model = runs["localization"]
    [item] = explain(model, [runs["image"]], "saliency")
    expected = np.asarray(model(item.image[None], training=False)["boxes"][0])
    np.testing.assert_allclose(item.box, expected, atol=1e-6)


def test_pixel_bad_input_is_one_line_and_writes_nothing(runs, tmp_path):
    from cvkit.insight.explain import check_pixel_task, parse_pixel

    out = tmp_path / "maps"
    run_dir, _ = runs["segmentation"]
    assert_user_error(run_cli_here("explain", str(run_dir), runs["image"], "--pixel", "40,3", "--out", str(out)),
                      "--pixel 40,3 is outside pic.png (32x32 pixels)", "row in 0-31")
    assert not out.exists()
    with pytest.raises(CvkitError, match="--pixel fits a segmentation run, and this is a localization run"):
        check_pixel_task(runs["localization"][1], (1, 1))
    with pytest.raises(CvkitError, match="--pixel takes ROW,COL"):
        parse_pixel("3")
