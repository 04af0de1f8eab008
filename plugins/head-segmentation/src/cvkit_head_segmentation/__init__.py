"""Semantic segmentation heads for cvkit: FCN-32s/16s/8s and U-Net."""
