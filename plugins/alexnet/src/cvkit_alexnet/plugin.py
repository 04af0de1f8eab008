"""AlexNet plugin: registers AlexNet and ZFNet, local response normalisation and the FC trunk."""

from cvkit import hookimpl, register_variants
from cvkit_alexnet.variants import DEFAULT, INPUT_SIZE, MIN_INPUT_SIZE, PAPERS, TINY, VARIANTS

DESCRIPTIONS = {
    "alexnet": "AlexNet: 5 convs (conv2/4/5 in two groups), LRN, 3 max-pools, FC 4096-4096 with dropout",
    "zfnet": "ZFNet: AlexNet with a 7x7/2 first conv and a 5x5/2 second conv, one group",
}


@hookimpl
def register_backbones(register):
    register_variants(
        register, VARIANTS, build="cvkit_alexnet.backbone:build_{name}", family="alexnet",
        default=DEFAULT, tiny=TINY, paper=lambda name, p: PAPERS[name],
        input_shape=lambda name, p: (INPUT_SIZE[name], INPUT_SIZE[name], 3),
        min_input_size=lambda name, p: MIN_INPUT_SIZE[name], describe=lambda name, p: DESCRIPTIONS[name],
    )


@hookimpl
def register_blocks(register):
    register("local_response_norm", "cvkit_alexnet.blocks:local_response_norm",
             description="AlexNet's local response normalisation across adjacent channels (no weights)")
    register("adaptive_pool", "cvkit_alexnet.blocks:adaptive_pool",
             description="average-pool any map to a fixed size (torchvision's AdaptiveAvgPool2d)")
    register("fc_trunk", "cvkit_alexnet.blocks:fc_trunk",
             description="adaptive pool (or strict flatten) -> [FC -> ReLU -> dropout] x 2, the AlexNet/VGG pre-logits")
