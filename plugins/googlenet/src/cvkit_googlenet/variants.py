"""GoogLeNet (Inception v1), the paper's table 1: conv biases, ReLU, no batch norm.

Each inception module lists its widths as [1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj].
A 3x3/2 max-pool precedes each new stage (the digit of the module name).
"""

PAPER = "Szegedy et al., Going Deeper with Convolutions (CVPR 2015)"

VARIANTS = {
    "googlenet": {
        "stem_filters": [64, 64, 192],  # conv1 7x7/2, conv2 1x1 reduce, conv2 3x3
        "inception_modules": {
            "3a": [64, 96, 128, 16, 32, 32],
            "3b": [128, 128, 192, 32, 96, 64],
            "4a": [192, 96, 208, 16, 48, 64],
            "4b": [160, 112, 224, 24, 64, 64],
            "4c": [128, 128, 256, 24, 64, 64],
            "4d": [112, 144, 288, 32, 64, 64],
            "4e": [256, 160, 320, 32, 128, 128],
            "5a": [256, 160, 320, 32, 128, 128],
            "5b": [384, 192, 384, 48, 128, 128],
        },
        "width_multiplier": 1.0,
        "lrn": True,
        "dropout": 0.4,
        # Auxiliary classifiers: training only (see training_overrides in plugin.py).
        "aux_classifiers": False,
        "aux_after": ["4a", "4d"],
        "aux_filters": 128,
        "aux_units": 1024,
        "aux_dropout": 0.7,
    },
}

DEFAULT = "googlenet"

# Contract-test size: an eighth of the widths, one module per stage plus 4d (for the second
# auxiliary classifier).
TINY = {
    "width_multiplier": 0.125,
    "inception_modules": {name: VARIANTS["googlenet"]["inception_modules"][name] for name in ("3a", "4a", "4d", "5b")},
}
