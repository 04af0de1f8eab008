"""Deformable plugin: the deformable conv block and ResNet-50-DCN."""

from cvkit import hookimpl, register_variants
from cvkit_deformable.variants import DEFAULT, PAPER, TINY, VARIANTS


@hookimpl
def register_backbones(register):
    register_variants(
        register, VARIANTS, build="cvkit_deformable.backbone:build_resnet_dcn", family="deformable",
        default=DEFAULT, paper=PAPER, tiny=TINY,
        describe=lambda name, p: f"ResNet-50 with deformable 3x3 convs in stages {p['conv3x3_stages']}",
    )


@hookimpl
def register_blocks(register):
    register("deformable_conv", "cvkit_deformable.blocks:deformable_conv",
             description="deformable conv: learned per-tap offsets, bilinear sampling, then convolution")
