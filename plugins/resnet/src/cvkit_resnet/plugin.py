"""ResNet plugin: registers ResNet-18..152 and the residual blocks other plugins reuse."""

from cvkit import hookimpl, register_variants
from cvkit_resnet.variants import DEFAULT, PAPER, TINY, VARIANTS


@hookimpl
def register_backbones(register):
    register_variants(
        register, VARIANTS, build="cvkit_resnet.backbone:build_resnet", family="resnet",
        default=DEFAULT, paper=PAPER, tiny=TINY,
        describe=lambda name, p: f"ResNet, {p['block']} blocks {p['blocks']}",
    )


@hookimpl
def register_blocks(register):
    register("basic_block", "cvkit_resnet.blocks:basic_block",
             description="residual basic block: two 3x3 conv-BN, (SE), + shortcut, ReLU")
    register("bottleneck", "cvkit_resnet.blocks:bottleneck",
             description="residual bottleneck 1x1-3x3-1x1 (4x expansion), optional groups (ResNeXt) and SE")
    register("resnet_body", "cvkit_resnet.blocks:resnet_body",
             description="a whole ResNet (stem, stages, pooling) from ResNet params; returns cvkit.Features")
