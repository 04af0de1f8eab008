"""VGG plugin: registers VGG-11/13/16/19, plain and with batch norm."""

from cvkit import RegisterBackbone, hookimpl, register_variants
from cvkit_vgg.imagenet import imagenet_weights
from cvkit_vgg.variants import DEFAULT, PAPER, TINY, VARIANTS

CONFIGS = {11: "A", 13: "B", 16: "D", 19: "E"}


@hookimpl
def register_backbones(register: RegisterBackbone) -> None:
    def describe(name, p):
        depth = sum(p["depths"]) + 3
        bn = ", BN after every conv" if p["batch_norm"] else ""
        return f"VGG-{depth} (configuration {CONFIGS[depth]}): 3x3 convs, 5 max-pools, FC 4096-4096{bn}"

    register_variants(
        register, VARIANTS, build="cvkit_vgg.backbone:build_vgg", family="vgg",
        default=DEFAULT, paper=PAPER, tiny=TINY, describe=describe,
        imagenet=imagenet_weights,
    )
