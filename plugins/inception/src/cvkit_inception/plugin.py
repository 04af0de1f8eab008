"""Inception plugin: registers Inception v3 and its modules."""

from cvkit import hookimpl, register_variants
from cvkit_inception.variants import DEFAULT, PAPER, TINY, VARIANTS


@hookimpl
def register_backbones(register):
    register_variants(
        register, VARIANTS, build="cvkit_inception.backbone:build_inception_v3", family="inception",
        default=DEFAULT, paper=PAPER, tiny=TINY, input_shape=(299, 299, 3),
        min_input_size=75,  # the valid convs and pools leave a 1x1 map at 75x75
        describe=lambda name, p: "Inception v3: factorised 1xn / nx1 convs, 35/17/8 grid modules, 299x299",
    )


@hookimpl
def register_blocks(register):
    blocks = "cvkit_inception.blocks"
    register("inception_v3_a", f"{blocks}:inception_a",
             description="Inception-v3 35x35 module: 1x1 | 5x5 | double 3x3 | pool branches")
    register("inception_v3_reduction_a", f"{blocks}:reduction_a",
             description="Inception-v3 grid reduction 35 -> 17: strided 3x3 | double 3x3 | max-pool")
    register("inception_v3_b", f"{blocks}:inception_b",
             description="Inception-v3 17x17 module with 7x7 convs factorised into 1x7 and 7x1")
    register("inception_v3_reduction_b", f"{blocks}:reduction_b",
             description="Inception-v3 grid reduction 17 -> 8: 1x1-3x3 | 1x7-7x1-3x3 | max-pool")
    register("inception_v3_c", f"{blocks}:inception_c",
             description="Inception-v3 8x8 module with expanded filter banks (1x3 and 3x1 splits)")
