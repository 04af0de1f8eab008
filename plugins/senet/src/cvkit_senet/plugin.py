"""SE-Net plugin: registers SE-ResNet-50 and SE-ResNeXt-50 (32x4d)."""

from cvkit import hookimpl, register_variants
from cvkit_senet.variants import DEFAULT, PAPER, TINY, VARIANTS


@hookimpl
def register_backbones(register):
    grouped_tiny = {"groups": 4, "width_per_group": 16, "stage_widths": [16, 32, 64, 128]}
    register_variants(
        register, VARIANTS, build="cvkit_senet.backbone:build_senet", family="senet",
        default=DEFAULT, paper=PAPER,
        tiny=lambda name, p: {**TINY, **(grouped_tiny if p["groups"] > 1 else {})},
        describe=lambda name, p: f"SE-{'ResNeXt' if p['groups'] > 1 else 'ResNet'}-50, reduction r={p['se_ratio']}",
    )
