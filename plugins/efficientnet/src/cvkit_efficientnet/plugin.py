"""EfficientNet plugin: registers B0 to B7 (MBConv comes from the mobilenet plugin's block)."""

from cvkit import hookimpl
from cvkit_efficientnet.variants import DEFAULT, INPUT_SIZES, PAPER, TINY, VARIANTS


@hookimpl
def register_backbones(register):
    for name, params in VARIANTS.items():
        size = INPUT_SIZES[name]
        register(
            name,
            build="cvkit_efficientnet.backbone:build_efficientnet",
            family="efficientnet",
            defaults=params,
            input_shape=(size, size, 3),
            min_input_size=32,
            paper=PAPER,
            default=name == DEFAULT,
            tiny=TINY,
            description=(
                f"EfficientNet-{name[-2:].upper()}: MBConv with SE and swish, width x"
                f"{params['width_coefficient']}, depth x{params['depth_coefficient']}, {size}x{size}"
            ),
        )
