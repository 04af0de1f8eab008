"""GoogLeNet plugin: registers GoogLeNet (Inception v1) and the inception module."""

from cvkit import hookimpl, register_variants
from cvkit_googlenet.variants import DEFAULT, PAPER, TINY, VARIANTS


@hookimpl
def register_backbones(register):
    register_variants(
        register, VARIANTS, build="cvkit_googlenet.backbone:build_googlenet", family="googlenet",
        default=DEFAULT, paper=PAPER, tiny=TINY, training_overrides={"aux_classifiers": True},
        describe=lambda name, p: "GoogLeNet (Inception v1): 9 inception modules, GAP, dropout 0.4; "
                                 "auxiliary classifiers after 4a and 4d while training",
    )


@hookimpl
def register_blocks(register):
    register("inception_module", "cvkit_googlenet.blocks:inception_module",
             description="Inception v1 module: 1x1, 1x1->3x3, 1x1->5x5 and pool->1x1 branches, concatenated")
    register("aux_classifier", "cvkit_googlenet.blocks:aux_classifier",
             description="GoogLeNet auxiliary pre-logits: 5x5/3 avg-pool -> 1x1 conv -> FC -> dropout")
