"""DenseNet variants: ImageNet DenseNet-121/169/201/264 and CIFAR DenseNet-BC."""

PAPER = "Huang et al., Densely Connected Convolutional Networks (CVPR 2017)"

IMAGENET = {
    "blocks": None,
    "growth_rate": 32,
    "bottleneck_width": 4,
    "compression": 0.5,
    "stem": "imagenet",
    "stem_filters": 64,
    "dropout": 0.0,
    "memory_efficient": False,  # recompute concatenations and BN-ReLU in the backward pass
}

VARIANTS = {
    "densenet121": {**IMAGENET, "blocks": [6, 12, 24, 16]},
    "densenet169": {**IMAGENET, "blocks": [6, 12, 32, 32]},
    "densenet201": {**IMAGENET, "blocks": [6, 12, 48, 32]},
    "densenet264": {**IMAGENET, "blocks": [6, 12, 64, 48]},
    # DenseNet-BC for 32x32 inputs: three blocks of (depth - 4) / 6 layers, stem of 2k filters.
    "densenet_bc_100_12": {**IMAGENET, "blocks": [16, 16, 16], "growth_rate": 12, "stem": "cifar", "stem_filters": 24},
    "densenet_bc_250_24": {**IMAGENET, "blocks": [41, 41, 41], "growth_rate": 24, "stem": "cifar", "stem_filters": 48},
}

DEFAULT = "densenet121"
