"""cvkit's own plugin: the generic ``folder:`` and ``tfds:`` loaders."""

from __future__ import annotations

from cvkit.contract.hookimpl import hookimpl
from cvkit.contract.hookspecs import RegisterDataset


@hookimpl
def register_datasets(register: RegisterDataset) -> None:
    register(
        "folder", load="cvkit.data.folder:load_folder",
        tasks={"classification", "localization", "segmentation", "detection"}, takes_argument=True,
        description="folder:PATH: a sub-folder per class; images/ + masks/ (segmentation); images/ + boxes.csv "
                    "(localization); images/ + annotations.json (COCO) or annotations/*.xml (VOC) (detection)",
    )
    register(
        "tfds", load="cvkit.data.tfds:load_tfds",
        tasks={"classification", "localization", "segmentation", "detection"},
        takes_argument=True,
        description="tfds:NAME, a TensorFlow Datasets set prepared offline under --data-dir (boxes and masks where mapped)",
    )
