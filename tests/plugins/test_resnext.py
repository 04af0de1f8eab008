"""ResNeXt: the grouped bottleneck of cardinality C, built by the resnet plugin's body."""

from __future__ import annotations

import pytest

import cvkit
from cvkit.testing import create_tiny_model


@pytest.mark.parametrize(("name", "groups", "width_per_group"), [("resnext50_32x4d", 32, 4), ("resnext101_32x8d", 32, 8)])
def test_variant_names_give_cardinality_and_width(name, groups, width_per_group):
    defaults = cvkit.get_backbone(name).defaults
    assert (defaults["groups"], defaults["width_per_group"], defaults["block"]) == (groups, width_per_group, "bottleneck")


def test_3x3_convs_are_grouped_32x4d_at_stage_widths():
    # Full ResNeXt-50 widths with one block per stage: C x d = 32 x 4 = 128 at conv2_x, doubling.
    model = create_tiny_model("resnext50_32x4d", include_top=False, stage_widths=[64, 128, 256, 512],
                              groups=32, width_per_group=4, stem_filters=64)
    for stage, width in zip(range(2, 6), (128, 256, 512, 1024)):
        conv = model.get_layer(f"conv{stage}_block1_2_conv")
        assert conv.groups == 32
        assert tuple(conv.kernel.shape) == (3, 3, width // 32, width)
        assert model.get_layer(f"conv{stage}_block1_3_conv").filters == 4 * 64 * 2 ** (stage - 2)


def test_cardinality_is_a_parameter():
    narrow = create_tiny_model("resnext50_32x4d", groups=2)
    wide = create_tiny_model("resnext50_32x4d", groups=8)
    assert cvkit.count_params(wide)[0] > cvkit.count_params(narrow)[0]


def test_fractional_group_width_is_refused():
    with pytest.raises(cvkit.CvkitError, match="width_per_group 3 gives a fractional width.*multiple of 64"):
        create_tiny_model("resnext50_32x4d", width_per_group=3)


def test_cardinality_splitting_a_fixed_width_must_divide_it():
    with pytest.raises(cvkit.CvkitError, match="valid choices: 1, 2, 4, 8, 16"):
        create_tiny_model("resnext50_32x4d", width_per_group=None, groups=5)
