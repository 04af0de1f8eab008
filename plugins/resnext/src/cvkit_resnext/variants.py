"""ResNeXt variants: ResNet-50/101 whose bottlenecks have a grouped 3x3 conv of cardinality C.

``resnext50_32x4d``: C = 32 groups of d = 4 channels at conv2_x (128 wide), doubling per stage.
Each row is a row of the resnet plugin's table with only the cardinality and group width changed.
"""

from cvkit_resnet.variants import VARIANTS as RESNET

PAPER = "Xie et al., Aggregated Residual Transformations for Deep Neural Networks (CVPR 2017)"

VARIANTS = {
    "resnext50_32x4d": {**RESNET["resnet50"], "groups": 32, "width_per_group": 4},
    "resnext101_32x8d": {**RESNET["resnet101"], "groups": 32, "width_per_group": 8},
}

DEFAULT = "resnext50_32x4d"
