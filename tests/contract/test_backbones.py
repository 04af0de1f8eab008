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
