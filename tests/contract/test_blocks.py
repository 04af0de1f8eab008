"""Every registered block builds on a small input and runs.

Blocks have no common signature beyond ``block(x, *, name, **kwargs)``, so each gets the few
keyword arguments it needs here; a new block fails until it has an entry.
"""

from __future__ import annotations

import pytest

import cvkit
from cvkit.testing import check_block

INCEPTION_V1 = dict(filters_1x1=4, filters_3x3_reduce=4, filters_3x3=4, filters_5x5_reduce=4, filters_5x5=4,
                    filters_pool_proj=4)
BLOCK_ARGUMENTS = {
    "adaptive_pool": {"size": 2},
    "aux_classifier": {"filters": 4, "units": 8},
    "basic_block": {"filters": 8},
    "bottleneck": {"filters": 4},
    "conv_bn_act": {"filters": 4},
    "deformable_conv": {"filters": 4},
    "dense_block": {"layers": 2, "growth_rate": 4},
    "dense_layer": {"growth_rate": 4},
    "depthwise_separable": {"filters": 8},
    "fc_trunk": {"units": 8, "pooled_size": 2},
    "inception_module": INCEPTION_V1,
    "inception_v3_a": {"width": 0.0625},
    "inception_v3_b": {"width": 0.0625, "channels_7x7": 8},
    "inception_v3_c": {"width": 0.0625},
    "inception_v3_reduction_a": {"width": 0.0625},
    "inception_v3_reduction_b": {"width": 0.0625},
    "inverted_residual": {"filters": 8},
    "local_response_norm": {},
    "resnet_body": {"block": "basic", "blocks": [1, 1, 1, 1], "stage_widths": [4, 4, 4, 4], "stem_filters": 4},
    "squeeze_excite": {"reduction": 4},
    "transition": {},
}


@pytest.mark.parametrize("name", cvkit.list_blocks())
def test_block_builds_on_a_small_input(name):
    assert name in BLOCK_ARGUMENTS, f"block {name!r} has no arguments in BLOCK_ARGUMENTS; add the few it needs"
    check_block(name, **BLOCK_ARGUMENTS[name])
