"""Inception v3, as keras.applications.InceptionV3 builds it (299x299, valid paddings)."""

PAPER = "Szegedy et al., Rethinking the Inception Architecture for Computer Vision (CVPR 2016)"

VARIANTS = {
    "inception_v3": {
        "width": 1.0,  # multiplies every channel count; 1.0 is the published network
        "a_pool_filters": [32, 64, 64],  # one 35x35 module per entry: its pool-branch width
        "b_channels_7x7": [128, 160, 160, 192],  # one 17x17 module per entry: its 1x7/7x1 width
        "c_blocks": 2,  # 8x8 modules
        # "valid": the paper's grid (299 -> 147, 71, 35, 17, 8). "same": every map is exactly
        # ceil(size / stride), which dense heads that add upsampled maps need.
        "padding": "valid",
        "dropout": 0.2,  # before the classifier (keep probability 0.8 in the TF-slim reference)
        "bn_epsilon": 1e-3,
    },
}

# One module of each kind at 1/16 width. "same" padding, so the tiny maps follow the
# ceil(size / stride) rule the contract tests check (with "valid" they are a few pixels short).
TINY = {"width": 0.0625, "a_pool_filters": [32], "b_channels_7x7": [128], "c_blocks": 1, "padding": "same"}

DEFAULT = "inception_v3"
