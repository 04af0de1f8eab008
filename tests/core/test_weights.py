"""--weights: another cvkit run's file (backbone always, head when it fits) and ImageNet's."""

from __future__ import annotations

import numpy as np
import pytest

import cvkit
from cvkit import CvkitError
from cvkit.training.config import RunConfig
from cvkit.training.run import prepare, preflight

from helpers import assert_user_error, run_cli_here

TINY_RESNET = {"blocks": [1, 1, 1, 1], "stage_widths": [8, 16, 32, 64], "stem_filters": 8}
TINY_DENSENET = {"blocks": [1, 1, 1, 1], "growth_rate": 4, "stem_filters": 8}


def _saved_model(path, arch="resnet18", classes=("0", "1", "2", "3", "4"), params=TINY_RESNET, **kwargs):
    model = cvkit.create_model(arch, num_classes=len(classes), input_shape=(32, 32, 1),
                               class_names=list(classes), **params, **kwargs)
    model.save(path)
    return model


def _prepared(weights, dataset="digits"):
    config = RunConfig(arch="resnet18", dataset=dataset, image_size=32, backbone_params=TINY_RESNET,
                       weights=str(weights))
    return prepare(preflight(config)).model


def test_weights_file_with_another_head_loads_the_backbone_and_says_so(tmp_path, capsys):
    source = _saved_model(tmp_path / "model.keras")
    model = _prepared(tmp_path / "model.keras")  # digits: 10 classes, the file 5
    for name in ("conv1_conv", "conv5_block1_2_bn"):
        for ours, theirs in zip(model.get_layer(name).get_weights(), source.get_layer(name).get_weights()):
            np.testing.assert_array_equal(ours, theirs)
    assert model.get_layer("predictions").get_weights()[0].shape[-1] == 10
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "loaded the backbone; the head starts fresh" in lines[0], lines
    assert "5 classes" in lines[0] and "10" in lines[0]


def test_a_head_for_other_classes_starts_fresh_even_with_the_same_count(tmp_path, capsys):
    source = _saved_model(tmp_path / "model.keras")  # digits 0-4
    model = _prepared(tmp_path / "model.keras", dataset="digits:5-9")
    assert not np.array_equal(model.get_layer("predictions").get_weights()[0],
                              source.get_layer("predictions").get_weights()[0])
    np.testing.assert_array_equal(model.get_layer("conv1_conv").get_weights()[0],
                                  source.get_layer("conv1_conv").get_weights()[0])
    out = capsys.readouterr().out
    assert "the head starts fresh" in out and "0, 1, 2, 3, 4 are not this run's 5, 6, 7, 8, 9" in out
    same = _prepared(tmp_path / "model.keras", dataset="digits:0-4")  # the file's own classes: all loads
    np.testing.assert_array_equal(same.get_layer("predictions").get_weights()[0],
                                  source.get_layer("predictions").get_weights()[0])
    assert "loaded every layer, the head included" in capsys.readouterr().out


def test_keras3_weights_file_loads_by_layer(tmp_path):
    source = _saved_model(tmp_path / "model.keras", classes=tuple("0123456789"))
    source.save_weights(tmp_path / "model.weights.h5")
    model = _prepared(tmp_path / "model.weights.h5")
    for ours, theirs in zip(model.get_weights(), source.get_weights()):
        np.testing.assert_array_equal(ours, theirs)


def test_weights_of_another_arch_is_one_line_naming_layers_and_writes_nothing(tmp_path):
    _saved_model(tmp_path / "densenet.keras", arch="densenet121", params=TINY_DENSENET)
    with pytest.raises(CvkitError, match="the first layers that do not match are conv1_conv"):
        _prepared(tmp_path / "densenet.keras")
    run = tmp_path / "run"
    result = run_cli_here("train", "--arch", "resnet18", "--set", "blocks=[1,1,1,1]", "--set", "stem_filters=8",
                     "--set", "stage_widths=[8,16,32,64]", "--dataset", "digits", "--epochs", "1",
                     "--weights", str(tmp_path / "densenet.keras"), "--out", str(run))
    assert_user_error(result, "does not fit this model", "conv1_conv")
    assert not run.exists()


@pytest.mark.parametrize("weights,fragment", [
    ("missing.keras", "no such file"), ("model.pt", "pass a .keras or .weights.h5 file"),
])
def test_bad_weights_option_fails_before_anything_builds(tmp_path, weights, fragment):
    with pytest.raises(CvkitError, match=fragment):
        cvkit.train(RunConfig(arch="resnet18", dataset="digits", weights=str(tmp_path / weights)))


def test_imagenet_on_a_variant_without_twin_lists_those_with_one():
    with pytest.raises(CvkitError, match="resnet18 has no keras.applications twin.*densenet121.*resnet50.*vgg16"):
        cvkit.train(RunConfig(arch="resnet18", dataset="digits", weights="imagenet"))
    with pytest.raises(CvkitError, match="needs stride_on='1x1'"):
        cvkit.train(RunConfig(arch="resnet50", dataset="digits", weights="imagenet",
                              backbone_params={"stride_on": "3x3"}))


def test_missing_imagenet_file_names_it_and_where_to_put_it(tmp_path, monkeypatch):
    import keras

    from cvkit.models.pretrained import find_weights_file, imagenet_weights_of

    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no real ~/.keras/models either
    monkeypatch.setattr(keras.utils, "get_file", offline)
    weights = imagenet_weights_of("densenet121")
    with pytest.raises(CvkitError, match=f"densenet121_weights_tf_dim_ordering_tf_kernels.h5 in {tmp_path / 'models'}"):
        find_weights_file(weights)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "densenet121_weights_tf_dim_ordering_tf_kernels.h5").write_bytes(b"")
    assert find_weights_file(weights) == tmp_path / "models" / "densenet121_weights_tf_dim_ordering_tf_kernels.h5"


def test_imagenet_preprocessing_matches_keras_and_survives_save_load_and_export(tmp_path):
    import keras

    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    models = {}
    for mode, twin_module in (("caffe", keras.applications.resnet), ("torch", keras.applications.densenet)):
        models[mode] = cvkit.create_model("resnet18", num_classes=3, input_shape=(32, 32, 3), preprocessing=mode,
                                          **TINY_RESNET)
        np.testing.assert_allclose(models[mode].get_layer("preprocess")(images),
                                   twin_module.preprocess_input(images.copy()), atol=1e-4)
    model = models["caffe"]
    model.save(tmp_path / "m.keras")
    loaded = cvkit.load_model(tmp_path / "m.keras")
    assert loaded.preprocessing == "caffe"
    np.testing.assert_allclose(loaded.predict(images, verbose=0)["probabilities"],
                               model.predict(images, verbose=0)["probabilities"], atol=1e-6)
    served = cvkit.export_savedmodel(loaded, tmp_path / "saved")
    endpoint = keras.layers.TFSMLayer(str(served), call_endpoint="serving_default")
    pixels = images.astype("uint8")
    np.testing.assert_allclose(endpoint(pixels)["probabilities"],
                               model.predict(pixels.astype("float32"), verbose=0)["probabilities"], atol=1e-5)
