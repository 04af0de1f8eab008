"""LeNet-5 as it is usually rebuilt today: full C3 connections, pooling subsampling, a dense
output layer instead of the RBF units. 61,706 trainable parameters with 10 classes at 32x32x1.
"""

PAPER = "LeCun, Bottou, Bengio, Haffner, Gradient-Based Learning Applied to Document Recognition (Proc. IEEE 1998)"

VARIANTS = {
    "lenet5": {
        "filters": [6, 16],  # C1 and C3: 5x5 unpadded convolutions
        "kernel_size": 5,
        "fc_units": [120, 84],  # C5 (a full 5x5 conv on the 5x5 map, i.e. a dense layer) and F6
        "activation": "tanh",
        "pooling": "avg",  # S2 and S4: 2x2 subsampling
    },
}

DEFAULT = "lenet5"

# The smallest side that leaves a 1x1 map after S4: 16 -> 12 -> 6 -> 2 -> 1.
MIN_INPUT_SIZE = 16
