"""ResNeXt plugin: registers ResNeXt-50 (32x4d) and ResNeXt-101 (32x8d), built by the resnet plugin."""

from cvkit import RegisterBackbone, hookimpl, register_variants
from cvkit_resnet.backbone import build_resnet
from cvkit_resnet.variants import tiny
from cvkit_resnext.variants import DEFAULT, PAPER, VARIANTS


@hookimpl
def register_backbones(register: RegisterBackbone) -> None:
    register_variants(
        register, VARIANTS, build=build_resnet, family="resnext", default=DEFAULT, paper=PAPER, tiny=tiny,
        describe=lambda name, p: f"ResNeXt, blocks {p['blocks']}, cardinality {p['groups']} x {p['width_per_group']}d",
    )
