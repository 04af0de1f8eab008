"""SE-Net plugin: registers SE-ResNet-50 and SE-ResNeXt-50 (32x4d), built by the resnet plugin."""

from cvkit import RegisterBackbone, hookimpl, register_variants
from cvkit_resnet.variants import tiny
from cvkit_senet.backbone import build_senet
from cvkit_senet.variants import DEFAULT, PAPER, TINY_SE_RATIO, VARIANTS


@hookimpl
def register_backbones(register: RegisterBackbone) -> None:
    register_variants(
        register, VARIANTS, build=build_senet, family="senet", default=DEFAULT, paper=PAPER,
        tiny=lambda name, p: {**tiny(name, p), "se_ratio": TINY_SE_RATIO},
        describe=lambda name, p: f"SE-{'ResNeXt' if p['groups'] > 1 else 'ResNet'}-50, reduction r={p['se_ratio']}",
    )
