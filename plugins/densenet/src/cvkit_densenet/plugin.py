"""DenseNet plugin: registers the variants and the dense blocks."""

from cvkit import hookimpl, register_variants
from cvkit_densenet.variants import DEFAULT, PAPER, VARIANTS


@hookimpl
def register_backbones(register):
    def cifar(p):
        return p["stem"] == "cifar"

    register_variants(
        register, VARIANTS, build="cvkit_densenet.backbone:build_densenet", family="densenet",
        default=DEFAULT, paper=PAPER,
        input_shape=lambda name, p: (32, 32, 3) if cifar(p) else (224, 224, 3),
        min_input_size=lambda name, p: 2 ** (len(p["blocks"]) - 1) if cifar(p) else 32,
        tiny=lambda name, p: {"blocks": [1] * len(p["blocks"]), "growth_rate": 4, "stem_filters": 8},
        describe=lambda name, p: f"DenseNet, blocks {p['blocks']}, growth rate {p['growth_rate']}",
    )


@hookimpl
def register_blocks(register):
    register("dense_layer", "cvkit_densenet.blocks:dense_layer", description="BN-ReLU-1x1 conv(4k)-BN-ReLU-3x3 conv(k), concatenated")
    register("dense_block", "cvkit_densenet.blocks:dense_block", description="a stack of dense layers")
    register("transition", "cvkit_densenet.blocks:transition", description="BN-ReLU-1x1 conv (compression)-2x2 avg-pool")
