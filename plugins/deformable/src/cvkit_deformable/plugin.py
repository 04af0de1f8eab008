"""Deformable plugin: the deformable conv block, and ResNet-50-DCN built by the resnet plugin."""

from cvkit import RegisterBackbone, RegisterBlock, hookimpl, register_variants
from cvkit_deformable.variants import DEFAULT, PAPER, VARIANTS
from cvkit_resnet.backbone import build_resnet
from cvkit_resnet.variants import tiny


@hookimpl
def register_backbones(register: RegisterBackbone) -> None:
    register_variants(
        register, VARIANTS, build=build_resnet, family="deformable", default=DEFAULT, paper=PAPER, tiny=tiny,
        describe=lambda name, p: f"ResNet-50 with deformable 3x3 convs in stages {p['conv3x3_stages']}",
    )


@hookimpl
def register_blocks(register: RegisterBlock) -> None:
    # The swap point of cvkit_resnet's 3x3 convs (its conv3x3_block parameter).
    register("deformable_conv", "cvkit_deformable.blocks:deformable_conv",
             description="deformable conv: learned per-tap offsets, bilinear sampling, then convolution")
