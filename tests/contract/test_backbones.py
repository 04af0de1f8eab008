"""Every registered backbone keeps the backbone contract, at a tiny size.

Parametrised over the registry (as timm's tests/test_models.py), so a new plugin is tested the
moment it registers. The checks are ``cvkit.testing``'s, the ones a plugin's own tests call.
"""

from __future__ import annotations

import pytest

import cvkit
from cvkit.testing import check_backbone

BACKBONES = cvkit.list_backbones()


def _is_family_default(name: str) -> bool:
    return cvkit.get_backbone(cvkit.get_backbone(name).family).name == name


@pytest.mark.parametrize("name", BACKBONES)
def test_backbone_keeps_the_contract(name):
    # The short overfit runs once per family, on the variant its family name resolves to.
    check_backbone(name, overfit=_is_family_default(name))


def test_every_family_name_resolves_to_a_variant():
    families = {spec.family for spec in cvkit.get_registries().backbones}
    for family in families:
        assert cvkit.get_backbone(family).family == family, f"family {family!r} has no default variant"


@pytest.mark.parametrize(("total", "required"), [(2, (2,)), (4, (4,)), (16, (4, 8, 16)), (32, (4, 8, 16, 32))])
def test_the_stride_rule(total, required):
    assert cvkit.required_feature_strides(total) == required


def test_the_stride_rule_refuses_other_strides():
    with pytest.raises(ValueError, match="total stride"):
        cvkit.required_feature_strides(12)


def build_strided(inputs, *, include_top, strides):
    """A toy backbone with a feature map at each of ``strides`` (each conv halves the size)."""
    import keras

    x, stride, maps = inputs, 1, {}
    for target in sorted(strides):
        while stride < target:
            stride *= 2
            x = keras.layers.Conv2D(4, 3, strides=2, padding="same", name=f"down{stride}")(x)
        maps[target] = x
    pooled = keras.layers.GlobalAveragePooling2D(name="pool")(x) if include_top else None
    return cvkit.Features(maps=maps, pooled=pooled)


@pytest.fixture(scope="module")
def toy_backbones():
    class Plugin:
        @cvkit.hookimpl
        def register_backbones(self, register):
            for name, strides in {"toy_s16": [4, 8, 16], "toy_gap": [4, 16, 32]}.items():
                register(name, build=build_strided, family=name, default=True, defaults={"strides": strides},
                         input_shape=(32, 32, 3), min_input_size=32)

    cvkit.register_plugin(Plugin(), "toy-backbones")
    yield
    cvkit.unregister_plugin("toy-backbones")


def test_a_stride_16_backbone_keeps_the_contract(toy_backbones):
    check_backbone("toy_s16", overfit=False)


def test_a_missing_stride_breaks_the_contract(toy_backbones):
    from cvkit.testing.models import check_feature_maps

    with pytest.raises(AssertionError, match=r"total stride 32 needs maps at \[4, 8, 16, 32\].*missing \[8\]"):
        check_feature_maps("toy_gap")
