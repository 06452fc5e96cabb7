"""Tests for sklearn_cnntexture.datasets and the shipped UHCS sample."""

import doctest
import pathlib
from collections import Counter

import numpy as np
import pytest
from sklearn.utils import Bunch

from sklearn_cnntexture import datasets
from sklearn_cnntexture.datasets import load_uhcs_sample
from sklearn_cnntexture.io import list_image_files, read_image

CLASSES = ["network", "pearlite", "spheroidite"]


@pytest.fixture(scope="module")
def sample():
    return load_uhcs_sample()


def test_bunch_fields(sample):
    assert isinstance(sample, Bunch)
    assert sample.filenames.shape == (36,) and sample.target.shape == (36,)
    assert sample.filenames.dtype.kind == "U" and sample.target.dtype.kind == "U"
    assert sample.target_names == CLASSES
    assert sample.frame is None
    assert "CC BY 3.0 US" in sample.DESCR and "DeCost" in sample.DESCR


def test_three_classes_of_twelve(sample):
    assert Counter(sample.target.tolist()) == {name: 12 for name in CLASSES}


def test_paths_are_absolute_files_and_labels_match_folders(sample):
    for filename, label in zip(sample.filenames, sample.target):
        path = pathlib.Path(filename)
        assert path.is_absolute() and path.is_file()
        assert path.parent.name == label


def test_order_is_class_then_natural(sample):
    folder = pathlib.Path(sample.filenames[0]).parents[1]
    expected = [str(p) for name in CLASSES for p in list_image_files(folder / name)]
    assert sample.filenames.tolist() == expected  # also: no unlisted images on disk
    assert pathlib.Path(sample.filenames[2]).name == "micrograph2.jpg"
    assert pathlib.Path(sample.filenames[10]).name == "micrograph10.jpg"


def test_all_images_readable(sample):
    for filename in sample.filenames:
        image = read_image(filename)
        assert image.dtype == np.uint8 and image.shape == (475, 645)


def test_sample_stays_small(sample):
    folder = pathlib.Path(sample.filenames[0]).parents[1]
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert total <= 5 * 1024 * 1024


def test_return_X_y(sample):
    filenames, target = load_uhcs_sample(return_X_y=True)
    np.testing.assert_array_equal(filenames, sample.filenames)
    np.testing.assert_array_equal(target, sample.target)


def test_as_frame(sample):
    pd = pytest.importorskip("pandas")
    data = load_uhcs_sample(as_frame=True)
    assert isinstance(data.frame, pd.DataFrame)
    assert list(data.frame.columns) == ["path", "label"] and len(data.frame) == 36
    assert data.frame["path"].tolist() == sample.filenames.tolist()
    assert data.frame["label"].tolist() == sample.target.tolist()
    X, y = load_uhcs_sample(as_frame=True, return_X_y=True)
    assert isinstance(X, pd.Series) and isinstance(y, pd.Series)
    assert y.tolist() == sample.target.tolist()


def test_docstring_examples_run():
    result = doctest.testmod(datasets, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
