"""MobileNet variants, as keras.applications builds them (widths before the multiplier alpha)."""

PAPER_V1 = (
    "Howard et al., MobileNets: Efficient Convolutional Neural Networks for Mobile Vision "
    "Applications (arXiv 2017)"
)
PAPER_V2 = "Sandler et al., MobileNetV2: Inverted Residuals and Linear Bottlenecks (CVPR 2018)"

VARIANTS = {
    "mobilenet_v1": {
        "alpha": 1.0,  # width multiplier: every layer has int(filters * alpha) channels
        "depth_multiplier": 1,  # resolution is the other multiplier: pick it with the input size
        "stem_filters": 32,
        # [pointwise filters, stride] of each depthwise-separable layer (Table 1 of the paper)
        "blocks": [[64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [512, 2], [512, 1], [512, 1],
                   [512, 1], [512, 1], [512, 1], [1024, 2], [1024, 1]],
        "dropout": 0.001,  # keras.applications' default, before the classifier
        "activation": "relu6",
        "bn_epsilon": 1e-3,
    },
    "mobilenet_v2": {
        "alpha": 1.0,  # width multiplier; channels rounded to multiples of 8
        "stem_filters": 32,
        # [expansion t, output channels c, repeats n, first stride s] of each stage (Table 2)
        "blocks": [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1],
                   [6, 160, 3, 2], [6, 320, 1, 1]],
        "head_filters": 1280,  # the last 1x1 conv; widened only when alpha > 1, as in the paper
        "kernel_size": 3,
        "dropout": 0.0,  # keras.applications has none before the classifier
        "activation": "relu6",
        "bn_epsilon": 1e-3,
    },
}

TINY = {
    "mobilenet_v1": {"alpha": 0.25, "blocks": [[64, 1], [128, 2], [256, 2], [512, 2], [1024, 2]]},
    "mobilenet_v2": {"alpha": 0.35, "head_filters": 64,
                     "blocks": [[1, 16, 1, 1], [6, 24, 1, 2], [6, 32, 1, 2], [6, 64, 1, 2], [6, 160, 1, 2]]},
}

DEFAULT = "mobilenet_v2"
