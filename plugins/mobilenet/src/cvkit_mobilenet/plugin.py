"""MobileNet plugin: registers v1 and v2 (MBConv is cvkit.layers')."""

from cvkit import RegisterBackbone, hookimpl, register_variants
from cvkit_mobilenet.imagenet import IMAGENET
from cvkit_mobilenet.variants import DEFAULT, PAPER_V1, PAPER_V2, TINY, VARIANTS

DESCRIPTIONS = {
    "mobilenet_v1": "MobileNet v1: depthwise-separable convs, width multiplier alpha",
    "mobilenet_v2": "MobileNet v2: inverted residuals with linear bottlenecks, ReLU6",
}


@hookimpl
def register_backbones(register: RegisterBackbone) -> None:
    register_variants(
        register, VARIANTS, build="cvkit_mobilenet.backbone:build_{name}", family="mobilenet",
        default=DEFAULT, paper=lambda name, p: PAPER_V1 if name == "mobilenet_v1" else PAPER_V2,
        tiny=lambda name, p: TINY[name], describe=lambda name, p: DESCRIPTIONS[name],
        imagenet=lambda name, p: IMAGENET[name],
    )
