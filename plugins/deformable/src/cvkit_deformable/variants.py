"""Deformable ConvNets: ResNet-50 with deformable 3x3 convs in stages conv3_x to conv5_x."""

PAPER = "Dai et al., Deformable Convolutional Networks (ICCV 2017)"

# The ResNet-50 parameters of the resnet plugin's builder (fetched as the "resnet_body" block).
RESNET50 = {
    "block": "bottleneck",
    "blocks": [3, 4, 6, 3],
    "stage_widths": [64, 128, 256, 512],
    "stem_filters": 64,
    "groups": 1,
    "width_per_group": None,
    "stride_on": "3x3",
    "se_ratio": 0,
    "conv3x3_block": None,
    "conv3x3_stages": [2, 3, 4, 5],
}

VARIANTS = {
    "resnet50_dcn": {**RESNET50, "conv3x3_block": "deformable_conv", "conv3x3_stages": [3, 4, 5]},
}

DEFAULT = "resnet50_dcn"

TINY = {"blocks": [1, 1, 1, 1], "stage_widths": [8, 16, 32, 64], "stem_filters": 8}
