"""Deformable plugin: the deformable conv block and ResNet-50-DCN."""

from cvkit import hookimpl
from cvkit_deformable.variants import DEFAULT, PAPER, TINY, VARIANTS


@hookimpl
def register_backbones(register):
    for name, params in VARIANTS.items():
        register(
            name,
            build="cvkit_deformable.backbone:build_resnet_dcn",
            family="deformable",
            defaults=params,
            input_shape=(224, 224, 3),
            min_input_size=32,
            paper=PAPER,
            default=name == DEFAULT,
            tiny=TINY,
            description=f"ResNet-50 with deformable 3x3 convs in stages {params['conv3x3_stages']}",
        )


@hookimpl
def register_blocks(register):
    register("deformable_conv", "cvkit_deformable.blocks:deformable_conv",
             description="deformable conv: learned per-tap offsets, bilinear sampling, then convolution")
