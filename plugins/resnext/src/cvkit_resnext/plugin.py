"""ResNeXt plugin: registers ResNeXt-50 (32x4d) and ResNeXt-101 (32x8d)."""

from cvkit import hookimpl, register_variants
from cvkit_resnext.variants import DEFAULT, PAPER, TINY, VARIANTS


@hookimpl
def register_backbones(register):
    register_variants(
        register, VARIANTS, build="cvkit_resnext.backbone:build_resnext", family="resnext",
        default=DEFAULT, paper=PAPER, tiny=TINY,
        describe=lambda name, p: f"ResNeXt, blocks {p['blocks']}, cardinality {p['groups']} x {p['width_per_group']}d",
    )
