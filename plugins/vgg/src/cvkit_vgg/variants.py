"""VGG configurations A, B, D and E (VGG-11/13/16/19), plain and with batch norm.

``depths`` are the 3x3 convolutions of the five blocks, each block ending in a 2x2 max-pool;
``widths`` their channels. The ``_bn`` variants put BN between every conv (which keeps its bias)
and its ReLU, as torchvision does.
"""

PAPER = "Simonyan, Zisserman, Very Deep Convolutional Networks for Large-Scale Image Recognition (ICLR 2015)"

BASE = {
    "depths": None,
    "widths": [64, 128, 256, 512, 512],
    "batch_norm": False,
    "fc_units": 4096,
    "dropout": 0.5,
    "classifier_pooling": "adaptive",
}

DEPTHS = {
    "vgg11": [1, 1, 2, 2, 2],  # A
    "vgg13": [2, 2, 2, 2, 2],  # B
    "vgg16": [2, 2, 3, 3, 3],  # D
    "vgg19": [2, 2, 4, 4, 4],  # E
}

VARIANTS = {
    **{name: {**BASE, "depths": depths} for name, depths in DEPTHS.items()},
    **{f"{name}_bn": {**BASE, "depths": depths, "batch_norm": True} for name, depths in DEPTHS.items()},
}

DEFAULT = "vgg16"

TINY = {"widths": [8, 16, 16, 32, 32], "fc_units": 32}
