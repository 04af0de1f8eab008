"""VGG plugin: registers VGG-11/13/16/19, plain and with batch norm."""

from cvkit import hookimpl
from cvkit_vgg.variants import DEFAULT, PAPER, TINY, VARIANTS

CONFIGS = {11: "A", 13: "B", 16: "D", 19: "E"}


@hookimpl
def register_backbones(register):
    for name, params in VARIANTS.items():
        depth = sum(params["depths"]) + 3
        register(
            name,
            build="cvkit_vgg.backbone:build_vgg",
            family="vgg",
            defaults=params,
            input_shape=(224, 224, 3),
            min_input_size=32,
            paper=PAPER,
            default=name == DEFAULT,
            tiny=TINY,
            description=f"VGG-{depth} (configuration {CONFIGS[depth]}): 3x3 convs, 5 max-pools, FC 4096-4096"
            + (", BN after every conv" if params["batch_norm"] else ""),
        )
