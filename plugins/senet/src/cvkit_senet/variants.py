"""SE-Net variants: SE-ResNet-50 and SE-ResNeXt-50 (32x4d).

Squeeze-and-excitation (core's ``squeeze_excite`` block) rescales the residual of every block
before the addition. ``se_ratio`` is the reduction r (16 in the paper); it works on any ResNet
variant too: ``cvkit.create_model("resnet50", se_ratio=16)`` is SE-ResNet-50.
"""

PAPER = "Hu et al., Squeeze-and-Excitation Networks (CVPR 2018)"

# The ResNet-50 parameters of the resnet plugin's builder (fetched as the "resnet_body" block).
RESNET50 = {
    "block": "bottleneck",
    "blocks": [3, 4, 6, 3],
    "stage_widths": [64, 128, 256, 512],
    "stem_filters": 64,
    "groups": 1,
    "width_per_group": None,
    "stride_on": "3x3",
    "se_ratio": 16,
    "conv3x3_block": None,
    "conv3x3_stages": [2, 3, 4, 5],
}

VARIANTS = {
    "se_resnet50": RESNET50,
    "se_resnext50_32x4d": {**RESNET50, "groups": 32, "width_per_group": 4},
}

DEFAULT = "se_resnet50"

TINY = {"blocks": [1, 1, 1, 1], "stage_widths": [8, 16, 32, 64], "stem_filters": 8, "se_ratio": 4}
