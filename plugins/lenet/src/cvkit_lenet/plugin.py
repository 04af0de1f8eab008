"""LeNet plugin: registers LeNet-5."""

from cvkit import RegisterBackbone, hookimpl, register_variants
from cvkit_lenet.variants import DEFAULT, MIN_INPUT_SIZE, PAPER, VARIANTS


@hookimpl
def register_backbones(register: RegisterBackbone) -> None:
    register_variants(
        register, VARIANTS, build="cvkit_lenet.backbone:build_lenet", family="lenet",
        default=DEFAULT, paper=PAPER, input_shape=(32, 32, 1), min_input_size=MIN_INPUT_SIZE,
        tiny={},  # already tiny: 61,706 parameters
        describe=lambda name, p: "LeNet-5: conv 6@5x5 -> pool -> conv 16@5x5 -> pool -> FC 120 -> FC 84, on 32x32 grayscale",
    )
