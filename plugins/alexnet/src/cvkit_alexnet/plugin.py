"""AlexNet plugin: registers AlexNet and ZFNet (LRN and the FC trunk come from cvkit.layers)."""

from cvkit import RegisterBackbone, hookimpl, register_variants
from cvkit_alexnet.variants import DEFAULT, INPUT_SIZE, MIN_INPUT_SIZE, PAPERS, TINY, VARIANTS

DESCRIPTIONS = {
    "alexnet": "AlexNet: 5 convs (conv2/4/5 in two groups), LRN, 3 max-pools, FC 4096-4096 with dropout",
    "zfnet": "ZFNet: AlexNet with a 7x7/2 first conv and a 5x5/2 second conv, one group",
}


@hookimpl
def register_backbones(register: RegisterBackbone) -> None:
    register_variants(
        register, VARIANTS, build="cvkit_alexnet.backbone:build_{name}", family="alexnet",
        default=DEFAULT, tiny=TINY, paper=lambda name, p: PAPERS[name],
        input_shape=lambda name, p: (INPUT_SIZE[name], INPUT_SIZE[name], 3),
        min_input_size=lambda name, p: MIN_INPUT_SIZE[name], describe=lambda name, p: DESCRIPTIONS[name],
    )

