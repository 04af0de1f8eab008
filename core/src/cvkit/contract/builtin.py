"""cvkit's own plugin: the generic ``folder:`` and ``tfds:`` loaders."""

from __future__ import annotations

from cvkit.contract.hookimpl import hookimpl


@hookimpl
def register_datasets(register):
    register(
        "folder", load="cvkit.data.folder:load_folder", tasks={"classification", "localization", "segmentation"},
        takes_argument=True,
        description="folder:PATH: a sub-folder per class; images/ + masks/ (segmentation); images/ + boxes.csv (localization)",
    )
    register(
        "tfds", load="cvkit.data.tfds:load_tfds", tasks={"classification", "localization", "segmentation"},
        takes_argument=True,
        description="tfds:NAME, a TensorFlow Datasets set prepared offline under --data-dir (boxes and masks where mapped)",
    )


@hookimpl
def register_blocks(register):
    # Transitional: plugins move to importing cvkit.layers directly; then these go.
    register("conv_bn_act", "cvkit.layers:conv_bn_act", description="conv -> batch norm -> activation")
    register("squeeze_excite", "cvkit.layers:squeeze_excite", description="SE channel attention: GAP -> FC C/r -> ReLU -> FC C -> sigmoid -> rescale")
