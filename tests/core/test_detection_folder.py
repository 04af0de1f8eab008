"""folder:PATH for detection: COCO JSON and Pascal VOC XML, from small files written here."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from cvkit import CvkitError
from cvkit.data.folder import load_folder

WIDTH, HEIGHT = 32, 24  # not square, so a width/height swap shows


def _images(folder, names):
    from PIL import Image

    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in names:
        Image.fromarray(rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)).save(folder / name)


def _coco(root, annotations=None, images=None, categories=None):
    _images(root / "images", ["a.png", "b.jpg", "c.png"])
    data = {
        "images": images or [{"id": 10, "file_name": "a.png"}, {"id": 11, "file_name": "b.jpg"},
                             {"id": 12, "file_name": "c.png"}],
        "categories": categories or [{"id": 7, "name": "dog"}, {"id": 2, "name": "cat"}],
        "annotations": annotations or [
            {"id": 1, "image_id": 10, "category_id": 7, "bbox": [4, 2, 8, 10]},
            {"id": 2, "image_id": 10, "category_id": 2, "bbox": [16, 12, 16, 12]},
            {"id": 3, "image_id": 12, "category_id": 2, "bbox": [0, 0, 32, 24]},
        ],  # b.jpg has no objects
    }
    (root / "annotations.json").write_text(json.dumps(data))
    return root


def _load(root, skip=False):
    splits = load_folder(argument=str(root), task="detection", image_size=(HEIGHT, WIDTH), seed=0,
                         validation_fraction=0.34, skip_invalid=skip)
    examples = list(splits.train.concatenate(splits.validation).as_numpy_iterator())
    return splits, sorted(examples, key=lambda e: -int((e["bounding_boxes"]["labels"] >= 0).sum()))


def test_coco_folder_loads_boxes_classes_and_empty_images(tmp_path):
    splits, (two, one, none) = _load(_coco(tmp_path / "coco"))
    assert splits.info.class_names == ("cat", "dog")  # categories in id order: 2, 7
    assert "detection" in splits.info.tasks and splits.info.max_boxes == 2
    assert two["bounding_boxes"]["labels"].tolist() == [1, 0]
    np.testing.assert_allclose(two["bounding_boxes"]["boxes"],
                               [[4 / 32, 2 / 24, 12 / 32, 12 / 24], [0.5, 0.5, 1.0, 1.0]], atol=1e-6)
    np.testing.assert_allclose(one["bounding_boxes"]["boxes"][0], [0, 0, 1, 1])
    assert none["bounding_boxes"]["labels"].tolist() == [-1, -1] and not none["bounding_boxes"]["boxes"].any()
    assert two["images"].shape == (HEIGHT, WIDTH, 3)


@pytest.mark.parametrize("change, fragment", [
    ({"image_id": 99}, "annotation 1 (id 2) names image id 99, which no entry"),
    ({"category_id": 5}, "annotation 1 (id 2) names category id 5, which no entry"),
])
def test_coco_ids_that_do_not_match_name_the_first(tmp_path, change, fragment):
    annotations = [{"id": 1, "image_id": 10, "category_id": 7, "bbox": [1, 1, 4, 4]},
                   {"id": 2, "image_id": 10, "category_id": 7, "bbox": [1, 1, 4, 4], **change},
                   {"id": 3, "image_id": 98, "category_id": 6, "bbox": [1, 1, 4, 4]}]
    with pytest.raises(CvkitError, match=re.escape(fragment)) as info:
        _load(_coco(tmp_path / "coco", annotations=annotations))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("bbox, fragment", [([20, 4, 16, 8], "lies outside the 32x24 image"), ([4, 4, 0, 8], "x2 (4) <= x1 (4)")])
def test_coco_bad_box_names_its_row_or_is_skipped_and_counted(tmp_path, bbox, fragment):
    annotations = [{"id": 1, "image_id": 10, "category_id": 7, "bbox": [1, 1, 4, 4]},
                   {"id": 5, "image_id": 11, "category_id": 2, "bbox": bbox}]
    root = _coco(tmp_path / "coco", annotations=annotations)
    with pytest.raises(CvkitError, match="annotation 1 \\(id 5\\) \\(b.jpg\\)") as info:
        _load(root)
    assert fragment in str(info.value) and "--skip-invalid" in str(info.value) and "\n" not in str(info.value)
    splits, examples = _load(root, skip=True)
    assert any("skipped 1 invalid" in note for note in splits.notes)
    assert sum(int((e["bounding_boxes"]["labels"] >= 0).sum()) for e in examples) == 1


def _voc_xml(path, filename, objects):
    parts = [f"<object><name>{name}</name><difficult>0</difficult><bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin>"
             f"<xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>" for name, (x1, y1, x2, y2) in objects]
    path.write_text(f"<annotation><filename>{filename}</filename><size><width>{WIDTH}</width>"
                    f"<height>{HEIGHT}</height><depth>3</depth></size>{''.join(parts)}</annotation>")


@pytest.mark.parametrize("images, annotations", [("images", "annotations"), ("JPEGImages", "Annotations")])
def test_voc_folder_loads_in_both_layouts(tmp_path, images, annotations):
    root = tmp_path / "voc"
    _images(root / images, ["x.jpg", "y.png", "z.png"])
    (root / annotations).mkdir()
    _voc_xml(root / annotations / "x.xml", "x.jpg", [("person", (8, 6, 24, 18)), ("car", (0, 0, 16, 12))])
    _voc_xml(root / annotations / "y.xml", "y.png", [])
    _voc_xml(root / annotations / "z.xml", "z.png", [("car", (16, 0, 32, 24))])
    splits, (two, one, none) = _load(root)
    assert splits.info.class_names == ("car", "person") and splits.info.max_boxes == 2
    assert two["bounding_boxes"]["labels"].tolist() == [1, 0]
    np.testing.assert_allclose(two["bounding_boxes"]["boxes"], [[0.25, 0.25, 0.75, 0.75], [0, 0, 0.5, 0.5]], atol=1e-6)
    np.testing.assert_allclose(one["bounding_boxes"]["boxes"][0], [0.5, 0, 1, 1])
    assert none["bounding_boxes"]["labels"].tolist() == [-1, -1]


def test_voc_box_outside_its_image_names_the_file_and_object(tmp_path):
    root = tmp_path / "voc"
    _images(root / "images", ["x.jpg", "y.png", "z.png"])
    (root / "annotations").mkdir()
    for stem in "xy":
        _voc_xml(root / "annotations" / f"{stem}.xml", f"{stem}.png" if stem == "y" else "x.jpg", [("cat", (1, 1, 9, 9))])
    _voc_xml(root / "annotations" / "z.xml", "z.png", [("cat", (1, 1, 9, 9)), ("dog", (20, 10, 40, 20))])
    with pytest.raises(CvkitError, match="z.xml object 1 \\(z.png\\): the box \\(20, 10, 40, 20\\) lies outside"):
        _load(root)
    splits, _ = _load(root, skip=True)
    assert splits.info.class_names == ("cat", "dog") and any("skipped 1 invalid" in n for n in splits.notes)
