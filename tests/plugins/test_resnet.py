"""ResNet: the residual blocks, the layout options (stride, SE, groups, 3x3 replacement), the sanity check."""

from __future__ import annotations

import copy
import importlib
import inspect

import keras
import pytest

import cvkit
from cvkit.testing import create_tiny_model
from cvkit_resnet.backbone import build_resnet
from cvkit_resnet.blocks import basic_block, bottleneck
from cvkit_resnet.variants import BASE, VARIANTS


def _layer(model, name):
    return model.get_layer(name)


def test_the_table_is_the_builders_only_parameters():
    # The builder has no defaults of its own: its keywords are exactly the table's columns.
    keywords = inspect.signature(build_resnet).parameters.values()
    assert all(p.default is inspect.Parameter.empty for p in keywords)
    assert [p.name for p in keywords] == ["inputs", "include_top", *BASE]
    assert all(list(row) == list(BASE) for row in VARIANTS.values())


# (module, variant, the resnet row it is, what it changes): the rest of the family, defined once.
FAMILY_ROWS = [
    ("cvkit_resnext.variants", "resnext50_32x4d", "resnet50", {"groups": 32, "width_per_group": 4}),
    ("cvkit_resnext.variants", "resnext101_32x8d", "resnet101", {"groups": 32, "width_per_group": 8}),
    ("cvkit_senet.variants", "se_resnet50", "resnet50", {"se_ratio": 16}),
    ("cvkit_senet.variants", "se_resnext50_32x4d", "resnet50", {"se_ratio": 16, "groups": 32, "width_per_group": 4}),
    ("cvkit_deformable.variants", "resnet50_dcn", "resnet50",
     {"conv3x3_block": "deformable_conv", "conv3x3_stages": [3, 4, 5]}),
]


@pytest.mark.parametrize(("module", "name", "base", "differences"), FAMILY_ROWS)
def test_family_rows_are_resnet_rows_with_only_their_differences(module, name, base, differences):
    assert cvkit.get_backbone(name).defaults == {**VARIANTS[base], **differences}
    original = copy.deepcopy(VARIANTS[base])
    VARIANTS[base]["stem_filters"] = 32  # an edit of resnet's table reaches the family's row: no copy
    try:
        row = importlib.reload(importlib.import_module(module)).VARIANTS[name]
    finally:
        VARIANTS[base] = original
        importlib.reload(importlib.import_module(module))
    assert row == {**original, **differences, "stem_filters": 32}


@pytest.mark.parametrize("name", ["resnet50", "resnext50_32x4d", "resnext101_32x8d", "resnet50_dcn"])
def test_the_family_registers_resnets_public_builder(name):
    assert cvkit.get_backbone(name).load() is build_resnet


def test_the_family_registers_only_its_swap_point_as_a_block():
    # Blocks are imported from cvkit_resnet.blocks; the registry holds what a user picks by name.
    family = {"cvkit-resnet", "cvkit-resnext", "cvkit-senet", "cvkit-deformable"}
    registry = cvkit.get_registries().blocks
    assert [n for n in cvkit.list_blocks() if registry.get(n).plugin in family] == ["deformable_conv"]


def test_basic_block_projects_the_shortcut_only_when_the_shape_changes():
    inputs = keras.Input((16, 16, 8))
    same = basic_block(inputs, name="same", filters=8)
    down = basic_block(inputs, name="down", filters=16, strides=2)
    model = keras.Model(inputs, [same, down])
    names = {layer.name for layer in model.layers}
    assert "same_0_conv" not in names and "down_0_conv" in names
    assert tuple(same.shape) == (None, 16, 16, 8) and tuple(down.shape) == (None, 8, 8, 16)


def test_bottleneck_expands_four_times_and_groups_the_3x3():
    inputs = keras.Input((16, 16, 32))
    out = bottleneck(inputs, name="b", filters=16, width=32, groups=8, strides=2)
    model = keras.Model(inputs, out)
    assert tuple(out.shape) == (None, 8, 8, 64)
    conv = _layer(model, "b_2_conv")
    assert conv.groups == 8 and conv.strides == (2, 2)
    assert tuple(conv.kernel.shape) == (3, 3, 4, 32)  # 32 channels in 8 groups of 4


def test_bottleneck_cardinality_must_divide_the_width():
    inputs = keras.Input((8, 8, 64))
    with pytest.raises(cvkit.CvkitError, match="groups .*3.* does not divide the bottleneck width 64; valid choices: 1, 2, 4, 8, 16, 32, 64"):
        bottleneck(inputs, name="b", filters=64, groups=3)
    with pytest.raises(cvkit.CvkitError, match="does not divide the bottleneck width 8"):
        create_tiny_model("resnet50", groups=3)


def test_stride_on_moves_the_downsampling_between_1x1_and_3x3():
    torchvision = create_tiny_model("resnet50", include_top=False)
    paper = create_tiny_model("resnet50", include_top=False, stride_on="1x1")
    assert _layer(torchvision, "conv3_block1_1_conv").strides == (1, 1)
    assert _layer(torchvision, "conv3_block1_2_conv").strides == (2, 2)
    assert _layer(paper, "conv3_block1_1_conv").strides == (2, 2)
    assert _layer(paper, "conv3_block1_2_conv").strides == (1, 1)
    assert cvkit.count_params(paper) == cvkit.count_params(torchvision)
    assert paper.output.shape == torchvision.output.shape


def test_se_ratio_adds_squeeze_excitation_to_any_resnet():
    plain = create_tiny_model("resnet18")
    se = create_tiny_model("resnet18", se_ratio=4)
    assert "conv2_block1_se_excite" in {layer.name for layer in se.layers}
    # Per block: FC C -> C/4 and FC C/4 -> C, with biases; the tiny basic blocks are 8..64 wide.
    extra = sum(2 * c * (c // 4) + c // 4 + c for c in (8, 16, 32, 64))
    assert cvkit.count_params(se)[0] - cvkit.count_params(plain)[0] == extra


def test_width_per_group_follows_torchvision():
    model = create_tiny_model("resnet50", include_top=False, stage_widths=[64, 128, 256, 512],
                              groups=32, width_per_group=4)
    assert tuple(_layer(model, "conv2_block1_2_conv").kernel.shape) == (3, 3, 4, 128)
    assert tuple(_layer(model, "conv5_block1_2_conv").kernel.shape) == (3, 3, 32, 1024)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"block": "wide"}, "block must be one of basic, bottleneck"),
        ({"stride_on": "7x7"}, "stride_on must be one of 3x3, 1x1"),
        ({"se_ratio": -1}, "se_ratio must be a whole number >= 0"),
        ({"blocks": [1, 1]}, "one positive entry per stage"),
        ({"conv3x3_stages": [1, 6]}, r"must name stages among \[2, 3, 4, 5\]"),
        ({"conv3x3_block": "no_such_conv"}, "unknown block 'no_such_conv'"),
    ],
)
def test_bad_params_are_refused_with_the_fix(overrides, message):
    with pytest.raises(cvkit.CvkitError, match=message):
        create_tiny_model("resnet50", **overrides)


def test_basic_blocks_refuse_groups():
    with pytest.raises(cvkit.CvkitError, match="basic blocks have no grouped conv.*block='bottleneck'"):
        create_tiny_model("resnet18", groups=4)


class _RecordingBlock:
    """A plugin registering a 3x3 conv replacement, to prove the builder fetches it by name."""

    calls: list[dict] = []

    @staticmethod
    def conv(x, *, name, filters, kernel_size, strides, padding, groups):
        _RecordingBlock.calls.append({"name": name, "strides": strides, "padding": padding})
        return keras.layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, groups=groups,
                                   use_bias=False, name=f"{name}_conv")(x)

    @cvkit.hookimpl
    def register_blocks(self, register):
        register("recording_conv", _RecordingBlock.conv)


def test_conv3x3_block_is_fetched_from_the_registry_for_the_chosen_stages():
    _RecordingBlock.calls.clear()
    cvkit.register_plugin(_RecordingBlock(), name="test-recording-conv")
    try:
        model = create_tiny_model("resnet50", conv3x3_block="recording_conv", conv3x3_stages=[3, 5])
        plain = create_tiny_model("resnet50")
    finally:
        cvkit.unregister_plugin("test-recording-conv")
    assert [c["name"] for c in _RecordingBlock.calls] == ["conv3_block1_2", "conv5_block1_2"]
    assert _RecordingBlock.calls[0] == {"name": "conv3_block1_2", "strides": 2, "padding": "valid"}
    assert cvkit.count_params(model) == cvkit.count_params(plain)


def test_feature_maps_cover_strides_2_to_32():
    model = create_tiny_model("resnet18", include_top=False, size=64)
    assert {k: v.shape[1] for k, v in model.feature_maps.items()} == {2: 32, 4: 16, 8: 8, 16: 4, 32: 2}
