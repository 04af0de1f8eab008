"""Deformable ConvNets: ResNet-50 with deformable 3x3 convs in stages conv3_x to conv5_x.

The row is ResNet-50 from the resnet plugin's table with only the 3x3 conv type of those stages
changed: ``conv3x3_block`` is the residual blocks' swap point, filled with this plugin's block.
"""

from cvkit_resnet.variants import VARIANTS as RESNET

PAPER = "Dai et al., Deformable Convolutional Networks (ICCV 2017)"

VARIANTS = {
    "resnet50_dcn": {**RESNET["resnet50"], "conv3x3_block": "deformable_conv", "conv3x3_stages": [3, 4, 5]},
}

DEFAULT = "resnet50_dcn"
