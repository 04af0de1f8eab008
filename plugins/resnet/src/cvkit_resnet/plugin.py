"""ResNet plugin: registers ResNet-18..152. ResNeXt, SE-Net and DCN import its table and builder."""

from cvkit import RegisterBackbone, hookimpl, register_variants
from cvkit_resnet.imagenet import imagenet_weights
from cvkit_resnet.backbone import build_resnet
from cvkit_resnet.variants import DEFAULT, PAPER, VARIANTS, tiny


@hookimpl
def register_backbones(register: RegisterBackbone) -> None:
    register_variants(
        register, VARIANTS, build=build_resnet, family="resnet", default=DEFAULT, paper=PAPER, tiny=tiny,
        describe=lambda name, p: f"ResNet, {p['block']} blocks {p['blocks']}",
        imagenet=imagenet_weights,
    )
