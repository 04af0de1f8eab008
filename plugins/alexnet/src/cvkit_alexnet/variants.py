"""AlexNet and ZFNet: five convolutions, three max-pools, an FC-4096 x 2 trunk.

Each list has one entry per convolution (conv1 ... conv5). Max-pools (3x3, stride 2) follow
conv1, conv2 and conv5; ``pool_padding`` gives their padding. ``paddings`` are explicit zero
paddings in pixels, as in the papers. Both networks end in a 6x6x256 map at their paper input
size, so FC6 takes 9,216 inputs.
"""

PAPERS = {
    "alexnet": "Krizhevsky, Sutskever, Hinton, ImageNet Classification with Deep Convolutional "
               "Neural Networks (NeurIPS 2012)",
    "zfnet": "Zeiler, Fergus, Visualizing and Understanding Convolutional Networks (ECCV 2014)",
}

ALEXNET = {
    # 227x227 input: 11x11/4 unpadded conv -> 55, pool -> 27, pool -> 13, pool -> 6.
    # conv2, conv4 and conv5 see only the half of their input on "their" GPU (groups=2).
    "widths": [96, 256, 384, 384, 256],
    "kernel_sizes": [11, 5, 3, 3, 3],
    "strides": [4, 1, 1, 1, 1],
    "paddings": [0, 2, 1, 1, 1],
    "groups": [1, 2, 1, 2, 2],
    "pool_padding": ["valid", "valid", "valid"],
    "lrn": "before_pool",
    "fc_units": 4096,
    "dropout": 0.5,
    "classifier_pooling": "adaptive",
}

VARIANTS = {
    "alexnet": ALEXNET,
    # 224x224 input: 7x7/2 conv (1 pixel padding) -> 110, pool -> 55, 5x5/2 conv -> 26,
    # pool -> 13, pool -> 6 (the sizes of the paper's figure 3). One GPU, no groups; LRN after
    # pool1 and pool2. Widths and the FC trunk are AlexNet's.
    "zfnet": {
        **ALEXNET,
        "kernel_sizes": [7, 5, 3, 3, 3],
        "strides": [2, 2, 1, 1, 1],
        "paddings": [1, 0, 1, 1, 1],
        "groups": [1, 1, 1, 1, 1],
        "pool_padding": ["same", "same", "valid"],
        "lrn": "after_pool",
    },
}

# Paper input size, and the smallest side that still leaves a 1x1 map after the last pool.
INPUT_SIZE = {"alexnet": 227, "zfnet": 224}
MIN_INPUT_SIZE = {"alexnet": 67, "zfnet": 53}

# Small widths for contract tests (conv widths stay even for the two-group convolutions).
TINY = {"widths": [16, 32, 32, 32, 32], "fc_units": 64}

DEFAULT = "alexnet"
