"""Boxes and masks through the data sets: folder layouts, TFDS mapping, and their bad inputs."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from PIL import Image

import cvkit
from cvkit import CvkitError
from cvkit.training.config import RunConfig
from cvkit.training.run import load_splits, preflight


def _first(ds):
    return next(iter(ds.take(1)))


def _all(ds):
    return list(ds.as_numpy_iterator())


# Images are 40 wide and 24 high: not square, so a width/height swap anywhere shows.
WIDTH, HEIGHT = 40, 24
OBJECT_ROWS, OBJECT_COLUMNS = slice(6, 18), slice(8, 24)  # the object in the masks (12 high, 16 wide)


def _image(path, width=WIDTH, height=HEIGHT, seed=0, bright=None):
    """Random dark pixels; ``bright`` (a boolean mask) is painted white."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 60, (height, width, 3), dtype=np.uint8)
    if bright is not None:
        pixels[bright] = 255
    Image.fromarray(pixels).save(path)


def _mask(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(array, dtype=np.uint8), mode="L").save(path)


def _segmentation_folder(root, count=4, classes=("cat", "dog")):
    for i in range(count):
        mask = np.zeros((HEIGHT, WIDTH), np.uint8)
        mask[OBJECT_ROWS, OBJECT_COLUMNS] = 1 + i % len(classes)
        _image(root / "images" / f"{i}.jpg", seed=i, bright=mask > 0)
        _mask(root / "masks" / f"{i}.png", mask)
    (root / "classes.txt").write_text("background\n" + "\n".join(classes) + "\n")
    return root


def _boxes_folder(root, rows=None):
    for i in range(4):
        _image(root / "images" / f"{i}.png", seed=i)
    # x2 = 36 fits the width (40) but not the height (24): a swapped bounds check refuses it
    rows = rows or ["file,class,x1,y1,x2,y2"] + [f"{i}.png,{'cat' if i % 2 else 'dog'},4,3,36,21" for i in range(4)]
    (root / "boxes.csv").write_text("\n".join(rows) + "\n")
    return root


def _load(dataset, task, **config):
    return load_splits(RunConfig(dataset=dataset, validation_fraction=0.25, **config), task, 32)


def test_folder_of_images_and_masks_serves_segmentation(tmp_path):
    root = _segmentation_folder(tmp_path)
    splits = _load(f"folder:{root}", "segmentation")
    assert splits.info.class_names == ("cat", "dog")
    assert splits.info.mask_classes == ("background", "cat", "dog")
    assert splits.info.tasks == {"segmentation"}
    examples = _all(splits.train) + _all(splits.validation)
    assert len(examples) == 4
    for ex in examples:
        assert ex["images"].shape == (32, 32, 3) and ex["segmentation_masks"].shape == (32, 32, 1)
        assert set(np.unique(ex["segmentation_masks"])) <= {0, 1, 2}  # nearest: no new ids
        # the object (rows 6-18 of 24, columns 8-24 of 40) lands at rows 8-24, columns 6.4-19.2 of 32
        rows, columns = np.nonzero(ex["segmentation_masks"][..., 0])
        assert (rows.min(), rows.max()) == (8, 23)
        assert abs(columns.min() - 6.4) <= 1 and abs(columns.max() + 1 - 19.2) <= 1
        # and the image moved with it: its bright object covers the same pixels
        bright = ex["images"].mean(-1) > 150
        assert (bright == (ex["segmentation_masks"][..., 0] > 0)).mean() > 0.95


def test_folder_with_boxes_csv_serves_localization_and_classification(tmp_path):
    root = _boxes_folder(tmp_path)
    splits = _load(f"folder:{root}", "localization")
    assert splits.info.class_names == ("cat", "dog")
    assert splits.info.tasks == {"localization", "classification"}
    for ex in _all(splits.train) + _all(splits.validation):
        # pixels (4, 3, 36, 21) in a 40-wide, 24-high image -> relative xyxy
        np.testing.assert_allclose(ex["bounding_boxes"]["boxes"], [[0.1, 0.125, 0.9, 0.875]], atol=1e-6)
        assert ex["bounding_boxes"]["labels"][0] == ex["labels"]
    classification = _load(f"folder:{root}", "classification")
    assert "bounding_boxes" not in _first(classification.train)


@pytest.mark.parametrize("mask, message", [
    (np.zeros((10, 10)), r"mask .*1\.png: the mask is 10x10 but its image is 40x24"),
    (np.full((HEIGHT, WIDTH), 7), r"mask .*1\.png: the mask holds class id 7, outside 0\.\.2 .*classes\.txt"),
])
def test_bad_mask_names_the_file_and_the_fix(tmp_path, mask, message):
    root = _segmentation_folder(tmp_path)
    _mask(root / "masks" / "1.png", mask)
    with pytest.raises(CvkitError, match=message) as error:
        _load(f"folder:{root}", "segmentation")
    assert "\n" not in str(error.value) and "skip_invalid" in str(error.value)


def test_image_without_mask_is_an_error_or_skipped_and_counted(tmp_path, caplog):
    root = _segmentation_folder(tmp_path, count=5)
    (root / "masks" / "4.png").unlink()
    with pytest.raises(CvkitError, match=r"image .*4\.jpg has no mask .*4\.png"):
        _load(f"folder:{root}", "segmentation")
    with caplog.at_level(logging.WARNING, logger="cvkit"):
        splits = _load(f"folder:{root}?skip_invalid", "segmentation")
    assert splits.info.num_train + splits.info.num_validation == 4
    assert splits.notes == [f"skipped 1 invalid examples in folder:{root} (asked for with --skip-invalid or ?skip_invalid)"]
    assert "skipped 1" in caplog.text
    flagged = load_splits(RunConfig(dataset=f"folder:{root}", skip_invalid=True), "segmentation", 32)
    assert flagged.info.num_train + flagged.info.num_validation == 4  # the --skip-invalid flag


@pytest.mark.parametrize("row, message", [
    ("2.png,cat,20,2,4,18", r"boxes\.csv row 4 \(2\.png\): the box \(20, 2, 4, 18\) has x2 \(4\) <= x1 \(20\)"),
    ("2.png,cat,4,2,45,18", r"boxes\.csv row 4 \(2\.png\): the box .* lies outside the 40x24 image"),
    ("2.png,cat,4,2,20,26", r"boxes\.csv row 4 \(2\.png\): the box .* lies outside the 40x24 image"),
    ("missing.png,cat,4,2,20,18", r"boxes\.csv row 4 names .*missing\.png, which does not exist"),
    ("2.png,cat,4,2,20", r"boxes\.csv row 4 has 5 columns"),
])
def test_bad_csv_row_names_the_row_and_the_fix(tmp_path, row, message):
    rows = ["file,class,x1,y1,x2,y2", "0.png,cat,4,2,20,18", "1.png,dog,4,2,20,18", row, "3.png,dog,4,2,20,18"]
    root = _boxes_folder(tmp_path, rows)
    with pytest.raises(CvkitError, match=message) as error:
        _load(f"folder:{root}", "localization")
    assert "\n" not in str(error.value)


def test_bad_row_skipped_on_request_is_counted(tmp_path):
    rows = ["0.png,cat,4,2,20,18", "1.png,dog,4,2,20,18", "2.png,cat,20,2,4,18", "3.png,dog,4,2,20,18"]
    root = _boxes_folder(tmp_path, rows)
    splits = _load(f"folder:{root}?skip_invalid", "localization")
    assert splits.info.num_train + splits.info.num_validation == 3
    assert "skipped 1 invalid examples" in splits.notes[0]


def test_unknown_dataset_option_is_refused(tmp_path):
    with pytest.raises(CvkitError, match=r"unknown folder option 'skip_invalidd' \(did you mean 'skip_invalid'\?\)"):
        _load(f"folder:{_boxes_folder(tmp_path)}?skip_invalidd", "localization")


def test_class_folder_layout_has_no_masks_for_segmentation(tmp_path):
    _image(tmp_path / "cat" / "0.png")
    _image(tmp_path / "dog" / "0.png")
    with pytest.raises(CvkitError, match=r"has no images/ and masks/ folders.*classification head"):
        _load(f"folder:{tmp_path}", "segmentation")


def test_segmentation_head_on_a_classification_only_dataset():
    with pytest.raises(CvkitError, match=r"head 'fcn8s' trains on segmentation, but dataset 'digits' only provides classification"):
        preflight(RunConfig(head="fcn8s", dataset="digits"))


def test_input_size_not_divisible_by_the_stride_for_segmentation():
    with pytest.raises(CvkitError, match=r"head unet needs an input size that is a multiple of the backbone's total stride 32, got 48x48; pass --image-size 64"):
        cvkit.create_model("resnet18", head="unet", num_classes=2, input_shape=(48, 48, 3), blocks=[1, 1, 1, 1])


def test_shapes_arrays_are_checked():
    from cvkit.data.splits import check_arrays

    info = cvkit.DatasetInfo(name="toy", class_names=("a", "b"), image_shape=(8, 8, 3))
    images = np.zeros((2, 8, 8, 3), np.uint8)
    with pytest.raises(CvkitError, match=r"data set 'toy', example 1: the box \(0.5, 0, 0.2, 1\) has x2"):
        check_arrays(info, images, np.array([[0, 0, 1, 1], [0.5, 0, 0.2, 1]]), None)
    with pytest.raises(CvkitError, match=r"data set 'toy', example 0: the mask holds class id 3, outside 0\.\.2"):
        check_arrays(info, images, None, np.full((2, 8, 8), 3))


# --- TFDS: oxford_iiit_pet, mocked offline -------------------------------------------------

def _pet_examples(split: str, count: int = 6, bad: int | None = None):
    """Pet-like examples: trimaps (1 pet, 2 background, 3 outline), head boxes in rel_yxyx.

    Honours the percent slices the loader asks for ("train[50%:]"), as a prepared set does.
    """
    rng = np.random.default_rng(0)
    start, stop = 0, count
    if "[" in split:
        low, _, high = split[split.index("[") + 1:split.index("]")].partition(":")
        start = int(low.rstrip("%") or 0) * count // 100
        stop = int(high.rstrip("%") or 100) * count // 100
    for i in range(start, stop):
        height, width = 40, 48
        trimap = np.full((height, width, 1), 2, np.uint8)
        trimap[10:30, 12:36] = 3
        trimap[12:28, 14:34] = 1
        empty = split.startswith("test")  # the real test split has no head boxes
        box = [0.25, 0.5, 0.75, 0.875] if i != bad else [0.75, 0.5, 0.25, 0.875]  # bad: ymax < ymin
        yield {
            "image": rng.integers(0, 255, (height, width, 3), dtype=np.uint8),
            "label": i % 37,
            "species": i % 2,
            "file_name": f"pet_{i}.jpg",
            "segmentation_mask": trimap,
            "head_bbox": np.zeros(4, np.float32) if empty else np.array(box, np.float32),
        }


def _pet_as_dataset(self, split, bad=None, **kwargs):
    import tensorflow as tf

    signature = {
        "image": tf.TensorSpec((None, None, 3), tf.uint8), "label": tf.TensorSpec((), tf.int64),
        "species": tf.TensorSpec((), tf.int64), "file_name": tf.TensorSpec((), tf.string),
        "segmentation_mask": tf.TensorSpec((None, None, 1), tf.uint8), "head_bbox": tf.TensorSpec((4,), tf.float32),
    }
    return tf.data.Dataset.from_generator(lambda: _pet_examples(str(split), bad=bad), output_signature=signature)


def _pets(tmp_path, task, option="", bad=None):
    from cvkit.testing import fake_prepared_tfds

    def as_dataset(self, split, **kwargs):  # a method: mock_data patches it onto the builder
        return _pet_as_dataset(self, split, bad=bad, **kwargs)

    with fake_prepared_tfds("oxford_iiit_pet", str(tmp_path), splits={"train": 6, "test": 6}, as_dataset_fn=as_dataset):
        config = RunConfig(dataset=f"tfds:oxford_iiit_pet{option}", data_dir=str(tmp_path), validation_fraction=0.5)
        splits = load_splits(config, task, 32)
        return splits, _all(splits.train), _all(splits.validation)


def test_tfds_pets_trimaps_become_masks(tmp_path):
    splits, train, validation = _pets(tmp_path, "segmentation")
    assert splits.info.tasks == {"classification", "localization", "segmentation"}
    assert splits.info.mask_classes[0] == "background" and len(splits.info.mask_classes) == 38
    assert len(train) == 6 and len(validation) == 6
    for ex in train:
        ids = set(np.unique(ex["segmentation_masks"]).tolist())
        assert ids == {0, int(ex["labels"]) + 1}  # background, and the pet with its outline


def test_tfds_pets_head_boxes_become_rel_xyxy(tmp_path):
    splits, train, validation = _pets(tmp_path, "localization")
    # the test split has no head boxes, so localization validates on part of train
    assert "has no boxes" in splits.notes[0]
    assert (splits.info.num_train, splits.info.num_validation) == (len(train), len(validation)) == (3, 3)
    np.testing.assert_allclose(train[0]["bounding_boxes"]["boxes"], [[0.5, 0.25, 0.875, 0.75]], atol=1e-6)


def test_tfds_bad_box_is_an_error_or_skipped_and_counted(tmp_path):
    with pytest.raises(CvkitError, match=r"tfds:oxford_iiit_pet split train\[50%:\] example 1 \(head_bbox\): the box .* has y2"):
        _pets(tmp_path, "localization", bad=4)
    splits, train, validation = _pets(tmp_path, "localization", option="?skip_invalid", bad=4)
    assert "skipped 1 examples without a valid box in tfds:oxford_iiit_pet" in splits.notes[-1]
    assert splits.info.num_train == len(train) == 2 and len(validation) == 3


def test_cli_bad_mask_is_one_line_exit_2(tmp_path):
    from helpers import assert_user_error, run_cli_here

    root = _segmentation_folder(tmp_path / "data")
    _mask(root / "masks" / "2.png", np.zeros((8, 8)))
    result = run_cli_here("train", "--arch", "resnet18", "--head", "fcn8s", "--dataset", f"folder:{root}", "--out", str(tmp_path / "run"))
    assert_user_error(result, "2.png: the mask is 8x8 but its image is 40x24", "skip_invalid")
    assert not (tmp_path / "run").exists()
