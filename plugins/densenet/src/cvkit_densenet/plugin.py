"""DenseNet plugin: registers the variants."""

from cvkit import RegisterBackbone, hookimpl, register_variants
from cvkit_densenet.imagenet import imagenet_weights
from cvkit_densenet.variants import DEFAULT, PAPER, VARIANTS


@hookimpl
def register_backbones(register: RegisterBackbone) -> None:
    def cifar(p):
        return p["stem"] == "cifar"

    register_variants(
        register, VARIANTS, build="cvkit_densenet.backbone:build_densenet", family="densenet",
        default=DEFAULT, paper=PAPER,
        input_shape=lambda name, p: (32, 32, 3) if cifar(p) else (224, 224, 3),
        min_input_size=lambda name, p: 2 ** (len(p["blocks"]) - 1) if cifar(p) else 32,
        tiny=lambda name, p: {"blocks": [1] * len(p["blocks"]), "growth_rate": 4, "stem_filters": 8},
        describe=lambda name, p: f"DenseNet, blocks {p['blocks']}, growth rate {p['growth_rate']}",
        imagenet=imagenet_weights,
    )
