"""Inception plugin: registers Inception v3."""

from cvkit import RegisterBackbone, hookimpl, register_variants
from cvkit_inception.imagenet import IMAGENET
from cvkit_inception.variants import DEFAULT, PAPER, TINY, VARIANTS


@hookimpl
def register_backbones(register: RegisterBackbone) -> None:
    register_variants(
        register, VARIANTS, build="cvkit_inception.backbone:build_inception_v3", family="inception",
        default=DEFAULT, paper=PAPER, tiny=TINY, input_shape=(299, 299, 3), imagenet=IMAGENET,
        min_input_size=75,  # the valid convs and pools leave a 1x1 map at 75x75
        describe=lambda name, p: "Inception v3: factorised 1xn / nx1 convs, 35/17/8 grid modules, 299x299",
    )
