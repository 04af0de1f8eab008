"""SE-Net variants: SE-ResNet-50 and SE-ResNeXt-50 (32x4d).

Squeeze-and-excitation (``cvkit.layers.squeeze_excite``) rescales the residual of every block
before the addition. ``se_ratio`` is the reduction r (16 in the paper); it works on any ResNet
variant too: ``cvkit.create_model("resnet50", se_ratio=16)`` is SE-ResNet-50. Each row is
ResNet-50 from the resnet plugin's table with only the ratio (and ResNeXt's 32x4d) changed.
"""

from cvkit_resnet.variants import VARIANTS as RESNET

PAPER = "Hu et al., Squeeze-and-Excitation Networks (CVPR 2018)"

SE_RATIO = 16  # the paper's reduction r

VARIANTS = {
    "se_resnet50": {**RESNET["resnet50"], "se_ratio": SE_RATIO},
    "se_resnext50_32x4d": {**RESNET["resnet50"], "se_ratio": SE_RATIO, "groups": 32, "width_per_group": 4},
}

DEFAULT = "se_resnet50"

TINY_SE_RATIO = 4  # tiny stages are 8..64 wide: r = 16 would squeeze the first to nothing
