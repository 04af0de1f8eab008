"""The ``folder:PATH`` loader: images on disk in one of three layouts, which may share one folder.

- classification: ``PATH/<class>/<image>``, one sub-folder per class;
- segmentation: ``PATH/images/<stem>.<ext>`` and ``PATH/masks/<stem>.png``, single-channel PNG
  masks of class ids (0 = background, k = the k-th class), the size of their image; an optional
  ``PATH/classes.txt`` names the classes of ids 1, 2, ... one per line;
- localization: ``PATH/images/`` and ``PATH/boxes.csv`` with rows ``file,class,x1,y1,x2,y2`` in
  pixels (a header row is allowed), one box per image; it serves classification too;
- detection: ``PATH/images/`` and COCO's ``PATH/annotations.json``, or Pascal VOC XML files in
  ``PATH/annotations/`` (or VOC's own ``JPEGImages/`` and ``Annotations/``); see
  :mod:`cvkit.data.detection_folder`.

A bad file or row is an error naming it. ``folder:PATH?skip_invalid`` skips such examples
instead and reports how many.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cvkit.data.detection_folder import detection_source, load_detection_folder
from cvkit.data.sources import Skipper, split_options
from cvkit.data.splits import (
    DatasetInfo,
    DatasetSplits,
    check_box,
    check_mask,
    read_image,
    report_skipped,
    splits_from_arrays,
)
from cvkit.errors import CvkitError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
FOLDER_DEFAULT_SIZE = 64
BOXES_CSV = "boxes.csv"
CLASSES_TXT = "classes.txt"
CSV_COLUMNS = ("file", "class", "x1", "y1", "x2", "y2")


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _resize(array: np.ndarray, size: tuple[int, int], nearest: bool = False) -> np.ndarray:
    """A uint8 image (bilinear) or a class-id mask (nearest) resized to size = (height, width)."""
    from PIL import Image

    if array.shape[:2] == tuple(size):
        return array
    if nearest:
        return np.asarray(Image.fromarray(array.astype(np.int32)).resize((size[1], size[0]), Image.NEAREST), dtype=np.int32)
    squeeze = array.shape[-1] == 1
    img = Image.fromarray(array[..., 0] if squeeze else array, mode="L" if squeeze else "RGB")
    resized = np.asarray(img.resize((size[1], size[0]), Image.BILINEAR), dtype=np.uint8)
    return resized[..., None] if resized.ndim == 2 else resized


def _load_resized(path: Path, size: tuple[int, int], channels: int = 3) -> np.ndarray:
    return _resize(read_image(str(path), channels=channels), size)


def read_mask(path: Path) -> np.ndarray:
    """A single-channel PNG of class ids as int32 HxW, with a one-line error for anything else."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
            if img.mode not in ("1", "L", "P", "I", "I;16", "I;16B", "I;16L"):
                raise CvkitError(
                    f"mask {path} is a {img.mode} image; masks are single-channel PNGs of class ids "
                    f"(0 = background), so save it in mode L or P"
                )
            return np.asarray(img, dtype=np.int32)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise CvkitError(f"cannot read mask {path} ({exc}); replace or remove the file") from None


@dataclass
class FolderLayout:
    """What a ``folder:PATH`` holds, and so which tasks it serves."""

    root: Path
    images: Path
    masks: Path
    boxes: Path
    class_dirs: list[Path] = field(default_factory=list)

    @classmethod
    def of(cls, root: Path) -> FolderLayout:
        layout = cls(root, root / "images", root / "masks", root / BOXES_CSV)
        if not layout.images.is_dir():
            layout.class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        return layout

    @property
    def tasks(self) -> frozenset[str]:
        tasks = set()
        if self.images.is_dir() and self.masks.is_dir():
            tasks.add("segmentation")
        if self.images.is_dir() and self.boxes.is_file():
            tasks |= {"localization", "classification"}
        if detection_source(self.root) is not None:
            tasks.add("detection")  # its images/ or JPEGImages/ and Annotations/ are no class folders
        elif self.class_dirs:
            tasks.add("classification")
        return frozenset(tasks)


def load_folder(*, argument: str, task: str, image_size: tuple[int, int] | None, seed: int,
                validation_fraction: float, limit: int | None = None, skip_invalid: bool = False,
                **_: Any) -> DatasetSplits:
    """``folder:PATH``: class sub-folders, images/ + masks/, or images/ + boxes.csv (see the module)."""
    path, options = split_options(argument, "folder")
    if not path:
        raise CvkitError("folder data set needs a path: --dataset folder:PATH")
    root = Path(path).expanduser()
    if not root.is_dir():
        raise CvkitError(f"folder data set {root} does not exist or is not a directory; check the path")
    layout = FolderLayout.of(root)
    skipper = Skipper(f"folder:{argument}", options["skip_invalid"] or skip_invalid)
    size = tuple(image_size or (FOLDER_DEFAULT_SIZE, FOLDER_DEFAULT_SIZE))
    common = dict(image_size=image_size, seed=seed, validation_fraction=validation_fraction, limit=limit)
    if task == "detection":
        splits = load_detection_folder(root, argument, size, skipper, common, layout.tasks)
    elif task == "segmentation":
        splits = _folder_segmentation(layout, size, skipper, argument, common)
    elif task == "localization" or (task == "classification" and layout.boxes.is_file() and layout.images.is_dir()):
        splits = _folder_boxes(layout, size, skipper, argument, task, common)
    else:
        splits = _folder_classes(layout, size, argument, common)
    report_skipped(splits.notes, skipper.count, "invalid examples", f"folder:{path}")
    return splits


def _folder_classes(layout: FolderLayout, size: tuple[int, int], argument: str, common: dict) -> DatasetSplits:
    root = layout.root
    if layout.images.is_dir():
        raise CvkitError(
            f"{root} has an images/ folder but no {BOXES_CSV}, so it gives no class labels; add "
            f"{root / BOXES_CSV} (file,class,x1,y1,x2,y2) or use one sub-folder per class"
        )
    images, labels = [], []
    for label, class_dir in enumerate(layout.class_dirs):
        for path in _image_files(class_dir):
            images.append(_load_resized(path, size))
            labels.append(label)
    if not images:
        raise CvkitError(
            f"no images found in {root}; put them in one sub-folder per class, "
            f"like {root}{os.sep}cat{os.sep}001.png"
        )
    if len(layout.class_dirs) < 2:
        raise CvkitError(f"{root} has {len(layout.class_dirs)} class folder(s); classification needs at least 2")
    info = DatasetInfo(
        name=f"folder:{argument}", class_names=tuple(p.name for p in layout.class_dirs),
        image_shape=(*size, 3), tasks=layout.tasks,
    )
    return splits_from_arrays(info, np.stack(images), np.asarray(labels), **common)


def _read_classes(layout: FolderLayout) -> list[str] | None:
    path = layout.root / CLASSES_TXT
    if not path.is_file():
        return None
    names = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if names and names[0].lower() == "background":
        names = names[1:]
    if not names:
        raise CvkitError(f"{path} names no classes; list the class of mask id 1, 2, ... one per line")
    return names


def _folder_segmentation(layout: FolderLayout, size: tuple[int, int], skipper: Skipper, argument: str, common: dict) -> DatasetSplits:
    root = layout.root
    if not (layout.images.is_dir() and layout.masks.is_dir()):
        raise CvkitError(
            f"folder:{argument} has no images/ and masks/ folders, so it gives no segmentation masks; put "
            f"the images in {layout.images} and single-channel PNG masks of class ids with the same "
            f"names in {layout.masks} (or use a classification head)"
        )
    names = _read_classes(layout)
    image_files = {p.stem: p for p in _image_files(layout.images)}
    mask_files = {p.stem: p for p in layout.masks.iterdir() if p.is_file() and p.suffix.lower() == ".png"}
    for stem in sorted(set(mask_files) - set(image_files)):
        skipper(CvkitError(f"mask {mask_files[stem]} has no image {layout.images / stem}.*; add the image or remove the mask"))
    pairs = []
    for stem, image_path in sorted(image_files.items()):
        if stem not in mask_files:
            skipper(CvkitError(f"image {image_path} has no mask {layout.masks / stem}.png; add the mask or remove the image"))
            continue
        pairs.append((image_path, mask_files[stem]))
    if not pairs:
        raise CvkitError(f"no image in {layout.images} has a mask in {layout.masks}; masks share their image's name, as a.jpg -> a.png")
    images, masks = [], []
    for image_path, mask_path in pairs:
        image, mask = read_image(str(image_path), channels=3), read_mask(mask_path)
        try:
            check_mask(mask, image.shape, len(names) if names else np.iinfo(np.int32).max, f"mask {mask_path}",
                       "fix the mask" + (f" or add the class to {root / CLASSES_TXT}" if names else ""))
        except CvkitError as error:
            skipper(error)
            continue
        images.append(_resize(image, size))
        masks.append(_resize(mask, size, nearest=True))
    if not images:
        raise CvkitError(f"every mask in {layout.masks} was skipped as invalid; nothing is left to train on")
    masks_array = np.stack(masks)
    if names is None:
        top = int(masks_array.max())
        if top < 1:
            raise CvkitError(f"every mask in {layout.masks} is all background (0); label the objects with ids 1, 2, ...")
        names = [f"class_{i}" for i in range(1, top + 1)]
    labels = np.array([_dominant_class(m) for m in masks_array], dtype=np.int32)
    info = DatasetInfo(
        name=f"folder:{argument}", class_names=tuple(names), image_shape=(*size, 3),
        tasks=layout.tasks, mask_classes=("background", *names),
    )
    return splits_from_arrays(info, np.stack(images), labels, masks=masks_array, **common)


def _dominant_class(mask: np.ndarray) -> int:
    """The most frequent object class of a mask (its id - 1), or -1 for an all-background mask."""
    counts = np.bincount(mask.ravel())
    counts[0] = 0
    return int(counts.argmax()) - 1 if counts.any() else -1


def _read_csv_rows(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, cells) of boxes.csv, without blank lines and the optional header."""
    with open(path, newline="") as f:
        rows = [(i, [c.strip() for c in row]) for i, row in enumerate(csv.reader(f), start=1) if any(c.strip() for c in row)]
    if rows and [c.lower() for c in rows[0][1]] == list(CSV_COLUMNS):
        rows = rows[1:]
    return rows


def _class_order(names: set[str]) -> list[str]:
    """Class names sorted, numerically when they are all whole numbers."""
    if all(n.lstrip("-").isdigit() for n in names):
        return sorted(names, key=int)
    return sorted(names)


def _folder_boxes(layout: FolderLayout, size: tuple[int, int], skipper: Skipper, argument: str, task: str, common: dict) -> DatasetSplits:
    import keras

    if not (layout.images.is_dir() and layout.boxes.is_file()):
        raise CvkitError(
            f"folder:{argument} has no images/ folder with a {BOXES_CSV}, so it gives no boxes; put the "
            f"images in {layout.images} and one row per image, {','.join(CSV_COLUMNS)} in pixels, in "
            f"{layout.boxes}"
        )
    csv_path = layout.boxes
    image_files = {p.name: p for p in _image_files(layout.images)}
    seen: dict[str, int] = {}
    rows = []
    for line, cells in _read_csv_rows(csv_path):
        where = f"{csv_path} row {line}"
        if len(cells) != len(CSV_COLUMNS):
            raise CvkitError(f"{where} has {len(cells)} columns; each row is {','.join(CSV_COLUMNS)} (pixels)")
        name, label = cells[0], cells[1]
        try:
            box = [float(c) for c in cells[2:]]
        except ValueError:
            raise CvkitError(f"{where}: x1,y1,x2,y2 must be numbers (pixels), got {','.join(cells[2:])}") from None
        if name in seen:
            raise CvkitError(f"{where} gives a second box for {name} (the first is row {seen[name]}); "
                             f"localization takes one box per image, so keep one row")
        seen[name] = line
        if name not in image_files:
            skipper(CvkitError(f"{where} names {layout.images / name}, which does not exist; fix the file name or remove the row"))
            continue
        rows.append((where, image_files[name], label, box))
    for name in sorted(set(image_files) - set(seen)):
        skipper(CvkitError(f"image {image_files[name]} has no row in {csv_path}; add its box or remove the image"))
    names = _class_order({label for _, _, label, _ in rows})
    images, labels, boxes, sizes = [], [], [], []
    for where, path, label, box in rows:
        image = read_image(str(path), channels=3)
        height, width = image.shape[:2]
        try:
            check_box(box, width, height, f"{where} ({path.name})",
                      "boxes are x1,y1,x2,y2 in pixels with x1 < x2 and y1 < y2, inside the image")
        except CvkitError as error:
            skipper(error)
            continue
        images.append(_resize(image, size))
        labels.append(names.index(label))
        boxes.append(box)
        sizes.append((height, width))
    if len(images) < 2:
        raise CvkitError(f"{csv_path} gives {len(images)} usable image(s); localization needs at least 2")
    hw = np.asarray(sizes, dtype="float32")
    rel = keras.utils.bounding_boxes.convert_format(
        np.asarray(boxes, dtype="float32"), source="xyxy", target="rel_xyxy", height=hw[:, :1], width=hw[:, 1:],
    )
    info = DatasetInfo(
        name=f"folder:{argument}", class_names=tuple(names), image_shape=(*size, 3), tasks=layout.tasks,
    )
    return splits_from_arrays(info, np.stack(images), np.asarray(labels), boxes=np.asarray(rel) if task == "localization" else None,
                              **common)

