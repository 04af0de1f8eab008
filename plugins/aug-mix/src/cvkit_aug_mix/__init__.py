"""MixUp, CutMix and RandAugment for cvkit."""
