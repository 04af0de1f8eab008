"""LeNet plugin: registers LeNet-5."""

from cvkit import hookimpl
from cvkit_lenet.variants import DEFAULT, MIN_INPUT_SIZE, PAPER, VARIANTS


@hookimpl
def register_backbones(register):
    for name, params in VARIANTS.items():
        register(
            name,
            build="cvkit_lenet.backbone:build_lenet",
            family="lenet",
            defaults=params,
            input_shape=(32, 32, 1),
            min_input_size=MIN_INPUT_SIZE,
            paper=PAPER,
            default=name == DEFAULT,
            tiny={},  # already tiny: 61,706 parameters
            description="LeNet-5: conv 6@5x5 -> pool -> conv 16@5x5 -> pool -> FC 120 -> FC 84, on 32x32 grayscale",
        )
