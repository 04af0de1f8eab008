"""``cvkit explain`` and ``cvkit plot`` on a small trained shapes run, and their one-line errors."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from helpers import assert_user_error, run_cli_here
from PIL import Image

import cvkit
from cvkit.errors import CvkitError
from cvkit.training.config import RunConfig

SIZE = 64  # the stride-32 map is 2x2, too coarse: Grad-CAM takes the 4x4 stride-16 one


@pytest.fixture(scope="module")
def shapes_run(tmp_path_factory):
    """A tiny resnet that has learned the shapes (validation accuracy well above chance)."""
    run = tmp_path_factory.mktemp("explain") / "run"
    spec = cvkit.get_backbone("resnet18")
    result = cvkit.train(RunConfig(arch="resnet18", dataset="shapes:1000", epochs=8, batch_size=32, image_size=SIZE,
                                   learning_rate=3e-3, backbone_params=dict(spec.tiny), out=str(run)), verbose=0)
    assert result.validation["accuracy"] > 0.5, result.validation
    return run


@pytest.fixture(scope="module")
def shape_images(tmp_path_factory):
    from cvkit_data_shapes.generate import generate

    folder = tmp_path_factory.mktemp("shape-images")
    images, _, _, masks = generate(32, seed=123, size=SIZE)  # 8 images swing the heat ratio from 0.8 to 1.8
    paths = []
    for i, image in enumerate(images):
        paths.append(str(folder / f"shape{i}.png"))
        Image.fromarray(image).save(paths[-1])
    return paths, masks > 0


@pytest.mark.slow
def test_gradcam_puts_its_heat_on_the_shape(shapes_run, shape_images):
    from cvkit.insight.explain import explain
    from cvkit.training.run import load_run

    _, _, model = load_run(shapes_run)
    paths, masks = shape_images
    maps = explain(model, paths, "gradcam")
    inside = np.mean([m.heat[mask].mean() for m, mask in zip(maps, masks)])
    outside = np.mean([m.heat[~mask].mean() for m, mask in zip(maps, masks)])
    assert inside > 1.3 * outside, (inside, outside)  # 1.5-1.7 over 32 images from two training seeds
    assert all("stride-16 map" in m.note for m in maps)


@pytest.mark.slow
def test_explain_cli_writes_a_png_per_image_and_method(shapes_run, shape_images, tmp_path):
    paths, _ = shape_images
    out = tmp_path / "maps"
    result = run_cli_here("explain", str(shapes_run), *paths[:2], "--method", "saliency,occlusion", "--class", "square", "--out", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    assert sorted(p.name for p in out.iterdir()) == ["shape0_occlusion.png", "shape0_saliency.png",
                                                      "shape1_occlusion.png", "shape1_saliency.png"]
    assert Image.open(out / "shape0_saliency.png").size[0] > 3 * SIZE
    assert "explains square" in result.stdout


@pytest.mark.slow
def test_explain_bad_input_is_one_line_and_writes_nothing(shapes_run, shape_images, tmp_path):
    paths, _ = shape_images
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    out = tmp_path / "maps"
    assert_user_error(run_cli_here("explain", str(shapes_run), paths[0], str(text), "--out", str(out)), "cannot read image", "notes.txt")
    assert_user_error(run_cli_here("explain", str(shapes_run), paths[0], "--class", "squares", "--out", str(out)),
                      "no class 'squares'", "did you mean 'square'")
    assert not out.exists()


def test_gradcam_refuses_a_model_without_a_spatial_map():
    import keras

    from cvkit.insight.explain import gradcam_map

    flat = SimpleNamespace(name="tiny", input_shape=(None, 32, 32, 3),
                           feature_maps={16: keras.KerasTensor((None, 1, 1, 8)), 32: keras.KerasTensor((None, 1, 1, 8))})
    with pytest.raises(CvkitError, match="Grad-CAM needs a spatial feature map.*stride 32.*1x1"):
        gradcam_map(flat)


@pytest.mark.slow
def test_plot_writes_confusion_filters_and_tsne(shapes_run):
    from cvkit.insight.plots import plot_run

    written = plot_run(shapes_run)
    assert [p.name for p in written] == ["confusion.png", "filters.png", "tsne.png"]
    for path in written:
        width, height = Image.open(path).size
        assert width > 200 and height > 200, (path, width, height)
    assert not list(shapes_run.glob(".pictures-*"))


def test_plot_on_a_run_without_a_model_is_a_user_error(tmp_path):
    from cvkit.insight.plots import plot_run
    run = tmp_path / "unfinished"
    run.mkdir()
    RunConfig(arch="lenet5", dataset="digits", out=str(run)).write(run)
    with pytest.raises(CvkitError, match="has no model.keras"):
        plot_run(run)
    assert sorted(p.name for p in run.iterdir() if p.suffix == ".png") == []


@pytest.mark.slow
def test_fgsm_lowers_the_accuracy_and_epsilon_zero_keeps_it(shapes_run, tmp_path):
    from cvkit.insight.attack import attack_run

    result = attack_run(shapes_run, [0.0, 0.03], tmp_path / "attack")
    assert result.accuracy[0.0] == pytest.approx(result.clean_accuracy)
    assert result.accuracy[0.03] < result.clean_accuracy - 0.2, result
    assert len(result.written) == 8 and all(p.is_file() for p in result.written)


def test_fgsm_epsilon_outside_zero_one_is_a_one_line_error(tmp_path):
    assert_user_error(run_cli_here("attack", str(tmp_path), "--fgsm-eps", "0.01,1.5"), "outside [0, 1]")
    assert_user_error(run_cli_here("attack", str(tmp_path), "--fgsm-eps", "0.01,big"), "comma-separated numbers")
    assert list(tmp_path.iterdir()) == []


def test_onnx_export_matches_keras(tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("tf2onnx")
    from cvkit.serve.onnx_export import export_onnx

    model = cvkit.create_model("lenet5", num_classes=3, input_shape=(32, 32, 1), class_names=["a", "b", "c"])
    difference = export_onnx(model, tmp_path / "model.onnx")
    assert (tmp_path / "model.onnx").stat().st_size > 1000
    assert 0 <= difference < 1e-4
    assert not list(tmp_path.glob("*.partial"))


def test_onnx_export_without_the_extra_names_the_install_command(tmp_path, monkeypatch):
    import sys

    from cvkit.serve.onnx_export import export_onnx

    monkeypatch.setitem(sys.modules, "tf2onnx", None)  # import tf2onnx now raises ImportError
    with pytest.raises(CvkitError, match=r"cvkit-core\[onnx\]"):
        export_onnx(SimpleNamespace(input_shape=(None, 32, 32, 1)), tmp_path / "model.onnx")
    assert list(tmp_path.iterdir()) == []
