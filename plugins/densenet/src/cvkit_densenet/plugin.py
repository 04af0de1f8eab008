"""DenseNet plugin: registers the variants and the dense blocks."""

from cvkit import hookimpl
from cvkit_densenet.variants import DEFAULT, PAPER, VARIANTS


@hookimpl
def register_backbones(register):
    for name, params in VARIANTS.items():
        cifar = params["stem"] == "cifar"
        register(
            name,
            build="cvkit_densenet.backbone:build_densenet",
            family="densenet",
            defaults=params,
            input_shape=(32, 32, 3) if cifar else (224, 224, 3),
            min_input_size=2 ** (len(params["blocks"]) - 1) if cifar else 32,
            paper=PAPER,
            default=name == DEFAULT,
            tiny={"blocks": [1] * len(params["blocks"]), "growth_rate": 4, "stem_filters": 8},
            description=f"DenseNet, blocks {params['blocks']}, growth rate {params['growth_rate']}",
        )


@hookimpl
def register_blocks(register):
    register("dense_layer", "cvkit_densenet.blocks:dense_layer", description="BN-ReLU-1x1 conv(4k)-BN-ReLU-3x3 conv(k), concatenated")
    register("dense_block", "cvkit_densenet.blocks:dense_block", description="a stack of dense layers")
    register("transition", "cvkit_densenet.blocks:transition", description="BN-ReLU-1x1 conv (compression)-2x2 avg-pool")
