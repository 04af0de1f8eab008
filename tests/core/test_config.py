"""Run configs: validation, config files, overrides."""

from __future__ import annotations

import pytest

from cvkit import CvkitError
from cvkit.data.augment import parse_assignments, parse_augmentation
from cvkit.training.config import RunConfig, read_config_file


@pytest.mark.parametrize("field,value,message", [
    ("epochs", 0, "epochs must be a positive"),
    ("batch_size", -4, "batch size must be a positive"),
    ("learning_rate", 0.0, "learning rate must be a positive"),
    ("learning_rate", float("nan"), "learning rate must be a positive"),
    ("image_size", 0, "image size must be a positive"),
    ("optimizer", "adamm", "did you mean 'adam'"),
    ("validation_fraction", 1.5, "validation fraction"),
])
def test_impossible_hyperparameters_are_refused(field, value, message):
    with pytest.raises(CvkitError, match=message):
        RunConfig(**{field: value}).validate()


def test_unknown_key_suggests_the_close_one():
    with pytest.raises(CvkitError, match="did you mean 'epochs'"):
        RunConfig.from_dict({"epoch": 3})


def test_toml_and_yaml_config_files(tmp_path):
    toml = tmp_path / "run.toml"
    toml.write_text('arch = "resnet18"\nepochs = 3\n[backbone_params]\nse_ratio = 16\n')
    assert read_config_file(toml) == {"arch": "resnet18", "epochs": 3, "backbone_params": {"se_ratio": 16}}
    yaml = tmp_path / "run.yaml"
    yaml.write_text("arch: vgg11\naugmentations: [flip, crop]\n")
    assert RunConfig.from_dict(read_config_file(yaml)).augmentations == ["flip", "crop"]
    bad = tmp_path / "bad.toml"
    bad.write_text("arch = \n")
    with pytest.raises(CvkitError, match="cannot parse config file"):
        read_config_file(bad)


def test_assignments_and_augmentation_calls_parse_values():
    assert parse_assignments(["growth_rate=12", "blocks=[1, 2]", "stem=cifar", "flag=true"], "--set") == {
        "growth_rate": 12, "blocks": [1, 2], "stem": "cifar", "flag": True,
    }
    assert parse_augmentation("crop(scale=0.8)") == ("crop", {"scale": 0.8})
    with pytest.raises(CvkitError, match="KEY=VALUE"):
        parse_assignments(["growth_rate"], "--set")
