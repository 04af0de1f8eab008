"""GoogLeNet plugin: registers GoogLeNet (Inception v1)."""

from cvkit import RegisterBackbone, hookimpl, register_variants
from cvkit_googlenet.variants import DEFAULT, PAPER, TINY, VARIANTS


@hookimpl
def register_backbones(register: RegisterBackbone) -> None:
    register_variants(
        register, VARIANTS, build="cvkit_googlenet.backbone:build_googlenet", family="googlenet",
        default=DEFAULT, paper=PAPER, tiny=TINY, training_overrides={"aux_classifiers": True},
        describe=lambda name, p: "GoogLeNet (Inception v1): 9 inception modules, GAP, dropout 0.4; "
                                 "auxiliary classifiers after 4a and 4d while training",
    )
