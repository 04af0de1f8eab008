"""ResNeXt variants: ResNet-50/101 bottlenecks with a grouped 3x3 conv of cardinality C.

``resnext50_32x4d``: C = 32 groups of d = 4 channels at conv2_x (128 wide), doubling per stage.
"""

PAPER = "Xie et al., Aggregated Residual Transformations for Deep Neural Networks (CVPR 2017)"

# The parameters of the resnet plugin's builder (fetched as the "resnet_body" block).
RESNET = {
    "block": "bottleneck",
    "blocks": [3, 4, 6, 3],
    "stage_widths": [64, 128, 256, 512],
    "stem_filters": 64,
    "groups": 32,
    "width_per_group": 4,
    "stride_on": "3x3",
    "se_ratio": 0,
    "conv3x3_block": None,
    "conv3x3_stages": [2, 3, 4, 5],
}

VARIANTS = {
    "resnext50_32x4d": {**RESNET, "blocks": [3, 4, 6, 3], "groups": 32, "width_per_group": 4},
    "resnext101_32x8d": {**RESNET, "blocks": [3, 4, 23, 3], "groups": 32, "width_per_group": 8},
}

DEFAULT = "resnext50_32x4d"

# Stage widths 16..128 with 4 groups of 16 / 64 * 16 = 4 channels: grouped, and fast at 32x32.
TINY = {"blocks": [1, 1, 1, 1], "stage_widths": [16, 32, 64, 128], "stem_filters": 8, "groups": 4, "width_per_group": 16}
