"""Every registered backbone keeps the backbone contract, at a tiny size.

Parametrised over the registry, so a new plugin is tested the moment it registers.
"""

from __future__ import annotations

import numpy as np
import pytest

import cvkit

BACKBONES = cvkit.list_backbones()


def tiny_model(name: str, input_shape=None, **kwargs):
    """The variant shrunk by its ``tiny`` overrides, at its default training size."""
    spec = cvkit.get_backbone(name)
    size = cvkit.default_image_size(spec.min_input_size)  # what `cvkit train --arch NAME` uses
    input_shape = input_shape or (size, size, spec.input_shape[-1])
    return cvkit.create_model(name, num_classes=3, input_shape=input_shape, **{**spec.tiny, **kwargs})


@pytest.mark.parametrize("name", BACKBONES)
def test_builds_runs_and_round_trips(name, tmp_path):
    model = tiny_model(name)
    images = np.random.default_rng(0).uniform(0, 255, (2, *model.input_shape[1:])).astype("float32")
    out = model.predict(images, verbose=0)
    probabilities = out["probabilities"]
    assert probabilities.shape == (2, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)

    # Loading rebuilds the model from get_config() alone, then restores the weights.
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = cvkit.load_model(path)
    assert loaded.get_config() == model.get_config()
    assert cvkit.count_params(loaded) == cvkit.count_params(model)
    np.testing.assert_allclose(loaded.predict(images, verbose=0)["probabilities"], probabilities, atol=1e-5)


@pytest.mark.parametrize("name", BACKBONES)
def test_headless_at_another_size_exposes_feature_maps_by_stride(name):
    spec = cvkit.get_backbone(name)
    size = max(64, 2 * spec.min_input_size)
    model = tiny_model(name, include_top=False, input_shape=(size, size, spec.input_shape[-1]))
    assert model.feature_maps, f"{name} exposes no feature maps"
    deepest = model.feature_maps[max(model.feature_maps)]
    assert model.output is deepest, "without its top a backbone outputs its deepest feature map"
    assert len(model.output.shape) == 4 and model.output.shape[-1] > 0
    for stride, tensor in model.feature_maps.items():
        assert stride in cvkit.FEATURE_STRIDES
        # "same" padding gives ceil(size / stride); paper layouts with unpadded convs
        # (LeNet, AlexNet, Inception v3) lose a few border pixels, never half the map.
        assert size // stride // 2 <= tensor.shape[1] <= -(-size // stride), (stride, tensor.shape)
    if spec.min_input_size >= 32:
        assert {4, 8, 16, 32} <= set(model.feature_maps), sorted(model.feature_maps)


def test_every_family_name_resolves_to_a_variant():
    registries = cvkit.get_registries()
    families = {spec.family for spec in registries.backbones}
    for family in families:
        assert cvkit.get_backbone(family).family == family, f"family {family!r} has no default variant"
