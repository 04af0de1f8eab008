"""EfficientNet plugin: registers B0 to B7 (MBConv comes from cvkit.layers)."""

from cvkit import RegisterBackbone, hookimpl, register_variants
from cvkit_efficientnet.imagenet import imagenet_weights
from cvkit_efficientnet.variants import DEFAULT, INPUT_SIZES, PAPER, TINY, VARIANTS


@hookimpl
def register_backbones(register: RegisterBackbone) -> None:
    register_variants(
        register, VARIANTS, build="cvkit_efficientnet.backbone:build_efficientnet", family="efficientnet",
        default=DEFAULT, paper=PAPER, tiny=TINY, imagenet=lambda name, p: imagenet_weights(name),
        input_shape=lambda name, p: (INPUT_SIZES[name], INPUT_SIZES[name], 3),
        describe=lambda name, p: (
            f"EfficientNet-{name[-2:].upper()}: MBConv with SE and swish, width x{p['width_coefficient']}, "
            f"depth x{p['depth_coefficient']}, {INPUT_SIZES[name]}x{INPUT_SIZES[name]}"
        ),
    )
