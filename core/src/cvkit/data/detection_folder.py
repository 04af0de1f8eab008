"""``folder:PATH`` for detection: COCO JSON or Pascal VOC XML annotations next to the images.

- COCO: ``PATH/images/`` and ``PATH/annotations.json`` (``images`` with ``id`` and ``file_name``,
  ``categories`` with ``id`` and ``name``, ``annotations`` with ``image_id``, ``category_id`` and
  ``bbox`` = absolute x, y, width, height in pixels);
- VOC: ``PATH/images/`` and ``PATH/annotations/NAME.xml``, or VOC's own ``JPEGImages/`` and
  ``Annotations/``: one XML per image, each ``<object>`` a ``<name>`` and a ``<bndbox>`` of absolute
  xmin, ymin, xmax, ymax in pixels.

Classes are COCO's categories in id order, or VOC's names sorted. An image with no objects is
valid. Ids that do not match are an error naming the first; a bad box or file is an error naming
it, or with ``--skip-invalid`` skipped (a box alone, or an image) and counted.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cvkit.data.detection import pad_detection_boxes
from cvkit.data.sources import Skipper
from cvkit.data.splits import DatasetInfo, DatasetSplits, check_box, read_image, splits_from_arrays
from cvkit.errors import CvkitError

COCO_JSON = "annotations.json"
VOC_FOLDERS = (("images", "annotations"), ("JPEGImages", "Annotations"))
BOX_PIXELS_FIX = "boxes are in pixels with x1 < x2 and y1 < y2, inside the image"


@dataclass
class Annotated:
    """One image and its objects: pixel boxes x1, y1, x2, y2, class names or ids, where each came from."""

    image: Path
    boxes: list[list[float]]
    classes: list[Any]
    rows: list[str]


def detection_source(root: Path) -> tuple[str, Path, Path] | None:
    """("coco" | "voc", image folder, annotation file or folder) found in ``root``, or None."""
    if (root / "images").is_dir() and (root / COCO_JSON).is_file():
        return "coco", root / "images", root / COCO_JSON
    for images, annotations in VOC_FOLDERS:
        if (root / images).is_dir() and (root / annotations).is_dir():
            return "voc", root / images, root / annotations
    return None


def load_detection_folder(root: Path, argument: str, size: tuple[int, int], skipper: Skipper,
                          common: dict, tasks: frozenset[str]) -> DatasetSplits:
    """Images resized to ``size`` with padded rel_xyxy boxes, from COCO JSON or VOC XML (see the module)."""
    source = detection_source(root)
    if source is None:
        raise CvkitError(
            f"folder:{argument} has no detection annotations; put the images in {root / 'images'} and either "
            f"COCO boxes in {root / COCO_JSON} or one Pascal VOC XML per image in {root / 'annotations'}"
        )
    kind, images_dir, annotations = source
    if kind == "coco":
        items, class_names = read_coco(annotations, images_dir, skipper)
    else:
        items, class_names = read_voc(annotations, images_dir, skipper)
    images, boxes, labels = [], [], []
    for item in items:
        image = read_image(str(item.image), channels=3)
        kept = _valid_boxes(item, image.shape[0], image.shape[1], skipper)
        images.append(_resized(image, size))
        height, width = image.shape[:2]
        boxes.append(np.asarray([item.boxes[i] for i in kept], "float32").reshape(-1, 4) / [width, height, width, height])
        labels.append(np.asarray([item.classes[i] for i in kept], "int32"))
    if len(images) < 2:
        raise CvkitError(f"{annotations} gives {len(images)} usable image(s); detection needs at least 2")
    padded, padded_labels = pad_detection_boxes(boxes, labels)
    info = DatasetInfo(name=f"folder:{argument}", class_names=tuple(class_names), image_shape=(*size, 3), tasks=tasks)
    return splits_from_arrays(info, np.stack(images), None, boxes=padded, box_labels=padded_labels, **common)


def _resized(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    if image.shape[:2] == tuple(size):
        return image
    return np.asarray(Image.fromarray(image).resize((size[1], size[0]), Image.BILINEAR), dtype=np.uint8)


def _valid_boxes(item: Annotated, height: int, width: int, skipper: Skipper) -> list[int]:
    """Indices of the boxes inside a width x height image with an area; the others go to ``skipper``."""
    kept = []
    for i, (box, row) in enumerate(zip(item.boxes, item.rows)):
        try:
            check_box(box, width, height, f"{row} ({item.image.name})", BOX_PIXELS_FIX)
        except CvkitError as error:
            skipper(error)
            continue
        kept.append(i)
    return kept


def _image_files(folder: Path) -> dict[str, Path]:
    from cvkit.data.folder import IMAGE_SUFFIXES

    return {p.name: p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES}


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CvkitError(f"cannot read {path} as JSON ({exc}); fix or replace the file") from None
    missing = [key for key in ("images", "annotations", "categories") if not isinstance(data, dict) or key not in data]
    if missing:
        raise CvkitError(f"{path} lacks {', '.join(repr(k) for k in missing)}; a COCO file has images, annotations and categories lists")
    return data


def _field(entry: Any, key: str, where: str) -> Any:
    if not isinstance(entry, dict) or key not in entry:
        raise CvkitError(f"{where} has no {key!r}; give it one as COCO does")
    return entry[key]


def read_coco(path: Path, images_dir: Path, skipper: Skipper) -> tuple[list[Annotated], list[str]]:
    """COCO JSON -> images with their objects (class index by category id order) and the class names."""
    data = _read_json(path)
    categories = {_field(c, "id", f"{path} category {i}"): str(_field(c, "name", f"{path} category {i}"))
                  for i, c in enumerate(data["categories"])}
    if not categories:
        raise CvkitError(f"{path} has no categories; list each class as {{\"id\": 1, \"name\": \"cat\"}}")
    order = sorted(categories)
    files = _image_files(images_dir)
    items: dict[Any, Annotated | None] = {}  # None: its file is missing (skipped)
    for i, entry in enumerate(data["images"]):
        name = str(_field(entry, "file_name", f"{path} image {i}"))
        image_id = _field(entry, "id", f"{path} image {i} ({name})")
        if Path(name).name not in files:
            skipper(CvkitError(f"{path} image id {image_id} names {images_dir / Path(name).name}, which does not exist; "
                               f"add the file or remove the entry"))
            items[image_id] = None
            continue
        items[image_id] = Annotated(files[Path(name).name], [], [], [])
    for i, ann in enumerate(data["annotations"]):
        row = f"{path} annotation {i} (id {ann.get('id', '?') if isinstance(ann, dict) else '?'})"
        image_id, category = _field(ann, "image_id", row), _field(ann, "category_id", row)
        if image_id not in items:
            raise CvkitError(f"{row} names image id {image_id}, which no entry of \"images\" has; fix the id or add the image")
        if category not in categories:
            raise CvkitError(f"{row} names category id {category}, which no entry of \"categories\" has "
                             f"(ids: {', '.join(map(str, order))}); fix the id or add the category")
        item = items[image_id]
        if item is None:
            continue
        item.boxes.append(_coco_box(_field(ann, "bbox", row), row))
        item.classes.append(order.index(category))
        item.rows.append(row)
    return [item for item in items.values() if item is not None], [categories[c] for c in order]


def _coco_box(bbox: Any, row: str) -> list[float]:
    try:
        x, y, w, h = (float(v) for v in bbox)
    except (TypeError, ValueError):
        raise CvkitError(f"{row}: bbox {bbox!r} is not four numbers x, y, width, height in pixels") from None
    return [x, y, x + w, y + h]


def read_voc(folder: Path, images_dir: Path, skipper: Skipper) -> tuple[list[Annotated], list[str]]:
    """Pascal VOC XML files -> images with their objects (class index in sorted name order) and the class names."""
    files = _image_files(images_dir)
    by_stem = {p.stem: p for p in files.values()}
    items: list[Annotated] = []
    annotated: set[Path] = set()
    for xml_path in sorted(p for p in folder.iterdir() if p.suffix.lower() == ".xml"):
        try:
            item = _read_voc_file(xml_path, images_dir, files, by_stem)
        except CvkitError as error:
            skipper(error)
            continue
        annotated.add(item.image)
        items.append(item)
    for image in sorted(set(files.values()) - annotated):
        skipper(CvkitError(f"image {image} has no annotation {folder / image.stem}.xml; add one (with no <object> "
                           f"for an image without objects) or remove the image"))
    names = sorted({name for item in items for name in item.classes})
    if not names:
        raise CvkitError(f"no XML in {folder} has an <object>; label at least one object with a <name> and a <bndbox>")
    for item in items:
        item.classes = [names.index(name) for name in item.classes]
    return items, names


def _read_voc_file(path: Path, images_dir: Path, files: dict[str, Path], by_stem: dict[str, Path]) -> Annotated:
    try:
        root = ElementTree.parse(path).getroot()
    except (ElementTree.ParseError, OSError) as exc:
        raise CvkitError(f"cannot read {path} as XML ({exc}); fix or replace the file") from None
    filename = (root.findtext("filename") or "").strip()
    image = files.get(Path(filename).name) or by_stem.get(path.stem)
    if image is None:
        raise CvkitError(f"{path} is for image {filename or path.stem}, which is not in {images_dir}; "
                         f"add the image or remove the XML")
    item = Annotated(image, [], [], [])
    for i, obj in enumerate(root.findall("object")):
        row = f"{path} object {i}"
        name = (obj.findtext("name") or "").strip()
        corners = [obj.findtext(f"bndbox/{key}") for key in ("xmin", "ymin", "xmax", "ymax")]
        if not name or None in corners:
            raise CvkitError(f"{row} needs a <name> and a <bndbox> with xmin, ymin, xmax and ymax; add them")
        try:
            item.boxes.append([float(v) for v in corners])
        except ValueError:
            raise CvkitError(f"{row}: the bndbox {corners} is not four numbers in pixels") from None
        item.classes.append(name)
        item.rows.append(row)
    return item
