"""EfficientNet-B0 ... B7: one base network (B0) and compound scaling coefficients.

Channels are ``make_divisible(c * width_coefficient, depth_divisor)``, repeats
``ceil(n * depth_coefficient)``, as keras.applications and the reference TPU code compute them.
"""

PAPER = "Tan and Le, EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks (ICML 2019)"

BASE = {
    "width_coefficient": 1.0,
    "depth_coefficient": 1.0,
    "depth_divisor": 8,
    "stem_filters": 32,
    # MBConv stages of B0: [expansion, output channels, repeats, first stride, kernel size]
    "blocks": [[1, 16, 1, 1, 3], [6, 24, 2, 2, 3], [6, 40, 2, 2, 5], [6, 80, 3, 2, 3],
               [6, 112, 3, 1, 5], [6, 192, 4, 2, 5], [6, 320, 1, 1, 3]],
    "top_filters": 1280,
    "se_ratio": 0.25,  # squeeze width as a fraction of each block's input channels
    "activation": "swish",
    "dropout": 0.2,  # before the classifier
    "drop_connect_rate": 0.2,  # reached by the last block, rising linearly from 0
    "bn_epsilon": 1e-3,  # BN momentum is set for the whole model (cvkit.models.batchnorm)
    # keras.applications' pixels / 255 and per-channel normalisation inside the model (with
    # --weights imagenet, whose file holds the mean and variance); off: cvkit's [-1, 1] input
    "input_normalization": False,
}

# name -> (width, depth, default input size, dropout)
SCALING = {
    "efficientnet_b0": (1.0, 1.0, 224, 0.2),
    "efficientnet_b1": (1.0, 1.1, 240, 0.2),
    "efficientnet_b2": (1.1, 1.2, 260, 0.3),
    "efficientnet_b3": (1.2, 1.4, 300, 0.3),
    "efficientnet_b4": (1.4, 1.8, 380, 0.4),
    "efficientnet_b5": (1.6, 2.2, 456, 0.4),
    "efficientnet_b6": (1.8, 2.6, 528, 0.5),
    "efficientnet_b7": (2.0, 3.1, 600, 0.5),
}

VARIANTS = {
    name: {**BASE, "width_coefficient": width, "depth_coefficient": depth, "dropout": dropout}
    for name, (width, depth, _size, dropout) in SCALING.items()
}

INPUT_SIZES = {name: size for name, (_w, _d, size, _p) in SCALING.items()}

# Quarter width, one block per stride (kernels 3 and 5, with and without expansion): builds
# and trains at 32x32 in seconds.
TINY = {
    "width_coefficient": 0.25,
    "depth_coefficient": 0.25,
    "blocks": [[1, 16, 1, 1, 3], [6, 24, 1, 2, 3], [6, 40, 1, 2, 5], [6, 80, 1, 2, 3], [6, 192, 1, 2, 5]],
    "top_filters": 256,
}

DEFAULT = "efficientnet_b0"
