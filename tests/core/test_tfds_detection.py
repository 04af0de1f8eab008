"""tfds:voc for detection, on a faked prepared copy (tfds.testing.mock_data): rel yxyx -> padded rel_xyxy."""

from __future__ import annotations

import numpy as np
import pytest

from cvkit import CvkitError
from cvkit.data.tfds import load_tfds

# per example: (rel ymin, xmin, ymax, xmax, label) of each object
OBJECTS = {
    "train": [[(0.1, 0.2, 0.5, 0.6, 14), (0.5, 0.5, 1.0, 0.9, 6)], [], [(0.0, 0.0, 1.0, 1.0, 11)],
              [(0.2, 0.2, 0.4, 0.4, 1), (0.3, 0.1, 0.9, 0.8, 2), (0.6, 0.6, 0.7, 0.7, 3)]],
    "validation": [[(0.25, 0.25, 0.75, 0.5, 19)], []],
}


def _voc_as_dataset(bad: bool):
    def as_dataset(self, split, **kwargs):
        import tensorflow as tf

        rows = [list(r) for r in OBJECTS[str(split)]]
        if bad and str(split) == "train":
            rows[2] = [(0.5, 0.0, 0.5, 1.0, 11)]  # no height

        def examples():
            for objects in rows:
                values = np.asarray(objects, "float32").reshape(-1, 5)
                yield {"image": np.full((24, 32, 3), 7, np.uint8),
                       "objects": {"bbox": values[:, :4], "label": values[:, 4].astype("int64")}}

        signature = {"image": tf.TensorSpec((None, None, 3), tf.uint8),
                     "objects": {"bbox": tf.TensorSpec((None, 4), tf.float32), "label": tf.TensorSpec((None,), tf.int64)}}
        return tf.data.Dataset.from_generator(examples, output_signature=signature)

    return as_dataset


def _load(tmp_path, bad=False, option=""):
    from cvkit.testing import fake_prepared_tfds

    with fake_prepared_tfds("voc/2007", str(tmp_path), splits={"train": 4, "validation": 2},
                            as_dataset_fn=_voc_as_dataset(bad)):
        splits = load_tfds(argument=f"voc/2007{option}", task="detection", image_size=(16, 16), seed=0,
                           data_dir=str(tmp_path), validation_fraction=0.5)
        return splits, list(splits.train.as_numpy_iterator()), list(splits.validation.as_numpy_iterator())


def test_tfds_voc_objects_become_padded_rel_xyxy_boxes(tmp_path):
    splits, train, validation = _load(tmp_path)
    info = splits.info
    assert info.tasks == {"detection"} and info.max_boxes == 3 and info.class_names[14] == "person"
    assert (info.num_train, info.num_validation) == (4, 2) and len(train) == 4 and len(validation) == 2
    first = train[0]["bounding_boxes"]
    np.testing.assert_allclose(first["boxes"], [[0.2, 0.1, 0.6, 0.5], [0.5, 0.5, 0.9, 1.0], [0, 0, 0, 0]], atol=1e-6)
    assert first["labels"].tolist() == [14, 6, -1] and int(train[0]["labels"]) == 6  # the larger object
    assert train[1]["bounding_boxes"]["labels"].tolist() == [-1, -1, -1] and int(train[1]["labels"]) == 0
    assert train[3]["bounding_boxes"]["labels"].tolist() == [1, 2, 3]
    assert validation[0]["bounding_boxes"]["labels"].tolist() == [19, -1, -1]
    assert train[0]["images"].shape == (16, 16, 3)


def test_tfds_voc_box_without_area_is_an_error_or_skipped(tmp_path):
    with pytest.raises(CvkitError, match=r"tfds:voc/2007 split train example 2 \(objects/bbox 0\): the box .* has y2"):
        _load(tmp_path, bad=True)
    splits, train, _ = _load(tmp_path, bad=True, option="?skip_invalid")
    assert "skipped 1 invalid boxes in tfds:voc/2007" in splits.notes[-1]
    assert train[2]["bounding_boxes"]["labels"].tolist() == [-1, -1, -1]
