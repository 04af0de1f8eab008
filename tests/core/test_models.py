"""create_model / load_model: overrides, sizes, files from plugins that are not installed."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import cvkit
from cvkit import CvkitError


def test_input_smaller_than_the_total_stride_is_refused():
    with pytest.raises(CvkitError, match="at least 32x32"):
        cvkit.create_model("densenet121", input_shape=(16, 16, 3))


def test_family_name_and_overrides_reach_the_builder():
    model = cvkit.create_model("densenet", num_classes=7, input_shape=(32, 32, 3), blocks=[1, 1, 1, 1], growth_rate=4)
    assert model.arch == "densenet121"
    assert model.output["probabilities"].shape[-1] == 7
    assert model.get_config()["backbone_params"] == {"blocks": [1, 1, 1, 1], "growth_rate": 4}


def _saved(tmp_path):
    model = cvkit.create_model("densenet121", num_classes=3, input_shape=(32, 32, 3), blocks=[1, 1, 1, 1], growth_rate=4)
    path = tmp_path / "model.keras"
    model.save(path)
    return model, path


def test_round_trip_keeps_outputs(tmp_path):
    model, path = _saved(tmp_path)
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    loaded = cvkit.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0)["probabilities"], model.predict(x, verbose=0)["probabilities"], atol=1e-6)


def _rewrite_config(path, edit):
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(files["config.json"])
    edit(config)
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)


def test_model_file_from_an_unknown_plugin_names_what_to_install(tmp_path):
    _, path = _saved(tmp_path)
    _rewrite_config(path, lambda c: c["config"].update(arch="hypernet9000"))
    with pytest.raises(CvkitError, match="arch 'hypernet9000', which no installed plugin provides"):
        cvkit.load_model(path)


def test_model_file_from_a_missing_plugin_names_its_distribution(tmp_path):
    _, path = _saved(tmp_path)
    with zipfile.ZipFile(path) as archive:
        assert json.loads(archive.read("config.json"))["config"]["distributions"]["arch"] == "cvkit-densenet"
    _rewrite_config(path, lambda c: c["config"].update(arch="hypernet9000", distributions={"arch": "cvkit-hypernet"}))
    with pytest.raises(CvkitError, match="arch 'hypernet9000', which no installed plugin provides; install cvkit-hypernet"):
        cvkit.load_model(path)


def test_model_file_with_an_unknown_custom_layer_names_the_package(tmp_path):
    _, path = _saved(tmp_path)
    _rewrite_config(path, lambda c: c.setdefault("extra", {"registered_name": "cvkit_warp>WarpConv"}))
    with pytest.raises(CvkitError, match="install the plugin package 'cvkit_warp'"):
        cvkit.load_model(path)


def test_not_a_model_file(tmp_path):
    bogus = tmp_path / "model.keras"
    bogus.write_text("hello")
    with pytest.raises(CvkitError, match="is not a Keras model file"):
        cvkit.load_model(bogus)
    with pytest.raises(CvkitError, match="does not exist"):
        cvkit.load_model(tmp_path / "missing.keras")


def test_info_counts_and_macs():
    model = cvkit.create_model("densenet_bc_100_12", num_classes=10, input_shape=(32, 32, 3))
    summary = cvkit.model_summary(model)
    assert summary["trainable_params"] == 769_162
    assert summary["total_params"] > summary["trainable_params"]
    assert summary["macs"] > 0 and summary["layers"]
